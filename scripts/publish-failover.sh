#!/usr/bin/env bash
# publish-failover.sh publishes a manual failover request to the requests topic
# after checking it with the same rules the request function applies.
set -euo pipefail

readonly DEFAULT_TOPIC=redis-failover-requests

usage() {
	cat <<'EOF'
Usage: scripts/publish-failover.sh --project=ID --record=NAME --reason=TEXT [options]
       scripts/publish-failover.sh --project=ID --message='{"record":"...",...}' [--dry-run]

Publishes {"record","target","from","mode","reason","dry_run","request_id"} to the
requests topic. The request is checked first with the request function's
rules (internal/request): known fields only; record, mode and reason required;
mode planned or emergency; target a Memorystore instance path
(projects/P/locations/R/instances/I) or an IP address with optional port.

Required:
  --project=ID           Google Cloud project that owns the topic
  --record=NAME          DNS record to fail over, e.g. redis-session-staging.staging.internal.
    or
  --message=JSON         a complete request, checked as is

Options:
  --target=TARGET        instance path or IP (default: the function picks the first healthy candidate)
  --mode=MODE            planned (default) or emergency
  --reason=TEXT          why, for the audit trail (required)
  --request-id=ID        idempotency key (default: none; the function derives one)
  --no-op                set "dry_run": true so the function only plans and reports
  --topic=TOPIC          default redis-failover-requests
  --dry-run              print the gcloud command instead of running it
  -h, --help             this help

Needs jq.
EOF
}

# die, run and DRY_RUN
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

project="" record="" target="" mode="" reason="" request_id="" message="" no_op=false topic=$DEFAULT_TOPIC
have_fields=0
while (($#)); do
	arg=$1
	shift
	case $arg in
	--project=*) project=${arg#*=} ;;
	--record=*) record=${arg#*=} have_fields=1 ;;
	--target=*) target=${arg#*=} have_fields=1 ;;
	--mode=*) mode=${arg#*=} have_fields=1 ;;
	--reason=*) reason=${arg#*=} have_fields=1 ;;
	--request-id=*) request_id=${arg#*=} have_fields=1 ;;
	--no-op) no_op=true have_fields=1 ;;
	--message=*) message=${arg#*=} ;;
	--topic=*) topic=${arg#*=} ;;
	--dry-run) DRY_RUN=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		die "unknown argument: $arg"
		;;
	esac
done

command -v jq >/dev/null || die "jq is required (apt-get install jq)"
[[ -n $project ]] || die "--project is required"
[[ $project =~ ^[a-z][-a-z0-9]{4,28}[a-z0-9]$ ]] || die "invalid --project: $project"
[[ $topic =~ ^[A-Za-z][-A-Za-z0-9_.~+%]{2,254}$ ]] || die "invalid --topic: $topic"

if [[ -n $message ]]; then
	((!have_fields)) || die "--message cannot be combined with --record/--target/--mode/--reason/--request-id/--no-op"
else
	[[ -n $record ]] || die "--record (or --message) is required"
	# Build the request with jq so quoting in --reason can never break the JSON.
	message=$(jq -cn --arg record "$record" --arg target "$target" --arg mode "${mode:-planned}" \
		--arg reason "$reason" --arg request_id "$request_id" --argjson dry_run "$no_op" '
		{record: $record, mode: $mode, dry_run: $dry_run}
		+ (if $target == "" then {} else {target: $target} end)
		+ (if $reason == "" then {} else {reason: $reason} end)
		+ (if $request_id == "" then {} else {request_id: $request_id} end)')
fi

# The rules of the request function's parser, as a jq program that prints one
# line per problem.
# shellcheck disable=SC2016 # $-names below are jq variables
readonly RULES='
def ipv4: test("^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$");
def ipv6: test("^[0-9A-Fa-f:.]+$") and test(":.*:");
def port: test("^[0-9]{1,5}$") and (tonumber >= 1 and tonumber <= 65535);
def address: ipv4 or ipv6
  or (test("^[0-9.]+:[0-9]+$") and (split(":") | (.[0] | ipv4) and (.[1] | port)))
  or (test("^\\[[0-9A-Fa-f:.]+\\]:[0-9]+$") and (ltrimstr("[") | split("]:") | (.[0] | ipv6) and (.[1] | port)));
def unusable: test("^(0\\.0\\.0\\.0|255\\.255\\.255\\.255|2(2[4-9]|3[0-9])\\.[0-9.]+|::|\\[::\\]|[Ff][Ff][0-9A-Fa-f]{2}:[0-9A-Fa-f:.]*)(:[0-9]+)?$");
def instance: test("^projects/[a-z0-9][a-z0-9.:-]{0,62}/locations/[a-z][a-z0-9-]{0,62}/instances/[a-z]([a-z0-9-]{0,38}[a-z0-9])?$");
def badplace: (type != "string") or ((startswith("projects/") | not) and (address | not))
  or (startswith("projects/") and (instance | not)) or unusable;
def dnsname: test("^([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\\.)*[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\\.?$") and length <= 254;
if type != "object" then "the request must be a JSON object"
else
  (keys[] | select(IN("record","target","from","mode","reason","dry_run","request_id") | not) | "unknown field \"\(.)\""),
  (if (.record // "") == "" then "record is required"
   elif (.record | type) != "string" or (.record | dnsname | not) then "record must be a DNS name, got \(.record | tojson)"
   else empty end),
  (if (.mode // "") == "" then "mode is required: planned or emergency"
   elif (.mode | IN("planned","emergency") | not) then "mode must be planned or emergency, got \(.mode | tojson)" else empty end),
  (["target", "from"][] as $f | select(has($f) and .[$f] != "" and .[$f] != null and (.[$f] | badplace))
   | "\($f) must be projects/P/locations/R/instances/I or a usable IP address (optional :port), got \(.[$f] | tojson)"),
  (if (.reason // "") | (type != "string" or test("^\\s*$")) then "reason is required: say why, it goes into the audit trail"
   elif (.reason | length) > 500 then "reason is longer than 500 characters" else empty end),
  (if has("dry_run") and (.dry_run | type) != "boolean" then "dry_run must be true or false" else empty end),
  (if (.request_id // "") != "" and ((.request_id | type) != "string" or (.request_id | test("^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$") | not))
   then "request_id must start with a letter or digit and hold at most 128 of [A-Za-z0-9._:-]" else empty end)
end'

values=$(jq -s length <<<"$message" 2>&1) || die "--message is not valid JSON: $values"
[[ $values == 1 ]] || die "--message must hold exactly one JSON object, found $values values"
problems=$(jq -r "$RULES" <<<"$message" 2>&1) || die "checking the request failed: $problems"
if [[ -n $problems ]]; then
	while IFS= read -r p; do printf 'publish-failover.sh: %s\n' "$p" >&2; done <<<"$problems"
	die "request rejected, nothing published"
fi
message=$(jq -c . <<<"$message")

run gcloud pubsub topics publish "$topic" --project="$project" --message="$message"

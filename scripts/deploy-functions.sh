#!/usr/bin/env bash
# deploy-functions.sh deploys the two dnsfailover Cloud Functions (2nd gen)
# from the repository root: one source, two entry points, one trigger each.
set -euo pipefail

readonly ALERT_FUNCTION=dnsfailover-alert
readonly REQUEST_FUNCTION=dnsfailover-request
readonly ALERT_TOPIC=redis-failover-alerts
readonly REQUEST_TOPIC=redis-failover-requests
readonly RESULTS_TOPIC=redis-failover-results
readonly DEAD_LETTER_TOPIC=redis-failover-dead-letter
readonly RUNTIME=go126

usage() {
	cat <<'EOF'
Usage: scripts/deploy-functions.sh --project=ID --region=REGION --environment=ENV
         --service-account=EMAIL --vpc-connector=NAME [options]

Deploys dnsfailover-alert (entry point OnAlert, topic redis-failover-alerts) and
dnsfailover-request (entry point OnRequest, topic redis-failover-requests) with
--gen2 --runtime=go126 --source=. --retry --max-instances=1 --concurrency=1,
then routes undeliverable events of both triggers to redis-failover-dead-letter.

Required:
  --project=ID                 Google Cloud project
  --region=REGION              function region, e.g. europe-west1
  --environment=ENV            selects config/ENV.yaml (e.g. staging, production)
  --service-account=EMAIL      runtime service account (terraform output functions_service_account)
  --vpc-connector=NAME         Serverless VPC Access connector, so the verifier reaches the private zone

Options:
  --egress-settings=MODE       private-ranges-only (default) or all
  --trigger-service-account=EMAIL  identity Eventarc uses to invoke the functions
  --redis-auth-secret=NAME     Secret Manager secret exposed as REDIS_AUTH (version latest)
  --max-delivery-attempts=N    attempts before an event goes to the dead-letter topic (default 10)
  --only=alert|request         deploy one function only
  --dry-run                    print the commands instead of running them
  -h, --help                   this help
EOF
}

# die, run and DRY_RUN
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

project="" region="" environment="" service_account="" vpc_connector=""
egress_settings=private-ranges-only trigger_service_account="" redis_auth_secret=""
max_delivery_attempts=10 only=""

while (($#)); do
	arg=$1
	shift
	case $arg in
	--project=*) project=${arg#*=} ;;
	--region=*) region=${arg#*=} ;;
	--environment=*) environment=${arg#*=} ;;
	--service-account=*) service_account=${arg#*=} ;;
	--vpc-connector=*) vpc_connector=${arg#*=} ;;
	--egress-settings=*) egress_settings=${arg#*=} ;;
	--trigger-service-account=*) trigger_service_account=${arg#*=} ;;
	--redis-auth-secret=*) redis_auth_secret=${arg#*=} ;;
	--max-delivery-attempts=*) max_delivery_attempts=${arg#*=} ;;
	--only=*) only=${arg#*=} ;;
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

[[ -n $project ]] || die "--project is required"
[[ -n $region ]] || die "--region is required"
[[ -n $environment ]] || die "--environment is required"
[[ -n $service_account ]] || die "--service-account is required"
[[ -n $vpc_connector ]] || die "--vpc-connector is required (the verifier must resolve the private zone)"
[[ $project =~ ^[a-z][-a-z0-9]{4,28}[a-z0-9]$ ]] || die "invalid --project: $project"
[[ $region =~ ^[a-z]+-[a-z]+[0-9]+$ ]] || die "invalid --region: $region"
[[ $environment =~ ^[a-z][-a-z0-9]*$ ]] || die "invalid --environment: $environment"
[[ $service_account == *@*.iam.gserviceaccount.com ]] || die "invalid --service-account: $service_account"
[[ -z $trigger_service_account || $trigger_service_account == *@*.iam.gserviceaccount.com ]] ||
	die "invalid --trigger-service-account: $trigger_service_account"
case $egress_settings in private-ranges-only | all) ;; *) die "--egress-settings must be private-ranges-only or all" ;; esac
case $only in "" | alert | request) ;; *) die "--only must be alert or request" ;; esac
if [[ ! $max_delivery_attempts =~ ^[0-9]{1,3}$ ]] || ((max_delivery_attempts < 5 || max_delivery_attempts > 100)); then
	die "--max-delivery-attempts must be between 5 and 100 (Pub/Sub limits)"
fi
[[ -z $redis_auth_secret || $redis_auth_secret =~ ^[A-Za-z0-9_-]+$ ]] || die "invalid --redis-auth-secret: $redis_auth_secret"

# The functions read their config from the uploaded source, so deploy from the root.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
config="config/${environment}.yaml"
[[ -f $config ]] || die "$config not found: write it before deploying (see config/README.md)"
ca_file=$(sed -n 's/.*caFile: *\([^,}[:space:]]*\).*/\1/p' "$config" | head -n1)
if [[ -n $ca_file && ! -f $ca_file ]]; then
	printf 'deploy-functions.sh: warning: %s names %s, which does not exist; fetch the Memorystore server CA first (docs/deploy.md)\n' "$config" "$ca_file" >&2
fi

# deploy_function NAME ENTRY_POINT TOPIC
deploy_function() {
	local args=(
		functions deploy "$1"
		--project="$project"
		--region="$region"
		--gen2
		--runtime="$RUNTIME"
		--source=.
		--entry-point="$2"
		--trigger-topic="$3"
		--retry
		--service-account="$service_account"
		--max-instances=1
		--concurrency=1
		--timeout=540s
		--memory=256Mi
		--ingress-settings=internal-only
		--vpc-connector="$vpc_connector"
		--egress-settings="$egress_settings"
		--set-env-vars="DNSFAILOVER_CONFIG=${config},DNSFAILOVER_PROJECT=${project},DNSFAILOVER_RESULTS_TOPIC=${RESULTS_TOPIC}"
	)
	if [[ -n $trigger_service_account ]]; then
		args+=(--trigger-service-account="$trigger_service_account")
	fi
	if [[ -n $redis_auth_secret ]]; then
		args+=(--set-secrets="REDIS_AUTH=${redis_auth_secret}:latest")
	fi
	args+=(--quiet)
	run gcloud "${args[@]}"
}

# wire_dead_letter NAME sets the dead-letter policy on the Pub/Sub subscription
# that Eventarc created for the function's trigger. The lookups only read, so
# they also run with --dry-run; before the first deploy there is nothing to read.
wire_dead_letter() {
	local trigger="" subscription=""
	trigger=$(gcloud functions describe "$1" --project="$project" --region="$region" \
		--format='value(eventTrigger.trigger)' 2>/dev/null) || trigger=""
	if [[ -n $trigger ]]; then
		subscription=$(gcloud eventarc triggers describe "${trigger##*/}" --project="$project" \
			--location="$region" --format='value(transport.pubsub.subscription)' 2>/dev/null) || subscription=""
	fi
	if [[ -z $subscription ]]; then
		if ((DRY_RUN)); then
			subscription="SUBSCRIPTION_OF_$1"
			printf 'deploy-functions.sh: %s is not deployed yet; its trigger subscription is shown as %s\n' "$1" "$subscription" >&2
		else
			die "could not find the trigger subscription of $1"
		fi
	fi
	run gcloud pubsub subscriptions update "${subscription##*/}" --project="$project" \
		--dead-letter-topic="$DEAD_LETTER_TOPIC" --max-delivery-attempts="$max_delivery_attempts" --quiet
	# Pub/Sub forwards to the dead-letter topic as its service agent, which must
	# be able to acknowledge on this subscription (the topic grant is Terraform's).
	run gcloud pubsub subscriptions add-iam-policy-binding "${subscription##*/}" --project="$project" \
		--member="serviceAccount:service-${project_number}@gcp-sa-pubsub.iam.gserviceaccount.com" \
		--role=roles/pubsub.subscriber --quiet
}

project_number=$(gcloud projects describe "$project" --format='value(projectNumber)' 2>/dev/null) || project_number=""
if [[ ! $project_number =~ ^[0-9]+$ ]]; then
	((DRY_RUN)) || die "could not read the project number of $project (gcloud projects describe)"
	project_number=PROJECT_NUMBER
	printf 'deploy-functions.sh: could not read the project number; shown as %s\n' "$project_number" >&2
fi

if [[ $only != request ]]; then
	deploy_function "$ALERT_FUNCTION" OnAlert "$ALERT_TOPIC"
	wire_dead_letter "$ALERT_FUNCTION"
fi
if [[ $only != alert ]]; then
	deploy_function "$REQUEST_FUNCTION" OnRequest "$REQUEST_TOPIC"
	wire_dead_letter "$REQUEST_FUNCTION"
fi

#!/usr/bin/env bash
# bootstrap-dns.sh runs the ADR's DNS checklist, idempotently:
#   1. the private Cloud DNS zone, bound to the GKE VPC (created if missing);
#   2. the A record for the Redis name (created if missing, never changed:
#      after a failover it points where the function put it);
#   3. prints the ExternalName Service that pods use to reach it.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: scripts/bootstrap-dns.sh --project=ID --zone=ZONE --dns-name=SUFFIX --network=VPC
         --record=NAME (--ip=ADDRESS | --instance=projects/P/locations/R/instances/I) [options]

Required:
  --project=ID        project that owns the zone
  --zone=ZONE         managed zone name, e.g. staging-internal
  --dns-name=SUFFIX   the zone's DNS name, e.g. staging.internal.
  --network=VPC       VPC network the zone is visible to (name or URL)
  --record=NAME       the Redis name, e.g. redis-session-staging.staging.internal.
  --ip=ADDRESS        initial A record data, or
  --instance=PATH     Memorystore instance whose host address to use

Options:
  --ttl=SECONDS       TTL of a new record (default 300)
  --service=NAME      ExternalName Service name (default redis-session)
  --namespace=NS      its namespace (default default)
  --port=PORT         its port (default 6378)
  --dry-run           run only the read-only checks; print the commands that would change something
  -h, --help          this help
EOF
}

note() { printf 'bootstrap-dns.sh: %s\n' "$*" >&2; }

# die, run and DRY_RUN
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

project="" zone="" dns_name="" network="" record="" ip="" instance=""
ttl=300 service=redis-session namespace=default port=6378
while (($#)); do
	arg=$1
	shift
	case $arg in
	--project=*) project=${arg#*=} ;;
	--zone=*) zone=${arg#*=} ;;
	--dns-name=*) dns_name=${arg#*=} ;;
	--network=*) network=${arg#*=} ;;
	--record=*) record=${arg#*=} ;;
	--ip=*) ip=${arg#*=} ;;
	--instance=*) instance=${arg#*=} ;;
	--ttl=*) ttl=${arg#*=} ;;
	--service=*) service=${arg#*=} ;;
	--namespace=*) namespace=${arg#*=} ;;
	--port=*) port=${arg#*=} ;;
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

readonly label='[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?'
readonly octet='(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
for required in project zone dns_name network record; do
	[[ -n ${!required} ]] || die "--${required//_/-} is required"
done
[[ $project =~ ^[a-z][-a-z0-9]{4,28}[a-z0-9]$ ]] || die "invalid --project: $project"
[[ $zone =~ ^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$ ]] || die "invalid --zone: $zone"
[[ $dns_name == *. ]] || dns_name+=.
[[ $record == *. ]] || record+=.
[[ $dns_name =~ ^($label\.)+$ ]] || die "invalid --dns-name: $dns_name"
[[ $record =~ ^($label\.)+$ ]] || die "invalid --record: $record"
[[ $record == *."$dns_name" ]] || die "--record $record is not inside the zone's DNS name $dns_name"
[[ $network =~ ^[-a-z0-9/:._]+$ ]] || die "invalid --network: $network"
if [[ ! $ttl =~ ^[0-9]{1,6}$ ]] || ((ttl < 1)); then die "--ttl must be a positive number of seconds"; fi
[[ $service =~ ^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$ ]] || die "invalid --service: $service"
[[ $namespace =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]] || die "invalid --namespace: $namespace"
if [[ ! $port =~ ^[0-9]{1,5}$ ]] || ((port < 1 || port > 65535)); then die "--port must be 1-65535"; fi
if [[ -n $ip && -n $instance ]] || [[ -z $ip && -z $instance ]]; then
	die "give exactly one of --ip and --instance"
fi

if [[ -n $instance ]]; then
	[[ $instance =~ ^projects/([a-z][-a-z0-9]{4,28}[a-z0-9])/locations/([a-z]+-[a-z]+[0-9]+)/instances/([a-z][-a-z0-9]{0,38}[a-z0-9])$ ]] ||
		die "--instance must be projects/P/locations/R/instances/I, got $instance"
	ip=$(gcloud redis instances describe "${BASH_REMATCH[3]}" --project="${BASH_REMATCH[1]}" \
		--region="${BASH_REMATCH[2]}" --format='value(host)') || die "could not read the host of $instance"
fi
[[ $ip =~ ^($octet\.){3}$octet$ ]] || die "the A record needs an IPv4 address, got '$ip'"

# 1. The private zone. List with a filter: an empty answer means "missing",
# while a failing gcloud (auth, API disabled) stops the script.
zones=$(gcloud dns managed-zones list --project="$project" --filter="name=$zone" \
	--format='value(name,dnsName)') || die "could not list the managed zones of $project"
existing_zone=""
while read -r name zone_dns_name; do
	if [[ $name == "$zone" ]]; then existing_zone=$zone_dns_name; fi
done <<<"$zones"
if [[ -z $existing_zone ]]; then
	note "zone $zone is missing: creating it (private, visible to $network)"
	run gcloud dns managed-zones create "$zone" --project="$project" --dns-name="$dns_name" \
		--visibility=private --networks="$network" \
		--description="Redis names for dnsfailover (private, VPC only)" --quiet
elif [[ $existing_zone != "$dns_name" ]]; then
	die "zone $zone exists with DNS name $existing_zone, not $dns_name; nothing changed"
else
	note "zone $zone ($dns_name) exists"
fi

# 2. The A record. Only created: an existing record may already point at the
# standby after a failover, and that is the truth to keep.
existing_ip=""
if [[ -n $existing_zone ]]; then
	existing_ip=$(gcloud dns record-sets list --project="$project" --zone="$zone" --name="$record" \
		--type=A --format='value(rrdatas)') || die "could not list the record sets of $zone"
fi
if [[ -z $existing_ip ]]; then
	note "A record $record is missing: creating it -> $ip (TTL $ttl)"
	run gcloud dns record-sets create "$record" --project="$project" --zone="$zone" \
		--type=A --ttl="$ttl" --rrdatas="$ip" --quiet
elif [[ $existing_ip != "$ip" ]]; then
	note "A record $record exists and points at $existing_ip, not $ip: left as is (a failover may have moved it)"
else
	note "A record $record -> $ip exists"
fi

# 3. The ExternalName Service the overlays ship (infra/k8s/overlays/*).
cat <<EOF
---
apiVersion: v1
kind: Service
metadata:
  name: ${service}
  namespace: ${namespace}
spec:
  type: ExternalName
  externalName: ${record}
  ports:
    - name: redis
      port: ${port}
      protocol: TCP
EOF

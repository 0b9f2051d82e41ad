#!/usr/bin/env bash
# deploy-cluster.sh renders a Kustomize overlay with the gateway and prober
# images that were just built and applies it to a GKE cluster (server-side
# apply). The overlay holds both workloads, so both images are required: a
# placeholder image left in a Deployment would never start.
set -euo pipefail

usage() {
	cat <<'EOF_USAGE'
Usage: scripts/deploy-cluster.sh --overlay=NAME --gateway-image=REF --prober-image=REF --project=ID --region=REGION --cluster=NAME [options]

Required:
  --overlay=NAME        an overlay under infra/k8s/overlays, e.g. staging-gke
  --gateway-image=REF   gateway image (manifest name dnsfailover-gateway)
  --prober-image=REF    prober image (manifest name dnsfailover-prober)
                        REF is REPO/NAME:TAG, REPO/NAME@sha256:DIGEST or
                        REPO/NAME:TAG@sha256:DIGEST (what ko prints; the digest wins)
  --project=ID          project of the GKE cluster
  --region=REGION       the cluster's location (region or zone)
  --cluster=NAME        GKE cluster name

Options:
  --no-credentials      use the current kubectl context instead of gcloud get-credentials
  --dry-run             print the commands (and the generated kustomization on stderr)
  -h, --help            this help
EOF_USAGE
}

# die, run and DRY_RUN
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

overlay="" gateway_image="" prober_image="" project="" region="" cluster="" credentials=1
while (($#)); do
	arg=$1
	shift
	case $arg in
	--overlay=*) overlay=${arg#*=} ;;
	--gateway-image=*) gateway_image=${arg#*=} ;;
	--prober-image=*) prober_image=${arg#*=} ;;
	--project=*) project=${arg#*=} ;;
	--region=*) region=${arg#*=} ;;
	--cluster=*) cluster=${arg#*=} ;;
	--no-credentials) credentials=0 ;;
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

for required in overlay gateway_image prober_image project region cluster; do
	[[ -n ${!required} ]] || die "--${required//_/-} is required"
done
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[[ $overlay =~ ^[a-z0-9][-a-z0-9]*$ && -f infra/k8s/overlays/$overlay/kustomization.yaml ]] ||
	die "unknown overlay '$overlay' (see infra/k8s/overlays)"
[[ $project =~ ^[a-z][-a-z0-9]{4,28}[a-z0-9]$ ]] || die "invalid --project: $project"
[[ $region =~ ^[a-z]+-[a-z]+[0-9]+(-[a-z])?$ ]] || die "invalid --region: $region"
[[ $cluster =~ ^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$ ]] || die "invalid --cluster: $cluster"

# image_entry NAME REF prints a kustomize images: entry that replaces the
# manifest image NAME with REF, split into name and tag or digest.
image_entry() {
	local name=$1 ref=$2 repo field
	if [[ $ref =~ ^([a-z0-9][-a-z0-9._/:]*/[-a-z0-9._]+)(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@(sha256:[0-9a-f]{64})$ ]]; then
		repo=${BASH_REMATCH[1]} field="digest: ${BASH_REMATCH[3]}"
	elif [[ $ref =~ ^([a-z0-9][-a-z0-9._/:]*/[-a-z0-9._]+):([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$ ]]; then
		repo=${BASH_REMATCH[1]} field="newTag: \"${BASH_REMATCH[2]}\""
	else
		die "--${name#dnsfailover-}-image must be REPO/NAME:TAG or REPO/NAME[:TAG]@sha256:DIGEST, got $ref"
	fi
	printf '  - name: %s\n    newName: %s\n    %s\n' "$name" "$repo" "$field"
}
gateway_entry=$(image_entry dnsfailover-gateway "$gateway_image")
prober_entry=$(image_entry dnsfailover-prober "$prober_image")

# A throw-away kustomization on top of the overlay sets the images without
# editing committed files. Kustomize refuses absolute paths to a base, so the
# overlay is referenced relative to the temporary directory.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
base=$(realpath --relative-to="$work" "infra/k8s/overlays/$overlay")
cat >"$work/kustomization.yaml" <<EOF_KUSTOMIZATION
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $base
images:
$gateway_entry
$prober_entry
EOF_KUSTOMIZATION
if ((DRY_RUN)); then
	printf 'deploy-cluster.sh: generated %s/kustomization.yaml:\n' "$work" >&2
	cat "$work/kustomization.yaml" >&2
fi

if ((credentials)); then
	run gcloud container clusters get-credentials "$cluster" --project="$project" --location="$region" --quiet
fi
run kubectl apply --server-side --field-manager=dnsfailover-deploy -k "$work"

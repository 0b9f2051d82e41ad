#!/usr/bin/env bash
# deploy-gateway.sh renders a Kustomize overlay with the gateway image that was
# just built and applies it to a GKE cluster (server-side apply).
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: scripts/deploy-gateway.sh --overlay=NAME --image=REF --project=ID --region=REGION --cluster=NAME [options]

Required:
  --overlay=NAME      an overlay under infra/k8s/overlays, e.g. staging-gke
  --image=REF         gateway image, REPO/NAME:TAG or REPO/NAME@sha256:DIGEST
  --project=ID        project of the GKE cluster
  --region=REGION     the cluster's location (region or zone)
  --cluster=NAME      GKE cluster name

Options:
  --image-name=NAME   image name used in the manifests (default dnsfailover-gateway)
  --no-credentials    use the current kubectl context instead of gcloud get-credentials
  --dry-run           print the commands (and the generated kustomization on stderr)
  -h, --help          this help
EOF
}

die() {
	printf 'deploy-gateway.sh: %s\n' "$*" >&2
	exit 2
}

DRY_RUN=0
run() {
	if ((DRY_RUN)); then
		local line
		printf -v line '%q ' "$@"
		printf '%s\n' "${line% }"
	else
		"$@"
	fi
}

overlay="" image="" project="" region="" cluster="" image_name=dnsfailover-gateway credentials=1
while (($#)); do
	arg=$1
	shift
	case $arg in
	--overlay=*) overlay=${arg#*=} ;;
	--image=*) image=${arg#*=} ;;
	--project=*) project=${arg#*=} ;;
	--region=*) region=${arg#*=} ;;
	--cluster=*) cluster=${arg#*=} ;;
	--image-name=*) image_name=${arg#*=} ;;
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

for required in overlay image project region cluster; do
	[[ -n ${!required} ]] || die "--$required is required"
done
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[[ $overlay =~ ^[a-z0-9][-a-z0-9]*$ && -f infra/k8s/overlays/$overlay/kustomization.yaml ]] ||
	die "unknown overlay '$overlay' (see infra/k8s/overlays)"
[[ $project =~ ^[a-z][-a-z0-9]{4,28}[a-z0-9]$ ]] || die "invalid --project: $project"
[[ $region =~ ^[a-z]+-[a-z]+[0-9]+(-[a-z])?$ ]] || die "invalid --region: $region"
[[ $cluster =~ ^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$ ]] || die "invalid --cluster: $cluster"
[[ $image_name =~ ^[a-z0-9][-a-z0-9._/]*$ ]] || die "invalid --image-name: $image_name"

# Split REF into name and tag or digest, as kustomize's images transformer wants.
if [[ $image =~ ^([a-z0-9][-a-z0-9._/:]*[a-z0-9])@(sha256:[0-9a-f]{64})$ ]]; then
	image_field="digest: ${BASH_REMATCH[2]}"
elif [[ $image =~ ^([a-z0-9][-a-z0-9._/:]*/[-a-z0-9._]+):([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$ ]]; then
	image_field="newTag: \"${BASH_REMATCH[2]}\""
else
	die "--image must be REPO/NAME:TAG or REPO/NAME@sha256:DIGEST, got $image"
fi
image_repo=${BASH_REMATCH[1]}

# A throw-away kustomization on top of the overlay sets the image without
# editing committed files. Kustomize refuses absolute paths to a base, so the
# overlay is referenced relative to the temporary directory.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
base=$(realpath --relative-to="$work" "infra/k8s/overlays/$overlay")
cat >"$work/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $base
images:
  - name: $image_name
    newName: $image_repo
    $image_field
EOF
if ((DRY_RUN)); then
	printf 'deploy-gateway.sh: generated %s/kustomization.yaml:\n' "$work" >&2
	cat "$work/kustomization.yaml" >&2
fi

if ((credentials)); then
	run gcloud container clusters get-credentials "$cluster" --project="$project" --location="$region" --quiet
fi
run kubectl apply --server-side --field-manager=dnsfailover-deploy -k "$work"

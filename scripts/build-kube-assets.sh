#!/usr/bin/env bash
# Builds the etcd and kube-apiserver binaries that the envtest-based tests
# (test/kubeapi) start, once per machine, and caches them outside git in
#   ${DNSFAILOVER_CACHE:-$HOME/.cache/dnsfailover}/kube-assets/<k8s-version>/
# with the names envtest expects in KUBEBUILDER_ASSETS (etcd, kube-apiserver).
#
# Neither binary is downloadable here, so both are built from the Go module
# proxy through the separate module tools/kubeassets (k8s.io/kubernetes with
# its staging modules pinned by replace directives; go.etcd.io/etcd/server/v3
# at the version kubernetes itself requires). A first build takes about
# 5 minutes on 2 cores and ~5 GB of Go build cache; later runs return at once.
#
# Usage: scripts/build-kube-assets.sh [--force]
# The last line of stdout is the asset directory, so callers can do
#   export KUBEBUILDER_ASSETS="$(scripts/build-kube-assets.sh | tail -n1)"
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="${repo_root}/tools/kubeassets"

force=0
for arg in "$@"; do
	case "${arg}" in
	--force) force=1 ;;
	-h | --help)
		sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "build-kube-assets: unknown argument: ${arg}" >&2
		exit 2
		;;
	esac
done

log() { echo "build-kube-assets: $*" >&2; }

command -v go >/dev/null || {
	log "go is not on PATH"
	exit 1
}

# Versions come from the tools module so that there is one place to bump.
module_version() {
	(cd "${tools_dir}" && GOWORK=off GOFLAGS=-mod=mod go list -m -f '{{.Version}}' "$1")
}
k8s_version="$(module_version k8s.io/kubernetes)"
etcd_version="$(module_version go.etcd.io/etcd/server/v3)"

cache_root="${DNSFAILOVER_CACHE:-${HOME}/.cache/dnsfailover}"
asset_dir="${cache_root}/kube-assets/${k8s_version}"

have_assets() {
	[[ -x "${asset_dir}/etcd" && -x "${asset_dir}/kube-apiserver" ]]
}

if [[ "${force}" -eq 0 ]] && have_assets; then
	log "already built: kube-apiserver ${k8s_version}, etcd ${etcd_version}"
	echo "${asset_dir}"
	exit 0
fi

mkdir -p "${asset_dir}"

# Several test runs may call this at once; only one builds.
exec 9>"${asset_dir}.lock"
if command -v flock >/dev/null; then
	flock 9
fi
if [[ "${force}" -eq 0 ]] && have_assets; then
	log "built by a concurrent run"
	echo "${asset_dir}"
	exit 0
fi

tmp_dir="$(mktemp -d "${asset_dir}/.build.XXXXXX")"
trap 'rm -rf "${tmp_dir}"' EXIT

export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0

build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
version_pkg="k8s.io/component-base/version"
k8s_ldflags="-s -w"
k8s_ldflags+=" -X ${version_pkg}.gitVersion=${k8s_version}"
k8s_ldflags+=" -X ${version_pkg}.gitMajor=$(cut -d. -f1 <<<"${k8s_version#v}")"
k8s_ldflags+=" -X ${version_pkg}.gitMinor=$(cut -d. -f2 <<<"${k8s_version#v}")"
k8s_ldflags+=" -X ${version_pkg}.gitTreeState=clean"
k8s_ldflags+=" -X ${version_pkg}.buildDate=${build_date}"

log "building etcd ${etcd_version}"
(cd "${tools_dir}" && go build -trimpath -ldflags "-s -w" -o "${tmp_dir}/etcd" go.etcd.io/etcd/server/v3)

log "building kube-apiserver ${k8s_version} (takes minutes on a first run)"
(cd "${tools_dir}" && go build -trimpath -ldflags "${k8s_ldflags}" -o "${tmp_dir}/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver)

"${tmp_dir}/etcd" --version >&2
"${tmp_dir}/kube-apiserver" --version >&2

mv -f "${tmp_dir}/etcd" "${asset_dir}/etcd"
mv -f "${tmp_dir}/kube-apiserver" "${asset_dir}/kube-apiserver"
log "done"
echo "${asset_dir}"

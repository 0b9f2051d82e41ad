#!/usr/bin/env bash
# dev-setup.sh installs what the local tests need on a Debian machine with Go:
# Debian packages (real redis-server, redis-sentinel, dig, dnsperf, shellcheck,
# jq), the etcd and kube-apiserver binaries for the envtest-based tests, and
# staticcheck. Progress goes to stderr; the last stdout line is the directory
# to export as KUBEBUILDER_ASSETS.
set -euo pipefail

readonly STATICCHECK_VERSION=${STATICCHECK_VERSION:-v0.8.2}

usage() {
	cat <<'EOF'
Usage: scripts/dev-setup.sh [--skip-apt] [--skip-kube-assets] [--dry-run]

Installs, when missing: the Debian packages redis-server redis-sentinel
bind9-dnsutils dnsperf shellcheck jq (apt-get update first; needs root or sudo),
the kube-apiserver and etcd test binaries (scripts/build-kube-assets.sh), and
staticcheck (go install). Prints the KUBEBUILDER_ASSETS directory last.

Options:
  --skip-apt            do not install Debian packages
  --skip-kube-assets    do not build kube-apiserver/etcd
  --dry-run             print the commands that would install something
  -h, --help            this help
EOF
}

note() { printf 'dev-setup.sh: %s\n' "$*" >&2; }

# die, run and DRY_RUN
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Installers talk on stderr: stdout ends with the KUBEBUILDER_ASSETS directory.
RUN_TO_STDERR=1

skip_apt=0 skip_kube_assets=0
while (($#)); do
	case $1 in
	--skip-apt) skip_apt=1 ;;
	--skip-kube-assets) skip_kube_assets=1 ;;
	--dry-run) DRY_RUN=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		die "unknown argument: $1"
		;;
	esac
	shift
done

command -v go >/dev/null || die "go is not on PATH (install Go first; the Go runtime of this repo is in go.mod)"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Debian packages, keyed by a command each one provides.
declare -A package_of=(
	[redis-server]=redis-server
	[redis-sentinel]=redis-sentinel
	[dig]=bind9-dnsutils
	[dnsperf]=dnsperf
	[shellcheck]=shellcheck
	[jq]=jq
)
missing=()
for cmd in redis-server redis-sentinel dig dnsperf shellcheck jq; do
	command -v "$cmd" >/dev/null || missing+=("${package_of[$cmd]}")
done
if ((skip_apt)); then
	((${#missing[@]} == 0)) || note "skipping apt; missing packages: ${missing[*]}"
elif ((${#missing[@]})); then
	sudo=()
	if [[ $(id -u) != 0 ]]; then
		command -v sudo >/dev/null || die "installing ${missing[*]} needs root or sudo"
		sudo=(sudo)
	fi
	note "installing ${missing[*]}"
	run "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
	run "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
	note "Debian packages present"
fi

gobin=$(go env GOBIN)
[[ -n $gobin ]] || gobin="$(go env GOPATH)/bin"
if command -v staticcheck >/dev/null || [[ -x $gobin/staticcheck ]]; then
	note "staticcheck present"
else
	run go install "honnef.co/go/tools/cmd/staticcheck@${STATICCHECK_VERSION}"
fi

if ((skip_kube_assets)); then
	exit 0
fi
[[ -x scripts/build-kube-assets.sh ]] || die "scripts/build-kube-assets.sh is missing"
if ((DRY_RUN)); then
	run scripts/build-kube-assets.sh
	exit 0
fi
# build-kube-assets.sh prints the asset directory on its last stdout line.
assets=$(scripts/build-kube-assets.sh | tail -n 1)
[[ -x $assets/kube-apiserver && -x $assets/etcd ]] ||
	die "scripts/build-kube-assets.sh did not produce kube-apiserver and etcd (last line: '$assets')"
printf '%s\n' "$assets"

#!/usr/bin/env bash
# go-fuzz.sh runs every Go fuzz target of the module for a short time each.
# Targets are discovered with `go test -list '^Fuzz'`, so new ones need no edit.
set -euo pipefail

usage() {
	cat <<'EOF2'
Usage: scripts/go-fuzz.sh [--fuzztime=DURATION] [--dry-run] [PACKAGES...]

Runs `go test -run '^$' -fuzz '^NAME$' -fuzztime DURATION PKG` for each fuzz
target in PACKAGES (default ./...). DURATION defaults to $FUZZTIME or 10s.
EOF2
}

# die, run and DRY_RUN
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

fuzztime=${FUZZTIME:-10s}
packages=()
while (($#)); do
	case $1 in
	--fuzztime=*) fuzztime=${1#*=} ;;
	--dry-run) DRY_RUN=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	-*)
		usage >&2
		die "unknown argument: $1"
		;;
	*) packages+=("$1") ;;
	esac
	shift
done
((${#packages[@]})) || packages=(./...)
[[ $fuzztime =~ ^[0-9]+(ns|us|ms|s|m|h|x)$ ]] || die "invalid --fuzztime: $fuzztime (e.g. 10s, 1m, 500x)"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# `go test -list` prints the matching names of a package, then "ok <pkg> ...".
listing=$(go test -count=1 -list '^Fuzz' "${packages[@]}") || die "go test -list failed"
targets=()
names=()
while read -r first second _; do
	case $first in
	Fuzz*) names+=("$first") ;;
	ok)
		for name in "${names[@]}"; do targets+=("$second $name"); done
		names=()
		;;
	'?' | FAIL) names=() ;;
	esac
done <<<"$listing"

if ((${#targets[@]} == 0)); then
	printf 'go-fuzz.sh: no fuzz targets found\n' >&2
	exit 0
fi
for target in "${targets[@]}"; do
	pkg=${target% *}
	name=${target#* }
	printf 'go-fuzz.sh: %s %s for %s\n' "$pkg" "$name" "$fuzztime" >&2
	run go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg"
done

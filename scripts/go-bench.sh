#!/usr/bin/env bash
# go-bench.sh runs the benchmarks of every package that has any.
# Packages are discovered with `go test -list '^Benchmark'`.
set -euo pipefail

usage() {
	cat <<'EOF2'
Usage: scripts/go-bench.sh [--benchtime=DURATION] [--count=N] [--dry-run] [PACKAGES...]

Runs `go test -run '^$' -bench . -benchmem` on each package in PACKAGES
(default ./...) that has at least one benchmark.
EOF2
}

# die, run and DRY_RUN
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

benchtime=${BENCHTIME:-1s}
count=${COUNT:-1}
packages=()
while (($#)); do
	case $1 in
	--benchtime=*) benchtime=${1#*=} ;;
	--count=*) count=${1#*=} ;;
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
[[ $benchtime =~ ^[0-9]+(ns|us|ms|s|m|x)$ ]] || die "invalid --benchtime: $benchtime"
[[ $count =~ ^[1-9][0-9]{0,2}$ ]] || die "invalid --count: $count"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

listing=$(go test -count=1 -list '^Benchmark' "${packages[@]}") || die "go test -list failed"
with_benchmarks=()
found=0
while read -r first second _; do
	case $first in
	Benchmark*) found=1 ;;
	ok)
		((found)) && with_benchmarks+=("$second")
		found=0
		;;
	'?' | FAIL) found=0 ;;
	esac
done <<<"$listing"

if ((${#with_benchmarks[@]} == 0)); then
	printf 'go-bench.sh: no benchmarks found\n' >&2
	exit 0
fi
run go test -run '^$' -bench . -benchmem -benchtime "$benchtime" -count "$count" "${with_benchmarks[@]}"

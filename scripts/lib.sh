# shellcheck shell=bash
# Sourced by the scripts beside it: one way to fail and one way to dry-run.

# die reports bad input or a failed precondition and exits 2.
die() {
	printf '%s: %s\n' "${0##*/}" "$*" >&2
	exit 2
}

# DRY_RUN=1 (set by each script's --dry-run) makes run print commands instead.
# RUN_TO_STDERR=1 sends the commands' output to stderr, for a script whose
# stdout is its result.
DRY_RUN=0 RUN_TO_STDERR=0

# run executes a command that changes something, or prints it, shell-quoted
# exactly as it would run, with --dry-run.
run() {
	if ((DRY_RUN)); then
		local line
		printf -v line '%q ' "$@"
		printf '%s\n' "${line% }"
	elif ((RUN_TO_STDERR)); then
		"$@" >&2
	else
		"$@"
	fi
}

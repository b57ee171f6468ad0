#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/compare.sh BUILD REV [--full] — `make bench-compare REV=...`: git revision REV and the
# working tree, measured side by side in one run. REV is checked out into a temporary worktree
# and built there with its own Makefile; bench/run.sh --compare then brings up the benchmark lab
# twice, datapath bpf built by REV's fwdctl ("old") and by BUILD's ("new", the working tree),
# and measures both round by round with this tree's load generators. The table (ratio new/old
# per row, paired by round, above 1 better for new) goes to bench/results/compare/compare.md.
# Quick mode by default (rounds of 1 s; BENCH_ROUNDS, default 5, rounds for every metric);
# --full for run.sh's full mode.
# Exit status: run.sh's; 2 usage, 1 when REV cannot be checked out or built.
set -u
set -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -lt 2 ] || [ $# -gt 3 ]; then echo "usage: bench/compare.sh BUILD REV [--full]" >&2; exit 2; fi
BUILD=$(cd "$1" && pwd) || exit 2
REV=$2 MODE=(--quick)
[ "${3:-}" = --full ] && MODE=()
[ -z "${3:-}" ] || [ "$3" = --full ] || { echo "bench/compare.sh: unknown option $3" >&2; exit 2; }

top=$(git -C "$HERE" rev-parse --show-toplevel) || exit 1
sha=$(git -C "$top" rev-parse --verify --quiet "$REV^{commit}") ||
	{ echo "bench/compare.sh: $REV: not a revision of this repository" >&2; exit 2; }
tmp=$(mktemp -d /tmp/fwd-compare.XXXXXX) || exit 1
cleanup() {
	git -C "$top" worktree remove --force "$tmp/src" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

echo "bench-compare: building $REV (${sha:0:12}) in $tmp/src" >&2
git -C "$top" worktree add --detach --quiet "$tmp/src" "$sha" || exit 1
make -C "$tmp/src" --no-print-directory -j2 BUILD="$tmp/build" all >"$tmp/build.log" 2>&1 ||
	{ tail -n 20 "$tmp/build.log" >&2; echo "bench/compare.sh: $REV does not build" >&2; exit 1; }

new="working tree $(git -C "$top" describe --always --dirty)"
BENCH_ROUNDS=${BENCH_ROUNDS:-5} BENCH_COMPARE_NEW=$new BENCH_COMPARE_OLD="$REV (${sha:0:12})" \
	"$HERE/run.sh" "$BUILD" "${MODE[@]}" --compare "$tmp/build/fwdctl"

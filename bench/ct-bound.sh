#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/ct-bound.sh BUILD [ROUNDS] — `make bench-ct-bound`: the best any connection table can
# do for UDP through SNAT at a million flows on this machine, beside what fwd does, as the ct
# rows of `make bench` measure it (udp_pps at 1 flow and at 1M flows, 1M / 1 paired by round).
#
# Each patch of bench/ct-bound/ goes on a copy of this working tree, which is built into a
# fwdctl of its own and measured against BUILD's fwdctl with bench/run.sh --compare (ROUNDS
# rounds, default 5):
#   one-line.patch  a known flow's datagram is translated from a copy of its connection in one
#                   64-byte cell of a flat array, and nothing else is read or written (no expiry
#                   refresh, state, lock or liveness check): one cold line per datagram, less
#                   than any conntrack must do (bpf/ct_bound.h in the patch says how).
#   none.patch      every datagram reads the same cell: no per-flow memory at all.
# The table goes to stdout and to bench/results/ct-bound/ct-bound.md.
# Exit status: 0; 2 usage; 1 when a patch does not apply (refresh it against bpf/fwd_tc.bpf.c),
# the copy does not build, or a run fails.
set -u
set -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -lt 1 ] || [ $# -gt 2 ]; then echo "usage: bench/ct-bound.sh BUILD [ROUNDS]" >&2; exit 2; fi
BUILD=$(cd "$1" && pwd) || exit 2
ROUNDS=${2:-5}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "bench/ct-bound.sh: ROUNDS: a positive number" >&2; exit 2; }
[ -x "$BUILD/fwdctl" ] || { echo "bench/ct-bound.sh: no $BUILD/fwdctl: make first" >&2; exit 2; }
TOP=$(cd "$HERE/.." && pwd)
BOUNDS=(one-line none)
RESULTS=$HERE/results/ct-bound
tmp=$(mktemp -d /tmp/fwd-ct-bound.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

# A copy of the working tree's tracked files, patch @1 on it, its fwdctl built in @2/build.
build_bound() {
	local patch=$HERE/ct-bound/$1.patch dir=$2
	mkdir -p "$dir/src"
	git -C "$TOP" ls-files -z | (cd "$TOP" && tar --null -T - -cf -) | tar -xf - -C "$dir/src" ||
		return 1
	git -C "$dir/src" apply "$patch" 2>"$dir/apply.log" ||
		{ cat "$dir/apply.log" >&2; echo "bench/ct-bound.sh: $1.patch does not apply to this tree" >&2; return 1; }
	echo "bench-ct-bound: building the $1 bound" >&2
	make -C "$dir/src" --no-print-directory -j2 BUILD="$dir/build" "$dir/build/fwdctl" \
		>"$dir/build.log" 2>&1 ||
		{ tail -n 20 "$dir/build.log" >&2; echo "bench/ct-bound.sh: the $1 bound does not build" >&2; return 1; }
}

# The medians of raw.tsv @1 for datapath @2 ("old": the bound, "bpf": this tree): 1-flow pps,
# 1M-flow pps, and 1M / 1 paired by round with its lowest and highest round, as table cells.
medians() {
	awk -F'\t' -v dp="$2" '
		function median(a, n,   i, j, t) {
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		$1 == "ct" && $2 == dp && $3 == "udp_pps_1flow" { one[$6] = $5 }
		$1 == "ct" && $2 == dp && $3 == "udp_pps_1mflows" { mil[$6] = $5 }
		END {
			for (r in one) { n1++; a1[n1] = one[r] }
			for (r in mil) { nm++; am[nm] = mil[r]; if (r in one) { nr++; ar[nr] = mil[r] / one[r] } }
			if (!n1 || !nm || !nr) { print "| - | - | - |"; exit }
			m = median(ar, nr) # sorts ar
			printf "| %.3fM | %.3fM | %.2f [%.2f–%.2f] (%d rounds) |\n", median(a1, n1) / 1e6,
				median(am, nm) / 1e6, m, ar[1], ar[nr], nr
		}' "$1"
}

table="| run | lab | 1 flow, pps | 1M flows, pps | 1M / 1 flow |
| --- | --- | --- | --- | --- |"
for b in "${BOUNDS[@]}"; do
	build_bound "$b" "$tmp/$b" || exit 1
	BENCH_ONLY=ct BENCH_CT_FLOWS="1 1000000" BENCH_ROUNDS=$ROUNDS BENCH_OUT="$tmp/$b/out" \
		BENCH_COMPARE_NEW="fwd (this tree)" BENCH_COMPARE_OLD="bound: $b" \
		"$HERE/run.sh" "$BUILD" --quick --compare "$tmp/$b/build/fwdctl" >&2 || exit 1
	table+="
| $b | fwd (this tree) $(medians "$tmp/$b/out/raw.tsv" bpf)
| $b | bound: $b $(medians "$tmp/$b/out/raw.tsv" old)"
done
mkdir -p "$RESULTS"
{
	echo "# make bench-ct-bound: UDP through SNAT, 1 flow and 1M flows (medians of $ROUNDS rounds)"
	echo
	echo "$table"
} | tee "$RESULTS/ct-bound.md"

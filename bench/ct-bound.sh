#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/ct-bound.sh BUILD [ROUNDS] — `make bench-ct-bound`: the best any connection table can
# do for UDP through SNAT at a million flows on this machine, beside what fwd does, as the ct
# rows of `make bench` measure it (udp_pps at 1 flow and at 1M flows, 1M / 1 paired by round).
#
# bench/ct-bound.patch goes on a copy of this working tree, which is built into a fwdctl of its
# own and measured against BUILD's fwdctl with bench/run.sh --compare (ROUNDS rounds, default
# 5), once for each bound:
#   one-line  a known flow's datagram is translated from a copy of its connection in one
#             16-byte cell of a flat array, and nothing else is read or written (no expiry
#             refresh, state, lock or liveness check): one cold access per datagram, less than
#             any conntrack must do (bpf/ct_bound.h in the patch says how).
#   none      every datagram reads the same cell: no per-flow memory at all.
# The table goes to stdout and to bench/results/ct-bound/ct-bound.md.
#
# bench/ct-bound.sh --check BOUND: only the copy, the patch and the BPF object of that bound
# (tests/unit/test_ct_bound.sh: the patch still applies and compiles); no root needed.
# Exit status: 0; 2 usage; 1 when the patch does not apply (refresh it against
# bpf/fwd_tc.bpf.c), the copy does not build, or a run fails.
set -u
set -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
BOUNDS=(one-line none)
usage() { echo "usage: bench/ct-bound.sh BUILD [ROUNDS] | --check one-line|none" >&2; exit 2; }
tmp=$(mktemp -d /tmp/fwd-ct-bound.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

# prepare BOUND DIR TARGET: a copy of the working tree's tracked files in DIR/src, the patch on
# it (set to BOUND), and make's TARGET (a path under DIR/build) built there.
prepare() {
	local bound=$1 dir=$2 target=$3 header=$2/src/bpf/ct_bound.h
	mkdir -p "$dir/src"
	git -C "$TOP" ls-files -z | (cd "$TOP" && tar --null -T - -cf -) | tar -xf - -C "$dir/src" ||
		return 1
	git -C "$dir/src" apply "$HERE/ct-bound.patch" 2>"$dir/apply.log" ||
		{ cat "$dir/apply.log" >&2; echo "bench/ct-bound.sh: ct-bound.patch does not apply to this tree" >&2; return 1; }
	if [ "$bound" = none ]; then
		sed -i 's/^#define CT_BOUND_FIXED_CELL 0$/#define CT_BOUND_FIXED_CELL 1/' "$header"
		if ! grep -q '^#define CT_BOUND_FIXED_CELL 1$' "$header"; then
			echo "bench/ct-bound.sh: $header: no CT_BOUND_FIXED_CELL to set" >&2
			return 1
		fi
	fi
	echo "bench-ct-bound: building the $bound bound" >&2
	make -C "$dir/src" --no-print-directory -j2 BUILD="$dir/build" "$target" >"$dir/build.log" 2>&1 ||
		{ tail -n 20 "$dir/build.log" >&2; echo "bench/ct-bound.sh: the $bound bound does not build" >&2; return 1; }
}

if [ "${1:-}" = --check ]; then
	if [ $# != 2 ] || [[ " ${BOUNDS[*]} " != *" $2 "* ]]; then usage; fi
	prepare "$2" "$tmp/$2" "$tmp/$2/build/bpf/fwd_tc.bpf.o" || exit 1
	# the cell array is in the object: the patch did more than apply
	grep -q fwd_ct_bound "$tmp/$2/build/bpf/fwd_tc.bpf.o" ||
		{ echo "bench/ct-bound.sh: the $2 bound's object has no fwd_ct_bound" >&2; exit 1; }
	exit 0
fi
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
BUILD=$(cd "$1" && pwd) || exit 2
ROUNDS=${2:-5}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "bench/ct-bound.sh: ROUNDS: a positive number" >&2; exit 2; }
[ -x "$BUILD/fwdctl" ] || { echo "bench/ct-bound.sh: no $BUILD/fwdctl: make first" >&2; exit 2; }
RESULTS=$HERE/results/ct-bound

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
	prepare "$b" "$tmp/$b" "$tmp/$b/build/fwdctl" || exit 1
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

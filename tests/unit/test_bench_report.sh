#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/report.sh: ratios pair the samples of one round (see the top of report.sh), fall back to
# the medians for samples without rounds, and results.json carries the rounds.
# Needs no root: it only writes files under a temporary directory.
set -u
here=$(cd "$(dirname "$0")" && pwd)
report=$here/../../bench/report.sh
tmp=$(mktemp -d /tmp/fwd-test-report.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
echo "date=2026-01-01T00:00:00Z" >"$tmp/meta"

check() { # name condition-exit-status
	if [ "$2" = 0 ]; then echo "PASS: report: $1"; else echo "FAIL: report: $1"; fi
}
# The bpf/kernel cell of the table row for path $1, metric $2 in $3/results.md.
bpf_kernel() {
	awk -F' [|] ' -v p="$1" -v m="$2" '$1 == "| " p && $2 == m { print $7 }' "$3/results.md"
}
# rows PATH DATAPATH "value round value round ...": raw.tsv lines (round 0: leave it out)
rows() {
	local v r samples
	read -ra samples <<<"$3"
	set -- "$1" "$2" "${samples[@]}"
	local path=$1 dp=$2
	shift 2
	while [ $# -ge 2 ]; do
		v=$1 r=$2
		shift 2
		if [ "$r" = 0 ]; then
			printf '%s\t%s\tcrr_per_s\tconn/s\t%s\n' "$path" "$dp" "$v"
		else
			printf '%s\t%s\tcrr_per_s\tconn/s\t%s\t%s\n' "$path" "$dp" "$v" "$r"
		fi
	done
}

# case NAME PATH BPF KERNEL: report on crr samples of PATH ("value round ..." per datapath) into
# $tmp/NAME; prints the table's bpf/kernel cell, or "report failed".
case_ratio() {
	{ rows "$2" bpf "$3"; rows "$2" kernel "$4"; } >"$tmp/$1.tsv"
	"$report" "$tmp/$1.tsv" "$tmp/meta" "$tmp/$1" 2>/dev/null || { echo "report failed"; return; }
	bpf_kernel "$2" crr_per_s "$tmp/$1"
}

# Every round's ratio is 1.2, but a slow spell hit bpf in round 3 and the kernel in rounds 4
# and 5: the medians (60 and 100) say 0.60.
r=$(case_ratio paired bridge "120 1 120 2 60 3 60 4 60 5" "100 1 100 2 100 3 50 4 50 5")
[ "$r" = 1.20 ]
check "paired ratio: 1.20, not the medians' 0.60 (got '$r')" $?
grep -q '"rounds": \[1,2,3,4,5\]' "$tmp/paired/results.json"
check "results.json lists each sample's round" $?

# A sample missing (bpf's round 2 failed): the ratio is over the rounds both have.
r=$(case_ratio gap snat "110 1 140 3 150 4" "100 1 200 2 100 3 125 4")
[ "$r" = 1.20 ]
check "a round one side lacks is left out: 1.20, not 1.24 (got '$r')" $?

# A raw.tsv from before rounds were recorded: the ratio of the medians.
r=$(case_ratio old bridge "120 0 120 0 60 0 60 0 60 0" "100 0 100 0 100 0 50 0 50 0")
[ "$r" = 0.60 ]
check "no rounds: ratio of the medians, 0.60 (got '$r')" $?
grep -q 'Ratios are of the medians' "$tmp/old/results.md" && ! grep -q 'Ratios are paired' "$tmp/old/results.md"
check "no rounds: results.md says the ratios are of the medians" $?
grep -q 'Ratios are paired' "$tmp/paired/results.md"
check "rounds: results.md says the ratios are paired" $?

# TCP segment counts (unit segments): a table of their own, not rows of the traffic table.
{
	printf 'snat\tbpf\ttcp_gbps\tGbit/s\t19.5\t1\nsnat\tkernel\ttcp_gbps\tGbit/s\t18.0\t1\n'
	printf 'snat\tbpf\ttcp_retrans\tsegments\t%s\t1\n' 4618
	printf 'snat\tkernel\ttcp_retrans\tsegments\t%s\t1\n' 2368
	printf 'snat\tbpf\ttcp_ofo\tsegments\t%s\t1\n' 96
} >"$tmp/seg.tsv"
"$report" "$tmp/seg.tsv" "$tmp/meta" "$tmp/seg" 2>/dev/null
check "segment counts: report written" $?
r=$(bpf_kernel snat tcp_retrans "$tmp/seg")
[ -z "$r" ] && [ "$(bpf_kernel snat tcp_gbps "$tmp/seg")" = 1.08 ]
check "segment counts: no row of the traffic table (got '$r'), tcp_gbps still one" $?
grep -q '^| snat | bpf | 4618 \[4618–4618\] (1) | 96.0 \[96.0–96.0\] (1) |' "$tmp/seg/results.md"
check "segment counts: their table, snat bpf: retransmitted then out of order" $?

# The RFS table: bpf over the RFS-tuned kernel and pair, and the pair over the tutorial's kernel
# (what a datapath that cost nothing would score), each paired by round.
{
	printf 'dnat\tbpf\ttcp_gbps\tGbit/s\t%s\t%s\n' 20 1 21 2
	printf 'dnat\tkernel\ttcp_gbps\tGbit/s\t%s\t%s\n' 16 1 20 2
	printf 'dnat\tkernel-rfs\ttcp_gbps\tGbit/s\t%s\t%s\n' 20 1 21 2
	printf 'direct\tceiling-rfs\ttcp_gbps\tGbit/s\t%s\t%s\n' 20 1 21 2
} >"$tmp/rfs.tsv"
echo "rfs_table=32768" >>"$tmp/meta"
"$report" "$tmp/rfs.tsv" "$tmp/meta" "$tmp/rfs" 2>/dev/null
r=$(awk -F' [|] ' '$1 == "| dnat" && NF == 7 { print $5 "/" $6 "/" $7 }' "$tmp/rfs/results.md")
# rounds 1.25 and 1.05: the median 1.15
[ "$r" = "1.00/1.00/1.15 |" ]
check "RFS table: bpf/kernel-rfs, bpf/ceiling-rfs, ceiling-rfs/kernel (got '$r')" $?

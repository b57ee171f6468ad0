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
	local v r
	set -- "$1" "$2" $3
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

# Every round's ratio is 1.2, but a slow spell hit bpf in round 3 and the kernel in rounds 4
# and 5: the medians (60 and 100) say 0.60.
{
	rows bridge bpf "120 1 120 2 60 3 60 4 60 5"
	rows bridge kernel "100 1 100 2 100 3 50 4 50 5"
} >"$tmp/paired.tsv"
"$report" "$tmp/paired.tsv" "$tmp/meta" "$tmp/paired" 2>/dev/null
check "exit status 0" $?
r=$(bpf_kernel bridge crr_per_s "$tmp/paired")
[ "$r" = 1.20 ]
check "paired ratio: 1.20, not the medians' 0.60 (got '$r')" $?
grep -q '"rounds": \[1,2,3,4,5\]' "$tmp/paired/results.json"
check "results.json lists each sample's round" $?

# A sample missing (bpf's round 2 failed): the ratio is over the rounds both have.
{
	rows snat bpf "110 1 140 3 150 4"
	rows snat kernel "100 1 200 2 100 3 125 4"
} >"$tmp/gap.tsv"
"$report" "$tmp/gap.tsv" "$tmp/meta" "$tmp/gap" 2>/dev/null
r=$(bpf_kernel snat crr_per_s "$tmp/gap")
[ "$r" = 1.20 ]
check "a round one side lacks is left out: 1.20, not 1.24 (got '$r')" $?

# A raw.tsv from before rounds were recorded: the ratio of the medians.
{
	rows bridge bpf "120 0 120 0 60 0 60 0 60 0"
	rows bridge kernel "100 0 100 0 100 0 50 0 50 0"
} >"$tmp/old.tsv"
"$report" "$tmp/old.tsv" "$tmp/meta" "$tmp/old" 2>/dev/null
r=$(bpf_kernel bridge crr_per_s "$tmp/old")
[ "$r" = 0.60 ]
check "no rounds: ratio of the medians, 0.60 (got '$r')" $?

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench/ct-design.sh BUILD [CONNECTIONS] [ROUNDS]: the conntrack expiry designs of
# bench/ct_design.bpf.c side by side, medians of ROUNDS (default 3) runs at a table of
# CONNECTIONS (default 1000000) connections, as a markdown table on stdout. Loads BPF programs
# and runs them with BPF_PROG_TEST_RUN only: no interface, no packet, no namespace.
# CT_DESIGN_VARIANTS (e.g. "slots_np paged") measures only those.
set -euo pipefail
BUILD=${1:?usage: ct-design.sh BUILD [CONNECTIONS] [ROUNDS]}
N=${2:-1000000}
ROUNDS=${3:-3}
TOOL=$BUILD/bench/ct_design
VARIANTS=${CT_DESIGN_VARIANTS:-timer_np timer_pa life_np life_pa fifo_pa lru slots_np flat paged paged_km}
FIELDS="insert_ns lookup_ns delete_ns pass_ns expire_ns mem_bytes misses insert_fails"
RAW=$(mktemp)
trap 'rm -f "$RAW"' EXIT

for ((r = 1; r <= ROUNDS; r++)); do
	for v in $VARIANTS; do
		echo "ct-design: $v, round $r/$ROUNDS" >&2
		# timer variants report -nan expiry when no timer could be armed
		"$TOOL" -v "$v" -n "$N" 2> >(grep -v '^$' >&2) >>"$RAW"
	done
done

echo "| design ($N connections, median of $ROUNDS) | ${FIELDS// / | } |"
# shellcheck disable=SC2086 # one column per field
echo "|---$(printf ' | ---%.0s' $FIELDS) |"
for v in $VARIANTS; do
	row="| $v"
	for f in $FIELDS; do
		# the median of this variant's values of field f (sort -g: numbers, -nan first)
		row+=" | $(sed -n "s/.*variant=$v .*\b$f=\([^ ]*\).*/\1/p" "$RAW" | sort -g |
			awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "-" }')"
	done
	echo "$row |"
done

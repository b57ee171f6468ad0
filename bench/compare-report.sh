#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/compare-report.sh RAW META OUT.md — the table of `make bench-compare`: for every row the
# working tree's fwd ("new", datapath bpf, setup builder fwdctl) and the revision's ("old",
# datapath old, setup builder fwdctl-old) were measured in, the medians of both and their
# paired ratio: the median, over the rounds both were measured in, of that round's ratio
# (see report.sh for why paired). The ratio is oriented so that above 1 is better for new:
# new/old for rates, old/new for latencies (*_us), times (*_s) and TCP segment counts
# (retransmitted: unit segments).
# Exit status: 0 written, 1 not, 2 usage.
set -u
set -o pipefail

[ $# -eq 3 ] || { echo "usage: bench/compare-report.sh RAW META OUT.md" >&2; exit 2; }
RAW=$1 META=$2 OUT=$3
meta() { sed -n "s/^$1=//p" "$META" | head -n 1; }

{
	echo "# make bench-compare: $(meta new) against $(meta old)"
	echo
	echo "$(meta date), kernel $(meta kernel), $(meta cpus) CPUs, $(meta mode) mode, $(meta rounds) rounds."
	echo "ratio: new against old, paired by round; above 1 is better for new (rates new/old,"
	echo "latencies and times old/new)."
	echo
	echo "| path | metric | unit | old | new | ratio | rounds |"
	echo "| --- | --- | --- | ---: | ---: | ---: | ---: |"
	awk -F'\t' '
		function median(s, m,    a, b, x) {
			for (a = 2; a <= m; a++) { x = s[a]; for (b = a - 1; b >= 1 && s[b] > x; b--) s[b + 1] = s[b]; s[b + 1] = x }
			return m % 2 ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2
		}
		# side: "new" or "old" of a sample, "" for the samples compare does not pair
		function side(path, dp) {
			if (path == "setup") return dp == "fwdctl" ? "new" : dp == "fwdctl-old" ? "old" : ""
			return dp == "bpf" ? "new" : dp == "old" ? "old" : ""
		}
		{
			s = side($1, $2)
			if (s == "") next
			k = $1 SUBSEP $3
			if (!(k in unit)) { order[++n] = k; unit[k] = $4 }
			v[k, s, $6] = $5
			cnt[k, s]++
			all[k, s, cnt[k, s]] = $5
			seen[k, $6] = 1
		}
		END {
			for (i = 1; i <= n; i++) {
				k = order[i]; split(k, kk, SUBSEP)
				lower = kk[2] ~ /_us$|_s$|_ns$/ || unit[k] == "segments"
				m = 0
				for (key in seen) {
					split(key, p, SUBSEP)
					if (p[1] SUBSEP p[2] != k) continue
					r = p[3]
					if (!((k, "new", r) in v) || !((k, "old", r) in v)) continue
					a = v[k, "new", r] + 0; b = v[k, "old", r] + 0
					if (a == 0 || b == 0) continue
					ratios[++m] = lower ? b / a : a / b
				}
				for (j = 1; j <= cnt[k, "old"]; j++) o[j] = all[k, "old", j]
				for (j = 1; j <= cnt[k, "new"]; j++) w[j] = all[k, "new", j]
				printf "| %s | %s | %s | %s | %s | %s | %d |\n", kk[1], kk[2], unit[k],
					cnt[k, "old"] ? sprintf("%.4g", median(o, cnt[k, "old"])) : "-",
					cnt[k, "new"] ? sprintf("%.4g", median(w, cnt[k, "new"])) : "-",
					m ? sprintf("%.3f", median(ratios, m)) : "-", m
				delete ratios; delete o; delete w
			}
		}' "$RAW"
} >"$OUT" || exit 1

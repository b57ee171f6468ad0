#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/report.sh RAW META OUTDIR — turn the samples of bench/run.sh into results.json,
# results.md and results.png (gnuplot, bench/plot.gp).
#
# RAW: one sample a line, tab-separated: path datapath metric unit value [round].
# META: key=value lines about the run (date, kernel, mode, failures...).
# results.json: a list of {"path","datapath","metric","value","unit","runs","rounds"}; value is
# the median, runs the samples it was taken from, in the order they were measured, and rounds
# the round of each sample (0: none recorded).
#
# Ratios (bpf/kernel, bpf/ceiling, ...) are paired: the median, over the rounds both sides were
# measured in, of the round's ratio. Each round measures every variant once, back to back, and
# this VM runs in phases, every variant some 40 % faster or slower for seconds at a time: a
# round's two samples share its phase, while the two medians of a ratio of medians can come
# from different phases. Over 15 stored runs the paired ratio spread half as much (crr bridge
# bpf/kernel: standard deviation 0.050 against 0.092; ping-pong bridge 0.013 against 0.032) and
# kept runs whose medians straddled a phase (crr bpf/kernel, per round 1.19 1.20 1.18 1.18 0.92:
# 1.18 paired, 0.99 as a ratio of medians). Samples without rounds fall back to the medians.
# Exit status: 0 ok, 1 a file could not be written, 2 usage.
set -u
set -o pipefail

[ $# -eq 3 ] || { echo "usage: bench/report.sh RAW META OUTDIR" >&2; exit 2; }
RAW=$1 META=$2 OUT=$3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$OUT" || exit 1
STATS=$(mktemp /tmp/fwdbench-stats.XXXXXX) || exit 1
trap 'rm -f "$STATS" "$STATS".*' EXIT

# Functions of the awk programs below. The tables read the stats into med[k] (the median),
# samples[k] and rounds[k] (comma-separated, in the same order), k = path SUBSEP dp SUBSEP metric.
AWK_LIB='
	# Median of s[1..m], which it sorts (insertion sort: a handful of samples).
	function median(s, m,    a, b, x) {
		for (a = 2; a <= m; a++) { x = s[a]; for (b = a - 1; b >= 1 && s[b] > x; b--) s[b + 1] = s[b]; s[b + 1] = x }
		return m % 2 ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2
	}
	# The paired ratio of k over base (see the top of this file); "" when either is missing.
	function ratio_of(k, base,    ns, nb, sk, rk, sb, rb, i, j, r, n) {
		if (!(k in med) || !(base in med)) return ""
		ns = split(samples[k], sk, ","); split(rounds[k], rk, ",")
		nb = split(samples[base], sb, ","); split(rounds[base], rb, ",")
		n = 0
		for (i = 1; i <= ns; i++) {
			if (rk[i] + 0 < 1) continue
			for (j = 1; j <= nb; j++)
				if (rb[j] == rk[i] && sb[j] + 0 != 0) { r[++n] = sk[i] / sb[j]; break }
		}
		if (n) return median(r, n)
		return med[base] == 0 ? "" : med[k] / med[base]
	}
'

# stats: path dp metric unit median min max n samples rounds (both comma-separated), in
# first-seen order.
awk -F'\t' "$AWK_LIB"'
	{
		k = $1 FS $2 FS $3
		if (!(k in n)) { order[++nk] = k; unit[k] = $4 }
		c = ++n[k]
		v[k, c] = $5; rd[k, c] = NF >= 6 ? $6 + 0 : 0
	}
	END {
		for (i = 1; i <= nk; i++) {
			k = order[i]; m = n[k]; list = ""; rlist = ""
			for (j = 1; j <= m; j++) {
				s[j] = v[k, j] + 0
				list = list (j > 1 ? "," : "") v[k, j]; rlist = rlist (j > 1 ? "," : "") rd[k, j]
			}
			mid = median(s, m)
			printf "%s\t%s\t%.6g\t%.6g\t%.6g\t%d\t%s\t%s\n", k, unit[k], mid, s[1], s[m], m, list, rlist
		}
	}' "$RAW" >"$STATS" || exit 1

# results.json
awk -F'\t' '
	BEGIN { printf "[" }
	{
		printf "%s\n  {\"path\": \"%s\", \"datapath\": \"%s\", \"metric\": \"%s\", \"value\": %s, \"unit\": \"%s\", \"runs\": [%s], \"rounds\": [%s]}",
			(NR > 1 ? "," : ""), $1, $2, $3, $5, $4, $9, $10
	}
	END { printf "%s]\n", NR ? "\n" : "" }' "$STATS" >"$OUT/results.json" || exit 1

meta() {
	local v
	v=$(sed -n "s/^$1=//p" "$META" | head -n 1)
	echo "${v:-${2:-?}}"
}

# "5 rounds", or "rounds: tcp 5, rr 4, crr 3, ..." when the metrics had different numbers.
rounds_line() {
	local per
	per=$(sed -n 's/^rounds_\([a-z]*\)=\([0-9]*\)$/\1 \2/p' "$META")
	if [ -z "$per" ] || [ "$(cut -d' ' -f2 <<<"$per" | sort -u | wc -l)" = 1 ]; then
		echo "$(meta rounds) rounds"
	else
		echo "rounds: $(paste -sd, <<<"$per" | sed 's/,/, /g')"
	fi
}

# results.md: one awk pass over the stats; every table cell is "median [min-max]".
{
	echo "# fwd benchmark"
	echo
	echo "$(meta date), kernel $(meta kernel), $(meta cpus) CPUs ($(meta cpu_model "?")), $(meta mode) mode:" \
		"$(rounds_line) of $(meta duration_s) s per measurement (iperf3 after $(meta tcp_omit_s 0) s uncounted)," \
		"$(meta elapsed_s) s in all."
	echo "Ping-pong client and server on CPU $(meta rr_cpu any), crr's on CPU $(meta crr_cpu any); iperf3 sender,receiver on CPUs $(meta tcp_cpus any);" \
		"UDP and frame generators on CPU $(meta send_cpu any)."
	echo "Labs built by: bpf $(meta lab_bpf "(not run)"), kernel $(meta lab_kernel "(not run)");" \
		"fwdctl: $(meta fwdctl)."
	case "$(meta rfs_table 0)" in
	0 | "?") ;;
	*) echo "Host-wide RFS table (net.core.rps_sock_flow_entries) $(meta rfs_table) for the run (it was $(meta rfs_table_was)):" \
		"fwdctl gave the labs' host-side veths flow tables (RFS); the kernel lab is measured without them, as the tutorial builds it." ;;
	esac
	case "$(meta gso_ipv4_max_size none)" in
	none) ;;
	0) echo "This kernel has no gso_ipv4_max_size: TCP packets of at most 64 KiB on every link." ;;
	65536) echo "BIG TCP off (gso_ipv4_max_size 65536): TCP packets of at most 64 KiB on every link." ;;
	*) echo "LAN uplinks and the ceiling's veth pair at gso_ipv4_max_size $(meta gso_ipv4_max_size)" \
		"(BIG TCP), which fwdctl gives the labs' veths too: every variant builds IPv4 TCP packets of that size." ;;
	esac
	case "$(meta gso_max_size none)" in
	none | 65536) ;;
	*) echo "IPv6 BIG TCP (gso_max_size $(meta gso_max_size)) on the ceiling's pair and the fwd lab's uplink, which" \
		"fwdctl passes on to its veths; the kernel lab's IPv6 stays at 64 KiB, the most its IPv6 forwarding" \
		"carries (it answers larger packets with Packet Too Big; bench/README): compare the IPv6 TCP rows as" \
		"each datapath at its best." ;;
	esac
	echo
	if awk -F'\t' 'NF >= 6 && $6 > 0 { found = 1; exit } END { exit !found }' "$RAW"; then
		echo "Cells: median [min–max] (n runs). Ratios are paired: the median over the rounds of the"
		echo "round's ratio (each round measures every variant once, back to back). Throughput and"
	else # a raw.tsv from before rounds were recorded
		echo "Cells: median [min–max] (n runs). Ratios are of the medians (the samples carry no"
		echo "rounds to pair). Throughput and"
	fi
	echo "rates: higher is better; latencies (\`rr_*_us\`), setup times and TCP segment counts: lower is better."
	echo
	awk -F'\t' -v nfmax="$(meta nf_conntrack_max)" -v rfs="$(meta rfs_table)" "$AWK_LIB"'
		function cell(k) {
			if (!(k in med)) return "–"
			return sprintf("%s [%s–%s] (%d)", fmt(med[k]), fmt(lo[k]), fmt(hi[k]), cnt[k])
		}
		function fmt(x) {
			if (x >= 100000) return sprintf("%.3gM", x / 1e6)
			if (x >= 1000) return sprintf("%.0f", x)
			if (x >= 10) return sprintf("%.1f", x)
			return sprintf("%.3g", x)
		}
		function ratio(a, b,    r) {
			r = ratio_of(a, b)
			return r == "" ? "–" : sprintf("%.2f", r)
		}
		{
			k = $1 SUBSEP $2 SUBSEP $3
			med[k] = $5; lo[k] = $6; hi[k] = $7; cnt[k] = $8; unit[$3] = $4
			samples[k] = $9; rounds[k] = $10
			if ($4 == "segments") { if (!($3 in gseen)) { gseen[$3] = 1; gm[++ng] = $3 }; next }
			if ($3 == "frame_xdp_pct") next
			if (!($3 in seen) && $1 != "ct" && $1 != "setup") { seen[$3] = 1; metrics[++nm] = $3 }
			if ($1 == "ct" && !($3 in cseen)) { cseen[$3] = 1; ctm[++nc] = $3 }
			if ($1 == "setup" && !($3 in sseen)) { sseen[$3] = 1; sm[++ns] = $3 }
		}
		END {
			print "## Traffic\n"
			print "| path | metric | unit | bpf | kernel | ceiling (direct veth) | bpf/kernel | bpf/ceiling | kernel/ceiling |"
			print "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
			np = split("bridge snat dnat bridge6 snat6 dnat6", paths, " ")
			for (i = 1; i <= nm; i++) {
				m = metrics[i]
				for (p = 1; p <= np; p++) {
					b = paths[p] SUBSEP "bpf" SUBSEP m; kk = paths[p] SUBSEP "kernel" SUBSEP m
					# the ceiling of an IPv6 path: the direct pair over IPv6
					c = (paths[p] ~ /6$/ ? "direct6" : "direct") SUBSEP "ceiling" SUBSEP m
					if (!(b in med) && !(kk in med)) continue
					printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", paths[p], m, unit[m],
						cell(b), cell(kk), cell(c), ratio(b, kk), ratio(b, c), ratio(kk, c)
				}
			}
			# One TCP stream where every path has RFS: the kernel lab with fwdctl flow tables, the ceiling
			# with it on both ends (the variants kernel-rfs and ceiling-rfs of run.sh)
			nr = 0
			for (p = 1; p <= np; p++) {
				b = paths[p] SUBSEP "bpf" SUBSEP "tcp_gbps"; kk = paths[p] SUBSEP "kernel-rfs" SUBSEP "tcp_gbps"
				c = (paths[p] ~ /6$/ ? "direct6" : "direct") SUBSEP "ceiling-rfs" SUBSEP "tcp_gbps"
				if (!(kk in med) && !(c in med)) continue
				if (!nr++) {
					print "\n### One TCP stream, every variant with RFS (net.core.rps_sock_flow_entries " rfs ")\n"
					print "bpf as above; the kernel lab with the flow tables fwdctl gives its host-side veths, the"
					print "direct pair with them on both ends. The kernel column above is the tutorial'"'"'s, without."
					print "Last column: the RFS-tuned direct pair over the tutorial'"'"'s kernel on that path, what a"
					print "datapath that cost nothing would score in bpf/kernel with the steering that keeps TCP in order.\n"
					print "| path | bpf | kernel (RFS) | ceiling (RFS) | bpf/kernel-rfs | bpf/ceiling-rfs | ceiling-rfs/kernel |"
					print "| --- | --- | --- | --- | --- | --- | --- |"
				}
				kt = paths[p] SUBSEP "kernel" SUBSEP "tcp_gbps"
				printf "| %s | %s | %s | %s | %s | %s | %s |\n", paths[p], cell(b), cell(kk), cell(c), ratio(b, kk), ratio(b, c),
					ratio(c, kt)
			}
			# 64-byte frames against two ceilings (run.sh: ceiling, ceiling-skb), and the hook
			# of fwd that carried them
			nf = 0
			cx = "direct" SUBSEP "ceiling" SUBSEP "frame_pps"; cs = "direct" SUBSEP "ceiling-skb" SUBSEP "frame_pps"
			for (p = 1; p <= 3 && (cs in med); p++) {
				b = paths[p] SUBSEP "bpf" SUBSEP "frame_pps"; xp = paths[p] SUBSEP "bpf" SUBSEP "frame_xdp_pct"
				if (!nf++) {
					print "\n### 64-byte frames against two ceilings\n"
					print "The XDP ceiling: frames one veth sends with XDP_TX, counted by XDP on its peer, with no"
					print "skb at all. The skb ceiling: the same pair, its receiver taking the frames as skbs (GRO on)"
					print "and counting them at tc ingress. Last column: the share of the frames that the fwd"
					print "programs sent on from XDP (counters redirect_xdp, dnat_xdp); the rest went through its tc"
					print "programs. The dnat row is measured with the lab forward on the XDP fast path (xdp).\n"
					print "| path | bpf | ceiling (XDP) | ceiling (skb) | bpf/ceiling | bpf/ceiling-skb | at XDP |"
					print "| --- | --- | --- | --- | --- | --- | --- |"
				}
				printf "| %s | %s | %s | %s | %s | %s | %s |\n", paths[p], cell(b), cell(cx), cell(cs),
					ratio(b, cx), ratio(b, cs), (xp in med) ? sprintf("%.0f %%", med[xp]) : "–"
			}
			# what the XDP fast path on the (veth) uplink costs one TCP stream from the LAN
			b = "dnat" SUBSEP "bpf" SUBSEP "tcp_gbps"; bx = "dnat" SUBSEP "bpf-xdp" SUBSEP "tcp_gbps"
			if (bx in med) {
				print "\n### One TCP stream through the forward while the XDP fast path is on\n"
				print "bpf as above (no XDP program); bpf-xdp: measured right after the dnat frame row, the"
				print "UDP forward on the XDP fast path. The uplink is a veth, and an XDP program on it turns"
				print "off TSO and GSO of its peer, the LAN end: the client sends MTU-sized segments.\n"
				print "| path | bpf | bpf-xdp | bpf-xdp/bpf |"
				print "| --- | --- | --- | --- |"
				printf "| dnat | %s | %s | %s |\n", cell(b), cell(bx), ratio(bx, b)
			}
			if (ng) {
				print "\n### TCP segments per iperf3 run: retransmitted and DSACKed (client), out of order (server)\n"
				hdr = "| path | datapath"; sep = "| --- | ---"
				for (i = 1; i <= ng; i++) { hdr = hdr " | " gm[i]; sep = sep " | ---" }
				print hdr " |"; print sep " |"
				np = split("bridge snat dnat direct bridge6 snat6 dnat6 direct6", gpaths, " ")
				nd = split("bpf kernel kernel-rfs ceiling ceiling-rfs", gdps, " ")
				for (p = 1; p <= np; p++) for (d = 1; d <= nd; d++) {
					row = ""; any = 0
					for (i = 1; i <= ng; i++) {
						k = gpaths[p] SUBSEP gdps[d] SUBSEP gm[i]
						if (k in med) any = 1
						row = row " | " cell(k)
					}
					if (any) printf "| %s | %s%s |\n", gpaths[p], gdps[d], row
				}
			}
			print "\n## Connection tracking: udp_pps through SNAT by concurrent flows\n"
			print "| metric | bpf | kernel | bpf/kernel |"
			print "| --- | --- | --- | --- |"
			for (i = 1; i <= nc; i++) {
				b = "ct" SUBSEP "bpf" SUBSEP ctm[i]; kk = "ct" SUBSEP "kernel" SUBSEP ctm[i]
				printf "| %s | %s | %s | %s |\n", ctm[i], cell(b), cell(kk), ratio(b, kk)
			}
			one = "ct" SUBSEP "bpf" SUBSEP "udp_pps_1flow"; mil = "ct" SUBSEP "bpf" SUBSEP "udp_pps_1mflows"
			if (ratio(mil, one) != "–")
				printf "\nbpf at 1M flows against its own 1 flow (paired by round): %s.\n", ratio(mil, one)
			printf "\nThe kernel datapath tracks at most nf_conntrack_max = %s connections (a global setting\n", nfmax
			print "the benchmark does not touch); beyond that it evicts connections that never saw a reply to"
			print "admit new ones (early drop). fwd'"'"'s lab has `conntrack max 1048576` and holds the million.\n"
			print "## Setup: `fwdctl up/down` against the tutorial, one command per step\n"
			print "| metric | fwdctl | ip-commands | fwdctl/ip-commands |"
			print "| --- | --- | --- | --- |"
			for (i = 1; i <= ns; i++) {
				f = "setup" SUBSEP "fwdctl" SUBSEP sm[i]; ip = "setup" SUBSEP "ip-commands" SUBSEP sm[i]
				printf "| %s | %s | %s | %s |\n", sm[i], cell(f), cell(ip), ratio(f, ip)
			}
			# *_dual_s: the same namespaces dual-stack, against the IPv4-only file
			nd = 0
			for (i = 1; i <= ns; i++) {
				if (sm[i] !~ /_dual_s$/) continue
				v4 = sm[i]; sub(/_dual_s$/, "_s", v4)
				f = "setup" SUBSEP "fwdctl" SUBSEP sm[i]; f4 = "setup" SUBSEP "fwdctl" SUBSEP v4
				if (ratio(f, f4) == "–") continue
				if (!nd++) print "\nDual-stack against IPv4-only, fwdctl (paired by round):\n"
				printf "- %s / %s: %s\n", sm[i], v4, ratio(f, f4)
			}
		}' "$STATS"
	if grep -q '^failure=' "$META"; then
		echo
		echo "## Failures"
		echo
		sed -n 's/^failure=/- /p' "$META"
	fi
	echo
	echo "Samples: \`results.json\` (\`runs\`, \`rounds\`), \`raw.tsv\`; the run's log: \`bench.log\`."
} >"$OUT/results.md" || exit 1

# results.png: data files for bench/plot.gp (NaN where a value is missing).
awk -F'\t' -v dir="$STATS" "$AWK_LIB"'
	{ k = $1 SUBSEP $2 SUBSEP $3; med[k] = $5; samples[k] = $9; rounds[k] = $10
	  if ($1 != "ct" && $1 != "setup" && $1 != "direct" && $1 != "direct6" && $4 != "segments" && $4 != "%" && !(($1, $3) in s)) { s[$1, $3] = 1; tl[++nt] = $1 " " $3 }
	  if ($1 == "ct" && !($3 in c)) { c[$3] = 1; cl[++nc] = $3 }
	  if ($1 == "setup" && !($3 in u)) { u[$3] = 1; ul[++nu] = $3 } }
	function get(k, scale) { return (k in med) ? med[k] / scale : "NaN" }
	function rel(a, b,    r) { r = ratio_of(a, b); return r == "" ? "NaN" : r }
	END {
		for (i = 1; i <= nt; i++) {
			split(tl[i], pm, " "); d = (pm[1] ~ /6$/ ? "direct6" : "direct") SUBSEP "ceiling" SUBSEP pm[2]
			printf "\"%s\\n%s\" %s %s\n", pm[1], pm[2], rel(pm[1] SUBSEP "kernel" SUBSEP pm[2], d),
				rel(pm[1] SUBSEP "bpf" SUBSEP pm[2], d) > (dir ".traffic")
		}
		for (i = 1; i <= nc; i++)
			printf "\"%s\" %s %s\n", cl[i], get("ct" SUBSEP "kernel" SUBSEP cl[i], 1e6),
				get("ct" SUBSEP "bpf" SUBSEP cl[i], 1e6) > (dir ".ct")
		for (i = 1; i <= nu; i++)
			printf "\"%s\" %s %s\n", ul[i], get("setup" SUBSEP "ip-commands" SUBSEP ul[i], 1),
				get("setup" SUBSEP "fwdctl" SUBSEP ul[i], 1) > (dir ".setup")
	}' "$STATS"
has=
for f in traffic ct setup; do
	[ -s "$STATS.$f" ] || echo '"none" NaN NaN' >"$STATS.$f"
	# any number but NaN in the value columns?
	has="$has has_$f=$(awk '$2 != "NaN" || $3 != "NaN" { n = 1 } END { print n + 0 }' "$STATS.$f");"
done
if command -v gnuplot >/dev/null; then
	gnuplot -e "traffic='$STATS.traffic'; ct='$STATS.ct'; setup='$STATS.setup'; out='$OUT/results.png'; $has" \
		"$HERE/plot.gp" 2>"$STATS.gnuplot" || { cat "$STATS.gnuplot" >&2; echo "bench: gnuplot failed" >&2; exit 1; }
else
	echo "bench: gnuplot not installed: no results.png" >&2
fi
exit 0

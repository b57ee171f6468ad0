# SPDX-License-Identifier: GPL-2.0
# bench/plot.gp — results.png from the data files bench/report.sh writes. Variables (gnuplot -e):
#   traffic  "path\nmetric" kernel/ceiling bpf/ceiling   (ratios of medians)
#   ct       metric kernel_Mpps bpf_Mpps
#   setup    metric ip-commands_s fwdctl_s
#   out      the PNG to write
#   has_traffic, has_ct, has_setup  1 when that file holds at least one number
# A panel without data says so instead of failing on an empty range.
set terminal pngcairo size 1400,1300 font ",10" noenhanced
set output out
set datafile missing "NaN"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set key top right
set multiplot layout 3,1 title "fwd benchmark: datapath bpf vs datapath kernel vs a direct veth pair"

empty_panel = "set xrange [0:1]; set yrange [0:1]; unset xtics; unset ytics; unset ylabel; \
	set label 1 'not measured in this run' at 0.5,0.5 center; plot 2 notitle; \
	unset label 1; set autoscale; set ytics; set xtics"

set title "Relative to the direct veth pair (throughput, rates: higher is better; rr latency: lower is better)"
set ylabel "median / ceiling median"
set yrange [0:*]
set xtics font ",8"
if (has_traffic) {
	plot traffic using 2:xtic(1) title "kernel" lc rgb "#7f7f7f", \
	     '' using 3 title "bpf" lc rgb "#1f77b4", \
	     1 with lines dt 2 lc rgb "black" notitle
} else {
	eval empty_panel
}

set title "Connection tracking: UDP through SNAT by concurrent flows"
set ylabel "Mpps at the receiver"
set yrange [0:*]
set xtics font ",10"
if (has_ct) {
	plot ct using 2:xtic(1) title "kernel" lc rgb "#7f7f7f", \
	     '' using 3 title "bpf" lc rgb "#1f77b4"
} else {
	eval empty_panel
}

set title "Setup and teardown (lower is better)"
set ylabel "seconds"
set yrange [0:*]
if (has_setup) {
	plot setup using 2:xtic(1) title "ip commands (tutorial)" lc rgb "#7f7f7f", \
	     '' using 3 title "fwdctl" lc rgb "#1f77b4"
} else {
	eval empty_panel
}
unset multiplot

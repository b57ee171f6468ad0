#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/run.sh BUILD [--quick] — the driver of `make bench` (issue #6).
#
# Builds the benchmark lab twice, `datapath bpf` and `datapath kernel`, each in its own sandbox
# (host + LAN namespaces), both up at the same time, plus a direct veth pair (the ceiling). Then,
# round after round, with the order of the variants rotated every round, it measures on the
# paths bridge (namespace -> namespace), snat (namespace -> LAN) and dnat (LAN -> uplink:port ->
# namespace): one iperf3 stream, sockperf TCP ping-pong, connect/request/response/close (crr),
# 18-byte UDP datagrams counted by XDP at the receiver (udp_blast + xdp_count) and 64-byte frames
# pushed by BPF_PROG_TEST_RUN live frames (live_frames). The run raises the host-wide RFS table
# (net.core.rps_sock_flow_entries, restored afterwards), so fwdctl gives the labs' host-side veths
# flow tables (RFS, issue 18); the kernel lab is then measured as the tutorial builds it (its
# veths' tables taken away) and, for one iperf3 stream, with the same RFS as fwd's (variant
# kernel-rfs), beside the ceiling with RFS on both ends (ceiling-rfs). Then the connection tracker with 1, 100k
# and 1M UDP flows through SNAT, and finally the setup time of fwdctl up/down against the
# tutorial's one-command-per-step script (ip-commands-lab.sh) for 100 and 1000 namespaces.
#
# Results go to bench/results/latest/: results.json, results.md, results.png, bench.log.
# The lab is built by BUILD/fwdctl when it exists (FWDCTL=path overrides); without it the kernel
# variant is built by ip-commands-lab.sh (the same recipe) and the bpf variant is skipped.
#
# Environment: BENCH_ROUNDS, BENCH_DURATION (seconds per measurement), BENCH_COUNT_DURATION
# (seconds of the datagram and frame counts, default BENCH_DURATION), BENCH_ONLY (any of
# "traffic ct setup"), BENCH_FAMILIES ("4 6": IPv6 adds the paths bridge6, snat6, dnat6 and
# direct6, on labs whose fwdctl has IPv6; "4": IPv4 only), BENCH_SETUP_SIZES (e.g. "100 1000"),
# BENCH_CT_FLOWS (e.g. "1 100000"),
# BENCH_LAB_TIMEOUT (seconds for one up or down), BENCH_GSO_MAX (gso_ipv4_max_size of the
# uplinks and the ceiling, 196608; 65536: BIG TCP off), BENCH_GSO6_MAX (gso_max_size, IPv6
# BIG TCP, of the ceiling and fwd's uplinks, 196608; the kernel lab's stays 65536),
# BENCH_OUT (instead of results/latest),
# BENCH_PROG_COST=1 (kernel.bpf_stats_enabled on for the run and back to what it was after:
# each datagram and frame count of a fwd lab also records its programs' mean run time in the
# window, METRIC_prog_ns, ns per run; the stats cost every program run, so the run's packet
# rates are not the ones to quote), BENCH_RFS_TABLE (the host-wide RFS table for the run, 32768;
# 0: leave it as it is and measure without the RFS variants).
# bench/run.sh --cleanup removes what an interrupted (killed) run may have left behind.
#
# bench/run.sh BUILD --compare OLD_FWDCTL [--quick] — the run of `make bench-compare`
# (bench/compare.sh): instead of the kernel datapath and the ceiling, datapath bpf built by
# OLD_FWDCTL (variant "old", setup builder "fwdctl-old") beside this tree's (variant "bpf",
# builder "fwdctl"), measured round by round in the same way; the table is
# bench/compare-report.sh's (compare.md), in BENCH_OUT (default bench/results/compare).
#
# Exit status: 0 when every variant that could run produced results, 1 on a runtime failure,
# 2 on usage errors.
set -u
set -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() {
	echo "usage: bench/run.sh BUILD_DIR [--quick] [--compare OLD_FWDCTL] | bench/run.sh --cleanup" >&2
	exit 2
}

# Every name this driver creates; --cleanup and the trap remove exactly these.
OUR_NS_RE='^fwdb[bkcso]-'
OUR_TOPOLOGIES="fwdbb fwdbk fwdbs fwdbo"

QUICK=0 CLEANUP_ONLY=0 BUILD='' OLD_FWDCTL='' next_is_old=0
for a in "$@"; do
	if [ $next_is_old = 1 ]; then
		OLD_FWDCTL=$a next_is_old=0
		continue
	fi
	case $a in
	--quick) QUICK=1 ;;
	--compare) next_is_old=1 ;;
	--cleanup) CLEANUP_ONLY=1 ;;
	-h | --help) sed -n '3,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) usage ;;
	*) [ -z "$BUILD" ] || usage; BUILD=$a ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "bench: needs root (namespaces, BPF)" >&2; exit 1; }

# shellcheck source=lab.sh
. "$HERE/lab.sh"

WORK=

# --- processes: every one bounded by timeout(1), in its own process group -------------------

# bg_run NS LIMIT_S LOGFILE CMD...: start CMD inside NS in the background, for LIMIT_S seconds
# at most; SANDBOX_LAST is its pid (timeout's, which passes signals on), sandbox_stop ends it.
# Without the lock's descriptor: a server left by a killed run must not keep --cleanup out.
bg_run() {
	local ns=$1 lim=$2 out=$3
	shift 3
	sandbox_spawn "$ns" "$out" timeout -k 2 "$lim" "$@" 9>&-
}

# BENCH_PROG_COST: kernel.bpf_stats_enabled as it was before the run ('' when untouched).
STATS_WAS=''
# net.core.rps_sock_flow_entries as it was before the run ('' when untouched).
RFS_WAS=''
# libxdp's bpffs directory, which the dnat frame row's XDP fast path makes when it is not there
# (and leaves, empty): one this run made goes in cleanup.
[ -d /sys/fs/bpf/xdp ] && XDP_DIR_WAS=1 || XDP_DIR_WAS=''

# prog_stats DATAPATH: "RUN_TIME_NS RUN_CNT" summed over the programs a fwd lab pinned.
prog_stats() {
	local x=${1:0:1} pin t=0 c=0 line
	for pin in /sys/fs/bpf/fwd/fwdb"$x"/*; do
		line=$(bpftool -j prog show pinned "$pin" 2>/dev/null | python3 -c '
import json, sys
p = json.load(sys.stdin)
print(p.get("run_time_ns", 0), p.get("run_cnt", 0))' 2>/dev/null) || continue
		t=$((t + ${line% *})) c=$((c + ${line#* }))
	done
	echo "$t $c"
}

# shellcheck disable=SC2317 # the EXIT trap calls it
cleanup() {
	local h
	trap - EXIT INT TERM HUP
	[ -n "$STATS_WAS" ] && sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS"
	[ -n "$RFS_WAS" ] && sysctl -qw net.core.rps_sock_flow_entries="$RFS_WAS"
	sandbox_stop_all TERM
	for h in "${!LABS[@]}"; do lab_down "$h" >/dev/null 2>&1; done
	# every namespace recorded, newest first, and any of ours, with what still runs inside
	# (started by this run: an earlier run's namespaces stop a run before it starts)
	sandbox_cleanup "$OUR_NS_RE"
	# shellcheck disable=SC2086 # a list of names
	sandbox_fwd_forget $OUR_TOPOLOGIES
	[ -n "$XDP_DIR_WAS" ] || rmdir /sys/fs/bpf/xdp 2>/dev/null
	[ -z "$WORK" ] || rm -rf "$WORK"
}

cleanup_leftovers() {
	local ns t
	for ns in $(sandbox_namespaces "$OUR_NS_RE"); do
		sandbox_remove "$ns"
		[ -e "/run/netns/$ns" ] || echo "bench: removed namespace $ns"
	done
	# fwd's pins and state files: their namespaces are gone, so there is nothing to take down
	for t in $OUR_TOPOLOGIES; do
		compgen -G "/sys/fs/bpf/fwd/$t" >/dev/null || compgen -G "/run/fwd/$t.*" >/dev/null || continue
		sandbox_fwd_forget "$t"
		echo "bench: removed fwd's pins and state of topology $t"
	done
	return 0
}

# One run at a time: two would share namespace names and tear down each other's labs.
LOCK=/run/lock/fwd-bench.lock
exec 9>"$LOCK" || exit 1
flock -n 9 || { echo "bench: another bench/run.sh is running (lock $LOCK)" >&2; exit 1; }

if [ $CLEANUP_ONLY = 1 ]; then
	cleanup_leftovers
	exit 0
fi
if [ -z "$BUILD" ] || [ $next_is_old = 1 ]; then usage; fi
BUILD=$(cd "$BUILD" && pwd) || exit 2
TOOLS=$BUILD/bench
LINK_GSO=$BUILD/tests/tools/link_gso # sets gso_ipv4_max_size, which iproute2 6.1 cannot
FWDCTL=${FWDCTL:-$BUILD/fwdctl}
OUT=${BENCH_OUT:-$HERE/results/latest}
COMPARE=0
if [ -n "$OLD_FWDCTL" ]; then
	[ -x "$OLD_FWDCTL" ] || { echo "bench: --compare $OLD_FWDCTL: not an executable" >&2; exit 2; }
	COMPARE=1 OUT=${BENCH_OUT:-$HERE/results/compare}
fi

if [ -n "$(sandbox_namespaces "$OUR_NS_RE")" ]; then
	echo "bench: namespaces of an earlier run still exist (ip netns list | grep fwdb); remove them with bench/run.sh --cleanup" >&2
	exit 1
fi

# --- packages -------------------------------------------------------------------------------
PKGS="iperf3 sockperf gnuplot-nox ethtool jq conntrack iproute2 iptables iputils-ping"
missing=()
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "bench: installing Debian packages: ${missing[*]}"
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; } ||
		{ echo "bench: could not install: ${missing[*]}" >&2; exit 1; }
fi
for t in crr udp_blast xdp_count live_frames; do
	[ -x "$TOOLS/$t" ] || { echo "bench: $TOOLS/$t missing: run 'make bench-tools'" >&2; exit 1; }
done
[ -x "$LINK_GSO" ] || { echo "bench: $LINK_GSO missing: run 'make'" >&2; exit 1; }

WORK=$(mktemp -d /tmp/fwdbench.XXXXXX)
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM HUP
if [ "${BENCH_PROG_COST:-0}" = 1 ]; then
	STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled) || exit 1
	sysctl -qw kernel.bpf_stats_enabled=1 || { STATS_WAS=''; echo "bench: cannot switch kernel.bpf_stats_enabled on" >&2; exit 1; }
fi
RFS_TABLE=${BENCH_RFS_TABLE:-32768}
if [ "$RFS_TABLE" != 0 ]; then
	RFS_WAS=$(sysctl -n net.core.rps_sock_flow_entries) || exit 1
	sysctl -qw net.core.rps_sock_flow_entries="$RFS_TABLE" || { RFS_WAS=''; echo "bench: cannot set net.core.rps_sock_flow_entries" >&2; exit 1; }
fi
mkdir -p "$OUT"
# a run that fails half-way must not leave the previous run's numbers looking current
rm -f "$OUT/results.json" "$OUT/results.md" "$OUT/results.png" "$OUT/raw.tsv" "$OUT/compare.md"
RAW=$WORK/raw.tsv META=$WORK/meta
: >"$RAW"
exec 3>&2 2> >(tee "$OUT/bench.log" >&3)

if [ $QUICK = 1 ]; then
	ROUNDS=${BENCH_ROUNDS:-3} D=${BENCH_DURATION:-1}
	SETUP_SIZES=${BENCH_SETUP_SIZES:-100} SETUP_ROUNDS=1 CT_ROUNDS=1
	SETUP_MANY=${BENCH_SETUP_MANY-}
	# a comparison pairs every row: setup and conntrack need rounds of their own
	[ $COMPARE = 1 ] && SETUP_ROUNDS=${BENCH_ROUNDS:-3} CT_ROUNDS=${BENCH_ROUNDS:-3}
else
	ROUNDS=${BENCH_ROUNDS:-5} D=${BENCH_DURATION:-5}
	SETUP_SIZES=${BENCH_SETUP_SIZES:-100 1000} SETUP_ROUNDS=3 CT_ROUNDS=3
	SETUP_MANY=${BENCH_SETUP_MANY-10x1000}
fi
# Quick mode leaves out the million flows: filling both tables takes ~18 s, the price of a 4th
# crr round and then some.
if [ $QUICK = 1 ]; then CT_FLOWS=${BENCH_CT_FLOWS:-1 100000}; else CT_FLOWS=${BENCH_CT_FLOWS:-1 100000 1000000}; fi
METRICS=${BENCH_METRICS:-tcp rr crr udp frame}
# Rounds per metric. This VM runs in phases: for seconds at a time every path is ~40% faster
# or slower (the direct pair alone gave 18-19 then 13 Gbit/s in consecutive 2 s runs). A
# phase change inside a round moves some variants and not others, so what makes a median hold
# is the number of rounds, not their length. The quick mode spends its time where the bars
# are tight: iperf3, ping-pong and crr get 4 rounds (a sockperf run sleeps 2 s before it
# starts, whatever -t says; an iperf3 run also streams for TCP_OMIT s uncounted).
declare -A M_ROUNDS=([tcp]=$ROUNDS [rr]=$ROUNDS)
if [ $QUICK = 1 ] && [ -z "${BENCH_ROUNDS:-}" ]; then
	M_ROUNDS=([tcp]=4 [rr]=4 [crr]=4)
fi
rounds_of() { echo "${M_ROUNDS[$1]:-$ROUNDS}"; }
MAX_ROUNDS=$ROUNDS
for m in $METRICS; do
	[ "$(rounds_of "$m")" -le "$MAX_ROUNDS" ] || MAX_ROUNDS=$(rounds_of "$m")
done
TCP_D=$D
# The counting window of datagrams and frames. A comparison pairs two copies of one datapath:
# with 1 s windows the frame rate's per-round ratio ranged from 0.69 to 1.82 between two trees
# whose BPF programs differed in formatting only (9 rounds). Its windows are 3 s long.
COUNT_D=${BENCH_COUNT_DURATION:-$D}
[ $COMPARE = 1 ] && [ "$D" -lt 3 ] && COUNT_D=${BENCH_COUNT_DURATION:-3}
# iperf3 --omit: the first second of a stream (slow start, buffer autotuning, which ramp up more
# slowly the longer a path's round trip) is run but not counted, in every variant alike.
TCP_OMIT=${BENCH_TCP_OMIT:-1}
# CPU placement. Ping-pong client and server share one CPU: on a small VM a cross-CPU wakeup
# (an IPI through the hypervisor) costs ~10 us per hop and its jitter buries the datapath's
# few microseconds; on one CPU the round trip is the two stacks and the datapath between them.
# The iperf3 sender and receiver get a CPU each so the scheduler cannot stack them.
RR_CPU=${BENCH_RR_CPU:-1}
# crr is a chain of round trips too (SYN/SYN-ACK, request/response, FIN/FIN): same CPU.
CRR_CPU=${BENCH_CRR_CPU-$RR_CPU}
TCP_CPUS=${BENCH_TCP_CPUS:-0,1}
# BIG TCP: the LAN uplinks and the ceiling's pair get gso_ipv4_max_size GSO_MAX, as a NIC with
# BIG TCP on would have it; fwdctl gives the namespaces' veths their uplink's (ctl/up.c), so the
# three variants build TCP packets of the same size. 65536 is the kernel's default (BIG TCP off).
GSO_MAX=${BENCH_GSO_MAX:-196608}
# IPv6 BIG TCP (gso_max_size) on the ceiling's pair and fwd's uplinks, not on the kernel lab's:
# the kernel's IPv6 forwarding refuses such packets (lab.sh, link_big6). 65536: off everywhere.
GSO6_MAX=${BENCH_GSO6_MAX:-196608}
# Generators (udp_blast, live_frames) on one CPU: with veths the whole path runs in the
# sender's softirq, so a generator that migrates measures the scheduler, not the datapath.
SEND_CPU=${BENCH_SEND_CPU:-0}
# What goes in front of a command to pin it: "${RR_PIN[@]}" sockperf ... (empty: no pinning).
RR_PIN=() CRR_PIN=() SEND_PIN=()
[ -z "$RR_CPU" ] || RR_PIN=(taskset -c "$RR_CPU")
[ -z "$CRR_CPU" ] || CRR_PIN=(taskset -c "$CRR_CPU")
[ -z "$SEND_CPU" ] || SEND_PIN=(taskset -c "$SEND_CPU")
ONLY=${BENCH_ONLY:-traffic ct setup}
# Address families of the traffic rows: 6 adds bridge6, snat6 and dnat6 (and direct6).
FAMILIES=${BENCH_FAMILIES:-4 6}
HAVE_FWDCTL=0
[ -x "$FWDCTL" ] && HAVE_FWDCTL=1
T_START=$SECONDS

{
	echo "date=$(date -u +%FT%TZ)"
	echo "kernel=$(uname -r)"
	echo "cpus=$(nproc)"
	echo "cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "rr_cpu=${RR_CPU:-any}"
	echo "crr_cpu=${CRR_CPU:-any}"
	echo "tcp_cpus=${TCP_CPUS:-any}"
	echo "send_cpu=${SEND_CPU:-any}"
	echo "mode=$([ $QUICK = 1 ] && echo quick || echo full)"
	echo "rounds=$ROUNDS"
	for m in $METRICS; do echo "rounds_$m=$(rounds_of "$m")"; done
	echo "duration_s=$D"
	echo "tcp_omit_s=$TCP_OMIT"
	# 0: this kernel has no such setting (before 6.3; lo is only read), every link stays at 64 KiB
	echo "gso_ipv4_max_size=$([ "$("$LINK_GSO" lo)" = 0 ] && echo 0 || echo "$GSO_MAX")"
	echo "gso_max_size=$GSO6_MAX"
	echo "fwdctl=$([ $HAVE_FWDCTL = 1 ] && echo "$FWDCTL" || echo none)"
	if [ $COMPARE = 1 ]; then
		echo "old_fwdctl=$OLD_FWDCTL"
		echo "new=${BENCH_COMPARE_NEW:-$FWDCTL}"
		echo "old=${BENCH_COMPARE_OLD:-$OLD_FWDCTL}"
	fi
	echo "nf_conntrack_max=$(cat /proc/sys/net/netfilter/nf_conntrack_max 2>/dev/null || echo '?')"
	echo "rfs_table=$(sysctl -n net.core.rps_sock_flow_entries)"
	echo "rfs_table_was=${RFS_WAS:-$RFS_TABLE}"
} >"$META"

# record PATH DATAPATH METRIC UNIT VALUE, in round ROUND: report.sh pairs the variants' samples
# of one round to compute their ratios.
ROUND=0
record() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" "$ROUND" >>"$RAW"
	log "  $1/$2 $3 = $5 $4"
}

fail() {
	log "  FAILED: $*"
	echo "$*" >>"$WORK/failures"
	return 1
}

# --- endpoints of a (variant, path) ---------------------------------------------------------
# Sets CNS/SNS (client and server namespaces), DST (what the client addresses), RIF (receiver's
# interface), GEN_* (frame generator: namespace, interface, MACs, addresses) and GRO_NS/GRO_IF
# (the veth that must take XDP frames in NAPI mode: GRO on it, or the frames are dropped).
endpoints() {
	local v=${1%-rfs} p=$2 x
	v=${v%-skb}
	GRO_NS='' GRO_IF=''
	if [ "$v" = ceiling ]; then
		CNS=fwdbc-a SNS=fwdbc-b DST=192.168.16.2 RIF=eth0
		[ "$p" = direct6 ] && DST=fd00:16::2
		GEN_NS=fwdbc-a GEN_IF=eth0 GEN_SMAC=${F[c:a_mac]} GEN_DMAC=${F[c:b_mac]}
		GEN_SRC=192.168.16.1 GEN_DST=192.168.16.2
		return 0
	fi
	x=${v:0:1}
	case $p in
	bridge)
		CNS=${F[$x:red]} SNS=${F[$x:blue]} DST=${F[$x:blue_addr]} RIF=${F[$x:blue_if]}
		GEN_NS=$CNS GEN_IF=${F[$x:red_if]} GEN_SMAC=${F[$x:red_mac]} GEN_DMAC=${F[$x:blue_mac]}
		GEN_SRC=${F[$x:red_addr]} GEN_DST=$DST GRO_NS=${F[$x:host]} GRO_IF=${F[$x:red_peer]}
		;;
	snat)
		CNS=${F[$x:red]} SNS=${F[$x:lan]} DST=${F[$x:lan_addr]} RIF=${F[$x:lan_if]}
		GEN_NS=$CNS GEN_IF=${F[$x:red_if]} GEN_SMAC=${F[$x:red_mac]} GEN_DMAC=${F[$x:br_mac]}
		GEN_SRC=${F[$x:red_addr]} GEN_DST=$DST GRO_NS=${F[$x:host]} GRO_IF=${F[$x:red_peer]}
		;;
	dnat)
		CNS=${F[$x:lan]} SNS=${F[$x:blue]} DST=${F[$x:up_addr]} RIF=${F[$x:blue_if]}
		GEN_NS=$CNS GEN_IF=${F[$x:lan_if]} GEN_SMAC=${F[$x:lan_mac]} GEN_DMAC=${F[$x:up_mac]}
		GEN_SRC=${F[$x:lan_addr]} GEN_DST=$DST GRO_NS=${F[$x:host]} GRO_IF=up0
		;;
	# IPv6 (no frame generator: the frame rows are IPv4's)
	bridge6) CNS=${F[$x:red]} SNS=${F[$x:blue]} DST=${F[$x:blue_addr6]} RIF=${F[$x:blue_if]} ;;
	snat6) CNS=${F[$x:red]} SNS=${F[$x:lan]} DST=${F[$x:lan_addr6]} RIF=${F[$x:lan_if]} ;;
	dnat6) CNS=${F[$x:lan]} SNS=${F[$x:blue]} DST=${F[$x:up_addr6]} RIF=${F[$x:blue_if]} ;;
	esac
}

# neigh_unfail VARIANT: no neighbour entry FAILED in the variant's namespaces. Under a saturating
# stream the unicast probes of an entry that only receives can be lost (the receiver's ACKs
# confirm no neighbour), and on Linux 6.18 the next packet to a FAILED entry is answered with
# "address unreachable" a second later instead of a solicitation: the next row's first
# handshake then failed (iperf3 "No route to host", crr -k's connect timeout), on datapath
# kernel as on bpf, from the second round of a full run on. Each row starts without them.
neigh_unfail() {
	local ns x=${1:0:1}
	if [ "${1%-*}" = ceiling ]; then
		set -- fwdbc-a fwdbc-b
	else
		set -- "${F[$x:host]}" "${F[$x:lan]}" "${F[$x:red]}" "${F[$x:blue]}"
	fi
	for ns in "$@"; do
		ip -n "$ns" neigh flush nud failed 2>/dev/null || true
	done
}

# The flow tables fwdctl gave the kernel lab ("NAMESPACE IFNAME N" lines): kernel-rfs puts them
# back for its measurement, the tutorial's kernel runs without.
RFS_KERNEL_SAVED=''

# rfs_links VARIANT: "NAMESPACE IFNAME" of the receive queues RFS steers in that variant: every
# veth of the lab's host namespace (the host-side veths, and the uplink, given flow tables by
# `tuning rfs`), or both ends of the ceiling's pair.
rfs_links() {
	local ns nss
	if [ "${1%-rfs}" = ceiling ]; then nss="fwdbc-a fwdbc-b"; else nss=${F[${1:0:1}:host]}; fi
	for ns in $nss; do
		ip -n "$ns" -o link show type veth | awk -F': ' -v ns="$ns" '{ sub("@.*", "", $2); print ns, $2 }'
	done
}

# rfs_write NAMESPACE IFNAME N: its first receive queue remembers N flows (0: no RFS there).
rfs_write() {
	ip netns exec "$1" sh -c "echo $3 >/sys/class/net/$2/queues/rx-0/rps_flow_cnt" ||
		{ fail "cannot set rps_flow_cnt of $1 $2"; return 1; }
}

# rfs_set VARIANT N: every queue of rfs_links at N flows (256: FWD_RFS_FLOW_CNT, what fwdctl
# gives a host-side veth); for kernel-rfs and N > 0, fwdctl's own tables (RFS_KERNEL_SAVED).
rfs_set() {
	local ns ifc n
	if [ "$1" = kernel-rfs ] && [ "$2" != 0 ]; then
		while read -r ns ifc n; do rfs_write "$ns" "$ifc" "$n" || return 1; done <<<"$RFS_KERNEL_SAVED"
		return 0
	fi
	while read -r ns ifc; do rfs_write "$ns" "$ifc" "$2" || return 1; done < <(rfs_links "$1")
}

# Is path $1 one of the IPv6 ones (bridge6, snat6, dnat6, direct6)?
# shellcheck disable=SC2317 # called by the m_* functions
is_path6() { [ "${1: -1}" = 6 ]; }

# --- the measurements; each prints nothing, records its samples, returns 1 on failure ------
# Arguments: PATH DATAPATH (after endpoints()).

# TCP counters of namespace $1, as "retransmitted DSACKed out-of-order" segments since it was
# made: Tcp RetransSegs (/proc/net/snmp), TcpExt TCPDSACKRecvSegs and TCPOFOQueue
# (/proc/net/netstat). Each file has a line of names, then one of values, per prefix.
# shellcheck disable=SC2317,SC2016 # called by m_tcp; the awk program is awk's
tcp_counters() {
	ip netns exec "$1" awk '
		/^(Tcp|TcpExt):/ {
			k = FILENAME $1
			if (!(k in names)) { names[k] = 1; for (i = 2; i <= NF; i++) name[k, i] = $i; next }
			for (i = 2; i <= NF; i++) v[$1 name[k, i]] = $i
		}
		END { printf "%.0f %.0f %.0f\n", v["Tcp:RetransSegs"], v["TcpExt:TCPDSACKRecvSegs"], v["TcpExt:TCPOFOQueue"] }
	' /proc/net/snmp /proc/net/netstat
}

# shellcheck disable=SC2317 # called as "m_$m"
m_tcp() {
	local out v pid c0 c1 s0 s1
	bg_run "$SNS" $((TCP_D + TCP_OMIT + 20)) "$WORK/iperf3-s.log" iperf3 -s -1 -p "$PORT_IPERF"
	pid=$SANDBOX_LAST
	wait_for 5000 listening "$SNS" tcp "$PORT_IPERF" || { sandbox_stop "$pid" TERM; fail "$1/$2 tcp: iperf3 server did not listen"; return 1; }
	read -ra c0 <<<"$(tcp_counters "$CNS")"
	read -ra s0 <<<"$(tcp_counters "$SNS")"
	out=$(ip netns exec "$CNS" timeout -k 2 $((TCP_D + TCP_OMIT + 15)) iperf3 -c "$DST" -p "$PORT_IPERF" -t "$TCP_D" -O "$TCP_OMIT" ${TCP_CPUS:+-A "$TCP_CPUS"} -J 2>&1)
	read -ra c1 <<<"$(tcp_counters "$CNS")"
	read -ra s1 <<<"$(tcp_counters "$SNS")"
	sandbox_stop "$pid" TERM
	v=$(jq -er '.end.sum_received.bits_per_second / 1e9 * 1000 | round / 1000' <<<"$out" 2>/dev/null) ||
		{ fail "$1/$2 tcp: iperf3: $(jq -r '.error // empty' <<<"$out" 2>/dev/null | head -c 200)"; return 1; }
	record "$1" "$2" tcp_gbps Gbit/s "$v"
	# The whole run, its uncounted first second too: the client sends, the server receives.
	record "$1" "$2" tcp_retrans segments $((c1[0] - c0[0]))
	record "$1" "$2" tcp_dsack segments $((c1[1] - c0[1]))
	record "$1" "$2" tcp_ofo segments $((s1[2] - s0[2]))
}

# IPv6 ping-pong: crr -k (Debian 12's sockperf 3.7 has no IPv6) with the same CPU placement and
# port, 64-byte requests and responses. Its round trips are not sockperf's: compare IPv6 rows
# with each other, not with IPv4's.
# shellcheck disable=SC2317 # called by m_rr
m_rr6() {
	local out p50 p99 pid ready=$WORK/rr6.ready
	rm -f "$ready"
	bg_run "$SNS" $((D + 20)) "$WORK/rr6-s.log" "${RR_PIN[@]}" "$TOOLS/crr" server -k -p "$PORT_SOCKPERF" -t $((D + 10)) -R "$ready"
	pid=$SANDBOX_LAST
	wait_for 5000 test -e "$ready" || { sandbox_stop "$pid" TERM; fail "$1/$2 rr: crr -k server not ready"; return 1; }
	out=$(ip netns exec "$CNS" timeout -k 2 $((D + 10)) "${RR_PIN[@]}" "$TOOLS/crr" client -k -a "$DST" -p "$PORT_SOCKPERF" -t "$D" 2>&1)
	sandbox_stop "$pid" TERM
	p50=$(sed -n 's/.*p50_us=\([0-9.]*\).*/\1/p' <<<"$out")
	p99=$(sed -n 's/.*p99_us=\([0-9.]*\).*/\1/p' <<<"$out")
	if [ -z "$p50" ] || [ -z "$p99" ]; then
		fail "$1/$2 rr: crr -k: $out"
		return 1
	fi
	record "$1" "$2" rr_p50_us us "$p50"
	record "$1" "$2" rr_p99_us us "$p99"
}

# shellcheck disable=SC2317 # called as "m_$m"
m_rr() {
	local out p50 p99 pid
	is_path6 "$1" && { m_rr6 "$@"; return; }
	bg_run "$SNS" $((D + 20)) "$WORK/sockperf-s.log" "${RR_PIN[@]}" sockperf sr --tcp -i 0.0.0.0 -p "$PORT_SOCKPERF"
	pid=$SANDBOX_LAST
	wait_for 5000 listening "$SNS" tcp "$PORT_SOCKPERF" || { sandbox_stop "$pid" TERM; fail "$1/$2 rr: sockperf server did not listen"; return 1; }
	# --full-rtt: round trips, not sockperf's default of half of them
	out=$(ip netns exec "$CNS" timeout -k 2 $((D + 15)) "${RR_PIN[@]}" sockperf pp --tcp -i "$DST" -p "$PORT_SOCKPERF" -t "$D" --full-rtt 2>&1)
	sandbox_stop "$pid" TERM
	p50=$(awk '/percentile 50.000 =/ { print $NF }' <<<"$out")
	p99=$(awk '/percentile 99.000 =/ { print $NF }' <<<"$out")
	if [ -z "$p50" ] || [ -z "$p99" ]; then
		fail "$1/$2 rr: sockperf: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
		return 1
	fi
	record "$1" "$2" rr_p50_us us "$p50"
	record "$1" "$2" rr_p99_us us "$p99"
}

# shellcheck disable=SC2317 # called as "m_$m"
m_crr() {
	local out v pid ready=$WORK/crr.ready
	rm -f "$ready"
	bg_run "$SNS" $((D + 20)) "$WORK/crr-s.log" "${CRR_PIN[@]}" "$TOOLS/crr" server -p "$PORT_CRR" -t $((D + 10)) -R "$ready"
	pid=$SANDBOX_LAST
	wait_for 5000 test -e "$ready" || { sandbox_stop "$pid" TERM; fail "$1/$2 crr: server not ready"; return 1; }
	out=$(ip netns exec "$CNS" timeout -k 2 $((D + 10)) "${CRR_PIN[@]}" "$TOOLS/crr" client -a "$DST" -p "$PORT_CRR" -t "$D" 2>&1)
	sandbox_stop "$pid" TERM
	v=$(sed -n 's/.*per_s=\([0-9]*\).*/\1/p' <<<"$out")
	[ -n "$v" ] || { fail "$1/$2 crr: $out"; return 1; }
	record "$1" "$2" crr_per_s conn/s "$v"
}

# count METRIC PORTS START_TIMEOUT GENERATOR...: xdp_count at the receiver (RIF in SNS) for D
# seconds, started once the generator (run in its own namespace, see callers) says it is ready.
count_with() {
	local path=$1 dp=$2 metric=$3 ports=$4 tmo=$5 gen_ns=$6
	shift 6
	local r=$WORK/count.ready s=$WORK/gen.ready cpid gpid out p0='' p1
	rm -f "$r" "$s"
	bg_run "$SNS" $((COUNT_D + tmo + 20)) "$WORK/count.log" "$TOOLS/xdp_count" -i "$RIF" -p "$ports" -d "$COUNT_D" -R "$r" -S "$s" -T "$tmo" "${XC_ARGS[@]}"
	cpid=$SANDBOX_LAST
	wait_for 10000 test -e "$r" || { sandbox_stop "$cpid" TERM; fail "$path/$dp $metric: xdp_count: $(cat "$WORK/count.log")"; return 1; }
	# the generator runs past the window; it is stopped as soon as the count is in
	bg_run "$gen_ns" $((COUNT_D + tmo + 20)) "$WORK/gen.log" "$@" -t $((COUNT_D + tmo + 5)) -R "$s"
	gpid=$SANDBOX_LAST
	# The generator waits for the counter's window: the programs' stats from its start.
	[ -n "$STATS_WAS" ] && [ "$dp" != kernel ] && wait_for 10000 test -e "$s" && p0=$(prog_stats "$dp")
	sandbox_wait "$cpid"
	[ -n "$p0" ] && p1=$(prog_stats "$dp")
	out=$(cat "$WORK/count.log")
	sandbox_stop "$gpid" TERM
	if [ -n "$p0" ] && [ $((${p1#* } - ${p0#* })) -gt 0 ]; then
		record "$path" "$dp" "${metric}_prog_ns" ns "$(awk -v t=$((${p1% *} - ${p0% *})) \
			-v c=$((${p1#* } - ${p0#* })) 'BEGIN { printf "%.1f", t / c }')"
	fi
	grep -q '^pps=' <<<"$out" || { fail "$path/$dp $metric: $out $(cat "$WORK/gen.log")"; return 1; }
	log "    xdp_count: $out"
	record "$path" "$dp" "$metric" pps "$(sed -n 's/^pps=\([0-9]*\).*/\1/p' <<<"$out")"
}

# shellcheck disable=SC2317 # called as "m_$m"
m_udp() {
	count_with "$1" "$2" udp_pps "$PORT_UDP" 10 "$CNS" "${SEND_PIN[@]}" "$TOOLS/udp_blast" -a "$DST" -p "$PORT_UDP"
}

# Extra arguments of xdp_count (the skb ceiling's --no-xdp).
XC_ARGS=()

# fwd_frames VARIANT: "FRAMES XDP": the frames the programs of a fwd lab have seen (the stats'
# total) and how many of them went on from XDP (redirect_xdp, dnat_xdp): which hook carried a
# frame row.
# shellcheck disable=SC2317 # called by m_frame
fwd_frames() {
	"$FWDCTL" -j -n "${F[${1:0:1}:host]}" stats "fwdb${1:0:1}" 2>/dev/null |
		jq -r '"\(.packets) \([.counters[] | select(.name == "redirect_xdp" or .name == "dnat_xdp") | .packets] | add // 0)"'
}

# lab_xdp VARIANT on|off: the fwd lab's UDP forward on the XDP fast path (its line's "xdp") or
# back off, by a re-up of the lab's file (a copy with "xdp" for on). The lab is built without
# it: on a veth uplink an XDP program costs the LAN end its TSO/GSO, which every TCP row from
# the LAN would pay (README, "The XDP fast path on the uplink"). The dnat frame row is measured
# with it, and one TCP stream beside it records that cost (variant bpf-xdp). 1: this fwdctl has
# no xdp forwards.
# shellcheck disable=SC2317 # called by m_frame
lab_xdp() {
	local h=${F[${1:0:1}:host]} builder file bin
	read -r builder file <<<"${LABS[$h]}"
	bin=$(lab_fwdctl "$builder")
	fwdctl_knows "$bin" $'uplink u0\nforward udp 9 n xdp' || return 1
	if [ "$2" = on ]; then
		sed 's/^\(forward udp .*\)$/\1 xdp/' "$file" >"$file.xdp"
		file=$file.xdp
	fi
	timeout -k 5 "$LAB_TIMEOUT" "$bin" -q -n "$h" up "$file" || { fail "$1: xdp $2: up failed"; return 1; }
}

# shellcheck disable=SC2317 # called as "m_$m"
m_frame() {
	local gro_was='' rc f0='' f1 xdp=''
	is_path6 "$1" && return 0 # the frame generator builds IPv4
	XC_ARGS=()
	# The skb ceiling: the direct pair, its receiver taking the frames as skbs (GRO on, the
	# NAPI mode that needs) and counting them at tc ingress, with no XDP program.
	[ "$2" = ceiling-skb ] && GRO_NS=$SNS GRO_IF=$RIF XC_ARGS=(--no-xdp)
	if [ -n "$GRO_IF" ]; then
		gro_was=$(ip netns exec "$GRO_NS" ethtool -k "$GRO_IF" | awk '/^generic-receive-offload:/ { print $2 }')
		ip netns exec "$GRO_NS" ethtool -K "$GRO_IF" gro on ||
			{ fail "$1/$2 frame: cannot enable GRO on $GRO_IF"; return 1; }
	fi
	case $2 in bpf | old) f0=$(fwd_frames "$2") ;; esac
	[ "$1" = dnat ] && [ -n "$f0" ] && lab_xdp "$2" on && xdp=1
	count_with "$1" "$2" frame_pps "$PORT_UDP" 10 "$GEN_NS" "${SEND_PIN[@]}" "$TOOLS/live_frames" -i "$GEN_IF" \
		-m "$GEN_SMAC" -M "$GEN_DMAC" -a "$GEN_SRC" -A "$GEN_DST" -P "$PORT_UDP"
	rc=$?
	XC_ARGS=()
	if [ "$rc" = 0 ] && [ -n "$f0" ] && f1=$(fwd_frames "$2") && [ "${f1% *}" -gt "${f0% *}" ]; then
		record "$1" "$2" frame_xdp_pct % "$(((${f1#* } - ${f0#* }) * 100 / (${f1% *} - ${f0% *})))"
	fi
	# what the XDP program on the (veth) uplink costs one TCP stream from the LAN
	if [ -n "$xdp" ] && [[ " $METRICS " == *" tcp "* ]]; then
		[ -n "$gro_was" ] && ip netns exec "$GRO_NS" ethtool -K "$GRO_IF" gro "$gro_was"
		gro_was=''
		m_tcp "$1" "$2-xdp"
	fi
	[ -n "$gro_was" ] && ip netns exec "$GRO_NS" ethtool -K "$GRO_IF" gro "$gro_was"
	[ -n "$xdp" ] && { lab_xdp "$2" off || rc=1; }
	return "$rc"
}

# Conntrack scale: udp_pps through SNAT with F concurrent flows (datagrams spread over F
# 5-tuples, every flow visited once before the window opens).
m_ct() {
	local dp=$1 flows=$2 x=${1:0:1} label
	endpoints "$dp" snat
	case $flows in
	1) label=1flow ;;
	1000000) label=1mflows ;;
	*) label=$((flows / 1000))kflows ;;
	esac
	# start from an empty table, so earlier runs' flows do not count
	if [ "$dp" = kernel ]; then
		ip netns exec "${F[$x:host]}" conntrack -F >/dev/null 2>&1
	elif [ $HAVE_FWDCTL = 1 ]; then
		"$FWDCTL" -n "${F[$x:host]}" ct "fwdb$x" flush >/dev/null 2>&1
	fi
	count_with ct "$dp" "udp_pps_$label" 10000-65535 120 "$CNS" "${SEND_PIN[@]}" "$TOOLS/udp_blast" -a "$DST" -p 10000 -f "$flows" -P 50000 || return 1
	if [ "$dp" = kernel ]; then
		log "    nf_conntrack_count in ${F[$x:host]}: $(ip netns exec "${F[$x:host]}" cat /proc/sys/net/netfilter/nf_conntrack_count)"
	fi
}

# --- setup: fwdctl against the tutorial's commands ------------------------------------------

# setup_topology N [dual]: the setup benchmark's file; "dual": every namespace dual-stack
# (fd00:96::/64 beside 10.96.0.0/16, masqueraded too), to set beside the IPv4-only up.
setup_topology() {
	local n=$1 dual=${2:-} i
	echo "# written by bench/run.sh: $n namespaces, the setup benchmark${dual:+, dual stack}"
	echo "topology fwdbs"
	echo "datapath bpf"
	echo "bridge vnet0 10.96.0.1/16${dual:+ fd00:96::1/64}"
	echo "uplink up0"
	echo "masquerade 10.96.0.0/16"
	[ -n "$dual" ] && echo "masquerade fd00:96::/64"
	for ((i = 1; i <= n; i++)); do
		printf 'namespace fwdbs-n%04d 10.96.%d.%d%s\n' $i $((i / 200)) $((i % 200 + 10)) \
			"${dual:+ fd00:96::$(printf %x $((i + 1)))}"
	done
	echo "forward tcp 8080 fwdbs-n0001:80"
	echo "forward udp 5353 fwdbs-n0002:53"
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# setup_once BUILDER N FILE [SUFFIX]: time up and down; record both (metrics up_Nns[SUFFIX]_s,
# down_Nns[SUFFIX]_s).
setup_once() {
	local b=$1 n=$2 file=$3 sfx=${4:-} t0 t1 t1b t2 left missing rc
	t0=$(now)
	lab_up s "$b" "$file" >"$WORK/setup.log" 2>&1
	rc=$?
	t1=$(now)
	if [ $rc != 0 ]; then
		fail "setup $b up ${n}ns (exit $rc): $(tail -n 3 "$WORK/setup.log" | tr '\n' ' ')"
		lab_down "${F[s:host]}" >/dev/null 2>&1
	elif ! missing=$(lab_complete "$file"); then
		# a fast up that did not build everything is no result
		fail "setup $b up ${n}ns: exit 0 but $missing"
		lab_down "${F[s:host]}" >/dev/null 2>&1
	else
		record setup "$b" "up_${n}ns${sfx}_s" s "$(elapsed "$t0" "$t1")"
		t1b=$(now)
		lab_down "${F[s:host]}" >"$WORK/setup.log" 2>&1
		rc=$?
		t2=$(now)
		if [ $rc != 0 ]; then
			fail "setup $b down ${n}ns (exit $rc): $(tail -n 3 "$WORK/setup.log" | tr '\n' ' ')"
		elif [ -z "$(lab_leftovers "$file")" ]; then
			record setup "$b" "down_${n}ns${sfx}_s" s "$(elapsed "$t1b" "$t2")"
		else
			fail "setup $b down ${n}ns: exit 0 but namespaces remain"
		fi
	fi
	# whatever a builder left behind must not slow down the next one
	left=0
	for ns in $(topology_namespaces "$file"); do
		[ -e "/run/netns/$ns" ] && { ip netns del "$ns"; left=$((left + 1)); }
	done
	[ $left = 0 ] || log "  $b left $left namespaces behind after down"
	ip -n "${F[s:host]}" link del vnet0 2>/dev/null
	settle_namespaces "${F[s:host]}"
	return 0
}

# Wait (up to 5 minutes) until the kernel has destroyed the namespaces of the last down: their
# host-side veths go last. A namespace's destruction walks every namespace that stays, so the
# next measurement would otherwise pay for the previous round's (`ip netns del` returns at once;
# the kernel works on in the background).
settle_namespaces() {
	local h=$1 t0 n
	t0=$(now)
	for _ in $(seq 1500); do
		n=$(ip -n "$h" -o link show type veth | grep -vc ': up0@')
		[ "$n" = 0 ] && break
		sleep 0.2
	done
	[ "$n" = 0 ] || log "  the kernel still holds $n veths of destroyed namespaces"
	awk -v a="$t0" -v b="$(now)" 'BEGIN { exit !(b - a > 1) }' &&
		log "  waited $(elapsed "$t0" "$(now)") s for the kernel to destroy the last round's namespaces"
	return 0
}

run_setup() {
	local n r b builders
	builders=(ip-commands)
	[ $HAVE_FWDCTL = 1 ] && builders+=(fwdctl)
	[ $COMPARE = 1 ] && builders=(fwdctl fwdctl-old)
	lab_sandbox_create s 3 || { fail "setup sandbox"; return 1; }
	for n in $SETUP_SIZES; do
		setup_topology "$n" >"$WORK/setup-$n.conf"
		setup_topology "$n" dual >"$WORK/setup-$n-dual.conf"
		local rounds=$SETUP_ROUNDS
		[ "$n" -ge 1000 ] && rounds=1
		for ((r = 0; r < rounds; r++)); do
			# alternate which builder goes first
			if ((r % 2)); then b=("${builders[@]}"); else mapfile -t b < <(printf '%s\n' "${builders[@]}" | tac); fi
			ROUND=$((r + 1))
			for bb in "${b[@]}"; do
				log "setup: $bb, $n namespaces (round $((r + 1))/$rounds)"
				setup_once "$bb" "$n" "$WORK/setup-$n.conf"
				# the same namespaces dual-stack, right after (issue 21: at most 1.5x)
				if [ "$bb" = fwdctl ]; then
					log "setup: $bb, $n namespaces dual-stack (round $((r + 1))/$rounds)"
					setup_once "$bb" "$n" "$WORK/setup-$n-dual.conf" _dual
				fi
			done
		done
	done
}

# --- setup at scale: many topologies of many namespaces on one host ------------------------
# BENCH_SETUP_MANY=KxS: K topologies of S namespaces each (full mode: 10x1000, ten topologies
# for 10,000 namespaces, a bridge taking at most 1023 ports), up one after the other into the
# same host namespace, then re-up unchanged, status, a sample of paths, and one down of all of
# them (their namespaces go together: fwdctl(8)). fwdctl only: the
# one-command-per-step script takes minutes per thousand. Rows: the totals, the cost per
# namespace of the first topology (S on an empty host) and of all (K*S), and memory.

many_topology() {
	local t=$1 n=$2 i
	echo "# written by bench/run.sh: topology $t of the setup-at-scale benchmark"
	echo "topology fwdbm$t"
	echo "datapath bpf"
	echo "bridge fwdbm$t 10.$((100 + t)).0.1/16"
	echo "uplink up0"
	echo "masquerade 10.$((100 + t)).0.0/16"
	for ((i = 1; i <= n; i++)); do
		printf 'namespace fwdbm%d-n%04d 10.%d.%d.%d\n' "$t" $i $((100 + t)) $((i / 200)) $((i % 200 + 10))
	done
	echo "forward tcp $((8000 + t)) fwdbm$t-n0001:80"
}

mem_available_kib() { awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo; }

# Memory of fwd's BPF maps (bytes_memlock of every map named fwd_*), in KiB.
bpf_maps_kib() {
	bpftool -j map show 2>/dev/null |
		jq '[.[] | select(.name | startswith("fwd_")) | .bytes_memlock] | add // 0 | . / 1024 | floor'
}

# Paths of a sample of topology $1's namespaces (its first and last, of $2): bridging
# between them, SNAT out to the LAN, DNAT of the topology's forward from the LAN.
many_paths_ok() {
	local t=$1 n=$2 a b last_addr lan=${F[s:lan]} got
	a=fwdbm$t-n0001 b=$(printf 'fwdbm%d-n%04d' "$t" "$n")
	last_addr=10.$((100 + t)).$((n / 200)).$((n % 200 + 10))
	ip netns exec "$a" ping -c 1 -W 2 -q "$last_addr" >/dev/null ||
		{ fail "setup many: $a cannot reach $b"; return 1; }
	ip netns exec "$b" ping -c 1 -W 2 -q "${F[s:lan_addr]}" >/dev/null ||
		{ fail "setup many: $b cannot reach the LAN (SNAT)"; return 1; }
	sandbox_spawn "$a" /dev/null timeout 10 socat -T 3 TCP-LISTEN:80,reuseaddr SYSTEM:"echo fwdbm$t"
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		got=$(ip netns exec "$lan" timeout 2 socat -T 2 - "TCP:${F[s:up_addr]}:$((8000 + t))" 2>/dev/null </dev/null)
		[ "$got" = "fwdbm$t" ] && break
		sleep 0.2
	done
	[ "$got" = "fwdbm$t" ] || { fail "setup many: the LAN cannot reach $a's forward (DNAT)"; return 1; }
}

run_setup_many() {
	local k=${SETUP_MANY%x*} n=${SETUP_MANY#*x} t t0 t1 first total mem0 mem1 bpf0 bpf1 ok=1
	local h fwd nss
	fwd=$(lab_fwdctl fwdctl)
	[ -n "${F[s:host]:-}" ] || lab_sandbox_create s 3 || { fail "setup sandbox"; return 1; }
	h=${F[s:host]}
	settle_namespaces "$h"
	ROUND=1
	for ((t = 1; t <= k; t++)); do
		many_topology "$t" "$n" >"$WORK/many-$t.conf"
		mapfile -t nss < <(topology_namespaces "$WORK/many-$t.conf")
		sandbox_track "${nss[@]}"
	done
	log "setup: $k topologies of $n namespaces"
	mem0=$(mem_available_kib) bpf0=$(bpf_maps_kib)
	t0=$(now)
	for ((t = 1; t <= k && ok; t++)); do
		local a
		a=$(now)
		"$fwd" -q -n "$h" up "$WORK/many-$t.conf" >"$WORK/setup.log" 2>&1 ||
			{ fail "setup many: up of topology $t: $(tail -n 3 "$WORK/setup.log" | tr '\n' ' ')"; ok=0; }
		[ "$t" = 1 ] && first=$(elapsed "$a" "$(now)")
	done
	t1=$(now)
	if [ $ok = 1 ]; then
		total=$((k * n))
		mem1=$(mem_available_kib) bpf1=$(bpf_maps_kib)
		record setup fwdctl "up_${total}ns_${k}topologies_s" s "$(elapsed "$t0" "$t1")"
		record setup fwdctl "up_ns_ms_at_${n}" ms "$(awk -v s="$first" -v n="$n" 'BEGIN { printf "%.3f", s * 1000 / n }')"
		record setup fwdctl "up_ns_ms_at_${total}" ms "$(awk -v a="$t0" -v b="$t1" -v n="$total" 'BEGIN { printf "%.3f", (b - a) * 1000 / n }')"
		record setup fwdctl "mem_kib_per_ns_at_${total}" KiB $(((mem0 - mem1) / total))
		record setup fwdctl "bpf_kib_per_ns_at_${total}" KiB "$(awk -v a="$bpf0" -v b="$bpf1" -v n="$total" 'BEGIN { printf "%.1f", (b - a) / n }')"
		t0=$(now)
		for ((t = 1; t <= k; t++)); do
			"$fwd" -q -n "$h" up "$WORK/many-$t.conf" >"$WORK/setup.log" 2>&1 || fail "setup many: re-up of topology $t"
		done
		record setup fwdctl "reup_${total}ns_s" s "$(elapsed "$t0" "$(now)")"
		t0=$(now)
		"$fwd" -n "$h" status >/dev/null 2>&1 || fail "setup many: status"
		record setup fwdctl "status_${total}ns_s" s "$(elapsed "$t0" "$(now)")"
		# stats takes one topology at a time once several are up: all of them, one by one
		t0=$(now)
		for ((t = 1; t <= k; t++)); do
			"$fwd" -n "$h" stats "fwdbm$t" >/dev/null 2>&1 || fail "setup many: stats of topology $t"
		done
		record setup fwdctl "stats_${total}ns_s" s "$(elapsed "$t0" "$(now)")"
		for ((t = 1; t <= k; t++)); do
			many_paths_ok "$t" "$n"
		done
		sandbox_stop_all KILL
	fi
	# All of them in one down: their namespaces go first, together (fwdctl(8)).
	local files=()
	for ((t = 1; t <= k; t++)); do files+=("$WORK/many-$t.conf"); done
	t0=$(now)
	"$fwd" -q -n "$h" down "${files[@]}" >"$WORK/setup.log" 2>&1 || { fail "setup many: down: $(tail -n 3 "$WORK/setup.log" | tr '\n' ' ')"; ok=0; }
	t1=$(now)
	[ $ok = 1 ] && record setup fwdctl "down_$((k * n))ns_s" s "$(elapsed "$t0" "$t1")"
	for ((t = 1; t <= k; t++)); do
		for ns in $(lab_leftovers "$WORK/many-$t.conf"); do ip netns del "$ns"; done
	done
	return 0
}

# --- main -----------------------------------------------------------------------------------

log "bench: $(sed -n 's/^mode=//p' "$META") mode, rounds of ${D}s: $(for m in $METRICS; do printf '%s %s, ' "$m" "$(rounds_of "$m")"; done)fwdctl: $([ $HAVE_FWDCTL = 1 ] && echo "$FWDCTL" || echo "not built: kernel lab by ip-commands-lab.sh, bpf skipped")"

VARIANTS=()
LAB_VARIANTS=(kernel bpf)
[ $COMPARE = 1 ] && LAB_VARIANTS=(old bpf)
if [[ " $ONLY " == *" traffic "* || " $ONLY " == *" ct "* ]] && [ $COMPARE = 0 ]; then
	if ceiling_create; then
		VARIANTS+=(ceiling)
	else
		fail "ceiling: direct veth pair did not come up"
	fi
fi
if [[ " $ONLY " == *" traffic "* || " $ONLY " == *" ct "* ]]; then
	for v in "${LAB_VARIANTS[@]}"; do
		# sandbox X (the variant's first letter) on 10.200.N.0/24
		x=${v:0:1} n=$(case $v in bpf) echo 1 ;; kernel) echo 2 ;; *) echo 4 ;; esac)
		if [ $HAVE_FWDCTL = 0 ] && [ "$v" = bpf ]; then
			log "lab bpf: skipped (no fwdctl)"
			continue
		fi
		lab_sandbox_create "$x" "$n" || { fail "lab $v: sandbox"; continue; }
		# "old" is datapath bpf too, built by the fwdctl it is compared with
		traffic_topology "$x" "${v/#old/bpf}" "$(lab_fwdctl "$([ "$v" = old ] && echo fwdctl-old || echo fwdctl)")" >"$WORK/fwdb$x.conf"
		builders=(fwdctl)
		[ "$v" = old ] && builders=(fwdctl-old)
		# the kernel datapath is the tutorial's recipe: without a working fwdctl, build it by hand
		[ "$v" = kernel ] && builders+=(ip-commands)
		[ $HAVE_FWDCTL = 0 ] && builders=(ip-commands)
		for builder in "${builders[@]}"; do
			log "lab $v: up with $builder"
			lab_up "$x" "$builder" "$WORK/fwdb$x.conf" 60 >"$WORK/lab-$x.log" 2>&1
			rc=$?
			if [ $rc != 0 ]; then
				[ $rc = 124 ] && echo "timed out after 60 s" >>"$WORK/lab-$x.log"
				fail "lab $v: $builder up (exit $rc): $(tail -n 5 "$WORK/lab-$x.log" | tr '\n' ' ')"
			elif lab_discover "$x" && lab_check "$x"; then
				VARIANTS+=("$v")
				echo "lab_$v=$builder" >>"$META"
				break
			else
				fail "lab $v: built by $builder but not working"
			fi
			lab_scrub "${F[$x:host]}" "$WORK/fwdb$x.conf"
		done
	done
fi

if [[ " $ONLY " == *" traffic "* ]]; then
	# the list of (variant, path) pairs, rotated each round so no variant always goes first
	PAIRS=()
	for v in "${VARIANTS[@]}"; do
		if [ "$v" = ceiling ]; then PAIRS+=("direct ceiling"); else PAIRS+=("bridge $v" "snat $v" "dnat $v"); fi
		[[ " $FAMILIES " == *" 6 "* ]] || continue
		# IPv6: the same paths, where the lab has them (lab_check6)
		if [ "$v" = ceiling ]; then PAIRS+=("direct6 ceiling")
		elif [ "${F[${v:0:1}:v6]:-0}" = 1 ]; then PAIRS+=("bridge6 $v" "snat6 $v" "dnat6 $v"); fi
	done
	# One iperf3 stream also with RFS where the tutorial has none: the kernel lab with fwd's RFS
	# and the ceiling with RFS on both ends (issue 18).
	RFS_PAIRS=()
	if [ "$RFS_TABLE" != 0 ] && [ $COMPARE = 0 ]; then
		for p in "${PAIRS[@]}"; do
			case $p in
			*" kernel") RFS_PAIRS+=("$p-rfs") ;;
			*" ceiling") RFS_PAIRS+=("$p-rfs") ;;
			esac
		done
		# the kernel lab as the tutorial builds it: no flow tables (fwdctl gave it fwd's)
		if [[ " ${VARIANTS[*]} " == *" kernel "* ]]; then
			RFS_KERNEL_SAVED=$(rfs_links kernel | while read -r ns ifc; do
				echo "$ns $ifc $(ip netns exec "$ns" cat "/sys/class/net/$ifc/queues/rx-0/rps_flow_cnt")"
			done)
			log "kernel lab: fwdctl's flow tables, put back for kernel-rfs: $(tr '\n' ' ' <<<"$RFS_KERNEL_SAVED")"
			rfs_set kernel 0
		fi
	fi
	[ ${#PAIRS[@]} -gt 0 ] || MAX_ROUNDS=0
	for ((r = 0; r < MAX_ROUNDS; r++)); do
		ROUND=$((r + 1))
		log "round $ROUND/$MAX_ROUNDS"
		for m in $METRICS; do
			[ $r -lt "$(rounds_of "$m")" ] || continue
			pairs=("${PAIRS[@]}")
			[ "$m" = tcp ] && pairs+=("${RFS_PAIRS[@]}")
			[ "$m" = frame ] && [[ " ${VARIANTS[*]} " == *" ceiling "* ]] && pairs+=("direct ceiling-skb")
			for ((i = 0; i < ${#pairs[@]}; i++)); do
				read -r path v <<<"${pairs[$(((i + r) % ${#pairs[@]}))]}"
				endpoints "$v" "$path"
				neigh_unfail "$v"
				case $v in *-rfs) rfs_set "$v" 256 || continue ;; esac
				"m_$m" "$path" "$v"
				case $v in *-rfs) rfs_set "$v" 0 ;; esac
			done
		done
	done
fi

if [[ " $ONLY " == *" ct "* ]]; then
	CT_DPS=()
	for v in "${VARIANTS[@]}"; do [ "$v" != ceiling ] && CT_DPS+=("$v"); done
	[ ${#CT_DPS[@]} -gt 0 ] || CT_ROUNDS=0
	for ((r = 0; r < CT_ROUNDS; r++)); do
		ROUND=$((r + 1))
		for flows in $CT_FLOWS; do
			for ((i = 0; i < ${#CT_DPS[@]}; i++)); do
				v=${CT_DPS[$(((i + r) % ${#CT_DPS[@]}))]}
				log "ct: $v, $flows flows (round $((r + 1))/$CT_ROUNDS)"
				m_ct "$v" "$flows"
			done
		done
	done
fi

# the traffic labs go before the setup benchmark, which wants a quiet machine
for h in "${!LABS[@]}"; do lab_down "$h" >/dev/null 2>&1 || log "lab down in $h failed (cleanup will force it)"; done

if [[ " $ONLY " == *" setup "* ]]; then
	run_setup
	[ -n "$SETUP_MANY" ] && [ $HAVE_FWDCTL = 1 ] && [ $COMPARE = 0 ] && run_setup_many
fi

echo "elapsed_s=$((SECONDS - T_START))" >>"$META"
[ -e "$WORK/failures" ] && sed 's/^/failure=/' "$WORK/failures" >>"$META"
cp "$RAW" "$OUT/raw.tsv"
cp "$META" "$OUT/meta" # with raw.tsv, all report.sh needs to write the tables again
if [ $COMPARE = 1 ]; then
	"$HERE/compare-report.sh" "$RAW" "$META" "$OUT/compare.md" || { log "report failed"; exit 1; }
	log "bench: done in $((SECONDS - T_START)) s; results in $OUT"
	cat "$OUT/compare.md"
else
	"$HERE/report.sh" "$RAW" "$META" "$OUT" || { log "report failed"; exit 1; }
	log "bench: done in $((SECONDS - T_START)) s; results in $OUT"
	cat "$OUT/results.md"
fi
[ -e "$WORK/failures" ] && exit 1
exit 0

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Which hook carries namespace-to-namespace traffic best? Between two network namespaces,
# median of RUNS runs: iperf3 TCP throughput (one stream: bounded by the sockets), iperf3
# UDP with 64-byte datagrams, received packets per second (bounded by per-packet cost), and the
# median round trip of a sockperf TCP ping-pong with client and server on CPU RR_CPU, through:
#   direct      a veth pair between the two namespaces (the ceiling)
#   bridge-nf   veths on a Linux bridge, bridge-nf-call-iptables=1 (what the kernel datapath does)
#   bridge      the same, bridge-nf-call-iptables=0
#   tc-peer     the bridge setup, fwd_tc on the host-side veths: bpf_redirect_peer()
#   tc-min      the same hook with bench/redirect_min.bpf.c, a program that does nothing but
#               one map lookup and bpf_redirect_peer(): what the hook costs without fwd's work
#   tcx-min     the same program on a tcx link (Linux 6.6; not in the default PATHS): the hook
#               without clsact's qdisc and classifier layers, which fwd cannot use yet (libbpf
#               1.1 cannot attach tcx)
#   two-veth    what fwd's SNAT and DNAT cross: namespace -> host -> namespace over two veths
#               (the second one standing for the uplink), redirect_min.bpf.c on both host-side
#               veths with bpf_redirect() out of the other one: the floor of those paths
#   xdp         the bridge setup, fwd_xdp on the host-side veths: XDP_REDIRECT to the target's
#               host-side veth (its namespace end runs an XDP_PASS program so frames arrive)
# The paths take turns (round 1 of each, then round 2 of each, ...), so that a busy moment on
# the machine spreads over all of them instead of sinking one.
# Everything lives in throwaway namespaces fwdB-hc-*; the programs are loaded with bpftool and
# pinned under /sys/fs/bpf/fwd/hookbench/, all removed on exit.
#
# usage: bench/hook-choice.sh [BUILD_DIR]
#   env: RUNS=3 DURATION=5 RR_CPU=1 TCP_CPUS= (iperf3 -A, e.g. 0,1 as make bench) PATHS="direct bridge-nf bridge tc-peer tc-min two-veth xdp" (tcx-min: add it)
set -eu

BUILD=${1:-build}
RUNS=${RUNS:-3}
DURATION=${DURATION:-5}
RR_CPU=${RR_CPU:-1}
TCP_CPUS=${TCP_CPUS:-}
PATHS=${PATHS:-direct bridge-nf bridge tc-peer tc-min two-veth xdp}
P=fwdB-hc
HOST=$P-host
PIN=/sys/fs/bpf/fwd/hookbench
TC_OBJ=$BUILD/bpf/fwd_tc.bpf.o
XDP_OBJ=$BUILD/bpf/fwd_xdp.bpf.o
MIN_OBJ=$BUILD/bench/redirect_min.bpf.o
CNT_REDIRECT_PEER=0 # enum fwd_counter in include/fwd_kern_user.h
CNT_REDIRECT_XDP=1

die() { echo "hook-choice: $*" >&2; exit 1; }

# shellcheck source=../tests/lib/sandbox.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tests/lib/sandbox.sh"

# Every namespace was made by sandbox_ns_add (and those of a failed earlier run carry our prefix).
cleanup() {
	set +e
	sandbox_cleanup "^$P-"
	rm -rf "$PIN"
	rmdir /sys/fs/bpf/fwd 2>/dev/null
	return 0
}
trap cleanup EXIT INT TERM

for tool in iperf3 sockperf taskset bpftool ip tc python3 nsenter ethtool; do
	command -v $tool >/dev/null || die "$tool is not installed"
done
[ "$(id -u)" = 0 ] || die "needs root"
# make deletes the .bpf.o files as intermediates of the skeletons: ask for them by name.
if [ ! -f "$TC_OBJ" ] || [ ! -f "$XDP_OBJ" ] || [ ! -f "$MIN_OBJ" ]; then
	make --no-print-directory -s BUILD="$BUILD" "$TC_OBJ" "$XDP_OBJ" "$MIN_OBJ" ||
		die "cannot build BPF objects"
fi
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

# One iperf3 run of kind $1 (tcp: "Gbit/s retransmits"; udp64: "Mpps-received loss%") from
# namespace $2 to address $4 served in $3.
iperf_once() {
	local kind=$1 out server args=()
	shift
	if [ "$kind" = udp64 ]; then args=(-u -b 0 -l 64); fi

	sandbox_spawn "$2" /dev/null iperf3 -s -1 -p 5201
	server=$SANDBOX_LAST
	wait_for 5000 listening "$2" tcp 5201 || true
	out=$(ip netns exec "$1" timeout $((DURATION + 20)) \
		iperf3 -c "$3" -p 5201 -t "$DURATION" --connect-timeout 3000 ${TCP_CPUS:+-A "$TCP_CPUS"} -J "${args[@]}") ||
		{ sandbox_stop "$server" TERM; die "iperf3 from $1 to $3 failed"; }
	sandbox_wait "$server" 2>/dev/null || true
	python3 -c 'import json, sys; d = json.load(sys.stdin)["end"]
if sys.argv[1] == "tcp":
    print("%.2f %d" % (d["sum_received"]["bits_per_second"] / 1e9, d["sum_sent"].get("retransmits", 0)))
else:
    s = d["sum"]
    print("%.3f %.1f" % ((s["packets"] - s["lost_packets"]) / s["seconds"] / 1e6, s["lost_percent"]))' "$kind" <<<"$out"
}

# The median round trip (us) of a sockperf TCP ping-pong from namespace $1 to address $3
# served in $2, both ends on CPU RR_CPU: a cross-CPU wakeup would add more than any path does.
rr_once() {
	local out server
	sandbox_spawn "$2" /dev/null taskset -c "$RR_CPU" sockperf sr --tcp -i 0.0.0.0 -p 11111
	server=$SANDBOX_LAST
	wait_for 5000 listening "$2" tcp 11111 || true
	out=$(ip netns exec "$1" timeout $((DURATION + 20)) taskset -c "$RR_CPU" \
		sockperf pp --tcp -i "$3" -p 11111 -t "$DURATION" --full-rtt 2>&1)
	sandbox_stop "$server" TERM
	awk '/percentile 50.000 =/ { print $NF; found = 1 } END { exit !found }' <<<"$out" ||
		die "sockperf from $1 to $3 failed: $(tail -n 1 <<<"$out")"
}

# --- a direct veth pair: $P-a 10.99.0.1 <-> $P-b 10.99.0.2 --------------------------------
sandbox_pair $P-a eth0 10.99.0.1/24 $P-b eth0 10.99.0.2/24

# --- the bridge lab: $HOST with bridge br0 192.168.15.5/24, $P-c .1 and $P-d .2 -----------
sandbox_ns_add $HOST
ip -n $HOST link add br0 type bridge
ip -n $HOST addr add 192.168.15.5/24 dev br0
ip -n $HOST link set br0 up
i=1
for c in c d; do
	sandbox_ns_add $P-$c
	sandbox_veth $HOST veth-$c "" $P-$c eth0 192.168.15.$i/24
	ip -n $HOST link set veth-$c master br0
	i=$((i + 1))
done

# --- two veths in series: $P-e 10.97.0.1 -- veth-e [$HOST] veth-f -- $P-f 10.97.0.2 -----
# No bridge and no routing in $HOST: each namespace's neighbour entry for the other names the
# host-side veth's MAC, and the program forwards between veth-e and veth-f.
mac_of() { ip -n "$1" -o link show "$2" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2; }
i=1
for c in e f; do
	sandbox_ns_add $P-$c
	sandbox_veth $HOST veth-$c "" $P-$c eth0 10.97.0.$i/24
	i=$((i + 1))
done
ip -n $P-e neigh add 10.97.0.2 lladdr "$(mac_of $HOST veth-e)" dev eth0
ip -n $P-f neigh add 10.97.0.1 lladdr "$(mac_of $HOST veth-f)" dev eth0

# Commands that open pins run through in_netns_only: `ip netns exec` and `ip -n` remount /sys,
# hiding /sys/fs/bpf.
NF=/proc/sys/net/bridge/bridge-nf-call-iptables

# fwd_endpoints entries: key = IPv4 (network order), value = struct fwd_endpoint
# { __u32 ifindex (host order); __u8 mac[6]; __u8 host_mac[6]; __u32 flags }.
hexbytes() { echo "$1" | tr ':' ' ' | sed 's/\([0-9a-f][0-9a-f]\)/0x\1/g'; }
le32() { printf '0x%02x 0x%02x 0x%02x 0x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
# shellcheck disable=SC2046 # le32 and hexbytes print one word per byte, as bpftool takes them
fill_endpoints() { # map pin
	local c ip=1 ifindex
	for c in c d; do
		ifindex=$(ip -n $HOST -o link show veth-$c | cut -d: -f1)
		bpftool map update pinned "$1" key 192 168 15 $ip value $(le32 "$ifindex") \
			$(hexbytes "$(mac_of $P-$c eth0)") $(hexbytes "$(mac_of $HOST veth-$c)") 0 0 0 0
		ip=$((ip + 1))
	done
}
# Packets of counter $2 in the pinned counters map $1, summed over CPUs.
# shellcheck disable=SC2046 # le32 prints one word per byte, as bpftool takes them
counted() {
	bpftool -j map lookup pinned "$1" key $(le32 "$2") | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(sum(v["value"]["packets"] for v in d["formatted"]["values"]) if "formatted" in d else 0)'
}

mkdir -p "$PIN/tc" "$PIN/xdp" "$PIN/min"
bpftool prog load "$TC_OBJ" "$PIN/tc/prog" type classifier pinmaps "$PIN/tc"
fill_endpoints "$PIN/tc/fwd_endpoints"
bpftool prog load "$MIN_OBJ" "$PIN/min/prog" type classifier pinmaps "$PIN/min"
# redirect_min_peer entries: key = ingress ifindex, value = struct redirect_min_to
# { __u32 ifindex; __u32 peer; __u8 dmac[6]; __u8 smac[6] } (all host order).
ifindex_of() { ip -n $HOST -o link show "$1" | cut -d: -f1; }
# shellcheck disable=SC2046 # le32 and hexbytes print one word per byte, as bpftool takes them
min_to() { # from-veth to-veth peer [next-hop-namespace]
	local dmac=00:00:00:00:00:00 smac=00:00:00:00:00:00
	[ -n "${4:-}" ] && dmac=$(mac_of "$4" eth0) smac=$(mac_of $HOST "$2")
	bpftool map update pinned "$PIN/min/redirect_min_peer" key $(le32 "$(ifindex_of "$1")") \
		value $(le32 "$(ifindex_of "$2")") $(le32 "$3") $(hexbytes "$dmac") $(hexbytes "$smac")
}
min_to veth-c veth-d 1
min_to veth-d veth-c 1
min_to veth-e veth-f 0 $P-f
min_to veth-f veth-e 0 $P-e
bpftool prog loadall "$XDP_OBJ" "$PIN/xdp" type xdp pinmaps "$PIN/xdp"
fill_endpoints "$PIN/xdp/fwd_endpoints"

# The pinned program $2 on the tc ingress of host-side veths $3... ($1 = on), or no clsact (off).
tc_set() {
	local on=$1 prog=$2 dev
	shift 2
	for dev in "$@"; do
		if [ "$on" = on ]; then
			in_netns_only $HOST tc qdisc add dev "$dev" clsact
			in_netns_only $HOST tc filter add dev "$dev" ingress bpf direct-action object-pinned "$prog"
		else
			in_netns_only $HOST tc qdisc del dev "$dev" clsact
		fi
	done
}

# The pinned program $2 on tcx ingress links of host-side veths $3... ($1 = on), or no links
# (off). Neither libbpf 1.1 nor bpftool 7.1 can make a tcx link: bpf(BPF_LINK_CREATE) from
# python, the link pinned beside the program and gone with its pin.
tcx_set() {
	local on=$1 prog=$2 dev
	shift 2
	for dev in "$@"; do
		if [ "$on" != on ]; then
			rm -f "$PIN/tcx-$dev"
			continue
		fi
		in_netns_only $HOST python3 -c 'import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
def bpf(cmd, attr):  # SYS_bpf = 321 on x86-64; union bpf_attr is at most 128 bytes here
	buf = ctypes.create_string_buffer(attr.ljust(128, b"\0"))
	fd = libc.syscall(321, cmd, buf, 128)
	if fd < 0:
		sys.exit("tcx: bpf(%d): %s" % (cmd, os.strerror(ctypes.get_errno())))
	return fd
path = lambda p: ctypes.create_string_buffer(p.encode())
prog, link = path(sys.argv[1]), path(sys.argv[3])
pfd = bpf(7, struct.pack("QII", ctypes.addressof(prog), 0, 0))  # BPF_OBJ_GET
lfd = bpf(28, struct.pack("IIII", pfd, int(sys.argv[2]), 46, 0))  # BPF_LINK_CREATE, BPF_TCX_INGRESS
bpf(6, struct.pack("QII", ctypes.addressof(link), lfd, 0))  # BPF_OBJ_PIN' \
			"$prog" "$(ifindex_of "$dev")" "$PIN/tcx-$dev" || die "cannot attach tcx to $dev"
	done
}

# Put path $1 in place (on) or take it away (off). Returns the client, server and address.
path_set() {
	local c
	case $1 in
	direct) ;;
	bridge-nf) in_ns $HOST sh -c "echo $([ "$2" = on ] && echo 1 || echo 0) > $NF" ;;
	bridge) in_ns $HOST sh -c "echo 0 > $NF" ;;
	tc-peer) tc_set "$2" "$PIN/tc/prog" veth-c veth-d ;;
	tc-min) tc_set "$2" "$PIN/min/prog" veth-c veth-d ;;
	tcx-min) tcx_set "$2" "$PIN/min/prog" veth-c veth-d ;;
	two-veth) tc_set "$2" "$PIN/min/prog" veth-e veth-f ;;
	xdp)
		# An XDP_REDIRECTed frame loses the skb's CHECKSUM_PARTIAL state: TCP from a local
		# socket would arrive with an unfinished checksum and be dropped, so the namespaces
		# checksum in software, one more cost of XDP on veths (ICMP works regardless).
		for c in c d; do
			if [ "$2" = on ]; then
				ip netns exec $P-$c ethtool -K eth0 tx off >/dev/null
				in_netns_only $HOST ip link set dev veth-$c xdpdrv pinned "$PIN/xdp/fwd_xdp_ingress"
				in_netns_only $P-$c ip link set dev eth0 xdpdrv pinned "$PIN/xdp/fwd_xdp_pass"
			else
				ip -n $HOST link set dev veth-$c xdpdrv off
				ip -n $P-$c link set dev eth0 xdpdrv off
				ip netns exec $P-$c ethtool -K eth0 tx on >/dev/null
			fi
		done ;;
	*) die "unknown path $1" ;;
	esac
}
path_ends() {
	case $1 in
	direct) echo "$P-a $P-b 10.99.0.2" ;;
	two-veth) echo "$P-e $P-f 10.97.0.2" ;;
	*) echo "$P-c $P-d 192.168.15.2" ;;
	esac
}

declare -A GBPS RETR MPPS LOSS RR
for round in $(seq "$RUNS"); do
	for p in $PATHS; do
		read -r client server addr <<<"$(path_ends "$p")"
		path_set "$p" on
		r=$(iperf_once tcp "$client" "$server" "$addr")
		u=$(iperf_once udp64 "$client" "$server" "$addr")
		l=$(rr_once "$client" "$server" "$addr")
		path_set "$p" off
		RR[$p]="${RR[$p]:-} $l"
		GBPS[$p]="${GBPS[$p]:-} ${r% *}"
		RETR[$p]="${RETR[$p]:-} ${r#* }"
		MPPS[$p]="${MPPS[$p]:-} ${u% *}"
		LOSS[$p]="${LOSS[$p]:-} ${u#* }"
		echo "hook-choice: round $round: $p: tcp ${r% *} Gbit/s (${r#* } retransmits)," \
			"udp64 ${u% *} Mpps received (${u#* }% lost), rr p50 $l us" >&2
	done
done

note_of() {
	case $1 in
	direct) echo "veth pair, no bridge" ;;
	bridge-nf) echo "Linux bridge, bridge-nf-call-iptables=1" ;;
	bridge) echo "Linux bridge, bridge-nf-call-iptables=0" ;;
	tc-peer) echo "tc ingress + bpf_redirect_peer: $(counted "$PIN/tc/fwd_counters" $CNT_REDIRECT_PEER) frames redirected" ;;
	tc-min) echo "tc ingress + bpf_redirect_peer, minimal program" ;;
	tcx-min) echo "tcx ingress + bpf_redirect_peer, minimal program" ;;
	two-veth) echo "two veths in series, tc ingress + bpf_redirect out, minimal program" ;;
	xdp) echo "XDP_REDIRECT, tx checksum off: $(counted "$PIN/xdp/fwd_counters" $CNT_REDIRECT_XDP) frames redirected" ;;
	esac
}

echo
echo "median of $RUNS rounds, ${DURATION}s each, $(nproc) CPUs; TCP: one iperf3 stream;" \
	"UDP: 64-byte datagrams, unlimited rate, packets received per second;" \
	"RR: TCP ping-pong round trip, both ends on CPU $RR_CPU (lower is better)"
printf '%-10s %8s %13s %9s %8s %13s %6s %7s %13s  %s\n' PATH 'TCP Gb/s' '(min-max)' retr/run \
	'UDP Mpps' '(min-max)' lost% 'RR us' '(min-max)' ''
for p in $PATHS; do
	python3 -c 'import sys, statistics as s
f = lambda i: [float(x) for x in sys.argv[i].split()]
g, r, m, l, t = f(2), f(3), f(4), f(5), f(6)
print("%-10s %8.2f %13s %9d %8.3f %13s %6.1f %7.2f %13s  %s" % (sys.argv[1], s.median(g),
      "(%.2f-%.2f)" % (min(g), max(g)), s.median(r), s.median(m),
      "(%.3f-%.3f)" % (min(m), max(m)), s.median(l), s.median(t),
      "(%.2f-%.2f)" % (min(t), max(t)), sys.argv[7]))' \
		"$p" "${GBPS[$p]}" "${RETR[$p]}" "${MPPS[$p]}" "${LOSS[$p]}" "${RR[$p]}" "$(note_of "$p")"
done
# Ratios of medians, the way make bench reports them: to the bridge with netfilter (what the
# kernel datapath uses) and to the direct veth pair (the ceiling).
for base in bridge-nf direct; do
	[ -n "${RR[$base]:-}" ] || continue
	echo
	for p in $PATHS; do
		python3 -c 'import sys, statistics as s
m = lambda x: s.median(float(v) for v in x.split())
print("%-10s / %-9s  TCP %.3f  UDP %.3f  RR %.3f" % (sys.argv[1], sys.argv[2],
      *(m(a) / m(b) for a, b in zip(sys.argv[3:6], sys.argv[6:9]))))' "$p" "$base" \
			"${GBPS[$p]}" "${MPPS[$p]}" "${RR[$p]}" "${GBPS[$base]}" "${MPPS[$base]}" "${RR[$base]}"
	done
done

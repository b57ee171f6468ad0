#!/bin/bash
# BIG TCP: fwdctl gives both ends of every namespace veth, and the bridge, the uplink's
# gso_ipv4_max_size (IPv4) and, with datapath bpf, gso_max_size (IPv6) when the uplink has BIG
# TCP on (above the 64 KiB default), and the default otherwise, converging on each `up`. With it
# on, TCP sends GSO packets larger than 64 KiB, and fwd's BPF paths carry them whole, translated:
# the counters of the masquerade, port-forward and switching paths, IPv4 and IPv6 (NAT66 once
# sent them to the kernel, which answered Packet Too Big), average more bytes per frame than any
# packet could hold without BIG TCP.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

LINK_GSO=$TEST_TOOLS/link_gso
BIG=196608
DEFAULT=65536
bytes=$((40 * 1024 * 1024))

sandbox_up || { fail "sandbox"; exit 1; }
[ -x "$LINK_GSO" ] || { fail "$LINK_GSO is not built"; exit 1; }
if [ "$(in_ns "$HOST" "$LINK_GSO" up0)" = 0 ]; then
	pass "skipped: this kernel ($(uname -r)) has no gso_ipv4_max_size (BIG TCP, Linux 6.3)"
	exit 0
fi

# veth_gso TOPO NAMESPACE [6]: "HOST-END INSIDE-END BRIDGE" sizes, of that namespace's veth
# pair and of the bridge: gso_ipv4_max_size, or with 6 gso_max_size (IPv6's).
veth_gso() {
	"$FWDCTL" -j -n "$HOST" status "$1" | python3 -c '
import json, sys
st = json.load(sys.stdin)
key = "gso_max_size" if len(sys.argv) > 2 else "gso_ipv4_max_size"
for ns in st["namespaces"]:
    if ns["name"] == sys.argv[1]:
        print(ns.get(key, "none"), ns.get("inside_" + key, "none"), st["bridge"].get(key, "none"))' "$2" ${3:+"$3"}
}

# uplink_gso SIZE: the sandbox's LAN link at SIZE on both ends, for IPv4 and IPv6 (as on a NIC
# with BIG TCP).
uplink_gso() {
	in_ns "$HOST" "$LINK_GSO" up0 "$1" && in_ns "$LAN" "$LINK_GSO" lan0 "$1" &&
		in_ns "$HOST" "$LINK_GSO" -6 up0 "$1" && in_ns "$LAN" "$LINK_GSO" -6 lan0 "$1"
}

# The lab dual-stack: red and blue with IPv6 addresses, masqueraded out of the uplink's fd77::1.
UP6=fd77::1
LAN6=fd77::2
if ! ip -n "$HOST" addr add $UP6/64 dev up0 nodad || ! ip -n "$LAN" addr add $LAN6/64 dev lan0 nodad; then
	fail "IPv6 on the uplink"
	exit 1
fi
dual_stack() {
	sed -i -e 's|^bridge vnet0 .*|& fd00:15::5/64|' -e "s|^namespace $P-red .*|& fd00:15::1|" \
		-e "s|^namespace $P-blue .*|& fd00:15::2|" "$1"
	echo "masquerade fd00:15::/64" >>"$1"
}

# sink NS PORT [6]: accept one TCP connection on PORT (IPv6 with 6), write "PEER-ADDRESS BYTES"
# to $WORK/sink.
sink() {
	rm -f "$WORK/sink"
	sandbox_spawn "$1" /dev/null timeout 60 python3 -c '
import socket, sys
v6 = len(sys.argv) > 3
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::" if v6 else "0.0.0.0", int(sys.argv[1])))
s.listen(1)
c, peer = s.accept()
n = 0
while True:
    b = c.recv(1 << 20)
    if not b:
        break
    n += len(b)
open(sys.argv[2] + ".tmp", "w").write("%s %d\n" % (peer[0], n))
import os; os.rename(sys.argv[2] + ".tmp", sys.argv[2])' "$2" "$WORK/sink" ${3:+"$3"}
	wait_for 3000 listening "$1" tcp "$2" || fail "sink $1 tcp/$2 did not start"
}

# send NS ADDR PORT: $bytes over one TCP connection, in 1 MiB writes (small writes from a pipe
# would leave TCP nothing to build large packets from); then what the sink saw ("" on failure).
send() {
	in_ns "$1" timeout 30 python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
chunk = bytes(1 << 20)
for _ in range(int(sys.argv[3]) >> 20):
    c.sendall(chunk)
c.close()' "$2" "$3" $bytes
	wait_for 10000 test -s "$WORK/sink"
	cat "$WORK/sink" 2>/dev/null
}

# frame_size TOPO COUNTER P0 B0: average bytes per frame of COUNTER since packets P0, bytes B0.
frame_size() {
	local p b
	p=$(fwd_counter "$1" "$2" packets) b=$(fwd_counter "$1" "$2" bytes)
	[ "$p" -gt "$3" ] && echo $(((b - $4) / (p - $3))) || echo 0
}

for dp in bpf kernel; do
	topo=${P}${dp:0:1}
	conf=$(lab_conf "$topo" "$dp")
	dual_stack "$conf"
	# bpf: built with BIG TCP off the uplink, then converged; kernel: built with it on (a new
	# bridge takes no more than 64 KiB until its ports are in).
	if [ $dp = bpf ]; then
		uplink_gso $DEFAULT
		"$FWDCTL" -q -n "$HOST" up "$conf" || { fail "$dp: up"; continue; }
		check_eq "$dp: uplink at the default: the veths and the bridge keep it" \
			"$DEFAULT $DEFAULT $DEFAULT" "$(veth_gso "$topo" "$P-red")"
		check_eq "$dp:  IPv6's too" "$DEFAULT $DEFAULT $DEFAULT" "$(veth_gso "$topo" "$P-red" 6)"
	fi
	uplink_gso $BIG
	"$FWDCTL" -q -n "$HOST" up "$conf" || { fail "$dp: up with BIG TCP on the uplink"; continue; }
	check_eq "$dp: uplink at $BIG: up gives both ends of each veth and the bridge the same" \
		"$BIG $BIG $BIG" "$(veth_gso "$topo" "$P-yellow")"
	# IPv6's only with datapath bpf: the kernel's IPv6 forwarding refuses packets over 64 KiB
	# (ctl/up.c says why), so datapath kernel keeps the default.
	[ $dp = bpf ] && big6=$BIG || big6=$DEFAULT
	check_eq "$dp:  IPv6's: $big6" "$big6 $big6 $big6" "$(veth_gso "$topo" "$P-yellow" 6)"
	"$FWDCTL" -q -n "$HOST" up "$conf" || fail "$dp: up again"
	check_eq "$dp: up again changes nothing" "$BIG $BIG $BIG" "$(veth_gso "$topo" "$P-red")"
	if [ $dp = kernel ]; then # through DNAT, routing and the bridge, with BIG packets
		sink "$P-blue" 80
		check_eq "kernel: 40 MB lan -> uplink:80 arrive at blue from the LAN's address" \
			"$LAN_ADDR $bytes" "$(send "$LAN" $UPLINK_ADDR 80)"
		stop_servers
		uplink_gso $DEFAULT
		"$FWDCTL" -q -n "$HOST" down "$topo"
		continue
	fi

	# Masquerade: red -> LAN, counted by snat (the ACKs coming back are snat_reply's).
	p0=$(fwd_counter "$topo" snat packets) b0=$(fwd_counter "$topo" snat bytes)
	sink "$LAN" 7601
	check_eq "bpf: 40 MB red -> lan arrive from the uplink's address" "$UPLINK_ADDR $bytes" \
		"$(send "$P-red" $LAN_ADDR 7601)"
	avg=$(frame_size "$topo" snat "$p0" "$b0")
	check "bpf: snat frames average more than 64 KiB ($avg bytes)" test "$avg" -gt $DEFAULT

	# Port forward: LAN -> uplink:80 -> blue:80, counted by dnat.
	p0=$(fwd_counter "$topo" dnat packets) b0=$(fwd_counter "$topo" dnat bytes)
	sink "$P-blue" 80
	check_eq "bpf: 40 MB lan -> uplink:80 arrive at blue from the LAN's address" \
		"$LAN_ADDR $bytes" "$(send "$LAN" $UPLINK_ADDR 80)"
	avg=$(frame_size "$topo" dnat "$p0" "$b0")
	check "bpf: dnat frames average more than 64 KiB ($avg bytes)" test "$avg" -gt $DEFAULT

	# IPv6: masquerade (NAT66), red -> LAN, and a forward on the uplink's IPv6 address, LAN ->
	# [uplink]:80 -> blue (DNAT66).
	p0=$(fwd_counter "$topo" snat6 packets) b0=$(fwd_counter "$topo" snat6 bytes)
	sink "$LAN" 7603 6
	check_eq "bpf: 40 MB red -> lan over IPv6 arrive from the uplink's address" "$UP6 $bytes" \
		"$(send "$P-red" $LAN6 7603)"
	avg=$(frame_size "$topo" snat6 "$p0" "$b0")
	check "bpf: snat6 frames average more than 64 KiB ($avg bytes)" test "$avg" -gt $DEFAULT
	p0=$(fwd_counter "$topo" dnat6 packets) b0=$(fwd_counter "$topo" dnat6 bytes)
	sink "$P-blue" 80 6
	check_eq "bpf: 40 MB lan -> [uplink]:80 over IPv6 arrive at blue from the LAN's address" \
		"$LAN6 $bytes" "$(send "$LAN" $UP6 80)"
	avg=$(frame_size "$topo" dnat6 "$p0" "$b0")
	check "bpf: dnat6 frames average more than 64 KiB ($avg bytes)" test "$avg" -gt $DEFAULT

	# Switching: red -> green. redirect_peer counts both directions; the ACKs it also counts
	# are small, so fewer frames than the data alone would take at 64 KiB shows BIG packets.
	p0=$(fwd_counter "$topo" redirect_peer packets)
	pingable "$P-red" 192.168.15.3 # ARP first: it rightly takes the bridge
	sink "$P-green" 7602
	check_eq "bpf: 40 MB red -> green arrive" "192.168.15.1 $bytes" \
		"$(send "$P-red" 192.168.15.3 7602)"
	frames=$(($(fwd_counter "$topo" redirect_peer packets) - p0))
	check "bpf: redirect_peer carried them in fewer frames ($frames) than 64 KiB ones would take ($((bytes / DEFAULT)))" \
		test "$frames" -lt $((bytes / DEFAULT))
	stop_servers

	uplink_gso $DEFAULT
	"$FWDCTL" -q -n "$HOST" up "$conf" || fail "bpf: up after BIG TCP off the uplink"
	check_eq "bpf: uplink back at the default: so are the veths and the bridge" \
		"$DEFAULT $DEFAULT $DEFAULT" \
		"$(veth_gso "$topo" "$P-green")"
	check_eq "bpf:  IPv6's too" "$DEFAULT $DEFAULT $DEFAULT" "$(veth_gso "$topo" "$P-green" 6)"
	"$FWDCTL" -q -n "$HOST" down "$topo"
done

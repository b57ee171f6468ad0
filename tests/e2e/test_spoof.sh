#!/bin/bash
# Anti-spoofing, on both datapaths (datapath bpf: bpf/spoof.h and the uplink program; datapath
# kernel: ebtables on the host-side veths, iptables raw on the uplink): a namespace sends as
# itself or not at all, and nothing from the LAN claims to be a namespace.
#   - red's raw IPv4 datagrams with blue's address, an unused one of the subnet, the
#     gateway's and 10.9.9.9 as source never reach the LAN (red's own do: the control);
#   - a frame with blue's MAC as source from red teaches the bridge nothing;
#   - an ARP reply from red that claims blue's address leaves the host's neighbour entry
#     for blue alone;
#   - a datagram from the LAN with red's address as source to a forward (udp 5353 -> green)
#     never reaches green.
# Each is counted: fwd's counters, or the rules' own.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

sandbox_up || { fail "sandbox"; exit 1; }

# raw_udp NS SRC DST DPORT: one UDP datagram with a forged IPv4 source, from NS.
cat >"$WORK/raw_udp.py" <<'PY'
import socket, struct, sys
src, dst, dport = sys.argv[1], sys.argv[2], int(sys.argv[3])
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
udp = struct.pack("!HHHH", 40404, dport, 8 + 4, 0) + b"spf\n"
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 7, 0, 64, 17, 0,
                 socket.inet_aton(src), socket.inet_aton(dst))
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.sendto(ip + udp, (dst, 0))
PY
raw_udp() { in_ns "$1" python3 "$WORK/raw_udp.py" "$2" "$3" "$4"; }
# raw_frame NS HEX: one Ethernet frame (hex) out of NS's eth0.
raw_frame() {
	in_ns "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
s.send(bytes.fromhex(sys.argv[1]))' "$2"
}
# spoof_drops TOPO DATAPATH: what fwd counted as spoofed so far (bpf: its counters; kernel: the
# packet counters of the ebtables and raw rules).
spoof_drops() {
	if [ "$2" = bpf ]; then
		echo $(($(fwd_counter "$1" drop_spoof_mac) + $(fwd_counter "$1" drop_spoof_arp) +
			$(fwd_counter "$1" drop_spoof_ipv4) + $(fwd_counter "$1" drop_spoof_uplink)))
	else
		{
			in_ns "$HOST" ebtables -t nat -L "FWD-$1-SPOOF" --Lc |
				sed -n 's/.*pcnt = \([0-9]*\).*/\1/p'
			in_ns "$HOST" iptables-save -c -t raw | sed -n "s/^\[\([0-9]*\):.*FWD-$1-RAW.*DROP/\1/p"
		} | awk '{n += $1} END {print n + 0}'
	fi
}

for dp in bpf kernel; do
	T="$dp:"
	topo=${P}${dp:0:1}
	conf=$(lab_conf "$topo" "$dp")
	check "$T up" "$FWDCTL" -q -n "$HOST" up "$conf"
	count_server "$LAN" 9999
	count_server "$P-green" 53
	ip netns exec "$HOST" sysctl -qw net.ipv4.neigh.vnet0.locktime=0 # every ARP may update
	d0=$(spoof_drops "$topo" "$dp")

	# 1. Forged IPv4 sources from red; its own source is the control.
	for src in 192.168.15.2 192.168.15.77 192.168.15.5 10.9.9.9; do
		raw_udp "$P-red" "$src" "$LAN_ADDR" 9999
	done
	raw_udp "$P-red" 192.168.15.1 "$LAN_ADDR" 9999
	lan_got_one() { [ "$(counted "$HOST" "$LAN_ADDR" 9999)" = 1 ]; }
	wait_for 3000 lan_got_one
	check_eq "$T of red's 5 datagrams to the LAN only its own arrives" 1 "$(counted "$HOST" "$LAN_ADDR" 9999)"

	# 2. blue's MAC as source, from red (a broadcast: any bridge learns from it).
	blue_mac=$(mac_of "$P-blue") red_mac=$(mac_of "$P-red")
	red_port=$("$FWDCTL" -j -n "$HOST" status "$topo" | python3 -c '
import json, sys
print(next(n["host_link"] for n in json.load(sys.stdin)["namespaces"] if n["address"] == "192.168.15.1"))')
	raw_frame "$P-red" "ffffffffffff${blue_mac//:/}88b5$(printf '00%.0s' $(seq 46))"
	check "$T a frame from red with blue's MAC: the bridge did not learn it on red's port" \
		sh -c "! bridge -n '$HOST' fdb show br vnet0 | grep -qi '^$blue_mac dev $red_port '"

	# 3. An ARP reply from red to the gateway claiming blue's address.
	pingable "$P-blue" 192.168.15.5 || fail "$T blue cannot reach the gateway"
	gw_mac=$(ip -n "$HOST" -o link show vnet0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	arp="0001080006040002${red_mac//:/}c0a80f02${gw_mac//:/}c0a80f05"
	raw_frame "$P-red" "${gw_mac//:/}${red_mac//:/}0806${arp}$(printf '00%.0s' $(seq 18))"
	check "$T an ARP reply from red claiming blue's address: the host still has blue's MAC for it" \
		sh -c "ip -n '$HOST' neigh show 192.168.15.2 dev vnet0 | grep -qi 'lladdr $blue_mac'"

	# 4. From the LAN with red's address as source, to a forward (udp 5353 -> green:53).
	raw_udp "$LAN" 192.168.15.1 "$UPLINK_ADDR" 5353
	raw_udp "$LAN" "$LAN_ADDR" "$UPLINK_ADDR" 5353 # the control: a real LAN source
	green_got_one() { [ "$(counted "$P-green" 127.0.0.1 53)" = 1 ]; }
	wait_for 3000 green_got_one
	check_eq "$T of two datagrams from the LAN to the forward, only the real one reaches green" \
		1 "$(counted "$P-green" 127.0.0.1 53)"

	d1=$(spoof_drops "$topo" "$dp")
	# 4 forged sources, the forged MAC, the forged ARP, the forged LAN source.
	check "$T ... every forgery counted ($((d1 - d0)) of at least 7)" test $((d1 - d0)) -ge 7
	stop_servers
	check "$T down" "$FWDCTL" -q -n "$HOST" down "$topo"
done

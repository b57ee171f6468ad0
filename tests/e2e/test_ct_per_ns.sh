#!/bin/bash
# A hostile namespace opening connections without end (red: 5,000 UDP flows to the LAN, each
# from a new source port, each answered, so none of them can be evicted for a new one), on
# both datapaths with `conntrack per-namespace 500`: red gets 500 connections and no more (the
# LAN sees 500 translated flows), its excess is dropped and counted (datapath bpf:
# drop_ct_ns_limit; datapath kernel: the connlimit rule's counter), and its neighbour blue
# still opens new connections. Datapath bpf's table holds 1,024 connections: without the cap,
# red's answered flows would fill it and lock blue out (drop_ct_full).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

CAP=500
FLOWS=5000
sandbox_up || { fail "sandbox"; exit 1; }

# The LAN's UDP server, one process: answers every datagram, and a datagram "count" from the
# host namespace with how many distinct (address, port) sources it has seen from the uplink.
cat >"$WORK/udp_count.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
# room for red's whole burst: a default buffer overflowed now and then (491 of 500 seen)
s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20) # SO_RCVBUFFORCE (Python lacks the name)
s.bind(("0.0.0.0", 9999))
seen = set()
while True:
    b, a = s.recvfrom(100)
    if b == b"count":
        s.sendto(b"%d\n" % len(seen), a)
        continue
    if a[0] == sys.argv[1]:
        seen.add(a)
    s.sendto(b, a)
PY
# lan_flows: what the LAN server counted, asked from the host namespace (no translation).
lan_flows() {
	in_ns "$HOST" timeout 5 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b"count", (sys.argv[1], 9999))
print(s.recv(100).decode().strip())' "$LAN_ADDR"
}

for dp in bpf kernel; do
	T="$dp:"
	topo=${P}${dp:0:1}
	conf=$(lab_conf "$topo" "$dp" noforwards)
	echo "conntrack per-namespace $CAP" >>"$conf"
	[ "$dp" = bpf ] && echo "conntrack max 1024" >>"$conf"
	check "$T up with conntrack per-namespace $CAP" "$FWDCTL" -q -n "$HOST" up "$conf"
	sandbox_spawn "$LAN" /dev/null python3 "$WORK/udp_count.py" "$UPLINK_ADDR"
	wait_for 3000 listening "$LAN" udp 9999 || fail "$T udp server did not start"
	short_server "$LAN" 7090

	# red: one datagram from each of FLOWS source ports (bound: ephemeral ones repeat).
	in_ns "$P-red" python3 -c '
import socket, sys
for i in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 20000 + i))
    s.sendto(b"x", (sys.argv[1], 9999))
    s.close()' "$LAN_ADDR" "$FLOWS"
	# The LAN has answered all it got once a last flow's round trip is through.
	settled() { [ "$(lan_flows)" = "$(lan_flows)" ]; }
	wait_for 3000 settled
	got=$(lan_flows)
	check "$T red's $FLOWS new flows: the LAN sees $CAP of them ($got)" test "$got" = "$CAP"
	if [ "$dp" = bpf ]; then
		dropped=$(fwd_counter "$topo" drop_ct_ns_limit)
		held=$("$FWDCTL" -j -n "$HOST" ct "$topo" | python3 -c '
import json, sys
print(sum(1 for c in json.load(sys.stdin)["connections"] if c["original"]["src"] == "192.168.15.1"))')
		check_eq "$T red holds $CAP connections in the table" "$CAP" "$held"
	else
		dropped=$(in_ns "$HOST" iptables-save -c -t filter |
			sed -n 's/^\[\([0-9]*\):.*connlimit.*/\1/p' | awk '{n += $1} END {print n + 0}')
	fi
	check_eq "$T ... the other $((FLOWS - CAP)) dropped and counted" $((FLOWS - CAP)) "$dropped"
	ok=$(short_conns "$P-blue" "$LAN_ADDR" 7090 200)
	check "$T blue, red's neighbour, opens 200 new connections ($ok)" test "$ok" -ge 198
	stop_servers
	check "$T down" "$FWDCTL" -q -n "$HOST" down "$topo"
done

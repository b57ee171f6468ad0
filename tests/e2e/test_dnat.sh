# Forwards in BPF (datapath bpf): the uplink's forwarded ports reach their namespaces with the
# client's address kept, replies leave as the uplink's address and port, nothing else from the
# LAN reaches a namespace, the host's own services keep their ports, and a namespace reaches a
# forward through the uplink's address (hairpin). No iptables rule is installed at all.
. "$(dirname "$0")/lib.sh"

sandbox_up || { fail "sandbox"; exit 1; }
topo=${P}d
conf=$(lab_conf "$topo" bpf)

in_ns "$LAN" iptables -t raw -I PREROUTING -s 192.168.15.0/24 -m comment --comment fwdleak
leaks() {
	in_ns "$LAN" iptables -t raw -nvxL PREROUTING | awk '/fwdleak/ {n += $1} END {print n + 0}'
}
"$FWDCTL" -q -n "$HOST" up "$conf" || { fail "up"; exit 1; }
check "no iptables rules: datapath bpf forwards in BPF" \
	bash -c "! ip netns exec $HOST iptables-save | grep -q -- '-A FWD-'"

peer_server "$P-blue" tcp 80
peer_server "$P-green" udp 53
peer_server "$P-yellow" tcp 8005
peer_server "$P-red" tcp 7101
check_eq "lan -> uplink:80 -> blue:80, blue sees the lan peer" $LAN_ADDR "$(ask "$LAN" tcp $UPLINK_ADDR 80)"
check_eq "lan -> uplink:5353/udp -> green:53" $LAN_ADDR "$(ask "$LAN" udp $UPLINK_ADDR 5353)"
check_eq "lan -> uplink:8005 -> yellow:8005 (range)" $LAN_ADDR "$(ask "$LAN" tcp $UPLINK_ADDR 8005)"
check_eq "lan -> uplink:9101 -> red:7101 (shifted range)" $LAN_ADDR "$(ask "$LAN" tcp $UPLINK_ADDR 9101)"
check_eq "lan -> uplink:8010 is not forwarded" "" "$(ask "$LAN" tcp $UPLINK_ADDR 8010)"

# The host's own services on the uplink address keep working, on any port not forwarded.
peer_server "$HOST" tcp 7050
check_eq "lan -> uplink:7050 reaches the host's own server" $LAN_ADDR "$(ask "$LAN" tcp $UPLINK_ADDR 7050)"
check "lan -> uplink ping (the host answers)" pingable "$LAN" $UPLINK_ADDR

# Hairpin: a namespace reaches a forward through the uplink's address, keeping its own.
check_eq "hairpin: red -> uplink:80 -> blue, blue sees red" 192.168.15.1 \
	"$(ask "$P-red" tcp $UPLINK_ADDR 80)"
check_eq "hairpin: blue -> uplink:5353/udp -> green, green sees blue" 192.168.15.2 \
	"$(ask "$P-blue" udp $UPLINK_ADDR 5353)"

# Isolation: a LAN host routing the bridge's subnet via the host reaches nothing.
ip -n "$LAN" route add 192.168.15.0/24 via $UPLINK_ADDR
d0=$(fwd_counter "$topo" drop_not_forwarded)
check "isolation: lan -> blue (routed via the host) ping fails" bash -c "! ip netns exec $LAN ping -c 1 -W 1 -q 192.168.15.2 >/dev/null 2>&1"
check_eq "isolation: lan -> blue:80 directly fails" "" "$(ask "$LAN" tcp 192.168.15.2 80)"
check "isolation: the drops are counted" test "$(fwd_counter "$topo" drop_not_forwarded)" -gt "$d0"
ip -n "$LAN" route del 192.168.15.0/24 via $UPLINK_ADDR

# 1,000 short connections through a forward.
cat >"$WORK/serve.py" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(128)
while True:
    c, _ = s.accept()
    c.sendall(b"ok\n")
    c.close()
PY
cat >"$WORK/crr.py" <<'PY'
import socket, sys
ok = 0
for i in range(int(sys.argv[3])):
    try:
        c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
        if c.recv(3) == b"ok\n":
            ok += 1
        c.close()
    except OSError as e:
        print("connection %d: %s" % (i, e), file=sys.stderr)
print(ok)
PY
in_ns "$P-red" python3 "$WORK/serve.py" 7100 >/dev/null 2>&1 &
wait_for 3000 listening "$P-red" tcp 7100
check_eq "1000 short connections lan -> uplink:9100 -> red:7100 all succeed" 1000 \
	"$(in_ns "$LAN" timeout 60 python3 "$WORK/crr.py" $UPLINK_ADDR 9100 1000)"

# 20 MB through a forward: the host's netfilter sees (almost) none of it.
for hook in PREROUTING FORWARD POSTROUTING; do
	for dir in --sport --dport; do
		in_ns "$HOST" iptables -t mangle -I $hook -p tcp $dir 8007 -m comment --comment fwdbulk
	done
done
bulk_seen() {
	in_ns "$HOST" iptables -t mangle -nvxL | awk '/fwdbulk/ {n += $1} END {print n + 0}'
}
bytes=$((20 * 1024 * 1024))
# Bytes, not packets: GRO/GSO hand the program 64 KB super-packets, so 20 MB can be ~350 packets.
dnat0=$(fwd_counter "$topo" dnat bytes) reply0=$(fwd_counter "$topo" dnat_reply)
in_ns "$P-yellow" sh -c "socat -u TCP-LISTEN:8007,reuseaddr - | wc -c >'$WORK/rx'" &
wait_for 3000 listening "$P-yellow" tcp 8007
head -c $bytes /dev/zero | in_ns "$LAN" timeout 30 socat -u - TCP:$UPLINK_ADDR:8007
wait_for 10000 test -s "$WORK/rx"
check_eq "20 MB lan -> uplink:8007 -> yellow arrive" $bytes "$(cat "$WORK/rx" 2>/dev/null)"
seen=$(bulk_seen)
check "host netfilter saw at most 10 packets of the forwarded 20 MB ($seen)" test "$seen" -le 10
dnat=$(($(fwd_counter "$topo" dnat bytes) - dnat0)) reply=$(($(fwd_counter "$topo" dnat_reply) - reply0))
check "fwd's dnat counter shows the 20 MB ($dnat bytes)" test "$dnat" -ge $bytes
check "fwd's dnat_reply counter shows its acks ($reply packets)" test "$reply" -gt 10

check_eq "the lan never saw a namespace source address" 0 "$(leaks)"
drops=$("$FWDCTL" -j -n "$HOST" stats "$topo" | python3 -c '
import json, sys
print(" ".join("%s=%d" % (c["name"], c["packets"]) for c in json.load(sys.stdin)["counters"]
               if c["kind"] == "drop" and c["packets"] and c["name"] != "drop_not_forwarded"))')
check_eq "no drops counted but the isolation ones" "" "$drops"

for ns in $(ip netns list | awk '{print $1}' | grep "^$P-"); do
	ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
done
check "down" "$FWDCTL" -q -n "$HOST" down "$topo"

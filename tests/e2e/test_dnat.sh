#!/bin/bash
# Forwards in BPF (datapath bpf): the uplink's forwarded ports reach their namespaces with the
# client's address kept, replies leave as the uplink's address and port, nothing else from the
# LAN reaches a namespace, the host's own services keep their ports, and a namespace reaches a
# forward through the uplink's address (hairpin). No iptables rule is installed at all.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

sandbox_up || { fail "sandbox"; exit 1; }
topo=${P}d
conf=$(lab_conf "$topo" bpf)

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

# The host's own connections to a forward (fwd_sock, on the root of the cgroup v2 hierarchy):
# pointed at the target before routing, so the target sees the host's address on the bridge
# (the source the route to 192.168.15.0/24 picks), and the socket reads the uplink's address
# back. A port the uplink does not forward stays the host's own; sockets of any other namespace
# are never rewritten.
h0=$(fwd_counter "$topo" host_dnat)
check_eq "host -> uplink:80 -> blue, blue sees the host's bridge address" 192.168.15.5 \
	"$(ask "$HOST" tcp $UPLINK_ADDR 80)"
check_eq "host -> uplink:5353/udp -> green (connected udp)" 192.168.15.5 \
	"$(ask "$HOST" udp $UPLINK_ADDR 5353)"
check_eq "host's connections counted in host_dnat" $((h0 + 2)) "$(fwd_counter "$topo" host_dnat)"
# host_dnat counts calls, not frames: an "event", left out of the frame total.
check_eq "stats: host_dnat is an event, the total sums the frame counters only" "event ok" \
	"$("$FWDCTL" -j -n "$HOST" stats "$topo" | python3 -c '
import json, sys
d = json.load(sys.stdin)
c = {x["name"]: x for x in d["counters"]}
frames = sum(x["packets"] for x in d["counters"] if x["kind"] != "event")
print(c["host_dnat"]["kind"], "ok" if d["packets"] == frames else "total %d, frames %d" % (d["packets"], frames))')"
cat >"$WORK/host_sock.py" <<'PY'
import socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(3)
u.sendto(b"x\n", (sys.argv[1], 5353))
data, src = u.recvfrom(100)
t = socket.create_connection((sys.argv[1], 80), timeout=3)
print("%s:%d %s" % (src[0], src[1], data.decode().strip()),
      "%s:%d %s" % (t.getpeername() + (t.recv(100).decode().strip(),)))
PY
check_eq "host: unconnected udp answered from uplink:5353, getpeername says uplink:80" \
	"$UPLINK_ADDR:5353 192.168.15.5 $UPLINK_ADDR:80 192.168.15.5" \
	"$(in_ns "$HOST" timeout 10 python3 "$WORK/host_sock.py" $UPLINK_ADDR 2>&1)"
h1=$(fwd_counter "$topo" host_dnat)
check_eq "host -> uplink:7050 (not forwarded) still reaches the host's own server" $UPLINK_ADDR \
	"$(ask "$HOST" tcp $UPLINK_ADDR 7050)"
check_eq "lan -> uplink:80 is tc's, not the host's (blue sees the lan peer)" $LAN_ADDR \
	"$(ask "$LAN" tcp $UPLINK_ADDR 80)"
# The machine's own namespace: connect() of a UDP socket sends nothing, but runs the hook.
root_peer=$(timeout 5 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.connect((sys.argv[1], 5353))
    print("%s:%d" % s.getpeername())
except OSError:
    print("unreachable")' $UPLINK_ADDR)
check "root namespace: udp connect to uplink:5353 not rewritten ($root_peer)" \
	test "$root_peer" = "$UPLINK_ADDR:5353" -o "$root_peer" = unreachable
check_eq "no host_dnat for the unforwarded port, the lan nor the root namespace" "$h1" \
	"$(fwd_counter "$topo" host_dnat)"

# Isolation: a LAN host routing the bridge's subnet via the host reaches nothing.
ip -n "$LAN" route add 192.168.15.0/24 via $UPLINK_ADDR
d0=$(fwd_counter "$topo" drop_not_forwarded)
check "isolation: lan -> blue (routed via the host) ping fails" bash -c "! ip netns exec $LAN ping -c 1 -W 1 -q 192.168.15.2 >/dev/null 2>&1"
check_eq "isolation: lan -> blue:80 directly fails" "" "$(ask "$LAN" tcp 192.168.15.2 80)"
check "isolation: the drops are counted" test "$(fwd_counter "$topo" drop_not_forwarded)" -gt "$d0"
ip -n "$LAN" route del 192.168.15.0/24 via $UPLINK_ADDR

# 1,000 short connections through a forward.
short_server "$P-red" 7100
check_eq "1000 short connections lan -> uplink:9100 -> red:7100 all succeed" 1000 \
	"$(short_conns "$LAN" $UPLINK_ADDR 9100 1000)"

# 20 MB through a forward: the host's netfilter sees (almost) none of it.
netfilter_watch 8007
bytes=$((20 * 1024 * 1024))
# Bytes, not packets: GRO/GSO hand the program 64 KB super-packets, so 20 MB can be ~350 packets.
dnat0=$(fwd_counter "$topo" dnat bytes) reply0=$(fwd_counter "$topo" dnat_reply)
in_ns "$P-yellow" sh -c "socat -u TCP-LISTEN:8007,reuseaddr - | wc -c >'$WORK/rx'" &
wait_for 3000 listening "$P-yellow" tcp 8007
head -c $bytes /dev/zero | in_ns "$LAN" timeout 30 socat -u - TCP:$UPLINK_ADDR:8007
wait_for 10000 test -s "$WORK/rx"
check_eq "20 MB lan -> uplink:8007 -> yellow arrive" $bytes "$(cat "$WORK/rx" 2>/dev/null)"
seen=$(netfilter_seen)
check "host netfilter saw at most 10 packets of the forwarded 20 MB ($seen)" test "$seen" -le 10
dnat=$(($(fwd_counter "$topo" dnat bytes) - dnat0)) reply=$(($(fwd_counter "$topo" dnat_reply) - reply0))
check "fwd's dnat counter shows the 20 MB ($dnat bytes)" test "$dnat" -ge $bytes
check "fwd's dnat_reply counter shows its acks ($reply packets)" test "$reply" -gt 10

check_eq "the lan never saw a namespace source address" 0 "$(lan_leaks)"
drops=$("$FWDCTL" -j -n "$HOST" stats "$topo" | python3 -c '
import json, sys
print(" ".join("%s=%d" % (c["name"], c["packets"]) for c in json.load(sys.stdin)["counters"]
               if c["kind"] == "drop" and c["packets"] and c["name"] != "drop_not_forwarded"))')
check_eq "no drops counted but the isolation ones" "" "$drops"

for ns in $(ip netns list | awk '{print $1}' | grep "^$P-"); do
	ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
done
# The cgroup programs of this topology, as status lists them, are gone after down.
cg=$("$FWDCTL" -j -n "$HOST" status "$topo" | python3 -c '
import json, sys
c = json.load(sys.stdin)["bpf"]["cgroup"]
print(c["path"], " ".join(str(a["id"]) for a in c["attached"] if a["attached"]))')
cg_root=${cg%% *} cg_ids=${cg#* }
read -ra cg_id_list <<<"$cg_ids"
check_eq "status lists four cgroup programs attached" 4 "$(wc -w <<<"$cg_ids")"
check "down" "$FWDCTL" -q -n "$HOST" down "$topo"
# bpftool prints nothing at all (no "[]") for a cgroup without programs.
left=$(bpftool -j cgroup show "$cg_root" | python3 -c '
import json, sys
text, ids = sys.stdin.read().strip(), set(sys.argv[1:])
print(" ".join(p["name"] for p in json.loads(text or "[]")
               if str(p["id"]) in ids or p["name"].startswith("fwd_")))' "${cg_id_list[@]}")
check_eq "after down nothing of fwd is attached to $cg_root" "" "$left"

#!/bin/bash
# Masquerade in BPF (datapath bpf): namespaces reach the LAN as the uplink's address, replies
# and ICMP errors find their way back, ports are kept or allocated per connection, and the
# host's netfilter stays out of it. A counter in the LAN namespace watches for any packet with
# a namespace source address, for the whole test: SNAT never lets one out untranslated.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

sandbox_up || { fail "sandbox"; exit 1; }
topo=${P}s
conf=$(lab_conf "$topo" bpf noforwards)
NSS="$P-red $P-blue $P-green $P-yellow"

# The leak detector: every packet entering the LAN namespace from a namespace address.
"$FWDCTL" -q -n "$HOST" up "$conf" || { fail "up"; exit 1; }
check "no iptables rules: datapath bpf masquerades in BPF" \
	bash -c "! ip netns exec $HOST iptables-save | grep -q -- '-A FWD-'"

peer_server "$LAN" tcp 7002
peer_server "$LAN" udp 7003
for ns in $NSS; do
	n=${ns#"$P"-}
	check "$n -> lan ping" pingable "$ns" $LAN_ADDR
	check_eq "$n -> lan tcp, lan sees the uplink address" $UPLINK_ADDR "$(ask "$ns" tcp $LAN_ADDR 7002)"
	check_eq "$n -> lan udp, lan sees the uplink address" $UPLINK_ADDR "$(ask "$ns" udp $LAN_ADDR 7003)"
done
check "host's own traffic on the uplink still works (host -> lan ping)" pingable "$HOST" $LAN_ADDR
check_eq "host -> lan tcp from the uplink address" $UPLINK_ADDR "$(ask "$HOST" tcp $LAN_ADDR 7002)"

# ICMP errors come back translated: a datagram to a closed port is refused in the namespace.
check_eq "red -> lan closed udp port: port unreachable reaches red's socket" refused \
	"$(udp_verdict "$P-red" $LAN_ADDR 7999)"

# Four namespaces, one source port, one server, at the same moment: four mappings.
# shellcheck disable=SC2016 # $SOCAT_PEERPORT is for the shell socat starts
in_ns "$LAN" socat TCP-LISTEN:7010,reuseaddr,fork SYSTEM:'echo $SOCAT_PEERPORT; sleep 2' \
	>/dev/null 2>&1 &
wait_for 3000 listening "$LAN" tcp 7010
clients=()
for ns in $NSS; do
	in_ns "$ns" timeout 5 socat -u TCP:$LAN_ADDR:7010,sourceport=45000 - >"$WORK/port.$ns" 2>&1 &
	clients+=($!)
done
sleep 1
ct=$("$FWDCTL" -j -n "$HOST" ct "$topo" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join(sorted(str(c["translated"]["sport"]) for c in d["connections"]
                      if c["original"]["sport"] == 45000 and c["original"]["dport"] == 7010)))')
wait "${clients[@]}"
seen=$(cat "$WORK"/port.* | sort -u | wc -l)
check_eq "four namespaces with source port 45000: four entries in fwdctl ct" 4 "$(wc -w <<<"$ct")"
check_eq "... with four distinct translated ports ($ct)" 4 "$(tr ' ' '\n' <<<"$ct" | sort -u | wc -l)"
check_eq "... and the lan server saw four distinct peer ports" 4 "$seen"
check "... one of them kept 45000" grep -qx 45000 <(cat "$WORK"/port.*)
"$FWDCTL" -n "$HOST" ct "$topo" >"$WORK/ct.txt"
check "fwdctl ct (text) lists the connections" grep -q "^tcp .*:45000 -> $LAN_ADDR:7010 " "$WORK/ct.txt"

# 2,000 short connections in a row, each a full open/answer/close.
short_server "$LAN" 7020
check_eq "2000 short connections from red all succeed" 2000 \
	"$(short_conns "$P-red" $LAN_ADDR 7020 2000)"

# A connection survives a reload: the map pins (and the connection table) stay.
cat >"$WORK/keep.py" <<'PY'
import os, socket, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
c.sendall(b"a\n"); a = c.recv(10)
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)
c.sendall(b"b\n"); b = c.recv(10)
print(a.decode().strip() + b.decode().strip())
PY
in_ns "$LAN" socat TCP-LISTEN:7030,reuseaddr PIPE >/dev/null 2>&1 &
wait_for 3000 listening "$LAN" tcp 7030
in_ns "$P-blue" timeout 20 python3 "$WORK/keep.py" $LAN_ADDR 7030 "$WORK/reloaded" >"$WORK/keep.out" 2>&1 &
keeper=$!
sleep 0.5
check "up again (reload) while a connection is open" "$FWDCTL" -q -n "$HOST" up "$conf"
touch "$WORK/reloaded"
wait $keeper
check_eq "the connection carries on after the reload" ab "$(cat "$WORK/keep.out")"

# 20 MB each way; the host's netfilter sees (almost) none of it, fwd's counters all of it.
netfilter_watch 7040
bytes=$((20 * 1024 * 1024))
# Bytes, not packets: GRO/GSO hand the program 64 KB super-packets, so 20 MB can be ~350 packets.
snat0=$(fwd_counter "$topo" snat bytes) reply0=$(fwd_counter "$topo" snat_reply bytes)
frames0=$(fwd_counter "$topo" snat) lookups0=$(fwd_counter "$topo" fib_lookup)
in_ns "$LAN" sh -c "socat -u TCP-LISTEN:7040,reuseaddr - | wc -c >'$WORK/up.rx'" &
wait_for 3000 listening "$LAN" tcp 7040
head -c $bytes /dev/zero | in_ns "$P-green" timeout 30 socat -u - TCP:$LAN_ADDR:7040
wait_for 10000 test -s "$WORK/up.rx"
check_eq "20 MB green -> lan arrive" $bytes "$(cat "$WORK/up.rx" 2>/dev/null)"
in_ns "$LAN" sh -c "head -c $bytes /dev/zero | socat -u - TCP-LISTEN:7040,reuseaddr" &
wait_for 3000 listening "$LAN" tcp 7040
check_eq "20 MB lan -> yellow arrive (download over the reply path)" $bytes \
	"$(in_ns "$P-yellow" timeout 30 socat -u TCP:$LAN_ADDR:7040 - | wc -c)"
seen=$(netfilter_seen)
check "host netfilter saw at most 10 packets of 40 MB masqueraded ($seen)" test "$seen" -le 10
snat=$(($(fwd_counter "$topo" snat bytes) - snat0)) reply=$(($(fwd_counter "$topo" snat_reply bytes) - reply0))
check "fwd's snat counter shows the 20 MB upload ($snat bytes)" test "$snat" -ge $bytes
check "fwd's snat_reply counter shows the 20 MB download ($reply bytes)" test "$reply" -ge $bytes
# The route cache: a lookup per flow and CPU every 100 ms at most, not one per frame.
frames=$(($(fwd_counter "$topo" snat) - frames0)) lookups=$(($(fwd_counter "$topo" fib_lookup) - lookups0))
check "route lookups are a fraction of the masqueraded frames ($lookups for $frames)" \
	test $((lookups * 4)) -le "$frames" -a "$lookups" -ge 1

check "fwdctl ct flush" "$FWDCTL" -n "$HOST" ct "$topo" flush
check_eq "the table is empty after a flush" 0 \
	"$("$FWDCTL" -j -n "$HOST" ct "$topo" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')"
check "after the flush, red still reaches the lan" pingable "$P-red" $LAN_ADDR

drops=$("$FWDCTL" -j -n "$HOST" stats "$topo" | python3 -c '
import json, sys
print(" ".join("%s=%d" % (c["name"], c["packets"]) for c in json.load(sys.stdin)["counters"]
               if c["kind"] == "drop" and c["packets"]))')
check_eq "no drops counted" "" "$drops"
check_eq "the lan never saw a namespace source address" 0 "$(lan_leaks)"

for ns in $NSS "$LAN"; do ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null; done
check "down" "$FWDCTL" -q -n "$HOST" down "$topo"
check "down removed the pins" test ! -e "/sys/fs/bpf/fwd/$topo"
check "down detached the uplink program" bash -c "! tc -n $HOST filter show dev up0 ingress | grep -q fwd"

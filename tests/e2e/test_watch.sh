#!/bin/bash
# fwdctl watch: the uplink's address changes (a DHCP renewal, a failover: 10.77.0.1 goes,
# 10.77.0.9 takes its place) while a masqueraded and a forwarded connection are tracked; within
# a second new connections leave translated to the new address and the forwards answer on it,
# and the connections of the old address are gone. Then SIGTERM: exit 0. Both datapaths. And
# IPv6: a forward published on the uplink's first IPv6 address follows that address.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

NEW_ADDR=10.77.0.9
sandbox_up || { fail "sandbox"; exit 1; }
# The secondary becomes the primary when the primary goes, as on a host that renumbers.
in_ns "$HOST" sysctl -qw net.ipv4.conf.up0.promote_secondaries=1
before=$(snapshot)
peer_server "$LAN" udp 7003
peer_server "$LAN" tcp 7002

# seen_as NS ADDR PORT: the address the LAN's TCP server at ADDR:PORT saw NS come from, or ""
# after 300 ms (short: this polls).
seen_as() {
	# shellcheck disable=SC2016 # the inner bash expands its own arguments
	in_ns "$1" timeout 1 bash -c 'exec 3<>/dev/tcp/$0/$1 && timeout 0.3 head -n 1 <&3' "$2" "$3" 2>/dev/null
}
masq_is() { [ "$(seen_as "$P-red" $LAN_ADDR 7002)" = "$1" ]; }
forward_answers() { [ "$(seen_as "$LAN" "$1" 80)" = $LAN_ADDR ]; }
# old_conns: connections of fwd's table still translated to or addressed at the old address.
old_conns() {
	"$FWDCTL" -j -n "$HOST" ct "$topo" | python3 -c '
import json, sys
print(sum(1 for c in json.load(sys.stdin)["connections"]
          if sys.argv[1] in (c["translated"]["src"], c["original"]["dst"])))' $UPLINK_ADDR
}

for dp in ${DATAPATHS:-kernel bpf}; do
	T="$dp:"
	topo=${P}${dp:0:1}
	conf=$(lab_conf "$topo" "$dp")
	check "$T up" "$FWDCTL" -q -n "$HOST" up "$conf"
	peer_server "$P-blue" tcp 80
	peer_server "$P-green" udp 53
	setsid "$FWDCTL" -n "$HOST" watch "$topo" >"$WORK/watch.log" 2>&1 &
	watcher=$!
	SANDBOX_PIDS+=("$watcher")
	check "$T watch starts" wait_for 5000 grep -q "watching the uplink addresses of 1 topology" "$WORK/watch.log"

	# A masqueraded and a forwarded connection, tracked with the old address.
	check_eq "$T before: yellow -> lan udp, from the uplink's address" $UPLINK_ADDR \
		"$(ask "$P-yellow" udp $LAN_ADDR 7003)"
	check_eq "$T before: lan -> uplink:5353 -> green" $LAN_ADDR "$(ask "$LAN" udp $UPLINK_ADDR 5353)"
	[ "$dp" = bpf ] && check "$T before: fwd's table holds them" test "$(old_conns)" -ge 2

	in_ns "$HOST" ip addr add $NEW_ADDR/24 dev up0
	start=$(date +%s%3N)
	in_ns "$HOST" ip addr del $UPLINK_ADDR/24 dev up0
	wait_for 5000 masq_is $NEW_ADDR
	took=$(($(date +%s%3N) - start))
	check "$T masqueraded to the new address within a second (${took} ms)" test "$took" -le 1000
	check "$T the forward answers on the new address" wait_for 1000 forward_answers $NEW_ADDR
	check_eq "$T lan -> new:5353/udp -> green" $LAN_ADDR "$(ask "$LAN" udp $NEW_ADDR 5353)"
	check_eq "$T the old address forwards nothing" "" "$(seen_as "$LAN" $UPLINK_ADDR 80)"
	[ "$dp" = bpf ] && check_eq "$T the connections of the old address are gone" 0 "$(old_conns)"
	check "$T watch said what it did" grep -q "address $UPLINK_ADDR -> $NEW_ADDR: topology $topo follows" "$WORK/watch.log"

	# And back, for the next datapath.
	in_ns "$HOST" ip addr add $UPLINK_ADDR/24 dev up0
	in_ns "$HOST" ip addr del $NEW_ADDR/24 dev up0
	check "$T back to the first address" wait_for 3000 masq_is $UPLINK_ADDR
	kill -TERM "$watcher"
	sandbox_wait "$watcher"
	check_eq "$T watch exits 0 on SIGTERM" 0 $?
	stop_servers
	peer_server "$LAN" udp 7003
	peer_server "$LAN" tcp 7002
	check "$T down" "$FWDCTL" -q -n "$HOST" down "$topo"
done

# IPv6: a dual-stack lab whose forward to blue is also published on the uplink's first global
# IPv6 address (ip6tables DNAT); that address changes (fd77::1 goes, fd77::9 comes): watch
# brings the topology up again and the forward answers on the new one, the LAN's address kept.
in_ns "$HOST" ip addr add fd77::1/64 dev up0 nodad
in_ns "$LAN" ip addr add fd77::2/64 dev lan0 nodad
# seen6_as ADDR: the address the server behind the forward at [ADDR]:80 saw the LAN come from
# (socat writes it in full, bracketed: printed in RFC 5952's form)
seen6_as() {
	in_ns "$LAN" timeout 1 python3 -c '
import ipaddress, socket, sys
try:
    seen = socket.create_connection((sys.argv[1], 80), timeout=0.3).recv(100).decode()
    print(ipaddress.ip_address(seen.strip().strip("[]")))
except (OSError, ValueError):
    pass' "$1"
}
forward6_answers() { [ "$(seen6_as "$1")" = fd77::2 ]; }
for dp in ${DATAPATHS:-kernel bpf}; do
	T="$dp IPv6:"
	topo=${P}6${dp:0:1}
	cat >"$WORK/$topo.conf" <<CONF
topology $topo
datapath $dp
bridge vnet0 192.168.15.5/24 fd00:15::5/64
uplink up0
masquerade 192.168.15.0/24
namespace $P-blue 192.168.15.2 fd00:15::2
forward tcp 80 $P-blue:80
CONF
	check "$T up" "$FWDCTL" -q -n "$HOST" up "$WORK/$topo.conf"
	# shellcheck disable=SC2016 # $SOCAT_PEERADDR is for the shell socat starts
	sandbox_spawn "$P-blue" /dev/null socat "TCP6-LISTEN:80,reuseaddr,fork" SYSTEM:'echo $SOCAT_PEERADDR'
	wait_for 3000 listening "$P-blue" tcp 80 || fail "$T server did not start"
	setsid "$FWDCTL" -n "$HOST" watch "$topo" >"$WORK/watch6.log" 2>&1 &
	watcher=$!
	SANDBOX_PIDS+=("$watcher")
	check "$T watch starts" wait_for 5000 grep -q "watching the uplink addresses of 1 topology" "$WORK/watch6.log"
	check "$T LAN -> [fd77::1]:80 -> blue, the LAN's address kept" forward6_answers fd77::1
	in_ns "$HOST" ip addr add fd77::9/64 dev up0 nodad
	in_ns "$HOST" ip addr del fd77::1/64 dev up0
	check "$T the forward answers on the new IPv6 address" wait_for 3000 forward6_answers fd77::9
	check "$T watch said what it did" grep -q "IPv6 address .* -> fd77::9: topology $topo follows" "$WORK/watch6.log"
	# and back
	in_ns "$HOST" ip addr add fd77::1/64 dev up0 nodad
	in_ns "$HOST" ip addr del fd77::9/64 dev up0
	check "$T back on the first IPv6 address" wait_for 3000 forward6_answers fd77::1
	kill -TERM "$watcher"
	sandbox_wait "$watcher"
	check_eq "$T watch exits 0 on SIGTERM" 0 $?
	stop_servers
	check "$T down" "$FWDCTL" -q -n "$HOST" down "$topo"
done
stop_servers
in_ns "$HOST" ip addr del fd77::1/64 dev up0
in_ns "$LAN" ip addr del fd77::2/64 dev lan0
check_eq "the sandbox is as it was" "$before" "$(snapshot)"
finish

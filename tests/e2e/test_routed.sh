#!/bin/bash
# Routed subnets between hosts (route NET via ADDR), issue 22: two sandbox hosts on one LAN,
# each with its own topology, each routing the other's subnet through the LAN. The namespaces
# of host A reach those of host B by their own addresses, both ways, untranslated; the LAN
# still sees the rest masqueraded and reaches no namespace directly; under isolate a routed
# subnet gets in only as an allow line says (replies always). Both datapaths, then a mix.
#
#   lan ns: lanbr 10.77.0.2/24 (a bridge) ---- lan0 === up0 10.77.0.1  host A  vnet0 192.168.15.5/24
#                                        \---- lanb === up0 10.77.0.3  host B  vnet0 192.168.16.5/24
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

HOSTB=$P-hostb
B_UPLINK=10.77.0.3
TA=$P-a TB=$P-b
A1=$P-a1 A2=$P-a2 B1=$P-b1

# Down B before the sandbox goes (lib.sh's finish downs only what runs in $HOST).
down_b() { "$FWDCTL" -q -n "$HOSTB" down "$TB" 2>/dev/null || true; }
trap 'down_b; finish' EXIT

sandbox_up || { fail "sandbox"; exit 1; }
# The LAN becomes a bridge with both hosts on it. Bridged frames between the hosts must not go
# through the LAN's own iptables, where the leak watch counts what reaches the LAN host itself.
{
	ip -n "$LAN" link add lanbr type bridge &&
		ip -n "$LAN" addr del $LAN_ADDR/24 dev lan0 &&
		ip -n "$LAN" link set lan0 master lanbr &&
		ip -n "$LAN" addr add $LAN_ADDR/24 dev lanbr &&
		ip -n "$LAN" link set lanbr up &&
		sandbox_ns_add "$HOSTB" &&
		sandbox_veth "$HOSTB" up0 $B_UPLINK/24 "$LAN" lanb "" &&
		ip -n "$LAN" link set lanb master lanbr
} || { fail "the LAN bridge and host B"; exit 1; }
if [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]; then
	in_ns "$LAN" sysctl -qw net.bridge.bridge-nf-call-iptables=0
fi
in_ns "$LAN" iptables -t raw -I PREROUTING -s 192.168.16.0/24 -m comment --comment fwdleak
# The LAN host routes both subnets to their hosts, as a LAN router would: still it reaches
# no namespace but through a forward.
ip -n "$LAN" route add 192.168.15.0/24 via $UPLINK_ADDR
ip -n "$LAN" route add 192.168.16.0/24 via $B_UPLINK
before=$(snapshot)

# conf_a DATAPATH [isolate]: host A's topology; conf_b DATAPATH: host B's.
conf_a() {
	cat >"$WORK/a.conf" <<CONF
topology $TA
datapath $1
bridge vnet0 192.168.15.5/24
uplink up0
masquerade 192.168.15.0/24
namespace $A1 192.168.15.1
namespace $A2 192.168.15.2
forward tcp 80 $A2:80
route 192.168.16.0/24 via $B_UPLINK
CONF
	if [ "${2:-}" = isolate ]; then
		printf 'isolate\nallow 192.168.16.0/24 -> %s tcp 7000\n' "$A1" >>"$WORK/a.conf"
	fi
}
conf_b() {
	cat >"$WORK/b.conf" <<CONF
topology $TB
datapath $1
bridge vnet0 192.168.16.5/24
uplink up0
masquerade 192.168.16.0/24
namespace $B1 192.168.16.1
route 192.168.15.0/24 via $UPLINK_ADDR
CONF
}
# counter_b NAME: a counter of B's topology.
counter_b() { HOST=$HOSTB fwd_counter "$TB" "$1"; }
json_routes() { python3 -c 'import json, sys; print(json.load(sys.stdin)["routes"])'; }
has_route() { ip -n "$1" route show "$2" | grep -q "via $3 dev up0"; }

servers() {
	peer_server "$A1" tcp 7000
	peer_server "$A1" tcp 7001
	peer_server "$A1" udp 7002
	named_server "$A2" 80 a2
	peer_server "$A2" tcp 7000
	peer_server "$B1" tcp 7000
	peer_server "$B1" udp 7002
	peer_server "$LAN" tcp 7000
}

# round DA DB: A on datapath DA, B on DB; every path between them.
round() {
	local da=$1 db=$2 T="$1/$2"
	local out_a out_b in_a
	conf_a "$da"
	conf_b "$db"
	check "$T: up A" "$FWDCTL" -q -n "$HOST" up "$WORK/a.conf"
	check "$T: up B" "$FWDCTL" -q -n "$HOSTB" up "$WORK/b.conf"
	check "$T: host A routes 192.168.16.0/24 via B" has_route "$HOST" 192.168.16.0/24 $B_UPLINK
	check "$T: status shows the route in the host's table" sh -c "'$FWDCTL' -n '$HOST' status '$TA' | grep -q 'route 192.168.16.0/24 via $B_UPLINK  in the host'"
	check_eq "$T: ... -j too" "[{'net': '192.168.16.0/24', 'via': '$B_UPLINK', 'present': True}]" \
		"$("$FWDCTL" -j -n "$HOST" status "$TA" | json_routes)"
	check "$T: host B routes 192.168.15.0/24 via A" has_route "$HOSTB" 192.168.15.0/24 $UPLINK_ADDR
	servers
	[ "$da" = bpf ] && out_a=$(fwd_counter "$TA" routed_out) in_a=$(fwd_counter "$TA" routed_in)
	[ "$db" = bpf ] && out_b=$(counter_b routed_out)
	netfilter_watch 7000
	check_eq "$T: a1 -> b1 tcp, a1's own address seen" 192.168.15.1 "$(ask "$A1" tcp 192.168.16.1 7000)"
	check_eq "$T: a1 -> b1 udp, a1's own address seen" 192.168.15.1 "$(ask "$A1" udp 192.168.16.1 7002)"
	check_eq "$T: b1 -> a1 tcp, b1's own address seen" 192.168.16.1 "$(ask "$B1" tcp 192.168.15.1 7000)"
	check_eq "$T: b1 -> a1 udp, b1's own address seen" 192.168.16.1 "$(ask "$B1" udp 192.168.15.1 7002)"
	check_eq "$T: b1 -> a2 tcp" 192.168.16.1 "$(ask "$B1" tcp 192.168.15.2 7000)"
	check "$T: a1 -> b1 ping" pingable "$A1" 192.168.16.1
	check "$T: b1 -> a2 ping" pingable "$B1" 192.168.15.2
	check "$T: b1 -> host A's gateway address ping" pingable "$B1" 192.168.15.5
	check_eq "$T: a1 -> the LAN, still masqueraded" $UPLINK_ADDR "$(ask "$A1" tcp $LAN_ADDR 7000)"
	check_eq "$T: b1 -> the LAN, still masqueraded" $B_UPLINK "$(ask "$B1" tcp $LAN_ADDR 7000)"
	check_eq "$T: b1 -> A's forward (masqueraded by B, as to any LAN host)" "a2 $B_UPLINK" \
		"$(ask "$B1" tcp $UPLINK_ADDR 80)"
	check_eq "$T: the LAN, routing 192.168.15.0/24 via A, reaches no namespace" "" \
		"$(ask "$LAN" tcp 192.168.15.1 7000)"
	check_eq "$T: the LAN reaches none of B's either" "" "$(ask "$LAN" tcp 192.168.16.1 7000)"
	if [ "$da" = bpf ]; then
		check "$T: A's programs routed them out (routed_out counted)" \
			test "$(fwd_counter "$TA" routed_out)" -gt "$out_a"
		check "$T: ... and in (routed_in counted)" \
			test "$(fwd_counter "$TA" routed_in)" -gt "$in_a"
		check "$T: ... and dropped the LAN's (drop_not_forwarded)" \
			test "$(fwd_counter "$TA" drop_not_forwarded)" -gt 0
		check_eq "$T: host A's netfilter saw none of the routed tcp/7000 connections" 0 \
			"$(netfilter_seen)"
	else
		check "$T: host A's netfilter forwarded them (the kernel datapath)" \
			test "$(netfilter_seen)" -gt 0
	fi
	[ "$db" = bpf ] &&
		check "$T: B's programs routed them out too" test "$(counter_b routed_out)" -gt "$out_b"
	in_ns "$HOST" iptables -t mangle -F
	stop_servers

	# isolate on A: B's subnet opens connections to a1's tcp/7000 only; a1 still opens
	# connections to B (the replies come back).
	conf_a "$da" isolate
	check "$T isolate: up A" "$FWDCTL" -q -n "$HOST" up "$WORK/a.conf"
	servers
	check_eq "$T isolate: b1 -> a1 tcp/7000, allowed" 192.168.16.1 "$(ask "$B1" tcp 192.168.15.1 7000)"
	check_eq "$T isolate: b1 -> a1 tcp/7001, not allowed" "" "$(ask "$B1" tcp 192.168.15.1 7001)"
	check_eq "$T isolate: b1 -> a2 tcp/7000, not allowed" "" "$(ask "$B1" tcp 192.168.15.2 7000)"
	check_eq "$T isolate: b1 -> a1 udp, not allowed" silence "$(udp_verdict "$B1" 192.168.15.1 7002)"
	check_eq "$T isolate: a1 -> b1 tcp, the reply gets in" 192.168.15.1 "$(ask "$A1" tcp 192.168.16.1 7000)"
	check_eq "$T isolate: a2 -> b1 udp, the reply gets in" 192.168.15.2 "$(ask "$A2" udp 192.168.16.1 7002)"
	check_eq "$T isolate: b1 -> A's forward still" "a2 $B_UPLINK" "$(ask "$B1" tcp $UPLINK_ADDR 80)"
	[ "$da" = bpf ] &&
		check "$T isolate: drop_isolated counted" test "$(fwd_counter "$TA" drop_isolated)" -gt 0
	stop_servers

	check "$T: down A" "$FWDCTL" -q -n "$HOST" down "$TA"
	check "$T: down B" "$FWDCTL" -q -n "$HOSTB" down "$TB"
	check_eq "$T: host A's route is gone" "" "$(ip -n "$HOST" route show 192.168.16.0/24)"
	check_eq "$T: host B's route is gone" "" "$(ip -n "$HOSTB" route show 192.168.15.0/24)"
}

round bpf bpf
round kernel kernel
round bpf kernel

# A topology of this host whose subnet another one routes via the LAN: refused, naming both.
conf_a bpf
check "conflicts: up A" "$FWDCTL" -q -n "$HOST" up "$WORK/a.conf"
printf 'topology %s\nbridge vnet9 192.168.16.5/24\nnamespace %s 192.168.16.1\n' "$P-c" "$P-c1" >"$WORK/c.conf"
"$FWDCTL" -n "$HOST" up "$WORK/c.conf" >"$WORK/conflict.out" 2>&1
check_eq "a topology on a subnet A routes: up fails (a conflict)" 2 $?
check "... naming A's route line" grep -q "c.conf:2: subnet 192.168.16.0/24 is routed via the LAN by another topology (topology $TA, $WORK/a.conf:9)" "$WORK/conflict.out"
# The route deleted by hand: status says so, and up puts it back.
ip -n "$HOST" route del 192.168.16.0/24
check "status shows a route deleted by hand as missing" sh -c "'$FWDCTL' -n '$HOST' status '$TA' | grep -q 'route 192.168.16.0/24 via $B_UPLINK  MISSING'"
check "up again" "$FWDCTL" -q -n "$HOST" up "$WORK/a.conf"
check "... puts it back" has_route "$HOST" 192.168.16.0/24 $B_UPLINK
check "down A" "$FWDCTL" -q -n "$HOST" down "$TA"

# A route the host has already is someone else's: refused, and down leaves it alone.
ip -n "$HOST" route add 192.168.16.0/24 via $B_UPLINK
conf_a bpf
"$FWDCTL" -n "$HOST" up "$WORK/a.conf" >"$WORK/taken.out" 2>&1
check_eq "a route the host has already: up fails" 1 $?
check "... saying whose it is" grep -q "routes it already (not fwd's" "$WORK/taken.out"
check "down" "$FWDCTL" -q -n "$HOST" down "$TA"
check "... leaves that route alone" has_route "$HOST" 192.168.16.0/24 $B_UPLINK
ip -n "$HOST" route del 192.168.16.0/24

# A next hop off the uplink's subnet: refused before anything is built.
sed -i "s/via $B_UPLINK/via 10.99.0.3/" "$WORK/a.conf"
"$FWDCTL" -n "$HOST" up "$WORK/a.conf" >"$WORK/offlink.out" 2>&1
check_eq "a next hop off the uplink's subnet: up fails" 1 $?
check "... naming the line" grep -q "a.conf:9: route via 10.99.0.3: not on uplink up0's subnet" \
	"$WORK/offlink.out"
check_eq "... and builds nothing" "" "$(ip -n "$HOST" link show vnet0 2>/dev/null)"

check "the sandbox is as it was" test "$before" = "$(snapshot)"

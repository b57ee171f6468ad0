#!/bin/bash
# IPv6 path MTU through NAT66, on both datapaths. A router behind the LAN peer: the LAN namespace
# forwards to a "far" namespace over a link whose LAN end has MTU 1280, while the far end's is
# 1500, so the far server offers an MSS that does not fit. red uploads 2 MiB to the far server
# over TCP, masqueraded: the LAN answers red's full-size segments with ICMPv6 Packet Too Big,
# addressed to the uplink's address (what red's packets became); translated back (the quoted
# packet too) they reach red, whose TCP cuts its segments, and the upload arrives whole.
# Untranslated, they would never reach red and the upload would stall (a path-MTU black hole).
# The LAN counts the Packet Too Big it sent, red those it received.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

UP6=fd77::1
LAN6=fd77::2
FAR6=fd78::2
BYTES=$((2 * 1024 * 1024))

sandbox_up || { fail "sandbox"; exit 1; }
if ! ip -n "$HOST" addr add $UP6/64 dev up0 nodad || ! ip -n "$LAN" addr add $LAN6/64 dev lan0 nodad ||
	! sandbox_ns_add "$P-far" || ! sandbox_veth "$LAN" far0 "" "$P-far" eth0 "" ||
	! ip -n "$LAN" link set far0 mtu 1280 || ! ip -n "$LAN" addr add fd78::1/64 dev far0 nodad ||
	! ip -n "$P-far" addr add $FAR6/64 dev eth0 nodad ||
	! ip -n "$P-far" -6 route add default via fd78::1 ||
	! in_ns "$LAN" sysctl -qw net.ipv6.conf.all.forwarding=1 ||
	! ip -n "$HOST" -6 route add fd78::/64 via $LAN6; then
	fail "the far namespace behind the LAN"
	exit 1
fi
before=$(snapshot)

# snmp6 NS NAME: one IPv6 counter of NS
snmp6() {
	# shellcheck disable=SC2016 # awk's $1 and $2
	in_ns "$1" awk -v k="$2" '$1 == k { print $2 }' /proc/net/snmp6
}

for dp in ${DATAPATHS:-kernel bpf}; do
	T=${P}6${dp:0:1}
	D="$dp:"
	cat >"$WORK/lab6.conf" <<CONF
topology $T
datapath $dp
bridge vnet0 192.168.15.5/24 fd00:15::5/64
uplink up0
masquerade 192.168.15.0/24
masquerade fd00:15::/64
namespace $P-red 192.168.15.1 fd00:15::1
CONF
	in_ns "$HOST" conntrack -F -f ipv6 >/dev/null 2>&1 # the datapath before's time_wait
	check "$D up" "$FWDCTL" -q -n "$HOST" up "$WORK/lab6.conf"
	sent=$(snmp6 "$LAN" Icmp6OutPktTooBigs)
	got=$(snmp6 "$P-red" Icmp6InPktTooBigs)
	check_eq "$D 2 MiB from red to the far server, through a 1280-byte link, arrive" $BYTES "$(tcp_push "$P-red" "$P-far" $FAR6 7600 $BYTES 20)"
	check "$D ... the LAN router sent Packet Too Big" test "$(snmp6 "$LAN" Icmp6OutPktTooBigs)" -gt "$sent"
	check "$D ... and red received it, translated back (NAT66)" \
		test "$(snmp6 "$P-red" Icmp6InPktTooBigs)" -gt "$got"
	# datapath bpf: by its programs, nf_conntrack never knew the connection (so could not
	# have translated the error); datapath kernel: by nf_conntrack (the control).
	ct=$(in_ns "$HOST" conntrack -L -f ipv6 -p tcp --dport 7600 2>/dev/null | grep -c .)
	if [ "$dp" = bpf ]; then
		check_eq "$D ... by the programs: nf_conntrack never saw the connection" 0 "$ct"
	else
		check "$D ... by nf_conntrack (the control)" test "$ct" -gt 0
	fi
	stop_servers
	check "$D down" "$FWDCTL" -q -n "$HOST" down "$T"
done
check_eq "nothing else left" "$before" "$(snapshot)"
finish

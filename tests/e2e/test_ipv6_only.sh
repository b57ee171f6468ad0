#!/bin/bash
# The tutorial's lab over IPv6 alone (issue 21), on both datapaths: a bridge with only an IPv6
# address (fd00:15::5/64) and red, blue and green with only theirs, the prefix masqueraded out
# of the uplink (fd77::1, the LAN fd77::2), forwards to blue. Checked: no IPv4 address anywhere
# inside (the namespaces, the bridge); ping, TCP and UDP between namespaces, on datapath bpf
# switched by the programs; out to the LAN masqueraded (the LAN sees fd77::1) and an ICMPv6
# error back translated; LAN -> [uplink]:port -> blue with the client's address kept, a closed
# port's error translated; hairpin; on datapath bpf the programs' counters and nf_conntrack
# seeing none of it; a namespace that makes itself an IPv4 address and sends IPv4 reaches
# nothing (counted on datapath bpf), nor does it from the stand-in the maps know it by; status
# and check show the IPv6 addresses alone; never a frame of the prefix on the LAN; a re-up
# changes nothing; an uplink without IPv4 serves as well; the same file with IPv4 beside
# (red and the bridge dual-stack, green still IPv6 only) and back takes the IPv4 addresses
# and routes away again; down leaves nothing.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

PREFIX6=fd00:15::
UP6=fd77::1
LAN6=fd77::2

sandbox_up || { fail "sandbox"; exit 1; }
if ! ip -n "$HOST" addr add $UP6/64 dev up0 nodad || ! ip -n "$LAN" addr add $LAN6/64 dev lan0 nodad; then
	fail "IPv6 on the uplink"
	exit 1
fi
# The LAN counts what arrives from the private prefix (a leak), and any IPv4 the uplink sends
# it (there is no IPv4 to masquerade: what a namespace's own IPv4 would become).
in_ns "$LAN" ip6tables -t raw -I PREROUTING -s ${PREFIX6}/64 -m comment --comment fwdleak6
in_ns "$LAN" iptables -t raw -I PREROUTING -i lan0 -p icmp -m comment --comment fwdv4
lan_count() { # ip6tables|iptables COMMENT
	in_ns "$LAN" "$1" -t raw -nvxL PREROUTING | awk -v c="$2" '$0 ~ c {n += $1} END {print n + 0}'
}
forwarding() { in_ns "$HOST" sysctl -n net.ipv6.conf.all.forwarding net.ipv4.ip_forward | tr '\n' ' '; }
fwd_before=$(forwarding)
before=$(snapshot)

for dp in ${DATAPATHS:-kernel bpf}; do
	T=${P}o${dp:0:1}
	D="$dp:"
	cat >"$WORK/only6.conf" <<CONF
topology $T
datapath $dp
bridge vnet0 ${PREFIX6}5/64
uplink up0
masquerade ${PREFIX6}/64
namespace $P-red   ${PREFIX6}1
namespace $P-blue  ${PREFIX6}2
namespace $P-green ${PREFIX6}3
forward tcp 8080 $P-blue:7000
forward udp 5353 $P-blue:7001
forward udp 5354 $P-blue:7999
CONF
	in_ns "$HOST" conntrack -F -f ipv6 >/dev/null 2>&1
	check "$D up (IPv6 only)" "$FWDCTL" -q -n "$HOST" up "$WORK/only6.conf"
	check_eq "$D red has no IPv4 address" "" "$(ip -n "$P-red" -4 -o addr show dev eth0)"
	check_eq "$D ... nor an IPv4 route" "" "$(ip -n "$P-red" -4 route)"
	check_eq "$D the bridge has no IPv4 address" "" "$(ip -n "$HOST" -4 -o addr show dev vnet0)"
	check "$D red has ${PREFIX6}1/64, ready at once" \
		sh -c "ip -n $P-red -6 -o addr show dev eth0 scope global | grep -q '${PREFIX6}1/64' &&
		       ! ip -n $P-red -6 -o addr show dev eth0 | grep -q tentative"
	check_eq "$D red's IPv6 default route via the bridge" "default via ${PREFIX6}5 dev eth0" \
		"$(ip -n "$P-red" -6 route show default | awk '{print $1, $2, $3, $4, $5}')"
	check "$D status shows red's IPv6 address alone" \
		sh -c "'$FWDCTL' -n $HOST status $T | grep -Eq '^ *$P-red +${PREFIX6}1 '"
	check_eq "$D status -j: red has no IPv4 address, the bridge neither" "None fd00:15::1 None fd00:15::5/64" \
		"$("$FWDCTL" -j -n "$HOST" status "$T" | python3 -c '
import json, sys
d = json.load(sys.stdin)
red = [n for n in d["namespaces"] if n["name"].endswith("-red")][0]
print(red.get("address"), red["address6"], d["bridge"].get("address"), d["bridge"]["address6"])')"
	check "$D check prints the file back with IPv6 alone" \
		sh -c "'$FWDCTL' check '$WORK/only6.conf' | grep -qx 'namespace $P-red ${PREFIX6}1' &&
		       '$FWDCTL' check '$WORK/only6.conf' | grep -qx 'bridge vnet0 ${PREFIX6}5/64'"

	peer6_server "$P-blue" tcp 7000
	peer6_server "$P-blue" udp 7001
	peer6_server "$LAN" tcp 7000
	peer6_server "$LAN" udp 7001

	check "$D red pings blue" pingable "$P-red" ${PREFIX6}2
	check "$D red pings the gateway" pingable "$P-red" ${PREFIX6}5
	[ "$dp" = bpf ] && sw=$(fwd_counter "$T" redirect_peer)
	check_eq "$D red -> blue tcp: blue sees red's address" ${PREFIX6}1 "$(ask6 "$P-red" tcp ${PREFIX6}2 7000)"
	check_eq "$D red -> blue udp: blue sees red's address" ${PREFIX6}1 "$(ask6 "$P-red" udp ${PREFIX6}2 7001)"
	check_eq "$D green -> blue tcp: blue sees green's address" ${PREFIX6}3 "$(ask6 "$P-green" tcp ${PREFIX6}2 7000)"
	[ "$dp" = bpf ] && check "$D ... switched by the programs (redirect_peer counted)" \
		test "$(fwd_counter "$T" redirect_peer)" -gt "$sw"

	check_eq "$D red -> LAN tcp: masqueraded to the uplink's address" $UP6 "$(ask6 "$P-red" tcp $LAN6 7000)"
	check_eq "$D red -> LAN udp: masqueraded to the uplink's address" $UP6 "$(ask6 "$P-red" udp $LAN6 7001)"
	check_eq "$D red -> LAN udp to a closed port: the ICMPv6 error comes back translated" refused \
		"$(udp_verdict "$P-red" $LAN6 7999)"
	check_eq "$D LAN -> [uplink]:8080 -> blue, the LAN's address kept" $LAN6 "$(ask6 "$LAN" tcp $UP6 8080)"
	check_eq "$D LAN -> [uplink]:5353/udp -> blue, the LAN's address kept" $LAN6 "$(ask6 "$LAN" udp $UP6 5353)"
	check_eq "$D LAN -> [uplink]:5354/udp, closed at blue: the ICMPv6 error comes back translated" \
		refused "$(udp_verdict "$LAN" $UP6 5354)"
	check_eq "$D hairpin: red -> [uplink]:8080 -> blue, red's address kept" ${PREFIX6}1 \
		"$(ask6 "$P-red" tcp $UP6 8080)"
	check_eq "$D the forwards are not on the uplink's IPv4 address" "" "$(ask "$LAN" tcp $UPLINK_ADDR 8080)"
	# datapath bpf translates in its programs: counters moved, nf_conntrack saw none of the
	# masqueraded nor the forwarded connections; datapath kernel's did (the control).
	seen=$(in_ns "$HOST" conntrack -L -f ipv6 2>/dev/null | grep -c -e 'dport=7000' -e 'dport=8080')
	if [ "$dp" = bpf ]; then
		for c in snat6 snat6_reply dnat6 dnat6_reply; do
			check "$D NAT66 in the programs: $c counted" test "$(fwd_counter "$T" $c)" -gt 0
		done
		check_eq "$D ... and nf_conntrack saw none of the connections" 0 "$seen"
		check "$D fwdctl ct lists red's connection to the LAN" \
			sh -c "'$FWDCTL' -n '$HOST' ct '$T' | grep -q '\[${PREFIX6}1\]:[0-9]* -> \[$LAN6\]:7000'"
	else
		check "$D nf_conntrack translated them (the control)" test "$seen" -gt 0
	fi

	# Hostile: red gives itself an IPv4 address and a route via the bridge's MAC, and sends
	# IPv4 to the LAN; the LAN sees none of it, on datapath bpf counted (drop_spoof_ipv4), and
	# its ARP gets nowhere either (drop_spoof_arp).
	[ "$dp" = bpf ] && spoofed=$(fwd_counter "$T" drop_spoof_ipv4) arps=$(fwd_counter "$T" drop_spoof_arp)
	ip -n "$P-red" addr add 192.168.99.1/24 dev eth0
	ip -n "$P-red" neigh replace 192.168.99.5 lladdr "$(mac_of "$HOST" vnet0)" dev eth0
	ip -n "$P-red" route replace default via 192.168.99.5
	v4=$(lan_count iptables fwdv4)
	check "$D red sending IPv4 of its own making: no answer" \
		sh -c "! ip netns exec $P-red ping -c 2 -W 1 $LAN_ADDR >/dev/null 2>&1"
	check "$D ... nor an ARP answer from the gateway" \
		sh -c "! ip netns exec $P-red arping -c 1 -w 1 -I eth0 192.168.99.5 >/dev/null 2>&1 || ! command -v arping >/dev/null"
	check_eq "$D ... and the LAN saw no IPv4 from the uplink" "$v4" "$(lan_count iptables fwdv4)"
	if [ "$dp" = bpf ]; then
		check "$D ... dropped by the programs (drop_spoof_ipv4)" test "$(fwd_counter "$T" drop_spoof_ipv4)" -gt "$spoofed"
		# The maps know red by a stand-in of 0.0.0.0/8 (status -j lists it): a datagram
		# from that address is no more red's than any other.
		standin=$("$FWDCTL" -j -n "$HOST" status "$T" | python3 -c '
import json, sys
eps = json.load(sys.stdin)["bpf"]["endpoints"]
print([e["address"] for e in eps if e["stand_in"]][0])' 2>/dev/null)
		check "$D ... status says what the 0.0.0.0/8 endpoints are" \
			sh -c "'$FWDCTL' -n '$HOST' status '$T' | grep -q '^ *${standin:-none} .*a stand-in: IPv6 alone'"
		spoofed=$(fwd_counter "$T" drop_spoof_ipv4)
		forged_udp "$P-red" "${standin:-0.0.0.1}" "$LAN_ADDR"
		check "$D ... also from its stand-in address ${standin:-none} (drop_spoof_ipv4)" \
			test "$(fwd_counter "$T" drop_spoof_ipv4)" -gt "$spoofed"
		ip -n "$P-red" neigh flush dev eth0
		in_ns "$P-red" ping -c 1 -W 1 192.168.99.7 >/dev/null 2>&1
		check "$D ... its ARP too (drop_spoof_arp)" test "$(fwd_counter "$T" drop_spoof_arp)" -gt "$arps"
	fi
	ip -n "$P-red" addr del 192.168.99.1/24 dev eth0

	check_eq "$D never a frame from ${PREFIX6}/64 on the LAN" 0 "$(lan_count ip6tables fwdleak6)"
	first=$(snapshot)
	check "$D second up" "$FWDCTL" -q -n "$HOST" up "$WORK/only6.conf"
	check_eq "$D second up changes nothing" "$first" "$(snapshot)"

	# An uplink without an IPv4 address: nothing in the file needs one.
	ip -n "$HOST" addr del $UPLINK_ADDR/24 dev up0
	check "$D up with an uplink that has no IPv4 address" "$FWDCTL" -q -n "$HOST" up "$WORK/only6.conf"
	check_eq "$D ... red -> LAN tcp masqueraded" $UP6 "$(ask6 "$P-red" tcp $LAN6 7000)"
	check_eq "$D ... LAN -> [uplink]:8080 -> blue" $LAN6 "$(ask6 "$LAN" tcp $UP6 8080)"
	ip -n "$HOST" addr add $UPLINK_ADDR/24 dev up0

	# IPv4 beside: red and the bridge dual-stack, green still IPv6 only; then back.
	sed -e "s|^bridge vnet0 .*|bridge vnet0 192.168.15.5/24 ${PREFIX6}5/64|" \
		-e "s|^namespace $P-red .*|namespace $P-red 192.168.15.1 ${PREFIX6}1|" \
		"$WORK/only6.conf" >"$WORK/dual.conf"
	check "$D up with IPv4 beside (red and the bridge)" "$FWDCTL" -q -n "$HOST" up "$WORK/dual.conf"
	check "$D ... red has 192.168.15.1" sh -c "ip -n $P-red -4 -o addr show dev eth0 | grep -q 192.168.15.1/24"
	check "$D ... red pings the gateway over IPv4" pingable "$P-red" 192.168.15.5
	check_eq "$D ... green still has no IPv4 address" "" "$(ip -n "$P-green" -4 -o addr show dev eth0)"
	check_eq "$D ... green -> blue tcp over IPv6" ${PREFIX6}3 "$(ask6 "$P-green" tcp ${PREFIX6}2 7000)"
	check_eq "$D ... LAN -> [uplink]:8080 -> blue (IPv6 only)" $LAN6 "$(ask6 "$LAN" tcp $UP6 8080)"
	check "$D up with IPv6 alone again" "$FWDCTL" -q -n "$HOST" up "$WORK/only6.conf"
	check_eq "$D ... red's IPv4 address and routes are gone" "" \
		"$(ip -n "$P-red" -4 -o addr show dev eth0; ip -n "$P-red" -4 route)"
	check_eq "$D ... the bridge's IPv4 address is gone" "" "$(ip -n "$HOST" -4 -o addr show dev vnet0)"
	check_eq "$D ... red -> LAN tcp masqueraded" $UP6 "$(ask6 "$P-red" tcp $LAN6 7000)"
	stop_servers
	check "$D down" "$FWDCTL" -q -n "$HOST" down "$T"
	check_eq "$D forwarding back to what it was" "$fwd_before" "$(forwarding)"
	check_eq "$D nothing else left" "$before" "$(snapshot)"
done

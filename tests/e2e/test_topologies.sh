#!/bin/bash
# Several topologies on one host: three on two uplinks (two of them share up0), each with every
# path working, isolated from each other (reachable only through forwards), the user's own tc
# filter on the shared uplink left alone, conflicts refused naming the other topology, and down
# of one leaving the other two intact. Both datapaths, then a mix of both on one uplink.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

UP1_ADDR=10.78.0.1
LAN1_ADDR=10.78.0.2
sandbox_up || { fail "sandbox"; exit 1; }
sandbox_veth "$HOST" up1 $UP1_ADDR/24 "$LAN" lan1 $LAN1_ADDR/24 || { fail "second uplink"; exit 1; }
# The leak watch of lib.sh covers 192.168.15.0/24; these topologies use .16 and .17 too.
for net in 192.168.16.0/24 192.168.17.0/24; do
	in_ns "$LAN" iptables -t raw -I PREROUTING -s $net -m comment --comment fwdleak
done
# The user's own filter on the shared uplink, at a priority of its own, before fwd's (u32: what
# a kernel without modules has), for an address nothing is sent to: every frame goes on.
in_ns "$HOST" tc qdisc add dev up0 clsact
in_ns "$HOST" tc filter add dev up0 ingress pref 10 protocol ip u32 match ip dst 203.0.113.99/32 classid 1:1
user_filter() { in_ns "$HOST" tc filter show dev up0 ingress pref 10 | grep -c 'flowid 1:1'; }
before=$(snapshot)

# topo_conf NAME DATAPATH BRIDGE OCTET UPLINK PORT: namespaces NAME-a and NAME-b on
# 192.168.OCTET.0/24, masqueraded out of UPLINK, tcp and udp PORT forwarded to NAME-b.
topo_conf() {
	cat >"$WORK/$1.conf" <<CONF
topology $1
datapath $2
bridge $3 192.168.$4.5/24
uplink $5
masquerade 192.168.$4.0/24
namespace $P-$1-a 192.168.$4.1
namespace $P-$1-b 192.168.$4.2
forward tcp $6 $P-$1-b:80
forward udp $6 $P-$1-b:53
CONF
	echo "$WORK/$1.conf"
}

# paths T NAME OCTET UPLINK_ADDR LAN_ADDR PORT: every path of topology NAME: namespace to
# namespace, masquerade (tcp, udp), forwards from the LAN (tcp, udp), hairpin, the host.
paths() {
	local T=$1 n=$2 o=$3 up=$4 lan=$5 port=$6
	check "$T $n: a -> b ping" pingable "$P-$n-a" "192.168.$o.2"
	check_eq "$T $n: a -> b tcp" "$n 192.168.$o.1" "$(ask "$P-$n-a" tcp "192.168.$o.2" 80)"
	check_eq "$T $n: a -> lan tcp, masqueraded to $up" "$up" "$(ask "$P-$n-a" tcp "$lan" 7000)"
	check_eq "$T $n: a -> lan udp, masqueraded to $up" "$up" "$(ask "$P-$n-a" udp "$lan" 7001)"
	check_eq "$T $n: lan -> $up:$port tcp -> b" "$n $lan" "$(ask "$LAN" tcp "$up" "$port")"
	check_eq "$T $n: lan -> $up:$port udp -> b" "$lan" "$(ask "$LAN" udp "$up" "$port")"
	check_eq "$T $n: hairpin a -> $up:$port -> b, a's address kept" "$n 192.168.$o.1" \
		"$(ask "$P-$n-a" tcp "$up" "$port")"
	check "$T $n: host -> b ping" pingable "$HOST" "192.168.$o.2"
	check "$T $n: host -> $up:$port -> b" starts_with "$n " "$(ask "$HOST" tcp "$up" "$port")"
}
starts_with() { [[ $2 == "$1"* ]]; }

# isolated T FROM OCTET TO OCTET: FROM's namespace reaches nothing of TO's directly.
isolated() {
	local T=$1 from=$2 to=$4 o=$5
	check "$T $from -/-> $to: no ping" not pingable "$P-$from-a" "192.168.$o.1"
	check_eq "$T $from -/-> $to: no tcp" "" "$(ask "$P-$from-a" tcp "192.168.$o.2" 80)"
	check_eq "$T $from -/-> $to: no udp" "" "$(ask "$P-$from-a" udp "192.168.$o.2" 53)"
}
not() { ! "$@"; }
ns_gone() { ! ip netns exec "$1" true 2>/dev/null; }
no_files() { ! ls "$@" >/dev/null 2>&1; }

peer_server "$LAN" tcp 7000
peer_server "$LAN" udp 7001
for dp in kernel bpf mixed; do
	T="$dp:"
	a=${P}a b=${P}b c=${P}c
	dpa=$dp dpb=$dp
	[ "$dp" = mixed ] && dpa=kernel dpb=bpf
	conf_a=$(topo_conf "$a" "$dpa" "${P:0:7}a" 15 up0 80)
	conf_b=$(topo_conf "$b" "$dpb" "${P:0:7}b" 16 up0 81)
	conf_c=$(topo_conf "$c" "$dpb" "${P:0:7}c" 17 up1 80)
	if [ "$dp" = mixed ]; then
		# A kernel and a bpf topology cannot see each other's masqueraded ports: refused
		# until each has a range of its own.
		check "$T up a" "$FWDCTL" -q -n "$HOST" up "$conf_a"
		out=$("$FWDCTL" -q -n "$HOST" up "$conf_b" 2>&1)
		check_eq "$T b with overlapping snat-ports next to a of datapath kernel: exit 2" 2 $?
		check "$T ... naming a and its file" grep -q "topology $a, $conf_a" <<<"$out"
		echo "snat-ports 40000-49999" >>"$conf_a"
		echo "snat-ports 50000-59999" >>"$conf_b"
		conf_c=$(topo_conf "$c" kernel "${P:0:7}c" 17 up1 80)
	fi
	for t in a b c; do
		conf=conf_$t
		check "$T up $t" "$FWDCTL" -q -n "$HOST" up "${!conf}"
	done
	for t in a b c; do
		named_server "$P-${P}$t-b" 80 "${P}$t"
		peer_server "$P-${P}$t-b" udp 53
	done
	paths "$T" "$a" 15 $UPLINK_ADDR $LAN_ADDR 80
	paths "$T" "$b" 16 $UPLINK_ADDR $LAN_ADDR 81
	paths "$T" "$c" 17 $UP1_ADDR $LAN1_ADDR 80
	isolated "$T" "$a" 15 "$b" 16
	isolated "$T" "$b" 16 "$a" 15
	isolated "$T" "$a" 15 "$c" 17
	isolated "$T" "$c" 17 "$b" 16
	# ... but through each other's forwards, the client's address kept (not from a datapath
	# kernel namespace to a datapath bpf forward: fwdctl(8), SEVERAL TOPOLOGIES).
	check_eq "$T $b -> up0:80, a's forward -> a-b" "$a 192.168.16.1" \
		"$(ask "$P-$b-a" tcp $UPLINK_ADDR 80)"
	check_eq "$T $b -> up0:80/udp, a's forward -> a-b" "192.168.16.1" \
		"$(ask "$P-$b-a" udp $UPLINK_ADDR 80)"
	if [ "$dpa" = "$dpb" ]; then
		check_eq "$T $a -> up0:81, b's forward -> b-b" "$b 192.168.15.1" \
			"$(ask "$P-$a-a" tcp $UPLINK_ADDR 81)"
	fi
	if [ "$dp" = bpf ]; then
		check "$T ... through the uplink's ingress (to_peer)" test "$(fwd_counter "$b" to_peer)" -ge 2
	fi
	check_eq "$T the user's filter on up0 is still there" 1 "$(user_filter)"

	# Conflicts: each refused with exit 2, naming the other topology, changing nothing.
	state=$(snapshot)
	conflict_case() {
		local what=$1 expect=$2 conf=$WORK/${P}x.conf
		cat >"$conf"
		out=$("$FWDCTL" -q -n "$HOST" up "$conf" 2>&1)
		check_eq "$T conflict, $what: exit 2" 2 $?
		grep -qF "$expect" <<<"$out" || echo "$out" >&2
		check "$T ... says so, naming the other topology's file" grep -qF "$expect" <<<"$out"
		check_eq "$T ... and changes nothing" "$state" "$(snapshot)"
		check "$T ... and leaves no journal nor lock" no_files /run/fwd/"${P}x".*
	}
	conflict_case "the same bridge" "bridge ${P:0:7}a is another topology's (topology $a, $conf_a:3)" <<CONF
bridge ${P:0:7}a 192.168.20.5/24
namespace $P-x1 192.168.20.1
CONF
	conflict_case "an overlapping subnet" "${P}x.conf:1: subnet 192.168.16.0/23 overlaps another topology's (topology $b, $conf_b:3)" <<CONF
bridge ${P:0:7}x 192.168.16.77/23
namespace $P-x1 192.168.16.1
CONF
	conflict_case "the same namespace" "${P}x.conf:2: namespace $P-$c-a is another topology's (topology $c, $conf_c:6)" <<CONF
bridge ${P:0:7}x 192.168.20.5/24
namespace $P-$c-a 192.168.20.1
CONF
	conflict_case "the same forwarded port" "${P}x.conf:5: forward of tcp 79-90 on uplink up0 overlaps another topology's forward of 81 (topology $b, $conf_b:8)" <<CONF
bridge ${P:0:7}x 192.168.20.5/24
uplink up0
namespace $P-x1 192.168.20.1
masquerade 192.168.20.0/24
forward tcp 79-90 $P-x1
CONF

	# Down of one: the other two untouched, and every path of theirs still works.
	check "$T down b" "$FWDCTL" -q -n "$HOST" down "$b"
	check "$T b's namespaces are gone" ns_gone "$P-$b-a"
	paths "$T after b's down" "$a" 15 $UPLINK_ADDR $LAN_ADDR 80
	paths "$T after b's down" "$c" 17 $UP1_ADDR $LAN1_ADDR 80
	check_eq "$T after b's down: lan -> up0:81 goes nowhere" "" "$(ask "$LAN" tcp $UPLINK_ADDR 81)"
	check_eq "$T the user's filter on up0 is still there" 1 "$(user_filter)"
	# The other two in one command: one by name (twice), one by its file.
	check "$T down a and c at once" "$FWDCTL" -q -n "$HOST" down "$a" "$conf_c" "$a"
	check "$T ... both are down" sh -c "! ls /run/fwd/$a.* /run/fwd/$c.* 2>/dev/null | grep -q ."
	check "$T ... their namespaces are gone" sh -c "! ip netns | grep -q -e '^$P-$a-' -e '^$P-$c-'"
	sandbox_stop_all KILL
	peer_server "$LAN" tcp 7000
	peer_server "$LAN" udp 7001
	check_eq "$T down of all three leaves the sandbox as it was" "$before" "$(snapshot)"
done
check_eq "the user's filter on up0 outlived all of it" 1 "$(user_filter)"

# Commands without a NAME see the topologies of the host namespace they run in; a topology
# whose host namespace went is shown as such, and down removes what is left of it.
HOST2=$P-host2
if ! sandbox_ns_add "$HOST2" || ! sandbox_veth "$HOST2" up0 10.79.0.1/24 "$LAN" lan2 10.79.0.2/24; then
	fail "second host"
fi
conf_a=$(topo_conf "${P}a" bpf "${P:0:7}a" 15 up0 80)
conf_g=$(topo_conf "${P}g" bpf "${P:0:7}g" 18 up0 80)
check "up a in the first host" "$FWDCTL" -q -n "$HOST" up "$conf_a"
check "up g in the second host" "$FWDCTL" -q -n "$HOST2" up "$conf_g"
check_eq "stats without a name in the second host: its one topology" 0 \
	"$("$FWDCTL" -q -n "$HOST2" stats >/dev/null 2>&1; echo $?)"
check_eq "status without a name in the first host shows its own only" "${P}a" \
	"$("$FWDCTL" -j -n "$HOST" status | python3 -c 'import json,sys; print(" ".join(t["topology"] for t in json.load(sys.stdin)))')"
out=$("$FWDCTL" -n "$HOST" status "${P}g" 2>&1)
check_eq "status of the other host's topology by name: exit 1" 1 $?
check "... saying where it is" grep -q "another host network namespace" <<<"$out"
sandbox_kill_in "$HOST2"
ip netns del "$HOST2"
check_eq "its host namespace gone, status shows it as such" gone \
	"$("$FWDCTL" -j -n "$HOST" status "${P}g" | python3 -c 'import json,sys; print(json.load(sys.stdin)["host_namespace"])')"
out=$("$FWDCTL" -n "$HOST" down "${P}g" 2>&1)
check_eq "down of it from the first host exits 0" 0 $?
check "... warning that its host namespace is gone" grep -q "host network namespace is gone" <<<"$out"
check "... its namespaces are gone" ns_gone "$P-${P}g-a"
check "... its pins are gone" test ! -e "/sys/fs/bpf/fwd/${P}g"
check "... and its journal" no_files /run/fwd/"${P}g".*
check "a in the first host still masquerades" test "$(ask "$P-${P}a-a" tcp $LAN_ADDR 7000)" = $UPLINK_ADDR
check "down a" "$FWDCTL" -q -n "$HOST" down "${P}a"
finish

#!/bin/bash
# ip_forward is restored by the down of the last topology that needed it, in whichever order
# they go down and whatever the length of the topologies' names: a 12-character name (the longest allowed) once made down take the
# topology's own journal for another's and leave forwarding on for good.
. "$(dirname "$0")/lib.sh"

sandbox_up || { fail "sandbox"; exit 1; }
forwarding() { ip netns exec "$HOST" cat /proc/sys/net/ipv4/ip_forward; }

# topo_conf NAME BRIDGE OCTET NS: a one-namespace topology on 192.168.OCTET.0/24.
topo_conf() {
	cat >"$WORK/$1.conf" <<CONF
topology $1
bridge $2 192.168.$3.5/24
uplink up0
masquerade 192.168.$3.0/24
namespace $4 192.168.$3.1
CONF
	echo "$WORK/$1.conf"
}

long=$(printf '%s-long-name-x' "$P" | cut -c1-12) # 12 characters of [a-z0-9-]
short=${P}s
check_eq "the long name has 12 characters ($long)" 12 "${#long}"
long_conf=$(topo_conf "$long" vnet0 15 "$P-red")
short_conf=$(topo_conf "$short" vnet1 16 "$P-blue")

for dp in kernel bpf; do
	T="$dp:"
	sed -i "/^datapath /d; 1a datapath $dp" "$long_conf" "$short_conf"
	ip netns exec "$HOST" sysctl -qw net.ipv4.ip_forward=0
	check "$T up of $long" "$FWDCTL" -q -n "$HOST" up "$long_conf"
	check_eq "$T up turned forwarding on" 1 "$(forwarding)"
	check "$T down of $long" "$FWDCTL" -q -n "$HOST" down "$long"
	check_eq "$T down of the only topology restored forwarding off" 0 "$(forwarding)"

	# Two topologies: forwarding stays on until the last one is down, in either order. The
	# second up finds forwarding on already; when the first goes down first, the second
	# must still know what to restore (it once did not: forwarding stayed on).
	for first in "$short" "$long"; do
		second=$long
		[ "$first" = "$long" ] && second=$short
		check "$T up of $long and $short" sh -c "'$FWDCTL' -q -n '$HOST' up '$long_conf' && '$FWDCTL' -q -n '$HOST' up '$short_conf'"
		check "$T down of $first" "$FWDCTL" -q -n "$HOST" down "$first"
		check_eq "$T $second still up: forwarding stays on" 1 "$(forwarding)"
		check "$T down of $second" "$FWDCTL" -q -n "$HOST" down "$second"
		check_eq "$T the last down ($second) restored forwarding off" 0 "$(forwarding)"
	done
done

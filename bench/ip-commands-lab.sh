#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The setup baseline of `make bench`: builds (or removes) a topology.conf the way the tutorial
# does it by hand — one `ip` (or `iptables`, `sysctl`) command per step, each its own process —
# inside host namespace HOSTNS. It reads the same file fwdctl reads, so both build the same lab:
# bridge with the gateway address, one veth pair per namespace (tutorial names: veth<i> inside,
# veth<i>-br on the bridge), addresses, default routes, ip_forward, MASQUERADE, DNAT + FORWARD.
# It is also the kernel datapath's stand-in while fwdctl is not built.
#
# usage: ip-commands-lab.sh -n HOSTNS up|down FILE
# Exit status: 0 ok, 1 a command failed, 2 usage or a line it does not understand.
set -u

usage() {
	echo "usage: ip-commands-lab.sh -n HOSTNS up|down FILE" >&2
	exit 2
}

if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then
	sed -n '3,13p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
fi
if [ $# -ne 4 ] || [ "$1" != -n ]; then usage; fi
H=$2 CMD=$3 FILE=$4
case $CMD in up|down) ;; *) usage ;; esac
[ -r "$FILE" ] || { echo "ip-commands-lab: cannot read \"$FILE\"" >&2; exit 2; }
[ -e "/run/netns/$H" ] || { echo "ip-commands-lab: no namespace \"$H\"" >&2; exit 1; }

# Parse: the bench only writes well-formed files, so this checks shape, not every rule.
BRIDGE='' GW='' UPLINK='' MASQ=() NS_NAME=() NS_ADDR=() FWD=()
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
	lineno=$((lineno + 1))
	line=${line%%#*}
	read -r -a tok <<<"$line"
	[ ${#tok[@]} -eq 0 ] && continue
	case ${tok[0]}:${#tok[@]} in
	topology:2 | datapath:2) ;;
	# The tutorial is IPv4: a file's IPv6 (addresses, masquerades) is left out, its rows in
	# `make bench` need fwdctl's datapath kernel.
	bridge:3 | bridge:4) BRIDGE=${tok[1]} GW=${tok[2]} ;;
	uplink:2) UPLINK=${tok[1]} ;;
	masquerade:2) [[ ${tok[1]} == *:* ]] || MASQ+=("${tok[1]}") ;;
	namespace:3 | namespace:4) NS_NAME+=("${tok[1]}") NS_ADDR+=("${tok[2]}") ;;
	forward:4) FWD+=("${tok[1]} ${tok[2]} ${tok[3]}") ;;
	*) echo "$FILE:$lineno: not understood: $line" >&2; exit 2 ;;
	esac
done <"$FILE"
[ -n "$BRIDGE" ] || { echo "$FILE: no bridge line" >&2; exit 2; }
PREFIX=${GW#*/} GWADDR=${GW%/*}

# Run one step; stop at the first failure, naming it.
step() {
	"$@" || { echo "ip-commands-lab: failed: $*" >&2; exit 1; }
}

ns_addr_of() {
	local i
	for i in "${!NS_NAME[@]}"; do
		[ "${NS_NAME[$i]}" = "$1" ] && { echo "${NS_ADDR[$i]}"; return 0; }
	done
	return 1
}

# Run one step of a teardown: what is already gone is fine.
try() {
	"$@" 2>/dev/null
	return 0
}

# The forward rules, as tutorial iptables commands; $1 is -A (add, with step) or -D (delete, try).
forward_rules() {
	local f proto ports target tns tport addr lo hi to dport
	local upaddr run=step
	[ "$1" = -D ] && run=try
	upaddr=$(ip -n "$H" -4 -o addr show dev "$UPLINK" | awk '{ sub("/.*", "", $4); print $4; exit }')
	if [ -z "$upaddr" ]; then
		[ "$1" = -D ] && return 0
		echo "ip-commands-lab: uplink \"$UPLINK\" has no IPv4 address" >&2
		exit 1
	fi
	for f in "${FWD[@]}"; do
		read -r proto ports target <<<"$f"
		tns=${target%%:*}
		tport=
		[ "$target" != "$tns" ] && tport=${target#*:}
		addr=$(ns_addr_of "$tns") || { echo "ip-commands-lab: forward to unknown \"$tns\"" >&2; exit 2; }
		lo=${ports%-*} hi=${ports#*-}
		dport=$lo
		[ "$lo" != "$hi" ] && dport=$lo:$hi
		to=$addr
		if [ -n "$tport" ] && [ "$lo" = "$hi" ]; then
			to=$addr:$tport
		elif [ -n "$tport" ]; then
			# a shifted range: iptables' DNAT "range/base" form
			to=$addr:$tport-$((tport + hi - lo))/$lo
		fi
		$run ip netns exec "$H" iptables -t nat "$1" PREROUTING -p "$proto" -d "$upaddr" \
			--dport "$dport" -j DNAT --to-destination "$to"
		$run ip netns exec "$H" iptables "$1" FORWARD -p "$proto" -d "$addr" \
			--dport "${tport:-$lo}" -m state --state NEW,ESTABLISHED,RELATED -j ACCEPT
	done
}

if [ "$CMD" = up ]; then
	step ip -n "$H" link add name "$BRIDGE" type bridge
	step ip -n "$H" addr add "$GW" dev "$BRIDGE"
	step ip -n "$H" link set dev "$BRIDGE" up
	for i in "${!NS_NAME[@]}"; do
		n=${NS_NAME[$i]}
		step ip netns add "$n"
		step ip -n "$H" link add "veth$i" type veth peer name "veth$i-br"
		step ip -n "$H" link set "veth$i" netns "$n"
		step ip -n "$H" link set "veth$i-br" master "$BRIDGE"
		step ip -n "$n" addr add "${NS_ADDR[$i]}/$PREFIX" dev "veth$i"
		step ip -n "$n" link set "veth$i" up
		step ip -n "$n" link set lo up
		step ip -n "$H" link set "veth$i-br" up
		step ip -n "$n" route add default via "$GWADDR"
	done
	step ip netns exec "$H" sysctl -qw net.ipv4.ip_forward=1
	for m in "${MASQ[@]}"; do
		step ip netns exec "$H" iptables -t nat -A POSTROUTING -s "$m" -o "$UPLINK" -j MASQUERADE
	done
	[ ${#FWD[@]} -gt 0 ] && forward_rules -A
else
	# The tutorial has no teardown; this is its mirror image, still one command per step.
	# Missing objects are not an error, so down also cleans up after a failed up.
	[ ${#FWD[@]} -gt 0 ] && forward_rules -D
	for m in "${MASQ[@]}"; do
		try ip netns exec "$H" iptables -t nat -D POSTROUTING -s "$m" -o "$UPLINK" -j MASQUERADE
	done
	for n in "${NS_NAME[@]}"; do
		[ -e "/run/netns/$n" ] && step ip netns del "$n"
	done
	if ip -n "$H" link show dev "$BRIDGE" >/dev/null 2>&1; then
		step ip -n "$H" link del "$BRIDGE"
	fi
fi
exit 0

#!/bin/bash
# Setup at scale, what can be checked without a stopwatch (`make bench` times it):
# - fwd's links carry no IPv6: no link-local address on the bridge, the host-side veths or a
#   namespace's eth0, no IPv6 route of a host-side veth (each one's multicast route made every
#   veth that came or went walk all the others' in the host's table), and no ICMPv6 (DAD, MLD)
#   sent by any namespace. With one, each new
#   namespace's DAD and MLD packets were flooded by the bridge to every port: n namespaces,
#   n² deliveries, and `up` of 1,000 took 15 s. After a re-up too.
# - The bridge has no multicast snooping: with it, each port that comes up re-arms the
#   multicast timers of every port.
# - Dual stack: the namespaces' MLD reports (one per new IPv6 address) are not flooded to
#   every port by the bridge: up adds the addresses once the anti-spoofing drops them.
# - A topology of more namespaces than a Linux bridge takes ports (1023) is refused at the
#   1024th namespace's line, exit 2, before anything is built.
# Both datapaths.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

N=${FWD_TEST_SCALE_NS:-40}
sandbox_up || { fail "sandbox"; exit 1; }
before=$(snapshot)

no_files() { ! ls "$@" >/dev/null 2>&1; }

# scale_conf NAME DATAPATH COUNT [dual]: COUNT namespaces P-sNNNN on 10.60.0.0/16 (dual: and
# fd00:60::/64), to $WORK/NAME.conf
scale_conf() {
	local i dual=${4:-}
	{
		printf 'topology %s\ndatapath %s\nbridge %s 10.60.0.1/16%s\nuplink up0\n' "$1" "$2" \
			"${1:0:12}" "${dual:+ fd00:60::1/64}"
		printf 'masquerade 10.60.0.0/16\n'
		for ((i = 1; i <= $3; i++)); do
			printf 'namespace %s-s%04d 10.60.%d.%d%s\n' "$P" $i $((i / 200)) $((i % 200 + 10)) \
				"${dual:+ fd00:60::$(printf %x $((i + 1)))}"
		done
	} >"$WORK/$1.conf"
	echo "$WORK/$1.conf"
}

# IPv6 addresses (any scope) on the bridge $1 and its ports, and IPv6 routes of its ports.
host_ipv6() {
	local port
	ip -n "$HOST" -6 -o addr show dev "$1"
	for port in $(ip -n "$HOST" -o link show master "$1" | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
		ip -n "$HOST" -6 -o addr show dev "$port"
		# not even the multicast route every link with IPv6 has (ff00::/8, table local)
		ip -n "$HOST" -6 route show table all dev "$port"
	done
}

# Namespaces among $P-s* that hold an IPv6 address on eth0, or whose eth0 makes one.
inside_ipv6() {
	local ns
	for ns in $(sandbox_namespaces "^$P-s"); do
		if [ -n "$(ip -n "$ns" -6 -o addr show dev eth0)" ] ||
			! ip -n "$ns" -d link show eth0 | grep -q "addrgenmode none"; then
			echo "$ns"
		fi
	done
}

# inside_snmp6 NAME: the IPv6 counter NAME (/proc/net/snmp6) of the namespaces $P-s*, summed.
inside_snmp6() {
	local ns sum=0 n
	for ns in $(sandbox_namespaces "^$P-s"); do
		# shellcheck disable=SC2016 # awk's $1 and $2
		n=$(in_ns "$ns" awk -v k="$1" '$1 == k { print $2 }' /proc/net/snmp6)
		sum=$((sum + ${n:-0}))
	done
	echo $sum
}
# ICMPv6 messages the namespaces have sent
inside_icmp6_sent() { inside_snmp6 Icmp6OutMsgs; }

for dp in ${DATAPATHS:-kernel bpf}; do
	T="$dp:"
	topo=${P}${dp:0:1}
	conf=$(scale_conf "$topo" "$dp" "$N")
	br=${topo:0:12}
	check "$T up of $N namespaces" "$FWDCTL" -q -n "$HOST" up "$conf"
	check_eq "$T all $N namespaces are there" "$N" "$(sandbox_namespaces "^$P-s" | wc -l)"
	check_eq "$T ... each a port of the bridge" "$N" \
		"$(ip -n "$HOST" -o link show master "$br" | wc -l)"
	check_eq "$T no IPv6 address on the bridge or its ports" "" "$(host_ipv6 "$br")"
	check_eq "$T the bridge has no multicast snooping (n² timer work as ports come up)" \
		"mcast_snooping 0" "$(ip -n "$HOST" -d link show "$br" | grep -o 'mcast_snooping [0-9]')"
	check_eq "$T no IPv6 address on any namespace's eth0, none to be made" "" "$(inside_ipv6)"
	check "$T the namespaces still reach the gateway" pingable "$P-s0001" 10.60.0.1
	check "$T ... and each other" pingable "$P-s0002" "10.60.0.$((N % 200 + 10))"
	check "$T re-up unchanged" "$FWDCTL" -q -n "$HOST" up "$conf"
	check_eq "$T ... still no IPv6 address on the bridge or its ports" "" "$(host_ipv6 "$br")"
	check_eq "$T not one ICMPv6 message (DAD, MLD) sent by a namespace" 0 "$(inside_icmp6_sent)"
	check "$T down" "$FWDCTL" -q -n "$HOST" down "$topo"
	check_eq "$T ... and everything is gone" "$before" "$(snapshot)"
done

# Dual stack: each namespace's new IPv6 address makes it report its solicited-node group (MLD,
# from ::), which the bridge, without snooping, floods to every port unless the anti-spoofing
# drops it first. up adds the addresses once the filters are in place: the host-side veths
# carry no more than the host's own few multicast frames each, not n reports. (Before, a
# dual-stack up of 1,000 namespaces took twice the IPv4-only one.)
port_tx_sum() { # BRIDGE: frames its ports sent into the namespaces, summed
	ip -n "$HOST" -s -j link show master "$1" |
		python3 -c 'import json, sys; print(sum(l["stats64"]["tx"]["packets"] for l in json.load(sys.stdin)))'
}
mld_reports_sent() { inside_snmp6 Icmp6OutMLDv2Reports; } # MLDv2 reports sent, summed
mld_reported_by_all() { [ "$(mld_reports_sent)" -ge "$N" ]; }
for dp in ${DATAPATHS:-kernel bpf}; do
	T="$dp dual stack:"
	topo=${P}6${dp:0:1}
	conf=$(scale_conf "$topo" "$dp" "$N" dual)
	br=${topo:0:12}
	check "$T up of $N namespaces" "$FWDCTL" -q -n "$HOST" up "$conf"
	last=$(printf 'fd00:60::%x' $((N + 1)))
	check "$T the last namespace has its IPv6 address" \
		sh -c "ip -n $P-s$(printf %04d "$N") -6 -o addr show dev eth0 | grep -q ' $last/64'"
	# each has reported its group at least once (the flood, if any, goes with the report)
	check "$T every namespace sent its MLD report" wait_for 5000 mld_reported_by_all
	tx=$(port_tx_sum "$br")
	check "$T the bridge flooded no report: $tx frames to $N ports (flooded, up to $((N * (N - 1))))" \
		test "$tx" -le $((8 * N))
	check "$T the namespaces reach each other over IPv6" pingable "$P-s0002" "$last"
	check "$T down" "$FWDCTL" -q -n "$HOST" down "$topo"
	check_eq "$T ... and everything is gone" "$before" "$(snapshot)"
done

# One namespace more than a bridge takes ports: refused at its line, nothing built.
conf=$(scale_conf "${P}x" bpf 1024)
out=$("$FWDCTL" -q -n "$HOST" up "$conf" 2>&1)
check_eq "1024 namespaces: exit 2" 2 $?
# lines 1-5 are the header: the 1024th namespace is on line 1029
check "... at the 1024th namespace's line, naming the limit" \
	grep -q "${P}x.conf:1029: too many namespaces: at most 1023" <<<"$out"
check_eq "... and nothing changed" "$before" "$(snapshot)"
check "... no state of it left" no_files /run/fwd/"${P}x".*
out=$("$FWDCTL" -q check "$conf" 2>&1)
check_eq "fwdctl check says the same: exit 2" 2 $?
finish

#!/bin/bash
# forward tcp|udp ADDR:PORT: forwards published on a chosen address of the uplink (here its
# secondary 10.77.0.5) beside those on its primary one, the same port on each going to a
# different namespace; hairpin to it; an address the uplink does not have refused at up; and
# another topology's forward on the same address and port refused as a conflict, also when it
# names the primary address that the lab's forward leaves implicit. Both datapaths.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

SECOND=10.77.0.5
sandbox_up || { fail "sandbox"; exit 1; }
in_ns "$HOST" ip addr add $SECOND/24 dev up0
before=$(snapshot)

no_files() { ! ls "$@" >/dev/null 2>&1; }

for dp in ${DATAPATHS:-kernel bpf}; do
	T="$dp:"
	topo=${P}${dp:0:1}
	conf=$(lab_conf "$topo" "$dp")
	cat >>"$conf" <<CONF
forward tcp 8080 $P-blue:7000
forward tcp $SECOND:8080 $P-red:7100
forward udp $SECOND:5353 $P-yellow:53
CONF
	check "$T up" "$FWDCTL" -q -n "$HOST" up "$conf"
	named_server "$P-blue" 7000 blue
	named_server "$P-red" 7100 red
	peer_server "$P-green" udp 53
	peer_server "$P-yellow" udp 53
	check_eq "$T lan -> primary:8080 -> blue" "blue $LAN_ADDR" "$(ask "$LAN" tcp $UPLINK_ADDR 8080)"
	check_eq "$T lan -> $SECOND:8080 -> red" "red $LAN_ADDR" "$(ask "$LAN" tcp $SECOND 8080)"
	check_eq "$T lan -> primary:5353/udp -> green" $LAN_ADDR "$(ask "$LAN" udp $UPLINK_ADDR 5353)"
	check_eq "$T lan -> $SECOND:5353/udp -> yellow" $LAN_ADDR "$(ask "$LAN" udp $SECOND 5353)"
	check_eq "$T lan -> $SECOND:80 (forwarded on the primary only) goes nowhere" "" \
		"$(ask "$LAN" tcp $SECOND 80)"
	check_eq "$T hairpin: green -> $SECOND:8080 -> red, green's address kept" \
		"red 192.168.15.3" "$(ask "$P-green" tcp $SECOND 8080)"
	if [ "$dp" = bpf ]; then
		check "$T the DNAT counter moved" test "$(fwd_counter "$topo" dnat)" -ge 4
	fi

	# Another topology: the same address and port, or the primary address named.
	state=$(snapshot)
	other=$WORK/${P}o.conf
	for line in "forward tcp $SECOND:8080-8081 $P-o1" "forward tcp $UPLINK_ADDR:80 $P-o1"; do
		printf 'bridge %so 192.168.20.5/24\nuplink up0\nnamespace %s-o1 192.168.20.1\n%s\n' \
			"${P:0:9}" "$P" "$line" >"$other"
		out=$("$FWDCTL" -q -n "$HOST" up "$other" 2>&1)
		check_eq "$T conflict ($line): exit 2" 2 $?
		check "$T ... naming the lab's forward" grep -q "overlaps another topology's forward.*$conf" <<<"$out"
		check_eq "$T ... and nothing changed" "$state" "$(snapshot)"
	done
	check "$T ... no state of it left" no_files /run/fwd/"${P}o".*

	stop_servers
	check "$T down" "$FWDCTL" -q -n "$HOST" down "$topo"
done

# An address the uplink does not have: refused, naming the line, nothing changed.
conf=$(lab_conf "${P}x" bpf noforwards)
echo "forward tcp 10.77.0.77:80 $P-blue" >>"$conf"
out=$("$FWDCTL" -q -n "$HOST" up "$conf" 2>&1)
check_eq "an address the uplink lacks: exit 1" 1 $?
check "... naming the line" grep -q "${P}x.conf:10: 10.77.0.77 is not an address of uplink up0" <<<"$out"
check_eq "... and nothing changed" "$before" "$(snapshot)"
check "... no state of it left" no_files /run/fwd/"${P}x".*
finish

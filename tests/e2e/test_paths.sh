#!/bin/bash
# Every path of the tutorial's lab, through fwdctl -n, in each datapath:
# namespace<->namespace, host<->namespace, namespace->LAN (the LAN sees the uplink's address),
# LAN->uplink:port->namespace (the namespace sees the LAN peer's address), UDP, port ranges.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

sandbox_up || { fail "sandbox"; exit 1; }
for dp in ${DATAPATHS:-kernel bpf}; do
	topo=${P}${dp:0:1}
	conf=$(lab_conf "$topo" "$dp")
	if ! "$FWDCTL" -q -n "$HOST" up "$conf"; then
		fail "$dp: up"
		continue
	fi
	T="$dp:"
	check "$T red -> blue ping" pingable "$P-red" 192.168.15.2
	check "$T yellow -> green ping" pingable "$P-yellow" 192.168.15.3
	peer_server "$P-blue" tcp 7000
	check_eq "$T red -> blue tcp, blue sees red" 192.168.15.1 "$(ask "$P-red" tcp 192.168.15.2 7000)"
	peer_server "$P-green" udp 7001
	check_eq "$T red -> green udp, green sees red" 192.168.15.1 "$(ask "$P-red" udp 192.168.15.3 7001)"

	check "$T host -> red ping" pingable "$HOST" 192.168.15.1
	check "$T red -> gateway ping" pingable "$P-red" 192.168.15.5
	check_eq "$T host -> blue tcp" 192.168.15.5 "$(ask "$HOST" tcp 192.168.15.2 7000)"

	peer_server "$LAN" tcp 7002
	peer_server "$LAN" udp 7003
	check "$T red -> lan ping" pingable "$P-red" $LAN_ADDR
	check_eq "$T red -> lan tcp, lan sees the uplink address" $UPLINK_ADDR "$(ask "$P-red" tcp $LAN_ADDR 7002)"
	check_eq "$T yellow -> lan udp, lan sees the uplink address" $UPLINK_ADDR "$(ask "$P-yellow" udp $LAN_ADDR 7003)"

	peer_server "$P-blue" tcp 80
	check_eq "$T lan -> uplink:80 -> blue:80, blue sees the lan peer" $LAN_ADDR "$(ask "$LAN" tcp $UPLINK_ADDR 80)"
	peer_server "$P-green" udp 53
	check_eq "$T lan -> uplink:5353/udp -> green:53" $LAN_ADDR "$(ask "$LAN" udp $UPLINK_ADDR 5353)"
	peer_server "$P-yellow" tcp 8000
	peer_server "$P-yellow" tcp 8009
	check_eq "$T lan -> uplink:8000 -> yellow:8000 (range start)" $LAN_ADDR "$(ask "$LAN" tcp $UPLINK_ADDR 8000)"
	check_eq "$T lan -> uplink:8009 -> yellow:8009 (range end)" $LAN_ADDR "$(ask "$LAN" tcp $UPLINK_ADDR 8009)"
	peer_server "$P-red" tcp 7101
	check_eq "$T lan -> uplink:9101 -> red:7101 (shifted range)" $LAN_ADDR "$(ask "$LAN" tcp $UPLINK_ADDR 9101)"
	check_eq "$T lan -> uplink:8010 is not forwarded" "" "$(ask "$LAN" tcp $UPLINK_ADDR 8010)"

	stop_servers # the next datapath binds the same ports
	check "$T down" "$FWDCTL" -q -n "$HOST" down "$topo"
done

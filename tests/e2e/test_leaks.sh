#!/bin/bash
# The leak invariant where the topology gives it the hardest time, on both datapaths, with
# and without masquerade: nothing leaves the uplink with a namespace's address, and a forward
# target's ICMP errors reach the LAN client translated.
#   - a LAN client of a UDP forward whose target has no server gets ECONNREFUSED (green's port
#     unreachable, from the uplink's address, quoting the uplink's port); before, datapath bpf
#     sent it out untranslated without masquerade and dropped it with masquerade;
#   - without masquerade, a forward target's segments once its connection is gone from the
#     table (flushed) are dropped and counted, not sent out with its address.
# The LAN counts frames with a namespace source and ICMP errors quoting one (lan_leak_watch).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

sandbox_up || { fail "sandbox"; exit 1; }


# after_flush_drops TOPO DATAPATH: what fwd dropped as leaving unmasqueraded so far (bpf: its
# counter; kernel: the packets of FWD-T-FWD's last rule, the subnet's DROP out of the uplink).
after_flush_drops() {
	if [ "$2" = bpf ]; then
		fwd_counter "$1" drop_not_masqueraded
	else
		in_ns "$HOST" iptables-save -c -t filter |
			sed -n "s/^\[\([0-9]*\):.*-A FWD-$1-FWD -s 192.168.15.0\/24 -o up0 -j DROP$/\1/p"
	fi
}
flush_conns() {
	if [ "$2" = bpf ]; then
		"$FWDCTL" -q -n "$HOST" ct "$1" flush
	else
		in_ns "$HOST" conntrack -F 2>/dev/null
	fi
}

for dp in bpf kernel; do
	for shape in masquerade forwards-only; do
		T="$dp, $shape:"
		topo=${P}${dp:0:1}${shape:0:1}
		conf=$(lab_conf "$topo" "$dp")
		[ "$shape" = forwards-only ] && sed -i '/^masquerade/d' "$conf"
		check "$T up" "$FWDCTL" -q -n "$HOST" up "$conf"
		leaks0=$(lan_leaks)

		check_eq "$T a LAN client of udp 5353 (green:53, no server) is refused" refused \
			"$(udp_verdict "$LAN" "$UPLINK_ADDR" 5353)"

		if [ "$shape" = forwards-only ]; then
			# blue:80 talks on its own, a line every 50 ms, once a client connects.
			sandbox_spawn "$P-blue" /dev/null socat TCP-LISTEN:80,reuseaddr \
				SYSTEM:'while echo tick; do sleep 0.05; done'
			wait_for 3000 listening "$P-blue" tcp 80 || fail "$T blue's server did not start"
			sandbox_spawn "$LAN" "$WORK/client.log" socat -u "TCP:$UPLINK_ADDR:80" -
			got_ticks() { grep -q tick "$WORK/client.log"; }
			wait_for 3000 got_ticks || fail "$T the LAN client heard nothing from blue"
			d0=$(after_flush_drops "$topo" "$dp")
			flush_conns "$topo" "$dp"
			dropped_some() { [ $(($(after_flush_drops "$topo" "$dp") - d0)) -ge 3 ]; }
			check "$T blue's segments after a flush: dropped, counted" wait_for 5000 dropped_some
			stop_servers
		fi
		check "$T down" "$FWDCTL" -q -n "$HOST" down "$topo"
		# After down: taking it down must not open a window either.
		check_eq "$T ... and the LAN saw no namespace address, down included" 0 \
			$(($(lan_leaks) - leaks0))
	done
done

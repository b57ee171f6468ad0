#!/bin/bash
# fwdctl monitor: the BPF datapath's drops and connection events, live.
#   - a frame the datapath drops (the LAN aims at a namespace address: drop_not_forwarded)
#     shows in `monitor -j` with that reason, the uplink as its interface, its addresses and
#     ports; a forwarded connection shows as "new" (dnat, original and translated tuples), and
#     `ct flush` of it as "deleted"; a masqueraded one as "new" snat with the uplink's address;
#     the same for IPv6 connections (fwd_ct6: NAT66 and a forward published on IPv6);
#   - --ct shows connections only, --drops drops only; a dropped IPv6 datagram (red, dual-stack,
#     sending from an address not its own) with its IPv6 addresses and ports;
#   - a second monitor of the same topology is refused (exit 1) while the first runs, and one
#     may start once it stopped: the first switched the events off;
#   - under a flood of dropped frames and --rate 50, no more than 50 events a second are
#     shown, the rest are counted: shown + skipped + lost add up to every frame dropped
#     (fwdctl stats), and monitor_skipped says the same as the monitor's summary;
#   - bad options are usage errors (exit 2); a datapath kernel topology is refused (exit 1).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

sandbox_up || { fail "sandbox"; exit 1; }
T=$P
conf=$(lab_conf "$T" bpf)
# Dual-stack red and blue, for an IPv6 drop and IPv6 connections (the uplink fd77::1, the LAN
# fd77::2).
ip -n "$HOST" addr add fd77::1/64 dev up0 nodad
ip -n "$LAN" addr add fd77::2/64 dev lan0 nodad
echo "masquerade fd00:15::/64" >>"$conf"
sed -i -e "s|^bridge vnet0 192.168.15.5/24\$|& fd00:15::5/64|" \
	-e "s|^namespace $P-red  *192.168.15.1\$|& fd00:15::1|" \
	-e "s|^namespace $P-blue  *192.168.15.2\$|& fd00:15::2|" "$conf"
"$FWDCTL" -q -n "$HOST" up "$conf" || { fail "up"; exit 1; }
# The LAN may aim at the namespaces' subnet through the host: fwd drops what is no forward.
ip -n "$LAN" route add 192.168.15.0/24 via $UPLINK_ADDR
named_server "$P-blue" 80 blue
peer_server "$LAN" tcp 7000

# monitor_start OUT [OPTIONS...]: fwdctl -j monitor T in the background, until it switched the
# events on; monitor_stop: SIGINT, its exit status.
monitor_start() {
	local out=$1
	shift
	fwdctl_bg "$out" "at most" -j monitor "$@" "$T"
}
monitor_stop() { fwdctl_bg_stop; }
events() { count_json "$@"; }
# drops_total: every frame the datapath dropped so far, all reasons.
drops_total() {
	"$FWDCTL" -j -n "$HOST" stats "$T" | python3 -c '
import json, sys
print(sum(c["packets"] for c in json.load(sys.stdin)["counters"] if c["kind"] == "drop"))'
}

# --- a drop and connections, with their tuples ------------------------------------------------
out=$WORK/all.json
check "monitor starts" monitor_start "$out"
check_eq "the forward answers" "blue $LAN_ADDR" "$(ask "$LAN" tcp $UPLINK_ADDR 80)"
check_eq "a namespace address from the LAN gets nothing" "" "$(ask "$LAN" tcp 192.168.15.2 80)"
check_eq "red reaches the LAN, masqueraded" "$UPLINK_ADDR" "$(ask "$P-red" tcp $LAN_ADDR 7000)"
# IPv6: the servers listen on IPv4 only, so these are refused; their connections were made.
ask6 "$LAN" tcp fd77::1 80 >/dev/null
ask6 "$P-red" tcp fd77::2 7000 >/dev/null
"$FWDCTL" -q -n "$HOST" ct "$T" flush proto tcp port 80
check_eq "a second monitor is refused while one runs" 1 \
	"$("$FWDCTL" -n "$HOST" monitor --duration 1 "$T" >/dev/null 2>&1; echo $?)"
monitor_stop
check_eq "the monitor stops on SIGINT with status 0" 0 $?
check_eq "the drop is shown with its reason, interface, addresses and ports" 1 \
	"$(events "$out" 'e["event"] == "drop" and e["reason"] == "drop_not_forwarded" and
		e["interface"] == "up0" and e["proto"] == "tcp" and e["src"] == "'$LAN_ADDR'" and
		e["dst"] == "192.168.15.2" and e["dport"] == 80 and e["len"] > 0' | grep -qv '^0$' &&
		echo 1)"
# The same for IPv4 and IPv6: LAN -> the uplink's address, port 80 -> blue:80 (dnat), its
# flush, and red -> the LAN's tcp 7000 (snat to the uplink's address).
for fam in 4 6; do
	if [ $fam = 4 ]; then
		v='' lan=$LAN_ADDR up=$UPLINK_ADDR red=192.168.15.1 blue=192.168.15.2
	else
		v='IPv6: ' lan=fd77::2 up=fd77::1 red=fd00:15::1 blue=fd00:15::2
	fi
	check_eq "${v}the forwarded connection is new, dnat, original to $up:80, translated to blue" 1 \
		"$(events "$out" 'e["event"] == "new" and e["nat"] == "dnat" and e["proto"] == "tcp" and
			e["original"]["src"] == "'$lan'" and e["original"]["dst"] == "'$up'" and
			e["original"]["dport"] == 80 and e["translated"]["dst"] == "'$blue'" and
			e["translated"]["dport"] == 80')"
	check_eq "${v}its flush shows as deleted" 1 \
		"$(events "$out" 'e["event"] == "deleted" and e["nat"] == "dnat" and
			e["original"]["dst"] == "'$up'" and e["original"]["dport"] == 80')"
	check_eq "${v}the masqueraded connection is new, snat to the uplink's address" 1 \
		"$(events "$out" 'e["event"] == "new" and e["nat"] == "snat" and
			e["original"]["src"] == "'$red'" and e["original"]["dport"] == 7000 and
			e["translated"]["src"] == "'$up'"')"
done
check_eq "the last line is the summary" summary \
	"$(tail -n 1 "$out" | python3 -c 'import json, sys; print(json.load(sys.stdin)["event"])')"

# --- one kind only, and the events are off again ----------------------------------------------
out=$WORK/ct.json
check "a new monitor starts once the first stopped" monitor_start "$out" --ct
ask "$LAN" tcp 192.168.15.2 80 >/dev/null
check_eq "--ct: the forward's connection shows" blue "$(ask "$LAN" tcp $UPLINK_ADDR 80 | cut -d' ' -f1)"
monitor_stop
check_eq "--ct: no drop shown" 0 "$(events "$out" 'e["event"] == "drop"')"
check_eq "--ct: the connection shown" 1 "$(events "$out" 'e["event"] == "new"')"
out=$WORK/drops.json
monitor_start "$out" --drops
ask "$LAN" tcp $UPLINK_ADDR 80 >/dev/null
ask "$LAN" tcp 192.168.15.3 80 >/dev/null
forged_udp "$P-red" 192.168.15.99 "$LAN_ADDR"
# red sends IPv6 from fd00:15::99, to blue's MAC it knows (no neighbour solicitation first)
ip -n "$P-red" addr add fd00:15::99/64 dev eth0 nodad
ip -n "$P-red" -6 neigh replace fd00:15::2 lladdr "$(mac_of "$P-blue")" dev eth0 nud permanent
in_ns "$P-red" python3 -c '
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("fd00:15::99", 40406))
s.sendto(b"spf6\n", ("fd00:15::2", 9999))'
wait_for 3000 grep -q drop_spoof_ipv4 "$out"
wait_for 3000 grep -q drop_spoof_ipv6 "$out"
monitor_stop
check_eq "--drops: no connection shown" 0 "$(events "$out" 'e["event"] not in ("drop", "summary")')"
check_eq "--drops: red's forged datagram, with red as its namespace" 1 \
	"$(events "$out" 'e["event"] == "drop" and e["reason"] == "drop_spoof_ipv4" and e.get("namespace") == "'"$P-red"'" and e["src"] == "192.168.15.99"')"
check_eq "--drops: red's IPv6 datagram from an address not its own, with its addresses and ports" 1 \
	"$(events "$out" 'e["event"] == "drop" and e["reason"] == "drop_spoof_ipv6" and e.get("namespace") == "'"$P-red"'" and e["proto"] == "udp" and e["src"] == "fd00:15::99" and e["dst"] == "fd00:15::2" and e["sport"] == 40406 and e["dport"] == 9999')"
check "--drops: the drop shown" test "$(events "$out" 'e["event"] == "drop" and e["dst"] == "192.168.15.3"')" -ge 1
check_eq "stopped, the monitor switched the datapath's events off" 0 \
	"$(bpftool -j map dump pinned "/sys/fs/bpf/fwd/$T/fwd_monitor" | python3 -c '
import json, sys
print(json.load(sys.stdin)[0]["formatted"]["value"]["flags"])')"

# --- a flood under the rate cap ----------------------------------------------------------------
out=$WORK/flood.json
skipped0=$(fwd_counter "$T" monitor_skipped)
# The monitor's window holds the drops between the two counts inside it and is held by the two
# outside it: a stray frame of the LAN's own (IPv6 neighbour discovery, say) may be dropped
# just after the monitor starts or just before it stops.
before_start=$(drops_total)
monitor_start "$out" --drops --rate 50
start=$(date +%s%N)
before=$(drops_total)
# 3,000 datagrams at a namespace address as fast as python sends them: far over 50 a second.
in_ns "$LAN" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(3000):
    s.sendto(b"x", ("192.168.15.4", 9))'
wait_for 3000 test "$(drops_total)" -ge $((before + 3000))
dropped=$(($(drops_total) - before))
monitor_stop
dropped_stop=$(($(drops_total) - before_start))
secs=$(( ($(date +%s%N) - start + 999999999) / 1000000000 ))
summary=$(tail -n 1 "$out")
field() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$summary" "$1"; }
shown=$(events "$out" 'e["event"] == "drop"')
check_eq "flood: the summary counts what it showed" "$shown" "$(field shown)"
check_eq "flood: the cap in force is the one asked for" 50 "$(field rate_cap)"
check "flood: at most 50 a second shown ($shown in ${secs}s)" test "$shown" -le $((50 * (secs + 1)))
check "flood: events were skipped ($(field skipped))" test "$(field skipped)" -gt 0
seen=$((shown + $(field skipped) + $(field lost)))
check "flood: shown + skipped + lost ($seen) = frames dropped while it ran ($dropped-$dropped_stop)" \
	test "$seen" -ge "$dropped" -a "$seen" -le "$dropped_stop" -a "$dropped" -ge 3000
check_eq "flood: stats' monitor_skipped moved by the summary's skipped" "$(field skipped)" \
	$(($(fwd_counter "$T" monitor_skipped) - skipped0))

# --- bad input, and datapath kernel -----------------------------------------------------------
for args in "--rate 0" "--rate x" "--count" "--bogus" "a b" "--duration -1"; do
	# shellcheck disable=SC2086 # the words are the arguments
	check_eq "monitor $args: usage error" 2 "$("$FWDCTL" -n "$HOST" monitor $args >/dev/null 2>&1; echo $?)"
done
kernel_lab_up "$P-k" || fail "up kernel"
check_eq "monitor of a datapath kernel topology is refused" 1 \
	"$("$FWDCTL" -n "$HOST" monitor --duration 1 "$P-k" >/dev/null 2>&1; echo $?)"

check "down" "$FWDCTL" -q -n "$HOST" down "$T" "$P-k"

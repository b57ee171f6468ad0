#!/bin/bash
# Policy on both datapaths: isolate with an allow line, and forward ... from.
#   isolate; allow red -> blue tcp 80; forward udp 5353 green:53 from 10.77.0.2/32:
#   - red reaches blue:80 (and blue's answers reach red), nothing else between namespaces
#     does: red -> blue:81, blue -> red:80, red -> green ping, and not IPv6 link-local either
#     (the bridge forwards nothing between the namespaces' ports); a forward (uplink:8080 ->
#     blue:81) is reached from red as from the LAN (datapath bpf);
#   - the LAN peer's own address reaches the forward, another of its addresses does not;
#   - each drop counted by its rule: fwdctl stats' rules (bpf), the rules' counters (kernel);
#   - the same file without those lines: everything reaches everything again, the bridge's
#     proxy ARP is off again.
# Then the same policy dual-stack (red and blue with IPv6; the uplink fd77::1), which ip6tables
# enforces on both datapaths (datapath bpf's programs hand IPv6 between namespaces to the kernel
# under isolate: pass_isolate6): red reaches blue:80, not blue:81; blue does not reach red:80
# nor red ping blue, also when red sends to blue's MAC itself; the drops counted by the
# ip6tables rule; red's address a /128 with an onlink default route; red reaches the gateway,
# the LAN (masqueraded) and blue's forward on the uplink's IPv6 address (datapath bpf); without
# isolate, red's address back to /64 and all of it answered.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

sandbox_up || { fail "sandbox"; exit 1; }
# A second address of the LAN peer, outside the forward's "from".
ip -n "$LAN" addr add 10.77.0.200/24 dev lan0
P6=fd00:15:: UP6=fd77::1 LAN6=fd77::2
if ! ip -n "$HOST" addr add $UP6/64 dev up0 nodad || ! ip -n "$LAN" addr add $LAN6/64 dev lan0 nodad; then
	fail "IPv6 on the uplink"
	exit 1
fi

# dual6 FILE: FILE with IPv6 for the bridge, red and blue, and its prefix masqueraded.
dual6() {
	sed -e "s|^bridge vnet0 192.168.15.5/24\$|bridge vnet0 192.168.15.5/24 ${P6}5/64|" \
		-e "s|^\(namespace $P-red  *192.168.15.1\)\$|\1 ${P6}1|" \
		-e "s|^\(namespace $P-blue  *192.168.15.2\)\$|\1 ${P6}2|" \
		-e "s|^masquerade 192.168.15.0/24\$|&\nmasquerade ${P6}/64|" "$1"
}
# server6 NS PORT: an IPv6 TCP server answering with the peer's address.
server6() {
	# shellcheck disable=SC2016 # $SOCAT_PEERADDR is for the shell socat starts
	sandbox_spawn "$1" /dev/null socat "TCP6-LISTEN:$2,ipv6only=1,reuseaddr,fork" SYSTEM:'echo $SOCAT_PEERADDR'
	wait_for 3000 listening "$1" tcp "$2" || fail "server6 $1/$2 did not start"
}
# ask6 NS tcp ADDR PORT: ask's answer, an IPv6 address in RFC 5952's form (socat writes all 8
# groups in full).
ask6() {
	ask "$@" | tr -d '[]' | python3 -c '
import ipaddress, sys
a = sys.stdin.read().strip()
print(ipaddress.ip_address(a).compressed if a else "")'
}
pingable_6() { in_ns "$1" ping -6 -c 1 -W 1 -q "$2" >/dev/null 2>&1; }
# isolate6_drops TOPO: the packets ip6tables' isolate DROP rule counted.
isolate6_drops() {
	in_ns "$HOST" ip6tables-save -c -t filter |
		sed -n "s/^\[\([0-9]*\):.*-A FWD-$1-FWD -i vnet0 -o vnet0 -j DROP$/\1/p"
}
# addr6_of NS: its global IPv6 address with the prefix length.
addr6_of() { ip -n "$1" -6 -o addr show dev eth0 scope global | awk '{print $4}'; }

# udp_from NS SRC ADDR PORT: one datagram from SRC (bound), the answer or "" within 3 s.
udp_from() {
	in_ns "$1" timeout 5 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
s.settimeout(3)
s.sendto(b"hi\n", (sys.argv[2], int(sys.argv[3])))
try:
    print(s.recv(100).decode().strip())
except socket.timeout:
    print("")' "$2" "$3" "$4"
}
# fwd gives the namespaces no IPv6 (addrgenmode none), but a namespace may give itself some:
# red and blue take a link-local address each (nodad: usable at once), as a hostile one would,
# to talk past IPv4's policy. ll_of NS: that address.
own_ll() {
	ip -n "$P-red" addr replace fe80::1:1/64 dev eth0 nodad
	ip -n "$P-blue" addr replace fe80::1:2/64 dev eth0 nodad
}
ll_of() { ip -n "$1" -6 -o addr show dev eth0 scope link | awk '{print $4}' | cut -d/ -f1; }
not() { ! "$@"; }
pingable6() { in_ns "$1" ping -6 -c 1 -W 1 -q "$2%eth0" >/dev/null 2>&1; }
# rule_drops TOPO DATAPATH RULE: drops of "isolate" or of the forward (bpf: fwdctl stats' rules;
# kernel: the DROP rule's packet counter in FWD-T-FWD or FWD-T-RAW).
rule_drops() {
	if [ "$2" = bpf ]; then
		"$FWDCTL" -j -n "$HOST" stats "$1" | python3 -c '
import json, sys
rules = json.load(sys.stdin)["rules"]
print(sum(r["packets"] for r in rules if r["rule"].startswith(sys.argv[1])))' "$3"
	elif [ "$3" = isolate ]; then
		in_ns "$HOST" iptables-save -c -t filter |
			sed -n "s/^\[\([0-9]*\):.*-A FWD-$1-FWD -i vnet0 -o vnet0 -j DROP$/\1/p"
	else
		in_ns "$HOST" iptables-save -c -t raw |
			sed -n "s/^\[\([0-9]*\):.*-A FWD-$1-RAW -d $UPLINK_ADDR\/32 .* -j DROP$/\1/p"
	fi
}

# prometheus_checks TOPO: stats --prometheus, read by prometheus_client's own parser, says what
# -j stats says: the rules' drops (labels rule, line), the frames of a path, no event among
# the frames; without NAME it is this topology's too; with -j it is refused. Debian's python3
# (python3-prometheus-client, which make test installs), whatever python3 PATH finds first.
prometheus_checks() {
	local json prom
	json=$("$FWDCTL" -j -n "$HOST" stats "$1")
	prom=$("$FWDCTL" -n "$HOST" stats --prometheus "$1")
	check_eq "$T stats --prometheus parses (prometheus_client) and agrees with -j stats" ok \
		"$(/usr/bin/python3 -c '
import json, sys
from prometheus_client.parser import text_string_to_metric_families
doc = json.loads(sys.argv[1])
fams = {f.name: f for f in text_string_to_metric_families(sys.argv[2])}
def samples(fam, suffix):
    return [s for s in fams[fam].samples if s.name == fam + suffix]
want = {"fwd_frames", "fwd_frame_bytes", "fwd_events", "fwd_policy_dropped_frames",
        "fwd_policy_dropped_bytes"}
assert want <= set(fams), sorted(fams)
assert all(f.type == "counter" for f in fams.values())
for r in doc["rules"]:
    got = [s.value for s in samples("fwd_policy_dropped_frames", "_total")
           if s.labels == {"topology": doc["topology"], "rule": r["rule"], "line": str(r["line"])}]
    assert got == [r["packets"]], (r, got)
frames = {s.labels["counter"]: s.value for s in samples("fwd_frames", "_total")}
for c in doc["counters"]:
    if c["kind"] == "event":
        assert c["name"] not in frames, c
    elif c["name"] == "redirect_peer":
        assert frames[c["name"]] >= c["packets"] > 0, (c, frames[c["name"]])
print("ok")' "$json" "$prom" 2>&1 | tail -n 1)"
	check "$T stats --prometheus without NAME: this topology's counters" \
		grep -q "topology=\"$1\"" <<<"$("$FWDCTL" -n "$HOST" stats --prometheus)"
	check_eq "$T -j stats --prometheus: refused, exit 2" 2 \
		"$("$FWDCTL" -j -n "$HOST" stats --prometheus "$1" >/dev/null 2>&1; echo $?)"
}

for dp in bpf kernel; do
	T="$dp:"
	topo=${P}${dp:0:1}
	plain=$(lab_conf "$topo" "$dp" noforwards)
	conf="$WORK/$topo-policy.conf"
	{
		cat "$plain"
		echo "forward udp 5353 $P-green:53 from 10.77.0.2/32"
		echo "forward tcp 8080 $P-blue:81"
		echo "isolate"
		echo "allow $P-red -> $P-blue tcp 80"
	} >"$conf"
	check "$T up with isolate" "$FWDCTL" -q -n "$HOST" up "$conf"
	peer_server "$P-blue" tcp 80
	peer_server "$P-blue" tcp 81
	peer_server "$P-red" tcp 80
	peer_server "$P-green" udp 53

	check_eq "$T red -> blue:80 (allowed): blue sees red, red gets the answer" 192.168.15.1 \
		"$(ask "$P-red" tcp 192.168.15.2 80)"
	check_eq "$T red -> blue:81: nothing" "" "$(ask "$P-red" tcp 192.168.15.2 81)"
	check_eq "$T blue -> red:80 (allowed the other way only): nothing" "" \
		"$(ask "$P-blue" tcp 192.168.15.1 80)"
	check "$T red -> green ping: nothing" not pingable "$P-red" 192.168.15.3
	own_ll
	check_eq "$T blue has the link-local address it gave itself" fe80::1:2 "$(ll_of "$P-blue")"
	check "$T red -> blue over IPv6 link-local: nothing (the bridge's ports are isolated)" \
		not pingable6 "$P-red" "$(ll_of "$P-blue")"
	check "$T red still reaches its gateway" pingable "$P-red" 192.168.15.5
	# datapath kernel with br_netfilter (loaded here) bridges a DNATed frame whose target is on
	# the bridge (br_nf_pre_routing_finish), and the isolated ports drop it: documented there.
	[ "$dp" = bpf ] && check_eq "$T red reaches blue's forward (uplink:8080 -> blue:81), as the LAN does" \
		192.168.15.1 "$(ask "$P-red" tcp "$UPLINK_ADDR" 8080)"
	check_eq "$T the LAN peer's own address reaches the forward (from 10.77.0.2/32)" \
		"$LAN_ADDR" "$(udp_from "$LAN" "$LAN_ADDR" "$UPLINK_ADDR" 5353)"
	check_eq "$T its other address (10.77.0.200) does not" "" \
		"$(udp_from "$LAN" 10.77.0.200 "$UPLINK_ADDR" 5353)"
	check "$T ... isolate's drops counted by its rule ($(rule_drops "$topo" "$dp" isolate))" \
		test "$(rule_drops "$topo" "$dp" isolate)" -ge 3
	check "$T ... the forward's drops by its rule ($(rule_drops "$topo" "$dp" forward))" \
		test "$(rule_drops "$topo" "$dp" forward)" -ge 1
	[ "$dp" = bpf ] && prometheus_checks "$topo"

	# The same lab without the policy: open again, the bridge as before.
	check "$T up without the policy lines" "$FWDCTL" -q -n "$HOST" up "$plain"
	check_eq "$T blue -> red:80 now answered" 192.168.15.2 "$(ask "$P-blue" tcp 192.168.15.1 80)"
	check "$T red -> green ping now answered" pingable "$P-red" 192.168.15.3
	own_ll
	check "$T red -> blue over IPv6 link-local now answered" pingable6 "$P-red" "$(ll_of "$P-blue")"
	check_eq "$T the bridge's proxy ARP off again" "0 0" \
		"$(in_ns "$HOST" cat /proc/sys/net/ipv4/conf/vnet0/proxy_arp /proc/sys/net/ipv4/conf/vnet0/proxy_arp_pvlan | xargs)"
	stop_servers

	# The same policy, dual-stack.
	dual6 "$conf" >"$WORK/$topo-policy6.conf"
	dual6 "$plain" >"$WORK/$topo-plain6.conf"
	check "$T up with isolate, dual-stack" "$FWDCTL" -q -n "$HOST" up "$WORK/$topo-policy6.conf"
	server6 "$P-blue" 80
	server6 "$P-blue" 81
	server6 "$P-red" 80
	in_ns "$P-blue" ip6tables -I INPUT -s "${P6}1" -p tcp --dport 81 -m comment --comment fwdblue81
	check_eq "$T red's IPv6 address is a /128" "${P6}1/128" "$(addr6_of "$P-red")"
	check "$T ... its default route onlink via the gateway" \
		grep -q "^default via ${P6}5 dev eth0 .*onlink" <<<"$(ip -n "$P-red" -6 route show default)"
	[ "$dp" = bpf ] && passed6=$(fwd_counter "$topo" pass_isolate6)
	drops6=$(isolate6_drops "$topo")
	check_eq "$T red -> blue:80 over IPv6 (allowed): blue sees red" "${P6}1" \
		"$(ask6 "$P-red" tcp "${P6}2" 80)"
	check_eq "$T red -> blue:81 over IPv6: nothing" "" "$(ask6 "$P-red" tcp "${P6}2" 81)"
	check_eq "$T blue -> red:80 over IPv6: nothing" "" "$(ask6 "$P-blue" tcp "${P6}1" 80)"
	check "$T red -> blue ping over IPv6: nothing" not pingable_6 "$P-red" "${P6}2"
	check "$T ... isolate's IPv6 drops counted by the ip6tables rule ($drops6 -> $(isolate6_drops "$topo"))" \
		test "$(isolate6_drops "$topo")" -ge $((drops6 + 3))
	[ "$dp" = bpf ] && check "$T ... the programs handed IPv6 between namespaces to the kernel (pass_isolate6 $passed6 -> $(fwd_counter "$topo" pass_isolate6))" \
		test "$(fwd_counter "$topo" pass_isolate6)" -gt "$passed6"
	# A hostile red sends to blue's own MAC, past the gateway: not switched, and the bridge's
	# isolated ports drop it.
	ip -n "$P-red" -6 neigh replace "${P6}2" lladdr "$(mac_of "$P-blue")" dev eth0 nud permanent
	ip -n "$P-red" -6 route replace "${P6}2/128" dev eth0
	check_eq "$T red -> blue:81 over IPv6 sent to blue's MAC itself: nothing" "" \
		"$(ask6 "$P-red" tcp "${P6}2" 81)"
	check_eq "$T ... blue saw no segment of red's to port 81 at all" 0 \
		"$(in_ns "$P-blue" ip6tables -nvxL INPUT | awk '/fwdblue81/ {print $1}')"
	ip -n "$P-red" -6 route del "${P6}2/128" dev eth0
	ip -n "$P-red" -6 neigh del "${P6}2" dev eth0
	check "$T red pings its gateway over IPv6" pingable_6 "$P-red" "${P6}5"
	check "$T red pings the LAN over IPv6 (masqueraded)" pingable_6 "$P-red" "$LAN6"
	[ "$dp" = bpf ] && check_eq "$T red reaches blue's forward on [$UP6]:8080 over IPv6" \
		"${P6}1" "$(ask6 "$P-red" tcp "$UP6" 8080)"
	check "$T up without the policy lines, dual-stack" "$FWDCTL" -q -n "$HOST" up "$WORK/$topo-plain6.conf"
	check_eq "$T red's IPv6 address back to /64" "${P6}1/64" "$(addr6_of "$P-red")"
	check_eq "$T blue -> red:80 over IPv6 now answered" "${P6}2" "$(ask6 "$P-blue" tcp "${P6}1" 80)"
	check "$T red -> blue ping over IPv6 now answered" pingable_6 "$P-red" "${P6}2"
	stop_servers
	check "$T down" "$FWDCTL" -q -n "$HOST" down "$topo"
done

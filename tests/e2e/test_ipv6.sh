#!/bin/bash
# IPv6 beside IPv4 (issue 21), on both datapaths: datapath kernel builds it with the bridge,
# routing and ip6tables; datapath bpf's programs switch IPv6 between namespaces, hold each
# namespace to its address (neighbour advertisements too), masquerade it (NAT66) and forward it
# (DNAT66), and pass the rest to the kernel. The lab dual-stack: red and blue with IPv6
# addresses in fd00:15::/64 (green without), the bridge fd00:15::5, masquerade of the prefix out
# of the uplink (fd77::1, the LAN fd77::2). Checked: the addresses ready at once (no DAD) and the
# IPv6 default route; ping, TCP and UDP between namespaces and to the gateway, a bulk transfer
# that netfilter sees only on datapath kernel; out to the LAN masqueraded (the LAN sees
# fd77::1), also when the host must solicit a namespace's MAC itself, and ICMPv6 errors back
# translated; on datapath bpf, the programs' counters, fwdctl ct's listing and flush, and a
# re-up with another conntrack max that carries a running IPv6 transfer over; forwards to blue
# published on the uplink's IPv6 address (TCP, UDP, hairpin, the client's address kept), a
# steady UDP flow to a retargeted one reaching the new target at once (up ends its connection,
# in fwd_ct6 or in nf_conntrack); the
# LAN reaches no namespace by its own address and its spoofed sources of the prefix are
# dropped; a namespace sending from an address not its own, or green sending IPv6 at all,
# reaches nobody; on datapath bpf a namespace advertising the gateway's address changes no
# neighbour's cache; a second topology with an overlapping prefix is refused; never a frame
# from fd00:15::/64 on the LAN; a re-up changes nothing, removed addresses go (one, then all
# IPv6), and down restores forwarding and removes fwd's ip6tables chains, also with an
# IPv4-only topology still up. (isolate with IPv6: test_policy.sh.)
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

PREFIX6=fd00:15::
UP6=fd77::1
LAN6=fd77::2

sandbox_up || { fail "sandbox"; exit 1; }
# fd77::8: a second IPv6 address of the uplink, for a forward that names it; deprecated
# (preferred_lft 0), so neither the source the kernel masquerades to nor, though the kernel lists
# it first (the newest), the address up publishes the other forwards on (the first preferred one).
if ! ip -n "$HOST" addr add $UP6/64 dev up0 nodad || ! ip -n "$LAN" addr add $LAN6/64 dev lan0 nodad ||
	! ip -n "$HOST" addr add fd77::8/64 dev up0 nodad preferred_lft 0; then
	fail "IPv6 on the uplink"
	exit 1
fi
# The LAN counts what arrives from the private prefix (a leak), and echo requests from the
# uplink (what a namespace's ping became).
in_ns "$LAN" ip6tables -t raw -I PREROUTING -s ${PREFIX6}/64 -m comment --comment fwdleak6
in_ns "$LAN" ip6tables -t raw -I PREROUTING -s $UP6 -p ipv6-icmp --icmpv6-type echo-request \
	-m comment --comment fwdping6
lan6_count() {
	in_ns "$LAN" ip6tables -t raw -nvxL PREROUTING | awk -v c="$1" '$0 ~ c {n += $1} END {print n + 0}'
}
forwarding6() { in_ns "$HOST" sysctl -n net.ipv6.conf.all.forwarding; }
# pin_max_entries MAP: max_entries of the topology's pinned MAP (status -j).
pin_max_entries() {
	"$FWDCTL" -j -n "$HOST" status "$T" | python3 -c '
import json, sys
pins = {p["name"]: p for p in json.load(sys.stdin)["bpf"]["pins"]}
print(pins.get(sys.argv[1], {}).get("max_entries", "none"))' "$1"
}
fwd6_before=$(forwarding6)
before=$(snapshot)

# advertise NS TO TARGET MAC: three unsolicited neighbour advertisements from NS to TO (hop limit
# 255, the override flag) saying TARGET is at MAC: what a namespace sends to take another's
# traffic.
advertise() {
	in_ns "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
na = bytes([136, 0, 0, 0, 0x20, 0, 0, 0]) + socket.inet_pton(socket.AF_INET6, sys.argv[2])
na += bytes([2, 1]) + bytes.fromhex(sys.argv[3].replace(":", ""))
for _ in range(3):
    s.sendto(na, (sys.argv[1], 0))' "$2" "$3" "$4"
}

# ask6_from NS SRC ADDR PORT: as ask6 tcp, from the source address SRC.
ask6_from() {
	in_ns "$1" timeout 5 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.settimeout(3)
s.bind((sys.argv[1], 0))
try:
    s.connect((sys.argv[2], int(sys.argv[3])))
    print(s.recv(100).decode().strip())
except OSError:
    pass' "$2" "$3" "$4"
}

for dp in ${DATAPATHS:-kernel bpf}; do
	T=${P}6${dp:0:1}
	D="$dp:"
	cat >"$WORK/lab6.conf" <<CONF
topology $T
datapath $dp
bridge vnet0 192.168.15.5/24 ${PREFIX6}5/64
uplink up0
masquerade 192.168.15.0/24
masquerade ${PREFIX6}/64
namespace $P-red   192.168.15.1 ${PREFIX6}1
namespace $P-blue  192.168.15.2 ${PREFIX6}2
namespace $P-green 192.168.15.3
forward tcp 8080 $P-blue:7000
forward udp 5353 $P-blue:7001
forward udp 5354 $P-blue:7999
forward tcp [fd77::8]:8443 $P-blue:7000
CONF

	# A forward naming an IPv6 address the uplink lacks: refused at up, naming its line.
	{ cat "$WORK/lab6.conf"; echo "forward tcp [fd77::77]:80 $P-blue"; } >"$WORK/lacks6.conf"
	out=$("$FWDCTL" -n "$HOST" up "$WORK/lacks6.conf" 2>&1)
	check_eq "$D a forward on an IPv6 address the uplink lacks: exit 1" 1 $?
	check "$D ... naming its line" grep -q "lacks6.conf:$(wc -l <"$WORK/lacks6.conf"): fd77::77 is not an address of uplink up0" <<<"$out"
	check_eq "$D ... and nothing changed" "$before" "$(snapshot)"

	# What the datapath before left in nf_conntrack (time_wait) must not count for this one.
	in_ns "$HOST" conntrack -F -f ipv6 >/dev/null 2>&1
	check "$D up (dual stack)" "$FWDCTL" -q -n "$HOST" up "$WORK/lab6.conf"
	check_eq "$D IPv6 forwarding on while an IPv6 prefix is masqueraded" 1 "$(forwarding6)"
	check "$D red has ${PREFIX6}1/64, ready at once (not tentative)" \
		sh -c "ip -n $P-red -6 -o addr show dev eth0 scope global | grep -q '${PREFIX6}1/64' &&
		       ! ip -n $P-red -6 -o addr show dev eth0 | grep -q tentative"
	check_eq "$D red's IPv6 default route via the bridge" "default via ${PREFIX6}5 dev eth0" \
		"$(ip -n "$P-red" -6 route show default | awk '{print $1, $2, $3, $4, $5}')"
	check_eq "$D green has no IPv6 address" "" "$(ip -n "$P-green" -6 -o addr show dev eth0 scope global)"
	check "$D the bridge has ${PREFIX6}5/64" sh -c "ip -n $HOST -6 -o addr show dev vnet0 | grep -q '${PREFIX6}5/64'"

	peer6_server "$P-blue" tcp 7000
	peer6_server "$P-blue" udp 7001
	peer6_server "$LAN" tcp 7000
	peer6_server "$LAN" udp 7001

	check "$D red pings blue over IPv6" pingable "$P-red" ${PREFIX6}2
	check "$D red pings the gateway over IPv6" pingable "$P-red" ${PREFIX6}5
	check_eq "$D red -> blue tcp: blue sees red's address" ${PREFIX6}1 "$(ask6 "$P-red" tcp ${PREFIX6}2 7000)"
	check_eq "$D red -> blue udp: blue sees red's address" ${PREFIX6}1 "$(ask6 "$P-red" udp ${PREFIX6}2 7001)"
	# Between namespaces datapath bpf's programs switch IPv6: 4 MiB red -> blue arrive, fwd's
	# redirect counter carried them, and netfilter (a counting rule in the host's FORWARD chain,
	# bridge-nf-call-ip6tables on) saw none of it; on datapath kernel the bridge carries them
	# and the rule sees them (the control).
	nf6=$(in_ns "$HOST" sysctl -n net.bridge.bridge-nf-call-ip6tables)
	in_ns "$HOST" sysctl -qw net.bridge.bridge-nf-call-ip6tables=1
	in_ns "$HOST" ip6tables -I FORWARD -s ${PREFIX6}1 -d ${PREFIX6}2 -p tcp -m comment --comment fwdsw6
	[ "$dp" = bpf ] && sw_bytes=$(fwd_counter "$T" redirect_peer bytes)
	check_eq "$D 4 MiB red -> blue over IPv6 arrive" 4194304 "$(tcp_push "$P-red" "$P-blue" ${PREFIX6}2 7500 4194304)"
	seen=$(in_ns "$HOST" ip6tables -nvxL FORWARD | awk '/fwdsw6/ {n += $1} END {print n + 0}')
	if [ "$dp" = bpf ]; then
		check "$D ... switched by the programs (redirect_peer carried 4 MiB more)" \
			test $(($(fwd_counter "$T" redirect_peer bytes) - sw_bytes)) -ge 4194304
		check_eq "$D ... and netfilter saw none of it" 0 "$seen"
	else
		check "$D ... through the bridge, where netfilter saw it (the control)" test "$seen" -gt 10
	fi
	in_ns "$HOST" ip6tables -D FORWARD -s ${PREFIX6}1 -d ${PREFIX6}2 -p tcp -m comment --comment fwdsw6
	in_ns "$HOST" sysctl -qw net.bridge.bridge-nf-call-ip6tables="$nf6"
	pings=$(lan6_count fwdping6)
	check "$D red pings the LAN over IPv6" pingable "$P-red" $LAN6
	check "$D ... which saw the echo request from the uplink's address" test "$(lan6_count fwdping6)" -gt "$pings"
	check_eq "$D red -> LAN tcp: masqueraded to the uplink's address" $UP6 "$(ask6 "$P-red" tcp $LAN6 7000)"
	check_eq "$D red -> LAN udp: masqueraded to the uplink's address" $UP6 "$(ask6 "$P-red" udp $LAN6 7001)"
	# The replies routed into the bridge need the host to find red's MAC itself (neighbour
	# solicitation from the bridge's link-local address): with its entry for red gone, red's
	# cache of the gateway still fresh, nothing else teaches it.
	ip -n "$HOST" -6 neigh flush dev vnet0
	check_eq "$D red -> LAN tcp with the host's neighbour entry for red flushed" $UP6 \
		"$(ask6 "$P-red" tcp $LAN6 7000)"
	check_eq "$D blue -> LAN tcp: masqueraded" $UP6 "$(ask6 "$P-blue" tcp $LAN6 7000)"
	# An ICMPv6 error about a masqueraded datagram (port unreachable, sent by the LAN to the
	# uplink's address) reaches red translated: its socket sees the refusal.
	[ "$dp" = bpf ] && replies=$(fwd_counter "$T" snat6_reply)
	check_eq "$D red -> LAN udp to a closed port: the ICMPv6 error comes back translated" refused \
		"$(udp_verdict "$P-red" $LAN6 7999)"
	# datapath bpf masquerades in its programs (NAT66): their counters moved, the error
	# translated there too, and nf_conntrack never saw a masqueraded connection; datapath
	# kernel's ip6tables did (the control).
	ct7000=$(in_ns "$HOST" conntrack -L -f ipv6 -p tcp --dport 7000 2>/dev/null | grep -c .)
	if [ "$dp" = bpf ]; then
		check "$D NAT66 in the programs: snat6 counted" test "$(fwd_counter "$T" snat6)" -gt 0
		check "$D ... the ICMPv6 error too (snat6_reply)" \
			test "$(fwd_counter "$T" snat6_reply)" -gt "$replies"
		check_eq "$D ... and nf_conntrack saw none of the connections to the LAN" 0 "$ct7000"
		# fwdctl ct lists them: red's address and port, and what the LAN saw.
		ct6() { # [KEY=VALUE python filter]: red's IPv6 connections to the LAN's tcp 7000
			"$FWDCTL" -j -n "$HOST" ct "$T" | python3 -c '
import json, sys
c = [x for x in json.load(sys.stdin)["connections"]
     if x["original"]["src"] == sys.argv[1] and x["original"]["dport"] == 7000]
print(len(c), " ".join(sorted({x["translated"]["src"] + "/" + x["proto"] for x in c})))' "${PREFIX6}1"
		}
		check_eq "$D fwdctl ct lists red's IPv6 connections, translated to the uplink's address" \
			"1 $UP6/tcp" "$(ct6 | sed 's/^[1-9][0-9]* /1 /')"
		check "$D ... in its text form too, bracketed" \
			sh -c "'$FWDCTL' -n '$HOST' ct '$T' | grep -q '\[${PREFIX6}1\]:[0-9]* -> \[$LAN6\]:7000'"
		check "$D fwdctl ct flush namespace red" "$FWDCTL" -q -n "$HOST" ct "$T" flush namespace "$P-red"
		check_eq "$D ... and red's IPv6 connections are gone" "0 " "$(ct6)"
		# A re-up with another conntrack max carries the IPv6 connections over: a masqueraded
		# transfer across it goes on (from port 20500, outside snat-ports), and an unanswered
		# datagram's entry, which no later packet could make again, is still there.
		in_ns "$LAN" sh -c "socat -u TCP6-LISTEN:7041,reuseaddr - | wc -c >'$WORK/rx6'" &
		wait_for 3000 listening "$LAN" tcp 7041
		paced_send "$P-red" "$LAN6" 7041 20500 "$WORK/sent6"
		sender=$PACED
		flow6="\[${PREFIX6}1\]:20500 -> \[$LAN6\]:7041 .* established "
		wait_for 3000 sh -c "'$FWDCTL' -n '$HOST' ct '$T' | grep -q '$flow6'"
		# And an unanswered datagram that nothing follows: only a copy keeps its entry.
		in_ns "$P-red" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("::", 40666))
s.sendto(b"x", (sys.argv[1], 9))' "$LAN6"
		udp6="\[${PREFIX6}1\]:40666 -> \[$LAN6\]:9 "
		wait_for 3000 sh -c "'$FWDCTL' -n '$HOST' ct '$T' | grep -q '$udp6'"
		{ cat "$WORK/lab6.conf"; echo "conntrack max 4096"; } >"$WORK/ct6.conf"
		check "$D up again with conntrack max 4096, during an IPv6 transfer" \
			"$FWDCTL" -q -n "$HOST" up "$WORK/ct6.conf"
		check_eq "$D ... fwd_ct6 now holds 8192 entries" 8192 "$(pin_max_entries fwd_ct6)"
		check "$D ... fwdctl ct still lists the transfer, established" \
			sh -c "'$FWDCTL' -n '$HOST' ct '$T' | grep -q '$flow6'"
		check "$D ... and the unanswered datagram's entry, carried over" \
			sh -c "'$FWDCTL' -n '$HOST' ct '$T' | grep -q '$udp6'"
		wait "$sender"
		wait_for 5000 test -s "$WORK/rx6"
		sent=$(cat "$WORK/sent6")
		check "$D ... and it went on: all of it arrived ($(cat "$WORK/rx6") of $sent bytes)" \
			test -n "$sent" -a "$sent" = "$(cat "$WORK/rx6")"
		check "$D up again with the default conntrack max" "$FWDCTL" -q -n "$HOST" up "$WORK/lab6.conf"
	else
		check "$D nf_conntrack masqueraded the connections to the LAN (the control)" \
			test "$ct7000" -gt 0
	fi
	# Forwards to blue, which has IPv6, are published on the uplink's IPv6 address too: the
	# LAN's address kept; from red (hairpin) red's.
	check_eq "$D LAN -> [uplink]:8080 -> blue, the LAN's address kept" $LAN6 "$(ask6 "$LAN" tcp $UP6 8080)"
	# A forward that names an IPv6 address of the uplink: there, and nowhere else.
	check_eq "$D LAN -> [fd77::8]:8443 (a forward naming it) -> blue, the LAN's address kept" $LAN6 \
		"$(ask6 "$LAN" tcp fd77::8 8443)"
	check_eq "$D ... not on the uplink's first IPv6 address" "" "$(ask6 "$LAN" tcp $UP6 8443)"
	check_eq "$D ... nor on its IPv4 address" "" "$(ask "$LAN" tcp $UPLINK_ADDR 8443)"
	check_eq "$D hairpin: red -> [fd77::8]:8443 -> blue, red's address kept" ${PREFIX6}1 \
		"$(ask6 "$P-red" tcp fd77::8 8443)"
	check_eq "$D LAN -> [uplink]:5353/udp -> blue, the LAN's address kept" $LAN6 "$(ask6 "$LAN" udp $UP6 5353)"
	# blue's port unreachable for a forwarded datagram reaches the LAN client translated
	check_eq "$D LAN -> [uplink]:5354/udp, closed at blue: the ICMPv6 error comes back translated" \
		refused "$(udp_verdict "$LAN" $UP6 5354)"
	check_eq "$D hairpin: red -> [uplink]:8080 -> blue, red's address kept" ${PREFIX6}1 \
		"$(ask6 "$P-red" tcp $UP6 8080)"
	# datapath bpf forwards in its programs (DNAT66): their counters moved, nf_conntrack saw
	# none of the forwarded connections (to 8080); datapath kernel's did (the control).
	fwd8080=$(in_ns "$HOST" conntrack -L -f ipv6 -p tcp --dport 8080 --orig-dst $UP6 2>/dev/null | grep -c .)
	if [ "$dp" = bpf ]; then
		check "$D DNAT66 in the programs: dnat6 counted" test "$(fwd_counter "$T" dnat6)" -gt 0
		check "$D ... and dnat6_reply" test "$(fwd_counter "$T" dnat6_reply)" -gt 0
		check_eq "$D ... and nf_conntrack saw none of the forwarded connections" 0 "$fwd8080"
		fwd6_listed() { "$FWDCTL" -n "$HOST" ct "$T" | grep -c "\[$UP6\]:8080 .*\[${PREFIX6}2\]:7000"; }
		check "$D fwdctl ct lists the forwarded IPv6 connections, to blue" test "$(fwd6_listed)" -gt 0
		check "$D fwdctl ct flush namespace blue" "$FWDCTL" -q -n "$HOST" ct "$T" flush namespace "$P-blue"
		check_eq "$D ... takes those forwarded to it" 0 "$(fwd6_listed)"
	else
		check "$D nf_conntrack forwarded them (the control)" test "$fwd8080" -gt 0
	fi
	# A steady IPv6 UDP flow to a forward that up retargets goes to the new target at once: up
	# ends its connection, in fwd_ct6 (datapath bpf) or nf_conntrack (datapath kernel), which
	# would otherwise go on translating it as long as the flow does not pause for the whole
	# timeout.
	peer6_server "$P-red" udp 7001
	cat >"$WORK/flow6.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((sys.argv[1], int(sys.argv[2])))
print("port", s.getsockname()[1], flush=True)
for line in sys.stdin:  # a line in: a datagram out, its answer printed
    s.send(b"x")
    try:
        print(s.recv(100).decode().strip(), flush=True)
    except OSError:
        print("timeout", flush=True)
PY
	rm -f "$WORK/flow6.in" "$WORK/flow6.out" # (the round before's)
	mkfifo "$WORK/flow6.in"
	exec 8<>"$WORK/flow6.in"
	# shellcheck disable=SC2016 # $1..$4 are the inner sh's arguments
	sandbox_spawn "$LAN" "$WORK/flow6.out" sh -c 'exec python3 "$1" "$2" "$3" <"$4"' flow6 \
		"$WORK/flow6.py" $UP6 5353 "$WORK/flow6.in"
	echo >&8
	wait_for 3000 grep -qx "$LAN6" "$WORK/flow6.out"
	fport=$(awk '/^port/ {print $2}' "$WORK/flow6.out")
	# the namespace the datapath's connection table sends the flow to: fwdctl ct's listing
	# (bpf), nf_conntrack's reply source (kernel)
	flow6_target() {
		if [ "$dp" = bpf ]; then
			"$FWDCTL" -n "$HOST" ct "$T" | grep "\[$LAN6\]:$fport " |
				grep -o "\[${PREFIX6}[0-9a-f]*\]" | head -n 1 | tr -d '[]'
		else
			in_ns "$HOST" conntrack -L -f ipv6 -p udp --orig-port-src "$fport" 2>/dev/null |
				grep -o "src=${PREFIX6}[0-9a-f]*" | head -n 1 | cut -d= -f2
		fi
	}
	check_eq "$D a udp flow through [uplink]:5353 goes to blue" ${PREFIX6}2 "$(flow6_target)"
	sed "s/^forward udp 5353 .*/forward udp 5353 $P-red:7001/" "$WORK/lab6.conf" >"$WORK/re6.conf"
	check "$D up with udp 5353 retargeted to red" "$FWDCTL" -q -n "$HOST" up "$WORK/re6.conf"
	check_eq "$D the flow's IPv6 connection went" "" "$(flow6_target)"
	echo >&8
	wait_for 3000 sh -c "[ \$(grep -c . '$WORK/flow6.out') -ge 3 ]"
	check_eq "$D the same socket's next datagram is answered" $LAN6 "$(sed -n 3p "$WORK/flow6.out")"
	check_eq "$D ... by the new target, red" ${PREFIX6}1 "$(flow6_target)"
	exec 8>&-
	check "$D up with the forward back to blue" "$FWDCTL" -q -n "$HOST" up "$WORK/lab6.conf"
	check_eq "$D ... and the flow's connection to red went" "" "$(flow6_target)"
	# (the server started here, not in the $(...): stop_servers knows only its own shell's)
	peer_server "$LAN" tcp 7002
	check_eq "$D IPv4 beside it: red -> LAN tcp masqueraded to 10.77.0.1" $UPLINK_ADDR \
		"$(ask "$P-red" tcp $LAN_ADDR 7002)"

	# Hostile: the LAN routes the prefix to the uplink and tries the namespaces directly, and
	# with a spoofed source of the prefix; a namespace sends from an address not its own; green,
	# which has no IPv6 address, sends IPv6.
	ip -n "$LAN" -6 route replace ${PREFIX6}/64 via $UP6
	check_eq "$D the LAN cannot reach blue by its own address" "" "$(ask6 "$LAN" tcp ${PREFIX6}2 7000)"
	ip -n "$LAN" addr add ${PREFIX6}9/128 dev lo
	check_eq "$D ... nor with a source of the prefix" "" "$(ask6_from "$LAN" ${PREFIX6}9 ${PREFIX6}2 7000)"
	ip -n "$LAN" addr del ${PREFIX6}9/128 dev lo
	pings=$(lan6_count fwdping6)
	ip -n "$P-red" addr add ${PREFIX6}9/64 dev eth0 nodad
	check "$D red from an address not its own: no answer" sh -c "! ip netns exec $P-red ping -6 -c 2 -W 1 -I ${PREFIX6}9 $LAN6 >/dev/null 2>&1"
	check "$D ... from blue either" sh -c "! ip netns exec $P-red ping -6 -c 1 -W 1 -I ${PREFIX6}9 ${PREFIX6}2 >/dev/null 2>&1"
	ip -n "$P-red" addr del ${PREFIX6}9/64 dev eth0
	[ "$dp" = bpf ] && check "$D ... counted (drop_spoof_ipv6)" test "$(fwd_counter "$T" drop_spoof_ipv6)" -gt 0
	# red tells blue, whose cache holds the gateway, that the gateway's address is at red's MAC:
	# datapath bpf drops it (drop_spoof_nd), blue's traffic still goes to the bridge. ebtables
	# cannot read the target: on datapath kernel blue's cache takes red's MAC (README, "IPv6").
	if [ "$dp" = bpf ]; then
		pingable "$P-blue" ${PREFIX6}5
		pingable "$P-red" ${PREFIX6}2
		nd=$(fwd_counter "$T" drop_spoof_nd)
		advertise "$P-red" ${PREFIX6}2 ${PREFIX6}5 "$(mac_of "$P-red")"
		check "$D red advertising the gateway's address to blue: dropped (drop_spoof_nd)" \
			test "$(fwd_counter "$T" drop_spoof_nd)" -ge $((nd + 3))
		check_eq "$D ... blue still has the bridge's MAC for the gateway" "$(mac_of "$HOST" vnet0)" \
			"$(ip -n "$P-blue" -6 neigh show ${PREFIX6}5 dev eth0 | awk '{print $3}')"
	fi
	ip -n "$P-green" addr add ${PREFIX6}3/64 dev eth0 nodad
	ip -n "$P-green" -6 route add default via ${PREFIX6}5
	check "$D green (no IPv6 declared) with an address of its own making: no answer" \
		sh -c "! ip netns exec $P-green ping -6 -c 2 -W 1 $LAN6 >/dev/null 2>&1"
	ip -n "$P-green" addr del ${PREFIX6}3/64 dev eth0
	check_eq "$D the LAN saw no echo request from the uplink for either" "$pings" "$(lan6_count fwdping6)"
	# Another topology whose IPv6 prefix overlaps: refused, naming this one.
	cat >"$WORK/other6.conf" <<CONF
topology ${P}o
datapath kernel
bridge ${P:0:7}o 192.168.16.5/24 fd00:15::8000:0:0:5/65
namespace $P-other 192.168.16.1
CONF
	out=$("$FWDCTL" -n "$HOST" up "$WORK/other6.conf" 2>&1)
	check_eq "$D a topology whose IPv6 prefix overlaps: exit 2" 2 $?
	check "$D ... naming the other" grep -q "other6.conf:3: IPv6 prefix fd00:15:0:0:8000::/65 overlaps another topology's (topology $T" <<<"$out"
	check "$D status -j shows the ip6tables rules" sh -c "'$FWDCTL' -j -n $HOST status $T | grep -q 'ip6tables'"
	check "$D status shows red's and the bridge's IPv6 addresses" sh -c "'$FWDCTL' -n $HOST status $T | grep -q '192.168.15.1 ${PREFIX6}1' && '$FWDCTL' -n $HOST status $T | grep -q '192.168.15.5/24 ${PREFIX6}5/64'"

	# Re-up: nothing changes. Without red's IPv6 address: it goes, with its route.
	first=$(snapshot)
	check "$D second up" "$FWDCTL" -q -n "$HOST" up "$WORK/lab6.conf"
	check_eq "$D second up changes nothing" "$first" "$(snapshot)"
	sed "s/^\(namespace $P-red .*\) ${PREFIX6}1$/\1/" "$WORK/lab6.conf" >"$WORK/less6.conf"
	check "$D up without red's IPv6 address" "$FWDCTL" -q -n "$HOST" up "$WORK/less6.conf"
	check_eq "$D red's IPv6 address is gone" "" "$(ip -n "$P-red" -6 -o addr show dev eth0 scope global)"
	check_eq "$D ... and its IPv6 default route" "" "$(ip -n "$P-red" -6 route show default)"
	check_eq "$D blue still reaches the LAN" $UP6 "$(ask6 "$P-blue" tcp $LAN6 7000)"
	# datapath bpf: its programs passed the IPv6 frames on to the kernel (counted)
	if [ "$dp" = bpf ]; then
		check "$D the programs passed the uplink's IPv6 that is no reply of theirs to the kernel (pass_uplink_host counted)" \
			test "$(fwd_counter "$T" pass_uplink_host)" -gt 0
		check "$D ... and the namespaces' IPv6 to the gateway and out (pass_no_endpoint)" \
			test "$(fwd_counter "$T" pass_no_endpoint)" -gt 0
	fi

	check_eq "$D never a frame from ${PREFIX6}/64 on the LAN" 0 "$(lan6_count fwdleak6)"
	# The file without any IPv6: up takes all of it away, and puts it back after.
	sed -e "/^masquerade ${PREFIX6}/d" -e "/^forward .*\[/d" -e "s| ${PREFIX6}[0-9a-f:]*/64$||" \
		-e "s| ${PREFIX6}[0-9]*$||" \
		"$WORK/lab6.conf" >"$WORK/v4only.conf"
	check "$D up of the same file without IPv6" "$FWDCTL" -q -n "$HOST" up "$WORK/v4only.conf"
	check_eq "$D blue's IPv6 address is gone" "" "$(ip -n "$P-blue" -6 -o addr show dev eth0 scope global)"
	check_eq "$D the bridge's IPv6 addresses are gone (gateway, link-local)" "" \
		"$(ip -n "$HOST" -6 -o addr show dev vnet0)"
	check_eq "$D fwd's ip6tables chains are gone" "" "$(in_ns "$HOST" ip6tables-save | grep -- "FWD-$T-")"
	check_eq "$D IPv6 forwarding back to what it was" "$fwd6_before" "$(forwarding6)"
	check "$D up with IPv6 again" "$FWDCTL" -q -n "$HOST" up "$WORK/lab6.conf"
	peer6_server "$LAN" tcp 7000
	check_eq "$D red -> LAN tcp masqueraded again" $UP6 "$(ask6 "$P-red" tcp $LAN6 7000)"
	stop_servers
	# Another topology, IPv4 only, up beside it: it does not need IPv6 forwarding, so the down of
	# the IPv6 one restores it all the same.
	cat >"$WORK/v4.conf" <<CONF
topology ${P}4
datapath kernel
bridge ${P:0:7}4 192.168.17.5/24
namespace $P-four 192.168.17.1
CONF
	check "$D up of an IPv4-only topology beside it" "$FWDCTL" -q -n "$HOST" up "$WORK/v4.conf"
	check "$D down" "$FWDCTL" -q -n "$HOST" down "$T"
	check_eq "$D IPv6 forwarding back to what it was, the IPv4-only topology still up" "$fwd6_before" "$(forwarding6)"
	check "$D down of the IPv4-only topology" "$FWDCTL" -q -n "$HOST" down "${P}4"
	check_eq "$D no ip6tables chain of fwd's left" "" "$(in_ns "$HOST" ip6tables-save | grep -- "FWD-$T-")"
	check_eq "$D nothing else left" "$before" "$(snapshot)"
done

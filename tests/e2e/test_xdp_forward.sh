#!/bin/bash
# The XDP fast path (issue 18): "forward udp PORT NS xdp" is DNATed by fwd_xdp_uplink on the
# uplink and redirected into the target namespace from XDP, the connection tracked in the
# topology's one table, the reply going back through tc. Asserted: what the LAN client gets (the
# answer, and the address the server saw), that the frames went by XDP (dnat_xdp moved, tc's
# dnat did not; netfilter never saw them), GRO on the target's eth0 (NAPI mode), `from` still
# enforced, the flow cache used and voided by a flush, partial checksums left to tc, re-up and
# down, and datapath kernel's indifference.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

sandbox_up || { fail "sandbox"; exit 1; }
# libxdp makes its bpffs directory (/sys/fs/bpf/xdp) on a first attach and leaves it, empty;
# one this test made goes at its end.
[ -d /sys/fs/bpf/xdp ] && XDP_DIR_WAS=1 || XDP_DIR_WAS=''
trap '[ -n "$XDP_DIR_WAS" ] || rmdir /sys/fs/bpf/xdp 2>/dev/null; finish' EXIT

# The LAN end sends full checksums, as a NIC's wire does (see partial checksums below).
in_ns "$LAN" ethtool -K lan0 tx off >/dev/null || fail "ethtool -K lan0 tx off"

# gro NS: "on" or "off", eth0's generic-receive-offload in NS.
gro() { in_ns "$1" ethtool -k eth0 | awk '/^generic-receive-offload:/ { print $2 }'; }
# up0_xdp: the name of the XDP program on the uplink ("" when none).
up0_xdp() { ip -n "$HOST" -d link show up0 | sed -n 's/.*prog\/xdp id [0-9]* name \([^ ]*\).*/\1/p'; }
up0_xdp_id() { ip -n "$HOST" -d link show up0 | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p'; }
# asks N PORT: N datagrams from the LAN to the uplink's PORT, each from a new socket (a new
# connection); prints how many answers named the LAN's address.
asks() {
	in_ns "$LAN" timeout 30 python3 -c '
import socket, sys
n, ok = int(sys.argv[1]), 0
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(b"x", (sys.argv[2], int(sys.argv[3])))
    try:
        if s.recv(100).decode().strip() == sys.argv[4]:
            ok += 1
    except socket.timeout:
        pass
    s.close()
print(ok)' "$1" "$UPLINK_ADDR" "$2" "$LAN_ADDR"
}
# --- the grammar ----------------------------------------------------------------------------
bad=$WORK/bad.conf
for line in "forward tcp 80 $P-blue xdp" "forward udp [2001:db8::9]:53 $P-green xdp" \
	"forward udp 53 $P-green xdp xdp" "forward udp 53 $P-green from xdp"; do
	{ cat "$(lab_conf "${P}b" bpf noforwards)"; echo "$line"; } >"$bad"
	"$FWDCTL" check "$bad" >/dev/null 2>"$WORK/check.err"
	rc=$?
	check_eq "check refuses '$line' (exit 2)" 2 "$rc"
	check "  with file:line" grep -q "^$bad:10: " "$WORK/check.err"
done
check "the tcp refusal says why" sh -c "{ cat '$WORK/${P}b.conf'; echo 'forward tcp 80 $P-blue xdp'; } >'$bad'; '$FWDCTL' check '$bad' 2>&1 | grep -q 'UDP only'"
good=$(lab_conf "${P}g" bpf noforwards)
echo "forward udp 53 $P-green from 192.0.2.0/24 xdp" >>"$good"
check_eq "check prints xdp in the normalised form" "forward udp 53 $P-green:53 from 192.0.2.0/24 xdp" \
	"$("$FWDCTL" check "$good" | grep '^forward')"
check_eq "check -j: \"xdp\": true" True "$("$FWDCTL" -j check "$good" | python3 -c 'import json, sys; print(json.load(sys.stdin)["forwards"][0]["xdp"])')"

# --- datapath bpf ---------------------------------------------------------------------------
T="bpf:"
topo=${P}x
conf=$(lab_conf "$topo" bpf)
sed -i "s/^forward udp 5353 .*/forward udp 5353 $P-green:53 xdp/" "$conf"
echo "forward udp 5354 $P-green:53 from 192.0.2.0/24 xdp" >>"$conf"
FWD_KERNEL_WITHOUT=bpf_xdp_load_bytes "$FWDCTL" -q -n "$HOST" up "$conf" 2>"$WORK/up.err"
check_eq "$T a kernel without bpf_xdp_load_bytes: up refuses (exit 1)" 1 "$?"
check "$T  naming it" grep -q "bpf_xdp_load_bytes is missing (Linux 5.18" "$WORK/up.err"
check "$T  before changing anything (no namespace)" sh -c "! ip netns list | grep -q '^$P-green'"
check "$T up with an xdp forward" "$FWDCTL" -q -n "$HOST" up "$conf"
check_eq "$T fwd_xdp_uplink is on the uplink" fwd_xdp_uplink "$(up0_xdp)"
check "$T status lists it" sh -c "'$FWDCTL' -n '$HOST' status '$topo' | grep -q 'up0.*xdp'"
check_eq "$T GRO on in the target (NAPI mode)" on "$(gro "$P-green")"
check_eq "$T and only there" "off off off" "$(gro "$P-red") $(gro "$P-blue") $(gro "$P-yellow")"

peer_server "$P-green" udp 53
peer_server "$P-blue" tcp 80
netfilter_watch 5353 udp
netfilter_watch 53 udp
x0=$(fwd_counter "$topo" dnat_xdp)
d0=$(fwd_counter "$topo" dnat)
r0=$(fwd_counter "$topo" dnat_reply)
check_eq "$T 200 new connections from the LAN answered, the LAN's address seen" 200 "$(asks 200 5353)"
check_eq "$T all 200 went in by XDP (dnat_xdp)" 200 "$(($(fwd_counter "$topo" dnat_xdp) - x0))"
check_eq "$T none by tc's DNAT" 0 "$(($(fwd_counter "$topo" dnat) - d0))"
check_eq "$T the replies went back by tc (dnat_reply)" 200 "$(($(fwd_counter "$topo" dnat_reply) - r0))"
check_eq "$T netfilter saw none of them" 0 "$(netfilter_seen)"
check "$T fwdctl ct shows XDP's connections, translated" sh -c \
	"'$FWDCTL' -n '$HOST' ct '$topo' | grep udp | grep -q '$LAN_ADDR.*$UPLINK_ADDR:5353.*192.168.15.3:53'"
check_eq "$T a tcp forward beside it still goes by tc" "$LAN_ADDR" "$(ask "$LAN" tcp $UPLINK_ADDR 80)"
check "$T  (dnat moved)" test "$(fwd_counter "$topo" dnat)" -gt "$d0"

# from: XDP never lets in what the forward's CIDRs do not allow
n0=$(fwd_counter "$topo" drop_not_from)
check_eq "$T 'from' still refuses the LAN on the xdp forward" silence "$(udp_verdict "$LAN" $UPLINK_ADDR 5354)"
check "$T  counted as drop_not_from (by tc)" test "$(fwd_counter "$topo" drop_not_from)" -gt "$n0"

# The flow cache (bpf/xdp_flows.h): datagrams of one flow after its first go by a copy of the
# connection, which any delete from the table must void at once. flow_around CMD...: from one
# socket, 10 datagrams (the copy made and used), CMD, one more, all within the copy's 250 ms;
# sets got (answers from the forward's port of the 10), sport, last ("ok" or where the answer
# came from) and fresh. The client runs in the LAN namespace (where bpffs is not mounted), CMD
# here: a coprocess. On one CPU: the cache is per CPU, and a veth's XDP runs on the sender's.
flow_around() {
	coproc FLOW { in_ns "$LAN" timeout 30 taskset -c 0 python3 -u -c '
import socket, sys, time
up, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
def one():
    s.sendto(b"x", (up, port))
    try:
        data, frm = s.recvfrom(100)
    except socket.timeout:
        return "lost"
    return "ok" if frm == (up, port) else "from_%s:%d" % frm
t0 = time.monotonic()
print(sum(one() == "ok" for i in range(10)), s.getsockname()[1])
sys.stdin.readline()  # CMD is done
last = one()
ms = (time.monotonic() - t0) * 1000
print(last, "fresh" if ms < 250 else "late_%.0fms" % ms)
' "$UPLINK_ADDR" 5353; }
	got='' sport='' last='' fresh=''
	read -r -t 10 got sport <&"${FLOW[0]}"
	"$@"
	echo go >&"${FLOW[1]}"
	read -r -t 10 last fresh <&"${FLOW[0]}"
	wait "$FLOW_PID" 2>/dev/null
}
# ct_kinds: "NAT SRC:SPORT" of each connection in the table, one a line
ct_kinds() {
	"$FWDCTL" -j -n "$HOST" ct "$topo" | python3 -c '
import json, sys
for c in json.load(sys.stdin)["connections"]:
    print(c["nat"], "%s:%d" % (c["original"]["src"], c["original"]["sport"]))'
}
# ct_delete_behind: every entry of the table deleted with bpftool, behind fwd's back (no
# fwd_ct_forget, so no copy is voided): what only a test does.
ct_delete_behind() {
	local pin=/sys/fs/bpf/fwd/$topo/fwd_ct key
	bpftool -j map dump pinned "$pin" | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    print(" ".join(b[2:] for b in e["key"]))' | while read -r key; do
		# shellcheck disable=SC2086 # the key's bytes, one word each
		bpftool map delete pinned "$pin" key hex $key
	done
}

# A flush voids the copy: without it the last datagram would reach the server with no
# connection in the table, and its answer would leave masqueraded (from the uplink's port 53,
# not 5353), opening a masquerade connection.
x0=$(fwd_counter "$topo" dnat_xdp)
flow_around "$FWDCTL" -q -n "$HOST" ct "$topo" flush
check_eq "$T one flow: 10 answered from the forward's port" 10 "$got"
check_eq "$T after a flush, the next datagram answered from the forward's port too" ok "$last"
check_eq "$T  (sent while the cache's copy was fresh)" fresh "$fresh"
check_eq "$T all 11 by XDP" 11 "$(($(fwd_counter "$topo" dnat_xdp) - x0))"
check_eq "$T the table holds that flow's connection again, and only it (no masquerade)" \
	"dnat $LAN_ADDR:$sport" "$(ct_kinds)"
# The copy is used: entries deleted behind fwd's back void nothing, so the last datagram goes
# by the copy, and the table gets no DNAT connection back (only the answer's masquerade). Were
# every datagram looked up in the table, the DNAT connection would be made again.
flow_around ct_delete_behind
check_eq "$T one flow again: 10 answered" 10 "$got"
check_eq "$T  (the last sent while the copy was fresh)" fresh "$fresh"
check_eq "$T a delete fwd is not told of: the copy carried the datagram (no DNAT connection made)" \
	"" "$(ct_kinds | grep "^dnat $LAN_ADDR:$sport\$")"
"$FWDCTL" -q -n "$HOST" ct "$topo" flush

# A datagram whose checksum is left for the device (a veth peer with tx offload): tc's.
in_ns "$LAN" ethtool -K lan0 tx on >/dev/null
x0=$(fwd_counter "$topo" dnat_xdp)
d0=$(fwd_counter "$topo" dnat)
check_eq "$T partial checksums: 20 answered" 20 "$(asks 20 5353)"
check_eq "$T  by tc, not XDP" "0 20" "$(($(fwd_counter "$topo" dnat_xdp) - x0)) $(($(fwd_counter "$topo" dnat) - d0))"
in_ns "$LAN" ethtool -K lan0 tx off >/dev/null

# A re-up that changes the programs replaces the XDP program too.
id0=$(up0_xdp_id)
echo "forward udp 5355 $P-red:53" >>"$conf"
check "$T re-up with another forward" "$FWDCTL" -q -n "$HOST" up "$conf"
check "$T a new XDP program" test "$(up0_xdp_id)" != "$id0" -a -n "$(up0_xdp_id)"
x0=$(fwd_counter "$topo" dnat_xdp)
check_eq "$T still answered by XDP" "20 20" "$(asks 20 5353) $(($(fwd_counter "$topo" dnat_xdp) - x0))"
check "$T an unchanged re-up keeps it" "$FWDCTL" -q -n "$HOST" up "$conf"
check_eq "$T  (same program)" "$(up0_xdp_id)" "$(ip -n "$HOST" -d link show up0 | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p')"

# Without xdp: the program goes, GRO goes back off, tc answers.
sed -i 's/ xdp$//' "$conf"
check "$T re-up without xdp" "$FWDCTL" -q -n "$HOST" up "$conf"
check_eq "$T no XDP program on the uplink" "" "$(up0_xdp)"
check_eq "$T GRO off again in the target" off "$(gro "$P-green")"
d0=$(fwd_counter "$topo" dnat)
check_eq "$T answered by tc" "10 10" "$(asks 10 5353) $(($(fwd_counter "$topo" dnat) - d0))"
sed -i "s/^forward udp 5353 .*/& xdp/" "$conf"
check "$T xdp again" "$FWDCTL" -q -n "$HOST" up "$conf"
check_eq "$T  the program is back" fwd_xdp_uplink "$(up0_xdp)"
check "$T down" "$FWDCTL" -q -n "$HOST" down "$topo"
check_eq "$T down takes the XDP program off the uplink" "" "$(up0_xdp)"
check "$T  and leaves no libxdp pins" sh -c "! ls /sys/fs/bpf/xdp 2>/dev/null | grep -q ."
stop_servers
in_ns "$HOST" iptables -t mangle -F

# --- datapath kernel: xdp is accepted and changes nothing -------------------------------------
T="kernel:"
topo=${P}k
conf=$(lab_conf "$topo" kernel)
sed -i "s/^forward udp 5353 .*/forward udp 5353 $P-green:53 xdp/" "$conf"
check "$T up with an xdp forward" "$FWDCTL" -q -n "$HOST" up "$conf"
check_eq "$T no XDP program on the uplink" "" "$(up0_xdp)"
check_eq "$T GRO left off in the target" off "$(gro "$P-green")"
peer_server "$P-green" udp 53
check_eq "$T answered (iptables DNAT)" 10 "$(asks 10 5353)"
check "$T down" "$FWDCTL" -q -n "$HOST" down "$topo"

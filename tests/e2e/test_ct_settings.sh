#!/bin/bash
# Connection-tracking settings of the topology file, in datapath bpf:
# - `conntrack max` sizes the table (two entries a connection), the timeouts and `snat-ports`
#   reach the datapath (a masqueraded connection's translated port lies in the range);
# - a re-`up` that changes `conntrack max` carries the connections over into the new table:
#   a held-open forwarded connection (whose next segment from the LAN could not open a new
#   entry) and a masqueraded transfer (whose translated port a new entry would change) go on;
# - `fwdctl ct NAME flush` with proto, port and namespace filters removes exactly the
#   connections that match;
# - a re-`up` that removes or retargets a forward takes its connections with it (datapath
#   kernel's in nf_conntrack too), so a UDP
#   flow goes to the new target; one that changes the uplink's address takes the masqueraded
#   connections translated to the old one;
# - a pinned table with another entry layout (an older fwd) is refused before anything
#   changes, and `up --flush-conntrack` starts with an empty one;
# - datapath kernel: snat-ports is MASQUERADE --to-ports, and up warns that the conntrack
#   lines are not its.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

sandbox_up || { fail "sandbox"; exit 1; }
topo=${P}c
conf=$(lab_conf "$topo" bpf)
cat >>"$conf" <<CONF
conntrack max 2048
conntrack timeout udp 3
conntrack timeout tcp-syn-sent 5
snat-ports 40000-40099
CONF

# ct_lines [EXPR]: one line per connection of fwdctl -j ct, sorted: the value of the Python
# expression EXPR over c (the connection), o and t (its original and translated tuples);
# by default the whole connection but its expiry.
CT_ALL='c["proto"], c["nat"], o["src"], o["sport"], o["dst"], o["dport"], t["src"], t["sport"], t["dst"], t["dport"]'
ct_lines() {
	"$FWDCTL" -j -n "$HOST" ct "$topo" | python3 -c '
import json, sys
for c in json.load(sys.stdin)["connections"]:
    o, t = c["original"], c["translated"]
    print(eval(sys.argv[1]))' "${1:-$CT_ALL}" | sort
}
# ct_count EXPR: how many connections EXPR is true of.
ct_count() { ct_lines "\"x\" if ($1) else \"\"" | grep -c x; }
# pinned_has_sport PORT: does the pinned fwd_ct hold an entry whose key has source port PORT
# (read with bpftool: fwdctl ct leaves out expired connections the sweep has yet to delete)?
pinned_has_sport() {
	bpftool -j map dump pinned "/sys/fs/bpf/fwd/$topo/fwd_ct" | python3 -c '
import json, socket, sys
port = int(sys.argv[1])
for e in json.load(sys.stdin):
    k = e.get("formatted", e)["key"]
    if isinstance(k, dict) and k["sport"] in (port, socket.htons(port)):
        sys.exit(0)
sys.exit(1)' "$1"
}
pinned_lacks_sport() { ! pinned_has_sport "$1"; }
# map_entries NAME: max_entries of the pinned map NAME, as fwdctl -j status shows it.
map_entries() {
	"$FWDCTL" -j -n "$HOST" status "$topo" | python3 -c '
import json, sys
pins = {p["name"]: p for p in json.load(sys.stdin)["bpf"]["pins"]}
print(pins.get(sys.argv[1], {}).get("max_entries", "none"))' "$1"
}

check "up with conntrack max 2048, short timeouts, snat-ports 40000-40099" \
	"$FWDCTL" -q -n "$HOST" up "$conf"
check_eq "fwd_ct holds 4096 entries (2048 connections)" 4096 "$(map_entries fwd_ct)"
check_eq "fwd_ct_recent holds 512 (a quarter)" 512 "$(map_entries fwd_ct_recent)"

# --- snat-ports and timeouts ------------------------------------------------------------------
# shellcheck disable=SC2016 # $SOCAT_PEERPORT is for the shell socat starts
sandbox_spawn "$LAN" /dev/null socat TCP-LISTEN:7001,reuseaddr,fork SYSTEM:'echo $SOCAT_PEERPORT'
wait_for 3000 listening "$LAN" tcp 7001 || fail "port server did not start"
ports=""
for i in 1 2 3 4 5; do
	# Source ports outside the range (the namespace's own would be kept if the range
	# were not applied): 45001...
	ports+=" $(in_ns "$P-red" timeout 5 socat -u TCP:$LAN_ADDR:7001,sourceport=4500$i - 2>/dev/null)"
done
out=$(for p in $ports; do [ "$p" -ge 40000 ] && [ "$p" -le 40099 ] || echo "$p"; done)
check_eq "five masqueraded connections reached the lan from ports in 40000-40099 ($ports)" "" \
	"$out"
check_eq "... and five ports were seen" 5 "$(wc -w <<<"$ports")"
check_eq "fwdctl ct: their translated ports lie in the range too" "" \
	"$(ct_lines 't["sport"] if o["dport"] == 7001 and not 40000 <= t["sport"] <= 40099 else ""' | tr -d '\n')"

peer_server "$LAN" udp 7003
in_ns "$P-green" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 40555))
s.sendto(b"x", (sys.argv[1], 9))' $LAN_ADDR # port 9: no answer, the entry stays "udp"
left=$(ct_lines 'c["seconds_left"] if c["proto"] == "udp" and o["dport"] == 9 else ""' | tr -d '\n')
check "an unanswered udp entry has the udp timeout of the file, 3 s (${left:-none} left)" \
	test -n "$left" -a "${left:-99}" -le 3
wait_for 6000 sh -c "! '$FWDCTL' -n '$HOST' ct '$topo' | grep -q ':40555 '"
check "... and is gone after it" sh -c "! '$FWDCTL' -n '$HOST' ct '$topo' | grep -q ':40555 '"

# --- a re-up with another conntrack max -----------------------------------------------------
# A LAN client that holds one connection to uplink:80 (blue's echo server) open and sends each
# line of its FIFO, printing the echo.
sandbox_spawn "$P-blue" /dev/null socat TCP-LISTEN:80,reuseaddr,fork EXEC:cat
wait_for 3000 listening "$P-blue" tcp 80 || fail "echo server did not start"
cat >"$WORK/client.py" <<'PY'
import socket, sys
c = socket.create_connection((sys.argv[1], 80), timeout=3)
print("port", c.getsockname()[1], flush=True)
for line in sys.stdin:
    c.sendall(line.encode())
    print(c.recv(100).decode().strip(), flush=True)
PY
mkfifo "$WORK/client.in"
exec 7<>"$WORK/client.in"
# shellcheck disable=SC2016 # $1..$3 are the inner sh's arguments
sandbox_spawn "$LAN" "$WORK/client.out" sh -c 'exec python3 "$1" "$2" <"$3"' client \
	"$WORK/client.py" "$UPLINK_ADDR" "$WORK/client.in"
echo one >&7
wait_for 3000 grep -qx one "$WORK/client.out"
check_eq "a forwarded connection from the lan answers" one "$(sed -n 2p "$WORK/client.out")"
cport=$(awk '/^port/ {print $2}' "$WORK/client.out")

# A masqueraded transfer that runs across the re-up: red sends 64 KiB every 10 ms for 4 s
# from port 45500 (outside the range: a new entry would give it another port).
in_ns "$LAN" sh -c "socat -u TCP-LISTEN:7040,reuseaddr - | wc -c >'$WORK/rx'" &
wait_for 3000 listening "$LAN" tcp 7040
paced_send "$P-red" $LAN_ADDR 7040 45500 "$WORK/sent"
sender=$PACED
sleep 1
# And an unanswered datagram (udp: 3 s) that nothing follows: its copy sees no packet.
in_ns "$P-green" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 40666))
s.sendto(b"x", (sys.argv[1], 9))' $LAN_ADDR
sed -i 's/^conntrack max 2048$/conntrack max 4096/' "$conf"
check "up again with conntrack max 4096, while both run" "$FWDCTL" -q -n "$HOST" up "$conf"
check_eq "fwd_ct now holds 8192 entries" 8192 "$(map_entries fwd_ct)"
check_eq "fwd_ct_recent 1024" 1024 "$(map_entries fwd_ct_recent)"
check "the unanswered datagram's entry was carried over" pinned_has_sport 40666
check "fwdctl ct still lists the forwarded connection, established" sh -c \
	"'$FWDCTL' -n '$HOST' ct '$topo' | grep -q ':$cport -> $UPLINK_ADDR:80 .* established '"
check "... and the masqueraded transfer" sh -c \
	"'$FWDCTL' -n '$HOST' ct '$topo' | grep -q ':45500 -> $LAN_ADDR:7040 .* established '"
echo two >&7
wait_for 3000 grep -qx two "$WORK/client.out"
check_eq "the forwarded connection still answers after the re-up" two \
	"$(sed -n 3p "$WORK/client.out")"
wait "$sender"
# The sweep over the new table (started by up: fwd_ct_start, which gave the copies slots)
# deletes it once expired.
wait_for 4000 pinned_lacks_sport 40666
check "... and deleted by the table's sweep once expired" \
	pinned_lacks_sport 40666
wait_for 5000 test -s "$WORK/rx"
sent=$(cat "$WORK/sent")
check "the masqueraded transfer went on: all of it arrived ($(cat "$WORK/rx") of $sent bytes)" \
	test -n "$sent" -a "$sent" = "$(cat "$WORK/rx")"
echo three >&7
wait_for 3000 grep -qx three "$WORK/client.out"
check_eq "... and answers again (its expiry moved on)" three "$(sed -n 4p "$WORK/client.out")"
exec 7>&-

# --- flush with filters -----------------------------------------------------------------------
# A table of known connections: tcp from red and blue to the lan (closed: time_wait 120 s),
# udp from red and blue (answered: udp_assured 120 s), a ping from green, and forwarded ones
# from the lan to blue (80) and yellow (8000). What the connections above leave (their last
# FINs) settles first.
sleep 1
"$FWDCTL" -q -n "$HOST" ct "$topo" flush
peer_server "$P-yellow" tcp 8000
for ns in "$P-red" "$P-blue"; do
	in_ns "$ns" timeout 5 socat -u TCP:$LAN_ADDR:7001 - >/dev/null 2>&1
	ask "$ns" udp $LAN_ADDR 7003 >/dev/null
done
pingable "$P-green" $LAN_ADDR
ask "$LAN" tcp $UPLINK_ADDR 8000 >/dev/null
in_ns "$LAN" timeout 5 socat -u - TCP:$UPLINK_ADDR:80 </dev/null >/dev/null 2>&1
check_eq "in the table: 1 ping, 2 udp, 2 masqueraded and 2 forwarded tcp" "1 2 2 2" "$({
	ct_count 'c["proto"] == "icmp"'
	ct_count 'c["proto"] == "udp"'
	ct_count 'c["proto"] == "tcp" and c["nat"] == "snat"'
	ct_count 'c["proto"] == "tcp" and c["nat"] == "dnat"'
} | xargs)"
red=192.168.15.1 blue=192.168.15.2

# flush_check DESCRIPTION EXPR FILTER...: the flush removes exactly the connections EXPR (as in
# ct_lines) is true of in the table before it, at least one.
flush_check() {
	local desc=$1 expr=$2 want before left removed
	shift 2
	want=$(ct_count "$expr")
	before=$(ct_lines)
	"$FWDCTL" -q -n "$HOST" ct "$topo" flush "$@"
	left=$(ct_lines)
	removed=$(comm -23 <(echo "$before") <(echo "$left"))
	check "flush $*: there is something to remove ($want)" test "$want" -ge 1
	check_eq "flush $*: $desc" "$want" "$(grep -c . <<<"$removed")"
	check_eq "... and nothing appeared" "" "$(comm -13 <(echo "$before") <(echo "$left"))"
	check_eq "... and none of what matches is left" 0 "$(ct_count "$expr")"
}
flush_check "red's connections from or to port 7001 only" \
	"o[\"src\"] == \"$red\" and 7001 in (o[\"sport\"], o[\"dport\"])" \
	port 7001 namespace "$P-red"
flush_check "the udp ones" 'c["proto"] == "udp"' proto udp
flush_check "blue's: what it opened and what is forwarded to it" \
	"o[\"src\"] == \"$blue\" or (c[\"nat\"] == \"dnat\" and t[\"dst\"] == \"$blue\")" \
	namespace "$P-blue"
flush_check "tcp from or to port 8000 (the forward to yellow)" \
	'c["proto"] == "tcp" and 8000 in (o["sport"], o["dport"])' proto tcp port 8000
check_eq "the ping from green is still there" 1 "$(ct_count 'c["proto"] == "icmp"')"
before=$(ct_lines)
check_eq "flush with an unknown namespace is a usage error" 2 \
	"$("$FWDCTL" -q -n "$HOST" ct "$topo" flush namespace nosuch 2>/dev/null; echo $?)"
check_eq "flush proto sctp is a usage error" 2 \
	"$("$FWDCTL" -q -n "$HOST" ct "$topo" flush proto sctp 2>/dev/null; echo $?)"
check_eq "flush port 0 is a usage error" 2 \
	"$("$FWDCTL" -q -n "$HOST" ct "$topo" flush port 0 2>/dev/null; echo $?)"
check_eq "... and they removed nothing" "$before" "$(ct_lines)"
n=$(ct_count True)
check_eq "flush of everything: -j says how many ($n)" '{"topology":"'"$topo"'","flushed":'"$n"'}' \
	"$("$FWDCTL" -j -n "$HOST" ct "$topo" flush)"
check_eq "... and the table is empty" 0 "$(ct_count True)"

# --- forwards removed or retargeted by a re-up ----------------------------------------------
# A LAN socket that sends a datagram to uplink:5353 (green:53) on each line of its FIFO; and a
# forwarded tcp connection through 80 (blue), 8001 (yellow) and 9100 (red:7100).
peer_server "$P-green" udp 53
peer_server "$P-yellow" udp 53
cat >"$WORK/udp.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect((sys.argv[1], 5353))
print("port", s.getsockname()[1], flush=True)
for line in sys.stdin:
    s.send(b"x")
    try:
        print(s.recv(100).decode().strip(), flush=True)
    except socket.timeout:
        print("timeout", flush=True)
PY
# udp_flow NAME: start that socket on the FIFO $WORK/NAME.in, held open as fd 8 (a line on fd 8:
# a datagram), its output in $WORK/NAME.out; once the first is answered, FLOW_PORT is its port.
FLOW_PORT=
udp_flow() {
	mkfifo "$WORK/$1.in"
	exec 8<>"$WORK/$1.in"
	# shellcheck disable=SC2016 # $1..$3 are the inner sh's arguments
	sandbox_spawn "$LAN" "$WORK/$1.out" sh -c 'exec python3 "$1" "$2" <"$3"' udp \
		"$WORK/udp.py" "$UPLINK_ADDR" "$WORK/$1.in"
	echo >&8
	wait_for 3000 grep -qx "$LAN_ADDR" "$WORK/$1.out"
	FLOW_PORT=$(awk '/^port/ {print $2}' "$WORK/$1.out")
}
udp_flow udp
uport=$FLOW_PORT
udp_target() { ct_lines "t[\"dst\"] if c[\"proto\"] == \"udp\" and o[\"sport\"] == $uport else \"\"" | tr -d '\n'; }
check_eq "a udp flow through forward 5353 goes to green" 192.168.15.3 "$(udp_target)"
peer_server "$P-red" tcp 7100
peer_server "$P-yellow" tcp 8001
for port in 80 8001 9100; do
	in_ns "$LAN" timeout 5 socat -u - TCP:$UPLINK_ADDR:$port </dev/null >/dev/null 2>&1
done
in_ns "$P-red" timeout 5 socat -u TCP:$LAN_ADDR:7001 - >/dev/null 2>&1 # one masqueraded
check_eq "forwarded connections on 80, 8001 and 9100" "80 8001 9100" \
	"$(ct_lines 'o["dport"] if c["nat"] == "dnat" and c["proto"] == "tcp" else ""' | sort -n | xargs)"

# tcp 80 goes, udp 5353 moves to yellow, tcp 8000-8009 and 9100-9101 stay.
sed -i -e '/^forward tcp 80 /d' -e "s/^forward udp 5353 .*/forward udp 5353 $P-yellow:53/" "$conf"
check "up with forward tcp 80 removed and udp 5353 retargeted" "$FWDCTL" -q -n "$HOST" up "$conf"
check_eq "the removed forward's connection went, the others stayed" "8001 9100" \
	"$(ct_lines 'o["dport"] if c["nat"] == "dnat" and c["proto"] == "tcp" else ""' | sort -n | xargs)"
check_eq "the retargeted forward's udp entry went" "" "$(udp_target)"
check_eq "the masqueraded connection stayed" 1 "$(ct_lines 'c["nat"]' | grep -c snat)"
echo >&8
wait_for 3000 sh -c "[ \$(grep -c . '$WORK/udp.out') -ge 3 ]"
check_eq "the same udp socket's next datagram is answered" "$LAN_ADDR" "$(sed -n 3p "$WORK/udp.out")"
check_eq "... by the new target, yellow" 192.168.15.4 "$(udp_target)"
exec 8>&-

# The uplink's address changes: the masqueraded connections translated to the old one go.
peer_server "$LAN" tcp 7002
check_eq "one masqueraded connection translated to $UPLINK_ADDR" 1 \
	"$(ct_count "c[\"nat\"] == \"snat\" and t[\"src\"] == \"$UPLINK_ADDR\"")"
# (Deleted first: deleting a primary address takes its secondaries along.)
ip -n "$HOST" addr del $UPLINK_ADDR/24 dev up0
ip -n "$HOST" addr add 10.77.0.9/24 dev up0
check "up after the uplink's address changed to 10.77.0.9" "$FWDCTL" -q -n "$HOST" up "$conf"
check_eq "no masqueraded connection is left translated to the old address" 0 \
	"$(ct_count "c[\"nat\"] == \"snat\" and t[\"src\"] == \"$UPLINK_ADDR\"")"
check_eq "red reaches the lan as the new address" 10.77.0.9 "$(ask "$P-red" tcp $LAN_ADDR 7002)"

stop_servers
check "down" "$FWDCTL" -q -n "$HOST" down "$topo"
ip -n "$HOST" addr del 10.77.0.9/24 dev up0
ip -n "$HOST" addr add $UPLINK_ADDR/24 dev up0

# --- datapath kernel: nf_conntrack's connections of a retargeted forward end too -------------
# Without it nf_conntrack keeps translating the flow to the old target, datagram after
# datagram, as long as it does not pause for its whole timeout.
ktopo=${P}k
kconf=$(lab_conf "$ktopo" kernel)
check "kernel: up" "$FWDCTL" -q -n "$HOST" up "$kconf"
peer_server "$P-green" udp 53
peer_server "$P-yellow" udp 53
udp_flow kudp
kport=$FLOW_PORT
# nf_target: the namespace nf_conntrack sends the LAN socket's flow to (its reply source).
nf_target() {
	in_ns "$HOST" conntrack -L -p udp --orig-port-src "$kport" 2>/dev/null |
		grep -o 'src=192\.168\.15\.[0-9]*' | head -n 1 | cut -d= -f2
}
check_eq "kernel: a udp flow through forward 5353 goes to green" 192.168.15.3 "$(nf_target)"
sed -i "s/^forward udp 5353 .*/forward udp 5353 $P-yellow:53/" "$kconf"
check "kernel: up with udp 5353 retargeted" "$FWDCTL" -q -n "$HOST" up "$kconf"
check_eq "kernel: nf_conntrack's entry of the flow went" "" "$(nf_target)"
echo >&8
wait_for 3000 sh -c "[ \$(grep -c . '$WORK/kudp.out') -ge 3 ]"
check_eq "kernel: the same socket's next datagram is answered" "$LAN_ADDR" "$(sed -n 3p "$WORK/kudp.out")"
check_eq "kernel: ... by the new target, yellow" 192.168.15.4 "$(nf_target)"
exec 8>&-
stop_servers
check "kernel: down" "$FWDCTL" -q -n "$HOST" down "$ktopo"
check_eq "kernel: down ends the forwards' connections in nf_conntrack" "" "$(nf_target)"

# --- a table of another layout --------------------------------------------------------------
# What an older fwd left pinned: fwd_ct with the 104-byte entries of the timer design.
old=${P}o
oconf=$(lab_conf "$old" bpf noforwards)
mkdir -p "/sys/fs/bpf/fwd/$old"
bpftool map create "/sys/fs/bpf/fwd/$old/fwd_ct" type hash key 16 value 104 entries 1024 \
	name fwd_ct flags 1
"$FWDCTL" -n "$HOST" up "$oconf" 2>"$WORK/refused"
check_eq "up refuses a pinned table of another entry layout (exit 1)" 1 "$?"
check "... saying why and what to do" grep -q "another entry layout.*--flush-conntrack" \
	"$WORK/refused"
check "... before anything changed (no namespace made)" \
	sh -c "! ip netns list | awk '{print \$1}' | grep -qx '$P-red'"
check "up --flush-conntrack starts with an empty table" \
	"$FWDCTL" -q -n "$HOST" up --flush-conntrack "$oconf"
check_eq "... of this fwd's layout (struct fwd_ct_entry: 80 bytes)" 80 \
	"$(bpftool -j map show pinned "/sys/fs/bpf/fwd/$old/fwd_ct" | python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes_value"])')"
peer_server "$LAN" tcp 7002
check_eq "masquerade works" $UPLINK_ADDR "$(ask "$P-red" tcp $LAN_ADDR 7002)"
stop_servers
check "down" "$FWDCTL" -q -n "$HOST" down "$old"
rm -rf "/sys/fs/bpf/fwd/${old:?}"

# --- a table whose free slots were never filled -------------------------------------------------
# What an `up` stopped between making the table and filling its free slots leaves: a table
# with no connection and no free slot, which would refuse every new connection. Made here by
# taking every slot out of the queue; the next up fills it again.
empty=${P}e
econf=$(lab_conf "$empty" bpf noforwards)
echo "conntrack max 1024" >>"$econf"
check "up with conntrack max 1024" "$FWDCTL" -q -n "$HOST" up "$econf"
for ((i = 0; i < 1024; i++)); do
	bpftool map dequeue pinned "/sys/fs/bpf/fwd/$empty/fwd_ct_free" >/dev/null 2>&1 || break
done
check_eq "all 1024 free slots taken out" 1024 "$i"
peer_server "$LAN" tcp 7003
check_eq "... and a new connection is refused (no slot)" "" "$(ask "$P-red" tcp $LAN_ADDR 7003)"
check "up again" "$FWDCTL" -q -n "$HOST" up "$econf"
check_eq "... fills the free slots: masquerade works" $UPLINK_ADDR "$(ask "$P-red" tcp $LAN_ADDR 7003)"
stop_servers
check "down" "$FWDCTL" -q -n "$HOST" down "$empty"

# --- datapath kernel ---------------------------------------------------------------------------
# snat-ports becomes MASQUERADE --to-ports; the conntrack lines are nf_conntrack's business, and
# up says it leaves them alone.
kern=${P}k
kconf=$(lab_conf "$kern" kernel noforwards)
printf 'conntrack max 4096\nsnat-ports 40000-40099\n' >>"$kconf"
"$FWDCTL" -n "$HOST" up "$kconf" 2>"$WORK/kernel.err"
check_eq "datapath kernel: up with conntrack and snat-ports lines" 0 "$?"
check "... warns that conntrack max and timeout apply to datapath bpf only" \
	grep -q "conntrack max and conntrack timeout apply to datapath bpf only" "$WORK/kernel.err"
# shellcheck disable=SC2016 # $SOCAT_PEERPORT is for the shell socat starts
sandbox_spawn "$LAN" /dev/null socat TCP-LISTEN:7001,reuseaddr,fork SYSTEM:'echo $SOCAT_PEERPORT'
wait_for 3000 listening "$LAN" tcp 7001 || fail "port server did not start"
kport=$(in_ns "$P-red" timeout 5 socat -u TCP:$LAN_ADDR:7001,sourceport=45100 - 2>/dev/null)
check "... a masqueraded connection from port 45100 reaches the lan from 40000-40099 (${kport:-none})" \
	test -n "$kport" -a "${kport:-0}" -ge 40000 -a "${kport:-0}" -le 40099
stop_servers
check "down" "$FWDCTL" -q -n "$HOST" down "$kern"

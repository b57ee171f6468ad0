# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Shared helpers for fwd's end-to-end tests; sourced by tests/e2e/test_*.sh and tests/demo.sh.
# The namespaces, links, processes and their cleanup are tests/lib/sandbox.sh's.
#
# Every test builds its own world: a "host" namespace where fwdctl runs (-n), a "lan"
# namespace behind the uplink, and the topology's namespaces, all named with a prefix unique
# to this run. An EXIT trap removes all of it, also when the test fails half-way.
#
#   lan ns  [lan0 10.77.0.2/24] ---- [up0 10.77.0.1/24]  host ns  [vnet0 192.168.15.5/24]
#                                                           |-- fwdXXXXXXXX === eth0  P-red
#                                                           |-- ...                   P-blue ...

# shellcheck source=../lib/sandbox.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/sandbox.sh"

FWDCTL=${FWDCTL:-$(pwd)/build/fwdctl}
TEST_TOOLS=$(dirname "$FWDCTL")/tests/tools # helpers built from tests/tools/*.c
UDP_ECHO=$TEST_TOOLS/udp_echo
P=${P:-ft$$}             # prefix of every namespace and topology name of this run
HOST=$P-host
LAN=$P-lan
UPLINK_ADDR=10.77.0.1
LAN_ADDR=10.77.0.2
WORK=$(mktemp -d /tmp/fwd-e2e.XXXXXX)
PASSED=0 FAILED=0

pass() { echo "PASS: $*"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); }
# check DESCRIPTION COMMAND...: pass when the command succeeds.
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected '$2', got '$3'"; fi
}

# A server that answers every connection or datagram with the peer address it saw ("IP\n").
# peer_server NS tcp|udp PORT. UDP: one process answers every datagram (udp_echo): socat's
# UDP-RECVFROM,fork loses those that arrive while a forked child runs.
peer_server() {
	local ns=$1 proto=$2 port=$3
	if [ "$proto" = tcp ]; then
		# shellcheck disable=SC2016 # $SOCAT_PEERADDR is for the shell socat starts
		sandbox_spawn "$ns" /dev/null socat "TCP-LISTEN:$port,reuseaddr,fork" SYSTEM:'echo $SOCAT_PEERADDR'
	else
		sandbox_spawn "$ns" /dev/null "$UDP_ECHO" "$port"
	fi
	wait_for 3000 listening "$ns" "$proto" "$port" || fail "server $ns $proto/$port did not start"
}

# named_server NS PORT NAME: a TCP server that answers every connection with "NAME PEER-ADDRESS",
# so that a client sees which namespace it reached and what address that one saw.
named_server() {
	# shellcheck disable=SC2016 # $SOCAT_PEERADDR is for the shell socat starts
	sandbox_spawn "$1" /dev/null socat "TCP-LISTEN:$2,reuseaddr,fork" SYSTEM:"echo $3 \$SOCAT_PEERADDR"
	wait_for 3000 listening "$1" tcp "$2" || fail "server $1 tcp/$2 did not start"
}

# count_server NS PORT: a UDP server (one process) that counts the datagrams it gets; "count"
# from anywhere asks for the number (answered to the asker, not counted). counted NS ADDR
# PORT: ask it, from NS.
count_server() {
	sandbox_spawn "$1" /dev/null python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
n = 0
while True:
    b, a = s.recvfrom(100)
    if b == b"count":
        s.sendto(b"%d\n" % n, a)
    else:
        n += 1' "$2"
	wait_for 3000 listening "$1" udp "$2" || fail "counting server $1 udp/$2 did not start"
}
counted() {
	in_ns "$1" timeout 5 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b"count", (sys.argv[1], int(sys.argv[2])))
print(s.recv(100).decode().strip())' "$2" "$3"
}

# udp_verdict NS ADDR PORT: one datagram on a connected UDP socket from NS; prints "answered",
# "refused" (an ICMP or ICMPv6 port unreachable came back for it: ECONNREFUSED) or "silence"
# (3 s). ADDR IPv4 or IPv6.
udp_verdict() {
	in_ns "$1" timeout 6 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((sys.argv[1], int(sys.argv[2])))
s.send(b"anyone?\n")
try:
    s.recv(100)
    print("answered")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("silence")' "$2" "$3"
}

# mac_of NS [IFNAME]: the MAC of IFNAME (default eth0) in NS.
mac_of() { ip -n "$1" -o link show "${2:-eth0}" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }

# paced_send NS ADDR PORT SRCPORT OUT: in the background, from namespace NS, a TCP connection to
# ADDR:PORT (IPv4 or IPv6) from source port SRCPORT that sends 64 KiB every 10 ms for 4 s, then
# half-closes and waits for the receiver to close; OUT gets the bytes sent. PACED: its pid.
PACED=
# shellcheck disable=SC2034 # PACED is the callers'
paced_send() {
	in_ns "$1" timeout 30 python3 -c '
import socket, sys, time
any_addr = "::" if ":" in sys.argv[1] else "0.0.0.0"
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5,
                             source_address=(any_addr, int(sys.argv[3])))
chunk, sent, end = b"x" * 65536, 0, time.time() + 4
while time.time() < end:
    c.sendall(chunk)
    sent += len(chunk)
    time.sleep(0.01)
c.shutdown(socket.SHUT_WR)
c.recv(1)
print(sent)' "$2" "$3" "$4" >"$5" 2>&1 &
	PACED=$!
}

# fwd_counter TOPO NAME [packets|bytes]: one counter of fwdctl stats (0 if absent).
fwd_counter() {
	"$FWDCTL" -j -n "$HOST" stats "$1" | python3 -c '
import json, sys
counters = {c["name"]: c for c in json.load(sys.stdin)["counters"]}
print(counters.get(sys.argv[1], {}).get(sys.argv[2], 0))' "$2" "${3:-packets}"
}

# short_server NS PORT: a TCP server that answers "ok" to each connection and closes it. Like
# peer_server, it runs as its own process group and stop_servers ends it.
short_server() {
	sandbox_spawn "$1" /dev/null python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(128)
while True:
    c, _ = s.accept()
    c.sendall(b"ok\n")
    c.close()' "$2"
	wait_for 3000 listening "$1" tcp "$2" || fail "short server $1 tcp/$2 did not start"
}

# short_conns NS ADDR PORT N: N connections in a row from NS, each opened, answered and
# closed; prints how many were answered (failures on stderr).
short_conns() {
	in_ns "$1" timeout 60 python3 -c '
import socket, sys
ok = 0
for i in range(int(sys.argv[3])):
    try:
        c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
        if c.recv(3) == b"ok\n":
            ok += 1
        c.close()
    except OSError as e:
        print("connection %d: %s" % (i, e), file=sys.stderr)
print(ok)' "$2" "$3" "$4"
}

# lan_leak_watch: count every packet entering the LAN namespace with a source address of the
# bridge's subnet (one that left untranslated), or an ICMP error quoting one (the quoted
# header's source, IHL*4 + 8 + 12 bytes in); lan_leaks prints the count so far. sandbox_up
# starts it for every test, and finish checks it: the leak invariant over the whole suite.
lan_leak_watch() {
	in_ns "$LAN" iptables -t raw -I PREROUTING -s 192.168.15.0/24 -m comment --comment fwdleak &&
		in_ns "$LAN" iptables -t raw -I PREROUTING -p icmp -m u32 \
			--u32 "0>>22&0x3C@20&0xFFFFFF00=0xC0A80F00" -m comment --comment fwdleak
}
lan_leaks() {
	in_ns "$LAN" iptables -t raw -nvxL PREROUTING | awk '/fwdleak/ {n += $1} END {print n + 0}'
}

# netfilter_watch PORT [PROTO]: count TCP (or PROTO's) packets from or to PORT at the host
# namespace's PREROUTING, FORWARD and POSTROUTING (mangle); netfilter_seen prints the count so far.
netfilter_watch() {
	local hook dir
	for hook in PREROUTING FORWARD POSTROUTING; do
		for dir in --sport --dport; do
			in_ns "$HOST" iptables -t mangle -I $hook -p "${2:-tcp}" $dir "$1" -m comment --comment fwdbulk
		done
	done
}
netfilter_seen() {
	in_ns "$HOST" iptables -t mangle -nvxL | awk '/fwdbulk/ {n += $1} END {print n + 0}'
}

# Stop the servers started so far and wait until they are gone, so the next test can bind the
# same ports (a killed server still holds its socket until it has exited).
stop_servers() { sandbox_stop_all KILL; }

# ask NS tcp|udp ADDR PORT: what the server at ADDR:PORT says our address is ("" on failure).
# bash's /dev/tcp and /dev/udp give a connected socket: a reply counts only if it comes back
# from the address asked, and head returns as soon as a line arrives (deadline 3 s). head, not
# bash's read: read takes a byte at a time, which would truncate a datagram to its first byte.
ask() {
	local ns=$1 proto=$2 addr=$3 port=$4
	# shellcheck disable=SC2016 # the inner bash expands its own arguments
	in_ns "$ns" timeout 5 bash -c 'exec 3<>/dev/$0/$1/$2 || exit 1
		[ "$0" = udp ] && echo x >&3
		timeout 3 head -n 1 <&3' "$proto" "$addr" "$port" 2>/dev/null
}

pingable() { in_ns "$1" ping -c 1 -W 1 -q "$2" >/dev/null 2>&1; }

# peer6_server NS tcp|udp PORT: a server that answers with the peer address it saw, on IPv6
# (and IPv4: dual-stack sockets).
peer6_server() { # NS tcp|udp PORT
	sandbox_spawn "$1" /dev/null python3 -c '
import socket, sys, threading
port = int(sys.argv[2])
if sys.argv[1] == "udp":
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("::", port))
    while True:
        b, a = s.recvfrom(100)
        s.sendto((a[0] + "\n").encode(), a)
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", port))
s.listen(16)
while True:
    c, a = s.accept()
    c.sendall((a[0] + "\n").encode())
    c.close()' "$2" "$3"
	wait_for 3000 listening "$1" "$2" "$3" || fail "server $1 $2/$3 did not start"
}
# ask6 NS tcp|udp ADDR PORT: the peer address the server saw ("" on failure; 3 s).
ask6() {
	in_ns "$1" timeout 5 python3 -c '
import socket, sys
kind = socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM
s = socket.socket(socket.AF_INET6, kind)
s.settimeout(3)
try:
    s.connect((sys.argv[2], int(sys.argv[3])))
    if kind == socket.SOCK_DGRAM:
        s.send(b"x")
    print(s.recv(100).decode().strip())
except OSError:
    pass' "$2" "$3" "$4"
}
# tcp_push FROM TO ADDR PORT BYTES [SECONDS]: BYTES bytes over one TCP connection from namespace
# FROM to a one-shot receiver in namespace TO on PORT, reached at ADDR (IPv4 or IPv6); prints
# the bytes that arrived. SECONDS (default 30) bounds the sending.
tcp_push() {
	local from=$1 to=$2 addr=$3 port=$4 bytes=$5 tmo=${6:-30} rx=$WORK/push.rx listen=TCP-LISTEN
	local dst=TCP:$addr:$port
	[[ $addr == *:* ]] && listen=TCP6-LISTEN dst="TCP6:[$addr]:$port"
	rm -f "$rx"
	sandbox_spawn "$to" /dev/null sh -c "socat -u $listen:$port,reuseaddr - | wc -c >'$rx'"
	wait_for 3000 listening "$to" tcp "$port"
	head -c "$bytes" /dev/zero | in_ns "$from" timeout "$tmo" socat -u - "$dst"
	wait_for 10000 test -s "$rx"
	cat "$rx" 2>/dev/null
}

sandbox_up() {
	[ -x "$UDP_ECHO" ] || { echo "$UDP_ECHO is not built (make all)" >&2; return 1; }
	sandbox_pair "$HOST" up0 $UPLINK_ADDR/24 "$LAN" lan0 $LAN_ADDR/24 && lan_leak_watch
}

# Everything named with our prefix goes: processes, fwd's own state, namespaces.
sandbox_down() {
	local journal t
	stop_servers
	# Processes first: once down has deleted a namespace's name, nothing can find them.
	# shellcheck disable=SC2046 # one namespace name per word
	sandbox_kill_in $(sandbox_namespaces "^$P-")
	for journal in /run/fwd/"$P"*.journal; do
		t=$(basename "$journal" .journal)
		[[ -e $journal && $t =~ ^[a-z0-9-]+$ ]] || continue
		"$FWDCTL" -q -n "$HOST" down "$t" 2>/dev/null
	done
	sandbox_cleanup "^$P-"
	sandbox_fwd_forget "$P"
	rm -rf "$WORK"
}

finish() {
	# Read before the LAN goes; no LAN namespace (setup failed early): nothing to read.
	if ip netns list | awk '{print $1}' | grep -qx "$LAN"; then
		check_eq "the LAN never saw a namespace's source address, nor an ICMP error quoting one" \
			0 "$(lan_leaks)"
	fi
	sandbox_down
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" = 0 ]
}
trap 'finish' EXIT
trap 'exit 1' INT TERM

# lab_conf NAME DATAPATH [noforwards]: the seed lab with prefixed names, written to
# $WORK/NAME.conf (without its forward lines when asked)
lab_conf() {
	cat >"$WORK/$1.conf" <<CONF
topology $1
datapath $2
bridge vnet0 192.168.15.5/24
uplink up0
masquerade 192.168.15.0/24
namespace $P-red    192.168.15.1
namespace $P-blue   192.168.15.2
namespace $P-green  192.168.15.3
namespace $P-yellow 192.168.15.4
CONF
	[ "${3:-}" = noforwards ] || cat >>"$WORK/$1.conf" <<CONF
forward tcp 80        $P-blue:80
forward udp 5353      $P-green:53
forward tcp 8000-8009 $P-yellow
forward tcp 9100-9101 $P-red:7100
CONF
	echo "$WORK/$1.conf"
}

# count_json FILE CONDITION: how many lines of FILE (one JSON object each) satisfy the Python
# expression CONDITION, in which e is the object.
count_json() {
	python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if eval("(" + sys.argv[2] + ")"):
        n += 1
print(n)' "$1" "$2"
}

# fwdctl_bg OUT READY ARGS...: `fwdctl -v -n $HOST ARGS` in the background (monitor, capture),
# stdout to OUT and stderr to OUT.err; returns once stderr matches READY (within 5 s). BG is its
# pid. Not through sandbox_spawn: `ip netns exec` would hide /sys/fs/bpf, where the pins are;
# fwdctl -n enters the namespace itself. fwdctl_bg_stop: SIGINT, as a user's ^C; its status.
BG=
fwdctl_bg() {
	local out=$1 ready=$2
	shift 2
	setsid "$FWDCTL" -v -n "$HOST" "$@" >"$out" 2>"$out.err" &
	BG=$!
	SANDBOX_PIDS+=("$BG")
	wait_for 5000 grep -q "$ready" "$out.err"
}
fwdctl_bg_stop() {
	kill -INT "$BG"
	sandbox_wait "$BG"
}

# forged_udp NS SRC DST: one UDP datagram (to port 9999) from NS with the forged IPv4 source SRC.
forged_udp() {
	in_ns "$1" python3 -c '
import socket, struct, sys
src, dst = sys.argv[1], sys.argv[2]
udp = struct.pack("!HHHH", 40404, 9999, 12, 0) + b"spf\n"
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 32, 7, 0, 64, 17, 0, socket.inet_aton(src),
                 socket.inet_aton(dst))
s = 0
for (w,) in struct.iter_unpack("!H", ip):
    s += w
while s >> 16:
    s = (s & 0xffff) + (s >> 16)
ip = ip[:10] + struct.pack("!H", ~s & 0xffff) + ip[12:]
socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW).sendto(ip + udp, (dst, 0))' "$2" "$3"
}

# kernel_lab_up NAME: a second topology NAME beside the lab, datapath kernel, with no uplink and
# its own bridge and subnet (kvnet0, 10.99.0.0/24), brought up; for checks that a command
# refuses datapath kernel.
kernel_lab_up() {
	local conf
	conf=$(lab_conf "$1" kernel noforwards)
	sed -i -e "s/^bridge vnet0 .*/bridge kvnet0 10.99.0.5\/24/" -e '/^uplink/d' -e '/^masquerade/d' \
		-e "s/$P-\([a-z]*\) *192.168.15/$1\1 10.99.0/" "$conf"
	"$FWDCTL" -q -n "$HOST" up "$conf"
}

# A picture of the world for before/after comparisons (addresses of links, routes, rules).
snapshot() {
	local ns
	{
		ip netns list | awk '{print $1}' | grep "^$P-" | sort
		ip -n "$HOST" -o link | awk '{print $2, $3}' | sed 's/@[^:]*//'
		ip -n "$HOST" -o addr | awk '{print $2, $4}'
		ip -n "$HOST" route
		# rules and user chains; iptables-nft keeps the empty built-in tables it once made
		in_ns "$HOST" iptables-save | grep -E '^(-A |:[^ ]+ - )'
		for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" | grep -v -e "$HOST" -e "$LAN" | sort); do
			echo "== $ns"
			ip -n "$ns" -o addr | awk '{print $2, $4}'
			ip -n "$ns" route
		done
	} 2>&1
}

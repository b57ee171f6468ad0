#!/bin/bash
# A spoofed SYN flood at a forward (datapath bpf): 1.2 x `conntrack max` SYNs from addresses
# of 198.18.0.0/15, which the LAN namespace holds itself (so every SYN-ACK blue sends stays in
# the sandbox), within one half-open timeout. The table fills (ct_early_drop moves: the
# half-open entries make room), and still: new connections from the LAN (through the forward)
# and from red (masqueraded) succeed during and after the flood, a transfer through a forward
# that runs across it loses nothing and never stalls, an established connection that was idle
# for FWD_TEST_IDLE_S seconds (default 600: ten minutes) before the flood answers after it, and
# the flood's entries are gone within their timeouts. Before the TCP state machine, every
# answered SYN became a 5-day established entry and locked new connections out.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

MAX=2048
SYNS=$((MAX * 12 / 10))
IDLE_S=${FWD_TEST_IDLE_S:-600}
sandbox_up || { fail "sandbox"; exit 1; }
topo=${P}f
conf=$(lab_conf "$topo" bpf)
cat >>"$conf" <<CONF
conntrack max $MAX
conntrack timeout tcp-syn-sent 5
conntrack timeout tcp-syn-recv 5
conntrack timeout tcp-close 5
CONF
# The spoofed range is the LAN's own; the host routes it there.
ip -n "$LAN" addr add 198.18.0.1/15 dev lo
ip -n "$HOST" route add 198.18.0.0/15 via "$LAN_ADDR"
check "up with conntrack max $MAX" "$FWDCTL" -q -n "$HOST" up "$conf"

# blue answers every connection on port 80 with "ok"; the LAN runs a server for red's.
short_server "$P-blue" 80
short_server "$LAN" 7080

# An established connection, idle from before the flood until after it.
cat >"$WORK/idle.py" <<'PY'
import socket, sys, time
c = socket.create_connection((sys.argv[1], 9100), timeout=5)
c.sendall(b"a\n"); a = c.recv(10)
open(sys.argv[2], "w").write("ready\n")
while not __import__("os").path.exists(sys.argv[3]):
    time.sleep(0.05)
c.sendall(b"b\n"); b = c.recv(10)
print(a.decode().strip(), b.decode().strip())
PY
sandbox_spawn "$P-red" /dev/null socat TCP-LISTEN:7100,reuseaddr,fork EXEC:cat
wait_for 3000 listening "$P-red" tcp 7100 || fail "echo server in red did not start"
in_ns "$LAN" timeout $((IDLE_S + 120)) python3 "$WORK/idle.py" "$UPLINK_ADDR" "$WORK/idle.ready" "$WORK/idle.go" >"$WORK/idle.out" 2>&1 &
idle=$!
wait_for 5000 test -e "$WORK/idle.ready" || fail "the idle connection did not open"
# Not a wait for an event: the idle time is what is tested (nothing may expire or evict an
# established connection that says nothing).
sleep "$IDLE_S"

# A transfer through a forward (LAN -> uplink:8000 -> yellow:8000), running from before the
# flood until after it: 64 KiB every 10 ms; the sender notes its longest stall.
in_ns "$P-yellow" sh -c "socat -u TCP-LISTEN:8000,reuseaddr - | wc -c >'$WORK/rx'" &
wait_for 3000 listening "$P-yellow" tcp 8000 || fail "transfer receiver did not start"
cat >"$WORK/send.py" <<'PY'
import os, socket, sys, time
c = socket.create_connection((sys.argv[1], 8000), timeout=10)
chunk, sent, stall = b"x" * 65536, 0, 0.0
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    t = time.time()
    c.sendall(chunk)
    stall = max(stall, time.time() - t)
    sent += len(chunk)
    time.sleep(0.01)
c.shutdown(socket.SHUT_WR)
c.recv(1)
print(sent, "%.2f" % stall)
PY
in_ns "$LAN" timeout 120 python3 "$WORK/send.py" "$UPLINK_ADDR" "$WORK/send.ready" "$WORK/send.stop" >"$WORK/sent" 2>&1 &
sender=$!
wait_for 5000 test -e "$WORK/send.ready" || fail "the transfer did not start"

# The flood: SYNs with random sources of 198.18.0.0/15 and random ports, in one go.
cat >"$WORK/flood.py" <<'PY'
import random, socket, struct, sys
dst, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
rnd = random.Random(7)
for i in range(n):
    src = socket.inet_ntoa(struct.pack("!I", (198 << 24 | 18 << 16) + rnd.randrange(2, 1 << 17)))
    tcp = struct.pack("!HHIIBBHHH", rnd.randrange(1024, 65535), port, rnd.getrandbits(32), 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i & 0xffff, 0, 64, 6, 0, socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    s.sendto(ip + tcp, (dst, 0))
PY
e0=$(fwd_counter "$topo" ct_early_drop)
f0=$(fwd_counter "$topo" ct_table_full)
in_ns "$LAN" python3 "$WORK/flood.py" "$UPLINK_ADDR" 80 "$SYNS"
e1=$(fwd_counter "$topo" ct_early_drop)
f1=$(fwd_counter "$topo" ct_table_full)
check "the flood of $SYNS SYNs filled the table: ct_table_full moved ($f0 -> $f1)" test "$f1" -gt "$f0"
check "... and ct_early_drop made room ($e0 -> $e1)" test "$e1" -gt "$e0"

# During the flood's half-open timeout: new connections through the forward and masqueraded.
during_dnat=$(short_conns "$LAN" "$UPLINK_ADDR" 80 200)
during_snat=$(short_conns "$P-red" "$LAN_ADDR" 7080 200)
check "during: >= 99% of 200 new connections through the forward ($during_dnat)" test "$during_dnat" -ge 198
check "during: >= 99% of 200 new masqueraded connections ($during_snat)" test "$during_snat" -ge 198
touch "$WORK/idle.go"
wait "$idle"
check_eq "the connection idle for ${IDLE_S} s before the flood answers after it" "a b" "$(cat "$WORK/idle.out")"
touch "$WORK/send.stop"
wait "$sender"
read -r sent stall <"$WORK/sent"
wait_for 5000 test -s "$WORK/rx"
check "the transfer through the forward across the flood: all of it arrived ($(cat "$WORK/rx") of $sent bytes)" \
	test -n "$sent" -a "$sent" = "$(cat "$WORK/rx")"
check "... and never stalled for a second (longest send: ${stall:-?} s)" \
	python3 -c 'import sys; sys.exit(not float(sys.argv[1]) < 1)' "${stall:-9}"

# The flood's entries are gone within their timeouts (5 s), deleted from the table, not only
# expired: counted in the pinned map itself (the sweep comes within 2 s of an expiry).
flood_left() {
	bpftool -j map dump pinned "/sys/fs/bpf/fwd/$topo/fwd_ct" | python3 -c '
import json, sys
n = 0
for e in json.load(sys.stdin):
    k = e.get("formatted", e)["key"]
    a = k["saddr"] if isinstance(k, dict) else 0
    # 198.18.0.0/15 in network order, however bpftool renders it
    if isinstance(a, int) and (a & 0xfeff) == 0x12c6:
        n += 1
print(n)'
}
flood_gone() { [ "$(flood_left)" = 0 ]; }
wait_for 9000 flood_gone
check_eq "the flood's entries are gone within their timeouts" 0 "$(flood_left)"
after=$(short_conns "$LAN" "$UPLINK_ADDR" 80 200)
check "after: >= 99% of 200 new connections through the forward ($after)" test "$after" -ge 198

stop_servers
check "down" "$FWDCTL" -q -n "$HOST" down "$topo"

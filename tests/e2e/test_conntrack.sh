#!/bin/bash
# Connection tracking under attack, on both datapaths: a forged RST with a sequence number out
# of the window (half the sequence space from the client's) from the LAN changes nothing (the forwarded connection keeps
# working, datapath bpf counts it in drop_tcp_window); two threads on two CPUs opening the same
# UDP flow at once through a forward (and through hairpin) lose no datagram; from the LAN, a
# bare ACK to a forward opens no connection (datapath bpf: drop_ct_invalid; Linux's
# nf_conntrack_tcp_loose picks it up, the difference is on purpose: see README).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

UDP_RACE=$(dirname "$FWDCTL")/tests/tools/udp_race
sandbox_up || { fail "sandbox"; exit 1; }

# A TCP client in the LAN that holds one connection to uplink:80 open: it writes its local
# port and the sequence number its SYN carried (read off the SYN-ACK with a packet socket) to
# $WORK/client.port, then for each line on its stdin sends it and prints the answer.
cat >"$WORK/client.py" <<'PY'
import os, socket, struct, sys
sniff = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
sniff.settimeout(3)
c = socket.create_connection((sys.argv[1], 80), timeout=3)
port = c.getsockname()[1]
while True: # the SYN-ACK acknowledges ISN + 1 (a packet socket sees no outgoing IPv4)
    ip = sniff.recv(100)
    tcp = ip[(ip[0] & 15) * 4:]
    if ip[9] == 6 and struct.unpack("!H", tcp[2:4])[0] == port and tcp[13] & 0x12 == 0x12:
        isn = (struct.unpack("!I", tcp[8:12])[0] - 1) % 2**32
        break
open(sys.argv[2] + ".tmp", "w").write("%d %d\n" % (port, isn))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
for line in sys.stdin:
    c.sendall(line.encode())
    print(c.recv(100).decode().strip(), flush=True)
PY
# raw_tcp SRC SPORT DST DPORT FLAGS SEQ: one TCP segment with a forged header, from the LAN.
cat >"$WORK/raw_tcp.py" <<'PY'
import socket, struct, sys
src, sport, dst, dport, flags, seq = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5], 0), int(sys.argv[6])
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 8192, 0, 0)
pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, socket.inet_aton(src), socket.inet_aton(dst))
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.sendto(ip + tcp, (dst, 0))
PY
# An echo server: every line back as it came.
cat >"$WORK/echo.py" <<'PY'
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 80))
s.listen(16)
def serve(c):
    while True:
        b = c.recv(100)
        if not b:
            return
        c.sendall(b)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY

for dp in kernel bpf; do
	T="$dp:"
	topo=${P}${dp:0:1}
	conf=$(lab_conf "$topo" "$dp")
	# room for the burst below: 20,000 flows from red, over the default per-namespace cap
	[ "$dp" = bpf ] && echo "conntrack per-namespace 30000" >>"$conf"
	check "$T up" "$FWDCTL" -q -n "$HOST" up "$conf"
	sandbox_spawn "$P-blue" /dev/null python3 "$WORK/echo.py"
	wait_for 3000 listening "$P-blue" tcp 80 || fail "$T echo server did not start"

	# One live forwarded connection; the client talks through a FIFO.
	rm -f "$WORK/client.port" "$WORK/client.in" "$WORK/client.out"
	mkfifo "$WORK/client.in"
	# Read-write: opening a FIFO for writing alone would wait for its reader.
	exec 7<>"$WORK/client.in"
	# (Its stdin redirected inside: a background command's would be /dev/null.)
	# shellcheck disable=SC2016 # the arguments are sh's, expanded by it
	sandbox_spawn "$LAN" "$WORK/client.out" sh -c 'exec python3 "$1" "$2" "$3" <"$4"' client \
		"$WORK/client.py" "$UPLINK_ADDR" "$WORK/client.port" "$WORK/client.in"
	echo one >&7
	wait_for 3000 grep -qx one "$WORK/client.out"
	check_eq "$T a forwarded connection answers" one "$(head -n 1 "$WORK/client.out")"
	read -r cport isn <"$WORK/client.port"
	# Half the sequence space away from the client's: out of any window, whatever the ISN.
	forged=$(((isn + 2147483648) % 4294967296))

	w0=$([ "$dp" = bpf ] && fwd_counter "$topo" drop_tcp_window || echo 0)
	in_ns "$LAN" python3 "$WORK/raw_tcp.py" "$LAN_ADDR" "$cport" "$UPLINK_ADDR" 80 0x04 "$forged"
	echo two >&7
	wait_for 3000 grep -qx two "$WORK/client.out"
	check_eq "$T after a forged rst (seq ISN + 2^31) the connection still answers" two \
		"$(sed -n 2p "$WORK/client.out")"
	if [ "$dp" = bpf ]; then
		check_eq "$T the forged rst is counted in drop_tcp_window" $((w0 + 1)) \
			"$(fwd_counter "$topo" drop_tcp_window)"
		check "$T the connection is still established" sh -c \
			"'$FWDCTL' -n '$HOST' ct '$topo' | grep -q ':$cport .* established '"

		# A bare ACK from the LAN to a forward opens nothing.
		i0=$(fwd_counter "$topo" drop_ct_invalid)
		in_ns "$LAN" python3 "$WORK/raw_tcp.py" "$LAN_ADDR" 45999 "$UPLINK_ADDR" 80 0x10 777
		check_eq "$T a bare ack to a forward is counted in drop_ct_invalid" $((i0 + 1)) \
			"$(fwd_counter "$topo" drop_ct_invalid)"
		check "$T ... and made no entry" sh -c "! '$FWDCTL' -n '$HOST' ct '$topo' | grep -q ':45999 '"
	fi
	exec 7>&-

	if [ "$dp" = bpf ]; then
		# A burst of 20,000 new flows (red to 20,000 LAN ports, no answers): every one is
		# tracked with its expiry, and none is deleted while live: not by listing the table,
		# nor by the table's sweep, which reads every slot within 2 s.
		in_ns "$P-red" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for port in range(30000, 50000):
    s.sendto(b"x", (sys.argv[1], port))' "$LAN_ADDR"
		burst() {
			"$FWDCTL" -j -n "$HOST" ct "$topo" | python3 -c '
import json, sys
c = [x for x in json.load(sys.stdin)["connections"]
     if x["proto"] == "udp" and 30000 <= x["original"]["dport"] < 50000]
print(len(c), sum(1 for x in c if x["seconds_left"] <= 0))'
		}
		read -r n0 dead0 <<<"$(burst)"
		check_eq "$T a burst of 20000 flows: 20000 entries, each with its expiry" "20000 0" "$n0 $dead0"
		sleep 2.5 # not a wait for an event: one whole round of the sweep must pass
		read -r n1 dead1 <<<"$(burst)"
		check_eq "$T 2.5 s later (a round of the sweep, a second listing): none deleted" \
			"20000 0" "$n1 $dead1"
	fi

	# Two CPUs opening one UDP flow at once: the loser uses the winner's entry.
	peer_server "$P-green" udp 53
	out=$(in_ns "$LAN" "$UDP_RACE" -a "$UPLINK_ADDR" -p 5353 -n 500 -b 20000)
	check_eq "$T udp race through a forward: nothing lost ($out)" "rounds=500 lost=0" "$out"
	out=$(in_ns "$P-red" "$UDP_RACE" -a "$UPLINK_ADDR" -p 5353 -n 500 -b 21000)
	check_eq "$T udp race through hairpin: nothing lost ($out)" "rounds=500 lost=0" "$out"

	stop_servers
	check "$T down" "$FWDCTL" -q -n "$HOST" down "$topo"
done

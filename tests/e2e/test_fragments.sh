#!/bin/bash
# IPv4 fragments through SNAT and DNAT, both ways, on both datapaths (datapath bpf:
# bpf/frag.h; datapath kernel: nf_conntrack reassembles). 4,000-byte UDP datagrams, three
# fragments each at MTU 1500:
#   - red to a LAN server and back (SNAT): the server sees the uplink's address, red gets the
#     whole 4,000-byte answer;
#   - a LAN client to the forward udp 5353 -> green:53 and back (DNAT): green sees the client,
#     the client gets the whole answer from the uplink's address;
#   - a 4,000-byte ping from red to the LAN (an ICMP echo in fragments) is answered;
#   - the same datagrams with their fragments sent last first (raw) get through too.
# Before, datapath bpf lost all of them. datapath bpf must carry them itself: the counters
# show the fragments translated, and none dropped for a missing first fragment.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

sandbox_up || { fail "sandbox"; exit 1; }

# big_echo NS PORT: a UDP server (one process) that answers each datagram with "PEER LEN",
# padded to 4,000 bytes.
big_echo() {
	sandbox_spawn "$1" /dev/null python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
while True:
    b, a = s.recvfrom(65535)
    head = b"%s %d\n" % (a[0].encode(), len(b))
    s.sendto(head + b"." * (4000 - len(head)), a)' "$2"
	wait_for 3000 listening "$1" udp "$2" || fail "big echo server $1 udp/$2 did not start"
}
# big_ask NS ADDR PORT: send 4,000 bytes, print the answer's first line and its length
# ("PEER LEN ANSWER_LEN"), or "none" within 3 s (twice: the first may wait for ARP).
big_ask() {
	in_ns "$1" timeout 8 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((sys.argv[1], int(sys.argv[2])))
for _ in range(2):
    s.send(b"f" * 4000)
    try:
        b = s.recv(65535)
        print(b.split(b"\n")[0].decode(), len(b))
        sys.exit(0)
    except socket.timeout:
        pass
print("none")' "$2" "$3"
}

# reversed_ask NS DST_MAC SRC DST PORT: a 4,000-byte UDP datagram from SRC:40777 to DST:PORT in
# three fragments sent last first (raw, out of NS's first interface that is not lo), then the
# answer read as big_ask does, on a socket bound to SRC:40777.
cat >"$WORK/reversed.py" <<'PY'
import random, socket, struct, sys
dst_mac, src, dst, dport = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sport = 40777
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
answer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
answer.bind((src, sport))
answer.settimeout(3)
saddr, daddr = socket.inet_aton(src), socket.inet_aton(dst)
payload = b"r" * 4000
ulen = 8 + len(payload)
c = csum(saddr + daddr + struct.pack("!BBH", 0, 17, ulen) + struct.pack("!HHHH", sport, dport, ulen, 0) + payload)
data = struct.pack("!HHHH", sport, dport, ulen, c or 0xffff) + payload
frags = [data[i:i + 1480] for i in range(0, len(data), 1480)]
ident = random.randrange(1, 65536)
ifname = next(n for _, n in socket.if_nameindex() if n != "lo")
raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
raw.bind((ifname, 0))
mac = raw.getsockname()[4]
for k in reversed(range(len(frags))):
    flags = (0x2000 if k < len(frags) - 1 else 0) | (k * 1480 // 8)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(frags[k]), ident, flags, 64, 17, 0, saddr, daddr)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    raw.send(bytes.fromhex(dst_mac.replace(":", "")) + mac + b"\x08\x00" + ip + frags[k])
try:
    b = answer.recv(65535)
    print(b.split(b"\n")[0].decode(), len(b))
except socket.timeout:
    print("none")
PY
big_ping() { in_ns "$1" ping -c 1 -W 2 -s 4000 -q "$2" >/dev/null; }
reversed_ask() { in_ns "$1" timeout 6 python3 "$WORK/reversed.py" "${@:2}"; }

for dp in bpf kernel; do
	T="$dp:"
	topo=${P}${dp:0:1}
	conf=$(lab_conf "$topo" "$dp")
	check "$T up" "$FWDCTL" -q -n "$HOST" up "$conf"
	big_echo "$LAN" 9997
	big_echo "$P-green" 53

	check_eq "$T red -> LAN, 4,000 bytes each way in fragments: seen from the uplink, answered whole" \
		"$UPLINK_ADDR 4000 4000" "$(big_ask "$P-red" "$LAN_ADDR" 9997)"
	check_eq "$T LAN -> forward udp 5353 (green), 4,000 bytes each way: green sees the client, answered whole" \
		"$LAN_ADDR 4000 4000" "$(big_ask "$LAN" "$UPLINK_ADDR" 5353)"
	check "$T a 4,000-byte ping from red to the LAN is answered" big_ping "$P-red" "$LAN_ADDR"
	# Fragments out of order, last first: held until the first comes (datapath bpf).
	check_eq "$T red -> LAN, fragments last first: seen from the uplink, answered whole" \
		"$UPLINK_ADDR 4000 4000" "$(reversed_ask "$P-red" "$(mac_of "$HOST" vnet0)" 192.168.15.1 "$LAN_ADDR" 9997)"
	check_eq "$T LAN -> forward udp 5353, fragments last first: green sees the client, answered whole" \
		"$LAN_ADDR 4000 4000" "$(reversed_ask "$LAN" "$(mac_of "$HOST" up0)" "$LAN_ADDR" "$UPLINK_ADDR" 5353)"

	if [ "$dp" = bpf ]; then
		# 3 fragments per datagram: red's datagram out and the answer back, the client's
		# datagram in and green's answer out, red's echo and its reply.
		check "$T ... every fragment translated in BPF (snat, snat_reply, dnat, dnat_reply >= 3 each)" \
			test "$(fwd_counter "$topo" snat)" -ge 6 -a "$(fwd_counter "$topo" snat_reply)" -ge 6 \
			-a "$(fwd_counter "$topo" dnat)" -ge 3 -a "$(fwd_counter "$topo" dnat_reply)" -ge 3
		check_eq "$T ... 4 held for their first (2 of each reversed datagram), none dropped without it" \
			"4 0" "$(fwd_counter "$topo" frag_parked) $(fwd_counter "$topo" drop_frag_no_first)"
	fi
	stop_servers
	check "$T down" "$FWDCTL" -q -n "$HOST" down "$topo"
done

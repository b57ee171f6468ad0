#!/bin/bash
# Malformed frames and TTL 1, on both datapaths (datapath bpf: bpf/parse.h on every path, the
# time exceeded of bpf/icmp.h; datapath kernel: the kernel's own checks and fwd's rules):
#   - from the LAN to a forward (udp 5353 -> green:53) and from red to the LAN (masquerade),
#     raw frames with a wrong IPv4 header checksum, an option length of 0, an option running
#     past the header, a loose source route, a UDP length past the packet or below 8, a TCP
#     data offset of 0 or past the segment: none arrives, a well-formed control does;
#   - a datagram from the LAN with TTL 1 to the forward gets "time exceeded" back from the
#     uplink's address, quoting the datagram as it was sent (the sender's socket matches it to
#     itself: IP_RECVERR), and green never sees it.
# datapath bpf counts each malformed frame under its reason.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

sandbox_up || { fail "sandbox"; exit 1; }

# send_frame NS DST_MAC SRC DST DPORT VARIANT: one Ethernet frame out of NS's first interface
# that is not lo (eth0 in a topology's namespace, lan0 in the LAN), IPv4 from SRC to DST:DPORT,
# UDP unless the variant is TCP's, made wrong as VARIANT says ("good": nothing wrong).
cat >"$WORK/send_frame.py" <<'PY'
import socket, struct, sys
dst_mac, src, dst, dport, variant = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
opts = {"opt_len0": b"\x07\x00\x00\x00", "opt_past": b"\x07\x07\x04\x00",
        "lsrr": b"\x83\x07\x04" + socket.inet_aton(dst) + b"\x01"}.get(variant, b"")
payload = b"malformed\n"
saddr, daddr = socket.inet_aton(src), socket.inet_aton(dst)
if variant.startswith("tcp"):
    doff = {"tcp_doff0": 0, "tcp_doff15": 15}[variant]
    l4 = struct.pack("!HHIIBBHHH", 40405, dport, 1, 0, doff << 4, 0x02, 64240, 0, 0) + payload
    proto = 6
    pseudo = saddr + daddr + struct.pack("!BBH", 0, proto, len(l4))
    l4 = l4[:16] + struct.pack("!H", csum(pseudo + l4)) + l4[18:]
else:
    ulen = {"udp_len_long": 8 + len(payload) + 8, "udp_len_short": 7}.get(variant, 8 + len(payload))
    l4 = struct.pack("!HHHH", 40405, dport, ulen, 0) + payload  # checksum 0: none
    proto = 17
ihl = 5 + len(opts) // 4
ip = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + len(opts) + len(l4), 7, 0, 64, proto, 0,
                 saddr, daddr) + opts
ip = ip[:10] + struct.pack("!H", csum(ip) ^ (1 if variant == "bad_csum" else 0)) + ip[12:]
ifname = next(n for _, n in socket.if_nameindex() if n != "lo")
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
mac = s.getsockname()[4]
frame = bytes.fromhex(dst_mac.replace(":", "")) + mac + b"\x08\x00" + ip + l4
s.send(frame + b"\0" * max(0, 60 - len(frame)))
PY
send_frame() { in_ns "$1" python3 "$WORK/send_frame.py" "${@:2}"; }
VARIANTS="bad_csum opt_len0 opt_past lsrr udp_len_long udp_len_short tcp_doff0 tcp_doff15"

# ttl1_answer NS ADDR PORT: send one UDP datagram with TTL 1 and print what came back on the
# socket's error queue: "TYPE CODE OFFENDER" of the ICMP error, or "none" within 3 s.
ttl1_answer() {
	in_ns "$1" timeout 6 python3 -c '
import select, socket, struct, sys, time
IP_RECVERR = 11
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)
s.connect((sys.argv[1], int(sys.argv[2])))
s.send(b"ttl one\n")
deadline = time.monotonic() + 3
while time.monotonic() < deadline:
    select.select([], [], [s], max(0, deadline - time.monotonic()))
    try:
        _, anc, _, _ = s.recvmsg(512, 512, socket.MSG_ERRQUEUE)
    except BlockingIOError:
        continue
    for level, typ, data in anc:
        if level == socket.IPPROTO_IP and typ == IP_RECVERR:
            _, origin, itype, code = struct.unpack("=IBBB", data[:7])
            offender = socket.inet_ntoa(data[16 + 4:16 + 8])
            print(itype, code, offender)
            sys.exit(0)
print("none")' "$2" "$3"
}

for dp in bpf kernel; do
	T="$dp:"
	topo=${P}${dp:0:1}
	conf=$(lab_conf "$topo" "$dp")
	check "$T up" "$FWDCTL" -q -n "$HOST" up "$conf"
	count_server "$LAN" 9999
	count_server "$P-green" 53
	up_mac=$(mac_of "$HOST" up0) gw_mac=$(mac_of "$HOST" vnet0)
	pingable "$P-red" 192.168.15.5 || fail "$T red cannot reach the gateway"
	pingable "$LAN" "$UPLINK_ADDR" || fail "$T the LAN cannot reach the uplink"

	# From the LAN to the forward: the malformed first, the control last; green counts.
	for v in $VARIANTS good; do
		dport=5353
		send_frame "$LAN" "$up_mac" "$LAN_ADDR" "$UPLINK_ADDR" "$dport" "$v"
	done
	green_got_one() { [ "$(counted "$P-green" 127.0.0.1 53)" = 1 ]; }
	wait_for 3000 green_got_one
	check_eq "$T of the LAN's 9 frames to the forward, only the well-formed one reaches green" \
		1 "$(counted "$P-green" 127.0.0.1 53)"

	# From red to the LAN, masqueraded.
	leaks0=$(lan_leaks)
	for v in $VARIANTS good; do
		send_frame "$P-red" "$gw_mac" 192.168.15.1 "$LAN_ADDR" 9999 "$v"
	done
	lan_got_one() { [ "$(counted "$HOST" "$LAN_ADDR" 9999)" = 1 ]; }
	wait_for 3000 lan_got_one
	check_eq "$T of red's 9 frames to the LAN, only the well-formed one arrives" \
		1 "$(counted "$HOST" "$LAN_ADDR" 9999)"
	check_eq "$T ... and none reached the LAN untranslated" 0 $(($(lan_leaks) - leaks0))

	if [ "$dp" = bpf ]; then
		# LAN and red each: bad_csum; opt_len0, opt_past, lsrr; udp_len x2, tcp_doff x2.
		check_eq "$T ... each counted under its reason (csum, options, L4 length)" "2 6 8" \
			"$(fwd_counter "$topo" drop_bad_ipv4_csum) $(fwd_counter "$topo" drop_bad_ip_options) $(fwd_counter "$topo" drop_bad_l4_len)"
	fi

	# TTL 1 from the LAN to the forward.
	check_eq "$T a TTL-1 datagram to the forward: time exceeded (11/0) from the uplink's address" \
		"11 0 $UPLINK_ADDR" "$(ttl1_answer "$LAN" "$UPLINK_ADDR" 5353)"
	check_eq "$T ... and green never got it" 1 "$(counted "$P-green" 127.0.0.1 53)"
	[ "$dp" = bpf ] && check_eq "$T ... counted as time_exceeded" 1 "$(fwd_counter "$topo" time_exceeded)"

	stop_servers
	check "$T down" "$FWDCTL" -q -n "$HOST" down "$topo"
done

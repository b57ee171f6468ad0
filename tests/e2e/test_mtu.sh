#!/bin/bash
# MTU on the uplink, both datapaths: with the uplink at MTU 1200 (the LAN peer at 1500),
# nothing larger leaves it. A TCP upload from red through SNAT arrives whole with no IPv4 packet over 1200
# bytes on the LAN (TCP learns the path MTU from the "fragmentation needed" the kernel sends
# back); DF datagrams of 1201-1204 bytes never arrive, one of 1200 does; datagrams without DF
# of 1300 and 4000 bytes arrive, cut into fragments that fit (datapath bpf: bpf/frag.h's
# frag_out; before, dropped as drop_nat_too_big). Before, datapath bpf also let GSO frames pass
# whatever their segments, and others at the MTU plus 18 bytes.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

sandbox_up || { fail "sandbox"; exit 1; }
# Only the uplink at 1200: the LAN peer (1500) offers an MSS of 1460, which red's TCP must
# learn to cut.
ip -n "$HOST" link set up0 mtu 1200
# The uplink segments what it sends (no TSO/GSO on up0), as a NIC puts segments on the wire:
# a veth would hand the LAN whole GSO frames, which are big whatever their segments are.
in_ns "$HOST" ethtool -K up0 tso off gso off >/dev/null
# Count what enters the LAN over 1200 bytes of IPv4.
in_ns "$LAN" iptables -t raw -I PREROUTING -i lan0 -m length --length 1201:65535 \
	-m comment --comment fwdbig
lan_big() { in_ns "$LAN" iptables -t raw -nvxL PREROUTING | awk '/fwdbig/ {n += $1} END {print n + 0}'; }

# A UDP server in the LAN that counts datagrams by their size; "count N" asks how many of
# size N it got.
cat >"$WORK/udp_sizes.py" <<'PY'
import collections, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 9998))
n = collections.Counter()
while True:
    b, a = s.recvfrom(65535)
    if b.startswith(b"count "):
        s.sendto(b"%d\n" % n[int(b[6:])], a)
    else:
        n[len(b) + 28] += 1 # the IPv4 packet's size
PY
lan_got() {
	in_ns "$HOST" timeout 5 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b"count " + sys.argv[2].encode(), (sys.argv[1], 9998))
print(s.recv(100).decode().strip())' "$LAN_ADDR" "$1"
}

for dp in bpf kernel; do
	T="$dp:"
	topo=${P}${dp:0:1}
	conf=$(lab_conf "$topo" "$dp" noforwards)
	check "$T up" "$FWDCTL" -q -n "$HOST" up "$conf"
	sandbox_spawn "$LAN" /dev/null python3 "$WORK/udp_sizes.py"
	wait_for 3000 listening "$LAN" udp 9998 || fail "$T udp server did not start"
	big0=$(lan_big)

	# DF datagrams from red (its own MTU is 1500): 1200 bytes fit, 1201-1204 do not.
	in_ns "$P-red" python3 -c '
import socket, sys
for size in (1200, 1201, 1202, 1203, 1204):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, 10, 2) # IP_MTU_DISCOVER, IP_PMTUDISC_DO: DF
    try:
        s.sendto(b"x" * (size - 28), (sys.argv[1], 9998))
    except OSError:
        pass # EMSGSIZE once the path MTU is learnt
    s.close()' "$LAN_ADDR"
	got_one() { [ "$(lan_got 1200)" = 1 ]; }
	wait_for 3000 got_one
	check_eq "$T a DF datagram of 1200 bytes arrives" 1 "$(lan_got 1200)"
	check_eq "$T ... none of 1201-1204 bytes does" "0 0 0 0" \
		"$(lan_got 1201) $(lan_got 1202) $(lan_got 1203) $(lan_got 1204)"

	# Without DF, red's datagrams of 1300 and 4000 bytes (the latter in fragments of 1500, as
	# red's interface has it, whatever path MTU it learnt: IP_PMTUDISC_OMIT) are cut to fit the
	# uplink and arrive.
	in_ns "$P-red" python3 -c '
import socket, sys
for size in (1300, 4000):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, 10, 5) # IP_MTU_DISCOVER, IP_PMTUDISC_OMIT: no DF
    s.sendto(b"y" * (size - 28), (sys.argv[1], 9998))
    s.close()' "$LAN_ADDR"
	got_both() { [ "$(lan_got 1300) $(lan_got 4000)" = "1 1" ]; }
	wait_for 3000 got_both
	check_eq "$T datagrams of 1300 and 4000 bytes without DF arrive, cut to fit" "1 1" \
		"$(lan_got 1300) $(lan_got 4000)"
	[ "$dp" = bpf ] && check "$T ... cut in BPF (fragmented)" \
		test "$(fwd_counter "$topo" fragmented)" -ge 2

	# A TCP upload through SNAT: whole, and in packets that fit.
	in_ns "$LAN" sh -c "socat -u TCP-LISTEN:7050,reuseaddr - | wc -c >'$WORK/rx'" &
	wait_for 3000 listening "$LAN" tcp 7050
	in_ns "$P-red" timeout 30 python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], 7050), timeout=10)
c.sendall(b"x" * 4000000)
c.shutdown(socket.SHUT_WR)
c.recv(1)' "$LAN_ADDR"
	wait_for 5000 test -s "$WORK/rx"
	check_eq "$T a 4 MB upload through SNAT arrives whole" 4000000 "$(cat "$WORK/rx")"
	rm -f "$WORK/rx"
	check_eq "$T ... and nothing over 1200 bytes entered the LAN, fragments included" 0 \
		$(($(lan_big) - big0))
	[ "$dp" = bpf ] && check "$T ... the oversized went to the kernel (pass_frag_needed)" \
		test "$(fwd_counter "$topo" pass_frag_needed)" -gt 0
	stop_servers
	check "$T down" "$FWDCTL" -q -n "$HOST" down "$topo"
done

# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by bench/run.sh: the sandboxes. Each variant of the lab lives in its own host namespace
# (fwdb<X>-host) with a LAN namespace (fwdb<X>-lan) on the other end of its uplink veth, so the
# machine's real network never sees a packet. The namespaces, links and processes are
# tests/lib/sandbox.sh's: every namespace created is recorded in SANDBOX_NS, every lab in LABS,
# which run.sh's cleanup walks.
#
#   fwdb<X>-lan  eth0 10.200.<N>.2/24 ---- up0 10.200.<N>.1/24  fwdb<X>-host
#                     fd00:200:<N>::2/64        fd00:200:<N>::1/64
#                                                               vnet0 192.168.15.5/24 (bridge)
#                                                                     fd00:15::5/64
#                                                  fwdb<X>-red 192.168.15.1   fwdb<X>-blue .2
#                                                              fd00:15::1                 ::2
#   fwdbc-a eth0 192.168.16.1/24 ---- eth0 192.168.16.2/24 fwdbc-b     (the ceiling: one veth)
#                fd00:16::1/64             fd00:16::2/64
# (IPv6 when the fwdctl that builds the lab has it; the tutorial's recipe is IPv4 only.)
#
# The uplink pairs and the ceiling's pair are set to gso_ipv4_max_size $GSO_MAX; the ceiling's and
# the fwd labs' uplinks to gso_max_size $GSO6_MAX too (IPv6 BIG TCP; see run.sh).

# shellcheck source=../tests/lib/sandbox.sh
. "$HERE/../tests/lib/sandbox.sh"

declare -A LABS   # host namespace -> "builder topology-file" for cleanup
declare -A F      # facts discovered after a lab is up: F[<X>:<key>]

# No builder may take longer than this for one up or down (1000 namespaces by hand: ~90 s).
LAB_TIMEOUT=${BENCH_LAB_TIMEOUT:-600}

# Ports the lab forwards from the uplink to blue, one per tool.
PORT_IPERF=5201 PORT_SOCKPERF=11111 PORT_CRR=7000 PORT_UDP=9000

log() { echo "[$(date +%T)] $*" >&2; }

# The namespace's interface carrying IPv4 address $2.
ns_ifname_of() {
	ip -n "$1" -4 -o addr show | awk -v a="$2" '{ split($4, p, "/"); if (p[1] == a) { print $2; exit } }'
}

ns_mac_of() {
	ip -n "$1" -o link show dev "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'
}

# Name, in host namespace $3, of the veth peer of interface $2 of namespace $1.
ns_peer_of() {
	local idx
	idx=$(ip netns exec "$1" cat "/sys/class/net/$2/iflink") || return 1
	ip -n "$3" -o link show | awk -F': ' -v i="$idx" '$1 == i { sub("@.*", "", $2); print $2; exit }'
}

# link_big NS IFNAME: the link at gso_ipv4_max_size $GSO_MAX (BIG TCP), where the kernel has the
# setting (6.3 and later; link_gso prints 0 before).
link_big() {
	[ "$(ip netns exec "$1" "$LINK_GSO" "$2")" = 0 ] && return 0
	ip netns exec "$1" "$LINK_GSO" "$2" "$GSO_MAX"
}

# link_big6 NS IFNAME: link_big, and IPv6 BIG TCP (gso_max_size $GSO6_MAX) too: the links of
# the paths that can carry it, the ceiling (which forwards nothing) and fwd's labs. The kernel
# lab's uplink keeps IPv6 at 64 KiB, as its admin would have to: Linux's ip6_forward counts the
# jumbo hop-by-hop header of such packets against the MTU and answers each with Packet Too
# Big (one stream through its NAT66 fell from 14.5 Gbit/s to 0.02, bench/README).
link_big6() {
	link_big "$1" "$2" || return 1
	[ "$GSO6_MAX" = 65536 ] && return 0
	ip netns exec "$1" "$LINK_GSO" -6 "$2" "$GSO6_MAX"
}

# The uplink sandbox: host and LAN namespaces joined by a veth pair. $1 = X, $2 = N.
lab_sandbox_create() {
	local x=$1 n=$2 h=fwdb$1-host l=fwdb$1-lan big=link_big6
	[ "$x" = k ] && big=link_big
	sandbox_pair "$h" up0 "10.200.$n.1/24" "$l" eth0 "10.200.$n.2/24" $big || return 1
	F[$x:host]=$h F[$x:lan]=$l F[$x:up_addr]=10.200.$n.1 F[$x:lan_addr]=10.200.$n.2
	ip -n "$h" addr add "fd00:200:$n::1/64" dev up0 nodad &&
		ip -n "$l" addr add "fd00:200:$n::2/64" dev eth0 nodad || return 1
	F[$x:up_addr6]=fd00:200:$n::1 F[$x:lan_addr6]=fd00:200:$n::2
}

# Does fwdctl $1 accept the topology line $2? (`make bench-compare` builds an older tree's lab
# too, which may not know the newest settings; what it lacks it does not do either.)
fwdctl_knows() {
	printf 'bridge b0 10.9.0.1/24\nnamespace n 10.9.0.2\n%s\n' "$2" >"$WORK/knows.conf"
	"$1" -q check "$WORK/knows.conf" >/dev/null 2>&1
}

# Does fwdctl $1 take IPv6 (issue 21)?
fwdctl_knows6() {
	printf 'bridge b0 10.9.0.1/24 fd00:9::1/64\nnamespace n 10.9.0.2 fd00:9::2\n' >"$WORK/knows6.conf"
	"$1" -q check "$WORK/knows6.conf" >/dev/null 2>&1
}

# The benchmark topology of sandbox X with datapath $2, built by fwdctl $3, on stdout. Dual
# stack when fwdctl $3 has IPv6 (the forwards are published on the uplink's IPv6 address too).
traffic_topology() {
	local x=$1 b6='' m6='' r6='' u6=''
	if fwdctl_knows6 "$3"; then
		b6=' fd00:15::5/64' m6='masquerade fd00:15::/64' r6=' fd00:15::1' u6=' fd00:15::2'
	fi
	cat <<-EOF
		# written by bench/run.sh: the benchmark lab, datapath $2
		topology fwdb$x
		datapath $2
		bridge vnet0 192.168.15.5/24$b6
		uplink up0
		masquerade 192.168.15.0/24
		$m6
		namespace fwdb$x-red 192.168.15.1$r6
		namespace fwdb$x-blue 192.168.15.2$u6
		forward tcp $PORT_IPERF fwdb$x-blue:$PORT_IPERF
		forward tcp $PORT_SOCKPERF fwdb$x-blue:$PORT_SOCKPERF
		forward tcp $PORT_CRR fwdb$x-blue:$PORT_CRR
		forward udp $PORT_UDP fwdb$x-blue:$PORT_UDP
	EOF
	# RFS (run.sh raises the machine's table for the run): the uplink's queue too, as fwd does
	# with the consent; the kernel lab loses it again to be the tutorial's (run.sh).
	if [ "${RFS_TABLE:-0}" != 0 ] && fwdctl_knows "$3" "tuning rfs"; then echo "tuning rfs"; fi
	# Room for the conntrack rows' million flows, all from red (the kernel's nf_conntrack_max
	# is the root namespace's, which the bench leaves alone; nor has it a cap per namespace).
	[ "$2" = kernel ] && return
	echo "conntrack max 1048576"
	if fwdctl_knows "$3" "conntrack per-namespace 1"; then echo "conntrack per-namespace 1048576"; fi
}

# Namespace names a topology file declares (for cleanup when its builder cannot remove them).
topology_namespaces() {
	awk '$1 == "namespace" { print $2 }' "$1"
}

# The fwdctl binary of builder $1: "fwdctl" is this tree's, "fwdctl-old" the one
# `make bench-compare` measures against (OLD_FWDCTL).
lab_fwdctl() {
	if [ "$1" = fwdctl-old ]; then echo "$OLD_FWDCTL"; else echo "$FWDCTL"; fi
}

# Build topology file $3 in sandbox X with builder $2 ("fwdctl", "fwdctl-old" or
# "ip-commands"), within $4 seconds (default LAB_TIMEOUT). Exit status 124: it ran out of time.
lab_up() {
	local x=$1 builder=$2 file=$3 h=${F[$1:host]} nss tmo=${4:-$LAB_TIMEOUT}
	LABS[$h]="$builder $file"
	mapfile -t nss < <(topology_namespaces "$file")
	sandbox_track "${nss[@]}"
	if [ "$builder" != ip-commands ]; then
		timeout -k 5 "$tmo" "$(lab_fwdctl "$builder")" -n "$h" up "$file"
	else
		timeout -k 5 "$tmo" "$HERE/ip-commands-lab.sh" -n "$h" up "$file"
	fi
}

lab_down() {
	local h=$1 builder file
	[ -n "${LABS[$h]:-}" ] || return 0
	read -r builder file <<<"${LABS[$h]}"
	if [ "$builder" != ip-commands ]; then
		timeout -k 5 "$LAB_TIMEOUT" "$(lab_fwdctl "$builder")" -n "$h" down "$file"
	else
		timeout -k 5 "$LAB_TIMEOUT" "$HERE/ip-commands-lab.sh" -n "$h" down "$file"
	fi
	local rc=$?
	unset "LABS[$h]"
	return $rc
}

# Are all namespaces of topology file $1 there, and is the last one configured (address,
# default route)? Prints what is missing.
lab_complete() {
	local n last addr addr6
	for n in $(topology_namespaces "$1"); do
		[ -e "/run/netns/$n" ] || { echo "namespace $n missing"; return 1; }
	done
	read -r last addr addr6 <<<"$(awk '$1 == "namespace" { n = $2; a = $3; b = $4 } END { print n, a, b }' "$1")"
	[ -n "$(ns_ifname_of "$last" "$addr")" ] || { echo "$last has no address $addr"; return 1; }
	ip -n "$last" route show default | grep -q . || { echo "$last has no default route"; return 1; }
	[ -z "$addr6" ] || ip -n "$last" -6 addr show | grep -q " $addr6/" ||
		{ echo "$last has no address $addr6"; return 1; }
	[ -z "$addr6" ] || ip -n "$last" -6 route show default | grep -q . ||
		{ echo "$last has no IPv6 default route"; return 1; }
}

# Namespaces of topology file $1 that still exist.
lab_leftovers() {
	local n
	for n in $(topology_namespaces "$1"); do
		[ -e "/run/netns/$n" ] && echo "$n"
	done
	return 0
}

# Remove what a failed lab left: its builder's down, then any namespace of the file by force.
lab_scrub() {
	local h=$1 file=$2 n
	lab_down "$h" >/dev/null 2>&1
	for n in $(topology_namespaces "$file"); do
		[ -e "/run/netns/$n" ] && ip netns del "$n"
	done
	ip -n "$h" link del vnet0 2>/dev/null
	return 0
}

# After lab_up: find interfaces and addresses, whatever names the builder chose.
lab_discover() {
	local x=$1 h=${F[$1:host]} l=${F[$1:lan]} red=fwdb$1-red blue=fwdb$1-blue
	F[$x:red]=$red F[$x:blue]=$blue
	F[$x:red_addr]=192.168.15.1 F[$x:blue_addr]=192.168.15.2
	F[$x:red_if]=$(ns_ifname_of "$red" 192.168.15.1)
	F[$x:blue_if]=$(ns_ifname_of "$blue" 192.168.15.2)
	if [ -z "${F[$x:red_if]}" ] || [ -z "${F[$x:blue_if]}" ]; then
		log "lab $x: namespace addresses not found"
		return 1
	fi
	F[$x:red_mac]=$(ns_mac_of "$red" "${F[$x:red_if]}")
	F[$x:blue_mac]=$(ns_mac_of "$blue" "${F[$x:blue_if]}")
	F[$x:red_peer]=$(ns_peer_of "$red" "${F[$x:red_if]}" "$h")
	F[$x:br_mac]=$(ns_mac_of "$h" vnet0)
	F[$x:up_mac]=$(ns_mac_of "$h" up0)
	F[$x:lan_mac]=$(ns_mac_of "$l" eth0)
	F[$x:lan_if]=eth0
	# IPv6: what the file gave (not the tutorial's recipe)
	F[$x:red_addr6]='' F[$x:blue_addr6]=''
	if ip -n "$blue" -6 -o addr show | grep -q ' fd00:15::2/'; then
		F[$x:red_addr6]=fd00:15::1 F[$x:blue_addr6]=fd00:15::2
	fi
}

# Can the lab carry the three paths? Pings, then a TCP transaction through the forward.
lab_check() {
	local x=$1
	ip netns exec "${F[$x:red]}" ping -c1 -W2 -q "${F[$x:blue_addr]}" >/dev/null ||
		{ log "lab $x: bridge path: red cannot ping blue"; return 1; }
	ip netns exec "${F[$x:red]}" ping -c1 -W2 -q "${F[$x:lan_addr]}" >/dev/null ||
		{ log "lab $x: snat path: red cannot ping the LAN"; return 1; }
	lab_dnat_ok "$x" "${F[$x:up_addr]}" ||
		{ log "lab $x: dnat path: no TCP transaction from the LAN through up0:$PORT_CRR"; return 1; }
	lab_check6 "$x"
	return 0
}

# lab_dnat_ok X ADDR: does a TCP transaction from the LAN to ADDR:$PORT_CRR reach blue?
lab_dnat_ok() {
	local x=$1 pid ok=0 ready=$WORK/check-$1.ready
	rm -f "$ready"
	bg_run "${F[$x:blue]}" 10 "$WORK/check-$x.srv" "$TOOLS/crr" server -p "$PORT_CRR" -t 5 -R "$ready"
	pid=$SANDBOX_LAST
	if wait_for 5000 test -e "$ready" &&
		ip netns exec "${F[$x:lan]}" "$TOOLS/crr" client -a "$2" -p "$PORT_CRR" -t 0.3 >/dev/null; then
		ok=1
	fi
	sandbox_stop "$pid" TERM
	[ $ok = 1 ]
}

# The IPv6 paths of sandbox X, when its file has IPv6: F[X:v6] 1 when all three work. A lab
# whose IPv6 does not work still measures IPv4 (the failure is recorded).
lab_check6() {
	local x=$1
	F[$x:v6]=0
	[ -n "${F[$x:blue_addr6]}" ] || return 0
	ip netns exec "${F[$x:red]}" ping -6 -c1 -W2 -q "${F[$x:blue_addr6]}" >/dev/null ||
		{ fail "lab $x: bridge6 path: red cannot ping blue"; return 1; }
	ip netns exec "${F[$x:red]}" ping -6 -c1 -W2 -q "${F[$x:lan_addr6]}" >/dev/null ||
		{ fail "lab $x: snat6 path: red cannot ping the LAN"; return 1; }
	lab_dnat_ok "$x" "${F[$x:up_addr6]}" ||
		{ fail "lab $x: dnat6 path: no TCP transaction from the LAN through [up0]:$PORT_CRR"; return 1; }
	F[$x:v6]=1
}

# The ceiling: two namespaces on one veth pair.
ceiling_create() {
	sandbox_pair fwdbc-a eth0 192.168.16.1/24 fwdbc-b eth0 192.168.16.2/24 link_big6 || return 1
	ip -n fwdbc-a addr add fd00:16::1/64 dev eth0 nodad &&
		ip -n fwdbc-b addr add fd00:16::2/64 dev eth0 nodad || return 1
	F[c:a_mac]=$(ns_mac_of fwdbc-a eth0) F[c:b_mac]=$(ns_mac_of fwdbc-b eth0)
	ip netns exec fwdbc-a ping -c1 -W2 -q 192.168.16.2 >/dev/null &&
		ip netns exec fwdbc-a ping -6 -c1 -W2 -q fd00:16::2 >/dev/null
}

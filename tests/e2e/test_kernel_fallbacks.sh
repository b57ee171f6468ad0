#!/bin/bash
# Kernel support: `up` asks the kernel for what datapath bpf needs and refuses, naming it,
# before changing anything; and the fallbacks for older kernels (Debian 12 ships 6.1) work,
# forced on this one with FWD_KERNEL_WITHOUT (fwdctl(8), ENVIRONMENT): links left alone
# before gso_ipv4_max_size (6.3), and
# no cgroup v2 (the host's own connections to a forward are not redirected; the rest works).
. "$(dirname "$0")/lib.sh"

LINK_GSO=$(dirname "$FWDCTL")/tests/tools/link_gso
sandbox_up || { fail "sandbox"; exit 1; }
topo=${P}f
conf=$(lab_conf "$topo" bpf)

# 1. A required feature missing: exit 1, each missing feature named, nothing changed.
before=$(snapshot)
out=$(FWD_KERNEL_WITHOUT=bpf_redirect_peer,map_QUEUE "$FWDCTL" -n "$HOST" up "$conf" 2>&1)
check_eq "a kernel without bpf_redirect_peer and queue maps: up exits 1" 1 $?
check "... naming bpf_redirect_peer" grep -q "bpf_redirect_peer is missing" <<<"$out"
check "... and map_QUEUE" grep -q "map_QUEUE is missing" <<<"$out"
check_eq "... and changing nothing" "$before" "$(snapshot)"
check "... no pins" test ! -e "/sys/fs/bpf/fwd/$topo"

# 2. The fallbacks of older kernels, all at once.
big=$(in_ns "$HOST" "$LINK_GSO" up0) # 0: this kernel really has no gso_ipv4_max_size
[ "$big" != 0 ] && in_ns "$HOST" "$LINK_GSO" up0 196608 # an uplink with BIG TCP on
export FWD_KERNEL_WITHOUT=gso_ipv4_max_size,cgroup_v2
out=$("$FWDCTL" -n "$HOST" up "$conf" 2>&1)
check_eq "fallbacks: up succeeds" 0 $?
check "... warning that the host's own connections are not forwarded without cgroup v2" \
	grep -q "no cgroup v2 mounted" <<<"$out"
peer_server "$P-blue" tcp 80
peer_server "$LAN" tcp 7030
check_eq "... lan -> uplink:80 -> blue sees the LAN address" "$LAN_ADDR" "$(ask "$LAN" tcp $UPLINK_ADDR 80)"
check_eq "... red -> lan is masqueraded" "$UPLINK_ADDR" "$(ask "$P-red" tcp $LAN_ADDR 7030)"
ct=$("$FWDCTL" -j -n "$HOST" ct "$topo")
check "... conntrack entries, each with its expiry" python3 -c '
import json, sys
c = json.loads(sys.argv[1])["connections"]
assert c and all(x["seconds_left"] > 0 for x in c), c' "$ct"
if [ "$big" != 0 ]; then
	# Read by link_gso without the pretence: what the kernel really has.
	gso=$("$FWDCTL" -j -n "$HOST" status "$topo" | python3 -c '
import json, sys
print(" ".join(n["host_link"] for n in json.load(sys.stdin)["namespaces"]))' |
		xargs -n 1 env -u FWD_KERNEL_WITHOUT ip netns exec "$HOST" "$LINK_GSO" | sort -u | tr '\n' ' ')
	check_eq "... the veths keep the kernel's GSO size, not the uplink's 196608" "65536 " "$gso"
fi
cg=$("$FWDCTL" -j -n "$HOST" status "$topo" | python3 -c '
import json, sys; print(len(json.load(sys.stdin)["bpf"]["cgroup"]["attached"]))')
check_eq "... no cgroup program attached" 0 "$cg"
check "... down" "$FWDCTL" -q -n "$HOST" down "$topo"
unset FWD_KERNEL_WITHOUT

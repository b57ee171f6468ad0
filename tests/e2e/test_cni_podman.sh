#!/bin/bash
# fwd-cni driven by a real container runtime (issue 22): Debian's podman with its CNI network
# backend and runc, inside the sandbox's host namespace (nsenter, not `ip netns exec`, which
# remounts /sys and hides the cgroup mounts), its storage and configuration in this test's
# directory, containers made from busybox-static (no registry is reachable). Five containers
# started at once, each running busybox httpd with a CGI that answers the client's address and
# publishing its port 80 on the uplink: each gets its own address; from the LAN each published
# port answers with the LAN's address; a container reaches another by its address and the LAN
# masqueraded; on datapath bpf fwd's programs carried the forwards; after `podman rm` nothing of
# them is left (namespaces, links, the topology, its pins and state).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

FWD_CNI=$(dirname "$FWDCTL")/fwd-cni
[ -x "$FWD_CNI" ] || { fail "$FWD_CNI is not built (make all)"; exit 1; }
for tool in podman runc busybox; do
	command -v $tool >/dev/null || { fail "$tool is not installed (make deps installs it)"; exit 1; }
done
N=5
NET=${P}pod
T=${P}p

# podman, in the sandbox's host namespace, with everything of its own under $WORK.
pm() {
	nsenter --net="/run/netns/$HOST" env CONTAINERS_CONF="$WORK/containers.conf" \
		podman --root "$WORK/pm/root" --runroot "$WORK/pm/run" --storage-driver vfs \
		--cni-config-dir "$WORK/cni" "$@"
}
# podman's container namespaces (/run/netns/netns-UUID) that were not there before the test.
podman_netns() {
	local ns
	for ns in /run/netns/netns-*; do
		[ -e "$ns" ] && ! grep -qxF "$ns" <<<"$netns_before" && echo "$ns"
	done
	return 0
}
netns_before=
netns_before=$(podman_netns)
podman_cleanup() {
	local ns
	pm rm -af -t 0 >/dev/null 2>&1
	# What podman made and left (a test stopped half-way).
	for ns in $(podman_netns); do ip netns del "${ns#/run/netns/}"; done
}
trap 'podman_cleanup; finish' EXIT

sandbox_up || { fail "sandbox"; exit 1; }
before=$(snapshot)
mkdir -p "$WORK/cnibin" "$WORK/cni" "$WORK/rootfs"/{bin,proc,sys,dev,etc,tmp,www/cgi-bin}
ln -s "$FWD_CNI" "$WORK/cnibin/fwd-cni"
cp "$(command -v busybox)" "$WORK/rootfs/bin/busybox"
for a in sh httpd wget nc sleep; do ln -s busybox "$WORK/rootfs/bin/$a"; done
# shellcheck disable=SC2016 # $REMOTE_ADDR is the CGI's
printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "$REMOTE_ADDR"\n' >"$WORK/rootfs/www/cgi-bin/ip"
chmod +x "$WORK/rootfs/www/cgi-bin/ip"
cat >"$WORK/containers.conf" <<CONF
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
[network]
network_backend = "cni"
cni_plugin_dirs = ["$WORK/cnibin", "/usr/lib/cni"]
CONF

# nf_conns ADDR: nf_conntrack's connections in the host namespace forwarded to ADDR:80.
nf_conns() { in_ns "$HOST" conntrack -L -p tcp --reply-src "$1" --reply-port-src 80 2>/dev/null | grep -c .; }

# get URL from NS: what busybox httpd's CGI answered ("" on failure).
get() {
	in_ns "$1" timeout 5 python3 -c '
import sys, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode().strip())
except OSError:
    pass' "$2"
}

peer_server "$LAN" tcp 7002
for dp in bpf kernel; do
	D="$dp:"
	cat >"$WORK/cni/$NET.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "$NET", "plugins": [
 {"type": "fwd-cni", "topology": "$T", "bridge": "${P:0:9}pod", "subnet": "192.168.15.0/24",
  "gateway": "192.168.15.5", "uplink": "up0", "masquerade": true, "datapath": "$dp",
  "capabilities": {"portMappings": true}}]}
JSON
	runs=()
	for i in $(seq $N); do
		pm run -d --name "$P-k$i" --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
			--network "$NET" -p "808$i:80" --rootfs "$WORK/rootfs" \
			/bin/httpd -f -p 0.0.0.0:80 -h /www >"$WORK/run$i.log" 2>&1 &
		runs+=($!)
	done
	wait "${runs[@]}"
	running=$(pm ps --format '{{.Names}}' | grep -c "^$P-k")
	check_eq "$D $N containers started at once, all running" $N "$running"
	[ "$running" = $N ] || cat "$WORK"/run*.log
	declare -A addr=()
	for i in $(seq $N); do
		addr[$i]=$(pm inspect -f "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$P-k$i")
	done
	check_eq "$D ... each with its own address of 192.168.15.0/24" $N \
		"$(printf '%s\n' "${addr[@]}" | grep -c '^192\.168\.15\.[0-9]*$' | tr -d ' ')"
	check_eq "$D ... no two alike" $N "$(printf '%s\n' "${addr[@]}" | sort -u | grep -c .)"
	check_eq "$D fwdctl status lists them" $N \
		"$("$FWDCTL" -j -n "$HOST" status "$T" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["namespaces"]))')"
	for i in $(seq $N); do
		wait_for 5000 test -n "$(get "$LAN" "http://$UPLINK_ADDR:808$i/cgi-bin/ip")"
		check_eq "$D LAN -> uplink:808$i -> container $i, the LAN's address kept" $LAN_ADDR \
			"$(get "$LAN" "http://$UPLINK_ADDR:808$i/cgi-bin/ip")"
	done
	check_eq "$D container 1 -> container 2 by its address" "${addr[1]}" \
		"$(pm exec "$P-k1" wget -qO- "http://${addr[2]}/cgi-bin/ip" 2>/dev/null)"
	check_eq "$D container 3 -> the LAN, masqueraded" $UPLINK_ADDR \
		"$(pm exec "$P-k3" nc $LAN_ADDR 7002 2>/dev/null)"
	if [ "$dp" = bpf ]; then
		check "$D the forwards went through fwd's programs (dnat counted)" \
			test "$(fwd_counter "$T" dnat)" -ge $N
	fi
	# Container 1 goes first: its forward's connections go with it, the others' stay.
	[ "$dp" = bpf ] && check "$D fwdctl ct lists the forwarded connections to container 1" \
		test "$("$FWDCTL" -n "$HOST" ct "$T" | grep -c "${addr[1]}:80")" -gt 0
	[ "$dp" = kernel ] && check "$D nf_conntrack holds the forwarded connections to container 1" \
		test "$(nf_conns "${addr[1]}")" -gt 0
	pm rm -f -t 0 "$P-k1" >/dev/null 2>&1
	if [ "$dp" = bpf ]; then
		check_eq "$D podman rm of container 1: its forwarded connections are gone" 0 \
			"$("$FWDCTL" -n "$HOST" ct "$T" | grep -c "${addr[1]}:80")"
		check "$D ... container 2's stay" test "$("$FWDCTL" -n "$HOST" ct "$T" | grep -c "${addr[2]}:80")" -gt 0
	else
		check_eq "$D podman rm of container 1: nf_conntrack's connections to it are gone" 0 \
			"$(nf_conns "${addr[1]}")"
		check "$D ... container 2's stay" test "$(nf_conns "${addr[2]}")" -gt 0
	fi
	check_eq "$D ... and its published port is closed" "" "$(get "$LAN" "http://$UPLINK_ADDR:8081/cgi-bin/ip")"
	check_eq "$D ... container 2's still answers" $LAN_ADDR "$(get "$LAN" "http://$UPLINK_ADDR:8082/cgi-bin/ip")"
	for i in $(seq 2 $N); do pm rm -f -t 0 "$P-k$i" >/dev/null 2>&1; done
	check_eq "$D podman rm: no container left" 0 "$(pm ps -a --format '{{.Names}}' | grep -c "^$P-k")"
	check_eq "$D ... the topology is down" "" "$("$FWDCTL" -n "$HOST" status 2>/dev/null | grep "$T")"
	check_eq "$D ... no container namespace left" "" "$(podman_netns)"
	check "$D ... no pins left" test ! -e "/sys/fs/bpf/fwd/$T"
	check "$D ... no state left" test ! -e "/run/fwd/cni/$T.json"
	check_eq "$D ... nothing else left" "$before" "$(snapshot)"
done

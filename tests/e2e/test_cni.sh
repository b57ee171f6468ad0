#!/bin/bash
# fwd-cni, the CNI plugin (issue 22), called as a runtime calls it: CNI_* in the environment,
# the network config on stdin, in the sandbox's host namespace (nsenter, as a runtime runs it),
# with namespaces of this test standing in for containers. Checked, on both datapaths: VERSION;
# ADD gives each container a unique address of the subnet and a spec-shaped result, publishes
# its port mappings (the LAN's client address kept), masquerades it out of the uplink, and
# `fwdctl status` shows it; containers reach each other; CHECK passes for an attached one and
# fails for an unknown one; DEL removes one and is idempotent (again, without CNI_NETNS);
# five ADDs at once get five addresses; GC removes what the runtime no longer lists, and the
# last container's removal takes the topology down, leaving nothing; a port another container
# publishes is refused; STATUS; and malformed and missing config fields and variables get the
# spec's error codes and a message, never a crash.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

FWD_CNI=$(dirname "$FWDCTL")/fwd-cni
[ -x "$FWD_CNI" ] || { fail "$FWD_CNI is not built (make all)"; exit 1; }
sandbox_up || { fail "sandbox"; exit 1; }
before=$(snapshot)

# cni_to FILE CMD ID NETNS CONF [VAR=VALUE...]: the plugin's stdout into FILE; its exit status.
cni_to() {
	local file=$1 cmd=$2 id=$3 netns=$4 conf=$5
	shift 5
	nsenter --net="/run/netns/$HOST" env CNI_COMMAND="$cmd" CNI_CONTAINERID="$id" \
		CNI_NETNS="$netns" CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni "$@" "$FWD_CNI" <"$conf" \
		>"$file" 2>>"$WORK/cni.err"
}
# cni CMD ID NETNS CONF [VAR=VALUE...]: the plugin's stdout in $out, its exit status in $CNI_RC.
out='' CNI_RC=0
cni() {
	CNI_RC=0
	cni_to "$WORK/cni.out" "$@" || CNI_RC=$?
	out=$(cat "$WORK/cni.out")
}
# json_get EXPR: a Python expression on the JSON document d read from stdin.
json_get() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)" 2>/dev/null; }
# error_is CODE WHAT: the last call failed (exit 1) with the error object's CODE.
error_is() {
	check_eq "$1 ($2): exit 1 and code $1" "1 $1" "$CNI_RC $(json_get 'd["code"]' <<<"$out")"
	check "... with a message ($(json_get 'd["msg"]' <<<"$out"))" test -n "$(json_get 'd["msg"]' <<<"$out")"
}
netconf() { # DATAPATH [EXTRA JSON FIELDS]: on one line
	printf '%s' "{\"cniVersion\": \"1.0.0\", \"name\": \"${P}net\", \"type\": \"fwd-cni\"," \
		" \"topology\": \"${P}c\", \"bridge\": \"${P:0:9}cni\", \"subnet\": \"192.168.15.0/24\"," \
		" \"gateway\": \"192.168.15.5\", \"uplink\": \"up0\", \"masquerade\": true," \
		" \"datapath\": \"$1\"${2:+, $2}}"
	echo
}
with_ports() { # DATAPATH HOSTPORT CONTAINERPORT
	netconf "$1" "\"runtimeConfig\": {\"portMappings\": [{\"hostPort\": $2, \"containerPort\": $3, \"protocol\": \"tcp\"}]}"
}

# VERSION, and what is refused before anything is done.
echo '{"cniVersion": "1.0.0"}' >"$WORK/v.json"
cni VERSION "" "" "$WORK/v.json"
check_eq "VERSION lists 1.0.0 and 1.1.0" "['1.0.0', '1.1.0']" "$(json_get 'd["supportedVersions"]' <<<"$out")"
netconf bpf >"$WORK/ok.json"
ip netns add "$P-c0"
CNI_RC=0
out=$(nsenter --net="/run/netns/$HOST" "$FWD_CNI" <"$WORK/ok.json" 2>/dev/null) || CNI_RC=$?
error_is 4 "no CNI_COMMAND"
while IFS='|' read -r code what conf; do
	echo "$conf" >"$WORK/bad.json"
	cni ADD c0 "/run/netns/$P-c0" "$WORK/bad.json"
	error_is "$code" "$what"
done <<CASES
6|not JSON|{"cniVersion": "1.0.0", "name":
6|an array|[1, 2]
6|a field twice|{"cniVersion": "1.0.0", "cniVersion": "1.0.0"}
7|no name|$(netconf bpf | sed 's/"name": "[^"]*", //')
7|no bridge|$(netconf bpf | sed 's/"bridge": "[^"]*", //')
7|no subnet|$(netconf bpf | sed 's/"subnet": "[^"]*", //')
7|a subnet with host bits|$(netconf bpf | sed 's|192.168.15.0/24|192.168.15.1/24|')
7|a subnet of IPv6|$(netconf bpf | sed 's|192.168.15.0/24|fd00::/64|')
7|a gateway outside the subnet|$(netconf bpf | sed 's|"gateway": "192.168.15.5"|"gateway": "10.1.1.1"|')
7|masquerade not a boolean|$(netconf bpf | sed 's|"masquerade": true|"masquerade": "yes"|')
7|an unknown datapath|$(netconf fast)
7|a name with a space|$(netconf bpf | sed "s|\"name\": \"${P}net\"|\"name\": \"a b\"|")
7|a port mapping out of range|$(netconf bpf '"runtimeConfig": {"portMappings": [{"hostPort": 70000, "containerPort": 80}]}')
7|a port mapping of sctp|$(netconf bpf '"runtimeConfig": {"portMappings": [{"hostPort": 80, "containerPort": 80, "protocol": "sctp"}]}')
1|cniVersion 0.3.1|$(netconf bpf | sed 's|"1.0.0"|"0.3.1"|')
2|a hostIP of IPv6|$(netconf bpf '"runtimeConfig": {"portMappings": [{"hostPort": 80, "containerPort": 80, "hostIP": "fd00::1"}]}')
7|an ipam without a type|$(netconf bpf '"ipam": {"ranges": []}')
CASES
cni ADD c0 "/run/netns/$P-c0" "$WORK/ok.json" CNI_IFNAME=eth1
error_is 4 "CNI_IFNAME eth1"
cni ADD c0 /proc/self/ns/net "$WORK/ok.json"
error_is 4 "CNI_NETNS not a named namespace"
cni ADD c0 "/run/netns/$P-none" "$WORK/ok.json"
error_is 3 "CNI_NETNS that does not exist"
cni ADD "" "/run/netns/$P-c0" "$WORK/ok.json"
error_is 4 "no CNI_CONTAINERID"
check_eq "... and nothing was built" "" "$("$FWDCTL" -n "$HOST" status 2>/dev/null | grep "${P}c")"
ip netns del "$P-c0"

cni STATUS "" "" "$WORK/ok.json"
check_eq "STATUS: ready" "0" "$CNI_RC"
sed 's/"up0"/"nosuch0"/' "$WORK/ok.json" >"$WORK/noup.json"
cni STATUS "" "" "$WORK/noup.json"
error_is 50 "STATUS with an uplink that does not exist"

peer_server "$LAN" tcp 7002
for dp in bpf kernel; do
	D="$dp:"
	T=${P}c
	for c in c1 c2; do ip netns add "$P-$c"; done
	with_ports "$dp" 8080 7000 >"$WORK/c1.json"
	with_ports "$dp" 8081 7000 >"$WORK/c2.json"
	cni ADD c1 "/run/netns/$P-c1" "$WORK/c1.json"
	check_eq "$D ADD c1" 0 "$CNI_RC"
	a1=$(json_get 'd["ips"][0]["address"]' <<<"$out")
	check_eq "$D ... the result: its address, gateway, eth0 in its namespace" \
		"192.168.15.1/24 192.168.15.5 eth0 /run/netns/$P-c1 0.0.0.0/0" \
		"$(json_get '" ".join([d["ips"][0]["address"], d["ips"][0]["gateway"], d["interfaces"][d["ips"][0]["interface"]]["name"], d["interfaces"][1]["sandbox"], d["routes"][0]["dst"]])' <<<"$out")"
	check_eq "$D ... eth0's MAC in the result is eth0's" "$(mac_of "$P-c1")" "$(json_get 'd["interfaces"][1]["mac"]' <<<"$out")"
	cni ADD c2 "/run/netns/$P-c2" "$WORK/c2.json"
	check_eq "$D ADD c2" 0 "$CNI_RC"
	a2=$(json_get 'd["ips"][0]["address"]' <<<"$out")
	check "$D ... another address ($a1, $a2)" test -n "$a2" -a "$a2" != "$a1"
	check "$D fwdctl status shows both" sh -c "'$FWDCTL' -n $HOST status $T | grep -q '$P-c1 *192.168.15.1' &&
		'$FWDCTL' -n $HOST status $T | grep -q '$P-c2 *192.168.15.2'"
	peer_server "$P-c1" tcp 7000
	check_eq "$D LAN -> uplink:8080 -> c1, the client's address kept" $LAN_ADDR "$(ask "$LAN" tcp $UPLINK_ADDR 8080)"
	check_eq "$D c1 -> LAN masqueraded" $UPLINK_ADDR "$(ask "$P-c1" tcp $LAN_ADDR 7002)"
	check_eq "$D c2 -> c1 directly" "${a2%/*}" "$(ask "$P-c2" tcp "${a1%/*}" 7000)"
	[ "$dp" = bpf ] && check "$D ... through the programs (dnat counted)" test "$(fwd_counter "$T" dnat)" -gt 0
	cni CHECK c1 "/run/netns/$P-c1" "$WORK/c1.json"
	check_eq "$D CHECK c1" 0 "$CNI_RC"
	cni CHECK c9 "/run/netns/$P-c1" "$WORK/c1.json"
	error_is 3 "$D CHECK of a container never added"
	# A port c1 publishes, asked for by another: refused, and nothing of it is left.
	ip netns add "$P-c3"
	with_ports "$dp" 8080 7000 >"$WORK/c3.json"
	cni ADD c3 "/run/netns/$P-c3" "$WORK/c3.json"
	error_is 102 "$D ADD with a host port c1 publishes"
	check_eq "$D ... c3 got no address" "" "$(ip -n "$P-c3" -4 -o addr show dev eth0 2>/dev/null)"
	ip netns del "$P-c3"
	stop_servers
	peer_server "$LAN" tcp 7002

	cni DEL c1 "/run/netns/$P-c1" "$WORK/c1.json"
	check_eq "$D DEL c1" 0 "$CNI_RC"
	check_eq "$D ... its veth is gone" "" "$(ip -n "$P-c1" -o link show eth0 2>/dev/null)"
	check_eq "$D ... its port mapping too" "" "$(ask "$LAN" tcp $UPLINK_ADDR 8080)"
	check "$D ... and c2 still reaches the LAN" test "$(ask "$P-c2" tcp $LAN_ADDR 7002)" = $UPLINK_ADDR
	cni DEL c1 "/run/netns/$P-c1" "$WORK/c1.json"
	check_eq "$D DEL c1 again: no error" 0 "$CNI_RC"
	cni DEL c1 "" "$WORK/c1.json"
	check_eq "$D DEL c1 without CNI_NETNS: no error" 0 "$CNI_RC"
	ip netns del "$P-c1"

	# Five ADDs at once (the runtime starts containers concurrently): five addresses.
	for i in 1 2 3 4 5; do ip netns add "$P-m$i"; done
	netconf "$dp" >"$WORK/m.json"
	adds=()
	for i in 1 2 3 4 5; do
		cni_to "$WORK/m$i.out" ADD "m$i" "/run/netns/$P-m$i" "$WORK/m.json" &
		adds+=($!)
	done
	wait "${adds[@]}"
	addrs=$(for i in 1 2 3 4 5; do json_get 'd["ips"][0]["address"]' <"$WORK/m$i.out"; done | sort -u | grep -c .)
	check_eq "$D five ADDs at once: five addresses" 5 "$addrs"
	check "$D ... m5 reaches c2" pingable "$P-m5" "${a2%/*}"

	# GC: the runtime lists c2 and m1 alone; the rest goes.
	netconf "$dp" '"cni.dev/valid-attachments": [{"containerID": "c2", "ifname": "eth0"}, {"containerID": "m1", "ifname": "eth0"}]' |
		sed 's/"1.0.0"/"1.1.0"/' >"$WORK/gc.json"
	cni GC "" "" "$WORK/gc.json"
	check_eq "$D GC" 0 "$CNI_RC"
	check_eq "$D ... m2 to m5 are gone, c2 and m1 stay" "2" \
		"$("$FWDCTL" -j -n "$HOST" status "$T" | json_get 'len(d["namespaces"])')"
	cni DEL m1 "/run/netns/$P-m1" "$WORK/m.json"
	cni DEL c2 "/run/netns/$P-c2" "$WORK/c2.json"
	check_eq "$D DEL of the last container" 0 "$CNI_RC"
	check_eq "$D ... takes the topology down" "" "$("$FWDCTL" -n "$HOST" status 2>/dev/null | grep "$T")"
	for ns in c2 m1 m2 m3 m4 m5; do ip netns del "$P-$ns"; done
	check_eq "$D nothing else left" "$before" "$(snapshot)"
done
# An IPAM plugin allocates instead (host-local of containernetworking-plugins, its files in
# $WORK): ADD takes its address, DEL gives it back; one it cannot find, or an address outside
# the subnet, is refused and nothing is left.
ipam() { # RANGE-START RANGE-END [TYPE]
	netconf bpf "\"ipam\": {\"type\": \"${3:-host-local}\", \"dataDir\": \"$WORK/ipam\", \"ranges\": [[{\"subnet\": \"192.168.15.0/24\", \"rangeStart\": \"$1\", \"rangeEnd\": \"$2\"}]]}"
}
if [ -x /usr/lib/cni/host-local ]; then
	ip netns add "$P-i1"
	ipam 192.168.15.100 192.168.15.120 >"$WORK/ipam.json"
	cni ADD i1 "/run/netns/$P-i1" "$WORK/ipam.json"
	check_eq "ipam host-local: ADD takes its address" "0 192.168.15.100/24" \
		"$CNI_RC $(json_get 'd["ips"][0]["address"]' <<<"$out")"
	check "... which eth0 has" sh -c "ip -n $P-i1 -4 -o addr show dev eth0 | grep -q 192.168.15.100/24"
	check "... and host-local recorded" test -e "$WORK/ipam/${P}net/192.168.15.100"
	cni DEL i1 "/run/netns/$P-i1" "$WORK/ipam.json"
	check_eq "ipam host-local: DEL" 0 "$CNI_RC"
	check "... gives the address back" test ! -e "$WORK/ipam/${P}net/192.168.15.100"
	ipam 192.168.15.100 192.168.15.120 no-such-ipam >"$WORK/noipam.json"
	cni ADD i1 "/run/netns/$P-i1" "$WORK/noipam.json"
	error_is 7 "an ipam plugin not in CNI_PATH"
	sed 's|"subnet": "192.168.15.0/24", "rangeStart"|"subnet": "10.9.9.0/24", "rangeStart"|' "$WORK/ipam.json" |
		sed 's|192.168.15.100|10.9.9.10|; s|192.168.15.120|10.9.9.20|' >"$WORK/outside.json"
	cni ADD i1 "/run/netns/$P-i1" "$WORK/outside.json"
	error_is 7 "an ipam plugin's address outside the subnet"
	check "... which is given back" test ! -e "$WORK/ipam/${P}net/10.9.9.10"
	check_eq "... and nothing was built" "" "$("$FWDCTL" -n "$HOST" status 2>/dev/null | grep "${P}c")"
	ip netns del "$P-i1"
else
	fail "ipam: /usr/lib/cni/host-local is missing (make deps installs containernetworking-plugins)"
fi
# routes: each a route line of the topology, the host route with it.
ip netns add "$P-r1"
netconf bpf '"routes": [{"dst": "192.168.16.0/24", "gw": "10.77.0.3"}]' >"$WORK/routes.json"
cni ADD r1 "/run/netns/$P-r1" "$WORK/routes.json"
check_eq "routes: ADD" 0 "$CNI_RC"
check "... the topology has the route line" grep -qx "route 192.168.16.0/24 via 10.77.0.3" "/run/fwd/cni/${P}c.conf"
check "... and the host routes it via the LAN" sh -c "ip -n $HOST route show 192.168.16.0/24 | grep -q 'via 10.77.0.3 dev up0'"
cni DEL r1 "/run/netns/$P-r1" "$WORK/routes.json"
check_eq "routes: DEL of the last container" 0 "$CNI_RC"
check_eq "... takes the route with the topology" "" "$(ip -n "$HOST" route show 192.168.16.0/24)"
netconf bpf '"routes": [{"dst": "192.168.15.0/25", "gw": "10.77.0.3"}]' >"$WORK/badroute.json"
cni ADD r1 "/run/netns/$P-r1" "$WORK/badroute.json"
error_is 7 "a route over the subnet"
netconf bpf '"routes": [{"dst": "192.168.16.0/24"}]' >"$WORK/nogw.json"
cni ADD r1 "/run/netns/$P-r1" "$WORK/nogw.json"
error_is 7 "a route without gw"
check_eq "... and nothing was built" "" "$("$FWDCTL" -n "$HOST" status 2>/dev/null | grep "${P}c")"
ip netns del "$P-r1"
check_eq "the plugin never crashed (no signal exit)" "" "$(grep -iE 'segmentation|abort|core dumped' "$WORK/cni.err")"

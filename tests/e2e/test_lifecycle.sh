#!/bin/bash
# up/down life cycle: idempotent re-up, converging on added and removed declarations, down
# leaving nothing behind, a killed up followed by down, and bad files changing nothing.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

sandbox_up || { fail "sandbox"; exit 1; }
before=$(snapshot)

for dp in ${DATAPATHS:-kernel bpf}; do
	topo=${P}${dp:0:1}
	conf=$(lab_conf "$topo" "$dp")
	T="$dp:"
	check "$T up" "$FWDCTL" -q -n "$HOST" up "$conf"
	first=$(snapshot)
	check "$T second up succeeds" "$FWDCTL" -q -n "$HOST" up "$conf"
	check_eq "$T second up changes nothing" "$first" "$(snapshot)"
	if [ "$dp" = bpf ]; then
		# Nothing changed: the programs stay as loaded (the same one in every veth's
		# filter). A filter removed by hand is something changed: up puts it back.
		veth=$(ip -n "$HOST" -o link show master vnet0 | awk -F': ' 'NR == 1 { sub(/@.*/, "", $2); print $2 }')
		prog_of() { tc -n "$HOST" filter show dev "$veth" ingress | grep -o 'id [0-9]* name fwd_tc_ingress'; }
		id=$(prog_of)
		check "$T $veth has fwd's program ($id)" test -n "$id"
		out=$("$FWDCTL" -v -n "$HOST" up "$conf" 2>&1)
		check_eq "$T an unchanged up says the programs are kept" 1 "$(grep -c 'programs kept' <<<"$out")"
		check_eq "$T ... and they are" "$id" "$(prog_of)"
		tc -n "$HOST" filter del dev "$veth" ingress
		check_eq "$T a filter removed by hand is gone" "" "$(prog_of)"
		check "$T up after that" "$FWDCTL" -q -n "$HOST" up "$conf"
		check "$T ... puts fwd's program back on $veth" test -n "$(prog_of)"
	fi

	# Converge: one more namespace and forward; only they appear.
	{ cat "$conf"; echo "namespace $P-pink 192.168.15.6"; echo "forward tcp 81 $P-pink:80"; } >"$WORK/more.conf"
	sed -i "s/^topology .*/topology $topo/" "$WORK/more.conf"
	check "$T up with a namespace added" "$FWDCTL" -q -n "$HOST" up "$WORK/more.conf"
	added=$(diff <(echo "$first") <(snapshot) | grep '^>' | grep -c -e "$P-pink" -e 192.168.15.6 -e ' fwd')
	check "$T the new namespace exists" ip netns exec "$P-pink" true
	check "$T the new namespace reaches red" pingable "$P-pink" 192.168.15.1
	removed=$(diff <(echo "$first") <(snapshot) | grep -c '^<')
	check_eq "$T adding removed nothing" 0 "$removed"
	check "$T adding added the namespace, its link and address" test "$added" -ge 3
	mac=$(ip -n "$HOST" -br link show vnet0 | awk '{print $3}')
	check "$T the bridge has fwd's fixed MAC ($mac), not one of its ports'" \
		sh -c "echo '$mac' | grep -q '^02:66:' && ! ip -n '$HOST' -br link | grep -v '^vnet0' | grep -q '$mac'"
	check "$T up with it removed again" "$FWDCTL" -q -n "$HOST" up "$conf"
	check_eq "$T removing restores the first state" "$first" "$(snapshot)"
	check_eq "$T the bridge's MAC did not change with its ports" "$mac" \
		"$(ip -n "$HOST" -br link show vnet0 | awk '{print $3}')"
	check "$T the removed namespace is gone" test ! -e "/run/netns/$P-pink"

	check "$T status names every namespace" sh -c "'$FWDCTL' -n '$HOST' status '$topo' | grep -c '^  $P-' | grep -qx 4"
	check "$T status -j is JSON with 4 namespaces" sh -c "'$FWDCTL' -j -n '$HOST' status '$topo' | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d[\"namespaces\"])==4 and all(n[\"inside_up\"] for n in d[\"namespaces\"])'"

	if [ "$dp" = bpf ]; then
		# Counters pinned by another fwd version (another number of counters, other names at
		# the same indices): stats refuses them, and up replaces the map.
		pin=/sys/fs/bpf/fwd/$topo/fwd_counters
		rm -f "$pin" &&
			bpftool map create "$pin" type percpu_array key 4 value 16 entries 3 name fwd_counters
		out=$("$FWDCTL" -n "$HOST" stats "$topo" 2>&1)
		check_eq "$T stats refuses counters of another fwd version: exit 1" 1 $?
		check_eq "$T ... and says why" 1 "$(grep -c 'another fwd version' <<<"$out")"
		check "$T up again replaces them" "$FWDCTL" -q -n "$HOST" up "$conf"
		check "$T stats reads the new ones" sh -c "'$FWDCTL' -n '$HOST' stats '$topo' >/dev/null"
	fi

	check "$T down" "$FWDCTL" -q -n "$HOST" down "$conf"
	check_eq "$T down leaves the sandbox as it was" "$before" "$(snapshot)"
	check "$T down leaves no journal" test ! -e "/run/fwd/$topo.journal"
	check "$T down leaves no pins" test ! -e "/sys/fs/bpf/fwd/$topo"
	check "$T second down is fine" "$FWDCTL" -q -n "$HOST" down "$topo"

	# Killed half-way: a big topology, SIGKILL once the journal shows progress, then down.
	big=$WORK/big.conf
	{ echo "topology ${topo}x"; echo "datapath $dp"; echo "bridge vnet1 10.88.0.1/16"; echo "uplink up0"
	  echo "masquerade 10.88.0.0/16"
	  for i in $(seq 1 80); do echo "namespace $P-k$i 10.88.1.$i"; done; } >"$big"
	"$FWDCTL" -q -n "$HOST" up "$big" &
	pid=$!
	wait_for 10000 sh -c "[ \$(grep -c '^netns' /run/fwd/${topo}x.journal 2>/dev/null || echo 0) -ge 10 ]"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	check "$T killed up left something to remove" test -e "/run/fwd/${topo}x.journal"
	check "$T down after a killed up" "$FWDCTL" -q -n "$HOST" down "${topo}x"
	check_eq "$T down after a killed up leaves the sandbox as it was" "$before" "$(snapshot)"
	check_eq "$T no namespace of the killed topology remains" 0 "$(ip netns list | grep -c "^$P-k")"
done

#!/bin/bash
# RFS on the host-side veths (issue 18): `up` gives each host-side veth's receive queue a flow
# table (rps_flow_cnt) while the host has its table of sockets' CPUs
# (net.core.rps_sock_flow_entries above 0), takes them away again when it has none, and
# `tuning rfs` raises the host's table, and the uplink's receive queues' flow tables, never
# lowering either. `status` shows them. The machine's
# own table is never touched: fwdctl is handed a file that plays it (FWD_RFS_HOST_TABLE); the
# veths' tables are real, read from the host namespace's sysfs.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

sandbox_up || { fail "sandbox"; exit 1; }
TABLE=$WORK/rps_sock_flow_entries
export FWD_RFS_HOST_TABLE=$TABLE
machine_was=$(cat /proc/sys/net/core/rps_sock_flow_entries)

# status_get TOPO EXPR: the Python expression EXPR of status -j's document (s), printed.
status_get() {
	"$FWDCTL" -j -n "$HOST" status "$1" | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$2"
}
# flow_cnts TOPO: each namespace's host-side veth's rps_flow_cnt, as sysfs has it, in file order.
flow_cnts() {
	local v out=()
	for v in $(status_get "$1" '" ".join(n["host_link"] for n in s["namespaces"])'); do
		out+=("$(ip netns exec "$HOST" cat "/sys/class/net/$v/queues/rx-0/rps_flow_cnt" 2>&1)")
	done
	echo "${out[*]}"
}
# up0_flow_cnt [N]: the sandbox uplink's receive queue's rps_flow_cnt (set to N first, if given).
up0_flow_cnt() {
	[ -z "${1:-}" ] || ip netns exec "$HOST" sh -c "echo $1 >/sys/class/net/up0/queues/rx-0/rps_flow_cnt"
	ip netns exec "$HOST" cat /sys/class/net/up0/queues/rx-0/rps_flow_cnt
}
# status_rfs TOPO: "VETHS HOST_TABLE" of status -j's rfs object.
status_rfs() { status_get "$1" '"%s %s" % (s["rfs"]["veths"], s["rfs"]["host_table"])'; }

for dp in bpf kernel; do
	T="$dp:"
	topo=${P}${dp:0:1}
	conf=$(lab_conf "$topo" "$dp" noforwards)
	echo 0 >"$TABLE"
	check_eq "$T the uplink starts without a flow table" 0 "$(up0_flow_cnt 0)"
	check "$T up with the host's table at 0" "$FWDCTL" -q -n "$HOST" up "$conf"
	check_eq "$T no veth steers flows" "0 0 0 0" "$(flow_cnts "$topo")"
	check_eq "$T status: rfs off, host table 0" "0 0" "$(status_rfs "$topo")"
	check "$T status says why it is off" sh -c "'$FWDCTL' -n '$HOST' status '$topo' | grep -q 'rfs off: the host.s table (net.core.rps_sock_flow_entries) is 0'"

	echo 4096 >"$TABLE"
	check "$T re-up with the host's table at 4096" "$FWDCTL" -q -n "$HOST" up "$conf"
	check_eq "$T every host-side veth steers 256 flows" "256 256 256 256" "$(flow_cnts "$topo")"
	check_eq "$T status: 4 veths, host table 4096" "4 4096" "$(status_rfs "$topo")"
	check "$T status text" sh -c "'$FWDCTL' -n '$HOST' status '$topo' | grep -q 'rfs on: 4 of 4 host-side veths steer up to 256 flows'"
	check_eq "$T status -j rows" "256,256,256,256" "$(status_get "$topo" '",".join(str(n["rps_flow_cnt"]) for n in s["namespaces"])')"
	check_eq "$T the host's table is left as it was" 4096 "$(cat "$TABLE")"
	check_eq "$T without tuning rfs the uplink is left alone" 0 "$(up0_flow_cnt)"

	echo 0 >"$TABLE"
	check "$T re-up with the table back at 0" "$FWDCTL" -q -n "$HOST" up "$conf"
	check_eq "$T the veths' tables are gone again" "0 0 0 0" "$(flow_cnts "$topo")"

	# tuning rfs: the consent to raise the host's table
	echo "tuning rfs" >>"$conf"
	check "$T up with tuning rfs" "$FWDCTL" -q -n "$HOST" up "$conf"
	check_eq "$T tuning rfs raised the host's table to 32768" 32768 "$(cat "$TABLE")"
	check_eq "$T and the veths steer flows" "256 256 256 256" "$(flow_cnts "$topo")"
	check_eq "$T and the uplink's one queue has the table's share" 32768 "$(up0_flow_cnt)"
	check_eq "$T status -j shows the uplink's" 32768 "$(status_get "$topo" 's["rfs"]["uplink_flow_cnt"]')"
	echo 65536 >"$TABLE"
	check "$T re-up with tuning rfs, host table above it" "$FWDCTL" -q -n "$HOST" up "$conf"
	check_eq "$T tuning rfs never lowers the host's table" 65536 "$(cat "$TABLE")"
	check_eq "$T the uplink follows the larger table" 65536 "$(up0_flow_cnt)"
	up0_flow_cnt 131072 >/dev/null
	check "$T re-up with the uplink's table set larger by hand" "$FWDCTL" -q -n "$HOST" up "$conf"
	check_eq "$T tuning rfs never lowers the uplink's" 131072 "$(up0_flow_cnt)"
	check "$T down" "$FWDCTL" -q -n "$HOST" down "$topo"
	check_eq "$T down leaves the host's table (host-wide: others may use it)" 65536 "$(cat "$TABLE")"
	check_eq "$T and the uplink's" 131072 "$(up0_flow_cnt)"
done

# Refused lines: exit 2, file:line, nothing built.
bad=$WORK/bad.conf
{ lab_conf "${P}x" bpf noforwards >/dev/null; cat "$WORK/${P}x.conf"; echo "tuning rps"; } >"$bad"
msg=$("$FWDCTL" -n "$HOST" up "$bad" 2>&1)
check_eq "unknown tuning: exit 2" 2 "$?"
check "unknown tuning: file:line and what there is" grep -q "bad.conf:10: unknown tuning 'rps' (there is: rfs)" <<<"$msg"
check "unknown tuning: nothing built" test ! -e "/run/netns/$P-red"
printf 'tuning rfs\ntuning rfs\n' >>"$WORK/${P}x.conf"
msg=$("$FWDCTL" -n "$HOST" up "$WORK/${P}x.conf" 2>&1)
check_eq "tuning rfs twice: exit 2" 2 "$?"
check "tuning rfs twice: the duplicate's line" grep -q "${P}x.conf:11: duplicate 'tuning rfs' (first at line 10)" <<<"$msg"

check_eq "the machine's own table is untouched" "$machine_was" "$(cat /proc/sys/net/core/rps_sock_flow_entries)"
finish

#!/bin/bash
# ctl/fwd@.service.in, the unit `make install` installs: its commands run as systemd would run
# them for fwd@NAME (no systemd needed), in the sandbox: ExecStartPre brings the topology up,
# ExecStart (watch) runs until SIGTERM and exits 0, a reload converges it to the edited file,
# and ExecStopPost takes it down even after a line was added that no longer parses.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

UNIT=$(dirname "$0")/../../ctl/fwd@.service.in
sandbox_up || { fail "sandbox"; exit 1; }
before=$(snapshot)
name=${P}u
mkdir -p "$WORK/etc-fwd"
lab_conf "$name" bpf >/dev/null
# The file is named after the instance, as /etc/fwd/%i.conf; no topology line: the name is
# the file's.
grep -v '^topology ' "$WORK/$name.conf" >"$WORK/etc-fwd/$name.conf"

# unit_exec KEY: the unit's KEY= command for instance $name, pointed at the sandbox.
unit_exec() {
	sed -n "s/^$1=//p" "$UNIT" |
		sed -e "s|@SBINDIR@/fwdctl|$FWDCTL -n $HOST|" -e "s|/etc/fwd/|$WORK/etc-fwd/|g" \
			-e "s|%i|$name|g"
}
run_unit() { local cmd; cmd=$(unit_exec "$1"); [ -n "$cmd" ] && eval "$cmd"; }
not_any() { ! ls "$@" >/dev/null 2>&1; }

check_eq "the unit has one ExecStartPre, ExecStart, ExecReload and ExecStopPost" "1 1 1 1" \
	"$(for k in ExecStartPre ExecStart ExecReload ExecStopPost; do unit_exec $k | wc -l; done | xargs)"
check "the unit runs only when the file exists" \
	grep -qx 'ConditionPathExists=/etc/fwd/%i.conf' "$UNIT"

check "ExecStartPre: up" run_unit ExecStartPre
check "... red reaches the LAN" pingable "$P-red" $LAN_ADDR
# ExecStart, the main process, as systemd runs it: in the background until SIGTERM.
read -ra main_cmd <<<"$(unit_exec ExecStart)"
setsid "${main_cmd[@]}" >"$WORK/watch.log" 2>&1 &
main=$!
SANDBOX_PIDS+=("$main")
check "ExecStart: watch runs" wait_for 5000 grep -q "watching the uplink addresses of 1 topology" "$WORK/watch.log"
echo "namespace $P-pink 192.168.15.6" >>"$WORK/etc-fwd/$name.conf"
check "ExecReload: up of the edited file" run_unit ExecReload
check "... the added namespace reaches red" pingable "$P-pink" 192.168.15.1
kill -TERM "$main"
sandbox_wait "$main"
check_eq "stop: SIGTERM ends watch, exit 0" 0 $?
echo "bridge this line does not parse" >>"$WORK/etc-fwd/$name.conf"
out=$(run_unit ExecStopPost 2>&1)
check_eq "ExecStopPost: down of a file that no longer parses exits 0" 0 $?
check "... warning that it goes by the name the file gives" grep -q "does not parse" <<<"$out"
check_eq "... and leaves the sandbox as it was" "$before" "$(snapshot)"
check "... nothing of it in /run/fwd" not_any /run/fwd/"$name".*
finish

#!/bin/bash
# Life-cycle races, in each datapath: rounds of two `up` of one file at once, `up` and `down`
# at once, and an `up` killed with SIGKILL at a random instant, each followed by `up` and `down`
# exiting 0 and leaving nothing behind; meanwhile `up` of a second topology, which keeps
# working. Also: `up` over a namespace's file left without its namespace (an `up` killed
# between the two), `down` of a topology that was never up leaves no lock file, and two downs of
# the same two topologies named in opposite orders, at once, both end.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS=${FWD_TEST_RACE_ROUNDS:-20}
sandbox_up || { fail "sandbox"; exit 1; }
before=$(snapshot)

# race_conf NAME DATAPATH OCTET: two namespaces, masqueraded, one forward.
race_conf() {
	cat >"$WORK/$1.conf" <<CONF
topology $1
datapath $2
bridge ${1:0:10}br 192.168.$3.5/24
uplink up0
masquerade 192.168.$3.0/24
namespace $P-$1-a 192.168.$3.1
namespace $P-$1-b 192.168.$3.2
forward tcp $((3 + $3))00 $P-$1-b:80
CONF
	echo "$WORK/$1.conf"
}

# nothing_left TOPO: no journal, lock, saved file, pins or namespace of TOPO.
nothing_left() {
	! ls /run/fwd/"$1".* >/dev/null 2>&1 && [ ! -e "/sys/fs/bpf/fwd/$1" ] &&
		! ip netns list | grep -q "^$P-$1-"
}

# both_ok CMD1 -- CMD2: run both at once; true when both exit 0.
both_ok() {
	local a b pid
	"$FWDCTL" -q -n "$HOST" "$1" "$2" 2>"$WORK/err1" &
	pid=$!
	"$FWDCTL" -q -n "$HOST" "$3" "$4" 2>"$WORK/err2"
	b=$?
	wait $pid
	a=$?
	[ $a = 0 ] && [ $b = 0 ] && return 0
	echo "exits $a and $b: $(cat "$WORK/err1" "$WORK/err2")" >&2
	return 1
}

never=${P}never
check "down of a topology that was never up exits 0" "$FWDCTL" -q -n "$HOST" down "$never"
check "... and leaves no lock file" nothing_left "$never"

for dp in ${DATAPATHS:-kernel bpf}; do
	T="$dp:"
	t=${P}${dp:0:1}
	o=${P}o
	conf=$(race_conf "$t" "$dp" 15)
	other=$(race_conf "$o" "$dp" 16)
	check "$T up of the other topology" "$FWDCTL" -q -n "$HOST" up "$other"
	bad_upup=0 bad_updown=0 bad_kill=0 bad_after=0 bad_left=0 bad_other=0
	for round in $(seq "$ROUNDS"); do
		# Two ups of one file at once; meanwhile the other topology is brought up again.
		"$FWDCTL" -q -n "$HOST" up "$other" 2>/dev/null &
		opid=$!
		both_ok up "$conf" up "$conf" || bad_upup=$((bad_upup + 1))
		wait $opid || bad_other=$((bad_other + 1))
		# up and down at once, from up: whichever wins, both exit 0.
		both_ok up "$conf" down "$t" || bad_updown=$((bad_updown + 1))
		# down and then, at once, up and down again from down.
		"$FWDCTL" -q -n "$HOST" down "$t" || bad_after=$((bad_after + 1))
		both_ok up "$conf" down "$t" || bad_updown=$((bad_updown + 1))
		# An up killed at a random instant of its first 400 ms.
		"$FWDCTL" -q -n "$HOST" down "$t" || bad_after=$((bad_after + 1))
		"$FWDCTL" -q -n "$HOST" up "$conf" 2>/dev/null &
		kpid=$!
		sleep "0.$(printf %03d $((RANDOM % 400)))"
		kill -9 $kpid 2>/dev/null
		wait $kpid 2>/dev/null
		if ! "$FWDCTL" -q -n "$HOST" up "$conf" 2>"$WORK/err"; then
			bad_kill=$((bad_kill + 1))
			echo "round $round: up after kill -9: $(cat "$WORK/err")" >&2
		fi
		"$FWDCTL" -q -n "$HOST" down "$t" 2>"$WORK/err" || {
			bad_after=$((bad_after + 1))
			echo "round $round: down: $(cat "$WORK/err")" >&2
		}
		nothing_left "$t" || bad_left=$((bad_left + 1))
		pingable "$P-$o-a" 192.168.16.2 || bad_other=$((bad_other + 1))
	done
	check_eq "$T $ROUNDS rounds: two ups of one file at once, both exit 0" 0 $bad_upup
	check_eq "$T $ROUNDS rounds: up and down at once, both exit 0" 0 $bad_updown
	check_eq "$T $ROUNDS rounds: up after an up killed at a random instant exits 0" 0 $bad_kill
	check_eq "$T $ROUNDS rounds: every down after them exits 0" 0 $bad_after
	check_eq "$T $ROUNDS rounds: nothing left behind (journal, lock, pins, namespaces)" 0 $bad_left
	check_eq "$T $ROUNDS rounds: the other topology, brought up meanwhile, kept working" 0 $bad_other
	# What an up killed between a namespace's file and its mount leaves: an empty file in
	# /run/netns. The next up makes the namespace again (it used to open the file and fail to
	# put a veth's end there, "Invalid argument": 1 round in 20 of the kill above, once).
	touch "/run/netns/$P-$t-a"
	check "$T up over a namespace's file left without its namespace" \
		"$FWDCTL" -q -n "$HOST" up "$conf"
	check "$T ... that namespace works" pingable "$P-$t-a" 192.168.15.2
	# Two downs of both topologies, named in opposite orders, at once: a down keeps every
	# journal it took locked to its end, so without one order of taking them each would wait
	# for the other. While a third process holds the other's lock, both downs queue for it;
	# without that order, the one that gets it next waited forever for the first's (1 in 2).
	check "$T up again" "$FWDCTL" -q -n "$HOST" up "$conf"
	flock "/run/fwd/$o.lock" sleep 1 &
	hpid=$!
	sleep 0.2
	timeout 60 "$FWDCTL" -q -n "$HOST" down "$t" "$o" 2>"$WORK/err1" &
	dpid=$!
	timeout 60 "$FWDCTL" -q -n "$HOST" down "$o" "$t" 2>"$WORK/err2"
	check_eq "$T two downs of both, in opposite orders, at once: the second exits 0" 0 $?
	wait $dpid
	check_eq "$T ... and the first" 0 $?
	wait $hpid
	check "$T ... both topologies are gone" sh -c "! ls /run/fwd/$t.journal /run/fwd/$o.journal 2>/dev/null | grep -q ."
	check_eq "$T the sandbox is as it was" "$before" "$(snapshot)"
done
finish

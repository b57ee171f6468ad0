#!/bin/bash
# Malformed topologies: each is refused with FILE:LINE: and exit 2, and nothing changes.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

sandbox_up || { fail "sandbox"; exit 1; }
before=$(snapshot)
good="topology ${P}r
bridge vnet0 192.168.15.5/24
uplink up0
masquerade 192.168.15.0/24
namespace $P-red 192.168.15.1
namespace $P-blue 192.168.15.2
forward tcp 80 $P-blue:80"

# Each case: the good file with one line appended or replaced, and the error's line number.
n=0
refused() {
	local line=$1 text=$2
	n=$((n + 1))
	printf '%s\n' "$text" >"$WORK/bad$n.conf"
	err=$("$FWDCTL" -n "$HOST" up "$WORK/bad$n.conf" 2>&1 >/dev/null)
	rc=$?
	if [ $rc = 2 ] && grep -q "^$WORK/bad$n.conf:$line: " <<<"$err"; then
		pass "refused ($line): $(head -1 <<<"$err" | sed 's/^[^ ]* //')"
	else
		fail "bad$n.conf: expected exit 2 and a message at line $line, got $rc: $err"
	fi
}
refused 8 "$good
bogus keyword"
refused 8 "$good
namespace $P-red 192.168.15.9"
refused 8 "$good
namespace $P-x 192.168.15.1"
refused 8 "$good
namespace $P-x 192.168.16.1"
refused 8 "$good
namespace $P-x 192.168.15.5"
refused 8 "$good
namespace $P-x 192.168.15.255"
refused 8 "$good
forward tcp 80 $P-red:80"
refused 8 "$good
forward tcp 70-90 $P-red"
refused 8 "$good
forward udp 53 nobody"
refused 8 "$good
forward icmp 1 $P-red"
refused 8 "$good
forward tcp 70000 $P-red"
refused 8 "$good
bridge vnet1 10.0.0.1/24"
refused 8 "$good
uplink up1"
refused 8 "$good
masquerade 10.0.0.0/8"
refused 8 "$good
masquerade 192.168.15.1/24"
refused 8 "$good
datapath fast"
refused 1 "topology THIS-is-Too-Long
$(tail -n +2 <<<"$good")"
refused 8 "$good
namespace $P-x 192.168.15.3/24"
refused 8 "$good
namespace $P-x"
refused 8 "$good
namespace a/b 192.168.15.3"
refused 8 "$good
bridge"
refused 8 "$good
namespace $(printf 'n%.0s' $(seq 70)) 192.168.15.3"
# shellcheck disable=SC2001 # sed edits line by line: a CR at the end of each
refused 1 "$(sed 's/$/\r/' <<<"$good")"
printf '%s\nnamespace x\0y 192.168.15.3\n' "$good" >"$WORK/nul.conf"
err=$("$FWDCTL" -n "$HOST" up "$WORK/nul.conf" 2>&1 >/dev/null); rc=$?
check "refused: NUL byte at line 8" test $rc = 2 -a -n "$(grep "nul.conf:8: NUL" <<<"$err")"
refused 8 "$good
$(printf 'x%.0s' $(seq 1100))"
# IPv6 is checked: a bad address is refused at its line (test_ipv6.sh builds the rest).
refused 8 "$good
namespace $P-x 192.168.15.3 FD00:15::3"
# shellcheck disable=SC2001 # sed edits line by line: the line that ends in .1
refused 5 "$(sed 's/192.168.15.1$/192.168.15.01/' <<<"$good")"

check_eq "nothing changed after $n refused files" "$before" "$(snapshot)"
check "no journal was written" sh -c "! ls /run/fwd/${P}r.* 2>/dev/null | grep -q ."

# The command line is checked too: usage errors are exit 2.
"$FWDCTL" frobnicate >/dev/null 2>&1; check_eq "unknown command: exit 2" 2 $?
"$FWDCTL" up >/dev/null 2>&1; check_eq "up without FILE: exit 2" 2 $?
"$FWDCTL" up a b >/dev/null 2>&1; check_eq "up with two files: exit 2" 2 $?
"$FWDCTL" down >/dev/null 2>&1; check_eq "down without FILE|NAME: exit 2" 2 $?
"$FWDCTL" down "${P}q" 'Bad!' >/dev/null 2>&1; check_eq "down with one bad name among good ones: exit 2" 2 $?
"$FWDCTL" -x status >/dev/null 2>&1; check_eq "unknown option: exit 2" 2 $?
"$FWDCTL" -n "$P-nonexistent" status >/dev/null 2>&1; check_eq "-n of a missing namespace: exit 1" 1 $?
"$FWDCTL" check "$WORK/missing.conf" >/dev/null 2>&1; check_eq "check of a missing file: exit 2" 2 $?
check "--help prints the manual" sh -c "'$FWDCTL' --help | grep -q 'EXIT STATUS'"
check "up --help prints the manual, changes nothing" sh -c "'$FWDCTL' up --help | grep -q 'EXIT STATUS'"
"$FWDCTL" stats -j >/dev/null 2>&1; check_eq "an option after the command: exit 2" 2 $?

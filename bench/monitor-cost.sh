#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What fwdctl monitor costs the datapath under a flood of dropped frames: udp_blast sends
# 18-byte datagrams from the LAN namespace at a namespace's address, which the uplink's program
# drops (drop_not_forwarded), as fast as one sending CPU can. The rate is the drop counter's
# (fwdctl stats) over a window of DURATION seconds, with no monitor and with
# `fwdctl monitor --drops --rate RATE` reading the events, in paired rounds (off then on, then
# on then off, ...): the ratio of each pair is measured minutes apart at most, and the table
# gives the medians. The per-frame cost is 1/rate; the monitor's share is the difference.
# Everything lives in throwaway namespaces fwdB-mc-*, removed on exit.
#
# usage: bench/monitor-cost.sh [BUILD_DIR]
#   env: ROUNDS=5 (pairs) DURATION=4 RATE=1000 SEND_CPU=0 (taskset -c; "" for any)
set -eu

BUILD=${1:-build}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-4}
RATE=${RATE:-1000}
SEND_CPU=${SEND_CPU-0}
FWDCTL=$(cd "$BUILD" && pwd)/fwdctl
BLAST=$(cd "$BUILD" && pwd)/bench/udp_blast
P=fwdB-mc
HOST=$P-host
LAN=$P-lan
T=fwdbmc
WORK=$(mktemp -d /tmp/fwd-monitor-cost.XXXXXX)

die() { echo "monitor-cost: $*" >&2; exit 1; }
[ -x "$FWDCTL" ] || die "$FWDCTL is not built (make)"
[ -x "$BLAST" ] || die "$BLAST is not built (make bench-tools)"

# shellcheck source=../tests/lib/sandbox.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tests/lib/sandbox.sh"

cleanup() {
	set +e
	sandbox_stop_all KILL
	[ -e "/run/netns/$HOST" ] && "$FWDCTL" -q -n "$HOST" down "$T"
	sandbox_cleanup "^$P-"
	rm -rf "$WORK"
	return 0
}
trap cleanup EXIT
trap 'exit 1' INT TERM

sandbox_pair "$HOST" up0 10.201.0.1/24 "$LAN" eth0 10.201.0.2/24 || die "sandbox"
cat >"$WORK/t.conf" <<CONF
topology $T
datapath bpf
bridge vnet0 192.168.15.5/24
uplink up0
masquerade 192.168.15.0/24
namespace $P-red 192.168.15.1
CONF
"$FWDCTL" -q -n "$HOST" up "$WORK/t.conf" || die "fwdctl up"
sandbox_track "$P-red"
ip -n "$LAN" route add 192.168.15.0/24 via 10.201.0.1

dropped() {
	"$FWDCTL" -j -n "$HOST" stats "$T" | python3 -c '
import json, sys
print(next(c["packets"] for c in json.load(sys.stdin)["counters"] if c["name"] == "drop_not_forwarded"))'
}
now_ns() { date +%s%N; }

# round on|off: the drop rate (frames a second) over DURATION s of a flood; with "on", the
# monitor's summary goes to $WORK/summary.
round() {
	local mode=$1 mpid='' gpid t0 t1 d0 d1 pin=()
	[ -z "$SEND_CPU" ] || pin=(taskset -c "$SEND_CPU")
	if [ "$mode" = on ]; then
		setsid "$FWDCTL" -v -j -n "$HOST" monitor --drops --rate "$RATE" "$T" \
			>"$WORK/mon.json" 2>"$WORK/mon.err" &
		mpid=$!
		SANDBOX_PIDS+=("$mpid")
		wait_for 5000 grep -q "at most" "$WORK/mon.err" || die "monitor: $(cat "$WORK/mon.err")"
	fi
	sandbox_spawn "$LAN" "$WORK/blast.log" "${pin[@]}" "$BLAST" -a 192.168.15.1 -p 9 -t $((DURATION + 3))
	gpid=$SANDBOX_LAST
	sleep 1 # the flood's ramp (socket buffers, caches) stays out of the window
	t0=$(now_ns) d0=$(dropped)
	sleep "$DURATION"
	t1=$(now_ns) d1=$(dropped)
	sandbox_stop "$gpid" TERM
	if [ -n "$mpid" ]; then
		kill -INT "$mpid"
		sandbox_wait "$mpid" || die "monitor failed: $(cat "$WORK/mon.err")"
		tail -n 1 "$WORK/mon.json" >"$WORK/summary"
	fi
	awk -v d=$((d1 - d0)) -v t=$((t1 - t0)) 'BEGIN { printf "%.0f\n", d / (t / 1e9) }'
}

echo "monitor-cost: $ROUNDS paired rounds of ${DURATION} s, rate cap $RATE events/s, sender on CPU ${SEND_CPU:-any}" >&2
: >"$WORK/rows"
for i in $(seq 1 "$ROUNDS"); do
	if [ $((i % 2)) = 1 ]; then off=$(round off); on=$(round on); else on=$(round on); off=$(round off); fi
	read -r shown skipped lost < <(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
print(s["shown"], s["skipped"], s["lost"])' "$WORK/summary")
	echo "$off $on $shown $skipped $lost" >>"$WORK/rows"
	echo "  round $i: off $off/s, on $on/s (ratio $(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.3f", a / b }')), events shown $shown, skipped $skipped, lost $lost" >&2
done

python3 - "$WORK/rows" "$RATE" "$DURATION" <<'PY'
import os, statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
rate, duration = int(sys.argv[2]), float(sys.argv[3])
off = statistics.median(r[0] for r in rows)
on = statistics.median(r[1] for r in rows)
ratio = statistics.median(r[1] / r[0] for r in rows)
print(f"monitor cost: a flood of dropped frames (drop_not_forwarded), medians of {len(rows)} paired rounds")
print(f"  {'monitor':<24} {'drops/s':>12} {'ns/frame':>10}")
print(f"  {'off':<24} {off:12.0f} {1e9 / off:10.1f}")
print(f"  {'on (--drops --rate %d)' % rate:<24} {on:12.0f} {1e9 / on:10.1f}")
print(f"  on/off ratio (median of pairs): {ratio:.3f}; the monitor's cost: {1e9 / on - 1e9 / off:.1f} ns a dropped frame")
print(f"  events per round (median): shown {statistics.median(r[2] for r in rows):.0f}, "
      f"skipped {statistics.median(r[3] for r in rows):.0f}, lost {statistics.median(r[4] for r in rows):.0f}"
      f" (the cap: {rate}/s over all CPUs, {-(-rate // os.cpu_count())}/s each; the flood's frames"
      f" are dropped on the sending CPU, over the round's {duration:.0f} s and more)")
PY

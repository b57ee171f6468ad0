#!/bin/bash
# make demo: the tutorial's lab (shared/seeds/004) built by fwdctl inside a sandbox, every path
# exercised, a table of what the far end saw, then everything torn down.
#
#   lan ns "fwdemo-lan" 10.77.0.2 ---- 10.77.0.1 up0 [host ns "fwdemo-host"] vnet0 192.168.15.5/24
#                                                      |-- fwdemo-red    192.168.15.1
#                                                      |-- fwdemo-blue   192.168.15.2  (tcp 80)
#                                                      |-- fwdemo-green  192.168.15.3  (udp 53)
#                                                      '-- fwdemo-yellow 192.168.15.4  (tcp 8000-8009)
set -u
FWDCTL=${1:-build/fwdctl}
FWDCTL=$(cd "$(dirname "$FWDCTL")" && pwd)/$(basename "$FWDCTL")
P=fwdemo
# shellcheck source=e2e/lib.sh
. "$(dirname "$0")/e2e/lib.sh"
trap 'sandbox_down' EXIT

start=$(date +%s%3N)
sandbox_down 2>/dev/null   # a previous demo killed half-way
WORK=$(mktemp -d /tmp/fwd-demo.XXXXXX)
sandbox_up || { echo "demo: cannot build the sandbox" >&2; exit 1; }

row() { printf '  %-34s %-5s %-6s %s\n' "$@"; [ "$3" = FAILED ] && failures=$((failures + 1)); return 0; }
result() { if [ -n "$1" ]; then echo ok; else echo FAILED; fi; }
failures=0

for dp in bpf kernel; do
	conf=$WORK/lab-$dp.conf
	cat >"$conf" <<CONF
# The tutorial's lab, as fwd builds it (namespace names prefixed: this is a sandbox).
topology fwdemo-${dp:0:4}
datapath $dp
bridge     vnet0 192.168.15.5/24
uplink     up0
masquerade 192.168.15.0/24
namespace fwdemo-red    192.168.15.1
namespace fwdemo-blue   192.168.15.2
namespace fwdemo-green  192.168.15.3
namespace fwdemo-yellow 192.168.15.4
forward tcp 80        fwdemo-blue:80
forward udp 5353      fwdemo-green:53
forward tcp 8000-8009 fwdemo-yellow
CONF
	echo
	echo "datapath $dp: fwdctl -n $HOST up $(basename "$conf")"
	"$FWDCTL" -n "$HOST" up "$conf" || { echo "demo: up failed" >&2; exit 1; }
	peer_server "$P-blue" tcp 80
	peer_server "$P-green" udp 53
	peer_server "$P-yellow" tcp 8005
	peer_server "$LAN" tcp 7002
	peer_server "$LAN" udp 7003
	row PATH TEST RESULT "SOURCE SEEN BY THE FAR END"
	p=$(pingable "$P-red" 192.168.15.2 && echo y); row "red -> blue" ping "$(result "$p")" ""
	s=$(ask "$P-red" tcp 192.168.15.2 80); row "red -> blue:80" tcp "$(result "$s")" "$s (red)"
	p=$(pingable "$HOST" 192.168.15.1 && echo y); row "host -> red" ping "$(result "$p")" ""
	p=$(pingable "$P-blue" "$LAN_ADDR" && echo y); row "blue -> LAN" ping "$(result "$p")" ""
	s=$(ask "$P-red" tcp "$LAN_ADDR" 7002); row "red -> LAN (masquerade)" tcp "$(result "$s")" "$s (the uplink's address)"
	s=$(ask "$P-yellow" udp "$LAN_ADDR" 7003); row "yellow -> LAN (masquerade)" udp "$(result "$s")" "$s (the uplink's address)"
	s=$(ask "$LAN" tcp "$UPLINK_ADDR" 80); row "LAN -> uplink:80 -> blue:80" tcp "$(result "$s")" "$s (the LAN peer)"
	s=$(ask "$LAN" udp "$UPLINK_ADDR" 5353); row "LAN -> uplink:5353 -> green:53" udp "$(result "$s")" "$s (the LAN peer)"
	s=$(ask "$LAN" tcp "$UPLINK_ADDR" 8005); row "LAN -> uplink:8005 -> yellow:8005" tcp "$(result "$s")" "$s (the LAN peer)"
	s=$(ask "$P-red" tcp "$UPLINK_ADDR" 80); row "red -> uplink:80 -> blue (hairpin)" tcp "$(result "$s")" "$s"
	s=$(ask "$HOST" tcp "$UPLINK_ADDR" 80); row "host -> uplink:80 -> blue" tcp "$(result "$s")" "$s"
	if [ $dp = bpf ]; then
		echo "  fwdctl stats:"
		"$FWDCTL" -n "$HOST" stats fwdemo-${dp:0:4} | sed 's/^/    /'
	fi
	stop_servers
	"$FWDCTL" -n "$HOST" down fwdemo-${dp:0:4} || exit 1
done
echo
echo "demo finished in $(($(date +%s%3N) - start)) ms with $failures failed path(s); removing the sandbox"
[ "$failures" = 0 ]

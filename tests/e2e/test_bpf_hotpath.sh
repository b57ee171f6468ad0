#!/bin/bash
# datapath bpf carries namespace<->namespace traffic itself: with bridge-nf-call-iptables=1 a
# counting rule in the host's FORWARD chain sees every bridged packet, so it must see (almost)
# none of a 20 MB transfer, while fwd's own counters show the transfer. The same transfer with
# datapath kernel is the control: there netfilter sees all of it, so the rule really counts.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

sandbox_up || { fail "sandbox"; exit 1; }
in_ns "$HOST" sysctl -qw net.bridge.bridge-nf-call-iptables=1 ||
	{ fail "cannot enable bridge-nf-call-iptables in the sandbox"; exit 1; }

bytes=$((20 * 1024 * 1024))

# netfilter_count: packets between red and blue that the host's FORWARD chain saw.
netfilter_count() {
	in_ns "$HOST" iptables -nvxL FORWARD | awk '$NF == "/*fwdtest*/" || /fwdtest/ {n += $1} END {print n + 0}'
}

in_ns "$HOST" iptables -I FORWARD -s 192.168.15.1 -d 192.168.15.2 -m comment --comment fwdtest
in_ns "$HOST" iptables -I FORWARD -s 192.168.15.2 -d 192.168.15.1 -m comment --comment fwdtest

for dp in kernel bpf; do
	topo=${P}${dp:0:1}
	conf=$(lab_conf "$topo" "$dp")
	"$FWDCTL" -q -n "$HOST" up "$conf" || { fail "$dp: up"; continue; }
	in_ns "$HOST" iptables -Z FORWARD
	pingable "$P-red" 192.168.15.2   # ARP both ways first: it rightly takes the bridge
	in_ns "$HOST" iptables -Z FORWARD
	check_eq "$dp: 20 MB arrive at blue" $bytes "$(tcp_push "$P-red" "$P-blue" 192.168.15.2 7500 $bytes)"
	seen=$(netfilter_count)
	if [ $dp = kernel ]; then
		check "kernel (control): netfilter saw the transfer ($seen packets)" test "$seen" -gt 100
	else
		check "bpf: netfilter saw at most 10 packets of it ($seen)" test "$seen" -le 10
		redirected=$("$FWDCTL" -j -n "$HOST" stats "$topo" | python3 -c '
import json, sys
d = json.load(sys.stdin)
c = d["counters"] if "counters" in d else d
for k, v in (c.items() if isinstance(c, dict) else [(x["name"], x) for x in c]):
    if k == "redirect_peer":
        print(v["packets"] if isinstance(v, dict) else v)')
		check "bpf: fwd's redirect_peer counter shows the transfer (${redirected:-none})" \
			test "${redirected:-0}" -gt 100
	fi
	"$FWDCTL" -q -n "$HOST" down "$topo"
done

#!/bin/bash
# fwdctl stats per namespace and per forward (datapath bpf):
#   - a connection from the LAN through "forward tcp 80 blue:80" counts its frames under that
#     forward (in: to blue, out: blue's answers) and under blue (received, sent), as many each
#     way as blue's own socket counters say it got and sent;
#   - red's masqueraded connection counts under red (sent, received), not under the forward;
#   - a datagram red sends with a forged source is dropped and counted under red, by reason
#     (drop_spoof_ipv4), and under no other namespace;
#   - --prometheus says the same (prometheus_client's parser);
#   - `up` of the file with a namespace added numbers the namespaces anew: counters from 0.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

sandbox_up || { fail "sandbox"; exit 1; }
T=$P
conf=$(lab_conf "$T" bpf)
"$FWDCTL" -q -n "$HOST" up "$conf" || { fail "up"; exit 1; }
named_server "$P-blue" 80 blue
peer_server "$LAN" tcp 7000

# stat PYTHON-EXPRESSION: evaluated over the -j stats document d, with ns(NAME) and fw(TEXT)
# the rows of a namespace and a forward.
stat() {
	"$FWDCTL" -j -n "$HOST" stats "$T" | python3 -c '
import json, sys
d = json.load(sys.stdin)
def ns(name): return next(r for r in d["namespaces"] if r["namespace"] == name)
def fw(text): return next(r for r in d["forwards"] if r["forward"] == text)
def drop(name, reason): return sum(x["packets"] for x in ns(name)["drops"] if x["reason"] == reason)
print(eval(sys.argv[1]))' "$1"
}
# segs NS: "in out" TCP segments of NS's sockets so far (nstat's absolute counters).
segs() { in_ns "$1" nstat -az TcpInSegs TcpOutSegs | awk '/TcpInSegs/ { i = $2 } /TcpOutSegs/ { o = $2 } END { print i, o }'; }

check_eq "a fresh topology: every namespace and forward at 0" 0 \
	"$(stat 'sum(r["sent_packets"] + r["received_packets"] + r["dropped_packets"] for r in d["namespaces"]) + sum(r["in_packets"] + r["out_packets"] for r in d["forwards"])')"
check_eq "every namespace and forward has a row" "4 4" \
	"$(stat 'str(len(d["namespaces"])) + " " + str(len(d["forwards"]))')"

# agree NS IN0 EXPR_IN [OUT0 EXPR_OUT]: do NS's socket counters, less IN0 (and OUT0), equal
# what fwd counted (EXPR_IN, EXPR_OUT)? Polled: the last segments of a closing connection may
# still be on their way when the client returns.
agree() {
	local in out
	read -r in out < <(segs "$1")
	[ "$(stat "$3")" = $((in - $2)) ] || return 1
	[ $# -lt 5 ] || [ "$(stat "$5")" = $((out - $4)) ]
}
FW="fw(\"tcp 80 $P-blue:80\")"
read -r blue_in0 blue_out0 < <(segs "$P-blue")
check_eq "the forward answers" "blue $LAN_ADDR" "$(ask "$LAN" tcp $UPLINK_ADDR 80)"
check "forward tcp 80: in and out = the segments blue received and sent" \
	wait_for 5000 agree "$P-blue" "$blue_in0" "${FW}[\"in_packets\"]" "$blue_out0" "${FW}[\"out_packets\"]"
check "blue: received the same, through fwd" \
	agree "$P-blue" "$blue_in0" "ns(\"$P-blue\")[\"received_packets\"]"
read -r _ blue_out < <(segs "$P-blue")
check "blue: sent at least its segments ($((blue_out - blue_out0)); its ARP too)" \
	test "$(stat "ns(\"$P-blue\")[\"sent_packets\"]")" -ge $((blue_out - blue_out0))
check_eq "forward tcp 80: bytes counted both ways" True \
	"$(stat "${FW}[\"in_bytes\"] > 0 and ${FW}[\"out_bytes\"] > 0")"
blue_fwd=$(stat "${FW}[\"in_packets\"]")

read -r red_in0 red_out0 < <(segs "$P-red")
check_eq "red reaches the LAN, masqueraded" "$UPLINK_ADDR" "$(ask "$P-red" tcp $LAN_ADDR 7000)"
check "red: received its segments" wait_for 5000 agree "$P-red" "$red_in0" \
	"ns(\"$P-red\")[\"received_packets\"]"
read -r _ red_out < <(segs "$P-red")
check "red: sent at least its segments ($((red_out - red_out0)); ARP too)" \
	test "$(stat "ns(\"$P-red\")[\"sent_packets\"]")" -ge $((red_out - red_out0))
check_eq "the forwards counted nothing of red's" "$blue_fwd" \
	"$(stat 'sum(r["in_packets"] for r in d["forwards"])')"

forged_udp "$P-red" 192.168.15.99 "$LAN_ADDR"
wait_for 3000 test "$(stat 'drop("'"$P"'-red", "drop_spoof_ipv4")')" = 1
check_eq "red's forged datagram: dropped, counted under red by reason" 1 \
	"$(stat 'drop("'"$P"'-red", "drop_spoof_ipv4")')"
check_eq "... and in red's dropped total" 1 "$(stat 'ns("'"$P"'-red")["dropped_packets"]')"
check_eq "... and under no other namespace" 0 \
	"$(stat 'sum(r["dropped_packets"] for r in d["namespaces"] if r["namespace"] != "'"$P"'-red")')"
check "the text form lists it" grep -q "^  $P-red: drop_spoof_ipv4 1$" \
	<<<"$("$FWDCTL" -n "$HOST" stats "$T")"

check_eq "stats --prometheus says the same (prometheus_client)" ok "$(/usr/bin/python3 -c '
import json, sys
from prometheus_client.parser import text_string_to_metric_families
d = json.loads(sys.argv[1])
fams = {f.name: f for f in text_string_to_metric_families(sys.argv[2])}
def val(fam, **labels):
    return [s.value for s in fams[fam].samples
            if s.name == fam + "_total" and all(s.labels.get(k) == v for k, v in labels.items())]
for r in d["namespaces"]:
    assert val("fwd_namespace_frames", namespace=r["namespace"], direction="sent") == [r["sent_packets"]], r
    assert val("fwd_namespace_bytes", namespace=r["namespace"], direction="received") == [r["received_bytes"]], r
    for x in r["drops"]:
        assert val("fwd_namespace_dropped_frames", namespace=r["namespace"], reason=x["reason"]) == [x["packets"]], x
for r in d["forwards"]:
    assert val("fwd_forward_frames", forward=r["forward"], line=str(r["line"]), direction="in") == [r["in_packets"]], r
    assert val("fwd_forward_bytes", forward=r["forward"], direction="out") == [r["out_bytes"]], r
print("ok")' "$("$FWDCTL" -j -n "$HOST" stats "$T")" "$("$FWDCTL" -n "$HOST" stats --prometheus "$T")")"

{ cat "$conf"; echo "namespace $P-pink 192.168.15.6"; } >"$WORK/more.conf"
check "up with a namespace added" "$FWDCTL" -q -n "$HOST" up "$WORK/more.conf"
check_eq "up numbered the namespaces anew: every counter from 0, pink has a row" "0 5" \
	"$(stat 'str(sum(r["sent_packets"] + r["received_packets"] + r["dropped_packets"] for r in d["namespaces"]) + sum(r["in_packets"] for r in d["forwards"])) + " " + str(len(d["namespaces"]))')"

check "down" "$FWDCTL" -q -n "$HOST" down "$T"

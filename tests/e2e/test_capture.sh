#!/bin/bash
# fwdctl capture: copies of the frames the BPF datapath handles, before and after translation.
#   - `capture port 80 -w FILE` of a connection from the LAN to a forward (uplink:80 -> blue:80):
#     tshark reads the pcap (LINUX_SLL2) back, and the SYN is there twice: arriving on up0
#     (packet type "to us") addressed to the uplink, and leaving, translated, to blue's address
#     by blue's host-side veth (packet type "outgoing"); the SYN-ACK likewise the other way;
#   - `-j capture namespace red` of a masqueraded connection: red's SYN as it arrives, from
#     red's address, and as it leaves by the uplink via snat, from the uplink's address; the
#     LAN's answer as it arrives (to the uplink) and delivered into red (via snat_reply);
#   - `forward 80` copies that forward's frames (to its port, from blue's) and nothing of red's;
#   - --where in copies arriving frames only; a filter that matches nothing copies nothing;
#   - one capture per topology at a time; the copies are off once it stopped; bad options are
#     usage errors (exit 2); a datapath kernel topology is refused (exit 1).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

sandbox_up || { fail "sandbox"; exit 1; }
T=$P
conf=$(lab_conf "$T" bpf)
"$FWDCTL" -q -n "$HOST" up "$conf" || { fail "up"; exit 1; }
named_server "$P-blue" 80 blue
peer_server "$LAN" tcp 7000
ifindex_of() { ip -n "$HOST" -o link show "$1" | cut -d: -f1; }
veth_of() { # the host-side veth of namespace $1, by its alias fwd:TOPOLOGY:NAMESPACE
	ip -n "$HOST" -o link show | awk -v a="fwd:$T:$1" '$0 ~ "alias " a "$" || $0 ~ "alias " a " " { sub(":$", "", $2); sub("@.*", "", $2); print $2 }'
}
UP0=$(ifindex_of up0)
BLUE_VETH=$(ifindex_of "$(veth_of "$P-blue")")
RED_VETH=$(ifindex_of "$(veth_of "$P-red")")
check "blue's and red's veths are known" test -n "$BLUE_VETH" -a -n "$RED_VETH"

# capture_start OUT ARGS...: fwdctl capture T ARGS in the background (-j when JSON=(-j)), until
# the copies are on; capture_stop: SIGINT, its exit status.
capture_start() {
	local out=$1
	shift
	fwdctl_bg "$out" "up to" "${JSON[@]}" capture "$T" "$@"
}
capture_stop() { fwdctl_bg_stop; }
# tshark_rows FILE: one line per frame: SLL2 interface index, packet type, source, destination,
# TCP flags.
tshark_rows() {
	tshark -r "$1" -T fields -E separator=' ' -e sll.ifindex -e sll.pkttype -e ip.src -e ip.dst \
		-e tcp.flags.str 2>/dev/null
}

# --- a forward, into a pcap file ---------------------------------------------------------------
JSON=()
pcap=$WORK/fwd.pcap
check "capture -w starts" capture_start "$WORK/fwd.out" port 80 -w "$pcap"
check_eq "the forward answers" "blue $LAN_ADDR" "$(ask "$LAN" tcp $UPLINK_ADDR 80)"
check_eq "a connection elsewhere (port 7000) is no match" "$UPLINK_ADDR" "$(ask "$P-red" tcp $LAN_ADDR 7000)"
capture_stop
check_eq "the capture stops on SIGINT with status 0" 0 $?
rows=$(tshark_rows "$pcap")
printf "    %s\n" "$rows"
syn="··········S·"
synack="·······A··S·"
check "tshark: the SYN as it arrived on up0, to the uplink's address" \
	grep -qx "$UP0 0 $LAN_ADDR $UPLINK_ADDR $syn" <<<"$rows"
check "tshark: the SYN as it left for blue, translated to blue's address" \
	grep -qx "$BLUE_VETH 4 $LAN_ADDR 192.168.15.2 $syn" <<<"$rows"
check "tshark: the SYN-ACK as it arrived from blue" \
	grep -qx "$BLUE_VETH 0 192.168.15.2 $LAN_ADDR $synack" <<<"$rows"
check "tshark: the SYN-ACK as it left by up0, from the uplink's address" \
	grep -qx "$UP0 4 $UPLINK_ADDR $LAN_ADDR $synack" <<<"$rows"
check_eq "nothing of port 7000 was copied" 0 "$(grep -c "192.168.15.1\|$LAN_ADDR 7000" <<<"$rows")"
check_eq "stopped, the capture switched the copies off" 0 \
	"$(bpftool -j map dump pinned "/sys/fs/bpf/fwd/$T/fwd_capture" | python3 -c '
import json, sys
print(json.load(sys.stdin)[0]["formatted"]["value"]["flags"])')"

# --- a namespace, as JSON lines ---------------------------------------------------------------
JSON=(-j)
out=$WORK/red.json
capture_start "$out" namespace "$P-red" proto tcp
check_eq "red reaches the LAN, masqueraded" "$UPLINK_ADDR" "$(ask "$P-red" tcp $LAN_ADDR 7000)"
check_eq "a second capture is refused while one runs" 1 \
	"$("$FWDCTL" -n "$HOST" capture --duration 1 "$T" >/dev/null 2>&1; echo $?)"
capture_stop
frames() { count_json "$@"; }
check_eq "red's SYN as it arrived from red" 1 \
	"$(frames "$out" 'e["where"] == "in" and e["ifindex"] == '"$RED_VETH"' and e["src"] == "192.168.15.1" and e["dport"] == 7000 and e["sport"] > 0 and "path" not in e and e["len"] == 74')"
check "red's frames left by the uplink via snat, from the uplink's address" test \
	"$(frames "$out" 'e["where"] == "out" and e["ifindex"] == '"$UP0"' and e["path"] == "snat" and e["src"] == "'$UPLINK_ADDR'" and e["dport"] == 7000')" -ge 3
check "the LAN's answers were delivered into red via snat_reply, to red's address" test \
	"$(frames "$out" 'e["where"] == "out" and e["ifindex"] == '"$RED_VETH"' and e["path"] == "snat_reply" and e["dst"] == "192.168.15.1"')" -ge 2
check "frames on red's veth name red as their namespace" test \
	"$(frames "$out" 'e["ifindex"] == '"$RED_VETH"' and e.get("namespace") == "'"$P-red"'"')" -ge 3
check_eq "... every one of them" 0 \
	"$(frames "$out" '(e["ifindex"] == '"$RED_VETH"') != (e.get("namespace") == "'"$P-red"'")')"
check_eq "nothing of blue's forward" 0 "$(frames "$out" 'e.get("dport") == 80 or e.get("sport") == 80')"

# --- one forward ------------------------------------------------------------------------------
out=$WORK/fwd80.json
capture_start "$out" forward 80
ask "$LAN" tcp $UPLINK_ADDR 80 >/dev/null
ask "$P-red" tcp $LAN_ADDR 7000 >/dev/null
capture_stop
check "forward 80: the LAN's frames to it, in and translated out to blue" test \
	"$(frames "$out" 'e["dport"] == 80 and (e["where"] == "in" and e["dst"] == "'$UPLINK_ADDR'" or e["where"] == "out" and e["dst"] == "192.168.15.2")')" -ge 6
check "forward 80: blue's answers, in and translated out from the uplink" test \
	"$(frames "$out" 'e["sport"] == 80 and (e["where"] == "in" and e["src"] == "192.168.15.2" or e["where"] == "out" and e["src"] == "'$UPLINK_ADDR'")')" -ge 4
check_eq "forward 80: nothing else" 0 "$(frames "$out" 'e.get("sport") != 80 and e.get("dport") != 80')"

# --- --where in; a filter that matches nothing ----------------------------------------------------
out=$WORK/in.json
capture_start "$out" --where in port 80
ask "$LAN" tcp $UPLINK_ADDR 80 >/dev/null
capture_stop
check "--where in: arriving frames copied" test "$(frames "$out" 'e["where"] == "in"')" -ge 3
check_eq "--where in: no leaving frame" 0 "$(frames "$out" 'e["where"] == "out"')"
out=$WORK/none.json
capture_start "$out" host 10.99.99.99
ask "$LAN" tcp $UPLINK_ADDR 80 >/dev/null
capture_stop
check_eq "host 10.99.99.99: nothing copied" 0 "$(wc -l <"$out")"

# --- bad input, and datapath kernel -----------------------------------------------------------
for args in "--where up" "--count 0" "--snaplen 10" "port 0" "port" "proto gre" "host 300.1.1.1" \
	"port 80 port 81" "-w" "--bogus" "a b" "namespace $P-nosuch" "forward 12345" "forward 0"; do
	# shellcheck disable=SC2086 # the words are the arguments
	check_eq "capture $args: usage error" 2 "$("$FWDCTL" -n "$HOST" capture $args >/dev/null 2>&1; echo $?)"
done
kernel_lab_up "$P-k" || fail "up kernel"
check_eq "capture of a datapath kernel topology is refused" 1 \
	"$("$FWDCTL" -n "$HOST" capture --duration 1 "$P-k" >/dev/null 2>&1; echo $?)"

check "down" "$FWDCTL" -q -n "$HOST" down "$T" "$P-k"

#!/bin/bash
# Forwards that change under traffic, in datapath bpf:
# - re-running up with a changed forward list adds and removes forwards without breaking an
#   established connection of a forward that did not change;
# - port shadowing (the CVE-2021-3773 class): a namespace connection from a source port the
#   uplink forwards never takes that port on the uplink, so it cannot capture the forward's
#   inbound connections.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

sandbox_up || { fail "sandbox"; exit 1; }
topo=${P}f
conf=$(lab_conf "$topo" bpf)
"$FWDCTL" -q -n "$HOST" up "$conf" || { fail "up"; exit 1; }

# An echo server behind forward tcp 80, and a LAN client that keeps one connection open across
# the reload: it sends "one", waits for $WORK/go, sends "two", and prints each echo it got.
sandbox_spawn "$P-blue" /dev/null socat TCP-LISTEN:80,reuseaddr,fork EXEC:cat
wait_for 3000 listening "$P-blue" tcp 80 || fail "echo server did not start"
cat >"$WORK/client.py" <<'PY'
import os, socket, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
for word in ("one", "two"):
    if word == "two":
        deadline = time.time() + 20
        while not os.path.exists(sys.argv[3]) and time.time() < deadline:
            time.sleep(0.02)
    c.sendall(word.encode() + b"\n")
    print(c.recv(16).decode().strip(), flush=True)
PY
ip netns exec "$LAN" timeout 30 python3 "$WORK/client.py" $UPLINK_ADDR 80 "$WORK/go" >"$WORK/echo" 2>&1 &
client=$!
wait_for 5000 grep -qx one "$WORK/echo"
check_eq "lan -> uplink:80 -> blue: the first echo over the open connection" one "$(head -n 1 "$WORK/echo")"

# The new list: udp 5353 goes, tcp 81 -> green:81 comes, tcp 80 stays.
sed -e '/^forward udp 5353/d' "$conf" >"$WORK/changed.conf"
echo "forward tcp 81 $P-green:81" >>"$WORK/changed.conf"
check "up with a changed forward list" "$FWDCTL" -q -n "$HOST" up "$WORK/changed.conf"
touch "$WORK/go"
wait "$client"
check_eq "the open connection through the unchanged forward still echoes" "one two" \
	"$(tr '\n' ' ' <"$WORK/echo" | sed 's/ $//')"
peer_server "$P-green" tcp 81
peer_server "$P-green" udp 53
check_eq "the added forward works: lan -> uplink:81 -> green:81" $LAN_ADDR \
	"$(ask "$LAN" tcp $UPLINK_ADDR 81)"
check_eq "the removed forward is gone: lan -> uplink:5353/udp reaches nothing" "" \
	"$(ask "$LAN" udp $UPLINK_ADDR 5353)"

# Port shadowing. The LAN server reports the peer's address and port and holds the
# connection for a while, so it is established when the LAN opens the forward.
# shellcheck disable=SC2016 # the variables are for the shell socat starts
sandbox_spawn "$LAN" /dev/null socat TCP-LISTEN:7012,reuseaddr,fork \
	SYSTEM:'echo $SOCAT_PEERADDR $SOCAT_PEERPORT; sleep 10'
wait_for 3000 listening "$LAN" tcp 7012 || fail "lan server did not start"
peer_server "$P-yellow" tcp 8005
ip netns exec "$P-red" timeout 15 socat -u TCP:$LAN_ADDR:7012,sourceport=8005 - >"$WORK/seen" 2>&1 &
shadow=$!
wait_for 5000 test -s "$WORK/seen"
read -r seen_addr seen_port <"$WORK/seen"
check_eq "red's connection from source port 8005 reached the lan as the uplink" $UPLINK_ADDR "$seen_addr"
check "... on an uplink port other than the forwarded 8005 (${seen_port:-none})" \
	test -n "$seen_port" -a "$seen_port" != 8005
check_eq "while it is open, lan -> uplink:8005 still reaches yellow" $LAN_ADDR \
	"$(ask "$LAN" tcp $UPLINK_ADDR 8005)"
kill "$shadow" 2>/dev/null
wait "$shadow" 2>/dev/null

stop_servers
check "down" "$FWDCTL" -q -n "$HOST" down "$topo"

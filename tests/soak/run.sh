#!/bin/bash
# make soak: the tutorial's lab (datapath bpf) and a second topology beside it on the same
# uplink, built by fwdctl in a sandbox and kept under mixed load for DURATION seconds, then a report: what was attempted, what arrived, how conntrack and
# BPF memory moved over time, which drops were counted. Every check prints PASS:/FAIL: (as the
# e2e tests do; tests/run-all counts them); the exit status is non-zero when any failed.
#
#   tests/soak/run.sh BUILD_DIR [DURATION]     e.g. tests/soak/run.sh build 3600
#
# BUILD_DIR is where `make BUILD=...` put fwdctl and tests/tools/udp_echo (FWDCTL is set from
# it; the environment's FWDCTL is not used). DURATION: seconds of load, default 3600, at least 60.
# Settings from the environment (defaults in brackets):
#   SOAK_UP_EVERY  seconds between re-runs of `fwdctl up` [60]
#   SOAK_SAMPLE    seconds between samples of conntrack, BPF memory and drops [10]
#   SOAK_RATE      bytes per second of each long transfer [4000000]
#   SOAK_CONN_RATE short TCP connections per second, each client [5]
#   SOAK_UDP_RATE  UDP requests per second, each client [5]
#   SOAK_CHURN_EVERY seconds between containers attached and detached through fwd-cni [15]
#   SOAK_KEEP      a directory to copy the raw results into (samples, one file per client) [none]
#
# The load, all at once, for DURATION (lib.sh's sandbox: LAN 10.77.0.2 -- 10.77.0.1 up0 HOST):
#   long TCP    red -> LAN:7100 upload and blue <- LAN:7100 download (SNAT); LAN -> uplink:8001
#               -> yellow upload and download (DNAT, forward tcp 8000-8009). Each transfer has a
#               known size (RATE x up to 150 s, paced), an 8-byte length ahead and the SHA-256
#               of the bytes behind; the receiver checks both. They span the re-runs of `up`.
#   short TCP   green -> LAN:7200 (SNAT) and LAN -> uplink:80 -> blue:80 (DNAT) at CONN_RATE/s:
#               open, read "ok", close (the client first), each one counted.
#   UDP         red -> LAN:7300 (SNAT) and LAN -> uplink:5353 -> green:53 (DNAT) at UDP_RATE/s,
#               a new socket per request; udp_echo answers with the address it saw, checked.
#   ICMP        red and yellow ping the LAN, 5 a second.
#   topology 2  $P-b: b-a and b-b on 192.168.16.0/24 and fd00:16::/64 (dual stack), both
#               masqueraded out of up0 too, forward tcp 8180 -> b-b:80. b-a uploads to
#               LAN:7100 (long TCP) and sends UDP to LAN:7300, the LAN and red (a hairpin from
#               one topology into the other) open short connections to uplink:8180, b-a pings
#               the LAN. Over IPv6 (the uplink fd77::1, the LAN fd77::2; datapath bpf passes
#               IPv6 to the kernel, NAT66 by ip6tables): b-b uploads to [LAN]:7100, opens short
#               connections to [LAN]:7200, sends UDP to [LAN]:7310 (answered with the address
#               seen: the uplink's), pings the LAN.
#   up          every UP_EVERY s `fwdctl up` again, alternately with and without a namespace
#               (pink, 192.168.15.6) and a forward to it (tcp 9200): the running transfers and
#               connections must not notice. pink must reach the LAN once added, and be gone
#               once removed. Then `up` of the second topology, with and without a forward
#               (tcp 9300), which `stats` must show or not.
#   containers  a CNI network of fwd-cni's (topology $P-c, 192.168.17.0/24, masqueraded out of
#               up0): container c0 stays; every CHURN_EVERY s another is attached (ADD, with
#               port 9400 published), reaches the LAN, is reached from it through the port with
#               the LAN's address kept, and is detached (DEL): its veth goes, c0 stays.
#   ct, stats   every SAMPLE s, for both topologies: `fwdctl -j ct` (entries by state), `fwdctl
#               -j stats` (drops by reason), and the BPF memory of the topologies (below).
#
# BPF memory: bytes_memlock (bpftool) of every map and program the topologies hold: pinned under
# /sys/fs/bpf/fwd/TOPOLOGY (maps, programs, cgroup links' programs), attached to the host
# namespace's links (tc), and the maps those programs use. Objects the topology let go of (an
# `up` replaced them) are followed by id: one still alive a sample later is counted as leaked, and
# its memory stays in the sum. fwd_ct is a hash without preallocation, so its memlock grows with
# the connections tracked; everything else is sized when created.
#
# The checks: no connection lost (every short connection and long transfer of every kind
# succeeded), no byte lost (each transfer's size and SHA-256 equal at both ends), every UDP
# request and every ping answered (none lost: veths do not drop, and every timeout is 10 s),
# conntrack entries bounded (at most what the rates explain: each short connection and UDP
# request lives 120 s after its last packet (time_wait, udp_assured; the sweep takes up to 2 s
# more), plus 10 % and 100 for the pings, the transfers and `up`'s own), BPF
# memory bounded (max at most 1.25 x the first sample: the connections fwd_ct may hold explain
# under 1 MB of the 26 MB a topology holds; a leaked program or table per `up` exceeds it) and no BPF object leaked
# (also none left after `down`), only expected drops (the set EXPECTED_DROPS below: the MLD
# reports of the dual-stack namespaces, nothing else), every `up` succeeded, and no frame from a namespace's
# IPv4 or IPv6 address reached the LAN.
set -u
build=${1:?usage: tests/soak/run.sh BUILD_DIR [DURATION]}
DURATION=${2:-3600}
if ! [[ $DURATION =~ ^[0-9]+$ ]] || [ "$DURATION" -lt 60 ]; then
	echo "tests/soak/run.sh: DURATION must be a number of seconds, at least 60" >&2
	exit 2
fi
FWDCTL=$(cd "$build" && pwd)/fwdctl || exit 2
[ -x "$FWDCTL" ] || { echo "tests/soak/run.sh: $FWDCTL is not built (make BUILD=$build)" >&2; exit 2; }
export FWDCTL
UP_EVERY=${SOAK_UP_EVERY:-60}
SAMPLE=${SOAK_SAMPLE:-10}
RATE=${SOAK_RATE:-4000000}
CONN_RATE=${SOAK_CONN_RATE:-5}
UDP_RATE=${SOAK_UDP_RATE:-5}
KEEP=${SOAK_KEEP:-}
CHURN_EVERY=${SOAK_CHURN_EVERY:-15}
P=fsk$$
# Drop reasons this load may cause ("TOPOLOGY/reason"), each with its why:
# - $P-b/drop_mld: the dual-stack topology's namespaces report the multicast group of their
#   IPv6 address (MLD, from ::) when they get it; fwd drops MLD from namespaces on purpose
#   (nothing on its bridge listens, and flooded it would cost n² at scale).
EXPECTED_DROPS="$P-b/drop_mld"
# shellcheck source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"
# lib.sh's finish cleans up and prints the totals; the status is ours: non-zero on any FAIL,
# also one finish itself reports.
trap 'rc=$?; finish || rc=1; exit $rc' EXIT
trap 'fail "interrupted"; exit 1' INT TERM

T=$P
TB=$P-b
UP6=fd77::1
LAN6=fd77::2
PY=$WORK/soak.py
RES=$WORK/results
mkdir -p "$RES"
cat >"$PY" <<'PY'
# The soak's load generators and its report; one mode per invocation (see the bash above).
import hashlib, json, os, socket, struct, subprocess, sys, threading, time

TIMEOUT = 10  # seconds, any single socket operation: generous, the machine is shared

def now():
    return time.time()

def log(out, obj):
    with open(out, "a") as f:
        f.write(json.dumps(obj) + "\n")

def recv_exact(s, n, h=None, r=None):
    """n bytes from s into the hash h; r["received"] counts them as they come."""
    got = 0
    while got < n:
        b = s.recv(min(65536, n - got))
        if not b:
            raise ConnectionError("EOF after %d of %d bytes" % (got, n))
        if h:
            h.update(b)
        got += len(b)
        if r is not None:
            r["received"] = got
    return got

BLOCK = os.urandom(1 << 20)

def send_paced(s, n, rate):
    """n bytes of BLOCK (cycled) at rate bytes/s; returns the SHA-256 of what was sent."""
    h, sent, t0, off = hashlib.sha256(), 0, now(), 0
    while sent < n:
        k = min(65536, n - sent, len(BLOCK) - off)
        chunk = BLOCK[off:off + k]
        s.sendall(chunk)
        h.update(chunk)
        sent += k
        off = (off + k) % len(BLOCK)
        ahead = sent / rate - (now() - t0)
        if ahead > 0:
            time.sleep(ahead)
    return h.digest()

# bulk-server PORT: per connection, a header "U" or "D", size N, rate R (2 x 8 bytes).
# U: read N bytes and their SHA-256, answer "ok N\n" or "bad ...\n". D: send N bytes paced at R,
# then their SHA-256.
def bulk_conn(c):
    try:
        c.settimeout(TIMEOUT)
        kind = c.recv(1)
        n, rate = struct.unpack("!QQ", c.recv(16, socket.MSG_WAITALL))
        if kind == b"U":
            h = hashlib.sha256()
            recv_exact(c, n, h)
            sha = c.recv(32, socket.MSG_WAITALL)
            c.sendall(b"ok %d\n" % n if sha == h.digest() else b"bad sha %d\n" % n)
        else:
            c.sendall(send_paced(c, n, rate))
        c.shutdown(socket.SHUT_WR)
        c.recv(1)
    except OSError:
        pass
    finally:
        c.close()

def serve(port, handler):
    # IPv4 and IPv6 on one socket (IPv4 peers as ::ffff:a.b.c.d)
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(128)
    while True:
        c, _ = s.accept()
        threading.Thread(target=handler, args=(c,), daemon=True).start()

# short-server PORT: "ok\n" to each connection, then wait for the client to close first.
def short_conn(c):
    try:
        c.settimeout(TIMEOUT)
        c.sendall(b"ok\n")
        c.recv(1)
    except OSError:
        pass
    finally:
        c.close()

# bulk-client ADDR PORT U|D END RATE OUT: transfers one after the other until END (epoch
# seconds), each RATE x min(150 s, what is left); a line per transfer in OUT. "received" is
# what the receiving end confirmed: for an upload, all of it once the server answered "ok N"
# (the size and SHA-256 matched), else 0.
def bulk_client(addr, port, kind, end, rate, out):
    while end - now() >= 5:
        n = int(rate * min(150, end - now() - 2))
        t0 = now()
        r = {"kind": kind, "start": t0, "size": n, "sent": 0, "received": 0, "ok": False}
        try:
            s = socket.create_connection((addr, port), timeout=TIMEOUT)
            s.sendall(kind.encode() + struct.pack("!QQ", n, rate))
            if kind == "U":
                s.sendall(send_paced(s, n, rate))
                r["sent"] = n
                ans = s.makefile("rb").readline().decode().strip()
                r["ok"] = ans == "ok %d" % n
                r["received"] = n if r["ok"] else 0
                r["answer"] = ans
            else:
                r["sent"] = n
                h = hashlib.sha256()
                recv_exact(s, n, h, r)
                r["ok"] = s.recv(32, socket.MSG_WAITALL) == h.digest()
            s.close()
        except OSError as e:
            r["error"] = str(e)
        r["end"] = now()
        log(out, r)

# pace T0 N RATE: sleep until the (N+1)th of RATE a second since T0 is due. One late by more
# than a second (a busy machine) moves T0 instead of bursting to catch up: RATE is a ceiling,
# which the conntrack bound relies on. Returns T0.
def pace(t0, n, rate):
    ahead = t0 + n / rate - now()
    if ahead > 0:
        time.sleep(ahead)
    elif ahead < -1:
        t0 -= ahead
    return t0

# short-client ADDR PORT END RATE OUT: a connection every 1/RATE s until END: open, read "ok\n",
# close. A line per failure, a summary line at the end.
def short_client(addr, port, end, rate, out):
    tried = ok = 0
    t0 = now()
    while now() < end:
        tried += 1
        try:
            c = socket.create_connection((addr, port), timeout=TIMEOUT)
            if c.makefile("rb").readline() == b"ok\n":
                ok += 1
            else:
                log(out, {"failed": now(), "error": "no ok"})
            c.close()
        except OSError as e:
            log(out, {"failed": now(), "error": str(e)})
        t0 = pace(t0, tried, rate)
    log(out, {"attempted": tried, "succeeded": ok})

# udp-client ADDR PORT END RATE EXPECT OUT: a request every 1/RATE s until END from a new socket;
# the answer must be EXPECT (the address udp_echo saw).
# udp6-server PORT: every IPv6 datagram answered with the peer address it came from, by one
# process (udp_echo is IPv4's).
def udp6_server(port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("::", port))
    while True:
        b, a = s.recvfrom(200)
        s.sendto((a[0] + "\n").encode(), a)

def udp_client(addr, port, end, rate, expect, out):
    sent = answered = 0
    t0 = now()
    while now() < end:
        sent += 1
        u = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(TIMEOUT)
        try:
            u.connect((addr, port))
            u.send(b"soak %d\n" % sent)
            a = u.recv(100).decode().strip()
            if a == expect:
                answered += 1
            else:
                log(out, {"failed": now(), "error": "answer %r" % a})
        except OSError as e:
            log(out, {"failed": now(), "error": str(e)})
        u.close()
        t0 = pace(t0, sent, rate)
    log(out, {"sent": sent, "answered": answered})

def run_json(cmd):
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)

# sample FWDCTL HOST TOPOS STATE OUT T0: one line in OUT: conntrack entries (fwdctl -j ct),
# drops by reason (fwdctl -j stats; "TOPOLOGY/reason"), BPF memory of the topologies (TOPOS,
# comma-separated), all summed. STATE keeps the ids seen so far.
def sample(fwdctl, host, topos, state, out, t0):
    r = {"t": now(), "ct": 0, "ct_by_topology": {}, "drops": {}, "packets": 0}
    states = {}
    for topo in topos.split(","):
        ct = run_json([fwdctl, "-j", "-n", host, "ct", topo])
        r["ct"] += ct["count"]
        r["ct_by_topology"][topo] = ct["count"]
        for c in ct["connections"]:
            states[c["state"]] = states.get(c["state"], 0) + 1
        st = run_json([fwdctl, "-j", "-n", host, "stats", topo])
        r["drops"].update({topo + "/" + c["name"]: c["packets"] for c in st["counters"]
                           if c["kind"] == "drop" and c["packets"]})
        r["packets"] += st["packets"]
    r["ct_states"] = states
    # BPF objects of the topologies: all programs on the host namespace's links are theirs
    pins = tuple("/sys/fs/bpf/fwd/" + topo + "/" for topo in topos.split(","))
    maps = {m["id"]: m for m in run_json(["bpftool", "-j", "-f", "map", "show"])}
    progs = {p["id"]: p for p in run_json(["bpftool", "-j", "-f", "prog", "show"])}
    links = run_json(["bpftool", "-j", "-f", "link", "show"])
    net = run_json(["nsenter", "--net=/run/netns/" + host, "bpftool", "-j", "net", "show"])
    pinned = lambda o: any(p.startswith(pins) for p in o.get("pinned", []))
    my_maps = {i for i, m in maps.items() if pinned(m)}
    my_progs = {i for i, p in progs.items() if pinned(p)}
    my_progs |= {l["prog_id"] for l in links if pinned(l)}
    for n in net:
        for hook in ("xdp", "tc"):
            my_progs |= {a["id"] for a in n.get(hook, []) if a.get("id") in progs}
    for i in list(my_progs):
        my_maps |= set(progs[i].get("map_ids", []))
    my_maps &= set(maps)
    try:
        seen = json.load(open(state))
    except OSError:
        seen = {"maps": {}, "progs": {}}
    # retired: held at an earlier sample, not now. Still alive a sample later: leaked.
    leaked = []
    for kind, mine, alive in (("maps", my_maps, maps), ("progs", my_progs, progs)):
        for i, first in list(seen[kind].items()):
            i = int(i)
            if i in mine or i not in alive:
                continue
            if first < 0:     # retired at the last sample already
                leaked.append((kind, i))
            else:
                seen[kind][str(i)] = -1
        for i in mine:
            seen[kind][str(i)] = 1
    json.dump(seen, open(state, "w"))
    mem = sum(maps[i].get("bytes_memlock", 0) for i in my_maps)
    mem += sum(progs[i].get("bytes_memlock", 0) for i in my_progs)
    mem += sum((maps if k == "maps" else progs)[i].get("bytes_memlock", 0) for k, i in leaked)
    retired = sum(1 for k in seen for i in seen[k] if int(i) not in (my_maps if k == "maps" else my_progs))
    r.update(bpf_mem=mem, bpf_maps=len(my_maps), bpf_progs=len(my_progs), leaked=len(leaked), retired=retired,
             fwd_ct_mem=sum(maps[i]["bytes_memlock"] for i in my_maps if maps[i]["name"] == "fwd_ct"))
    log(out, r)
    print("t=%4ds ct=%-5d %s bpf=%.2fMB (maps %d, progs %d; let go %d, leaked %d) drops=%s" % (
        int(r["t"]) - int(t0), r["ct"], ",".join("%s:%d" % kv for kv in sorted(states.items())) or "-",
        mem / 1e6, len(my_maps), len(my_progs), retired, len(leaked), r["drops"] or "none"), flush=True)

# gone STATE: how many of the BPF objects ever seen still exist (after down: should be 0).
def gone(state):
    seen = json.load(open(state))
    maps = {m["id"] for m in run_json(["bpftool", "-j", "map", "show"])}
    progs = {p["id"] for p in run_json(["bpftool", "-j", "prog", "show"])}
    alive = [i for i in seen["maps"] if int(i) in maps] + [i for i in seen["progs"] if int(i) in progs]
    print(len(alive))
    return 1 if alive else 0

def lines(path):
    try:
        return [json.loads(l) for l in open(path)]
    except OSError:
        return []

def ping_counts(path):
    # "N packets transmitted, M received, ..."
    try:
        for l in open(path):
            if "packets transmitted" in l:
                w = l.split()
                return int(w[0]), int(w[3])
    except OSError:
        pass
    return 0, 0

# report RES DURATION EXPECTED_DROPS CT_RATE: the human report, the JSON line, and
# "check ok|bad DESCRIPTION" lines for the bash to turn into PASS:/FAIL:. The clients' results
# are found by name: short-*, bulk-*, udp-*, ping-*.log. CT_RATE: the conntrack entries the
# short connections and UDP requests open per second, all clients together.
def report(res, duration, expected, ct_rate):
    duration, ct_rate = int(duration), float(ct_rate)
    names = sorted(os.listdir(res))
    kinds = lambda prefix: [n for n in names if n.startswith(prefix) and not n.endswith(".log")]
    expected = set(expected.split())
    checks = []
    def check(ok, what):
        checks.append(("ok" if ok else "bad", what))
    summ = {"duration": duration}
    # connections
    conns = {}
    for f in kinds("short-"):
        kind = f.replace("-", "_")
        l = lines(os.path.join(res, f))
        s = [x for x in l if "attempted" in x]
        a, ok = (s[0]["attempted"], s[0]["succeeded"]) if s else (0, 0)
        conns[kind] = {"attempted": a, "succeeded": ok, "finished": bool(s),
                       "errors": sorted({x["error"] for x in l if "error" in x})[:5]}
    ups = lines(os.path.join(res, "ups"))
    nbytes = {"sent": 0, "received": 0}
    for f in kinds("bulk-"):
        kind = "long_" + f[5:].replace("-", "_")
        l = lines(os.path.join(res, f))
        span = sum(1 for x in l if any(x["start"] < u["t_ms"] / 1000 < x["end"] for u in ups))
        conns[kind] = {"attempted": len(l), "succeeded": sum(1 for x in l if x["ok"]),
                       "spanning_up": span, "finished": bool(l),
                       "errors": sorted({x.get("error", x.get("answer", "")) for x in l if not x["ok"]})[:5]}
        for x in l:
            nbytes["sent"] += x["sent"]
            nbytes["received"] += x["received"]
    summ["connections"] = {k: {"attempted": v["attempted"], "succeeded": v["succeeded"]} for k, v in conns.items()}
    summ["bytes"] = nbytes
    udp = {}
    for f in kinds("udp-"):
        kind = f[4:].replace("-", "_")
        l = lines(os.path.join(res, f))
        s = [x for x in l if "sent" in x]
        udp[kind] = {"sent": s[0]["sent"] if s else 0, "answered": s[0]["answered"] if s else 0,
                     "finished": bool(s), "errors": sorted({x["error"] for x in l if "error" in x})[:5]}
    summ["udp"] = {k: {"requests": v["sent"], "answers": v["answered"]} for k, v in udp.items()}
    pings = {n[5:-4]: ping_counts(os.path.join(res, n)) for n in names
             if n.startswith("ping-") and n.endswith(".log")}
    summ["ping"] = {k: {"sent": s, "answered": a} for k, (s, a) in pings.items()}
    samples = lines(os.path.join(res, "samples"))
    cts = [x["ct"] for x in samples] or [0]
    mem = [x["bpf_mem"] for x in samples] or [0]
    drops = samples[-1]["drops"] if samples else {}
    leaked = max([x["leaked"] for x in samples] or [0])
    retired = samples[-1]["retired"] if samples else 0
    summ["conntrack"] = {"min": min(cts), "max": max(cts), "samples": len(samples)}
    summ["bpf_memory"] = {"first": mem[0], "last": mem[-1], "max": max(mem), "let_go_objects": retired,
                          "leaked_objects": leaked}
    summ["drops"] = drops
    summ["up"] = {"done": len(ups), "succeeded": sum(1 for u in ups if u["ok"]),
                  "max_ms": max([u["took_ms"] for u in ups] or [0])}

    print("== soak report: %d s" % duration)
    print("connections (attempted / succeeded):")
    for k, v in conns.items():
        extra = ", %d spanning an up" % v["spanning_up"] if "spanning_up" in v else ""
        print("  %-15s %6d / %d%s%s" % (k, v["attempted"], v["succeeded"], extra,
                                         "  errors: %s" % v["errors"] if v["errors"] else ""))
    print("bytes of long transfers: sent %d, received (confirmed) %d" % (nbytes["sent"], nbytes["received"]))
    for k, v in udp.items():
        print("udp %s: %d requests, %d answers%s" % (k, v["sent"], v["answered"],
                                                    "  errors: %s" % v["errors"] if v["errors"] else ""))
    for k, (s, a) in pings.items():
        print("ping %s -> lan: %d sent, %d answered" % (k, s, a))
    print("conntrack entries: min %d, max %d over %d samples" % (min(cts), max(cts), len(samples)))
    print("BPF memory: first %d, last %d, max %d bytes; objects let go by up: %d, leaked: %d" % (
        mem[0], mem[-1], max(mem), retired, leaked))
    print("drops: %s" % (", ".join("%s %d" % kv for kv in sorted(drops.items())) or "none"))
    print("up re-runs: %d done, %d succeeded, the longest took %d ms" % (
        summ["up"]["done"], summ["up"]["succeeded"], summ["up"]["max_ms"]))
    print(json.dumps({"soak": summ}, sort_keys=True))

    # what went wrong goes into the FAIL line itself: CI keeps only the end of the output
    lost = ["%s %d of %d%s" % (k, v["attempted"] - v["succeeded"], v["attempted"],
                               " %s" % v["errors"] if v["errors"] else "")
            for k, v in conns.items() if v["attempted"] != v["succeeded"] or not v["finished"]]
    check(not lost and all(v["attempted"] > 0 for v in conns.values()),
          "no lost connection (%d short, %d long transfers)%s" % (
              sum(v["attempted"] for k, v in conns.items() if k.startswith("short")),
              sum(v["attempted"] for k, v in conns.items() if k.startswith("long")),
              ": lost " + ", ".join(lost) if lost else ""))
    intact = all(v["attempted"] == v["succeeded"] for k, v in conns.items() if k.startswith("long"))
    check(nbytes["sent"] > 0 and nbytes["sent"] == nbytes["received"] and intact,
          "no lost byte (%d sent, %d received%s)" % (nbytes["sent"], nbytes["received"],
                                                     ", every transfer's SHA-256 equal" if intact else ""))
    check(all(v["finished"] and v["sent"] > 0 and v["sent"] == v["answered"] for v in udp.values()),
          "every UDP request answered (%s)" % ", ".join("%s %d/%d" % (k, v["answered"], v["sent"]) for k, v in udp.items()))
    check(all(s > 0 and s == a for s, a in pings.values()),
          "every ping answered (%s)" % ", ".join("%s %d/%d" % (k, a, s) for k, (s, a) in pings.items()))
    bound = int(ct_rate * 122 * 1.1 + 100)
    check(samples and max(cts) <= bound,
          "conntrack entries bounded (max %d <= %d the rates explain)" % (max(cts), bound))
    check(samples and max(mem) <= 1.25 * mem[0] and leaked == 0,
          "BPF memory bounded (max %d <= 1.25 x first %d) and no BPF object leaked (%d)" % (max(mem), mem[0], leaked))
    bad = {k: v for k, v in drops.items() if k not in expected}
    check(not bad, "only expected drops (%s)" % (", ".join("%s %d" % kv for kv in sorted(drops.items())) or "none"))
    check(ups and all(u["ok"] for u in ups),
          "every up succeeded (%d of %d)" % (summ["up"]["succeeded"], len(ups)))
    for ok, what in checks:
        print("check %s %s" % (ok, what))

mode = sys.argv[1]
a = sys.argv[2:]
if mode == "bulk-server":
    serve(int(a[0]), bulk_conn)
elif mode == "short-server":
    serve(int(a[0]), short_conn)
elif mode == "udp6-server":
    udp6_server(int(a[0]))
elif mode == "bulk-client":
    bulk_client(a[0], int(a[1]), a[2], float(a[3]), int(a[4]), a[5])
elif mode == "short-client":
    short_client(a[0], int(a[1]), float(a[2]), float(a[3]), a[4])
elif mode == "udp-client":
    udp_client(a[0], int(a[1]), float(a[2]), float(a[3]), a[4], a[5])
elif mode == "sample":
    sample(*a[:6])
elif mode == "gone":
    sys.exit(gone(a[0]))
elif mode == "report":
    report(*a)
PY

echo "soak: $DURATION s, topologies $T and $TB, fwdctl $FWDCTL"
sandbox_up || { fail "sandbox"; exit 1; }
# IPv6 on the uplink for the second topology's: the host fd77::1, the LAN fd77::2, which
# counts what arrives from the private prefix (a leak).
if ! ip -n "$HOST" addr add $UP6/64 dev up0 nodad || ! ip -n "$LAN" addr add $LAN6/64 dev lan0 nodad ||
	! in_ns "$LAN" ip6tables -t raw -I PREROUTING -s fd00:16::/64 -m comment --comment fwdleak6; then
	fail "IPv6 on the uplink"
	exit 1
fi
conf=$(lab_conf "$T" bpf)
cp "$conf" "$WORK/base.conf"
{ cat "$conf"; echo "namespace $P-pink 192.168.15.6"; echo "forward tcp 9200 $P-pink:9200"; } >"$WORK/pink.conf"
# The second topology, on the same uplink: b-a and b-b on 192.168.16.0/24; its re-runs of `up`
# add and remove a forward (tcp 9300).
cat >"$WORK/b.conf" <<CONF
topology $TB
datapath bpf
bridge ${P:0:7}b 192.168.16.5/24 fd00:16::5/64
uplink up0
masquerade 192.168.16.0/24
masquerade fd00:16::/64
namespace $P-b-a 192.168.16.1 fd00:16::1
namespace $P-b-b 192.168.16.2 fd00:16::2
forward tcp 8180 $P-b-b:80
CONF
{ cat "$WORK/b.conf"; echo "forward tcp 9300 $P-b-a:9300"; } >"$WORK/b-more.conf"
"$FWDCTL" -q -n "$HOST" up "$conf" || { fail "up"; exit 1; }
"$FWDCTL" -q -n "$HOST" up "$WORK/b.conf" || { fail "up $TB"; exit 1; }

# Servers.
server() { # NS PORT MODE|udp
	if [ "$3" = udp ]; then
		sandbox_spawn "$1" /dev/null "$UDP_ECHO" "$2"
		wait_for 5000 listening "$1" udp "$2" || { fail "server $1 udp/$2 did not start"; exit 1; }
	else
		local proto=tcp
		[ "$3" = udp6-server ] && proto=udp
		sandbox_spawn "$1" "$WORK/server.$1.$2" python3 "$PY" "$3" "$2"
		wait_for 5000 listening "$1" $proto "$2" || { fail "server $1 $proto/$2 did not start"; exit 1; }
	fi
}
server "$LAN" 7100 bulk-server
server "$LAN" 7200 short-server
server "$LAN" 7300 udp
server "$P-yellow" 8001 bulk-server
server "$P-blue" 80 short-server
server "$P-green" 53 udp
server "$P-b-b" 80 short-server
server "$LAN" 7310 udp6-server

# Clients, all until END.
start=$(date +%s)
END=$((start + DURATION))
CLIENTS=()
client() { # NS RESULT CMD...
	local ns=$1 out=$RES/$2
	shift 2
	sandbox_spawn "$ns" "$out.log" "$@"
	CLIENTS+=("$SANDBOX_LAST")
}
client "$P-red" bulk-snat-up python3 "$PY" bulk-client $LAN_ADDR 7100 U $END "$RATE" "$RES/bulk-snat-up"
client "$P-blue" bulk-snat-down python3 "$PY" bulk-client $LAN_ADDR 7100 D $END "$RATE" "$RES/bulk-snat-down"
client "$LAN" bulk-dnat-up python3 "$PY" bulk-client $UPLINK_ADDR 8001 U $END "$RATE" "$RES/bulk-dnat-up"
client "$LAN" bulk-dnat-down python3 "$PY" bulk-client $UPLINK_ADDR 8001 D $END "$RATE" "$RES/bulk-dnat-down"
client "$P-green" short-snat python3 "$PY" short-client $LAN_ADDR 7200 $END "$CONN_RATE" "$RES/short-snat"
client "$LAN" short-dnat python3 "$PY" short-client $UPLINK_ADDR 80 $END "$CONN_RATE" "$RES/short-dnat"
client "$P-red" udp-snat python3 "$PY" udp-client $LAN_ADDR 7300 $END "$UDP_RATE" $UPLINK_ADDR "$RES/udp-snat"
client "$LAN" udp-dnat python3 "$PY" udp-client $UPLINK_ADDR 5353 $END "$UDP_RATE" $LAN_ADDR "$RES/udp-dnat"
# The second topology: b-a masqueraded out (a long upload, UDP), the LAN through its forward,
# and red (the lab's) through it too: a hairpin from one topology into the other.
client "$P-b-a" bulk-b-snat-up python3 "$PY" bulk-client $LAN_ADDR 7100 U $END "$RATE" "$RES/bulk-b-snat-up"
client "$LAN" short-b-dnat python3 "$PY" short-client $UPLINK_ADDR 8180 $END "$CONN_RATE" "$RES/short-b-dnat"
client "$P-red" short-cross python3 "$PY" short-client $UPLINK_ADDR 8180 $END "$CONN_RATE" "$RES/short-cross"
client "$P-b-a" udp-b-snat python3 "$PY" udp-client $LAN_ADDR 7300 $END "$UDP_RATE" $UPLINK_ADDR "$RES/udp-b-snat"
# ... and over IPv6 (NAT66, the programs' since it moved into BPF): b-b uploads to the LAN,
# opens short connections and sends UDP to it, masqueraded to the uplink's IPv6 address.
client "$P-b-b" bulk-b6-snat-up python3 "$PY" bulk-client $LAN6 7100 U $END "$RATE" "$RES/bulk-b6-snat-up"
client "$P-b-b" short-b6-snat python3 "$PY" short-client $LAN6 7200 $END "$CONN_RATE" "$RES/short-b6-snat"
client "$P-b-b" udp-b6-snat python3 "$PY" udp-client $LAN6 7310 $END "$UDP_RATE" $UP6 "$RES/udp-b6-snat"
# The conntrack entries those open per second: a short connection or UDP request is one entry,
# red's through the other topology's forward one in each topology; b-b's IPv6 ones are in fwd_ct6,
# which fwdctl ct lists too.
CT_RATE=$(((2 + 1 + 2 + 1) * CONN_RATE + (3 + 1) * UDP_RATE))
# ping: 5 a second for DURATION - 5 s; -W 10: a late answer still counts
for ns in red yellow b-a; do
	client "$P-$ns" "ping-$ns" ping -q -i 0.2 -W 10 -c $(((DURATION - 5) * 5)) $LAN_ADDR
done
client "$P-b-b" ping-b-b-v6 ping -6 -q -i 0.2 -W 10 -c $(((DURATION - 5) * 5)) $LAN6

# running: is any client still running? (One that ended is a zombie until reaped: kill -0
# would still find it.)
running() {
	local pid s
	for pid in "${CLIENTS[@]}"; do
		s=$(ps -o stat= -p "$pid" 2>/dev/null) && [[ $s != Z* ]] && return 0
	done
	return 1
}

# up_again: `up` of the other file (with pink, or without); a line in $RES/ups: when (ms), how
# long `up` took (ms), whether it and the change it made succeeded.
pink=0
up_again() {
	local t took=-1 ok=false file=$WORK/pink.conf has
	[ $pink = 1 ] && file=$WORK/base.conf
	t=$(date +%s%3N)
	if "$FWDCTL" -q -n "$HOST" up "$file"; then
		took=$(($(date +%s%3N) - t))
		if [ $pink = 0 ]; then
			wait_for 10000 pingable "$P-pink" $LAN_ADDR && ok=true
		else
			[ ! -e "/run/netns/$P-pink" ] && ok=true
		fi
	fi
	pink=$((1 - pink))
	echo "{\"t_ms\": $t, \"took_ms\": $took, \"ok\": $ok, \"pink\": $pink}" >>"$RES/ups"
	echo "up again ($([ $pink = 1 ] && echo with || echo without) pink) at $((t / 1000 - start)) s: took $took ms, ok=$ok"
	# and the second topology, with its extra forward when pink is there
	file=$WORK/b.conf ok=false took=-1
	[ $pink = 1 ] && file=$WORK/b-more.conf
	t=$(date +%s%3N)
	if "$FWDCTL" -q -n "$HOST" up "$file"; then
		took=$(($(date +%s%3N) - t))
		"$FWDCTL" -j -n "$HOST" stats "$TB" | grep -Eq '"forward": ?"tcp 9300 ' && has=1 || has=0
		[ $has = $pink ] && ok=true
	fi
	echo "{\"t_ms\": $t, \"took_ms\": $took, \"ok\": $ok, \"topology\": \"$TB\"}" >>"$RES/ups"
	echo "up again of $TB ($([ $pink = 1 ] && echo with || echo without) tcp 9300) at $((t / 1000 - start)) s: took $took ms, ok=$ok"
}

# The container churn (fwd-cni): the plugin called as a runtime calls it, in the host namespace.
FWD_CNI=$(dirname "$FWDCTL")/fwd-cni
TC=$P-c
cat >"$WORK/cni.json" <<JSON
{"cniVersion": "1.0.0", "name": "$TC", "type": "fwd-cni", "topology": "$TC",
 "bridge": "${P:0:7}c", "subnet": "192.168.17.0/24", "gateway": "192.168.17.5",
 "uplink": "up0", "masquerade": true, "capabilities": {"portMappings": true},
 "runtimeConfig": {"portMappings": [{"hostPort": 9400, "containerPort": 80, "protocol": "tcp"}]}}
JSON
sed 's/"runtimeConfig".*}}/"datapath": "bpf"}/' "$WORK/cni.json" >"$WORK/cni0.json"
cni() { # CMD ID NS CONF
	nsenter --net="/run/netns/$HOST" env CNI_COMMAND="$1" CNI_CONTAINERID="$2" \
		CNI_NETNS="/run/netns/$3" CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni "$FWD_CNI" <"$4" \
		>>"$RES/cni.log" 2>&1
}
# (what reaches the LAN from its subnet is a leak, counted with the others: finish)
in_ns "$LAN" iptables -t raw -I PREROUTING -s 192.168.17.0/24 -m comment --comment fwdleak
if ! ip netns add "$P-c0" || ! cni ADD c0 "$P-c0" "$WORK/cni0.json"; then
	fail "fwd-cni ADD c0"
	exit 1
fi
churn_n=0 churn_ok=0
churn() {
	local ns=$P-c$((churn_n + 1)) id=c$((churn_n + 1)) ok=false server
	churn_n=$((churn_n + 1))
	ip netns add "$ns"
	if cni ADD "$id" "$ns" "$WORK/cni.json"; then
		peer_server "$ns" tcp 80
		server=$SANDBOX_LAST
		wait_for 5000 pingable "$ns" $LAN_ADDR &&
			[ "$(ask "$LAN" tcp $UPLINK_ADDR 9400)" = $LAN_ADDR ] && ok=true
		kill -- -"$server" 2>/dev/null
	fi
	cni DEL "$id" "$ns" "$WORK/cni.json" || ok=false
	if [ -n "$(ip -n "$ns" -o link show eth0 2>/dev/null)" ] || ! pingable "$P-c0" $LAN_ADDR; then
		ok=false
	fi
	ip netns del "$ns"
	[ $ok = true ] && churn_ok=$((churn_ok + 1))
	echo "container $id attached and detached at $(($(date +%s) - start)) s: ok=$ok"
}

next_sample=$start next_up=$((start + UP_EVERY)) next_churn=$((start + CHURN_EVERY))
deadline=$((END + 120)) # clients end by themselves at END; transfers and pings may run late
while :; do
	now=$(date +%s)
	if [ "$now" -ge "$next_sample" ]; then
		python3 "$PY" sample "$FWDCTL" "$HOST" "$T,$TB" "$WORK/seen.json" "$RES/samples" "$start" ||
			fail "sample at $((now - start)) s"
		next_sample=$((next_sample + SAMPLE))
	fi
	if [ "$now" -ge "$next_up" ] && [ "$now" -le $((END - 10)) ]; then
		up_again
		next_up=$((next_up + UP_EVERY))
	fi
	if [ "$now" -ge "$next_churn" ] && [ "$now" -le $((END - 10)) ]; then
		churn
		next_churn=$((next_churn + CHURN_EVERY))
	fi
	running || break
	[ "$now" -lt "$deadline" ] || { fail "clients still running $((now - END)) s after the end"; break; }
	sleep 1
done
# A last sample after the load: retired objects get one more chance to be freed.
python3 "$PY" sample "$FWDCTL" "$HOST" "$T,$TB" "$WORK/seen.json" "$RES/samples" "$start" || fail "last sample"

while IFS= read -r line; do
	case $line in
	"check ok "*) pass "${line#check ok }" ;;
	"check bad "*) fail "${line#check bad }" ;;
	*) echo "$line" ;;
	esac
done < <(python3 "$PY" report "$RES" "$DURATION" "$EXPECTED_DROPS" "$CT_RATE")

if [ -n "$KEEP" ]; then mkdir -p "$KEEP" && cp "$RES"/* "$KEEP"/; fi
check_eq "the LAN never saw an IPv6 frame from fd00:16::/64" 0 \
	"$(in_ns "$LAN" ip6tables -t raw -nvxL PREROUTING | awk '/fwdleak6/ {n += $1} END {print n + 0}')"

check "container churn: $churn_n containers attached and detached through fwd-cni, each reached the LAN and was reached" \
	test "$churn_n" -gt 0 -a "$churn_ok" = "$churn_n"
stop_servers
cni DEL c0 "$P-c0" "$WORK/cni0.json"
check_eq "fwd-cni DEL of the last container takes its topology down" "" \
	"$("$FWDCTL" -n "$HOST" status 2>/dev/null | grep -- "$TC")"
ip netns del "$P-c0"
check "down" "$FWDCTL" -q -n "$HOST" down "$T"
check "down $TB" "$FWDCTL" -q -n "$HOST" down "$TB"
check "no BPF object of the topology outlives down" wait_for 10000 python3 "$PY" gone "$WORK/seen.json"

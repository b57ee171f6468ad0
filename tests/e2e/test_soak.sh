#!/bin/bash
# make soak's 2-minute version (tests/soak/run.sh, which prints the PASS:/FAIL: lines and
# cleans up after itself): the tutorial lab and a second, dual-stack topology under mixed load
# for 120 s (long TCP transfers, short connections, UDP request/response and pings, through
# SNAT and DNAT, over IPv4 and IPv6, `ct` and `stats` sampled every 10 s), with `up` re-run
# every 40 s instead of every minute, so that both changes (a namespace and a forward added,
# then removed) happen within the 2 minutes, and containers attached and detached through fwd-cni
# every 15 s. Nothing lost, conntrack and BPF memory bounded,
# no unexpected drop, every `up` succeeded, nothing of the namespaces' addresses on the LAN.
# FWDCTL (set by tests/run-all) names the build directory.
set -u
FWDCTL=${FWDCTL:-$(pwd)/build/fwdctl}
SOAK_UP_EVERY=40 exec bash "$(dirname "$0")/../soak/run.sh" "$(dirname "$FWDCTL")" 120

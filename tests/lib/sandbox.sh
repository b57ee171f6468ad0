# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tests/lib/sandbox.sh: throwaway network namespaces, sourced by the e2e tests (through
# tests/e2e/lib.sh), the demo and the bench (bench/lab.sh, bench/run.sh, bench/hook-choice.sh).
# Nothing here touches the root namespace: links are made inside the namespaces (`ip -n`),
# processes run inside them, and cleanup removes only what was recorded or carries the caller's
# prefix. Safe under `set -e` and `set -u`.
#
#   sandbox_pair HOST up0 10.77.0.1/24 LAN lan0 10.77.0.2/24     two namespaces, one veth:
#
#     LAN [lan0 10.77.0.2/24] ---- [up0 10.77.0.1/24] HOST
#
#   sandbox_spawn NS LOG CMD...    a server in NS, its own process group; SANDBOX_LAST is its pid
#   sandbox_stop PID [SIGNAL]      that group ended (KILL by default) and reaped
#   sandbox_cleanup [ERE]          every spawned group, then every recorded namespace and every
#                                  namespace whose name matches ERE, with what runs inside

SANDBOX_NS=()   # namespaces this run created or had created, oldest first (cleanup: newest first)
SANDBOX_PIDS=() # process groups started by sandbox_spawn and not stopped yet
SANDBOX_LAST=   # the pid (= process group) of the last one

# in_ns NS CMD...: CMD in network namespace NS (`ip netns exec`, which also remounts /sys).
in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# in_netns_only NS CMD...: CMD in NS's network namespace only. `ip netns exec` and `ip -n`
# remount /sys for the namespace, which hides /sys/fs/bpf (pins) and the cgroup mounts; this
# keeps the caller's mounts.
in_netns_only() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# wait_for MS CMD...: poll until CMD succeeds (its output discarded), at most MS milliseconds.
wait_for() {
	local deadline
	deadline=$(($(date +%s%3N) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s%3N)" -lt "$deadline" ] || return 1
		sleep 0.02
	done
}

# listening NS tcp|udp PORT: is a socket of NS bound to PORT (listening, for TCP)?
listening() {
	local flag=-ltn
	[ "$2" = udp ] && flag=-lun
	in_ns "$1" ss -H "$flag" "sport = :$3" | grep -q .
}

# --- namespaces and links -----------------------------------------------------------------

# sandbox_track NS...: record namespaces someone else creates for us (fwdctl, a lab builder),
# so that cleanup removes them too.
sandbox_track() {
	SANDBOX_NS+=("$@")
}

# sandbox_ns_add NS: a new namespace, recorded, with lo up.
sandbox_ns_add() {
	ip netns add "$1" || return 1
	sandbox_track "$1"
	ip -n "$1" link set lo up
}

# sandbox_veth NS1 IF1 ADDR1 NS2 IF2 ADDR2 [HOOK]: a veth pair IF1 (in NS1) -- IF2 (in NS2),
# ADDR/PREFIX on each end ("" for none), both up. HOOK, when given, runs as `HOOK NS IF` for
# each end before it comes up (to set what must be set on a link that is down, or early).
sandbox_veth() {
	local ns1=$1 if1=$2 a1=$3 ns2=$4 if2=$5 a2=$6 hook=${7:-}
	ip -n "$ns1" link add "$if1" type veth peer name "$if2" netns "$ns2" || return 1
	if [ -n "$a1" ]; then ip -n "$ns1" addr add "$a1" dev "$if1" || return 1; fi
	if [ -n "$a2" ]; then ip -n "$ns2" addr add "$a2" dev "$if2" || return 1; fi
	if [ -n "$hook" ]; then
		"$hook" "$ns1" "$if1" || return 1
		"$hook" "$ns2" "$if2" || return 1
	fi
	ip -n "$ns1" link set "$if1" up && ip -n "$ns2" link set "$if2" up
}

# sandbox_pair HOST HOST_IF HOST_ADDR LAN LAN_IF LAN_ADDR [HOOK]: two new namespaces joined by
# a veth pair (see sandbox_veth), the usual world of a test: a host and a LAN peer.
sandbox_pair() {
	sandbox_ns_add "$1" && sandbox_ns_add "$4" && sandbox_veth "$@"
}

# sandbox_namespaces ERE: the existing namespaces whose names match ERE.
sandbox_namespaces() {
	ip netns list 2>/dev/null | awk '{ print $1 }' | grep -E -- "$1" || true
}

# sandbox_kill_in NS...: SIGKILL to every process inside these namespaces (once a namespace's
# name is gone, nothing can find them).
sandbox_kill_in() {
	local ns pid
	for ns in "$@"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null || true
		done
	done
}

# sandbox_remove NS...: what runs inside killed, then the namespaces deleted (missing: fine).
sandbox_remove() {
	local ns
	sandbox_kill_in "$@"
	for ns in "$@"; do
		[ ! -e "/run/netns/$ns" ] || ip netns del "$ns" 2>/dev/null || true
	done
}

# --- processes ----------------------------------------------------------------------------

# sandbox_spawn NS LOG CMD...: start CMD inside NS in the background, stdout and stderr to LOG.
# `ip netns exec` and setsid exec, so $! is CMD itself (or the timeout(1) in front of it), and it
# leads its own process group, which also holds whatever it forks: sandbox_stop ends them all.
# (Through in_ns, a function, $! would be a subshell, and killing it would orphan CMD.)
sandbox_spawn() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" setsid "$@" >"$log" 2>&1 &
	SANDBOX_LAST=$!
	SANDBOX_PIDS+=("$SANDBOX_LAST")
}

sandbox_group_gone() {
	! pgrep -g "$1" >/dev/null
}

# sandbox_stop PID [SIGNAL]: SIGNAL (default KILL) to the process group PID started by
# sandbox_spawn, reaped, and waited for until none of the group is left (at most 3 s): a killed
# server holds its port until it has exited.
sandbox_stop() {
	local pid=$1 sig=${2:-KILL}
	kill -"$sig" -- "-$pid" "$pid" 2>/dev/null || true
	sandbox_wait "$pid" 2>/dev/null || true
	wait_for 3000 sandbox_group_gone "$pid" || true
}

# sandbox_wait PID: wait for a process sandbox_spawn started to end by itself; its exit status.
sandbox_wait() {
	local pid=$1 rc=0 p keep=()
	wait "$pid" || rc=$?
	for p in "${SANDBOX_PIDS[@]}"; do
		[ "$p" = "$pid" ] || keep+=("$p")
	done
	SANDBOX_PIDS=("${keep[@]}")
	return $rc
}

# sandbox_stop_all [SIGNAL]: every group started so far, as sandbox_stop.
sandbox_stop_all() {
	local pid
	[ ${#SANDBOX_PIDS[@]} -gt 0 ] || return 0
	for pid in "${SANDBOX_PIDS[@]}"; do kill -"${1:-KILL}" -- "-$pid" "$pid" 2>/dev/null || true; done
	for pid in "${SANDBOX_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	for pid in "${SANDBOX_PIDS[@]}"; do wait_for 3000 sandbox_group_gone "$pid" || true; done
	SANDBOX_PIDS=()
}

# --- cleanup ------------------------------------------------------------------------------

# sandbox_cleanup [ERE]: the spawned processes (SIGKILL), then the recorded namespaces, newest
# first, and those whose names match ERE, with everything running inside them.
sandbox_cleanup() {
	local i
	sandbox_stop_all KILL
	for ((i = ${#SANDBOX_NS[@]} - 1; i >= 0; i--)); do
		sandbox_remove "${SANDBOX_NS[$i]}"
	done
	SANDBOX_NS=()
	if [ -n "${1:-}" ]; then
		# shellcheck disable=SC2046 # one namespace name per word: names have no spaces
		sandbox_remove $(sandbox_namespaces "$1")
	fi
	return 0
}

# sandbox_fwd_forget PREFIX...: fwd's own state of the topologies named PREFIX*: bpffs pins
# (/sys/fs/bpf/fwd/) and state files (/run/fwd/). For what a killed run left: `fwdctl down`
# removes both itself.
sandbox_fwd_forget() {
	local p
	for p in "$@"; do
		[ -n "$p" ] || continue
		rm -rf /sys/fs/bpf/fwd/"$p"* /run/fwd/"$p"*.* /run/fwd/cni/"$p"*.* 2>/dev/null || true
	done
}

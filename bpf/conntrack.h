/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Connection tracking: the fwd_ct table (two entries per connection, see fwd_kern_user.h), the
 * TCP/UDP/ICMP state that picks a timeout, and expiry by bpf_timer.
 *
 * Why timers and not an LRU: an LRU_HASH evicts live connections silently when it fills, so a
 * flood of new flows breaks established ones and "table full" can never be seen. With a plain
 * HASH an insert into a full table fails, which fwd counts (drop_ct_full) and drops, and
 * expired entries still go without a daemon: the ORIG entry's timer deletes both entries.
 *
 * A full table still admits new connections while some of its connections were never
 * answered: fwd_ct_recent remembers the latest new ones, and an insert that finds the table
 * full first evicts the oldest of those without a reply (ct_insert), as Linux's early drop does
 * with unassured entries. An answered connection is never evicted, so a flood of unanswered
 * flows cannot push out established ones, nor lock new ones out for a whole timeout.
 *
 * The timer is not restarted per packet (hrtimer_start is a lock and a tree operation): a
 * packet moves expires_ns, and the callback, when it fires early because the connection was
 * refreshed meanwhile, re-arms itself for the remainder. Only a change that brings the expiry
 * *forward* (FIN, RST: a shorter timeout) restarts the timer from the datapath, and only when
 * the timer would otherwise fire at a later grid point than the new expiry's (ct_refresh; the
 * grid: FWD_CT_TIMER_GRID_MASK).
 */
#ifndef FWD_BPF_CONNTRACK_H
#define FWD_BPF_CONNTRACK_H

#include <stdbool.h>

#include "parse.h"
#include "settings.h"
#include "counters.h"

#define FWD_NSEC_PER_SEC 1000000000ull
#define CLOCK_MONOTONIC	 1
#ifndef EBUSY
#define EBUSY 16 /* <errno.h> is libc's */
#endif
#ifndef E2BIG
#define E2BIG 7
#endif
/* expires_ns is rewritten only when it moves by more than this: a write per packet would
 * bounce the entry's cache line between the CPUs of both directions. */
#define FWD_CT_REFRESH_SLACK_NS (FWD_NSEC_PER_SEC / 4)
/*
 * Timers fire on a grid of 2^27 ns (134 ms) of the absolute clock. Every expiry is a timer
 * interrupt, under a hypervisor a VM exit: with a timer of its own per instant, 12,000 crr
 * connections closing within a second cost 130 ms of softirq time 10 s later, and a crr run
 * in that second lost a quarter of its rate. On the grid, the timers of all connections that
 * end within one step fire in one interrupt, at most a step late. BPF_F_TIMER_ABS is Linux
 * 6.7's (newer than Debian 12's headers); older kernels refuse it and get relative timers.
 */
#define FWD_CT_TIMER_GRID_MASK ((1ull << 27) - 1)
#define FWD_BPF_F_TIMER_ABS    1
#ifndef EINVAL
#define EINVAL 22
#endif

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FWD_CT_MAX_ENTRIES);
	/* Allocated on insert: an idle topology costs no memory for a table it does not use. */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fwd_ct_key);
	__type(value, struct fwd_ct_entry);
} fwd_ct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, FWD_CT_RECENT_MAX);
	__type(value, struct fwd_ct_key); /* ORIG keys of new connections, oldest first */
} fwd_ct_recent SEC(".maps");

/* A new connection (its ORIG key) becomes a candidate for early drop; a full queue forgets its
 * oldest. */
static __always_inline void ct_recent_push(const struct fwd_ct_key *okey)
{
	bpf_map_push_elem(&fwd_ct_recent, okey, BPF_EXIST);
}

/*
 * The table is full: evict the oldest recent connection that never saw a reply, both of its
 * entries. Candidates gone meanwhile or answered are dropped from the queue and skipped.
 * True when one went.
 */
static __always_inline bool ct_early_drop(void)
{
	struct fwd_ct_key key, peer;
	struct fwd_ct_entry *e;

	for (int i = 0; i < FWD_CT_EARLY_DROP_TRIES; i++) {
		if (bpf_map_pop_elem(&fwd_ct_recent, &key))
			return false; /* no candidate left */
		e = bpf_map_lookup_elem(&fwd_ct, &key);
		if (!e || e->dir != FWD_CT_DIR_ORIG || (e->flags & FWD_CT_F_SEEN_REPLY))
			continue;
		__builtin_memcpy(&peer, &e->peer, sizeof(peer));
		bpf_map_delete_elem(&fwd_ct, &peer);
		bpf_map_delete_elem(&fwd_ct, &key);
		fwd_count_event(FWD_CNT_CT_EARLY_DROP);
		return true;
	}
	return false;
}

/* Insert the new entry @v under @key (BPF_NOEXIST); a full table first makes room if it can. */
static __always_inline long ct_insert(const struct fwd_ct_key *key, struct fwd_ct_entry *v)
{
	long err = bpf_map_update_elem(&fwd_ct, key, v, BPF_NOEXIST);

	if (err == -E2BIG && ct_early_drop())
		err = bpf_map_update_elem(&fwd_ct, key, v, BPF_NOEXIST);
	return err;
}

static __always_inline __u64 ct_timeout_ns(__u8 state)
{
	__u32 s;

	switch (state) {
	case FWD_CT_TCP_SYN_SENT: s = fwd_cfg.ct.tcp_syn_sent; break;
	case FWD_CT_TCP_ESTABLISHED: s = fwd_cfg.ct.tcp_established; break;
	case FWD_CT_TCP_FIN_WAIT: s = fwd_cfg.ct.tcp_fin_wait; break;
	case FWD_CT_TCP_CLOSE: s = fwd_cfg.ct.tcp_close; break;
	case FWD_CT_UDP: s = fwd_cfg.ct.udp; break;
	case FWD_CT_UDP_ASSURED: s = fwd_cfg.ct.udp_assured; break;
	default: s = fwd_cfg.ct.icmp; break;
	}
	return (__u64)s * FWD_NSEC_PER_SEC;
}

/* The key of a packet as it is: its own addresses and ports. */
/*
 * The conntrack clock: CLOCK_MONOTONIC at tick resolution. Timeouts are seconds, and the coarse
 * clock is a memory read where bpf_ktime_get_ns() reads the clocksource, which under a
 * hypervisor (pvclock) showed as 1.7 % of a CPU forwarding small datagrams through SNAT.
 * Everything that compares with expires_ns uses this clock, timer callbacks included.
 */
static __always_inline __u64 ct_now(void)
{
	return bpf_ktime_get_coarse_ns();
}

static __always_inline void ct_key_of(struct fwd_ct_key *key, const struct fwd_pkt *pkt)
{
	__builtin_memset(key, 0, sizeof(*key));
	key->saddr = pkt->saddr;
	key->daddr = pkt->daddr;
	key->sport = pkt->sport;
	key->dport = pkt->dport;
	key->proto = pkt->proto;
}

/* The first grid point at or after @at. */
static __always_inline __u64 ct_grid(__u64 at)
{
	return (at + FWD_CT_TIMER_GRID_MASK) & ~FWD_CT_TIMER_GRID_MASK;
}

/*
 * Start @e's timer for @at (ct_now() clock), on the grid; timer_ns says when it fires. At least
 * one step ahead: the coarse clock lags the timer's by up to a tick, and an absolute time in
 * the past would fire at once, again and again until the coarse clock caught up.
 */
static __always_inline long ct_timer_start(struct fwd_ct_entry *e, __u64 at, __u64 now)
{
	__u64 fire;
	long err;

	if (at < now + FWD_CT_TIMER_GRID_MASK + 1)
		at = now + FWD_CT_TIMER_GRID_MASK + 1;
	fire = ct_grid(at);
	err = -EINVAL;
	if (!(fwd_cfg.flags & FWD_SET_TIMER_RELATIVE)) /* rodata: pruned at load */
		err = bpf_timer_start(&e->timer, fire, FWD_BPF_F_TIMER_ABS);
	if (err == -EINVAL) { /* before 6.7 */
		fire = at;
		err = bpf_timer_start(&e->timer, at - now, 0);
	}
	if (!err)
		e->timer_ns = fire;
	return err;
}

/*
 * Expiry. Runs in softirq context with the entry still in the table: re-arm when a packet
 * moved the expiry meanwhile, else delete the REPLY entry, then this one (deleting the element
 * that owns the running timer is allowed; the kernel does not wait for the callback).
 * A packet racing the deletion re-creates the connection on its next packet.
 */
static int ct_timer_fired(void *map, struct fwd_ct_key *key, struct fwd_ct_entry *e)
{
	struct fwd_ct_key peer;
	__u64 now = ct_now();

	if (e->expires_ns > now) {
		ct_timer_start(e, e->expires_ns, now);
		return 0;
	}
	__builtin_memcpy(&peer, &e->peer, sizeof(peer));
	bpf_map_delete_elem(map, &peer);
	bpf_map_delete_elem(map, key);
	return 0;
}

static __always_inline void ct_arm(struct fwd_ct_entry *e, __u64 now);

/*
 * Set the expiry to now + the state's timeout; restart the timer only to bring it forward.
 * A shorter timeout (FIN, RST) is written at once, also when the timer already fires before
 * it (a tuple reused while its last connection waited out the close timeout): the callback
 * finds the new expiry then. A longer one is written only past the slack, sparing the cache
 * line on every packet.
 */
static __always_inline void ct_refresh(struct fwd_ct_entry *e, __u64 now)
{
	__u64 timeout = ct_timeout_ns(e->state), exp = now + timeout;

	if (!e->timer_ns) {
		ct_arm(e, now);			 /* arming failed before: try again */
	} else if (ct_grid(exp) < e->timer_ns) { /* the same grid step: no restart per packet */
		e->expires_ns = exp;
		ct_timer_start(e, exp, now);
	} else if (exp < e->expires_ns || exp > e->expires_ns + FWD_CT_REFRESH_SLACK_NS) {
		e->expires_ns = exp;
	}
}

/*
 * The state after a packet: TCP from its flags (a SYN on a closed connection starts the
 * tuple over), UDP assured once replied, ICMP has one state. @reply: the packet came back.
 * Several CPUs may update one entry at once; the fields are single bytes written whole, and
 * the worst a lost update does is keep a timeout one packet longer.
 */
static __always_inline void ct_advance(struct fwd_ct_entry *e, const struct fwd_pkt *pkt,
				       bool reply)
{
	__u8 flags = e->flags, state;

	if (reply)
		flags |= FWD_CT_F_SEEN_REPLY;
	if (pkt->proto == IPPROTO_TCP) {
		__u8 tf = pkt->tcp_flags;

		if (!reply && (tf & (FWD_TCP_SYN | FWD_TCP_ACK)) == FWD_TCP_SYN &&
		    e->state == FWD_CT_TCP_CLOSE)
			flags = 0;
		if (tf & FWD_TCP_RST)
			flags |= FWD_CT_F_RST;
		if (tf & FWD_TCP_FIN)
			flags |= reply ? FWD_CT_F_FIN_REPLY : FWD_CT_F_FIN_ORIG;
		if ((flags & FWD_CT_F_RST) || (flags & (FWD_CT_F_FIN_ORIG | FWD_CT_F_FIN_REPLY)) ==
						  (FWD_CT_F_FIN_ORIG | FWD_CT_F_FIN_REPLY))
			state = FWD_CT_TCP_CLOSE;
		else if (flags & (FWD_CT_F_FIN_ORIG | FWD_CT_F_FIN_REPLY))
			state = FWD_CT_TCP_FIN_WAIT;
		else if (flags & FWD_CT_F_SEEN_REPLY)
			state = FWD_CT_TCP_ESTABLISHED;
		else
			state = FWD_CT_TCP_SYN_SENT;
	} else if (pkt->proto == IPPROTO_UDP) {
		state = flags & FWD_CT_F_SEEN_REPLY ? FWD_CT_UDP_ASSURED : FWD_CT_UDP;
	} else {
		state = FWD_CT_ICMP;
	}
	if (flags != e->flags) /* no write, no cache line bouncing, when nothing changes */
		e->flags = flags;
	if (state != e->state)
		e->state = state;
}

/* A packet of a tracked connection: state, then expiry. */
static __always_inline void ct_update(struct fwd_ct_entry *e, const struct fwd_pkt *pkt, bool reply,
				      __u64 now)
{
	ct_advance(e, pkt, reply);
	ct_refresh(e, now);
}

/*
 * The state a new connection starts in (no timer yet: ct_arm()). A TCP segment that is not a
 * SYN (a connection older than the table: after a flush, or a reload with a new table) is
 * picked up as established, as Linux does with nf_conntrack_tcp_loose; its FIN or RST counts.
 */
static __always_inline void ct_init_state(struct fwd_ct_entry *e, const struct fwd_pkt *pkt)
{
	e->state = FWD_CT_NONE;
	e->flags = 0;
	if (pkt->proto == IPPROTO_TCP &&
	    (pkt->tcp_flags & (FWD_TCP_SYN | FWD_TCP_ACK)) != FWD_TCP_SYN)
		e->flags = FWD_CT_F_SEEN_REPLY;
	ct_advance(e, pkt, false);
}

/*
 * Arm the timer of an ORIG entry: at creation, and again on a later packet when that failed.
 * bpf_timer_init() allocates (kmalloc_nolock on 6.18) and fails now and then under a burst of
 * new connections (seen: -ENOMEM for about 1 in 50 at 2,000 connections/s). Dropping the
 * packet for that would cost the connection a SYN retransmission (1 s), so the entry stays,
 * unarmed (timer_ns == 0), and the next packet of either direction tries again. An entry
 * that never sees another packet is reclaimed by the loader (fwdctl up, ct).
 */
static __always_inline void ct_arm(struct fwd_ct_entry *e, __u64 now)
{
	__u64 timeout = ct_timeout_ns(e->state);
	long err;

	err = bpf_timer_init(&e->timer, &fwd_ct, CLOCK_MONOTONIC);
	if (err && err != -EBUSY) /* -EBUSY: initialised by an earlier, half-failed try */
		return;
	if (bpf_timer_set_callback(&e->timer, ct_timer_fired))
		return;
	e->expires_ns = now + timeout;
	ct_timer_start(e, now + timeout, now);
}

#endif

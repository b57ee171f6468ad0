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
 * A full table still admits new connections while some of its connections are not assured:
 * fwd_ct_recent remembers the latest new ones, and an insert that finds the table full first
 * evicts the oldest of those that is not (ct_insert), as Linux's early drop does. TCP is
 * assured only once its handshake completed, UDP once it saw traffic both ways: a flood of
 * spoofed SYNs, even answered by SYN-ACKs, cannot push out established connections, nor lock
 * new ones out for a whole timeout, and its entries leave after the short half-open timeout.
 *
 * TCP is tracked as Linux's nf_conntrack does, in outline: SYN, SYN-ACK and the final ACK move
 * a connection through syn_sent and syn_recv to established; FINs to fin_wait and time_wait;
 * an RST to close. Every segment must lie within the window its receiver offered
 * (ct_tcp_window): a forged RST, FIN or data segment with a guessed sequence number changes
 * nothing and is dropped (drop_tcp_window). A connection is opened by a SYN only, except from
 * a namespace: its segment without an entry (after a flush, a reload) is picked up, without
 * window checks. From the LAN nothing but a SYN opens one (drop_ct_invalid); Linux picks up
 * from both sides (nf_conntrack_tcp_loose), which lets one spoofed ACK hold an entry for days.
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
		if (!e || e->dir != FWD_CT_DIR_ORIG || (e->track.flags & FWD_CT_F_ASSURED))
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
	case FWD_CT_TCP_SYN_RECV: s = fwd_cfg.ct.tcp_syn_recv; break;
	case FWD_CT_TCP_ESTABLISHED: s = fwd_cfg.ct.tcp_established; break;
	case FWD_CT_TCP_FIN_WAIT: s = fwd_cfg.ct.tcp_fin_wait; break;
	case FWD_CT_TCP_TIME_WAIT: s = fwd_cfg.ct.tcp_time_wait; break;
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

/*
 * Expiry for the entries whose timer could not be armed (ct_arm): one timer per table, which
 * runs only while there are such entries. Once a second it walks the table and deletes those
 * that expired, with their REPLY halves. The walk costs a pass over the table, and it happens
 * only after an allocation failed under a burst of new connections.
 */
struct fwd_ct_gc {
	struct bpf_timer timer;
	__u32 running; /* the timer is armed */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fwd_ct_gc);
} fwd_ct_gc SEC(".maps");

#define FWD_CT_GC_INTERVAL_NS FWD_NSEC_PER_SEC

struct ct_gc_walk {
	__u64 now;
	/* An unarmed entry not expired yet: the walk must come again. A flag, not a count: the
	 * verifier follows the callback until its state stops changing, which a count never does.
	 */
	__u32 again;
};

static long ct_gc_one(void *map, struct fwd_ct_key *key, struct fwd_ct_entry *e,
		      struct ct_gc_walk *w)
{
	struct fwd_ct_key peer;

	if (e->dir != FWD_CT_DIR_ORIG || e->timer_ns)
		return 0;
	if (e->expires_ns > w->now) {
		w->again = 1;
		return 0;
	}
	__builtin_memcpy(&peer, &e->peer, sizeof(peer));
	bpf_map_delete_elem(map, &peer);
	bpf_map_delete_elem(map, key);
	return 0;
}

static int ct_gc_fired(void *map, __u32 *key, struct fwd_ct_gc *gc)
{
	struct ct_gc_walk w = { .now = ct_now() };

	/* Cleared before the walk: an entry that fails to arm meanwhile starts the timer again
	 * (ct_gc_kick), whatever this walk finds. */
	gc->running = 0;
	bpf_for_each_map_elem(&fwd_ct, ct_gc_one, &w, 0);
	if (w.again && !bpf_timer_start(&gc->timer, FWD_CT_GC_INTERVAL_NS, 0))
		gc->running = 1;
	return 0;
}

/* An entry is left without a timer: make sure the walk comes. */
static __always_inline void ct_gc_kick(void)
{
	struct fwd_ct_gc *gc;
	__u32 zero = 0;
	long err;

	gc = bpf_map_lookup_elem(&fwd_ct_gc, &zero);
	if (!gc || gc->running)
		return;
	err = bpf_timer_init(&gc->timer, &fwd_ct_gc, CLOCK_MONOTONIC);
	if (err && err != -EBUSY) /* -EBUSY: initialised before */
		return;
	if (bpf_timer_set_callback(&gc->timer, ct_gc_fired) ||
	    bpf_timer_start(&gc->timer, FWD_CT_GC_INTERVAL_NS, 0))
		return;
	gc->running = 1;
}

/*
 * Start the walk now, whatever ran before: after `up` replaced the table (a new `conntrack
 * max`: user space copied the entries in, unarmed), the walk must be this program's, whose
 * fwd_ct is the new table. A walk still armed by the program before would go over the old
 * table, which it would also keep alive. fwd_ct_gc_start runs this once (loader/up.c).
 */
static __always_inline void ct_gc_restart(void)
{
	struct fwd_ct_gc *gc;
	__u32 zero = 0;
	long err;

	gc = bpf_map_lookup_elem(&fwd_ct_gc, &zero);
	if (!gc)
		return;
	err = bpf_timer_init(&gc->timer, &fwd_ct_gc, CLOCK_MONOTONIC);
	if (err && err != -EBUSY)
		return;
	/* The callback (and the program it belongs to) replaced, also on an armed timer. */
	if (bpf_timer_set_callback(&gc->timer, ct_gc_fired) ||
	    bpf_timer_start(&gc->timer, FWD_CT_GC_INTERVAL_NS, 0))
		return;
	gc->running = 1;
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
	__u64 timeout = ct_timeout_ns(e->track.state), exp = now + timeout;

	if (!e->timer_ns) {
		ct_arm(e, now);			 /* arming failed before: try again */
	} else if (ct_grid(exp) < e->timer_ns) { /* the same grid step: no restart per packet */
		e->expires_ns = exp;
		ct_timer_start(e, exp, now);
	} else if (exp < e->expires_ns || exp > e->expires_ns + FWD_CT_REFRESH_SLACK_NS) {
		e->expires_ns = exp;
	}
}

/* Sequence numbers compare modulo 2^32 (RFC 1982). */
static __always_inline bool ct_seq_after(__u32 a, __u32 b)
{
	return (__s32)(a - b) > 0;
}

/* The sequence space a segment takes: its payload, and one each for SYN and FIN. */
static __always_inline __u32 ct_tcp_seg_len(const struct fwd_pkt *pkt)
{
	__u32 hdr = pkt->l4_off - pkt->l3_off + pkt->tcp_doff;
	__u32 len = pkt->l3_len > hdr ? pkt->l3_len - hdr : 0;

	return len + !!(pkt->tcp_flags & FWD_TCP_SYN) + !!(pkt->tcp_flags & FWD_TCP_FIN);
}

/* The scale of @snd's windows: only when both SYNs announced one (RFC 7323). */
static __always_inline __u8 ct_tcp_scale(const struct fwd_ct_tcp_dir *snd,
					 const struct fwd_ct_tcp_dir *rcv)
{
	if (snd->wscale == FWD_TCP_NO_WSCALE || rcv->wscale == FWD_TCP_NO_WSCALE)
		return 0;
	return snd->wscale & 15;
}

/*
 * Is TCP segment @pkt, from @snd to @rcv, within the window? And learn from it: the sender's
 * end and largest window, and how far its ACK and window let the other side go. False: out
 * of window, nothing learnt. The checks of Linux's tcp_in_window() without its ACK check, each
 * bound widened by one window of the receiver's for the writes skipped below.
 */
static __always_inline bool ct_tcp_window(struct fwd_ct_tcp_dir *snd, struct fwd_ct_tcp_dir *rcv,
					  const struct fwd_pkt *pkt)
{
	__u8 tf = pkt->tcp_flags, scale;
	__u32 seq = pkt->tcp_seq, end = seq + ct_tcp_seg_len(pkt), win, slack;

	if (!snd->seen) {
		/* This side's first segment: the SYN, or the answer to it (SYN-ACK, or RST), which
		 * must acknowledge what the SYN sent, give or take its window: a forged answer
		 * with a guessed number is refused. */
		if ((tf & FWD_TCP_ACK) && rcv->seen &&
		    (ct_seq_after(pkt->tcp_ack, rcv->end) ||
		     ct_seq_after(rcv->end - rcv->maxwin, pkt->tcp_ack)))
			return false;
		snd->end = end;
		snd->maxwin = pkt->tcp_win ? pkt->tcp_win : 1; /* a SYN's window is never scaled */
		snd->wscale = tf & FWD_TCP_SYN ? pkt->tcp_wscale : FWD_TCP_NO_WSCALE;
		snd->seen = 1;
		if (tf & FWD_TCP_ACK) {
			rcv->maxend = pkt->tcp_ack + snd->maxwin;
			rcv->maxend_set = 1;
		}
		return true;
	}
	scale = tf & FWD_TCP_SYN ? 0 : ct_tcp_scale(snd, rcv);
	win = (__u32)pkt->tcp_win << scale;
	if (rcv->seen) {
		slack = rcv->maxwin;
		/* Not beyond the right edge the receiver offered ... */
		if (snd->maxend_set && ct_seq_after(seq, snd->maxend + slack))
			return false;
		/* ... nor older than a window before what this side already sent. */
		if (ct_seq_after(snd->end - 2 * slack, end))
			return false;
	}
	/* Written only when moved by more than a quarter window: see fwd_ct_tcp_dir. */
	if (ct_seq_after(end, snd->end + (rcv->maxwin >> 2)))
		snd->end = end;
	if (win > snd->maxwin)
		snd->maxwin = win;
	if (tf & FWD_TCP_ACK) {
		__u32 maxend = pkt->tcp_ack + (win ? win : 1);

		if (!rcv->maxend_set || ct_seq_after(maxend, rcv->maxend + (snd->maxwin >> 2))) {
			rcv->maxend = maxend;
			rcv->maxend_set = 1;
		}
	}
	return true;
}

/* A new connection on a tuple whose last one closed: tracking starts over. */
static __always_inline void ct_tcp_restart(struct fwd_ct_track *t)
{
	__builtin_memset(t->tcp, 0, sizeof(t->tcp));
	t->tcp[0].wscale = FWD_TCP_NO_WSCALE;
	t->tcp[1].wscale = FWD_TCP_NO_WSCALE;
}

/* The TCP state after an accepted segment (flags already updated with its FIN and RST). */
static __always_inline __u8 ct_tcp_state(__u8 state, __u8 *flags, __u8 tf, bool reply)
{
	const __u8 fins = FWD_CT_F_FIN_ORIG | FWD_CT_F_FIN_REPLY;

	if (*flags & FWD_CT_F_RST)
		return FWD_CT_TCP_CLOSE;
	if ((*flags & fins) == fins)
		return FWD_CT_TCP_TIME_WAIT;
	if (*flags & fins)
		return FWD_CT_TCP_FIN_WAIT;
	switch (state) {
	case FWD_CT_NONE:
		if ((tf & (FWD_TCP_SYN | FWD_TCP_ACK)) == FWD_TCP_SYN)
			return FWD_CT_TCP_SYN_SENT;
		return FWD_CT_TCP_ESTABLISHED; /* picked up (FWD_CT_F_LIBERAL) */
	case FWD_CT_TCP_SYN_SENT:
		if (reply && (tf & (FWD_TCP_SYN | FWD_TCP_ACK)) == (FWD_TCP_SYN | FWD_TCP_ACK))
			return FWD_CT_TCP_SYN_RECV;
		return state;
	case FWD_CT_TCP_SYN_RECV:
		/* The handshake's final ACK: assured from here on. */
		if (!reply && (tf & (FWD_TCP_SYN | FWD_TCP_ACK)) == FWD_TCP_ACK) {
			*flags |= FWD_CT_F_ASSURED;
			return FWD_CT_TCP_ESTABLISHED;
		}
		return state;
	default: return state;
	}
}

/*
 * The state after a packet. @reply: the packet came back. 0 for a TCP segment outside the
 * connection's window: nothing changed, the caller drops it; 1 otherwise.
 * Several CPUs may update one entry at once; the fields are single bytes written whole, and
 * the worst a lost update does is keep a timeout one packet longer.
 * A global function, verified once: inlined at each of its four callers it cost the verifier
 * a third more time loading fwd_tc_ingress (131 -> 167 ms), which `up` pays on every run.
 */
__attribute__((noinline)) int fwd_ct_advance(struct fwd_ct_track *t, const struct fwd_pkt *pkt,
					     int reply)
{
	__u8 flags, state;

	if (!t || !pkt)
		return 1;
	flags = t->flags;
	state = t->state;

	if (reply)
		flags |= FWD_CT_F_SEEN_REPLY;
	if (pkt->proto == IPPROTO_TCP) {
		__u8 tf = pkt->tcp_flags;

		/* A new SYN from the client on a closed tuple opens a new connection on it. */
		if (!reply && (tf & (FWD_TCP_SYN | FWD_TCP_ACK | FWD_TCP_RST)) == FWD_TCP_SYN &&
		    (state == FWD_CT_TCP_CLOSE || state == FWD_CT_TCP_TIME_WAIT)) {
			ct_tcp_restart(t);
			flags = 0;
			state = FWD_CT_NONE;
		}
		if (!(flags & FWD_CT_F_LIBERAL) &&
		    !(reply ? ct_tcp_window(&t->tcp[1], &t->tcp[0], pkt)
			    : ct_tcp_window(&t->tcp[0], &t->tcp[1], pkt)))
			return 0;
		if (tf & FWD_TCP_RST)
			flags |= FWD_CT_F_RST;
		if (tf & FWD_TCP_FIN)
			flags |= reply ? FWD_CT_F_FIN_REPLY : FWD_CT_F_FIN_ORIG;
		state = ct_tcp_state(state, &flags, tf, reply);
		/* Picked up: assured once the other side answered, as UDP. */
		if ((flags & (FWD_CT_F_LIBERAL | FWD_CT_F_SEEN_REPLY)) ==
		    (FWD_CT_F_LIBERAL | FWD_CT_F_SEEN_REPLY))
			flags |= FWD_CT_F_ASSURED;
	} else if (pkt->proto == IPPROTO_UDP) {
		state = flags & FWD_CT_F_SEEN_REPLY ? FWD_CT_UDP_ASSURED : FWD_CT_UDP;
		if (flags & FWD_CT_F_SEEN_REPLY)
			flags |= FWD_CT_F_ASSURED;
	} else {
		state = FWD_CT_ICMP;
	}
	if (flags != t->flags) /* no write, no cache line bouncing, when nothing changes */
		t->flags = flags;
	if (state != t->state)
		t->state = state;
	return 1;
}

/* A packet of a tracked connection: state, then expiry. False: out of window (ct_advance). */
static __always_inline bool ct_update(struct fwd_ct_entry *e, const struct fwd_pkt *pkt, bool reply,
				      __u64 now)
{
	if (!fwd_ct_advance(&e->track, pkt, reply))
		return false;
	ct_refresh(e, now);
	return true;
}

/* May this packet, with no entry, open a connection? From the LAN only a TCP SYN may. */
static __always_inline bool ct_may_open(const struct fwd_pkt *pkt, bool from_lan)
{
	return !from_lan || pkt->proto != IPPROTO_TCP ||
	       (pkt->tcp_flags & (FWD_TCP_SYN | FWD_TCP_ACK | FWD_TCP_RST | FWD_TCP_FIN)) ==
		   FWD_TCP_SYN;
}

/*
 * The state a new connection starts in (no timer yet: ct_arm()). A TCP segment that is not a
 * SYN (from a namespace: a connection older than the table, after a flush or a reload with a
 * new table) is picked up as established, without window checks; its FIN or RST counts.
 */
static __always_inline void ct_init_state(struct fwd_ct_entry *e, const struct fwd_pkt *pkt)
{
	e->track.state = FWD_CT_NONE;
	e->track.flags = 0;
	ct_tcp_restart(&e->track);
	if (pkt->proto == IPPROTO_TCP &&
	    (pkt->tcp_flags & (FWD_TCP_SYN | FWD_TCP_ACK)) != FWD_TCP_SYN)
		e->track.flags = FWD_CT_F_LIBERAL;
	fwd_ct_advance(&e->track, pkt,
		       0); /* a first segment is always within its (unknown) window */
}

/*
 * Arm the timer of an ORIG entry: at creation, and again on a later packet when that failed.
 * bpf_timer_init() allocates (kmalloc_nolock on 6.18) and fails now and then under a burst of
 * new connections (seen: -ENOMEM for about 1 in 50 at 2,000 connections/s). Dropping the
 * packet for that would cost the connection a SYN retransmission (1 s), so the entry stays,
 * unarmed (timer_ns == 0) but with its expiry, and the next packet of either direction tries
 * again. An entry that never sees another packet is deleted by the table's walk (ct_gc) once
 * expired.
 */
static __always_inline void ct_arm(struct fwd_ct_entry *e, __u64 now)
{
	__u64 timeout = ct_timeout_ns(e->track.state);
	long err;

	/* The expiry first: an entry whose timer cannot be armed still expires (ct_gc). */
	e->expires_ns = now + timeout;
	err = bpf_timer_init(&e->timer, &fwd_ct, CLOCK_MONOTONIC);
	if (err && err != -EBUSY) /* -EBUSY: initialised by an earlier, half-failed try */
		goto unarmed;
	if (bpf_timer_set_callback(&e->timer, ct_timer_fired) ||
	    ct_timer_start(e, now + timeout, now))
		goto unarmed;
	return;
unarmed:
	ct_gc_kick();
}

#endif

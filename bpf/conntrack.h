/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Connection tracking: the fwd_ct table (two entries per connection, see fwd_kern_user.h), the
 * TCP/UDP/ICMP state that picks a timeout, and expiry.
 *
 * Why not an LRU: an LRU_HASH evicts live connections silently when it fills, so a flood of
 * new flows breaks established ones and "table full" can never be seen. With a plain HASH an
 * insert into a full table fails, which fwd counts (drop_ct_full) and drops.
 *
 * A full table still admits new connections while some of its connections are not assured:
 * fwd_ct_recent remembers the latest new ones, and a new connection that finds no free slot
 * first evicts the oldest of those that is not assured, or has expired (ct_early_drop), as
 * Linux's early drop does. TCP is assured only once its handshake completed, UDP once it saw
 * traffic both ways: a flood of spoofed SYNs, even answered by SYN-ACKs, cannot push out
 * established connections, nor lock new ones out for a whole timeout, and its entries leave
 * after the short half-open timeout.
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
 * Expiry, as nf_conntrack's: a connection's ORIG entry holds its expiry, which its packets
 * move; past it the connection is gone, whether or not its entries were deleted yet: a lookup
 * treats it as absent and deletes it (ct_lookup). What no packet comes back for is deleted by
 * the table's sweep: one timer per table, which every FWD_CT_SWEEP_TICK_NS reads the next
 * 1/FWD_CT_SWEEP_STEPS of fwd_ct_slots (the whole array every 2 s at most) and looks up only the
 * connections whose slot says they may have expired. No daemon, no timer per connection.
 * Chosen with numbers (bench/ct_design.bpf.c, `make bench-ct-design`, a table of 1M
 * connections, medians of 3; bench/README.md has the table):
 *   - a bpf_timer per connection, fwd's design before: bpf_timer_init() allocates and failed
 *     with -ENOMEM for 86-100 % of a burst of new connections (kmalloc_nolock, Linux 6.18), so
 *     it needs a second mechanism anyway, and each firing cost 8.6 us of interrupt time;
 *   - a sweep that walks the hash (bpf_for_each_map_elem): 0.54 us per connection and pass,
 *     and a pass cannot be cut into steps (a walk cannot resume), so a million connections
 *     would be a half-second softirq; the slots cost 6 ns per connection and pass, in steps;
 *   - a FIFO of keys: 0.51 us per check, queues per timeout class to keep them in order;
 *   - an LRU with a lifetime field: evicts live connections (lookups missed at 100k);
 *   - preallocated entries: inserts and deletes at half the cost (0.77 against 1.9 us, 1.1
 *     against 2.4 us), but 88 MB and 40 ms of `up` for the default 262,144 connections,
 *     used or not; allocated on insert, the table costs what it holds (398 bytes a
 *     connection with its slot).
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
#ifndef EDQUOT
#define EDQUOT 122 /* a namespace's cap (conntrack per-namespace) */
#endif
/* expires_ns is rewritten only when it moves by more than this: a write per packet would
 * bounce the entry's cache line between the CPUs of both directions. */
#define FWD_CT_REFRESH_SLACK_NS (FWD_NSEC_PER_SEC / 4)
/* The sweep: a step every 250 ms, the whole of fwd_ct_slots in 8 steps, or in one up to 4096
 * slots (a few microseconds). An expired connection lingers (as memory, never as a
 * connection: ct_lookup) at most 2 s. */
#define FWD_CT_SWEEP_TICK_NS   (FWD_NSEC_PER_SEC / 4)
#define FWD_CT_SWEEP_STEPS     8
#define FWD_CT_SWEEP_MIN_SLOTS 4096
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

/*
 * fwd_ct_peers: the fwd_ct tables of the other topologies that masquerade out of the same
 * uplink, filled from index 0 by `up` and `down` of any of them (loader/peers.c). A REPLY key
 * stands for one connection only if it is unique on the uplink's address, and each topology
 * has a table of its own: a new masqueraded connection's port is checked against theirs too
 * (nf_conntrack has one table, so MASQUERADE gets this for free). Hash maps' max_entries is
 * not part of an inner map's shape: tables of any size fit.
 */
/* clang-format off */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, FWD_MAX_PEERS);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(max_entries, 1);
		__uint(map_flags, BPF_F_NO_PREALLOC);
		__type(key, struct fwd_ct_key);
		__type(value, struct fwd_ct_entry);
	});
} fwd_ct_peers SEC(".maps");
/* clang-format on */

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, FWD_CT_RECENT_MAX);
	__type(value, struct fwd_ct_key); /* ORIG keys of new connections, oldest first */
} fwd_ct_recent SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FWD_CT_MAX_CONNS);
	__type(key, __u32);
	__type(value, struct fwd_ct_slot);
} fwd_ct_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, FWD_CT_MAX_CONNS);
	__type(value, __u32); /* indexes of free fwd_ct_slots; filled by fwd_ct_start */
} fwd_ct_free SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FWD_MAX_ENDPOINTS);
	__type(key, struct fwd_ct_ns_key);
	__type(value, struct fwd_ct_ns); /* the loader adds and removes namespaces */
} fwd_ct_ns SEC(".maps");

/* The sweep's timer and where it stands. Pinned: a map that loses its last user reference
 * cancels its timers. */
struct fwd_ct_gc {
	struct bpf_timer timer;
	__u32 cursor;  /* the next slot to read */
	__u32 cursor6; /* the same in fwd_ct6_slots (bpf/conntrack6.h) */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fwd_ct_gc);
} fwd_ct_gc SEC(".maps");

/*
 * fwd_ct_gen: how many connections this table lost (fwd_ct_forget: expired, evicted, flushed,
 * pruned by `up`). What keeps a copy of a connection outside the table, the XDP fast path's
 * flow cache (bpf/xdp_flows.h), compares it with the count it copied at: any delete since, and
 * every copy is void. Pinned, as the table is: while `up` swaps the programs, a delete by the
 * ones going voids the copies of the fast path coming.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} fwd_ct_gen SEC(".maps");

/* The table's count of deletes, which copies of its connections are checked against. */
static __always_inline __u64 ct_gen(void)
{
	__u32 zero = 0;
	__u64 *g = bpf_map_lookup_elem(&fwd_ct_gen, &zero);

	return g ? *g : 0;
}

static __always_inline void ct_gen_bump(void)
{
	__u32 zero = 0;
	__u64 *g = bpf_map_lookup_elem(&fwd_ct_gen, &zero);

	if (g)
		__sync_fetch_and_add(g, 1);
}

/* A new connection (its ORIG key) becomes a candidate for early drop; a full queue forgets its
 * oldest. */
static __always_inline void ct_recent_push(const struct fwd_ct_key *okey)
{
	bpf_map_push_elem(&fwd_ct_recent, okey, BPF_EXIST);
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

/*
 * The conntrack clock: CLOCK_MONOTONIC at tick resolution. Timeouts are seconds, and the coarse
 * clock is a memory read where bpf_ktime_get_ns() reads the clocksource, which under a
 * hypervisor (pvclock) showed as 1.7 % of a CPU forwarding small datagrams through SNAT.
 * Everything that compares with expires_ns uses this clock, the sweep and user space too.
 */
static __always_inline __u64 ct_now(void)
{
	return bpf_ktime_get_coarse_ns();
}

/* The key of a packet as it is: its own addresses and ports. */
static __always_inline void ct_key_of(struct fwd_ct_key *key, const struct fwd_pkt *pkt)
{
	__builtin_memset(key, 0, sizeof(*key));
	key->saddr = pkt->saddr;
	key->daddr = pkt->daddr;
	key->sport = pkt->sport;
	key->dport = pkt->dport;
	key->proto = pkt->proto;
}

/* Slot @idx is free again: marked so (the sweep skips it) and queued for the next connection. */
static __always_inline void ct_slot_release(__u32 idx)
{
	struct fwd_ct_slot *sl = bpf_map_lookup_elem(&fwd_ct_slots, &idx);

	if (!sl)
		return;
	sl->key.proto = 0;
	bpf_map_push_elem(&fwd_ct_free, &idx, 0);
}

/*
 * Delete connection @e (its ORIG entry, under @okey): the REPLY entry, then this one, and hand
 * its slot back and take it off its namespace's count if this delete was the one that removed
 * it (two CPUs may both try; one succeeds), which tells a monitor (@kind: enum
 * fwd_event_kind, why it went). 1 when it did.
 * A global function, as fwd_ct_early_drop(): verified once, not at each of a dozen callers,
 * some inside loops (the SNAT port search), which took the verifier past its million
 * instructions.
 */
__attribute__((noinline)) int fwd_ct_forget(const struct fwd_ct_key *okey,
					    const struct fwd_ct_entry *e, __u32 kind)
{
	struct fwd_ct_key key, peer;
	__u8 counted, state, nat;
	__u32 slot;

	if (!okey || !e)
		return 0;
	slot = e->slot;
	counted = e->ns_counted;
	state = e->track.state;
	nat = e->nat;

	/* Copies: @okey may point into an entry that goes. */
	__builtin_memcpy(&key, okey, sizeof(key));
	__builtin_memcpy(&peer, &e->peer, sizeof(peer));
	bpf_map_delete_elem(&fwd_ct, &peer);
	if (bpf_map_delete_elem(&fwd_ct, &key))
		return 0;
	ct_gen_bump();
	if (slot != FWD_CT_NO_SLOT)
		ct_slot_release(slot);
	if (counted) {
		struct fwd_ct_ns_key nk = { .addr = key.saddr };
		struct fwd_ct_ns *c = bpf_map_lookup_elem(&fwd_ct_ns, &nk);

		if (c)
			__sync_fetch_and_add(&c->conns, -1);
	}
	monitor_ct(kind, &key, &peer, state, nat);
	return 1;
}

static __always_inline bool ct_forget(const struct fwd_ct_key *okey, const struct fwd_ct_entry *e,
				      __u32 kind)
{
	struct fwd_ct_key key;

	/* On the stack: a global function's pointer arguments must be writable, and a map
	 * walk's key is not. */
	__builtin_memcpy(&key, okey, sizeof(key));
	return fwd_ct_forget(&key, e, kind);
}

/* Why connection @e goes when its time ran out: a TCP connection that ended (FIN both ways,
 * RST) closed, any other expired; as conntrack -E shows DESTROY only then too. */
static __always_inline __u32 ct_timed_out_kind(const struct fwd_ct_entry *e)
{
	__u8 st = e->track.state;

	return st == FWD_CT_TCP_TIME_WAIT || st == FWD_CT_TCP_CLOSE ? FWD_EV_CT_CLOSED
								    : FWD_EV_CT_EXPIRED;
}

/*
 * The count of the namespace at @addr, which a new connection of its own goes on; NULL when
 * it is no namespace of the topology (not counted). *@over: it holds conntrack per-namespace
 * connections already, the new one must not open.
 */
static __always_inline struct fwd_ct_ns *ct_ns_charge(__be32 addr, bool *over)
{
	struct fwd_ct_ns_key nk = { .addr = addr };
	struct fwd_ct_ns *c = bpf_map_lookup_elem(&fwd_ct_ns, &nk);

	/* Signed: decrements racing a re-added namespace's fresh count may take it below 0. */
	*over = c && (__s32)c->conns >= (__s32)fwd_cfg.ct_per_ns;
	return c;
}

static __always_inline bool ct_live(const struct fwd_ct_entry *e, __u64 now)
{
	return e->expires_ns > now;
}

/*
 * The entry under @key, or NULL: none, or the ORIG entry of a connection that expired, which
 * goes now (the sweep would have come within 2 s). A REPLY entry is returned as it is: its
 * connection's expiry is in the ORIG entry, which the caller looks up next.
 */
static __always_inline struct fwd_ct_entry *ct_lookup(const struct fwd_ct_key *key, __u64 now)
{
	struct fwd_ct_entry *e = bpf_map_lookup_elem(&fwd_ct, key);

	if (e && e->dir == FWD_CT_DIR_ORIG && !ct_live(e, now)) {
		ct_forget(key, e, ct_timed_out_kind(e));
		return NULL;
	}
	return e;
}

/*
 * May connection @e be evicted for a new one? One not assured, as in Linux's early drop, and
 * one that is closing or closed (TCP fin_wait, time_wait, close), as Linux's
 * tcp_can_early_drop() allows too: at 10,000 new connections a second, time_wait's 120 s
 * would otherwise fill a table of 262,144 in half a minute with connections that are over.
 */
static __always_inline bool ct_evictable(const struct fwd_ct_entry *e)
{
	__u8 st = e->track.state;

	return !(e->track.flags & FWD_CT_F_ASSURED) || st == FWD_CT_TCP_FIN_WAIT ||
	       st == FWD_CT_TCP_TIME_WAIT || st == FWD_CT_TCP_CLOSE;
}

/*
 * No free slot: make one by evicting the oldest recent connection that may go (ct_evictable),
 * or has expired, both of its entries. Candidates gone meanwhile or not evictable are dropped
 * from the queue and skipped. 1 when one went. Global: see fwd_ct_forget().
 */
__attribute__((noinline)) int fwd_ct_early_drop(__u64 now)
{
	struct fwd_ct_key key;
	struct fwd_ct_entry *e;

	for (int i = 0; i < FWD_CT_EARLY_DROP_TRIES; i++) {
		if (bpf_map_pop_elem(&fwd_ct_recent, &key))
			return 0; /* no candidate left */
		e = bpf_map_lookup_elem(&fwd_ct, &key);
		if (!e || e->dir != FWD_CT_DIR_ORIG)
			continue;
		if (!ct_live(e, now)) {
			ct_forget(&key, e, ct_timed_out_kind(e)); /* gone already: no early drop */
			return 1;
		}
		if (!ct_evictable(e))
			continue;
		if (ct_forget(&key, e, FWD_EV_CT_EVICTED))
			fwd_count_event(FWD_CNT_CT_EARLY_DROP);
		return 1;
	}
	return 0;
}

static __always_inline bool ct_early_drop(__u64 now)
{
	return fwd_ct_early_drop(now);
}

/* A slot for a new connection, evicting one (ct_early_drop) when none is free. */
static __always_inline bool ct_slot_take(__u32 *idx, __u64 now)
{
	if (!bpf_map_pop_elem(&fwd_ct_free, idx))
		return true;
	fwd_count_event(FWD_CNT_CT_TABLE_FULL);
	return ct_early_drop(now) && !bpf_map_pop_elem(&fwd_ct_free, idx);
}

/* Slot @idx names connection @okey, expiring at @expires_ns. */
static __always_inline void ct_slot_set(__u32 idx, const struct fwd_ct_key *okey, __u64 expires_ns)
{
	struct fwd_ct_slot *sl = bpf_map_lookup_elem(&fwd_ct_slots, &idx);

	if (!sl)
		return;
	sl->expires_ns = expires_ns;
	__builtin_memcpy(&sl->key, okey, sizeof(sl->key)); /* proto last but one field: set */
}

/* Insert the new entry @v under @key (BPF_NOEXIST); a full hash first makes room if it can. */
static __always_inline long ct_insert(const struct fwd_ct_key *key, struct fwd_ct_entry *v,
				      __u64 now)
{
	long err = bpf_map_update_elem(&fwd_ct, key, v, BPF_NOEXIST);

	if (err != -E2BIG)
		return err;
	/* A new connection's REPLY entry goes in first: a full table shows here first. */
	fwd_count_event(FWD_CNT_CT_TABLE_FULL);
	if (ct_early_drop(now))
		err = bpf_map_update_elem(&fwd_ct, key, v, BPF_NOEXIST);
	return err;
}

/*
 * The sweep's look at slot @idx: a connection whose lower bound passed is looked up; expired,
 * it goes, else the slot learns its expiry.
 */
struct ct_sweep_ctx {
	__u64 now;
	__u32 cursor;
	__u32 n;
};

static long ct_sweep_slot(__u32 i, struct ct_sweep_ctx *c)
{
	struct fwd_ct_key key;
	struct fwd_ct_entry *e;
	struct fwd_ct_slot *sl;
	__u32 idx = c->cursor + i;

	if (idx >= c->n)
		idx -= c->n;
	sl = bpf_map_lookup_elem(&fwd_ct_slots, &idx);
	if (!sl || !sl->key.proto || sl->expires_ns > c->now)
		return 0;
	__builtin_memcpy(&key, &sl->key, sizeof(key));
	e = bpf_map_lookup_elem(&fwd_ct, &key);
	/* Another slot's connection (this one's went, the tuple was opened again): not ours. */
	if (!e || e->dir != FWD_CT_DIR_ORIG || e->slot != idx)
		return 0;
	if (ct_live(e, c->now))
		sl->expires_ns = e->expires_ns;
	else
		ct_forget(&key, e, ct_timed_out_kind(e));
	return 0;
}

/* Every slot free: a new table's fwd_ct_free gets all indexes (fwd_ct_start), in runs of at
 * most BPF_MAX_LOOPS (2^23) for bpf_loop; conntrack max goes up to twice that. */
#define FWD_BPF_MAX_LOOPS (1u << 23)

static long ct_fill_one(__u32 i, __u32 *base)
{
	__u32 idx = *base + i;

	bpf_map_push_elem(&fwd_ct_free, &idx, 0);
	return 0;
}

static __always_inline void ct_slots_fill(void)
{
	__u32 base = 0, n = fwd_cfg.ct_max, run;

	for (int k = 0; k < 2 && base < n; k++) {
		run = n - base < FWD_BPF_MAX_LOOPS ? n - base : FWD_BPF_MAX_LOOPS;
		bpf_loop(run, ct_fill_one, &base, 0);
		base += run;
	}
}

/*
 * An ORIG entry without a slot (copied in by `up` from a table of another size) gets one, or,
 * when none is free, goes: an entry the sweep cannot find would never expire.
 */
static long ct_adopt_one(void *map, struct fwd_ct_key *key, struct fwd_ct_entry *e, void *ctx)
{
	__u32 idx;

	if (e->dir != FWD_CT_DIR_ORIG || e->slot != FWD_CT_NO_SLOT)
		return 0;
	if (bpf_map_pop_elem(&fwd_ct_free, &idx)) {
		ct_forget(key, e, FWD_EV_CT_EVICTED); /* no room in the new table */
		return 0;
	}
	e->slot = idx;
	ct_slot_set(idx, key, e->expires_ns);
	return 0;
}

static long ct_ns_zero(void *map, struct fwd_ct_ns_key *key, struct fwd_ct_ns *c, void *ctx)
{
	c->conns = 0;
	return 0;
}

static long ct_ns_count(void *map, struct fwd_ct_key *key, struct fwd_ct_entry *e, void *ctx)
{
	struct fwd_ct_ns_key nk = { .addr = key->saddr };
	struct fwd_ct_ns *c;

	if (e->dir != FWD_CT_DIR_ORIG || !e->ns_counted)
		return 0;
	c = bpf_map_lookup_elem(&fwd_ct_ns, &nk);
	if (c)
		__sync_fetch_and_add(&c->conns, 1);
	return 0;
}

/* fwd_ct_delete's count of this run (a global: a count in the loop's context would keep the
 * verifier from seeing the callback converge). */
__u32 fwd_ct_deleted;

/* Forget the connection whose ORIG key is the @i-th of @skb's data (fwd_ct_delete). */
struct ct_delete_ctx {
	struct __sk_buff *skb;
};

static long ct_delete_one(__u32 i, struct ct_delete_ctx *c)
{
	struct fwd_ct_key key;
	struct fwd_ct_entry *e;

	if (bpf_skb_load_bytes(c->skb, i * sizeof(key), &key, sizeof(key)))
		return 1;
	e = bpf_map_lookup_elem(&fwd_ct, &key);
	if (e && e->dir == FWD_CT_DIR_ORIG && ct_forget(&key, e, FWD_EV_CT_DELETED))
		__sync_fetch_and_add(&fwd_ct_deleted, 1);
	return 0;
}

/*
 * Set the expiry to now + the state's timeout. A shorter timeout (FIN, RST) is written at
 * once, and true says the slot's lower bound must come down with it, so the sweep comes in
 * time; a longer one only past the slack, sparing the cache line on every packet.
 */
static __always_inline bool ct_expiry_move(struct fwd_ct_entry *e, __u64 now)
{
	__u64 exp = now + ct_timeout_ns(e->track.state);

	if (exp < e->expires_ns) {
		e->expires_ns = exp;
		return true;
	}
	if (exp > e->expires_ns + FWD_CT_REFRESH_SLACK_NS)
		e->expires_ns = exp;
	return false;
}

static __always_inline void ct_refresh(struct fwd_ct_entry *e, __u64 now)
{
	struct fwd_ct_slot *sl;
	__u32 idx = e->slot;

	if (!ct_expiry_move(e, now))
		return;
	sl = bpf_map_lookup_elem(&fwd_ct_slots, &idx);
	if (sl && sl->expires_ns > e->expires_ns)
		sl->expires_ns = e->expires_ns;
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

/*
 * The state after a packet of a tracked connection. False: out of window (fwd_ct_advance).
 * IPv6 (bpf/conntrack6.h) passes its upper-layer header read into a struct fwd_pkt too.
 */
static __always_inline bool ct_track(struct fwd_ct_entry *e, const struct fwd_pkt *pkt, bool reply)
{
	/* A later fragment carries no flags or sequence numbers: its first spoke for it. */
	return fwd_ipv4_is_later_fragment(pkt) || fwd_ct_advance(&e->track, pkt, reply);
}

/* A packet of a tracked connection: state, then expiry. False: out of window. */
static __always_inline bool ct_update(struct fwd_ct_entry *e, const struct fwd_pkt *pkt, bool reply,
				      __u64 now)
{
	if (!ct_track(e, pkt, reply))
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
 * The state a new connection starts in (its expiry follows from it). A TCP segment that is not a
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

#endif

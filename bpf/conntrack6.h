/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Connection tracking for IPv6 (NAT66): fwd_ct6 beside fwd_ct, with its own slots, free queue
 * and recent queue, as bpf/conntrack.h describes for IPv4. A connection's state, TCP tracking,
 * timeouts and expiry are the very code IPv4 runs (an IPv6 entry begins with an IPv4 one:
 * struct fwd_ct6_entry), so only what touches a key is here: lookup, insert, forget, early
 * drop, the sweep's look at a slot. The one sweep timer (bpf/ct_sweep.h) walks both tables.
 *
 * Kept apart rather than widening fwd_ct_key to 40 bytes: IPv4's table keeps its layout (a
 * re-`up` of a newer fwd keeps its connections) and its memory per connection, which is what
 * a table of a million connections is bound by.
 */
#ifndef FWD_BPF_CONNTRACK6_H
#define FWD_BPF_CONNTRACK6_H

#include "conntrack.h"
#include "parse6.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FWD_CT_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fwd_ct6_key);
	__type(value, struct fwd_ct6_entry);
} fwd_ct6 SEC(".maps");

/* fwd_ct6 of the other topologies masquerading IPv6 out of the same uplink (fwd_ct_peers). */
/* clang-format off */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, FWD_MAX_PEERS);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(max_entries, 1);
		__uint(map_flags, BPF_F_NO_PREALLOC);
		__type(key, struct fwd_ct6_key);
		__type(value, struct fwd_ct6_entry);
	});
} fwd_ct6_peers SEC(".maps");
/* clang-format on */

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, FWD_CT_RECENT_MAX);
	__type(value, struct fwd_ct6_key); /* ORIG keys of new connections, oldest first */
} fwd_ct6_recent SEC(".maps");

/* Sized like fwd_ct_slots by `up` when the topology masquerades IPv6, else one slot. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FWD_CT_MAX_CONNS);
	__type(key, __u32);
	__type(value, struct fwd_ct6_slot);
} fwd_ct6_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, FWD_CT_MAX_CONNS);
	__type(value, __u32); /* indexes of free fwd_ct6_slots; filled by fwd_ct_start */
} fwd_ct6_free SEC(".maps");

static __always_inline void ct6_slot_release(__u32 idx)
{
	struct fwd_ct6_slot *sl = bpf_map_lookup_elem(&fwd_ct6_slots, &idx);

	if (!sl)
		return;
	sl->key.proto = 0;
	bpf_map_push_elem(&fwd_ct6_free, &idx, 0);
}

/*
 * As fwd_ct_forget(), for fwd_ct6: @kind (enum fwd_event_kind) tells a monitor why it went.
 * Only through ct6_forget(), whose @okey is a copy on its caller's stack, so unlike the REPLY
 * key it does not go with the entry; not copied again here: 40 bytes more of this frame took
 * the IPv6 programs' deepest chain of calls past the verifier's 512 bytes of stack.
 */
__attribute__((noinline)) int fwd_ct6_forget(const struct fwd_ct6_key *okey,
					     const struct fwd_ct6_entry *e, __u32 kind)
{
	struct fwd_ct6_key peer;
	__u8 counted, state, nat;
	__be32 ns_addr;
	__u32 slot;

	if (!okey || !e)
		return 0;
	slot = e->c.slot;
	counted = e->c.ns_counted;
	ns_addr = e->ns_addr;
	state = e->c.track.state;
	nat = e->c.nat;
	/* A copy: the REPLY key is in the entry that goes. */
	__builtin_memcpy(&peer, &e->peer, sizeof(peer));
	bpf_map_delete_elem(&fwd_ct6, &peer);
	if (bpf_map_delete_elem(&fwd_ct6, okey))
		return 0;
	if (slot != FWD_CT_NO_SLOT)
		ct6_slot_release(slot);
	if (counted) {
		struct fwd_ct_ns_key nk = { .addr = ns_addr };
		struct fwd_ct_ns *c = bpf_map_lookup_elem(&fwd_ct_ns, &nk);

		if (c)
			__sync_fetch_and_add(&c->conns, -1);
	}
	monitor_ct6_gone(kind, okey, &peer, state, nat);
	return 1;
}

static __always_inline bool ct6_forget(const struct fwd_ct6_key *okey,
				       const struct fwd_ct6_entry *e, __u32 kind)
{
	struct fwd_ct6_key key;

	__builtin_memcpy(&key, okey, sizeof(key)); /* writable, as a global function wants */
	return fwd_ct6_forget(&key, e, kind);
}

/* As ct_lookup(): NULL for none, or for a connection whose time ran out (it goes now). */
static __always_inline struct fwd_ct6_entry *ct6_lookup(const struct fwd_ct6_key *key, __u64 now)
{
	struct fwd_ct6_entry *e = bpf_map_lookup_elem(&fwd_ct6, key);

	if (e && e->c.dir == FWD_CT_DIR_ORIG && !ct_live(&e->c, now)) {
		ct6_forget(key, e, ct_timed_out_kind(&e->c));
		return NULL;
	}
	return e;
}

/* As fwd_ct_early_drop(), over fwd_ct6_recent. */
__attribute__((noinline)) int fwd_ct6_early_drop(__u64 now)
{
	struct fwd_ct6_key key;
	struct fwd_ct6_entry *e;

	for (int i = 0; i < FWD_CT_EARLY_DROP_TRIES; i++) {
		if (bpf_map_pop_elem(&fwd_ct6_recent, &key))
			return 0;
		e = bpf_map_lookup_elem(&fwd_ct6, &key);
		if (!e || e->c.dir != FWD_CT_DIR_ORIG)
			continue;
		if (!ct_live(&e->c, now)) {
			ct6_forget(&key, e, ct_timed_out_kind(&e->c));
			return 1;
		}
		if (!ct_evictable(&e->c))
			continue;
		if (ct6_forget(&key, e, FWD_EV_CT_EVICTED))
			fwd_count_event(FWD_CNT_CT_EARLY_DROP);
		return 1;
	}
	return 0;
}

static __always_inline bool ct6_slot_take(__u32 *idx, __u64 now)
{
	if (!bpf_map_pop_elem(&fwd_ct6_free, idx))
		return true;
	fwd_count_event(FWD_CNT_CT_TABLE_FULL);
	return fwd_ct6_early_drop(now) && !bpf_map_pop_elem(&fwd_ct6_free, idx);
}

static __always_inline void ct6_slot_set(__u32 idx, const struct fwd_ct6_key *okey,
					 __u64 expires_ns)
{
	struct fwd_ct6_slot *sl = bpf_map_lookup_elem(&fwd_ct6_slots, &idx);

	if (!sl)
		return;
	sl->expires_ns = expires_ns;
	__builtin_memcpy(&sl->key, okey, sizeof(sl->key));
}

/* As ct_update(), the slot's bound in fwd_ct6_slots. */
static __always_inline bool ct6_update(struct fwd_ct6_entry *e, const struct fwd_pkt *l4,
				       bool reply, __u64 now)
{
	struct fwd_ct6_slot *sl;
	__u32 idx;

	if (!ct_track(&e->c, l4, reply))
		return false;
	if (ct_expiry_move(&e->c, now)) {
		idx = e->c.slot;
		sl = bpf_map_lookup_elem(&fwd_ct6_slots, &idx);
		if (sl && sl->expires_ns > e->c.expires_ns)
			sl->expires_ns = e->c.expires_ns;
	}
	return true;
}

static __always_inline bool ct6_key_eq(const struct fwd_ct6_key *a, const struct fwd_ct6_key *b)
{
	return fwd_ipv6_equal(a->saddr, b->saddr) && fwd_ipv6_equal(a->daddr, b->daddr) &&
	       a->sport == b->sport && a->dport == b->dport && a->proto == b->proto;
}

/* The sweep's look at slot @i of fwd_ct6_slots (ct_sweep_slot()). */
static long ct6_sweep_slot(__u32 i, struct ct_sweep_ctx *c)
{
	struct fwd_ct6_key key;
	struct fwd_ct6_entry *e;
	struct fwd_ct6_slot *sl;
	__u32 idx = c->cursor + i;

	if (idx >= c->n)
		idx -= c->n;
	sl = bpf_map_lookup_elem(&fwd_ct6_slots, &idx);
	if (!sl || !sl->key.proto || sl->expires_ns > c->now)
		return 0;
	__builtin_memcpy(&key, &sl->key, sizeof(key));
	e = bpf_map_lookup_elem(&fwd_ct6, &key);
	if (!e || e->c.dir != FWD_CT_DIR_ORIG || e->c.slot != idx)
		return 0;
	if (ct_live(&e->c, c->now))
		sl->expires_ns = e->c.expires_ns;
	else
		ct6_forget(&key, e, ct_timed_out_kind(&e->c));
	return 0;
}

static long ct6_fill_one(__u32 i, __u32 *base)
{
	__u32 idx = *base + i;

	bpf_map_push_elem(&fwd_ct6_free, &idx, 0);
	return 0;
}

/* Every slot of fwd_ct6_slots free (a new table). */
static __always_inline void ct6_slots_fill(void)
{
	__u32 base = 0, n = fwd_cfg.ct6_max, run;

	for (int k = 0; k < 2 && base < n; k++) {
		run = n - base < FWD_BPF_MAX_LOOPS ? n - base : FWD_BPF_MAX_LOOPS;
		bpf_loop(run, ct6_fill_one, &base, 0);
		base += run;
	}
}

/* As ct_adopt_one(): a copied connection gets a slot, or goes. */
static long ct6_adopt_one(void *map, struct fwd_ct6_key *key, struct fwd_ct6_entry *e, void *ctx)
{
	__u32 idx;

	if (e->c.dir != FWD_CT_DIR_ORIG || e->c.slot != FWD_CT_NO_SLOT)
		return 0;
	if (bpf_map_pop_elem(&fwd_ct6_free, &idx)) {
		ct6_forget(key, e, FWD_EV_CT_EVICTED); /* no room in the new table */
		return 0;
	}
	e->c.slot = idx;
	ct6_slot_set(idx, key, e->c.expires_ns);
	return 0;
}

static long ct6_ns_count(void *map, struct fwd_ct6_key *key, struct fwd_ct6_entry *e, void *ctx)
{
	struct fwd_ct_ns_key nk = { .addr = e->ns_addr };
	struct fwd_ct_ns *c;

	if (e->c.dir != FWD_CT_DIR_ORIG || !e->c.ns_counted)
		return 0;
	c = bpf_map_lookup_elem(&fwd_ct_ns, &nk);
	if (c)
		__sync_fetch_and_add(&c->conns, 1);
	return 0;
}

/* fwd_ct6_delete's count of this run (see fwd_ct_deleted). */
__u32 fwd_ct6_deleted;

static long ct6_delete_one(__u32 i, struct ct_delete_ctx *c)
{
	struct fwd_ct6_key key;
	struct fwd_ct6_entry *e;

	if (bpf_skb_load_bytes(c->skb, i * sizeof(key), &key, sizeof(key)))
		return 1;
	e = bpf_map_lookup_elem(&fwd_ct6, &key);
	if (e && e->c.dir == FWD_CT_DIR_ORIG && ct6_forget(&key, e, FWD_EV_CT_DELETED))
		__sync_fetch_and_add(&fwd_ct6_deleted, 1);
	return 0;
}

#endif

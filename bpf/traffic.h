/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Counters per namespace and per forward (struct fwd_traffic in fwd_kern_user.h): what a
 * namespace sent and what was delivered into it, what went through a forward to its target
 * and back, and what a namespace sent that was dropped, by reason. Since the last up: the
 * loader zeroes them as it (re)numbers namespaces and forwards.
 *
 * A namespace's slot comes from fwd_ports as its frame arrives and rides in the frame's
 * context (ctx_set_ns_slot()) to fwd_verdict(), which counts its drops; a frame delivered into
 * a namespace is counted by the slot of its endpoint; a forwarded connection's frames by the
 * forward its ORIG entry names (fwd_ct_track.forward).
 */
#ifndef FWD_BPF_TRAFFIC_H
#define FWD_BPF_TRAFFIC_H

#include "ctx.h"
#include "fwd_kern_user.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FWD_MAX_ENDPOINTS + 1);
	__type(key, __u32);
	__type(value, struct fwd_traffic);
} fwd_ns_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FWD_MAX_RULES);
	__type(key, __u32);
	__type(value, struct fwd_traffic);
} fwd_forward_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, FWD_NS_DROPS_MAX);
	/* allocated on a first drop: preallocating every entry's per-CPU value would cost each
	 * up milliseconds for entries that stay unused */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fwd_ns_drop_key);
	__type(value, struct fwd_counter_val);
} fwd_ns_drops SEC(".maps");

/* Count @len bytes in (@in) or out of entry @idx of @map (fwd_ns_stats, fwd_forward_stats). */
static __always_inline void traffic_count(void *map, __u32 idx, bool in, __u32 len)
{
	struct fwd_traffic *t;

	if (!idx)
		return; /* none: a test without fwd_ports, a connection older than its forward's
			   count */
	t = bpf_map_lookup_elem(map, &idx);
	if (!t)
		return;
	if (in) { /* per CPU: no atomics needed */
		t->in_packets++;
		t->in_bytes += len;
	} else {
		t->out_packets++;
		t->out_bytes += len;
	}
}

/* A frame of namespace @slot dropped for @counter. Drops are not the fast path: a hash. */
static __always_inline void traffic_ns_drop(__u32 slot, __u32 counter, __u32 len)
{
	struct fwd_ns_drop_key key = { .slot = (__u16)slot, .counter = (__u16)counter };
	struct fwd_counter_val *c, one = { .packets = 1, .bytes = len };

	c = bpf_map_lookup_elem(&fwd_ns_drops, &key);
	if (c) {
		c->packets++;
		c->bytes += len;
	} else {
		bpf_map_update_elem(&fwd_ns_drops, &key, &one, BPF_NOEXIST);
	}
}

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The XDP fast path's flow cache (bpf/fwd_xdp_uplink.bpf.c): per CPU, what a datagram of a
 * known forwarded connection needs (its translation and rule), found with one array access
 * instead of conntrack's hash lookup (the key's jhash, the bucket, the compare: 12 % of the CPU
 * of a one-flow frame flood, the largest share after the program itself). A microflow cache, as
 * Open vSwitch's exact-match cache: a cell per hash of the ORIG key, the last flow there wins.
 *
 * A cell is a copy of a connection, and trusted only while the connection is sure to be alive:
 *   - no longer than FWD_CT_REFRESH_SLACK_NS after a lookup in the table found it live. That
 *     lookup refreshed its expiry as every packet's does (ct_refresh: rewritten when it moved by
 *     more than the same slack), so the copy dies first: conntrack's shortest timeout is 1 s.
 *     The datagrams a cell carries do not move the expiry; a connection whose datagrams all came
 *     by the cache expires at most this slack earlier than by tc, after its timeout still.
 *   - not after any delete from the table (fwd_ct_gen, counted by fwd_ct_forget: expiry, early
 *     drop, `fwdctl ct flush`, `up`'s pruning): a flush takes effect on the next datagram.
 * What can change without a delete is checked at every use, as for an entry: the forward's
 * target (fwd_xdp_targets; a retargeted forward's connections go to tc until `up` prunes them).
 * Connections change nothing else here: a datagram from the LAN leaves a UDP connection's state
 * as it is (only a reply, by tc, makes it assured).
 *
 * Not pinned, not shared: each load of the fast path starts with an empty cache.
 */
#ifndef FWD_BPF_XDP_FLOWS_H
#define FWD_BPF_XDP_FLOWS_H

#include "conntrack.h"

/* Cells per CPU: 40 KiB each. */
#define FWD_XDP_FLOWS	   1024
#define FWD_XDP_FLOWS_BITS 10

struct fwd_xdp_flow {
	struct fwd_ct_key key; /* the connection's ORIG key; proto 0: empty */
	__u64 gen;	       /* fwd_ct_gen when copied */
	__u64 seen_ns;	       /* ct_now() when the table last had the connection live */
	__be32 addr;	       /* its translation: the target's address and port */
	__be16 port;
	__u16 rule; /* its forward's rule (fwd_xdp_targets, fwd_forward_stats) */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FWD_XDP_FLOWS);
	__type(key, __u32);
	__type(value, struct fwd_xdp_flow);
} fwd_xdp_flows SEC(".maps");

/* The cell of ORIG key @k: a multiplicative hash of what varies between a forward's clients. */
static __always_inline struct fwd_xdp_flow *xdp_flow_cell(const struct fwd_ct_key *k)
{
	__u32 h = k->saddr ^ k->daddr ^ ((__u32)k->sport << 16 | k->dport);
	__u32 idx = (h * 0x9e3779b1u) >> (32 - FWD_XDP_FLOWS_BITS);

	return bpf_map_lookup_elem(&fwd_xdp_flows, &idx);
}

/* Same key: compared as two words, the key's padding zero on both sides. */
static __always_inline bool xdp_flow_key_eq(const struct fwd_ct_key *a, const struct fwd_ct_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1];
}

/* The cached copy of connection @k, when it may stand in for the table's entry, else NULL. */
static __always_inline const struct fwd_xdp_flow *xdp_flow_find(const struct fwd_ct_key *k,
								__u64 now, __u64 gen)
{
	const struct fwd_xdp_flow *f = xdp_flow_cell(k);

	if (!f || !xdp_flow_key_eq(&f->key, k) || f->gen != gen ||
	    now - f->seen_ns >= FWD_CT_REFRESH_SLACK_NS)
		return NULL;
	return f;
}

/*
 * Copy connection @e (ORIG key @k), just found live in the table at @now; @gen: fwd_ct_gen read
 * before that lookup, so that a delete after it voids the copy.
 */
static __always_inline void xdp_flow_keep(const struct fwd_ct_key *k, const struct fwd_ct_entry *e,
					  __u64 now, __u64 gen)
{
	struct fwd_xdp_flow *f = xdp_flow_cell(k);

	if (!f)
		return;
	__builtin_memcpy(&f->key, k, sizeof(f->key));
	f->gen = gen;
	f->seen_ns = now;
	f->addr = e->peer.saddr;
	f->port = e->peer.sport;
	f->rule = e->track.forward;
}

#endif

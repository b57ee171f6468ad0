/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fwdctl capture's side of the datapath (tc only): a copy of a frame as it arrives, once
 * parsed, and again as it leaves by a redirect, translated, while fwd_capture asks for them
 * (struct fwd_capture_cfg in fwd_kern_user.h). Off, a frame costs one array read as it arrives
 * and a test of pkt->capture as it leaves.
 *
 * The filter is matched once, on the frame as it arrives (capture_in() keeps the answer in
 * pkt->capture), so that the copy after translation goes with the one before even where
 * translation changed what the filter looks at; a namespace filter also takes what is
 * delivered into the namespace, whose arriving form names the uplink's address.
 */
#ifndef FWD_BPF_CAPTURE_H
#define FWD_BPF_CAPTURE_H

#include "ctx.h"
#include "parse.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} fwd_capture_buf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fwd_capture_cfg);
} fwd_capture SEC(".maps");

static __always_inline const struct fwd_capture_cfg *capture_cfg(void)
{
	__u32 zero = 0;
	const struct fwd_capture_cfg *c = bpf_map_lookup_elem(&fwd_capture, &zero);

	return c && c->flags ? c : NULL;
}

/* pkt->capture: what capture_in() found, for capture_out(); 0 while no capture runs. */
#define CAPTURE_ON    1 /* a capture runs */
#define CAPTURE_MATCH 2 /* and the frame matched its filter as it arrived */

/* The frame's bytes (up to @c's snaplen) after a struct fwd_capture_meta. */
static __always_inline void capture_emit(struct __ctx_buff *ctx, const struct fwd_capture_cfg *c,
					 __u32 where, __u32 ifindex, __u32 counter)
{
	struct fwd_capture_meta m = {};
	__u64 cap;

	m.ts_ns = bpf_ktime_get_ns();
	m.ifindex = ifindex;
	m.len = ctx_full_len(ctx);
	m.where = where;
	m.counter = counter;
	cap = m.len < c->snaplen ? m.len : c->snaplen;
	bpf_perf_event_output(ctx, &fwd_capture_buf, BPF_F_CURRENT_CPU | (cap << 32), &m,
			      sizeof(m));
}

static __always_inline bool capture_match(const struct fwd_capture_cfg *c,
					  const struct fwd_pkt *pkt, __u32 ifindex)
{
	if (c->proto && c->proto != pkt->proto)
		return false;
	if (c->addr && c->addr != pkt->saddr && c->addr != pkt->daddr)
		return false;
	if (c->port && c->port != pkt->sport && c->port != pkt->dport)
		return false;
	if (c->fw_proto) { /* to the forward's published ports, or from its target's */
		__u16 sport = bpf_ntohs(pkt->sport), dport = bpf_ntohs(pkt->dport);

		if (pkt->proto != c->fw_proto)
			return false;
		if ((dport < c->fw_lo || dport > c->fw_hi) &&
		    (pkt->saddr != c->fw_target || sport < c->fw_to_lo || sport > c->fw_to_hi))
			return false;
	}
	return !c->ifindex || ifindex == c->ifindex || c->ns_addr == pkt->saddr ||
	       c->ns_addr == pkt->daddr;
}

/* Frame @ctx arrived and is parsed (@pkt): copied when it matches, and so is its way out. */
static __always_inline void capture_in(struct __ctx_buff *ctx, struct fwd_pkt *pkt)
{
	const struct fwd_capture_cfg *c = capture_cfg();
	__u32 ifindex = ctx_ingress_ifindex(ctx);
	bool match;

	if (!c)
		return;
	match = capture_match(c, pkt, ifindex);
	pkt->capture = CAPTURE_ON | (match ? CAPTURE_MATCH : 0);
	if (match && (c->flags & FWD_CAP_IN))
		capture_emit(ctx, c, FWD_CAP_IN, ifindex, 0);
}

/*
 * The way out of a frame capture_in() saw while a capture ran (@state: its pkt->capture). A
 * global function, called only then: verified once, not at each redirect, and no map read on
 * the way out while no capture runs.
 */
__attribute__((noinline)) int fwd_capture_out(struct __ctx_buff *ctx, __u32 state, __u32 ifindex,
					      __u32 counter)
{
	const struct fwd_capture_cfg *c = capture_cfg();

	if (!ctx || !c || !(c->flags & FWD_CAP_OUT))
		return 0;
	if ((state & CAPTURE_MATCH) || (c->ifindex && ifindex == c->ifindex))
		capture_emit(ctx, c, FWD_CAP_OUT, ifindex, counter);
	return 0;
}

/* Frame @ctx leaves, redirected to @ifindex after it moved @counter: copied as it is now. */
static __always_inline void capture_out(struct __ctx_buff *ctx, const struct fwd_pkt *pkt,
					__u32 ifindex, __u32 counter)
{
	if (pkt->capture)
		fwd_capture_out(ctx, pkt->capture, ifindex, counter);
}

#endif

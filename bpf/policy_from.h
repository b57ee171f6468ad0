/* SPDX-License-Identifier: GPL-2.0 */
/*
 * forward ... from: a new connection to the forward from a source outside its CIDRs is dropped,
 * counted under the forward's rule in fwd_rule_drops. Apart from bpf/policy.h (isolate, which
 * needs tc's ICMP code) so that the XDP fast path reads the same list.
 */
#ifndef FWD_BPF_POLICY_FROM_H
#define FWD_BPF_POLICY_FROM_H

#include "ctx.h"
#include "fwd_kern_user.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FWD_MAX_RULES);
	__type(key, __u32);
	__type(value, struct fwd_rule);
} fwd_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FWD_MAX_RULES);
	__type(key, __u32);
	__type(value, struct fwd_counter_val);
} fwd_rule_drops SEC(".maps");

/* Count @ctx as dropped by rule @rule; @counter for the caller's verdict. */
static __always_inline __u32 policy_drop(const struct __ctx_buff *ctx, __u32 rule, __u32 counter)
{
	struct fwd_counter_val *c = bpf_map_lookup_elem(&fwd_rule_drops, &rule);

	if (c) { /* per CPU: no atomics needed */
		c->packets++;
		c->bytes += ctx_full_len(ctx);
	}
	return counter;
}

/* May a new connection from @saddr open on forward @fv (its "from" list)? */
static __always_inline bool policy_from_match(const struct fwd_forward_val *fv, __be32 saddr)
{
	__u32 rule = fv->rule;
	const struct fwd_rule *r;

	if (!rule)
		return true;
	r = bpf_map_lookup_elem(&fwd_rules, &rule);
	if (!r || !r->n_from)
		return true; /* no "from": anyone */
	for (__u32 i = 0; i < FWD_MAX_FROM; i++) {
		if (i >= r->n_from)
			break;
		if ((saddr & r->from[i].mask) == r->from[i].addr)
			return true;
	}
	return false;
}

/* policy_from_match(), and a refused source counted under the forward's rule. */
static __always_inline bool policy_from_ok(const struct __ctx_buff *ctx,
					   const struct fwd_forward_val *fv, __be32 saddr)
{
	if (policy_from_match(fv, saddr))
		return true;
	policy_drop(ctx, fv->rule, FWD_CNT_DROP_NOT_FROM);
	return false;
}

#endif

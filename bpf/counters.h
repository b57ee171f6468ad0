/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Counters and the verdict: every path out of a program goes through fwd_verdict(), the one
 * place that counts (packets and bytes, per CPU) and maps a counter to TC_ACT_* / XDP_*.
 */
#ifndef FWD_BPF_COUNTERS_H
#define FWD_BPF_COUNTERS_H

#include "ctx.h"
#include "settings.h"
#include "counter_map.h"
#include "monitor.h"
#include "traffic.h"

/* Test hook: the last decision, written only when the loader set FWD_SET_TRACE. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fwd_trace);
} fwd_trace SEC(".maps");

static __always_inline void fwd_count(const struct __ctx_buff *ctx, __u32 counter)
{
	struct fwd_counter_val *c = bpf_map_lookup_elem(&fwd_counters, &counter);

	if (c) { /* per CPU: no atomics needed */
		c->packets++;
		c->bytes += ctx_full_len(ctx);
	}
}

static __always_inline void fwd_trace_record(__u32 counter, __u32 verdict, __u32 ifindex,
					     __u32 flags)
{
	__u32 zero = 0;
	struct fwd_trace *t;

	if (!(fwd_cfg.flags & FWD_SET_TRACE)) /* rodata: pruned at load when off */
		return;
	t = bpf_map_lookup_elem(&fwd_trace, &zero);
	if (t) {
		t->counter = counter;
		t->verdict = verdict;
		t->target_ifindex = ifindex;
		t->redirect_flags = flags;
	}
}

/*
 * What a drop means besides its counter: its namespace's count by reason (bpf/traffic.h), and
 * an event for a running monitor. A global function: verified once, not in each of the
 * dozens of places fwd_verdict() is inlined into (which doubled the programs' load time).
 */
__attribute__((noinline)) int fwd_drop_noted(struct __ctx_buff *ctx, __u32 counter)
{
	__u32 slot;

	if (!ctx)
		return 0;
	slot = ctx_ns_slot(ctx);
	if (slot)
		traffic_ns_drop(slot, counter, ctx_full_len(ctx));
	if (monitor_wants(FWD_MON_DROPS))
		monitor_drop(ctx, counter);
	return 0;
}

/* Count a frame that leaves without redirect and return its verdict: drop for the drop
 * reasons and for a fragment held (bpf/frag.h keeps a copy), pass for the rest. */
static __always_inline int fwd_verdict(const struct __ctx_buff *ctx, __u32 counter)
{
	int verdict = counter >= FWD_CNT_DROP_FIRST || counter == FWD_CNT_FRAG_PARKED ? CTX_ACT_DROP
										      : CTX_ACT_OK;

	fwd_count(ctx, counter);
	fwd_trace_record(counter, verdict, 0, 0);
	if (counter >= FWD_CNT_DROP_FIRST)
		fwd_drop_noted((struct __ctx_buff *)ctx, counter);
	return verdict;
}

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fwd_counters map alone, without the packet context: every program object declares it
 * from here (tc and XDP through counters.h, fwd_sock directly), so the loader can hand one
 * object's map to the other (bpf_map__reuse_fd needs the same shape).
 */
#ifndef FWD_BPF_COUNTER_MAP_H
#define FWD_BPF_COUNTER_MAP_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "fwd_kern_user.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FWD_CNT_MAX);
	__type(key, __u32);
	__type(value, struct fwd_counter_val);
} fwd_counters SEC(".maps");

/*
 * An event, not a frame (fwd_counter_is_event): packets counts occurrences, bytes stay 0.
 * tc and XDP run in softirq context, one program at a time per CPU: no atomics needed.
 */
static __always_inline void fwd_count_event(__u32 counter)
{
	struct fwd_counter_val *c = bpf_map_lookup_elem(&fwd_counters, &counter);

	if (c)
		c->packets++;
}

#endif

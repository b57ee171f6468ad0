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

#endif

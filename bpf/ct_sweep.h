/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The connection tables' one timer: every FWD_CT_SWEEP_TICK_NS a step over fwd_ct_slots and one
 * over fwd_ct6_slots (bpf/conntrack.h says why slots, and how far a step goes), and what
 * fwd_ct_start runs at `up`: slots for a new table, slots for copied connections, the timer
 * started over with the new program.
 */
#ifndef FWD_BPF_CT_SWEEP_H
#define FWD_BPF_CT_SWEEP_H

#include "conntrack.h"
#include "conntrack6.h"

/* One step over @n slots from *@cursor, looking at each with @look. */
static __always_inline void ct_sweep_step(__u32 n, __u32 *cursor, __u64 now, void *look)
{
	struct ct_sweep_ctx c = { .now = now, .n = n };
	__u32 step;

	if (!n)
		return;
	step = n / FWD_CT_SWEEP_STEPS + 1;
	if (step < FWD_CT_SWEEP_MIN_SLOTS)
		step = FWD_CT_SWEEP_MIN_SLOTS;
	if (step > n)
		step = n;
	c.cursor = *cursor < n ? *cursor : 0;
	bpf_loop(step, look, &c, 0);
	c.cursor += step;
	*cursor = c.cursor >= n ? c.cursor - n : c.cursor;
}

static int ct_sweep_fired(void *map, __u32 *key, struct fwd_ct_gc *gc)
{
	__u64 now = ct_now();

	ct_sweep_step(fwd_cfg.ct_max, &gc->cursor, now, ct_sweep_slot);
	if (fwd_cfg.flags & FWD_SET_NAT6) /* rodata: pruned without */
		ct_sweep_step(fwd_cfg.ct6_max, &gc->cursor6, now, ct6_sweep_slot);
	bpf_timer_start(&gc->timer, FWD_CT_SWEEP_TICK_NS, 0);
	return 0;
}

/*
 * Start the sweep, whatever ran before: its callback is this program's, whose maps are the
 * tables `up` just put in place. The sweep of the program before would go over the old
 * tables, which it would also keep alive. fwd_ct_start runs this on every `up`.
 */
static __always_inline long ct_sweep_start(void)
{
	struct fwd_ct_gc *gc;
	__u32 zero = 0;
	long err;

	gc = bpf_map_lookup_elem(&fwd_ct_gc, &zero);
	if (!gc)
		return -EINVAL;
	err = bpf_timer_init(&gc->timer, &fwd_ct_gc, CLOCK_MONOTONIC);
	if (err && err != -EBUSY) /* -EBUSY: initialised before */
		return err;
	/* The callback (and the program it belongs to) replaced, also on an armed timer. */
	err = bpf_timer_set_callback(&gc->timer, ct_sweep_fired);
	if (!err)
		err = bpf_timer_start(&gc->timer, FWD_CT_SWEEP_TICK_NS, 0);
	return err;
}

/* After `up` copied tables into new ones: slots for the copies; the namespaces' counts made
 * again from what is in both tables (what did not fit was counted, and never forgotten). */
static __always_inline void ct_slots_adopt(void)
{
	bpf_for_each_map_elem(&fwd_ct, ct_adopt_one, NULL, 0);
	if (fwd_cfg.flags & FWD_SET_NAT6)
		bpf_for_each_map_elem(&fwd_ct6, ct6_adopt_one, NULL, 0);
	bpf_for_each_map_elem(&fwd_ct_ns, ct_ns_zero, NULL, 0);
	bpf_for_each_map_elem(&fwd_ct, ct_ns_count, NULL, 0);
	if (fwd_cfg.flags & FWD_SET_NAT6)
		bpf_for_each_map_elem(&fwd_ct6, ct6_ns_count, NULL, 0);
}

#endif

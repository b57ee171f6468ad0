/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fwdctl monitor's side of the datapath: drops and connection events, written to the
 * fwd_events ring buffer only while fwd_monitor asks for them (struct fwd_monitor_cfg in
 * fwd_kern_user.h). Off, a drop costs one more array read (the flags), and so does a
 * connection as it is made or deleted: the events come from the paths that create and delete
 * connections, never from the packets of one.
 *
 * The cost stays bounded under a flood: each CPU sends at most rate_per_cpu events in a second
 * of the conntrack clock and only counts the others (monitor_skipped), so a flood of dropped
 * frames costs a monitored datapath a counter increment per frame past the cap, not a copy.
 */
#ifndef FWD_BPF_MONITOR_H
#define FWD_BPF_MONITOR_H

#include "ctx.h"
#include "counter_map.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, FWD_EVENTS_BYTES);
} fwd_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fwd_monitor_cfg);
} fwd_monitor SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fwd_monitor_window);
} fwd_monitor_window SEC(".maps");

/* Does a monitor want events of kind @flag (enum fwd_monitor_flags)? */
static __always_inline bool monitor_wants(__u32 flag)
{
	__u32 zero = 0;
	const struct fwd_monitor_cfg *cfg = bpf_map_lookup_elem(&fwd_monitor, &zero);

	return cfg && (cfg->flags & flag);
}

/*
 * A record for an event of @kind, its header filled, or NULL: over this CPU's rate for the
 * second (monitor_skipped) or no room in the buffer (monitor_lost). The caller fills the rest
 * and submits it.
 */
static __always_inline struct fwd_event *monitor_reserve(__u16 kind)
{
	__u64 now = bpf_ktime_get_coarse_ns(); /* the conntrack clock, ct_now() */
	const struct fwd_monitor_cfg *cfg;
	struct fwd_monitor_window *w;
	struct fwd_event *ev;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&fwd_monitor, &zero);
	w = bpf_map_lookup_elem(&fwd_monitor_window, &zero);
	if (!cfg || !w)
		return NULL;
	/* Per CPU, in softirq: no one else writes it meanwhile. A division only once a second:
	 * on a flood this runs for every frame over the cap. */
	if (now >= w->end_ns) {
		w->end_ns = now - now % 1000000000ull + 1000000000ull;
		w->sent = 0;
	}
	if (w->sent >= cfg->rate_per_cpu) {
		fwd_count_event(FWD_CNT_MONITOR_SKIPPED);
		return NULL;
	}
	ev = bpf_ringbuf_reserve(&fwd_events, sizeof(*ev), 0);
	if (!ev) {
		fwd_count_event(FWD_CNT_MONITOR_LOST);
		return NULL;
	}
	w->sent++;
	ev->ts_ns = now;
	ev->kind = kind;
	ev->counter = 0;
	ev->ifindex = 0;
	ev->len = 0;
	ev->head_len = 0;
	ev->ct_state = 0;
	ev->ct_nat = 0;
	return ev;
}

/* Frame @ctx is dropped for @counter: its first bytes go out as they are, user space decodes
 * them (fwd_drop_noted() calls it, once per program). */
static __always_inline void monitor_drop(struct __ctx_buff *ctx, __u32 counter)
{
	struct fwd_event *ev;
	/* 64-bit: of a 32-bit n clang checks a zero-extended copy, not the register it passes */
	__u64 len, n;

	ev = monitor_reserve(FWD_EV_DROP);
	if (!ev)
		return;
	len = ctx_full_len(ctx);
	ev->counter = counter;
	ev->ifindex = ctx_ingress_ifindex(ctx);
	ev->len = len;
	/* A constant length when the frame has it all; a shorter one masked to the buffer's
	 * size (a power of two) and non-zero, bounds the verifier sees on the helper's register. */
	if (len >= FWD_EVENT_HEAD) {
		if (!ctx_load_bytes(ctx, 0, ev->head, FWD_EVENT_HEAD))
			ev->head_len = FWD_EVENT_HEAD;
	} else {
		n = len & (FWD_EVENT_HEAD - 1);
		asm volatile("" : "+r"(n)); /* or clang, knowing n == len here, passes len */
		if (n && !ctx_load_bytes(ctx, 0, ev->head, n))
			ev->head_len = n;
	}
	bpf_ringbuf_submit(ev, 0);
}

/* Connection @orig (translated as @reply) came or went, as @kind says. Global: verified once,
 * not in each place a connection is made or deleted. */
__attribute__((noinline)) int fwd_monitor_ct(__u32 kind, const struct fwd_ct_key *orig,
					     const struct fwd_ct_key *reply, __u32 state, __u32 nat)
{
	struct fwd_event *ev;

	if (!orig || !reply)
		return 0;
	ev = monitor_reserve((__u16)kind);
	if (!ev)
		return 0;
	ev->ct_state = (__u8)state;
	ev->ct_nat = (__u8)nat;
	__builtin_memcpy(&ev->ct.orig, orig, sizeof(ev->ct.orig));
	__builtin_memcpy(&ev->ct.reply, reply, sizeof(ev->ct.reply));
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

static __always_inline void monitor_ct(__u16 kind, const struct fwd_ct_key *orig,
				       const struct fwd_ct_key *reply, __u8 state, __u8 nat)
{
	if (monitor_wants(FWD_MON_CT))
		fwd_monitor_ct(kind, orig, reply, state, nat);
}

/* An IPv6 connection's event (fwd_ct6's keys) into a reserved record. */
static __always_inline void monitor_ct6_fill(__u16 kind, const struct fwd_ct6_key *orig,
					     const struct fwd_ct6_key *reply, __u8 state, __u8 nat)
{
	struct fwd_event *ev = monitor_reserve(kind | FWD_EV_IPV6);

	if (!ev)
		return;
	ev->ct_state = state;
	ev->ct_nat = nat;
	__builtin_memcpy(&ev->ct6.orig, orig, sizeof(ev->ct6.orig));
	__builtin_memcpy(&ev->ct6.reply, reply, sizeof(ev->ct6.reply));
	bpf_ringbuf_submit(ev, 0);
}

/* fwd_monitor_ct() of an IPv6 connection, for a new one: a global function, so that the
 * program that makes it keeps its own stack frame as it was. */
__attribute__((noinline)) int fwd_monitor_ct6(__u32 kind, const struct fwd_ct6_key *orig,
					      const struct fwd_ct6_key *reply, __u32 state,
					      __u32 nat)
{
	if (orig && reply)
		monitor_ct6_fill((__u16)kind, orig, reply, (__u8)state, (__u8)nat);
	return 0;
}

/* A new IPv6 connection, to a monitor that wants it. */
static __always_inline void monitor_ct6_new(const struct fwd_ct6_key *orig,
					    const struct fwd_ct6_key *reply, __u8 state, __u8 nat)
{
	if (monitor_wants(FWD_MON_CT))
		fwd_monitor_ct6(FWD_EV_CT_NEW, orig, reply, state, nat);
}

/* An IPv6 connection that went, to a monitor that wants it. Inline: fwd_ct6_forget() (a global
 * function) calls it under the IPv6 programs' deepest chain of calls, which one more frame
 * took past the verifier's 512 bytes of stack. */
static __always_inline void monitor_ct6_gone(__u16 kind, const struct fwd_ct6_key *orig,
					     const struct fwd_ct6_key *reply, __u8 state, __u8 nat)
{
	if (monitor_wants(FWD_MON_CT))
		monitor_ct6_fill(kind, orig, reply, state, nat);
}

#endif

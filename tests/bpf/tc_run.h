/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One case of a tc program's fixtures (tests/bpf/fwd_snat.c, fwd_nat66.c): the frame through
 * BPF_PROG_TEST_RUN on the test run's device (ifindex 1), and what any case checks of it: the
 * verdict, the one frame counter that moved (events are the caller's), the trace naming it and
 * the redirect target. What the frame that came out must look like is the caller's.
 */
#ifndef FWD_TESTS_TC_RUN_H
#define FWD_TESTS_TC_RUN_H

#include <errno.h>
#include <string.h>
#include <linux/bpf.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fwd_kern_user.h"
#include "fwd_loader.h" /* loader_counters_read_fd(): the loader's own way of reading them */

#include "check.h"
#include "pkt.h"

struct tc_run_maps {
	int counters_fd, trace_fd;
};

/* Run @in through @prog_fd into @out (emptied first); check verdict @verdict, the one frame
 * counter @counter, and with @redirect the target @target. */
static inline void tc_run(const struct tc_run_maps *m, int prog_fd, const struct pkt *in,
			  __u32 verdict, bool redirect, __u32 counter, __u32 target,
			  struct pkt *out)
{
	struct fwd_counter_sum before[FWD_CNT_MAX], after[FWD_CNT_MAX];
	struct fwd_trace trace = {}, zero_trace = {};
	struct __sk_buff ctx = { .ifindex = 1 };
	__u32 zero = 0;
	int err;

	memset(out, 0, sizeof(*out));
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in->b, .data_size_in = in->len,
		    .data_out = out->b, .data_size_out = sizeof(out->b), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	if (bpf_map_update_elem(m->trace_fd, &zero, &zero_trace, BPF_ANY) ||
	    loader_counters_read_fd(m->counters_fd, before)) {
		check_fail("cannot prepare maps: %s", strerror(errno));
		return;
	}
	err = bpf_prog_test_run_opts(prog_fd, &opts);
	out->len = opts.data_size_out;
	if (loader_counters_read_fd(m->counters_fd, after) ||
	    bpf_map_lookup_elem(m->trace_fd, &zero, &trace)) {
		check_fail("cannot read maps: %s", strerror(errno));
		return;
	}
	CHECK(!err, "test run failed: %s", strerror(-err));
	CHECK(opts.retval == verdict, "verdict %u, want %u (trace: counter %u)", opts.retval,
	      verdict, trace.counter);
	for (__u32 i = 0; i < FWD_CNT_MAX; i++) {
		__u64 dp = after[i].packets - before[i].packets, wp = i == counter;

		if (fwd_counter_is_event(i))
			continue;
		CHECK(dp == wp, "counter %u moved %llu packets, want %llu (trace: counter %u)", i,
		      (unsigned long long)dp, (unsigned long long)wp, trace.counter);
	}
	CHECK(trace.counter == counter, "trace says counter %u, want %u", trace.counter, counter);
	if (redirect)
		CHECK(trace.target_ifindex == target, "redirected to %u, want %u",
		      trace.target_ifindex, target);
}

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* What xdp_count's BPF side and its loader share: the counter slots. */
#ifndef FWD_BENCH_XDP_COUNT_H
#define FWD_BENCH_XDP_COUNT_H

/* Index into the per-CPU array "counters" (__u64 values). */
enum xc_counter {
	XC_XDP_PACKETS = 0, /* matched and dropped by the XDP program */
	XC_TC_PACKETS = 1,  /* matched and dropped at tc ingress (skbs that skipped XDP) */
	XC_BYTES = 2,	    /* L2 bytes of both */
	XC_NR = 3,
};

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* The BPF tests' view of fwd_counters: every counter summed over the @ncpus possible CPUs. */
#ifndef FWD_TESTS_COUNTERS_READ_H
#define FWD_TESTS_COUNTERS_READ_H

#include <errno.h>
#include <bpf/bpf.h>

#include "fwd_kern_user.h"

/* All FWD_CNT_MAX counters of the map @fd into @out; -errno when one cannot be read. */
static int read_counters(int fd, int ncpus, struct fwd_counter_val *out)
{
	struct fwd_counter_val vals[ncpus];

	for (__u32 i = 0; i < FWD_CNT_MAX; i++) {
		if (bpf_map_lookup_elem(fd, &i, vals))
			return -errno;
		out[i].packets = out[i].bytes = 0;
		for (int c = 0; c < ncpus; c++) {
			out[i].packets += vals[c].packets;
			out[i].bytes += vals[c].bytes;
		}
	}
	return 0;
}

#endif

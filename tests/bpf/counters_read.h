/* SPDX-License-Identifier: GPL-2.0 */
/* The BPF tests' view of fwd_counters, read the loader's way (loader_counters_read_fd). */
#ifndef FWD_TESTS_COUNTERS_READ_H
#define FWD_TESTS_COUNTERS_READ_H

#include "fwd_loader.h"

/* All FWD_CNT_MAX counters of the map @fd into @out; -errno when one cannot be read. */
static inline int read_counters(int fd, int ncpus, struct fwd_counter_val *out)
{
	struct fwd_counter_sum sums[FWD_CNT_MAX];
	int err = loader_counters_read_fd(fd, sums);

	(void)ncpus; /* the loader counts the CPUs itself */
	for (int i = 0; !err && i < FWD_CNT_MAX; i++) {
		out[i].packets = sums[i].packets;
		out[i].bytes = sums[i].bytes;
	}
	return err;
}

#endif

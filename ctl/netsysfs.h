/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Numeric link settings that only sysfs holds (a receive queue's rps_flow_cnt), read and
 * written in the current network namespace.
 */
#ifndef FWD_NETSYSFS_H
#define FWD_NETSYSFS_H

#include <stddef.h>

enum netsysfs_mode {
	NETSYSFS_READ,	 /* value <- the file */
	NETSYSFS_ENSURE, /* the file <- value, only when it reads otherwise; old <- what it read */
	NETSYSFS_RAISE,	 /* the same, only when it reads a smaller number */
};

struct netsysfs_op {
	enum netsysfs_mode mode;
	char path[80];	/* below /sys/class/net/, e.g. "fwd-r-a1b2/queues/rx-0/rps_flow_cnt" */
	char value[40]; /* a decimal number; NETSYSFS_READ: out; NETSYSFS_ENSURE, _RAISE: in */
	char old[40];	/* NETSYSFS_ENSURE, NETSYSFS_RAISE: what the file held before ("" when
			 * unchanged) */
	int err;	/* out: 0 or -errno (-ENOENT: no such link) */
};

/*
 * Carry out @n ops in the sysfs of the calling thread's network namespace. Returns 0 when they
 * could be run (each op's err says how it went), or -errno.
 */
int netsysfs_run(struct netsysfs_op *ops, size_t n);

#endif

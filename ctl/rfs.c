// SPDX-License-Identifier: GPL-2.0
/*
 * RFS on the host-side veths. What it takes, per the kernel's scaling.rst: a host-wide table
 * of the CPUs sockets were last read on (net.core.rps_sock_flow_entries, in the initial
 * network namespace only) and, per receive queue, a table of the flows it steers
 * (rps_flow_cnt, in sysfs). No rps_cpus mask: with one, a flow no socket reads yet (a new
 * connection's first packet, forwarded traffic) is hashed to any CPU of the mask, a cross-CPU
 * wakeup per packet; without one it stays on the CPU it arrived on, as it does without RFS.
 * With `tuning rfs` the uplink's queues get flow tables too: a forward's data arrives there, and
 * without them its receive work stays on the CPU the NIC (or the LAN peer's veth) delivered
 * it to while the reader's replies are steered away from it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netsysfs.h"
#include "rfs.h"

#define SOCK_FLOW_SYSCTL "/proc/sys/net/core/rps_sock_flow_entries"

static bool host_opened;
static int host_fd = -1;
static int host_err;

void rfs_host_open(void)
{
	const char *path;

	if (host_opened)
		return;
	host_opened = true;
	/* Tests may not touch the machine's table: they hand fwdctl a file that plays it. */
	path = getenv("FWD_RFS_HOST_TABLE");
	host_fd = open(path && *path ? path : SOCK_FLOW_SYSCTL, O_RDWR | O_CLOEXEC);
	if (host_fd < 0)
		host_err = -errno;
}

long rfs_host_entries(void)
{
	char buf[32];
	ssize_t n;

	rfs_host_open(); /* without -n, fwdctl is where it started */
	if (host_fd < 0)
		return host_err;
	n = pread(host_fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

int rfs_host_raise(uint32_t entries)
{
	long now = rfs_host_entries();
	char buf[16];
	int len;

	if (now < 0)
		return (int)now;
	if (now >= (long)entries)
		return 0;
	len = snprintf(buf, sizeof(buf), "%u", entries);
	return pwrite(host_fd, buf, (size_t)len, 0) == len ? 0 : -errno;
}

/* An op on rps_flow_cnt of receive queue @queue of @ifname. */
static void flow_cnt_op(struct netsysfs_op *op, const char *ifname, uint32_t queue,
			enum netsysfs_mode mode, uint32_t value)
{
	op->mode = mode;
	snprintf(op->path, sizeof(op->path), "%s/queues/rx-%u/rps_flow_cnt", ifname, queue);
	snprintf(op->value, sizeof(op->value), "%u", value);
}

/* Ops on the first receive queue of each of @names. */
static struct netsysfs_op *flow_cnt_ops(const char (*names)[IF_NAMESIZE], size_t n,
					enum netsysfs_mode mode, uint32_t flow_cnt)
{
	struct netsysfs_op *ops = calloc(n, sizeof(*ops));

	for (size_t i = 0; ops && i < n; i++)
		flow_cnt_op(&ops[i], names[i], 0, mode, flow_cnt);
	return ops;
}

int rfs_links_ensure(const char (*names)[IF_NAMESIZE], size_t n, uint32_t flow_cnt, size_t *changed,
		     size_t *failed)
{
	struct netsysfs_op *ops = flow_cnt_ops(names, n, NETSYSFS_ENSURE, flow_cnt);
	int ret;

	*changed = 0;
	*failed = n;
	if (!ops)
		return -ENOMEM;
	ret = netsysfs_run(ops, n);
	for (size_t i = 0; !ret && i < n; i++) {
		if (ops[i].err) {
			ret = ops[i].err;
			*failed = i;
		} else if (ops[i].old[0]) {
			(*changed)++;
		}
	}
	free(ops);
	return ret;
}

/* Ops on rps_flow_cnt of @n receive queues of @ifname, rx-0 on. */
static struct netsysfs_op *queue_ops(const char *ifname, uint32_t n, enum netsysfs_mode mode,
				     uint32_t value)
{
	struct netsysfs_op *ops = calloc(n, sizeof(*ops));

	for (uint32_t q = 0; ops && q < n; q++)
		flow_cnt_op(&ops[q], ifname, q, mode, value);
	return ops;
}

int rfs_uplink_raise(const char *ifname, uint32_t n_queues, uint32_t entries, size_t *changed)
{
	struct netsysfs_op *ops;
	uint32_t n = 0, share;
	int ret;

	*changed = 0;
	/* The link reports how many queues it may have (a veth: one per CPU); sysfs has those
	 * in use, rx-0 on: count them first. */
	if (!n_queues)
		n_queues = 1;
	if (n_queues > FWD_RFS_UPLINK_QUEUES_MAX)
		n_queues = FWD_RFS_UPLINK_QUEUES_MAX;
	ops = queue_ops(ifname, n_queues, NETSYSFS_READ, 0);
	if (!ops)
		return -ENOMEM;
	ret = netsysfs_run(ops, n_queues);
	while (!ret && n < n_queues && !ops[n].err)
		n++;
	free(ops);
	if (ret || !n)
		return ret ? ret : -ENOENT;
	share = entries / n < FWD_RFS_FLOW_CNT ? FWD_RFS_FLOW_CNT : entries / n;
	ops = queue_ops(ifname, n, NETSYSFS_RAISE, share);
	if (!ops)
		return -ENOMEM;
	ret = netsysfs_run(ops, n);
	for (uint32_t q = 0; !ret && q < n; q++) {
		if (ops[q].err)
			ret = ops[q].err;
		else if (ops[q].old[0])
			(*changed)++;
	}
	free(ops);
	return ret;
}

int rfs_links_read(const char (*names)[IF_NAMESIZE], size_t n, uint32_t *flow_cnt)
{
	struct netsysfs_op *ops = flow_cnt_ops(names, n, NETSYSFS_READ, 0);
	int ret;

	if (!ops)
		return -ENOMEM;
	ret = netsysfs_run(ops, n);
	for (size_t i = 0; i < n; i++)
		flow_cnt[i] =
		    !ret && !ops[i].err ? (uint32_t)strtoul(ops[i].value, NULL, 10) : UINT32_MAX;
	free(ops);
	return ret;
}

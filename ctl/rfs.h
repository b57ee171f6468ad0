/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Receive flow steering (RFS) on the host-side veths: each flow's receive processing runs on
 * the CPU of the socket that reads it, so a bulk TCP stream is not reordered between two CPUs'
 * backlogs.
 */
#ifndef FWD_RFS_H
#define FWD_RFS_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

/* Flows a host-side veth remembers the CPU of (its receive queue's rps_flow_cnt). */
#define FWD_RFS_FLOW_CNT 256
/* What `tuning rfs` raises the host-wide table (net.core.rps_sock_flow_entries) to. */
#define FWD_RFS_SOCK_FLOW_ENTRIES 32768

/*
 * Open the host-wide table's sysctl, once. It exists in the initial network namespace only:
 * called before entering `-n`'s namespace (rfs_host_entries() opens it where fwdctl is).
 */
void rfs_host_open(void);
/* The host-wide table's size (0: RFS is off on the host), or -errno (-ENOENT: fwdctl did not
 * start in the initial network namespace, where it lives). */
long rfs_host_entries(void);
/* Raise the host-wide table to at least @entries. 0 or -errno. */
int rfs_host_raise(uint32_t entries);

/*
 * The receive queue of each link of @names (in the current network namespace) set to
 * remember @flow_cnt flows (0: none, RFS off on it), where it is not so already. *@changed:
 * how many were set. *@failed: the index of the link whose setting failed, @n when none did
 * (it could not be tried at all).
 */
int rfs_links_ensure(const char (*names)[IF_NAMESIZE], size_t n, uint32_t flow_cnt, size_t *changed,
		     size_t *failed);
/*
 * `tuning rfs` on the uplink: each of its receive queues in use (of the @n_queues it reports,
 * at most FWD_RFS_UPLINK_QUEUES_MAX) remembers at least the host table's share of flows,
 * @entries over the queues and no fewer than FWD_RFS_FLOW_CNT; a queue that remembers more
 * already is left alone. *@changed: how many were raised.
 */
#define FWD_RFS_UPLINK_QUEUES_MAX 256
int rfs_uplink_raise(const char *ifname, uint32_t n_queues, uint32_t entries, size_t *changed);
/* Each link's rps_flow_cnt (its first receive queue's), into @flow_cnt (UINT32_MAX where it
 * could not be read). */
int rfs_links_read(const char (*names)[IF_NAMESIZE], size_t n, uint32_t *flow_cnt);

#endif

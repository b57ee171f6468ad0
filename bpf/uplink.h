/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The uplink's address: a map, not a load-time setting, so that `up` changes it in place when
 * the uplink's address changed (a DHCP renewal, a failover; `fwdctl watch` runs `up` then), and
 * what was masqueraded or forwarded with the old one is pruned while the programs keep running.
 */
#ifndef FWD_BPF_UPLINK_H
#define FWD_BPF_UPLINK_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "fwd_kern_user.h"
#include "settings.h"
#include "forwards.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fwd_uplink);
} fwd_uplink SEC(".maps");

/* The uplink's primary IPv4 address, network order; 0 while it has none. */
static __always_inline __be32 uplink_addr(void)
{
	__u32 zero = 0;
	const struct fwd_uplink *u = bpf_map_lookup_elem(&fwd_uplink, &zero);

	return u ? u->addr : 0;
}

/*
 * Is @addr one of the topology's addresses on the uplink: its primary one (masquerade,
 * forwards), or one a forward line names (fwd_fwd_addrs)?
 */
static __always_inline bool uplink_addr_ours(__be32 addr)
{
	if (!addr)
		return false;
	if (addr == uplink_addr())
		return true;
	return (fwd_cfg.flags & FWD_SET_FWD_ADDRS) && bpf_map_lookup_elem(&fwd_fwd_addrs, &addr);
}

#endif

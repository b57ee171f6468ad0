/* SPDX-License-Identifier: GPL-2.0 */
/* datapath kernel: ending nf_conntrack's connections of forwards that are gone (kernel_ct.c). */
#ifndef FWD_KERNEL_CT_H
#define FWD_KERNEL_CT_H

#include <stdbool.h>
#include <netinet/in.h>

#include "topology.h"

/*
 * Delete the connections nf_conntrack DNATed to a namespace of @t (a reply source inside its
 * subnet or IPv6 prefix) that no forward of @t makes any more: a forward removed or retargeted,
 * published on @uplink_addr (IPv4) or @uplink_addr6 (IPv6; NULL: the uplink has none) when it
 * names no address of its own; with @all, every one (the topology goes). The number deleted,
 * or -errno (with a message).
 */
int kernel_ct_forget_forwards(const struct fwd_topology *t, in_addr_t uplink_addr,
			      const struct in6_addr *uplink_addr6, bool all);

#endif

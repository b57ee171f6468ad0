/* SPDX-License-Identifier: GPL-2.0 */
/* datapath kernel: ending nf_conntrack's connections of forwards that are gone (kernel_ct.c). */
#ifndef FWD_KERNEL_CT_H
#define FWD_KERNEL_CT_H

#include <stdbool.h>
#include <netinet/in.h>

#include "topology.h"

/*
 * Delete the connections nf_conntrack DNATed to a namespace of @t (a reply source inside its
 * subnet) that no forward of @t makes any more: a forward removed or retargeted, published on
 * @uplink_addr when it names no address of its own; with @all, every one (the topology goes).
 * The number deleted, or -errno (with a message). IPv4; IPv6's are left to expire.
 */
int kernel_ct_forget_forwards(const struct fwd_topology *t, in_addr_t uplink_addr, bool all);

#endif

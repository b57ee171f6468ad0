/* SPDX-License-Identifier: GPL-2.0 */
/* Several topologies on one host: what `up` refuses because another topology has it. */
#ifndef FWD_CONFLICTS_H
#define FWD_CONFLICTS_H

#include "topology.h"

/*
 * Compare @t with every other topology that is up: in the host namespace we run in, the same
 * bridge, overlapping subnets, the same forwarded protocol, address and port on the same uplink, a
 * forward inside the snat-ports of a topology masquerading out of the same uplink, and two
 * datapaths masquerading out of one uplink with overlapping snat-ports; anywhere on the
 * machine, the same namespace name. Each is reported as "FILE:LINE: ..." naming the other
 * topology and its file and line. @uplink_addr: the primary address of @t's uplink (0: none),
 * where forward lines without an address are. Returns how many were found.
 */
int conflicts_check(const struct fwd_topology *t, in_addr_t uplink_addr);

#endif

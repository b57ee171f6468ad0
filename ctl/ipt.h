/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `datapath kernel`: the tutorial's iptables recipe in fwd-owned chains, applied atomically
 * with iptables-restore --noflush in the current (host) network namespace.
 */
#ifndef FWD_IPT_H
#define FWD_IPT_H

#include <netinet/in.h>
#include <stdbool.h>

#include "topology.h"

/*
 * Create or refill the chains FWD-T-RAW (raw), FWD-T-PRE/OUT/POST (nat) and FWD-T-FWD
 * (filter), and the jumps to them from the built-in chains, in one transaction per table:
 * in iptables for datapath kernel, in ip6tables for either datapath when the bridge has an
 * IPv6 address (datapath bpf passes IPv6 to the kernel); where not needed, fwd's chains of the
 * topology are removed. @uplink_addr (network order) is the DNAT match address; forwards to
 * namespaces with IPv6 are published on @uplink_addr6 too (NULL: the uplink has none). Returns 0 or
 * -errno, with the tool's message printed.
 */
int ipt_apply(const struct fwd_topology *t, in_addr_t uplink_addr,
	      const struct in6_addr *uplink_addr6);
/* Remove the jumps and the chains of @topology, iptables and ip6tables; what is absent is
 * skipped. */
int ipt_remove(const char *topology);
/* The rules as iptables-save (ip6tables-save) prints them, for `status` (malloc'd; NULL when
 * none). */
char *ipt_show(const char *topology);
char *ip6t_show(const char *topology);

#endif

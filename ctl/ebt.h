/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `datapath kernel`'s anti-spoofing: what bpf/spoof.h checks on each host-side veth, as
 * ebtables rules (bridge family, nat PREROUTING: every frame a port takes in, bridged or for
 * the host) in the fwd-owned chain FWD-T-SPOOF, applied with ebtables-restore --noflush.
 */
#ifndef FWD_EBT_H
#define FWD_EBT_H

#include <stdint.h>

#include "topology.h"

/*
 * Create or refill FWD-T-SPOOF and the jump to it: on host-side veth @veths[i], only the source
 * MAC @macs[i] and, for IPv4 and ARP, the address of namespace i (datapath kernel); for IPv6,
 * its IPv6 address or nothing (either datapath, when the bridge has IPv6). Returns 0 or
 * -errno, with the tool's message printed.
 */
int ebt_apply(const struct fwd_topology *t, char (*veths)[16], const uint8_t (*macs)[6]);
/* Remove the jump and the chain of @topology; what is absent is skipped. */
int ebt_remove(const char *topology);
/* The rules as ebtables-save prints them, for `status` (malloc'd; NULL when none). */
char *ebt_show(const char *topology);

#endif

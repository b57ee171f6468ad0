/* SPDX-License-Identifier: GPL-2.0 */
/*
 * GRO on a namespace's eth0 for the XDP fast path: a frame that XDP redirects into a veth
 * arrives only when the receiving end is in NAPI mode, which GRO (or an XDP program there)
 * turns on. fwd chooses GRO: an XDP program on eth0 would cost its host-side peer TSO/GSO.
 */
#ifndef FWD_XDP_GRO_H
#define FWD_XDP_GRO_H

#include <stdbool.h>

/* GRO of @ifname in network namespace @nsfd on (@on) or off; *@changed when it was the other.
 * 0 or -errno. */
int xdp_gro_set(int nsfd, const char *ifname, bool on, bool *changed);

/* Is GRO on for @ifname in @nsfd? 1, 0 or -errno. */
int xdp_gro_get(int nsfd, const char *ifname);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The topology's forwards: fwd_forwards (uplink address and port -> target namespace and
 * port), filled by the loader, read by the tc programs (DNAT, port shadowing) and by fwd_sock
 * (the host's own connections). No packet context here, so every program type can include it.
 */
#ifndef FWD_BPF_FORWARDS_H
#define FWD_BPF_FORWARDS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "fwd_kern_user.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FWD_MAX_FORWARD_PORTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fwd_forward_key);
	__type(value, struct fwd_forward_val);
} fwd_forwards SEC(".maps");

/*
 * fwd_fwd_addrs: the addresses of the uplink other than its primary one that a forward line
 * names (ADDR:PORT), with FWD_SET_FWD_ADDRS; frames to them are the topology's to look at.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FWD_MAX_FORWARD_ADDRS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __be32);
	__type(value, __u8);
} fwd_fwd_addrs SEC(".maps");

/* Not pinned: each load of the programs makes it anew, and `up` fills in the xdp forwards. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FWD_MAX_RULES);
	__type(key, __u32);
	__type(value, struct fwd_xdp_target);
} fwd_xdp_targets SEC(".maps");

/* The forward of uplink address @addr and port @port (network order) of @proto, or NULL. */
static __always_inline const struct fwd_forward_val *forward_lookup(__u8 proto, __be32 addr,
								    __be16 port)
{
	struct fwd_forward_key key = {};

	key.addr = addr;
	key.proto = proto;
	key.port = port;
	return bpf_map_lookup_elem(&fwd_forwards, &key);
}

#endif

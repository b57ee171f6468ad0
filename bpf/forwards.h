/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The topology's forwards: fwd_forwards (uplink port -> target namespace and port), filled by
 * the loader, read by the tc programs (DNAT, port shadowing) and by fwd_sock (the host's own
 * connections). No packet context here, so every program type can include it.
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

/* The forward of uplink port @port (network order) of @proto, or NULL. */
static __always_inline const struct fwd_forward_val *forward_lookup(__u8 proto, __be16 port)
{
	struct fwd_forward_key key = {};

	key.proto = proto;
	key.port = port;
	return bpf_map_lookup_elem(&fwd_forwards, &key);
}

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The bridge's job for known unicast: which namespace owns an IPv4 (IPv6) address, through which
 * host-side veth, with which MAC. The loader fills fwd_endpoints (fwd_endpoints6) from the
 * topology.
 */
#ifndef FWD_BPF_ENDPOINT_H
#define FWD_BPF_ENDPOINT_H

#include "parse.h"
#include "parse6.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FWD_MAX_ENDPOINTS);
	__type(key, struct fwd_endpoint_key);
	__type(value, struct fwd_endpoint);
} fwd_endpoints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FWD_MAX_ENDPOINTS);
	__type(key, struct fwd_endpoint6_key);
	__type(value, struct fwd_endpoint);
} fwd_endpoints6 SEC(".maps");

/*
 * May a frame to @ep's address be switched to it? Only when its destination MAC is @ep's and
 * it does not go back where it came from; else NULL with *@why.
 */
/* The namespace holding IPv4 address @addr, or NULL. */
static __always_inline const struct fwd_endpoint *fwd_endpoint_of(__be32 addr)
{
	struct fwd_endpoint_key key = {};

	key.addr = addr;
	return bpf_map_lookup_elem(&fwd_endpoints, &key);
}

static __always_inline const struct fwd_endpoint *
fwd_endpoint_mac_check(struct __ctx_buff *ctx, const struct fwd_endpoint *ep, __u32 *why)
{
	struct ethhdr *eth = ctx_data(ctx);

	if ((void *)(eth + 1) > ctx_data_end(ctx)) { /* re-derived after parsing may have pulled */
		*why = FWD_CNT_DROP_TRUNC_ETH;
		return NULL;
	}
	if (!fwd_mac_equal(eth->h_dest, ep->mac)) {
		*why = FWD_CNT_PASS_MAC_MISMATCH;
		return NULL;
	}
	if (ep->ifindex == ctx_ingress_ifindex(ctx)) {
		*why = FWD_CNT_PASS_HAIRPIN;
		return NULL;
	}
	return ep;
}

/*
 * The endpoint a parsed IPv4 frame is switched to, or NULL with *@why the counter that sends
 * it to the kernel instead. Switching needs both: the destination address is a namespace's
 * and the destination MAC is that namespace's MAC. A frame to the bridge's (gateway's) MAC is
 * for the host to route, even when the address is a namespace's.
 */
static __always_inline const struct fwd_endpoint *
fwd_endpoint_switch(struct __ctx_buff *ctx, const struct fwd_pkt *pkt, __u32 *why)
{
	struct fwd_endpoint_key key = {};
	const struct fwd_endpoint *ep;

	key.addr = pkt->daddr;
	ep = bpf_map_lookup_elem(&fwd_endpoints, &key);
	if (!ep) {
		*why = FWD_CNT_PASS_NO_ENDPOINT;
		return NULL;
	}
	return fwd_endpoint_mac_check(ctx, ep, why);
}

/* fwd_endpoint_switch() for a parsed IPv6 frame. */
static __always_inline const struct fwd_endpoint *
fwd_endpoint6_switch(struct __ctx_buff *ctx, const struct fwd_pkt6 *pkt, __u32 *why)
{
	struct fwd_endpoint6_key key;
	const struct fwd_endpoint *ep;

	__builtin_memcpy(key.addr, pkt->daddr, sizeof(key.addr));
	ep = bpf_map_lookup_elem(&fwd_endpoints6, &key);
	if (!ep) {
		*why = FWD_CNT_PASS_NO_ENDPOINT;
		return NULL;
	}
	return fwd_endpoint_mac_check(ctx, ep, why);
}

#endif

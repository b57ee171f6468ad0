/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IPv6 from a namespace, for both hooks: anti-spoofing first (bpf/spoof.h), then known unicast
 * to another namespace switched as IPv4 is (bpf/endpoint.h). The rest is the caller's: what
 * leaves by the uplink (bpf/fwd_tc.bpf.c translates it: NAT66, DNAT66), multicast (neighbour
 * solicitations, MLD) and what is for the gateway (the bridge's). As the bridge does, switching
 * looks at neither the hop limit nor the upper-layer header: the receiving namespace's kernel
 * checks those.
 */
#ifndef FWD_BPF_SWITCH6_H
#define FWD_BPF_SWITCH6_H

#include "parse6.h"
#include "endpoint.h"
#include "settings.h"
#include "spoof.h"

/*
 * FWD_OK with *@ep the namespace to hand the frame to, or the counter that ends the frame's
 * path (a pass or a drop). @pkt: parsed here.
 */
static __always_inline __u32 fwd_switch6(struct __ctx_buff *ctx, const struct fwd_port *port,
					 struct fwd_pkt6 *pkt, const struct fwd_endpoint **ep)
{
	struct ethhdr *eth;
	__u32 why;

	*ep = NULL;
	pkt->l3_off = sizeof(struct ethhdr);
	why = fwd_parse_ipv6(ctx, pkt);
	if (why == FWD_OK)
		why = fwd_port_ipv6_check(ctx, port, pkt);
	if (why != FWD_OK)
		return why;
	eth = ctx_data(ctx);
	if ((void *)(eth + 1) > ctx_data_end(ctx))
		return FWD_CNT_DROP_TRUNC_ETH;
	if (fwd_mac_is_multicast(eth->h_dest))
		return FWD_CNT_PASS_MULTICAST;
	*ep = fwd_endpoint6_switch(ctx, pkt, &why);
	/*
	 * isolate: nothing goes from one namespace to another but through the gateway, where
	 * ip6tables holds the policy for IPv6 (the namespaces' addresses are /128s with an
	 * onlink default route, so what they send each other is addressed to the bridge's MAC
	 * and routed). A frame to another namespace's own MAC is left to the bridge, whose
	 * isolated ports drop it, never switched past the policy.
	 */
	if ((fwd_cfg.flags & FWD_SET_ISOLATE) && why != FWD_CNT_PASS_NO_ENDPOINT &&
	    why != FWD_CNT_DROP_TRUNC_ETH) {
		*ep = NULL;
		return FWD_CNT_PASS_ISOLATE6;
	}
	return *ep ? FWD_OK : why;
}

#endif

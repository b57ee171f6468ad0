// SPDX-License-Identifier: GPL-2.0
/*
 * tc (clsact ingress) on each host-side veth: known unicast IPv4 between the topology's
 * namespaces goes straight into the target namespace with bpf_redirect_peer() — no bridge, no
 * netfilter, no backlog queue, GSO/GRO kept. Everything else goes on to the bridge.
 */
#define FWD_CTX_TC
#include "ctx.h"
#include "parse.h"
#include "endpoint.h"
#include "counters.h"
#include "csum.h"

SEC("tc")
int fwd_tc_ingress(struct __sk_buff *skb)
{
	const struct fwd_endpoint *ep;
	struct fwd_pkt pkt = {};
	__u32 why;
	long ret;

	why = fwd_parse_eth(skb, &pkt);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	why = fwd_parse_ipv4(skb, &pkt);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	ep = fwd_endpoint_switch(skb, &pkt, &why);
	if (!ep)
		return fwd_verdict(skb, why);

	/* TC_ACT_REDIRECT, or TC_ACT_SHOT for bad flags. A peer that vanished or is down makes
	 * the kernel drop the frame after we return: counted as redirected here. */
	ret = bpf_redirect_peer(ep->ifindex, 0);
	if (ret != TC_ACT_REDIRECT)
		return fwd_verdict(skb, FWD_CNT_DROP_REDIRECT);
	fwd_count(skb, FWD_CNT_REDIRECT_PEER);
	fwd_trace_record(FWD_CNT_REDIRECT_PEER, ret, ep->ifindex, 0);
	return ret;
}

char LICENSE[] SEC("license") = "GPL";

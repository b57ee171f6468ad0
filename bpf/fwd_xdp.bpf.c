// SPDX-License-Identifier: GPL-2.0
/*
 * XDP on each host-side veth, the measured alternative to fwd_tc: the same switching decision,
 * then XDP_REDIRECT out of the target's host-side veth. Not attached by `fwdctl up` (see
 * bench/hook-choice.sh: attaching XDP to a veth costs its peer TSO/GSO); kept so the shared
 * code stays honest for both hooks and for the uplink, where XDP pays off.
 */
#define FWD_CTX_XDP
#include "ctx.h"
#include "parse.h"
#include "endpoint.h"
#include "spoof.h"
#include "switch6.h"
#include "counters.h"
#include "csum.h"

SEC("xdp")
int fwd_xdp_ingress(struct xdp_md *xdp)
{
	const struct fwd_endpoint *ep;
	const struct fwd_port *port;
	struct fwd_pkt pkt = {};
	__u32 why;
	long ret;

	why = fwd_port_check(xdp, &port);
	if (why != FWD_OK)
		return fwd_verdict(xdp, why);
	if ((fwd_cfg.flags & FWD_SET_IPV6) && fwd_eth_is_ipv6(xdp)) {
		struct fwd_pkt6 pkt6 = {};

		why = fwd_switch6(xdp, port, &pkt6, &ep);
		if (why != FWD_OK)
			return fwd_verdict(xdp, why);
		goto redirect;
	}
	why = fwd_parse_eth(xdp, &pkt);
	if (why != FWD_OK)
		return fwd_verdict(xdp, why);
	why = fwd_parse_ipv4(xdp, &pkt);
	if (why != FWD_OK)
		return fwd_verdict(xdp, why);
	if (!fwd_port_ipv4_ok(port, &pkt))
		return fwd_verdict(xdp, FWD_CNT_DROP_SPOOF_IPV4);
	why = fwd_parse_l4(xdp, &pkt);
	if (why != FWD_OK)
		return fwd_verdict(xdp, why);
	ep = fwd_endpoint_switch(xdp, &pkt, &why);
	if (!ep)
		return fwd_verdict(xdp, why);

redirect:
	ret = bpf_redirect(ep->ifindex, 0);
	if (ret != XDP_REDIRECT)
		return fwd_verdict(xdp, FWD_CNT_DROP_REDIRECT);
	fwd_count(xdp, FWD_CNT_REDIRECT_XDP);
	fwd_trace_record(FWD_CNT_REDIRECT_XDP, ret, ep->ifindex, 0);
	return ret;
}

/* The receiving veth end needs an XDP program (or GRO) for redirected frames to arrive. */
SEC("xdp")
int fwd_xdp_pass(struct xdp_md *xdp)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The next hop out of the uplink: the kernel's FIB decides whether a masqueraded frame leaves
 * by the uplink at all (MASQUERADE's "-o uplink"), gives the MACs, and checks the MTU.
 * tc only: bpf_redirect_neigh() exists for skbs.
 */
#ifndef FWD_BPF_FIB_H
#define FWD_BPF_FIB_H

#ifndef FWD_CTX_TC
#error "bpf/fib.h is for tc programs"
#endif

#include "parse.h"
#include "settings.h"

#define AF_INET 2

/*
 * Route @pkt as the kernel would when it arrives on the ingress interface: FWD_OK when it
 * leaves by the uplink (@fib then holds the MACs; *@no_neigh when the neighbour is not
 * resolved yet), else the counter that sends it elsewhere. Frames too big for the uplink go to
 * the kernel when DF is set (it answers "fragmentation needed") and are dropped otherwise:
 * the kernel would fragment and forward them untranslated.
 */
static __always_inline int fwd_fib_uplink(struct __sk_buff *ctx, const struct fwd_pkt *pkt,
					  struct bpf_fib_lookup *fib, bool *no_neigh)
{
	long rc;

	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = AF_INET;
	fib->tos = pkt->tos;
	fib->l4_protocol = pkt->proto;
	fib->tot_len = 0; /* 0: the kernel checks the skb itself against the MTU (GSO-aware) */
	fib->ipv4_src = pkt->saddr;
	fib->ipv4_dst = pkt->daddr;
	fib->ifindex = ctx_ingress_ifindex(ctx);
	rc = bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
	*no_neigh = rc == BPF_FIB_LKUP_RET_NO_NEIGH;
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH &&
	    rc != BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return FWD_CNT_PASS_ROUTE; /* local, blackhole, unreachable, forwarding off... */
	if (fib->ifindex != fwd_cfg.uplink_ifindex)
		return FWD_CNT_PASS_ROUTE;
	if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return fwd_ipv4_df(pkt) ? FWD_CNT_PASS_FRAG_NEEDED : FWD_CNT_DROP_NAT_TOO_BIG;
	return FWD_OK;
}

/* Out of the uplink: MACs from the FIB, or the kernel's neighbour code when it has none yet. */
static __always_inline long fwd_fib_redirect(struct __sk_buff *ctx, struct bpf_fib_lookup *fib,
					     bool no_neigh)
{
	struct bpf_redir_neigh nh = {};
	__u8 macs[12];

	if (no_neigh) {
		nh.nh_family = AF_INET;
		nh.ipv4_nh = fib->ipv4_dst; /* the gateway, or the destination when on-link */
		return bpf_redirect_neigh(fib->ifindex, &nh, sizeof(nh), 0);
	}
	__builtin_memcpy(macs, fib->dmac, 6);
	__builtin_memcpy(macs + 6, fib->smac, 6);
	if (ctx_store_bytes(ctx, 0, macs, sizeof(macs)))
		return TC_ACT_SHOT;
	return bpf_redirect(fib->ifindex, 0);
}

#endif

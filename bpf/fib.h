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
#include "parse6.h"
#include "settings.h"
#include "counters.h"

#define AF_INET	 2
#define AF_INET6 10

/*
 * The route cache. bpf_fib_lookup() is the dearest step of a translated frame: ~0.38 us of the
 * ~0.9 us an SNAT frame cost on the reference VM (BPF_ENABLE_STATS during one iperf3 stream;
 * README, "Route cache"), and its answer for a flow almost never changes. So each CPU keeps
 * the answers that sent a frame out of the uplink in a small direct-mapped table, keyed by
 * what the lookup was asked (the DSCP part of the TOS: ECN bits route nothing), and trusts
 * one for FWD_FIB_CACHE_NS after the lookup that made it: a changed route or neighbour reaches
 * established flows within that time (new flows with other addresses see it at once). What
 * depends on the frame itself, its size against the MTU, is checked on every frame
 * (fwd_fib_fits). Lookups that find no neighbour yet or do not lead out of the uplink are
 * never cached. Event counter fib_lookup: the lookups made.
 */
#define FWD_FIB_CACHE_SLOTS 256 /* a power of two */
#define FWD_FIB_CACHE_NS    (100ULL * 1000 * 1000)

struct fwd_fib_cache_slot {
	/* the question */
	__be32 saddr, daddr;
	__u32 in_ifindex;
	__u8 tos, proto;
	/* the answer */
	__u16 mtu;
	__u32 ifindex;
	__u8 dmac[6], smac[6];
	__u64 expires_ns; /* 0: empty */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FWD_FIB_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct fwd_fib_cache_slot);
} fwd_fib_cache SEC(".maps");

static __always_inline struct fwd_fib_cache_slot *fwd_fib_cache_slot(const struct fwd_pkt *pkt)
{
	/* Fibonacci hashing: the top bits of the product spread neighbouring addresses */
	__u32 h = (__u32)(pkt->saddr ^ pkt->daddr ^ pkt->proto) * 2654435761U;
	__u32 slot = h >> 24 & (FWD_FIB_CACHE_SLOTS - 1);

	return bpf_map_lookup_elem(&fwd_fib_cache, &slot);
}

/* The TOS the route depends on: the ECN bits change from frame to frame and route nothing. */
static __always_inline __u8 fwd_fib_cache_tos(const struct fwd_pkt *pkt)
{
	return pkt->tos & 0xfc;
}

static __always_inline bool fwd_fib_cache_hit(const struct fwd_fib_cache_slot *c,
					      const struct fwd_pkt *pkt, __u32 in_ifindex,
					      __u64 now)
{
	return c->expires_ns > now && c->saddr == pkt->saddr && c->daddr == pkt->daddr &&
	       c->in_ifindex == in_ifindex && c->tos == fwd_fib_cache_tos(pkt) &&
	       c->proto == pkt->proto;
}

/*
 * Does @pkt fit the uplink's @mtu? The IPv4 packets it makes on the wire, that is: itself, or
 * for a GSO frame each segment (its IPv4 and TCP or UDP headers and gso_size bytes). The
 * lookup's own check (is_skb_forwardable) lets GSO frames pass whatever their segments and
 * others through at the MTU plus 18 bytes of Ethernet and VLAN header: with the uplink at
 * 1200, TCP segments of 1500 bytes and DF datagrams of up to 1204 left it.
 */
static __always_inline bool fwd_fib_fits(struct __sk_buff *ctx, const struct fwd_pkt *pkt,
					 __u32 mtu)
{
	__u32 l4 = 0;
	__u8 doff;

	if (!mtu)
		return true; /* not known yet (no neighbour): the device checks */
	if (!ctx_is_gso(ctx))
		return pkt->l3_len <= mtu;
	if (pkt->proto == IPPROTO_TCP) {
		if (ctx_load_bytes(ctx, pkt->l4_off + 12, &doff, 1))
			return false;
		l4 = (doff >> 4) * 4;
	} else if (pkt->proto == IPPROTO_UDP) {
		l4 = 8;
	}
	return pkt->l4_off - pkt->l3_off + l4 + ctx->gso_size <= mtu;
}

/*
 * Route @pkt as the kernel would when it arrives on the ingress interface: FWD_OK when it
 * leaves by the uplink (@fib then holds the MACs and the MTU; *@no_neigh when the neighbour
 * is not resolved yet), else the counter that sends it elsewhere. Frames too big for the
 * uplink go to the kernel when DF is set (it answers "fragmentation needed"); without DF,
 * DROP_NAT_TOO_BIG with @fib filled: the caller cuts them into fragments (bpf/frag.h) or drops
 * them (the kernel would fragment and forward them untranslated). Answered from the route cache
 * (above) when it can; @now is the caller's ct_now() (bpf_ktime_get_coarse_ns).
 */
static __always_inline int fwd_fib_uplink(struct __sk_buff *ctx, const struct fwd_pkt *pkt,
					  __u64 now, struct bpf_fib_lookup *fib, bool *no_neigh)
{
	__u32 in_ifindex = ctx_ingress_ifindex(ctx);
	struct fwd_fib_cache_slot *c = fwd_fib_cache_slot(pkt);
	long rc;

	__builtin_memset(fib, 0, sizeof(*fib));
	*no_neigh = false;
	if (c && fwd_fib_cache_hit(c, pkt, in_ifindex, now)) {
		fib->ifindex = c->ifindex;
		fib->ipv4_dst = pkt->daddr;
		fib->mtu_result = c->mtu;
		__builtin_memcpy(fib->dmac, c->dmac, 6);
		__builtin_memcpy(fib->smac, c->smac, 6);
		if (fwd_fib_fits(ctx, pkt, c->mtu))
			return FWD_OK;
		return fwd_ipv4_df(pkt) ? FWD_CNT_PASS_FRAG_NEEDED : FWD_CNT_DROP_NAT_TOO_BIG;
	}

	fib->family = AF_INET;
	fib->tos = pkt->tos;
	fib->l4_protocol = pkt->proto;
	fib->tot_len = 0; /* 0: the kernel checks the skb itself against the MTU (GSO-aware) */
	fib->ipv4_src = pkt->saddr;
	fib->ipv4_dst = pkt->daddr;
	fib->ifindex = in_ifindex;
	rc = bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
	fwd_count_event(FWD_CNT_FIB_LOOKUP);
	*no_neigh = rc == BPF_FIB_LKUP_RET_NO_NEIGH;
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH &&
	    rc != BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return FWD_CNT_PASS_ROUTE; /* local, blackhole, unreachable, forwarding off... */
	if (fib->ifindex != fwd_cfg.uplink_ifindex)
		return FWD_CNT_PASS_ROUTE;
	/* With tot_len 0, mtu_result is the device's MTU for SUCCESS and FRAG_NEEDED alike (the
	 * MACs are there for both: the MTU is checked after the neighbour lookup). */
	if (c && rc != BPF_FIB_LKUP_RET_NO_NEIGH && fib->mtu_result) {
		c->saddr = pkt->saddr;
		c->daddr = pkt->daddr;
		c->in_ifindex = in_ifindex;
		c->tos = fwd_fib_cache_tos(pkt);
		c->proto = pkt->proto;
		c->mtu = fib->mtu_result;
		c->ifindex = fib->ifindex;
		__builtin_memcpy(c->dmac, fib->dmac, 6);
		__builtin_memcpy(c->smac, fib->smac, 6);
		c->expires_ns = now + FWD_FIB_CACHE_NS;
	}
	if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED ||
	    (rc == BPF_FIB_LKUP_RET_SUCCESS && !fwd_fib_fits(ctx, pkt, fib->mtu_result)))
		return fwd_ipv4_df(pkt) ? FWD_CNT_PASS_FRAG_NEEDED : FWD_CNT_DROP_NAT_TOO_BIG;
	return FWD_OK;
}

/*
 * IPv6 to masquerade (@l4: its upper layer as fwd_pkt, bpf/nat6.h), routed as the kernel would:
 * FWD_OK when it leaves by the uplink and fits its MTU, @fib holding the next hop; else
 * PASS_NAT6, and the kernel routes it (a Packet Too Big back, a local or other route). Not
 * cached: NAT66 is new, and its rates are measured first.
 */
static __always_inline __u32 fwd_fib6_uplink(struct __sk_buff *ctx, const struct fwd_pkt6 *pkt,
					     const struct fwd_pkt *l4, struct bpf_fib_lookup *fib,
					     bool *no_neigh)
{
	long rc;

	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = AF_INET6;
	fib->l4_protocol = pkt->proto;
	__builtin_memcpy(fib->ipv6_src, pkt->saddr, sizeof(fib->ipv6_src));
	__builtin_memcpy(fib->ipv6_dst, pkt->daddr, sizeof(fib->ipv6_dst));
	fib->ifindex = ctx_ingress_ifindex(ctx);
	rc = bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
	fwd_count_event(FWD_CNT_FIB_LOOKUP);
	*no_neigh = rc == BPF_FIB_LKUP_RET_NO_NEIGH;
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return FWD_CNT_PASS_NAT6;
	if (fib->ifindex != fwd_cfg.uplink_ifindex)
		return FWD_CNT_PASS_NAT6;
	/* A BIG TCP packet's segments leave without its hop-by-hop header (GSO strips it). */
	if (rc == BPF_FIB_LKUP_RET_SUCCESS &&
	    !fwd_fib_fits(ctx, l4, fib->mtu_result ? fib->mtu_result + pkt->jumbo_hbh : 0))
		return FWD_CNT_PASS_NAT6;
	return FWD_OK;
}

/* Out of the uplink: MACs from the FIB, or the kernel's neighbour code when it has none yet. */
/*
 * Route @pkt as the kernel would, without the cache: true when it leaves by a link that is not
 * the uplink (another topology's bridge, another link of the host), @fib then holding that
 * link and, unless *@no_neigh, the MACs. For the rare frame fwd_fib_uplink() sends elsewhere.
 */
static __always_inline bool fwd_fib_elsewhere(struct __sk_buff *ctx, const struct fwd_pkt *pkt,
					      struct bpf_fib_lookup *fib, bool *no_neigh)
{
	long rc;

	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = AF_INET;
	fib->tos = pkt->tos;
	fib->l4_protocol = pkt->proto;
	fib->ipv4_src = pkt->saddr;
	fib->ipv4_dst = pkt->daddr;
	fib->ifindex = ctx_ingress_ifindex(ctx);
	rc = bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
	fwd_count_event(FWD_CNT_FIB_LOOKUP);
	*no_neigh = rc == BPF_FIB_LKUP_RET_NO_NEIGH;
	return (rc == BPF_FIB_LKUP_RET_SUCCESS || rc == BPF_FIB_LKUP_RET_NO_NEIGH) &&
	       fib->ifindex != fwd_cfg.uplink_ifindex;
}

static __always_inline long fwd_fib_redirect(struct __sk_buff *ctx, struct bpf_fib_lookup *fib,
					     bool no_neigh)
{
	struct bpf_redir_neigh nh = {};
	__u8 macs[12];

	if (no_neigh) {
		/* the gateway, or the destination when on-link */
		if (fib->family == AF_INET6) {
			nh.nh_family = AF_INET6;
			__builtin_memcpy(nh.ipv6_nh, fib->ipv6_dst, sizeof(nh.ipv6_nh));
		} else {
			nh.nh_family = AF_INET;
			nh.ipv4_nh = fib->ipv4_dst;
		}
		return bpf_redirect_neigh(fib->ifindex, &nh, sizeof(nh), 0);
	}
	__builtin_memcpy(macs, fib->dmac, 6);
	__builtin_memcpy(macs + 6, fib->smac, 6);
	if (ctx_store_bytes(ctx, 0, macs, sizeof(macs)))
		return TC_ACT_SHOT;
	return bpf_redirect(fib->ifindex, 0);
}

#endif

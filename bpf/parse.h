/* SPDX-License-Identifier: GPL-2.0 */
/* Header parsing: Ethernet and IPv4, bounds-checked, with the reason when a frame is refused. */
#ifndef FWD_BPF_PARSE_H
#define FWD_BPF_PARSE_H

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>

#include "ctx.h"
#include "fwd_kern_user.h"

/*
 * Helpers return FWD_OK or the enum fwd_counter that ends the frame's path. FWD_OK shares the
 * value 0 with FWD_CNT_REDIRECT_PEER: no helper ends a frame by redirecting, so they never meet.
 */
#define FWD_OK 0

/* Offsets and the fields fwd decides on; pointers are re-derived after anything that pulls. */
struct fwd_pkt {
	__u32 l3_off; /* bytes from the frame start to the IPv4 header */
	__u32 l4_off; /* bytes from the frame start to the L4 header (after IPv4 options) */
	__be32 saddr; /* network order */
	__be32 daddr; /* network order */
	__u8 proto;   /* IPPROTO_* */
	__u8 pad[3];
};

static __always_inline int fwd_mac_is_multicast(const __u8 *mac)
{
	return mac[0] & 1; /* the I/G bit; broadcast is a multicast address too */
}

static __always_inline int fwd_mac_equal(const __u8 *a, const __u8 *b)
{
	/* Two loads instead of a byte loop; both sides are 2-byte aligned in practice. */
	return *(const __u32 *)a == *(const __u32 *)b &&
	       *(const __u16 *)(a + 4) == *(const __u16 *)(b + 4);
}

/*
 * Ethernet: FWD_OK for an untagged unicast IPv4 frame, else the counter that ends it
 * (truncated, tagged, multicast, not IPv4). Order matters: tags before ethertype.
 */
static __always_inline int fwd_parse_eth(struct __ctx_buff *ctx, struct fwd_pkt *pkt)
{
	struct ethhdr *eth;

	if (ctx_pull(ctx, sizeof(*eth)))
		return FWD_CNT_DROP_TRUNC_ETH;
	eth = ctx_data(ctx);
	if ((void *)(eth + 1) > ctx_data_end(ctx))
		return FWD_CNT_DROP_TRUNC_ETH;

	if (ctx_vlan_offloaded(ctx))
		return FWD_CNT_PASS_VLAN;
	if (fwd_mac_is_multicast(eth->h_dest))
		return FWD_CNT_PASS_MULTICAST;
	if (eth->h_proto == bpf_htons(ETH_P_8021Q) || eth->h_proto == bpf_htons(ETH_P_8021AD))
		return FWD_CNT_PASS_VLAN;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return FWD_CNT_PASS_NOT_IPV4;
	pkt->l3_off = sizeof(*eth);
	return FWD_OK;
}

/*
 * IPv4 after fwd_parse_eth(): FWD_OK with the addresses and offsets filled, or a drop reason.
 * Options are accepted (the L4 offset follows IHL); fragments too (nothing here reads L4).
 */
static __always_inline int fwd_parse_ipv4(struct __ctx_buff *ctx, struct fwd_pkt *pkt)
{
	__u32 hlen, tot_len, avail;
	struct iphdr *iph;

	if (ctx_pull(ctx, pkt->l3_off + sizeof(*iph)))
		return FWD_CNT_DROP_TRUNC_IPV4;
	iph = ctx_data(ctx) + sizeof(struct ethhdr);
	if ((void *)(iph + 1) > ctx_data_end(ctx))
		return FWD_CNT_DROP_TRUNC_IPV4;
	if (iph->version != 4)
		return FWD_CNT_DROP_BAD_VERSION;
	if (iph->ihl < 5)
		return FWD_CNT_DROP_BAD_IHL;

	hlen = iph->ihl * 4;
	avail = ctx_full_len(ctx) - pkt->l3_off;
	if (hlen > avail)
		return FWD_CNT_DROP_TRUNC_IPV4;
	tot_len = bpf_ntohs(iph->tot_len);
	if (tot_len == 0 && ctx_is_gso(ctx))
		tot_len = avail; /* BIG TCP: the length is the skb's */
	if (tot_len < hlen || tot_len > avail)
		return FWD_CNT_DROP_BAD_TOTLEN;

	pkt->saddr = iph->saddr;
	pkt->daddr = iph->daddr;
	pkt->proto = iph->protocol;
	pkt->l4_off = pkt->l3_off + hlen;
	return FWD_OK;
}

#endif

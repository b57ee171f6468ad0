/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IPv6 header parsing: the fixed header, then the extension headers as far as the upper-layer
 * protocol, bounds-checked, with the reason when a frame is refused. The companion of parse.h
 * (IPv4); what the two share (FWD_OK, fwd_mac_*) lives there.
 */
#ifndef FWD_BPF_PARSE6_H
#define FWD_BPF_PARSE6_H

#include <linux/ipv6.h>

#include "parse.h"

#ifndef ETH_P_IPV6
#define ETH_P_IPV6 0x86DD
#endif

#define FWD_IPPROTO_HOPOPTS  0
#define FWD_IPPROTO_ROUTING  43
#define FWD_IPPROTO_FRAGMENT 44
#define FWD_IPPROTO_AH	     51
#define FWD_IPPROTO_ICMPV6   58
#define FWD_IPPROTO_DSTOPTS  60

/* ICMPv6 types fwd decides on (RFC 4443, RFC 4861, MLD: RFC 2710, RFC 3810) */
#define FWD_ICMP6_MLD_QUERY	   130
#define FWD_ICMP6_MLD_REPORT	   131
#define FWD_ICMP6_MLD_DONE	   132
#define FWD_ICMP6_MLD2_REPORT	   143
#define FWD_ICMP6_ROUTER_ADVERT	   134
#define FWD_ICMP6_NEIGHBOUR_ADVERT 136
#define FWD_ICMP6_REDIRECT	   137

/*
 * Extension headers read before the upper-layer header. Linux sets no limit; a chain longer
 * than this is dropped (drop_ipv6_ext) rather than passed unread, because what it hides could
 * be a neighbour advertisement the anti-spoofing must see. Real traffic carries one or two
 * (hop-by-hop for MLD, a fragment header).
 */
#define FWD_IPV6_EXT_MAX 6

/* The jumbo payload option's type (RFC 2675), which BIG TCP's hop-by-hop header carries. */
#define FWD_IPV6_TLV_JUMBO 0xc2

/* fwd_pkt6.frag */
#define FWD_FRAG6_NONE	0
#define FWD_FRAG6_FIRST 1 /* offset 0: the upper-layer header follows */
#define FWD_FRAG6_LATER 2 /* no upper-layer header in this fragment */

struct fwd_pkt6 {
	__u32 l3_off;	 /* bytes from the frame start to the IPv6 header */
	__u32 l4_off;	 /* bytes from the frame start to the upper-layer header */
	__be32 saddr[4]; /* network order */
	__be32 daddr[4]; /* network order */
	__u32 l3_len;	 /* host order: 40 + the payload length (BIG TCP: the skb's) */
	__u8 proto;	 /* the upper-layer protocol, after the extension headers */
	__u8 hop_limit;	 /* as in the header */
	__u8 frag;	 /* FWD_FRAG6_* */
	__u8 icmp_type;	 /* ICMPv6 (not a later fragment) only */
	__be16 sport;	 /* TCP and UDP (not a later fragment) only, network order */
	__be16 dport;
	/* BIG TCP: the bytes of the hop-by-hop header the kernel put in front of a GSO packet
	 * over 64 KiB to carry its length (a jumbo payload option alone, 8 bytes), which the
	 * packet's segments will not carry; 0 for any other packet */
	__u8 jumbo_hbh;
};

static __always_inline bool fwd_ipv6_equal(const __be32 *a, const __be32 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

static __always_inline bool fwd_ipv6_is_zero(const __be32 *a)
{
	return !(a[0] | a[1] | a[2] | a[3]);
}

/* An untagged IPv6 frame? Tagged ones go the IPv4 way, to be passed as tagged. */
static __always_inline bool fwd_eth_is_ipv6(struct __ctx_buff *ctx)
{
	struct ethhdr *eth;

	if (ctx_pull(ctx, sizeof(*eth)))
		return false;
	eth = ctx_data(ctx);
	if ((void *)(eth + 1) > ctx_data_end(ctx))
		return false;
	return !ctx_vlan_offloaded(ctx) && eth->h_proto == bpf_htons(ETH_P_IPV6);
}

static __always_inline bool fwd_ipv6_is_ext(__u8 nexthdr)
{
	return nexthdr == FWD_IPPROTO_HOPOPTS || nexthdr == FWD_IPPROTO_ROUTING ||
	       nexthdr == FWD_IPPROTO_FRAGMENT || nexthdr == FWD_IPPROTO_AH ||
	       nexthdr == FWD_IPPROTO_DSTOPTS;
}

/*
 * The extension headers after the fixed header: FWD_OK with proto, l4_off and frag filled,
 * or the drop reason (one cut short by the payload length, or too many). Each is read through
 * ctx_load_bytes(): its offset depends on the ones before.
 */
static __always_inline int fwd_ipv6_skip_ext(struct __ctx_buff *ctx, struct fwd_pkt6 *pkt,
					     __u8 nexthdr)
{
	__u32 off = pkt->l3_off + sizeof(struct ipv6hdr), end = pkt->l3_off + pkt->l3_len;

#pragma unroll
	for (int i = 0; i < FWD_IPV6_EXT_MAX; i++) {
		__u8 h[4];
		__u32 len;

		if (!fwd_ipv6_is_ext(nexthdr))
			break;
		if (off + 8 > end || ctx_load_bytes(ctx, off, h, sizeof(h)))
			return FWD_CNT_DROP_TRUNC_IPV6;
		if (nexthdr == FWD_IPPROTO_FRAGMENT) {
			len = 8;
			/* the offset (13 bits, in 8-byte units) and the M flag */
			pkt->frag = (h[2] << 8 | h[3]) & 0xfff8 ? FWD_FRAG6_LATER : FWD_FRAG6_FIRST;
		} else if (nexthdr == FWD_IPPROTO_AH) {
			len = (h[1] + 2) * 4; /* RFC 4302: in 4-byte units, less 2 */
		} else {
			len = (h[1] + 1) * 8; /* RFC 8200: in 8-byte units, less the first */
		}
		if (off + len > end)
			return FWD_CNT_DROP_TRUNC_IPV6;
		nexthdr = h[0];
		off += len;
		if (pkt->frag == FWD_FRAG6_LATER)
			break; /* what follows is the middle of the datagram */
	}
	if (fwd_ipv6_is_ext(nexthdr) && pkt->frag != FWD_FRAG6_LATER)
		return FWD_CNT_DROP_IPV6_EXT;
	pkt->proto = nexthdr;
	pkt->l4_off = off;
	return FWD_OK;
}

/*
 * The upper-layer header's first bytes, as IPv4's fwd_parse_l4() checks them: FWD_OK with the
 * ports (TCP, UDP) or the ICMPv6 type filled, or DROP_TRUNC_L4 for a header not all there
 * (TCP 20 bytes, UDP and ICMPv6 8). A later fragment has none to read.
 */
static __always_inline int fwd_parse_l4_6(struct __ctx_buff *ctx, struct fwd_pkt6 *pkt)
{
	__u32 need, end = pkt->l3_off + pkt->l3_len;
	__u8 hdr[4];

	if (pkt->frag == FWD_FRAG6_LATER)
		return FWD_OK;
	if (pkt->proto == IPPROTO_TCP)
		need = 20;
	else if (pkt->proto == IPPROTO_UDP || pkt->proto == FWD_IPPROTO_ICMPV6)
		need = 8;
	else
		return FWD_OK;
	if (pkt->l4_off + need > end || ctx_load_bytes(ctx, pkt->l4_off, hdr, sizeof(hdr)))
		return FWD_CNT_DROP_TRUNC_L4;
	if (pkt->proto == FWD_IPPROTO_ICMPV6) {
		pkt->icmp_type = hdr[0];
	} else {
		__builtin_memcpy(&pkt->sport, hdr, 2);
		__builtin_memcpy(&pkt->dport, hdr + 2, 2);
	}
	return FWD_OK;
}

/*
 * IPv6 after the Ethernet header (@pkt->l3_off set): FWD_OK with the addresses, the
 * upper-layer protocol and offsets filled (the ports, the ICMPv6 type), or a drop reason: a
 * header that is short, of another version, with a payload length past the frame, an
 * extension header cut short, too many of them, an upper-layer header not all there. Trailing bytes
 * after the payload (Ethernet padding) are allowed, as ipv6_rcv() trims them.
 */
static __always_inline int fwd_parse_ipv6(struct __ctx_buff *ctx, struct fwd_pkt6 *pkt)
{
	struct ipv6hdr *ip6;
	__u32 avail;
	__u8 nexthdr;
	bool big;
	int why;

	if (ctx_pull(ctx, pkt->l3_off + sizeof(*ip6)))
		return FWD_CNT_DROP_TRUNC_IPV6;
	ip6 = ctx_data(ctx) + sizeof(struct ethhdr);
	if ((void *)(ip6 + 1) > ctx_data_end(ctx))
		return FWD_CNT_DROP_TRUNC_IPV6;
	if (ip6->version != 6)
		return FWD_CNT_DROP_BAD_VERSION;
	avail = ctx_full_len(ctx) - pkt->l3_off;
	pkt->l3_len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	big = pkt->l3_len == sizeof(*ip6) && ctx_is_gso(ctx);
	if (big)
		pkt->l3_len = avail; /* BIG TCP: the length is the skb's */
	if (pkt->l3_len > avail)
		return FWD_CNT_DROP_TRUNC_IPV6;
	__builtin_memcpy(pkt->saddr, &ip6->saddr, sizeof(pkt->saddr));
	__builtin_memcpy(pkt->daddr, &ip6->daddr, sizeof(pkt->daddr));
	pkt->hop_limit = ip6->hop_limit;
	nexthdr = ip6->nexthdr;
	if (big && nexthdr == FWD_IPPROTO_HOPOPTS) {
		/* next header, length 0 (8 bytes), the jumbo option (RFC 2675): type, length 4 */
		__u8 h[4];

		if (!ctx_load_bytes(ctx, pkt->l3_off + sizeof(*ip6), h, sizeof(h)) && h[1] == 0 &&
		    h[2] == FWD_IPV6_TLV_JUMBO && h[3] == 4)
			pkt->jumbo_hbh = 8;
	}
	why = fwd_ipv6_skip_ext(ctx, pkt, nexthdr);
	if (why != FWD_OK)
		return why;
	return fwd_parse_l4_6(ctx, pkt);
}

#endif

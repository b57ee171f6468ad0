/* SPDX-License-Identifier: GPL-2.0 */
/* Header parsing: Ethernet and IPv4, bounds-checked, with the reason when a frame is refused. */
#ifndef FWD_BPF_PARSE_H
#define FWD_BPF_PARSE_H

#include <stdbool.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
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
	__u8 ttl;
	__u8 tos;
	__u8 capture;	 /* bpf/capture.h: CAPTURE_ON, CAPTURE_MATCH; 0 while no capture runs */
	__be16 frag_off; /* network order, as in the header: flags and offset */
	__be16 ip_id;	 /* network order: the identification field (bpf/frag.h) */
	__u32 l3_len;	 /* host order: the IPv4 total length (BIG TCP: the skb's) */
	/* Filled by fwd_parse_l4() only. */
	__be16 sport;	/* network order; ICMP echo request: identifier, reply: 0 */
	__be16 dport;	/* network order; ICMP echo request: 0, reply: identifier */
	__u8 tcp_flags; /* TCP: byte 13 of the header (FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10) */
	__u8 icmp_type;
	__u32 l4_csum_off; /* bytes from the frame start to the L4 checksum */
	/* TCP only, host order: for the sequence tracking of bpf/conntrack.h */
	__u32 tcp_seq;
	__u32 tcp_ack;
	__u16 tcp_win;	 /* as in the header: scaled by the sender's window scale, not here */
	__u8 tcp_doff;	 /* header length in bytes, options included (20..60) */
	__u8 tcp_wscale; /* SYN: its window scale option, else FWD_TCP_NO_WSCALE */
};

/* From <linux/icmp.h>, which drags in libc's socket headers that -target bpf lacks. */
#define ICMP_ECHOREPLY	   0
#define ICMP_DEST_UNREACH  3
#define ICMP_ECHO	   8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12

#define FWD_TCP_FIN 0x01
#define FWD_TCP_SYN 0x02
#define FWD_TCP_RST 0x04
#define FWD_TCP_ACK 0x10

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
 * The one's complement sum of the 32-bit words @w[0..@n/4) (@n a multiple of 4, at most 40),
 * folded to 16 bits: 0xffff over an IPv4 header whose checksum is right (RFC 1071; summing
 * 32-bit words and folding gives the sum of the 16-bit words, in either byte order).
 */
static __always_inline __u32 fwd_sum_words(const __u32 *w, __u32 n)
{
	__u64 sum = 0;

#pragma unroll
	for (int i = 0; i < 10; i++)
		if (i * 4 < (int)n)
			sum += w[i];
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* IPv4 option kinds Linux refuses to forward while accept_source_route is 0, its default. */
#define FWD_IPOPT_LSRR 131
#define FWD_IPOPT_SSRR 137

/*
 * The @n bytes of IPv4 options at @b well formed (as ip_options_compile() wants them): every
 * option but end-of-list and NOP has a length of at least 2 that stays inside the options; no
 * source route. Unrolled with constant offsets, as fwd_tcp_opts_wscale() below and for the
 * same reason; global (verified once, on its own, not in every path that parses a header).
 */
/* IPv4 options as read: 64 bytes, not 40, as fwd_ipv4_check_header() says. */
union fwd_ip_opts {
	__u32 w[16];
	__u8 b[64];
};

__attribute__((noinline)) int fwd_ipv4_opts_ok(const union fwd_ip_opts *o, __u32 n)
{
	const __u8 *b;
	__u32 skip = 0;

	if (!o) /* a global function's pointer may be NULL for the verifier */
		return 0;
	b = o->b;

#pragma unroll
	for (int k = 0; k < 40; k++) {
		__u8 kind = b[k], len;

		if (k >= (int)n)
			break;
		if (skip) {
			skip--;
			continue;
		}
		if (kind == 0) /* end of the list: what follows is padding */
			break;
		if (kind == 1) /* NOP */
			continue;
		if (k == 39 || k + 1 >= (int)n)
			return false; /* no room for the length byte */
		len = b[k + 1 < 40 ? k + 1 : 39];
		if (len < 2 || k + len > n)
			return false;
		if (kind == FWD_IPOPT_LSRR || kind == FWD_IPOPT_SSRR)
			return false;
		skip = len - 1;
	}
	return true;
}

/*
 * The header checksum, and the options when IHL says there are some (@hlen bytes in all, the
 * first 20 at @iph, already bounds-checked): FWD_OK or the drop reason. A frame with a wrong
 * checksum is damaged or forged; the kernel's ip_rcv() drops it and so does every path here.
 */
static __always_inline int fwd_ipv4_check_header(struct __ctx_buff *ctx, const struct fwd_pkt *pkt,
						 const struct iphdr *iph, __u32 hlen)
{
	/* 64 bytes, not 40: clang knows n <= 40 and drops the test the verifier needs to see. */
	union fwd_ip_opts opts = {};
	__u32 n = (hlen - 20) & 63, sum;

	sum = fwd_sum_words((const __u32 *)iph, 20);
	if (n) {
		if (n > 40 || ctx_load_bytes(ctx, pkt->l3_off + 20, opts.b, n))
			return FWD_CNT_DROP_TRUNC_IPV4;
		sum += fwd_sum_words(opts.w, n);
		sum = (sum & 0xffff) + (sum >> 16);
	}
	if (sum != 0xffff)
		return FWD_CNT_DROP_BAD_IPV4_CSUM;
	if (n && !fwd_ipv4_opts_ok(&opts, n))
		return FWD_CNT_DROP_BAD_IP_OPTIONS;
	return FWD_OK;
}

/*
 * IPv4 after fwd_parse_eth(): FWD_OK with the addresses and offsets filled, or a drop reason:
 * a header that is short, of another version, with a length that disagrees with the frame, a
 * wrong checksum or malformed options. Fragments are accepted (nothing here reads L4).
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
	pkt->ttl = iph->ttl;
	pkt->tos = iph->tos;
	pkt->frag_off = iph->frag_off;
	pkt->ip_id = iph->id;
	pkt->l3_len = tot_len;
	pkt->l4_off = pkt->l3_off + hlen;
	return fwd_ipv4_check_header(ctx, pkt, iph, hlen);
}

static __always_inline int fwd_ipv4_is_fragment(const struct fwd_pkt *pkt)
{
	return pkt->frag_off & bpf_htons(0x2000 | 0x1fff); /* MF, or a non-zero offset */
}

static __always_inline int fwd_ipv4_df(const struct fwd_pkt *pkt)
{
	return pkt->frag_off & bpf_htons(0x4000);
}

/* The options of a TCP header: at most 40 bytes. */
struct fwd_tcp_opts {
	__u8 b[40];
};

/*
 * The window scale option (RFC 7323, kind 3) among the first @n (at most 40) bytes of @o,
 * capped at 14 as the RFC says; FWD_TCP_NO_WSCALE when there is none. One pass over the
 * bytes, unrolled, every offset a constant: @skip counts the bytes of the option being passed
 * over. The verifier sees a straight line of short branches instead of a loop whose index
 * depends on the data (which it cannot prune: it gave up after a million instructions).
 * Global, as fwd_ipv4_opts_ok().
 */
__attribute__((noinline)) int fwd_tcp_opts_wscale(const struct fwd_tcp_opts *o, __u32 n)
{
	__u32 skip = 0;

	if (!o) /* a global function's pointer may be NULL for the verifier */
		return FWD_TCP_NO_WSCALE;

#pragma unroll
	for (int k = 0; k < 39; k++) {
		__u8 kind = o->b[k];

		if (k + 1 >= n)
			break;
		if (skip) {
			skip--;
			continue;
		}
		if (kind == 0) /* end of options */
			break;
		if (kind == 1) /* NOP */
			continue;
		if (o->b[k + 1] < 2) /* a length that covers not even kind and length */
			break;
		if (kind == 3 && o->b[k + 1] == 3 && k + 2 < (int)n)
			return o->b[k + 2 < 40 ? k + 2 : 39] > 14 ? 14
								  : o->b[k + 2 < 40 ? k + 2 : 39];
		skip = o->b[k + 1] - 1;
	}
	return FWD_TCP_NO_WSCALE;
}

/* The window scale a SYN announces, or FWD_TCP_NO_WSCALE (also when its options are unread). */
static __always_inline __u8 fwd_tcp_wscale(struct __ctx_buff *ctx, const struct fwd_pkt *pkt)
{
	struct fwd_tcp_opts o = {};
	__u32 n = (pkt->tcp_doff - 20) & 63;

	if (n == 0 || n > 40 || ctx_load_bytes(ctx, pkt->l4_off + 20, o.b, n))
		return FWD_TCP_NO_WSCALE;
	return fwd_tcp_opts_wscale(&o, n);
}

/* Not the first fragment: no L4 header to read. */
static __always_inline int fwd_ipv4_is_later_fragment(const struct fwd_pkt *pkt)
{
	return pkt->frag_off & bpf_htons(0x1fff);
}

/*
 * The L4 header after fwd_parse_ipv4(), checked on every path and read for conntrack: FWD_OK
 * with the ports (or ICMP type and echo identifier) filled, or the drop reason: a TCP, UDP or
 * ICMP header not all there (DROP_TRUNC_L4; a first fragment must hold it whole, or its
 * ports could hide in the second: RFC 1858), a TCP data offset below 20 or past the packet,
 * a UDP length below 8 or past the packet (DROP_BAD_L4_LEN). Other protocols and later
 * fragments pass unread (ports 0): the NAT paths ask bpf/frag.h for those. Copies through
 * ctx_load_bytes(): no bounds to prove for an offset that depends on IHL.
 */
static __always_inline int fwd_parse_l4(struct __ctx_buff *ctx, struct fwd_pkt *pkt)
{
	__u32 l4_len = pkt->l3_off + pkt->l3_len - pkt->l4_off;
	__u8 hdr[20];

	if (fwd_ipv4_is_later_fragment(pkt))
		return FWD_OK;
	switch (pkt->proto) {
	case IPPROTO_TCP:
		if (l4_len < 20 || ctx_load_bytes(ctx, pkt->l4_off, hdr, 20))
			return FWD_CNT_DROP_TRUNC_L4;
		pkt->sport = *(__be16 *)hdr;
		pkt->dport = *(__be16 *)(hdr + 2);
		pkt->tcp_seq = bpf_ntohl(*(__be32 *)(hdr + 4));
		pkt->tcp_ack = bpf_ntohl(*(__be32 *)(hdr + 8));
		pkt->tcp_doff = (hdr[12] >> 4) * 4;
		pkt->tcp_flags = hdr[13];
		pkt->tcp_win = bpf_ntohs(*(__be16 *)(hdr + 14));
		pkt->l4_csum_off = pkt->l4_off + 16;
		/* A data offset below the header, or beyond the packet, is no TCP segment. */
		if (pkt->tcp_doff < 20 || pkt->tcp_doff > l4_len)
			return FWD_CNT_DROP_BAD_L4_LEN;
		pkt->tcp_wscale =
		    pkt->tcp_flags & FWD_TCP_SYN ? fwd_tcp_wscale(ctx, pkt) : FWD_TCP_NO_WSCALE;
		return FWD_OK;
	case IPPROTO_UDP: {
		__u32 udp_len;

		if (l4_len < 8 || ctx_load_bytes(ctx, pkt->l4_off, hdr, 8))
			return FWD_CNT_DROP_TRUNC_L4;
		pkt->sport = *(__be16 *)hdr;
		pkt->dport = *(__be16 *)(hdr + 2);
		pkt->l4_csum_off = pkt->l4_off + 6;
		/* A first fragment's UDP length is the whole datagram's; a GSO frame's (UDP GSO)
		 * is one segment's. Linux drops a datagram its UDP length overruns. */
		udp_len = bpf_ntohs(*(__be16 *)(hdr + 4));
		if (udp_len < 8 ||
		    (udp_len > l4_len && !(pkt->frag_off & bpf_htons(0x2000)) && !ctx_is_gso(ctx)))
			return FWD_CNT_DROP_BAD_L4_LEN;
		return FWD_OK;
	}
	case IPPROTO_ICMP:
		if (l4_len < 8 || ctx_load_bytes(ctx, pkt->l4_off, hdr, 8))
			return FWD_CNT_DROP_TRUNC_L4;
		pkt->icmp_type = hdr[0];
		pkt->l4_csum_off = pkt->l4_off + 2;
		/* The identifier plays the port of whoever picked it: the requester. */
		if (hdr[0] == ICMP_ECHO) {
			pkt->sport = *(__be16 *)(hdr + 4);
			pkt->dport = 0;
		} else if (hdr[0] == ICMP_ECHOREPLY) {
			pkt->sport = 0;
			pkt->dport = *(__be16 *)(hdr + 4);
		}
		return FWD_OK;
	default: return FWD_OK;
	}
}

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Frames for the BPF_PROG_TEST_RUN fixtures: Ethernet (with an optional 802.1Q/AD tag), ARP,
 * IPv4 (with options), IPv6 (with extension headers), TCP, UDP, ICMP and ICMPv6, built front to
 * back with every checksum right, and the checks that read a frame back and recompute its
 * checksums from scratch.
 *
 *	struct pkt p;
 *
 *	pkt_init(&p);
 *	pkt_eth(&p, dst_mac, src_mac, ETH_P_IP);
 *	pkt_ipv4(&p, &(struct pkt_ipv4){.saddr = ..., .daddr = ..., .proto = IPPROTO_UDP});
 *	pkt_udp(&p, 40000, 53);
 *	pkt_data(&p, "hello", 5);
 *	pkt_finish(&p, 0);	// IPv4 total length, UDP length, all checksums
 *
 * IPv6 the same way: pkt_ipv6(), pkt_ipv6_ext() for each extension header, the upper-layer
 * header, pkt_finish6().
 *
 * Addresses and ports are given in host order (IPv6 addresses as their 16 bytes); the frame
 * holds network order. A fixture that
 * must be malformed changes the built frame after pkt_finish() (pkt_iph()), then fixes the
 * IPv4 header checksum with pkt_ipv4_csum() if the test wants it right.
 */
#ifndef FWD_TESTS_PKT_H
#define FWD_TESTS_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/types.h>

#define PKT_MAX 2048

struct pkt {
	__u8 b[PKT_MAX];
	size_t len;    /* bytes of the frame so far */
	size_t l3, l4; /* where the IP and L4 headers start (0: none yet); IPv6: l4 after the
			* last extension header */
	__u8 proto6;   /* IPv6: the next header of the last header so far */
};

/* pkt_finish() flags */
#define PKT_UDP_NO_CSUM (1u << 0) /* leave the UDP checksum 0 ("none") */

/* --- checksums (RFC 1071): sums in host order over the bytes as they are on the wire --------- */

static inline __u32 pkt_sum16(const void *data, size_t len, __u32 sum)
{
	const __u8 *b = data;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (__u32)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (__u32)b[len - 1] << 8;
	return sum;
}

/* The one's complement of the folded sum: the checksum to store (htons), or 0 when a sum
 * over data that includes its checksum is right. */
static inline __u16 pkt_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/*
 * The checksum of the L4 part (@l4_len bytes after the IPv4 header) of the IPv4 packet at @ip:
 * TCP and UDP over the pseudo header too, ICMP over its own bytes only.
 */
static inline __u16 pkt_l4_csum(const __u8 *ip, size_t l4_len)
{
	const struct iphdr *iph = (const void *)ip;
	const __u8 *l4 = ip + iph->ihl * 4;
	__u32 sum = 0;

	if (iph->protocol != IPPROTO_ICMP) {
		sum = pkt_sum16(&iph->saddr, 8, 0);
		sum += iph->protocol + (__u32)l4_len;
	}
	return pkt_fold(pkt_sum16(l4, l4_len, sum));
}

/* --- building ---------------------------------------------------------------------------- */

static inline void pkt_init(struct pkt *p)
{
	memset(p, 0, sizeof(*p));
}

/* @n more bytes at the end of the frame, zero: where the next header or the payload goes. */
static inline __u8 *pkt_put(struct pkt *p, size_t n)
{
	__u8 *at = p->b + p->len;

	p->len += n;
	return at;
}

static inline void pkt_data(struct pkt *p, const void *data, size_t len)
{
	memcpy(pkt_put(p, len), data, len);
}

static inline void pkt_eth(struct pkt *p, const __u8 dst[ETH_ALEN], const __u8 src[ETH_ALEN],
			   __u16 ethertype)
{
	struct ethhdr *eth = (struct ethhdr *)pkt_put(p, sizeof(*eth));

	memcpy(eth->h_dest, dst, ETH_ALEN);
	memcpy(eth->h_source, src, ETH_ALEN);
	eth->h_proto = htons(ethertype);
}

/* A VLAN tag after the Ethernet header (whose ethertype said 802.1Q or 802.1AD). */
static inline void pkt_vlan(struct pkt *p, __u16 tci, __u16 inner_ethertype)
{
	__u8 *tag = pkt_put(p, 4);

	*(__be16 *)tag = htons(tci);
	*(__be16 *)(tag + 2) = htons(inner_ethertype);
}

/* An Ethernet/IPv4 ARP message: @op 1 request, 2 reply; target MAC zero. */
static inline void pkt_arp(struct pkt *p, __u16 op, const __u8 sha[ETH_ALEN], __u32 spa, __u32 tpa)
{
	__u8 *arp = pkt_put(p, 28);

	*(__be16 *)arp = htons(1);		/* hardware: Ethernet */
	*(__be16 *)(arp + 2) = htons(ETH_P_IP); /* protocol: IPv4 */
	arp[4] = ETH_ALEN;
	arp[5] = 4;
	*(__be16 *)(arp + 6) = htons(op);
	memcpy(arp + 8, sha, ETH_ALEN);
	*(__be32 *)(arp + 14) = htonl(spa);
	*(__be32 *)(arp + 24) = htonl(tpa);
}

/* What an IPv4 header carries; zero fields take the defaults noted. */
struct pkt_ipv4 {
	__u32 saddr, daddr; /* host order */
	__u8 proto;
	__u8 ttl;	/* default 64 */
	__u16 id;	/* host order */
	__u16 frag_off; /* host order, flags included: 0x4000 DF, 0x2000 MF */
	__u8 opt_len;	/* bytes of options (NOPs), a multiple of 4 */
};

static inline struct iphdr *pkt_ipv4(struct pkt *p, const struct pkt_ipv4 *s)
{
	struct iphdr *iph;

	p->l3 = p->len;
	iph = (struct iphdr *)pkt_put(p, sizeof(*iph) + s->opt_len);
	iph->version = 4;
	iph->ihl = (sizeof(*iph) + s->opt_len) / 4;
	iph->ttl = s->ttl ?: 64;
	iph->protocol = s->proto;
	iph->id = htons(s->id);
	iph->frag_off = htons(s->frag_off);
	iph->saddr = htonl(s->saddr);
	iph->daddr = htonl(s->daddr);
	memset(iph + 1, 1, s->opt_len); /* IPOPT_NOOP */
	p->l4 = p->len;
	return iph;
}

/* A TCP header without options; the payload follows with pkt_data() or pkt_put(). */
static inline __u8 *pkt_tcp(struct pkt *p, __u16 sport, __u16 dport, __u32 seq, __u8 flags,
			    __u16 window)
{
	__u8 *tcp = pkt_put(p, 20);

	*(__be16 *)tcp = htons(sport);
	*(__be16 *)(tcp + 2) = htons(dport);
	*(__be32 *)(tcp + 4) = htonl(seq);
	tcp[12] = 5 << 4; /* data offset: 5 words */
	tcp[13] = flags;
	*(__be16 *)(tcp + 14) = htons(window);
	return tcp;
}

static inline __u8 *pkt_udp(struct pkt *p, __u16 sport, __u16 dport)
{
	__u8 *udp = pkt_put(p, 8);

	*(__be16 *)udp = htons(sport);
	*(__be16 *)(udp + 2) = htons(dport);
	return udp;
}

/* An ICMP header: type, code, and the 4 bytes after the checksum as @id and @seq (echo), or
 * zero (errors, whose quoted packet follows with pkt_data()). */
static inline __u8 *pkt_icmp(struct pkt *p, __u8 type, __u8 code, __u16 id, __u16 seq)
{
	__u8 *icmp = pkt_put(p, 8);

	icmp[0] = type;
	icmp[1] = code;
	*(__be16 *)(icmp + 4) = htons(id);
	*(__be16 *)(icmp + 6) = htons(seq);
	return icmp;
}

static inline struct iphdr *pkt_iph(const struct pkt *p)
{
	return (struct iphdr *)(p->b + p->l3);
}

/* The IPv4 header's checksum, over the header as built (options included), whatever its
 * fields now say. */
static inline void pkt_ipv4_csum(struct pkt *p)
{
	struct iphdr *iph = pkt_iph(p);

	iph->check = 0;
	iph->check = htons(pkt_fold(pkt_sum16(iph, p->l4 - p->l3, 0)));
}

/*
 * Once everything of the IPv4 packet is in: its total length, the UDP length, the L4
 * checksum (a UDP checksum that computes to 0 is sent as 0xffff; PKT_UDP_NO_CSUM leaves it 0)
 * and the IPv4 header checksum. Bytes put after this (Ethernet padding) are not counted.
 */
static inline void pkt_finish(struct pkt *p, unsigned int flags)
{
	struct iphdr *iph = pkt_iph(p);
	size_t l4_len = p->len - p->l4;
	__u8 *l4 = p->b + p->l4;

	iph->tot_len = htons(p->len - p->l3);
	switch (iph->protocol) {
	case IPPROTO_TCP:
		*(__be16 *)(l4 + 16) = 0;
		*(__be16 *)(l4 + 16) = htons(pkt_l4_csum((__u8 *)iph, l4_len));
		break;
	case IPPROTO_UDP:
		*(__be16 *)(l4 + 4) = htons(l4_len);
		*(__be16 *)(l4 + 6) = 0;
		if (!(flags & PKT_UDP_NO_CSUM))
			*(__be16 *)(l4 + 6) = htons(pkt_l4_csum((__u8 *)iph, l4_len) ?: 0xffff);
		break;
	case IPPROTO_ICMP:
		*(__be16 *)(l4 + 2) = 0;
		*(__be16 *)(l4 + 2) = htons(pkt_l4_csum((__u8 *)iph, l4_len));
		break;
	}
	pkt_ipv4_csum(p);
}

/* --- IPv6 ------------------------------------------------------------------------------- */

/* What an IPv6 header carries; zero fields take the defaults noted. */
struct pkt_ipv6 {
	const __u8 *saddr, *daddr; /* 16 bytes each */
	__u8 nexthdr;		   /* the first header after this one */
	__u8 hop_limit;		   /* default 64 */
};

static inline struct ipv6hdr *pkt_ipv6(struct pkt *p, const struct pkt_ipv6 *s)
{
	struct ipv6hdr *ip6;

	p->l3 = p->len;
	ip6 = (struct ipv6hdr *)pkt_put(p, sizeof(*ip6));
	ip6->version = 6;
	ip6->nexthdr = s->nexthdr;
	ip6->hop_limit = s->hop_limit ?: 64;
	memcpy(&ip6->saddr, s->saddr, 16);
	memcpy(&ip6->daddr, s->daddr, 16);
	p->l4 = p->len;
	p->proto6 = s->nexthdr;
	return ip6;
}

/*
 * An extension header of type @type (the one the header before names) followed by @next, @len
 * bytes in all: a multiple of 8 (a fragment header: 8, its offset field @frag_off in host
 * order; AH: a multiple of 4), padded with PadN-free zeros.
 */
static inline __u8 *pkt_ipv6_ext(struct pkt *p, __u8 type, __u8 next, size_t len, __u16 frag_off)
{
	__u8 *h = pkt_put(p, len);

	h[0] = next;
	if (type == 44)
		*(__be16 *)(h + 2) = htons(frag_off);
	else if (type == 51)
		h[1] = len / 4 - 2;
	else
		h[1] = len / 8 - 1;
	p->l4 = p->len;
	p->proto6 = next;
	return h;
}

static inline struct ipv6hdr *pkt_ip6h(const struct pkt *p)
{
	return (struct ipv6hdr *)(p->b + p->l3);
}

/* The checksum of the upper-layer part (@l4_len bytes at @l4, protocol @proto) of the IPv6
 * packet at @ip6: over the pseudo header (RFC 8200 8.1) too, ICMPv6 included. */
static inline __u16 pkt_l4_csum6(const struct ipv6hdr *ip6, const __u8 *l4, size_t l4_len,
				 __u8 proto)
{
	__u32 sum = pkt_sum16(&ip6->saddr, 32, 0);

	sum += (__u32)(l4_len >> 16) + (__u32)(l4_len & 0xffff) + proto;
	return pkt_fold(pkt_sum16(l4, l4_len, sum));
}

/* Once everything of the IPv6 packet is in: the payload length, the UDP length and the
 * upper-layer checksum (TCP, UDP, ICMPv6). Bytes put after this are not counted. */
static inline void pkt_finish6(struct pkt *p)
{
	struct ipv6hdr *ip6 = pkt_ip6h(p);
	size_t l4_len = p->len - p->l4;
	__u8 *l4 = p->b + p->l4;
	size_t at;

	ip6->payload_len = htons(p->len - p->l3 - sizeof(*ip6));
	switch (p->proto6) {
	case IPPROTO_TCP: at = 16; break;
	case IPPROTO_UDP:
		*(__be16 *)(l4 + 4) = htons(l4_len);
		at = 6;
		break;
	case 58 /* ICMPv6 */: at = 2; break;
	default: return;
	}
	*(__be16 *)(l4 + at) = 0;
	*(__be16 *)(l4 + at) = htons(pkt_l4_csum6(ip6, l4, l4_len, p->proto6) ?: 0xffff);
}

/* --- reading a frame back (an untagged Ethernet frame carrying IPv4) ----------------------- */

static inline struct iphdr *pkt_ip_of(const struct pkt *f)
{
	return (struct iphdr *)(f->b + ETH_HLEN);
}

static inline const __u8 *pkt_l4_of(const struct pkt *f)
{
	return f->b + ETH_HLEN + pkt_ip_of(f)->ihl * 4;
}

/* The TCP or UDP source (@dst false) or destination port, host order. */
static inline __u16 pkt_port_of(const struct pkt *f, bool dst)
{
	return ntohs(*(const __be16 *)(pkt_l4_of(f) + (dst ? 2 : 0)));
}

/*
 * Every checksum of the IPv4 packet at @ip (@len bytes), recomputed: the header, TCP, UDP
 * (unless 0: none) or ICMP, and in an ICMP error (destination unreachable, time exceeded) the
 * quoted packet's too. NULL when all are right, else which one is wrong. @quoted: @ip is the
 * packet an ICMP error quotes, whose own length may exceed the bytes quoted.
 */
static inline const char *pkt_csum_error(const __u8 *ip, size_t len, bool quoted)
{
	const struct iphdr *iph = (const void *)ip;
	size_t l4_len = ntohs(iph->tot_len) - iph->ihl * 4;
	const __u8 *l4 = ip + iph->ihl * 4;

	if (pkt_fold(pkt_sum16(ip, iph->ihl * 4, 0)))
		return quoted ? "quoted IPv4 checksum" : "IPv4 checksum";
	if (quoted)
		l4_len = len - iph->ihl * 4;
	else if (ntohs(iph->frag_off) & 0x1fff)
		return NULL; /* a later fragment: no L4 header */
	switch (iph->protocol) {
	case IPPROTO_TCP:
		if (l4_len >= 20 && pkt_l4_csum(ip, l4_len))
			return quoted ? "quoted TCP checksum" : "TCP checksum";
		break;
	case IPPROTO_UDP:
		if (*(const __be16 *)(l4 + 6) && pkt_l4_csum(ip, l4_len))
			return quoted ? "quoted UDP checksum" : "UDP checksum";
		break;
	case IPPROTO_ICMP:
		if (pkt_l4_csum(ip, l4_len))
			return quoted ? "quoted ICMP checksum" : "ICMP checksum";
		if (!quoted && (l4[0] == 3 || l4[0] == 11))
			return pkt_csum_error(l4 + 8, l4_len - 8, true);
		break;
	}
	return NULL;
}

/*
 * Every checksum of the IPv6 packet at @ip6 (@len bytes, no extension headers), recomputed:
 * TCP, UDP or ICMPv6, and in an ICMPv6 error (types 1-4) the quoted packet's when it is quoted
 * whole. NULL when all are right, else which one is wrong.
 */
static inline const char *pkt_csum_error6(const __u8 *ip6, size_t len, bool quoted)
{
	const struct ipv6hdr *h = (const void *)ip6;
	const __u8 *l4 = ip6 + sizeof(*h);
	size_t l4_len;

	if (len < sizeof(*h))
		return quoted ? NULL : "IPv6 header length";
	l4_len = ntohs(h->payload_len);
	if (l4_len > len - sizeof(*h)) /* a quote cut short: its checksum cannot be recomputed */
		return quoted ? NULL : "IPv6 payload length";
	if (l4_len < 8 &&
	    (h->nexthdr == IPPROTO_TCP || h->nexthdr == IPPROTO_UDP || h->nexthdr == 58))
		return quoted ? NULL : "upper-layer length";
	switch (h->nexthdr) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case 58:
		if (pkt_l4_csum6(h, l4, l4_len, h->nexthdr))
			return quoted ? "quoted upper-layer checksum" : "upper-layer checksum";
		if (!quoted && h->nexthdr == 58 && l4[0] >= 1 && l4[0] <= 4)
			return pkt_csum_error6(l4 + 8, l4_len - 8, true);
		break;
	}
	return NULL;
}

/* pkt_csum_error() of the IPv4 packet an Ethernet frame carries. */
static inline const char *pkt_frame_csum_error(const struct pkt *f)
{
	return pkt_csum_error(f->b + ETH_HLEN, f->len - ETH_HLEN, false);
}

#endif

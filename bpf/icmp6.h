/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ICMPv6 errors about masqueraded connections (NAT66), as bpf/icmp.h does for IPv4: an error
 * from the LAN quotes a packet fwd sent out translated, so the quote read backwards is a REPLY
 * key of fwd_ct6, and the quote is rewritten back to the namespace's address and port before
 * the error goes in. Packet Too Big is the one that matters: without it, path MTU discovery
 * through the masquerade breaks and TCP stalls.
 */
#ifndef FWD_BPF_ICMP6_H
#define FWD_BPF_ICMP6_H

#include "nat6.h"

#define FWD_ICMP6_DEST_UNREACH 1
#define FWD_ICMP6_PKT_TOOBIG   2
#define FWD_ICMP6_TIME_EXCEED  3
#define FWD_ICMP6_PARAMPROB    4

static __always_inline bool icmp6_is_error(__u8 type)
{
	return type >= FWD_ICMP6_DEST_UNREACH && type <= FWD_ICMP6_PARAMPROB;
}

struct icmp6_quote {
	struct ipv6hdr ip; /* as on the wire */
	__u8 l4[8];	   /* ports (or type, code, checksum, identifier) and UDP's checksum */
	__u8 tcp_tail[4];  /* TCP bytes 16..19: checksum, urgent pointer */
	__u32 ip_off;	   /* bytes from the frame start */
	__u32 l4_off;
	bool has_tcp_tail;
};

/*
 * Read the quote of ICMPv6 error @pkt and build the REPLY key of the quoted packet's flow. 0, or
 * -1 when the quote is short, carries extension headers, or is of a protocol not tracked.
 * Only bytes inside the IPv6 packet count (its payload length), as icmp_quote_parse().
 */
static __always_inline int icmp6_quote_parse(struct __ctx_buff *ctx, const struct fwd_pkt6 *pkt,
					     struct icmp6_quote *q, struct fwd_ct6_key *rkey)
{
	__u32 end = pkt->l3_off + pkt->l3_len;

	q->ip_off = pkt->l4_off + 8; /* type, code, checksum, 4 bytes (MTU, pointer, unused) */
	if (q->ip_off + sizeof(q->ip) > end ||
	    ctx_load_bytes(ctx, q->ip_off, &q->ip, sizeof(q->ip)))
		return -1;
	if (q->ip.version != 6)
		return -1;
	q->l4_off = q->ip_off + sizeof(q->ip);
	if (q->l4_off + sizeof(q->l4) > end || ctx_load_bytes(ctx, q->l4_off, q->l4, sizeof(q->l4)))
		return -1;
	q->has_tcp_tail = q->ip.nexthdr == IPPROTO_TCP && q->l4_off + 20 <= end &&
			  !ctx_load_bytes(ctx, q->l4_off + 16, q->tcp_tail, sizeof(q->tcp_tail));

	__builtin_memset(rkey, 0, sizeof(*rkey));
	__builtin_memcpy(rkey->saddr, &q->ip.daddr, sizeof(rkey->saddr));
	__builtin_memcpy(rkey->daddr, &q->ip.saddr, sizeof(rkey->daddr));
	rkey->proto = q->ip.nexthdr;
	switch (q->ip.nexthdr) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		rkey->sport = *(__be16 *)(q->l4 + 2);
		rkey->dport = *(__be16 *)q->l4;
		return 0;
	case FWD_IPPROTO_ICMPV6:
		if (q->l4[0] != FWD_ICMP6_ECHO_REQUEST)
			return -1;
		rkey->dport = *(__be16 *)(q->l4 + 4);
		return 0;
	default: return -1;
	}
}

/* A checksum after its pseudo header's address went @from -> @to (16 bytes each). */
static __always_inline __u16 icmp6_csum_addr(__u16 check, const __be32 *from, const __be32 *to)
{
	for (int i = 0; i < 4; i++)
		check = csum_replace4(check, from[i], to[i]);
	return check;
}

/*
 * Rewrite one side of the quote to @to_addr/@to_port, with the quoted checksum (TCP, UDP and
 * ICMPv6 all have the addresses in theirs), and fold the change of the quoted bytes into the
 * outer ICMPv6 checksum. @src: the source, of an error from the LAN (the uplink's address and
 * port, as the packet left, back to the namespace's); else the destination, of an error from a
 * namespace (its own address and port out to the uplink's; TCP and UDP only). The outer
 * header is the caller's. FWD_OK or DROP_REWRITE.
 */
static __always_inline __u32 icmp6_quote_rewrite(struct __ctx_buff *ctx, const struct fwd_pkt6 *pkt,
						 struct icmp6_quote *q, bool src,
						 const __be32 *to_addr, __be16 to_port)
{
	struct ipv6hdr ip = q->ip;
	__u8 l4[8], tail[4];
	__be32 from_addr[4];
	__u32 port_at = src ? 0 : 2;
	__be16 from_port;
	__s64 diff;

	__builtin_memcpy(l4, q->l4, sizeof(l4));
	__builtin_memcpy(tail, q->tcp_tail, sizeof(tail));
	if (src) {
		__builtin_memcpy(from_addr, &q->ip.saddr, sizeof(from_addr));
		__builtin_memcpy(&ip.saddr, to_addr, sizeof(ip.saddr));
	} else {
		__builtin_memcpy(from_addr, &q->ip.daddr, sizeof(from_addr));
		__builtin_memcpy(&ip.daddr, to_addr, sizeof(ip.daddr));
	}

	switch (ip.nexthdr) {
	case IPPROTO_TCP:
		from_port = *(__be16 *)(l4 + port_at);
		*(__be16 *)(l4 + port_at) = to_port;
		if (q->has_tcp_tail)
			*(__u16 *)tail =
			    csum_replace2(icmp6_csum_addr(*(__u16 *)tail, from_addr, to_addr),
					  from_port, to_port);
		break;
	case IPPROTO_UDP:
		from_port = *(__be16 *)(l4 + port_at);
		*(__be16 *)(l4 + port_at) = to_port;
		if (*(__u16 *)(l4 + 6))
			*(__u16 *)(l4 + 6) =
			    csum_replace2(icmp6_csum_addr(*(__u16 *)(l4 + 6), from_addr, to_addr),
					  from_port, to_port)
				?: 0xffff;
		break;
	default: /* an echo request: the identifier, and ICMPv6's pseudo header */
		if (!src)
			return FWD_CNT_DROP_REWRITE;
		from_port = *(__be16 *)(l4 + 4);
		*(__be16 *)(l4 + 4) = to_port;
		*(__u16 *)(l4 + 2) = csum_replace2(
		    icmp6_csum_addr(*(__u16 *)(l4 + 2), from_addr, to_addr), from_port, to_port);
		break;
	}

	diff = bpf_csum_diff((__be32 *)&q->ip, sizeof(ip), (__be32 *)&ip, sizeof(ip), 0);
	diff = bpf_csum_diff((__be32 *)q->l4, sizeof(l4), (__be32 *)l4, sizeof(l4), diff);
	if (q->has_tcp_tail)
		diff = bpf_csum_diff((__be32 *)q->tcp_tail, sizeof(tail), (__be32 *)tail,
				     sizeof(tail), diff);
	if (ctx_store_bytes(ctx, q->ip_off, &ip, sizeof(ip)) ||
	    ctx_store_bytes(ctx, q->l4_off, l4, sizeof(l4)) ||
	    (q->has_tcp_tail && ctx_store_bytes(ctx, q->l4_off + 16, tail, sizeof(tail))) ||
	    ctx_csum_add_diff(ctx, pkt->l4_off + 2, diff))
		return FWD_CNT_DROP_REWRITE;
	return FWD_OK;
}

#endif

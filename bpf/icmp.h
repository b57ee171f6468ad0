/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ICMP errors for translated flows. An error (destination unreachable, fragmentation needed,
 * time exceeded, parameter problem) quotes the header of the packet that caused it; for a
 * masqueraded flow that is the packet as it left: source = the uplink's address and port. To
 * deliver the error to the namespace, the outer destination and the quoted source (address and
 * port or echo identifier) go back to the namespace's, with every checksum that covers them:
 * the quoted IPv4 header's, the quoted L4 checksum (when quoted: TCP's lies 16 bytes in), and
 * the outer ICMP checksum, which covers all the quoted bytes. The other way, an error a
 * namespace sends about a packet it received translated (a forward's) goes out with the
 * quoted destination and the outer source back to the uplink's. And the one error fwd makes
 * itself: time exceeded, where fwd routes. tc only (it folds diffs with bpf_l4_csum_replace).
 */
#ifndef FWD_BPF_ICMP_H
#define FWD_BPF_ICMP_H

#ifndef FWD_CTX_TC
#error "bpf/icmp.h is for tc programs"
#endif

#include <stdbool.h>

#include "parse.h"
#include "csum.h"

/* The quoted packet: its IPv4 header and the first bytes of its L4 header. */
struct icmp_quote {
	struct iphdr ip;  /* as on the wire */
	__u8 l4[8];	  /* ports (or type, code, checksum, identifier) and UDP's checksum */
	__u8 tcp_tail[4]; /* TCP bytes 16..19: checksum, urgent pointer */
	__u32 ip_off;	  /* bytes from the frame start */
	__u32 l4_off;
	bool has_tcp_tail;
};

static __always_inline bool icmp_is_error(__u8 type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
	       type == ICMP_PARAMETERPROB;
}

/*
 * Read the quote of the ICMP error @pkt and build the key its flow's replies have (the quote
 * read backwards: the quoted packet went out, replies come in). 0, or -1 when the quote is
 * short or of a protocol fwd does not track. Only bytes inside the IPv4 packet are the quote:
 * what follows its total length (Ethernet padding, a trailer) is not covered by the ICMP
 * checksum, and a rewrite of it folded in there would break that checksum.
 */
static __always_inline int icmp_quote_parse(struct __sk_buff *ctx, const struct fwd_pkt *pkt,
					    struct icmp_quote *q, struct fwd_ct_key *rkey)
{
	__u32 end = pkt->l3_off + pkt->l3_len; /* the IPv4 packet's end */

	q->ip_off = pkt->l4_off + 8; /* ICMP header: type, code, checksum, 4 unused bytes */
	if (q->ip_off + sizeof(q->ip) > end ||
	    ctx_load_bytes(ctx, q->ip_off, &q->ip, sizeof(q->ip)))
		return -1;
	if (q->ip.version != 4 || q->ip.ihl < 5)
		return -1;
	q->l4_off = q->ip_off + q->ip.ihl * 4;
	if (q->l4_off + sizeof(q->l4) > end || ctx_load_bytes(ctx, q->l4_off, q->l4, sizeof(q->l4)))
		return -1;
	q->has_tcp_tail = q->ip.protocol == IPPROTO_TCP && q->l4_off + 20 <= end &&
			  !ctx_load_bytes(ctx, q->l4_off + 16, q->tcp_tail, sizeof(q->tcp_tail));

	__builtin_memset(rkey, 0, sizeof(*rkey));
	rkey->saddr = q->ip.daddr;
	rkey->daddr = q->ip.saddr;
	rkey->proto = q->ip.protocol;
	switch (q->ip.protocol) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		rkey->sport = *(__be16 *)(q->l4 + 2);
		rkey->dport = *(__be16 *)q->l4;
		return 0;
	case IPPROTO_ICMP:
		if (q->l4[0] != ICMP_ECHO)
			return -1;
		rkey->dport = *(__be16 *)(q->l4 + 4); /* the identifier the quoted request had */
		return 0;
	default: return -1;
	}
}

static __always_inline __u16 icmp_l4_csum_fix(__u16 check, bool pseudo, __be32 from_addr,
					      __be32 to_addr, __be16 from_port, __be16 to_port)
{
	if (pseudo)
		check = csum_replace4(check, from_addr, to_addr);
	return csum_replace2(check, from_port, to_port);
}

/*
 * Rewrite the quote's source (@src) or destination to @to_addr/@to_port, with the quoted
 * checksums, and fold the change of the quoted bytes into the outer ICMP checksum. The source
 * side is the namespace's, of an error from the LAN (the port of a quoted TCP/UDP header, or
 * a quoted echo request's identifier); the destination side the uplink's, of an error from a
 * namespace (TCP/UDP only: fwd_veth_icmp_error() takes no other). FWD_OK or DROP_REWRITE.
 * The outer header is the caller's.
 */
static __always_inline int icmp_quote_rewrite(struct __sk_buff *ctx, const struct fwd_pkt *pkt,
					      struct icmp_quote *q, bool src, __be32 to_addr,
					      __be16 to_port)
{
	struct iphdr ip = q->ip;
	__u8 l4[8], tail[4];
	__be32 from_addr = src ? q->ip.saddr : q->ip.daddr;
	__u32 port_at = src ? 0 : 2;
	__be16 from_port, check;
	__s64 diff;

	__builtin_memcpy(l4, q->l4, sizeof(l4));
	__builtin_memcpy(tail, q->tcp_tail, sizeof(tail));
	if (src)
		ip.saddr = to_addr;
	else
		ip.daddr = to_addr;
	ip.check = csum_replace4(ip.check, from_addr, to_addr);

	switch (ip.protocol) {
	case IPPROTO_TCP:
		from_port = *(__be16 *)(l4 + port_at);
		*(__be16 *)(l4 + port_at) = to_port;
		if (q->has_tcp_tail)
			*(__u16 *)tail = icmp_l4_csum_fix(*(__u16 *)tail, true, from_addr, to_addr,
							  from_port, to_port);
		break;
	case IPPROTO_UDP:
		from_port = *(__be16 *)(l4 + port_at);
		*(__be16 *)(l4 + port_at) = to_port;
		check = *(__u16 *)(l4 + 6);
		if (check) { /* 0: sent without a checksum, stays so */
			check =
			    icmp_l4_csum_fix(check, true, from_addr, to_addr, from_port, to_port);
			*(__u16 *)(l4 + 6) = check ?: 0xffff;
		}
		break;
	default: /* ICMP echo: the identifier, no pseudo header */
		if (!src)
			return FWD_CNT_DROP_REWRITE;
		from_port = *(__be16 *)(l4 + 4);
		*(__be16 *)(l4 + 4) = to_port;
		*(__u16 *)(l4 + 2) =
		    icmp_l4_csum_fix(*(__u16 *)(l4 + 2), false, 0, 0, from_port, to_port);
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
	    ctx_csum_add_diff(ctx, pkt->l4_csum_off, diff))
		return FWD_CNT_DROP_REWRITE;
	return FWD_OK;
}

/* ICMP errors fwd sends itself, at most this many a second (Linux's icmp_msgs_per_sec). */
#define FWD_ICMP_PER_SEC 1000

/* The rate limit's window: when it opened, and what was sent in it. Plain globals, racy across
 * CPUs on purpose: a bound on what a flood of TTL-1 frames gets back, not an account. */
__u64 icmp_window_ns;
__u32 icmp_window_sent;

static __always_inline bool icmp_rate_ok(__u64 now)
{
	if (now - icmp_window_ns >= 1000000000ull) {
		icmp_window_ns = now;
		icmp_window_sent = 0;
	}
	if (icmp_window_sent >= FWD_ICMP_PER_SEC)
		return false;
	icmp_window_sent++;
	return true;
}

/*
 * Answer @pkt (TCP, UDP or ICMP, parsed by fwd_parse_l4) with "time exceeded in transit" from
 * @from, as a router does when the TTL would run out: the frame itself becomes the error
 * (bpf_skb_change_tail() is the helper for such replies: it linearizes and unclones), quoting
 * the packet's IPv4 header and first 8 bytes (RFC 792) as it arrived, untranslated, addressed
 * back to the sender's MAC: the caller sends it out of the interface it came in on. FWD_OK,
 * or DROP_TTL when no error may be sent: about an ICMP error or a later fragment (RFC 1812),
 * a GSO frame, over the rate limit. Global (verified once, on its own: three callers).
 */
__attribute__((noinline)) int
icmp_send_time_exceeded(struct __sk_buff *skb, const struct fwd_pkt *pkt, __be32 from, __u64 now)
{
	struct ethhdr eth;
	struct iphdr ip = {};
	__u32 icmp[2] = {};   /* type, code, checksum; 4 unused bytes */
	__u32 quote[17] = {}; /* IPv4 header (at most 60 bytes) and 8 bytes of L4 */
	__u8 mac[ETH_ALEN];
	__u32 qlen;
	__s64 sum;

	if (!pkt) /* a global function's pointer may be NULL for the verifier */
		return FWD_CNT_DROP_TTL;
	qlen = ((pkt->l4_off - pkt->l3_off) + 8) & 127;
	if ((pkt->proto == IPPROTO_ICMP && icmp_is_error(pkt->icmp_type)) ||
	    fwd_ipv4_is_later_fragment(pkt) || ctx_is_gso(skb) || qlen > sizeof(quote) ||
	    qlen < 28 || pkt->l3_len < qlen || !icmp_rate_ok(now))
		return FWD_CNT_DROP_TTL;
	if (ctx_load_bytes(skb, 0, &eth, sizeof(eth)) ||
	    ctx_load_bytes(skb, pkt->l3_off, quote, qlen))
		return FWD_CNT_DROP_TTL;

	/* Back where it came from: from the MAC it was sent to, to the sender's. */
	__builtin_memcpy(mac, eth.h_dest, ETH_ALEN);
	__builtin_memcpy(eth.h_dest, eth.h_source, ETH_ALEN);
	__builtin_memcpy(eth.h_source, mac, ETH_ALEN);
	ip.version = 4;
	ip.ihl = 5;
	ip.tos = 0xc0; /* IPTOS_PREC_INTERNETCONTROL, as Linux's icmp_send() */
	ip.tot_len = bpf_htons(sizeof(ip) + sizeof(icmp) + qlen);
	ip.ttl = 64;
	ip.protocol = IPPROTO_ICMP;
	ip.saddr = from;
	ip.daddr = pkt->saddr;
	ip.check = csum_fold32(bpf_csum_diff(NULL, 0, (__be32 *)&ip, sizeof(ip), 0));
	icmp[0] = bpf_htonl(ICMP_TIME_EXCEEDED << 24); /* code 0: TTL exceeded in transit */
	sum = bpf_csum_diff(NULL, 0, (__be32 *)icmp, sizeof(icmp), 0);
	sum = bpf_csum_diff(NULL, 0, (__be32 *)quote, qlen, sum);
	/* Summed and stored in the same byte order: right on the wire (RFC 1071). */
	*(__u16 *)((__u8 *)icmp + 2) = csum_fold32(sum);

	if (bpf_skb_change_tail(skb, sizeof(eth) + sizeof(ip) + sizeof(icmp) + qlen, 0) ||
	    ctx_store_bytes(skb, 0, &eth, sizeof(eth)) ||
	    ctx_store_bytes(skb, sizeof(eth), &ip, sizeof(ip)) ||
	    ctx_store_bytes(skb, sizeof(eth) + sizeof(ip), icmp, sizeof(icmp)) ||
	    ctx_store_bytes(skb, sizeof(eth) + sizeof(ip) + sizeof(icmp), quote, qlen))
		return FWD_CNT_DROP_TTL;
	return FWD_OK;
}

#endif

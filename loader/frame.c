// SPDX-License-Identifier: GPL-2.0
/* What a frame's first bytes say: for monitor's drops and capture's copies. */
#include <string.h>
#include <linux/if_ether.h>
#include <netinet/in.h>

#include "internal.h"

/* The ports or ICMP type and code of the L4 header at @h[@l4], when @n bytes reach it. */
static void decode_l4(const uint8_t *h, size_t n, size_t l4, struct fwd_frame_info *out)
{
	if (n < l4 + 4)
		return;
	if (out->proto == IPPROTO_TCP || out->proto == IPPROTO_UDP) {
		out->tuple.sport = (uint16_t)(h[l4] << 8 | h[l4 + 1]);
		out->tuple.dport = (uint16_t)(h[l4 + 2] << 8 | h[l4 + 3]);
		out->has_ports = true;
	} else if (out->proto == (out->tuple.v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP)) {
		out->icmp_type = h[l4];
		out->icmp_code = h[l4 + 1];
		out->has_icmp = true;
	}
}

static void decode_ipv4(const uint8_t *h, size_t n, size_t l3, struct fwd_frame_info *out)
{
	size_t ihl;
	uint16_t frag;

	if (n < l3 + 20 || (h[l3] >> 4) != 4)
		return;
	out->has_ip = true;
	out->proto = h[l3 + 9];
	memcpy(&out->tuple.src, h + l3 + 12, 4);
	memcpy(&out->tuple.dst, h + l3 + 16, 4);
	ihl = (size_t)(h[l3] & 0xf) * 4;
	frag = (uint16_t)((h[l3 + 6] & 0x1f) << 8 | h[l3 + 7]);
	if (ihl >= 20 && !frag) /* a later fragment carries no ports */
		decode_l4(h, n, l3 + ihl, out);
}

/* IPv6, past the extension headers the head holds (hop-by-hop, routing, destination options,
 * fragment: as bpf/parse6.h walks them); proto is the last next-header read. */
static void decode_ipv6(const uint8_t *h, size_t n, size_t l3, struct fwd_frame_info *out)
{
	size_t off = l3 + 40;
	uint8_t next;

	if (n < off || (h[l3] >> 4) != 6)
		return;
	out->has_ip = true;
	out->tuple.v6 = true;
	memcpy(&out->tuple.src6, h + l3 + 8, 16);
	memcpy(&out->tuple.dst6, h + l3 + 24, 16);
	next = h[l3 + 6];
	for (;;) {
		out->proto = next;
		if (next == IPPROTO_FRAGMENT) {
			if (n < off + 8 || (h[off + 2] << 8 | h[off + 3]) & 0xfff8)
				return; /* a later fragment carries no ports */
			next = h[off];
			off += 8;
		} else if (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING ||
			   next == IPPROTO_DSTOPTS) {
			if (n < off + 2)
				return;
			next = h[off];
			off += (size_t)(h[off + 1] + 1) * 8;
		} else {
			break;
		}
	}
	decode_l4(h, n, off, out);
}

void loader_frame_decode(const uint8_t *h, size_t n, struct fwd_frame_info *out)
{
	size_t l3 = ETH_HLEN;

	memset(out, 0, sizeof(*out));
	if (n < ETH_HLEN)
		return;
	out->ethertype = (uint16_t)(h[12] << 8 | h[13]);
	if (out->ethertype == ETH_P_8021Q && n >= ETH_HLEN + 4) { /* one tag, in the data */
		out->ethertype = (uint16_t)(h[16] << 8 | h[17]);
		l3 += 4;
	}
	if (out->ethertype == ETH_P_IP)
		decode_ipv4(h, n, l3, out);
	else if (out->ethertype == ETH_P_IPV6)
		decode_ipv6(h, n, l3, out);
}

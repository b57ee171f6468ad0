// SPDX-License-Identifier: GPL-2.0
/* What a frame's first bytes say: for monitor's drops and capture's copies. */
#include <string.h>
#include <linux/if_ether.h>
#include <netinet/in.h>

#include "internal.h"

void loader_frame_decode(const uint8_t *h, size_t n, struct fwd_frame_info *out)
{
	size_t l3 = ETH_HLEN, ihl;
	uint16_t frag;

	memset(out, 0, sizeof(*out));
	if (n < ETH_HLEN)
		return;
	out->ethertype = (uint16_t)(h[12] << 8 | h[13]);
	if (out->ethertype == ETH_P_8021Q && n >= ETH_HLEN + 4) { /* one tag, in the data */
		out->ethertype = (uint16_t)(h[16] << 8 | h[17]);
		l3 += 4;
	}
	if (out->ethertype != ETH_P_IP || n < l3 + 20 || (h[l3] >> 4) != 4)
		return;
	out->has_ipv4 = true;
	out->proto = h[l3 + 9];
	memcpy(&out->tuple.src, h + l3 + 12, 4);
	memcpy(&out->tuple.dst, h + l3 + 16, 4);
	ihl = (size_t)(h[l3] & 0xf) * 4;
	frag = (uint16_t)((h[l3 + 6] & 0x1f) << 8 | h[l3 + 7]);
	if (ihl < 20 || frag || n < l3 + ihl + 4)
		return; /* a later fragment carries no ports */
	if (out->proto == IPPROTO_TCP || out->proto == IPPROTO_UDP) {
		out->tuple.sport = (uint16_t)(h[l3 + ihl] << 8 | h[l3 + ihl + 1]);
		out->tuple.dport = (uint16_t)(h[l3 + ihl + 2] << 8 | h[l3 + ihl + 3]);
		out->has_ports = true;
	} else if (out->proto == IPPROTO_ICMP) {
		out->icmp_type = h[l3 + ihl];
		out->icmp_code = h[l3 + ihl + 1];
		out->has_icmp = true;
	}
}

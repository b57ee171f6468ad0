/* SPDX-License-Identifier: GPL-2.0 */
/* Small IPv4 and IPv6 helpers shared by every user-space part. */
#ifndef FWD_INET_H
#define FWD_INET_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

/* The netmask of a prefix length (0-32), network order. */
static inline in_addr_t fwd_prefix_netmask(uint8_t prefix)
{
	return prefix ? htonl(0xffffffffu << (32 - prefix)) : 0;
}

/* Do A and B agree on their first PREFIX bits (0-128)? */
static inline bool fwd_in6_same_prefix(const struct in6_addr *a, const struct in6_addr *b,
				       uint8_t prefix)
{
	for (int i = 0; i < 16 && prefix; i++) {
		uint8_t bits = prefix < 8 ? prefix : 8;
		uint8_t mask = (uint8_t)(0xff00u >> bits);

		if ((a->s6_addr[i] ^ b->s6_addr[i]) & mask)
			return false;
		prefix -= bits;
	}
	return true;
}

/* A with every bit after the first PREFIX cleared (the network), or set (HOST_ONES). */
static inline struct in6_addr fwd_in6_prefix_fill(const struct in6_addr *a, uint8_t prefix,
						  bool host_ones)
{
	struct in6_addr r = *a;

	for (int i = 0; i < 16; i++) {
		uint8_t bits = prefix < 8 ? prefix : 8;
		uint8_t mask = (uint8_t)(0xff00u >> bits);

		r.s6_addr[i] = host_ones ? (uint8_t)(r.s6_addr[i] | ~mask) : (r.s6_addr[i] & mask);
		prefix -= bits;
	}
	return r;
}

/* The netmask of a PREFIX-bit IPv6 prefix. */
static inline struct in6_addr fwd_in6_prefix_mask(uint8_t prefix)
{
	struct in6_addr ones;

	for (int i = 0; i < 16; i++)
		ones.s6_addr[i] = 0xff;
	return fwd_in6_prefix_fill(&ones, prefix, false);
}

#endif

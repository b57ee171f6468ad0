/* SPDX-License-Identifier: GPL-2.0 */
/* Small IPv4 helpers shared by every user-space part. */
#ifndef FWD_INET_H
#define FWD_INET_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>

/* The netmask of a prefix length (0-32), network order. */
static inline in_addr_t fwd_prefix_netmask(uint8_t prefix)
{
	return prefix ? htonl(0xffffffffu << (32 - prefix)) : 0;
}

#endif

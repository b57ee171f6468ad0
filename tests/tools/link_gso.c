// SPDX-License-Identifier: GPL-2.0
/*
 * link_gso: read or set a link's gso_ipv4_max_size (IPv4 BIG TCP) or, with -6, its gso_max_size
 * (IPv6 BIG TCP) in the current network namespace, with fwd's own netlink code. Debian 12's
 * iproute2 (6.1) predates the IPv4 setting, so the tests and the bench use this where `ip link
 * set DEV gso_ipv4_max_size N` would do: on their sandbox uplinks and on the bench's direct veth
 * pair. Run it in a namespace with `ip netns exec NS`.
 *
 *   link_gso [-6] IFNAME        print the size (0: this kernel has no such setting)
 *   link_gso [-6] IFNAME SIZE   set it (the kernel refuses more than the link's tso_max_size)
 *
 * Exit status: 0 done, 1 netlink failure, 2 usage.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nl.h"

int main(int argc, char **argv)
{
	struct nl_sock *nl = NULL;
	struct nl_link l;
	unsigned long size = 0;
	bool v6 = argc > 1 && !strcmp(argv[1], "-6");
	char *end;
	int ret;

	argc -= v6;
	argv += v6;
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: link_gso [-6] IFNAME [SIZE]\n");
		return 2;
	}
	if (argc == 3) {
		errno = 0;
		size = strtoul(argv[2], &end, 10);
		if (errno || end == argv[2] || *end || !size || size > UINT32_MAX) {
			fprintf(stderr, "link_gso: %s: not a size in bytes\n", argv[2]);
			return 2;
		}
	}
	ret = nl_open(&nl);
	if (!ret)
		ret = nl_link_get(nl, argv[1], &l);
	if (!ret && argc == 3)
		ret = v6 ? nl_link_set_gso_max_size(nl, l.ifindex, (uint32_t)size)
			 : nl_link_set_gso_ipv4_max_size(nl, l.ifindex, (uint32_t)size);
	if (ret) {
		fprintf(stderr, "link_gso: %s: %s%s%s\n", argv[1], strerror(-ret),
			nl && *nl_errmsg(nl) ? ": " : "", nl ? nl_errmsg(nl) : "");
		nl_close(nl);
		return 1;
	}
	if (argc == 2)
		printf("%u\n", v6 ? l.gso_max_size : l.gso_ipv4_max_size);
	nl_close(nl);
	return 0;
}

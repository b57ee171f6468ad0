/* SPDX-License-Identifier: GPL-2.0 */
/*
 * FWD_KERNEL_WITHOUT=FEATURE[,FEATURE...] in the environment makes fwd behave as if the kernel
 * lacked those features, so that its fallbacks for older kernels (Debian 12 ships 6.1) and its
 * refusal of kernels without a required feature can be tested on a newer one (fwdctl(8),
 * ENVIRONMENT). Features: the names loader/probe.c reports (bpf_redirect_peer, map_queue, ...),
 * and gso_ipv4_max_size (6.3), cgroup_v2.
 */
#ifndef FWD_KERNEL_WITHOUT_H
#define FWD_KERNEL_WITHOUT_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static inline bool fwd_kernel_without(const char *feature)
{
	const char *list = getenv("FWD_KERNEL_WITHOUT");
	size_t n = strlen(feature);

	for (const char *p = list; p && *p; p += strcspn(p, ",")) {
		p += *p == ',';
		if (!strncmp(p, feature, n) && (p[n] == ',' || p[n] == '\0'))
			return true;
	}
	return false;
}

#endif

// SPDX-License-Identifier: GPL-2.0
/* Deterministic names for what fwd creates; see names.h. */
#include "names.h"

#include <stdint.h>
#include <stdio.h>

/* FNV-1a, 32 bit: tiny, stable across builds, good enough to spread names. */
static uint32_t fnv1a(uint32_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

void fwd_host_veth_name(const char *topology, const char *netns, char out[IF_NAMESIZE])
{
	uint32_t h = fnv1a(2166136261u, topology);

	h = fnv1a(fnv1a(h, "/"), netns);
	snprintf(out, IF_NAMESIZE, "fwd%08x", h);
}

void fwd_bridge_mac(const char *topology, const char *bridge, uint8_t mac[6])
{
	uint32_t h = fnv1a(fnv1a(fnv1a(2166136261u, topology), "/"), bridge);

	mac[0] = 0x02; /* locally administered, unicast */
	mac[1] = 0x66; /* 'f' */
	mac[2] = h >> 24;
	mac[3] = h >> 16;
	mac[4] = h >> 8;
	mac[5] = h;
}

void fwd_host_veth_alias(const char *topology, const char *netns, char *out, size_t len)
{
	snprintf(out, len, "fwd:%s:%s", topology, netns);
}

void fwd_chain_name(const char *topology, const char *hook, char *out, size_t len)
{
	snprintf(out, len, "FWD-%s-%s", topology, hook);
}

void fwd_journal_path(const char *topology, const char *suffix, char *out, size_t len)
{
	snprintf(out, len, FWD_RUN_DIR "/%s.%s", topology, suffix);
}

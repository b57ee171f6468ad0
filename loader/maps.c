// SPDX-License-Identifier: GPL-2.0
/*
 * Filling the maps from the topology. fwd_endpoints is shared with the program that is running
 * now, so it is converged in place: every entry written (each update is atomic for readers),
 * then entries of namespaces that left the topology deleted. Nothing is ever cleared first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <bpf/bpf.h>

#include "internal.h"
#include "fwd_kern_user.h"

static in_addr_t maps_endpoint_addr(const struct fwd_topology *t, const struct fwd_runtime *rt,
				    size_t i)
{
	return rt->endpoints[i].ns ? rt->endpoints[i].ns->addr : t->namespaces[i].addr;
}

static bool maps_endpoint_wanted(const struct fwd_topology *t, const struct fwd_runtime *rt,
				 __be32 addr)
{
	for (size_t i = 0; i < rt->n_endpoints; i++)
		if (maps_endpoint_addr(t, rt, i) == addr)
			return true;
	return false;
}

static bool maps_ifindex_wanted(const struct fwd_runtime *rt, __u32 ifindex)
{
	for (size_t i = 0; i < rt->n_endpoints; i++)
		if ((__u32)rt->endpoints[i].host_ifindex == ifindex)
			return true;
	return false;
}

/*
 * Delete what the topology no longer has, and take fwd's program off the veth of a namespace
 * that left (the control plane normally deletes that veth too). Keys are collected first:
 * deleting while walking with get_next_key restarts the walk on a hash map.
 */
static int maps_delete_stale(int map_fd, const struct fwd_topology *t, const struct fwd_runtime *rt)
{
	struct fwd_endpoint_key key, next, *stale;
	size_t n = 0;
	int err = 0;
	void *prev = NULL;

	stale = calloc(FWD_MAX_ENDPOINTS, sizeof(*stale));
	if (!stale)
		return -ENOMEM;
	while (n < FWD_MAX_ENDPOINTS && !bpf_map_get_next_key(map_fd, prev, &next)) {
		struct fwd_endpoint ep;

		if (!maps_endpoint_wanted(t, rt, next.addr)) {
			stale[n++] = next;
			if (!bpf_map_lookup_elem(map_fd, &next, &ep) &&
			    !maps_ifindex_wanted(rt, ep.ifindex))
				attach_remove_all(ep.ifindex); /* best effort: it warns itself */
		}
		key = next;
		prev = &key;
	}
	for (size_t i = 0; i < n; i++) {
		if (bpf_map_delete_elem(map_fd, &stale[i]) && errno != ENOENT) {
			err = -errno;
			pr_warn("%s: cannot delete stale entry: %s\n", FWD_MAP_ENDPOINTS,
				strerror(-err));
			break;
		}
		pr_debug("%s: removed stale %s\n", FWD_MAP_ENDPOINTS,
			 inet_ntoa((struct in_addr){.s_addr = stale[i].addr}));
	}
	free(stale);
	return err;
}

int maps_sync_endpoints(int map_fd, const struct fwd_topology *t, const struct fwd_runtime *rt)
{
	if (rt->n_endpoints != t->n_namespaces) {
		pr_warn("%s: %zu endpoints for %zu namespaces\n", FWD_MAP_ENDPOINTS,
			rt->n_endpoints, t->n_namespaces);
		return -EINVAL;
	}
	for (size_t i = 0; i < rt->n_endpoints; i++) {
		const struct fwd_endpoint_rt *e = &rt->endpoints[i];
		struct fwd_endpoint_key key;
		struct fwd_endpoint val;

		if (e->host_ifindex <= 0) {
			pr_warn("%s: namespace %zu has no host-side veth\n", FWD_MAP_ENDPOINTS, i);
			return -EINVAL;
		}
		memset(&key, 0, sizeof(key));
		memset(&val, 0, sizeof(val));
		key.addr = maps_endpoint_addr(t, rt, i);
		val.ifindex = e->host_ifindex;
		memcpy(val.mac, e->ns_mac, sizeof(val.mac));
		memcpy(val.host_mac, e->host_mac, sizeof(val.host_mac));
		if (bpf_map_update_elem(map_fd, &key, &val, BPF_ANY)) {
			int err = -errno;

			pr_warn("%s: cannot add %s: %s\n", FWD_MAP_ENDPOINTS,
				inet_ntoa((struct in_addr){.s_addr = key.addr}), strerror(-err));
			return err;
		}
	}
	return maps_delete_stale(map_fd, t, rt);
}

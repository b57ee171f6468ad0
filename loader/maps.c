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
#include <bpf/libbpf.h>

#include "internal.h"
#include "fwd_kern_user.h"

static const struct fwd_namespace *maps_endpoint_ns(const struct fwd_topology *t,
						    const struct fwd_runtime *rt, size_t i)
{
	return rt->endpoints[i].ns ? rt->endpoints[i].ns : &t->namespaces[i];
}

static in_addr_t maps_endpoint_addr(const struct fwd_topology *t, const struct fwd_runtime *rt,
				    size_t i)
{
	return maps_endpoint_ns(t, rt, i)->addr;
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
			fwd_err("%s: cannot delete stale entry: %s\n", FWD_MAP_ENDPOINTS,
				strerror(-err));
			break;
		}
		fwd_debug("%s: removed stale %s\n", FWD_MAP_ENDPOINTS,
			  inet_ntoa((struct in_addr){ .s_addr = stale[i].addr }));
	}
	free(stale);
	return err;
}

/* Namespace @i's entry: the same under its IPv4 and its IPv6 address. */
static struct fwd_endpoint maps_endpoint_val(const struct fwd_runtime *rt, size_t i)
{
	const struct fwd_endpoint_rt *e = &rt->endpoints[i];
	struct fwd_endpoint val;

	memset(&val, 0, sizeof(val));
	val.ifindex = e->host_ifindex;
	memcpy(val.mac, e->ns_mac, sizeof(val.mac));
	memcpy(val.host_mac, e->host_mac, sizeof(val.host_mac));
	val.slot = (__u16)(i + 1); /* fwd_ns_stats: its place in the file */
	return val;
}

int maps_sync_endpoints(int map_fd, const struct fwd_topology *t, const struct fwd_runtime *rt)
{
	if (rt->n_endpoints != t->n_namespaces) {
		fwd_err("%s: %zu endpoints for %zu namespaces\n", FWD_MAP_ENDPOINTS,
			rt->n_endpoints, t->n_namespaces);
		return -EINVAL;
	}
	for (size_t i = 0; i < rt->n_endpoints; i++) {
		struct fwd_endpoint val = maps_endpoint_val(rt, i);
		struct fwd_endpoint_key key;

		if (rt->endpoints[i].host_ifindex <= 0) {
			fwd_err("%s: namespace %zu has no host-side veth\n", FWD_MAP_ENDPOINTS, i);
			return -EINVAL;
		}
		memset(&key, 0, sizeof(key));
		key.addr = maps_endpoint_addr(t, rt, i);
		if (bpf_map_update_elem(map_fd, &key, &val, BPF_ANY)) {
			int err = -errno;

			fwd_err("%s: cannot add %s: %s\n", FWD_MAP_ENDPOINTS,
				inet_ntoa((struct in_addr){ .s_addr = key.addr }), strerror(-err));
			return err;
		}
	}
	return maps_delete_stale(map_fd, t, rt);
}

int maps_sync_xdp_targets(int fd, const struct fwd_topology *t, const struct fwd_runtime *rt)
{
	for (size_t i = 0; i < t->n_forwards && i + 1 < FWD_MAX_RULES; i++) {
		const struct fwd_forward *f = &t->forwards[i];
		struct fwd_xdp_target val;
		__u32 rule = (__u32)(i + 1);

		memset(&val, 0, sizeof(val));
		if (f->xdp && f->ns < rt->n_endpoints) {
			val.addr = maps_endpoint_addr(t, rt, f->ns);
			val.ep = maps_endpoint_val(rt, f->ns);
		}
		if (bpf_map_update_elem(fd, &rule, &val, BPF_ANY)) {
			int err = -errno;

			fwd_err("fwd_xdp_targets: cannot set forward %u: %s\n", rule,
				strerror(-err));
			return err;
		}
	}
	return 0;
}

/*
 * Delete the keys of @fd that @wanted refuses. Keys are collected first (a delete restarts a
 * hash map walk), in rounds of up to 4096.
 */
static int maps_prune(int fd, size_t key_size, const char *name, const void *ctx,
		      bool (*wanted)(const void *ctx, const void *key))
{
	enum { ROUND = 4096 };
	char *keys = calloc(ROUND + 1, key_size), *next = keys + ROUND * key_size;
	int err = 0;

	if (!keys)
		return -ENOMEM;
	for (;;) {
		void *prev = NULL;
		size_t n = 0;

		while (n < ROUND && !bpf_map_get_next_key(fd, prev, next)) {
			if (!wanted(ctx, next))
				memcpy(keys + n++ * key_size, next, key_size);
			prev = next; /* the kernel reads the key before it writes the next one */
		}
		for (size_t i = 0; i < n; i++) {
			if (bpf_map_delete_elem(fd, keys + i * key_size) && errno != ENOENT) {
				err = -errno;
				fwd_err("%s: cannot delete stale entry: %s\n", name,
					strerror(-err));
				goto end;
			}
		}
		if (n < ROUND)
			break;
	}
end:
	free(keys);
	return err;
}

/* maps_prune() callback of fwd_endpoints6: the IPv6 address of a namespace of the topology. */
static bool maps_endpoint6_wanted_cb(const void *ctx, const void *k)
{
	const struct fwd_topology *t = ctx;
	const struct fwd_endpoint6_key *key = k;

	for (size_t i = 0; i < t->n_namespaces; i++)
		if (t->namespaces[i].has6 &&
		    !memcmp(&t->namespaces[i].addr6, key->addr, sizeof(key->addr)))
			return true;
	return false;
}

int maps_sync_endpoints6(int map_fd, const struct fwd_topology *t, const struct fwd_runtime *rt)
{
	for (size_t i = 0; i < rt->n_endpoints; i++) {
		const struct fwd_namespace *ns = maps_endpoint_ns(t, rt, i);
		struct fwd_endpoint val = maps_endpoint_val(rt, i);
		struct fwd_endpoint6_key key;
		char text[INET6_ADDRSTRLEN];

		if (!ns->has6)
			continue;
		memcpy(key.addr, &ns->addr6, sizeof(key.addr));
		if (bpf_map_update_elem(map_fd, &key, &val, BPF_ANY)) {
			int err = -errno;

			fwd_err("%s: cannot add %s: %s\n", FWD_MAP_ENDPOINTS6,
				inet_ntop(AF_INET6, &ns->addr6, text, sizeof(text)),
				strerror(-err));
			return err;
		}
	}
	return maps_prune(map_fd, sizeof(struct fwd_endpoint6_key), FWD_MAP_ENDPOINTS6, t,
			  maps_endpoint6_wanted_cb);
}

/* What maps_sync_forwards() keeps: the topology, and the uplink's primary address, on which
 * the forward lines that name no address are published. */
struct maps_forwards {
	const struct fwd_topology *t;
	in_addr_t uplink_addr;
};

static in_addr_t maps_forward_addr(const struct maps_forwards *m, const struct fwd_forward *f)
{
	return f->addr ? f->addr : m->uplink_addr;
}

static bool maps_forward_wanted(const struct maps_forwards *m, const struct fwd_forward_key *k)
{
	uint16_t port = ntohs(k->port);

	for (size_t i = 0; i < m->t->n_forwards; i++) {
		const struct fwd_forward *f = &m->t->forwards[i];

		if (fwd_forward_on_ipv4(m->t, f) && f->proto == k->proto &&
		    maps_forward_addr(m, f) == k->addr && port >= f->port_lo && port <= f->port_hi)
			return true;
	}
	return false;
}

static bool maps_forward_addr_wanted(const struct maps_forwards *m, const __be32 *addr)
{
	for (size_t i = 0; i < m->t->n_forwards; i++)
		if (m->t->forwards[i].addr == *addr && *addr != m->uplink_addr)
			return true;
	return false;
}

static bool maps_target_wanted(const struct fwd_topology *t, const struct fwd_fwd_target_key *k)
{
	uint16_t port = ntohs(k->port);

	for (size_t i = 0; i < t->n_forwards; i++) {
		const struct fwd_forward *f = &t->forwards[i];

		if (f->proto == k->proto && t->namespaces[f->ns].addr == k->addr &&
		    port >= f->to_port && port <= f->to_port + (f->port_hi - f->port_lo))
			return true;
	}
	return false;
}

static bool maps_forward_wanted_cb(const void *m, const void *k)
{
	return maps_forward_wanted(m, k);
}

static bool maps_forward_addr_wanted_cb(const void *m, const void *k)
{
	return maps_forward_addr_wanted(m, k);
}

static bool maps_target_wanted_cb(const void *t, const void *k)
{
	return maps_target_wanted(t, k);
}

int maps_sync_forwards(int fwd_fd, int targets_fd, int addrs_fd, const struct fwd_topology *t,
		       in_addr_t uplink_addr)
{
	const struct maps_forwards m = { t, uplink_addr };
	const __u32 one = 1;
	const __u8 yes = 1;
	int err;

	for (size_t i = 0; i < t->n_forwards; i++) {
		const struct fwd_forward *f = &t->forwards[i];

		for (uint32_t p = f->port_lo; p <= f->port_hi; p++) {
			struct fwd_forward_key key;
			struct fwd_forward_val val;
			struct fwd_fwd_target_key tkey;

			memset(&key, 0, sizeof(key));
			memset(&val, 0, sizeof(val));
			memset(&tkey, 0, sizeof(tkey));
			key.addr = maps_forward_addr(&m, f);
			key.proto = f->proto;
			key.port = htons(p);
			val.addr = t->namespaces[f->ns].addr;
			val.port = htons(f->to_port + (p - f->port_lo));
			val.rule = (__u16)(i + 1); /* fwd_rules and the counters: see there */
			tkey.addr = val.addr;
			tkey.proto = f->proto;
			tkey.port = val.port;
			/* A forward on an IPv6 address only: ip6tables' DNAT; its target port
			 * still sends its replies to the bridge (bpf/fwd_tc.bpf.c, IPv6). */
			if ((fwd_forward_on_ipv4(t, f) &&
			     bpf_map_update_elem(fwd_fd, &key, &val, BPF_ANY)) ||
			    bpf_map_update_elem(targets_fd, &tkey, &one, BPF_ANY)) {
				err = -errno;
				fwd_err("%s: cannot add %s port %u: %s\n", FWD_MAP_FORWARDS,
					f->proto == IPPROTO_TCP ? "tcp" : "udp", p, strerror(-err));
				return err;
			}
		}
	}
	/* The addresses besides the primary one that forward lines name. */
	for (size_t i = 0; i < t->n_forwards; i++) {
		__be32 addr = t->forwards[i].addr;

		if (addr && addr != uplink_addr &&
		    bpf_map_update_elem(addrs_fd, &addr, &yes, BPF_ANY)) {
			err = -errno;
			fwd_err("%s: cannot add an address: %s\n", FWD_MAP_FWD_ADDRS,
				strerror(-err));
			return err;
		}
	}
	err = maps_prune(fwd_fd, sizeof(struct fwd_forward_key), FWD_MAP_FORWARDS, &m,
			 maps_forward_wanted_cb);
	if (!err)
		err = maps_prune(addrs_fd, sizeof(__be32), FWD_MAP_FWD_ADDRS, &m,
				 maps_forward_addr_wanted_cb);
	if (!err)
		err = maps_prune(targets_fd, sizeof(struct fwd_fwd_target_key), FWD_MAP_FWD_TARGETS,
				 t, maps_target_wanted_cb);
	return err;
}

/* What maps_sync_forwards6() keeps: the topology and the uplink's first global IPv6 address. */
struct maps_forwards6 {
	const struct fwd_topology *t;
	const struct fwd_runtime *rt;
};

/* The IPv6 address of the uplink forward @f is published on, false when none. */
static bool maps_forward6_addr(const struct maps_forwards6 *m, const struct fwd_forward *f,
			       struct in6_addr *addr)
{
	if (!fwd_forward_has6(m->t, f))
		return false;
	if (f->has_addr6)
		*addr = f->addr6;
	else if (m->rt->uplink_has6)
		*addr = m->rt->uplink_addr6;
	else
		return false;
	return true;
}

static bool maps_forward6_wanted(const struct maps_forwards6 *m, const struct fwd_forward6_key *k)
{
	uint16_t port = ntohs(k->port);
	struct in6_addr addr;

	for (size_t i = 0; i < m->t->n_forwards; i++) {
		const struct fwd_forward *f = &m->t->forwards[i];

		if (maps_forward6_addr(m, f, &addr) && !memcmp(&addr, k->addr, 16) &&
		    f->proto == k->proto && port >= f->port_lo && port <= f->port_hi)
			return true;
	}
	return false;
}

static bool maps_forward6_wanted_cb(const void *m, const void *k)
{
	return maps_forward6_wanted(m, k);
}

int maps_sync_forwards6(int fd, const struct fwd_topology *t, const struct fwd_runtime *rt)
{
	const struct maps_forwards6 m = { t, rt };
	struct in6_addr addr;

	for (size_t i = 0; i < t->n_forwards; i++) {
		const struct fwd_forward *f = &t->forwards[i];

		if (!maps_forward6_addr(&m, f, &addr))
			continue;
		for (uint32_t p = f->port_lo; p <= f->port_hi; p++) {
			struct fwd_forward6_key key;
			struct fwd_forward6_val val;

			memset(&key, 0, sizeof(key));
			memset(&val, 0, sizeof(val));
			memcpy(key.addr, &addr, sizeof(key.addr));
			key.proto = f->proto;
			key.port = htons(p);
			memcpy(val.addr, &t->namespaces[f->ns].addr6, sizeof(val.addr));
			val.port = htons(f->to_port + (p - f->port_lo));
			val.rule = (__u16)(i + 1); /* as IPv4's: its counters */
			if (bpf_map_update_elem(fd, &key, &val, BPF_ANY)) {
				int err = -errno;

				fwd_err("%s: cannot add %s port %u: %s\n", FWD_MAP_FORWARDS6,
					f->proto == IPPROTO_TCP ? "tcp" : "udp", p, strerror(-err));
				return err;
			}
		}
	}
	return maps_prune(fd, sizeof(struct fwd_forward6_key), FWD_MAP_FORWARDS6, &m,
			  maps_forward6_wanted_cb);
}

int maps_sync_rules(int rules_fd, int drops_fd, const struct fwd_topology *t)
{
	int ncpus = libbpf_num_possible_cpus();
	struct fwd_counter_val *zero;
	int err = 0;

	if (ncpus <= 0)
		return fwd_fail(ncpus ?: -EINVAL, FWD_MAP_RULE_DROPS, "cannot count CPUs");
	zero = calloc(ncpus, sizeof(*zero));
	if (!zero)
		return fwd_fail(-ENOMEM, FWD_MAP_RULE_DROPS, "cannot reset");
	for (__u32 r = 0; r <= t->n_forwards && r < FWD_MAX_RULES && !err; r++) {
		struct fwd_rule rule;

		memset(&rule, 0, sizeof(rule));
		if (r > 0) {
			const struct fwd_forward *f = &t->forwards[r - 1];

			for (size_t k = 0; k < f->n_from && k < FWD_MAX_FROM; k++) {
				rule.from[k].mask = fwd_prefix_netmask(f->from[k].prefix);
				rule.from[k].addr = f->from[k].addr & rule.from[k].mask;
				rule.n_from = k + 1;
			}
		}
		if (bpf_map_update_elem(rules_fd, &r, &rule, BPF_ANY) ||
		    bpf_map_update_elem(drops_fd, &r, zero, BPF_ANY))
			err = fwd_fail(-errno, "fwd_rules", "cannot fill");
	}
	free(zero);
	return err;
}

int maps_reset_traffic(int ns_fd, int fwd_fd, int drops_fd, const struct fwd_topology *t)
{
	int ncpus = libbpf_num_possible_cpus();
	struct fwd_ns_drop_key key;
	struct fwd_traffic *zero;
	int err = 0;

	if (ncpus <= 0)
		return fwd_fail(ncpus ?: -EINVAL, FWD_MAP_NS_STATS, "cannot count CPUs");
	zero = calloc(ncpus, sizeof(*zero));
	if (!zero)
		return fwd_fail(-ENOMEM, FWD_MAP_NS_STATS, "cannot reset");
	/* Slots and forward lines are numbered anew by this up: from 1, in the file's order. */
	for (__u32 i = 1; i <= t->n_namespaces && i <= FWD_MAX_ENDPOINTS && !err; i++)
		if (bpf_map_update_elem(ns_fd, &i, zero, BPF_ANY))
			err = fwd_fail(-errno, FWD_MAP_NS_STATS, "cannot reset");
	for (__u32 i = 1; i <= t->n_forwards && i < FWD_MAX_RULES && !err; i++)
		if (bpf_map_update_elem(fwd_fd, &i, zero, BPF_ANY))
			err = fwd_fail(-errno, FWD_MAP_FWD_STATS, "cannot reset");
	free(zero);
	/* Each delete restarts the walk: the first key each time, until none is left. */
	while (!err && !bpf_map_get_next_key(drops_fd, NULL, &key))
		if (bpf_map_delete_elem(drops_fd, &key) && errno != ENOENT)
			err = fwd_fail(-errno, FWD_MAP_NS_DROPS, "cannot reset");
	return err;
}

static bool maps_ct_ns_wanted_cb(const void *ctx, const void *k)
{
	const struct fwd_topology *t = ctx;
	const struct fwd_ct_ns_key *key = k;

	for (size_t i = 0; i < t->n_namespaces; i++)
		if (t->namespaces[i].addr == key->addr)
			return true;
	return false;
}

int maps_sync_ct_ns(int fd, const struct fwd_topology *t)
{
	const struct fwd_ct_ns zero = { 0 };
	int err;

	/* BPF_NOEXIST: a namespace that stays keeps its count. */
	for (size_t i = 0; i < t->n_namespaces; i++) {
		struct fwd_ct_ns_key key = { .addr = t->namespaces[i].addr };

		if (bpf_map_update_elem(fd, &key, &zero, BPF_NOEXIST) && errno != EEXIST) {
			err = -errno;
			fwd_err("%s: cannot add namespace %s: %s\n", FWD_MAP_CT_NS,
				t->namespaces[i].name, strerror(-err));
			return err;
		}
	}
	return maps_prune(fd, sizeof(struct fwd_ct_ns_key), FWD_MAP_CT_NS, t, maps_ct_ns_wanted_cb);
}

int maps_sync_ports(int fd, const struct fwd_topology *t, const struct fwd_runtime *rt)
{
	__u32 *stale, key, *prev = NULL;
	size_t n = 0;
	int err = 0;

	for (size_t i = 0; i < rt->n_endpoints; i++) {
		const struct fwd_endpoint_rt *e = &rt->endpoints[i];
		const struct fwd_namespace *ns = maps_endpoint_ns(t, rt, i);
		struct fwd_port val = { .addr = ns->addr, .slot = (__u16)(i + 1) };
		__u32 ifindex = (__u32)e->host_ifindex;

		memcpy(val.mac, e->ns_mac, sizeof(val.mac));
		if (ns->has6) /* else all zero: it sends no IPv6 */
			memcpy(val.addr6, &ns->addr6, sizeof(val.addr6));
		if (bpf_map_update_elem(fd, &ifindex, &val, BPF_ANY)) {
			err = -errno;
			fwd_err("%s: cannot add %s's veth: %s\n", FWD_MAP_PORTS,
				inet_ntoa((struct in_addr){ .s_addr = val.addr }), strerror(-err));
			return err;
		}
	}
	/* Veths that left: collected first (a delete restarts a hash map walk); the map holds at
	 * most FWD_MAX_ENDPOINTS. */
	stale = calloc(FWD_MAX_ENDPOINTS, sizeof(*stale));
	if (!stale)
		return -ENOMEM;
	while (n < FWD_MAX_ENDPOINTS && !bpf_map_get_next_key(fd, prev, &key)) {
		if (!maps_ifindex_wanted(rt, key))
			stale[n++] = key;
		prev = &key;
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &stale[i]);
	free(stale);
	return 0;
}

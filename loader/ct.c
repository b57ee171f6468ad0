// SPDX-License-Identifier: GPL-2.0
/* loader_ct_list / loader_ct_flush: the pinned connection table of a topology. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <bpf/bpf.h>

#include "internal.h"
#include "fwd_json.h"
#include "fwd_kern_user.h"

static const char *const ct_state_names[FWD_CT_STATE_MAX] = {
#define FWD_X_NAME(id, name) [FWD_CT_##id] = name,
    FWD_CT_STATES(FWD_X_NAME)
#undef FWD_X_NAME
};

static const char *ct_proto_name(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	default: return "?";
	}
}

static int ct_open(const char *topology)
{
	char path[PATH_MAX];

	return pins_map_open(topology, FWD_MAP_CT, "the connection table", path);
}

/* One side of a tuple as "addr:port" (ICMP: "addr id N" on the side that chose the id). */
struct ct_end {
	char addr[INET_ADDRSTRLEN];
	unsigned port;
};

static void ct_end(struct ct_end *e, __be32 addr, __be16 port)
{
	inet_ntop(AF_INET, &addr, e->addr, sizeof(e->addr));
	e->port = ntohs(port);
}

static void ct_tuple_json(struct fwd_json *j, const char *key, const struct ct_end *src,
			  const struct ct_end *dst)
{
	json_object_begin(j, key);
	json_string(j, "src", src->addr);
	json_uint(j, "sport", src->port);
	json_string(j, "dst", dst->addr);
	json_uint(j, "dport", dst->port);
	json_object_end(j);
}

static __u64 ct_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* the clock of ct_now() in bpf/conntrack.h */
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int ct_sweep_unarmed(int fd)
{
	struct fwd_ct_key key, *prev = NULL, *dead = NULL;
	size_t n = 0, cap = 0;
	struct fwd_ct_entry e;
	__u64 now = ct_now();
	int err = 0;

	while (!bpf_map_get_next_key(fd, prev, &key)) {
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &e) || e.dir != FWD_CT_DIR_ORIG || e.timer_ns ||
		    e.expires_ns > now)
			continue;
		if (n + 2 > cap) {
			struct fwd_ct_key *d =
			    realloc(dead, (cap = cap ? 2 * cap : 64) * sizeof(*d));

			if (!d) {
				err = -ENOMEM;
				break;
			}
			dead = d;
		}
		dead[n++] = key;
		dead[n++] = e.peer;
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &dead[i]); /* ENOENT: gone meanwhile */
	if (n)
		pr_info("%s: %zu expired entries without a timer reclaimed\n", FWD_MAP_CT, n);
	free(dead);
	return err;
}

int loader_ct_list(const char *topology, struct fwd_json *j)
{
	struct fwd_ct_key key, *prev = NULL;
	struct fwd_ct_entry e;
	size_t n = 0;
	__u64 now;
	int fd;

	loader_log_init();
	fd = ct_open(topology);
	if (fd < 0)
		return fd;
	ct_sweep_unarmed(fd);
	now = ct_now();

	if (j) {
		json_object_begin(j, NULL);
		json_string(j, "topology", topology);
		json_array_begin(j, "connections");
	} else {
		printf("%-5s %-45s %-45s %-12s %10s\n", "PROTO", "ORIGINAL", "TRANSLATED", "STATE",
		       "EXPIRES");
	}
	while (!bpf_map_get_next_key(fd, prev, &key)) {
		struct ct_end osrc, odst, tsrc, tdst;
		__s64 left, age;
		const char *state;

		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &e) || e.dir != FWD_CT_DIR_ORIG)
			continue; /* gone meanwhile, or the REPLY half: listed with its ORIG */
		/* The translated tuple is the REPLY key read backwards. */
		ct_end(&osrc, key.saddr, key.sport);
		ct_end(&odst, key.daddr, key.dport);
		ct_end(&tsrc, e.peer.daddr, e.peer.dport);
		ct_end(&tdst, e.peer.saddr, e.peer.sport);
		left = e.expires_ns > now ? (__s64)((e.expires_ns - now) / 1000000000ull) : 0;
		age = now > e.created_ns ? (__s64)((now - e.created_ns) / 1000000000ull) : 0;
		state = e.state < FWD_CT_STATE_MAX ? ct_state_names[e.state] : "?";
		n++;
		if (j) {
			json_object_begin(j, NULL);
			json_string(j, "proto", ct_proto_name(key.proto));
			json_string(j, "nat", e.nat == FWD_CT_NAT_DNAT ? "dnat" : "snat");
			ct_tuple_json(j, "original", &osrc, &odst);
			ct_tuple_json(j, "translated", &tsrc, &tdst);
			json_string(j, "state", state);
			json_int(j, "seconds_left", left);
			json_int(j, "age", age);
			json_object_end(j);
		} else {
			char o[64], t[64];

			snprintf(o, sizeof(o), "%s:%u -> %s:%u", osrc.addr, osrc.port, odst.addr,
				 odst.port);
			snprintf(t, sizeof(t), "%s:%u -> %s:%u", tsrc.addr, tsrc.port, tdst.addr,
				 tdst.port);
			printf("%-5s %-45s %-45s %-12s %9llds%s\n", ct_proto_name(key.proto), o, t,
			       state, (long long)left, e.timer_ns ? "" : " (timer pending)");
		}
	}
	if (j) {
		json_array_end(j);
		json_uint(j, "count", n);
		json_object_end(j);
	}
	close(fd);
	return 0;
}

int loader_ct_flush(const char *topology)
{
	struct fwd_ct_key *keys;
	size_t n, total = 0;
	int fd, err = 0;

	loader_log_init();
	fd = ct_open(topology);
	if (fd < 0)
		return fd;
	keys = calloc(FWD_CT_MAX_ENTRIES, sizeof(*keys));
	if (!keys) {
		close(fd);
		return -ENOMEM;
	}
	/* Keys first, deletes after: a delete restarts a hash map walk. New connections keep
	 * arriving meanwhile: flush removes what was there when it looked, in rounds. */
	do {
		struct fwd_ct_key *prev = NULL;

		n = 0;
		while (n < FWD_CT_MAX_ENTRIES && !bpf_map_get_next_key(fd, prev, &keys[n])) {
			prev = &keys[n];
			n++;
		}
		for (size_t i = 0; i < n; i++) {
			if (bpf_map_delete_elem(fd, &keys[i]) && errno != ENOENT) {
				err = -errno;
				pr_warn("%s: cannot delete a connection: %s\n", FWD_MAP_CT,
					strerror(-err));
				goto end;
			}
		}
		total += n;
	} while (n == FWD_CT_MAX_ENTRIES);
	pr_info("topology %s: %zu connection-table entries flushed\n", topology, total);
end:
	free(keys);
	close(fd);
	return err;
}

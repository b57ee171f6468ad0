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
#include "fwd_kern_user.h"

static const char *const ct_state_names[FWD_CT_STATE_MAX] = {
#define FWD_X_NAME(id, name) [FWD_CT_##id] = name,
	FWD_CT_STATES(FWD_X_NAME)
#undef FWD_X_NAME
};

static int ct_open(const char *topology)
{
	char path[PATH_MAX];

	return pins_map_open(topology, FWD_MAP_CT, "the connection table", path);
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
		fwd_info("%s: %zu expired entries without a timer reclaimed\n", FWD_MAP_CT, n);
	free(dead);
	return err;
}

int loader_ct_walk(const char *topology, int (*cb)(const struct fwd_ct_conn *c, void *ctx),
		   void *ctx)
{
	struct fwd_ct_key key, *prev = NULL;
	struct fwd_ct_entry e;
	__u64 now;
	int fd, ret = 0;

	fd = ct_open(topology);
	if (fd < 0)
		return fd;
	ct_sweep_unarmed(fd);
	now = ct_now();
	while (!ret && !bpf_map_get_next_key(fd, prev, &key)) {
		struct fwd_ct_conn c = { .proto = key.proto };

		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &e) || e.dir != FWD_CT_DIR_ORIG)
			continue; /* gone meanwhile, or the REPLY half: reported with its ORIG */
		c.dnat = e.nat == FWD_CT_NAT_DNAT;
		c.original = (struct fwd_ct_tuple){ .src = key.saddr,
						    .dst = key.daddr,
						    .sport = ntohs(key.sport),
						    .dport = ntohs(key.dport) };
		/* The translated tuple is the REPLY key read backwards. */
		c.translated = (struct fwd_ct_tuple){ .src = e.peer.daddr,
						      .dst = e.peer.saddr,
						      .sport = ntohs(e.peer.dport),
						      .dport = ntohs(e.peer.sport) };
		c.seconds_left =
		    e.expires_ns > now ? (__s64)((e.expires_ns - now) / 1000000000ull) : 0;
		c.age = now > e.created_ns ? (__s64)((now - e.created_ns) / 1000000000ull) : 0;
		c.state = e.track.state < FWD_CT_STATE_MAX ? ct_state_names[e.track.state] : "?";
		c.timer_pending = !e.timer_ns;
		ret = cb(&c, ctx);
	}
	close(fd);
	return ret;
}

int loader_ct_flush(const char *topology)
{
	struct fwd_ct_key *keys;
	size_t n, total = 0;
	int fd, err = 0;

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
				fwd_err("%s: cannot delete a connection: %s\n", FWD_MAP_CT,
					strerror(-err));
				goto end;
			}
		}
		total += n;
	} while (n == FWD_CT_MAX_ENTRIES);
	fwd_info("topology %s: %zu connection-table entries flushed\n", topology, total);
end:
	free(keys);
	close(fd);
	return err;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The IPv6 connection table (fwd_ct6, NAT66) for `fwdctl ct` and `up`: listing, flush and
 * pruning, as loader/ct.c does for fwd_ct. Deletes go through fwd_ct6_delete, so that a
 * connection hands back its slot and leaves its namespace's count as one the datapath deletes.
 * A topology without NAT66 has a one-slot table, or none pinned (an older fwd): nothing to do.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <bpf/bpf.h>

#include "internal.h"
#include "fwd_kern_user.h"
#include "fwd_inet.h"
#include "topology.h"

/* The pinned table and its delete program of @topology, or -ENOENT when there is none. */
static int ct6_fds_open(const char *topology, struct ct_fds *fds)
{
	char path[PATH_MAX];

	fds->ct = fds->del_prog = -1;
	if (pins_path(path, topology, FWD_MAP_CT6))
		return -EINVAL;
	fds->ct = bpf_obj_get(path);
	if (fds->ct < 0)
		return -ENOENT;
	if (!pins_path(path, topology, FWD_PIN_PROG_CT6_DELETE))
		fds->del_prog = bpf_obj_get(path);
	return 0;
}

static __u64 ct6_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* the datapath's conntrack clock */
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

typedef bool (*ct6_match_fn)(const struct fwd_ct6_key *k, const struct fwd_ct6_entry *e, void *ctx);

/*
 * The ORIG keys of table @fd that @match accepts (NULL: all) into *@keys (malloc'ed), *@n of
 * them. A walk restarts when its key goes meanwhile: bounded, as ct_collect().
 */
static int ct6_collect(int fd, ct6_match_fn match, void *ctx, struct fwd_ct6_key **keys, size_t *n)
{
	struct fwd_ct6_key key, *prev = NULL, *v = NULL;
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct fwd_ct6_entry e;
	size_t steps = 0, max_steps, cap = 0;

	*keys = NULL;
	*n = 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	max_steps = 4ull * info.max_entries + 1024;
	while (steps++ < max_steps && !bpf_map_get_next_key(fd, prev, &key)) {
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &e) || e.c.dir != FWD_CT_DIR_ORIG)
			continue;
		if (match && !match(&key, &e, ctx))
			continue;
		if (*n == cap) {
			struct fwd_ct6_key *w = realloc(v, (cap = cap ? 2 * cap : 64) * sizeof(*v));

			if (!w) {
				free(v);
				return -ENOMEM;
			}
			v = w;
		}
		v[(*n)++] = key;
	}
	*keys = v;
	return 0;
}

/* Forget the connections of ORIG keys @keys[0..n) through fwd_ct6_delete; how many went. */
static size_t ct6_forget_keys(int del_prog, const struct fwd_ct6_key *keys, size_t n)
{
	size_t gone = 0;

	for (size_t i = 0; i < n && del_prog >= 0; i += FWD_CT6_DELETE_BATCH) {
		size_t k = n - i < FWD_CT6_DELETE_BATCH ? n - i : FWD_CT6_DELETE_BATCH;
		struct fwd_ct6_key frame[FWD_CT6_DELETE_BATCH] = { 0 };
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
			    .data_size_in = (k < 2 ? 2 : k) * sizeof(*frame), .repeat = 1);

		memcpy(frame, keys + i, k * sizeof(*keys));
		if (bpf_prog_test_run_opts(del_prog, &opts)) {
			fwd_err("%s: cannot delete connections: %s\n", FWD_MAP_CT6,
				strerror(errno));
			break;
		}
		gone += opts.retval;
	}
	return gone;
}

/* Delete what @match accepts from @fds' table; how many connections went into *@gone. */
static int ct6_delete_matching(const struct ct_fds *fds, ct6_match_fn match, void *ctx,
			       size_t *gone)
{
	struct fwd_ct6_key *keys;
	size_t n;
	int err = ct6_collect(fds->ct, match, ctx, &keys, &n);

	*gone = err ? 0 : ct6_forget_keys(fds->del_prog, keys, n);
	free(keys);
	return err;
}

int ct6_walk(const char *topology, int (*cb)(const struct fwd_ct_conn *c, void *ctx), void *ctx)
{
	struct fwd_ct6_key key, *prev = NULL;
	struct fwd_ct6_entry e;
	struct ct_fds fds;
	__u64 now = ct6_now();
	int ret = 0;

	if (ct6_fds_open(topology, &fds))
		return 0; /* no IPv6 table: no IPv6 connection */
	while (!ret && !bpf_map_get_next_key(fds.ct, prev, &key)) {
		struct fwd_ct_conn c = { .proto = key.proto, .nat = 0 };

		prev = &key;
		if (bpf_map_lookup_elem(fds.ct, &key, &e) || e.c.dir != FWD_CT_DIR_ORIG ||
		    e.c.expires_ns <= now)
			continue;
		c.nat = e.c.nat;
		c.original.v6 = c.translated.v6 = true;
		memcpy(&c.original.src6, key.saddr, 16);
		memcpy(&c.original.dst6, key.daddr, 16);
		c.original.sport = ntohs(key.sport);
		c.original.dport = ntohs(key.dport);
		/* The translated tuple is the REPLY key read backwards. */
		memcpy(&c.translated.src6, e.peer.daddr, 16);
		memcpy(&c.translated.dst6, e.peer.saddr, 16);
		c.translated.sport = ntohs(e.peer.dport);
		c.translated.dport = ntohs(e.peer.sport);
		c.seconds_left = (__s64)((e.c.expires_ns - now) / 1000000000ull);
		c.age = now > e.c.created_ns ? (__s64)((now - e.c.created_ns) / 1000000000ull) : 0;
		c.state = loader_ct_state_name(e.c.track.state);
		c.assured = !!(e.c.track.flags & FWD_CT_F_ASSURED);
		ret = cb(&c, ctx);
	}
	ct_fds_close(&fds);
	return ret;
}

static bool ct6_filter_match(const struct fwd_ct6_key *k, const struct fwd_ct6_entry *e, void *ctx)
{
	const struct fwd_ct_filter *f = ctx;
	/* "icmp" asks for echo connections: ICMPv6's here */
	__u8 proto = f->proto == IPPROTO_ICMP ? IPPROTO_ICMPV6 : f->proto;

	if (proto && k->proto != proto)
		return false;
	if (f->port && ntohs(k->sport) != f->port && ntohs(k->dport) != f->port)
		return false;
	/* The namespace: it opened the connection (counted under its IPv4 address), or a forward
	 * points at it (the REPLY key's source). */
	return !f->ns_addr || (e->c.ns_counted && e->ns_addr == f->ns_addr) ||
	       (e->c.nat == FWD_CT_NAT_DNAT && f->ns_has6 &&
		!memcmp(e->peer.saddr, &f->ns_addr6, 16));
}

int ct6_flush(const char *topology, const struct fwd_ct_filter *f, size_t *flushed)
{
	struct ct_fds fds;
	int err;

	*flushed = 0;
	if (ct6_fds_open(topology, &fds))
		return 0;
	err = ct6_delete_matching(&fds, f ? ct6_filter_match : NULL, (void *)f, flushed);
	ct_fds_close(&fds);
	return err;
}

struct ct6_prune_ctx {
	const struct fwd_topology *t;
	const struct fwd_runtime *rt;
	bool snat6, dnat6;
};

/* Does the topology still forward connection @k (ORIG key) where it went (@e's peer)? */
static bool ct6_forward_current(const struct ct6_prune_ctx *c, const struct fwd_ct6_key *k,
				const struct fwd_ct6_entry *e)
{
	struct in6_addr daddr, to_addr;
	uint16_t to_port;

	memcpy(&daddr, k->daddr, sizeof(daddr));
	return c->dnat6 &&
	       topo_forward6_target(c->t, k->proto, &daddr, ntohs(k->dport),
				    c->rt->uplink_has6 ? &c->rt->uplink_addr6 : NULL, &to_addr,
				    &to_port) &&
	       !memcmp(e->peer.saddr, &to_addr, 16) && ntohs(e->peer.sport) == to_port;
}

/* Masqueraded still, to the uplink's address now, from a prefix still masqueraded? */
static bool ct6_stale(const struct fwd_ct6_key *k, const struct fwd_ct6_entry *e, void *ctx)
{
	const struct ct6_prune_ctx *c = ctx;
	struct in6_addr src;

	if (e->c.nat == FWD_CT_NAT_DNAT)
		return !ct6_forward_current(c, k, e);
	if (!c->snat6 || memcmp(e->peer.daddr, &c->rt->uplink_addr6, 16))
		return true;
	memcpy(&src, k->saddr, 16);
	for (size_t i = 0; i < c->t->n_masquerades6; i++)
		if (fwd_in6_same_prefix(&src, &c->t->masquerades6[i].net.addr,
					c->t->masquerades6[i].net.prefix))
			return false;
	return true;
}

int ct6_prune(const struct ct_fds *fds, const struct fwd_topology *t, const struct fwd_runtime *rt,
	      bool snat6, bool dnat6)
{
	struct ct6_prune_ctx c = { .t = t, .rt = rt, .snat6 = snat6, .dnat6 = dnat6 };
	size_t n;
	int err = ct6_delete_matching(fds, ct6_stale, &c, &n);

	if (n)
		fwd_info("topology %s: %zu IPv6 connections of changed forwards, masquerades or "
			 "uplink address removed\n",
			 t->name, n);
	return err;
}

/* ---- into a table of another size, as ct_copy() ---- */

static bool ct6_is_assured(const struct fwd_ct6_key *k, const struct fwd_ct6_entry *e, void *want)
{
	return !!(e->c.track.flags & FWD_CT_F_ASSURED) == *(bool *)want;
}

/* @e under @key into @fd without a slot (fwd_ct_start adopts it), if not there; 0 or -errno. */
static int ct6_copy_entry(int fd, const struct fwd_ct6_key *key, struct fwd_ct6_entry *e)
{
	e->c.slot = FWD_CT_NO_SLOT;
	return bpf_map_update_elem(fd, key, e, BPF_NOEXIST) ? -errno : 0;
}

/* Is the entry under @reply in @fd the REPLY half of the connection @orig? */
static bool ct6_reply_of(int fd, const struct fwd_ct6_key *reply, const struct fwd_ct6_key *orig)
{
	struct fwd_ct6_entry e;

	return !bpf_map_lookup_elem(fd, reply, &e) && e.c.dir == FWD_CT_DIR_REPLY &&
	       !memcmp(&e.peer, orig, sizeof(*orig));
}

int ct6_copy(int old_fd, int new_fd, size_t *copied, size_t *lost)
{
	struct fwd_ct6_entry o, r;
	int err = 0;

	*copied = *lost = 0;
	for (int pass = 0; pass < 2 && !err; pass++) {
		bool assured = pass == 0;
		struct fwd_ct6_key *keys = NULL;
		size_t n = 0;

		err = ct6_collect(old_fd, ct6_is_assured, &assured, &keys, &n);
		for (size_t i = 0; i < n && !err; i++) {
			int e1, e2;

			if (bpf_map_lookup_elem(old_fd, &keys[i], &o) ||
			    bpf_map_lookup_elem(old_fd, &o.peer, &r))
				continue; /* expired meanwhile, or half made */
			/* REPLY first, as the datapath inserts them. */
			e1 = ct6_copy_entry(new_fd, &o.peer, &r);
			if ((e1 == -EEXIST && !ct6_reply_of(new_fd, &o.peer, &keys[i])) ||
			    (e1 && e1 != -EEXIST)) {
				(*lost)++; /* the port went to another one, or the table is full */
				continue;
			}
			e2 = ct6_copy_entry(new_fd, &keys[i], &o);
			if (!e2) {
				(*copied)++;
			} else if (e2 != -EEXIST) {
				if (!e1)
					bpf_map_delete_elem(new_fd, &o.peer);
				(*lost)++;
			}
		}
		free(keys);
	}
	return err;
}

int ct6_recent_move(int old_fd, int new_fd)
{
	struct fwd_ct6_key key;

	/* BPF_EXIST: a smaller queue forgets its oldest, as the datapath's pushes do. */
	while (!bpf_map_lookup_and_delete_elem(old_fd, NULL, &key))
		if (bpf_map_update_elem(new_fd, NULL, &key, BPF_EXIST))
			return -errno;
	return 0;
}

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

const char *loader_ct_state_name(unsigned int state)
{
	return state < FWD_CT_STATE_MAX ? ct_state_names[state] : "?";
}

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
	now = ct_now();
	while (!ret && !bpf_map_get_next_key(fd, prev, &key)) {
		struct fwd_ct_conn c = { .proto = key.proto };

		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &e) || e.dir != FWD_CT_DIR_ORIG)
			continue; /* gone meanwhile, or the REPLY half: reported with its ORIG */
		if (e.expires_ns <= now)
			continue; /* expired: gone for the datapath, the sweep's to delete */
		c.nat = e.nat;
		c.original = (struct fwd_ct_tuple){ .src = key.saddr,
						    .dst = key.daddr,
						    .sport = ntohs(key.sport),
						    .dport = ntohs(key.dport) };
		/* The translated tuple is the REPLY key read backwards. */
		c.translated = (struct fwd_ct_tuple){ .src = e.peer.daddr,
						      .dst = e.peer.saddr,
						      .sport = ntohs(e.peer.dport),
						      .dport = ntohs(e.peer.sport) };
		c.seconds_left = (__s64)((e.expires_ns - now) / 1000000000ull);
		c.age = now > e.created_ns ? (__s64)((now - e.created_ns) / 1000000000ull) : 0;
		c.state = loader_ct_state_name(e.track.state);
		c.assured = !!(e.track.flags & FWD_CT_F_ASSURED);
		ret = cb(&c, ctx);
	}
	close(fd);
	return ret ? ret : ct6_walk(topology, cb, ctx);
}

/* ---- migration, pruning and flush: both entries of a connection at a time ---- */

struct ct_pair {
	struct fwd_ct_key orig, reply;
};

struct ct_pairs {
	struct ct_pair *v;
	size_t n, cap;
};

static int ct_pairs_add(struct ct_pairs *p, const struct fwd_ct_key *orig,
			const struct fwd_ct_entry *e)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 256;
		struct ct_pair *v = realloc(p->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n].orig = *orig;
	p->v[p->n++].reply = e->peer;
	return 0;
}

/*
 * The ORIG entries of table @fd that @match accepts (NULL: all), with their REPLY keys. A hash
 * map walk restarts from the start when the key it stands on is deleted meanwhile (the sweep):
 * the walk is bounded, and a key seen twice is only deleted twice (ENOENT).
 */
static int ct_collect(int fd,
		      bool (*match)(const struct fwd_ct_key *k, const struct fwd_ct_entry *e,
				    void *ctx),
		      void *ctx, struct ct_pairs *out)
{
	struct fwd_ct_key key, *prev = NULL;
	struct bpf_map_info info;
	struct fwd_ct_entry e;
	size_t steps = 0, max_steps;
	int err;

	err = pins_map_info(fd, FWD_MAP_CT, &info);
	if (err)
		return err;
	max_steps = 4ull * info.max_entries + 1024;
	while (steps++ < max_steps && !bpf_map_get_next_key(fd, prev, &key)) {
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &e) || e.dir != FWD_CT_DIR_ORIG)
			continue;
		if (match && !match(&key, &e, ctx))
			continue;
		err = ct_pairs_add(out, &key, &e);
		if (err)
			return err;
	}
	return 0;
}

/* Forget the connections whose ORIG keys are @keys[0..n) through fwd_ct_delete; how many went. */
static size_t ct_forget_keys(int del_prog, const struct fwd_ct_key *keys, size_t n)
{
	size_t gone = 0;

	for (size_t i = 0; i < n; i += FWD_CT_DELETE_BATCH) {
		size_t k = n - i < FWD_CT_DELETE_BATCH ? n - i : FWD_CT_DELETE_BATCH;
		/* A tc test run wants at least an Ethernet header's worth. */
		struct fwd_ct_key frame[FWD_CT_DELETE_BATCH] = { 0 };
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
			    .data_size_in = (k < 2 ? 2 : k) * sizeof(*frame), .repeat = 1);

		memcpy(frame, keys + i, k * sizeof(*keys));
		if (bpf_prog_test_run_opts(del_prog, &opts)) {
			fwd_err("%s: cannot delete connections: %s\n", FWD_MAP_CT, strerror(errno));
			break;
		}
		gone += opts.retval;
	}
	return gone;
}

/* Delete both entries of each pair; the number of connections that went. */
static size_t ct_pairs_delete(const struct ct_fds *fds, const struct ct_pairs *p)
{
	struct fwd_ct_key *keys = malloc((p->n ? p->n : 1) * sizeof(*keys));
	size_t n;

	if (!keys)
		return 0;
	for (size_t i = 0; i < p->n; i++)
		keys[i] = p->v[i].orig;
	n = ct_forget_keys(fds->del_prog, keys, p->n);
	free(keys);
	return n;
}

bool ct_layout_ok(const struct bpf_map_info *info)
{
	return info->type == BPF_MAP_TYPE_HASH && info->key_size == sizeof(struct fwd_ct_key) &&
	       info->value_size == sizeof(struct fwd_ct_entry) &&
	       info->map_flags == BPF_F_NO_PREALLOC;
}

int loader_ct_check(const char *topology)
{
	struct bpf_map_info info;
	char path[PATH_MAX];
	int fd, err;

	err = pins_path(path, topology, FWD_MAP_CT);
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0; /* none pinned (or unreadable: up says so when it gets there) */
	err = pins_map_info(fd, path, &info);
	close(fd);
	if (err || ct_layout_ok(&info))
		return err;
	fwd_err("%s: the pinned connection table has another entry layout (%u-byte entries, "
		"this fwd's are %zu): it was made by another fwd version and its connections "
		"cannot be carried over; 'fwdctl up --flush-conntrack FILE' starts with an empty "
		"table (connections from the namespaces are picked up again, those from the LAN "
		"to forwards are dropped)",
		path, info.value_size, sizeof(struct fwd_ct_entry));
	return -ESTALE;
}

static bool ct_is_assured(const struct fwd_ct_key *k, const struct fwd_ct_entry *e, void *want)
{
	return !!(e->track.flags & FWD_CT_F_ASSURED) == *(bool *)want;
}

/* Insert @e under @key into @fd without a slot (fwd_ct_start adopts it), if not there; 0,
 * -EEXIST or -E2BIG (full). */
static int ct_copy_entry(int fd, const struct fwd_ct_key *key, struct fwd_ct_entry *e)
{
	e->slot = FWD_CT_NO_SLOT;
	return bpf_map_update_elem(fd, key, e, BPF_NOEXIST) ? -errno : 0;
}

/* Is the entry under @reply in @fd the REPLY half of the connection @orig? */
static bool ct_reply_of(int fd, const struct fwd_ct_key *reply, const struct fwd_ct_key *orig)
{
	struct fwd_ct_entry e;

	return !bpf_map_lookup_elem(fd, reply, &e) && e.dir == FWD_CT_DIR_REPLY &&
	       !memcmp(&e.peer, orig, sizeof(*orig));
}

int ct_copy(int old_fd, int new_fd, size_t *copied, size_t *lost)
{
	struct ct_pairs p = { 0 };
	struct fwd_ct_entry o, r;
	int err = 0;

	*copied = *lost = 0;
	for (int pass = 0; pass < 2 && !err; pass++) {
		bool assured = pass == 0;

		p.n = 0;
		err = ct_collect(old_fd, ct_is_assured, &assured, &p);
		for (size_t i = 0; i < p.n && !err; i++) {
			int e1, e2;

			if (bpf_map_lookup_elem(old_fd, &p.v[i].orig, &o) ||
			    bpf_map_lookup_elem(old_fd, &p.v[i].reply, &r))
				continue; /* expired meanwhile, or half made */
			/* REPLY first, as the datapath inserts them: an ORIG entry never
			 * stands without its other half. */
			e1 = ct_copy_entry(new_fd, &p.v[i].reply, &r);
			if (e1 == -EEXIST && !ct_reply_of(new_fd, &p.v[i].reply, &p.v[i].orig)) {
				(*lost)++; /* the new program gave that port to another one */
				continue;
			}
			if (e1 && e1 != -EEXIST) {
				(*lost)++;
				continue;
			}
			e2 = ct_copy_entry(new_fd, &p.v[i].orig, &o);
			if (!e2) {
				(*copied)++;
			} else if (e2 != -EEXIST) {
				if (!e1)
					bpf_map_delete_elem(new_fd, &p.v[i].reply);
				(*lost)++;
			}
		}
	}
	free(p.v);
	return err;
}

int ct_recent_move(int old_fd, int new_fd)
{
	struct fwd_ct_key key;

	/* BPF_EXIST: a smaller queue forgets its oldest, as the datapath's pushes do. */
	while (!bpf_map_lookup_and_delete_elem(old_fd, NULL, &key))
		if (bpf_map_update_elem(new_fd, NULL, &key, BPF_EXIST))
			return -errno;
	return 0;
}

struct ct_prune_ctx {
	const struct fwd_topology *t;
	in_addr_t uplink_addr;
	bool snat, dnat;
};

static bool ct_masqueraded(const struct fwd_topology *t, in_addr_t addr)
{
	for (size_t i = 0; i < t->n_masquerades; i++) {
		in_addr_t mask = fwd_prefix_netmask(t->masquerades[i].net.prefix);

		if ((addr & mask) == (t->masquerades[i].net.addr & mask))
			return true;
	}
	return false;
}

/* Does the topology still forward this connection where it went? */
static bool ct_forward_current(const struct ct_prune_ctx *c, const struct fwd_ct_key *k,
			       const struct fwd_ct_entry *e)
{
	in_addr_t to_addr;
	uint16_t to_port;

	return c->dnat &&
	       topo_forward_target(c->t, k->proto, k->daddr, ntohs(k->dport), c->uplink_addr,
				   &to_addr, &to_port) &&
	       e->peer.saddr == to_addr && ntohs(e->peer.sport) == to_port;
}

/* Does an allow line of @t admit connection @k (its ORIG key)? */
static bool ct_allowed(const struct fwd_topology *t, const struct fwd_ct_key *k)
{
	uint16_t port = ntohs(k->dport);

	if (!t->isolate)
		return false;
	for (size_t i = 0; i < t->n_allows; i++) {
		const struct fwd_allow *a = &t->allows[i];

		if ((k->saddr & fwd_prefix_netmask(a->src_prefix)) == a->src &&
		    a->dst == k->daddr &&
		    (!a->proto ||
		     (a->proto == k->proto && port >= a->port_lo && port <= a->port_hi)))
			return true;
	}
	return false;
}

static bool ct_stale(const struct fwd_ct_key *k, const struct fwd_ct_entry *e, void *ctx)
{
	const struct ct_prune_ctx *c = ctx;

	if (e->nat == FWD_CT_NAT_DNAT)
		return !ct_forward_current(c, k, e);
	/* Between namespaces, or with a routed subnet: only while isolate and an allow line still
	 * admit it, or, opened by a namespace to a routed subnet, while the route is there. */
	if (e->nat == FWD_CT_NAT_NONE)
		return !ct_allowed(c->t, k) && !(c->t->isolate && topo_route_of(c->t, k->daddr));
	/* Masquerade: the REPLY key's destination is the translated source. */
	return !c->snat || e->peer.daddr != c->uplink_addr || !ct_masqueraded(c->t, k->saddr);
}

int ct_prune(const struct ct_fds *fds, const struct fwd_topology *t, const struct fwd_runtime *rt,
	     bool snat, bool dnat)
{
	struct ct_prune_ctx c = {
		.t = t, .uplink_addr = rt->uplink_addr, .snat = snat, .dnat = dnat
	};
	struct ct_pairs p = { 0 };
	size_t n;
	int err;

	err = ct_collect(fds->ct, ct_stale, &c, &p);
	n = ct_pairs_delete(fds, &p);
	if (n)
		fwd_info("topology %s: %zu connections of changed forwards, masquerades or uplink "
			 "address removed\n",
			 t->name, n);
	free(p.v);
	return err;
}

static bool ct_filter_match(const struct fwd_ct_key *k, const struct fwd_ct_entry *e, void *ctx)
{
	const struct fwd_ct_filter *f = ctx;

	if (f->proto && k->proto != f->proto)
		return false;
	if (f->port && ntohs(k->sport) != f->port && ntohs(k->dport) != f->port)
		return false;
	/* The namespace's side: it opened the connection (masquerade, hairpin), or a forward
	 * points at it (the REPLY key's source). */
	if (f->ns_addr && k->saddr != f->ns_addr &&
	    !(e->nat == FWD_CT_NAT_DNAT && e->peer.saddr == f->ns_addr))
		return false;
	return true;
}

/* What is left after the connections went: halves whose other half is gone (no slot, no
 * count), and connections opened meanwhile, which go the same way as the rest. */
static int ct_flush_all(const struct ct_fds *fds, size_t *entries)
{
	struct fwd_ct_key *keys;
	struct bpf_map_info info;
	struct fwd_ct_entry e;
	size_t n;
	int err;

	*entries = 0;
	err = pins_map_info(fds->ct, FWD_MAP_CT, &info);
	if (err)
		return err;
	keys = calloc(info.max_entries, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	/* A delete restarts a hash map walk. New connections keep arriving meanwhile: flush
	 * removes what was there when it looked, in rounds. */
	do {
		struct fwd_ct_key *prev = NULL;
		size_t n_orig = 0;

		n = 0;
		while (n < info.max_entries && !bpf_map_get_next_key(fds->ct, prev, &keys[n])) {
			prev = &keys[n];
			n++;
		}
		/* ORIG keys to the front: fwd_ct_delete's; the halves deleted here. */
		for (size_t i = 0; i < n; i++) {
			if (!bpf_map_lookup_elem(fds->ct, &keys[i], &e) &&
			    e.dir == FWD_CT_DIR_ORIG) {
				struct fwd_ct_key k = keys[n_orig];

				keys[n_orig++] = keys[i];
				keys[i] = k;
			}
		}
		ct_forget_keys(fds->del_prog, keys, n_orig);
		for (size_t i = n_orig; i < n; i++) {
			if (bpf_map_delete_elem(fds->ct, &keys[i]) && errno != ENOENT) {
				err = -errno;
				fwd_err("%s: cannot delete a connection: %s\n", FWD_MAP_CT,
					strerror(-err));
				goto end;
			}
		}
		*entries += n;
	} while (n == info.max_entries);
end:
	free(keys);
	return err;
}

int ct_fds_open(const char *topology, struct ct_fds *fds)
{
	char path[PATH_MAX];
	int err;

	fds->del_prog = -1;
	fds->ct = pins_map_open(topology, FWD_MAP_CT, "the connection table", path);
	if (fds->ct < 0)
		return fds->ct;
	err = pins_path(path, topology, FWD_PIN_PROG_CT_DELETE);
	if (!err) {
		fds->del_prog = bpf_obj_get(path);
		if (fds->del_prog < 0) {
			err = -errno;
			fwd_err("%s: cannot open the pinned program: %s (up again with this fwd "
				"version)\n",
				path, strerror(-err));
		}
	}
	if (err)
		ct_fds_close(fds);
	return err;
}

void ct_fds_close(struct ct_fds *fds)
{
	if (fds->ct >= 0)
		close(fds->ct);
	if (fds->del_prog >= 0)
		close(fds->del_prog);
	fds->ct = fds->del_prog = -1;
}

int loader_ct_flush(const char *topology, const struct fwd_ct_filter *f, size_t *flushed)
{
	bool all = !f || (!f->proto && !f->port && !f->ns_addr);
	struct ct_pairs p = { 0 };
	struct ct_fds fds;
	size_t n = 0, entries;
	int err;

	err = ct_fds_open(topology, &fds);
	if (err)
		return err;
	/* The connections first (what is counted), then, for a flush of all, what is left. */
	err = ct_collect(fds.ct, all ? NULL : ct_filter_match, (void *)f, &p);
	if (!err)
		n = ct_pairs_delete(&fds, &p);
	if (!err && all)
		err = ct_flush_all(&fds, &entries);
	if (!err) {
		size_t n6;

		err = ct6_flush(topology, all ? NULL : f, &n6);
		n += n6;
	}
	if (err == -ENOMEM)
		fwd_err("%s: flush: out of memory\n", FWD_MAP_CT);
	if (!err)
		fwd_info("topology %s: %zu connections flushed\n", topology, n);
	if (flushed)
		*flushed = n;
	free(p.v);
	ct_fds_close(&fds);
	return err;
}

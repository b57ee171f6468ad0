// SPDX-License-Identifier: GPL-2.0
/*
 * loader_up_start, loader_up_finish / loader_down: the order of a reload. A re-run loads a fresh
 * program (new settings), reuses the pinned maps (counters and, later, conntrack survive),
 * converges the maps in place, swaps the program inside the existing tc filters, then re-pins the
 * program. fwd_sock (the host's own connections to forwards) follows, sharing fwd_tc's maps; its
 * cgroup links get the new program in place (loader/sock.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf.h>

#include <bpf/libbpf.h>

#include "internal.h"
#include "fwd_kern_user.h"
#include "fwd_tc.skel.h"

/*
 * The connection table (fwd_ct), its queue of recent connections (fwd_ct_recent), its slots
 * (fwd_ct_slots) and their free queue (fwd_ct_free) change size with `conntrack max`. A pinned
 * table of another size is not reused: the new program gets new maps of the right size, the
 * connections are copied into the new table, and their pins replace the old ones once the new
 * program is attached (up_ct_swap). Slots go with their table: new with a new one. A table of
 * another entry layout (an older fwd) is refused unless the user asked for an empty one
 * (--flush-conntrack).
 */
enum { UP_CT, UP_CT_RECENT, UP_CT_SLOTS, UP_CT_FREE, UP_CT_N };

struct up_ct {
	bool replace[UP_CT_N]; /* a new map, pinned in place of the old at the end */
	int old_fd[UP_CT_N];   /* the pinned map to copy from; -1: none (a fresh table) */
	char path[UP_CT_N][PATH_MAX];
	bool new_table; /* fwd_ct is new (none pinned, or replaced): all its slots free */
	bool fill6;	/* fwd_ct6 is new, or was never filled: all its slots free */
	int old6_fd, old6_recent_fd; /* fwd_ct6 and its recent queue of another size, to carry
				      * over: their pins went, the old program holds them */
};

static void up_ct_maps(struct fwd_tc *skel, struct bpf_map *maps[UP_CT_N])
{
	maps[UP_CT] = skel->maps.fwd_ct;
	maps[UP_CT_RECENT] = skel->maps.fwd_ct_recent;
	maps[UP_CT_SLOTS] = skel->maps.fwd_ct_slots;
	maps[UP_CT_FREE] = skel->maps.fwd_ct_free;
}

/*
 * A pinned table with no connection and no free slot: an `up` stopped between making the
 * table and filling its free slots (fwd_ct_start). It would refuse every connection; filled
 * now. (A full table has connections.)
 */
static bool up_ct_unfilled(const char *ct_path, const char *free_path)
{
	unsigned char key[sizeof(struct fwd_ct6_key)]; /* either table's */
	__u32 slot;
	int ct_fd, free_fd;
	bool unfilled = false;

	ct_fd = bpf_obj_get(ct_path);
	free_fd = bpf_obj_get(free_path);
	if (ct_fd >= 0 && free_fd >= 0)
		unfilled = bpf_map_get_next_key(ct_fd, NULL, key) &&
			   bpf_map_lookup_elem(free_fd, NULL, &slot);
	if (ct_fd >= 0)
		close(ct_fd);
	if (free_fd >= 0)
		close(free_fd);
	return unfilled;
}

static int up_prepare_ct(struct fwd_tc *skel, const char *topology, const struct fwd_runtime *rt,
			 struct up_ct *ct)
{
	struct bpf_map *maps[UP_CT_N];
	int err;

	up_ct_maps(skel, maps);
	for (int i = 0; i < UP_CT_N; i++) {
		err = pins_path(ct->path[i], topology, bpf_map__name(maps[i]));
		if (err)
			return err;
		if (i == UP_CT)
			ct->new_table = access(ct->path[i], F_OK) != 0;
		if (rt->ct_flush || ((i == UP_CT_SLOTS || i == UP_CT_FREE) && ct->replace[UP_CT])) {
			ct->replace[i] = true; /* new and empty; no pin path: libbpf creates it */
			continue;
		}
		err = pins_map_reshape(maps[i], ct->path[i], &ct->old_fd[i]);
		if (err == -ESTALE && i == UP_CT)
			return loader_ct_check(topology); /* says what to do; -ESTALE */
		if (err == -ESTALE) {
			/* Only candidates for early drop, or slots of a table that is new. */
			fwd_info("%s: pinned map has another layout, recreating it\n", ct->path[i]);
			ct->replace[i] = true;
			continue;
		}
		if (err)
			return err;
		ct->replace[i] = ct->old_fd[i] >= 0;
	}
	/* Slots are never copied: a table that stays keeps its own. */
	for (int i = UP_CT_SLOTS; i <= UP_CT_FREE; i++) {
		if (ct->old_fd[i] >= 0) {
			close(ct->old_fd[i]);
			ct->old_fd[i] = -1;
		}
	}
	if (ct->replace[UP_CT] || up_ct_unfilled(ct->path[UP_CT], ct->path[UP_CT_FREE]))
		ct->new_table = true;
	if (rt->ct_flush)
		fwd_note("topology %s: starting with an empty connection table "
			 "(--flush-conntrack)",
			 topology);
	return 0;
}

/* Is the map pinned at @path of @map's shape (kept by pins_map_prepare())? */
static bool up_pin_same_shape(struct bpf_map *map, const char *path)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(path);
	bool same;

	if (fd < 0)
		return false;
	same = !bpf_obj_get_info_by_fd(fd, &info, &len) && info.type == bpf_map__type(map) &&
	       info.key_size == bpf_map__key_size(map) &&
	       info.value_size == bpf_map__value_size(map) &&
	       info.max_entries == bpf_map__max_entries(map);
	close(fd);
	return same;
}

/* Does the pinned fwd_ct6 @fd hold entries of the new program's layout? */
static bool up_ct6_layout_ok(int fd, struct fwd_tc *skel)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return !bpf_obj_get_info_by_fd(fd, &info, &len) &&
	       info.type == bpf_map__type(skel->maps.fwd_ct6) &&
	       info.key_size == bpf_map__key_size(skel->maps.fwd_ct6) &&
	       info.value_size == bpf_map__value_size(skel->maps.fwd_ct6);
}

/*
 * fwd_ct6 (NAT66) and its queues and slots, pinned and kept while their shape holds. A new
 * shape (another `conntrack max`, masquerade6 added or gone: one slot without) gets new maps,
 * pinned at once; the connections of the old table and its recent queue are carried over
 * (up_ct6_copy, before and after the swap) when the new one is NAT66's, as IPv4's are. Unlike
 * IPv4's, the old pins go first: the old program keeps its maps until it is replaced, and what
 * it adds meanwhile is copied after the swap. @ct->fill6: the table is new, or an `up` stopped
 * before filling its free slots.
 */
static int up_prepare_ct6(struct fwd_tc *skel, const char *topology, const struct fwd_runtime *rt,
			  struct up_ct *ct)
{
	struct bpf_map *maps[] = { skel->maps.fwd_ct6, skel->maps.fwd_ct6_recent,
				   skel->maps.fwd_ct6_slots, skel->maps.fwd_ct6_free };
	char ct_path[PATH_MAX], free_path[PATH_MAX], path[PATH_MAX];
	int err;

	err = pins_path(ct_path, topology, FWD_MAP_CT6);
	if (!err)
		err = pins_path(free_path, topology, FWD_MAP_CT6_FREE);
	if (err)
		return err;
	bool renew = rt->ct_flush || !up_pin_same_shape(skel->maps.fwd_ct6, ct_path);

	ct->fill6 = renew || up_ct_unfilled(ct_path, free_path);
	/* A table of NAT66 (more than its one slot) takes the old one's connections. */
	if (renew && !rt->ct_flush && bpf_map__max_entries(skel->maps.fwd_ct6) > 2) {
		ct->old6_fd = bpf_obj_get(ct_path);
		err = pins_path(path, topology, FWD_MAP_CT6_RECENT);
		if (!err && ct->old6_fd >= 0)
			ct->old6_recent_fd = bpf_obj_get(path);
		if (ct->old6_fd >= 0 && !up_ct6_layout_ok(ct->old6_fd, skel)) {
			close(ct->old6_fd); /* an older fwd's layout: nothing to carry */
			ct->old6_fd = -1;
		}
	}
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		err = pins_path(path, topology, bpf_map__name(maps[i]));
		if (err)
			return err;
		/* A new table: the old maps' pins go, the new program makes its own (the old
		 * program keeps the old maps until it is replaced). */
		if (renew && unlink(path) && errno != ENOENT)
			return fwd_fail(-errno, path, "cannot remove pinned map");
		err = pins_map_prepare(maps[i], path);
		if (err)
			return err;
	}
	return 0;
}

#define UP_CT_START_TRIES 50

/*
 * Before trying the sweep's timer again: Linux 6.18 allocates it with kmalloc_nolock(), which
 * takes no lock and so fails, rather than refill them, when this CPU's lists of free pages are
 * empty (seen after thousands of namespaces were made and destroyed). An ordinary allocation
 * does refill them, and what it frees stays on this CPU's lists: a pipe's buffer pages, written
 * and dropped. Each try also runs on the next CPU.
 */
static void up_ct_start_prepare(int try)
{
	static char chunk[64 * 1024];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int fds[2];
	cpu_set_t one;

	if (cpus > 0) {
		CPU_ZERO(&one);
		CPU_SET(try % cpus, &one);
		sched_setaffinity(0, sizeof(one), &one);
	}
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC))
		return;
	fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
	while (write(fds[1], chunk, sizeof(chunk)) > 0)
		;
	close(fds[0]);
	close(fds[1]);
}

/* What a copy into a new table (of @conns connections) carried over and lost, said; @family:
 * "" or "IPv6 ". @again: the copy after the swap, quiet when it found nothing new. */
static void up_ct_copied(const char *topology, const char *family, size_t copied, size_t lost,
			 bool again, unsigned int conns)
{
	if (!again || copied)
		fwd_info("topology %s: %zu %sconnections carried over into the new table%s\n",
			 topology, copied, family, again ? " (opened during the swap)" : "");
	if (lost)
		fwd_warn("topology %s: %zu %sconnections could not be carried over (the new "
			 "table of %u is full, or their port was taken meanwhile)\n",
			 topology, lost, family, conns);
}

/*
 * The old fwd_ct6's connections into the new one (again after the swap: what the old program
 * added meanwhile), and its recent queue the first time.
 */
static int up_ct6_copy(struct fwd_tc *skel, struct up_ct *ct, const char *topology, bool again)
{
	size_t copied, lost;
	int err;

	if (ct->old6_fd < 0)
		return 0;
	err = ct6_copy(ct->old6_fd, bpf_map__fd(skel->maps.fwd_ct6), &copied, &lost);
	if (err)
		return fwd_fail(err, FWD_MAP_CT6, "cannot copy the IPv6 connections");
	up_ct_copied(topology, "IPv6 ", copied, lost, again,
		     bpf_map__max_entries(skel->maps.fwd_ct6) / 2);
	if (!again && ct->old6_recent_fd >= 0 &&
	    (err = ct6_recent_move(ct->old6_recent_fd, bpf_map__fd(skel->maps.fwd_ct6_recent))))
		return fwd_fail(err, FWD_MAP_CT6_RECENT, "cannot move the recent IPv6 connections");
	return 0;
}

/*
 * Run fwd_ct_start: slots for a new table (@flags FWD_CT_START_FILL), for copied connections
 * (FWD_CT_START_ADOPT), and the sweep started over with the new program.
 */
static int up_ct_start(struct fwd_tc *skel, __u8 flags)
{
	char frame[64] = { 0 }; /* a tc test run wants an Ethernet header's worth */
	int err = 0, last = EIO;
	cpu_set_t was;
	bool moved = false;

	for (int try = 0; try < UP_CT_START_TRIES; try++) {
		frame[0] = (char)flags;
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
			    .data_size_in = sizeof(frame), .repeat = 1);
		err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.fwd_ct_start), &opts);
		if (err) {
			err = fwd_fail(-errno, "fwd_ct_start",
				       "cannot start the connection table's sweep");
			break;
		}
		if (opts.retval == TC_ACT_OK) {
			last = 0;
			break;
		}
		last = (int)opts.retval;
		/* The slots were handed out; the timer is what failed: only the sweep again. */
		flags = 0;
		if (!moved)
			moved = !sched_getaffinity(0, sizeof(was), &was);
		up_ct_start_prepare(try);
		usleep(20 * 1000);
	}
	if (moved)
		sched_setaffinity(0, sizeof(was), &was);
	if (err || !last)
		return err;
	fwd_err("fwd_ct_start: cannot start the connection table's sweep: %s\n", strerror(last));
	return -last;
}

static int up_prepare_maps(struct fwd_tc *skel, const char *topology, const struct fwd_runtime *rt,
			   struct up_ct *ct)
{
	struct bpf_map *pinned[] = {
		skel->maps.fwd_endpoints, skel->maps.fwd_endpoints6, skel->maps.fwd_forwards6,
		skel->maps.fwd_counters, skel->maps.fwd_forwards, skel->maps.fwd_fwd_targets,
		skel->maps.fwd_fwd_addrs,
		/* pinned: a map without a user reference cancels its timers */
		skel->maps.fwd_ct_gc, skel->maps.fwd_ct_ns, skel->maps.fwd_ports,
		skel->maps.fwd_rule_drops,
		/* counted by the programs before and after a swap alike (bpf/conntrack.h) */
		skel->maps.fwd_ct_gen,
		/* filled by other topologies' up and down too */
		skel->maps.fwd_ct_peers, skel->maps.fwd_fwd_peers, skel->maps.fwd_foreign,
		/* written in place by every up: the address now */
		skel->maps.fwd_uplink, skel->maps.fwd_uplink6, skel->maps.fwd_ct6_peers,
		/* a program array without a user reference is emptied */
		skel->maps.fwd_tails,
		/* a running fwdctl monitor's or capture's, across reloads */
		skel->maps.fwd_events, skel->maps.fwd_monitor, skel->maps.fwd_capture,
		skel->maps.fwd_capture_buf,
		/* read by fwdctl stats */
		skel->maps.fwd_ns_stats, skel->maps.fwd_forward_stats, skel->maps.fwd_ns_drops
	};
	char path[PATH_MAX];
	int err;

	for (size_t i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++) {
		err = pins_path(path, topology, bpf_map__name(pinned[i]));
		if (!err)
			err = pins_map_prepare(pinned[i], path);
		if (err)
			return err;
	}
	/* fwd_trace is a test hook: never pinned, and a single slot. */
	err = up_prepare_ct6(skel, topology, rt, ct);
	return err ? err : up_prepare_ct(skel, topology, rt, ct);
}

/* Copy what the old maps hold into the new ones (again after the swap: what the old program
 * added meanwhile). */
static int up_ct_copy(struct fwd_tc *skel, struct up_ct *ct, const char *topology, bool again)
{
	size_t copied, lost;
	int err = 0;

	if (ct->old_fd[UP_CT] >= 0) {
		err = ct_copy(ct->old_fd[UP_CT], bpf_map__fd(skel->maps.fwd_ct), &copied, &lost);
		if (err)
			return fwd_fail(err, FWD_MAP_CT, "cannot copy the connections");
		up_ct_copied(topology, "", copied, lost, again,
			     bpf_map__max_entries(skel->maps.fwd_ct) / 2);
	}
	if (ct->old_fd[UP_CT_RECENT] >= 0) {
		err =
		    ct_recent_move(ct->old_fd[UP_CT_RECENT], bpf_map__fd(skel->maps.fwd_ct_recent));
		if (err)
			return fwd_fail(err, FWD_MAP_CT_RECENT,
					"cannot move the recent connections");
	}
	return 0;
}

/*
 * The new program runs everywhere: its maps take the old ones' pins, the connections the old
 * program made meanwhile follow, and get slots.
 */
static int up_ct_swap(struct fwd_tc *skel, struct up_ct *ct, const char *topology)
{
	struct bpf_map *maps[UP_CT_N];
	int err;

	up_ct_maps(skel, maps);
	for (int i = 0; i < UP_CT_N; i++) {
		if (!ct->replace[i])
			continue;
		err = pins_map_replace(maps[i], ct->path[i]);
		if (err)
			return err;
	}
	err = up_ct6_copy(skel, ct, topology, true);
	if (!err && ct->replace[UP_CT])
		err = up_ct_copy(skel, ct, topology, true);
	if (!err && (ct->old_fd[UP_CT] >= 0 || ct->old6_fd >= 0))
		err = up_ct_start(skel, FWD_CT_START_ADOPT);
	if (err || !ct->replace[UP_CT])
		return err;
	fwd_info("topology %s: connection table of %u connections in place\n", topology,
		 bpf_map__max_entries(skel->maps.fwd_ct) / 2);
	return 0;
}

static void up_ct_close(struct up_ct *ct)
{
	for (int i = 0; i < UP_CT_N; i++)
		if (ct->old_fd[i] >= 0)
			close(ct->old_fd[i]);
	if (ct->old6_fd >= 0)
		close(ct->old6_fd);
	if (ct->old6_recent_fd >= 0)
		close(ct->old6_recent_fd);
}

/* NAT66 in BPF: masquerade6 lines, and an uplink with a global IPv6 address. */
static bool up_snat6(const struct fwd_topology *t, const struct fwd_runtime *rt)
{
	return t->has6 && t->n_masquerades6 && rt->uplink_ifindex > 0 && rt->uplink_has6;
}

/* DNAT66 in BPF: a forward published on an IPv6 address of the uplink. */
static bool up_dnat6(const struct fwd_topology *t, const struct fwd_runtime *rt)
{
	if (rt->uplink_ifindex <= 0)
		return false;
	for (size_t i = 0; i < t->n_forwards; i++)
		if (fwd_forward_has6(t, &t->forwards[i]) &&
		    (t->forwards[i].has_addr6 || rt->uplink_has6))
			return true;
	return false;
}

/* Masquerade and forwards in BPF need an uplink with an IPv4 address. */
static bool up_snat(const struct fwd_topology *t, const struct fwd_runtime *rt)
{
	return t->n_masquerades && rt->uplink_ifindex > 0 && rt->uplink_addr;
}

static bool up_dnat(const struct fwd_topology *t, const struct fwd_runtime *rt)
{
	return t->n_forwards && rt->uplink_ifindex > 0 && rt->uplink_addr;
}

/* The XDP fast path: forwards in BPF, one of them with "xdp" (bpf/fwd_xdp_uplink.bpf.c). */
static bool up_xdp(const struct fwd_topology *t, const struct fwd_runtime *rt)
{
	if (!up_dnat(t, rt))
		return false;
	for (size_t i = 0; i < t->n_forwards; i++)
		if (t->forwards[i].xdp)
			return true;
	return false;
}

/* The settings of both objects (fwd_sock adds the namespace's cookie to its copy). */
static void up_settings(struct fwd_settings *cfg, const struct fwd_topology *t,
			const struct fwd_runtime *rt)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->bridge_ifindex = rt->bridge_ifindex > 0 ? rt->bridge_ifindex : 0;
	memcpy(cfg->bridge_mac, rt->bridge_mac, sizeof(cfg->bridge_mac));
	cfg->uplink_ifindex = rt->uplink_ifindex > 0 ? rt->uplink_ifindex : 0;
	memcpy(cfg->uplink_mac, rt->uplink_mac, sizeof(cfg->uplink_mac));
	cfg->subnet = topo_subnet(t);
	cfg->subnet_mask = topo_netmask(t);
	cfg->nat_port_lo = t->snat_port_lo ? t->snat_port_lo : FWD_NAT_PORT_LO;
	cfg->nat_port_hi = t->snat_port_lo ? t->snat_port_hi : FWD_NAT_PORT_HI;
	/* The same rule as datapath kernel's --to-ports (ctl/ipt.c): only a range of its own. */
	if (cfg->nat_port_lo != FWD_NAT_PORT_LO || cfg->nat_port_hi != FWD_NAT_PORT_HI)
		cfg->flags |= FWD_SET_SNAT_PORTS;
	cfg->ct = t->ct_timeouts;
	cfg->ct_max = t->ct_max ? t->ct_max : FWD_CT_MAX_CONNS; /* a model built by hand: none */
	cfg->ct_per_ns = topo_ct_per_ns(t);
	for (size_t i = 0; i < t->n_masquerades && i < FWD_MAX_MASQ; i++) {
		uint8_t prefix = t->masquerades[i].net.prefix;

		cfg->masq[i].mask = fwd_prefix_netmask(prefix);
		cfg->masq[i].addr = t->masquerades[i].net.addr & cfg->masq[i].mask;
		cfg->n_masq = i + 1;
	}
	if (t->isolate)
		cfg->flags |= FWD_SET_ISOLATE;
	if (t->has6) {
		struct in6_addr net =
		    fwd_in6_prefix_fill(&t->gateway6.addr, t->gateway6.prefix, false);
		struct in6_addr mask = fwd_in6_prefix_mask(t->gateway6.prefix);

		cfg->flags |= FWD_SET_IPV6;
		memcpy(cfg->subnet6, &net, sizeof(cfg->subnet6));
		memcpy(cfg->subnet6_mask, &mask, sizeof(cfg->subnet6_mask));
	}
	/* Beyond FWD_MAX_MASQ6 prefixes the kernel's ip6tables MASQUERADE, which stays behind
	 * the programs, translates the rest. */
	for (size_t i = 0; i < t->n_masquerades6 && i < FWD_MAX_MASQ6; i++) {
		struct in6_addr mask = fwd_in6_prefix_mask(t->masquerades6[i].net.prefix);
		struct in6_addr net = fwd_in6_prefix_fill(&t->masquerades6[i].net.addr,
							  t->masquerades6[i].net.prefix, false);

		memcpy(cfg->masq6[i].addr, &net, sizeof(cfg->masq6[i].addr));
		memcpy(cfg->masq6[i].mask, &mask, sizeof(cfg->masq6[i].mask));
		cfg->n_masq6 = i + 1;
	}
	if (up_snat6(t, rt))
		cfg->flags |= FWD_SET_SNAT6;
	if (up_dnat6(t, rt))
		cfg->flags |= FWD_SET_DNAT6;
	cfg->ct6_max = cfg->flags & FWD_SET_NAT6 ? cfg->ct_max : 1;
	for (size_t i = 0; i < t->n_allows && i < FWD_MAX_ALLOW; i++) {
		const struct fwd_allow *a = &t->allows[i];

		cfg->allow[i] = (struct fwd_allow_rule){ .src = a->src,
							 .dst = a->dst,
							 .proto = a->proto,
							 .src_plen = a->src_prefix,
							 .port_lo = a->port_lo,
							 .port_hi = a->port_hi };
		cfg->n_allow = i + 1;
	}
	for (size_t i = 0; i < t->n_routes && i < FWD_MAX_ROUTE && rt->uplink_ifindex > 0; i++) {
		cfg->routes[i].mask = fwd_prefix_netmask(t->routes[i].net.prefix);
		cfg->routes[i].addr = t->routes[i].net.addr;
		cfg->n_routes = i + 1;
		cfg->flags |= FWD_SET_ROUTES;
	}
	if (up_snat(t, rt))
		cfg->flags |= FWD_SET_SNAT;
	if (up_dnat(t, rt))
		cfg->flags |= FWD_SET_DNAT;
	for (size_t i = 0; i < t->n_forwards && up_dnat(t, rt); i++)
		if (t->forwards[i].addr && t->forwards[i].addr != rt->uplink_addr)
			cfg->flags |= FWD_SET_FWD_ADDRS;
	if (topo_routes4(t) && !rt->uplink_addr)
		fwd_warn("topology %s: uplink %s has no IPv4 address: nothing is masqueraded or "
			 "forwarded\n",
			 t->name, t->uplink[0] ? t->uplink : "(none)");
}

/* The XDP fast path off the uplink, and its pin gone. */
static int up_xdp_remove(const char *topology, int uplink_ifindex, const struct attach_owner *owner)
{
	char path[PATH_MAX];
	int err = attach_xdp_uplink_remove(uplink_ifindex, owner, 0);

	if (!err && !pins_path(path, topology, FWD_PIN_PROG_XDP_UPLINK))
		unlink(path);
	return err;
}

/*
 * The uplink program: attached and pinned while there is something to translate, else taken
 * off (a re-run that dropped the masquerade and forward lines).
 */
static int up_uplink(struct fwd_tc *skel, const struct fwd_settings *cfg,
		     const struct fwd_topology *t, const struct fwd_runtime *rt)
{
	struct attach_owner owner;
	char path[PATH_MAX];
	int err;

	err = pins_path(path, t->name, FWD_PIN_PROG_UPLINK);
	if (err)
		return err;
	/* The maps are pinned by now: the old program uses them too. */
	pins_owner(t->name, &owner);
	if (!up_snat(t, rt) && !up_dnat(t, rt) && !up_snat6(t, rt) && !up_dnat6(t, rt)) {
		if (rt->uplink_ifindex > 0) {
			up_xdp_remove(t->name, rt->uplink_ifindex, &owner);
			attach_tc_uplink_remove(rt->uplink_ifindex, &owner);
		}
		unlink(path);
		return 0;
	}
	err = attach_tc_uplink(rt->uplink_ifindex, bpf_program__fd(skel->progs.fwd_tc_uplink),
			       &owner);
	if (!err)
		err = pins_prog_replace(skel->progs.fwd_tc_uplink, path);
	/* XDP ahead of tc: tc takes what XDP passes, so tc goes in first. */
	if (!err && up_xdp(t, rt))
		err = xdp_uplink_attach(t->name, skel->obj, cfg, rt->uplink_ifindex, &owner);
	else if (!err)
		err = up_xdp_remove(t->name, rt->uplink_ifindex, &owner);
	return err;
}

/*
 * What loader_up_start() set going and loader_up_finish() completes: the programs' load (the
 * verifier's work, a tenth of a second and more) runs in a thread of its own while `up` builds
 * the namespaces, which is mostly waiting on netlink.
 */
struct loader_up_job {
	const struct fwd_topology *t;
	struct fwd_runtime rt; /* as at the start: bridge and uplink, no endpoints yet */
	struct up_ct ct;
	struct fwd_settings cfg;
	struct fwd_tc *skel;
	pthread_t thread;
	bool threaded;
	int err;
	struct fingerprint fp; /* of what this up makes the datapath from */
	bool reuse;	       /* the loaded programs are these already: none loaded */
	bool must_load;	       /* they are, but something else moved: load anyway */
};

/* Everything the programs are loaded from; 0 (never matched) for a topology without its text
 * (one built by hand in a test) or when the connection table is to be emptied. */
static uint64_t up_programs_fingerprint(const struct loader_up_job *job)
{
	const struct fwd_topology *t = job->t;
	uint64_t h = fingerprint_self(FINGERPRINT_SEED);

	if (!h || !t->text || job->rt.ct_flush)
		return 0;
	h = fingerprint_add(h, t->text, t->text_len);
	h = fingerprint_add(h, &job->rt.uplink_addr, sizeof(job->rt.uplink_addr));
	return fingerprint_add(h, &job->cfg, sizeof(job->cfg)); /* links, sizes, rules */
}

static uint64_t up_links_fingerprint(const struct fwd_runtime *rt)
{
	uint64_t h = FINGERPRINT_SEED;

	for (size_t i = 0; i < rt->n_endpoints; i++) {
		const struct fwd_endpoint_rt *e = &rt->endpoints[i];

		h = fingerprint_add(h, &e->host_ifindex, sizeof(e->host_ifindex));
		h = fingerprint_add(h, e->host_mac, sizeof(e->host_mac));
		h = fingerprint_add(h, e->ns_mac, sizeof(e->ns_mac));
	}
	return h;
}

/* The kernel's id of what is pinned as @name for @topology (a map or a program: their info
 * both begin with type and id), 0 when there is nothing. */
static uint32_t up_pin_id(const char *topology, const char *name)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info.type) + sizeof(info.id);
	char path[PATH_MAX];
	int fd;

	if (pins_path(path, topology, name) || (fd = bpf_obj_get(path)) < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.id = 0;
	close(fd);
	return info.id;
}

/* The pinned programs are attached where this up would attach them. */
static bool up_attached(const struct fwd_topology *t, const struct fwd_runtime *rt)
{
	uint32_t id = up_pin_id(t->name, FWD_PIN_PROG_TC);

	if (!id || (rt->bridge_ifindex > 0 && !attach_tc_query(rt->bridge_ifindex, true)))
		return false;
	for (size_t i = 0; i < rt->n_endpoints; i++)
		if (attach_tc_query(rt->endpoints[i].host_ifindex, false) != id)
			return false;
	if (up_snat(t, rt) || up_dnat(t, rt)) {
		struct attach_owner owner;
		uint32_t up = up_pin_id(t->name, FWD_PIN_PROG_UPLINK);

		pins_owner(t->name, &owner);
		if (!up || attach_tc_uplink_find(rt->uplink_ifindex, &owner, NULL) != up)
			return false;
		if (up_xdp(t, rt) && !attach_xdp_uplink_find(rt->uplink_ifindex, &owner))
			return false;
	}
	return true;
}

/*
 * May the programs loaded now stay? Only when they were made from the same as this up's, the
 * same objects are pinned, and the connection table is not one an up stopped before filling
 * its free slots (the load fills it). The veths and attachments are loader_up_finish()'s.
 */
static bool up_keep_loaded(const struct loader_up_job *job)
{
	const struct fwd_topology *t = job->t;
	char ct_path[PATH_MAX], free_path[PATH_MAX];
	struct fingerprint last;

	return job->fp.programs && fingerprint_read(t->name, &last) &&
	       last.programs == job->fp.programs && last.pins == fingerprint_pins(t->name) &&
	       !pins_path(ct_path, t->name, "fwd_ct") &&
	       !pins_path(free_path, t->name, "fwd_ct_free") && !up_ct_unfilled(ct_path, free_path);
}

/* Open, size and load the programs, reusing the pinned maps: nothing is attached yet. */
static int up_load(struct loader_up_job *job)
{
	const struct fwd_topology *t = job->t;
	uint32_t ct_max = t->ct_max ? t->ct_max : FWD_CT_MAX_CONNS; /* a model built by hand */
	struct fwd_tc *skel;
	int err;

	err = loader_ensure_bpffs();
	if (err)
		return err;
	err = pins_dir_create(t->name);
	if (err)
		return err;
	up_settings(&job->cfg, t, &job->rt);
	job->fp.programs = up_programs_fingerprint(job);
	if (!job->must_load && up_keep_loaded(job)) {
		job->reuse = true; /* unless loader_up_finish() finds something else moved */
		return 0;
	}
	/* From here on the datapath changes: no longer what the fingerprint says. */
	fingerprint_forget(t->name);

	skel = job->skel = fwd_tc__open();
	if (!skel) {
		err = -errno;
		fwd_err("fwd_tc: cannot open BPF object: %s\n", strerror(-err));
		return err;
	}
	*(struct fwd_settings *)&skel->rodata->fwd_cfg = job->cfg;
	/* conntrack max: two entries a connection, a slot each; the early-drop queue a quarter
	 * of them. */
	if ((err = bpf_map__set_max_entries(skel->maps.fwd_ct, 2 * ct_max)) ||
	    (err = bpf_map__set_max_entries(skel->maps.fwd_ct_recent, ct_max / 4)) ||
	    (err = bpf_map__set_max_entries(skel->maps.fwd_ct_slots, ct_max)) ||
	    (err = bpf_map__set_max_entries(skel->maps.fwd_ct_free, ct_max)) ||
	    /* fwd_ct6 likewise, or a single slot without NAT66 (6 MB of slots saved) */
	    (err = bpf_map__set_max_entries(skel->maps.fwd_ct6, 2 * job->cfg.ct6_max)) ||
	    (err =
		 bpf_map__set_max_entries(skel->maps.fwd_ct6_recent, job->cfg.ct6_max / 4 ?: 1)) ||
	    (err = bpf_map__set_max_entries(skel->maps.fwd_ct6_slots, job->cfg.ct6_max)) ||
	    (err = bpf_map__set_max_entries(skel->maps.fwd_ct6_free, job->cfg.ct6_max))) {
		fwd_err("fwd_tc: cannot size the connection table: %s\n", strerror(-err));
		return err;
	}
	/* One perf ring per CPU: set here (libbpf would at creation) so that the pinned map's
	 * shape compares equal and is reused. */
	if ((err = libbpf_num_possible_cpus()) < 0 ||
	    (err = bpf_map__set_max_entries(skel->maps.fwd_capture_buf, (__u32)err))) {
		fwd_err("fwd_tc: cannot size the capture buffer: %s\n", strerror(-err));
		return err;
	}
	err = up_prepare_maps(skel, t->name, &job->rt, &job->ct);
	if (err)
		return err;
	err = fwd_tc__load(skel);
	if (err)
		fwd_err("fwd_tc: cannot load BPF object: %s\n", strerror(-err));
	return err;
}

static void *up_load_thread(void *arg)
{
	struct loader_up_job *job = arg;

	job->err = up_load(job);
	return NULL;
}

int loader_up_start(const struct fwd_topology *t, const struct fwd_runtime *rt,
		    struct loader_up_job **out)
{
	struct loader_up_job *job = calloc(1, sizeof(*job));

	*out = NULL;
	if (!job)
		return -ENOMEM;
	job->t = t;
	job->rt = *rt;
	job->rt.endpoints = NULL;
	job->rt.n_endpoints = 0;
	for (int i = 0; i < UP_CT_N; i++)
		job->ct.old_fd[i] = -1;
	job->ct.old6_fd = job->ct.old6_recent_fd = -1;
	/* Without a thread (none to be had), the load is done here. */
	job->threaded = !pthread_create(&job->thread, NULL, up_load_thread, job);
	if (!job->threaded)
		job->err = up_load(job);
	*out = job;
	return 0;
}

static int up_job_wait(struct loader_up_job *job)
{
	if (job->threaded) {
		pthread_join(job->thread, NULL);
		job->threaded = false;
	}
	return job->err;
}

void loader_up_abandon(struct loader_up_job *job)
{
	if (!job)
		return;
	up_job_wait(job);
	up_ct_close(&job->ct);
	fwd_tc__destroy(job->skel);
	free(job);
}

int loader_up_finish(struct loader_up_job *job, const struct fwd_runtime *rt)
{
	const struct fwd_topology *t = job->t;
	struct fingerprint fp;
	struct up_ct ct;
	struct fwd_settings cfg;
	char path[PATH_MAX];
	struct fwd_tc *skel;
	int err, prog_fd;

	err = up_job_wait(job);
	/* The settings were made from the links as they were at the start: the same ones. */
	if (!err && (rt->bridge_ifindex != job->rt.bridge_ifindex ||
		     rt->uplink_ifindex != job->rt.uplink_ifindex ||
		     rt->uplink_addr != job->rt.uplink_addr))
		err = fwd_fail(-EINVAL, t->name, "links changed between the load and the attach");
	if (!err && job->reuse) {
		struct fingerprint last;

		job->fp.links = up_links_fingerprint(rt);
		if (fingerprint_read(t->name, &last) && last.links == job->fp.links &&
		    up_attached(t, rt)) {
			fwd_info("topology %s: datapath unchanged, programs kept\n", t->name);
			free(job);
			return 0;
		}
		/* Same programs, but a veth or an attachment moved: the whole way, now. */
		job->reuse = false;
		job->must_load = true;
		err = up_load(job);
	}
	if (err) {
		loader_up_abandon(job);
		return err;
	}
	skel = job->skel;
	ct = job->ct;
	cfg = job->cfg;
	fp = job->fp;
	fp.links = up_links_fingerprint(rt);
	free(job);

	/* The address first: the old programs use it too, from now on. */
	err = bpf_map_update_elem(bpf_map__fd(skel->maps.fwd_uplink), &(__u32){ 0 },
				  &(struct fwd_uplink){ .addr = rt->uplink_addr }, BPF_ANY);
	if (err)
		err = fwd_fail(-errno, FWD_MAP_UPLINK, "cannot write the uplink's address");
	if (!err) {
		struct fwd_uplink6 up6 = { 0 };

		if (up_snat6(t, rt))
			memcpy(up6.addr, &rt->uplink_addr6, sizeof(up6.addr));
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.fwd_uplink6), &(__u32){ 0 }, &up6,
					BPF_ANY))
			err = fwd_fail(-errno, FWD_MAP_UPLINK6,
				       "cannot write the uplink's IPv6 address");
	}
	if (!err)
		err = maps_sync_endpoints(bpf_map__fd(skel->maps.fwd_endpoints), t, rt);
	if (!err)
		err = maps_sync_endpoints6(bpf_map__fd(skel->maps.fwd_endpoints6), t, rt);
	if (!err)
		err = maps_sync_forwards6(bpf_map__fd(skel->maps.fwd_forwards6), t, rt);
	if (!err)
		err = maps_sync_forwards(bpf_map__fd(skel->maps.fwd_forwards),
					 bpf_map__fd(skel->maps.fwd_fwd_targets),
					 bpf_map__fd(skel->maps.fwd_fwd_addrs), t, rt->uplink_addr);
	if (!err)
		err = maps_sync_xdp_targets(bpf_map__fd(skel->maps.fwd_xdp_targets), t, rt);
	if (!err)
		err = maps_sync_ports(bpf_map__fd(skel->maps.fwd_ports), t, rt);
	if (!err)
		err = maps_sync_rules(bpf_map__fd(skel->maps.fwd_rules),
				      bpf_map__fd(skel->maps.fwd_rule_drops), t);
	if (!err)
		err = maps_reset_traffic(bpf_map__fd(skel->maps.fwd_ns_stats),
					 bpf_map__fd(skel->maps.fwd_forward_stats),
					 bpf_map__fd(skel->maps.fwd_ns_drops), t);
	if (!err)
		err = maps_sync_ct_ns(bpf_map__fd(skel->maps.fwd_ct_ns), t);
	/* A new table: filled from the old one as late as can be, right before the swap. */
	if (!err && ct.replace[UP_CT])
		err = up_ct_copy(skel, &ct, t->name, false);
	if (!err)
		err = up_ct6_copy(skel, &ct, t->name, false);
	/* Before any packet: a new table's slots, the copies' slots, the sweep. */
	if (!err)
		err = up_ct_start(
		    skel, (ct.new_table ? FWD_CT_START_FILL : 0) |
			      (ct.fill6 ? FWD_CT_START_FILL6 : 0) |
			      (ct.old_fd[UP_CT] >= 0 || ct.old6_fd >= 0 ? FWD_CT_START_ADOPT : 0));
	if (err)
		goto end_destroy;
	/* Replies find their namespace through fwd_endpoints: the uplink goes after it. */
	err = up_uplink(skel, &cfg, t, rt);
	if (err)
		goto end_destroy;

	/* Nothing routed in from outside the topology (another one's namespaces, the LAN). */
	if (rt->bridge_ifindex > 0) {
		err = attach_tc(rt->bridge_ifindex, true,
				bpf_program__fd(skel->progs.fwd_tc_bridge_out));
		if (err)
			goto end_destroy;
	}
	prog_fd = bpf_program__fd(skel->progs.fwd_tc_ingress);
	for (size_t i = 0; i < rt->n_endpoints; i++) {
		err = attach_tc(rt->endpoints[i].host_ifindex, false, prog_fd);
		if (err)
			goto end_destroy; /* attached ones keep working; down removes them */
	}

	err = pins_path(path, t->name, FWD_PIN_PROG_TC);
	if (!err)
		err = pins_prog_replace(skel->progs.fwd_tc_ingress, path);
	if (!err)
		err = pins_path(path, t->name, FWD_PIN_PROG_CT_DELETE);
	if (!err)
		err = pins_prog_replace(skel->progs.fwd_ct_delete, path);
	if (!err)
		err = pins_path(path, t->name, FWD_PIN_PROG_CT6_DELETE);
	if (!err)
		err = pins_prog_replace(skel->progs.fwd_ct6_delete, path);
	if (!err)
		fwd_info("topology %s: tc program on %zu veths, pinned under %s/%s\n", t->name,
			 rt->n_endpoints, FWD_PIN_ROOT, t->name);
	if (!err)
		err = up_ct_swap(skel, &ct, t->name);
	/* Once the new program runs everywhere: what it no longer translates that way goes. */
	if (!err) {
		struct ct_fds fds = { bpf_map__fd(skel->maps.fwd_ct),
				      bpf_program__fd(skel->progs.fwd_ct_delete) };

		err = ct_prune(&fds, t, rt, up_snat(t, rt), up_dnat(t, rt));
	}
	if (!err) {
		struct ct_fds fds6 = { bpf_map__fd(skel->maps.fwd_ct6),
				       bpf_program__fd(skel->progs.fwd_ct6_delete) };

		err = ct6_prune(&fds6, t, rt, up_snat6(t, rt), up_dnat6(t, rt));
	}
	/* The host's own connections: only where forwards are DNATed in BPF at all. */
	if (!err)
		err = sock_up(t->name, &cfg, up_dnat(t, rt),
			      &(struct sock_shared){ bpf_map__fd(skel->maps.fwd_forwards),
						     bpf_map__fd(skel->maps.fwd_counters),
						     bpf_map__fd(skel->maps.fwd_uplink) });

	/* All of it done: a re-up with nothing changed may keep it. */
	if (!err && fp.programs && (fp.pins = fingerprint_pins(t->name)))
		err = fingerprint_write(t->name, &fp);

end_destroy:
	/* Attachments and pins hold their own references: closing our fds detaches nothing. */
	up_ct_close(&ct);
	fwd_tc__destroy(skel);
	return err;
}

/*
 * Veths normally take their programs with them, but down may run before (or without) their
 * removal: detach from every host-side veth the pinned endpoint map still names.
 */
static int down_endpoints(const char *topology)
{
	struct fwd_endpoint_key key, *prev = NULL;
	struct fwd_endpoint ep;
	char path[PATH_MAX];
	int fd, err, ret = 0;

	if (pins_path(path, topology, FWD_MAP_ENDPOINTS))
		return 0;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0; /* nothing pinned, nothing known */
	while (!bpf_map_get_next_key(fd, prev, &key)) {
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &ep))
			continue;
		err = attach_remove_all(ep.ifindex);
		if (err && !ret)
			ret = err;
	}
	close(fd);
	return ret;
}

int loader_down(const char *topology, int uplink_ifindex, int bridge_ifindex)
{
	struct attach_owner owner;
	int err, ret = 0;

	/* The cgroup links first: they act on the whole machine, not on a link of ours. */
	ret = sock_down(topology);
	err = down_endpoints(topology);
	if (err && !ret)
		ret = err;
	/* The uplink is shared: only this topology's filter goes, found by its maps. */
	pins_owner(topology, &owner);
	err = attach_xdp_uplink_remove(uplink_ifindex, &owner, 0);
	if (err && !ret)
		ret = err;
	err = attach_tc_uplink_remove(uplink_ifindex, &owner);
	if (err && !ret)
		ret = err;
	err = attach_remove_all(bridge_ifindex);
	if (err && !ret)
		ret = err;
	err = pins_dir_remove(topology);
	if (err && !ret)
		ret = err;
	return ret;
}

int loader_down_orphan(const char *topology)
{
	int err, ret;

	/* The cgroup links act on the whole machine; the rest was in the namespace that went. */
	ret = sock_down(topology);
	err = pins_dir_remove(topology);
	return ret ? ret : err;
}

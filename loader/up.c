// SPDX-License-Identifier: GPL-2.0
/*
 * loader_up / loader_down: the order of a reload. A re-run loads a fresh program (new
 * settings), reuses the pinned maps (counters and, later, conntrack survive), converges the
 * maps in place, swaps the program inside the existing tc filters, then re-pins the program.
 * fwd_sock (the host's own connections to forwards) follows, sharing fwd_tc's maps; its
 * cgroup links get the new program in place (loader/sock.c).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <bpf/bpf.h>

#include <bpf/libbpf.h>

#include "fwd_kernel_without.h"
#include "internal.h"
#include "fwd_kern_user.h"
#include "fwd_tc.skel.h"

static int up_prepare_maps(struct fwd_tc *skel, const char *topology)
{
	struct bpf_map *pinned[] = { skel->maps.fwd_endpoints, skel->maps.fwd_counters,
				     skel->maps.fwd_ct, skel->maps.fwd_ct_recent,
				     skel->maps.fwd_forwards, skel->maps.fwd_fwd_targets,
				     /* pinned: a map without a user reference cancels its timers */
				     skel->maps.fwd_ct_gc };
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
	return 0;
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

/* The settings of both objects (fwd_sock adds the namespace's cookie to its copy). */
static void up_settings(struct fwd_settings *cfg, const struct fwd_topology *t,
			const struct fwd_runtime *rt)
{
	const struct fwd_ct_timeouts timeouts = FWD_CT_TIMEOUTS_DEFAULT;

	memset(cfg, 0, sizeof(*cfg));
	cfg->bridge_ifindex = rt->bridge_ifindex > 0 ? rt->bridge_ifindex : 0;
	memcpy(cfg->bridge_mac, rt->bridge_mac, sizeof(cfg->bridge_mac));
	cfg->uplink_ifindex = rt->uplink_ifindex > 0 ? rt->uplink_ifindex : 0;
	cfg->uplink_addr = rt->uplink_addr;
	memcpy(cfg->uplink_mac, rt->uplink_mac, sizeof(cfg->uplink_mac));
	cfg->subnet = topo_subnet(t);
	cfg->subnet_mask = topo_netmask(t);
	cfg->nat_port_lo = FWD_NAT_PORT_LO;
	cfg->nat_port_hi = FWD_NAT_PORT_HI;
	cfg->ct = timeouts;
	for (size_t i = 0; i < t->n_masquerades && i < FWD_MAX_MASQ; i++) {
		uint8_t prefix = t->masquerades[i].net.prefix;

		cfg->masq[i].mask = fwd_prefix_netmask(prefix);
		cfg->masq[i].addr = t->masquerades[i].net.addr & cfg->masq[i].mask;
		cfg->n_masq = i + 1;
	}
	if (up_snat(t, rt))
		cfg->flags |= FWD_SET_SNAT;
	if (up_dnat(t, rt))
		cfg->flags |= FWD_SET_DNAT;
	if (fwd_kernel_without("bpf_timer_abs"))
		cfg->flags |= FWD_SET_TIMER_RELATIVE;
	if ((t->n_masquerades || t->n_forwards) && !rt->uplink_addr)
		fwd_warn("topology %s: uplink %s has no IPv4 address: nothing is masqueraded or "
			 "forwarded\n",
			 t->name, t->uplink[0] ? t->uplink : "(none)");
}

/*
 * The uplink program: attached and pinned while there is something to translate, else taken
 * off (a re-run that dropped the masquerade and forward lines).
 */
static int up_uplink(struct fwd_tc *skel, const struct fwd_topology *t,
		     const struct fwd_runtime *rt)
{
	char path[PATH_MAX];
	int err;

	err = pins_path(path, t->name, FWD_PIN_PROG_UPLINK);
	if (err)
		return err;
	if (!up_snat(t, rt) && !up_dnat(t, rt)) {
		if (rt->uplink_ifindex > 0 && attach_tc_query(rt->uplink_ifindex, false))
			attach_remove_all(rt->uplink_ifindex);
		unlink(path);
		return 0;
	}
	err = attach_tc_ingress(rt->uplink_ifindex, bpf_program__fd(skel->progs.fwd_tc_uplink));
	if (!err)
		err = pins_prog_replace(skel->progs.fwd_tc_uplink, path);
	return err;
}

int loader_up(const struct fwd_topology *t, const struct fwd_runtime *rt)
{
	struct fwd_settings cfg;
	char path[PATH_MAX];
	struct fwd_tc *skel;
	int err, prog_fd;

	err = loader_ensure_bpffs();
	if (err)
		return err;
	err = pins_dir_create(t->name);
	if (err)
		return err;

	skel = fwd_tc__open();
	if (!skel) {
		err = -errno;
		fwd_err("fwd_tc: cannot open BPF object: %s\n", strerror(-err));
		return err;
	}
	up_settings(&cfg, t, rt);
	*(struct fwd_settings *)&skel->rodata->fwd_cfg = cfg;
	err = up_prepare_maps(skel, t->name);
	if (err)
		goto end_destroy;
	err = fwd_tc__load(skel);
	if (err) {
		fwd_err("fwd_tc: cannot load BPF object: %s\n", strerror(-err));
		goto end_destroy;
	}

	err = maps_sync_endpoints(bpf_map__fd(skel->maps.fwd_endpoints), t, rt);
	if (!err)
		err = maps_sync_forwards(bpf_map__fd(skel->maps.fwd_forwards),
					 bpf_map__fd(skel->maps.fwd_fwd_targets), t);
	if (err)
		goto end_destroy;
	ct_sweep_unarmed(bpf_map__fd(skel->maps.fwd_ct));
	/* Replies find their namespace through fwd_endpoints: the uplink goes after it. */
	err = up_uplink(skel, t, rt);
	if (err)
		goto end_destroy;

	prog_fd = bpf_program__fd(skel->progs.fwd_tc_ingress);
	for (size_t i = 0; i < rt->n_endpoints; i++) {
		err = attach_tc_ingress(rt->endpoints[i].host_ifindex, prog_fd);
		if (err)
			goto end_destroy; /* attached ones keep working; down removes them */
	}

	err = pins_path(path, t->name, FWD_PIN_PROG_TC);
	if (!err)
		err = pins_prog_replace(skel->progs.fwd_tc_ingress, path);
	if (!err)
		fwd_info("topology %s: tc program on %zu veths, pinned under %s/%s\n", t->name,
			 rt->n_endpoints, FWD_PIN_ROOT, t->name);
	/* The host's own connections: only where forwards are DNATed in BPF at all. */
	if (!err)
		err = sock_up(t->name, &cfg, up_dnat(t, rt), bpf_map__fd(skel->maps.fwd_forwards),
			      bpf_map__fd(skel->maps.fwd_counters));

end_destroy:
	/* Attachments and pins hold their own references: closing our fds detaches nothing. */
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
	int err, ret = 0;

	/* The cgroup links first: they act on the whole machine, not on a link of ours. */
	ret = sock_down(topology);
	err = down_endpoints(topology);
	if (err && !ret)
		ret = err;
	err = attach_remove_all(uplink_ifindex);
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

// SPDX-License-Identifier: GPL-2.0
/*
 * loader_up / loader_down: the order of a reload. A re-run loads a fresh program (new
 * settings), reuses the pinned maps (counters and, later, conntrack survive), converges the
 * maps in place, swaps the program inside the existing tc filters, then re-pins the program.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include <bpf/libbpf.h>

#include "internal.h"
#include "fwd_kern_user.h"
#include "fwd_tc.skel.h"

static int up_prepare_maps(struct fwd_tc *skel, const char *topology)
{
	struct bpf_map *pinned[] = {skel->maps.fwd_endpoints, skel->maps.fwd_counters};
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

static void up_settings(struct fwd_tc *skel, const struct fwd_runtime *rt)
{
	struct fwd_settings *cfg = (struct fwd_settings *)&skel->rodata->fwd_cfg;

	memset(cfg, 0, sizeof(*cfg));
	cfg->bridge_ifindex = rt->bridge_ifindex > 0 ? rt->bridge_ifindex : 0;
	memcpy(cfg->bridge_mac, rt->bridge_mac, sizeof(cfg->bridge_mac));
}

int loader_up(const struct fwd_topology *t, const struct fwd_runtime *rt)
{
	char path[PATH_MAX];
	struct fwd_tc *skel;
	int err, prog_fd;

	loader_log_init();
	err = loader_ensure_bpffs();
	if (err)
		return err;
	err = pins_dir_create(t->name);
	if (err)
		return err;

	skel = fwd_tc__open();
	if (!skel) {
		err = -errno;
		pr_warn("fwd_tc: cannot open BPF object: %s\n", strerror(-err));
		return err;
	}
	up_settings(skel, rt);
	err = up_prepare_maps(skel, t->name);
	if (err)
		goto end_destroy;
	err = fwd_tc__load(skel);
	if (err) {
		pr_warn("fwd_tc: cannot load BPF object: %s\n", strerror(-err));
		goto end_destroy;
	}

	err = maps_sync_endpoints(bpf_map__fd(skel->maps.fwd_endpoints), t, rt);
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
		pr_info("topology %s: tc program on %zu veths, pinned under %s/%s\n", t->name,
			rt->n_endpoints, FWD_PIN_ROOT, t->name);

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

	loader_log_init();
	ret = down_endpoints(topology);
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

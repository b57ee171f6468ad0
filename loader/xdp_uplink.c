// SPDX-License-Identifier: GPL-2.0
/*
 * The XDP fast path on the uplink (bpf/fwd_xdp_uplink.bpf.c): opened over the maps of the
 * topology's fwd_tc object, which `up` has just loaded (every map of the XDP object but its flow
 * cache is one of fwd_tc's, taken by name: one connection table, one set of counters), then
 * attached through
 * libxdp's dispatcher, so that it shares the uplink with other topologies' and other tools' XDP
 * programs. The new program is attached before the old one goes: a frame meets one of them or,
 * for the instant of the swap, none, and then tc, which translates it just the same. Where
 * libxdp cannot use its dispatcher (see attach.c), the program is attached alone: one XDP
 * program per uplink, so one topology there can have xdp forwards.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "internal.h"
#include "fwd_xdp_uplink.skel.h"

/* Every map of @skel made one of @tc's, by name, but its own flow cache. */
static int xdp_uplink_share_maps(struct fwd_xdp_uplink *skel, const struct bpf_object *tc)
{
	struct bpf_map *map, *theirs;
	int err;

	bpf_object__for_each_map(map, skel->obj)
	{
		if (bpf_map__is_internal(map))
			continue; /* .rodata: the settings, written below */
		if (!strcmp(bpf_map__name(map), FWD_MAP_XDP_FLOWS))
			continue; /* made with the program, empty */
		theirs = bpf_object__find_map_by_name(tc, bpf_map__name(map));
		if (!theirs || bpf_map__fd(theirs) < 0) {
			fwd_err("fwd_xdp_uplink: map %s is not one of fwd_tc's\n",
				bpf_map__name(map));
			return -ENOENT;
		}
		err = bpf_map__reuse_fd(map, bpf_map__fd(theirs));
		if (err) {
			fwd_err("fwd_xdp_uplink: cannot share map %s: %s\n", bpf_map__name(map),
				strerror(-err));
			return err;
		}
	}
	return 0;
}

int xdp_uplink_attach(const char *topology, const struct bpf_object *tc,
		      const struct fwd_settings *cfg, int ifindex, const struct attach_owner *owner)
{
	char path[PATH_MAX];
	struct xdp_program *prog = NULL;
	struct fwd_xdp_uplink *skel;
	char msg[128];
	uint32_t id = 0;
	int err;

	skel = fwd_xdp_uplink__open();
	if (!skel) {
		err = -errno;
		fwd_err("fwd_xdp_uplink: cannot open BPF object: %s\n", strerror(-err));
		return err;
	}
	*(struct fwd_settings *)&skel->rodata->fwd_cfg = *cfg;
	err = xdp_uplink_share_maps(skel, tc);
	if (!err) {
		/* libxdp loads the object itself, as an extension of its dispatcher */
		prog = xdp_program__from_bpf_obj(skel->obj, "xdp");
		err = libxdp_get_error(prog);
		if (err)
			prog = NULL;
	}
	if (!err) {
		/* libbpf's and libxdp's warnings of the dispatcher's fallback are not a user's
		 * concern (-vv shows them); a failure is reported below. */
		loader_log_probe(true);
		err = xdp_program__attach(prog, ifindex, XDP_MODE_UNSPEC, 0);
		/* A program attached alone (no dispatcher, see attach.c) is replaced only once
		 * it is gone: when it is this topology's, its frames go to tc meanwhile. */
		if ((err == -EEXIST || err == -EBUSY) && attach_xdp_uplink_find(ifindex, owner) &&
		    !attach_xdp_uplink_remove(ifindex, owner, 0))
			err = xdp_program__attach(prog, ifindex, XDP_MODE_UNSPEC, 0);
		loader_log_probe(false);
		if (err == -EEXIST || err == -EBUSY)
			fwd_err("uplink: cannot attach the XDP fast path: another XDP program is "
				"there (another topology's xdp forwards?), and libxdp, without its "
				"dispatcher on this kernel, attaches one program per link\n");
		else if (err) {
			libxdp_strerror(err, msg, sizeof(msg));
			fwd_err("uplink: cannot attach the XDP fast path: %s\n", msg);
		}
	}
	if (!err)
		id = xdp_program__id(prog);
	/* Pinned, so that status tells the current program from an old one */
	if (!err && !(err = pins_path(path, topology, FWD_PIN_PROG_XDP_UPLINK)))
		err = pins_prog_replace(skel->progs.fwd_xdp_uplink, path);
	xdp_program__close(prog);
	fwd_xdp_uplink__destroy(skel); /* the dispatcher holds the attached program */
	if (!err) {
		fwd_debug("uplink: XDP fast path program id %u\n", id);
		err = attach_xdp_uplink_remove(ifindex, owner, id);
	}
	return err;
}

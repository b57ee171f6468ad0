// SPDX-License-Identifier: GPL-2.0
/*
 * Attaching and detaching. tc: a clsact qdisc and one cls_bpf filter at fwd's priority, so
 * that a re-run replaces the program inside the existing filter (BPF_TC_F_REPLACE): frames see
 * the old program or the new one, never none. On fwd's own links (veths, bridge) the filter has
 * fwd's fixed handle. The uplink is shared, with other topologies and with the user's own
 * filters: each topology takes a free handle of fwd's range there, and finds its filter again
 * by its program, which uses the topology's pinned maps. A filter fwd did not create is never
 * replaced nor removed. XDP goes through libxdp's dispatcher only, so fwd coexists with other
 * XDP programs on a link.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "internal.h"
#include "fwd_kern_user.h"

static const char *attach_ifname(int ifindex, char *buf)
{
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "if%d", ifindex);
	return buf;
}

/* The name of program @id, "" when it cannot be read. */
static void attach_prog_name(uint32_t id, char *name, size_t len)
{
	struct bpf_prog_info info = {};
	__u32 info_len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	name[0] = '\0';
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &info_len))
		snprintf(name, len, "%s", info.name);
	close(fd);
}

/* Does program @id use one of @owner's maps (a topology's pins)? Then it is that topology's. */
static bool attach_prog_owned(uint32_t id, const struct attach_owner *owner)
{
	uint32_t map_ids[64];
	struct bpf_prog_info info = { .nr_map_ids = 64, .map_ids = (uintptr_t)map_ids };
	__u32 info_len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);
	bool owned = false;

	if (fd < 0)
		return false;
	if (!bpf_obj_get_info_by_fd(fd, &info, &info_len))
		for (uint32_t i = 0; i < info.nr_map_ids && i < 64 && !owned; i++)
			for (size_t k = 0; k < owner->n && !owned; k++)
				owned = map_ids[i] == owner->map_ids[k];
	close(fd);
	return owned;
}

/* The id of the program in the filter at @handle (fwd's priority), 0 when there is none. */
static uint32_t attach_tc_query_handle(int ifindex, bool egress, uint32_t handle)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = FWD_TC_PRIORITY);
	int err;

	/* No clsact, no filter: both are "nothing attached" here. */
	loader_log_probe(true);
	err = bpf_tc_query(&hook, &opts);
	loader_log_probe(false);
	return err ? 0 : opts.prog_id;
}

uint32_t attach_tc_query(int ifindex, bool egress)
{
	return attach_tc_query_handle(ifindex, egress, FWD_TC_HANDLE);
}

static int attach_clsact(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	char name[IF_NAMESIZE];
	int err;

	loader_log_probe(true); /* clsact; -EEXIST when it is there already */
	err = bpf_tc_hook_create(&hook);
	loader_log_probe(false);
	if (err && err != -EEXIST) {
		fwd_err("%s: cannot create clsact qdisc: %s\n", attach_ifname(ifindex, name),
			strerror(-err));
		return err;
	}
	return 0;
}

/* Attach @prog_fd at @handle; with @replace, in place of the program there. */
static int attach_tc_at(int ifindex, bool egress, uint32_t handle, int prog_fd, bool replace)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = FWD_TC_PRIORITY,
			    .prog_fd = prog_fd, .flags = replace ? BPF_TC_F_REPLACE : 0);
	char name[IF_NAMESIZE];
	int err = bpf_tc_attach(&hook, &opts);

	if (err == -EEXIST && !replace)
		return err; /* taken meanwhile: the caller tries the next handle */
	if (err) {
		fwd_err("%s: cannot attach tc %s program: %s\n", attach_ifname(ifindex, name),
			egress ? "egress" : "ingress", strerror(-err));
		return err;
	}
	fwd_debug("%s: tc %s program id %u, handle %#x\n", attach_ifname(ifindex, name),
		  egress ? "egress" : "ingress", opts.prog_id, handle);
	return 0;
}

int attach_tc(int ifindex, bool egress, int prog_fd)
{
	char name[IF_NAMESIZE], prog[BPF_OBJ_NAME_LEN];
	uint32_t id;
	int err;

	/* fwd's own links (its veths, its bridge): a filter at fwd's handle is fwd's, unless its
	 * program says otherwise; that one is never replaced. Where there is one, there is the
	 * clsact qdisc too: a re-up asks for none (libbpf opens a socket per request, and the
	 * bridge has a thousand ports). */
	id = attach_tc_query_handle(ifindex, egress, FWD_TC_HANDLE);
	if (!id && (err = attach_clsact(ifindex)))
		return err;
	if (id) {
		attach_prog_name(id, prog, sizeof(prog));
		if (strncmp(prog, "fwd_", 4)) {
			fwd_err("%s: the tc filter at fwd's handle %#x, priority %#x runs '%s', "
				"which is not fwd's: refusing to replace it\n",
				attach_ifname(ifindex, name), FWD_TC_HANDLE, FWD_TC_PRIORITY, prog);
			return -EBUSY;
		}
	}
	return attach_tc_at(ifindex, egress, FWD_TC_HANDLE, prog_fd, id != 0);
}

uint32_t attach_tc_uplink_find(int ifindex, const struct attach_owner *owner, uint32_t *handle)
{
	for (uint32_t h = FWD_TC_HANDLE; h < FWD_TC_HANDLE + FWD_TC_UPLINK_HANDLES; h++) {
		uint32_t id = attach_tc_query_handle(ifindex, false, h);

		if (id && attach_prog_owned(id, owner)) {
			if (handle)
				*handle = h;
			return id;
		}
	}
	return 0;
}

int attach_tc_uplink(int ifindex, int prog_fd, const struct attach_owner *owner)
{
	char name[IF_NAMESIZE];
	uint32_t handle;
	int err;

	err = attach_clsact(ifindex);
	if (err)
		return err;
	if (attach_tc_uplink_find(ifindex, owner, &handle))
		return attach_tc_at(ifindex, false, handle, prog_fd, true);
	/* A free handle: never one with a filter, fwd's or not. Two topologies picking the same
	 * one at once: the loser gets -EEXIST and takes the next. */
	for (handle = FWD_TC_HANDLE; handle < FWD_TC_HANDLE + FWD_TC_UPLINK_HANDLES; handle++) {
		if (attach_tc_query_handle(ifindex, false, handle))
			continue;
		err = attach_tc_at(ifindex, false, handle, prog_fd, false);
		if (err != -EEXIST)
			return err;
	}
	fwd_err("%s: all %d of fwd's tc handles are taken (a topology each)\n",
		attach_ifname(ifindex, name), FWD_TC_UPLINK_HANDLES);
	return -ENOSPC;
}

static int attach_tc_detach(int ifindex, bool egress, uint32_t handle)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = FWD_TC_PRIORITY);
	char name[IF_NAMESIZE];
	int err;

	err = bpf_tc_detach(&hook, &opts);
	if (err && err != -ENOENT) {
		fwd_err("%s: cannot detach tc %s program: %s\n", attach_ifname(ifindex, name),
			egress ? "egress" : "ingress", strerror(-err));
		return err;
	}
	return 0;
}

int attach_tc_uplink_remove(int ifindex, const struct attach_owner *owner)
{
	uint32_t handle;
	int err = 0;

	if (ifindex <= 0)
		return 0;
	/* Every filter of the topology's, should a killed up have left two. */
	while (!err && attach_tc_uplink_find(ifindex, owner, &handle))
		err = attach_tc_detach(ifindex, false, handle);
	return err;
}

/* fwd's filter on one of fwd's own links, when its program is fwd's. */
static int attach_tc_remove(int ifindex, bool egress)
{
	char prog[BPF_OBJ_NAME_LEN];
	uint32_t id = attach_tc_query(ifindex, egress);

	if (!id)
		return 0;
	attach_prog_name(id, prog, sizeof(prog));
	if (strncmp(prog, "fwd_", 4))
		return 0; /* not fwd's: left alone */
	return attach_tc_detach(ifindex, egress, FWD_TC_HANDLE);
}

static bool attach_xdp_is_fwd(const struct xdp_program *prog)
{
	return prog && !strncmp(xdp_program__name(prog), "fwd_", 4);
}

/*
 * Detach XDP programs named fwd_*, leaving others (and libxdp's dispatcher for them) alone.
 * One at a time: a detach rebuilds the dispatcher, so the multiprog is read again after each.
 */
static int attach_xdp_remove(int ifindex)
{
	char name[IF_NAMESIZE];
	int err = 0;

	for (int round = 0; round < 16 && !err; round++) {
		struct xdp_program *prog = NULL;
		struct xdp_multiprog *mp;

		mp = xdp_multiprog__get_from_ifindex(ifindex);
		if (!mp || libxdp_get_error(mp))
			return 0; /* nothing attached */
		if (xdp_multiprog__is_legacy(mp)) {
			if (attach_xdp_is_fwd(xdp_multiprog__main_prog(mp)))
				err = xdp_multiprog__detach(mp);
			else
				round = 16;
		} else {
			for (prog = xdp_multiprog__next_prog(NULL, mp); prog;
			     prog = xdp_multiprog__next_prog(prog, mp))
				if (attach_xdp_is_fwd(prog))
					break;
			if (prog)
				err = xdp_program__detach(prog, ifindex,
							  xdp_multiprog__attach_mode(mp), 0);
			else
				round = 16;
		}
		xdp_multiprog__close(mp);
	}
	if (err)
		fwd_err("%s: cannot detach XDP program: %s\n", attach_ifname(ifindex, name),
			strerror(-err));
	return err;
}

/*
 * @owner's XDP program on @ifindex behind libxdp's dispatcher but the one of id @skip, or NULL
 * (*@mp to close then too; NULL when nothing is attached).
 */
static struct xdp_program *attach_xdp_owned(int ifindex, const struct attach_owner *owner,
					    uint32_t skip, struct xdp_multiprog **mp)
{
	struct xdp_program *prog = NULL;

	*mp = NULL;
	/* libxdp's query reads every link of the namespace: only where there is a program */
	if (xdp_attached(ifindex) <= 0)
		return NULL;
	*mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (!*mp || libxdp_get_error(*mp)) {
		*mp = NULL;
		return NULL;
	}
	/* Without the dispatcher (libxdp falls back to attaching one program alone where the
	 * kernel refuses its compatibility check: 6.18 here), the one program is looked at. */
	prog = xdp_multiprog__is_legacy(*mp) ? xdp_multiprog__main_prog(*mp)
					     : xdp_multiprog__next_prog(NULL, *mp);
	for (; prog;
	     prog = xdp_multiprog__is_legacy(*mp) ? NULL : xdp_multiprog__next_prog(prog, *mp))
		if (attach_xdp_is_fwd(prog) && xdp_program__id(prog) != skip &&
		    attach_prog_owned(xdp_program__id(prog), owner))
			break;
	return prog;
}

uint32_t attach_xdp_uplink_find(int ifindex, const struct attach_owner *owner)
{
	struct xdp_multiprog *mp;
	struct xdp_program *prog;
	uint32_t id;

	if (ifindex <= 0)
		return 0;
	prog = attach_xdp_owned(ifindex, owner, 0, &mp);
	id = prog ? xdp_program__id(prog) : 0;
	xdp_multiprog__close(mp);
	return id;
}

int attach_xdp_uplink_remove(int ifindex, const struct attach_owner *owner, uint32_t keep_id)
{
	char name[IF_NAMESIZE];
	int err = 0;

	if (ifindex <= 0)
		return 0;
	/* One at a time: a detach rebuilds the dispatcher, so the multiprog is read again. */
	for (int round = 0; round < 16 && !err; round++) {
		struct xdp_multiprog *mp;
		struct xdp_program *prog = attach_xdp_owned(ifindex, owner, keep_id, &mp);

		if (prog && xdp_multiprog__is_legacy(mp))
			err = xdp_multiprog__detach(mp);
		else if (prog)
			err = xdp_program__detach(prog, ifindex, xdp_multiprog__attach_mode(mp), 0);
		xdp_multiprog__close(mp);
		if (!prog)
			break;
	}
	if (err)
		fwd_err("%s: cannot detach the XDP fast path: %s\n", attach_ifname(ifindex, name),
			strerror(-err));
	return err;
}

int attach_remove_all(int ifindex)
{
	int err, ret = 0;

	if (ifindex <= 0)
		return 0;
	err = attach_tc_remove(ifindex, false);
	if (err)
		ret = err;
	err = attach_tc_remove(ifindex, true);
	if (err && !ret)
		ret = err;
	/* libxdp's query reads every link of the namespace: only where there is a program (or
	 * where that cannot be told; a link that is gone has none) */
	err = xdp_attached(ifindex);
	err = err > 0 || (err < 0 && err != -ENODEV) ? attach_xdp_remove(ifindex) : 0;
	if (err && !ret)
		ret = err;
	return ret;
}

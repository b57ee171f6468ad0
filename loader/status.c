// SPDX-License-Identifier: GPL-2.0
/*
 * loader_status: the topology's pinned objects, its endpoint map, and what is attached where:
 * tc and XDP per interface, fwd_sock on the cgroup v2 root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "internal.h"
#include "fwd_kern_user.h"

#define STATUS_MAX_IDS 64

/* A pinned BPF link: what it attaches, and where. */
struct status_link {
	uint32_t id;
	uint32_t prog_id;
	uint32_t type;	      /* enum bpf_link_type */
	uint32_t attach_type; /* enum bpf_attach_type, for cgroup links */
};

/* What identifies this topology's attachments: its pinned programs and links, and its veths. */
struct status_ours {
	uint32_t prog_ids[STATUS_MAX_IDS];
	size_t n_progs;
	struct status_link links[STATUS_MAX_IDS];
	size_t n_links;
	uint32_t *ifindexes;
	size_t n_ifindexes;
};

static bool status_has(const uint32_t *v, size_t n, uint32_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

enum status_kind { STATUS_MAP, STATUS_PROG, STATUS_LINK };

static const char *const status_kind_names[] = {
	[STATUS_MAP] = "map", [STATUS_PROG] = "prog", [STATUS_LINK] = "link"
};

struct status_obj {
	char name[NAME_MAX + 1];
	enum status_kind kind;
	uint32_t id;
	uint32_t max_entries; /* STATUS_MAP only */
	char type[32];
	struct status_link link; /* STATUS_LINK only */
};

static void status_prog_name(uint32_t id, char *buf, size_t len)
{
	struct bpf_prog_info info = {};
	__u32 info_len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	snprintf(buf, len, "?");
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &info_len))
		snprintf(buf, len, "%s", info.name);
	close(fd);
}

/* A pinned file: program, map or link (the fd's anon inode says which), its id and type. */
static int status_obj_read(const char *dir, const char *name, struct status_obj *o)
{
	char path[PATH_MAX], link[64], target[64];
	ssize_t n;
	int fd, err = 0;

	snprintf(o->name, sizeof(o->name), "%s", name);
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = '\0';
	/* "anon_inode:bpf-prog", "anon_inode:bpf-map"; links are "bpf_link" or, in newer
	 * kernels, "bpf-link". */
	if (strstr(target, "bpf-prog"))
		o->kind = STATUS_PROG;
	else if (strstr(target, "bpf_link") || strstr(target, "bpf-link"))
		o->kind = STATUS_LINK;
	else
		o->kind = STATUS_MAP;
	if (o->kind == STATUS_LINK) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);

		err = bpf_obj_get_info_by_fd(fd, &info, &len);
		o->id = info.id;
		o->link.id = info.id;
		o->link.prog_id = info.prog_id;
		o->link.type = info.type;
		if (info.type == BPF_LINK_TYPE_CGROUP)
			o->link.attach_type = info.cgroup.attach_type;
		snprintf(o->type, sizeof(o->type), "%s",
			 libbpf_bpf_link_type_str(info.type) ?: "?");
	} else if (o->kind == STATUS_PROG) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		err = bpf_obj_get_info_by_fd(fd, &info, &len);
		o->id = info.id;
		snprintf(o->type, sizeof(o->type), "%s",
			 libbpf_bpf_prog_type_str(info.type) ?: "?");
	} else {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);

		err = bpf_obj_get_info_by_fd(fd, &info, &len);
		o->id = info.id;
		o->max_entries = info.max_entries;
		snprintf(o->type, sizeof(o->type), "%s", libbpf_bpf_map_type_str(info.type) ?: "?");
	}
	close(fd);
	return err ? -errno : 0;
}

/* A new zeroed element at the end of the array *@arr of *@n elements of @size; NULL: no memory. */
static void *status_append(void *arr, size_t *n, size_t size)
{
	void **a = arr;
	char *grown = realloc(*a, (*n + 1) * size);

	if (!grown)
		return NULL;
	*a = grown;
	memset(grown + *n * size, 0, size);
	return grown + (*n)++ * size;
}

static int status_pins(struct fwd_bpf_status *st, struct status_ours *ours)
{
	struct fwd_bpf_pin *pin;
	struct status_obj o;
	struct dirent *de;
	DIR *d = opendir(st->pin_dir);
	int err = 0;

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		memset(&o, 0, sizeof(o));
		if (status_obj_read(st->pin_dir, de->d_name, &o))
			continue;
		if (o.kind == STATUS_PROG && ours->n_progs < STATUS_MAX_IDS)
			ours->prog_ids[ours->n_progs++] = o.id;
		if (o.kind == STATUS_LINK && ours->n_links < STATUS_MAX_IDS)
			ours->links[ours->n_links++] = o.link;
		pin = status_append(&st->pins, &st->n_pins, sizeof(*pin));
		if (!pin) {
			err = -ENOMEM;
			break;
		}
		snprintf(pin->name, sizeof(pin->name), "%s", o.name);
		pin->kind = status_kind_names[o.kind];
		snprintf(pin->type, sizeof(pin->type), "%s", o.type);
		pin->id = o.id;
		pin->max_entries = o.max_entries;
	}
	if (d)
		closedir(d);
	return err;
}

static int status_endpoints(struct fwd_bpf_status *st, struct status_ours *ours)
{
	struct fwd_endpoint_key key, *prev = NULL;
	struct fwd_bpf_endpoint *out;
	struct fwd_endpoint ep;
	uint32_t *ifindex;
	char path[PATH_MAX];
	int fd, err = 0;

	if (snprintf(path, sizeof(path), "%s/%s", st->pin_dir, FWD_MAP_ENDPOINTS) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	while (fd >= 0 && !bpf_map_get_next_key(fd, prev, &key)) {
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &ep))
			continue;
		out = status_append(&st->endpoints, &st->n_endpoints, sizeof(*out));
		ifindex = status_append(&ours->ifindexes, &ours->n_ifindexes, sizeof(*ifindex));
		if (!out || !ifindex) {
			err = -ENOMEM;
			break;
		}
		*ifindex = ep.ifindex;
		out->addr = key.addr;
		memcpy(out->mac, ep.mac, sizeof(out->mac));
		out->host_ifindex = ep.ifindex;
		if (!if_indextoname(ep.ifindex, out->host_ifname))
			snprintf(out->host_ifname, sizeof(out->host_ifname), "if%u", ep.ifindex);
	}
	if (fd >= 0)
		close(fd);
	return err;
}

static int status_one_attach(struct fwd_bpf_status *st, const struct status_ours *ours,
			     const struct if_nameindex *ifi, const char *hook, uint32_t id)
{
	bool current = status_has(ours->prog_ids, ours->n_progs, id);
	struct fwd_bpf_attachment *a;

	if (!current && !status_has(ours->ifindexes, ours->n_ifindexes, ifi->if_index))
		return 0; /* another topology's */
	a = status_append(&st->attachments, &st->n_attachments, sizeof(*a));
	if (!a)
		return -ENOMEM;
	snprintf(a->ifname, sizeof(a->ifname), "%s", ifi->if_name);
	a->hook = hook;
	status_prog_name(id, a->prog, sizeof(a->prog));
	a->id = id;
	a->current = current;
	return 0;
}

/* fwd's tc filters and fwd_* XDP programs on link @ifindex. */
static int status_link(struct fwd_bpf_status *st, const struct status_ours *ours,
		       const struct attach_owner *owner, int ifindex, bool uplink)
{
	char name[IF_NAMESIZE];
	struct if_nameindex ifi = { .if_index = (unsigned int)ifindex, .if_name = name };
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	uint32_t id;
	int err = 0, xdp;

	if (ifindex <= 0 || !if_indextoname((unsigned int)ifindex, name))
		return 0; /* gone */
	/* On the shared uplink, this topology's filter is the one using its maps. */
	id = uplink ? attach_tc_uplink_find(ifindex, owner, NULL) : attach_tc_query(ifindex, false);
	if (id)
		err = status_one_attach(st, ours, &ifi, "tc-ingress", id);
	id = attach_tc_query(ifindex, true);
	if (id && !err)
		err = status_one_attach(st, ours, &ifi, "tc-egress", id);
	/* On the uplink, this topology's XDP fast path, found by its maps as its filter is. */
	if (uplink) {
		id = err ? 0 : attach_xdp_uplink_find(ifindex, owner);
		return id ? status_one_attach(st, ours, &ifi, "xdp", id) : err;
	}
	/* libxdp's query reads every link of the namespace: only where there is a program */
	xdp = err ? 0 : xdp_attached(ifindex);
	if (!xdp || xdp == -ENODEV)
		return err;
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (!mp || libxdp_get_error(mp))
		return 0;
	p = xdp_multiprog__is_legacy(mp) ? xdp_multiprog__main_prog(mp)
					 : xdp_multiprog__next_prog(NULL, mp);
	for (; p && !err; p = xdp_multiprog__is_legacy(mp) ? NULL : xdp_multiprog__next_prog(p, mp))
		if (!strncmp(xdp_program__name(p), "fwd_", 4))
			err = status_one_attach(st, ours, &ifi, "xdp", xdp_program__id(p));
	xdp_multiprog__close(mp);
	return err;
}

/*
 * What is attached to the topology's links: the uplink, the bridge and its veths (the
 * endpoints map's). Only those: asked of every link of the host namespace, a status would cost
 * a query per link of every topology up there (20,000 links with ten topologies of 1,000).
 */
static int status_attached(struct fwd_bpf_status *st, const struct status_ours *ours,
			   const char *topology, int uplink_ifindex, int bridge_ifindex)
{
	struct attach_owner owner;
	int err;

	pins_owner(topology, &owner);
	err = status_link(st, ours, &owner, uplink_ifindex, true);
	if (!err && bridge_ifindex != uplink_ifindex)
		err = status_link(st, ours, &owner, bridge_ifindex, false);
	for (size_t i = 0; i < ours->n_ifindexes && !err; i++)
		err = status_link(st, ours, &owner, (int)ours->ifindexes[i], false);
	return err;
}

/* The hook a cgroup attach type is, as fwd_sock's section names say it. */
static const char *status_cgroup_hook(uint32_t attach_type)
{
	switch (attach_type) {
	case BPF_CGROUP_INET4_CONNECT: return "connect4";
	case BPF_CGROUP_UDP4_SENDMSG: return "sendmsg4";
	case BPF_CGROUP_UDP4_RECVMSG: return "recvmsg4";
	case BPF_CGROUP_INET4_GETPEERNAME: return "getpeername4";
	default: return libbpf_bpf_attach_type_str(attach_type) ?: "?";
	}
}

/* Is program @prog_id among what the cgroup @cg_fd runs at @attach_type? */
static bool status_cgroup_runs(int cg_fd, uint32_t attach_type, uint32_t prog_id)
{
	__u32 cnt = 0, *ids;
	bool found = false;

	/* A first query with no room gives the count. */
	if (cg_fd < 0 || bpf_prog_query(cg_fd, attach_type, 0, NULL, NULL, &cnt) || !cnt)
		return false;
	ids = calloc(cnt, sizeof(*ids));
	if (ids && !bpf_prog_query(cg_fd, attach_type, 0, NULL, ids, &cnt))
		found = status_has(ids, cnt, prog_id);
	free(ids);
	return found;
}

/*
 * The topology's pinned cgroup links (fwd_sock), checked against what the root of the cgroup
 * v2 hierarchy really runs: a link pinned but not attached shows as such.
 */
static int status_cgroup(struct fwd_bpf_status *st, const struct status_ours *ours)
{
	bool have_root = !loader_cgroup_v2_root(st->cgroup_root, sizeof(st->cgroup_root));
	int cg_fd = have_root ? open(st->cgroup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	int err = 0;

	if (!have_root)
		st->cgroup_root[0] = '\0';
	for (size_t i = 0; i < ours->n_links; i++) {
		const struct status_link *l = &ours->links[i];
		struct fwd_bpf_cgroup_link *c;

		if (l->type != BPF_LINK_TYPE_CGROUP)
			continue;
		c = status_append(&st->cgroup_links, &st->n_cgroup_links, sizeof(*c));
		if (!c) {
			err = -ENOMEM;
			break;
		}
		c->hook = status_cgroup_hook(l->attach_type);
		status_prog_name(l->prog_id, c->prog, sizeof(c->prog));
		c->prog_id = l->prog_id;
		c->link_id = l->id;
		c->attached = status_cgroup_runs(cg_fd, l->attach_type, l->prog_id);
	}
	if (cg_fd >= 0)
		close(cg_fd);
	return err;
}

void loader_status_free(struct fwd_bpf_status *st)
{
	free(st->pins);
	free(st->endpoints);
	free(st->attachments);
	free(st->cgroup_links);
	memset(st, 0, sizeof(*st));
}

int loader_status_read(const char *topology, int uplink_ifindex, int bridge_ifindex,
		       struct fwd_bpf_status *st)
{
	struct status_ours ours = {};
	int err;

	memset(st, 0, sizeof(*st));
	err = pins_path(st->pin_dir, topology, NULL);
	if (err)
		return fwd_fail(err, topology, "no pin path for this topology");
	if (access(st->pin_dir, F_OK)) {
		err = -errno;
		fwd_err("%s: no BPF pins for topology %s: %s", st->pin_dir, topology,
			strerror(-err));
		return err;
	}
	err = status_pins(st, &ours);
	if (!err)
		err = status_endpoints(st, &ours);
	if (!err)
		err = status_attached(st, &ours, topology, uplink_ifindex, bridge_ifindex);
	if (!err)
		err = status_cgroup(st, &ours);
	free(ours.ifindexes);
	if (err)
		fwd_fail(err, topology, "cannot read the BPF status");
	return err;
}

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
#include "fwd_json.h"
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
    [STATUS_MAP] = "map", [STATUS_PROG] = "prog", [STATUS_LINK] = "link"};

struct status_obj {
	char name[NAME_MAX + 1];
	enum status_kind kind;
	uint32_t id;
	char type[32];
	struct status_link link; /* STATUS_LINK only */
};

static const char *status_prog_name(uint32_t id, char *buf, size_t len)
{
	struct bpf_prog_info info = {};
	__u32 info_len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	snprintf(buf, len, "?");
	if (fd < 0)
		return buf;
	if (!bpf_obj_get_info_by_fd(fd, &info, &info_len))
		snprintf(buf, len, "%s", info.name);
	close(fd);
	return buf;
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
		snprintf(o->type, sizeof(o->type), "%s", libbpf_bpf_map_type_str(info.type) ?: "?");
	}
	close(fd);
	return err ? -errno : 0;
}

static void status_pins(const char *dir, struct fwd_json *j, struct status_ours *ours)
{
	struct status_obj o;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (j)
		json_array_begin(j, "pins");
	else
		printf("pins %s:\n", dir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		memset(&o, 0, sizeof(o));
		if (status_obj_read(dir, de->d_name, &o))
			continue;
		if (o.kind == STATUS_PROG && ours->n_progs < STATUS_MAX_IDS)
			ours->prog_ids[ours->n_progs++] = o.id;
		if (o.kind == STATUS_LINK && ours->n_links < STATUS_MAX_IDS)
			ours->links[ours->n_links++] = o.link;
		if (j) {
			json_object_begin(j, NULL);
			json_string(j, "name", o.name);
			json_string(j, "kind", status_kind_names[o.kind]);
			json_string(j, "type", o.type);
			json_uint(j, "id", o.id);
			json_object_end(j);
		} else {
			printf("  %-16s %-4s %-14s id %u\n", o.name, status_kind_names[o.kind],
			       o.type, o.id);
		}
	}
	if (d)
		closedir(d);
	if (j)
		json_array_end(j);
}

static void status_endpoints(const char *dir, struct fwd_json *j, struct status_ours *ours)
{
	struct fwd_endpoint_key key, *prev = NULL;
	char path[PATH_MAX], ifname[IF_NAMESIZE], mac[18], addr[INET_ADDRSTRLEN];
	struct fwd_endpoint ep;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, FWD_MAP_ENDPOINTS);
	fd = bpf_obj_get(path);
	if (j)
		json_array_begin(j, "endpoints");
	else
		printf("endpoints:\n");
	while (fd >= 0 && !bpf_map_get_next_key(fd, prev, &key)) {
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &ep))
			continue;
		if (ours->n_ifindexes < FWD_MAX_ENDPOINTS) {
			uint32_t *v =
			    realloc(ours->ifindexes, (ours->n_ifindexes + 1) * sizeof(*v));

			if (v) {
				v[ours->n_ifindexes++] = ep.ifindex;
				ours->ifindexes = v;
			}
		}
		inet_ntop(AF_INET, &key.addr, addr, sizeof(addr));
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", ep.mac[0], ep.mac[1],
			 ep.mac[2], ep.mac[3], ep.mac[4], ep.mac[5]);
		if (!if_indextoname(ep.ifindex, ifname))
			snprintf(ifname, sizeof(ifname), "if%u", ep.ifindex);
		if (j) {
			json_object_begin(j, NULL);
			json_string(j, "address", addr);
			json_string(j, "mac", mac);
			json_string(j, "host_ifname", ifname);
			json_uint(j, "host_ifindex", ep.ifindex);
			json_object_end(j);
		} else {
			printf("  %-15s %s via %s (%u)\n", addr, mac, ifname, ep.ifindex);
		}
	}
	if (fd >= 0)
		close(fd);
	if (j)
		json_array_end(j);
}

static void status_one_attach(struct fwd_json *j, const struct status_ours *ours,
			      const struct if_nameindex *ifi, const char *hook, uint32_t id)
{
	bool current = status_has(ours->prog_ids, ours->n_progs, id);
	const char *ifname = ifi->if_name;
	char name[BPF_OBJ_NAME_LEN + 1];

	if (!current && !status_has(ours->ifindexes, ours->n_ifindexes, ifi->if_index))
		return; /* another topology's */
	status_prog_name(id, name, sizeof(name));
	if (j) {
		json_object_begin(j, NULL);
		json_string(j, "ifname", ifname);
		json_string(j, "hook", hook);
		json_string(j, "prog", name);
		json_uint(j, "id", id);
		json_bool(j, "current", current);
		json_object_end(j);
	} else {
		printf("  %-15s %-11s %-16s id %u%s\n", ifname, hook, name, id,
		       current ? "" : " (stale: not the pinned program)");
	}
}

/*
 * Links of this namespace with fwd's tc filter or an XDP program named fwd_*, when the program
 * is one of this topology's pins or the link is one of its veths.
 */
static void status_attached(struct fwd_json *j, const struct status_ours *ours)
{
	struct if_nameindex *ifs = if_nameindex(), *i;

	if (j)
		json_array_begin(j, "attached");
	else
		printf("attached:\n");
	for (i = ifs; i && i->if_index; i++) {
		struct xdp_multiprog *mp;
		struct xdp_program *p;
		uint32_t id;

		id = attach_tc_query(i->if_index, false);
		if (id)
			status_one_attach(j, ours, i, "tc-ingress", id);
		id = attach_tc_query(i->if_index, true);
		if (id)
			status_one_attach(j, ours, i, "tc-egress", id);
		mp = xdp_multiprog__get_from_ifindex(i->if_index);
		if (!mp || libxdp_get_error(mp))
			continue;
		p = xdp_multiprog__is_legacy(mp) ? xdp_multiprog__main_prog(mp)
						 : xdp_multiprog__next_prog(NULL, mp);
		for (; p; p = xdp_multiprog__is_legacy(mp) ? NULL : xdp_multiprog__next_prog(p, mp))
			if (!strncmp(xdp_program__name(p), "fwd_", 4))
				status_one_attach(j, ours, i, "xdp", xdp_program__id(p));
		xdp_multiprog__close(mp);
	}
	if (ifs)
		if_freenameindex(ifs);
	if (j)
		json_array_end(j);
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
static void status_cgroup(struct fwd_json *j, const struct status_ours *ours)
{
	char root[PATH_MAX], name[BPF_OBJ_NAME_LEN + 1];
	bool have_root = !cgroup_v2_root(root, sizeof(root)), any = false;
	int cg_fd = have_root ? open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

	if (j) {
		json_object_begin(j, "cgroup");
		if (have_root)
			json_string(j, "path", root);
		else
			json_null(j, "path");
		json_array_begin(j, "attached");
	}
	for (size_t i = 0; i < ours->n_links; i++) {
		const struct status_link *l = &ours->links[i];
		bool runs;

		if (l->type != BPF_LINK_TYPE_CGROUP)
			continue;
		runs = status_cgroup_runs(cg_fd, l->attach_type, l->prog_id);
		status_prog_name(l->prog_id, name, sizeof(name));
		if (j) {
			json_object_begin(j, NULL);
			json_string(j, "hook", status_cgroup_hook(l->attach_type));
			json_string(j, "prog", name);
			json_uint(j, "id", l->prog_id);
			json_uint(j, "link_id", l->id);
			json_bool(j, "attached", runs);
			json_object_end(j);
			continue;
		}
		if (!any)
			printf("cgroup %s:\n", have_root ? root : "(no cgroup v2 mounted)");
		any = true;
		printf("  %-15s %-16s id %u, link %u%s\n", status_cgroup_hook(l->attach_type), name,
		       l->prog_id, l->id, runs ? "" : " (pinned, not attached)");
	}
	if (j) {
		json_array_end(j);
		json_object_end(j);
	}
	if (cg_fd >= 0)
		close(cg_fd);
}

int loader_status(const char *topology, struct fwd_json *j)
{
	struct status_ours ours = {};
	char dir[PATH_MAX];
	int err;

	loader_log_init();
	err = pins_path(dir, topology, NULL);
	if (err) {
		pr_warn("topology \"%s\": no pin path for it: %s\n", topology, strerror(-err));
		return err;
	}
	if (access(dir, F_OK)) {
		err = -errno;
		pr_warn("%s: no BPF pins for topology %s: %s\n", dir, topology, strerror(-err));
		return err;
	}
	/* The caller names the topology; with @j, these are members of the object it opened. */
	status_pins(dir, j, &ours);
	status_endpoints(dir, j, &ours);
	status_attached(j, &ours);
	status_cgroup(j, &ours);
	free(ours.ifindexes);
	return 0;
}

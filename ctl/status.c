// SPDX-License-Identifier: GPL-2.0
/* fwdctl status, stats and ct: reading what is up, never changing it. */
#include "fwdctl.h"
#include "fwd_json.h"
#include "ipt.h"
#include "journal.h"
#include "loader.h"
#include "names.h"
#include "netns.h"
#include "nl.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fwd_list_topologies(char names[][16], int max)
{
	DIR *d = opendir(FWD_RUN_DIR);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		size_t len = strlen(de->d_name);

		if (len > 5 && len - 5 < 16 && !strcmp(de->d_name + len - 5, ".conf")) {
			memcpy(names[n], de->d_name, len - 5);
			names[n++][len - 5] = '\0';
		}
	}
	closedir(d);
	return n;
}

int fwd_saved_topology(const char *name, struct fwd_topology *t)
{
	char path[128];
	FILE *devnull = fopen("/dev/null", "w");
	int ret;

	fwd_journal_path(name, "conf", path, sizeof(path));
	if (access(path, R_OK)) {
		if (devnull)
			fclose(devnull);
		return -ENOENT;
	}
	ret = topo_parse_file(t, path, devnull ? devnull : stderr);
	if (devnull)
		fclose(devnull);
	return ret;
}

/* NAME given, or the only topology that is up. */
static int pick_topology(const char *name, const char *cmd, char out[16])
{
	char names[64][16];
	int n;

	if (name) {
		snprintf(out, 16, "%s", name);
		return 0;
	}
	n = fwd_list_topologies(names, 64);
	if (n == 1) {
		snprintf(out, 16, "%s", names[0]);
		return 0;
	}
	fprintf(stderr, "fwdctl: %s: %s; name one\n", cmd,
		n ? "several topologies are up" : "no topology is up");
	return -ENOENT;
}

static void link_json(struct fwd_json *j, const char *key, const struct nl_link *l,
		      const char *addr)
{
	json_object_begin(j, key);
	json_string(j, "name", l->name);
	json_int(j, "ifindex", l->ifindex);
	json_bool(j, "up", l->flags & IFF_UP);
	if (addr)
		json_string(j, "address", addr);
	if (l->gso_ipv4_max_size)
		json_int(j, "gso_ipv4_max_size", l->gso_ipv4_max_size);
	json_object_end(j);
}

/* The namespace's own view of its eth0: *l filled, or left zeroed when it is not there. */
static void inner_link(const char *netns, struct nl_link *l)
{
	struct nl_sock *in = NULL;
	int fd = netns_open(netns);

	if (fd < 0)
		return;
	if (!nl_open_netns(fd, &in) && nl_link_get(in, FWD_NS_IFNAME, l))
		memset(l, 0, sizeof(*l));
	nl_close(in);
	close(fd);
}

static int status_one(const char *name, const struct fwd_opts *o, struct fwd_json *j)
{
	struct fwd_topology t;
	struct nl_sock *nl = NULL;
	struct nl_link br = { 0 }, up = { 0 };
	in_addr_t up_addr = 0;
	uint8_t prefix;
	char buf[64];
	int ret;

	ret = fwd_saved_topology(name, &t);
	if (ret == -ENOENT) {
		fprintf(stderr, "fwdctl: topology %s is not up\n", name);
		return FWD_EXIT_FAILURE;
	}
	if (ret || (ret = nl_open(&nl))) {
		fprintf(stderr, "fwdctl: status %s: %s\n", name, strerror(-ret));
		topo_free(&t);
		return FWD_EXIT_FAILURE;
	}
	nl_link_get(nl, t.bridge, &br);
	if (t.uplink[0] && !nl_link_get(nl, t.uplink, &up))
		nl_addr_get_primary(nl, up.ifindex, &up_addr, &prefix);
	const char *dp = t.datapath == FWD_DATAPATH_BPF ? "bpf" : "kernel";
	snprintf(buf, sizeof(buf), "%s/%u", fwd_ip_str(t.gateway.addr), t.gateway.prefix);

	if (j) {
		json_object_begin(j, NULL);
		json_string(j, "topology", t.name);
		json_string(j, "datapath", dp);
		link_json(j, "bridge", &br, buf);
		if (t.uplink[0])
			link_json(j, "uplink", &up, up_addr ? fwd_ip_str(up_addr) : NULL);
		json_array_begin(j, "namespaces");
	} else {
		printf("topology %s  datapath %s\n", t.name, dp);
		printf("  bridge %-15s %-18s %s\n", t.bridge, buf,
		       !br.ifindex ? "MISSING" : br.flags & IFF_UP ? "up" : "down");
		if (t.uplink[0])
			printf("  uplink %-15s %-18s %s\n", t.uplink,
			       up_addr ? fwd_ip_str(up_addr) : "-",
			       !up.ifindex ? "MISSING" : up.flags & IFF_UP ? "up" : "down");
		printf("  %-20s %-15s %-12s %-6s %-7s %s\n", "NAMESPACE", "ADDRESS", "HOST LINK",
		       "LINK", "INSIDE", "GSO_IPV4_MAX");
	}
	for (size_t i = 0; i < t.n_namespaces; i++) {
		const struct fwd_namespace *ns = &t.namespaces[i];
		char veth[IF_NAMESIZE];
		struct nl_link l = { 0 }, in = { 0 };
		bool exists = netns_exists(ns->name);
		bool inner;

		if (exists)
			inner_link(ns->name, &in);
		inner = in.flags & IFF_UP;
		fwd_host_veth_name(t.name, ns->name, veth);
		nl_link_get(nl, veth, &l);
		if (j) {
			json_object_begin(j, NULL);
			json_string(j, "name", ns->name);
			json_string(j, "address", fwd_ip_str(ns->addr));
			json_bool(j, "exists", exists);
			json_string(j, "host_link", veth);
			json_int(j, "host_ifindex", l.ifindex);
			json_bool(j, "host_link_up", l.flags & IFF_UP);
			json_bool(j, "inside_up", inner);
			/* Both ends follow the uplink's BIG TCP setting (see up.c). */
			if (l.gso_ipv4_max_size)
				json_int(j, "gso_ipv4_max_size", l.gso_ipv4_max_size);
			if (in.gso_ipv4_max_size)
				json_int(j, "inside_gso_ipv4_max_size", in.gso_ipv4_max_size);
			json_object_end(j);
		} else {
			char gso[16] = "-";

			if (l.gso_ipv4_max_size)
				snprintf(gso, sizeof(gso), "%u", l.gso_ipv4_max_size);
			printf("  %-20s %-15s %-12s %-6s %-7s %s\n", ns->name, fwd_ip_str(ns->addr),
			       veth, !l.ifindex ? "MISSING" : l.flags & IFF_UP ? "up" : "down",
			       !exists ? "MISSING" : inner ? "up" : "down", gso);
		}
	}
	if (j)
		json_array_end(j);

	/* datapath bpf uses fwd's chains too while NAT is not yet in BPF. */
	char *rules = ipt_show(t.name);
	if (t.datapath == FWD_DATAPATH_KERNEL || (rules && rules[0])) {
		if (j) {
			json_array_begin(j, "iptables");
			for (char *s = rules ? strtok(rules, "\n") : NULL; s; s = strtok(NULL, "\n"))
				json_string(j, NULL, s);
			json_array_end(j);
		} else {
			printf("  iptables rules:\n");
			for (char *s = rules ? strtok(rules, "\n") : NULL; s; s = strtok(NULL, "\n"))
				printf("    %s\n", s);
		}
	}
	free(rules);
	if (t.datapath == FWD_DATAPATH_BPF) {
		if (j)
			json_object_begin(j, "bpf");
		loader_status(t.name, j);
		if (j)
			json_object_end(j);
	}
	if (j)
		json_object_end(j);
	nl_close(nl);
	topo_free(&t);
	(void)o;
	return FWD_EXIT_OK;
}

int fwd_cmd_status(const char *topology, const struct fwd_opts *o)
{
	struct fwd_json j;
	char names[256][16];
	int n, ret = FWD_EXIT_OK;

	if (o->json)
		json_init(&j, stdout);
	if (topology) {
		ret = status_one(topology, o, o->json ? &j : NULL);
		if (o->json && ret == FWD_EXIT_OK)
			json_finish(&j);
		return ret;
	}
	n = fwd_list_topologies(names, 256);
	if (o->json)
		json_array_begin(&j, NULL);
	else if (!n)
		fwd_info(o, "fwdctl: no topology is up\n");
	for (int i = 0; i < n; i++) {
		if (!o->json && i)
			printf("\n");
		if (status_one(names[i], o, o->json ? &j : NULL))
			ret = FWD_EXIT_FAILURE;
	}
	if (o->json) {
		json_array_end(&j);
		json_finish(&j);
	}
	return ret;
}

int fwd_cmd_stats(const char *topology, const struct fwd_opts *o)
{
	struct fwd_topology t;
	struct fwd_json j;
	char name[16];
	int ret;

	if (pick_topology(topology, "stats", name))
		return FWD_EXIT_FAILURE;
	ret = fwd_saved_topology(name, &t);
	if (ret) {
		fprintf(stderr, "fwdctl: topology %s is not up\n", name);
		return FWD_EXIT_FAILURE;
	}
	if (t.datapath != FWD_DATAPATH_BPF) {
		fprintf(stderr, "fwdctl: stats: topology %s uses datapath kernel; its counters are "
				"iptables' own ('fwdctl status %s')\n", name, name);
		topo_free(&t);
		return FWD_EXIT_FAILURE;
	}
	topo_free(&t);
	if (o->json)
		json_init(&j, stdout);
	ret = loader_stats(name, o->json ? &j : NULL);
	if (o->json && !ret)
		json_finish(&j);
	return ret ? FWD_EXIT_FAILURE : FWD_EXIT_OK;
}

int fwd_cmd_ct(const char *topology, bool flush, const struct fwd_opts *o)
{
	struct fwd_topology t;
	struct fwd_json j;
	char name[16];
	int ret;

	if (pick_topology(topology, "ct", name))
		return FWD_EXIT_FAILURE;
	ret = fwd_saved_topology(name, &t);
	if (ret) {
		fprintf(stderr, "fwdctl: topology %s is not up\n", name);
		return FWD_EXIT_FAILURE;
	}
	if (t.datapath != FWD_DATAPATH_BPF) {
		fprintf(stderr, "fwdctl: ct: topology %s uses datapath kernel; its connections are "
				"nf_conntrack's ('conntrack -L')\n", name);
		topo_free(&t);
		return FWD_EXIT_FAILURE;
	}
	topo_free(&t);
	if (flush)
		return loader_ct_flush(name) ? FWD_EXIT_FAILURE : FWD_EXIT_OK;
	if (o->json)
		json_init(&j, stdout);
	ret = loader_ct_list(name, o->json ? &j : NULL);
	if (o->json && !ret)
		json_finish(&j);
	return ret ? FWD_EXIT_FAILURE : FWD_EXIT_OK;
}

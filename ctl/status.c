// SPDX-License-Identifier: GPL-2.0
/* fwdctl status: what is up, as the kernel reports it, never changing it. */
#include "fwd_loader.h"
#include "fwd_log.h"
#include "fwdctl.h"
#include "ebt.h"
#include "ipt.h"
#include "names.h"
#include "netns.h"
#include "nl.h"
#include "output.h"
#include "rfs.h"
#include "topo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A link as status reports it; @addr may be NULL. */
static json_t *link_json(const char *name, const struct nl_link *l, const char *addr)
{
	json_t *o = json_pack("{s:s, s:i, s:b}", "name", name, "ifindex", l->ifindex, "up",
			      !!(l->flags & IFF_UP));

	if (o && addr)
		json_object_set_new(o, "address", json_string(addr));
	/* Every fwd link follows the uplink's BIG TCP setting (see up.c). */
	if (o && l->gso_ipv4_max_size)
		json_object_set_new(o, "gso_ipv4_max_size", json_integer(l->gso_ipv4_max_size));
	if (o && l->gso_max_size)
		json_object_set_new(o, "gso_max_size", json_integer(l->gso_max_size));
	return o;
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

static json_t *namespace_json(const struct fwd_topology *t, const struct fwd_namespace *ns,
			      struct nl_sock *nl)
{
	struct nl_link l = { 0 }, in = { 0 };
	bool exists = netns_exists(ns->name);
	char veth[IF_NAMESIZE];
	json_t *o;

	if (exists)
		inner_link(ns->name, &in);
	fwd_host_veth_name(t->name, ns->name, veth);
	nl_link_get(nl, veth, &l);
	o = json_pack("{s:s, s:s*, s:b, s:s, s:i, s:b, s:b}", "name", ns->name, "address",
		      ns->v6only ? NULL : fwd_ip_str(ns->addr), "exists", exists, "host_link", veth,
		      "host_ifindex", l.ifindex, "host_link_up", !!(l.flags & IFF_UP), "inside_up",
		      !!(in.flags & IFF_UP));
	if (o && ns->has6)
		json_object_set_new(o, "address6", json_string(fwd_ip6_str(&ns->addr6)));
	if (o && l.gso_ipv4_max_size)
		json_object_set_new(o, "gso_ipv4_max_size", json_integer(l.gso_ipv4_max_size));
	if (o && in.gso_ipv4_max_size)
		json_object_set_new(o, "inside_gso_ipv4_max_size",
				    json_integer(in.gso_ipv4_max_size));
	if (o && l.gso_max_size)
		json_object_set_new(o, "gso_max_size", json_integer(l.gso_max_size));
	if (o && in.gso_max_size)
		json_object_set_new(o, "inside_gso_max_size", json_integer(in.gso_max_size));
	return o;
}

static json_t *bpf_json(const struct fwd_bpf_status *st)
{
	json_t *pins = json_array(), *eps = json_array(), *att = json_array(), *cg = json_array();
	char mac[18];
	int err = 0;

	for (size_t i = 0; i < st->n_pins && !err; i++) {
		const struct fwd_bpf_pin *p = &st->pins[i];

		json_t *row = json_pack("{s:s, s:s, s:s, s:I}", "name", p->name, "kind", p->kind,
					"type", p->type, "id", (json_int_t)p->id);

		/* A map's size: fwd_ct's follows `conntrack max` (two entries a connection). */
		if (row && !strcmp(p->kind, "map"))
			json_object_set_new(row, "max_entries", json_integer(p->max_entries));
		err = out_append(pins, row);
	}
	for (size_t i = 0; i < st->n_endpoints && !err; i++) {
		const struct fwd_bpf_endpoint *e = &st->endpoints[i];
		const uint8_t *m = e->mac;

		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
			 m[4], m[5]);
		/* (a namespace with IPv6 alone: its stand-in, include/fwd_kern_user.h) */
		err = out_append(eps, json_pack("{s:s, s:b, s:s, s:s, s:I}", "address",
						fwd_ip_str(e->addr), "stand_in",
						fwd_addr_is_standin(e->addr), "mac", mac,
						"host_ifname", e->host_ifname, "host_ifindex",
						(json_int_t)e->host_ifindex));
	}
	for (size_t i = 0; i < st->n_attachments && !err; i++) {
		const struct fwd_bpf_attachment *a = &st->attachments[i];

		err = out_append(att, json_pack("{s:s, s:s, s:s, s:I, s:b}", "ifname", a->ifname,
						"hook", a->hook, "prog", a->prog, "id",
						(json_int_t)a->id, "current", a->current));
	}
	for (size_t i = 0; i < st->n_cgroup_links && !err; i++) {
		const struct fwd_bpf_cgroup_link *l = &st->cgroup_links[i];

		err = out_append(cg, json_pack("{s:s, s:s, s:I, s:I, s:b}", "hook", l->hook, "prog",
					       l->prog, "id", (json_int_t)l->prog_id, "link_id",
					       (json_int_t)l->link_id, "attached", l->attached));
	}
	if (err) {
		json_decref(pins), json_decref(eps), json_decref(att), json_decref(cg);
		return NULL;
	}
	return json_pack("{s:o, s:o, s:o, s:{s:s?, s:o}}", "pins", pins, "endpoints", eps,
			 "attached", att, "cgroup", "path",
			 st->cgroup_root[0] ? st->cgroup_root : NULL, "attached", cg);
}

/* Rules (one per line, malloc'd @rules) as a JSON array of strings; frees @rules. */
static json_t *rules_json(char *rules)
{
	json_t *a = json_array();

	for (char *s = rules ? strtok(rules, "\n") : NULL; s && a; s = strtok(NULL, "\n"))
		if (out_append(a, json_string(s)))
			a = (json_decref(a), NULL);
	free(rules);
	return a;
}

/* The status of topology @name as one JSON object; NULL (after a message) on failure. */
/* The route lines, each with whether the host's main table has it ("present"). */
static json_t *routes_json(const struct fwd_topology *t, struct nl_sock *nl)
{
	json_t *a = json_array();
	char net[INET_ADDRSTRLEN + 4];

	for (size_t i = 0; i < t->n_routes && a; i++) {
		const struct fwd_route *r = &t->routes[i];

		snprintf(net, sizeof(net), "%s/%u", fwd_ip_str(r->net.addr), r->net.prefix);
		if (out_append(
			a, json_pack("{s:s, s:s, s:b}", "net", net, "via", fwd_ip_str(r->via),
				     "present",
				     nl_route_has(nl, r->net.addr, r->net.prefix, r->via) == 1)))
			a = (json_decref(a), NULL);
	}
	return a;
}

/*
 * RFS as the kernel has it: the host-wide table (null when fwdctl cannot see it), what `tuning
 * rfs` asks, and per namespace its host-side veth's rps_flow_cnt ("rps_flow_cnt" in each row of
 * @nss); "veths": how many steer flows.
 */
static json_t *rfs_json(const struct fwd_topology *t, json_t *nss)
{
	char(*names)[IF_NAMESIZE] = calloc(t->n_namespaces + 1, sizeof(*names));
	uint32_t *cnt = calloc(t->n_namespaces + 1, sizeof(*cnt));
	long entries = rfs_host_entries();
	size_t on = 0;
	json_t *o = NULL;

	if (!names || !cnt)
		goto out;
	for (size_t i = 0; i < t->n_namespaces; i++)
		fwd_host_veth_name(t->name, t->namespaces[i].name, names[i]);
	/* and the uplink's first queue, last */
	snprintf(names[t->n_namespaces], IF_NAMESIZE, "%s", t->uplink);
	rfs_links_read((const char(*)[IF_NAMESIZE])names, t->n_namespaces + !!t->uplink[0], cnt);
	for (size_t i = 0; i < t->n_namespaces; i++) {
		if (cnt[i] == UINT32_MAX)
			continue; /* no such veth: the row says MISSING */
		json_object_set_new(json_array_get(nss, i), "rps_flow_cnt", json_integer(cnt[i]));
		on += cnt[i] > 0;
	}
	o = json_pack("{s:o, s:b, s:i, s:i}", "host_table",
		      entries >= 0 ? json_integer(entries) : json_null(), "tuning", t->tuning_rfs,
		      "veths", (json_int_t)on, "flow_cnt", FWD_RFS_FLOW_CNT);
	if (o && t->uplink[0] && cnt[t->n_namespaces] != UINT32_MAX)
		json_object_set_new(o, "uplink_flow_cnt", json_integer(cnt[t->n_namespaces]));
out:
	free(names);
	free(cnt);
	return o;
}

static json_t *status_json(const char *name)
{
	struct nl_link br = { 0 }, up = { 0 };
	struct fwd_bpf_status st;
	struct nl_sock *nl = NULL;
	struct fwd_topology t;
	in_addr_t up_addr = 0;
	json_t *doc = NULL, *nss, *rules;
	uint8_t prefix;
	char gw[32];
	int ret;

	if (fwd_pick_topology(name, "status", false, NULL, &t))
		return NULL;
	ret = nl_open(&nl);
	if (ret) {
		fwd_fail(ret, "netlink", "cannot open socket");
		goto out;
	}
	nl_link_get(nl, t.bridge, &br);
	if (t.uplink[0] && !nl_link_get(nl, t.uplink, &up))
		nl_addr_get_primary(nl, up.ifindex, &up_addr, &prefix);
	snprintf(gw, sizeof(gw), "%s/%u", fwd_ip_str(t.gateway.addr), t.gateway.prefix);
	nss = json_array();
	for (size_t i = 0; i < t.n_namespaces && nss; i++)
		if (out_append(nss, namespace_json(&t, &t.namespaces[i], nl)))
			nss = (json_decref(nss), NULL);
	doc = json_pack("{s:s, s:s, s:s, s:o, s:o*, s:o}", "topology", t.name, "host_namespace",
			fwd_topology_hostns(t.name) == FWD_HOSTNS_GONE ? "gone" : "here",
			"datapath", t.datapath == FWD_DATAPATH_BPF ? "bpf" : "kernel", "bridge",
			link_json(t.bridge, &br, t.v6only ? NULL : gw), "uplink",
			t.uplink[0] ? link_json(t.uplink, &up, up_addr ? fwd_ip_str(up_addr) : NULL)
				    : NULL,
			"namespaces", nss);
	if (doc)
		json_object_set_new(doc, "rfs", rfs_json(&t, nss));
	/* iptables belongs to datapath kernel; shown for bpf too when fwd's chains exist. */
	if (doc && t.has6) {
		char gw6[INET6_ADDRSTRLEN + 4];

		snprintf(gw6, sizeof(gw6), "%s/%u", fwd_ip6_str(&t.gateway6.addr),
			 t.gateway6.prefix);
		json_object_set_new(json_object_get(doc, "bridge"), "address6", json_string(gw6));
	}
	if (doc && t.n_routes)
		json_object_set_new(doc, "routes", routes_json(&t, nl));
	rules = rules_json(ipt_show(t.name));
	if (doc && (t.datapath == FWD_DATAPATH_KERNEL || json_array_size(rules)))
		json_object_set(doc, "iptables", rules);
	json_decref(rules);
	rules = rules_json(t.has6 ? ip6t_show(t.name) : NULL);
	if (doc && json_array_size(rules))
		json_object_set(doc, "ip6tables", rules);
	json_decref(rules);
	rules = rules_json(ebt_show(t.name));
	if (doc && (t.datapath == FWD_DATAPATH_KERNEL || json_array_size(rules)))
		json_object_set(doc, "ebtables", rules);
	json_decref(rules);
	if (doc && t.datapath == FWD_DATAPATH_BPF) {
		if (!loader_status_read(t.name, up.ifindex, br.ifindex, &st))
			json_object_set_new(doc, "bpf", bpf_json(&st));
		loader_status_free(&st);
	}
	if (!doc)
		fwd_fail(-ENOMEM, "status", "cannot build the output");
out:
	nl_close(nl);
	topo_free(&t);
	return doc;
}

static void link_state_text(json_t *link, char *buf, size_t len)
{
	snprintf(buf, len, "%s",
		 !json_integer_value(json_object_get(link, "ifindex")) ? "MISSING"
		 : json_is_true(json_object_get(link, "up"))	       ? "up"
								       : "down");
}

static void host_link_text(json_t *ns, char *buf, size_t len)
{
	snprintf(buf, len, "%s",
		 !json_integer_value(json_object_get(ns, "host_ifindex")) ? "MISSING"
		 : json_is_true(json_object_get(ns, "host_link_up"))	  ? "up"
									  : "down");
}

static void inside_text(json_t *ns, char *buf, size_t len)
{
	snprintf(buf, len, "%s",
		 !json_is_true(json_object_get(ns, "exists"))	  ? "MISSING"
		 : json_is_true(json_object_get(ns, "inside_up")) ? "up"
								  : "down");
}

/* The IPv4 address, and the IPv6 one beside it (or alone) when there is one. */
static void addresses_text(json_t *row, char *buf, size_t len)
{
	const char *a4 = json_string_value(json_object_get(row, "address")),
		   *a6 = json_string_value(json_object_get(row, "address6"));

	snprintf(buf, len, "%s%s%s", a4 ? a4 : "", a4 && a6 ? " " : "", a6 ? a6 : "");
}

static const struct out_col link_cols[] = {
	{ "", "name", -15 },
	{ "", "address", -18, addresses_text },
	{ "", "up", 0, link_state_text },
};

static const struct out_col namespace_cols[] = {
	{ "NAMESPACE", "name", -20 },
	{ "ADDRESS", "address", -15, addresses_text },
	{ "HOST LINK", "host_link", -12 },
	{ "LINK", "host_link_up", -6, host_link_text },
	{ "INSIDE", "inside_up", -7, inside_text },
	{ "GSO_IPV4_MAX", "gso_ipv4_max_size", 0 },
};

static void id_text(json_t *row, char *buf, size_t len)
{
	json_t *entries = json_object_get(row, "max_entries");

	if (entries)
		snprintf(buf, len, "id %" JSON_INTEGER_FORMAT ", %" JSON_INTEGER_FORMAT " entries",
			 json_integer_value(json_object_get(row, "id")),
			 json_integer_value(entries));
	else
		snprintf(buf, len, "id %" JSON_INTEGER_FORMAT,
			 json_integer_value(json_object_get(row, "id")));
}

static void endpoint_text(json_t *row, char *buf, size_t len)
{
	snprintf(buf, len, "%s via %s (%" JSON_INTEGER_FORMAT ")%s",
		 json_string_value(json_object_get(row, "mac")),
		 json_string_value(json_object_get(row, "host_ifname")),
		 json_integer_value(json_object_get(row, "host_ifindex")),
		 json_is_true(json_object_get(row, "stand_in")) ? ", a stand-in: IPv6 alone" : "");
}

static void attachment_id_text(json_t *row, char *buf, size_t len)
{
	snprintf(buf, len, "id %" JSON_INTEGER_FORMAT "%s",
		 json_integer_value(json_object_get(row, "id")),
		 json_is_true(json_object_get(row, "current"))
		     ? ""
		     : " (stale: not the pinned program)");
}

static void cgroup_id_text(json_t *row, char *buf, size_t len)
{
	snprintf(buf, len, "id %" JSON_INTEGER_FORMAT ", link %" JSON_INTEGER_FORMAT "%s",
		 json_integer_value(json_object_get(row, "id")),
		 json_integer_value(json_object_get(row, "link_id")),
		 json_is_true(json_object_get(row, "attached")) ? "" : " (pinned, not attached)");
}

static const struct out_col pin_cols[] = {
	{ "", "name", -16 },
	{ "", "kind", -4 },
	{ "", "type", -14 },
	{ "", "id", 0, id_text },
};
static const struct out_col endpoint_cols[] = {
	{ "", "address", -15 },
	{ "", "mac", 0, endpoint_text },
};
static const struct out_col attachment_cols[] = {
	{ "", "ifname", -15 },
	{ "", "hook", -11 },
	{ "", "prog", -16 },
	{ "", "id", 0, attachment_id_text },
};
static const struct out_col cgroup_cols[] = {
	{ "", "hook", -15 },
	{ "", "prog", -16 },
	{ "", "id", 0, cgroup_id_text },
};

static void rfs_text(json_t *rfs, size_t n_namespaces)
{
	json_t *table = json_object_get(rfs, "host_table");
	json_int_t veths = json_integer_value(json_object_get(rfs, "veths"));
	json_t *uplink = json_object_get(rfs, "uplink_flow_cnt");
	char up[48] = "";

	if (!rfs)
		return;
	if (uplink)
		snprintf(up, sizeof(up), "; uplink %" JSON_INTEGER_FORMAT,
			 json_integer_value(uplink));
	if (veths)
		printf("  rfs on: %" JSON_INTEGER_FORMAT
		       " of %zu host-side veths steer up to %" JSON_INTEGER_FORMAT
		       " flows each to their readers' CPUs (host table %" JSON_INTEGER_FORMAT
		       "%s)\n",
		       veths, n_namespaces, json_integer_value(json_object_get(rfs, "flow_cnt")),
		       json_integer_value(table), up);
	else if (json_is_integer(table) && !json_integer_value(table))
		printf("  rfs off: the host's table (net.core.rps_sock_flow_entries) is 0; 'tuning "
		       "rfs' raises it\n");
	else if (!table)
		printf(
		    "  rfs off: the host's table (net.core.rps_sock_flow_entries) is not visible "
		    "here\n");
	else
		printf("  rfs off: host table %" JSON_INTEGER_FORMAT
		       "; 'fwdctl up' sets the veths\n",
		       json_integer_value(table));
}

static void status_text(json_t *doc, const char *pin_dir)
{
	json_t *v, *bpf;
	size_t i;

	printf("topology %s  datapath %s\n", json_string_value(json_object_get(doc, "topology")),
	       json_string_value(json_object_get(doc, "datapath")));
	if (!strcmp(json_string_value(json_object_get(doc, "host_namespace")), "gone"))
		printf("  its host namespace is gone: 'fwdctl down %s' removes what is left\n",
		       json_string_value(json_object_get(doc, "topology")));
	out_row(stdout, "  bridge ", OUT_COLS(link_cols), json_object_get(doc, "bridge"));
	if ((v = json_object_get(doc, "uplink")))
		out_row(stdout, "  uplink ", OUT_COLS(link_cols), v);
	out_table(stdout, "  ", OUT_COLS(namespace_cols), json_object_get(doc, "namespaces"), true);
	rfs_text(json_object_get(doc, "rfs"), json_array_size(json_object_get(doc, "namespaces")));
	v = json_object_get(doc, "routes");
	for (i = 0; i < json_array_size(v); i++) {
		json_t *r = json_array_get(v, i);

		printf("  route %s via %s  %s\n", json_string_value(json_object_get(r, "net")),
		       json_string_value(json_object_get(r, "via")),
		       json_is_true(json_object_get(r, "present"))
			   ? "in the host's routing table"
			   : "MISSING from the host's routing table");
	}
	if ((v = json_object_get(doc, "iptables"))) {
		printf("  iptables rules:\n");
		for (i = 0; i < json_array_size(v); i++)
			printf("    %s\n", json_string_value(json_array_get(v, i)));
	}
	if ((v = json_object_get(doc, "ebtables"))) {
		printf("  ebtables rules:\n");
		for (i = 0; i < json_array_size(v); i++)
			printf("    %s\n", json_string_value(json_array_get(v, i)));
	}
	bpf = json_object_get(doc, "bpf");
	if (!bpf)
		return;
	printf("pins %s:\n", pin_dir);
	out_table(stdout, "  ", OUT_COLS(pin_cols), json_object_get(bpf, "pins"), false);
	printf("endpoints:\n");
	out_table(stdout, "  ", OUT_COLS(endpoint_cols), json_object_get(bpf, "endpoints"), false);
	printf("attached:\n");
	out_table(stdout, "  ", OUT_COLS(attachment_cols), json_object_get(bpf, "attached"), false);
	v = json_object_get(bpf, "cgroup");
	if (json_array_size(json_object_get(v, "attached"))) {
		json_t *path = json_object_get(v, "path");

		printf("cgroup %s:\n",
		       json_is_string(path) ? json_string_value(path) : "(no cgroup v2 mounted)");
		out_table(stdout, "  ", OUT_COLS(cgroup_cols), json_object_get(v, "attached"),
			  false);
	}
}

int fwd_cmd_status(const struct fwd_cmdline *c, const struct fwd_opts *o)
{
	char names[256][FWD_TOPO_NAME_SIZE], pin_dir[PATH_MAX];
	json_t *all = NULL, *doc;
	int n = 1, ret = FWD_EXIT_OK;

	if (c->name[0])
		snprintf(names[0], sizeof(names[0]), "%s", c->name);
	else if (!(n = fwd_list_topologies_here(names, 256)))
		fwd_note("no topology is up in this host namespace");
	if (o->json && !c->name[0])
		all = json_array();
	for (int i = 0; i < n; i++) {
		doc = status_json(names[i]);
		if (!doc) {
			ret = FWD_EXIT_FAILURE;
			continue;
		}
		if (all) {
			json_array_append_new(all, doc);
		} else if (o->json) {
			out_json(doc);
		} else {
			if (i)
				printf("\n");
			snprintf(pin_dir, sizeof(pin_dir), "%s/%s", FWD_PIN_ROOT, names[i]);
			status_text(doc, pin_dir);
			json_decref(doc);
		}
	}
	if (all)
		out_json(all);
	return ret;
}

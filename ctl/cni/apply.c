// SPDX-License-Identifier: GPL-2.0
/*
 * A CNI network as a fwd topology: the text fwd-cni writes (FWD_CNI_DIR/TOPOLOGY.conf, also
 * what `fwdctl check` would read), parsed by the topology parser and brought up by `fwdctl
 * up`'s code; with no container left, taken down by `fwdctl down`'s.
 */
#include "cni.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fwd_buf.h"
#include "fwdctl.h"
#include "netns.h"
#include "topo.h"

/* The topology text of @nc with the containers of @s. */
static void topology_text(const struct cni_netconf *nc, const struct cni_state *s,
			  struct fwd_buf *b)
{
	char ip[INET_ADDRSTRLEN];

	fwd_buf_printf(b, "# written by fwd-cni for CNI network %s; edits are overwritten\n",
		       nc->name);
	fwd_buf_printf(b, "topology %s\ndatapath %s\n", nc->topology,
		       nc->datapath == FWD_DATAPATH_KERNEL ? "kernel" : "bpf");
	fwd_buf_printf(b, "bridge %s %s/%u\n", nc->bridge,
		       inet_ntop(AF_INET, &nc->gateway, ip, sizeof(ip)), nc->subnet.prefix);
	if (nc->uplink[0])
		fwd_buf_printf(b, "uplink %s\n", nc->uplink);
	if (nc->masquerade)
		fwd_buf_printf(b, "masquerade %s/%u\n",
			       inet_ntop(AF_INET, &nc->subnet.addr, ip, sizeof(ip)),
			       nc->subnet.prefix);
	for (size_t i = 0; i < nc->n_routes; i++) {
		const struct fwd_route *r = &nc->routes[i];
		char via[INET_ADDRSTRLEN];

		fwd_buf_printf(b, "route %s/%u via %s\n",
			       inet_ntop(AF_INET, &r->net.addr, ip, sizeof(ip)), r->net.prefix,
			       inet_ntop(AF_INET, &r->via, via, sizeof(via)));
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct cni_container *c = &s->c[i];

		/* A container whose namespace went without a DEL is left out (GC forgets it):
		 * up would make a namespace of that name. */
		if (!netns_exists(c->netns))
			continue;
		fwd_buf_printf(b, "namespace %s %s\n", c->netns,
			       inet_ntop(AF_INET, &c->addr, ip, sizeof(ip)));
		for (size_t k = 0; k < c->n_ports; k++) {
			const struct cni_port *p = &c->ports[k];

			fwd_buf_printf(b, "forward %s ", p->proto == IPPROTO_UDP ? "udp" : "tcp");
			if (p->host_ip)
				fwd_buf_printf(
				    b, "%s:", inet_ntop(AF_INET, &p->host_ip, ip, sizeof(ip)));
			fwd_buf_printf(b, "%u %s:%u\n", p->host_port, c->netns, p->container_port);
		}
	}
}

/* Write @text to FWD_CNI_DIR/TOPOLOGY.conf (for people: the topology itself is what
 * `up` saves), its path into @path. */
static void write_text(const struct cni_netconf *nc, const struct fwd_buf *b, char *path,
		       size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s.conf", FWD_CNI_DIR, nc->topology);
	f = fopen(path, "we");
	if (f) {
		fwrite(b->data, 1, b->len, f);
		fclose(f);
	}
}

static int topology_down(const struct cni_netconf *nc, struct cni_error *e)
{
	struct fwd_cmdline c = { 0 };
	struct fwd_opts o = { .quiet = true };
	char path[160];
	int ret;

	if (fwd_topology_hostns(nc->topology) == FWD_HOSTNS_UNKNOWN)
		return 0; /* not up: nothing to take down */
	c.names = calloc(1, sizeof(*c.names));
	if (!c.names)
		return cni_fail(e, CNI_ERR_IO, "out of memory");
	strcpy(c.names[0], nc->topology);
	c.n_names = 1;
	ret = fwd_cmd_down(&c, &o);
	free(c.names);
	snprintf(path, sizeof(path), "%s/%s.conf", FWD_CNI_DIR, nc->topology);
	unlink(path);
	if (ret)
		return cni_fail(e, CNI_ERR_UP, "fwd: down of topology %s failed (stderr says why)",
				nc->topology);
	return 0;
}

int cni_apply(const struct cni_netconf *nc, const struct cni_state *s, struct cni_error *e)
{
	struct fwd_cmdline c = { 0 };
	struct fwd_opts o = { .quiet = true };
	struct fwd_buf b = { 0 };
	char path[160], *errs = NULL;
	size_t errs_len = 0, live = 0;
	FILE *err;
	int ret;

	for (size_t i = 0; i < s->n; i++)
		live += netns_exists(s->c[i].netns);
	if (!live)
		return topology_down(nc, e);
	topology_text(nc, s, &b);
	if (b.err || !b.data) {
		fwd_buf_free(&b);
		return cni_fail(e, CNI_ERR_IO, "out of memory");
	}
	write_text(nc, &b, path, sizeof(path));
	/* The parser's messages go into the error's details. */
	err = open_memstream(&errs, &errs_len);
	if (!err) {
		fwd_buf_free(&b);
		return cni_fail(e, CNI_ERR_IO, "out of memory");
	}
	ret = topo_parse_buf(&c.topology, path, b.data, b.len, err);
	fclose(err);
	fwd_buf_free(&b);
	if (ret) {
		cni_fail(e, CNI_ERR_CONFIG, "the network makes an invalid fwd topology");
		snprintf(e->details, sizeof(e->details), "%s", errs ? errs : "");
		free(errs);
		return -1;
	}
	free(errs);
	ret = fwd_cmd_up(&c, &o);
	topo_free(&c.topology);
	if (ret)
		return cni_fail(e, ret == FWD_EXIT_USAGE ? CNI_ERR_CONFIG : CNI_ERR_UP,
				"fwd: up of topology %s failed (stderr says why)", nc->topology);
	return 0;
}

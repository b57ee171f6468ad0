// SPDX-License-Identifier: GPL-2.0
/* The topology model's queries and its normalised text and JSON forms (`fwdctl check`). */
#include "topo.h"

#include <arpa/inet.h>
#include <string.h>

const char *fwd_ip_str(in_addr_t addr)
{
	static char bufs[4][INET_ADDRSTRLEN];
	static unsigned int slot;
	char *b = bufs[slot++ % 4];

	inet_ntop(AF_INET, &addr, b, INET_ADDRSTRLEN);
	return b;
}

const struct fwd_namespace *topo_namespace_find(const struct fwd_topology *t, const char *name)
{
	for (size_t i = 0; i < t->n_namespaces; i++)
		if (!strcmp(t->namespaces[i].name, name))
			return &t->namespaces[i];
	return NULL;
}

static const char *proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "tcp" : "udp";
}

static const char *datapath_name(enum fwd_datapath d)
{
	return d == FWD_DATAPATH_KERNEL ? "kernel" : "bpf";
}

/* "80" or "8000-8009" */
static void port_range_str(char *buf, size_t len, uint16_t lo, uint16_t hi)
{
	if (lo == hi)
		snprintf(buf, len, "%u", lo);
	else
		snprintf(buf, len, "%u-%u", lo, hi);
}

void topo_print(const struct fwd_topology *t, FILE *out)
{
	fprintf(out, "topology %s\n", t->name);
	fprintf(out, "datapath %s\n", datapath_name(t->datapath));
	fprintf(out, "bridge %s %s/%u\n", t->bridge, fwd_ip_str(t->gateway.addr),
		t->gateway.prefix);
	if (t->uplink[0])
		fprintf(out, "uplink %s\n", t->uplink);
	for (size_t i = 0; i < t->n_masquerades; i++)
		fprintf(out, "masquerade %s/%u\n", fwd_ip_str(t->masquerades[i].net.addr),
			t->masquerades[i].net.prefix);
	for (size_t i = 0; i < t->n_namespaces; i++)
		fprintf(out, "namespace %s %s\n", t->namespaces[i].name,
			fwd_ip_str(t->namespaces[i].addr));
	for (size_t i = 0; i < t->n_forwards; i++) {
		const struct fwd_forward *f = &t->forwards[i];
		char ports[16];

		port_range_str(ports, sizeof(ports), f->port_lo, f->port_hi);
		fprintf(out, "forward %s %s %s:%u\n", proto_name(f->proto), ports,
			t->namespaces[f->ns].name, f->to_port);
	}
}

json_t *topo_to_json(const struct fwd_topology *t)
{
	json_t *masq = json_array(), *nss = json_array(), *fwds = json_array();
	char buf[32];

	for (size_t i = 0; i < t->n_masquerades; i++) {
		snprintf(buf, sizeof(buf), "%s/%u", fwd_ip_str(t->masquerades[i].net.addr),
			 t->masquerades[i].net.prefix);
		json_array_append_new(masq, json_string(buf));
	}
	for (size_t i = 0; i < t->n_namespaces; i++)
		json_array_append_new(nss, json_pack("{s:s, s:s}", "name", t->namespaces[i].name,
						     "address", fwd_ip_str(t->namespaces[i].addr)));
	for (size_t i = 0; i < t->n_forwards; i++) {
		const struct fwd_forward *f = &t->forwards[i];

		json_array_append_new(
		    fwds, json_pack("{s:s, s:i, s:i, s:s, s:i, s:i}", "proto", proto_name(f->proto),
				    "port", f->port_lo, "port_end", f->port_hi, "namespace",
				    t->namespaces[f->ns].name, "to_port", f->to_port, "to_port_end",
				    f->to_port + (f->port_hi - f->port_lo)));
	}
	snprintf(buf, sizeof(buf), "%s/%u", fwd_ip_str(t->gateway.addr), t->gateway.prefix);
	/* "o" takes the arrays over; json_pack frees them when it fails. */
	return json_pack("{s:s, s:s, s:{s:s, s:s}, s:s?, s:o, s:o, s:o}", "topology", t->name,
			 "datapath", datapath_name(t->datapath), "bridge", "name", t->bridge,
			 "address", buf, "uplink", t->uplink[0] ? t->uplink : NULL, "masquerade",
			 masq, "namespaces", nss, "forwards", fwds);
}

// SPDX-License-Identifier: GPL-2.0
/* A decoded frame in output: the members monitor's drops and capture's copies share. */
#include "frame.h"
#include "fwdctl.h"
#include "names.h"
#include "output.h"
#include "topo.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *frame_proto_json(uint8_t proto)
{
	const char *name = fwd_ct_proto_name(proto);

	return strcmp(name, "?") ? json_string(name) : json_integer(proto);
}

void frame_json_add(json_t *doc, const struct fwd_frame_info *f)
{
	if (f->ethertype)
		json_object_set_new(doc, "ethertype", json_integer(f->ethertype));
	if (f->has_ip) {
		json_object_set_new(doc, "proto", frame_proto_json(f->proto));
		json_object_set_new(doc, "src",
				    json_string(f->tuple.v6 ? fwd_ip6_str(&f->tuple.src6)
							    : fwd_ip_str(f->tuple.src)));
		json_object_set_new(doc, "dst",
				    json_string(f->tuple.v6 ? fwd_ip6_str(&f->tuple.dst6)
							    : fwd_ip_str(f->tuple.dst)));
	}
	if (f->has_ports) {
		json_object_set_new(doc, "sport", json_integer(f->tuple.sport));
		json_object_set_new(doc, "dport", json_integer(f->tuple.dport));
	}
	if (f->has_icmp) {
		json_object_set_new(doc, "icmp_type", json_integer(f->icmp_type));
		json_object_set_new(doc, "icmp_code", json_integer(f->icmp_code));
	}
}

void frame_flow_text(json_t *doc, char *buf, size_t len)
{
	json_t *sport = json_object_get(doc, "sport"), *dport = json_object_get(doc, "dport");
	const char *src = json_string_value(json_object_get(doc, "src"));
	const char *dst = json_string_value(json_object_get(doc, "dst"));

	if (!src || !dst)
		snprintf(buf, len, "-");
	else if (sport && dport && strchr(src, ':')) /* IPv6: [ADDR]:PORT, as fwdctl ct writes */
		snprintf(buf, len, "[%s]:%" JSON_INTEGER_FORMAT " -> [%s]:%" JSON_INTEGER_FORMAT,
			 src, json_integer_value(sport), dst, json_integer_value(dport));
	else if (sport && dport)
		snprintf(buf, len, "%s:%" JSON_INTEGER_FORMAT " -> %s:%" JSON_INTEGER_FORMAT, src,
			 json_integer_value(sport), dst, json_integer_value(dport));
	else
		snprintf(buf, len, "%s -> %s", src, dst);
}

void frame_text(json_t *doc, char *buf, size_t len)
{
	json_t *icmp = json_object_get(doc, "icmp_type"), *proto = json_object_get(doc, "proto");
	char p[16], flow[128];
	int n;

	if (!json_object_get(doc, "src")) {
		json_t *et = json_object_get(doc, "ethertype");

		if (et)
			snprintf(buf, len, "ethertype 0x%04llx",
				 (unsigned long long)json_integer_value(et));
		else
			snprintf(buf, len, "runt");
		return;
	}
	out_value_text(proto, p, sizeof(p));
	frame_flow_text(doc, flow, sizeof(flow));
	n = snprintf(buf, len, "%s %s", p, flow);
	if (icmp && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n,
			 " type %" JSON_INTEGER_FORMAT " code %" JSON_INTEGER_FORMAT,
			 json_integer_value(icmp),
			 json_integer_value(json_object_get(doc, "icmp_code")));
}

int frame_ns_map_build(const struct fwd_topology *t, struct frame_ns_map *m)
{
	m->t = t;
	m->ifindex = calloc(t->n_namespaces + 1, sizeof(*m->ifindex));
	if (!m->ifindex)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_namespaces; i++) {
		char veth[IF_NAMESIZE];

		fwd_host_veth_name(t->name, t->namespaces[i].name, veth);
		m->ifindex[i] = (int)if_nametoindex(veth);
	}
	return 0;
}

const char *frame_ns_of(const struct frame_ns_map *m, int ifindex)
{
	for (size_t i = 0; m->ifindex && ifindex > 0 && i < m->t->n_namespaces; i++)
		if (m->ifindex[i] == ifindex)
			return m->t->namespaces[i].name;
	return NULL;
}

void frame_ns_map_free(struct frame_ns_map *m)
{
	free(m->ifindex);
	m->ifindex = NULL;
}

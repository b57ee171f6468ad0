// SPDX-License-Identifier: GPL-2.0
/* The topology model's queries and its normalised text and JSON forms (`fwdctl check`). */
#include "topo.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <string.h>

const struct topo_ct_state topo_ct_states[] = {
#define TOPO_X_STATE(name, member) { name, offsetof(struct fwd_ct_timeouts, member) },
	FWD_CT_TIMEOUT_STATES(TOPO_X_STATE)
#undef TOPO_X_STATE
};
const size_t topo_n_ct_states = sizeof(topo_ct_states) / sizeof(topo_ct_states[0]);

/* The timeout of state @i in @t, and its default. */
static __u32 ct_timeout_of(const struct fwd_topology *t, size_t i, __u32 *def)
{
	struct fwd_ct_timeouts defaults = FWD_CT_TIMEOUTS_DEFAULT, mine = t->ct_timeouts;

	*def = *topo_ct_timeout(&defaults, &topo_ct_states[i]);
	return *topo_ct_timeout(&mine, &topo_ct_states[i]);
}

static bool snat_ports_default(const struct fwd_topology *t)
{
	return t->snat_port_lo == FWD_NAT_PORT_LO && t->snat_port_hi == FWD_NAT_PORT_HI;
}

const char *fwd_ip_str(in_addr_t addr)
{
	static char bufs[4][INET_ADDRSTRLEN];
	static unsigned int slot;
	char *b = bufs[slot++ % 4];

	inet_ntop(AF_INET, &addr, b, INET_ADDRSTRLEN);
	return b;
}

const char *fwd_ip6_str(const struct in6_addr *addr)
{
	static char bufs[4][INET6_ADDRSTRLEN];
	static unsigned int slot;
	char *b = bufs[slot++ % 4];

	inet_ntop(AF_INET6, addr, b, INET6_ADDRSTRLEN);
	return b;
}

const struct fwd_namespace *topo_namespace_of(const struct fwd_topology *t, in_addr_t addr)
{
	for (size_t i = 0; i < t->n_namespaces; i++)
		if (t->namespaces[i].addr == addr)
			return &t->namespaces[i];
	return NULL;
}

const char *topo_namespace_name(const struct fwd_topology *t, in_addr_t addr)
{
	const struct fwd_namespace *ns = topo_namespace_of(t, addr);

	return ns ? ns->name : "?";
}

const char *topo_namespace_addr_str(const struct fwd_namespace *ns)
{
	return ns->v6only ? fwd_ip6_str(&ns->addr6) : fwd_ip_str(ns->addr);
}

const struct fwd_namespace *topo_namespace_find(const struct fwd_topology *t, const char *name)
{
	for (size_t i = 0; i < t->n_namespaces; i++)
		if (!strcmp(t->namespaces[i].name, name))
			return &t->namespaces[i];
	return NULL;
}

/* An allow line's SRC as the file names it: a namespace, or a routed subnet (static buffers:
 * fwd_ip_str()'s four). */
static const char *allow_src_str(const struct fwd_topology *t, const struct fwd_allow *a)
{
	static char buf[4][INET_ADDRSTRLEN + 4];
	static unsigned int slot;
	char *b = buf[slot++ % 4];

	if (!a->from_route)
		return topo_namespace_name(t, a->src);
	snprintf(b, sizeof(buf[0]), "%s/%u", fwd_ip_str(a->src), a->src_prefix);
	return b;
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
	fprintf(out, "bridge %s", t->bridge);
	if (!t->v6only)
		fprintf(out, " %s/%u", fwd_ip_str(t->gateway.addr), t->gateway.prefix);
	if (t->has6)
		fprintf(out, " %s/%u", fwd_ip6_str(&t->gateway6.addr), t->gateway6.prefix);
	fputc('\n', out);
	if (t->uplink[0])
		fprintf(out, "uplink %s\n", t->uplink);
	for (size_t i = 0; i < t->n_masquerades; i++)
		fprintf(out, "masquerade %s/%u\n", fwd_ip_str(t->masquerades[i].net.addr),
			t->masquerades[i].net.prefix);
	for (size_t i = 0; i < t->n_masquerades6; i++)
		fprintf(out, "masquerade %s/%u\n", fwd_ip6_str(&t->masquerades6[i].net.addr),
			t->masquerades6[i].net.prefix);
	for (size_t i = 0; i < t->n_routes; i++)
		fprintf(out, "route %s/%u via %s\n", fwd_ip_str(t->routes[i].net.addr),
			t->routes[i].net.prefix, fwd_ip_str(t->routes[i].via));
	for (size_t i = 0; i < t->n_namespaces; i++) {
		const struct fwd_namespace *ns = &t->namespaces[i];

		fprintf(out, "namespace %s", ns->name);
		if (!ns->v6only)
			fprintf(out, " %s", fwd_ip_str(ns->addr));
		if (ns->has6)
			fprintf(out, " %s", fwd_ip6_str(&ns->addr6));
		fputc('\n', out);
	}
	for (size_t i = 0; i < t->n_forwards; i++) {
		const struct fwd_forward *f = &t->forwards[i];
		char ports[16];

		port_range_str(ports, sizeof(ports), f->port_lo, f->port_hi);
		if (f->has_addr6)
			fprintf(out, "forward %s [%s]:%s %s:%u", proto_name(f->proto),
				fwd_ip6_str(&f->addr6), ports, t->namespaces[f->ns].name,
				f->to_port);
		else
			fprintf(out, "forward %s %s%s%s %s:%u", proto_name(f->proto),
				f->addr ? fwd_ip_str(f->addr) : "", f->addr ? ":" : "", ports,
				t->namespaces[f->ns].name, f->to_port);
		for (size_t k = 0; k < f->n_from; k++)
			fprintf(out, "%s%s/%u", k ? "," : " from ", fwd_ip_str(f->from[k].addr),
				f->from[k].prefix);
		if (f->xdp)
			fputs(" xdp", out);
		fputc('\n', out);
	}
	if (t->isolate)
		fprintf(out, "isolate\n");
	for (size_t i = 0; i < t->n_allows; i++) {
		const struct fwd_allow *a = &t->allows[i];
		char ports[16];

		fprintf(out, "allow %s -> %s", allow_src_str(t, a), topo_namespace_name(t, a->dst));
		if (a->proto) {
			port_range_str(ports, sizeof(ports), a->port_lo, a->port_hi);
			fprintf(out, " %s %s", proto_name(a->proto), ports);
		}
		fputc('\n', out);
	}
	/* Settings only where they differ from the defaults: files without them print as
	 * they always did. */
	if (t->ct_max != FWD_CT_MAX_CONNS)
		fprintf(out, "conntrack max %u\n", t->ct_max);
	if (t->ct_per_ns)
		fprintf(out, "conntrack per-namespace %u\n", t->ct_per_ns);
	for (size_t i = 0; i < topo_n_ct_states; i++) {
		__u32 def, v = ct_timeout_of(t, i, &def);

		if (v != def)
			fprintf(out, "conntrack timeout %s %u\n", topo_ct_states[i].name, v);
	}
	if (!snat_ports_default(t))
		fprintf(out, "snat-ports %u-%u\n", t->snat_port_lo, t->snat_port_hi);
	if (t->tuning_rfs)
		fputs("tuning rfs\n", out);
}

/* {"max": N, "per_namespace": N, "timeout": {STATE: SECONDS, ...}} with what differs from the
 * defaults; NULL when nothing does. */
static json_t *ct_settings_json(const struct fwd_topology *t)
{
	json_t *o = json_object(), *timeouts = json_object();

	if (t->ct_max != FWD_CT_MAX_CONNS)
		json_object_set_new(o, "max", json_integer(t->ct_max));
	if (t->ct_per_ns)
		json_object_set_new(o, "per_namespace", json_integer(t->ct_per_ns));
	for (size_t i = 0; i < topo_n_ct_states; i++) {
		__u32 def, v = ct_timeout_of(t, i, &def);

		if (v != def)
			json_object_set_new(timeouts, topo_ct_states[i].name, json_integer(v));
	}
	if (json_object_size(timeouts))
		json_object_set(o, "timeout", timeouts);
	json_decref(timeouts);
	if (!json_object_size(o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *topo_to_json(const struct fwd_topology *t)
{
	json_t *masq = json_array(), *nss = json_array(), *fwds = json_array(), *doc, *ct;
	char buf[INET6_ADDRSTRLEN + 4];

	for (size_t i = 0; i < t->n_masquerades; i++) {
		snprintf(buf, sizeof(buf), "%s/%u", fwd_ip_str(t->masquerades[i].net.addr),
			 t->masquerades[i].net.prefix);
		json_array_append_new(masq, json_string(buf));
	}
	for (size_t i = 0; i < t->n_masquerades6; i++) {
		snprintf(buf, sizeof(buf), "%s/%u", fwd_ip6_str(&t->masquerades6[i].net.addr),
			 t->masquerades6[i].net.prefix);
		json_array_append_new(masq, json_string(buf));
	}
	for (size_t i = 0; i < t->n_namespaces; i++) {
		const struct fwd_namespace *ns = &t->namespaces[i];

		json_array_append_new(
		    nss, json_pack("{s:s, s:s*, s:s*}", "name", ns->name, "address",
				   ns->v6only ? NULL : fwd_ip_str(ns->addr), "address6",
				   ns->has6 ? fwd_ip6_str(&ns->addr6) : NULL));
	}
	for (size_t i = 0; i < t->n_forwards; i++) {
		const struct fwd_forward *f = &t->forwards[i];
		json_t *fj = json_pack(
		    "{s:s, s:i, s:i, s:s, s:i, s:i}", "proto", proto_name(f->proto), "port",
		    f->port_lo, "port_end", f->port_hi, "namespace", t->namespaces[f->ns].name,
		    "to_port", f->to_port, "to_port_end", f->to_port + (f->port_hi - f->port_lo));

		if (fj && f->addr)
			json_object_set_new(fj, "address", json_string(fwd_ip_str(f->addr)));
		if (fj && f->has_addr6)
			json_object_set_new(fj, "address6", json_string(fwd_ip6_str(&f->addr6)));
		if (fj && f->n_from) {
			json_t *from = json_array();

			for (size_t k = 0; k < f->n_from; k++) {
				snprintf(buf, sizeof(buf), "%s/%u", fwd_ip_str(f->from[k].addr),
					 f->from[k].prefix);
				json_array_append_new(from, json_string(buf));
			}
			json_object_set_new(fj, "from", from);
		}
		if (fj && f->xdp)
			json_object_set_new(fj, "xdp", json_true());
		json_array_append_new(fwds, fj);
	}
	char buf6[INET6_ADDRSTRLEN + 4];

	snprintf(buf, sizeof(buf), "%s/%u", fwd_ip_str(t->gateway.addr), t->gateway.prefix);
	snprintf(buf6, sizeof(buf6), "%s/%u", fwd_ip6_str(&t->gateway6.addr), t->gateway6.prefix);
	/* "o" takes the arrays over; json_pack frees them when it fails. */
	doc = json_pack("{s:s, s:s, s:{s:s, s:s*, s:s*}, s:s?, s:o, s:o, s:o}", "topology", t->name,
			"datapath", datapath_name(t->datapath), "bridge", "name", t->bridge,
			"address", t->v6only ? NULL : buf, "address6", t->has6 ? buf6 : NULL,
			"uplink", t->uplink[0] ? t->uplink : NULL, "masquerade", masq, "namespaces",
			nss, "forwards", fwds);
	/* The settings as the text form has them: only where they differ from the defaults. */
	if (doc && (ct = ct_settings_json(t)))
		json_object_set_new(doc, "conntrack", ct);
	if (doc && t->isolate) {
		json_t *allows = json_array();

		for (size_t i = 0; i < t->n_allows; i++) {
			const struct fwd_allow *a = &t->allows[i];
			json_t *aj = json_pack("{s:s, s:s}", "from", allow_src_str(t, a), "to",
					       topo_namespace_name(t, a->dst));

			if (aj && a->proto) {
				json_object_set_new(aj, "proto", json_string(proto_name(a->proto)));
				json_object_set_new(aj, "port", json_integer(a->port_lo));
				json_object_set_new(aj, "port_end", json_integer(a->port_hi));
			}
			json_array_append_new(allows, aj);
		}
		json_object_set_new(doc, "isolate", json_true());
		json_object_set_new(doc, "allow", allows);
	}
	if (doc && t->n_routes) {
		json_t *routes = json_array();

		for (size_t i = 0; i < t->n_routes; i++) {
			snprintf(buf, sizeof(buf), "%s/%u", fwd_ip_str(t->routes[i].net.addr),
				 t->routes[i].net.prefix);
			json_array_append_new(routes, json_pack("{s:s, s:s}", "net", buf, "via",
								fwd_ip_str(t->routes[i].via)));
		}
		json_object_set_new(doc, "routes", routes);
	}
	if (doc && !snat_ports_default(t))
		json_object_set_new(
		    doc, "snat_ports",
		    json_pack("{s:i, s:i}", "port", t->snat_port_lo, "port_end", t->snat_port_hi));
	if (doc && t->tuning_rfs)
		json_object_set_new(doc, "tuning", json_pack("[s]", "rfs"));
	return doc;
}

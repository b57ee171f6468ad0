// SPDX-License-Identifier: GPL-2.0
/* fwdctl ct: the BPF datapath's tracked connections of one topology, or their flush. */
#include "fwd_loader.h"
#include "fwd_log.h"
#include "fwdctl.h"
#include "output.h"
#include "topo.h"

#include <errno.h>
#include <string.h>

const char *fwd_ct_proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	default: return "?";
	}
}

const char *fwd_ct_nat_name(uint8_t nat)
{
	switch (nat) {
	case FWD_CT_NAT_SNAT: return "snat";
	case FWD_CT_NAT_DNAT: return "dnat";
	case FWD_CT_NAT_NONE: return "none"; /* isolate's: tracked, not translated */
	default: return "?";
	}
}

json_t *fwd_ct_tuple_json(const struct fwd_ct_tuple *t)
{
	return json_pack("{s:s, s:i, s:s, s:i}", "src",
			 t->v6 ? fwd_ip6_str(&t->src6) : fwd_ip_str(t->src), "sport", t->sport,
			 "dst", t->v6 ? fwd_ip6_str(&t->dst6) : fwd_ip_str(t->dst), "dport",
			 t->dport);
}

static int ct_row(const struct fwd_ct_conn *c, void *rows)
{
	return out_append(rows,
			  json_pack("{s:s, s:s, s:o, s:o, s:s, s:I, s:I, s:b}", "proto",
				    fwd_ct_proto_name(c->proto), "nat", fwd_ct_nat_name(c->nat),
				    "original", fwd_ct_tuple_json(&c->original), "translated",
				    fwd_ct_tuple_json(&c->translated), "state", c->state,
				    "seconds_left", (json_int_t)c->seconds_left, "age",
				    (json_int_t)c->age, "assured", c->assured));
}

/* "src:sport -> dst:dport" of the tuple member @key of @row; an IPv6 address in brackets. */
static void ct_tuple_text(json_t *row, const char *key, char *buf, size_t len)
{
	json_t *t = json_object_get(row, key);
	const char *src = json_string_value(json_object_get(t, "src"));
	const char *dst = json_string_value(json_object_get(t, "dst"));
	bool v6 = src && strchr(src, ':');

	snprintf(buf, len, "%s%s%s:%" JSON_INTEGER_FORMAT " -> %s%s%s:%" JSON_INTEGER_FORMAT,
		 v6 ? "[" : "", src, v6 ? "]" : "", json_integer_value(json_object_get(t, "sport")),
		 v6 ? "[" : "", dst, v6 ? "]" : "",
		 json_integer_value(json_object_get(t, "dport")));
}

static void ct_original_text(json_t *row, char *buf, size_t len)
{
	ct_tuple_text(row, "original", buf, len);
}

static void ct_translated_text(json_t *row, char *buf, size_t len)
{
	ct_tuple_text(row, "translated", buf, len);
}

static void ct_expires_text(json_t *row, char *buf, size_t len)
{
	snprintf(buf, len, "%9" JSON_INTEGER_FORMAT "s%s",
		 json_integer_value(json_object_get(row, "seconds_left")),
		 json_is_true(json_object_get(row, "assured")) ? " assured" : "");
}

static const struct out_col ct_cols[] = {
	{ "PROTO", "proto", -5 },
	{ "ORIGINAL", "original", -45, ct_original_text },
	{ "TRANSLATED", "translated", -45, ct_translated_text },
	{ "STATE", "state", -12 },
	{ "   EXPIRES", "seconds_left", 0, ct_expires_text },
};

/* ct [NAME] flush [proto P] [port N] [namespace NS]: an exit status. */
static int ct_flush(const struct fwd_cmdline *c, const struct fwd_opts *o,
		    const struct fwd_topology *t)
{
	struct fwd_ct_filter f = { .proto = c->flush_proto, .port = c->flush_port };
	size_t n = 0;
	int ret;

	if (c->flush_ns[0]) {
		const struct fwd_namespace *ns = topo_namespace_find(t, c->flush_ns);

		if (!ns) {
			fwd_err("ct flush: namespace '%s' is not in topology %s", c->flush_ns,
				t->name);
			return FWD_EXIT_USAGE;
		}
		f.ns_addr = ns->addr;
		f.ns_addr6 = ns->addr6;
		f.ns_has6 = ns->has6;
	}
	ret = loader_ct_flush(t->name, &f, &n);
	if (ret)
		return FWD_EXIT_FAILURE;
	if (o->json)
		return out_json(
			   json_pack("{s:s, s:I}", "topology", t->name, "flushed", (json_int_t)n))
			   ? FWD_EXIT_FAILURE
			   : FWD_EXIT_OK;
	fwd_note("topology %s: %zu connection%s flushed", t->name, n, n == 1 ? "" : "s");
	return FWD_EXIT_OK;
}

int fwd_cmd_ct(const struct fwd_cmdline *c, const struct fwd_opts *o)
{
	struct fwd_topology t;
	json_t *rows;
	int ret;

	ret = fwd_pick_topology(c->name, "ct", true,
				"its connections are nf_conntrack's ('conntrack -L')", &t);
	if (ret)
		return ret;
	if (c->flush) {
		ret = ct_flush(c, o, &t);
		topo_free(&t);
		return ret;
	}
	rows = json_array();
	ret = rows ? loader_ct_walk(t.name, ct_row, rows) : -ENOMEM;
	if (ret == -ENOMEM)
		fwd_fail(ret, "ct", "cannot build the output");
	if (!ret && o->json)
		ret = out_json(json_pack("{s:s, s:O, s:i}", "topology", t.name, "connections", rows,
					 "count", (int)json_array_size(rows)));
	else if (!ret)
		out_table(stdout, "", OUT_COLS(ct_cols), rows, true);
	json_decref(rows);
	topo_free(&t);
	return ret ? FWD_EXIT_FAILURE : FWD_EXIT_OK;
}

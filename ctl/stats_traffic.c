// SPDX-License-Identifier: GPL-2.0
/*
 * fwdctl stats, per namespace and per forward: what each namespace sent, what was delivered
 * into it and what of its own was dropped (by reason), what went through each forward to its
 * target and back; since the topology's last up, which numbers them in the file's order.
 */
#include "stats_traffic.h"
#include "fwd_loader.h"
#include "fwd_log.h"
#include "output.h"
#include "topo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static const struct out_col ns_cols[] = {
	{ "NAMESPACE", "namespace", -20 }, { "SENT", "sent_packets", 12 },
	{ "BYTES", "sent_bytes", 15 },	   { "RECEIVED", "received_packets", 12 },
	{ "BYTES", "received_bytes", 15 }, { "DROPPED", "dropped_packets", 10 },
};

static const struct out_col fwd_cols[] = {
	{ "FORWARD", "forward", -36 }, { "IN", "in_packets", 12 },   { "BYTES", "in_bytes", 15 },
	{ "OUT", "out_packets", 12 },  { "BYTES", "out_bytes", 15 },
};

int stats_forward_text(const struct fwd_topology *t, const struct fwd_forward *f, char *buf,
		       size_t len)
{
	char range[16];

	if (f->port_lo == f->port_hi)
		snprintf(range, sizeof(range), "%u", f->port_lo);
	else
		snprintf(range, sizeof(range), "%u-%u", f->port_lo, f->port_hi);
	if (f->has_addr6)
		return snprintf(buf, len, "%s %s %s:%u on [%s]",
				f->proto == IPPROTO_TCP ? "tcp" : "udp", range,
				t->namespaces[f->ns].name, f->to_port, fwd_ip6_str(&f->addr6));
	return snprintf(buf, len, "%s %s %s:%u%s%s", f->proto == IPPROTO_TCP ? "tcp" : "udp", range,
			t->namespaces[f->ns].name, f->to_port, f->addr ? " on " : "",
			f->addr ? fwd_ip_str(f->addr) : "");
}

/* The drops of one namespace by reason (@v: FWD_CNT_MAX of them), and their total. */
static json_t *ns_drops(const struct fwd_counter_val *v, uint64_t *total)
{
	json_t *drops = json_array();

	*total = 0;
	for (unsigned int c = 0; c < FWD_CNT_MAX && drops; c++) {
		if (!v[c].packets)
			continue;
		*total += v[c].packets;
		if (out_append(drops, json_pack("{s:s, s:I, s:I}", "reason", loader_counter_name(c),
						"packets", (json_int_t)v[c].packets, "bytes",
						(json_int_t)v[c].bytes))) {
			json_decref(drops);
			return NULL;
		}
	}
	return drops;
}

int stats_traffic_rows(const struct fwd_topology *t, json_t **ns_out, json_t **fwd_out)
{
	size_t n_ns = t->n_namespaces < FWD_MAX_ENDPOINTS ? t->n_namespaces : FWD_MAX_ENDPOINTS;
	size_t n_fwd = t->n_forwards < FWD_MAX_RULES - 1 ? t->n_forwards : FWD_MAX_RULES - 1;
	struct fwd_traffic *ns = calloc(n_ns + 1, sizeof(*ns));
	struct fwd_traffic *fwd = calloc(n_fwd + 1, sizeof(*fwd));
	struct fwd_counter_val *drops = calloc(n_ns * FWD_CNT_MAX + 1, sizeof(*drops));
	json_t *ns_rows = json_array(), *fwd_rows = json_array();
	int ret = ns && fwd && drops && ns_rows && fwd_rows ? 0 : -ENOMEM;

	*ns_out = *fwd_out = NULL;
	if (!ret)
		ret = loader_traffic_read(t->name, n_ns, ns, n_fwd, fwd);
	if (!ret)
		ret = loader_ns_drops_read(t->name, n_ns, drops);
	for (size_t i = 0; i < n_ns && !ret; i++) {
		const struct fwd_traffic *v = &ns[i];
		uint64_t dropped;
		json_t *d = ns_drops(&drops[i * FWD_CNT_MAX], &dropped);

		ret = d ? out_append(ns_rows,
				     json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:o}",
					       "namespace", t->namespaces[i].name, "address",
					       topo_namespace_addr_str(&t->namespaces[i]),
					       "sent_packets", (json_int_t)v->out_packets,
					       "sent_bytes", (json_int_t)v->out_bytes,
					       "received_packets", (json_int_t)v->in_packets,
					       "received_bytes", (json_int_t)v->in_bytes,
					       "dropped_packets", (json_int_t)dropped, "drops", d))
			: -ENOMEM;
	}
	for (size_t i = 0; i < n_fwd && !ret; i++) {
		const struct fwd_traffic *v = &fwd[i];
		char text[128];

		stats_forward_text(t, &t->forwards[i], text, sizeof(text));
		ret = out_append(fwd_rows, json_pack("{s:s, s:i, s:I, s:I, s:I, s:I}", "forward",
						     text, "line", t->forwards[i].line,
						     "in_packets", (json_int_t)v->in_packets,
						     "in_bytes", (json_int_t)v->in_bytes,
						     "out_packets", (json_int_t)v->out_packets,
						     "out_bytes", (json_int_t)v->out_bytes));
	}
	free(ns);
	free(fwd);
	free(drops);
	if (ret) {
		if (ret == -ENOMEM)
			fwd_fail(ret, "stats", "cannot build the output");
		json_decref(ns_rows);
		json_decref(fwd_rows);
		return ret;
	}
	*ns_out = ns_rows;
	*fwd_out = fwd_rows;
	return 0;
}

void stats_traffic_print(json_t *doc)
{
	json_t *ns = json_object_get(doc, "namespaces"), *fwd = json_object_get(doc, "forwards");
	size_t i;
	json_t *row, *d;

	if (json_array_size(ns)) {
		fputc('\n', stdout);
		out_table(stdout, "", OUT_COLS(ns_cols), ns, true);
		/* What each namespace had dropped, by reason, under the table. */
		json_array_foreach(ns, i, row)
		{
			size_t k;

			json_array_foreach(json_object_get(row, "drops"), k, d)
			    printf("  %s: %s %" JSON_INTEGER_FORMAT "\n",
				   json_string_value(json_object_get(row, "namespace")),
				   json_string_value(json_object_get(d, "reason")),
				   json_integer_value(json_object_get(d, "packets")));
		}
	}
	if (json_array_size(fwd)) {
		fputc('\n', stdout);
		out_table(stdout, "", OUT_COLS(fwd_cols), fwd, true);
	}
}

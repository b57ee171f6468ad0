// SPDX-License-Identifier: GPL-2.0
/* fwdctl stats: the BPF datapath's counters of one topology. */
#include "fwd_loader.h"
#include "fwd_log.h"
#include "fwdctl.h"
#include "output.h"
#include "stats_prom.h"
#include "stats_traffic.h"
#include "topo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static const struct out_col stats_cols[] = {
	{ "COUNTER", "name", -20 },
	{ "KIND", "kind", -5 },
	{ "PACKETS", "packets", 15 },
	{ "BYTES", "bytes", 18 },
};

static const struct out_col rule_cols[] = {
	{ "POLICY RULE", "rule", -44 },
	{ "DROPPED", "packets", 15 },
	{ "BYTES", "bytes", 18 },
};

/* One policy rule's drops: "isolate", or a forward line with its "from". */
static int rule_row(json_t *rows, const char *rule, int line, const struct fwd_counter_val *v)
{
	return out_append(rows,
			  json_pack("{s:s, s:i, s:I, s:I}", "rule", rule, "line", line, "packets",
				    (json_int_t)v->packets, "bytes", (json_int_t)v->bytes));
}

/* The drops of the topology's policy rules (isolate, forwards with "from"), as rows; NULL
 * with *@err (said already) when they cannot be read. */
static json_t *rule_rows(const struct fwd_topology *t, int *err)
{
	size_t n = 1 + t->n_forwards;
	struct fwd_counter_val *v = calloc(n, sizeof(*v));
	json_t *rows = json_array();
	int ret = v && rows ? loader_rule_drops_read(t->name, n, v) : -ENOMEM;

	if (!ret && t->isolate)
		ret = rule_row(rows, "isolate", 0, &v[FWD_RULE_ISOLATE]);
	for (size_t i = 0; i < t->n_forwards && !ret; i++) {
		const struct fwd_forward *f = &t->forwards[i];
		char text[256];
		int len;

		if (!f->n_from)
			continue;
		len = snprintf(text, sizeof(text), "forward ");
		len += stats_forward_text(t, f, text + len, sizeof(text) - (size_t)len);
		len += snprintf(text + len, sizeof(text) - (size_t)len, " from ");
		for (size_t k = 0; k < f->n_from && len > 0 && (size_t)len < sizeof(text); k++)
			len +=
			    snprintf(text + len, sizeof(text) - (size_t)len, "%s%s/%u",
				     k ? "," : "", fwd_ip_str(f->from[k].addr), f->from[k].prefix);
		ret = rule_row(rows, text, f->line, &v[i + 1]);
	}
	free(v);
	if (ret) {
		if (ret == -ENOMEM)
			fwd_fail(ret, "stats", "cannot build the output");
		json_decref(rows);
		*err = ret;
		return NULL;
	}
	return rows;
}

/* The stats document of topology @t: what -j prints. NULL on failure (said). */
static json_t *stats_doc(const struct fwd_topology *t)
{
	struct fwd_counter_sum counters[FWD_CNT_MAX];
	uint64_t packets = 0, bytes = 0;
	json_t *doc, *rows, *rules, *ns, *fwd;
	int ret;

	ret = loader_counters_read(t->name, counters);
	if (ret)
		return NULL;
	rows = json_array();
	for (size_t i = 0; i < FWD_CNT_MAX && !ret; i++) {
		const struct fwd_counter_sum *k = &counters[i];

		if (k->kind != FWD_COUNTER_EVENT) { /* the total is of frames */
			packets += k->packets;
			bytes += k->bytes;
		}
		ret = out_append(rows,
				 json_pack("{s:s, s:s, s:I, s:I}", "name", k->name, "kind",
					   loader_counter_kind_name(k->kind), "packets",
					   (json_int_t)k->packets, "bytes", (json_int_t)k->bytes));
	}
	rules = ret ? NULL : rule_rows(t, &ret);
	if (!ret)
		ret = stats_traffic_rows(t, &ns, &fwd);
	if (ret) {
		json_decref(rows);
		json_decref(rules);
		return NULL;
	}
	doc = json_pack("{s:s, s:o, s:I, s:I, s:o?, s:o, s:o}", "topology", t->name, "counters",
			rows, "packets", (json_int_t)packets, "bytes", (json_int_t)bytes, "rules",
			rules, "namespaces", ns, "forwards", fwd);
	if (!doc)
		fwd_fail(-ENOMEM, "stats", "cannot build the output");
	return doc;
}

/*
 * stats --prometheus: NAME's counters, or without NAME those of every topology with datapath
 * bpf up in this host namespace (none: the families without samples, not an error).
 */
static int stats_prometheus(const struct fwd_cmdline *c)
{
	char names[64][FWD_TOPO_NAME_SIZE];
	json_t *docs = json_array();
	int n = 1, ret = 0;

	if (!docs) {
		fwd_fail(-ENOMEM, "stats", "cannot build the output");
		return FWD_EXIT_FAILURE;
	}
	if (!c->name[0])
		n = fwd_list_topologies_here(names, 64);
	else
		snprintf(names[0], sizeof(names[0]), "%s", c->name);
	for (int i = 0; i < n && !ret; i++) {
		struct fwd_topology t;
		json_t *doc;

		/* Without NAME a topology of datapath kernel is no error: it has no counters. */
		if (!c->name[0]) {
			bool bpf;

			if (fwd_saved_topology(names[i], &t))
				continue; /* went down meanwhile */
			bpf = t.datapath == FWD_DATAPATH_BPF;
			topo_free(&t);
			if (!bpf)
				continue;
		}
		ret = fwd_pick_topology(names[i], "stats", true,
					"its counters are iptables' own ('fwdctl status %s')", &t);
		if (ret)
			break;
		doc = stats_doc(&t);
		topo_free(&t);
		if (!doc || json_array_append_new(docs, doc))
			ret = FWD_EXIT_FAILURE;
	}
	if (!ret && stats_prom_write(stdout, docs)) {
		fwd_err("stats: cannot write the output");
		ret = FWD_EXIT_FAILURE;
	}
	json_decref(docs);
	return ret;
}

int fwd_cmd_stats(const struct fwd_cmdline *c, const struct fwd_opts *o)
{
	struct fwd_topology t;
	json_t *doc;
	int ret;

	if (c->prometheus)
		return stats_prometheus(c);
	ret = fwd_pick_topology(c->name, "stats", true,
				"its counters are iptables' own ('fwdctl status %s')", &t);
	if (ret)
		return ret;
	doc = stats_doc(&t);
	topo_free(&t);
	if (!doc)
		return FWD_EXIT_FAILURE;
	if (o->json) {
		out_json(doc);
		return FWD_EXIT_OK;
	}
	out_table(stdout, "", OUT_COLS(stats_cols), json_object_get(doc, "counters"), true);
	json_object_set_new(doc, "name", json_string("total"));
	json_object_set_new(doc, "kind", json_string(""));
	out_row(stdout, "", OUT_COLS(stats_cols), doc);
	if (json_array_size(json_object_get(doc, "rules"))) {
		fputc('\n', stdout);
		out_table(stdout, "", OUT_COLS(rule_cols), json_object_get(doc, "rules"), true);
	}
	stats_traffic_print(doc);
	json_decref(doc);
	return FWD_EXIT_OK;
}

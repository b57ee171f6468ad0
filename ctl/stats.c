// SPDX-License-Identifier: GPL-2.0
/* fwdctl stats: the BPF datapath's counters of one topology. */
#include "fwd_loader.h"
#include "fwd_log.h"
#include "fwdctl.h"
#include "output.h"
#include "topo.h"

#include <errno.h>

static const struct out_col stats_cols[] = {
	{ "COUNTER", "name", -20 },
	{ "KIND", "kind", -5 },
	{ "PACKETS", "packets", 15 },
	{ "BYTES", "bytes", 18 },
};

int fwd_cmd_stats(const struct fwd_cmdline *c, const struct fwd_opts *o)
{
	struct fwd_counter_sum counters[FWD_CNT_MAX];
	uint64_t packets = 0, bytes = 0;
	struct fwd_topology t;
	json_t *doc, *rows;
	int ret;

	ret = fwd_pick_topology(c->name, "stats", true,
				"its counters are iptables' own ('fwdctl status %s')", &t);
	if (ret)
		return ret;
	ret = loader_counters_read(t.name, counters);
	if (ret)
		goto out;
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
	doc = json_pack("{s:s, s:o, s:I, s:I}", "topology", t.name, "counters", rows, "packets",
			(json_int_t)packets, "bytes", (json_int_t)bytes);
	if (ret || !doc) {
		json_decref(doc);
		ret = fwd_fail(-ENOMEM, "stats", "cannot build the output");
		goto out;
	}
	if (o->json) {
		out_json(doc);
		goto out;
	}
	out_table(stdout, "", OUT_COLS(stats_cols), rows, true);
	json_object_set_new(doc, "name", json_string("total"));
	json_object_set_new(doc, "kind", json_string(""));
	out_row(stdout, "", OUT_COLS(stats_cols), doc);
	json_decref(doc);
out:
	topo_free(&t);
	return ret ? FWD_EXIT_FAILURE : FWD_EXIT_OK;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * fwdctl stats --prometheus: what 'fwdctl -j stats' reads, as the Prometheus text exposition
 * format (version 0.0.4), fit for node_exporter's textfile collector. Names follow the
 * Prometheus conventions: a fwd_ prefix, counters end in _total, bytes say so; the topology
 * is a label, so one file holds every topology of a host.
 *
 *   fwd_frames_total{topology,counter,kind}        frames by how they were handled (kind
 *   fwd_frame_bytes_total{topology,counter,kind}   "path") or why dropped ("drop"); their
 *                                                  sum is every frame fwd's programs saw
 *   fwd_events_total{topology,event}               the counters of kind "event"
 *   fwd_policy_dropped_frames_total{topology,rule,line}  what each policy rule dropped
 *   fwd_policy_dropped_bytes_total{topology,rule,line}   since the last up
 */
#include "stats_prom.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* One family: its name, help text, and which samples of a stats document it takes. */
struct prom_family {
	const char *name;
	const char *help;
	const char *list;  /* "counters" or "rules" */
	const char *value; /* "packets" or "bytes" */
	bool events;	   /* counters: those of kind "event" (else the others) */
};

static const struct prom_family families[] = {
	{ "fwd_frames_total",
	  "Frames fwd's BPF programs handled, by counter: how each was handled (kind path) or why "
	  "it was dropped (kind drop).",
	  "counters", "packets", false },
	{ "fwd_frame_bytes_total", "Bytes of those frames, by counter.", "counters", "bytes",
	  false },
	{ "fwd_events_total",
	  "Events fwd's datapath counts besides frames (host_dnat, ct_early_drop, ...).",
	  "counters", "packets", true },
	{ "fwd_policy_dropped_frames_total",
	  "Frames a policy rule (isolate, forward ... from) dropped since the topology's last up.",
	  "rules", "packets", false },
	{ "fwd_policy_dropped_bytes_total", "Bytes of those frames.", "rules", "bytes", false },
};

/* A label value: backslash, double quote and newline escaped, as the format wants. */
static void prom_label_value(FILE *f, const char *v)
{
	fputc('"', f);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('"', f);
}

static void prom_sample(FILE *f, const struct prom_family *fam, const char *topology, json_t *item)
{
	const char *name = json_string_value(json_object_get(item, "name"));
	const char *kind = json_string_value(json_object_get(item, "kind"));

	fprintf(f, "%s{topology=", fam->name);
	prom_label_value(f, topology);
	if (!strcmp(fam->list, "rules")) {
		fputs(",rule=", f);
		prom_label_value(f, json_string_value(json_object_get(item, "rule")));
		fprintf(f, ",line=\"%lld\"",
			(long long)json_integer_value(json_object_get(item, "line")));
	} else if (fam->events) {
		fputs(",event=", f);
		prom_label_value(f, name ? name : "");
	} else {
		fputs(",counter=", f);
		prom_label_value(f, name ? name : "");
		fputs(",kind=", f);
		prom_label_value(f, kind ? kind : "");
	}
	fprintf(f, "} %lld\n", (long long)json_integer_value(json_object_get(item, fam->value)));
}

int stats_prom_write(FILE *f, json_t *docs)
{
	for (size_t k = 0; k < sizeof(families) / sizeof(families[0]); k++) {
		const struct prom_family *fam = &families[k];
		size_t i, j;
		json_t *doc, *item;

		fprintf(f, "# HELP %s %s\n# TYPE %s counter\n", fam->name, fam->help, fam->name);
		json_array_foreach(docs, i, doc)
		{
			const char *topology = json_string_value(json_object_get(doc, "topology"));

			json_array_foreach(json_object_get(doc, fam->list), j, item)
			{
				const char *kind = json_string_value(json_object_get(item, "kind"));

				if (!strcmp(fam->list, "counters") &&
				    (kind && !strcmp(kind, "event")) != fam->events)
					continue;
				prom_sample(f, fam, topology ? topology : "", item);
			}
		}
	}
	return fflush(f) || ferror(f) ? -EIO : 0;
}

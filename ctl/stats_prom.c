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
 *   fwd_namespace_frames_total{topology,namespace,direction}  what a namespace sent and
 *   fwd_namespace_bytes_total{topology,namespace,direction}   received through the programs
 *   fwd_namespace_dropped_frames_total{topology,namespace,reason}  what it sent, dropped
 *   fwd_forward_frames_total{topology,forward,line,direction}  through a forward: in to its
 *   fwd_forward_bytes_total{topology,forward,line,direction}   target, out its answers
 */
#include "stats_prom.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* A label: its name, and the member of a sample's item that gives its value. */
struct prom_label {
	const char *name;
	const char *member; /* NULL: the family's constant direction */
};

/*
 * One family: which items of a stats document it takes (@list, and in each of them @sublist
 * when set, whose labels may also name members of the outer item: @outer_label), the member
 * that is the value, and the labels besides topology.
 */
struct prom_family {
	const char *name;
	const char *help;
	const char *list;	 /* "counters", "rules", "namespaces" or "forwards" */
	const char *sublist;	 /* NULL, or a list inside each item ("drops") */
	const char *outer_label; /* with sublist: a label from the outer item's same-named member */
	const char *value;
	int events;	       /* counters: 1 those of kind "event", 0 the others; -1: n/a */
	const char *direction; /* the value of a constant label "direction", or NULL */
	struct prom_label labels[3];
};

static const struct prom_family families[] = {
	{ "fwd_frames_total",
	  "Frames fwd's BPF programs handled, by counter: how each was handled (kind path) or why "
	  "it was dropped (kind drop).",
	  "counters",
	  NULL,
	  NULL,
	  "packets",
	  0,
	  NULL,
	  { { "counter", "name" }, { "kind", "kind" } } },
	{ "fwd_frame_bytes_total",
	  "Bytes of those frames, by counter.",
	  "counters",
	  NULL,
	  NULL,
	  "bytes",
	  0,
	  NULL,
	  { { "counter", "name" }, { "kind", "kind" } } },
	{ "fwd_events_total",
	  "Events fwd's datapath counts besides frames (host_dnat, ct_early_drop, ...).",
	  "counters",
	  NULL,
	  NULL,
	  "packets",
	  1,
	  NULL,
	  { { "event", "name" } } },
	{ "fwd_policy_dropped_frames_total",
	  "Frames a policy rule (isolate, forward ... from) dropped since the topology's last up.",
	  "rules",
	  NULL,
	  NULL,
	  "packets",
	  -1,
	  NULL,
	  { { "rule", "rule" }, { "line", "line" } } },
	{ "fwd_policy_dropped_bytes_total",
	  "Bytes of those frames.",
	  "rules",
	  NULL,
	  NULL,
	  "bytes",
	  -1,
	  NULL,
	  { { "rule", "rule" }, { "line", "line" } } },
	{ "fwd_namespace_frames_total",
	  "Frames a namespace sent (direction sent) and fwd delivered into it (received), since "
	  "the topology's last up.",
	  "namespaces",
	  NULL,
	  NULL,
	  "sent_packets",
	  -1,
	  "sent",
	  { { "namespace", "namespace" } } },
	{ "fwd_namespace_frames_total",
	  NULL,
	  "namespaces",
	  NULL,
	  NULL,
	  "received_packets",
	  -1,
	  "received",
	  { { "namespace", "namespace" } } },
	{ "fwd_namespace_bytes_total",
	  "Bytes of those frames.",
	  "namespaces",
	  NULL,
	  NULL,
	  "sent_bytes",
	  -1,
	  "sent",
	  { { "namespace", "namespace" } } },
	{ "fwd_namespace_bytes_total",
	  NULL,
	  "namespaces",
	  NULL,
	  NULL,
	  "received_bytes",
	  -1,
	  "received",
	  { { "namespace", "namespace" } } },
	{ "fwd_namespace_dropped_frames_total",
	  "Frames a namespace sent that fwd dropped, by reason, since the topology's last up.",
	  "namespaces",
	  "drops",
	  "namespace",
	  "packets",
	  -1,
	  NULL,
	  { { "reason", "reason" } } },
	{ "fwd_forward_frames_total",
	  "Frames through a forward: to its target (direction in) and its answers (out), since "
	  "the topology's last up.",
	  "forwards",
	  NULL,
	  NULL,
	  "in_packets",
	  -1,
	  "in",
	  { { "forward", "forward" }, { "line", "line" } } },
	{ "fwd_forward_frames_total",
	  NULL,
	  "forwards",
	  NULL,
	  NULL,
	  "out_packets",
	  -1,
	  "out",
	  { { "forward", "forward" }, { "line", "line" } } },
	{ "fwd_forward_bytes_total",
	  "Bytes of those frames.",
	  "forwards",
	  NULL,
	  NULL,
	  "in_bytes",
	  -1,
	  "in",
	  { { "forward", "forward" }, { "line", "line" } } },
	{ "fwd_forward_bytes_total",
	  NULL,
	  "forwards",
	  NULL,
	  NULL,
	  "out_bytes",
	  -1,
	  "out",
	  { { "forward", "forward" }, { "line", "line" } } },
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

/* ,NAME="value of @v" (a string or a number) */
static void prom_label(FILE *f, const char *name, json_t *v)
{
	fprintf(f, ",%s=", name);
	if (json_is_integer(v))
		fprintf(f, "\"%lld\"", (long long)json_integer_value(v));
	else
		prom_label_value(f, json_string_value(v) ? json_string_value(v) : "");
}

static void prom_sample(FILE *f, const struct prom_family *fam, const char *topology, json_t *outer,
			json_t *item)
{
	fprintf(f, "%s{topology=", fam->name);
	prom_label_value(f, topology);
	if (fam->outer_label)
		prom_label(f, fam->outer_label, json_object_get(outer, fam->outer_label));
	for (size_t l = 0; l < 3 && fam->labels[l].name; l++)
		prom_label(f, fam->labels[l].name, json_object_get(item, fam->labels[l].member));
	if (fam->direction)
		fprintf(f, ",direction=\"%s\"", fam->direction);
	fprintf(f, "} %lld\n", (long long)json_integer_value(json_object_get(item, fam->value)));
}

/* Every sample of family @fam in the documents @docs. */
static void prom_samples(FILE *f, const struct prom_family *fam, json_t *docs)
{
	size_t i, j, k;
	json_t *doc, *item, *sub;

	json_array_foreach(docs, i, doc)
	{
		const char *topology = json_string_value(json_object_get(doc, "topology"));

		if (!topology)
			topology = "";
		json_array_foreach(json_object_get(doc, fam->list), j, item)
		{
			const char *kind = json_string_value(json_object_get(item, "kind"));

			if (fam->events >= 0 && (kind && !strcmp(kind, "event")) != fam->events)
				continue;
			if (!fam->sublist) {
				prom_sample(f, fam, topology, NULL, item);
				continue;
			}
			json_array_foreach(json_object_get(item, fam->sublist), k, sub)
			    prom_sample(f, fam, topology, item, sub);
		}
	}
}

int stats_prom_write(FILE *f, json_t *docs)
{
	for (size_t k = 0; k < sizeof(families) / sizeof(families[0]); k++) {
		const struct prom_family *fam = &families[k];

		/* A family's header once, before the first of its entries (a family may take
		 * two: one per direction). */
		if (fam->help)
			fprintf(f, "# HELP %s %s\n# TYPE %s counter\n", fam->name, fam->help,
				fam->name);
		prom_samples(f, fam, docs);
	}
	return fflush(f) || ferror(f) ? -EIO : 0;
}

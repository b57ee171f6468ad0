// SPDX-License-Identifier: GPL-2.0
/*
 * fwdctl monitor: the BPF datapath's drops and connection events as they happen, one line
 * each (-j: one JSON object per line), until SIGINT or SIGTERM, --count or --duration. What
 * the rate cap made the datapath skip is shown once a second when it grew, and at the end.
 */
#include "frame.h"
#include "fwd_loader.h"
#include "fwd_log.h"
#include "fwdctl.h"
#include "live.h"
#include "output.h"
#include "topo.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MONITOR_DEFAULT_RATE 1000 /* events a second, all CPUs together */

struct monitor_run {
	const char *topology;
	struct frame_ns_map ns; /* to name the namespace a drop came from */
	bool json;
	uint64_t shown, limit;
	int64_t wall_minus_mono_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC_COARSE, at the start */
};

static json_t *monitor_drop_doc(const struct fwd_monitor_event *ev, const struct frame_ns_map *ns)
{
	char ifname[IF_NAMESIZE] = "";
	json_t *doc = json_pack("{s:s, s:i, s:I}", "reason", ev->reason, "ifindex", ev->ifindex,
				"len", (json_int_t)ev->len);

	if (!doc)
		return NULL;
	if (if_indextoname((unsigned int)ev->ifindex, ifname))
		json_object_set_new(doc, "interface", json_string(ifname));
	if (frame_ns_of(ns, ev->ifindex))
		json_object_set_new(doc, "namespace", json_string(frame_ns_of(ns, ev->ifindex)));
	frame_json_add(doc, &ev->frame);
	return doc;
}

static json_t *monitor_ct_doc(const struct fwd_monitor_event *ev)
{
	return json_pack("{s:o, s:s, s:s, s:o, s:o}", "proto", frame_proto_json(ev->proto), "nat",
			 fwd_ct_nat_name(ev->nat), "state", ev->state, "original",
			 fwd_ct_tuple_json(&ev->original), "translated",
			 fwd_ct_tuple_json(&ev->translated));
}

static void monitor_text(json_t *doc)
{
	const char *event = json_string_value(json_object_get(doc, "event"));
	char proto[16], flow[128], flow2[128];
	json_t *p = json_object_get(doc, "proto");

	out_value_text(p, proto, sizeof(proto));
	printf("%s %s %s ", json_string_value(json_object_get(doc, "time")),
	       json_string_value(json_object_get(doc, "topology")), event);
	if (!strcmp(event, "drop")) {
		const char *ifname = json_string_value(json_object_get(doc, "interface"));
		const char *ns = json_string_value(json_object_get(doc, "namespace"));

		frame_text(doc, flow, sizeof(flow));
		printf("%s on %s%s%s%s: %s, %" JSON_INTEGER_FORMAT " bytes\n",
		       json_string_value(json_object_get(doc, "reason")), ifname ? ifname : "?",
		       ns ? " (" : "", ns ? ns : "", ns ? ")" : "", flow,
		       json_integer_value(json_object_get(doc, "len")));
		return;
	}
	frame_flow_text(json_object_get(doc, "original"), flow, sizeof(flow));
	frame_flow_text(json_object_get(doc, "translated"), flow2, sizeof(flow2));
	printf("%s %s %s => %s (%s)\n", json_string_value(json_object_get(doc, "nat")), proto, flow,
	       flow2, json_string_value(json_object_get(doc, "state")));
}

static int monitor_event(const struct fwd_monitor_event *ev, void *arg)
{
	struct monitor_run *r = arg;
	json_t *doc, *what;
	char when[40];

	if (r->limit && r->shown >= r->limit)
		return 1; /* enough: the rest of this batch is not shown */
	live_time_text((int64_t)ev->ts_ns + r->wall_minus_mono_ns, 3, when, sizeof(when));
	/* time, topology and event first: what a reader of the lines scans for */
	doc =
	    json_pack("{s:s, s:s, s:s}", "time", when, "topology", r->topology, "event", ev->kind);
	what = ev->reason ? monitor_drop_doc(ev, &r->ns) : monitor_ct_doc(ev);
	if (!doc || !what || json_object_update(doc, what)) {
		json_decref(doc);
		json_decref(what);
		return fwd_fail(-ENOMEM, "monitor", "cannot build the output");
	}
	json_decref(what);
	if (r->json) {
		out_json(doc);
	} else {
		monitor_text(doc);
		json_decref(doc);
	}
	fflush(stdout);
	r->shown++;
	return r->limit && r->shown >= r->limit;
}

/* What the datapath skipped: a line when it grew (@final: always, the summary). */
static void monitor_skipped_report(struct loader_monitor *m, const struct monitor_run *r,
				   uint64_t *last, bool final)
{
	uint64_t skipped, lost;
	uint32_t cap = loader_monitor_rate_cap(m);

	if (loader_monitor_counts(m, &skipped, &lost))
		return;
	if (!final && skipped + lost == *last)
		return;
	*last = skipped + lost;
	if (r->json) {
		out_json(json_pack("{s:s, s:s, s:I, s:I, s:I, s:i}", "topology", r->topology,
				   "event", final ? "summary" : "skipped", "shown",
				   (json_int_t)r->shown, "skipped", (json_int_t)skipped, "lost",
				   (json_int_t)lost, "rate_cap", (int)cap));
		fflush(stdout);
	} else {
		fwd_note("monitor %s: %llu events shown, %llu skipped over the cap of %u a second, "
			 "%llu lost (the buffer was full)%s",
			 r->topology, (unsigned long long)r->shown, (unsigned long long)skipped,
			 cap, (unsigned long long)lost, final ? "" : " so far");
	}
}

int fwd_cmd_monitor(const struct fwd_cmdline *c, const struct fwd_opts *o)
{
	uint32_t flags = (c->mon_drops ? FWD_MON_DROPS : 0) | (c->mon_ct ? FWD_MON_CT : 0);
	struct monitor_run r = { .json = o->json, .limit = c->count };
	int64_t deadline = 0, next_report;
	struct loader_monitor *m;
	struct fwd_topology t;
	uint64_t last_skipped = 0;
	int ret;

	ret = fwd_pick_topology(
	    c->name, "monitor", true,
	    "its datapath is netfilter's ('conntrack -E' shows its connections)", &t);
	if (ret)
		return ret;
	r.topology = t.name;
	if (frame_ns_map_build(&t, &r.ns)) {
		topo_free(&t);
		fwd_fail(-ENOMEM, "monitor", "cannot start");
		return FWD_EXIT_FAILURE;
	}
	if (!flags)
		flags = FWD_MON_DROPS | FWD_MON_CT;
	live_catch_stop();
	r.wall_minus_mono_ns =
	    live_clock_ns(CLOCK_REALTIME) - live_clock_ns(CLOCK_MONOTONIC_COARSE);
	ret = loader_monitor_start(t.name, flags, c->mon_rate ?: MONITOR_DEFAULT_RATE,
				   monitor_event, &r, &m);
	if (ret) {
		frame_ns_map_free(&r.ns);
		topo_free(&t);
		return FWD_EXIT_FAILURE;
	}
	fwd_info("monitor %s: %s%s%s, at most %u events a second", t.name,
		 flags & FWD_MON_DROPS ? "drops" : "",
		 flags == (FWD_MON_DROPS | FWD_MON_CT) ? " and " : "",
		 flags & FWD_MON_CT ? "connections" : "", loader_monitor_rate_cap(m));
	next_report = live_clock_ns(CLOCK_MONOTONIC) + 1000000000;
	if (c->duration)
		deadline = live_clock_ns(CLOCK_MONOTONIC) + (int64_t)c->duration * 1000000000;
	while (!live_stopped()) {
		int64_t now = live_clock_ns(CLOCK_MONOTONIC);

		if (deadline && now >= deadline)
			break;
		ret = loader_monitor_poll(m, 100);
		if (ret < 0 || (r.limit && r.shown >= r.limit))
			break;
		if (now >= next_report) {
			monitor_skipped_report(m, &r, &last_skipped, false);
			next_report = now + 1000000000;
		}
	}
	/* Off, then what the buffer still holds is shown: shown, skipped and lost add up to
	 * every event the datapath had. */
	if (loader_monitor_off(m) < 0)
		ret = -1;
	monitor_skipped_report(m, &r, &last_skipped, true);
	loader_monitor_stop(m);
	frame_ns_map_free(&r.ns);
	topo_free(&t);
	return ret < 0 ? FWD_EXIT_FAILURE : FWD_EXIT_OK;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * fwdctl capture: copies of the frames the BPF datapath handles, as they arrive and as they
 * leave translated, written with libpcap as pcap of link type LINUX_SLL2 (-w FILE: the
 * interface index and the direction of each frame travel with it; tcpdump -r and tshark read
 * it), or shown one line each (-j: one JSON object per line).
 */
#include "frame.h"
#include "fwd_loader.h"
#include "fwd_log.h"
#include "fwdctl.h"
#include "live.h"
#include "names.h"
#include "output.h"
#include "pcap_out.h"
#include "topo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define CAPTURE_DEFAULT_SNAPLEN 65000 /* a perf sample holds at most 64 KiB */

struct capture_run {
	const char *topology;
	struct frame_ns_map ns; /* to name the namespace of a veth */
	bool json;
	struct pcap_out *pcap; /* -w */
	uint64_t seen, written, limit;
	int64_t wall_minus_mono_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC, at the start */
	int err;
};

static void capture_line(struct capture_run *r, const struct fwd_captured *f, int64_t wall_ns)
{
	char when[40], ifname[IF_NAMESIZE] = "", what[160];
	struct fwd_frame_info info;
	const char *ns;
	json_t *doc;

	live_time_text(wall_ns, 6, when, sizeof(when));
	if_indextoname((unsigned int)f->ifindex, ifname);
	loader_frame_decode(f->data, f->caplen, &info);
	doc = json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:I}", "time", when, "topology",
			r->topology, "where", f->out ? "out" : "in", "interface", ifname, "ifindex",
			f->ifindex, "len", (json_int_t)f->len, "caplen", (json_int_t)f->caplen);
	if (!doc) {
		r->err = fwd_fail(-ENOMEM, "capture", "cannot build the output");
		return;
	}
	if (frame_ns_of(&r->ns, f->ifindex))
		json_object_set_new(doc, "namespace", json_string(frame_ns_of(&r->ns, f->ifindex)));
	if (f->path)
		json_object_set_new(doc, "path", json_string(f->path));
	frame_json_add(doc, &info);
	r->written++;
	if (r->json) {
		out_json(doc);
		fflush(stdout);
		return;
	}
	frame_text(doc, what, sizeof(what));
	ns = frame_ns_of(&r->ns, f->ifindex); /* whose veth: "fwd1a2b3c4d(blue)" */
	printf("%s %-3s %s%s%s%s %s%s%s, %u bytes\n", when, f->out ? "out" : "in", ifname,
	       ns ? "(" : "", ns ? ns : "", ns ? ")" : "", what, f->path ? " via " : "",
	       f->path ? f->path : "", f->len);
	fflush(stdout);
	json_decref(doc);
}

static void capture_frame(const struct fwd_captured *f, void *arg)
{
	struct capture_run *r = arg;
	int64_t wall = (int64_t)f->ts_ns + r->wall_minus_mono_ns;

	r->seen++;
	if (r->limit && r->written >= r->limit)
		return;
	if (r->pcap)
		r->written += (uint64_t)pcap_out_frame(r->pcap, wall, f->ifindex, f->out, f->data,
						       f->caplen, f->len);
	else
		capture_line(r, f, wall);
}

/* namespace NS of topology @t: its host-side veth and address into @f. An exit status. */
static int capture_namespace(const struct fwd_topology *t, const char *ns,
			     struct fwd_capture_filter *f)
{
	for (size_t i = 0; i < t->n_namespaces; i++) {
		char veth[IF_NAMESIZE];

		if (strcmp(t->namespaces[i].name, ns))
			continue;
		fwd_host_veth_name(t->name, ns, veth);
		f->ifindex = (int)if_nametoindex(veth);
		f->ns_addr = t->namespaces[i].addr;
		if (!f->ifindex) {
			fwd_err("namespace %s: its veth %s is missing ('fwdctl status %s')", ns,
				veth, t->name);
			return FWD_EXIT_FAILURE;
		}
		return FWD_EXIT_OK;
	}
	fwd_err("capture: topology %s has no namespace %s", t->name, ns);
	return FWD_EXIT_USAGE;
}

/* forward PORT of topology @t (of protocol @proto, when given): the line that publishes the
 * port, into @f. An exit status. */
static int capture_forward(const struct fwd_topology *t, uint16_t port, uint8_t proto,
			   struct fwd_capture_filter *f)
{
	const struct fwd_forward *found = NULL;

	for (size_t i = 0; i < t->n_forwards; i++) {
		const struct fwd_forward *fw = &t->forwards[i];

		/* (capture sees IPv4: a forward on an IPv6 address only is not its) */
		if (!fwd_forward_on_ipv4(t, fw) || port < fw->port_lo || port > fw->port_hi ||
		    (proto && fw->proto != proto))
			continue;
		if (found && found->proto != fw->proto) {
			fwd_err("capture forward %u: a tcp and a udp forward publish it; say which "
				"with proto",
				port);
			return FWD_EXIT_USAGE;
		}
		found = found ? found : fw;
	}
	if (!found) {
		fwd_err("capture: topology %s has no forward of port %u", t->name, port);
		return FWD_EXIT_USAGE;
	}
	f->fw_proto = found->proto;
	f->fw_target = t->namespaces[found->ns].addr;
	f->fw_lo = found->port_lo;
	f->fw_hi = found->port_hi;
	f->fw_to_lo = found->to_port;
	f->fw_to_hi = (uint16_t)(found->to_port + (found->port_hi - found->port_lo));
	return FWD_EXIT_OK;
}

int fwd_cmd_capture(const struct fwd_cmdline *c, const struct fwd_opts *o)
{
	uint32_t snaplen = c->cap_snaplen ?: CAPTURE_DEFAULT_SNAPLEN;
	struct capture_run r = { .json = o->json, .limit = c->count };
	struct fwd_capture_filter filter = { .proto = c->cap_proto,
					     .addr = c->cap_host,
					     .port = c->cap_port };
	struct loader_capture *cap = NULL;
	int64_t deadline = 0;
	struct fwd_topology t;
	int ret;

	ret = fwd_pick_topology(
	    c->name, "capture", true,
	    "its frames are the kernel's: capture them on its links (tcpdump -i)", &t);
	if (ret)
		return ret;
	r.topology = t.name;
	if (frame_ns_map_build(&t, &r.ns)) {
		fwd_fail(-ENOMEM, "capture", "cannot start");
		ret = FWD_EXIT_FAILURE;
		goto out;
	}
	if (c->cap_ns[0] && (ret = capture_namespace(&t, c->cap_ns, &filter)))
		goto out;
	if (c->cap_forward && (ret = capture_forward(&t, c->cap_forward, c->cap_proto, &filter)))
		goto out;
	if (c->cap_file && pcap_out_open(c->cap_file, snaplen, &r.pcap)) {
		ret = FWD_EXIT_FAILURE;
		goto out;
	}
	live_catch_stop();
	r.wall_minus_mono_ns = live_clock_ns(CLOCK_REALTIME) - live_clock_ns(CLOCK_MONOTONIC);
	if (loader_capture_start(t.name, c->cap_where, snaplen, &filter, capture_frame, &r, &cap)) {
		ret = FWD_EXIT_FAILURE;
		goto out;
	}
	fwd_info("capture %s: frames %s, up to %u bytes each", t.name,
		 c->cap_where == FWD_CAP_IN    ? "as they arrive"
		 : c->cap_where == FWD_CAP_OUT ? "as they leave"
					       : "as they arrive and as they leave",
		 snaplen);
	if (c->duration)
		deadline = live_clock_ns(CLOCK_MONOTONIC) + (int64_t)c->duration * 1000000000;
	while (!live_stopped() && !r.err && !(r.limit && r.written >= r.limit)) {
		if (deadline && live_clock_ns(CLOCK_MONOTONIC) >= deadline)
			break;
		if (loader_capture_poll(cap, 100) < 0) {
			r.err = -EIO;
			break;
		}
	}
	if (loader_capture_off(cap))
		r.err = -EIO;
	fwd_note("capture %s: %llu frames %s, %llu lost (the buffer was full)", t.name,
		 (unsigned long long)r.written, c->cap_file ? "written" : "shown",
		 (unsigned long long)loader_capture_lost(cap));
	ret = r.err ? FWD_EXIT_FAILURE : FWD_EXIT_OK;
out:
	loader_capture_stop(cap);
	frame_ns_map_free(&r.ns);
	if (pcap_out_close(r.pcap))
		ret = FWD_EXIT_FAILURE;
	topo_free(&t);
	return ret;
}

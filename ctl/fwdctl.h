/* SPDX-License-Identifier: GPL-2.0 */
/* The commands of fwdctl, as main.c's command table dispatches them. */
#ifndef FWD_FWDCTL_H
#define FWD_FWDCTL_H

#include <stdbool.h>

#include "topology.h"

/* Exit statuses (fwdctl(8)). */
#define FWD_EXIT_OK	 0
#define FWD_EXIT_FAILURE 1 /* netlink, BPF, missing privilege: the reason is printed */
#define FWD_EXIT_USAGE	 2 /* bad command line or configuration: nothing was changed */

struct fwd_opts {
	int verbose;	    /* -v, repeatable */
	bool quiet;	    /* -q: only errors */
	bool json;	    /* -j */
	const char *hostns; /* -n: NULL for the current namespace */
};

/* A command line, validated before anything is changed. */
struct fwd_cmdline {
	struct fwd_topology topology;  /* check, up: the parsed FILE */
	char name[FWD_TOPO_NAME_SIZE]; /* status, stats, ct, watch: "" when not given */
	/* down: the topologies named, each once (allocated; freed by main) */
	char (*names)[FWD_TOPO_NAME_SIZE];
	size_t n_names;
	bool flush; /* ct ... flush */
	/* ct ... flush [proto P] [port N] [namespace NS]: 0 / "" when not given */
	uint8_t flush_proto;
	uint16_t flush_port;
	char flush_ns[FWD_NETNS_NAME_MAX + 1];
	bool flush_conntrack; /* up --flush-conntrack */
	bool prometheus;      /* stats --prometheus */
	/* monitor and capture: --count N, --duration S */
	uint64_t count;	   /* stop after this many events or frames; 0: no limit */
	uint32_t duration; /* stop after this many seconds; 0: no limit */
	/* monitor [--drops] [--ct] [--rate N] */
	bool mon_drops, mon_ct; /* neither given: both */
	uint32_t mon_rate;	/* events a second; 0: the default */
	/* capture [--where in|out|both] [--snaplen N] [-w FILE] [FILTER] */
	uint32_t cap_where;   /* enum fwd_capture_flags */
	uint32_t cap_snaplen; /* 0: the default */
	const char *cap_file; /* -w: a pcap file, "-" for stdout; NULL: lines on stdout */
	uint8_t cap_proto;    /* proto P; 0: any */
	in_addr_t cap_host;   /* host ADDR (network order); 0: any */
	uint16_t cap_port;    /* port N; 0: any */
	char cap_ns[FWD_NETNS_NAME_MAX + 1]; /* namespace NS; "": any */
	uint16_t cap_forward;		     /* forward PORT: the forward line publishing it */
};

/* Each returns an exit status. */
int fwd_cmd_up(const struct fwd_cmdline *c, const struct fwd_opts *o);
int fwd_cmd_down(const struct fwd_cmdline *c, const struct fwd_opts *o);
int fwd_cmd_status(const struct fwd_cmdline *c, const struct fwd_opts *o);
int fwd_cmd_stats(const struct fwd_cmdline *c, const struct fwd_opts *o);
int fwd_cmd_ct(const struct fwd_cmdline *c, const struct fwd_opts *o);
int fwd_cmd_watch(const struct fwd_cmdline *c, const struct fwd_opts *o);
int fwd_cmd_monitor(const struct fwd_cmdline *c, const struct fwd_opts *o);
int fwd_cmd_capture(const struct fwd_cmdline *c, const struct fwd_opts *o);

/* ct.c, shared with monitor.c: how connections are named in output. */
const char *fwd_ct_proto_name(uint8_t proto); /* "tcp", "udp", "icmp", else "?" */
const char *fwd_ct_nat_name(uint8_t nat);     /* "snat", "dnat", "none" */
struct fwd_ct_tuple;
/* {"src", "sport", "dst", "dport"} of @t, a new reference (NULL without memory). */
struct json_t *fwd_ct_tuple_json(const struct fwd_ct_tuple *t);

/* running.c: topologies that are up (have a saved topology in FWD_RUN_DIR). */
/* Their names into @names (at most @max); the number found. */
int fwd_list_topologies(char names[][FWD_TOPO_NAME_SIZE], int max);
/* Of the topologies that are up, those of the host namespace we run in, and those whose host
 * namespace is gone (nobody's, for down to remove). */
int fwd_list_topologies_here(char names[][FWD_TOPO_NAME_SIZE], int max);
/* Where topology @name was brought up, as seen from the namespace we run in. */
enum fwd_hostns_state {
	FWD_HOSTNS_UNKNOWN, /* not journaled (not up) */
	FWD_HOSTNS_HERE,
	FWD_HOSTNS_OTHER, /* another host namespace that exists */
	FWD_HOSTNS_GONE,  /* its host namespace no longer exists */
};
enum fwd_hostns_state fwd_topology_hostns(const char *name);
/* The topology saved by `up` (FWD_RUN_DIR/NAME.conf, the file's text as it was up); 0 or
 * -errno (-ENOENT: not up). */
int fwd_saved_topology(const char *name, struct fwd_topology *t);
/* The path of the file topology @name was brought up from (FWD_RUN_DIR/NAME.source), into @out;
 * the saved copy's path when none was kept. */
void fwd_saved_source(const char *name, char *out, size_t len);
/*
 * The topology a command for "[NAME]" works on: @name when given, else the only one that is
 * up. Its saved topology into @t; with @bpf_only, a datapath kernel topology is refused (its
 * counters and connections are the kernel's: @kernel_hint, a format with at most one %s for
 * the name, says where to look). An exit status.
 */
int fwd_pick_topology(const char *name, const char *cmd, bool bpf_only, const char *kernel_hint,
		      struct fwd_topology *t);

#endif

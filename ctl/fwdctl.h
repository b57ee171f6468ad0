/* SPDX-License-Identifier: GPL-2.0 */
/* The commands of fwdctl, as main.c dispatches them. */
#ifndef FWD_FWDCTL_H
#define FWD_FWDCTL_H

#include <stdbool.h>

#include "topology.h"

/* Exit statuses (DESIGN.md). */
#define FWD_EXIT_OK 0
#define FWD_EXIT_FAILURE 1 /* netlink, BPF, missing privilege: the reason is printed */
#define FWD_EXIT_USAGE 2   /* bad command line or configuration: nothing was changed */

struct fwd_opts {
	int verbose;	    /* -v, repeatable */
	bool quiet;	    /* -q: only errors */
	bool json;	    /* -j */
	const char *hostns; /* -n: NULL for the current namespace */
};

/* Each returns an exit status. */
int fwd_cmd_up(const struct fwd_topology *t, const struct fwd_opts *o);
int fwd_cmd_down(const char *topology, const struct fwd_opts *o);
int fwd_cmd_status(const char *topology, const struct fwd_opts *o);
int fwd_cmd_stats(const char *topology, const struct fwd_opts *o);
int fwd_cmd_ct(const char *topology, bool flush, const struct fwd_opts *o);

/* Topologies that are up (have a journal), for commands whose NAME is optional. */
int fwd_list_topologies(char names[][16], int max);
/* The normalised topology saved by `up` (FWD_RUN_DIR/NAME.conf); 0 or -errno. */
int fwd_saved_topology(const char *name, struct fwd_topology *t);

struct nl_sock;
/*
 * Print "fwdctl: OBJECT: WHAT: strerror(-err)", with the kernel's extended-ack text when @nl
 * (may be NULL) has one for its last request. Returns @err, so callers can `return fwd_fail()`.
 */
int fwd_fail(struct nl_sock *nl, int err, const char *object, const char *what);

/* Messages: diagnostics to stderr, "-v" chatter only when asked. */
void fwd_info(const struct fwd_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fwd_debug(const struct fwd_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

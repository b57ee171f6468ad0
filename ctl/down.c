// SPDX-License-Identifier: GPL-2.0
/*
 * fwdctl down: remove everything the journal of a topology records, and nothing else. Several
 * topologies in one command share the slow part: all their namespaces are unmounted first and
 * the kernel destroys them together (teardown.h).
 */
#include "fwd_log.h"
#include "fwdctl.h"
#include "journal.h"
#include "names.h"
#include "nl.h"
#include "peers.h"
#include "teardown.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct going {
	struct journal j;
	bool orphan; /* its host namespace is gone */
	int ns_err;  /* a namespace that could not be removed (said so): still journaled */
};

/*
 * Lock and read @topology's journal into @g: 1 when it is up here (or an orphan), 0 when it
 * is not up, -1 when it cannot be taken down from here (said why).
 */
static int down_open(const char *topology, struct going *g)
{
	char here[64];
	int ret = journal_open(&g->j, topology, false);

	if (ret == -ENOENT) {
		fwd_note("topology %s is not up; nothing to do", topology);
		return 0;
	}
	if (ret) {
		fwd_err("journal of %s: cannot open: %s", topology, strerror(-ret));
		return -1;
	}
	if (!journal_netns_id(here, sizeof(here)) && g->j.hostns[0] && strcmp(here, g->j.hostns)) {
		if (journal_netns_alive(g->j.hostns)) {
			fwd_err("topology %s: was brought up in another host network "
				"namespace; run down there (with the same -n)\n",
				topology);
			journal_close(&g->j);
			return -1;
		}
		fwd_warn("topology %s: its host network namespace is gone; removing what is "
			 "left of it (its namespaces, BPF pins and cgroup programs)",
			 topology);
		g->orphan = true;
	}
	return 1;
}

/* The files `up` saved and the journal go last, once everything they record is gone. */
static void down_forget(struct going *g)
{
	char path[128];

	fwd_journal_path(g->j.topology, "conf", path, sizeof(path));
	unlink(path);
	fwd_journal_path(g->j.topology, "source", path, sizeof(path));
	unlink(path);
	journal_delete(&g->j);
	fwd_note("topology %s is down", g->j.topology);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

int fwd_cmd_down(const struct fwd_cmdline *c, const struct fwd_opts *o)
{
	struct going *gs = calloc(c->n_names, sizeof(*gs));
	struct journal **live = calloc(c->n_names, sizeof(*live));
	struct nl_sock *nl = NULL;
	size_t n = 0, n_live = 0;
	bool failed = false, any_down = false;
	int ret;

	if (!gs || !live) {
		fwd_err("down: out of memory");
		failed = true;
		goto out;
	}
	/* Each journal stays locked until the end: taken in one order, so that two downs of
	 * the same topologies named in another order cannot wait for each other. */
	qsort(c->names, c->n_names, sizeof(*c->names), by_name);
	for (size_t i = 0; i < c->n_names; i++) {
		ret = down_open(c->names[i], &gs[n]);
		if (ret < 0)
			failed = true;
		else if (ret > 0)
			n++;
	}
	if (!n)
		goto out;
	ret = nl_open(&nl);
	if (ret) {
		fwd_err("netlink: cannot open socket: %s", strerror(-ret));
		failed = true;
		goto out_close;
	}
	/* First every topology's namespaces, then one wait for all their links. */
	for (size_t i = 0; i < n; i++)
		if (!gs[i].orphan) {
			gs[i].ns_err = teardown_namespaces(nl, &gs[i].j);
			live[n_live++] = &gs[i].j;
		}
	teardown_wait_links(nl, live, n_live);
	for (size_t i = 0; i < n; i++) {
		ret = gs[i].orphan ? teardown_orphan(&gs[i].j) : teardown_rest(nl, &gs[i].j);
		if (ret || gs[i].ns_err) {
			fwd_err("down %s: not everything could be removed; what remains is "
				"still journaled, run down again\n",
				gs[i].j.topology);
			failed = true;
			continue;
		}
		down_forget(&gs[i]);
		any_down = true;
	}
	/* Who masquerades out of its uplink no longer checks the gone tables. */
	if (any_down)
		peers_resync();
out_close:
	for (size_t i = 0; i < n; i++)
		journal_close(&gs[i].j);
out:
	nl_close(nl);
	free(gs);
	free(live);
	return failed ? FWD_EXIT_FAILURE : FWD_EXIT_OK;
}

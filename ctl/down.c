// SPDX-License-Identifier: GPL-2.0
/* fwdctl down: remove everything the journal of a topology records, and nothing else. */
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
#include <string.h>
#include <unistd.h>

int fwd_cmd_down(const struct fwd_cmdline *c, const struct fwd_opts *o)
{
	const char *topology = c->name;
	struct nl_sock *nl = NULL;
	struct journal j;
	char here[64], conf[128];
	bool orphan = false;
	int ret;

	ret = journal_open(&j, topology, false);
	if (ret == -ENOENT) {
		fwd_note("topology %s is not up; nothing to do", topology);
		return FWD_EXIT_OK;
	}
	if (ret) {
		fwd_err("journal of %s: cannot open: %s", topology, strerror(-ret));
		return FWD_EXIT_FAILURE;
	}
	if (!journal_netns_id(here, sizeof(here)) && j.hostns[0] && strcmp(here, j.hostns)) {
		if (journal_netns_alive(j.hostns)) {
			fwd_err("topology %s: was brought up in another host network "
				"namespace; run down there (with the same -n)\n",
				topology);
			journal_close(&j);
			return FWD_EXIT_FAILURE;
		}
		fwd_warn("topology %s: its host network namespace is gone; removing what is "
			 "left of it (its namespaces, BPF pins and cgroup programs)",
			 topology);
		orphan = true;
	}
	ret = nl_open(&nl);
	if (ret) {
		fwd_err("netlink: cannot open socket: %s", strerror(-ret));
		journal_close(&j);
		return FWD_EXIT_FAILURE;
	}
	ret = orphan ? teardown_orphan(&j) : teardown_all(nl, &j);
	if (!ret) {
		fwd_journal_path(topology, "conf", conf, sizeof(conf));
		unlink(conf);
		fwd_journal_path(topology, "source", conf, sizeof(conf));
		unlink(conf);
		journal_delete(&j);
		/* Who masquerades out of its uplink no longer checks its (gone) table. */
		peers_resync();
		fwd_note("topology %s is down", topology);
	} else {
		fwd_err("down %s: not everything could be removed; what remains is "
			"still journaled, run down again\n",
			topology);
	}
	journal_close(&j);
	nl_close(nl);
	return ret ? FWD_EXIT_FAILURE : FWD_EXIT_OK;
}

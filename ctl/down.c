// SPDX-License-Identifier: GPL-2.0
/* fwdctl down: remove everything the journal of a topology records, and nothing else. */
#include "fwdctl.h"
#include "journal.h"
#include "names.h"
#include "nl.h"
#include "teardown.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int fwd_cmd_down(const char *topology, const struct fwd_opts *o)
{
	struct nl_sock *nl = NULL;
	struct journal j;
	char here[64], conf[128];
	int ret;

	ret = journal_open(&j, topology, false);
	if (ret == -ENOENT) {
		fwd_info(o, "fwdctl: topology %s is not up; nothing to do\n", topology);
		return FWD_EXIT_OK;
	}
	if (ret) {
		fprintf(stderr, "fwdctl: journal of %s: cannot open: %s\n", topology, strerror(-ret));
		return FWD_EXIT_FAILURE;
	}
	if (!journal_netns_id(here, sizeof(here)) && j.hostns[0] && strcmp(here, j.hostns)) {
		fprintf(stderr, "fwdctl: topology %s: was brought up in another host network "
				"namespace; run down there (with the same -n)\n", topology);
		journal_close(&j);
		return FWD_EXIT_FAILURE;
	}
	ret = nl_open(&nl);
	if (ret) {
		fprintf(stderr, "fwdctl: netlink: cannot open socket: %s\n", strerror(-ret));
		journal_close(&j);
		return FWD_EXIT_FAILURE;
	}
	ret = teardown_all(nl, &j);
	if (!ret) {
		fwd_journal_path(topology, "conf", conf, sizeof(conf));
		unlink(conf);
		journal_delete(&j);
		fwd_info(o, "fwdctl: topology %s is down\n", topology);
	} else {
		fprintf(stderr, "fwdctl: down %s: not everything could be removed; what remains is "
				"still journaled, run down again\n", topology);
	}
	journal_close(&j);
	nl_close(nl);
	return ret ? FWD_EXIT_FAILURE : FWD_EXIT_OK;
}

// SPDX-License-Identifier: GPL-2.0
/* Topologies that are up: what `up` saved in FWD_RUN_DIR, for commands that take [NAME]. */
#include "fwd_log.h"
#include "fwdctl.h"
#include "journal.h"
#include "names.h"
#include "topo.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int fwd_list_topologies(char names[][FWD_TOPO_NAME_SIZE], int max)
{
	DIR *d = opendir(FWD_RUN_DIR);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		size_t len = strlen(de->d_name);

		if (len > 5 && len - 5 < FWD_TOPO_NAME_SIZE &&
		    !strcmp(de->d_name + len - 5, ".conf")) {
			memcpy(names[n], de->d_name, len - 5);
			names[n++][len - 5] = '\0';
		}
	}
	closedir(d);
	return n;
}

enum fwd_hostns_state fwd_topology_hostns(const char *name)
{
	char path[128], line[128], here[64];
	enum fwd_hostns_state state = FWD_HOSTNS_UNKNOWN;
	FILE *f;

	fwd_journal_path(name, "journal", path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return FWD_HOSTNS_UNKNOWN;
	/* The first line names the host namespace: "hostns DEV:INODE". */
	if (fgets(line, sizeof(line), f) && !strncmp(line, "hostns ", 7) &&
	    !journal_netns_id(here, sizeof(here))) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line + 7, here))
			state = FWD_HOSTNS_HERE;
		else
			state = journal_netns_alive(line + 7) ? FWD_HOSTNS_OTHER : FWD_HOSTNS_GONE;
	}
	fclose(f);
	return state;
}

int fwd_list_topologies_here(char names[][FWD_TOPO_NAME_SIZE], int max)
{
	int n = fwd_list_topologies(names, max), k = 0;

	for (int i = 0; i < n; i++) {
		enum fwd_hostns_state st = fwd_topology_hostns(names[i]);

		/* A topology whose host namespace is gone is nobody's: shown everywhere, so that
		 * someone sees it and takes it down. */
		if (st == FWD_HOSTNS_HERE || st == FWD_HOSTNS_GONE)
			memmove(names[k++], names[i], FWD_TOPO_NAME_SIZE);
	}
	return k;
}

void fwd_saved_source(const char *name, char *out, size_t len)
{
	char path[128];
	FILE *f;

	fwd_journal_path(name, "source", path, sizeof(path));
	f = fopen(path, "re");
	if (!f || !fgets(out, (int)len, f)) {
		/* Up since an fwd that kept no source: its saved copy is what the line numbers
		 * are of. */
		fwd_journal_path(name, "conf", path, sizeof(path));
		snprintf(out, len, "%s", path);
	}
	out[strcspn(out, "\n")] = '\0';
	if (f)
		fclose(f);
}

int fwd_saved_topology(const char *name, struct fwd_topology *t)
{
	char path[128];
	FILE *devnull;
	int ret;

	fwd_journal_path(name, "conf", path, sizeof(path));
	if (access(path, R_OK))
		return -ENOENT;
	/* fwd wrote it: a parse error means it was edited by hand; the caller says so. */
	devnull = fopen("/dev/null", "we");
	ret = topo_parse_file(t, path, devnull ? devnull : stderr);
	if (devnull)
		fclose(devnull);
	return ret;
}

int fwd_pick_topology(const char *name, const char *cmd, bool bpf_only, const char *kernel_hint,
		      struct fwd_topology *t)
{
	char names[64][FWD_TOPO_NAME_SIZE];
	int n, ret;

	if (!name || !name[0]) {
		n = fwd_list_topologies_here(names, 64);
		if (n != 1) {
			fwd_err("%s: %s; name one", cmd,
				n ? "several topologies are up in this host namespace"
				  : "no topology is up in this host namespace");
			return FWD_EXIT_FAILURE;
		}
		name = names[0];
	}
	if (fwd_topology_hostns(name) == FWD_HOSTNS_OTHER) {
		fwd_err("topology %s is up in another host network namespace; run %s there "
			"(with its -n)",
			name, cmd);
		return FWD_EXIT_FAILURE;
	}
	ret = fwd_saved_topology(name, t);
	if (ret == -ENOENT) {
		fwd_err("topology %s is not up", name);
		return FWD_EXIT_FAILURE;
	}
	if (ret) {
		fwd_err("topology %s: cannot read its saved topology: %s", name, strerror(-ret));
		return FWD_EXIT_FAILURE;
	}
	if (bpf_only && t->datapath != FWD_DATAPATH_BPF) {
		char hint[160];

		/* @kernel_hint may name the topology with one %s. */
		snprintf(hint, sizeof(hint), kernel_hint, name);
		fwd_err("%s: topology %s uses datapath kernel; %s", cmd, name, hint);
		topo_free(t);
		return FWD_EXIT_FAILURE;
	}
	return FWD_EXIT_OK;
}

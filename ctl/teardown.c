// SPDX-License-Identifier: GPL-2.0
/* Teardown of journaled objects; see teardown.h. */
#include "teardown.h"
#include "fwd_loader.h"
#include "fwd_log.h"
#include "ebt.h"
#include "ipt.h"
#include "names.h"
#include "netns.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>

/* ifindex of the link named in a J_BPF attach-point entry, 0 when it is gone. */
static int attach_point(struct nl_sock *nl, const struct journal *j, const char *which)
{
	const struct journal_entry *e = journal_find(j, J_BPF, which);
	struct nl_link l;

	if (!e || !e->value[0] || nl_link_get(nl, e->value, &l))
		return 0;
	return l.ifindex;
}

static int restore_sysctl(const struct journal *j, const struct journal_entry *e)
{
	bool per_interface = strchr(e->name, '/'); /* the topology's own bridge's */
	char path[160];
	int fd;

	/* Another topology up in this host namespace relies on it too: its down restores it. */
	if (!per_interface && journal_hostns_shared(j))
		return 0;
	journal_sysctl_path(e->name, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && per_interface)
		return 0; /* the interface went (a bridge fwd made): nothing to restore */
	if (fd < 0 || write(fd, e->value, strlen(e->value)) < 0) {
		int err = -errno;

		if (fd >= 0)
			close(fd);
		return fwd_fail(err, path, "cannot restore");
	}
	close(fd);
	return 0;
}

int teardown_entry(struct nl_sock *nl, struct journal *j, const struct journal_entry *entry)
{
	struct journal_entry e = *entry; /* forgetting moves entries around */
	struct nl_link l;
	char prefix[32];
	int ret = 0;

	switch (e.kind) {
	case J_BPF:
		/* Attach points are read by the "pins" entry and forgotten with it. */
		if (strcmp(e.name, "pins") && journal_find(j, J_BPF, "pins"))
			return 0;
		if (strcmp(e.name, "pins"))
			break;
		ret = loader_down(j->topology, attach_point(nl, j, "uplink"),
				  attach_point(nl, j, "bridge"));
		if (ret)
			return ret;
		journal_forget(j, J_BPF, "uplink");
		journal_forget(j, J_BPF, "bridge");
		break;
	case J_IPTABLES: /* the kernel datapath's netfilter rules: iptables and ebtables */
		if ((ret = ipt_remove(e.name)) || (ret = ebt_remove(e.name)))
			return ret;
		break;
	case J_LINK:
		/* Only a link that still carries our alias, never someone else's namesake; or a
		 * veth without any, which an up killed right after creating it left (the kernel
		 * takes no alias at creation: it is a second request). */
		snprintf(prefix, sizeof(prefix), "fwd:%s:", j->topology);
		if (!nl_link_get(nl, e.name, &l) &&
		    (!strncmp(l.alias, prefix, strlen(prefix)) ||
		     (!l.alias[0] && !strcmp(l.kind, "veth"))) &&
		    (ret = nl_link_del(nl, l.ifindex)) && ret != -ENODEV)
			return nl_fail(nl, ret, e.name, "cannot delete link");
		break;
	case J_NETNS:
		ret = netns_delete(e.name);
		if (ret && ret != -ENOENT)
			return fwd_fail(ret, e.name, "cannot delete namespace");
		break;
	case J_BRIDGE:
		if (!nl_link_get(nl, e.name, &l) && !strcmp(l.kind, "bridge") &&
		    (ret = nl_link_del(nl, l.ifindex)) && ret != -ENODEV)
			return nl_fail(nl, ret, e.name, "cannot delete bridge");
		break;
	case J_SYSCTL:
		if ((ret = restore_sysctl(j, &e)))
			return ret;
		break;
	}
	journal_forget(j, e.kind, e.name);
	return 0;
}

/*
 * Deleting veths one by one costs a synchronize_net() each (seconds for hundreds). Unmounting
 * the namespaces first lets the kernel destroy them, with their veths, in one batch; wait for
 * that (bounded), and delete explicitly whatever a namespace still held (a process inside
 * keeps it, and its veth, alive). Polled by name (SIOCGIFINDEX), not by link dumps: the host
 * side of every veth costs a dump a walk over all the namespaces the host has a veth to, which
 * with thousands of them made each poll take a second.
 */
static void wait_for_namespace_links(struct journal *j)
{
	const char **left = calloc(j->n ? j->n : 1, sizeof(*left));
	size_t n = 0;

	if (!left)
		return;
	for (size_t k = 0; k < j->n; k++)
		if (j->entries[k].kind == J_LINK)
			left[n++] = j->entries[k].name;
	for (int ms = 0; n && ms < 3000; ms += 10) {
		size_t still = 0;

		for (size_t i = 0; i < n; i++)
			if (if_nametoindex(left[i]))
				left[still++] = left[i];
		n = still;
		if (n)
			usleep(10 * 1000);
	}
	free(left);
}

int teardown_all(struct nl_sock *nl, struct journal *j)
{
	/* The namespaces and their links go first, the rules and programs that police their
	 * traffic after them: the other way round, a namespace's last packets (a socket's
	 * retransmissions) would leave by the uplink with its address. */
	static const enum journal_kind order[] = { J_NETNS, J_LINK,   J_IPTABLES,
						   J_BPF,   J_BRIDGE, J_SYSCTL };
	int first_err = 0;

	for (size_t o = 0; o < sizeof(order) / sizeof(order[0]); o++) {
		if (order[o] == J_LINK)
			wait_for_namespace_links(j);
		for (size_t k = j->n; k-- > 0;) {
			if (k >= j->n || j->entries[k].kind != order[o])
				continue;
			/* Keep going after a failure: remove as much as possible, report it all. */
			int ret = teardown_entry(nl, j, &j->entries[k]);
			if (ret && !first_err)
				first_err = ret;
		}
	}
	return first_err;
}

int teardown_orphan(struct journal *j)
{
	int first_err = 0, ret;

	for (size_t k = j->n; k-- > 0;) {
		struct journal_entry e = j->entries[k];

		if (e.kind == J_NETNS) {
			ret = netns_delete(e.name);
			if (ret && ret != -ENOENT) {
				fwd_fail(ret, e.name, "cannot delete namespace");
				first_err = first_err ? first_err : ret;
				continue;
			}
		} else if (e.kind == J_BPF && !strcmp(e.name, "pins")) {
			ret = loader_down_orphan(j->topology);
			if (ret) {
				first_err = first_err ? first_err : ret;
				continue;
			}
		}
		/* Links, bridge, rules and sysctls were the host namespace's: gone with it. */
		journal_forget(j, e.kind, e.name);
	}
	return first_err;
}

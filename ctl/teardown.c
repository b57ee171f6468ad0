// SPDX-License-Identifier: GPL-2.0
/* Teardown of journaled objects; see teardown.h. */
#include "teardown.h"
#include "fwd_loader.h"
#include "fwd_log.h"
#include "ebt.h"
#include "ipt.h"
#include "names.h"
#include "netns.h"
#include "fwdctl.h"
#include "kernel_ct.h"
#include "topo.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <arpa/inet.h>

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
	char path[160], theirs[16];
	int fd;

	/* Another topology up in this host namespace relies on it too (it journaled it: up
	 * journals a host-wide sysctl it finds set by another topology, journal_hostns_sysctl()):
	 * the last one down restores it. One that does not rely on it (IPv6 forwarding, for a
	 * topology without IPv6) does not hold it on. */
	if (!per_interface && journal_hostns_sysctl(j, e->name, theirs, sizeof(theirs)))
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

/* A route line's host route ("NET/PREFIX" via "ADDR"); gone already is fine. */
static int teardown_route(struct nl_sock *nl, const struct journal_entry *e)
{
	char net[sizeof(e->name)], *slash;
	struct in_addr addr, via;
	int ret;

	snprintf(net, sizeof(net), "%s", e->name);
	slash = strchr(net, '/');
	if (!slash)
		return 0; /* not one fwd wrote */
	*slash = '\0';
	if (inet_pton(AF_INET, net, &addr) != 1 || inet_pton(AF_INET, e->value, &via) != 1)
		return 0;
	ret = nl_route_del(nl, addr.s_addr, (uint8_t)atoi(slash + 1), via.s_addr);
	return ret ? nl_fail(nl, ret, e->name, "cannot delete route") : 0;
}

/* The connections nf_conntrack DNATed to the namespaces of topology @name, as `up` saved it,
 * end with its rules (kernel_ct.c); what cannot be ended expires, so a failure is no error. */
static void forget_forwards(const char *name)
{
	struct fwd_topology t;

	if (fwd_saved_topology(name, &t))
		return;
	kernel_ct_forget_forwards(&t, 0, NULL, true);
	topo_free(&t);
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
		forget_forwards(e.name);
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
	case J_ROUTE:
		if ((ret = teardown_route(nl, &e)))
			return ret;
		break;
	}
	journal_forget(j, e.kind, e.name);
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Deleting veths one by one costs a synchronize_net() each (seconds for hundreds). Unmounting
 * the namespaces first lets the kernel destroy them, with their veths, in batches; wait for
 * that, and delete explicitly whatever a namespace still held (a process inside keeps it, and
 * its veth, alive). Polled by name (SIOCGIFINDEX), not by link dumps: the host side of every
 * veth costs a dump a walk over all the namespaces the host has a veth to, which with thousands
 * of them made each poll take a second.
 *
 * No fixed bound: before it frees a single link, the kernel unhashes each dying namespace from
 * every live one, which with thousands alive takes seconds per thousand dying. So the wait
 * lasts while either the links or the host's namespace ids (taken back in that first step) keep
 * going, and ends after TEARDOWN_STALL_MS without either: what is left is held. (The ids are
 * seen only as far as the kernel's dump goes: nl_nsid_digest().)
 */
#define TEARDOWN_STALL_MS 3000
#define TEARDOWN_POLL_US  (10 * 1000)

void teardown_wait_links(struct nl_sock *nl, struct journal *const *js, size_t n_js)
{
	const char **left;
	size_t n = 0, total = 0;
	long progress_at = now_ms();
	uint64_t nsids = 0;
	bool have_nsids = false;

	for (size_t i = 0; i < n_js; i++)
		total += js[i]->n;
	left = calloc(total ? total : 1, sizeof(*left));
	if (!left)
		return;
	for (size_t i = 0; i < n_js; i++)
		for (size_t k = 0; k < js[i]->n; k++)
			if (js[i]->entries[k].kind == J_LINK)
				left[n++] = js[i]->entries[k].name;
	while (n) {
		size_t still = 0;

		for (size_t i = 0; i < n; i++)
			if (if_nametoindex(left[i]))
				left[still++] = left[i];
		if (still < n) {
			progress_at = now_ms();
		} else {
			uint64_t ids;

			if (!nl_nsid_digest(nl, &ids)) {
				if (have_nsids && ids != nsids)
					progress_at = now_ms();
				nsids = ids;
				have_nsids = true;
			}
		}
		n = still;
		if (!n || now_ms() - progress_at > TEARDOWN_STALL_MS)
			break;
		usleep(TEARDOWN_POLL_US);
	}
	free(left);
}

static int teardown_kinds(struct nl_sock *nl, struct journal *j, const enum journal_kind *kinds,
			  size_t n_kinds)
{
	int first_err = 0;

	for (size_t o = 0; o < n_kinds; o++) {
		for (size_t k = j->n; k-- > 0;) {
			if (k >= j->n || j->entries[k].kind != kinds[o])
				continue;
			/* Keep going after a failure: remove as much as possible, report it all. */
			int ret = teardown_entry(nl, j, &j->entries[k]);
			if (ret && !first_err)
				first_err = ret;
		}
	}
	return first_err;
}

int teardown_namespaces(struct nl_sock *nl, struct journal *j)
{
	static const enum journal_kind kinds[] = { J_NETNS };

	return teardown_kinds(nl, j, kinds, sizeof(kinds) / sizeof(kinds[0]));
}

int teardown_rest(struct nl_sock *nl, struct journal *j)
{
	/* The rules and programs that police the namespaces' traffic after the namespaces and
	 * their links: the other way round, a namespace's last packets (a socket's
	 * retransmissions) would leave by the uplink with its address. */
	static const enum journal_kind kinds[] = { J_ROUTE, J_LINK,   J_IPTABLES,
						   J_BPF,   J_BRIDGE, J_SYSCTL };

	return teardown_kinds(nl, j, kinds, sizeof(kinds) / sizeof(kinds[0]));
}

int teardown_all(struct nl_sock *nl, struct journal *j)
{
	int ret = teardown_namespaces(nl, j), rest;

	teardown_wait_links(nl, &j, 1);
	rest = teardown_rest(nl, j);
	return ret ? ret : rest;
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

// SPDX-License-Identifier: GPL-2.0
/*
 * fwdctl watch [FILE|NAME]: follow the uplink addresses of the topologies of this host
 * namespace through rtnetlink, and bring a topology up again (`up` of its saved file) when its
 * uplink's primary IPv4 address changed, or, for a topology with IPv6 and forwards, its first
 * global IPv6 address (the one `up` publishes the forwards on: ip6tables' DNAT rules). `up`
 * rewrites the address in fwd_uplink in place (datapath bpf), removes the connections masqueraded
 * with the old one or forwarded to it, and rewrites datapath kernel's rules; the kernel's
 * MASQUERADE forgets its own connections of an address that goes. Runs until SIGTERM or SIGINT,
 * exit 0: fit to be a service's main process.
 */
#include "fwd_log.h"
#include "fwdctl.h"
#include "names.h"
#include "nl.h"
#include "topo.h"

#include <errno.h>
#include <arpa/inet.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Address events come in bursts (one address deleted, another promoted): act once the burst
 * is over, which keeps a change well within a second. */
#define WATCH_SETTLE_MS 100
/* Without a NAME, topologies brought up or down meanwhile are looked for this often. */
#define WATCH_RESCAN_MS 1000
#define WATCH_MAX	256

struct watched {
	char name[FWD_TOPO_NAME_SIZE];
	char uplink[FWD_IFNAME_MAX + 1];
	in_addr_t addr;	       /* the uplink's primary address when last looked at; 0: none */
	bool follows6;	       /* the topology publishes forwards on IPv6, or masquerades to it */
	struct in6_addr addr6; /* then: its first global IPv6 address; all zero: none */
};

static volatile sig_atomic_t watch_stop;

static void watch_on_signal(int sig)
{
	(void)sig;
	watch_stop = 1;
}

static in_addr_t uplink_addr_now(struct nl_sock *nl, const char *uplink)
{
	struct nl_link l;
	in_addr_t addr = 0;
	uint8_t prefix;

	if (!uplink[0] || nl_link_get(nl, uplink, &l) ||
	    nl_addr_get_primary(nl, l.ifindex, &addr, &prefix))
		return 0;
	return addr;
}

/* The uplink's first global IPv6 address, or all zero. */
static struct in6_addr uplink_addr6_now(struct nl_sock *nl, const char *uplink)
{
	struct in6_addr addr = { 0 };
	struct nl_link l;

	if (!uplink[0] || nl_link_get(nl, uplink, &l) || nl_addr6_first(nl, l.ifindex, &addr) != 1)
		memset(&addr, 0, sizeof(addr));
	return addr;
}

/* What changed of @w's uplink addresses, said; false when nothing did. */
static bool watch_changed(struct nl_sock *nl, struct watched *w)
{
	in_addr_t now = uplink_addr_now(nl, w->uplink);
	struct in6_addr now6 = { 0 };
	char was[INET6_ADDRSTRLEN], is[INET6_ADDRSTRLEN];
	bool changed = false;

	if (now != w->addr) {
		snprintf(was, sizeof(was), "%s", w->addr ? fwd_ip_str(w->addr) : "none");
		fwd_note("uplink %s: address %s -> %s: topology %s follows", w->uplink, was,
			 now ? fwd_ip_str(now) : "none", w->name);
		w->addr = now;
		changed = true;
	}
	if (!w->follows6)
		return changed;
	now6 = uplink_addr6_now(nl, w->uplink);
	if (!memcmp(&now6, &w->addr6, sizeof(now6)))
		return changed;
	if (IN6_IS_ADDR_UNSPECIFIED(&w->addr6) || !inet_ntop(AF_INET6, &w->addr6, was, sizeof(was)))
		snprintf(was, sizeof(was), "none");
	if (IN6_IS_ADDR_UNSPECIFIED(&now6) || !inet_ntop(AF_INET6, &now6, is, sizeof(is)))
		snprintf(is, sizeof(is), "none");
	fwd_note("uplink %s: IPv6 address %s -> %s: topology %s follows", w->uplink, was, is,
		 w->name);
	w->addr6 = now6;
	return true;
}

/* `up` of topology @name's saved file, under the path it was first read from. */
static int watch_converge(const char *name, const struct fwd_opts *o)
{
	struct fwd_cmdline c = { 0 };
	char source[PATH_MAX], *dup;
	int ret;

	if (fwd_saved_topology(name, &c.topology)) {
		fwd_err("watch: topology %s: cannot read its saved file", name);
		return FWD_EXIT_FAILURE;
	}
	fwd_saved_source(name, source, sizeof(source));
	dup = strdup(source);
	if (dup) {
		free(c.topology.source);
		c.topology.source = dup;
	}
	ret = fwd_cmd_up(&c, o);
	topo_free(&c.topology);
	return ret;
}

/* The topologies to watch now: @name, or those of this host namespace. Keeps what is known
 * of the ones still there; a new one's address is read now. */
static int watch_list(const char *name, struct watched *w, int n, struct nl_sock *nl)
{
	static char names[WATCH_MAX][FWD_TOPO_NAME_SIZE];
	static struct watched old[WATCH_MAX];
	int k = 0, m;

	memcpy(old, w, n * sizeof(*w));
	if (name[0]) {
		m = fwd_topology_hostns(name) == FWD_HOSTNS_HERE;
		if (m)
			memcpy(names[0], name, FWD_TOPO_NAME_SIZE);
	} else {
		m = fwd_list_topologies_here(names, WATCH_MAX);
	}
	for (int i = 0; i < m; i++) {
		struct fwd_topology t;
		int j;

		for (j = 0; j < n && strcmp(old[j].name, names[i]); j++)
			;
		if (j < n) {
			w[k++] = old[j];
			continue;
		}
		if (fwd_saved_topology(names[i], &t))
			continue;
		memcpy(w[k].name, names[i], FWD_TOPO_NAME_SIZE);
		memcpy(w[k].uplink, t.uplink, sizeof(w[k].uplink));
		w[k].addr = uplink_addr_now(nl, t.uplink);
		w[k].follows6 = t.has6 && (t.n_forwards || t.n_masquerades6);
		w[k].addr6 =
		    w[k].follows6 ? uplink_addr6_now(nl, t.uplink) : (struct in6_addr){ 0 };
		topo_free(&t);
		k++;
	}
	return k;
}

int fwd_cmd_watch(const struct fwd_cmdline *c, const struct fwd_opts *o)
{
	static struct watched w[WATCH_MAX];
	struct sigaction sa = { .sa_handler = watch_on_signal };
	struct nl_sock *events = NULL, *nl = NULL;
	bool changed = false;
	int n = 0, ret;

	if (c->name[0] && fwd_topology_hostns(c->name) != FWD_HOSTNS_HERE) {
		fwd_err("watch: topology %s is not up in this host namespace", c->name);
		return FWD_EXIT_FAILURE;
	}
	ret = nl_open_address_events(&events);
	if (!ret)
		ret = nl_open(&nl);
	if (ret) {
		fwd_err("watch: netlink: cannot open socket: %s", strerror(-ret));
		nl_close(events);
		return FWD_EXIT_FAILURE;
	}
	/* No SA_RESTART: poll() returns at once with EINTR. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	/* Whatever changed while nobody watched: each topology is brought up to date first. */
	n = watch_list(c->name, w, 0, nl);
	for (int i = 0; i < n && !watch_stop; i++)
		watch_converge(w[i].name, o);
	fwd_note("watching the uplink addresses of %d topolog%s", n, n == 1 ? "y" : "ies");

	while (!watch_stop) {
		struct pollfd p = { .fd = nl_fd(events), .events = POLLIN };
		int r = poll(&p, 1, changed ? WATCH_SETTLE_MS : WATCH_RESCAN_MS);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fwd_err("watch: poll: %s", strerror(errno));
			ret = FWD_EXIT_FAILURE;
			break;
		}
		if (r > 0) {
			if (nl_drain(events) < 0) {
				fwd_err("watch: netlink: %s", strerror(errno));
				ret = FWD_EXIT_FAILURE;
				break;
			}
			changed = true;
			continue; /* until the burst is over */
		}
		n = watch_list(c->name, w, n, nl);
		for (int i = 0; i < n && changed && !watch_stop; i++)
			if (watch_changed(nl, &w[i]))
				watch_converge(w[i].name, o);
		changed = false;
	}
	nl_close(events);
	nl_close(nl);
	return ret ? ret : FWD_EXIT_OK;
}

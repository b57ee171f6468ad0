// SPDX-License-Identifier: GPL-2.0
/* Conflicts between topologies, found before `up` changes anything; see conflicts.h. */
#include "conflicts.h"
#include "fwd_log.h"
#include "fwdctl.h"
#include "journal.h"
#include "names.h"
#include "topo.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFLICTS_MAX_TOPOLOGIES 256

/* Another topology that is up: its model (parsed from its saved copy) and its file's path. */
struct other {
	struct fwd_topology t;
	char source[PATH_MAX];
};

static int conflicts_found;

static void conflict(const struct fwd_topology *t, int line, const struct other *o, int oline,
		     const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: ", t->source, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (oline)
		fprintf(stderr, " (topology %s, %s:%d)\n", o->t.name, o->source, oline);
	else
		fprintf(stderr, " (topology %s, %s)\n", o->t.name, o->source);
	conflicts_found++;
}

static int other_read(const char *name, struct other *o)
{
	if (fwd_saved_topology(name, &o->t))
		return -1; /* not readable: nothing to compare with */
	fwd_saved_source(name, o->source, sizeof(o->source));
	return 0;
}

static bool ranges_overlap(unsigned int lo1, unsigned int hi1, unsigned int lo2, unsigned int hi2)
{
	return lo1 <= hi2 && lo2 <= hi1;
}

/* "80" or "8000-8009" into @buf. */
static const char *port_range(char *buf, size_t len, unsigned int lo, unsigned int hi)
{
	if (lo == hi)
		snprintf(buf, len, "%u", lo);
	else
		snprintf(buf, len, "%u-%u", lo, hi);
	return buf;
}

static bool subnets_overlap(const struct fwd_cidr *a, const struct fwd_cidr *b)
{
	in_addr_t mask = fwd_prefix_netmask(a->prefix < b->prefix ? a->prefix : b->prefix);

	return (a->addr & mask) == (b->addr & mask);
}

/* Forwards of @f's topology @t inside the snat-ports of @m's masquerading topology. */
static void forwards_in_snat_ports(const struct fwd_topology *t, const struct fwd_topology *m,
				   const struct other *o, bool t_is_new, in_addr_t uplink_addr)
{
	if (!m->n_masquerades)
		return;
	for (size_t i = 0; i < t->n_forwards; i++) {
		const struct fwd_forward *f = &t->forwards[i];
		char ports[16];

		/* Masquerading takes ports of the primary address only. */
		if (!fwd_forward_on_ipv4(t, f) || (f->addr && f->addr != uplink_addr) ||
		    !ranges_overlap(f->port_lo, f->port_hi, m->snat_port_lo, m->snat_port_hi))
			continue;

		port_range(ports, sizeof(ports), f->port_lo, f->port_hi);
		if (t_is_new)
			conflict(t, f->line, o, o->t.snat_ports_line,
				 "forward of %s lies in snat-ports %u-%u of another topology "
				 "masquerading out of uplink %s, whose replies it would take; move "
				 "the forward, or give that topology snat-ports without it",
				 ports, m->snat_port_lo, m->snat_port_hi, m->uplink);
		else
			conflict(m, m->snat_ports_line ? m->snat_ports_line : m->uplink_line, o,
				 f->line,
				 "snat-ports %u-%u hold %s, which another topology forwards on "
				 "uplink %s; give this one snat-ports without it",
				 m->snat_port_lo, m->snat_port_hi, ports, m->uplink);
	}
}

/*
 * A route line of @m over the subnet of @b, or over a route of @b's: one host namespace has one
 * main routing table. @mine: @m is the topology being brought up (else @b is, and the
 * conflict is reported at @b's line).
 */
static void routes_overlap(const struct fwd_topology *m, const struct fwd_topology *b,
			   const struct other *o, bool mine)
{
	for (size_t i = 0; i < m->n_routes; i++) {
		const struct fwd_route *r = &m->routes[i];

		if (!b->v6only && subnets_overlap(&r->net, &b->gateway)) {
			if (mine)
				conflict(m, r->line, o, b->bridge_line,
					 "route %s/%u overlaps another topology's subnet",
					 fwd_ip_str(r->net.addr), r->net.prefix);
			else
				conflict(b, b->bridge_line, o, r->line,
					 "subnet %s/%u is routed via the LAN by another topology",
					 fwd_ip_str(topo_subnet(b)), b->gateway.prefix);
		}
		for (size_t k = 0; mine && k < b->n_routes; k++)
			if (subnets_overlap(&r->net, &b->routes[k].net))
				conflict(m, r->line, o, b->routes[k].line,
					 "route %s/%u overlaps another topology's route",
					 fwd_ip_str(r->net.addr), r->net.prefix);
	}
}

static void compare_same_hostns(const struct fwd_topology *t, const struct other *o,
				in_addr_t uplink_addr)
{
	const struct fwd_topology *p = &o->t;
	bool same_uplink = t->uplink[0] && !strcmp(t->uplink, p->uplink);

	if (!strcmp(t->bridge, p->bridge))
		conflict(t, t->bridge_line, o, p->bridge_line, "bridge %s is another topology's",
			 t->bridge);
	if (!t->v6only && !p->v6only && subnets_overlap(&t->gateway, &p->gateway))
		conflict(t, t->bridge_line, o, p->bridge_line,
			 "subnet %s/%u overlaps another topology's", fwd_ip_str(topo_subnet(t)),
			 t->gateway.prefix);
	if (t->has6 && p->has6 &&
	    fwd_in6_same_prefix(&t->gateway6.addr, &p->gateway6.addr,
				t->gateway6.prefix < p->gateway6.prefix ? t->gateway6.prefix
									: p->gateway6.prefix)) {
		struct in6_addr net =
		    fwd_in6_prefix_fill(&t->gateway6.addr, t->gateway6.prefix, false);

		conflict(t, t->bridge_line, o, p->bridge_line,
			 "IPv6 prefix %s/%u overlaps another topology's", fwd_ip6_str(&net),
			 t->gateway6.prefix);
	}
	routes_overlap(t, p, o, true);
	routes_overlap(p, t, o, false);
	if (!same_uplink)
		return;
	for (size_t i = 0; i < t->n_forwards; i++)
		for (size_t k = 0; k < p->n_forwards; k++) {
			const struct fwd_forward *f = &t->forwards[i], *g = &p->forwards[k];
			char mine[16], theirs[16];

			/* On one uplink, a forward without an address and one naming the
			 * primary address are on the same address. Two naming one IPv6
			 * address too (one without an address is on the first IPv6 address,
			 * which `up` reads: not compared). */
			bool on6 = f->has_addr6 && g->has_addr6 &&
				   !memcmp(&f->addr6, &g->addr6, sizeof(f->addr6));
			bool on4 =
			    fwd_forward_on_ipv4(t, f) && fwd_forward_on_ipv4(t, g) &&
			    (f->addr ? f->addr : uplink_addr) == (g->addr ? g->addr : uplink_addr);

			if (f->proto != g->proto || (!on4 && !on6) ||
			    !ranges_overlap(f->port_lo, f->port_hi, g->port_lo, g->port_hi))
				continue;
			conflict(t, f->line, o, g->line,
				 "forward of %s %s on uplink %s overlaps another topology's "
				 "forward of %s",
				 f->proto == IPPROTO_TCP ? "tcp" : "udp",
				 port_range(mine, sizeof(mine), f->port_lo, f->port_hi), t->uplink,
				 port_range(theirs, sizeof(theirs), g->port_lo, g->port_hi));
		}
	forwards_in_snat_ports(t, p, o, true, uplink_addr);
	forwards_in_snat_ports(p, t, o, false, uplink_addr);
	/* Two topologies of datapath bpf check each other's connection tables for the ports
	 * they masquerade to (fwd_ct_peers), and two of datapath kernel share nf_conntrack; a
	 * bpf one and a kernel one cannot see each other's ports. */
	if (t->n_masquerades && p->n_masquerades && t->datapath != p->datapath &&
	    ranges_overlap(t->snat_port_lo, t->snat_port_hi, p->snat_port_lo, p->snat_port_hi))
		conflict(t, t->snat_ports_line ? t->snat_ports_line : t->uplink_line, o,
			 p->snat_ports_line,
			 "snat-ports %u-%u overlap those of another topology masquerading out of "
			 "uplink %s with the other datapath, which cannot see this one's "
			 "connections: give each its own range",
			 t->snat_port_lo, t->snat_port_hi, t->uplink);
}

static int cmp_namespace_name(const void *a, const void *b)
{
	return strcmp((*(const struct fwd_namespace *const *)a)->name,
		      (*(const struct fwd_namespace *const *)b)->name);
}

/* Namespaces of @t that @o declares too: both name lists sorted, then merged, so that two
 * topologies of 10,000 namespaces each cost 2 x 10,000 comparisons, not 10,000 squared. */
static void compare_namespaces(const struct fwd_topology *t, const struct other *o)
{
	const struct fwd_namespace **mine = calloc(t->n_namespaces + 1, sizeof(*mine));
	const struct fwd_namespace **theirs = calloc(o->t.n_namespaces + 1, sizeof(*theirs));
	size_t a = 0, b = 0;

	if (!mine || !theirs) {
		fwd_err("conflicts: out of memory");
		conflicts_found++;
		goto out;
	}
	for (size_t i = 0; i < t->n_namespaces; i++)
		mine[i] = &t->namespaces[i];
	for (size_t i = 0; i < o->t.n_namespaces; i++)
		theirs[i] = &o->t.namespaces[i];
	qsort(mine, t->n_namespaces, sizeof(*mine), cmp_namespace_name);
	qsort(theirs, o->t.n_namespaces, sizeof(*theirs), cmp_namespace_name);
	while (a < t->n_namespaces && b < o->t.n_namespaces) {
		int c = strcmp(mine[a]->name, theirs[b]->name);

		if (c == 0)
			conflict(t, mine[a]->line, o, theirs[b]->line,
				 "namespace %s is another topology's", mine[a]->name);
		a += c <= 0;
		b += c >= 0;
	}
out:
	free(mine);
	free(theirs);
}

static bool name_listed(char (*names)[FWD_TOPO_NAME_SIZE], int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

int conflicts_check(const struct fwd_topology *t, in_addr_t uplink_addr)
{
	static char names[CONFLICTS_MAX_TOPOLOGIES][FWD_TOPO_NAME_SIZE];
	static char here_names[CONFLICTS_MAX_TOPOLOGIES][FWD_TOPO_NAME_SIZE];
	static struct other o;
	char here[64];
	int n, n_here = 0;

	conflicts_found = 0;
	if (!journal_netns_id(here, sizeof(here)))
		n_here =
		    journal_hostns_topologies(here, t->name, here_names, CONFLICTS_MAX_TOPOLOGIES);
	n = fwd_list_topologies(names, CONFLICTS_MAX_TOPOLOGIES);
	for (int i = 0; i < n; i++) {
		if (!strcmp(names[i], t->name) || other_read(names[i], &o))
			continue;
		/* Namespace names (/run/netns) are the machine's, whatever the host namespace. */
		compare_namespaces(t, &o);
		/* The rest only between topologies of one host namespace. */
		if (name_listed(here_names, n_here, names[i]))
			compare_same_hostns(t, &o, uplink_addr);
		topo_free(&o.t);
	}
	return conflicts_found;
}

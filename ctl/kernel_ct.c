// SPDX-License-Identifier: GPL-2.0
/*
 * datapath kernel keeps forwarded connections in nf_conntrack, which goes on translating a
 * connection after its DNAT rule is gone: a steady UDP flow to a removed or retargeted forward
 * would keep reaching the old target (or a container that was deleted) until it stops for the
 * whole timeout. datapath bpf prunes its own tables (loader/ct.c, loader/ct6.c); this is the
 * same for nf_conntrack, IPv4 and IPv6, as CNI's portmap plugin deletes its UDP entries on DEL.
 */
#include "kernel_ct.h"
#include "fwd_inet.h"
#include "fwd_log.h"
#include "nl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/netfilter/nf_conntrack_common.h>

struct forget {
	const struct fwd_topology *t;
	in_addr_t uplink_addr;
	const struct in6_addr *uplink_addr6;
	bool all;
	struct nl_ct_tuple *gone; /* original tuples to delete after the dump */
	size_t n, cap;
};

/* Is @reply's source (the target the connection was sent to) inside the topology's subnet or
 * IPv6 prefix? */
static bool to_topology(const struct forget *f, const struct nl_ct_tuple *reply)
{
	const struct fwd_topology *t = f->t;

	if (reply->family == AF_INET)
		return !t->v6only && (reply->src.v4 & topo_netmask(t)) == topo_subnet(t);
	return t->has6 &&
	       fwd_in6_same_prefix(&reply->src.v6, &t->gateway6.addr, t->gateway6.prefix);
}

/* Does a forward of @t still send @orig (a client's tuple) to @reply's source? */
static bool forward_current(const struct forget *f, const struct nl_ct_tuple *orig,
			    const struct nl_ct_tuple *reply)
{
	struct in6_addr to_addr6;
	in_addr_t to_addr;
	uint16_t to_port;

	if (orig->family == AF_INET)
		return topo_forward_target(f->t, orig->proto, orig->dst.v4, ntohs(orig->dport),
					   f->uplink_addr, &to_addr, &to_port) &&
		       reply->src.v4 == to_addr && ntohs(reply->sport) == to_port;
	return topo_forward6_target(f->t, orig->proto, &orig->dst.v6, ntohs(orig->dport),
				    f->uplink_addr6, &to_addr6, &to_port) &&
	       !memcmp(&reply->src.v6, &to_addr6, sizeof(to_addr6)) &&
	       ntohs(reply->sport) == to_port;
}

static int forget_cb(const struct nl_ct_tuple *orig, const struct nl_ct_tuple *reply,
		     uint32_t status, void *ctx)
{
	struct forget *f = ctx;

	/* (DNATed, all of them: the dump asked the kernel for those only) */
	if (!to_topology(f, reply))
		return 0;
	if (!f->all && forward_current(f, orig, reply))
		return 0;
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 64;
		struct nl_ct_tuple *g = realloc(f->gone, cap * sizeof(*g));

		if (!g)
			return -ENOMEM;
		f->gone = g;
		f->cap = cap;
	}
	f->gone[f->n++] = *orig;
	return 0;
}

int kernel_ct_forget_forwards(const struct fwd_topology *t, in_addr_t uplink_addr,
			      const struct in6_addr *uplink_addr6, bool all)
{
	struct forget f = {
		.t = t, .uplink_addr = uplink_addr, .uplink_addr6 = uplink_addr6, .all = all
	};
	const uint8_t families[] = { AF_INET, AF_INET6 };
	struct nl_sock *nl;
	int ret, deleted = 0;

	ret = nl_open_netfilter(&nl);
	if (ret)
		return fwd_fail(ret, "nf_conntrack", "cannot open a netfilter socket");
	/* Deleted after the dump: a request on the socket would cut the dump short. */
	for (size_t i = 0; !ret && i < sizeof(families); i++) {
		if (families[i] == AF_INET ? t->v6only : !t->has6)
			continue;
		ret = nl_ct_dump(nl, families[i], IPS_DST_NAT, forget_cb, &f);
		if (ret == -ENOENT || ret == -EOPNOTSUPP)
			ret = 0; /* no nf_conntrack (module not loaded): no connections to end */
	}
	for (size_t i = 0; !ret && i < f.n; i++) {
		ret = nl_ct_delete(nl, &f.gone[i]);
		deleted += !ret;
	}
	if (ret)
		fwd_fail(ret, "nf_conntrack",
			 "cannot end the connections of forwards that are gone");
	else if (deleted)
		fwd_info(
		    "topology %s: %d nf_conntrack connection%s of forwards that are gone ended",
		    t->name, deleted, deleted == 1 ? "" : "s");
	free(f.gone);
	nl_close(nl);
	return ret ? ret : deleted;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * datapath kernel keeps forwarded connections in nf_conntrack, which goes on translating a
 * connection after its DNAT rule is gone: a steady UDP flow to a removed or retargeted forward
 * would keep reaching the old target (or a container that was deleted) until it stops for the
 * whole timeout. datapath bpf prunes its own table (loader/ct.c: ct_prune); this is the same
 * for nf_conntrack, as CNI's portmap plugin deletes its UDP entries on DEL.
 */
#include "kernel_ct.h"
#include "fwd_log.h"
#include "nl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter/nf_conntrack_common.h>

struct forget {
	const struct fwd_topology *t;
	in_addr_t uplink_addr;
	bool all;
	struct nl_ct_tuple *gone; /* original tuples to delete after the dump */
	size_t n, cap;
};

/* Does a forward of @t still send @orig (a client's tuple) to @reply's source? */
static bool forward_current(const struct forget *f, const struct nl_ct_tuple *orig,
			    const struct nl_ct_tuple *reply)
{
	in_addr_t to_addr;
	uint16_t to_port;

	return topo_forward_target(f->t, orig->proto, orig->dst, ntohs(orig->dport), f->uplink_addr,
				   &to_addr, &to_port) &&
	       reply->src == to_addr && ntohs(reply->sport) == to_port;
}

static int forget_cb(const struct nl_ct_tuple *orig, const struct nl_ct_tuple *reply,
		     uint32_t status, void *ctx)
{
	struct forget *f = ctx;

	/* (DNATed, all of them: the dump asked the kernel for those only) */
	if ((reply->src & topo_netmask(f->t)) != topo_subnet(f->t))
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

int kernel_ct_forget_forwards(const struct fwd_topology *t, in_addr_t uplink_addr, bool all)
{
	struct forget f = { .t = t, .uplink_addr = uplink_addr, .all = all };
	struct nl_sock *nl;
	int ret, deleted = 0;

	if (t->v6only)
		return 0;
	ret = nl_open_netfilter(&nl);
	if (ret)
		return fwd_fail(ret, "nf_conntrack", "cannot open a netfilter socket");
	/* Deleted after the dump: a request on the socket would cut the dump short. */
	ret = nl_ct_dump(nl, IPS_DST_NAT, forget_cb, &f);
	if (ret == -ENOENT || ret == -EOPNOTSUPP)
		ret = 0; /* no nf_conntrack (module not loaded): no connections to end */
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

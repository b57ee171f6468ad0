/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Policy (datapath bpf): `isolate` with its `allow` lines, and `forward ... from`.
 *
 * isolate: a frame from one namespace to another passes only as part of a connection an allow
 * line admitted, either way (a reply always passes); so does a frame from a routed subnet (route
 * ... via) to a namespace, while a namespace opens connections to a routed subnet freely, as to
 * the LAN (policy_conn()'s opener): such a connection is tracked in fwd_ct like
 * the translated ones (FWD_CT_NAT_NONE: both keys as the packets carry them), so its TCP state,
 * expiry and the namespace's conntrack cap apply as for SNAT. The allow lines are read only when
 * a connection opens (they are rodata: the verifier walks the used ones). An ICMP error passes
 * when it quotes a packet of such a connection. Protocols other than TCP, UDP and ICMP are not
 * tracked: they pass where an allow line without a protocol admits them, each way on its own.
 *
 * forward ... from: bpf/policy_from.h.
 *
 * Each drop counts under its rule in fwd_rule_drops (FWD_RULE_ISOLATE, or the forward's).
 */
#ifndef FWD_BPF_POLICY_H
#define FWD_BPF_POLICY_H

#include "conntrack.h"
#include "nat.h"
#include "icmp.h"
#include "policy_from.h"

/* The netmask of an allow line's source: 32 bits for a namespace, a routed subnet's fewer. */
static __always_inline __be32 policy_src_mask(__u32 plen)
{
	return plen >= 32 ? 0xffffffff : bpf_htonl(~(0xffffffffu >> plen));
}

/* Does an allow line admit @pkt (its proto; any proto with @any_proto only)? */
static __always_inline bool policy_allowed(const struct fwd_pkt *pkt, bool any_proto)
{
	__u16 port = bpf_ntohs(pkt->dport);

	for (__u32 i = 0; i < FWD_MAX_ALLOW; i++) {
		const volatile struct fwd_allow_rule *a = &fwd_cfg.allow[i];

		if (i >= fwd_cfg.n_allow)
			break;
		if ((pkt->saddr & policy_src_mask(a->src_plen)) != a->src || a->dst != pkt->daddr)
			continue;
		if (!a->proto)
			return true;
		if (!any_proto && a->proto == pkt->proto && port >= a->port_lo &&
		    port <= a->port_hi)
			return true;
	}
	return false;
}

/* Who opens a connection policy_conn() tracks, and what may open it. */
enum policy_opener {
	POLICY_NS_TO_NS,    /* a namespace, to another: as an allow line admits */
	POLICY_NS_TO_ROUTE, /* a namespace, to a routed subnet: always, as to the LAN */
	POLICY_ROUTE_TO_NS, /* a routed subnet, from the uplink: as an allow line admits */
};

/*
 * isolate: may @pkt (fwd_parse_l4'd, ports known for a fragment) go where it is addressed, as
 * @opener says? FWD_OK, or the drop reason (DROP_ISOLATED counted under FWD_RULE_ISOLATE; a
 * tracked connection's own reasons: out of window, table full, cap).
 */
static __always_inline __u32 policy_conn(struct __sk_buff *ctx, const struct fwd_pkt *pkt,
					 __u64 now, enum policy_opener opener)
{
	struct fwd_ct_entry *e, *o;
	struct fwd_ct_key key;
	struct icmp_quote q;
	__u32 why = FWD_CNT_DROP_CT_FULL;

	if (pkt->proto != IPPROTO_TCP && pkt->proto != IPPROTO_UDP && pkt->proto != IPPROTO_ICMP)
		return opener == POLICY_NS_TO_ROUTE || policy_allowed(pkt, true)
			   ? FWD_OK
			   : policy_drop(ctx, FWD_RULE_ISOLATE, FWD_CNT_DROP_ISOLATED);
	if (pkt->proto == IPPROTO_ICMP && icmp_is_error(pkt->icmp_type)) {
		/* About a packet of a tracked connection: the quote read backwards is its key
		 * as the erring side sends, ORIG or REPLY. */
		if (!icmp_quote_parse(ctx, pkt, &q, &key) && key.saddr == pkt->saddr) {
			e = bpf_map_lookup_elem(&fwd_ct, &key);
			if (e && e->nat == FWD_CT_NAT_NONE)
				return FWD_OK;
		}
		if (opener == POLICY_NS_TO_ROUTE)
			return FWD_OK; /* as an ICMP error to the LAN passes */
		return policy_drop(ctx, FWD_RULE_ISOLATE, FWD_CNT_DROP_ISOLATED);
	}
	ct_key_of(&key, pkt);
	e = ct_lookup(&key, now);
	if (e && e->nat == FWD_CT_NAT_NONE) {
		o = e->dir == FWD_CT_DIR_ORIG ? e : ct_lookup(&e->peer, now);
		if (o) /* expired or being deleted otherwise: it may open anew below */
			return ct_update(o, pkt, e->dir == FWD_CT_DIR_REPLY, now)
				   ? FWD_OK
				   : FWD_CNT_DROP_TCP_WINDOW;
	}
	if (opener != POLICY_NS_TO_ROUTE && !policy_allowed(pkt, false))
		return policy_drop(ctx, FWD_RULE_ISOLATE, FWD_CNT_DROP_ISOLATED);
	{
		struct fwd_ct_key rkey = {};

		rkey.saddr = key.daddr;
		rkey.daddr = key.saddr;
		rkey.sport = key.dport;
		rkey.dport = key.sport;
		rkey.proto = key.proto;
		if (!nat_pair_create(pkt, &key, &rkey, FWD_CT_NAT_NONE, now,
				     opener != POLICY_ROUTE_TO_NS, &why))
			return why;
	}
	return FWD_OK;
}

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * tc (clsact) programs.
 *
 * fwd_tc_ingress, on each host-side veth: known unicast IPv4 and IPv6 between the topology's
 * namespaces goes straight into the target namespace with bpf_redirect_peer() — no bridge, no
 * netfilter, no backlog queue, GSO/GRO kept. Frames a masquerade subnet routes out of the uplink
 * are SNATed and sent out of the uplink with bpf_redirect(); replies of forwarded connections are
 * translated back and leave the same way (or, hairpin, go into the client namespace), and so
 * do the namespaces' ICMP errors about either. What no masquerade covers never leaves by the
 * uplink. Malformed frames are dropped first. Everything else goes on to the bridge.
 *
 * fwd_tc_uplink, on the uplink: forwarded ports are DNATed into their namespace, replies (and
 * ICMP errors) of masqueraded connections are translated back into theirs, both with
 * bpf_redirect_peer(). Frames from the LAN to a namespace address are dropped: only forwards
 * and replies get in. Everything else is the host's, or another topology's on the same uplink.
 *
 * fwd_tc_bridge_out, on the bridge's egress: nothing routed in from another topology.
 */
#define FWD_CTX_TC
#include "ctx.h"
#include "parse.h"
#include "endpoint.h"
#include "spoof.h"
#include "switch6.h"
#include "counters.h"
#include "csum.h"
#include "conntrack.h"
#include "conntrack6.h"
#include "ct_sweep.h"
#include "frag.h"
#include "nat.h"
#include "nat6.h"
#include "fib.h"
#include "icmp.h"
#include "icmp6.h"
#include "policy.h"
#include "uplink.h"
#include "capture.h"

/*
 * IPv6 has programs of its own, which fwd_tc_ingress and fwd_tc_uplink reach by a tail call:
 * their frames would not fit beside IPv4's in the verifier's 512 bytes of stack (NAT66's
 * 40-byte keys, its 128-byte entries). Pinned: a program array that loses its last user
 * reference is emptied, and its programs would be gone.
 */
enum { FWD_TAIL_INGRESS6, FWD_TAIL_UPLINK6, FWD_TAIL_N };

int fwd_tc_ingress6(struct __sk_buff *skb);
int fwd_tc_uplink6(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, FWD_TAIL_N);
	__uint(key_size, sizeof(__u32));
	__array(values, int(struct __sk_buff *));
} fwd_tails SEC(".maps") = {
	.values =
	    {
		[FWD_TAIL_INGRESS6] = (void *)&fwd_tc_ingress6,
		[FWD_TAIL_UPLINK6] = (void *)&fwd_tc_uplink6,
	    },
};

static __always_inline int fwd_redirected(struct __sk_buff *skb, const struct fwd_pkt *pkt,
					  __u32 counter, long ret, __u32 ifindex, __u32 flags)
{
	if (ret != TC_ACT_REDIRECT)
		return fwd_verdict(skb, FWD_CNT_DROP_REDIRECT);
	capture_out(skb, pkt, ifindex, counter);
	fwd_count(skb, counter);
	fwd_trace_record(counter, ret, ifindex, flags);
	return ret;
}

/*
 * Out of the uplink in fragments: a packet without DF too big for it (fwd_fib_uplink() said
 * DROP_NAT_TOO_BIG and filled @fib), translated already, as the kernel's forwarding would.
 */
static __always_inline int fwd_cut_out(struct __sk_buff *skb, const struct fwd_pkt *pkt,
				       const struct bpf_fib_lookup *fib, bool no_neigh,
				       __u32 counter)
{
	if (no_neigh || nat_set_macs(skb, fib->dmac, fib->smac) != FWD_OK ||
	    frag_out(skb, pkt, fib->mtu_result, fib->ifindex))
		return fwd_verdict(skb, FWD_CNT_DROP_NAT_TOO_BIG);
	fwd_count_event(FWD_CNT_FRAGMENTED);
	return fwd_redirected(skb, pkt, counter, bpf_redirect(fib->ifindex, 0), fib->ifindex, 0);
}

/* Into a namespace: TTL, MACs of its veth pair, then the peer's ingress. */
static __always_inline int fwd_deliver(struct __sk_buff *skb, const struct fwd_pkt *pkt,
				       const struct fwd_endpoint *ep, __u32 counter)
{
	__u32 why;
	int ret;

	why = nat_ttl_dec(skb, pkt);
	if (why == FWD_OK)
		why = nat_set_macs(skb, ep->mac, ep->host_mac);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	ret = fwd_redirected(skb, pkt, counter, bpf_redirect_peer(ep->ifindex, 0), ep->ifindex, 0);
	if (ret == TC_ACT_REDIRECT)
		traffic_count(&fwd_ns_stats, ep->slot, true, skb->len);
	return ret;
}

/* The TTL would run out here: "time exceeded" back out of the interface the frame came in on,
 * from the uplink's address (the one the sender addressed), as a router answers. */
static __always_inline int fwd_ttl_exceeded(struct __sk_buff *skb, const struct fwd_pkt *pkt,
					    __u64 now)
{
	__u32 why = icmp_send_time_exceeded(skb, pkt, uplink_addr(), now);

	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	return fwd_redirected(skb, pkt, FWD_CNT_TIME_EXCEEDED, bpf_redirect(skb->ifindex, 0),
			      skb->ifindex, 0);
}

/*
 * A packet of forwarded connection @e (its ORIG entry), from the uplink or, hairpin, from a
 * namespace: destination to the target namespace's address and port, then into it.
 */
static __always_inline int fwd_dnat_in(struct __sk_buff *skb, const struct fwd_pkt *pkt,
				       struct fwd_ct_entry *e, __u64 now)
{
	const struct fwd_endpoint *ep = fwd_endpoint_of(e->peer.saddr);
	__u32 why;

	if (!ep)
		return fwd_verdict(skb,
				   FWD_CNT_PASS_UPLINK_HOST); /* the target left the topology */
	if (pkt->ttl <= 1)
		return fwd_ttl_exceeded(skb, pkt, now);
	if (!ct_update(e, pkt, false, now))
		return fwd_verdict(skb, FWD_CNT_DROP_TCP_WINDOW);
	traffic_count(&fwd_forward_stats, e->track.forward, true, skb->len);
	why = nat_rewrite(skb, pkt, false, pkt->daddr, e->peer.saddr, pkt->dport, e->peer.sport);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	return fwd_deliver(skb, pkt, ep, FWD_CNT_DNAT);
}

/*
 * The ORIG entry of the forwarded connection this packet opens or continues, or NULL with
 * *@why (TIME_EXCEEDED: it would open one, but its TTL runs out here). @from_lan: from the
 * uplink, where only a SYN may open a TCP connection.
 */
static __always_inline struct fwd_ct_entry *fwd_dnat_conn(const struct __sk_buff *skb,
							  const struct fwd_pkt *pkt,
							  const struct fwd_ct_key *key, __u64 now,
							  bool from_lan, __u32 *why)
{
	const struct fwd_forward_val *fv;
	struct fwd_ct_entry *e;

	*why = FWD_CNT_PASS_UPLINK_HOST;
	e = ct_lookup(key, now);
	if (e)
		return e->dir == FWD_CT_DIR_ORIG && e->nat == FWD_CT_NAT_DNAT ? e : NULL;
	if (pkt->proto != IPPROTO_TCP && pkt->proto != IPPROTO_UDP)
		return NULL;
	fv = forward_lookup(pkt->proto, pkt->daddr, pkt->dport);
	if (!fv)
		return NULL;
	if (!policy_from_ok(skb, fv, pkt->saddr)) {
		*why = FWD_CNT_DROP_NOT_FROM;
		return NULL;
	}
	if (!ct_may_open(pkt, from_lan)) {
		*why = FWD_CNT_DROP_CT_INVALID;
		return NULL;
	}
	if (pkt->ttl <= 1) { /* it would expire on the way: no connection for it */
		*why = FWD_CNT_TIME_EXCEEDED;
		return NULL;
	}
	return nat_dnat_create(pkt, key, fv, now, !from_lan, why);
}

/*
 * A frame leaving a forward's target port: when it answers a forwarded connection, its source
 * goes back to the uplink's address and forwarded port, and it leaves by the uplink, or, for
 * a hairpin client (an address of the bridge's subnet), goes into the client's namespace.
 * -1: no forwarded connection, the caller goes on.
 */
static __always_inline int fwd_dnat_reply(struct __sk_buff *skb, struct fwd_pkt *pkt)
{
	const struct fwd_endpoint *ep = NULL;
	struct bpf_fib_lookup fib;
	struct fwd_ct_entry *e, *o;
	struct fwd_ct_key key;
	bool no_neigh = false, cut = false;
	__u64 now;
	__u32 why;

	ct_key_of(&key, pkt);
	e = bpf_map_lookup_elem(&fwd_ct, &key);
	if (!e || e->dir != FWD_CT_DIR_REPLY || e->nat != FWD_CT_NAT_DNAT)
		return -1;
	now = ct_now();
	o = ct_lookup(&e->peer, now);
	if (!o)
		return -1; /* expired, or being deleted */
	if ((pkt->daddr & fwd_cfg.subnet_mask) == fwd_cfg.subnet) {
		ep = fwd_endpoint_of(pkt->daddr);
		if (!ep)
			return -1;
	} else {
		why = fwd_fib_uplink(skb, pkt, now, &fib, &no_neigh);
		cut = why == FWD_CNT_DROP_NAT_TOO_BIG; /* as in fwd_snat() */
		/* Not by the uplink: a client in another topology's namespace (it reached the
		 * forward through the uplink's ingress, see fwd_to_peer()), or behind another
		 * link of the host. Translated and sent there: handed to the kernel, a frame
		 * from the uplink's own address would be a martian. */
		if (why == FWD_CNT_PASS_ROUTE && fwd_fib_elsewhere(skb, pkt, &fib, &no_neigh))
			why = FWD_OK;
		if (why != FWD_OK && !cut)
			return fwd_verdict(skb, why);
	}
	if (pkt->ttl <= 1)
		return fwd_verdict(skb, FWD_CNT_PASS_TTL);
	if (!ct_update(o, pkt, true, now))
		return fwd_verdict(skb, FWD_CNT_DROP_TCP_WINDOW);
	traffic_count(&fwd_forward_stats, o->track.forward, false, skb->len);
	why = nat_rewrite(skb, pkt, true, pkt->saddr, e->peer.daddr, pkt->sport, e->peer.dport);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	if (ep)
		return fwd_deliver(skb, pkt, ep, FWD_CNT_DNAT_REPLY);
	why = nat_ttl_dec(skb, pkt);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	if (cut)
		return fwd_cut_out(skb, pkt, &fib, no_neigh, FWD_CNT_DNAT_REPLY);
	return fwd_redirected(skb, pkt, FWD_CNT_DNAT_REPLY, fwd_fib_redirect(skb, &fib, no_neigh),
			      fib.ifindex, 0);
}

/*
 * Forwards seen from a namespace: replies of forwarded connections, and hairpin (a namespace
 * connecting to the uplink's address and a forwarded port). -1 when neither.
 */
/*
 * A namespace's frame to another topology's forward on the uplink's address (fwd_fwd_peers):
 * into the uplink's ingress, where that topology's filter DNATs it as it would a frame from the
 * LAN, and its reply comes back routed by the kernel (fwd_dnat_reply()). Marked, so that this
 * topology's own filter there does not take it for a spoofed one.
 */
static __always_inline int fwd_to_peer(struct __sk_buff *skb, const struct fwd_pkt *pkt)
{
	skb->mark = FWD_MARK_TO_PEER;
	return fwd_redirected(skb, pkt, FWD_CNT_TO_PEER,
			      bpf_redirect(fwd_cfg.uplink_ifindex, BPF_F_INGRESS),
			      fwd_cfg.uplink_ifindex, BPF_F_INGRESS);
}

static __always_inline int fwd_dnat_veth(struct __sk_buff *skb, struct fwd_pkt *pkt)
{
	struct fwd_ct_entry *e;
	struct fwd_ct_key key;
	__u32 why;
	__u64 now;

	if (pkt->proto != IPPROTO_TCP && pkt->proto != IPPROTO_UDP)
		return -1;
	if (!uplink_addr_ours(pkt->daddr))
		return nat_from_forward_target(pkt) ? fwd_dnat_reply(skb, pkt) : -1;
	ct_key_of(&key, pkt);
	now = ct_now();
	e = fwd_dnat_conn(skb, pkt, &key, now, false, &why); /* hairpin: from a namespace */
	if (!e && why == FWD_CNT_TIME_EXCEEDED)
		return fwd_ttl_exceeded(skb, pkt, now);
	if (!e && why == FWD_CNT_PASS_UPLINK_HOST && pkt->daddr == uplink_addr() &&
	    fwd_forward_of_peer(&(struct fwd_forward_key){
		.addr = pkt->daddr, .proto = pkt->proto, .port = pkt->dport }))
		return fwd_to_peer(skb, pkt);
	if (!e)
		return why == FWD_CNT_PASS_UPLINK_HOST ? -1 : fwd_verdict(skb, why);
	return fwd_dnat_in(skb, pkt, e, now);
}

/*
 * An ICMP error from a namespace about a packet of a translated connection it received: a LAN
 * client's packet to a forward, or a reply of a masqueraded connection. The quote is that
 * packet as the namespace got it, so read backwards it is a key of ours (a forward's REPLY
 * key, a masqueraded connection's ORIG key) whose other half names the uplink's address and
 * port the LAN used. The error leaves as if the uplink sent it: its source and the quote's
 * destination go back to those, as nf_nat does for datapath kernel (a LAN client of a forward
 * without a server gets ECONNREFUSED). A namespace speaks only for its own connections. -1:
 * no connection of ours, the caller goes on.
 */
static __always_inline int fwd_veth_icmp_error(struct __sk_buff *skb, struct fwd_pkt *pkt)
{
	const struct fwd_endpoint *ep = NULL;
	struct bpf_fib_lookup fib;
	struct fwd_ct_entry *e;
	struct fwd_ct_key key;
	struct icmp_quote q;
	bool no_neigh = false;
	__u32 why, counter;
	__be32 to_addr;
	__be16 to_port;

	if (icmp_quote_parse(skb, pkt, &q, &key) ||
	    (key.proto != IPPROTO_TCP && key.proto != IPPROTO_UDP) || key.saddr != pkt->saddr)
		return -1;
	e = bpf_map_lookup_elem(&fwd_ct, &key);
	if (!e || (e->dir == FWD_CT_DIR_REPLY) != (e->nat == FWD_CT_NAT_DNAT))
		return -1;
	to_addr = e->peer.daddr;
	to_port = e->peer.dport;
	counter = e->nat == FWD_CT_NAT_DNAT ? FWD_CNT_DNAT_REPLY : FWD_CNT_SNAT;
	if ((pkt->daddr & fwd_cfg.subnet_mask) == fwd_cfg.subnet) {
		ep = fwd_endpoint_of(pkt->daddr); /* a hairpin client */
		if (!ep)
			return -1;
	} else {
		why = fwd_fib_uplink(skb, pkt, ct_now(), &fib, &no_neigh);
		if (why != FWD_OK)
			return fwd_verdict(skb, why);
	}
	if (pkt->ttl <= 1)
		return fwd_verdict(skb, FWD_CNT_DROP_TTL); /* no error about an error */
	why = icmp_quote_rewrite(skb, pkt, &q, false, to_addr, to_port);
	if (why == FWD_OK)
		why = nat_rewrite(skb, pkt, true, pkt->saddr, uplink_addr(), 0, 0);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	if (ep)
		return fwd_deliver(skb, pkt, ep, counter);
	why = nat_ttl_dec(skb, pkt);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	return fwd_redirected(skb, pkt, counter, fwd_fib_redirect(skb, &fib, no_neigh), fib.ifindex,
			      0);
}

/*
 * A frame from a namespace outside every masquerade subnet, to outside the bridge's subnet,
 * and no reply of a forward: the kernel would route it, and out of the uplink it would leave
 * with the namespace's address (a forward target's segments after `fwdctl ct flush`, in a
 * topology without masquerade). Dropped when the route is the uplink's; FWD_OK otherwise (the
 * host's own addresses, other interfaces: the kernel's). Global (verified once, on its own):
 * rare, and big with its route lookup; fwd_unmasqueraded() below is the cheap test in front.
 */
__attribute__((noinline)) int fwd_unmasqueraded_route(struct __sk_buff *skb,
						      const struct fwd_pkt *pkt)
{
	struct bpf_fib_lookup fib;
	bool no_neigh;

	if (!pkt)
		return FWD_OK;
	if (fwd_fib_uplink(skb, pkt, ct_now(), &fib, &no_neigh) == FWD_CNT_PASS_ROUTE)
		return FWD_OK;
	return FWD_CNT_DROP_NOT_MASQUERADED;
}

/* Could @pkt leave by the uplink untranslated? Only what no masquerade covers, to outside. */
static __always_inline int fwd_unmasqueraded(struct __sk_buff *skb, const struct fwd_pkt *pkt)
{
	if (!fwd_cfg.uplink_ifindex || (pkt->daddr & fwd_cfg.subnet_mask) == fwd_cfg.subnet ||
	    pkt->daddr == bpf_htonl(0xffffffff) || nat_masqueraded(pkt->saddr))
		return FWD_OK;
	return fwd_unmasqueraded_route(skb, pkt);
}

/*
 * To a routed subnet (route ... via): out of the uplink with the namespace's own address, as
 * the kernel routes it; under isolate tracked first, so that the replies get back in. What the
 * FIB does not send out of the uplink, what needs fragments and what runs out of TTL is the
 * kernel's to route: nothing here needs translating.
 */
static __always_inline int fwd_route_out(struct __sk_buff *skb, struct fwd_pkt *pkt)
{
	struct bpf_fib_lookup fib;
	__u64 now = ct_now();
	bool no_neigh;
	__u32 why;

	if (fwd_cfg.flags & FWD_SET_ISOLATE) {
		why = policy_conn(skb, pkt, now, POLICY_NS_TO_ROUTE);
		if (why != FWD_OK)
			return fwd_verdict(skb, why);
	}
	why = fwd_fib_uplink(skb, pkt, now, &fib, &no_neigh);
	if (why == FWD_CNT_DROP_NAT_TOO_BIG)
		why = FWD_CNT_PASS_FRAG_NEEDED; /* without DF: the kernel fragments it */
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	if (pkt->ttl <= 1)
		return fwd_verdict(skb, FWD_CNT_PASS_TTL);
	why = nat_ttl_dec(skb, pkt);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	return fwd_redirected(skb, pkt, FWD_CNT_ROUTED_OUT, fwd_fib_redirect(skb, &fib, no_neigh),
			      fib.ifindex, 0);
}

/* A frame to the gateway from a masquerade subnet, to outside the bridge's subnet. */
static __always_inline int fwd_snat(struct __sk_buff *skb, struct fwd_pkt *pkt)
{
	struct bpf_fib_lookup fib;
	struct fwd_ct_entry *e;
	struct fwd_ct_key okey;
	bool no_neigh, cut;
	__u32 why;
	__u64 now;

	now = ct_now();
	why = fwd_fib_uplink(skb, pkt, now, &fib, &no_neigh);
	cut = why == FWD_CNT_DROP_NAT_TOO_BIG; /* without DF: fragments, once translated */
	if (why != FWD_OK && !cut)
		return fwd_verdict(skb, why);
	if (pkt->ttl <= 1)
		return fwd_verdict(skb, FWD_CNT_PASS_TTL);
	/* From here on the frame leaves translated or not at all: the kernel would forward
	 * what we pass without a MASQUERADE rule to translate it. */
	if (pkt->proto != IPPROTO_TCP && pkt->proto != IPPROTO_UDP && pkt->proto != IPPROTO_ICMP)
		return fwd_verdict(skb, FWD_CNT_DROP_NAT_PROTO);
	if (pkt->proto == IPPROTO_ICMP && pkt->icmp_type != ICMP_ECHO)
		return fwd_verdict(skb, FWD_CNT_DROP_NAT_PROTO);

	ct_key_of(&okey, pkt);
	e = ct_lookup(&okey, now);
	if (e && (e->dir != FWD_CT_DIR_ORIG || e->nat != FWD_CT_NAT_SNAT))
		return fwd_verdict(skb, FWD_CNT_DROP_NAT_NO_PORT); /* the tuple is a forward's */
	if (e && !ct_update(e, pkt, false, now))
		return fwd_verdict(skb, FWD_CNT_DROP_TCP_WINDOW);
	if (!e)
		e = nat_snat_create(pkt, &okey, now, &why);
	if (!e)
		return fwd_verdict(skb, why);

	/* The translation is the REPLY key read backwards: its destination is our source. */
	why = nat_rewrite(skb, pkt, true, pkt->saddr, e->peer.daddr, pkt->sport, e->peer.dport);
	if (why == FWD_OK)
		why = nat_ttl_dec(skb, pkt);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	if (cut)
		return fwd_cut_out(skb, pkt, &fib, no_neigh, FWD_CNT_SNAT);
	return fwd_redirected(skb, pkt, FWD_CNT_SNAT, fwd_fib_redirect(skb, &fib, no_neigh),
			      fib.ifindex, 0);
}

/*
 * isolate: a frame to another namespace's address. The namespaces reach each other through the
 * gateway then (the bridge ports are isolated and the bridge answers ARP for them: proxy ARP,
 * private-VLAN style), so this is routing: past the policy, TTL down and the veth pair's MACs,
 * as fwd_deliver() does for a forward.
 */
static __always_inline int fwd_isolated_switch(struct __sk_buff *skb, const struct fwd_pkt *pkt,
					       const struct fwd_endpoint *ep)
{
	__u32 why;

	if (ep->ifindex == skb->ifindex)
		return fwd_verdict(skb, FWD_CNT_PASS_HAIRPIN);
	why = policy_conn(skb, pkt, ct_now(), POLICY_NS_TO_NS);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	if (pkt->ttl <= 1)
		return fwd_verdict(skb, FWD_CNT_PASS_TTL); /* the kernel's time exceeded */
	return fwd_deliver(skb, pkt, ep, FWD_CNT_REDIRECT_PEER);
}

/* As fwd_redirected(), for IPv6 (which no capture sees yet). */
static __always_inline int fwd_redirected6(struct __sk_buff *skb, __u32 counter, long ret,
					   __u32 ifindex)
{
	if (ret != TC_ACT_REDIRECT)
		return fwd_verdict(skb, FWD_CNT_DROP_REDIRECT);
	fwd_count(skb, counter);
	fwd_trace_record(counter, ret, ifindex, 0);
	return ret;
}

/* IPv6 into a namespace, routed: hop limit, MACs of its veth pair, then the peer's ingress. */
static __always_inline int fwd_deliver6(struct __sk_buff *skb, const struct fwd_pkt6 *pkt,
					const struct fwd_endpoint *ep, __u32 counter)
{
	__u32 why = nat6_hop_dec(skb, pkt);
	int ret;

	if (why == FWD_OK)
		why = nat_set_macs(skb, ep->mac, ep->host_mac);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	ret = fwd_redirected6(skb, counter, bpf_redirect_peer(ep->ifindex, 0), ep->ifindex);
	if (ret == TC_ACT_REDIRECT)
		traffic_count(&fwd_ns_stats, ep->slot, true, skb->len);
	return ret;
}

static __always_inline const struct fwd_endpoint *fwd_endpoint6_of(const __be32 *addr)
{
	struct fwd_endpoint6_key key;

	__builtin_memcpy(key.addr, addr, sizeof(key.addr));
	return bpf_map_lookup_elem(&fwd_endpoints6, &key);
}

/*
 * fwd_snat6, fwd_dnat6_reply, fwd_veth_icmp6_error and fwd_hairpin6, the handlers
 * fwd_ingress6 hands an IPv6 frame on to, are global functions: the verifier checks each once,
 * on its own, instead of once for every path of fwd_ingress6 that reaches it. Inlined,
 * fwd_tc_ingress6 cost it 124,141 instructions and 99 ms at every `up` of a dual-stack
 * topology; as functions 24,213 and 13 ms. To the verifier their packet argument may be NULL
 * (the context never is), hence the check no caller needs.
 */

/*
 * IPv6 from a masquerade6 prefix to outside (NAT66): TCP, UDP and echo requests routed out of
 * the uplink leave translated, from the uplink's address; the rest goes to the kernel, whose
 * ip6tables MASQUERADE translates it (bpf/nat6.h says what and why). @ns_addr: the sending
 * namespace's IPv4 address, whose conntrack per-namespace count the connection joins.
 */
__attribute__((noinline)) int fwd_snat6(struct __sk_buff *skb, const struct fwd_pkt6 *pkt,
					__be32 ns_addr)
{
	struct nat6_scratch *s = nat6_scratch();
	struct fwd_ct6_entry *e;
	bool no_neigh;
	__u32 why;
	__u64 now;

	if (!pkt)
		return TC_ACT_SHOT;
	if (!s)
		return fwd_verdict(skb, FWD_CNT_PASS_NAT6);
	if (pkt->frag != FWD_FRAG6_NONE || pkt->hop_limit <= 1)
		return fwd_verdict(skb, FWD_CNT_PASS_NAT6);
	why = nat6_l4(skb, pkt, &s->l4);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	if (pkt->proto != IPPROTO_TCP && pkt->proto != IPPROTO_UDP &&
	    !(pkt->proto == FWD_IPPROTO_ICMPV6 && s->l4.icmp_type == FWD_ICMP6_ECHO_REQUEST))
		return fwd_verdict(skb, FWD_CNT_PASS_NAT6);
	why = fwd_fib6_uplink(skb, pkt, &s->l4, &s->fib, &no_neigh);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);

	now = ct_now();
	ct6_key_of(&s->okey, pkt, &s->l4);
	e = ct6_lookup(&s->okey, now);
	if (e && (e->c.dir != FWD_CT_DIR_ORIG || e->c.nat != FWD_CT_NAT_SNAT))
		return fwd_verdict(skb, FWD_CNT_DROP_NAT_NO_PORT);
	if (e && !ct6_update(e, &s->l4, false, now))
		return fwd_verdict(skb, FWD_CNT_DROP_TCP_WINDOW);
	if (!e)
		e = nat6_snat_create(s, ns_addr, now, &why);
	if (!e)
		return fwd_verdict(skb, why);

	/* The REPLY key read backwards: its destination is our new source. */
	why = nat6_rewrite(skb, pkt, &s->l4, true, e->peer.daddr, e->peer.dport);
	if (why == FWD_OK)
		why = nat6_hop_dec(skb, pkt);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	return fwd_redirected6(skb, FWD_CNT_SNAT6, fwd_fib_redirect(skb, &s->fib, no_neigh),
			       s->fib.ifindex);
}

/* A packet of forwarded IPv6 connection @e (its ORIG entry) from its client: into the target. */
static __always_inline int fwd_dnat6_in(struct __sk_buff *skb, const struct fwd_pkt6 *pkt,
					const struct fwd_pkt *l4, struct fwd_ct6_entry *e,
					__u64 now)
{
	const struct fwd_endpoint *ep = fwd_endpoint6_of(e->peer.saddr);
	__u32 why;

	if (!ep) /* the target left the topology */
		return fwd_verdict(skb, FWD_CNT_PASS_UPLINK_HOST);
	if (pkt->hop_limit <= 1)
		return fwd_verdict(skb, FWD_CNT_DROP_TTL);
	if (!ct6_update(e, l4, false, now))
		return fwd_verdict(skb, FWD_CNT_DROP_TCP_WINDOW);
	traffic_count(&fwd_forward_stats, e->c.track.forward, true, skb->len);
	why = nat6_rewrite(skb, pkt, l4, false, e->peer.saddr, e->peer.sport);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	return fwd_deliver6(skb, pkt, ep, FWD_CNT_DNAT6);
}

/*
 * IPv6 to a forward (DNAT66), @s->l4 and @s->okey filled from it: its connection, or a new one
 * (from the LAN only a TCP SYN opens one, as for IPv4). @ns_addr: a hairpin client's IPv4
 * address (its cap), 0 from the LAN. -1: no forward of this topology there.
 */
static __always_inline int fwd_dnat6(struct __sk_buff *skb, const struct fwd_pkt6 *pkt,
				     struct nat6_scratch *s, __be32 ns_addr)
{
	const struct fwd_forward6_val *fv;
	struct fwd_ct6_entry *e;
	__u64 now = ct_now();
	__u32 why;

	e = ct6_lookup(&s->okey, now);
	if (e && e->c.dir == FWD_CT_DIR_ORIG && e->c.nat == FWD_CT_NAT_DNAT)
		return fwd_dnat6_in(skb, pkt, &s->l4, e, now);
	if (e)
		return -1;
	fv = forward6_lookup(pkt->proto, pkt->daddr, s->l4.dport);
	if (!fv)
		return -1;
	if (!ct_may_open(&s->l4, !ns_addr))
		return fwd_verdict(skb, FWD_CNT_DROP_CT_INVALID);
	e = nat6_dnat_create(s, fv, ns_addr, now, &why);
	if (!e)
		return fwd_verdict(skb, why);
	return fwd_dnat6_in(skb, pkt, &s->l4, e, now);
}

/*
 * IPv6 leaving a forward's target port: the reply of a forwarded connection of the programs'
 * goes back translated, out of the uplink or (hairpin) into the client namespace. -1 when it is
 * none of theirs (ip6tables' DNAT made it: the bridge and nf_conntrack translate it back).
 */
__attribute__((noinline)) int fwd_dnat6_reply(struct __sk_buff *skb, const struct fwd_pkt6 *pkt)
{
	struct nat6_scratch *s = nat6_scratch();
	const struct fwd_endpoint *ep;
	struct fwd_ct6_entry *e, *o;
	bool no_neigh = false;
	__u32 why;
	__u64 now;

	if (!pkt || !s || pkt->frag != FWD_FRAG6_NONE || nat6_l4(skb, pkt, &s->l4) != FWD_OK)
		return -1;
	ct6_key_of(&s->okey, pkt, &s->l4); /* the reply's own key: a REPLY key of fwd_ct6 */
	e = bpf_map_lookup_elem(&fwd_ct6, &s->okey);
	if (!e || e->c.dir != FWD_CT_DIR_REPLY || e->c.nat != FWD_CT_NAT_DNAT)
		return -1;
	now = ct_now();
	o = ct6_lookup(&e->peer, now);
	if (!o)
		return -1;
	ep = fwd_endpoint6_of(pkt->daddr); /* a hairpin client */
	if (!ep && fwd_fib6_uplink(skb, pkt, &s->l4, &s->fib, &no_neigh) != FWD_OK)
		return -1;
	if (pkt->hop_limit <= 1)
		return fwd_verdict(skb, FWD_CNT_DROP_TTL);
	if (!ct6_update(o, &s->l4, true, now))
		return fwd_verdict(skb, FWD_CNT_DROP_TCP_WINDOW);
	traffic_count(&fwd_forward_stats, o->c.track.forward, false, skb->len);
	/* The ORIG key read backwards: its destination, the forward's, is our new source. */
	why = nat6_rewrite(skb, pkt, &s->l4, true, e->peer.daddr, e->peer.dport);
	if (why == FWD_OK && ep)
		return fwd_deliver6(skb, pkt, ep, FWD_CNT_DNAT6_REPLY);
	if (why == FWD_OK)
		why = nat6_hop_dec(skb, pkt);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	return fwd_redirected6(skb, FWD_CNT_DNAT6_REPLY, fwd_fib_redirect(skb, &s->fib, no_neigh),
			       s->fib.ifindex);
}

/*
 * An ICMPv6 error from a namespace about a connection of the programs' (its quote, read
 * backwards, is a key of fwd_ct6: the ORIG key of a masqueraded one, the REPLY key of a
 * forwarded one): it leaves as the uplink's, its quote too, out of the uplink or into the
 * hairpin client. Only TCP and UDP are quoted back, and only what the namespace itself received
 * (it speaks for its own connections). -1 when it is none of those.
 */
__attribute__((noinline)) int fwd_veth_icmp6_error(struct __sk_buff *skb,
						   const struct fwd_pkt6 *pkt)
{
	struct nat6_scratch *s = nat6_scratch();
	const struct fwd_endpoint *ep = NULL;
	struct fwd_ct6_entry *e;
	struct icmp6_quote q;
	bool no_neigh = false;
	__u32 why, counter;

	if (!pkt || !s || pkt->frag != FWD_FRAG6_NONE ||
	    icmp6_quote_parse(skb, pkt, &q, &s->okey) ||
	    (s->okey.proto != IPPROTO_TCP && s->okey.proto != IPPROTO_UDP) ||
	    !fwd_ipv6_equal(s->okey.saddr, pkt->saddr))
		return -1;
	e = bpf_map_lookup_elem(&fwd_ct6, &s->okey);
	if (!e || (e->c.dir == FWD_CT_DIR_REPLY) != (e->c.nat == FWD_CT_NAT_DNAT))
		return -1;
	counter = e->c.nat == FWD_CT_NAT_DNAT ? FWD_CNT_DNAT6_REPLY : FWD_CNT_SNAT6;
	ep = fwd_endpoint6_of(pkt->daddr); /* a hairpin client */
	if (!ep) {
		__builtin_memset(&s->l4, 0, sizeof(s->l4));
		s->l4.l3_off = pkt->l3_off;
		s->l4.l4_off = pkt->l4_off;
		s->l4.l3_len = pkt->l3_len;
		s->l4.proto = pkt->proto;
		if (fwd_fib6_uplink(skb, pkt, &s->l4, &s->fib, &no_neigh) != FWD_OK)
			return -1;
	}
	if (pkt->hop_limit <= 1)
		return fwd_verdict(skb, FWD_CNT_DROP_TTL); /* no error about an error */
	/* The other half's key: its destination and port are what the namespace is outside. */
	why = icmp6_quote_rewrite(skb, pkt, &q, false, e->peer.daddr, e->peer.dport);
	if (why == FWD_OK)
		why = nat6_addr_rewrite(skb, pkt->l3_off + offsetof(struct ipv6hdr, saddr),
					pkt->saddr, e->peer.daddr, pkt->l4_off + 2, 0);
	if (why == FWD_OK && ep)
		return fwd_deliver6(skb, pkt, ep, counter);
	if (why == FWD_OK)
		why = nat6_hop_dec(skb, pkt);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	return fwd_redirected6(skb, counter, fwd_fib_redirect(skb, &s->fib, no_neigh),
			       s->fib.ifindex);
}

/* A namespace to a forward of its own topology on IPv6 (hairpin): -1 when it is none. */
__attribute__((noinline)) int fwd_hairpin6(struct __sk_buff *skb, const struct fwd_pkt6 *pkt,
					   __be32 ns_addr)
{
	struct nat6_scratch *s = nat6_scratch();

	if (!pkt || !s || pkt->frag != FWD_FRAG6_NONE || nat6_l4(skb, pkt, &s->l4) != FWD_OK)
		return -1;
	ct6_key_of(&s->okey, pkt, &s->l4);
	return fwd_dnat6(skb, pkt, s, ns_addr);
}

/*
 * IPv6 from a namespace: into another namespace (bpf/switch6.h), out of the uplink masqueraded
 * (fwd_snat6), or on to the kernel. What leaves a forward's target port goes to the bridge too:
 * it may answer a hairpin client, and ip6tables' DNAT, which made that connection, must
 * translate the reply back on its way through the bridge (bridge-nf-call-ip6tables). The
 * forward's key names the namespace by its IPv4 address, which @port holds.
 */
static __always_inline int fwd_ingress6(struct __sk_buff *skb, const struct fwd_port *port)
{
	const struct fwd_endpoint *ep;
	struct fwd_pkt6 pkt = {};
	__u32 why = fwd_switch6(skb, port, &pkt, &ep);
	/* isolate passes what one namespace sends another to the kernel (bpf/switch6.h), but
	 * what belongs to the programs' own connections (hairpin) they still translate. */
	bool to_ns = why == FWD_OK || why == FWD_CNT_PASS_ISOLATE6;
	long ret;

	if ((to_ns || why == FWD_CNT_PASS_NO_ENDPOINT) && (fwd_cfg.flags & FWD_SET_NAT6) && port &&
	    pkt.proto == FWD_IPPROTO_ICMPV6 && icmp6_is_error(pkt.icmp_type)) {
		ret = fwd_veth_icmp6_error(skb, &pkt);
		if (ret >= 0)
			return ret;
	}
	/*
	 * Before NAT66 too: the reply of a forward is its translation's, not a new connection
	 * to masquerade: the programs' (DNAT66), or ip6tables' DNAT with nf_conntrack, which the
	 * bridge takes it to (pass_forward6). With DNAT66 the programs make every hairpin
	 * connection but a fragmented datagram's, so what goes from that port to a namespace and
	 * is none of theirs is a direct connection: switched, as IPv4's is.
	 */
	if ((to_ns || why == FWD_CNT_PASS_NO_ENDPOINT) &&
	    (fwd_cfg.flags & (FWD_SET_DNAT | FWD_SET_DNAT6)) && port &&
	    (pkt.proto == IPPROTO_TCP || pkt.proto == IPPROTO_UDP) &&
	    bpf_map_lookup_elem(&fwd_fwd_targets,
				&(struct fwd_fwd_target_key){
				    .addr = port->addr, .proto = pkt.proto, .port = pkt.sport })) {
		ret = fwd_cfg.flags & FWD_SET_DNAT6 ? fwd_dnat6_reply(skb, &pkt) : -1;
		if (ret >= 0)
			return ret;
		if (why != FWD_OK || !(fwd_cfg.flags & FWD_SET_DNAT6))
			return fwd_verdict(skb, FWD_CNT_PASS_FORWARD6);
	}
	if (why == FWD_CNT_PASS_NO_ENDPOINT && port && (fwd_cfg.flags & FWD_SET_DNAT6) &&
	    (pkt.proto == IPPROTO_TCP || pkt.proto == IPPROTO_UDP)) {
		ret = fwd_hairpin6(skb, &pkt, port->addr);
		if (ret >= 0)
			return ret;
	}
	if (why == FWD_CNT_PASS_NO_ENDPOINT && port && nat6_snat_wanted(&pkt))
		return fwd_snat6(skb, &pkt, port->addr);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	ret = fwd_redirected6(skb, FWD_CNT_REDIRECT_PEER, bpf_redirect_peer(ep->ifindex, 0),
			      ep->ifindex);
	if (ret == TC_ACT_REDIRECT)
		traffic_count(&fwd_ns_stats, ep->slot, true, skb->len);
	return ret;
}

SEC("tc")
int fwd_tc_ingress(struct __sk_buff *skb)
{
	const struct fwd_endpoint *ep;
	const struct fwd_port *port;
	struct fwd_pkt pkt = {};
	__u32 why, slot;
	int ret;

	/* Anti-spoofing first: every frame, ARP and multicast included, sends as its namespace. */
	why = fwd_port_check(skb, &port);
	slot = port ? port->slot : 0;
	ctx_set_ns_slot(skb, slot);
	traffic_count(&fwd_ns_stats, slot, false, skb->len);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	if ((fwd_cfg.flags & FWD_SET_IPV6) && fwd_eth_is_ipv6(skb)) { /* rodata: pruned without */
		bpf_tail_call(skb, &fwd_tails, FWD_TAIL_INGRESS6);
		return fwd_verdict(skb, FWD_CNT_DROP_TAIL_CALL); /* fwd_tails is not filled */
	}
	why = fwd_parse_eth(skb, &pkt);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	why = fwd_parse_ipv4(skb, &pkt);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	if (!fwd_port_ipv4_ok(port, &pkt))
		return fwd_verdict(skb, FWD_CNT_DROP_SPOOF_IPV4);
	why = fwd_parse_l4(skb, &pkt);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	capture_in(skb, &pkt);
	/* A fragment on its way to be translated, or past isolate: its first fragment's ports
	 * (bpf/frag.h). */
	if (fwd_ipv4_is_fragment(&pkt) && ((fwd_cfg.flags & FWD_SET_ISOLATE) ||
					   ((fwd_cfg.flags & (FWD_SET_DNAT | FWD_SET_SNAT)) &&
					    (pkt.daddr & fwd_cfg.subnet_mask) != fwd_cfg.subnet))) {
		why = frag_nat_ports(skb, &pkt, ct_now());
		if (why != FWD_OK && why != FWD_CNT_DROP_NAT_PROTO) /* the latter: said below */
			return fwd_verdict(skb, why);
	}
	if ((fwd_cfg.flags & (FWD_SET_DNAT | FWD_SET_SNAT)) && pkt.proto == IPPROTO_ICMP &&
	    icmp_is_error(pkt.icmp_type)) {
		ret = fwd_veth_icmp_error(skb, &pkt);

		if (ret >= 0)
			return ret;
	}
	if (fwd_cfg.flags & FWD_SET_DNAT) { /* rodata: pruned at load without forwards */
		ret = fwd_dnat_veth(skb, &pkt);

		if (ret >= 0)
			return ret;
	}
	if (nat_routed(pkt.daddr))
		return fwd_route_out(skb, &pkt);
	if (nat_snat_wanted(skb, &pkt))
		return fwd_snat(skb, &pkt);
	why = fwd_unmasqueraded(skb, &pkt);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	if (fwd_cfg.flags & FWD_SET_ISOLATE) { /* rodata: pruned at load without isolate */
		ep = fwd_endpoint_of(pkt.daddr);
		if (ep)
			return fwd_isolated_switch(skb, &pkt, ep);
	}
	ep = fwd_endpoint_switch(skb, &pkt, &why);
	if (!ep)
		return fwd_verdict(skb, why);

	/* TC_ACT_REDIRECT, or TC_ACT_SHOT for bad flags. A peer that vanished or is down makes
	 * the kernel drop the frame after we return: counted as redirected here. */
	ret = fwd_redirected(skb, &pkt, FWD_CNT_REDIRECT_PEER, bpf_redirect_peer(ep->ifindex, 0),
			     ep->ifindex, 0);
	if (ret == TC_ACT_REDIRECT)
		traffic_count(&fwd_ns_stats, ep->slot, true, skb->len);
	return ret;
}

/*
 * An ICMP error on the uplink about a translated connection: the quoted packet is one we sent
 * out (masqueraded, or a forward's reply), so the quote read backwards is a key of ours, and
 * the other half of that entry holds the namespace's address and port either way.
 */
static __always_inline int fwd_uplink_icmp_error(struct __sk_buff *skb, struct fwd_pkt *pkt)
{
	const struct fwd_endpoint *ep;
	struct fwd_ct_entry *e;
	struct fwd_ct_key rkey;
	struct icmp_quote q;
	__be32 ns_addr;
	__be16 ns_port;
	__u32 why;

	if (icmp_quote_parse(skb, pkt, &q, &rkey))
		return fwd_verdict(skb, FWD_CNT_PASS_UPLINK_HOST);
	e = bpf_map_lookup_elem(&fwd_ct, &rkey);
	if (!e || (e->dir == FWD_CT_DIR_REPLY) != (e->nat == FWD_CT_NAT_SNAT))
		return fwd_verdict(skb, FWD_CNT_PASS_UPLINK_HOST);
	ns_addr = e->peer.saddr;
	ns_port = e->peer.sport;
	ep = fwd_endpoint_of(ns_addr);
	if (!ep)
		return fwd_verdict(skb, FWD_CNT_PASS_UPLINK_HOST);
	if (pkt->ttl <= 1)
		return fwd_verdict(skb, FWD_CNT_DROP_TTL);
	/* An error refreshes nothing: it is no sign of the connection being alive. */
	why = icmp_quote_rewrite(skb, pkt, &q, true, ns_addr, ns_port);
	if (why == FWD_OK)
		why = nat_rewrite(skb, pkt, false, pkt->daddr, ns_addr, 0, 0);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	return fwd_deliver(skb, pkt, ep,
			   e->nat == FWD_CT_NAT_SNAT ? FWD_CNT_SNAT_REPLY : FWD_CNT_DNAT);
}

/* A reply of masqueraded connection @e (its REPLY entry): back to the namespace. */
static __always_inline int fwd_snat_reply(struct __sk_buff *skb, const struct fwd_pkt *pkt,
					  const struct fwd_ct_entry *e)
{
	const struct fwd_endpoint *ep;
	struct fwd_ct_entry *o;
	__u32 why;

	__u64 now = ct_now();

	o = ct_lookup(&e->peer, now);
	if (!o)
		return fwd_verdict(skb, FWD_CNT_PASS_UPLINK_HOST); /* expired, or being deleted */
	ep = fwd_endpoint_of(e->peer.saddr);
	if (!ep)
		return fwd_verdict(skb, FWD_CNT_PASS_UPLINK_HOST);
	if (pkt->ttl <= 1)
		return fwd_ttl_exceeded(skb, pkt, now);
	if (!ct_update(o, pkt, true, now))
		return fwd_verdict(skb, FWD_CNT_DROP_TCP_WINDOW);
	why = nat_rewrite(skb, pkt, false, pkt->daddr, e->peer.saddr, pkt->dport, e->peer.sport);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	return fwd_deliver(skb, pkt, ep, FWD_CNT_SNAT_REPLY);
}

/*
 * From a routed subnet (route ... via) on the uplink, to a namespace: in as it is, under isolate
 * as policy_conn() admits it (a reply, or an allow line from there). Not to a namespace (the
 * gateway's own address, an unused one): the kernel's.
 */
static __always_inline int fwd_route_in(struct __sk_buff *skb, struct fwd_pkt *pkt)
{
	const struct fwd_endpoint *ep = fwd_endpoint_of(pkt->daddr);
	__u64 now;
	__u32 why;

	if (!ep)
		return fwd_verdict(skb, FWD_CNT_PASS_UPLINK_HOST);
	if (fwd_cfg.flags & FWD_SET_ISOLATE) { /* rodata: pruned at load without isolate */
		why = fwd_parse_l4(skb, pkt);
		if (why != FWD_OK)
			return fwd_verdict(skb, why);
		now = ct_now();
		if (fwd_ipv4_is_fragment(pkt)) { /* its first fragment's ports (bpf/frag.h) */
			why = frag_nat_ports(skb, pkt, now);
			if (why != FWD_OK && why != FWD_CNT_DROP_NAT_PROTO)
				return fwd_verdict(skb, why);
		}
		why = policy_conn(skb, pkt, now, POLICY_ROUTE_TO_NS);
		if (why != FWD_OK)
			return fwd_verdict(skb, why);
	}
	if (pkt->ttl <= 1)
		return fwd_verdict(skb, FWD_CNT_PASS_TTL); /* the kernel's time exceeded */
	return fwd_deliver(skb, pkt, ep, FWD_CNT_ROUTED_IN);
}

static __always_inline int uplink_frame(struct __sk_buff *skb)
{
	struct fwd_pkt pkt = {};
	struct fwd_ct_entry *e;
	struct fwd_ct_key key;
	__u32 why;
	__u64 now;

	why = fwd_parse_eth(skb, &pkt);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	why = fwd_parse_ipv4(skb, &pkt);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	/* Anti-spoofing: no namespace of ours is behind the uplink. But one of ours on its way to
	 * another topology's forward (fwd_to_peer(): a mark no frame from the wire carries) is
	 * that topology's to take. */
	if ((pkt.saddr & fwd_cfg.subnet_mask) == fwd_cfg.subnet)
		return fwd_verdict(skb, skb->mark == FWD_MARK_TO_PEER ? FWD_CNT_PASS_UPLINK_HOST
								      : FWD_CNT_DROP_SPOOF_UPLINK);
	/* Isolation: a LAN host routing the bridge's subnet via this host reaches nothing; a
	 * host whose subnet a route line names is a routed peer. */
	if ((pkt.daddr & fwd_cfg.subnet_mask) == fwd_cfg.subnet) {
		if (nat_routed(pkt.saddr))
			return fwd_route_in(skb, &pkt);
		return fwd_verdict(skb, FWD_CNT_DROP_NOT_FORWARDED);
	}
	/* Only frames to the uplink's address can be ours; a fragment only when its datagram's
	 * first fragment was seen (bpf/frag.h). */
	if (!uplink_addr_ours(pkt.daddr))
		return fwd_verdict(skb, FWD_CNT_PASS_UPLINK_HOST);
	why = fwd_parse_l4(skb, &pkt);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	capture_in(skb, &pkt);
	now = ct_now();
	why = frag_nat_ports(skb, &pkt, now);
	if (why == FWD_CNT_FRAG_PARKED || why == FWD_CNT_DROP_REWRITE)
		return fwd_verdict(skb, why);
	if (why != FWD_OK)
		return fwd_verdict(skb, FWD_CNT_PASS_UPLINK_HOST);
	if (pkt.proto == IPPROTO_ICMP) {
		if (icmp_is_error(pkt.icmp_type))
			return fwd_uplink_icmp_error(skb, &pkt);
		if (pkt.icmp_type != ICMP_ECHOREPLY)
			return fwd_verdict(skb, FWD_CNT_PASS_UPLINK_HOST);
	}

	ct_key_of(&key, &pkt);
	e = bpf_map_lookup_elem(&fwd_ct, &key);
	if (e && e->dir == FWD_CT_DIR_REPLY && e->nat == FWD_CT_NAT_SNAT)
		return fwd_snat_reply(skb, &pkt, e);
	if (!(fwd_cfg.flags & FWD_SET_DNAT))
		return fwd_verdict(skb, FWD_CNT_PASS_UPLINK_HOST);
	e = fwd_dnat_conn(skb, &pkt, &key, now, true, &why);
	if (!e && why == FWD_CNT_TIME_EXCEEDED)
		return fwd_ttl_exceeded(skb, &pkt, now);
	if (!e)
		return fwd_verdict(skb, why);
	return fwd_dnat_in(skb, &pkt, e, now);
}

/*
 * An ICMPv6 error on the uplink about a masqueraded connection: the quote, read backwards, is
 * its REPLY key; quote and destination go back to the namespace's address and port.
 */
static __always_inline int fwd_uplink_icmp6_error(struct __sk_buff *skb, const struct fwd_pkt6 *pkt)
{
	const struct fwd_endpoint *ep;
	struct fwd_ct6_entry *e;
	struct fwd_ct6_key rkey;
	struct icmp6_quote q;
	__u32 why;

	if (icmp6_quote_parse(skb, pkt, &q, &rkey))
		return fwd_verdict(skb, FWD_CNT_PASS_UPLINK_HOST);
	e = bpf_map_lookup_elem(&fwd_ct6, &rkey);
	if (!e || e->c.dir != FWD_CT_DIR_REPLY || e->c.nat != FWD_CT_NAT_SNAT)
		return fwd_verdict(skb, FWD_CNT_PASS_UPLINK_HOST);
	ep = fwd_endpoint6_of(e->peer.saddr);
	if (!ep)
		return fwd_verdict(skb, FWD_CNT_PASS_UPLINK_HOST);
	if (pkt->hop_limit <= 1)
		return fwd_verdict(skb, FWD_CNT_DROP_TTL);
	/* An error refreshes nothing: it is no sign of the connection being alive. */
	why = icmp6_quote_rewrite(skb, pkt, &q, true, e->peer.saddr, e->peer.sport);
	if (why == FWD_OK)
		why = nat6_addr_rewrite(skb, pkt->l3_off + offsetof(struct ipv6hdr, daddr),
					pkt->daddr, e->peer.saddr, pkt->l4_off + 2, 0);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	return fwd_deliver6(skb, pkt, ep, FWD_CNT_SNAT6_REPLY);
}

/* A reply of masqueraded IPv6 connection @e (its REPLY entry): back to the namespace. */
static __always_inline int fwd_snat6_reply(struct __sk_buff *skb, const struct fwd_pkt6 *pkt,
					   const struct fwd_pkt *l4, const struct fwd_ct6_entry *e)
{
	const struct fwd_endpoint *ep;
	struct fwd_ct6_entry *o;
	__u64 now = ct_now();
	__u32 why;

	o = ct6_lookup(&e->peer, now);
	if (!o)
		return fwd_verdict(skb, FWD_CNT_PASS_UPLINK_HOST); /* expired, or being deleted */
	ep = fwd_endpoint6_of(e->peer.saddr);
	if (!ep)
		return fwd_verdict(skb, FWD_CNT_PASS_UPLINK_HOST);
	if (pkt->hop_limit <= 1)
		return fwd_verdict(skb, FWD_CNT_DROP_TTL);
	if (!ct6_update(o, l4, true, now))
		return fwd_verdict(skb, FWD_CNT_DROP_TCP_WINDOW);
	why = nat6_rewrite(skb, pkt, l4, false, e->peer.saddr, e->peer.sport);
	if (why != FWD_OK)
		return fwd_verdict(skb, why);
	return fwd_deliver6(skb, pkt, ep, FWD_CNT_SNAT6_REPLY);
}

/*
 * IPv6 on the uplink: replies and errors of what fwd masqueraded (NAT66) and what comes to its
 * forwards (DNAT66) go in; everything else to the kernel.
 */
static __always_inline int uplink_frame6(struct __sk_buff *skb)
{
	struct nat6_scratch *s = nat6_scratch();
	const struct fwd_ct6_entry *e;
	struct fwd_pkt6 pkt = {};
	int ret;

	pkt.l3_off = sizeof(struct ethhdr);
	if (!s || fwd_parse_ipv6(skb, &pkt) != FWD_OK)
		return fwd_verdict(skb, FWD_CNT_PASS_UPLINK_HOST); /* the kernel's to judge */
	/* Anti-spoofing: no namespace of ours is behind the uplink. */
	if (nat6_in(pkt.saddr, fwd_cfg.subnet6, fwd_cfg.subnet6_mask))
		return fwd_verdict(skb, FWD_CNT_DROP_SPOOF_UPLINK);
	if (pkt.frag != FWD_FRAG6_NONE || nat6_l4(skb, &pkt, &s->l4) != FWD_OK)
		return fwd_verdict(skb, FWD_CNT_PASS_UPLINK_HOST);
	if (pkt.proto == FWD_IPPROTO_ICMPV6) {
		if (icmp6_is_error(s->l4.icmp_type))
			return fwd_uplink_icmp6_error(skb, &pkt);
		if (s->l4.icmp_type != FWD_ICMP6_ECHO_REPLY)
			return fwd_verdict(skb, FWD_CNT_PASS_UPLINK_HOST);
	}
	/* The keys hold the uplink's address: only what is addressed to it matches. */
	ct6_key_of(&s->okey, &pkt, &s->l4);
	e = bpf_map_lookup_elem(&fwd_ct6, &s->okey);
	if (e && e->c.dir == FWD_CT_DIR_REPLY && e->c.nat == FWD_CT_NAT_SNAT)
		return fwd_snat6_reply(skb, &pkt, &s->l4, e);
	if ((fwd_cfg.flags & FWD_SET_DNAT6) &&
	    (pkt.proto == IPPROTO_TCP || pkt.proto == IPPROTO_UDP)) {
		ret = fwd_dnat6(skb, &pkt, s, 0);
		if (ret >= 0)
			return ret;
	}
	return fwd_verdict(skb, FWD_CNT_PASS_UPLINK_HOST);
}

/*
 * The uplink is shared: every topology with something to translate there has a filter of its
 * own on it (loader/attach.c). What this topology passes is not its own, so it goes to the
 * next filter (TC_ACT_UNSPEC), and after the last one to the host, as TC_ACT_OK would.
 */
SEC("tc")
int fwd_tc_uplink(struct __sk_buff *skb)
{
	int verdict;

	ctx_set_ns_slot(skb, 0); /* from the LAN, or another topology's: none of ours sends it */
	if ((fwd_cfg.flags & FWD_SET_NAT6) && fwd_eth_is_ipv6(skb)) { /* rodata: pruned without */
		bpf_tail_call(skb, &fwd_tails, FWD_TAIL_UPLINK6);
		return TC_ACT_UNSPEC; /* fwd_tails is not filled: the frame is the kernel's */
	}
	verdict = uplink_frame(skb);

	return verdict == TC_ACT_OK ? TC_ACT_UNSPEC : verdict;
}

/* IPv6 from a namespace: fwd_tc_ingress after its checks of every frame (port, MAC). */
SEC("tc")
int fwd_tc_ingress6(struct __sk_buff *skb)
{
	__u32 ifindex = ctx_ingress_ifindex(skb);

	return fwd_ingress6(skb, bpf_map_lookup_elem(&fwd_ports, &ifindex));
}

/* IPv6 on the uplink: as fwd_tc_uplink, whose verdicts it follows. */
SEC("tc")
int fwd_tc_uplink6(struct __sk_buff *skb)
{
	int verdict = uplink_frame6(skb);

	return verdict == TC_ACT_OK ? TC_ACT_UNSPEC : verdict;
}

/*
 * fwd_tc_bridge_out, on the bridge's egress: what the kernel sends into the bridge. The BPF
 * paths never come this way (they redirect to the veths), nor does a frame the bridge switches
 * between its ports: only the host's own packets, and what the host routes in. Routed in from
 * another topology's namespaces (fwd_foreign) is dropped: topologies reach each other only
 * through forwards, as two Docker networks do. A forward's reply comes from the uplink's
 * address once un-DNATed, and passes; the LAN is kept out on the uplink already.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, FWD_MAX_FOREIGN);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* required for LPM tries */
	__type(key, struct fwd_lpm4_key);
	__type(value, __u8);
} fwd_foreign SEC(".maps");

SEC("tc")
int fwd_tc_bridge_out(struct __sk_buff *skb)
{
	struct fwd_lpm4_key key = { .prefixlen = 32 };

	ctx_set_ns_slot(skb, 0); /* no namespace's frame */
	/* skb_iif is 0 for what the host itself sends; else the link it was routed in from. */
	if (!skb->ingress_ifindex || skb->protocol != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, ETH_HLEN + offsetof(struct iphdr, saddr), &key.addr,
			       sizeof(key.addr)))
		return TC_ACT_OK; /* no IPv4 header: nothing routed */
	if (!bpf_map_lookup_elem(&fwd_foreign, &key))
		return TC_ACT_OK;
	return fwd_verdict(skb, FWD_CNT_DROP_ROUTED_IN);
}

/*
 * Never attached: `up` runs it (BPF_PROG_TEST_RUN) on every run, with one byte of flags as the
 * frame's first: FWD_CT_START_FILL for a new table (every slot free), FWD_CT_START_ADOPT after
 * it copied connections in (slots for them). Then the sweep starts over with this program;
 * what failed of that is the return value.
 */
SEC("tc")
int fwd_ct_start(struct __sk_buff *skb)
{
	__u8 flags = 0;

	if (bpf_skb_load_bytes(skb, 0, &flags, 1))
		return TC_ACT_SHOT;
	if (flags & FWD_CT_START_FILL)
		ct_slots_fill();
	if ((fwd_cfg.flags & FWD_SET_NAT6) && (flags & FWD_CT_START_FILL6))
		ct6_slots_fill();
	if (flags & FWD_CT_START_ADOPT)
		ct_slots_adopt();
	/* TC_ACT_OK (0), or the errno (positive) of what failed, for user space to report. */
	return (int)-ct_sweep_start();
}

/*
 * Never attached: user space (`up` pruning, `fwdctl ct flush`; pinned for the latter) runs it
 * with the ORIG keys of connections to delete as the frame, FWD_CT_DELETE_BATCH at most, so
 * that a connection deleted from user space hands its slot back and leaves its namespace's
 * count, as one deleted here does. Returns how many it deleted.
 */
SEC("tc")
int fwd_ct_delete(struct __sk_buff *skb)
{
	struct ct_delete_ctx c = { .skb = skb };
	__u32 n = skb->len / sizeof(struct fwd_ct_key);

	fwd_ct_deleted = 0;
	bpf_loop(n < FWD_CT_DELETE_BATCH ? n : FWD_CT_DELETE_BATCH, ct_delete_one, &c, 0);
	return fwd_ct_deleted;
}

/* fwd_ct_delete for fwd_ct6: the frame holds ORIG keys of IPv6 connections. */
SEC("tc")
int fwd_ct6_delete(struct __sk_buff *skb)
{
	struct ct_delete_ctx c = { .skb = skb };
	__u32 n = skb->len / sizeof(struct fwd_ct6_key);

	fwd_ct6_deleted = 0;
	bpf_loop(n < FWD_CT6_DELETE_BATCH ? n : FWD_CT6_DELETE_BATCH, ct6_delete_one, &c, 0);
	return fwd_ct6_deleted;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/*
 * The XDP fast path of forwards (a forward line's "xdp"), on the uplink, ahead of fwd_tc_uplink:
 * an IPv4 UDP datagram to such a forward is DNATed here and redirected out of the target's
 * host-side veth into its namespace, before the kernel builds an skb for it. The connection is
 * the one fwd_tc_uplink would track: this object uses the topology's pinned maps (the loader
 * hands it fwd_tc's), so replies, `fwdctl ct`, the sweep and a forward handled by tc next all
 * see one table. A flow's datagrams after its first take the connection from a per-CPU flow
 * cache (bpf/xdp_flows.h says when a copy may stand in for the table's entry).
 *
 * Everything else (other protocols and forwards, fragments, frames too long for the namespace's
 * veth, a TTL running out, a source from the bridge's subnet, a partial checksum) goes on with
 * XDP_PASS and without a count, to tc, which decides and counts it. What this program ends itself
 * it counts: dnat_xdp for a frame it redirected, the drop counters for one it dropped.
 *
 * A frame redirected into a veth arrives only when the receiving end is in NAPI mode: `up` turns
 * GRO on in the target namespaces (ctl/xdp_gro.c).
 */
#define FWD_CTX_XDP
/* conntrack.h's callbacks (the sweep, `up`'s copies) belong to fwd_tc's programs. */
#pragma clang diagnostic ignored "-Wunused-function"
#include "ctx.h"
#include "parse.h"
#include "counters.h"
#include "csum.h"
#include "conntrack.h"
#include "nat.h"
#include "policy_from.h"
#include "traffic.h"
#include "xdp_flows.h"

#include <linux/udp.h>

/* The longest frame a namespace's veth takes from XDP: ETH_HLEN and its MTU, which fwd leaves at
 * 1500. A longer one would be dropped by the veth without a word; tc fragments or refuses it. */
#define XDP_UPLINK_MAX_FRAME (14 + 1500)

/*
 * The headers of the one kind of frame taken here: IPv4 without options (a frame with them goes
 * to tc), UDP. Read and written in place, the offsets constant: the frame is linear (the program
 * is loaded without XDP frags), so one bounds check covers all three, and none of tc's copies
 * through helpers is needed.
 */
struct xdp_udp4 {
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
} __attribute__((packed));

/*
 * Is the datagram's checksum only its pseudo header's sum, as a local socket leaves it for the
 * device to finish (CHECKSUM_PARTIAL)? From a NIC every datagram carries its full checksum, but
 * a veth uplink hands XDP what a socket on its other end sent, and XDP cannot see the skb's
 * flag: rewritten and redirected from here, such a datagram would arrive with a checksum that
 * is wrong. tc keeps the flag, so it goes there, as does the 1 in 65536 full checksum equal to
 * that sum. The words are summed as they lie in the frame: the one's complement sum does not
 * care for byte order.
 */
static __always_inline bool xdp_udp_csum_partial(const struct xdp_udp4 *h)
{
	__u32 sum = (h->ip.saddr >> 16) + (h->ip.saddr & 0xffff) + (h->ip.daddr >> 16) +
		    (h->ip.daddr & 0xffff) + bpf_htons(IPPROTO_UDP) + h->udp.len;

	return h->udp.check == (__u16)~csum_fold32(sum);
}

/*
 * The frame as a datagram this program may take, into @pkt (what conntrack reads); false for
 * anything tc is to decide: not IPv4 UDP to one of the uplink's addresses, a multicast MAC, IP
 * options, a fragment, a TTL running out, lengths that disagree (tc's parser says what is wrong
 * with them), a source from the bridge's subnet (tc drops it as spoofed).
 */
static __always_inline bool xdp_udp4_parse(const struct xdp_udp4 *h, __u32 len, struct fwd_pkt *pkt)
{
	__u16 ip_len = bpf_ntohs(h->ip.tot_len);

	if (h->eth.h_proto != bpf_htons(ETH_P_IP) || (h->eth.h_dest[0] & 1) || h->ip.version != 4 ||
	    h->ip.ihl != 5 || h->ip.protocol != IPPROTO_UDP ||
	    (h->ip.frag_off & bpf_htons(0x2000 | 0x1fff)) || h->ip.ttl <= 1 || /* MF, offset */
	    ip_len < sizeof(h->ip) + sizeof(h->udp) || ip_len > len - sizeof(h->eth) ||
	    bpf_ntohs(h->udp.len) != ip_len - sizeof(h->ip))
		return false;
	if ((h->ip.saddr & fwd_cfg.subnet_mask) == fwd_cfg.subnet || !uplink_addr_ours(h->ip.daddr))
		return false;
	pkt->l3_off = sizeof(h->eth);
	pkt->l4_off = sizeof(h->eth) + sizeof(h->ip);
	pkt->saddr = h->ip.saddr;
	pkt->daddr = h->ip.daddr;
	pkt->proto = IPPROTO_UDP;
	pkt->ttl = h->ip.ttl;
	pkt->tos = h->ip.tos;
	pkt->frag_off = h->ip.frag_off;
	pkt->ip_id = h->ip.id;
	pkt->l3_len = ip_len;
	pkt->sport = h->udp.source;
	pkt->dport = h->udp.dest;
	pkt->l4_csum_off = pkt->l4_off + offsetof(struct udphdr, check);
	return true;
}

/* The target of the forward of rule @rule when its line says xdp, else NULL. */
static __always_inline const struct fwd_xdp_target *xdp_target_of(__u32 rule)
{
	const struct fwd_xdp_target *tg = bpf_map_lookup_elem(&fwd_xdp_targets, &rule);

	return tg && tg->addr ? tg : NULL;
}

/*
 * The ORIG entry of the forwarded connection @pkt continues or opens on an xdp forward, its
 * target into *@tg; NULL with *@why FWD_OK when tc is to decide, else the drop counter. A known
 * connection costs one hash lookup: its entry names its forward's rule, fwd_xdp_targets (an
 * array) the target. One whose forward was retargeted (its entry's address is not the
 * target's any more, until `up` has pruned it) is tc's, as is one the forward no longer takes
 * by XDP.
 */
static __always_inline struct fwd_ct_entry *
xdp_dnat_conn(struct xdp_udp4 *h, const struct fwd_pkt *pkt, const struct fwd_ct_key *key,
	      __u64 now, const struct fwd_xdp_target **tg, __u32 *why)
{
	const struct fwd_forward_val *fv;
	struct fwd_ct_entry *e;

	*why = FWD_OK;
	e = ct_lookup(key, now);
	if (e) {
		if (e->dir != FWD_CT_DIR_ORIG || e->nat != FWD_CT_NAT_DNAT)
			return NULL;
		*tg = xdp_target_of(e->track.forward);
		return *tg && (*tg)->addr == e->peer.saddr && !xdp_udp_csum_partial(h) ? e : NULL;
	}
	fv = forward_lookup(IPPROTO_UDP, pkt->daddr, pkt->dport);
	if (!fv)
		return NULL;
	*tg = xdp_target_of(fv->rule);
	/* A source "from" does not allow: tc drops it, counted under its rule. */
	if (!*tg || (*tg)->addr != fv->addr || xdp_udp_csum_partial(h) ||
	    !policy_from_match(fv, pkt->saddr))
		return NULL;
	e = nat_dnat_create(pkt, key, fv, now, false, why);
	if (!e && *why == FWD_OK)
		*why = FWD_CNT_DROP_CT_FULL;
	return e;
}

/* Destination to @addr:@port, TTL down by one, both checksums with them (RFC 1624). A UDP
 * checksum of 0 (none sent) stays 0; a computed 0 is sent as all ones (RFC 768). */
static __always_inline void xdp_udp4_dnat(struct xdp_udp4 *h, __be32 addr, __be16 port)
{
	__u8 old_w[2] = { h->ip.ttl, h->ip.protocol }, new_w[2] = { h->ip.ttl - 1, h->ip.protocol };
	__u16 check = h->udp.check;

	if (check) {
		check = csum_replace4(check, h->ip.daddr, addr);
		check = csum_replace2(check, h->udp.dest, port);
		h->udp.check = check ?: 0xffff;
	}
	check = csum_replace4(h->ip.check, h->ip.daddr, addr);
	h->ip.check = csum_replace2(check, *(__be16 *)old_w, *(__be16 *)new_w);
	h->ip.daddr = addr;
	h->ip.ttl--;
	h->udp.dest = port;
}

/* Out to target @tg, translated to @addr:@port, counted for forward @rule: the datagram's way
 * out, whether its connection came from the flow cache or the table. */
static __always_inline int xdp_forward_out(struct xdp_md *xdp, struct xdp_udp4 *h,
					   const struct fwd_xdp_target *tg, __be32 addr,
					   __be16 port, __u16 rule, __u32 len)
{
	long ret;

	traffic_count(&fwd_forward_stats, rule, true, len);
	xdp_udp4_dnat(h, addr, port);
	__builtin_memcpy(h->eth.h_dest, tg->ep.mac, ETH_ALEN);
	__builtin_memcpy(h->eth.h_source, tg->ep.host_mac, ETH_ALEN);
	ret = bpf_redirect(tg->ep.ifindex, 0);
	if (ret != XDP_REDIRECT)
		return fwd_verdict(xdp, FWD_CNT_DROP_REDIRECT);
	fwd_count(xdp, FWD_CNT_DNAT_XDP);
	fwd_trace_record(FWD_CNT_DNAT_XDP, ret, tg->ep.ifindex, 0);
	traffic_count(&fwd_ns_stats, tg->ep.slot, true, len);
	return ret;
}

SEC("xdp")
int fwd_xdp_uplink(struct xdp_md *xdp)
{
	void *data = ctx_data(xdp), *end = ctx_data_end(xdp);
	const struct fwd_xdp_target *tg = NULL;
	const struct fwd_xdp_flow *f;
	struct xdp_udp4 *h = data;
	struct fwd_pkt pkt = {};
	struct fwd_ct_entry *e;
	struct fwd_ct_key key;
	__u32 why, len = end - data;
	__u64 now, gen;

	if ((void *)(h + 1) > end || len > XDP_UPLINK_MAX_FRAME || !xdp_udp4_parse(h, len, &pkt))
		return XDP_PASS;
	ct_key_of(&key, &pkt);
	now = ct_now();
	gen = ct_gen(); /* before the table's lookup: a delete after it voids the copy made */
	f = xdp_flow_find(&key, now, gen);
	if (f) {
		tg = xdp_target_of(f->rule);
		if (tg && tg->addr == f->addr && !xdp_udp_csum_partial(h))
			return xdp_forward_out(xdp, h, tg, f->addr, f->port, f->rule, len);
		/* else the table's entry decides, as for a datagram the cache does not know */
	}
	e = xdp_dnat_conn(h, &pkt, &key, now, &tg, &why);
	if (!e)
		return why == FWD_OK ? XDP_PASS : fwd_verdict(xdp, why);
	if (!tg)
		return XDP_PASS; /* the verifier's due: xdp_dnat_conn() set it with an entry */
	ct_update(e, &pkt, false, now); /* UDP: refreshes, never refuses */
	xdp_flow_keep(&key, e, now, gen);
	return xdp_forward_out(xdp, h, tg, e->peer.saddr, e->peer.sport, e->track.forward, len);
}

char LICENSE[] SEC("license") = "GPL";

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Anti-spoofing: a namespace sends as itself or not at all. On its host-side veth, every frame
 * must carry the namespace's MAC as its source, an IPv4 packet the namespace's address, an
 * ARP packet both as its sender, an IPv6 packet its IPv6 address (fwd's links have no
 * link-local address and no DAD, so every frame a namespace sends does), a neighbour
 * advertisement its own address as target; router advertisements and redirects are the
 * host's alone (RA guard, RFC 6105), and its MLD goes nowhere. Without it, red sending with
 * blue's address got its packets masqueraded and blue received the replies; a forged source MAC
 * teaches the bridge's FDB a wrong port; a forged ARP sender redirects the gateway's traffic for
 * another address. fwd_ports, filled by the loader, names each host-side veth's namespace.
 */
#ifndef FWD_BPF_SPOOF_H
#define FWD_BPF_SPOOF_H

#include <stdbool.h>

#include "parse.h"
#include "parse6.h"

#ifndef ETH_P_ARP
#define ETH_P_ARP 0x0806
#endif

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FWD_MAX_ENDPOINTS);
	__type(key, __u32); /* host-side veth ifindex */
	__type(value, struct fwd_port);
} fwd_ports SEC(".maps");

/* The ARP payload for IPv4 over Ethernet (RFC 826), as far as the sender's fields. */
struct fwd_arp_head {
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 op;
	__u8 sha[6];
	__u8 spa[4]; /* bytes: the field is not 4-byte aligned */
};

/*
 * FWD_OK for a frame its namespace may send, else the drop reason. *@port: the namespace of the
 * veth the frame came in by, also when its frame is refused (its drops count under it), NULL
 * when the veth is none of the topology's (the loader fills fwd_ports before it attaches, so
 * only a test calls without one). The IPv4 source is checked by the caller once it parsed the
 * header (fwd_port_ipv4_ok).
 */
static __always_inline int fwd_port_check(struct __ctx_buff *ctx, const struct fwd_port **portp)
{
	__u32 ifindex = ctx_ingress_ifindex(ctx);
	const struct fwd_port *port;
	struct fwd_arp_head *arp;
	struct ethhdr *eth;
	__be32 spa;

	*portp = NULL;
	/* The header before the lookup: with the lookup first, clang 14 merged the paths into
	 * arithmetic on data_end, which the verifier refuses. */
	if (ctx_pull(ctx, sizeof(*eth)))
		return FWD_CNT_DROP_TRUNC_ETH;
	eth = ctx_data(ctx);
	if ((void *)(eth + 1) > ctx_data_end(ctx))
		return FWD_CNT_DROP_TRUNC_ETH;
	port = bpf_map_lookup_elem(&fwd_ports, &ifindex);
	if (!port)
		return FWD_OK;
	*portp = port;
	if (!fwd_mac_equal(eth->h_source, port->mac))
		return FWD_CNT_DROP_SPOOF_MAC;
	if (eth->h_proto != bpf_htons(ETH_P_ARP))
		return FWD_OK;
	if (ctx_pull(ctx, sizeof(*eth) + sizeof(*arp)))
		return FWD_CNT_DROP_SPOOF_ARP; /* too short to say who sends it */
	eth = ctx_data(ctx);
	arp = (void *)(eth + 1);
	if ((void *)(arp + 1) > ctx_data_end(ctx))
		return FWD_CNT_DROP_SPOOF_ARP;
	if (arp->ptype != bpf_htons(ETH_P_IP) || arp->plen != 4 || arp->hlen != 6)
		return FWD_CNT_DROP_SPOOF_ARP;
	if (!fwd_mac_equal(arp->sha, port->mac))
		return FWD_CNT_DROP_SPOOF_ARP;
	__builtin_memcpy(&spa, arp->spa, sizeof(spa));
	/* Its own address, or 0.0.0.0: an address probe (RFC 5227), which no cache learns from.
	 * A namespace with IPv6 only (a stand-in for its address) has no ARP to send. */
	if ((spa != port->addr && spa != 0) || fwd_addr_is_standin(port->addr))
		return FWD_CNT_DROP_SPOOF_ARP;
	return FWD_OK;
}

/* An IPv4 packet from @port's namespace: its own source address? (No port: not checked.) A
 * namespace with IPv6 only has none: its port's address is a stand-in, which no packet may
 * carry. */
static __always_inline bool fwd_port_ipv4_ok(const struct fwd_port *port, const struct fwd_pkt *pkt)
{
	return !port || (pkt->saddr == port->addr && !fwd_addr_is_standin(port->addr));
}

/*
 * An IPv6 packet from @port's namespace (parsed): FWD_OK, or the drop reason. The target of a
 * neighbour advertisement is what the receiver's cache learns (with the override flag it
 * replaces a fresh entry): red advertising the gateway's address would take the gateway's
 * traffic from blue. Datapath kernel's ebtables cannot read the target; the host's and the
 * namespaces' caches are open to that there (README, "IPv6").
 */
static __always_inline int fwd_port_ipv6_check(struct __ctx_buff *ctx, const struct fwd_port *port,
					       const struct fwd_pkt6 *pkt)
{
	__be32 target[4];

	if (!port)
		return FWD_OK;
	/* MLD first: a namespace without a link-local address reports its groups from ::, which
	 * is no spoofing. Nothing on fwd's bridge listens to MLD (no querier, no snooping). */
	if (pkt->proto == FWD_IPPROTO_ICMPV6 && pkt->frag != FWD_FRAG6_LATER &&
	    ((pkt->icmp_type >= FWD_ICMP6_MLD_QUERY && pkt->icmp_type <= FWD_ICMP6_MLD_DONE) ||
	     pkt->icmp_type == FWD_ICMP6_MLD2_REPORT))
		return FWD_CNT_DROP_MLD;
	if (fwd_ipv6_is_zero(port->addr6) || !fwd_ipv6_equal(pkt->saddr, port->addr6))
		return FWD_CNT_DROP_SPOOF_IPV6;
	if (pkt->proto != FWD_IPPROTO_ICMPV6 || pkt->frag == FWD_FRAG6_LATER)
		return FWD_OK;
	if (pkt->icmp_type == FWD_ICMP6_ROUTER_ADVERT || pkt->icmp_type == FWD_ICMP6_REDIRECT)
		return FWD_CNT_DROP_ND_ROUTER;
	if (pkt->icmp_type != FWD_ICMP6_NEIGHBOUR_ADVERT)
		return FWD_OK;
	/* type, code, checksum, flags and reserved (8 bytes), then the target */
	if (pkt->l4_off + 24 > pkt->l3_off + pkt->l3_len ||
	    ctx_load_bytes(ctx, pkt->l4_off + 8, target, sizeof(target)))
		return FWD_CNT_DROP_TRUNC_L4;
	if (!fwd_ipv6_equal(target, port->addr6))
		return FWD_CNT_DROP_SPOOF_ND;
	return FWD_OK;
}

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SNAT (masquerade): which frames are masqueraded, the port a connection gets on the uplink
 * address, and the header rewrites (addresses, ports, ICMP echo identifiers, TTL) with their
 * checksums. Conntrack entries are created here, in pairs (bpf/conntrack.h).
 */
#ifndef FWD_BPF_NAT_H
#define FWD_BPF_NAT_H

#include <stdbool.h>

#include "conntrack.h"
#include "uplink.h"
#include "csum.h"
#include "forwards.h"

#ifndef EEXIST
#define EEXIST 17 /* <errno.h> is libc's */
#endif

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FWD_MAX_FORWARD_PORTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fwd_fwd_target_key);
	__type(value, __u32);
} fwd_fwd_targets SEC(".maps");

#define FWD_IP_CSUM_OFF	 offsetof(struct iphdr, check)
#define FWD_IP_SADDR_OFF offsetof(struct iphdr, saddr)
#define FWD_IP_DADDR_OFF offsetof(struct iphdr, daddr)

static __always_inline bool nat_masqueraded(__be32 addr)
{
	/* n_masq is rodata: the verifier sees a constant bound and walks only the used slots. */
	for (__u32 i = 0; i < FWD_MAX_MASQ; i++) {
		if (i >= fwd_cfg.n_masq)
			break;
		if ((addr & fwd_cfg.masq[i].mask) == fwd_cfg.masq[i].addr)
			return true;
	}
	return false;
}

/* route ... via: is @addr inside another host's subnet, reached without masquerade? */
static __always_inline bool nat_routed(__be32 addr)
{
	if (!(fwd_cfg.flags & FWD_SET_ROUTES)) /* rodata: pruned without route lines */
		return false;
	for (__u32 i = 0; i < FWD_MAX_ROUTE; i++) {
		if (i >= fwd_cfg.n_routes)
			break;
		if ((addr & fwd_cfg.routes[i].mask) == fwd_cfg.routes[i].addr)
			return true;
	}
	return false;
}

/*
 * Is this frame one to masquerade? From a masquerade subnet to an address outside the bridge's
 * subnet: the namespace routed it to its gateway (unicast: fwd_parse_eth() passed it). The
 * gateway's MAC is not compared: fwd fixes the MAC of a bridge it creates, but a bridge it
 * found may take the lowest MAC of its ports, so fwd_cfg.bridge_mac could go stale. Whether the
 * frame really leaves by the uplink is the FIB's answer, asked next (fib.h).
 */
static __always_inline bool nat_snat_wanted(struct __ctx_buff *ctx, const struct fwd_pkt *pkt)
{
	if (!(fwd_cfg.flags & FWD_SET_SNAT))
		return false;
	if ((pkt->daddr & fwd_cfg.subnet_mask) == fwd_cfg.subnet ||
	    pkt->daddr == bpf_htonl(0xffffffff))
		return false;
	return nat_masqueraded(pkt->saddr);
}

/* Is @port (network order) of @proto forwarded on uplink address @addr? Such a port is never
 * SNAT's. */
static __always_inline bool nat_port_forwarded(__u8 proto, __be32 addr, __be16 port)
{
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return false;
	return forward_lookup(proto, addr, port) != NULL;
}

/*
 * Can this frame be a reply of a forwarded connection? Only if it leaves a forward's target
 * port: one hash lookup spares fwd_ct every other namespace-to-namespace frame.
 */
static __always_inline bool nat_from_forward_target(const struct fwd_pkt *pkt)
{
	struct fwd_fwd_target_key key = {};

	key.addr = pkt->saddr;
	key.proto = pkt->proto;
	key.port = pkt->sport;
	return bpf_map_lookup_elem(&fwd_fwd_targets, &key) != NULL;
}

static __always_inline bool nat_key_eq(const struct fwd_ct_key *a, const struct fwd_ct_key *b)
{
	return a->saddr == b->saddr && a->daddr == b->daddr && a->sport == b->sport &&
	       a->dport == b->dport && a->proto == b->proto;
}

/*
 * Second half of a new connection: the REPLY entry @rkey is in, now a slot and the ORIG entry
 * (from @v, the REPLY value). When another CPU made the same connection first, theirs is used.
 * Our REPLY entry goes unless it is theirs too (a forward's REPLY key follows from the ORIG
 * key, so two CPUs opening one forwarded connection share it; SNAT picks a port each).
 * @from_ns: a namespace opens it (the key's source), which counts it against its cap.
 */
static __always_inline struct fwd_ct_entry *nat_insert_orig(const struct fwd_pkt *pkt,
							    const struct fwd_ct_key *okey,
							    const struct fwd_ct_key *rkey,
							    struct fwd_ct_entry *v, __u64 now,
							    bool from_ns, __u32 *why)
{
	struct fwd_ct_ns *ns = NULL;
	struct fwd_ct_entry *e;
	bool over = false;
	__u32 slot;
	long err;

	if (from_ns)
		ns = ct_ns_charge(okey->saddr, &over);
	if (over) {
		err = -EDQUOT;
		goto failed;
	}
	if (!ct_slot_take(&slot, now)) {
		err = -E2BIG;
		goto failed;
	}
	v->ns_counted = ns != NULL;
	v->dir = FWD_CT_DIR_ORIG;
	v->slot = slot;
	__builtin_memcpy(&v->peer, rkey, sizeof(v->peer));
	ct_init_state(v, pkt);
	v->expires_ns = now + ct_timeout_ns(v->track.state);
	err = ct_insert(okey, v, now);
	if (err) {
		ct_slot_release(slot);
		goto failed;
	}
	if (ns)
		__sync_fetch_and_add(&ns->conns, 1);
	ct_slot_set(slot, okey, v->expires_ns);
	ct_recent_push(okey);
	monitor_ct(FWD_EV_CT_NEW, okey, rkey, v->track.state, v->nat);
	e = bpf_map_lookup_elem(&fwd_ct, okey);
	if (!e)
		*why =
		    FWD_CNT_DROP_CT_FULL; /* deleted meanwhile: a flush, the next packet retries */
	return e;

failed:
	e = err == -EEXIST ? bpf_map_lookup_elem(&fwd_ct, okey) : NULL;
	if (!e || !nat_key_eq(&e->peer, rkey))
		bpf_map_delete_elem(&fwd_ct, rkey);
	if (e) /* another CPU made this connection first: use it */
		return e;
	*why = err == -EDQUOT ? FWD_CNT_DROP_CT_NS_LIMIT : FWD_CNT_DROP_CT_FULL;
	return NULL;
}

/*
 * A new connection whose REPLY key @rkey follows from its ORIG key @okey, of kind @nat: insert
 * the REPLY entry, then the ORIG one. A REPLY key already taken refuses the connection
 * (DROP_NAT_NO_PORT: the other side already talks from that port to that client port, and this
 * connection's replies could not be told apart), unless it is this very connection, which
 * another CPU is opening: then it is shared.
 */
static __always_inline struct fwd_ct_entry *nat_pair_create(const struct fwd_pkt *pkt,
							    const struct fwd_ct_key *okey,
							    const struct fwd_ct_key *rkey, __u8 nat,
							    __u64 now, bool from_ns, __u32 *why)
{
	struct fwd_ct_entry v = {}, *r;
	long err;

	v.dir = FWD_CT_DIR_REPLY;
	v.nat = nat;
	v.created_ns = now;
	__builtin_memcpy(&v.peer, okey, sizeof(v.peer));
	err = ct_insert(rkey, &v, now);
	if (err == -EEXIST) {
		r = bpf_map_lookup_elem(&fwd_ct, rkey);
		if (r && r->dir == FWD_CT_DIR_REPLY && nat_key_eq(&r->peer, okey))
			return nat_insert_orig(pkt, okey, rkey, &v, now, from_ns, why);
		*why = FWD_CNT_DROP_NAT_NO_PORT;
		return NULL;
	}
	if (err) {
		*why = FWD_CNT_DROP_CT_FULL;
		return NULL;
	}
	return nat_insert_orig(pkt, okey, rkey, &v, now, from_ns, why);
}

/*
 * A new forwarded connection for the packet with ORIG key @okey (as it arrives: client to
 * uplink address and forwarded port, or, hairpin, a namespace to the same): the REPLY key is
 * the target's answer to the client, whose address is kept.
 */
static __always_inline struct fwd_ct_entry *nat_dnat_create(const struct fwd_pkt *pkt,
							    const struct fwd_ct_key *okey,
							    const struct fwd_forward_val *fv,
							    __u64 now, bool from_ns, __u32 *why)
{
	struct fwd_ct_key rkey = {};
	struct fwd_ct_entry *e;

	rkey.saddr = fv->addr;
	rkey.daddr = okey->saddr;
	rkey.sport = fv->port;
	rkey.dport = okey->sport;
	rkey.proto = okey->proto;
	e = nat_pair_create(pkt, okey, &rkey, FWD_CT_NAT_DNAT, now, from_ns, why);
	if (e && e->track.forward != fv->rule) /* its frames count under its forward */
		e->track.forward = fv->rule;
	return e;
}

/*
 * fwd_fwd_peers: the fwd_forwards of the other topologies on this uplink, filled from index 0
 * by every `up` and `down` (loader/peers.c), so that a namespace reaches their forwards too.
 */
/* clang-format off */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, FWD_MAX_PEERS);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(max_entries, 1);
		__uint(map_flags, BPF_F_NO_PREALLOC);
		/* Sizes, not types: clang 14 then leaves the value's struct a forward
		 * declaration in BTF, fwd_forwards' too, and libbpf cannot size them. */
		__uint(key_size, sizeof(struct fwd_forward_key));
		__uint(value_size, sizeof(struct fwd_forward_val));
	});
} fwd_fwd_peers SEC(".maps");
/* clang-format on */

/* Does another topology on this uplink forward @key? A global function, as the next one. */
__attribute__((noinline)) int fwd_forward_of_peer(const struct fwd_forward_key *key)
{
	if (!key)
		return 0;
	for (__u32 i = 0; i < FWD_MAX_PEERS; i++) {
		__u32 k = i;
		void *peer = bpf_map_lookup_elem(&fwd_fwd_peers, &k);

		if (!peer)
			return 0; /* filled from 0: the rest is empty */
		if (bpf_map_lookup_elem(peer, key))
			return 1;
	}
	return 0;
}

/*
 * Does another topology masquerading out of this uplink hold REPLY key @rkey (fwd_ct_peers)?
 * Then the port is theirs on the uplink's address. Two topologies claiming one key at the same
 * instant both see the other's and both move on to another port. A global function: the
 * verifier walks its loop once, not once per port nat_snat_create() tries.
 */
__attribute__((noinline)) int nat_reply_key_of_peer(const struct fwd_ct_key *rkey)
{
	if (!rkey) /* a global function's pointer may be NULL, as far as the verifier knows */
		return 0;
	for (__u32 i = 0; i < FWD_MAX_PEERS; i++) {
		__u32 k = i;
		void *peer = bpf_map_lookup_elem(&fwd_ct_peers, &k);

		if (!peer)
			return 0; /* filled from 0: the rest is empty */
		if (bpf_map_lookup_elem(peer, rkey))
			return 1;
	}
	return 0;
}

#define NAT_PORTS_DONE 0xffffffffu

/*
 * The port try @i (0..FWD_NAT_PORT_TRIES) of a new masqueraded connection tries, network order
 * in the low 16 bits: first its own source port @own, then consecutive ports of the range from
 * @start. 0: try @i has none (no own port, or one outside a snat-ports line: kept only inside
 * it, as MASQUERADE --to-ports does, unless @echo: an ICMP echo identifier is no port and is
 * kept whatever it is); NAT_PORTS_DONE: a small range was tried whole, each port once. Both
 * families' claims (nat_snat_claim_port(), nat6_snat_claim_port()) take their ports from here.
 */
static __always_inline __u32 nat_port_try(__u32 i, __be16 own, bool echo, __u32 start)
{
	__u32 lo = fwd_cfg.nat_port_lo, n = fwd_cfg.nat_port_hi - fwd_cfg.nat_port_lo + 1;

	if (i == 0) {
		if ((fwd_cfg.flags & FWD_SET_SNAT_PORTS) && !echo &&
		    (bpf_ntohs(own) < lo || bpf_ntohs(own) > fwd_cfg.nat_port_hi))
			return 0;
		return own;
	}
	if (i > n)
		return NAT_PORTS_DONE;
	return bpf_htons(lo + (start + i) % n);
}

/*
 * Claim a port for the masqueraded connection @okey: insert its REPLY entry @v under @rkey
 * (source and address already set) with the first port that is free. 0 with rkey->dport set,
 * -E2BIG when the table is full, else the drop counter. A global function: the verifier
 * walks its FWD_NAT_PORT_TRIES tries once, not once for every way the main program comes to
 * nat_snat_create() (half its verification time when it was inline). It does not make room
 * in a full table itself: that (fwd_ct_early_drop()) from here would pass the 512 bytes of
 * stack the calls may take together.
 */
__attribute__((noinline)) int nat_snat_claim_port(const struct fwd_ct_key *okey,
						  struct fwd_ct_key *rkey, struct fwd_ct_entry *v)
{
	__u32 start = bpf_get_prandom_u32();
	long err;
	__u32 i;

	if (!okey || !rkey || !v) /* a global function's pointers may be NULL to the verifier */
		return FWD_CNT_DROP_NAT_NO_PORT;
	for (i = 0; i <= FWD_NAT_PORT_TRIES; i++) {
		__u32 try = nat_port_try(i, okey->sport, okey->proto == IPPROTO_ICMP, start);
		__be16 port = (__be16)try;

		if (try == NAT_PORTS_DONE)
			break;
		if (!port || nat_port_forwarded(okey->proto, rkey->daddr, port))
			continue;
		rkey->dport = port;
		err = bpf_map_update_elem(&fwd_ct, rkey, v, BPF_NOEXIST);
		if (!err && nat_reply_key_of_peer(rkey)) {
			bpf_map_delete_elem(&fwd_ct, rkey);
			continue;
		}
		if (!err)
			return 0;
		if (err == -E2BIG)
			return -E2BIG;
		if (err != -EEXIST)
			return FWD_CNT_DROP_CT_FULL;
	}
	return FWD_CNT_DROP_NAT_NO_PORT;
}

/*
 * A new masqueraded connection for the packet with ORIG key @okey: claim a port by inserting
 * the REPLY entry (BPF_NOEXIST makes the insert itself the allocation, so two CPUs can never
 * get the same port), then the ORIG entry. The port: the packet's own
 * source port when it is free (and, with FWD_SET_SNAT_PORTS, in the range), else up to
 * FWD_NAT_PORT_TRIES consecutive ports of the range from a random start; a port the uplink
 * forwards is skipped either way. Uniqueness is per remote
 * address, port and protocol, as in Linux: the REPLY key holds all of them.
 * Returns the ORIG entry, or NULL with *@why set.
 */
static __always_inline struct fwd_ct_entry *
nat_snat_create(const struct fwd_pkt *pkt, const struct fwd_ct_key *okey, __u64 now, __u32 *why)
{
	struct fwd_ct_key rkey = {};
	struct fwd_ct_entry v = {};
	int claim;

	rkey.saddr = okey->daddr;
	rkey.daddr = uplink_addr();
	if (!rkey.daddr) {
		*why = FWD_CNT_DROP_NO_UPLINK_ADDR; /* it went: nothing to masquerade to */
		return NULL;
	}
	rkey.sport = okey->dport;
	rkey.proto = okey->proto;
	v.dir = FWD_CT_DIR_REPLY;
	v.nat = FWD_CT_NAT_SNAT;
	v.created_ns = now;
	__builtin_memcpy(&v.peer, okey, sizeof(v.peer));
	claim = nat_snat_claim_port(okey, &rkey, &v);
	if (claim == -E2BIG) {
		/* The REPLY entry goes in first: a full table shows here first. */
		fwd_count_event(FWD_CNT_CT_TABLE_FULL);
		claim = ct_early_drop(now) ? nat_snat_claim_port(okey, &rkey, &v) : -E2BIG;
	}
	if (claim) {
		*why = claim == -E2BIG ? FWD_CNT_DROP_CT_FULL : claim;
		return NULL;
	}
	return nat_insert_orig(pkt, okey, &rkey, &v, now, true, why);
}

/*
 * Rewrite one side of the packet: the source (@src) or destination address and port (ICMP
 * echo: the identifier) from @from_addr/@from_port to @to_addr/@to_port, checksums with it.
 * The address is in TCP's and UDP's pseudo header, not in ICMP's; a later fragment has only
 * the address. FWD_OK or DROP_REWRITE.
 */
static __always_inline int nat_rewrite(struct __ctx_buff *ctx, const struct fwd_pkt *pkt, bool src,
				       __be32 from_addr, __be32 to_addr, __be16 from_port,
				       __be16 to_port)
{
	__u32 addr_off = pkt->l3_off + (src ? FWD_IP_SADDR_OFF : FWD_IP_DADDR_OFF);
	__u32 port_off;
	int l4_flags = 0;

	/* A later fragment has no L4 header: the first fragment's carries the change. */
	if (fwd_ipv4_is_later_fragment(pkt))
		return ctx_l3_csum_replace(ctx, pkt->l3_off + FWD_IP_CSUM_OFF, from_addr, to_addr,
					   4) ||
			       ctx_store_bytes(ctx, addr_off, &to_addr, 4)
			   ? FWD_CNT_DROP_REWRITE
			   : FWD_OK;
	if (pkt->proto == IPPROTO_ICMP) {
		port_off = pkt->l4_off + 4; /* echo identifier */
	} else {
		port_off = pkt->l4_off + (src ? 0 : 2);
		l4_flags = pkt->proto == IPPROTO_UDP ? FWD_CSUM_UDP : 0;
		if (ctx_l4_csum_replace(ctx, pkt->l4_csum_off, from_addr, to_addr, 4,
					l4_flags | FWD_CSUM_PSEUDO))
			return FWD_CNT_DROP_REWRITE;
	}
	if (ctx_l3_csum_replace(ctx, pkt->l3_off + FWD_IP_CSUM_OFF, from_addr, to_addr, 4) ||
	    ctx_store_bytes(ctx, addr_off, &to_addr, 4))
		return FWD_CNT_DROP_REWRITE;
	if (from_port != to_port &&
	    (ctx_l4_csum_replace(ctx, pkt->l4_csum_off, from_port, to_port, 2, l4_flags) ||
	     ctx_store_bytes(ctx, port_off, &to_port, 2)))
		return FWD_CNT_DROP_REWRITE;
	return FWD_OK;
}

/* Forwarding is routing: TTL down by one, IPv4 checksum with it (TTL shares a word with the
 * protocol). The caller made sure TTL > 1. */
static __always_inline int nat_ttl_dec(struct __ctx_buff *ctx, const struct fwd_pkt *pkt)
{
	__u8 old_w[2] = { pkt->ttl, pkt->proto }, new_w[2] = { pkt->ttl - 1, pkt->proto };
	__u8 ttl = pkt->ttl - 1;

	if (ctx_l3_csum_replace(ctx, pkt->l3_off + FWD_IP_CSUM_OFF, *(__be16 *)old_w,
				*(__be16 *)new_w, 2) ||
	    ctx_store_bytes(ctx, pkt->l3_off + offsetof(struct iphdr, ttl), &ttl, 1))
		return FWD_CNT_DROP_REWRITE;
	return FWD_OK;
}

/* Destination and source MAC in one store. */
static __always_inline int nat_set_macs(struct __ctx_buff *ctx, const __u8 *dst, const __u8 *src)
{
	__u8 macs[12];

	__builtin_memcpy(macs, dst, 6);
	__builtin_memcpy(macs + 6, src, 6);
	return ctx_store_bytes(ctx, 0, macs, sizeof(macs)) ? FWD_CNT_DROP_REWRITE : FWD_OK;
}

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAT66 masquerade, as Docker does it with ip6tables: a namespace's IPv6 address and port
 * become the uplink's (its first global address, fwd_uplink6) on the way out, and back on the
 * way in. Which frames, the port a connection gets, the header rewrites. IPv6 has no header
 * checksum, but TCP's, UDP's and ICMPv6's pseudo headers hold both addresses.
 *
 * What this path leaves to the kernel, whose ip6tables MASQUERADE rule stays in place behind
 * it (counted pass_nat6): fragments, a hop limit that runs out, packets over the uplink's MTU
 * (the kernel answers Packet Too Big), what the FIB does not send out of the uplink. Those go
 * through nf_conntrack, which does not know fwd's connections: a fragmented datagram of a
 * flow fwd masquerades may leave with another port.
 */
#ifndef FWD_BPF_NAT6_H
#define FWD_BPF_NAT6_H

#include <stdbool.h>

#include "conntrack6.h"
#include "nat.h"

#define FWD_ICMP6_ECHO_REQUEST 128
#define FWD_ICMP6_ECHO_REPLY   129

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fwd_uplink6);
} fwd_uplink6 SEC(".maps");

/* The uplink's IPv6 address, or NULL while it has none. */
static __always_inline const __be32 *uplink6_addr(void)
{
	__u32 zero = 0;
	const struct fwd_uplink6 *u = bpf_map_lookup_elem(&fwd_uplink6, &zero);

	return u && !fwd_ipv6_is_zero(u->addr) ? u->addr : NULL;
}

/* @net and @mask are fwd_cfg's: read as volatile, or clang would fold in their zero initialiser. */
static __always_inline bool nat6_in(const __be32 *a, const volatile __be32 *net,
				    const volatile __be32 *mask)
{
	return (a[0] & mask[0]) == net[0] && (a[1] & mask[1]) == net[1] &&
	       (a[2] & mask[2]) == net[2] && (a[3] & mask[3]) == net[3];
}

static __always_inline bool nat6_masqueraded(const __be32 *addr)
{
	for (__u32 i = 0; i < FWD_MAX_MASQ6; i++) {
		if (i >= fwd_cfg.n_masq6)
			break;
		if (nat6_in(addr, fwd_cfg.masq6[i].addr, fwd_cfg.masq6[i].mask))
			return true;
	}
	return false;
}

/*
 * Is this IPv6 frame one to masquerade? From a masquerade6 prefix to a unicast address that is
 * neither link-local nor in the bridge's prefix. The FIB says next whether it leaves by the
 * uplink.
 */
static __always_inline bool nat6_snat_wanted(const struct fwd_pkt6 *pkt)
{
	__u32 d0 = bpf_ntohl(pkt->daddr[0]);

	if (!(fwd_cfg.flags & FWD_SET_SNAT6))
		return false;
	if ((d0 >> 24) == 0xff || (d0 & 0xffc00000) == 0xfe800000)
		return false;
	if (nat6_in(pkt->daddr, fwd_cfg.subnet6, fwd_cfg.subnet6_mask))
		return false;
	return nat6_masqueraded(pkt->saddr);
}

/*
 * The upper-layer header of @pkt read as IPv4's code reads it, into @l4: ports (an ICMPv6 echo's
 * identifier in the same places as ICMP's), the checksum's offset, TCP's flags, sequence
 * numbers and window for conntrack (ct_track() takes it). FWD_OK or the drop reason.
 */
static __always_inline __u32 nat6_l4(struct __ctx_buff *ctx, const struct fwd_pkt6 *pkt,
				     struct fwd_pkt *l4)
{
	__u8 hdr[8];

	__builtin_memset(l4, 0, sizeof(*l4));
	l4->l3_off = pkt->l3_off;
	l4->l4_off = pkt->l4_off;
	l4->l3_len = pkt->l3_len;
	l4->proto = pkt->proto;
	if (pkt->proto != FWD_IPPROTO_ICMPV6)
		return fwd_parse_l4(ctx, l4);
	if (ctx_load_bytes(ctx, pkt->l4_off, hdr, sizeof(hdr)))
		return FWD_CNT_DROP_TRUNC_L4;
	l4->icmp_type = hdr[0];
	l4->l4_csum_off = pkt->l4_off + 2;
	if (hdr[0] == FWD_ICMP6_ECHO_REQUEST)
		__builtin_memcpy(&l4->sport, hdr + 4, 2);
	else if (hdr[0] == FWD_ICMP6_ECHO_REPLY)
		__builtin_memcpy(&l4->dport, hdr + 4, 2);
	return FWD_OK;
}

static __always_inline void ct6_key_of(struct fwd_ct6_key *key, const struct fwd_pkt6 *pkt,
				       const struct fwd_pkt *l4)
{
	__builtin_memset(key, 0, sizeof(*key));
	__builtin_memcpy(key->saddr, pkt->saddr, sizeof(key->saddr));
	__builtin_memcpy(key->daddr, pkt->daddr, sizeof(key->daddr));
	key->sport = l4->sport;
	key->dport = l4->dport;
	key->proto = pkt->proto;
}

/* Does another topology masquerading IPv6 out of this uplink hold REPLY key @rkey? As
 * nat_reply_key_of_peer(). */
__attribute__((noinline)) int nat6_reply_key_of_peer(const struct fwd_ct6_key *rkey)
{
	if (!rkey)
		return 0;
	for (__u32 i = 0; i < FWD_MAX_PEERS; i++) {
		__u32 k = i;
		void *peer = bpf_map_lookup_elem(&fwd_ct6_peers, &k);

		if (!peer)
			return 0;
		if (bpf_map_lookup_elem(peer, rkey))
			return 1;
	}
	return 0;
}

/*
 * As nat_snat_claim_port(), in fwd_ct6. The ports of IPv6 forwards are not skipped: those are
 * ip6tables' so far, and a forwarded connection's tuple differs from a masqueraded one's
 * unless the client uses the very remote address and port of a connection fwd masqueraded.
 */
__attribute__((noinline)) int nat6_snat_claim_port(const struct fwd_ct6_key *okey,
						   struct fwd_ct6_key *rkey,
						   struct fwd_ct6_entry *v)
{
	__u32 start = bpf_get_prandom_u32();
	long err;
	__u32 i;

	if (!okey || !rkey || !v)
		return FWD_CNT_DROP_NAT_NO_PORT;
	for (i = 0; i <= FWD_NAT_PORT_TRIES; i++) {
		__u32 try = nat_port_try(i, okey->sport, okey->proto == FWD_IPPROTO_ICMPV6, start);
		__be16 port = (__be16)try;

		if (try == NAT_PORTS_DONE)
			break;
		if (!port)
			continue;
		rkey->dport = port;
		err = bpf_map_update_elem(&fwd_ct6, rkey, v, BPF_NOEXIST);
		if (!err && nat6_reply_key_of_peer(rkey)) {
			bpf_map_delete_elem(&fwd_ct6, rkey);
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
 * Second half of a new masqueraded connection, as nat_insert_orig(): the REPLY entry is in,
 * now a slot and the ORIG entry, charged to the namespace (@ns_addr, its IPv4 address, the
 * key of fwd_ct_ns).
 */
static __always_inline struct fwd_ct6_entry *nat6_insert_orig(const struct fwd_pkt *l4,
							      const struct fwd_ct6_key *okey,
							      const struct fwd_ct6_key *rkey,
							      struct fwd_ct6_entry *v,
							      __be32 ns_addr, __u64 now, __u32 *why)
{
	struct fwd_ct_ns *ns = NULL;
	struct fwd_ct6_entry *e;
	bool over = false;
	__u32 slot;
	long err;

	if (ns_addr)
		ns = ct_ns_charge(ns_addr, &over);
	if (over) {
		err = -EDQUOT;
		goto failed;
	}
	if (!ct6_slot_take(&slot, now)) {
		err = -E2BIG;
		goto failed;
	}
	v->c.ns_counted = ns != NULL;
	v->ns_addr = ns_addr;
	v->c.dir = FWD_CT_DIR_ORIG;
	v->c.slot = slot;
	__builtin_memcpy(&v->peer, rkey, sizeof(v->peer));
	ct_init_state(&v->c, l4);
	v->c.expires_ns = now + ct_timeout_ns(v->c.track.state);
	err = bpf_map_update_elem(&fwd_ct6, okey, v, BPF_NOEXIST);
	if (err == -E2BIG && fwd_ct6_early_drop(now))
		err = bpf_map_update_elem(&fwd_ct6, okey, v, BPF_NOEXIST);
	if (err) {
		ct6_slot_release(slot);
		goto failed;
	}
	if (ns)
		__sync_fetch_and_add(&ns->conns, 1);
	ct6_slot_set(slot, okey, v->c.expires_ns);
	bpf_map_push_elem(&fwd_ct6_recent, okey, BPF_EXIST);
	monitor_ct6_new(okey, rkey, v->c.track.state, v->c.nat);
	e = bpf_map_lookup_elem(&fwd_ct6, okey);
	if (!e)
		*why = FWD_CNT_DROP_CT_FULL;
	return e;

failed:
	e = err == -EEXIST ? bpf_map_lookup_elem(&fwd_ct6, okey) : NULL;
	if (!e || !ct6_key_eq(&e->peer, rkey))
		bpf_map_delete_elem(&fwd_ct6, rkey);
	if (e)
		return e;
	*why = err == -EDQUOT ? FWD_CNT_DROP_CT_NS_LIMIT : FWD_CNT_DROP_CT_FULL;
	return NULL;
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FWD_MAX_FORWARD_PORTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fwd_forward6_key);
	__type(value, struct fwd_forward6_val);
} fwd_forwards6 SEC(".maps");

/* The IPv6 forward of uplink address @addr, port @port (network order) of @proto, or NULL. */
static __always_inline const struct fwd_forward6_val *
forward6_lookup(__u8 proto, const __be32 *addr, __be16 port)
{
	struct fwd_forward6_key key = {};

	__builtin_memcpy(key.addr, addr, sizeof(key.addr));
	key.proto = proto;
	key.port = port;
	return bpf_map_lookup_elem(&fwd_forwards6, &key);
}

/*
 * Room for fwd_snat6()'s structs, per CPU: called from fwd_tc_ingress, whose own frame takes
 * most of the verifier's 512 bytes of stack, the 128-byte entry alone would not fit. A program
 * runs to its end on one CPU, and nothing else there uses it meanwhile.
 */
struct nat6_scratch {
	struct fwd_pkt l4;	 /* the upper layer (nat6_l4()) */
	struct fwd_ct6_key okey; /* as the packet leaves the namespace */
	struct fwd_ct6_key rkey; /* a new connection's REPLY key */
	struct fwd_ct6_entry v;	 /* a new connection's entry, REPLY then ORIG */
	struct bpf_fib_lookup fib;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nat6_scratch);
} fwd_nat6_scratch SEC(".maps");

static __always_inline struct nat6_scratch *nat6_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&fwd_nat6_scratch, &zero);
}

/*
 * A new masqueraded IPv6 connection for @s->okey, as nat_snat_create(). NULL with *@why set.
 * @s: the caller's scratch, with l4 and okey filled.
 */
static __always_inline struct fwd_ct6_entry *nat6_snat_create(struct nat6_scratch *s,
							      __be32 ns_addr, __u64 now, __u32 *why)
{
	const __be32 *up = uplink6_addr();
	int claim;

	if (!up) {
		*why = FWD_CNT_DROP_NO_UPLINK_ADDR;
		return NULL;
	}
	__builtin_memset(&s->rkey, 0, sizeof(s->rkey));
	__builtin_memset(&s->v, 0, sizeof(s->v));
	__builtin_memcpy(s->rkey.saddr, s->okey.daddr, sizeof(s->rkey.saddr));
	__builtin_memcpy(s->rkey.daddr, up, sizeof(s->rkey.daddr));
	s->rkey.sport = s->okey.dport;
	s->rkey.proto = s->okey.proto;
	s->v.c.dir = FWD_CT_DIR_REPLY;
	s->v.c.nat = FWD_CT_NAT_SNAT;
	s->v.c.created_ns = now;
	__builtin_memcpy(&s->v.peer, &s->okey, sizeof(s->v.peer));
	claim = nat6_snat_claim_port(&s->okey, &s->rkey, &s->v);
	if (claim == -E2BIG) {
		fwd_count_event(FWD_CNT_CT_TABLE_FULL);
		claim = fwd_ct6_early_drop(now) ? nat6_snat_claim_port(&s->okey, &s->rkey, &s->v)
						: -E2BIG;
	}
	if (claim) {
		*why = claim == -E2BIG ? FWD_CNT_DROP_CT_FULL : claim;
		return NULL;
	}
	return nat6_insert_orig(&s->l4, &s->okey, &s->rkey, &s->v, ns_addr, now, why);
}

/*
 * A new forwarded IPv6 connection for @s->okey (as it arrives: the client to the forward's
 * address and port; hairpin: a namespace to the same), to @fv's target, as nat_dnat_create():
 * the REPLY key is the target's answer to the client, whose address is kept. REPLY entry
 * first; one already there is this very connection opened by another CPU (shared), or the
 * target already talks to that client port (DROP_NAT_NO_PORT). @ns_addr: a hairpin client's
 * IPv4 address, which its cap counts (0 from the LAN). NULL with *@why set.
 */
static __always_inline struct fwd_ct6_entry *nat6_dnat_create(struct nat6_scratch *s,
							      const struct fwd_forward6_val *fv,
							      __be32 ns_addr, __u64 now, __u32 *why)
{
	struct fwd_ct6_entry *r;
	long err;

	__builtin_memset(&s->rkey, 0, sizeof(s->rkey));
	__builtin_memset(&s->v, 0, sizeof(s->v));
	__builtin_memcpy(s->rkey.saddr, fv->addr, sizeof(s->rkey.saddr));
	__builtin_memcpy(s->rkey.daddr, s->okey.saddr, sizeof(s->rkey.daddr));
	s->rkey.sport = fv->port;
	s->rkey.dport = s->okey.sport;
	s->rkey.proto = s->okey.proto;
	s->v.c.dir = FWD_CT_DIR_REPLY;
	s->v.c.nat = FWD_CT_NAT_DNAT;
	s->v.c.created_ns = now;
	__builtin_memcpy(&s->v.peer, &s->okey, sizeof(s->v.peer));
	err = bpf_map_update_elem(&fwd_ct6, &s->rkey, &s->v, BPF_NOEXIST);
	if (err == -E2BIG) {
		fwd_count_event(FWD_CNT_CT_TABLE_FULL);
		if (fwd_ct6_early_drop(now))
			err = bpf_map_update_elem(&fwd_ct6, &s->rkey, &s->v, BPF_NOEXIST);
	}
	if (err == -EEXIST) {
		r = bpf_map_lookup_elem(&fwd_ct6, &s->rkey);
		if (!r || r->c.dir != FWD_CT_DIR_REPLY || !ct6_key_eq(&r->peer, &s->okey)) {
			*why = FWD_CNT_DROP_NAT_NO_PORT;
			return NULL;
		}
	} else if (err) {
		*why = FWD_CNT_DROP_CT_FULL;
		return NULL;
	}
	s->v.c.track.forward = fv->rule; /* its frames count under its forward */
	return nat6_insert_orig(&s->l4, &s->okey, &s->rkey, &s->v, ns_addr, now, why);
}

/*
 * The 16-byte address at @off from @from to @to, with the upper-layer checksum at @csum_off
 * (0: none, a later fragment's) whose pseudo header holds it. FWD_OK or DROP_REWRITE.
 */
static __always_inline __u32 nat6_addr_rewrite(struct __ctx_buff *ctx, __u32 off,
					       const __be32 *from, const __be32 *to, __u32 csum_off,
					       int l4_flags)
{
	__be32 f[4], t[4];
	__s64 diff;

	__builtin_memcpy(f, from, sizeof(f));
	__builtin_memcpy(t, to, sizeof(t));
	diff = bpf_csum_diff(f, sizeof(f), t, sizeof(t), 0);
	if (diff < 0)
		return FWD_CNT_DROP_REWRITE;
	if (csum_off &&
	    bpf_l4_csum_replace(ctx, csum_off, 0, (__u32)diff,
				BPF_F_PSEUDO_HDR |
				    (l4_flags & FWD_CSUM_UDP ? BPF_F_MARK_MANGLED_0 : 0)))
		return FWD_CNT_DROP_REWRITE;
	return ctx_store_bytes(ctx, off, t, sizeof(t)) ? FWD_CNT_DROP_REWRITE : FWD_OK;
}

/*
 * Rewrite one side of the packet, as nat_rewrite(): the source (@src) or destination address
 * to @to_addr and port (ICMPv6 echo: the identifier) to @to_port, checksums with them.
 */
static __always_inline __u32 nat6_rewrite(struct __ctx_buff *ctx, const struct fwd_pkt6 *pkt,
					  const struct fwd_pkt *l4, bool src, const __be32 *to_addr,
					  __be16 to_port)
{
	__u32 addr_off =
	    pkt->l3_off + (src ? offsetof(struct ipv6hdr, saddr) : offsetof(struct ipv6hdr, daddr));
	int flags = pkt->proto == IPPROTO_UDP ? FWD_CSUM_UDP : 0;
	__be16 from_port = src ? l4->sport : l4->dport; /* ICMPv6 echo: its identifier */
	__u32 port_off, why;

	if (pkt->proto == FWD_IPPROTO_ICMPV6)
		port_off = pkt->l4_off + 4;
	else
		port_off = pkt->l4_off + (src ? 0 : 2);
	why = nat6_addr_rewrite(ctx, addr_off, src ? pkt->saddr : pkt->daddr, to_addr,
				l4->l4_csum_off, flags);
	if (why != FWD_OK)
		return why;
	if (from_port != to_port &&
	    (ctx_l4_csum_replace(ctx, l4->l4_csum_off, from_port, to_port, 2, flags) ||
	     ctx_store_bytes(ctx, port_off, &to_port, 2)))
		return FWD_CNT_DROP_REWRITE;
	return FWD_OK;
}

/* Forwarding is routing: the hop limit down by one (no header checksum to follow). */
static __always_inline __u32 nat6_hop_dec(struct __ctx_buff *ctx, const struct fwd_pkt6 *pkt)
{
	__u8 hl = pkt->hop_limit - 1;

	return ctx_store_bytes(ctx, pkt->l3_off + offsetof(struct ipv6hdr, hop_limit), &hl, 1)
		   ? FWD_CNT_DROP_REWRITE
		   : FWD_OK;
}

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IPv4 fragments through SNAT and DNAT. Only a datagram's first fragment carries its L4 header,
 * so only it names the connection; fwd_frags remembers its ports (or ICMP type and echo
 * identifier) under what identifies the datagram's fragments (RFC 791: source, destination,
 * protocol, IP ID), and the later fragments find their connection through them, each then
 * translated on its own: addresses and the IPv4 checksum (the L4 checksum, in the first
 * fragment, covers the whole datagram and is updated there). No reassembly: a fragment costs a
 * lookup, a datagram an entry of 24 bytes for at most 30 s (Linux's ipfrag_time), in an LRU of
 * FWD_FRAG_ENTRIES (~0.4 MB): more datagrams in flight than that evict the oldest.
 *
 * A later fragment that arrives before its first (reordered on the way) is held: a copy of the
 * frame goes into fwd_frag_park (FWD_FRAG_PARK_MAX per datagram, frames up to
 * FWD_FRAG_PARK_BYTES, an LRU of FWD_FRAG_PARK_ENTRIES: ~1.6 MB), the frame itself is dropped
 * (frag_parked). When the first fragment comes, each held one is written back into the skb
 * and a clone of it is re-injected at the ingress it came from (bpf_clone_redirect), where it
 * passes again, now with its first known; then the skb becomes the first fragment again and
 * goes on. One that cannot be held (too many, too big) is dropped from a namespace
 * (drop_frag_no_first: translated it cannot be, untranslated it must not leave) and is the
 * host's from the LAN, as any frame of no connection of ours.
 *
 * The other way round, a packet without DF too big for the uplink (a namespace's fragment of
 * 1,500 bytes, the uplink a tunnel of 1,420) is cut into fragments that fit, after it was
 * translated, as ip_fragment() would: frag_out(). tc only.
 */
#ifndef FWD_BPF_FRAG_H
#define FWD_BPF_FRAG_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "parse.h"
#include "csum.h"

#ifndef FWD_CTX_TC
#error "bpf/frag.h is for tc programs"
#endif

#define FWD_FRAG_ENTRIES      8192
#define FWD_FRAG_LIFETIME_NS  (30ull * 1000000000ull)
#define FWD_FRAG_PARK_MAX     8
#define FWD_FRAG_PARK_BYTES   1536 /* a frame at MTU 1500, with its Ethernet header */
#define FWD_FRAG_PARK_ENTRIES 1024

struct fwd_frag_key {
	__be32 saddr; /* network order, as the fragment arrived */
	__be32 daddr;
	__be16 id; /* the IPv4 identification field */
	__u8 proto;
	__u8 pad; /* zero: keys are compared as bytes */
};

struct fwd_frag_val {
	__be16 sport; /* network order: fwd_pkt's, as fwd_parse_l4() read them */
	__be16 dport;
	__u8 icmp_type;
	__u8 first_seen; /* 0: only later fragments so far, held in fwd_frag_park */
	__u8 parked;	 /* how many are held: fwd_frag_park's n from 0 */
	__u8 pad;
	__u64 expires_ns; /* CLOCK_MONOTONIC_COARSE, as ct_now() */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FWD_FRAG_ENTRIES);
	__type(key, struct fwd_frag_key);
	__type(value, struct fwd_frag_val);
} fwd_frags SEC(".maps");

struct fwd_frag_park_key {
	struct fwd_frag_key frag;
	__u32 n;
};

struct fwd_frag_frame {
	__u32 len;
	__u8 b[FWD_FRAG_PARK_BYTES];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FWD_FRAG_PARK_ENTRIES);
	__type(key, struct fwd_frag_park_key);
	__type(value, struct fwd_frag_frame);
} fwd_frag_park SEC(".maps");

/* A frame's worth of room, per CPU: too big for the stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fwd_frag_frame);
} fwd_frag_scratch SEC(".maps");

/* Copy the whole frame into @f: 0, or -1 when it does not fit. */
static __always_inline int frag_frame_save(struct __sk_buff *ctx, struct fwd_frag_frame *f)
{
	__u32 len = ctx_full_len(ctx);

	if (len == 0 || len > FWD_FRAG_PARK_BYTES)
		return -1;
	f->len = len;
	return ctx_load_bytes(ctx, 0, f->b, len) ? -1 : 0;
}

/* Make the skb the frame @f holds: 0, or -1 (the skb is then garbage: drop it). */
static __always_inline int frag_frame_write(struct __sk_buff *ctx, const struct fwd_frag_frame *f)
{
	__u32 len = f->len;

	if (len == 0 || len > FWD_FRAG_PARK_BYTES)
		return -1;
	if (bpf_skb_change_tail(ctx, len, 0) || ctx_store_bytes(ctx, 0, f->b, len))
		return -1;
	return 0;
}

/* Hold a later fragment of datagram @key (@v: its entry): FRAG_PARKED, or DROP_FRAG_NO_FIRST
 * when it cannot be held. */
static __always_inline int frag_park(struct __sk_buff *ctx, const struct fwd_frag_key *key,
				     struct fwd_frag_val *v)
{
	struct fwd_frag_park_key pk = { .frag = *key, .n = v->parked };
	struct fwd_frag_frame *f;
	__u32 zero = 0;

	f = bpf_map_lookup_elem(&fwd_frag_scratch, &zero);
	if (!f || v->parked >= FWD_FRAG_PARK_MAX || frag_frame_save(ctx, f) ||
	    bpf_map_update_elem(&fwd_frag_park, &pk, f, BPF_ANY))
		return FWD_CNT_DROP_FRAG_NO_FIRST;
	v->parked++;
	return FWD_CNT_FRAG_PARKED;
}

/*
 * The first fragment of @key came (the skb): re-inject the @n fragments held for it, each a
 * clone of the skb rewritten to it, at this ingress, then make the skb the first fragment
 * again. FWD_OK, or DROP_REWRITE when the skb could not be restored.
 */
static __always_inline int frag_unpark(struct __sk_buff *ctx, const struct fwd_frag_key *key,
				       __u32 n)
{
	struct fwd_frag_park_key pk = { .frag = *key };
	struct fwd_frag_frame *first, *f;
	__u32 zero = 0;

	first = bpf_map_lookup_elem(&fwd_frag_scratch, &zero);
	if (!first || frag_frame_save(ctx, first))
		return FWD_OK; /* the held ones stay until the LRU drops them */
	for (__u32 i = 0; i < FWD_FRAG_PARK_MAX; i++) {
		if (i >= n)
			break;
		pk.n = i;
		f = bpf_map_lookup_elem(&fwd_frag_park, &pk);
		if (!f)
			continue;
		if (frag_frame_write(ctx, f))
			break;
		bpf_clone_redirect(ctx, ctx->ifindex, BPF_F_INGRESS);
		bpf_map_delete_elem(&fwd_frag_park, &pk);
	}
	return frag_frame_write(ctx, first) ? FWD_CNT_DROP_REWRITE : FWD_OK;
}

/* frag_out()'s copy of the frame: the headers, then room for any slice the verifier may
 * think of (offset and length masked to 11 bits each), so that each is provably inside. */
struct fwd_frag_out_buf {
	__u8 b[ETH_HLEN + 20 + 2048 + 2048];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fwd_frag_out_buf);
} fwd_frag_out SEC(".maps");

#define FWD_FRAG_OUT_MAX 8 /* fragments of one packet: a 1,500-byte one into an MTU of 200 */

/*
 * Send the translated IPv4 packet in @ctx (MACs set, TTL decremented, DF clear, IHL 5, no GSO,
 * at most FWD_FRAG_PARK_BYTES) out of @ifindex in fragments of at most @mtu bytes: each a
 * clone of the skb rewritten to it, the last one the skb itself (the caller redirects it:
 * TC_ACT_REDIRECT). A fragment stays a fragment: offsets go on from its own, and the last
 * keeps its MF. -1 when the packet cannot be cut (the caller drops it). Global (verified once,
 * on its own): inlined at each caller, it doubled the verifier's work for `up`.
 */
__attribute__((noinline)) int frag_out(struct __sk_buff *ctx, const struct fwd_pkt *pkt, __u32 mtu,
				       __u32 ifindex)
{
	__u32 len = ctx_full_len(ctx), zero = 0, payload, step, n, first_off;
	struct fwd_frag_out_buf *f;
	struct iphdr ip;

	f = bpf_map_lookup_elem(&fwd_frag_out, &zero);
	if (!f || !pkt || pkt->l3_off != ETH_HLEN || pkt->l4_off != ETH_HLEN + sizeof(ip) ||
	    ctx_is_gso(ctx) || len > FWD_FRAG_PARK_BYTES || len < ETH_HLEN + sizeof(ip) ||
	    mtu < 68 || pkt->l3_len + ETH_HLEN > len)
		return -1;
	if (ctx_load_bytes(ctx, 0, f->b, len & 2047))
		return -1;
	__builtin_memcpy(&ip, f->b + ETH_HLEN, sizeof(ip));
	payload = pkt->l3_len - sizeof(ip);
	step = (mtu - sizeof(ip)) & ~7u; /* every fragment but the last: a multiple of 8 */
	n = (payload + step - 1) / step;
	if (n > FWD_FRAG_OUT_MAX)
		return -1;
	first_off = bpf_ntohs(ip.frag_off) & 0x1fff;
	for (__u32 k = 0; k < FWD_FRAG_OUT_MAX; k++) {
		__u32 at = k * step, part = payload - at;
		bool last = k + 1 == n;
		struct iphdr h = ip;

		if (k >= n)
			break;
		if (part > step)
			part = step;
		h.tot_len = bpf_htons(sizeof(h) + part);
		h.frag_off = bpf_htons((first_off + at / 8) |
				       (last ? bpf_ntohs(ip.frag_off) & 0x2000 : 0x2000));
		h.check = 0;
		h.check = csum_fold32(bpf_csum_diff(NULL, 0, (__be32 *)&h, sizeof(h), 0));
		at &= 2047;
		part &= 2047;
		if (part == 0 || bpf_skb_change_tail(ctx, ETH_HLEN + sizeof(h) + part, 0) ||
		    ctx_store_bytes(ctx, ETH_HLEN, &h, sizeof(h)) ||
		    ctx_store_bytes(ctx, ETH_HLEN + sizeof(h), f->b + ETH_HLEN + sizeof(h) + at,
				    part))
			return -1;
		if (last)
			return 0;
		bpf_clone_redirect(ctx, ifindex, 0);
	}
	return -1;
}

/*
 * After fwd_parse_l4(): may this packet be translated, and what are its ports? FWD_OK for TCP,
 * UDP and ICMP that is no fragment, or the first fragment (whose ports are remembered here,
 * and whose held later fragments go through again), or a later fragment whose first was seen
 * (its ports filled in from it); DROP_NAT_PROTO for another protocol; FRAG_PARKED for a later
 * fragment now held for its first, DROP_FRAG_NO_FIRST for one that cannot be. Global, as
 * frag_out().
 */
__attribute__((noinline)) int frag_nat_ports(struct __sk_buff *ctx, struct fwd_pkt *pkt, __u64 now)
{
	struct fwd_frag_key key = {};
	struct fwd_frag_val *v;

	if (!pkt) /* a global function's pointer may be NULL for the verifier */
		return FWD_CNT_DROP_NAT_PROTO;
	if (pkt->proto != IPPROTO_TCP && pkt->proto != IPPROTO_UDP && pkt->proto != IPPROTO_ICMP)
		return FWD_CNT_DROP_NAT_PROTO;
	if (!fwd_ipv4_is_fragment(pkt))
		return FWD_OK;
	key.saddr = pkt->saddr;
	key.daddr = pkt->daddr;
	key.id = pkt->ip_id;
	key.proto = pkt->proto;
	v = bpf_map_lookup_elem(&fwd_frags, &key);
	if (v && v->expires_ns < now) {
		bpf_map_delete_elem(&fwd_frags, &key); /* another datagram's, long gone */
		v = NULL;
	}
	if (!fwd_ipv4_is_later_fragment(pkt)) {
		struct fwd_frag_val first = {
			.sport = pkt->sport,
			.dport = pkt->dport,
			.icmp_type = pkt->icmp_type,
			.first_seen = 1,
			.expires_ns = now + FWD_FRAG_LIFETIME_NS,
		};
		__u32 held = v && !v->first_seen ? v->parked : 0;

		bpf_map_update_elem(&fwd_frags, &key, &first, BPF_ANY);
		return held ? frag_unpark(ctx, &key, held) : FWD_OK;
	}
	if (!v) {
		struct fwd_frag_val none = { .expires_ns = now + FWD_FRAG_LIFETIME_NS };

		bpf_map_update_elem(&fwd_frags, &key, &none, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&fwd_frags, &key);
		if (!v)
			return FWD_CNT_DROP_FRAG_NO_FIRST;
	}
	if (!v->first_seen)
		return frag_park(ctx, &key, v);
	pkt->sport = v->sport;
	pkt->dport = v->dport;
	pkt->icmp_type = v->icmp_type;
	return FWD_OK;
}

#endif

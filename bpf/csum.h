/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Checksums for header rewrites (SNAT/DNAT), one interface for both hooks.
 * tc: the kernel helpers, which keep CHECKSUM_PARTIAL skbs from local sockets right when told
 * the field is part of the pseudo header (BPF_F_PSEUDO_HDR), and leave a UDP checksum of 0
 * alone (BPF_F_MARK_MANGLED_0). XDP has no skb and no partial checksums: RFC 1624 update of
 * the stored checksum, in the packet, by hand.
 */
#ifndef FWD_BPF_CSUM_H
#define FWD_BPF_CSUM_H

#include "ctx.h"

static __always_inline __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for a 32-bit field changing from @from to @to. */
static __always_inline __u16 csum_replace4(__u16 check, __be32 from, __be32 to)
{
	__u32 sum = (__u16)~check;

	sum += (__u16) ~(from & 0xffff) + (__u16) ~(from >> 16);
	sum += (to & 0xffff) + (to >> 16);
	return csum_fold32(sum);
}

static __always_inline __u16 csum_replace2(__u16 check, __be16 from, __be16 to)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~from + to;
	return csum_fold32(sum);
}

/* Flags for ctx_l4_csum_replace(): the changed field is in the pseudo header (addresses). */
#define FWD_CSUM_PSEUDO 1
/* The L4 checksum is UDP's: 0 means "none" and must stay 0. */
#define FWD_CSUM_UDP 2

#ifdef FWD_CTX_TC

/* Update the 16-bit checksum at @off for a @size (2 or 4) byte field changed @from -> @to. */
static __always_inline int ctx_l3_csum_replace(struct __sk_buff *ctx, __u32 off, __be32 from,
					       __be32 to, __u32 size)
{
	return bpf_l3_csum_replace(ctx, off, from, to, size);
}

/*
 * Fold a checksum difference (bpf_csum_diff() of old and new bytes) into the checksum at @off,
 * for changes inside a payload (the header quoted by an ICMP error).
 */
static __always_inline int ctx_csum_add_diff(struct __sk_buff *ctx, __u32 off, __s64 diff)
{
	return bpf_l4_csum_replace(ctx, off, 0, (__u32)diff, 0);
}

static __always_inline int ctx_l4_csum_replace(struct __sk_buff *ctx, __u32 off, __be32 from,
					       __be32 to, __u32 size, int flags)
{
	__u64 f = size;

	if (flags & FWD_CSUM_PSEUDO)
		f |= BPF_F_PSEUDO_HDR;
	if (flags & FWD_CSUM_UDP)
		f |= BPF_F_MARK_MANGLED_0;
	return bpf_l4_csum_replace(ctx, off, from, to, f);
}

#else /* FWD_CTX_XDP */

/*
 * The checksum at @off, read and written through the helpers: the offsets come from parsing
 * (IP options move them), and the verifier's range of a variable packet offset does not
 * survive the way the callers' code is laid out.
 */
static __always_inline int ctx_csum_update(struct xdp_md *ctx, __u32 off, __be32 from, __be32 to,
					   __u32 size, bool udp)
{
	__u16 check;

	if (bpf_xdp_load_bytes(ctx, off, &check, sizeof(check)))
		return -1;
	if (udp && check == 0)
		return 0; /* a UDP datagram sent without a checksum keeps none */
	check = size == 2 ? csum_replace2(check, (__be16)from, (__be16)to)
			  : csum_replace4(check, from, to);
	if (udp && check == 0)
		check = 0xffff; /* a computed 0 is sent as all ones (RFC 768) */
	return bpf_xdp_store_bytes(ctx, off, &check, sizeof(check)) ? -1 : 0;
}

static __always_inline int ctx_l3_csum_replace(struct xdp_md *ctx, __u32 off, __be32 from,
					       __be32 to, __u32 size)
{
	return ctx_csum_update(ctx, off, from, to, size, false);
}

static __always_inline int ctx_l4_csum_replace(struct xdp_md *ctx, __u32 off, __be32 from,
					       __be32 to, __u32 size, int flags)
{
	return ctx_csum_update(ctx, off, from, to, size, flags & FWD_CSUM_UDP);
}

#endif

#endif

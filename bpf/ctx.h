/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The context layer: one name (__ctx_buff) and one set of accessors and verdicts for tc and XDP,
 * so parsing, NAT and conntrack compile for both hooks. The entry file picks the hook by
 * defining FWD_CTX_XDP or FWD_CTX_TC before including anything from bpf/.
 */
#ifndef FWD_BPF_CTX_H
#define FWD_BPF_CTX_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#if defined(FWD_CTX_XDP) == defined(FWD_CTX_TC)
#error "define exactly one of FWD_CTX_XDP, FWD_CTX_TC before including bpf/ctx.h"
#endif

#ifdef FWD_CTX_XDP

#define __ctx_buff	 xdp_md
#define CTX_ACT_OK	 XDP_PASS
#define CTX_ACT_DROP	 XDP_DROP
#define CTX_ACT_REDIRECT XDP_REDIRECT

/* Bytes of the frame: fwd's XDP programs are loaded without XDP frags, so every frame they see
 * is linear, and its length is the data's (no helper call on the fast path). */
static __always_inline __u32 ctx_full_len(const struct xdp_md *ctx)
{
	return ctx->data_end - ctx->data;
}

/* XDP frames are linear: there is nothing to pull. 0 when @len bytes are readable. */
static __always_inline int ctx_pull(struct xdp_md *ctx, __u32 len)
{
	return (void *)(long)ctx->data + len <= (void *)(long)ctx->data_end ? 0 : -1;
}

/* A tag the NIC stripped would only show through a kfunc; fwd sees tags in the data. */
static __always_inline int ctx_vlan_offloaded(const struct xdp_md *ctx)
{
	return 0;
}

static __always_inline int ctx_is_gso(const struct xdp_md *ctx)
{
	return 0;
}

static __always_inline __u32 ctx_ingress_ifindex(const struct xdp_md *ctx)
{
	return ctx->ingress_ifindex;
}

static __always_inline int ctx_load_bytes(struct xdp_md *ctx, __u32 off, void *to, __u32 len)
{
	return bpf_xdp_load_bytes(ctx, off, to, len);
}

static __always_inline int ctx_store_bytes(struct xdp_md *ctx, __u32 off, const void *from,
					   __u32 len)
{
	return bpf_xdp_store_bytes(ctx, off, (void *)from, len);
}

/* XDP frames carry no slot: their drops count under no namespace (bpf/traffic.h). */
static __always_inline void ctx_set_ns_slot(struct xdp_md *ctx, __u32 slot)
{
}

static __always_inline __u32 ctx_ns_slot(const struct xdp_md *ctx)
{
	return 0;
}

#else /* FWD_CTX_TC */

#define __ctx_buff	 __sk_buff
#define CTX_ACT_OK	 TC_ACT_OK
#define CTX_ACT_DROP	 TC_ACT_SHOT
#define CTX_ACT_REDIRECT TC_ACT_REDIRECT

static __always_inline __u32 ctx_full_len(const struct __sk_buff *ctx)
{
	return ctx->len;
}

/*
 * Make the first @len bytes direct-accessible. Only pulls when the linear part is too short:
 * bpf_skb_pull_data() also unclones, and every TCP segment from a local socket is a clone, so
 * pulling unconditionally would copy headers on the hot path. -1 when the frame is shorter.
 */
static __always_inline int ctx_pull(struct __sk_buff *ctx, __u32 len)
{
	if ((void *)(long)ctx->data + len <= (void *)(long)ctx->data_end)
		return 0;
	if (len > ctx->len)
		return -1;
	return bpf_skb_pull_data(ctx, len) ? -1 : 0;
}

/* veth strips the 802.1Q tag into skb->vlan_tci before tc ingress sees the frame. */
static __always_inline int ctx_vlan_offloaded(const struct __sk_buff *ctx)
{
	return ctx->vlan_present;
}

/* GSO frames may carry an IPv4 total length of 0 (BIG TCP beyond 64 KiB). */
static __always_inline int ctx_is_gso(const struct __sk_buff *ctx)
{
	return ctx->gso_size != 0;
}

/* At tc ingress skb->dev is the receiving device (and BPF_PROG_TEST_RUN can set it). */
static __always_inline __u32 ctx_ingress_ifindex(const struct __sk_buff *ctx)
{
	return ctx->ifindex;
}

/* Copies through the helpers work on non-linear skbs too and need no bounds proof. */
static __always_inline int ctx_load_bytes(const struct __sk_buff *ctx, __u32 off, void *to,
					  __u32 len)
{
	return bpf_skb_load_bytes(ctx, off, to, len);
}

/*
 * Writes go through bpf_skb_store_bytes(), never direct packet access: a program with direct
 * writes gets a prologue that unclones every cloned skb (all TCP from local sockets) before it
 * even looks at it, taxing the switching fast path that writes nothing. The helper unclones
 * only the frames it writes to.
 */
static __always_inline int ctx_store_bytes(struct __sk_buff *ctx, __u32 off, const void *from,
					   __u32 len)
{
	return bpf_skb_store_bytes(ctx, off, from, len, 0);
}

/*
 * The sending namespace's slot (bpf/traffic.h), from the program's start to its verdict, in
 * skb->cb[0]: tc's scratch, which every tc program of fwd sets first (what an earlier layer
 * left there means nothing here).
 */
static __always_inline void ctx_set_ns_slot(struct __sk_buff *ctx, __u32 slot)
{
	ctx->cb[0] = slot;
}

/* One load at a constant offset from ctx, in asm: clang would compute &ctx->cb once and keep
 * it, and the verifier refuses to load through a ctx pointer that was moved. */
static __always_inline __u32 ctx_ns_slot(const struct __sk_buff *ctx)
{
	__u64 slot;

	asm volatile("%[v] = *(u32 *)(%[ctx] + %[off])"
		     : [v] "=r"(slot)
		     : [ctx] "r"(ctx), [off] "i"(__builtin_offsetof(struct __sk_buff, cb)));
	return (__u32)slot;
}

#endif

static __always_inline void *ctx_data(const struct __ctx_buff *ctx)
{
	return (void *)(long)ctx->data;
}

static __always_inline void *ctx_data_end(const struct __ctx_buff *ctx)
{
	return (void *)(long)ctx->data_end;
}

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup sock_addr programs: the host's own connections to the uplink's address and a
 * forwarded port, the job of iptables' FWD-T-OUT under datapath kernel.
 *
 * Such a connection never crosses the uplink (the address is local), so the tc programs never
 * see it. Instead, attached to the root of the cgroup v2 hierarchy, fwd_connect4 and
 * fwd_sendmsg4 point the socket at the forward's target before the kernel routes anything: the
 * socket then talks to the namespace directly, from the host's address on the bridge, and
 * nothing needs translating on the wire. fwd_recvmsg4 and fwd_peername4 give what the socket
 * reads back the uplink's address and port again (see struct fwd_sock_nat).
 *
 * The root cgroup holds every process of the machine, in every network namespace: only sockets
 * of the topology's host namespace (fwd_cfg.netns_cookie) are ever touched.
 *
 * Every program returns 1 on every path: 0 would make connect() or sendmsg() fail with EPERM
 * for every process on the machine. The entry points end in one `return SOCK_ALLOW` and the
 * work is done by functions that return nothing, so no path can return anything else.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "settings.h"
#include "counter_map.h"
#include "forwards.h"
#include "uplink.h"

#define SOCK_ALLOW 1

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* required for socket storage */
	__type(key, int);
	__type(value, struct fwd_sock_nat);
} fwd_sock_nat SEC(".maps");

/* Calls, not frames: a connect() or a datagram rewritten. */
static __always_inline void sock_count(void)
{
	__u32 idx = FWD_CNT_HOST_DNAT;
	struct fwd_counter_val *c = bpf_map_lookup_elem(&fwd_counters, &idx);

	/* Atomic although per CPU: unlike tc, this runs in process context, where another
	 * task can preempt it on the same CPU between the load and the store. */
	if (c)
		__sync_fetch_and_add(&c->packets, 1);
}

/* The slot a target's reverse translation lives in (a hash of the target, masked). */
static __always_inline __u32 sock_slot_of(__be32 addr, __be16 port)
{
	__u32 h = bpf_ntohl(addr) ^ bpf_ntohs(port);

	h ^= h >> 16;
	h ^= h >> 8;
	return h & (FWD_SOCK_NAT_SLOTS - 1);
}

/* Remember that @target_addr:@target_port is what uplink port @uplink_port became. */
static __always_inline void sock_remember(struct bpf_sock_addr *ctx, __be32 target_addr,
					  __be16 target_port, __be16 uplink_port)
{
	union fwd_sock_nat_slot s = {};
	struct fwd_sock_nat *st;
	__u32 i;

	st = bpf_sk_storage_get(&fwd_sock_nat, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st)
		return; /* out of memory: the connection works, replies show the target */
	s.target_addr = target_addr;
	s.target_port = target_port;
	s.uplink_port = uplink_port;
	i = sock_slot_of(target_addr, target_port);
	/* A datagram socket sends to the same forward again and again: write only a change,
	 * so the slot's cache line is not dirtied per datagram. */
	if (*(volatile __u64 *)&st->slot[i].word != s.word)
		*(volatile __u64 *)&st->slot[i].word = s.word;
}

/*
 * connect() or sendmsg() of a socket of the host namespace to the uplink's address and a
 * forwarded port: to the forward's target instead, counted and remembered.
 */
static __always_inline void sock_dnat(struct bpf_sock_addr *ctx)
{
	const struct fwd_forward_val *fv;
	__be32 to_addr;
	__be16 port, to_port;

	/* rodata: without forwards the verifier prunes everything below. */
	if (!(fwd_cfg.flags & FWD_SET_DNAT) || !fwd_cfg.netns_cookie)
		return;
	if (!ctx->user_ip4 || ctx->user_ip4 != uplink_addr())
		return;
	if (ctx->protocol != IPPROTO_TCP && ctx->protocol != IPPROTO_UDP)
		return;
	/* Every other namespace's sockets, the machine's own first of all, stay as they are. */
	if (bpf_get_netns_cookie(ctx) != fwd_cfg.netns_cookie)
		return;
	/* user_port is a 32-bit field holding the port in network order in its low 16 bits. */
	port = (__be16)ctx->user_port;
	fv = forward_lookup(ctx->protocol, ctx->user_ip4, port);
	if (!fv)
		return; /* not forwarded: the host's own service on that port */
	/* Read once: the rewrite and what is remembered must agree even if up replaces it. */
	to_addr = fv->addr;
	to_port = fv->port;
	ctx->user_ip4 = to_addr;
	ctx->user_port = (__u32)to_port;
	sock_count();
	sock_remember(ctx, to_addr, to_port, port);
}

/* The address a socket reads back: a forward's target becomes the uplink's address again. */
static __always_inline void sock_reverse(struct bpf_sock_addr *ctx)
{
	union fwd_sock_nat_slot s;
	struct fwd_sock_nat *st;
	__be32 addr;
	__be16 port;

	/* No netns check needed: only sockets sock_dnat() rewrote have storage at all. */
	st = bpf_sk_storage_get(&fwd_sock_nat, ctx->sk, 0, 0);
	if (!st)
		return;
	addr = ctx->user_ip4;
	port = (__be16)ctx->user_port;
	s.word = *(volatile __u64 *)&st->slot[sock_slot_of(addr, port)].word;
	if (s.target_addr != addr || s.target_port != port || !s.uplink_port)
		return;
	/* The uplink's address as of now: a re-run of up that changed it changes it here too. */
	ctx->user_ip4 = uplink_addr();
	ctx->user_port = (__u32)s.uplink_port;
}

SEC("cgroup/connect4")
int fwd_connect4(struct bpf_sock_addr *ctx)
{
	sock_dnat(ctx);
	return SOCK_ALLOW;
}

/* Unconnected UDP: sendto() with an address; connected sockets went through connect4. */
SEC("cgroup/sendmsg4")
int fwd_sendmsg4(struct bpf_sock_addr *ctx)
{
	sock_dnat(ctx);
	return SOCK_ALLOW;
}

/* UDP: the source address recvfrom()/recvmsg() report. */
SEC("cgroup/recvmsg4")
int fwd_recvmsg4(struct bpf_sock_addr *ctx)
{
	sock_reverse(ctx);
	return SOCK_ALLOW;
}

/* getpeername() of a connected socket (TCP, or UDP after connect). */
SEC("cgroup/getpeername4")
int fwd_peername4(struct bpf_sock_addr *ctx)
{
	sock_reverse(ctx);
	return SOCK_ALLOW;
}

char LICENSE[] SEC("license") = "GPL";

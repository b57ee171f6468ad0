// SPDX-License-Identifier: GPL-2.0
/*
 * The frame generator's program, never attached anywhere: live_frames runs it with
 * BPF_PROG_TEST_RUN and BPF_F_TEST_XDP_LIVE_FRAMES, and its verdict sends the crafted frame for
 * real. XDP_TX leaves by the ingress interface given to the test run (a veth hands it to its
 * peer); with redirect_ifindex set it goes out of that interface instead.
 *
 * Live mode initialises a page's data only once and recycles pages that come back from the
 * stack. A routed path decrements the TTL and NAT rewrites addresses in place, so a recycled
 * frame would come back altered (after 64 trips its TTL is spent). The program therefore writes
 * the headers again from the template every time.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "live_frames.h"

const volatile __u32 redirect_ifindex = 0;
/*
 * The headers as 64-bit words (x86: little-endian, the bytes in memory order). Volatile reads,
 * so the compiler cannot fold the zero initialiser into the stores.
 */
const volatile __u64 template[LF_HDR_WORDS] = {};

SEC("xdp")
int live_frames(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *data_end = (void *)(long)ctx->data_end;

	if (data + LF_HDR_LEN > data_end)
		return XDP_ABORTED;
		/* 42 bytes: five words and a half-word */
#pragma unroll
	for (int i = 0; i < 5; i++)
		*(__u64 *)(data + 8 * i) = template[i];
	*(__u16 *)(data + 40) = (__u16) template[5];
	if (redirect_ifindex)
		return bpf_redirect(redirect_ifindex, 0);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";

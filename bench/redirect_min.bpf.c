// SPDX-License-Identifier: GPL-2.0
/*
 * The least a tc program can do to switch between veths: look up where the ingress interface's
 * frames go and bpf_redirect_peer() them there, nothing parsed, nothing counted. It is not
 * fwd's datapath: bench/hook-choice.sh runs it beside fwd_tc to tell what the hook itself costs
 * (the extra veth receive before any program runs) from what fwd's program adds.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

/* host-side veth ifindex -> host-side veth ifindex of the namespace its frames go to */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32);
} redirect_min_peer SEC(".maps");

SEC("tc")
int redirect_min(struct __sk_buff *skb)
{
	__u32 key = skb->ingress_ifindex;
	__u32 *to = bpf_map_lookup_elem(&redirect_min_peer, &key);

	return to ? bpf_redirect_peer(*to, 0) : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";

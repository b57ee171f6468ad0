// SPDX-License-Identifier: GPL-2.0
/*
 * The least a tc program can do to move frames between veths: look up where the ingress
 * interface's frames go and redirect them there, nothing parsed, nothing counted. It is not
 * fwd's datapath: bench/hook-choice.sh runs it beside fwd_tc to tell what a hook itself costs
 * from what fwd's program adds, in two shapes:
 *   - into the peer namespace of another host-side veth (bpf_redirect_peer), the way fwd
 *     switches between namespaces;
 *   - out of another veth of the host (bpf_redirect to its egress, MACs rewritten), the way
 *     fwd's SNAT and DNAT leave by the uplink: two veths crossed instead of one.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct redirect_min_to {
	__u32 ifindex; /* host-side veth to redirect to */
	__u32 peer;    /* 1: into its peer (bpf_redirect_peer); 0: out of it, MACs below */
	__u8 dmac[6];  /* with peer == 0: the next hop's MAC */
	__u8 smac[6];  /* with peer == 0: @ifindex's MAC */
};

/* host-side veth ifindex -> where its frames go */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct redirect_min_to);
} redirect_min_peer SEC(".maps");

SEC("tc")
int redirect_min(struct __sk_buff *skb)
{
	__u32 key = skb->ingress_ifindex;
	struct redirect_min_to *to = bpf_map_lookup_elem(&redirect_min_peer, &key);

	if (!to)
		return TC_ACT_OK;
	if (to->peer)
		return bpf_redirect_peer(to->ifindex, 0);
	/* dmac and smac are adjacent: the Ethernet header's first 12 bytes in one store */
	if (bpf_skb_store_bytes(skb, 0, to->dmac, 12, 0))
		return TC_ACT_SHOT;
	return bpf_redirect(to->ifindex, 0);
}

char LICENSE[] SEC("license") = "GPL";

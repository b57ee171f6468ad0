// SPDX-License-Identifier: GPL-2.0
/*
 * The receiver's counter: counts and drops UDP datagrams (IPv4 or IPv6) to a port range. The XDP
 * program is the counter proper; the tc ingress twin counts skbs that never pass the veth's XDP
 * hook (a bpf_redirect_peer() from the host side delivers straight to ingress), so a datapath
 * cannot make its packets invisible by the way it delivers them. Whatever does not match passes
 * untouched.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xdp_count.h"

/* Destination ports counted, host order, inclusive; set by the loader before load. */
const volatile __u16 port_lo = 0;
const volatile __u16 port_hi = 65535;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XC_NR);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline int is_bench_udp(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	struct udphdr *udp;
	__u16 port;

	if ((void *)(eth + 1) > data_end)
		return 0;
	/* The generators never send options, extension headers or fragments; anything else is
	 * not ours. */
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		if ((void *)(ip + 1) > data_end || ip->ihl != 5 || ip->protocol != IPPROTO_UDP ||
		    (ip->frag_off & bpf_htons(0x3fff)))
			return 0;
		udp = (void *)(ip + 1);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_UDP)
			return 0;
		udp = (void *)(ip6 + 1);
	} else {
		return 0;
	}
	if ((void *)(udp + 1) > data_end)
		return 0;
	port = bpf_ntohs(udp->dest);
	return port >= port_lo && port <= port_hi;
}

static __always_inline void count(__u32 slot, __u64 bytes)
{
	__u32 key = slot;
	__u64 *v = bpf_map_lookup_elem(&counters, &key);

	if (v)
		*v += 1;
	key = XC_BYTES;
	v = bpf_map_lookup_elem(&counters, &key);
	if (v)
		*v += bytes;
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (!is_bench_udp(data, data_end))
		return XDP_PASS;
	count(XC_XDP_PACKETS, data_end - data);
	return XDP_DROP;
}

SEC("tc")
int tc_count(struct __sk_buff *skb)
{
	/* the longer of the two families' headers, or the whole frame when it is shorter (an
	 * IPv4 datagram of 18 bytes is) */
	__u32 hdrs = sizeof(struct ethhdr) + sizeof(struct ipv6hdr) + sizeof(struct udphdr);

	if (hdrs > skb->len)
		hdrs = skb->len;

	/* Headers of a GRO'd or paged skb may sit outside the linear part. */
	if ((void *)(long)skb->data + hdrs > (void *)(long)skb->data_end &&
	    bpf_skb_pull_data(skb, hdrs))
		return TC_ACT_OK;
	if (!is_bench_udp((void *)(long)skb->data, (void *)(long)skb->data_end))
		return TC_ACT_OK;
	/* A GRO'd UDP skb carries several datagrams; count them all. */
	count(XC_TC_PACKETS, skb->len);
	if (skb->gso_segs > 1) {
		__u32 key = XC_TC_PACKETS;
		__u64 *v = bpf_map_lookup_elem(&counters, &key);

		if (v)
			*v += skb->gso_segs - 1;
	}
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/*
 * Packet fixtures for the switching programs, run through BPF_PROG_TEST_RUN as one table for
 * both hooks (tc: fwd_tc_ingress, XDP: fwd_xdp_ingress). Per case: the frame, the verdict, the
 * redirect target, the frame that comes out, and the one counter that must move (by one packet
 * and the frame's length) while every other counter stays put.
 *
 *   "red"  192.168.15.1  02:00:00:00:00:01  host veth ifindex 101
 *   "blue" 192.168.15.2  02:00:00:00:00:02  host veth ifindex 102
 *   "self" 192.168.15.9  02:00:00:00:00:09  host veth ifindex 1: the test run's own device (lo),
 *                                           so frames to it are hairpins
 *   bridge vnet0 192.168.15.5 02:00:00:00:00:05
 *
 * and the same in IPv6: fd00:15::1 (red), ::2 (blue), ::9 (self), ::5 (the gateway).
 *
 * Every frame comes in by ifindex 1, which fwd_ports gives red's identity: the frames are
 * red's own (red's MAC and address) unless a case forges them (anti-spoofing, bpf/spoof.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fwd_kern_user.h"
#include "fwd_loader.h" /* loader_counters_read_fd(): the loader's own way of reading them */
#include "fwd_tc.skel.h"
#include "fwd_xdp.skel.h"

#include "check.h"
#include "pkt.h"

/* clang-format off */
#define MAC(last) { 0x02, 0, 0, 0, 0, (last) }
/* clang-format on */
#define IP(last) (0xc0a80f00u | (last)) /* 192.168.15.last, host order */

static const __u8 mac_red[6] = MAC(1), mac_blue[6] = MAC(2), mac_self[6] = MAC(9),
		  mac_bridge[6] = MAC(5), mac_other[6] = MAC(0x77),
		  mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		  mac_mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };

enum outcome { REDIRECT, PASS, DROP, REFUSED /* the kernel refuses to run it at all */ };

/* An IPv6 fixture frame, from red unless it says otherwise; zero fields take the defaults in
 * build_frame6(). */
#define V6_UNSPEC    0xff /* as an address: :: */
#define V6_ALLNODES  0xfe /* as an address: ff02::1 */
#define V6_LAN	     0xfd /* as an address: fd77::2, outside the prefix */
#define V6_LINKLOCAL 0xfc /* as an address: fe80::1 */
struct frame6_spec {
	const __u8 *dst;   /* default: blue */
	const __u8 *src;   /* default: red */
	__u8 saddr, daddr; /* fd00:15::<this>, or a V6_* above; default red's, blue's */
	__u8 proto;	   /* upper layer, default UDP; 58: ICMPv6 */
	__u8 icmp_type;	   /* ICMPv6: default echo request (128) */
	__u8 nd_target;	   /* neighbour solicitation/advertisement: fd00:15::<this>, default
			    * the source's */
	const __u8 *ext;   /* extension header types, in order (8 bytes each) */
	__u8 n_ext;
	__u16 frag_off; /* the fragment header's offset field (host order) */
	__u8 version;	/* default 6 */
	__u8 hop_limit; /* default 64 */
	int plen;	/* >0: this payload length */
	__u16 payload;	/* upper-layer payload bytes */
	__u16 pad;	/* bytes of Ethernet padding after the packet */
	int truncate;	/* >0: cut the frame to this many bytes */
	__u16 vlan;	/* an 802.1Q tag with this ethertype */
};

/* What a fixture frame looks like; zero fields take the defaults in build_frame(). The
 * frames are right (pkt.h: every checksum), except for what the fields make wrong. */
struct frame_spec {
	const __u8 *dst;  /* default: blue */
	const __u8 *src;  /* default: red (the sender's own) */
	__u32 saddr;	  /* host order; default red's; ARP: the sender's address */
	const __u8 *sha;  /* ARP: the sender's MAC; default red's */
	__u16 ethertype;  /* host order; default ETH_P_IP */
	__u16 vlan_inner; /* with an 802.1Q/AD ethertype: the inner ethertype */
	__u8 version;	  /* default 4 */
	__u8 ihl;	  /* default 5 (+ options) */
	__u8 opt_len;	  /* bytes of IPv4 options (multiple of 4) */
	__u8 proto;	  /* default TCP */
	__u32 daddr;	  /* host order; default blue */
	int tot_len;	  /* 0: computed; else this value */
	__u16 payload;	  /* L4 payload bytes */
	__u16 pad;	  /* bytes of Ethernet padding after the IP packet */
	int truncate;	  /* >0: cut the frame to this many bytes */
	const __u8 *opts; /* the first bytes of the options (NOPs after them), opt_len in all */
	__u8 opts_n;	  /* bytes at opts */
	bool bad_csum;	  /* the IPv4 header checksum off by one */
	__u8 tcp_doff;	  /* TCP: data offset in 32-bit words, 0: 5; 0xff means 0 */
	int udp_len;	  /* UDP: >0 this length field (checksum then made right for it) */
	__u8 ttl;	  /* default 64 */
};

struct test_case {
	const char *name;
	struct frame_spec in;
	enum outcome outcome;
	__u32 counter;	      /* for REDIRECT: ignored (the hook's redirect counter) */
	__u32 target_ifindex; /* for REDIRECT */
	/* The tc test run (6.18) refuses an IPv4 ethertype without 20 bytes of IPv4 header:
	 * -EINVAL before the program runs. The XDP run covers those frames instead. */
	bool tc_refused;
	const struct frame6_spec *v6; /* an IPv6 frame: this instead of .in */
};

#define V6(...)                                                                                    \
	.v6 = &(const struct frame6_spec)                                                          \
	{                                                                                          \
		__VA_ARGS__                                                                        \
	}
static const __u8 ext_hbh[] = { 0 }, ext_dst[] = { 60 }, ext_frag[] = { 44 },
		  ext_hbh_dst[] = { 0, 60 }, ext_seven[] = { 60, 60, 60, 60, 60, 60, 60 },
		  ext_six[] = { 0, 60, 60, 60, 60, 60 },
		  mac_mcast6[6] = { 0x33, 0x33, 0xff, 0x00, 0x00, 0x02 },
		  mac_allnodes[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };

/* clang-format off */
static const struct test_case cases[] = {
	/* namespace to namespace: straight into the target namespace */
	{ "tcp red->blue redirected", { .proto = IPPROTO_TCP, .payload = 100 },
	  .outcome = REDIRECT, .target_ifindex = 102 },
	{ "udp blue->red redirected", { .dst = mac_red, .daddr = IP(1), .proto = IPPROTO_UDP, .payload = 32 },
	  .outcome = REDIRECT, .target_ifindex = 101 },
	{ "icmp echo red->blue redirected", { .proto = IPPROTO_ICMP, .payload = 56 },
	  .outcome = REDIRECT, .target_ifindex = 102 },
	{ "full-size tcp frame redirected", { .proto = IPPROTO_TCP, .payload = 1460 },
	  .outcome = REDIRECT, .target_ifindex = 102 },
	{ "ip options (ihl 6) redirected", { .ihl = 6, .opt_len = 4, .proto = IPPROTO_UDP, .payload = 8 },
	  .outcome = REDIRECT, .target_ifindex = 102 },
	{ "ethernet padding after a short packet redirected", { .proto = IPPROTO_ICMP, .pad = 18 },
	  .outcome = REDIRECT, .target_ifindex = 102 },
	/* everything else: to the bridge and the host */
	{ "unknown destination address passed", { .dst = mac_other, .daddr = IP(77) },
	  .outcome = PASS, .counter = FWD_CNT_PASS_NO_ENDPOINT },
	{ "gateway address passed", { .dst = mac_bridge, .daddr = IP(5) },
	  .outcome = PASS, .counter = FWD_CNT_PASS_NO_ENDPOINT },
	{ "namespace address via the bridge's MAC passed (host routes)", { .dst = mac_bridge },
	  .outcome = PASS, .counter = FWD_CNT_PASS_MAC_MISMATCH },
	{ "namespace address, another namespace's MAC passed", { .dst = mac_red },
	  .outcome = PASS, .counter = FWD_CNT_PASS_MAC_MISMATCH },
	{ "hairpin to the ingress interface passed", { .dst = mac_self, .daddr = IP(9) },
	  .outcome = PASS, .counter = FWD_CNT_PASS_HAIRPIN },
	{ "arp request (broadcast) passed", { .dst = mac_bcast, .ethertype = ETH_P_ARP },
	  .outcome = PASS, .counter = FWD_CNT_PASS_MULTICAST },
	{ "arp reply (unicast) passed", { .ethertype = ETH_P_ARP },
	  .outcome = PASS, .counter = FWD_CNT_PASS_NOT_IPV4 },
	{ "ipv4 broadcast passed", { .dst = mac_bcast, .daddr = IP(255) },
	  .outcome = PASS, .counter = FWD_CNT_PASS_MULTICAST },
	{ "ipv4 multicast passed", { .dst = mac_mcast, .daddr = 0xe00000fbu },
	  .outcome = PASS, .counter = FWD_CNT_PASS_MULTICAST },
	{ "802.1Q tagged ipv4 to a namespace passed", { .ethertype = ETH_P_8021Q, .vlan_inner = ETH_P_IP },
	  .outcome = PASS, .counter = FWD_CNT_PASS_VLAN },
	{ "802.1ad tagged ipv4 to a namespace passed", { .ethertype = ETH_P_8021AD, .vlan_inner = ETH_P_IP },
	  .outcome = PASS, .counter = FWD_CNT_PASS_VLAN },
	/* anti-spoofing: red sends as red or not at all */
	{ "another namespace's source MAC dropped", { .src = mac_blue },
	  .outcome = DROP, .counter = FWD_CNT_DROP_SPOOF_MAC },
	{ "broadcast with another source MAC dropped", { .dst = mac_bcast, .src = mac_blue, .daddr = IP(255) },
	  .outcome = DROP, .counter = FWD_CNT_DROP_SPOOF_MAC },
	{ "blue's source address dropped", { .saddr = IP(2) },
	  .outcome = DROP, .counter = FWD_CNT_DROP_SPOOF_IPV4 },
	{ "an unused address of the subnet as source dropped", { .saddr = IP(77) },
	  .outcome = DROP, .counter = FWD_CNT_DROP_SPOOF_IPV4 },
	{ "the gateway's address as source dropped", { .saddr = IP(5) },
	  .outcome = DROP, .counter = FWD_CNT_DROP_SPOOF_IPV4 },
	{ "a source outside the subnet dropped", { .saddr = 0x0a090909u /* 10.9.9.9 */ },
	  .outcome = DROP, .counter = FWD_CNT_DROP_SPOOF_IPV4 },
	{ "arp with blue's address as sender dropped", { .dst = mac_bcast, .ethertype = ETH_P_ARP, .saddr = IP(2) },
	  .outcome = DROP, .counter = FWD_CNT_DROP_SPOOF_ARP },
	{ "arp with another sender MAC dropped", { .ethertype = ETH_P_ARP, .sha = mac_blue },
	  .outcome = DROP, .counter = FWD_CNT_DROP_SPOOF_ARP },
	{ "arp probe (sender 0.0.0.0) passed", { .dst = mac_bcast, .ethertype = ETH_P_ARP, .saddr = 0xffffffffu /* means 0 */ },
	  .outcome = PASS, .counter = FWD_CNT_PASS_MULTICAST },
	/* malformed: never forwarded, dropped with a reason */
	{ "truncated ethernet header refused by the kernel", { .truncate = 10 },
	  .outcome = REFUSED },
	{ "ethernet header only, no ipv4 header, dropped", { .truncate = ETH_HLEN },
	  .outcome = DROP, .counter = FWD_CNT_DROP_TRUNC_IPV4, .tc_refused = true },
	{ "ipv4 header cut at 19 bytes dropped", { .truncate = ETH_HLEN + 19 },
	  .outcome = DROP, .counter = FWD_CNT_DROP_TRUNC_IPV4, .tc_refused = true },
	{ "ihl 4 dropped", { .ihl = 4 },
	  .outcome = DROP, .counter = FWD_CNT_DROP_BAD_IHL },
	{ "ihl 0 dropped", { .ihl = 0xff /* means 0 */ },
	  .outcome = DROP, .counter = FWD_CNT_DROP_BAD_IHL },
	{ "version 6 in an ipv4 ethertype dropped", { .version = 6 },
	  .outcome = DROP, .counter = FWD_CNT_DROP_BAD_VERSION },
	{ "ihl 15 beyond the frame dropped", { .ihl = 15, .truncate = ETH_HLEN + 40 },
	  .outcome = DROP, .counter = FWD_CNT_DROP_TRUNC_IPV4 },
	{ "total length beyond the frame dropped", { .tot_len = 1000, .payload = 20 },
	  .outcome = DROP, .counter = FWD_CNT_DROP_BAD_TOTLEN },
	{ "total length below the header dropped", { .tot_len = 16 },
	  .outcome = DROP, .counter = FWD_CNT_DROP_BAD_TOTLEN },
	{ "ipv4 header checksum wrong dropped", { .bad_csum = true },
	  .outcome = DROP, .counter = FWD_CNT_DROP_BAD_IPV4_CSUM },
	{ "ipv4 header checksum wrong, with options, dropped", { .ihl = 7, .opt_len = 8, .bad_csum = true },
	  .outcome = DROP, .counter = FWD_CNT_DROP_BAD_IPV4_CSUM },
	{ "ip option length 0 dropped", { .ihl = 6, .opt_len = 4, .opts = (const __u8[]){ 7, 0 }, .opts_n = 2 },
	  .outcome = DROP, .counter = FWD_CNT_DROP_BAD_IP_OPTIONS },
	{ "ip option length 1 dropped", { .ihl = 6, .opt_len = 4, .opts = (const __u8[]){ 1, 68, 1 }, .opts_n = 3 },
	  .outcome = DROP, .counter = FWD_CNT_DROP_BAD_IP_OPTIONS },
	{ "ip option length past the header dropped", { .ihl = 6, .opt_len = 4, .opts = (const __u8[]){ 7, 7, 4 }, .opts_n = 3 },
	  .outcome = DROP, .counter = FWD_CNT_DROP_BAD_IP_OPTIONS },
	{ "ip option without its length byte dropped", { .ihl = 6, .opt_len = 4, .opts = (const __u8[]){ 1, 1, 1, 7 }, .opts_n = 4 },
	  .outcome = DROP, .counter = FWD_CNT_DROP_BAD_IP_OPTIONS },
	{ "loose source route (as accept_source_route 0) dropped", { .ihl = 7, .opt_len = 8, .opts = (const __u8[]){ 131, 7, 4, 10, 0, 0, 1 }, .opts_n = 7 },
	  .outcome = DROP, .counter = FWD_CNT_DROP_BAD_IP_OPTIONS },
	{ "record route option, end of list, padding redirected", { .ihl = 8, .opt_len = 12, .opts = (const __u8[]){ 7, 7, 4, 0, 0, 0, 0, 0, 7 }, .opts_n = 9, .proto = IPPROTO_UDP },
	  .outcome = REDIRECT, .target_ifindex = 102 },
	{ "40 bytes of options, a timestamp filling them, redirected", { .ihl = 15, .opt_len = 40, .opts = (const __u8[]){ 68, 40, 5, 0 }, .opts_n = 4, .proto = IPPROTO_UDP },
	  .outcome = REDIRECT, .target_ifindex = 102 },
	{ "tcp data offset 0 dropped", { .tcp_doff = 0xff },
	  .outcome = DROP, .counter = FWD_CNT_DROP_BAD_L4_LEN },
	{ "tcp data offset 4 dropped", { .tcp_doff = 4 },
	  .outcome = DROP, .counter = FWD_CNT_DROP_BAD_L4_LEN },
	{ "tcp data offset 15 past the packet dropped", { .tcp_doff = 15, .payload = 20 },
	  .outcome = DROP, .counter = FWD_CNT_DROP_BAD_L4_LEN },
	{ "tcp data offset 15 with 40 bytes of options redirected", { .tcp_doff = 15, .payload = 40 },
	  .outcome = REDIRECT, .target_ifindex = 102 },
	{ "tcp header cut at 19 bytes dropped", { .tot_len = 20 + 19, .truncate = ETH_HLEN + 20 + 19 },
	  .outcome = DROP, .counter = FWD_CNT_DROP_TRUNC_L4 },
	{ "udp length 7 dropped", { .proto = IPPROTO_UDP, .payload = 8, .udp_len = 7 },
	  .outcome = DROP, .counter = FWD_CNT_DROP_BAD_L4_LEN },
	{ "udp length past the packet dropped", { .proto = IPPROTO_UDP, .payload = 8, .udp_len = 17 },
	  .outcome = DROP, .counter = FWD_CNT_DROP_BAD_L4_LEN },
	{ "udp length below the packet (trailing bytes) redirected", { .proto = IPPROTO_UDP, .payload = 8, .udp_len = 12 },
	  .outcome = REDIRECT, .target_ifindex = 102 },
	{ "udp header cut at 7 bytes dropped", { .proto = IPPROTO_UDP, .tot_len = 20 + 7, .truncate = ETH_HLEN + 20 + 7 },
	  .outcome = DROP, .counter = FWD_CNT_DROP_TRUNC_L4 },
	{ "icmp header cut at 7 bytes dropped", { .proto = IPPROTO_ICMP, .tot_len = 20 + 7, .truncate = ETH_HLEN + 20 + 7 },
	  .outcome = DROP, .counter = FWD_CNT_DROP_TRUNC_L4 },
	{ "ttl 1 between namespaces redirected (the bridge does not route)", { .ttl = 1 },
	  .outcome = REDIRECT, .target_ifindex = 102 },

	/* IPv6 between namespaces: switched as IPv4 is */
	{ "ipv6 udp red->blue redirected", V6(.payload = 32), .outcome = REDIRECT, .target_ifindex = 102 },
	{ "ipv6 tcp red->blue, a full-size segment, redirected", V6(.proto = IPPROTO_TCP, .payload = 1440),
	  .outcome = REDIRECT, .target_ifindex = 102 },
	{ "ipv6 icmpv6 echo red->blue redirected", V6(.proto = 58, .payload = 56), .outcome = REDIRECT, .target_ifindex = 102 },
	{ "ipv6 with hop-by-hop and destination options redirected", V6(.ext = ext_hbh_dst, .n_ext = 2),
	  .outcome = REDIRECT, .target_ifindex = 102 },
	{ "ipv6 six extension headers (the most read) redirected", V6(.ext = ext_six, .n_ext = 6),
	  .outcome = REDIRECT, .target_ifindex = 102 },
	{ "ipv6 first fragment redirected", V6(.ext = ext_frag, .n_ext = 1, .frag_off = 1 /* M */),
	  .outcome = REDIRECT, .target_ifindex = 102 },
	{ "ipv6 later fragment redirected", V6(.ext = ext_frag, .n_ext = 1, .frag_off = 0x00a8),
	  .outcome = REDIRECT, .target_ifindex = 102 },
	{ "ipv6 hop limit 1 redirected (the bridge does not route)", V6(.hop_limit = 1),
	  .outcome = REDIRECT, .target_ifindex = 102 },
	{ "ipv6 ethernet padding after the packet redirected", V6(.proto = 58, .pad = 10),
	  .outcome = REDIRECT, .target_ifindex = 102 },
	{ "ipv6 neighbour advertisement for red's own address to blue redirected", V6(.proto = 58, .icmp_type = 136),
	  .outcome = REDIRECT, .target_ifindex = 102 },
	/* IPv6 to the bridge and the host */
	{ "ipv6 to the gateway passed", V6(.dst = mac_bridge, .daddr = 5), .outcome = PASS, .counter = FWD_CNT_PASS_NO_ENDPOINT },
	{ "ipv6 out of the prefix passed (ip6tables masquerades)", V6(.dst = mac_bridge, .daddr = V6_LAN),
	  .outcome = PASS, .counter = FWD_CNT_PASS_NO_ENDPOINT },
	{ "ipv6 namespace address via the bridge's MAC passed", V6(.dst = mac_bridge),
	  .outcome = PASS, .counter = FWD_CNT_PASS_MAC_MISMATCH },
	{ "ipv6 hairpin to the ingress interface passed", V6(.dst = mac_self, .daddr = 9),
	  .outcome = PASS, .counter = FWD_CNT_PASS_HAIRPIN },
	{ "ipv6 neighbour solicitation (multicast) passed", V6(.dst = mac_mcast6, .daddr = V6_ALLNODES, .proto = 58, .icmp_type = 135, .nd_target = 2, .hop_limit = 255),
	  .outcome = PASS, .counter = FWD_CNT_PASS_MULTICAST },
	{ "ipv6 neighbour advertisement to the gateway passed", V6(.dst = mac_bridge, .daddr = 5, .proto = 58, .icmp_type = 136, .hop_limit = 255),
	  .outcome = PASS, .counter = FWD_CNT_PASS_NO_ENDPOINT },
	{ "802.1Q tagged ipv6 passed", V6(.vlan = ETH_P_IPV6), .outcome = PASS, .counter = FWD_CNT_PASS_VLAN },
	/* IPv6 anti-spoofing: red sends as red */
	{ "ipv6 with blue's source address dropped", V6(.saddr = 2), .outcome = DROP, .counter = FWD_CNT_DROP_SPOOF_IPV6 },
	{ "ipv6 with the gateway's source address dropped", V6(.saddr = 5), .outcome = DROP, .counter = FWD_CNT_DROP_SPOOF_IPV6 },
	{ "ipv6 from a link-local address dropped", V6(.saddr = V6_LINKLOCAL), .outcome = DROP, .counter = FWD_CNT_DROP_SPOOF_IPV6 },
	{ "ipv6 from :: (not MLD) dropped", V6(.saddr = V6_UNSPEC), .outcome = DROP, .counter = FWD_CNT_DROP_SPOOF_IPV6 },
	{ "an MLD report from :: (no link-local address) dropped as MLD",
	  V6(.dst = mac_allnodes, .saddr = V6_UNSPEC, .daddr = V6_ALLNODES, .ext = ext_hbh, .n_ext = 1, .proto = 58, .icmp_type = 143, .hop_limit = 1),
	  .outcome = DROP, .counter = FWD_CNT_DROP_MLD },
	{ "ipv6 with another source MAC dropped", V6(.src = mac_blue), .outcome = DROP, .counter = FWD_CNT_DROP_SPOOF_MAC },
	{ "neighbour advertisement for blue's address dropped", V6(.proto = 58, .icmp_type = 136, .nd_target = 2),
	  .outcome = DROP, .counter = FWD_CNT_DROP_SPOOF_ND },
	{ "neighbour advertisement for the gateway's address, to all nodes, dropped",
	  V6(.dst = mac_allnodes, .daddr = V6_ALLNODES, .proto = 58, .icmp_type = 136, .nd_target = 5, .hop_limit = 255),
	  .outcome = DROP, .counter = FWD_CNT_DROP_SPOOF_ND },
	{ "neighbour advertisement hidden behind a destination options header dropped",
	  V6(.ext = ext_dst, .n_ext = 1, .proto = 58, .icmp_type = 136, .nd_target = 5),
	  .outcome = DROP, .counter = FWD_CNT_DROP_SPOOF_ND },
	{ "an MLD query from a namespace dropped", V6(.dst = mac_allnodes, .daddr = V6_ALLNODES, .proto = 58, .icmp_type = 130, .hop_limit = 1),
	  .outcome = DROP, .counter = FWD_CNT_DROP_MLD },
	{ "router advertisement from a namespace dropped",
	  V6(.dst = mac_allnodes, .daddr = V6_ALLNODES, .proto = 58, .icmp_type = 134, .hop_limit = 255),
	  .outcome = DROP, .counter = FWD_CNT_DROP_ND_ROUTER },
	{ "redirect from a namespace dropped", V6(.proto = 58, .icmp_type = 137, .hop_limit = 255),
	  .outcome = DROP, .counter = FWD_CNT_DROP_ND_ROUTER },
	/* IPv6 malformed */
	{ "ipv6 header cut at 39 bytes dropped", V6(.truncate = ETH_HLEN + 39),
	  .outcome = DROP, .counter = FWD_CNT_DROP_TRUNC_IPV6, .tc_refused = true },
	{ "version 4 in an ipv6 ethertype dropped", V6(.version = 4), .outcome = DROP, .counter = FWD_CNT_DROP_BAD_VERSION },
	{ "ipv6 payload length past the frame dropped", V6(.plen = 200, .payload = 8),
	  .outcome = DROP, .counter = FWD_CNT_DROP_TRUNC_IPV6 },
	{ "ipv6 extension header past the payload dropped", V6(.ext = ext_hbh, .n_ext = 1, .proto = 59 /* none */, .plen = 6),
	  .outcome = DROP, .counter = FWD_CNT_DROP_TRUNC_IPV6 },
	{ "ipv6 seven extension headers dropped", V6(.ext = ext_seven, .n_ext = 7),
	  .outcome = DROP, .counter = FWD_CNT_DROP_IPV6_EXT },
	{ "ipv6 tcp header cut at 19 bytes dropped", V6(.proto = IPPROTO_TCP, .plen = 19),
	  .outcome = DROP, .counter = FWD_CNT_DROP_TRUNC_L4 },
	{ "ipv6 udp header cut at 7 bytes dropped", V6(.proto = IPPROTO_UDP, .plen = 7),
	  .outcome = DROP, .counter = FWD_CNT_DROP_TRUNC_L4 },
	{ "icmpv6 header cut at 4 bytes dropped", V6(.proto = 58, .plen = 4), .outcome = DROP, .counter = FWD_CNT_DROP_TRUNC_L4 },
	{ "neighbour advertisement cut before its target dropped", V6(.proto = 58, .icmp_type = 136, .plen = 20),
	  .outcome = DROP, .counter = FWD_CNT_DROP_TRUNC_L4 },
};
/* clang-format on */

/* The frame @s describes, into @f; its length. */
static size_t build_frame(const struct frame_spec *s, struct pkt *f)
{
	__u16 ethertype = s->ethertype ? s->ethertype : ETH_P_IP, l3type = ethertype;
	__u8 proto = s->proto ? s->proto : IPPROTO_TCP;
	struct iphdr *iph;
	__u8 *tcp = NULL, *udp = NULL;

	__u32 saddr = s->saddr == 0xffffffffu ? 0 : s->saddr ? s->saddr : IP(1);

	pkt_init(f);
	pkt_eth(f, s->dst ? s->dst : mac_blue, s->src ? s->src : mac_red, ethertype);
	if (s->vlan_inner) {
		pkt_vlan(f, 42, s->vlan_inner);
		l3type = s->vlan_inner;
	}
	if (l3type == ETH_P_ARP) {
		pkt_arp(f, s->dst == mac_bcast ? 1 : 2, s->sha ? s->sha : mac_red, saddr, IP(2));
		pkt_put(f, 18); /* padded to 60 bytes like a NIC would */
		return f->len;
	}
	if (l3type == ETH_P_IPV6) {
		__u8 *ip6 = pkt_put(f, 40 + 8); /* a header and 8 bytes of UDP, all zero */

		ip6[0] = 0x60;
		ip6[6] = IPPROTO_UDP;
		ip6[7] = 64;
		return f->len;
	}

	iph = pkt_ipv4(f, &(struct pkt_ipv4){ .saddr = saddr,
					      .daddr = s->daddr ? s->daddr : IP(2),
					      .proto = proto,
					      .ttl = s->ttl,
					      .opt_len = s->opt_len });
	if (s->opts)
		memcpy(iph + 1, s->opts, s->opts_n);
	if (proto == IPPROTO_TCP)
		tcp = pkt_tcp(f, 40000, 5201, 0, 0x18 /* PSH|ACK */, 0);
	else if (proto == IPPROTO_UDP)
		udp = pkt_udp(f, 40000, 53);
	else
		pkt_icmp(f, 8 /* echo request */, 0, 0, 0);
	pkt_put(f, s->payload);
	pkt_finish(f, 0);
	if (tcp && s->tcp_doff) {
		tcp[12] = (s->tcp_doff == 0xff ? 0 : s->tcp_doff) << 4;
		pkt_finish(f, 0); /* its checksum right again */
	}
	if (udp && s->udp_len > 0) {
		*(__be16 *)(udp + 4) = htons(s->udp_len);
		*(__be16 *)(udp + 6) = 0; /* "no checksum": nothing to make right */
	}

	/* What makes the frame wrong, with a header checksum that is right for it. */
	if (s->version)
		iph->version = s->version;
	if (s->ihl)
		iph->ihl = s->ihl == 0xff ? 0 : s->ihl;
	if (s->tot_len > 0)
		iph->tot_len = htons(s->tot_len);
	pkt_ipv4_csum(f);
	if (s->bad_csum)
		iph->check ^= htons(1);
	pkt_put(f, s->pad);
	if (s->truncate > 0)
		f->len = s->truncate;
	return f->len;
}

/* fd00:15::@which, or the V6_* address it names, into @out. */
static void addr6_of(__u8 which, __u8 out[16])
{
	memset(out, 0, 16);
	switch (which) {
	case V6_UNSPEC: return;
	case V6_ALLNODES: out[0] = 0xff, out[1] = 0x02, out[15] = 1; return;
	case V6_LAN: out[0] = 0xfd, out[1] = 0x77, out[15] = 2; return;
	case V6_LINKLOCAL: out[0] = 0xfe, out[1] = 0x80, out[15] = 1; return;
	default: out[0] = 0xfd, out[3] = 0x15, out[15] = which;
	}
}

/* The IPv6 frame @s describes, into @f; its length. */
static size_t build_frame6(const struct frame6_spec *s, struct pkt *f)
{
	__u8 proto = s->proto ? s->proto : IPPROTO_UDP, saddr[16], daddr[16], target[16];
	struct ipv6hdr *ip6;

	pkt_init(f);
	pkt_eth(f, s->dst ? s->dst : mac_blue, s->src ? s->src : mac_red,
		s->vlan ? ETH_P_8021Q : ETH_P_IPV6);
	if (s->vlan)
		pkt_vlan(f, 42, s->vlan);
	addr6_of(s->saddr ? s->saddr : 1, saddr);
	addr6_of(s->daddr ? s->daddr : 2, daddr);
	ip6 = pkt_ipv6(f, &(struct pkt_ipv6){ .saddr = saddr,
					      .daddr = daddr,
					      .nexthdr = s->n_ext ? s->ext[0] : proto,
					      .hop_limit = s->hop_limit });
	for (int i = 0; i < s->n_ext; i++)
		pkt_ipv6_ext(f, s->ext[i], i + 1 < s->n_ext ? s->ext[i + 1] : proto, 8,
			     s->frag_off);
	if (proto == IPPROTO_TCP) {
		pkt_tcp(f, 40000, 5201, 0, 0x18 /* PSH|ACK */, 0);
	} else if (proto == IPPROTO_UDP) {
		pkt_udp(f, 40000, 53);
	} else if (proto == 58) {
		__u8 type = s->icmp_type ? s->icmp_type : 128 /* echo request */;
		__u8 *icmp = pkt_icmp(f, type, 0, 0, 0);

		if (type == 135 || type == 136 || type == 137) { /* the target address follows */
			if (type == 136)
				icmp[4] = 0x20; /* override */
			addr6_of(s->nd_target ? s->nd_target : s->saddr ? s->saddr : 1, target);
			pkt_data(f, target, sizeof(target));
		}
	}
	pkt_put(f, s->payload);
	pkt_finish6(f);
	if (s->version)
		ip6->version = s->version;
	if (s->plen > 0)
		ip6->payload_len = htons(s->plen);
	pkt_put(f, s->pad);
	if (s->truncate > 0)
		f->len = s->truncate;
	return f->len;
}

struct hook {
	const char *name;
	int prog_fd;
	int counters_fd;
	int trace_fd;
	bool is_tc;
	__u32 verdict[3];   /* by enum outcome */
	__u32 redirect_cnt; /* the hook's redirect counter */
};

/* One case on one hook; what went wrong, if anything, into check_fail(). */
static void run_case(const struct hook *h, const struct test_case *tc)
{
	struct fwd_counter_sum before[FWD_CNT_MAX], after[FWD_CNT_MAX];
	struct pkt in, out;
	struct fwd_trace trace = {}, zero_trace = {};
	__u32 zero = 0, want_cnt, want_target;
	size_t in_len = tc->v6 ? build_frame6(tc->v6, &in) : build_frame(&tc->in, &in);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in.b, .data_size_in = in_len,
		    .data_out = out.b, .data_size_out = sizeof(out.b), .repeat = 1);
	int err;

	memset(out.b, 0xaa, sizeof(out.b));
	if (bpf_map_update_elem(h->trace_fd, &zero, &zero_trace, BPF_ANY) ||
	    loader_counters_read_fd(h->counters_fd, before)) {
		check_fail("cannot prepare maps: %s", strerror(errno));
		return;
	}
	err = bpf_prog_test_run_opts(h->prog_fd, &opts);
	if (loader_counters_read_fd(h->counters_fd, after) ||
	    bpf_map_lookup_elem(h->trace_fd, &zero, &trace)) {
		check_fail("cannot read maps: %s", strerror(errno));
		return;
	}
	if (tc->outcome == REFUSED || (h->is_tc && tc->tc_refused)) {
		if (err != -EINVAL) {
			check_fail("test run returned %d (retval %u), want -EINVAL", err,
				   opts.retval);
			return;
		}
		for (int i = 0; i < FWD_CNT_MAX; i++)
			if (after[i].packets != before[i].packets) {
				check_fail("counter %d moved without a run", i);
				return;
			}
		return;
	}
	if (err) {
		check_fail("test run failed: %s", strerror(-err));
		return;
	}
	if (opts.retval != h->verdict[tc->outcome]) {
		check_fail("verdict %u, want %u", opts.retval, h->verdict[tc->outcome]);
		return;
	}
	if (opts.data_size_out != in_len || memcmp(in.b, out.b, in_len)) {
		check_fail("frame out (%u bytes) differs from frame in (%zu bytes)",
			   opts.data_size_out, in_len);
		return;
	}
	want_cnt = tc->outcome == REDIRECT ? h->redirect_cnt : tc->counter;
	want_target = tc->outcome == REDIRECT ? tc->target_ifindex : 0;
	for (__u32 i = 0; i < FWD_CNT_MAX; i++) {
		__u64 dp = after[i].packets - before[i].packets;
		__u64 db = after[i].bytes - before[i].bytes;
		__u64 wp = i == want_cnt ? 1 : 0, wb = i == want_cnt ? in_len : 0;

		if (dp != wp || db != wb) {
			check_fail("counter %u moved %llu packets/%llu bytes, want %llu/%llu", i,
				   (unsigned long long)dp, (unsigned long long)db,
				   (unsigned long long)wp, (unsigned long long)wb);
			return;
		}
	}
	if (trace.counter != want_cnt || trace.verdict != opts.retval ||
	    trace.target_ifindex != want_target) {
		check_fail("trace says counter %u verdict %u target %u, want %u %u %u",
			   trace.counter, trace.verdict, trace.target_ifindex, want_cnt,
			   opts.retval, want_target);
		return;
	}
}

static int fill_endpoints(int fd, int fd6)
{
	static const struct {
		__u8 last;
		__u32 ifindex;
	} eps[] = { { 1, 101 }, { 2, 102 }, { 9, 1 } };

	for (size_t i = 0; i < sizeof(eps) / sizeof(eps[0]); i++) {
		struct fwd_endpoint_key key = { .addr = htonl(IP(eps[i].last)) };
		struct fwd_endpoint val = { .ifindex = eps[i].ifindex,
					    .mac = MAC(eps[i].last),
					    .host_mac = MAC(0x80 | eps[i].last) };

		struct fwd_endpoint6_key key6;

		addr6_of(eps[i].last, (__u8 *)key6.addr);
		if (bpf_map_update_elem(fd, &key, &val, BPF_ANY) ||
		    bpf_map_update_elem(fd6, &key6, &val, BPF_ANY))
			return -errno;
	}
	return 0;
}

/* red with IPv6 only (v6only_cases): its port holds a stand-in of 0.0.0.0/8 for an address. */
#define STANDIN 0x000000e9u /* 0.0.0.233, host order */
static bool red_v6only;

/* The test run's own device (ifindex 1) is red's host-side veth for anti-spoofing. */
static int fill_ports(int fd)
{
	struct fwd_port red = { .addr = htonl(red_v6only ? STANDIN : IP(1)), .mac = MAC(1) };
	__u32 ifindex = 1;

	addr6_of(1, (__u8 *)red.addr6);
	return bpf_map_update_elem(fd, &ifindex, &red, BPF_ANY) ? -errno : 0;
}

static void run_table(const struct hook *h, const struct test_case *table, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		run_case(h, &table[i]);
		check_result("%s: %s", h->name, table[i].name);
	}
}

static void settings_for_test(struct fwd_settings *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->flags = FWD_SET_TRACE | FWD_SET_IPV6;
	cfg->bridge_ifindex = 3;
	memcpy(cfg->bridge_mac, mac_bridge, 6);
}

/* A topology without IPv6 (FWD_SET_IPV6 off): its IPv6 goes to the bridge unread, as datapath
 * kernel lets it, even from an address the namespace gave itself. */
static const struct test_case no_ipv6_cases[] = {
	{ "topology without IPv6: ipv6 passed unread", V6(.saddr = V6_LINKLOCAL), .outcome = PASS,
	  .counter = FWD_CNT_PASS_NOT_IPV4 },
	{ "topology without IPv6: a neighbour advertisement passed unread",
	  V6(.proto = 58, .icmp_type = 136, .nd_target = 5), .outcome = PASS,
	  .counter = FWD_CNT_PASS_NOT_IPV4 },
};

/* isolate (FWD_SET_ISOLATE on): IPv6 from one namespace to another goes to the kernel, whose
 * ip6tables hold the policy, whatever MAC it is sent to; the rest as without. */
static const struct test_case isolate6_cases[] = {
	{ "isolate: ipv6 red->blue to blue's MAC passed to the kernel", V6(.payload = 32),
	  .outcome = PASS, .counter = FWD_CNT_PASS_ISOLATE6 },
	{ "isolate: ipv6 tcp red->blue via the bridge's MAC passed to the kernel",
	  V6(.dst = mac_bridge, .proto = IPPROTO_TCP), .outcome = PASS,
	  .counter = FWD_CNT_PASS_ISOLATE6 },
	{ "isolate: ipv6 to the gateway passed as without", V6(.dst = mac_bridge, .daddr = 5),
	  .outcome = PASS, .counter = FWD_CNT_PASS_NO_ENDPOINT },
	{ "isolate: ipv6 with blue's source address still dropped", V6(.saddr = 2), .outcome = DROP,
	  .counter = FWD_CNT_DROP_SPOOF_IPV6 },
};

/* red with IPv6 only (red_v6only): no IPv4 and no ARP from it, not even from its stand-in (nor
 * an address probe); its IPv6 switched as before. */
static const struct test_case v6only_cases[] = {
	{ "IPv6 only: ipv4 from red's stand-in dropped",
	  { .saddr = STANDIN },
	  .outcome = DROP,
	  .counter = FWD_CNT_DROP_SPOOF_IPV4 },
	{ "IPv6 only: ipv4 from red's former address dropped",
	  { .saddr = IP(1) },
	  .outcome = DROP,
	  .counter = FWD_CNT_DROP_SPOOF_IPV4 },
	{ "IPv6 only: arp with red's stand-in as sender dropped",
	  { .dst = mac_bcast, .ethertype = ETH_P_ARP, .saddr = STANDIN },
	  .outcome = DROP,
	  .counter = FWD_CNT_DROP_SPOOF_ARP },
	{ "IPv6 only: arp probe (sender 0.0.0.0) dropped",
	  { .dst = mac_bcast, .ethertype = ETH_P_ARP, .saddr = 0xffffffffu /* means 0 */ },
	  .outcome = DROP,
	  .counter = FWD_CNT_DROP_SPOOF_ARP },
	{ "IPv6 only: ipv6 udp red->blue redirected", V6(.payload = 32), .outcome = REDIRECT,
	  .target_ifindex = 102 },
};

/* fwd_tc_ingress, loaded with settings_for_test() plus the flags @flags_on less @flags_off, on
 * @table. */
static void run_tc(const char *what, __u32 flags_on, __u32 flags_off, const struct test_case *table,
		   size_t n)
{
	struct fwd_tc *tc = fwd_tc__open();
	int err = tc ? 0 : -errno;

	if (!err) {
		settings_for_test((struct fwd_settings *)&tc->rodata->fwd_cfg);
		((struct fwd_settings *)&tc->rodata->fwd_cfg)->flags |= flags_on;
		((struct fwd_settings *)&tc->rodata->fwd_cfg)->flags &= ~flags_off;
		err = fwd_tc__load(tc);
	}
	if (!err)
		err = fill_endpoints(bpf_map__fd(tc->maps.fwd_endpoints),
				     bpf_map__fd(tc->maps.fwd_endpoints6));
	if (!err)
		err = fill_ports(bpf_map__fd(tc->maps.fwd_ports));
	if (err) {
		check_fail("%s", strerror(-err));
		check_result("%s: load and fill", what);
	} else {
		struct hook h = {
			.name = what,
			.is_tc = true,
			.prog_fd = bpf_program__fd(tc->progs.fwd_tc_ingress),
			.counters_fd = bpf_map__fd(tc->maps.fwd_counters),
			.trace_fd = bpf_map__fd(tc->maps.fwd_trace),
			.verdict = { [REDIRECT] = TC_ACT_REDIRECT,
				     [PASS] = TC_ACT_OK,
				     [DROP] = TC_ACT_SHOT },
			.redirect_cnt = FWD_CNT_REDIRECT_PEER,
		};
		run_table(&h, table, n);
	}
	fwd_tc__destroy(tc);
}

int main(void)
{
	struct fwd_xdp *xdp = NULL;
	int err;

	run_tc("tc", 0, 0, cases, sizeof(cases) / sizeof(cases[0]));
	run_tc("tc", 0, FWD_SET_IPV6, no_ipv6_cases,
	       sizeof(no_ipv6_cases) / sizeof(no_ipv6_cases[0]));
	run_tc("tc", FWD_SET_ISOLATE, 0, isolate6_cases,
	       sizeof(isolate6_cases) / sizeof(isolate6_cases[0]));
	red_v6only = true;
	run_tc("tc", 0, 0, v6only_cases, sizeof(v6only_cases) / sizeof(v6only_cases[0]));
	red_v6only = false;

	xdp = fwd_xdp__open();
	if (!xdp) {
		check_fail("%s", strerror(errno));
		check_result("xdp: open");
		goto end;
	}
	settings_for_test((struct fwd_settings *)&xdp->rodata->fwd_cfg);
	err = fwd_xdp__load(xdp);
	if (!err)
		err = fill_endpoints(bpf_map__fd(xdp->maps.fwd_endpoints),
				     bpf_map__fd(xdp->maps.fwd_endpoints6));
	if (!err)
		err = fill_ports(bpf_map__fd(xdp->maps.fwd_ports));
	if (err) {
		check_fail("%s", strerror(-err));
		check_result("xdp: load and fill");
	} else {
		struct hook h = {
			.name = "xdp",
			.prog_fd = bpf_program__fd(xdp->progs.fwd_xdp_ingress),
			.counters_fd = bpf_map__fd(xdp->maps.fwd_counters),
			.trace_fd = bpf_map__fd(xdp->maps.fwd_trace),
			.verdict = { [REDIRECT] = XDP_REDIRECT,
				     [PASS] = XDP_PASS,
				     [DROP] = XDP_DROP },
			.redirect_cnt = FWD_CNT_REDIRECT_XDP,
		};
		run_table(&h, cases, sizeof(cases) / sizeof(cases[0]));
	}
end:
	fwd_xdp__destroy(xdp);
	return check_summary();
}

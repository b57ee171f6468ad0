/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Everything that crosses the BPF/user-space line, defined once: map keys and values, the
 * counter enum with its names, the load-time settings. Included by bpf/ and loader/ alike, so
 * only __u32/__be32-style types, explicit padding and a size check on every struct.
 */
#ifndef FWD_KERN_USER_H
#define FWD_KERN_USER_H

#include <linux/types.h>

#ifndef FWD_MAX_ENDPOINTS
#define FWD_MAX_ENDPOINTS 4096 /* == FWD_MAX_NAMESPACES of the parser */
#endif

/* Names of the maps (and of their pins under /sys/fs/bpf/fwd/<topology>/). */
#define FWD_MAP_ENDPOINTS "fwd_endpoints"
#define FWD_MAP_COUNTERS  "fwd_counters"

/*
 * fwd_endpoints: one entry per namespace of the topology, the loader's replacement for the
 * bridge's FDB. The key is the namespace's IPv4 address; later grammar (several bridges) will
 * add a bridge id in what is now padding, so keys are always zeroed before use.
 */
struct fwd_endpoint_key {
	__be32 addr; /* network order: the namespace's address */
};
_Static_assert(sizeof(struct fwd_endpoint_key) == 4, "fwd_endpoint_key layout");

struct fwd_endpoint {
	__u32 ifindex;	  /* host order: host-side veth (enslaved to the bridge) */
	__u8 mac[6];	  /* wire order: the namespace's own end of the veth */
	__u8 host_mac[6]; /* wire order: the host-side veth */
	__u32 flags;	  /* host order: FWD_EP_F_*, none defined yet */
};
_Static_assert(sizeof(struct fwd_endpoint) == 20, "fwd_endpoint layout");

/*
 * fwd_counters: a PERCPU_ARRAY indexed by enum fwd_counter, user space sums over CPUs. Every
 * frame a program sees moves exactly one counter, so the sum of all counters is the number of
 * frames seen. Counters up to FWD_CNT_DROP_FIRST are paths; the rest are drops by reason.
 *
 * X(ENUM_SUFFIX, "name shown by fwdctl stats")
 */
/* clang-format off */
#define FWD_COUNTERS(X)                                                                        \
	X(REDIRECT_PEER, "redirect_peer")     /* into the target namespace, bpf_redirect_peer */ \
	X(REDIRECT_XDP, "redirect_xdp")       /* out of the target's host veth, XDP_REDIRECT */  \
	X(PASS_NOT_IPV4, "pass_not_ipv4")     /* ARP, IPv6, any other ethertype: to the bridge */ \
	X(PASS_VLAN, "pass_vlan")	      /* 802.1Q/802.1ad tagged (in data or offloaded) */  \
	X(PASS_MULTICAST, "pass_multicast")   /* broadcast or multicast destination MAC */       \
	X(PASS_NO_ENDPOINT, "pass_no_endpoint") /* IPv4 destination is no namespace of ours */   \
	X(PASS_MAC_MISMATCH, "pass_mac_mismatch") /* namespace address, other MAC: host routes */ \
	X(PASS_HAIRPIN, "pass_hairpin")       /* target is the interface it came from */         \
	X(DROP_TRUNC_ETH, "drop_trunc_eth")   /* shorter than an Ethernet header */              \
	X(DROP_TRUNC_IPV4, "drop_trunc_ipv4") /* IPv4 header (with options) not all there */     \
	X(DROP_BAD_VERSION, "drop_bad_version") /* ethertype IPv4, version field not 4 */        \
	X(DROP_BAD_IHL, "drop_bad_ihl")       /* IHL below 5 */                                  \
	X(DROP_BAD_TOTLEN, "drop_bad_totlen") /* total length shorter than the header, or longer \
						 than the frame */                              \
	X(DROP_REDIRECT, "drop_redirect")     /* the redirect helper refused */

enum fwd_counter {
#define FWD_X_ENUM(id, name) FWD_CNT_##id,
	FWD_COUNTERS(FWD_X_ENUM)
#undef FWD_X_ENUM
	FWD_CNT_MAX,
	FWD_CNT_DROP_FIRST = FWD_CNT_DROP_TRUNC_ETH,
};
/* clang-format on */

struct fwd_counter_val {
	__u64 packets; /* host order */
	__u64 bytes;   /* host order: whole frames, Ethernet header included */
};
_Static_assert(sizeof(struct fwd_counter_val) == 16, "fwd_counter_val layout");

/*
 * Load-time settings: a `const volatile` global in .rodata that the loader fills before load,
 * so the verifier prunes what a setting turns off. Never written at run time.
 */
enum fwd_setting_flags {
	/* Record each decision in fwd_trace (tests only; costs a map write per frame). */
	FWD_SET_TRACE = 1u << 0,
};

struct fwd_settings {
	__u32 flags;	      /* host order: enum fwd_setting_flags */
	__u32 bridge_ifindex; /* host order: the topology's bridge, 0 if unknown */
	__u8 bridge_mac[6];   /* wire order */
	__u8 pad[2];
};
_Static_assert(sizeof(struct fwd_settings) == 16, "fwd_settings layout");

/* fwd_trace: a one-slot ARRAY holding the last decision, written only with FWD_SET_TRACE. */
struct fwd_trace {
	__u32 counter;	      /* host order: enum fwd_counter the frame moved */
	__u32 verdict;	      /* host order: TC_ACT_* or XDP_* returned */
	__u32 target_ifindex; /* host order: ifindex given to the redirect helper, 0 if none */
	__u32 redirect_flags; /* host order: flags given to the redirect helper */
};
_Static_assert(sizeof(struct fwd_trace) == 16, "fwd_trace layout");

/* tc attachment of the programs: fixed, so a re-run replaces in place (BPF_TC_F_REPLACE). */
#define FWD_TC_HANDLE	0xf3d0
#define FWD_TC_PRIORITY 0xf3d0

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Everything that crosses the BPF/user-space line, defined once: map keys and values, the
 * counter enum with its names, the load-time settings. Included by bpf/ and loader/ alike, so
 * only __u32/__be32-style types, explicit padding and a size check on every struct.
 */
#ifndef FWD_KERN_USER_H
#define FWD_KERN_USER_H

#include <linux/types.h>
#include <linux/bpf.h>

#ifndef FWD_MAX_ENDPOINTS
/* >= FWD_MAX_NAMESPACES of the parser (1023 since the bridge's port limit was enforced; the
 * maps keep the size they were pinned with, so that a running topology keeps its pins) */
#define FWD_MAX_ENDPOINTS 4096
#endif

/* Names of the maps (and of their pins under /sys/fs/bpf/fwd/<topology>/). */
#define FWD_MAP_ENDPOINTS   "fwd_endpoints"
#define FWD_MAP_ENDPOINTS6  "fwd_endpoints6"
#define FWD_MAP_COUNTERS    "fwd_counters"
#define FWD_MAP_CT	    "fwd_ct"
#define FWD_MAP_FORWARDS    "fwd_forwards"
#define FWD_MAP_FWD_TARGETS "fwd_fwd_targets"
#define FWD_MAP_SOCK_NAT    "fwd_sock_nat"
#define FWD_MAP_CT_RECENT   "fwd_ct_recent"
#define FWD_MAP_CT_SLOTS    "fwd_ct_slots"
#define FWD_MAP_CT_FREE	    "fwd_ct_free"
#define FWD_MAP_CT_NS	    "fwd_ct_ns"
#define FWD_MAP_CT_PEERS    "fwd_ct_peers"
#define FWD_MAP_FWD_PEERS   "fwd_fwd_peers"
#define FWD_MAP_FOREIGN	    "fwd_foreign"
#define FWD_MAP_UPLINK	    "fwd_uplink"
#define FWD_MAP_FWD_ADDRS   "fwd_fwd_addrs"
#define FWD_MAP_PORTS	    "fwd_ports"
#define FWD_MAP_RULE_DROPS  "fwd_rule_drops"
#define FWD_MAP_EVENTS	    "fwd_events"
#define FWD_MAP_MONITOR	    "fwd_monitor"
#define FWD_MAP_CAPTURE	    "fwd_capture"
#define FWD_MAP_CAPTURE_BUF "fwd_capture_buf"
#define FWD_MAP_NS_STATS    "fwd_ns_stats"
#define FWD_MAP_NS_DROPS    "fwd_ns_drops"
#define FWD_MAP_FWD_STATS   "fwd_forward_stats"
#define FWD_MAP_CT6	    "fwd_ct6"
#define FWD_MAP_CT6_RECENT  "fwd_ct6_recent"
#define FWD_MAP_CT6_SLOTS   "fwd_ct6_slots"
#define FWD_MAP_CT6_FREE    "fwd_ct6_free"
#define FWD_MAP_CT6_PEERS   "fwd_ct6_peers"
#define FWD_MAP_UPLINK6	    "fwd_uplink6"
#define FWD_MAP_TAILS	    "fwd_tails"
#define FWD_MAP_FORWARDS6   "fwd_forwards6"
/* The one map of fwd_xdp_uplink that is its own (its flow cache, bpf/xdp_flows.h); every other
 * map of it is fwd_tc's, shared by name. */
#define FWD_MAP_XDP_FLOWS "fwd_xdp_flows"

/*
 * fwd_endpoints: one entry per namespace of the topology, the loader's replacement for the
 * bridge's FDB. The key is the namespace's IPv4 address; later grammar (several bridges) will
 * add a bridge id in what is now padding, so keys are always zeroed before use.
 */
struct fwd_endpoint_key {
	__be32 addr; /* network order: the namespace's address */
};
_Static_assert(sizeof(struct fwd_endpoint_key) == 4, "fwd_endpoint_key layout");

/* fwd_endpoints6: the same, keyed by the IPv6 address of each namespace that has one. */
struct fwd_endpoint6_key {
	__be32 addr[4]; /* network order: the namespace's IPv6 address */
};
_Static_assert(sizeof(struct fwd_endpoint6_key) == 16, "fwd_endpoint6_key layout");

struct fwd_endpoint {
	__u32 ifindex;	  /* host order: host-side veth (enslaved to the bridge) */
	__u8 mac[6];	  /* wire order: the namespace's own end of the veth */
	__u8 host_mac[6]; /* wire order: the host-side veth */
	__u16 slot;	  /* host order: the namespace's fwd_ns_stats index (from 1) */
	__u16 flags;	  /* host order: FWD_EP_F_*, none defined yet */
};
_Static_assert(sizeof(struct fwd_endpoint) == 20, "fwd_endpoint layout");

/*
 * fwd_counters: a PERCPU_ARRAY indexed by enum fwd_counter, user space sums over CPUs. Every
 * frame a tc or XDP program sees moves exactly one counter, so the sum of all counters but the
 * events (fwd_counter_is_event: host_dnat, ct_early_drop, fib_lookup) is the number of frames
 * seen.
 * Counters up to FWD_CNT_DROP_FIRST are paths or events; the rest are drops by reason.
 * The map's size tells fwd versions apart (`up` replaces a pinned map of another size, `stats`
 * refuses one): a change to this list changes its length, never only the order or names.
 *
 * X(ENUM_SUFFIX, "name shown by fwdctl stats")
 */
/* clang-format off */
#define FWD_COUNTERS(X)                                                                        \
	X(REDIRECT_PEER, "redirect_peer")     /* into the target namespace, bpf_redirect_peer */ \
	X(REDIRECT_XDP, "redirect_xdp")       /* out of the target's host veth, XDP_REDIRECT */  \
	X(PASS_NOT_IPV4, "pass_not_ipv4")     /* ARP, any other ethertype, IPv6 the programs \
						 do not carry (the uplink's, or all in a \
						 topology without IPv6): to the kernel */      \
	X(PASS_VLAN, "pass_vlan")	      /* 802.1Q/802.1ad tagged (in data or offloaded) */  \
	X(PASS_MULTICAST, "pass_multicast")   /* broadcast or multicast destination MAC */       \
	X(PASS_NO_ENDPOINT, "pass_no_endpoint") /* destination address is no namespace of ours */ \
	X(PASS_MAC_MISMATCH, "pass_mac_mismatch") /* namespace address, other MAC: host routes */ \
	X(PASS_HAIRPIN, "pass_hairpin")       /* target is the interface it came from */         \
	X(PASS_FORWARD6, "pass_forward6")     /* IPv6 leaving a forward's target port: to the \
						 bridge, where ip6tables translates a hairpin \
						 reply back */                                 \
	X(SNAT, "snat")			      /* masqueraded out of the uplink (bpf_redirect) */ \
	X(SNAT_REPLY, "snat_reply")	      /* reply or ICMP error of a masqueraded flow, back \
						 into its namespace (bpf_redirect_peer) */     \
	X(PASS_ROUTE, "pass_route")	      /* masquerade source, but not routed via the uplink \
						 (host address, other link, no route) */       \
	X(PASS_TTL, "pass_ttl")		      /* TTL would expire: the kernel sends the ICMP */  \
	X(PASS_FRAG_NEEDED, "pass_frag_needed") /* over the uplink MTU with DF: kernel's ICMP */ \
	X(DNAT, "dnat")			      /* forwarded port, into its namespace */           \
	X(DNAT_XDP, "dnat_xdp")		      /* forwarded port, into its namespace from XDP */  \
	X(DNAT_REPLY, "dnat_reply")	      /* reply of a forwarded connection, back out */    \
	X(TO_PEER, "to_peer")		      /* to another topology's forward: into the       \
						 uplink's ingress, where it takes it */       \
	X(HOST_DNAT, "host_dnat")	      /* the host's own connect()/sendmsg() to a forward, \
						 pointed at its target (fwd_sock: counts calls, \
						 not frames; bytes stay 0) */                  \
	X(CT_EARLY_DROP, "ct_early_drop")     /* event: an unreplied connection evicted from a \
						 full table to admit a new one (the frame \
						 that caused it counts as snat or dnat) */      \
	X(CT_TABLE_FULL, "ct_table_full")     /* event: a new connection found no free slot \
						 (then an early drop, or drop_ct_full) */      \
	X(FIB_LOOKUP, "fib_lookup")	      /* event: a route lookup (bpf_fib_lookup) for a \
						 frame leaving by the uplink, when the per-CPU \
						 route cache had no fresh answer (bpf/fib.h) */ \
	X(PASS_UPLINK_HOST, "pass_uplink_host") /* uplink frame that is no reply of ours */      \
	X(TIME_EXCEEDED, "time_exceeded")     /* TTL <= 1 from the LAN (or hairpin): answered \
						 with ICMP time exceeded, as a router would */ \
	X(FRAGMENTED, "fragmented")           /* event: a packet without DF too big for the \
						 uplink, sent in fragments (bpf/frag.h) */     \
	X(FRAG_PARKED, "frag_parked")         /* a later IPv4 fragment held until its first \
						 fragment comes; then it goes through again */ \
	X(MONITOR_SKIPPED, "monitor_skipped") /* event: a monitor event over the rate cap, \
						 not sent (fwdctl monitor --rate) */           \
	X(MONITOR_LOST, "monitor_lost")       /* event: a monitor event the full ring buffer \
						 had no room for (the reader fell behind) */   \
	X(SNAT6, "snat6")		      /* IPv6 masqueraded out of the uplink (NAT66) */   \
	X(SNAT6_REPLY, "snat6_reply")	      /* reply or ICMPv6 error of a masqueraded IPv6 \
						 flow, back into its namespace */              \
	X(DNAT6, "dnat6")		      /* IPv6 to a forwarded port, into its namespace */ \
	X(DNAT6_REPLY, "dnat6_reply")	      /* a reply of a forwarded IPv6 connection, back \
						 out (or into the hairpin client) */           \
	X(PASS_NAT6, "pass_nat6")	      /* IPv6 to masquerade left to the kernel's \
						 ip6tables: a fragment, hop limit 1, over the \
						 uplink's MTU, not routed out of the uplink */ \
	X(PASS_ISOLATE6, "pass_isolate6")     /* isolate: IPv6 to another namespace, to the \
						 kernel, which routes it past ip6tables' \
						 policy */                                     \
	X(ROUTED_OUT, "routed_out")	      /* to a routed subnet (route ... via), out of the \
						 uplink untranslated */                         \
	X(ROUTED_IN, "routed_in")	      /* from a routed subnet on the uplink, into its \
						 namespace untranslated */                      \
	X(DROP_TRUNC_ETH, "drop_trunc_eth")   /* shorter than an Ethernet header */              \
	X(DROP_TRUNC_IPV4, "drop_trunc_ipv4") /* IPv4 header (with options) not all there */     \
	X(DROP_BAD_VERSION, "drop_bad_version") /* version field not the ethertype's (4, 6) */   \
	X(DROP_BAD_IHL, "drop_bad_ihl")       /* IHL below 5 */                                  \
	X(DROP_BAD_TOTLEN, "drop_bad_totlen") /* total length shorter than the header, or longer \
						 than the frame */                              \
	X(DROP_REDIRECT, "drop_redirect")     /* the redirect helper refused */                  \
	X(DROP_TRUNC_L4, "drop_trunc_l4")     /* TCP/UDP/ICMP header not all there */            \
	X(DROP_FRAG_NO_FIRST, "drop_frag_no_first") /* a later IPv4 fragment to translate whose \
						       first fragment was not seen (yet) */ \
	X(DROP_NAT_PROTO, "drop_nat_proto")   /* not TCP, UDP or ICMP echo: cannot masquerade */ \
	X(DROP_NAT_TOO_BIG, "drop_nat_too_big") /* over the uplink MTU without DF */             \
	X(DROP_CT_FULL, "drop_ct_full")       /* the connection table is full */                 \
	X(DROP_NAT_NO_PORT, "drop_nat_no_port") /* no free port in the SNAT range */             \
	X(DROP_REWRITE, "drop_rewrite")       /* a store or checksum helper failed */            \
	X(DROP_TTL, "drop_ttl")		      /* TTL <= 1 and no time exceeded sent (an ICMP \
						 error, or over the rate: 1,000 a second) */  \
	X(DROP_NOT_FORWARDED, "drop_not_forwarded") /* from the uplink to a namespace address: \
						       only forwards and replies get in */    \
	X(DROP_NO_UPLINK_ADDR, "drop_no_uplink_addr") /* to masquerade, and the uplink has \
							 no address (it went) */          \
	X(DROP_ROUTED_IN, "drop_routed_in") /* routed into the bridge from another topology's \
					       namespaces: only its forwards connect them */  \
	X(DROP_CT_INVALID, "drop_ct_invalid") /* from the LAN, a TCP segment that opens no \
						 connection (not a SYN) and belongs to none */  \
	X(DROP_TCP_WINDOW, "drop_tcp_window") /* TCP segment outside its connection's window \
						 (a forged RST, FIN or data): state unchanged */ \
	X(DROP_CT_NS_LIMIT, "drop_ct_ns_limit") /* a new connection from a namespace that holds \
						   conntrack per-namespace already */          \
	X(DROP_SPOOF_MAC, "drop_spoof_mac")   /* from a namespace, with another source MAC than \
						 its own */                                     \
	X(DROP_SPOOF_ARP, "drop_spoof_arp")   /* from a namespace, ARP whose sender is not the \
						 namespace (address or MAC), or not IPv4 */    \
	X(DROP_SPOOF_IPV4, "drop_spoof_ipv4") /* from a namespace, IPv4 with another source \
						 address than its own */                        \
	X(DROP_SPOOF_UPLINK, "drop_spoof_uplink") /* from the LAN, a source inside the bridge's \
						     subnet */                                  \
	X(DROP_BAD_IPV4_CSUM, "drop_bad_ipv4_csum") /* IPv4 header checksum wrong */            \
	X(DROP_BAD_IP_OPTIONS, "drop_bad_ip_options") /* an IPv4 option length below 2 or \
							 past the header; source routing */ \
	X(DROP_BAD_L4_LEN, "drop_bad_l4_len") /* TCP data offset below 20 or past the packet, \
						 UDP length below 8 or past the packet */      \
	X(DROP_ISOLATED, "drop_isolated")     /* isolate: to another namespace, no allow line \
						 and no reply (fwdctl stats: by rule) */        \
	X(DROP_NOT_FROM, "drop_not_from")     /* to a forward, from a source its "from" leaves \
						 out (fwdctl stats: by rule) */                 \
	X(DROP_NOT_MASQUERADED, "drop_not_masqueraded") /* from a namespace no masquerade \
							   covers, routed out of the uplink: it \
							   would leave with a private source */ \
	X(DROP_TRUNC_IPV6, "drop_trunc_ipv6") /* IPv6 header or an extension header not all \
						 there, or a payload length past the frame */  \
	X(DROP_IPV6_EXT, "drop_ipv6_ext")     /* more IPv6 extension headers than fwd reads \
						 (FWD_IPV6_EXT_MAX in bpf/parse6.h) */          \
	X(DROP_SPOOF_IPV6, "drop_spoof_ipv6") /* from a namespace, IPv6 with another source \
						 address than its own (or from one without) */  \
	X(DROP_SPOOF_ND, "drop_spoof_nd")     /* from a namespace, a neighbour advertisement \
						 for an address not its own */                  \
	X(DROP_ND_ROUTER, "drop_nd_router")   /* from a namespace, a router advertisement or \
						 a redirect: only the host routes (RA guard) */ \
	X(DROP_TAIL_CALL, "drop_tail_call")   /* IPv6 whose program could not be reached (a \
						 tail call into fwd_tails failed) */           \
	X(DROP_MLD, "drop_mld")		      /* from a namespace, MLD (a listener report, \
						 from :: when it joins its address's group): \
						 no querier listens, and the bridge would \
						 flood it to every port */

enum fwd_counter {
#define FWD_X_ENUM(id, name) FWD_CNT_##id,
	FWD_COUNTERS(FWD_X_ENUM)
#undef FWD_X_ENUM
	FWD_CNT_MAX,
	FWD_CNT_DROP_FIRST = FWD_CNT_DROP_TRUNC_ETH,
};
/* clang-format on */

/* Counters that count events, not frames: left out of the frame total. */
static inline int fwd_counter_is_event(unsigned int counter)
{
	return counter == FWD_CNT_HOST_DNAT || counter == FWD_CNT_CT_EARLY_DROP ||
	       counter == FWD_CNT_CT_TABLE_FULL || counter == FWD_CNT_FIB_LOOKUP ||
	       counter == FWD_CNT_FRAGMENTED || counter == FWD_CNT_MONITOR_SKIPPED ||
	       counter == FWD_CNT_MONITOR_LOST;
}

struct fwd_counter_val {
	__u64 packets; /* host order */
	__u64 bytes;   /* host order: whole frames, Ethernet header included */
};
_Static_assert(sizeof(struct fwd_counter_val) == 16, "fwd_counter_val layout");

/*
 * fwd_ct: connection tracking, a HASH. Every connection has two entries: one under the tuple
 * its packets have when they leave the namespace (ORIG), one under the tuple the replies have
 * when they arrive on the uplink (REPLY). Each names the other in .peer, so the translation is
 * the other key read backwards. Only the ORIG entry holds the state, the expiry and a slot of
 * fwd_ct_slots, by which the table's sweep finds it (see bpf/conntrack.h).
 * ICMP echo: the identifier is the port of the side that chose it (ORIG sport, REPLY dport),
 * the other port is 0.
 */
/* Two map entries each. The same as nf_conntrack_max on a host with 4 GiB or more, so both
 * datapaths hold as many connections. Entries are allocated on insert (BPF_F_NO_PREALLOC): the
 * size costs only the bucket array (16 bytes per entry) until connections fill it. */
#ifndef FWD_CT_MAX_CONNS
#define FWD_CT_MAX_CONNS 262144
#endif
#define FWD_CT_MAX_ENTRIES (2 * FWD_CT_MAX_CONNS)
/*
 * fwd_ct_recent: a QUEUE of the ORIG keys of the latest new connections, the oldest dropped
 * when it is full. When fwd_ct is full, a new connection evicts the oldest of them that never
 * saw a reply (Linux's early drop of unassured entries), so a flood of unanswered flows cannot
 * lock new connections out for a whole timeout; a connection that was answered is never
 * evicted. At most FWD_CT_EARLY_DROP_TRIES keys are looked at per new connection.
 */
#define FWD_CT_RECENT_MAX	(FWD_CT_MAX_CONNS / 4)
#define FWD_CT_EARLY_DROP_TRIES 8

struct fwd_ct_key {
	__be32 saddr; /* network order */
	__be32 daddr; /* network order */
	__be16 sport; /* network order; ICMP echo: see above */
	__be16 dport; /* network order */
	__u8 proto;   /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP */
	__u8 pad[3];  /* zero: keys are compared as bytes */
};
_Static_assert(sizeof(struct fwd_ct_key) == 16, "fwd_ct_key layout");

enum fwd_ct_dir {
	FWD_CT_DIR_ORIG = 0,  /* key: as the packet leaves the namespace */
	FWD_CT_DIR_REPLY = 1, /* key: as the reply arrives on the uplink */
};

enum fwd_ct_nat {
	FWD_CT_NAT_SNAT = 1, /* masquerade: source becomes the uplink's address/port */
	FWD_CT_NAT_DNAT = 2, /* forward: destination becomes the target namespace's address/port */
	FWD_CT_NAT_NONE = 3, /* between namespaces under isolate: tracked, not translated */
};

/* X(ENUM_SUFFIX, "name shown by fwdctl ct") */
/* clang-format off */
#define FWD_CT_STATES(X)                                                                       \
	X(NONE, "none")                                                                        \
	X(TCP_SYN_SENT, "syn_sent")        /* SYN out, nothing back yet */                     \
	X(TCP_SYN_RECV, "syn_recv")        /* SYN-ACK back, handshake not completed */         \
	X(TCP_ESTABLISHED, "established")  /* the handshake's final ACK, or picked up */       \
	X(TCP_FIN_WAIT, "fin_wait")        /* FIN seen in one direction */                     \
	X(TCP_TIME_WAIT, "time_wait")      /* FIN both ways */                                 \
	X(TCP_CLOSE, "close")              /* RST */                                           \
	X(UDP, "udp")                      /* no reply yet */                                  \
	X(UDP_ASSURED, "udp_assured")      /* replied */                                       \
	X(ICMP, "icmp")
/* clang-format on */

enum fwd_ct_state {
#define FWD_X_ENUM(id, name) FWD_CT_##id,
	FWD_CT_STATES(FWD_X_ENUM)
#undef FWD_X_ENUM
	    FWD_CT_STATE_MAX,
};

enum fwd_ct_flags {
	FWD_CT_F_SEEN_REPLY = 1u << 0,
	FWD_CT_F_FIN_ORIG = 1u << 1,
	FWD_CT_F_FIN_REPLY = 1u << 2,
	FWD_CT_F_RST = 1u << 3,
	/* Never evicted to make room (early drop): TCP once the handshake completed, UDP once
	 * it saw traffic both ways, as Linux's IPS_ASSURED. */
	FWD_CT_F_ASSURED = 1u << 4,
	/* TCP picked up mid-stream (after a flush or a reload): its window scales were never
	 * seen, so its segments are not checked against the windows (fwd_ct_tcp_dir). */
	FWD_CT_F_LIBERAL = 1u << 5,
};

/*
 * TCP sequence tracking, one per direction of a connection (index enum fwd_ct_dir), in the
 * spirit of Linux's tcp_in_window(): a segment must lie within the window its receiver
 * offered, so a forged RST, FIN or data segment with a guessed sequence number is refused.
 * Each field is written only by the packets of one direction, and only when it moves by more
 * than a quarter of a window, so the two directions' CPUs do not bounce the entry's cache line
 * per packet; the checks allow one window of slack for that lag.
 */
struct fwd_ct_tcp_dir {
	__u32 end;    /* host order: highest sequence number this side sent, plus one */
	__u32 maxend; /* host order: highest end its peer's ACK plus window allows it */
	__u32 maxwin; /* host order: largest window this side advertised, scaled */
	__u8 wscale;  /* window scale this side announced in its SYN; FWD_TCP_NO_WSCALE if none */
	__u8 seen;    /* this side's first segment was seen: end and maxwin are set */
	__u8 maxend_set; /* the other side acknowledged something: maxend is set */
	__u8 pad;
};
_Static_assert(sizeof(struct fwd_ct_tcp_dir) == 16, "fwd_ct_tcp_dir layout");
#define FWD_TCP_NO_WSCALE 0xff

/*
 * What a connection's packets change: its state, flags and TCP tracking; ORIG only. A struct
 * of its own so that bpf/conntrack.h's fwd_ct_advance(), a global function the verifier checks
 * once, takes a pointer to it alone.
 */
struct fwd_ct_track {
	__u8 state;    /* enum fwd_ct_state */
	__u8 flags;    /* enum fwd_ct_flags */
	__u16 forward; /* host order: a forwarded connection's forward (fwd_forward_stats index),
			* 0: none or unknown (opened before the forward was counted) */
	__u8 pad[4];
	struct fwd_ct_tcp_dir tcp[2]; /* TCP: [FWD_CT_DIR_ORIG], [FWD_CT_DIR_REPLY] */
};
_Static_assert(sizeof(struct fwd_ct_track) == 40, "fwd_ct_track layout");

#define FWD_CT_NO_SLOT 0xffffffffu

struct fwd_ct_entry {
	__u64 expires_ns;	/* host order, CLOCK_MONOTONIC_COARSE; ORIG only. Past it the
				 * connection is gone, whether the sweep deleted it yet or not */
	__u64 created_ns;	/* host order, CLOCK_MONOTONIC_COARSE */
	struct fwd_ct_key peer; /* the other direction's key */
	__u8 dir;		/* enum fwd_ct_dir */
	__u8 nat;		/* enum fwd_ct_nat */
	__u8 ns_counted;	/* ORIG only: counted in fwd_ct_ns under the key's source */
	__u8 pad;
	__u32 slot;		   /* host order: ORIG only, its fwd_ct_slots index, or
				    * FWD_CT_NO_SLOT (copied by `up`, until fwd_ct_start adopts it) */
	struct fwd_ct_track track; /* ORIG only */
};
_Static_assert(sizeof(struct fwd_ct_entry) == 80, "fwd_ct_entry layout");

/*
 * fwd_ct6: IPv6 connections (NAT66 masquerade), a table of their own beside fwd_ct, as Cilium
 * keeps CT4 and CT6: IPv4's keys stay 16 bytes, and its table's layout and speed do not change
 * for IPv6. The same two entries per connection, the same expiry (fwd_ct6_slots, swept by the
 * one timer), early drop (fwd_ct6_recent) and per-namespace cap: an IPv6 connection is charged
 * to its namespace's IPv4 address in fwd_ct_ns (ns_addr), so that one cap covers both families.
 */
struct fwd_ct6_key {
	__be32 saddr[4]; /* network order */
	__be32 daddr[4]; /* network order */
	__be16 sport;	 /* network order; ICMPv6 echo: as fwd_ct_key's ICMP */
	__be16 dport;	 /* network order */
	__u8 proto;	 /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6 */
	__u8 pad[3];	 /* zero: keys are compared as bytes */
};
_Static_assert(sizeof(struct fwd_ct6_key) == 40, "fwd_ct6_key layout");

struct fwd_ct6_entry {
	struct fwd_ct_entry c;	 /* as IPv4's (c.peer unused, zero), so that the code on
				  * state, expiry and slots serves both */
	struct fwd_ct6_key peer; /* the other direction's key */
	__be32 ns_addr;		 /* ORIG with c.ns_counted: fwd_ct_ns's key it is counted under */
	__u32 pad;
};
_Static_assert(sizeof(struct fwd_ct6_entry) == 128, "fwd_ct6_entry layout");

struct fwd_ct6_slot {
	struct fwd_ct6_key key; /* the ORIG key; proto 0: free */
	__u64 expires_ns;	/* host order: at or before the connection's expiry */
};
_Static_assert(sizeof(struct fwd_ct6_slot) == 48, "fwd_ct6_slot layout");

/*
 * fwd_ct_slots: an ARRAY with one slot per connection the table may hold, which the table's
 * sweep reads in order, a few thousand slots per step, instead of walking the hash: a slot
 * names its connection's ORIG key and a lower bound of its expiry, so the sweep looks up only
 * the connections that may have expired. Free slots (proto 0) wait in fwd_ct_free, a QUEUE of
 * their indexes; whoever deletes a connection's ORIG entry (the delete that succeeds: there is
 * one) hands its slot back. No free slot left means the table is full.
 */
struct fwd_ct_slot {
	struct fwd_ct_key key; /* the ORIG key; proto 0: free */
	__u64 expires_ns;      /* host order: at or before the connection's expiry */
};
_Static_assert(sizeof(struct fwd_ct_slot) == 24, "fwd_ct_slot layout");

/*
 * fwd_ct_ns: per namespace (its address; the loader keeps one entry per namespace), how many
 * connections it opened are in the table, masqueraded or hairpin: at conntrack per-namespace
 * a new one is dropped (drop_ct_ns_limit), so that one namespace cannot fill the table, nor
 * hold more SNAT ports (one per masqueraded connection) than that. Connections from the LAN to
 * a forward are nobody's: early drop and the SYN-flood rules are what limit those.
 */
struct fwd_ct_ns_key {
	__be32 addr; /* network order */
};
_Static_assert(sizeof(struct fwd_ct_ns_key) == 4, "fwd_ct_ns_key layout");

struct fwd_ct_ns {
	__u32 conns; /* host order; read as signed: a count that went below 0 is 0 */
	__u32 pad;
};
_Static_assert(sizeof(struct fwd_ct_ns) == 8, "fwd_ct_ns layout");

/* Keys per run of fwd_ct_delete: a test-run frame is at most a page, less head- and tailroom. */
#define FWD_CT_DELETE_BATCH  192
#define FWD_CT6_DELETE_BATCH 76 /* fwd_ct6_delete's 40-byte keys */

/* fwd_ct_start's flags (the first byte of its test-run frame). */
enum fwd_ct_start_flags {
	FWD_CT_START_FILL = 1u << 0,  /* a new table: every slot into fwd_ct_free */
	FWD_CT_START_ADOPT = 1u << 1, /* slots for the ORIG entries that have none, and
				       * fwd_ct_ns counted anew (entries were lost) */
	FWD_CT_START_FILL6 = 1u << 2, /* a new fwd_ct6: every slot into fwd_ct6_free */
};

/*
 * A namespace with IPv6 only has no IPv4 address, yet the maps know every namespace by an IPv4
 * key (its port, its connections' count, the forwards' targets): such a namespace gets a
 * stand-in there, an address of 0.0.0.0/8 ("this network", RFC 1122), which no packet may
 * carry and no bridge subnet holds. The parser derives it from the IPv6 address, so that it
 * stays the same across edits of the file (ctl/topo_parse.c). A port with a stand-in sends no
 * IPv4 and no ARP (bpf/spoof.h).
 */
#define FWD_STANDIN_PREFIX 8
static inline int fwd_addr_is_standin(__be32 addr)
{
	return ((const __u8 *)&addr)[0] == 0; /* network order: the first octet */
}

/*
 * fwd_ports: per host-side veth (its ifindex), the namespace behind it, for anti-spoofing
 * (bpf/spoof.h): the only source address and MAC its frames may carry.
 */
struct fwd_port {
	__be32 addr;	 /* network order; a stand-in: the namespace has IPv6 only */
	__u8 mac[6];	 /* wire order: the namespace's own end of the veth */
	__u16 slot;	 /* host order: the namespace's fwd_ns_stats index (from 1) */
	__be32 addr6[4]; /* network order: its IPv6 address; all zero: it has none */
};
_Static_assert(sizeof(struct fwd_port) == 28, "fwd_port layout");

/*
 * fwd_forwards: the topology's forwards, one entry per uplink address and port (ranges
 * expanded), so that SNAT never hands out (nor keeps) a port the uplink forwards (port
 * shadowing, CVE-2021-3773). At most as many as two protocols' ports, on all addresses
 * together (the parser checks); at most FWD_MAX_FORWARD_ADDRS addresses besides the primary.
 */
#define FWD_MAX_FORWARD_PORTS 131072
#define FWD_MAX_FORWARD_ADDRS 64

struct fwd_forward_key {
	__be32 addr; /* network order: the uplink address it is published on (the primary
		      * one resolved by `up`, or the one the forward line names) */
	__u8 proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad;    /* zero */
	__be16 port; /* network order: the uplink port */
};
_Static_assert(sizeof(struct fwd_forward_key) == 8, "fwd_forward_key layout");

struct fwd_forward_val {
	__be32 addr; /* network order: the target namespace's address */
	__be16 port; /* network order: the target port */
	__u16 rule;  /* host order: its fwd_rules, fwd_rule_drops and fwd_forward_stats index (the
		      * forward line's, from 1) */
};
_Static_assert(sizeof(struct fwd_forward_val) == 8, "fwd_forward_val layout");

/*
 * fwd_xdp_targets: an ARRAY indexed by a forward's rule (its line's, as fwd_forward_val.rule),
 * the target namespace of each forward whose line says xdp (bpf/fwd_xdp_uplink.bpf.c), zero for
 * the others. An array, so that a packet of a known connection costs the fast path one hash
 * lookup (conntrack's): its entry names the rule, the rule the namespace.
 */
struct fwd_xdp_target {
	__be32 addr;		/* network order: the target namespace's address; 0: not xdp */
	struct fwd_endpoint ep; /* its veth pair, as fwd_endpoints has it */
};
_Static_assert(sizeof(struct fwd_xdp_target) == 24, "fwd_xdp_target layout");

/* fwd_forwards6: the forwards published on an IPv6 address of the uplink (its first global
 * one, or the one a forward line names), DNAT66 in BPF; ranges expanded, as fwd_forwards. */
struct fwd_forward6_key {
	__be32 addr[4]; /* network order: the uplink's IPv6 address */
	__u8 proto;	/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad;	/* zero */
	__be16 port;	/* network order: the uplink port */
};
_Static_assert(sizeof(struct fwd_forward6_key) == 20, "fwd_forward6_key layout");

struct fwd_forward6_val {
	__be32 addr[4]; /* network order: the target namespace's IPv6 address */
	__be16 port;	/* network order: the target port */
	__u16 rule;	/* host order: as fwd_forward_val's */
};
_Static_assert(sizeof(struct fwd_forward6_val) == 20, "fwd_forward6_val layout");

/*
 * fwd_rules: the policy rules a frame can be dropped by, each with its drop counter in
 * fwd_rule_drops (a PERCPU_ARRAY of struct fwd_counter_val, same index): FWD_RULE_ISOLATE,
 * then forward i of the topology (in its normalised order) at i + 1, its "from" sources here.
 */
#define FWD_MAX_FROM	 8 /* == the parser's: CIDRs of one forward's "from" */
#define FWD_RULE_ISOLATE 0
#define FWD_MAX_RULES	 (1 + 4096) /* isolate, and one per forward line (FWD_MAX_FORWARDS) */

struct fwd_rule {
	__u32 n_from; /* host order: entries used in from[]; 0: any source */
	__u32 pad;
	struct {
		__be32 addr; /* network order, host bits 0 */
		__be32 mask;
	} from[FWD_MAX_FROM];
};
_Static_assert(sizeof(struct fwd_rule) == 8 + 8 * FWD_MAX_FROM, "fwd_rule layout");

/*
 * fwd_fwd_targets: the (namespace address, proto, port) every forward points at. Only frames
 * leaving such a port can be replies of a forwarded connection, so the host-side veth program
 * looks those up in fwd_ct and leaves every other namespace-to-namespace frame alone.
 */
struct fwd_fwd_target_key {
	__be32 addr; /* network order */
	__u8 proto;
	__u8 pad;    /* zero */
	__be16 port; /* network order */
};
_Static_assert(sizeof(struct fwd_fwd_target_key) == 8, "fwd_fwd_target_key layout");

/*
 * Load-time settings: a `const volatile` global in .rodata that the loader fills before load,
 * so the verifier prunes what a setting turns off. Never written at run time.
 */
enum fwd_setting_flags {
	/* Record each decision in fwd_trace (tests only; costs a map write per frame). */
	FWD_SET_TRACE = 1u << 0,
	/* Masquerade in BPF: an uplink with an IPv4 address and at least one masquerade. */
	FWD_SET_SNAT = 1u << 1,
	/* Forwards in BPF: an uplink with an IPv4 address and at least one forward. */
	FWD_SET_DNAT = 1u << 2,
	/* The topology names its own snat-ports: a source port outside it is never kept, as
	 * MASQUERADE --to-ports. Without, a free source port is kept whatever it is, as plain
	 * MASQUERADE does (the range serves the ports that are taken). */
	FWD_SET_SNAT_PORTS = 1u << 4,
	/* isolate: a namespace reaches another only as allow[] says (replies always: tracked). */
	FWD_SET_ISOLATE = 1u << 5,
	/* Forwards on addresses of the uplink other than its primary one (fwd_fwd_addrs). */
	FWD_SET_FWD_ADDRS = 1u << 6,
	/* IPv6 in the topology: the programs switch the namespaces' IPv6 and hold it to their
	 * addresses (bpf/switch6.h). Without, IPv6 goes to the bridge as any other ethertype
	 * does (pass_not_ipv4), as datapath kernel lets it when the file has none. */
	FWD_SET_IPV6 = 1u << 7,
	/* Masquerade of IPv6 in BPF (NAT66): masq6[] to outside subnet6, out of an uplink
	 * with a global IPv6 address (fwd_uplink6). */
	FWD_SET_SNAT6 = 1u << 8,
	/* Forwards on IPv6 in BPF (DNAT66): fwd_forwards6, from an uplink with IPv6. */
	FWD_SET_DNAT6 = 1u << 9,
	/* route ... via: routes[] are other hosts' subnets, reached through the uplink without
	 * masquerade, and from which frames on the uplink may reach the namespaces. */
	FWD_SET_ROUTES = 1u << 10,
};
/* Either of them: the IPv6 connection table (fwd_ct6) and the uplink's IPv6 program in use. */
#define FWD_SET_NAT6 (FWD_SET_SNAT6 | FWD_SET_DNAT6)

#define FWD_MAX_ALLOW 64 /* == FWD_MAX_ALLOWS of the parser */
/* fwd_uplink, its one entry: the uplink's primary IPv4 address, written by every `up`. */
struct fwd_uplink {
	__be32 addr; /* network order; 0 while it has none */
	__u32 pad;
};
_Static_assert(sizeof(struct fwd_uplink) == 8, "fwd_uplink layout");

/* fwd_uplink6, its one entry: the uplink's first global IPv6 address (NAT66), or all zero. */
struct fwd_uplink6 {
	__be32 addr[4]; /* network order */
};
_Static_assert(sizeof(struct fwd_uplink6) == 16, "fwd_uplink6 layout");

/*
 * fwd_foreign: the subnets of the other topologies of this host namespace (an LPM trie, kept
 * by every `up` and `down`: ctl/peers.c), whose namespaces fwd_tc_bridge_out keeps out.
 */
#define FWD_MAX_FOREIGN 256
struct fwd_lpm4_key {
	__u32 prefixlen; /* host order: bits of addr that count */
	__be32 addr;	 /* network order */
};
_Static_assert(sizeof(struct fwd_lpm4_key) == 8, "fwd_lpm4_key layout");

/* Topologies masquerading out of one uplink besides this one (fwd_ct_peers). */
#define FWD_MAX_PEERS 31

/* allow SRC -> DST [tcp|udp PORT[-PORT]] */
struct fwd_allow_rule {
	__be32 src;    /* network order: a namespace's address, or a routed subnet (host bits 0) */
	__be32 dst;    /* network order: a namespace's address */
	__u8 proto;    /* 0: any protocol */
	__u8 src_plen; /* the bits of src that count: 32 for a namespace, less for a subnet */
	__u16 port_lo; /* host order: the destination port, inclusive (0-0 with proto 0) */
	__u16 port_hi;
	__u16 pad2;
};
_Static_assert(sizeof(struct fwd_allow_rule) == 16, "fwd_allow_rule layout");

#define FWD_MAX_MASQ 64 /* == FWD_MAX_MASQUERADES of the parser */

#ifndef FWD_NAT_PORT_LO
#define FWD_NAT_PORT_LO 32768 /* Linux's default ip_local_port_range */
#endif
#ifndef FWD_NAT_PORT_HI
#define FWD_NAT_PORT_HI 60999
#endif
#define FWD_NAT_PORT_TRIES 32 /* random start, then consecutive ports */

struct fwd_masq_net {
	__be32 addr; /* network order, host bits zero */
	__be32 mask; /* network order */
};

#define FWD_MAX_MASQ6 16 /* IPv6 prefixes masqueraded in BPF; more: `up` refuses */
#define FWD_MAX_ROUTE 16 /* == FWD_MAX_ROUTES of the parser */

struct fwd_masq6_net {
	__be32 addr[4]; /* network order, host bits zero */
	__be32 mask[4]; /* network order */
};

/* Seconds, host order. Defaults follow Linux's nf_conntrack where there is one. */
struct fwd_ct_timeouts {
	__u32 tcp_syn_sent;    /* 60: Linux 120 */
	__u32 tcp_syn_recv;    /* 60, as Linux */
	__u32 tcp_established; /* 432000 (5 days), as Linux */
	__u32 tcp_fin_wait;    /* 120, as Linux's FIN_WAIT */
	__u32 tcp_time_wait;   /* 120, as Linux */
	__u32 tcp_close;       /* 10, as Linux's CLOSE */
	__u32 udp;	       /* 30, as Linux */
	__u32 udp_assured;     /* 120, as Linux's "stream" */
	__u32 icmp;	       /* 30, as Linux */
	__u32 pad;
};
_Static_assert(sizeof(struct fwd_ct_timeouts) == 40, "fwd_ct_timeouts layout");

#define FWD_CT_TIMEOUTS_DEFAULT                                                                    \
	{                                                                                          \
		.tcp_syn_sent = 60, .tcp_syn_recv = 60, .tcp_established = 432000,                 \
		.tcp_fin_wait = 120, .tcp_time_wait = 120, .tcp_close = 10, .udp = 30,             \
		.udp_assured = 120, .icmp = 30,                                                    \
	}

struct fwd_settings {
	__u32 flags;	      /* host order: enum fwd_setting_flags */
	__u32 bridge_ifindex; /* host order: the topology's bridge, 0 if unknown */
	__u8 bridge_mac[6];   /* wire order */
	__u8 pad[2];
	__u32 uplink_ifindex; /* host order, 0 when there is no uplink */
	__be32 pad_addr;      /* unused: the uplink's address is in the map fwd_uplink */
	__u8 uplink_mac[6];   /* wire order */
	__u8 pad2[2];
	__be32 subnet;	    /* network order: the bridge's subnet (never masqueraded to) */
	__be32 subnet_mask; /* network order */
	__u16 nat_port_lo;  /* host order: SNAT port range, inclusive */
	__u16 nat_port_hi;  /* host order */
	__u32 n_masq;	    /* host order: entries used in masq[] */
	/* host order: the cookie of the topology's host namespace (SO_NETNS_COOKIE), so fwd_sock,
	 * attached to the whole machine's cgroup, acts on that namespace's sockets only; 0
	 * (never matches) in the tc and XDP objects */
	__u64 netns_cookie;
	struct fwd_ct_timeouts ct;
	__u32 ct_max;	 /* host order: connections the table holds (fwd_ct_slots' size) */
	__u32 ct_per_ns; /* host order: connections one namespace may open (fwd_ct_ns) */
	struct fwd_masq_net masq[FWD_MAX_MASQ];
	__u32 n_allow; /* host order: entries used in allow[] */
	__u32 pad3;
	struct fwd_allow_rule allow[FWD_MAX_ALLOW];
	__be32 subnet6[4];	/* network order: the bridge's IPv6 prefix (never masqueraded to) */
	__be32 subnet6_mask[4]; /* network order */
	__u32 n_masq6;		/* host order: entries used in masq6[] */
	__u32 ct6_max;		/* host order: fwd_ct6_slots' size (1 without SNAT6 or DNAT6) */
	struct fwd_masq6_net masq6[FWD_MAX_MASQ6];
	__u32 n_routes; /* host order: entries used in routes[] */
	__u32 pad4;
	struct fwd_masq_net routes[FWD_MAX_ROUTE]; /* route ... via: other hosts' subnets */
};
_Static_assert(sizeof(struct fwd_settings) == 112 + 8 * FWD_MAX_MASQ + 16 * FWD_MAX_ALLOW + 40 +
						  32 * FWD_MAX_MASQ6 + 8 + 8 * FWD_MAX_ROUTE,
	       "fwd_settings layout");

/*
 * fwd_sock_nat: socket-local storage (BPF_MAP_TYPE_SK_STORAGE) of the host's sockets whose
 * connect() or sendmsg() fwd_sock pointed at a forward's target: which target stands for which
 * uplink port, so that what the socket reads back (recvmsg's source, getpeername) names the
 * uplink's address and port again, as nf_conntrack's reverse NAT does for datapath kernel. It
 * lives and dies with the socket. One slot per target, picked by a hash of the target: an
 * unconnected UDP socket talking to several forwards at once keeps up to FWD_SOCK_NAT_SLOTS
 * of them, unless two hash to the same slot (the later one wins).
 */
#define FWD_SOCK_NAT_SLOTS 4 /* a power of two: the slot index is masked, not compared */

union fwd_sock_nat_slot {
	struct {
		__be32 target_addr; /* network order: the forward's target namespace */
		__be16 target_port; /* network order */
		__be16 uplink_port; /* network order: the port the socket asked for */
	};
	/* Read and written whole: a recvmsg() racing a sendmsg() on another thread sees the
	 * old slot or the new one, never half of each. */
	__u64 word;
};
_Static_assert(sizeof(union fwd_sock_nat_slot) == 8, "fwd_sock_nat_slot layout");

struct fwd_sock_nat {
	union fwd_sock_nat_slot slot[FWD_SOCK_NAT_SLOTS];
};
_Static_assert(sizeof(struct fwd_sock_nat) == 8 * FWD_SOCK_NAT_SLOTS, "fwd_sock_nat layout");
_Static_assert((FWD_SOCK_NAT_SLOTS & (FWD_SOCK_NAT_SLOTS - 1)) == 0, "FWD_SOCK_NAT_SLOTS");

/* fwd_trace: a one-slot ARRAY holding the last decision, written only with FWD_SET_TRACE. */
struct fwd_trace {
	__u32 counter;	      /* host order: enum fwd_counter the frame moved */
	__u32 verdict;	      /* host order: TC_ACT_* or XDP_* returned */
	__u32 target_ifindex; /* host order: ifindex given to the redirect helper, 0 if none */
	__u32 redirect_flags; /* host order: flags given to the redirect helper */
};
_Static_assert(sizeof(struct fwd_trace) == 16, "fwd_trace layout");

/*
 * What a namespace's veth and a forward carried through the programs since the topology's last
 * up, per CPU: in is into the namespace (delivered by a redirect) or through the forward to its
 * target, out is what the namespace sent or the forward's target answered.
 *   fwd_ns_stats       PERCPU_ARRAY, by slot: a namespace's place in the file, from 1
 *   fwd_forward_stats  PERCPU_ARRAY, by the forward line's index, from 1 (fwd_forward_val.rule)
 *   fwd_ns_drops       PERCPU_HASH {slot, counter}: what a namespace sent that was dropped, by
 *                      reason; entries made on a first drop, at most FWD_NS_DROPS_MAX
 */
struct fwd_traffic {
	__u64 in_packets;
	__u64 in_bytes;
	__u64 out_packets;
	__u64 out_bytes;
};
_Static_assert(sizeof(struct fwd_traffic) == 32, "fwd_traffic layout");

struct fwd_ns_drop_key {
	__u16 slot;    /* host order */
	__u16 counter; /* host order: enum fwd_counter */
};
_Static_assert(sizeof(struct fwd_ns_drop_key) == 4, "fwd_ns_drop_key layout");
#define FWD_NS_DROPS_MAX 16384

/*
 * fwdctl monitor: the programs describe what they drop and the connections that come and go
 * in struct fwd_event records on fwd_events, a RINGBUF, while fwd_monitor (a one-slot ARRAY
 * that fwdctl monitor writes) asks for them. With no flag set the datapath only reads the
 * flags. Each CPU sends at most rate_per_cpu events a second (a window per second of the
 * conntrack clock); the others are counted (monitor_skipped), as are those the full buffer
 * refused (monitor_lost).
 */
enum fwd_monitor_flags {
	FWD_MON_DROPS = 1 << 0, /* every frame dropped, with its reason */
	FWD_MON_CT = 1 << 1,	/* connections: new, closed, expired, evicted, deleted */
};

struct fwd_monitor_cfg {
	__u32 flags;	    /* host order: enum fwd_monitor_flags; 0: off */
	__u32 rate_per_cpu; /* host order: events a second each CPU may send */
	__u32 pid;	    /* host order: the fwdctl monitor that set this, 0: none */
	__u32 pad;
};
_Static_assert(sizeof(struct fwd_monitor_cfg) == 16, "fwd_monitor_cfg layout");

/* Per CPU: the end of the second of the conntrack clock the count is for, and how many events
 * went in it. */
struct fwd_monitor_window {
	__u64 end_ns;
	__u64 sent;
};
_Static_assert(sizeof(struct fwd_monitor_window) == 16, "fwd_monitor_window layout");

#define FWD_EVENTS_BYTES (256 * 1024) /* the ring buffer: ~1,600 events of 152 + 8 bytes */

/* X(ENUM_SUFFIX, "name fwdctl monitor prints") */
/* clang-format off */
#define FWD_EVENT_KINDS(X)                                                                     \
	X(DROP, "drop")             /* a frame dropped: .counter says why, .head shows it */   \
	X(CT_NEW, "new")            /* a connection entered the table */                       \
	X(CT_CLOSED, "closed")      /* a TCP connection that ended (FIN both ways, or RST) \
				       left the table when its close or time_wait timeout ran out */ \
	X(CT_EXPIRED, "expired")    /* a connection left the table, idle past its timeout */   \
	X(CT_EVICTED, "evicted")    /* an unassured or closing connection pushed out of a full \
				       table for a new one (ct_early_drop) */                \
	X(CT_DELETED, "deleted")    /* removed by fwdctl: ct flush, a forward or uplink change */
/* clang-format on */

/* Set in a connection event's kind when the connection is IPv6's (fwd_ct6): .ct6 holds it. */
#define FWD_EV_IPV6 0x8000

enum fwd_event_kind {
#define FWD_X_ENUM(id, name) FWD_EV_##id,
	FWD_EVENT_KINDS(FWD_X_ENUM)
#undef FWD_X_ENUM
	    FWD_EV_MAX,
};

/* Bytes of a dropped frame kept: Ethernet, IPv4 with options, L4 header. A power of two
 * (bpf/monitor.h masks a length with it). */
#define FWD_EVENT_HEAD 128

struct fwd_event {
	__u64 ts_ns;	/* host order: CLOCK_MONOTONIC_COARSE, as conntrack's clock */
	__u16 kind;	/* host order: enum fwd_event_kind, with FWD_EV_IPV6 for .ct6 */
	__u16 counter;	/* host order: DROP: enum fwd_counter, the reason */
	__u32 ifindex;	/* host order: DROP: the interface the frame came in on */
	__u32 len;	/* host order: DROP: the whole frame's length */
	__u16 head_len; /* host order: DROP: how much of .head is the frame's */
	__u8 ct_state;	/* CT_*: enum fwd_ct_state when it left (or came) */
	__u8 ct_nat;	/* CT_*: enum fwd_ct_nat */
	union {
		__u8 head[FWD_EVENT_HEAD]; /* DROP: the frame's first bytes, wire order */
		struct {
			struct fwd_ct_key orig;	 /* as its packets leave the namespace */
			struct fwd_ct_key reply; /* as the replies arrive: translated */
		} ct;
		struct {
			struct fwd_ct6_key orig, reply; /* as .ct, of an IPv6 connection */
		} ct6;
	};
};
_Static_assert(sizeof(struct fwd_event) == 24 + FWD_EVENT_HEAD, "fwd_event layout");

/*
 * fwdctl capture: copies of the frames the tc programs handle, as they arrive (IN, once parsed)
 * and as they leave by a redirect (OUT, translated), through fwd_capture_buf, a
 * PERF_EVENT_ARRAY (bpf_perf_event_output() copies the skb's data, paged or not), while
 * fwd_capture (a one-slot ARRAY that fwdctl capture writes) asks for them. The filter is matched
 * on the frame as it arrives, and its copy as it leaves goes with it; a namespace also matches
 * what is delivered into it. Fields at 0 match anything.
 */
enum fwd_capture_flags {
	FWD_CAP_IN = 1 << 0,  /* frames as they arrive */
	FWD_CAP_OUT = 1 << 1, /* frames as they leave, translated */
};

struct fwd_capture_cfg {
	__u32 flags;	/* host order: enum fwd_capture_flags; 0: off */
	__u32 snaplen;	/* host order: bytes of a frame copied at most */
	__be32 addr;	/* network order: source or destination */
	__be16 port;	/* network order: source or destination port (TCP, UDP) */
	__u8 proto;	/* IPPROTO_* */
	__u8 fw_proto;	/* a forward's frames: its protocol; 0: no forward filter */
	__u32 ifindex;	/* host order: a namespace's host-side veth: its frames in, and out to it */
	__be32 ns_addr; /* network order: that namespace's address, source or destination */
	__u32 pid;	/* host order: the fwdctl capture that set this, 0: none */
	__be32 fw_target;	  /* network order: the forward's target namespace */
	__u16 fw_lo, fw_hi;	  /* host order: its published ports: frames to them */
	__u16 fw_to_lo, fw_to_hi; /* host order: its target's ports: frames from them */
};
_Static_assert(sizeof(struct fwd_capture_cfg) == 40, "fwd_capture_cfg layout");

/* What precedes each frame's bytes in a capture sample. */
struct fwd_capture_meta {
	__u64 ts_ns;   /* host order: CLOCK_MONOTONIC */
	__u32 ifindex; /* host order: IN: the interface it came in on; OUT: the one it goes to */
	__u32 len;     /* host order: the whole frame's length (the sample holds up to snaplen) */
	__u32 where;   /* host order: FWD_CAP_IN or FWD_CAP_OUT */
	__u32 counter; /* host order: OUT: enum fwd_counter, the path it took */
};
_Static_assert(sizeof(struct fwd_capture_meta) == 24, "fwd_capture_meta layout");

/* skb->mark of a namespace's frame sent into the uplink's ingress to another topology's
 * forward (bpf/fwd_tc.bpf.c, fwd_to_peer()): its own topology's uplink filter lets it pass. */
#define FWD_MARK_TO_PEER 0x66770001

/* tc attachment of the programs: fixed, so a re-run replaces in place (BPF_TC_F_REPLACE). */
#define FWD_TC_HANDLE	0xf3d0
#define FWD_TC_PRIORITY 0xf3d0

#endif

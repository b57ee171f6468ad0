// SPDX-License-Identifier: GPL-2.0
/*
 * A packet fuzzer for the tc and XDP programs, through BPF_PROG_TEST_RUN (issue 20, item 2).
 * Valid frames of the tutorial's lab, built from a pool of live connections, are fed as they
 * are or mutated (bits, bytes at header offsets, length fields, truncation, extension), with
 * now and then pure random bytes, under a seeded PRNG. Every output is checked:
 *
 *   leak      no source address of the bridge's subnet leaves toward the uplink (a redirect
 *             out of it), none is quoted in an ICMP error leaving that way, and the namespace
 *             side passes no frame to the kernel that it would route out of the uplink
 *             untranslated (datapath bpf has no MASQUERADE rule behind it);
 *   csum      every forwarded frame (redirected, or passed with changes) whose input had
 *             valid checksums has valid ones: the IPv4 header, TCP, UDP (unless 0) or ICMP,
 *             and in an ICMP error the quoted IPv4 header (and the quoted L4 checksum when the
 *             quote holds the whole quoted packet). The test run's skbs are CHECKSUM_NONE, so
 *             what comes out is what the programs computed. A frame whose input checksum was
 *             already wrong is left out: fwd updates checksums incrementally (RFC 1624), and a
 *             wrong one stays wrong by the same amount, as a router leaves it. A redirected
 *             frame that is no longer IPv4 at all fails too;
 *   verdict   each run moves exactly one counter that is not an event (fwd_counter_is_event)
 *             by one packet, the trace names it, and the verdict is the counter's (drops and
 *             frag_parked drop, the redirect counters redirect, the rest pass); a frame the
 *             kernel refuses to run (-EINVAL) moves none, and the lab's XDP fast path
 *             (fwd_xdp_uplink, over the lab's maps), which sees every frame on the uplink
 *             before tc, moves none when it passes the frame on to tc;
 *   xdp       fwd_xdp_ingress and fwd_tc_ingress built with the same (switching-only)
 *             settings, as tests/bpf/fwd_switch.c runs them, give every namespace frame the
 *             same counter (redirect_peer <-> redirect_xdp); and where XDP ends a frame itself
 *             (a drop, or a pass decided on the Ethernet header: VLAN, multicast, not IPv4),
 *             the lab's tc program, NAT on, ends it the same way (XDP does no NAT: what it
 *             passes on is tc's to translate).
 *
 * The world, in a network namespace of the process's own (unshare: nothing named, gone with it):
 *
 *   up0 10.77.0.1/24 02:00:00:00:00:f1 mtu 1400 (the uplink) ==== lanx
 *       10.77.0.2 = 02:00:00:00:00:aa (neighbour), default via 10.77.0.254 (no neighbour),
 *       unreachable 203.0.113.0/24, 10.99.0.0/16 via 10.77.0.2 (a route line's subnet)
 *   vhN (host side of namespace N) ==== vpN, N = 1 red, 2 blue, 3 green, 4 yellow:
 *       192.168.15.N, MAC 02:00:00:00:00:0N, host MAC 02:00:00:00:00:8N
 *       and IPv6 fd00::N (fwd_ports, fwd_endpoints6); the LAN's IPv6 frames come from fd00::9
 *       (inside the bridge's prefix fd00::/64) or fd77::2, to the uplink's fd77::1/64
 *       (fd77::2 a neighbour, default via fd77::fe without one)
 *   masquerade 192.168.15.0/24 and fd00::/64 (NAT66), snat-ports 40000-40049, conntrack max
 *   1024 (each family), per-namespace 64
 *   forward tcp 80 blue:80, udp 5353 green:53 (xdp), tcp 8000-8009 yellow,
 *           tcp 8080 red:8080 from 10.77.0.0/24; another topology forwards tcp 9000;
 *           on IPv6 (DNAT66) [fd77::1]:80 blue:80, [fd77::1]:5353 green:53
 *   route 10.99.0.0/16 via 10.77.0.2: reached from and reaching the namespaces untranslated,
 *           so a private source may leave the uplink to it, and only to it
 *
 * Counters no frame fed to these programs can move (left out of the "every counter reached"
 * check; events are reported, never required):
 *   drop_trunc_eth       the test run (as a real device) refuses a frame under 14 bytes
 *   drop_redirect        bpf_redirect*() with flags 0 do not refuse; a peer that vanished
 *                        is the kernel's drop after the verdict
 *   drop_rewrite         a store or checksum helper failing: memory, not frame contents
 *                        (the parser keeps every offset inside the frame first)
 *   drop_no_uplink_addr  the uplink without an address: configuration, not a frame
 *   drop_routed_in       fwd_tc_bridge_out's, a filter on the bridge's egress for frames the
 *                        host routes in, which counts only its drops
 *   drop_isolated        the lab has no isolate (tests/bpf/fwd_snat.c covers it)
 *   host_dnat            fwd_sock's: socket calls, not frames
 *   monitor_*            no monitor runs
 *   drop_not_masqueraded the lab masquerades its whole subnet, and anti-spoofing holds every
 *                        namespace to its own source address
 *   drop_tail_call       the IPv6 programs are always in fwd_tails
 * drop_ct_full is counted but not required: with early drop, a full table evicts an unreplied
 * connection instead, and only a table of answered ones refuses (fwd_snat.c: test_full).
 *
 *   fuzz_packets [--frames N | --seconds N] [--seed N] [--corpus DIR] [--save DIR]
 *
 * --seconds N generates frames for N seconds (what `make fuzz` runs, tests/fuzz/run.sh);
 * with --frames too, whichever ends first.
 *
 * The corpus (default tests/fuzz/corpus/packets, from the source tree) is replayed first, after
 * the pool of connections is open: text files, "from ns1".."from ns4" or "from uplink", then the
 * frame in hex. A broken invariant prints the frame, the seed and its number, and saves it in
 * that format (in --save DIR, default /tmp), ready to go into the corpus.
 */
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fwd_kern_user.h"
#include "fwd_tc.skel.h"
#include "fwd_xdp.skel.h"
#include "fwd_xdp_uplink.skel.h"

#include "check.h"
#include "pkt.h"
#include "sandbox.h"

#define IP(a, b, c, d) ((__u32)(a) << 24 | (b) << 16 | (c) << 8 | (d)) /* host order */
#define NS(n)	       IP(192, 168, 15, n)
#define UPLINK	       IP(10, 77, 0, 1)
#define REMOTE	       IP(10, 77, 0, 2)	   /* on the uplink's link, a neighbour */
#define FAR	       IP(198, 51, 100, 7) /* via 10.77.0.254, whose MAC is unknown */
#define UNREACH	       IP(203, 0, 113, 9)  /* an unreachable route */
#define OUTSIDER       IP(192, 0, 2, 33)   /* not in tcp 8080's "from" */
#define PRIVATE(a)     (((a)&0xffffff00u) == NS(0))
#define ROUTED(a)      (((a)&0xffff0000u) == IP(10, 99, 0, 0)) /* route 10.99.0.0/16 */
/* clang-format off */
#define MAC(last) { 0x02, 0, 0, 0, 0, (last) }
/* clang-format on */

static const __u8 mac_ns[5][6] = { MAC(0), MAC(1), MAC(2), MAC(3), MAC(4) };
static const __u8 mac_host[5][6] = { MAC(0x80), MAC(0x81), MAC(0x82), MAC(0x83), MAC(0x84) };
static const __u8 mac_gw[6] = MAC(5), mac_uplink[6] = MAC(0xf1), mac_remote[6] = MAC(0xaa),
		  mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		  mac_mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };

#define NAT_PORT_LO 40000
#define NAT_PORT_HI 40049
#define CORPUS_SEED 20	 /* the pool's ports while the corpus is replayed */
#define FRAME_MAX   1800 /* what a frame may grow to (test runs take up to a page) */
#define OUT_MAX	    4096

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

/* --- options, PRNG --------------------------------------------------------------------- */

static unsigned long long opt_frames = 200000, opt_seed, opt_seconds;
static bool opt_frames_set;
static const char *opt_corpus, *opt_save = "/tmp";

static __u64 rng_state;

static __u64 rnd64(void) /* splitmix64 */
{
	__u64 z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static __u32 rnd(__u32 n) /* 0..n-1 */
{
	return n ? (__u32)(rnd64() % n) : 0;
}

static bool chance(__u32 percent)
{
	return rnd(100) < percent;
}

/* --- the world ------------------------------------------------------------------------- */

static int if_up0, if_vh[5];

static int sandbox(void)
{
	static const char *const cmds[] = {
		"ip link set lo up",
		"ip link add up0 address 02:00:00:00:00:f1 mtu 1400 type veth peer name lanx",
		"ip addr add 10.77.0.1/24 dev up0",
		"ip link set up0 up",
		"ip link set lanx up",
		"ip neigh replace 10.77.0.2 lladdr 02:00:00:00:00:aa dev up0 nud permanent",
		"ip route add default via 10.77.0.254 dev up0",
		"ip route add unreachable 203.0.113.0/24",
		"ip route add 10.99.0.0/16 via 10.77.0.2 dev up0",
		"ip link add vh1 type veth peer name vp1",
		"ip link add vh2 type veth peer name vp2",
		"ip link add vh3 type veth peer name vp3",
		"ip link add vh4 type veth peer name vp4",
		"for i in 1 2 3 4; do ip link set vh$i up && ip link set vp$i up || exit 1; done",
		"sysctl -qw net.ipv4.ip_forward=1",
		"sysctl -qw net.ipv6.conf.all.forwarding=1",
		"ip -6 addr add fd77::1/64 dev up0 nodad",
		"ip -6 neigh replace fd77::2 lladdr 02:00:00:00:00:aa dev up0 nud permanent",
		"ip -6 route add default via fd77::fe dev up0",
	};
	char name[8];

	if (sandbox_enter("fuzz_packets", cmds, sizeof(cmds) / sizeof(cmds[0])))
		return -1;
	if_up0 = if_nametoindex("up0");
	for (int n = 1; n <= 4; n++) {
		snprintf(name, sizeof(name), "vh%d", n);
		if_vh[n] = if_nametoindex(name);
		if (!if_vh[n])
			return -1;
	}
	return if_up0 ? 0 : -1;
}

/* --- the programs ---------------------------------------------------------------------- */

enum prog { VETH, UPLINK_PROG };

struct obj {
	const char *name;
	bool xdp;
	bool pass_silent; /* XDP_PASS moves no counter: fwd_xdp_uplink leaves the frame to tc */
	struct fwd_tc *tc;
	struct fwd_xdp *x;
	struct fwd_xdp_uplink *xu;
	int prog_fd[2];
	int counters_fd, trace_fd, ct_fd;
	__u64 cnt[FWD_CNT_MAX];	 /* packets per counter at the last read */
	__u64 hits[FWD_CNT_MAX]; /* what the fuzzer's frames moved */
	unsigned long long runs, refused;
};

static struct obj lab = { .name = "lab" }, sw = { .name = "switch" },
		  xdp = { .name = "xdp", .xdp = true },
		  xup = { .name = "lab", .xdp = true, .pass_silent = true };
static int ncpus;

/* Packets of every counter of @o, summed over CPUs, in one batch lookup. */
static int counters_read(const struct obj *o, __u64 out[FWD_CNT_MAX])
{
	static __u32 keys[FWD_CNT_MAX];
	static struct fwd_counter_val *vals;
	__u32 count = FWD_CNT_MAX, batch;
	int err;

	if (!vals && !(vals = calloc((size_t)FWD_CNT_MAX * ncpus, sizeof(*vals))))
		return -ENOMEM;
	err = bpf_map_lookup_batch(o->counters_fd, NULL, &batch, keys, vals, &count, NULL);
	if (err && errno != ENOENT)
		return -errno;
	if (count != FWD_CNT_MAX)
		return -EIO;
	for (__u32 i = 0; i < FWD_CNT_MAX; i++) {
		if (keys[i] != i)
			return -EIO; /* an array's batch comes in key order */
		out[i] = 0;
		for (int c = 0; c < ncpus; c++)
			out[i] += vals[(size_t)i * ncpus + c].packets;
	}
	return 0;
}

static void settings_common(struct fwd_settings *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->flags = FWD_SET_TRACE | FWD_SET_IPV6;
	cfg->bridge_ifindex = 0;
	memcpy(cfg->bridge_mac, mac_gw, 6);
}

static void settings_lab(struct fwd_settings *cfg)
{
	const struct fwd_ct_timeouts timeouts = {
		/* Short for what nobody answers, so the table turns over during a run. */
		.tcp_syn_sent = 10, .tcp_syn_recv = 2,	.tcp_established = 432000,
		.tcp_fin_wait = 2,  .tcp_time_wait = 2, .tcp_close = 1,
		.udp = 2,	    .udp_assured = 120, .icmp = 5,
	};

	settings_common(cfg);
	cfg->flags |= FWD_SET_SNAT | FWD_SET_DNAT | FWD_SET_SNAT_PORTS;
	cfg->uplink_ifindex = if_up0;
	memcpy(cfg->uplink_mac, mac_uplink, 6);
	cfg->subnet = htonl(NS(0));
	cfg->subnet_mask = htonl(0xffffff00);
	cfg->nat_port_lo = NAT_PORT_LO;
	cfg->nat_port_hi = NAT_PORT_HI;
	cfg->ct = timeouts;
	cfg->ct_per_ns = 64;
	cfg->n_masq = 1;
	cfg->masq[0].addr = htonl(NS(0));
	cfg->masq[0].mask = htonl(0xffffff00);
	cfg->flags |= FWD_SET_ROUTES;
	cfg->n_routes = 1;
	cfg->routes[0].addr = htonl(IP(10, 99, 0, 0));
	cfg->routes[0].mask = htonl(0xffff0000);
	/* NAT66: fd00::/64 masqueraded, the bridge's prefix too */
	cfg->flags |= FWD_SET_SNAT6 | FWD_SET_DNAT6;
	cfg->subnet6[0] = htonl(0xfd000000);
	cfg->subnet6_mask[0] = cfg->subnet6_mask[1] = 0xffffffff;
	cfg->n_masq6 = 1;
	cfg->masq6[0].addr[0] = htonl(0xfd000000);
	cfg->masq6[0].mask[0] = cfg->masq6[0].mask[1] = 0xffffffff;
}

/* fd77::@n: the uplink's link (1 the uplink, 2 the LAN host, 0xfe a router without
 * neighbour entry). */
static void lan6(int n, __u8 out[16])
{
	memset(out, 0, 16);
	out[0] = 0xfd;
	out[1] = 0x77;
	out[15] = n;
}

/* fd00::/64, the bridge's prefix: what must never leave by the uplink. */
static bool private6(const __u8 *a)
{
	static const __u8 prefix[8] = { 0xfd };

	return !memcmp(a, prefix, 8);
}

/* fd00::@n (@n 1..4: namespace n; 9: the LAN), the IPv6 addresses of the world. */
static void ns6(int n, __u8 out[16])
{
	memset(out, 0, 16);
	out[0] = 0xfd;
	out[15] = n;
}

static int fill_switch(int endpoints_fd, int endpoints6_fd, int ports_fd)
{
	for (int n = 1; n <= 4; n++) {
		struct fwd_endpoint_key key = { .addr = htonl(NS(n)) };
		struct fwd_endpoint ep = { .ifindex = if_vh[n], .slot = n };
		struct fwd_port port = { .addr = htonl(NS(n)), .slot = n };
		struct fwd_endpoint6_key key6;
		__u32 ifindex = if_vh[n];

		memcpy(ep.mac, mac_ns[n], 6);
		memcpy(ep.host_mac, mac_host[n], 6);
		memcpy(port.mac, mac_ns[n], 6);
		ns6(n, (__u8 *)key6.addr);
		ns6(n, (__u8 *)port.addr6);
		if (bpf_map_update_elem(endpoints_fd, &key, &ep, BPF_ANY) ||
		    bpf_map_update_elem(endpoints6_fd, &key6, &ep, BPF_ANY) ||
		    bpf_map_update_elem(ports_fd, &ifindex, &port, BPF_ANY))
			return -errno;
	}
	return 0;
}

static int add_forward(struct fwd_tc *skel, __u8 proto, __u16 port, int ns, __u16 to, __u16 rule)
{
	struct fwd_forward_key fk = { .addr = htonl(UPLINK), .proto = proto, .port = htons(port) };
	struct fwd_forward_val fv = { .addr = htonl(NS(ns)), .port = htons(to), .rule = rule };
	struct fwd_fwd_target_key tk = { .addr = htonl(NS(ns)), .proto = proto, .port = htons(to) };
	__u32 one = 1;

	if (bpf_map_update_elem(bpf_map__fd(skel->maps.fwd_forwards), &fk, &fv, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.fwd_fwd_targets), &tk, &one, BPF_ANY))
		return -errno;
	return 0;
}

/* A forward on the uplink's IPv6 address (fd77::1) to namespace @ns's fd00::@ns. */
static int add_forward6(struct fwd_tc *skel, __u8 proto, __u16 port, int ns, __u16 to, __u16 rule)
{
	struct fwd_forward6_key fk = { .proto = proto, .port = htons(port) };
	struct fwd_forward6_val fv = { .port = htons(to), .rule = rule };

	lan6(1, (__u8 *)fk.addr);
	ns6(ns, (__u8 *)fv.addr);
	return bpf_map_update_elem(bpf_map__fd(skel->maps.fwd_forwards6), &fk, &fv, BPF_ANY)
		   ? -errno
		   : 0;
}

static int fill_lab(struct fwd_tc *skel)
{
	struct fwd_rule from = { .n_from = 1 };
	struct fwd_forward_key peer_key = { .addr = htonl(UPLINK),
					    .proto = IPPROTO_TCP,
					    .port = htons(9000) };
	struct fwd_forward_val peer_val = { .addr = htonl(IP(172, 18, 0, 2)), .port = htons(9000) };
	__u32 zero = 0, rule = 4;
	char frame[64] = { FWD_CT_START_FILL | FWD_CT_START_FILL6 };
	struct fwd_uplink6 up6;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame),
		    .repeat = 1);
	int err, inner;

	err =
	    fill_switch(bpf_map__fd(skel->maps.fwd_endpoints),
			bpf_map__fd(skel->maps.fwd_endpoints6), bpf_map__fd(skel->maps.fwd_ports));
	if (!err)
		err = add_forward(skel, IPPROTO_TCP, 80, 2, 80, 1);
	if (!err)
		err = add_forward(skel, IPPROTO_UDP, 5353, 3, 53, 2);
	for (__u16 p = 8000; p <= 8009 && !err; p++)
		err = add_forward(skel, IPPROTO_TCP, p, 4, p, 3);
	if (!err)
		err = add_forward(skel, IPPROTO_TCP, 8080, 1, 8080, 4);
	if (!err)
		err = add_forward6(skel, IPPROTO_TCP, 80, 2, 80, 1);
	if (!err)
		err = add_forward6(skel, IPPROTO_UDP, 5353, 3, 53, 2);
	if (err)
		return err;
	for (int n = 1; n <= 4; n++) { /* each namespace's count of the connections it holds */
		struct fwd_ct_ns_key nk = { .addr = htonl(NS(n)) };
		struct fwd_ct_ns nv = {};

		if (bpf_map_update_elem(bpf_map__fd(skel->maps.fwd_ct_ns), &nk, &nv, BPF_ANY))
			return -errno;
	}
	from.from[0].addr = htonl(IP(10, 77, 0, 0));
	from.from[0].mask = htonl(0xffffff00);
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.fwd_rules), &rule, &from, BPF_ANY))
		return -errno;
	lan6(1, (__u8 *)up6.addr);
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.fwd_uplink), &zero,
				&(struct fwd_uplink){ .addr = htonl(UPLINK) }, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.fwd_uplink6), &zero, &up6, BPF_ANY))
		return -errno;
	/* Another topology on the same uplink, forwarding tcp 9000 (fwd_fwd_peers). */
	LIBBPF_OPTS(bpf_map_create_opts, inner_opts, .map_flags = BPF_F_NO_PREALLOC);

	inner = bpf_map_create(BPF_MAP_TYPE_HASH, "fzp_peer", sizeof(struct fwd_forward_key),
			       sizeof(struct fwd_forward_val), 16, &inner_opts);
	if (inner < 0)
		return -errno;
	if (bpf_map_update_elem(inner, &peer_key, &peer_val, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.fwd_fwd_peers), &zero, &inner, BPF_ANY)) {
		err = -errno;
		close(inner);
		return err;
	}
	close(inner);
	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.fwd_ct_start), &opts))
		return -errno;
	return opts.retval == TC_ACT_OK ? 0 : -EIO;
}

static int load_tc(struct obj *o, bool is_lab)
{
	struct fwd_settings *cfg;
	int err;

	o->tc = fwd_tc__open();
	if (!o->tc)
		return -errno;
	cfg = (struct fwd_settings *)&o->tc->rodata->fwd_cfg;
	if (is_lab) {
		settings_lab(cfg);
		bpf_map__set_max_entries(o->tc->maps.fwd_ct, 2 * 1024);
		cfg->ct_max = 1024;
		cfg->ct6_max = 1024;
		if ((err = bpf_map__set_max_entries(o->tc->maps.fwd_ct_recent, cfg->ct_max / 4)) ||
		    (err = bpf_map__set_max_entries(o->tc->maps.fwd_ct_slots, cfg->ct_max)) ||
		    (err = bpf_map__set_max_entries(o->tc->maps.fwd_ct_free, cfg->ct_max)) ||
		    (err = bpf_map__set_max_entries(o->tc->maps.fwd_ct6, 2 * cfg->ct6_max)) ||
		    (err =
			 bpf_map__set_max_entries(o->tc->maps.fwd_ct6_recent, cfg->ct6_max / 4)) ||
		    (err = bpf_map__set_max_entries(o->tc->maps.fwd_ct6_slots, cfg->ct6_max)) ||
		    (err = bpf_map__set_max_entries(o->tc->maps.fwd_ct6_free, cfg->ct6_max)))
			return err;
	} else {
		settings_common(cfg);
	}
	err = fwd_tc__load(o->tc);
	if (err)
		return err;
	err = is_lab ? fill_lab(o->tc)
		     : fill_switch(bpf_map__fd(o->tc->maps.fwd_endpoints),
				   bpf_map__fd(o->tc->maps.fwd_endpoints6),
				   bpf_map__fd(o->tc->maps.fwd_ports));
	if (err)
		return err;
	o->prog_fd[VETH] = bpf_program__fd(o->tc->progs.fwd_tc_ingress);
	o->prog_fd[UPLINK_PROG] = bpf_program__fd(o->tc->progs.fwd_tc_uplink);
	o->counters_fd = bpf_map__fd(o->tc->maps.fwd_counters);
	o->trace_fd = bpf_map__fd(o->tc->maps.fwd_trace);
	o->ct_fd = bpf_map__fd(o->tc->maps.fwd_ct);
	return counters_read(o, o->cnt);
}

static int load_xdp(struct obj *o)
{
	int err;

	o->x = fwd_xdp__open();
	if (!o->x)
		return -errno;
	settings_common((struct fwd_settings *)&o->x->rodata->fwd_cfg);
	err = fwd_xdp__load(o->x);
	if (!err)
		err = fill_switch(bpf_map__fd(o->x->maps.fwd_endpoints),
				  bpf_map__fd(o->x->maps.fwd_endpoints6),
				  bpf_map__fd(o->x->maps.fwd_ports));
	if (err)
		return err;
	o->prog_fd[VETH] = bpf_program__fd(o->x->progs.fwd_xdp_ingress);
	o->prog_fd[UPLINK_PROG] = -1;
	o->counters_fd = bpf_map__fd(o->x->maps.fwd_counters);
	o->trace_fd = bpf_map__fd(o->x->maps.fwd_trace);
	return counters_read(o, o->cnt);
}

/*
 * The lab's XDP fast path (fwd_xdp_uplink) over the lab's own maps, as `up` loads it: the one
 * connection table and counters. Forward udp 5353 green:53 (rule 2) is an xdp forward.
 */
static int load_xdp_uplink(struct obj *o)
{
	struct fwd_xdp_target tg = { .addr = htonl(NS(3)),
				     .ep = { .ifindex = if_vh[3], .slot = 3 } };
	struct bpf_map *map;
	__u32 rule = 2;
	int err;

	o->xu = fwd_xdp_uplink__open();
	if (!o->xu)
		return -errno;
	memcpy((void *)&o->xu->rodata->fwd_cfg, (const void *)&lab.tc->rodata->fwd_cfg,
	       sizeof(o->xu->rodata->fwd_cfg));
	bpf_object__for_each_map(map, o->xu->obj)
	{
		struct bpf_map *theirs;

		if (bpf_map__is_internal(map) || !strcmp(bpf_map__name(map), FWD_MAP_XDP_FLOWS))
			continue;
		theirs = bpf_object__find_map_by_name(lab.tc->obj, bpf_map__name(map));
		if (!theirs)
			return -ENOENT;
		if ((err = bpf_map__reuse_fd(map, bpf_map__fd(theirs))))
			return err;
	}
	if ((err = fwd_xdp_uplink__load(o->xu)))
		return err;
	memcpy(tg.ep.mac, mac_ns[3], 6);
	memcpy(tg.ep.host_mac, mac_host[3], 6);
	if (bpf_map_update_elem(bpf_map__fd(lab.tc->maps.fwd_xdp_targets), &rule, &tg, BPF_ANY))
		return -errno;
	o->prog_fd[VETH] = -1;
	o->prog_fd[UPLINK_PROG] = bpf_program__fd(o->xu->progs.fwd_xdp_uplink);
	o->counters_fd = lab.counters_fd;
	o->trace_fd = lab.trace_fd;
	o->ct_fd = lab.ct_fd;
	return counters_read(o, o->cnt);
}

/* --- reading frames back --------------------------------------------------------------- */

static __u32 rd32(const __u8 *b)
{
	return (__u32)b[0] << 24 | (__u32)b[1] << 16 | (__u32)b[2] << 8 | b[3];
}

static __u16 rd16(const __u8 *b)
{
	return (__u16)(b[0] << 8 | b[1]);
}

/* An untagged Ethernet frame's IPv4 header whose lengths hold: its offset, else 0. */
static size_t ipv4_at(const __u8 *b, size_t len)
{
	const __u8 *ip = b + ETH_HLEN;
	size_t hl;

	if (len < ETH_HLEN + 20 || rd16(b + 12) != ETH_P_IP || ip[0] >> 4 != 4)
		return 0;
	hl = (ip[0] & 15) * 4;
	if (hl < 20 || rd16(ip + 2) < hl || rd16(ip + 2) > len - ETH_HLEN)
		return 0;
	return ETH_HLEN;
}

static __u16 l4_sum(const __u8 *ip, const __u8 *l4, size_t l4_len, bool pseudo)
{
	__u32 sum = 0;

	if (pseudo)
		sum = pkt_sum16(ip + 12, 8, 0) + ip[9] + (__u32)l4_len;
	return pkt_fold(pkt_sum16(l4, l4_len, sum));
}

/*
 * The checksums of the IPv4 packet at @ip, @avail bytes there (@quoted: inside an ICMP error,
 * whose quote may stop short of the packet's length): NULL when all are right (or cannot be
 * told: a fragment's L4, a quote cut short), else which is wrong. *@sane false: no IPv4
 * packet whose lengths hold.
 */
static const char *ipv4_csum_error(const __u8 *ip, size_t avail, bool quoted, bool *sane)
{
	size_t hl, tot, l4_len;
	const __u8 *l4;

	*sane = false;
	if (avail < 20 || ip[0] >> 4 != 4)
		return NULL;
	hl = (ip[0] & 15) * 4;
	tot = rd16(ip + 2);
	if (hl < 20 || hl > avail || tot < hl)
		return NULL;
	if (!quoted && tot > avail)
		return NULL;
	*sane = true;
	if (pkt_fold(pkt_sum16(ip, hl, 0)))
		return quoted ? "quoted IPv4 header checksum" : "IPv4 header checksum";
	if (rd16(ip + 6) & 0x3fff) /* MF or an offset: the L4 checksum is the datagram's */
		return NULL;
	if (quoted && tot > avail)
		return NULL; /* the quote stops short: its L4 checksum cannot be told */
	l4 = ip + hl;
	l4_len = tot - hl;
	switch (ip[9]) {
	case IPPROTO_TCP:
		if (l4_len >= 20 && l4_sum(ip, l4, l4_len, true))
			return quoted ? "quoted TCP checksum" : "TCP checksum";
		break;
	case IPPROTO_UDP:
		if (l4_len >= 8 && rd16(l4 + 6)) {
			size_t ulen = rd16(l4 + 4);

			if (ulen >= 8 && ulen <= l4_len && l4_sum(ip, l4, ulen, true))
				return quoted ? "quoted UDP checksum" : "UDP checksum";
		}
		break;
	case IPPROTO_ICMP:
		if (l4_len < 8)
			break;
		if (l4_sum(ip, l4, l4_len, false))
			return quoted ? "quoted ICMP checksum" : "ICMP checksum";
		if (!quoted && (l4[0] == 3 || l4[0] == 11 || l4[0] == 12)) {
			bool qsane;

			return ipv4_csum_error(l4 + 8, l4_len - 8, true, &qsane);
		}
		break;
	}
	return NULL;
}

/* --- building frames ------------------------------------------------------------------- */

struct frame {
	struct pkt p;
	int from; /* 1..4: that namespace's host veth; 0: the uplink */
	const char *what;
};

struct ip_spec {
	const __u8 *dmac, *smac; /* defaults by direction */
	__u32 saddr, daddr;
	__u8 proto, ttl;
	__u16 id, frag; /* frag: DF by default; 0xffff: none */
	__u16 vlan;	/* 0x8100 or 0x88a8: tagged */
	__u8 opt_len;	/* IPv4 options, a multiple of 4 */
	const __u8 *opts;
	__u8 opts_n;
	__u16 sport, dport;
	__u8 flags;	   /* TCP */
	__u32 seq, ack;	   /* TCP */
	__u8 type, code;   /* ICMP */
	__u16 icmp_id;	   /* ICMP echo */
	__u16 payload;	   /* bytes of payload */
	const __u8 *quote; /* ICMP error: the quoted packet */
	size_t quote_len;
	bool udp_no_csum;
};

static void build(struct frame *f, int from, const struct ip_spec *s)
{
	struct pkt *p = &f->p;
	__u16 frag = s->frag == 0xffff ? 0 : s->frag ? s->frag : 0x4000;

	pkt_init(p);
	f->from = from;
	pkt_eth(p,
		s->dmac ? s->dmac
		: from	? mac_gw
			: mac_uplink,
		s->smac ? s->smac
		: from	? mac_ns[from]
			: mac_remote,
		s->vlan ? s->vlan : ETH_P_IP);
	if (s->vlan)
		pkt_vlan(p, 7, ETH_P_IP);
	pkt_ipv4(p, &(struct pkt_ipv4){ .saddr = s->saddr,
					.daddr = s->daddr,
					.proto = s->proto,
					.ttl = s->ttl,
					.id = s->id ? s->id : (__u16)rnd64(),
					.frag_off = frag,
					.opt_len = s->opt_len });
	if (s->opts)
		memcpy(p->b + p->l3 + 20, s->opts, s->opts_n);
	switch (s->proto) {
	case IPPROTO_TCP: {
		__u8 *tcp = pkt_tcp(p, s->sport, s->dport, s->seq, s->flags, 64240);

		if (s->flags & TCP_ACK)
			*(__be32 *)(tcp + 8) = htonl(s->ack);
		break;
	}
	case IPPROTO_UDP: pkt_udp(p, s->sport, s->dport); break;
	case IPPROTO_ICMP:
		pkt_icmp(p, s->type, s->code, s->quote ? 0 : s->icmp_id, s->quote ? 0 : 7);
		if (s->quote)
			pkt_data(p, s->quote, s->quote_len);
		break;
	default: break;
	}
	for (__u16 i = 0; i < s->payload; i++)
		*pkt_put(p, 1) = 'a' + i % 26;
	pkt_finish(p, s->udp_no_csum ? PKT_UDP_NO_CSUM : 0);
}

/* --- the pool of connections ----------------------------------------------------------- */

enum nat_kind { C_SNAT, C_DNAT, C_HAIRPIN };

struct conn {
	enum nat_kind kind;
	__u8 proto;
	int ns;		  /* SNAT, HAIRPIN: the client's; DNAT: the target's */
	__u32 raddr;	  /* SNAT: the server; DNAT: the LAN client */
	__u16 rport;	  /* SNAT: server port; DNAT: client port */
	__u16 nsport;	  /* SNAT: client port (ICMP: echo id); DNAT, HAIRPIN: target port */
	__u16 uport;	  /* SNAT: the uplink port (id) it got; DNAT, HAIRPIN: the published one */
	__u16 hport;	  /* HAIRPIN: the client's port */
	int hns;	  /* HAIRPIN: the client namespace */
	__u32 cseq, sseq; /* TCP: next sequence of the client, of the server */
	bool up;
};

static struct conn pool[] = {
	{ C_SNAT, IPPROTO_TCP, 1, REMOTE, 443 },
	{ C_SNAT, IPPROTO_TCP, 2, FAR, 443 },
	{ C_SNAT, IPPROTO_TCP, 3, REMOTE, 22 },
	{ C_SNAT, IPPROTO_UDP, 3, REMOTE, 53 },
	{ C_SNAT, IPPROTO_UDP, 3, FAR, 123 },
	{ C_SNAT, IPPROTO_ICMP, 1, REMOTE, 0 },
	{ C_SNAT, IPPROTO_ICMP, 3, FAR, 0 },
	{ C_DNAT, IPPROTO_TCP, 2, REMOTE, 0, 80, 80 },
	{ C_DNAT, IPPROTO_TCP, 4, FAR, 0, 8003, 8003 },
	{ C_DNAT, IPPROTO_TCP, 1, REMOTE, 0, 8080, 8080 },
	{ C_DNAT, IPPROTO_UDP, 3, FAR, 0, 53, 5353 },
	{ C_HAIRPIN, IPPROTO_TCP, 2, 0, 0, 80, 80, 0, 1 },
};
#define POOL_N (sizeof(pool) / sizeof(pool[0]))

static __u16 fresh_port(void)
{
	return 20000 + rnd(10000);
}

/* A data frame of @c (or its handshake: @flags), from the client side (@client) or the server
 * side, into @f. */
static void conn_frame(struct frame *f, const struct conn *c, bool client, __u8 flags,
		       const struct ip_spec *extra)
{
	struct ip_spec s = extra ? *extra : (struct ip_spec){};
	bool tcp = c->proto == IPPROTO_TCP;
	int from;

	s.proto = c->proto;
	if (!s.flags)
		s.flags = flags ? flags : TCP_PSH | TCP_ACK;
	if (!s.payload)
		s.payload = 10;
	switch (c->kind) {
	case C_SNAT: /* the client is the namespace */
		from = client ? c->ns : 0;
		s.saddr = client ? NS(c->ns) : c->raddr;
		s.daddr = client ? c->raddr : UPLINK;
		s.sport = client ? c->nsport : c->rport;
		s.dport = client ? c->rport : c->uport;
		if (c->proto == IPPROTO_ICMP) {
			s.type = client ? 8 : 0;
			s.icmp_id = client ? c->nsport : c->uport;
		}
		break;
	case C_DNAT: /* the client is on the LAN */
		from = client ? 0 : c->ns;
		s.saddr = client ? c->raddr : NS(c->ns);
		s.daddr = client ? UPLINK : c->raddr;
		s.sport = client ? c->rport : c->nsport;
		s.dport = client ? c->uport : c->rport;
		break;
	default: /* HAIRPIN: client namespace hns to the uplink's address, served by ns */
		from = client ? c->hns : c->ns;
		s.saddr = client ? NS(c->hns) : NS(c->ns);
		s.daddr = client ? UPLINK : NS(c->hns);
		s.sport = client ? c->hport : c->nsport;
		s.dport = client ? c->uport : c->hport;
		if (!client)
			s.dmac = mac_ns[c->hns];
		break;
	}
	if (tcp) {
		s.seq = client ? c->cseq : c->sseq;
		s.ack = client ? c->sseq : c->cseq;
		if (s.flags & TCP_SYN)
			s.payload = extra && extra->payload ? extra->payload : 0;
	}
	build(f, from, &s);
}

static __u64 frame_no;
static unsigned long long translated, frames_fed;

struct result {
	__u32 lab_counter; /* the lab's verdict counter for the frame's own direction */
	struct pkt out;	   /* what the lab's program made of it */
};

static void feed(const struct frame *f, struct result *res);

/* Open (again) connection @c, through the programs like any frame. */
static void conn_open(struct conn *c)
{
	struct result r;
	struct frame f;

	c->up = false;
	c->cseq = (__u32)rnd64();
	c->sseq = (__u32)rnd64();
	if (c->kind == C_SNAT) {
		/* Inside snat-ports: kept when free, so the corpus's frames find it again. */
		c->nsport = NAT_PORT_LO + rnd(NAT_PORT_HI - NAT_PORT_LO + 1);
	} else if (c->kind == C_DNAT) {
		c->rport = fresh_port();
	} else {
		c->hport = fresh_port();
	}
	conn_frame(&f, c, true, TCP_SYN, NULL);
	f.what = "pool: open";
	feed(&f, &r);
	if (c->kind == C_SNAT) {
		if (r.lab_counter != FWD_CNT_SNAT || !ipv4_at(r.out.b, r.out.len))
			return;
		c->uport = c->proto == IPPROTO_ICMP ? rd16(r.out.b + ETH_HLEN + 20 + 4)
						    : rd16(r.out.b + ETH_HLEN + 20);
	} else if (r.lab_counter != FWD_CNT_DNAT && r.lab_counter != FWD_CNT_DNAT_XDP) {
		return;
	}
	if (c->proto == IPPROTO_TCP)
		c->cseq++;
	conn_frame(&f, c, false, TCP_SYN | TCP_ACK, NULL);
	feed(&f, &r);
	if (r.lab_counter != (c->kind == C_SNAT ? FWD_CNT_SNAT_REPLY : FWD_CNT_DNAT_REPLY))
		return;
	if (c->proto == IPPROTO_TCP) {
		c->sseq++;
		conn_frame(&f, c, true, TCP_ACK, NULL);
		f.what = "pool: open";
		feed(&f, &r);
	}
	c->up = true;
}

/* Is @c still in the table, and for TCP established? Else open it again. */
static void pool_check(void)
{
	for (size_t i = 0; i < POOL_N; i++) {
		struct conn *c = &pool[i];
		struct fwd_ct_key key;
		struct fwd_ct_entry e;

		if (c->up) {
			memset(&key, 0, sizeof(key));
			key.proto = c->proto;
			if (c->kind == C_SNAT) {
				key.saddr = htonl(NS(c->ns));
				key.daddr = htonl(c->raddr);
				key.sport = htons(c->nsport);
				key.dport = htons(c->proto == IPPROTO_ICMP ? 0 : c->rport);
			} else if (c->kind == C_DNAT) {
				key.saddr = htonl(c->raddr);
				key.daddr = htonl(UPLINK);
				key.sport = htons(c->rport);
				key.dport = htons(c->uport);
			} else {
				key.saddr = htonl(NS(c->hns));
				key.daddr = htonl(UPLINK);
				key.sport = htons(c->hport);
				key.dport = htons(c->uport);
			}
			if (bpf_map_lookup_elem(lab.ct_fd, &key, &e) ||
			    (c->proto == IPPROTO_TCP && e.track.state != FWD_CT_TCP_ESTABLISHED))
				c->up = false;
		}
		if (!c->up)
			conn_open(c);
	}
}

static struct conn *pool_pick(bool need_up)
{
	for (int tries = 0; tries < 8; tries++) {
		struct conn *c = &pool[rnd(POOL_N)];

		if (c->up || !need_up)
			return c;
	}
	return &pool[rnd(POOL_N)];
}

/* The packet (no Ethernet) @c's other side sent and this side received, for a quote. */
static size_t conn_quote(const struct conn *c, bool to_ns, bool as_received, __u8 *q)
{
	struct frame f;

	/* What came from the other side: the server's (SNAT) or the client's (DNAT). */
	conn_frame(&f, c, c->kind == C_SNAT ? !to_ns : to_ns, 0, NULL);
	if (as_received) { /* into the namespace: its destination is the namespace's */
		__u8 *ip = f.p.b + ETH_HLEN, *l4 = ip + 20;

		if (c->kind == C_SNAT) { /* a reply, uplink:uport -> ns:nsport */
			*(__be32 *)(ip + 16) = htonl(NS(c->ns));
			if (c->proto == IPPROTO_ICMP)
				*(__be16 *)(l4 + 4) = htons(c->nsport);
			else
				*(__be16 *)(l4 + 2) = htons(c->nsport);
		} else if (c->kind == C_DNAT) { /* a client's packet, to ns:nsport */
			*(__be32 *)(ip + 16) = htonl(NS(c->ns));
			*(__be16 *)(l4 + 2) = htons(c->nsport);
		}
		pkt_finish(&f.p, 0);
	}
	memcpy(q, f.p.b + ETH_HLEN, f.p.len - ETH_HLEN);
	return f.p.len - ETH_HLEN;
}

/* --- templates ------------------------------------------------------------------------- */

static struct {
	struct pkt whole; /* the datagram, IPv4 from Ethernet on */
	int from;
	int next, n;
	__u16 order[4];
} frags;

/* A UDP datagram in 3 fragments (first, middle, last), handed out one per call, sometimes out
 * of order. */
static void frag_template(struct frame *f)
{
	if (frags.next >= frags.n || chance(10)) {
		struct conn *c = pool_pick(true);
		struct ip_spec s = { .frag = 0xffff, .payload = 100 };

		if (c->proto != IPPROTO_UDP)
			c = &pool[3]; /* udp */
		conn_frame(f, c, chance(50), 0, &s);
		frags.whole = f->p;
		frags.from = f->from;
		frags.n = 3;
		frags.next = 0;
		for (int i = 0; i < 3; i++)
			frags.order[i] = i;
		if (chance(30)) { /* out of order: a later one first */
			frags.order[0] = 1 + rnd(2);
			frags.order[frags.order[0]] = 0;
		}
	}
	{
		int k = frags.order[frags.next++];
		const __u8 *ip = frags.whole.b + ETH_HLEN;
		size_t payload = rd16(ip + 2) - 20, at = k * 48, part = k == 2 ? payload - 96 : 48;
		struct pkt *p = &f->p;
		struct iphdr *iph;

		pkt_init(p);
		memcpy(p->b, frags.whole.b, ETH_HLEN + 20);
		p->len = ETH_HLEN + 20;
		p->l3 = ETH_HLEN;
		p->l4 = p->len;
		pkt_data(p, ip + 20 + at, part);
		iph = pkt_iph(p);
		iph->tot_len = htons(20 + part);
		iph->frag_off = htons((k == 2 ? 0 : 0x2000) | (at / 8));
		pkt_ipv4_csum(p);
		f->from = frags.from;
		f->what = "fragment";
	}
}

/* A few frames that reach one path each: the paths mutations seldom find on their own. */
static void misc_template(struct frame *f)
{
	struct ip_spec s = { .proto = IPPROTO_TCP, .flags = TCP_SYN, .payload = 4 };
	int ns = 1 + rnd(4);

	switch (rnd(18)) {
	case 0: /* to an unreachable route: the kernel's */
		s.saddr = NS(ns), s.daddr = UNREACH, s.sport = fresh_port(), s.dport = 80;
		build(f, ns, &s);
		break;
	case 1: /* to a port of the host's own on the uplink */
		s.saddr = NS(ns), s.daddr = UPLINK, s.sport = fresh_port(), s.dport = 22;
		build(f, ns, &s);
		break;
	case 2: /* GRE: nothing to masquerade it with */
		s.proto = 47, s.saddr = NS(ns), s.daddr = REMOTE;
		build(f, ns, &s);
		break;
	case 3: /* to another topology's forward */
		s.saddr = NS(ns), s.daddr = UPLINK, s.sport = fresh_port(), s.dport = 9000;
		build(f, ns, &s);
		break;
	case 4: /* to tcp 8080 from outside its "from" */
		s.saddr = OUTSIDER, s.daddr = UPLINK, s.sport = fresh_port(), s.dport = 8080;
		build(f, 0, &s);
		break;
	case 5: /* the LAN to a namespace's address */
		s.saddr = REMOTE, s.daddr = NS(ns), s.sport = fresh_port(), s.dport = 80;
		build(f, 0, &s);
		break;
	case 6: /* the LAN with a source of the bridge's subnet */
		s.saddr = NS(ns), s.daddr = UPLINK, s.sport = fresh_port(), s.dport = 80;
		build(f, 0, &s);
		break;
	case 7: /* the LAN to another address */
		s.saddr = REMOTE, s.daddr = IP(10, 77, 0, 9), s.sport = 1, s.dport = 2;
		build(f, 0, &s);
		break;
	case 8: /* another source MAC, another source address */
		s.saddr = NS(ns), s.daddr = NS(1 + ns % 4), s.dmac = mac_ns[1 + ns % 4];
		s.smac = chance(50) ? mac_ns[1 + ns % 4] : NULL;
		if (!s.smac)
			s.saddr = NS(1 + ns % 4);
		build(f, ns, &s);
		break;
	case 9: /* multicast, broadcast */
		s.proto = IPPROTO_UDP, s.saddr = NS(ns),
		s.daddr = chance(50) ? 0xe00000fbu : NS(255);
		s.dmac = chance(50) ? mac_mcast : mac_bcast, s.sport = 5353, s.dport = 5353;
		build(f, ns, &s);
		break;
	case 10: /* a namespace's address via the gateway's MAC; its own address */
		s.saddr = NS(ns), s.daddr = chance(50) ? NS(1 + ns % 4) : NS(ns);
		s.dmac = s.daddr == NS(ns) ? mac_ns[ns] : mac_gw;
		build(f, ns, &s);
		break;
	case 11: /* the LAN: a bare ACK to a forward */
		s.saddr = REMOTE, s.daddr = UPLINK, s.sport = fresh_port(), s.dport = 80;
		s.flags = TCP_ACK;
		build(f, 0, &s);
		break;
	case 12: { /* a segment far out of a pool connection's window */
		struct conn *c = pool_pick(true);
		struct ip_spec w = { .flags = TCP_RST };

		if (c->proto != IPPROTO_TCP)
			c = &pool[0];
		conn_frame(f, c, chance(50), 0, &w);
		{
			__u8 *tcp = f->p.b + f->p.l4;

			*(__be32 *)(tcp + 4) = htonl(rd32(tcp + 4) + 0x40000000u);
			pkt_finish(&f->p, 0);
		}
		break;
	}
	case 13: /* a new connection from a namespace: the table, the namespace's share, ports */
		s.saddr = NS(ns), s.daddr = REMOTE, s.sport = fresh_port(), s.dport = 80;
		build(f, ns, &s);
		break;
	case 14: /* a new connection from the LAN to a forward */
		s.saddr = chance(50) ? REMOTE : FAR + rnd(64), s.daddr = UPLINK;
		s.sport = fresh_port();
		if (chance(30)) {
			s.proto = IPPROTO_UDP, s.dport = 5353;
		} else {
			s.dport = chance(50) ? 80 : 8000 + rnd(10);
		}
		build(f, 0, &s);
		break;
	case 15: /* to a routed subnet: out untranslated */
		s.saddr = NS(ns), s.daddr = IP(10, 99, 1, rnd(256)), s.sport = fresh_port();
		s.dport = 80, s.proto = chance(30) ? IPPROTO_UDP : IPPROTO_TCP;
		build(f, ns, &s);
		break;
	case 16: /* from a routed subnet on the uplink, to a namespace (or to none) */
		s.saddr = IP(10, 99, 1, rnd(256)), s.daddr = chance(90) ? NS(ns) : NS(99);
		s.sport = fresh_port(), s.dport = 80;
		build(f, 0, &s);
		break;
	default: /* ICMP the uplink does not translate: a request to the host */
		s.proto = IPPROTO_ICMP, s.type = 8, s.saddr = REMOTE, s.daddr = UPLINK;
		build(f, 0, &s);
		break;
	}
	f->what = "misc";
}

/*
 * IPv6: from a namespace (its own address, fd00::N) to another, to the gateway or out (fd77::2,
 * or beyond the default route: masqueraded, NAT66), or from the LAN (fd00::9, or fd77::2 to the
 * uplink's fd77::1 from the ports the namespaces talk to, to the ports they were given: replies,
 * some of a live connection); TCP, UDP or ICMPv6 (neighbour discovery and router messages among
 * them, with a target of any namespace; echo; from the LAN errors quoting what a namespace sent
 * as it left), now and then behind up to 7 extension headers; the forward targets' ports as
 * sources, so that replies a hairpin may need translated are seen.
 */
static void ipv6_template(struct frame *f)
{
	static const __u8 protos[] = { IPPROTO_TCP, IPPROTO_UDP, 58 /* ICMPv6 */ };
	static const __u8 icmp_types[] = { 128, 129, 135, 136, 134, 137, 143, 1 };
	static const __u8 ext_types[] = { 0, 60, 43, 44 };
	int from = rnd(5), to = 1 + rnd(4), n_ext = rnd(4) ? 0 : rnd(8);
	__u8 proto = protos[rnd(3)], saddr[16], daddr[16], target[16];
	bool out = from && chance(40), reply = !from && chance(60),
	     tofwd = !from && !reply && chance(50);
	__u8 first = proto;
	__u16 sport = NAT_PORT_LO + rnd(4), dport = proto == IPPROTO_UDP ? 53 : 80;
	__u8 *h;

	pkt_init(&f->p);
	f->from = from;
	pkt_eth(&f->p, from ? (rnd(3) && !out ? mac_ns[to] : mac_gw) : mac_uplink,
		from ? mac_ns[from] : mac_remote, ETH_P_IPV6);
	ns6(from ? from : 9, saddr);
	ns6(to, daddr);
	if (out) /* to the LAN host, or beyond the default route */
		lan6(chance(70) ? 2 : 0x30, daddr);
	if (reply || tofwd) { /* a LAN host answering at the uplink, or to its forwards */
		lan6(2, saddr);
		lan6(1, daddr);
		sport = reply ? dport : NAT_PORT_LO + rnd(4);
		dport = reply ? NAT_PORT_LO + rnd(4) : proto == IPPROTO_UDP ? 5353 : 80;
	}
	if (n_ext)
		first = ext_types[rnd(4)];
	pkt_ipv6(&f->p, &(struct pkt_ipv6){
			    .saddr = saddr, .daddr = daddr, .nexthdr = first, .hop_limit = 64 });
	for (int i = 0; i < n_ext; i++) {
		__u8 type = f->p.proto6, next = i + 1 < n_ext ? ext_types[rnd(4)] : proto;

		pkt_ipv6_ext(&f->p, type, next, 8, type == 44 ? (rnd(2) ? 1 : 0x00a8) : 0);
	}
	/* blue's tcp 80 and green's udp 53 are the lab's forward targets; out of the uplink, to a
	 * client's port */
	if (rnd(2) &&
	    ((from == 2 && proto == IPPROTO_TCP) || (from == 3 && proto == IPPROTO_UDP))) {
		sport = from == 2 ? 80 : 53;
		if (out)
			dport = NAT_PORT_LO + rnd(4);
	}
	if (proto == 58 && reply && chance(40)) {
		/* An error quoting what left the uplink: fd77::1 -> fd77::2, a port of ours. */
		__u8 q[48] = { 0x60 }, qproto = rnd(2) ? IPPROTO_TCP : IPPROTO_UDP;

		q[5] = 8;
		q[6] = qproto;
		q[7] = 63;
		lan6(1, q + 8);
		lan6(2, q + 24);
		*(__be16 *)(q + 40) = htons(NAT_PORT_LO + rnd(4));
		*(__be16 *)(q + 42) = htons(qproto == IPPROTO_UDP ? 53 : 80);
		pkt_icmp(&f->p, 1 + rnd(4), 0, 0, 0);
		pkt_data(&f->p, q, sizeof(q));
	} else if (proto == 58) {
		__u8 type = out || reply ? (out ? 128 : 129) : icmp_types[rnd(sizeof(icmp_types))];

		h = pkt_icmp(&f->p, type, 0, 1, 1);
		if (type >= 135 && type <= 137) {
			ns6(rnd(2) ? from : (int)rnd(5), target);
			if (type == 136)
				h[4] = 0x20; /* override */
			pkt_data(&f->p, target, sizeof(target));
		}
	} else if (proto == IPPROTO_TCP) {
		pkt_tcp(&f->p, sport, dport, 1,
			reply || (out && sport == 80) ? TCP_SYN | TCP_ACK : TCP_SYN, 1024);
	} else {
		pkt_udp(&f->p, sport, dport);
		pkt_put(&f->p, 8);
	}
	pkt_finish6(&f->p);
	f->what = "ipv6";
}

static void arp_template(struct frame *f)
{
	int from = rnd(5), n = from ? from : 1;

	pkt_init(&f->p);
	f->from = from;
	pkt_eth(&f->p, chance(50) ? mac_bcast : mac_gw, from ? mac_ns[from] : mac_remote,
		ETH_P_ARP);
	pkt_arp(&f->p, chance(50) ? 1 : 2, from ? mac_ns[from] : mac_remote,
		chance(80)   ? (from ? NS(n) : REMOTE)
		: chance(50) ? 0
			     : NS(1 + n % 4),
		NS(5));
	pkt_put(&f->p, 18);
	f->what = "arp";
}

/* An ICMP error about a pool connection: from the LAN about what the uplink sent, or from the
 * namespace about what it received. */
static void icmp_error_template(struct frame *f, bool from_lan)
{
	struct conn *c = pool_pick(true);
	struct ip_spec s = { .proto = IPPROTO_ICMP,
			     .type = chance(80) ? 3 : 11,
			     .code = chance(50) ? 3 : 1 };
	__u8 q[PKT_MAX];
	size_t qlen;

	if (c->kind == C_HAIRPIN)
		c = &pool[7];
	if (from_lan) {
		/* What left by the uplink: SNAT, the client's (translated); DNAT, the reply. */
		struct frame sent;

		conn_frame(&sent, c, c->kind == C_SNAT, 0, NULL);
		if (c->kind == C_SNAT) { /* translated as it left */
			__u8 *ip = sent.p.b + ETH_HLEN;

			*(__be32 *)(ip + 12) = htonl(UPLINK);
			if (c->proto == IPPROTO_ICMP)
				*(__be16 *)(ip + 20 + 4) = htons(c->uport);
			else
				*(__be16 *)(ip + 20) = htons(c->uport);
		} else {
			__u8 *ip = sent.p.b + ETH_HLEN;

			*(__be32 *)(ip + 12) = htonl(UPLINK);
			*(__be16 *)(ip + 20) = htons(c->uport);
		}
		pkt_finish(&sent.p, 0);
		qlen = sent.p.len - ETH_HLEN;
		if (chance(40)) /* as routers do: the header and 8 bytes */
			qlen = 28;
		memcpy(q, sent.p.b + ETH_HLEN, qlen);
		s.saddr = chance(50) ? c->raddr : IP(10, 77, 0, 254);
		s.daddr = UPLINK;
		s.quote = q, s.quote_len = qlen;
		build(f, 0, &s);
	} else {
		/* What the namespace received: SNAT, the reply; DNAT, the client's packet. */
		qlen = conn_quote(c, true, true, q);
		if (chance(40))
			qlen = 28;
		s.saddr = NS(c->ns);
		s.daddr = c->raddr;
		s.quote = q, s.quote_len = qlen;
		build(f, c->ns, &s);
	}
	f->what = "icmp error";
}

static void template(struct frame *f)
{
	__u32 pick = rnd(100);
	struct conn *c;

	if (pick < 44) { /* a pool connection's data, either way */
		c = pool_pick(true);
		conn_frame(f, c, chance(50), 0, NULL);
		f->what = "pool";
	} else if (pick < 50) {
		icmp_error_template(f, true);
	} else if (pick < 56) {
		icmp_error_template(f, false);
	} else if (pick < 62) { /* between namespaces */
		struct ip_spec s = { .proto =
					 (__u8[]){ IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP }[rnd(3)],
				     .sport = fresh_port(),
				     .dport = 80,
				     .type = 8,
				     .flags = TCP_ACK,
				     .payload = rnd(64) };
		int from = 1 + rnd(4), to = 1 + rnd(4);

		s.saddr = NS(from), s.daddr = NS(to), s.dmac = mac_ns[to];
		build(f, from, &s);
		f->what = "ns to ns";
	} else if (pick < 66) { /* IPv4 options */
		static const __u8 rr[] = { 7, 7, 4, 0, 0, 0, 0, 0 }, ts[] = { 68, 12, 5, 0 },
				  lsrr[] = { 131, 7, 4, 10, 0, 0, 1, 0 };
		const __u8 *opts[] = { rr, ts, lsrr, NULL };
		int k = rnd(4);
		struct ip_spec s = { .opt_len = 8 * (1 + rnd(2)),
				     .opts = opts[k],
				     .opts_n = k < 3 ? 8 : 0 };

		if (k == 1)
			s.opts_n = 4;
		conn_frame(f, pool_pick(true), chance(50), 0, &s);
		f->what = "ip options";
	} else if (pick < 72) {
		frag_template(f);
	} else if (pick < 75) { /* 802.1Q, 802.1ad */
		struct ip_spec s = { .vlan = chance(50) ? ETH_P_8021Q : ETH_P_8021AD };

		conn_frame(f, pool_pick(true), chance(50), 0, &s);
		f->what = "vlan";
	} else if (pick < 78) {
		ipv6_template(f);
	} else if (pick < 81) {
		arp_template(f);
	} else if (pick < 84) { /* TTL 1 or 0 */
		struct ip_spec s = { .ttl = 1 };

		c = pool_pick(true);
		conn_frame(f, c, chance(50), 0, &s);
		if (chance(30)) {
			pkt_iph(&f->p)->ttl = 0;
			pkt_ipv4_csum(&f->p);
		}
		f->what = "ttl";
	} else if (pick < 87) { /* over the uplink's MTU, with DF or without */
		struct ip_spec s = { .payload = 1400 + rnd(200), .frag = chance(50) ? 0xffff : 0 };

		c = pool_pick(true);
		if (c->proto == IPPROTO_ICMP || c->kind == C_HAIRPIN)
			c = &pool[1 + rnd(2)];
		conn_frame(f, c, c->kind == C_SNAT, 0, &s);
		f->what = "big";
	} else if (pick < 90) {
		/* New connections from yellow (which holds none of the pool's): to one server,
		 * whose 50 ports on the uplink run out (drop_nat_no_port), and to a thousand,
		 * until yellow's share of the table, 64, does (drop_ct_ns_limit). Unanswered,
		 * they stay 10 s (syn_sent): both are reached at a few hundred frames a second. */
		struct ip_spec s = { .proto = IPPROTO_TCP,
				     .flags = TCP_SYN,
				     .saddr = NS(4),
				     .daddr = REMOTE,
				     .sport = fresh_port(),
				     .dport = chance(50) ? 80 : 1000 + rnd(1000) };

		build(f, 4, &s);
		f->what = "new connection";
	} else {
		misc_template(f);
	}
}

/* --- mutations ------------------------------------------------------------------------- */

static const __u32 addrs[] = { NS(1),	NS(2),	 NS(3),	      NS(4),	   NS(5),
			       NS(0),	NS(255), UPLINK,      REMOTE,	   FAR,
			       UNREACH, 0,	 0xffffffffu, 0x7f000001u, 0xe0000001u };
static const __u16 ports[] = { 0,    53,   80,	5353,	     8000,	  8009,
			       8080, 9000, 443, NAT_PORT_LO, NAT_PORT_HI, 65535 };
static const __u16 frag_offs[] = { 0, 0x2000, 0x4000, 0x0006, 0x2006, 0x6000 };
static const __u16 ethertypes[] = { ETH_P_IP, ETH_P_IPV6, ETH_P_ARP, ETH_P_8021Q, 0x1234 };
static const __u16 lens[] = { 0, 1, 7, 8, 19, 20, 21, 27, 28, 40, 60, 576, 1400, 65535 };

/* Fix the IPv4 header checksum and the L4 one, where the lengths let them be computed. */
static void fix_csums(struct pkt *p)
{
	size_t l3 = ETH_HLEN, hl, tot;
	__u8 *ip, *l4;

	if (p->len >= 18 && (rd16(p->b + 12) == ETH_P_8021Q || rd16(p->b + 12) == ETH_P_8021AD))
		l3 = 18;
	if (p->len < l3 + 20 || rd16(p->b + l3 - 2) != ETH_P_IP)
		return;
	ip = p->b + l3;
	hl = (ip[0] & 15) * 4;
	if (hl < 20 || l3 + hl > p->len)
		return;
	*(__be16 *)(ip + 10) = 0;
	*(__be16 *)(ip + 10) = htons(pkt_fold(pkt_sum16(ip, hl, 0)));
	tot = rd16(ip + 2);
	if (tot < hl || l3 + tot > p->len || (rd16(ip + 6) & 0x1fff))
		return;
	l4 = ip + hl;
	switch (ip[9]) {
	case IPPROTO_TCP:
		if (tot - hl >= 20) {
			*(__be16 *)(l4 + 16) = 0;
			*(__be16 *)(l4 + 16) = htons(l4_sum(ip, l4, tot - hl, true));
		}
		break;
	case IPPROTO_UDP:
		if (tot - hl >= 8 && rd16(l4 + 6)) {
			size_t ulen = rd16(l4 + 4);

			if (ulen >= 8 && ulen <= tot - hl) {
				*(__be16 *)(l4 + 6) = 0;
				*(__be16 *)(l4 + 6) = htons(l4_sum(ip, l4, ulen, true) ?: 0xffff);
			}
		}
		break;
	case IPPROTO_ICMP:
		if (tot - hl >= 8) {
			*(__be16 *)(l4 + 2) = 0;
			*(__be16 *)(l4 + 2) = htons(l4_sum(ip, l4, tot - hl, false));
		}
		break;
	}
}

static void mutate(struct frame *f)
{
	struct pkt *p = &f->p;
	size_t l3 = ETH_HLEN, l4;
	int n = 1 + rnd(3);

	if (rd16(p->b + 12) == ETH_P_8021Q || rd16(p->b + 12) == ETH_P_8021AD)
		l3 = 18;
	l4 = l3 + (p->len > l3 ? (p->b[l3] & 15) * 4 : 20);
	for (int i = 0; i < n; i++) {
		size_t at;

		switch (rnd(10)) {
		case 0: /* a bit anywhere */
			at = rnd(p->len);
			p->b[at] ^= 1u << rnd(8);
			break;
		case 1: /* a byte of the headers */
			at = rnd(l4 + 20 < p->len ? l4 + 20 : p->len);
			p->b[at] =
			    chance(50) ? (__u8)rnd64() : (__u8[]){ 0, 1, 0x7f, 0x80, 0xff }[rnd(5)];
			break;
		case 2: /* a length: IPv4 total length, IHL, UDP length, TCP data offset */
			if (p->len < l4 + 8)
				break;
			switch (rnd(4)) {
			case 0: *(__be16 *)(p->b + l3 + 2) = htons(lens[rnd(14)] + rnd(3)); break;
			case 1: p->b[l3] = (p->b[l3] & 0xf0) | rnd(16); break;
			case 2: *(__be16 *)(p->b + l4 + 4) = htons(lens[rnd(14)]); break;
			default:
				if (p->len > l4 + 12)
					p->b[l4 + 12] = rnd(16) << 4;
				break;
			}
			break;
		case 3: /* cut short */
			if (p->len > ETH_HLEN + 1)
				p->len = ETH_HLEN + rnd(p->len - ETH_HLEN);
			break;
		case 4: /* longer: random bytes or Ethernet padding */
			for (int k = 1 + rnd(64), z = chance(50); k > 0 && p->len < FRAME_MAX; k--)
				p->b[p->len++] = z ? 0 : (__u8)rnd64();
			break;
		case 5: /* an address */
			if (p->len >= l3 + 20)
				*(__be32 *)(p->b + l3 + (chance(50) ? 12 : 16)) =
				    htonl(addrs[rnd(sizeof(addrs) / 4)]);
			break;
		case 6: /* a port */
			if (p->len >= l4 + 4)
				*(__be16 *)(p->b + l4 + (chance(50) ? 0 : 2)) =
				    htons(chance(70) ? ports[rnd(12)] : (__u16)rnd64());
			break;
		case 7: /* protocol, fragment field, TTL, TCP flags, ICMP type */
			if (p->len < l4 + 14)
				break;
			switch (rnd(5)) {
			case 0: p->b[l3 + 9] = (__u8[]){ 1, 6, 17, 47, 0 }[rnd(5)]; break;
			case 1: *(__be16 *)(p->b + l3 + 6) = htons(frag_offs[rnd(6)]); break;
			case 2: p->b[l3 + 8] = rnd(3); break;
			case 3: p->b[l4 + 13] = (__u8)rnd64(); break;
			default: p->b[l4] = (__u8[]){ 0, 3, 8, 11, 12, 5 }[rnd(6)]; break;
			}
			break;
		case 8: /* the ethertype or a MAC */
			if (chance(50))
				*(__be16 *)(p->b + 12) = htons(ethertypes[rnd(5)]);
			else
				p->b[rnd(12)] ^= 1u << rnd(8);
			break;
		default: /* a random byte anywhere */ p->b[rnd(p->len)] = (__u8)rnd64(); break;
		}
	}
	if (chance(60))
		fix_csums(p);
	f->what = "mutated";
}

static void random_frame(struct frame *f)
{
	pkt_init(&f->p);
	f->p.len = ETH_HLEN + rnd(200);
	for (size_t i = 0; i < f->p.len; i++)
		f->p.b[i] = (__u8)rnd64();
	if (chance(70))
		*(__be16 *)(f->p.b + 12) = htons(ETH_P_IP);
	if (chance(50) && f->p.len > ETH_HLEN)
		f->p.b[ETH_HLEN] = 0x45;
	f->from = rnd(5);
	if (f->from)
		memcpy(f->p.b + 6, mac_ns[f->from], 6);
	if (chance(60))
		fix_csums(&f->p);
	f->what = "random";
}

/* --- invariants ------------------------------------------------------------------------ */

enum inv { INV_LEAK, INV_CSUM, INV_VERDICT, INV_XDP, INV_MAX };
static const char *const inv_names[INV_MAX] = {
	"no private source toward the uplink, none quoted, none passed to be routed out",
	"checksums of every forwarded frame valid (inputs with valid checksums)",
	"every frame moves exactly one verdict counter, the trace's, with its verdict",
	"tc and xdp give the same verdict where both handle the frame",
};
static unsigned long long inv_fails[INV_MAX], inv_checked[INV_MAX];
static unsigned saved;
static const struct pkt *fail_out; /* the output the failing check looks at, if any */

static const char *counter_name(__u32 i)
{
	static const char *const names[] = {
#define FWD_X_NAME(id, name) name,
		FWD_COUNTERS(FWD_X_NAME)
#undef FWD_X_NAME
	};

	return i < FWD_CNT_MAX ? names[i] : "?";
}

static void write_frame(FILE *out, const struct frame *f, const char *prefix)
{
	if (f->from)
		fprintf(out, "%sfrom ns%d\n", prefix, f->from);
	else
		fprintf(out, "%sfrom uplink\n", prefix);
	for (size_t i = 0; i < f->p.len; i++)
		fprintf(out, "%s%02x%s", i % 16 ? "" : prefix, f->p.b[i],
			i % 16 == 15 || i + 1 == f->p.len ? "\n" : " ");
}

static void fail(enum inv inv, const struct frame *f, const char *prog, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail(enum inv inv, const struct frame *f, const char *prog, const char *fmt, ...)
{
	char why[256], path[512];
	va_list ap;
	FILE *out;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (inv_fails[inv]++ >= 3)
		return;
	printf("fuzz_packets: broken: %s\n  seed %llu frame %llu (%s) on %s: %s\n", inv_names[inv],
	       opt_seed, (unsigned long long)frame_no, f->what ? f->what : "?", prog, why);
	write_frame(stdout, f, "  ");
	if (fail_out) {
		struct frame o = { .p = *fail_out, .from = f->from };

		printf("  came out as (%zu bytes):\n", fail_out->len);
		write_frame(stdout, &o, "  ");
	}
	if (saved >= 20)
		return;
	snprintf(path, sizeof(path), "%s/fuzz_packets-%llu-%llu.frame", opt_save, opt_seed,
		 (unsigned long long)frame_no);
	out = fopen(path, "w");
	if (!out) {
		printf("  cannot write %s: %s\n", path, strerror(errno));
		return;
	}
	fprintf(out, "# fuzz_packets seed %llu frame %llu (%s) on %s: %s\n", opt_seed,
		(unsigned long long)frame_no, f->what ? f->what : "?", prog, why);
	write_frame(out, f, "");
	fclose(out);
	saved++;
	printf("  saved as %s\n", path);
}

static bool is_redirect_counter(__u32 c)
{
	return c == FWD_CNT_REDIRECT_PEER || c == FWD_CNT_REDIRECT_XDP || c == FWD_CNT_SNAT ||
	       c == FWD_CNT_SNAT_REPLY || c == FWD_CNT_DNAT || c == FWD_CNT_DNAT_XDP ||
	       c == FWD_CNT_DNAT_REPLY || c == FWD_CNT_TO_PEER || c == FWD_CNT_TIME_EXCEEDED ||
	       c == FWD_CNT_SNAT6 || c == FWD_CNT_SNAT6_REPLY || c == FWD_CNT_DNAT6 ||
	       c == FWD_CNT_DNAT6_REPLY || c == FWD_CNT_ROUTED_OUT || c == FWD_CNT_ROUTED_IN;
}

static bool is_translated(__u32 c)
{
	return c == FWD_CNT_SNAT || c == FWD_CNT_SNAT_REPLY || c == FWD_CNT_DNAT ||
	       c == FWD_CNT_DNAT_XDP || c == FWD_CNT_DNAT_REPLY || c == FWD_CNT_SNAT6 ||
	       c == FWD_CNT_SNAT6_REPLY || c == FWD_CNT_DNAT6 || c == FWD_CNT_DNAT6_REPLY;
}

/* What one run did. */
struct run {
	int err;
	__u32 retval, counter; /* counter: FWD_CNT_MAX when none moved (refused) */
	struct fwd_trace trace;
	struct pkt out;
	bool redirect, pass, drop;
};

/* Run @f through program @prog of @o, coming in by @ifindex; the verdict invariant checked. */
static void run_prog(struct obj *o, enum prog prog, const struct frame *f, int ifindex,
		     struct run *r)
{
	static const struct fwd_trace zero_trace;
	struct __sk_buff skb = { .ifindex = ifindex };
	struct xdp_md md = { .ingress_ifindex = ifindex, .data_end = f->p.len };
	const char *pname = o->xdp ? "xdp" : prog == VETH ? "tc veth" : "tc uplink";
	__u64 now[FWD_CNT_MAX];
	__u32 zero = 0, moved = 0;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->p.b, .data_size_in = f->p.len,
		    .data_out = r->out.b, .data_size_out = sizeof(r->out.b), .repeat = 1);
	char name[64];

	snprintf(name, sizeof(name), "%s %s", o->name, pname);
	if (o->xdp) {
		opts.ctx_in = &md;
		opts.ctx_size_in = sizeof(md);
	} else {
		opts.ctx_in = &skb;
		opts.ctx_size_in = sizeof(skb);
	}
	memset(&r->trace, 0, sizeof(r->trace));
	r->counter = FWD_CNT_MAX;
	r->redirect = r->pass = r->drop = false;
	bpf_map_update_elem(o->trace_fd, &zero, &zero_trace, BPF_ANY);
	r->err = bpf_prog_test_run_opts(o->prog_fd[prog], &opts);
	r->retval = opts.retval;
	r->out.len = r->err ? 0 : opts.data_size_out;
	if (counters_read(o, now) || bpf_map_lookup_elem(o->trace_fd, &zero, &r->trace)) {
		fail(INV_VERDICT, f, name, "cannot read the maps: %s", strerror(errno));
		return;
	}
	o->runs++;
	inv_checked[INV_VERDICT]++;
	for (__u32 i = 0; i < FWD_CNT_MAX; i++) {
		__u64 d = now[i] - o->cnt[i];

		o->hits[i] += d;
		if (!d || fwd_counter_is_event(i))
			continue;
		if (d != 1 || moved++)
			fail(INV_VERDICT, f, name, "counter %s moved by %llu%s", counter_name(i),
			     (unsigned long long)d, moved > 1 ? " (a second counter)" : "");
		r->counter = i;
	}
	memcpy(o->cnt, now, sizeof(now));
	if (r->err) {
		o->refused++;
		if (r->err != -EINVAL)
			fail(INV_VERDICT, f, name, "test run failed: %s", strerror(-r->err));
		if (moved)
			fail(INV_VERDICT, f, name, "refused (%d), yet %s moved", r->err,
			     counter_name(r->counter));
		r->counter = FWD_CNT_MAX;
		return;
	}
	if (!moved && o->pass_silent && r->retval == XDP_PASS) {
		r->pass = true;
		return;
	}
	if (!moved) {
		fail(INV_VERDICT, f, name, "no counter moved (verdict %d)", (int)r->retval);
		return;
	}
	if (r->trace.counter != r->counter)
		fail(INV_VERDICT, f, name, "trace says %s, the counters %s",
		     counter_name(r->trace.counter), counter_name(r->counter));
	if (is_redirect_counter(r->counter)) {
		r->redirect = true;
		if (r->retval != (o->xdp ? XDP_REDIRECT : TC_ACT_REDIRECT))
			fail(INV_VERDICT, f, name, "%s with verdict %d", counter_name(r->counter),
			     (int)r->retval);
	} else if (r->counter >= FWD_CNT_DROP_FIRST || r->counter == FWD_CNT_FRAG_PARKED) {
		r->drop = true;
		if (r->retval != (o->xdp ? XDP_DROP : TC_ACT_SHOT))
			fail(INV_VERDICT, f, name, "%s with verdict %d", counter_name(r->counter),
			     (int)r->retval);
	} else {
		__u32 want = o->xdp		   ? XDP_PASS
			     : prog == UPLINK_PROG ? (__u32)TC_ACT_UNSPEC
						   : TC_ACT_OK;

		r->pass = true;
		if (r->retval != want)
			fail(INV_VERDICT, f, name, "%s with verdict %d", counter_name(r->counter),
			     (int)r->retval);
	}
}

static bool is_ipv6_frame(const struct pkt *p)
{
	return p->len >= ETH_HLEN + sizeof(struct ipv6hdr) && rd16(p->b + 12) == ETH_P_IPV6 &&
	       p->b[ETH_HLEN] >> 4 == 6;
}

/*
 * The invariants on an IPv6 frame that came out: out of the uplink, no source in the bridge's
 * prefix and no ICMPv6 error quoting one; translated (redirected, changed), every checksum
 * right when the input's were (pkt_csum_error6(): no extension headers, a quote's too).
 */
static void check_output6(const struct frame *f, const struct run *r, const char *name)
{
	const __u8 *ip = r->out.b + ETH_HLEN;
	bool changed = r->out.len != f->p.len || memcmp(r->out.b, f->p.b, f->p.len);

	if (r->redirect && r->trace.target_ifindex == (__u32)if_up0 &&
	    !(r->trace.redirect_flags & BPF_F_INGRESS)) {
		inv_checked[INV_LEAK]++;
		if (private6(ip + 8))
			fail(INV_LEAK, f, name, "%s: an IPv6 source of the bridge's prefix leaves",
			     counter_name(r->counter));
		else if (ip[6] == 58 && r->out.len >= ETH_HLEN + 40 + 8 + 40 && ip[40] >= 1 &&
			 ip[40] <= 4 && (private6(ip + 48 + 8) || private6(ip + 48 + 24)))
			fail(INV_LEAK, f, name, "%s: an ICMPv6 error quotes the bridge's prefix",
			     counter_name(r->counter));
	}
	if (!(r->redirect || (r->pass && changed)) || !is_ipv6_frame(&f->p) ||
	    f->p.b[ETH_HLEN + 6] != r->out.b[ETH_HLEN + 6] ||
	    pkt_csum_error6(f->p.b + ETH_HLEN, f->p.len - ETH_HLEN, false))
		return;
	/* the same upper layer right after the header in and out, valid in: check it out */
	if (ip[6] != IPPROTO_TCP && ip[6] != IPPROTO_UDP && ip[6] != 58)
		return;
	inv_checked[INV_CSUM]++;
	if (pkt_csum_error6(ip, r->out.len - ETH_HLEN, false))
		fail(INV_CSUM, f, name, "%s: %s wrong", counter_name(r->counter),
		     pkt_csum_error6(ip, r->out.len - ETH_HLEN, false));
}

/* The checksum and leak invariants on what run @r of @f made. */
static void check_output(const struct frame *f, enum prog prog, const struct run *r,
			 const char *name, bool is_lab)
{
	bool changed = r->out.len != f->p.len || memcmp(r->out.b, f->p.b, f->p.len);
	bool sane, in_sane;
	size_t l3 = ipv4_at(r->out.b, r->out.len);
	const __u8 *ip = r->out.b + ETH_HLEN;
	const char *bad;

	fail_out = &r->out;
	if (is_ipv6_frame(&r->out)) {
		check_output6(f, r, name);
		fail_out = NULL;
		return;
	}
	/* Toward the uplink: out of it (not into its ingress: another topology's forward). */
	if (r->redirect && r->trace.target_ifindex == (__u32)if_up0 &&
	    !(r->trace.redirect_flags & BPF_F_INGRESS)) {
		inv_checked[INV_LEAK]++;
		if (!l3) {
			fail(INV_LEAK, f, name, "%s: no IPv4 packet leaves by the uplink",
			     counter_name(r->counter));
		} else if (PRIVATE(rd32(ip + 12)) && !ROUTED(rd32(ip + 16))) {
			fail(INV_LEAK, f, name, "%s: source %s leaves by the uplink",
			     counter_name(r->counter),
			     inet_ntoa((struct in_addr){ *(const __be32 *)(ip + 12) }));
		} else if (ip[9] == IPPROTO_ICMP && !(rd16(ip + 6) & 0x1fff) &&
			   !ROUTED(rd32(ip + 16))) {
			size_t hl = (ip[0] & 15) * 4, tot = rd16(ip + 2);
			const __u8 *icmp = ip + hl;

			if (tot >= hl + 8 + 20 &&
			    (icmp[0] == 3 || icmp[0] == 4 || icmp[0] == 5 || icmp[0] == 11 ||
			     icmp[0] == 12) &&
			    (PRIVATE(rd32(icmp + 8 + 12)) || PRIVATE(rd32(icmp + 8 + 16))))
				fail(INV_LEAK, f, name,
				     "%s: an ICMP error quotes a private address",
				     counter_name(r->counter));
		}
	}
	/* Passed by a namespace's veth: the kernel would route what goes outside the subnet,
	 * and without MASQUERADE out of the uplink untranslated, unless it refuses it first. */
	if (is_lab && prog == VETH && r->pass && l3 && !PRIVATE(rd32(ip + 16)) &&
	    rd32(ip + 16) != 0xffffffffu && rd32(ip + 16) >> 28 != 14 && rd32(ip + 16) != UPLINK &&
	    rd32(ip + 16) >> 24 != 127 && rd32(ip + 16) != 0 &&
	    !pkt_fold(pkt_sum16(ip, (ip[0] & 15) * 4, 0))) {
		inv_checked[INV_LEAK]++;
		if (r->counter != FWD_CNT_PASS_ROUTE && r->counter != FWD_CNT_PASS_TTL &&
		    r->counter != FWD_CNT_PASS_FRAG_NEEDED && r->counter != FWD_CNT_PASS_MULTICAST)
			fail(INV_LEAK, f, name, "%s: passed to the kernel, to be routed out",
			     counter_name(r->counter));
	}
	if (!r->redirect && !(r->pass && changed)) {
		fail_out = NULL;
		return;
	}
	/* Forwarded: were the input's checksums right? */
	if (!ipv4_at(f->p.b, f->p.len) ||
	    ipv4_csum_error(f->p.b + ETH_HLEN, f->p.len - ETH_HLEN, false, &in_sane) || !in_sane) {
		fail_out = NULL;
		return;
	}
	inv_checked[INV_CSUM]++;
	if (!l3) {
		fail(INV_CSUM, f, name, "%s: no IPv4 packet comes out", counter_name(r->counter));
		return;
	}
	bad = ipv4_csum_error(ip, r->out.len - ETH_HLEN, false, &sane);
	if (bad || !sane)
		fail(INV_CSUM, f, name, "%s: %s wrong", counter_name(r->counter),
		     bad ? bad : "lengths");
	fail_out = NULL;
}

static bool xdp_decides(__u32 c)
{
	return c >= FWD_CNT_DROP_FIRST || c == FWD_CNT_PASS_VLAN || c == FWD_CNT_PASS_MULTICAST ||
	       c == FWD_CNT_PASS_NOT_IPV4;
}

/* Every program the frame applies to; the invariants on each output. */
static void feed(const struct frame *f, struct result *res)
{
	struct run r_lab, r_sw, r_xdp;
	bool trans = false;
	int ns = f->from ? f->from : 1 + (int)(frame_no % 4);

	frames_fed++;
	frame_no++;
	if (res)
		res->lab_counter = FWD_CNT_MAX;
	/* From the LAN: the uplink's program; sometimes a namespace's too, and the other way. */
	if (!f->from || chance(5)) {
		bool by_xdp;

		/* On the uplink XDP comes first: what it redirects or drops, tc never sees. The
		 * two share one counters map: each run's snapshot is the other's. */
		memcpy(xup.cnt, lab.cnt, sizeof(lab.cnt));
		run_prog(&xup, UPLINK_PROG, f, if_up0, &r_lab);
		memcpy(lab.cnt, xup.cnt, sizeof(lab.cnt));
		by_xdp = !r_lab.err && !r_lab.pass;
		if (!by_xdp)
			run_prog(&lab, UPLINK_PROG, f, if_up0, &r_lab);
		check_output(f, UPLINK_PROG, &r_lab, by_xdp ? "lab xdp uplink" : "lab tc uplink",
			     true);
		trans |= is_translated(r_lab.counter);
		if (res && !f->from) {
			res->lab_counter = r_lab.counter;
			res->out = r_lab.out;
		}
	}
	if (!f->from && !chance(5))
		goto done;
	run_prog(&lab, VETH, f, if_vh[ns], &r_lab);
	check_output(f, VETH, &r_lab, "lab tc veth", true);
	trans |= is_translated(r_lab.counter);
	if (res && f->from) {
		res->lab_counter = r_lab.counter;
		res->out = r_lab.out;
	}
	run_prog(&sw, VETH, f, if_vh[ns], &r_sw);
	check_output(f, VETH, &r_sw, "switch tc veth", false);
	run_prog(&xdp, VETH, f, if_vh[ns], &r_xdp);
	check_output(f, VETH, &r_xdp, "xdp", false);
	if (r_xdp.err || r_sw.err || r_xdp.counter == FWD_CNT_MAX || r_sw.counter == FWD_CNT_MAX)
		goto done; /* refused by the kernel (the tc run wants 20 bytes of IPv4) */
	inv_checked[INV_XDP]++;
	if ((r_xdp.counter == FWD_CNT_REDIRECT_XDP ? FWD_CNT_REDIRECT_PEER : r_xdp.counter) !=
	    r_sw.counter)
		fail(INV_XDP, f, "xdp", "xdp says %s, tc with the same settings %s",
		     counter_name(r_xdp.counter), counter_name(r_sw.counter));
	else if (xdp_decides(r_xdp.counter) && r_lab.counter != FWD_CNT_MAX &&
		 r_lab.counter != r_xdp.counter)
		fail(INV_XDP, f, "xdp", "xdp says %s, the lab's tc %s", counter_name(r_xdp.counter),
		     counter_name(r_lab.counter));
done:
	if (trans)
		translated++;
}

/* --- the corpus ------------------------------------------------------------------------ */

static int read_frame_file(const char *path, struct frame *f)
{
	char line[1024];
	FILE *in = fopen(path, "r");

	if (!in)
		return -errno;
	pkt_init(&f->p);
	f->from = 0;
	f->what = "corpus";
	while (fgets(line, sizeof(line), in)) {
		char *s = line, *end;

		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '#' || *s == '\n' || !*s)
			continue;
		if (!strncmp(s, "from ns", 7)) {
			f->from = atoi(s + 7);
			if (f->from < 1 || f->from > 4)
				f->from = 1;
			continue;
		}
		if (!strncmp(s, "from uplink", 11)) {
			f->from = 0;
			continue;
		}
		for (;;) {
			unsigned long v = strtoul(s, &end, 16);

			if (end == s)
				break;
			if (v > 255 || f->p.len >= FRAME_MAX) {
				fclose(in);
				return -EINVAL;
			}
			f->p.b[f->p.len++] = v;
			s = end;
		}
	}
	fclose(in);
	return f->p.len >= ETH_HLEN ? 0 : -EINVAL;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every file of @dir, in name order; how many, or -errno. */
static int corpus_replay(const char *dir)
{
	char *names[512], path[PATH_MAX + 300];
	struct dirent *d;
	int n = 0, done = 0;
	DIR *dh = opendir(dir);

	if (!dh)
		return -errno;
	while ((d = readdir(dh)) && n < 512)
		if (d->d_name[0] != '.' && strstr(d->d_name, ".frame"))
			names[n++] = strdup(d->d_name);
	closedir(dh);
	qsort(names, n, sizeof(names[0]), name_cmp);
	for (int i = 0; i < n; i++) {
		struct frame f;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (read_frame_file(path, &f)) {
			printf("fuzz_packets: %s: not a frame file\n", path);
		} else {
			feed(&f, NULL);
			done++;
		}
		free(names[i]);
	}
	return done;
}

/* The corpus of the source tree: from the working directory, or beside this program's build
 * directory's source (BUILD/tests/bpf/fuzz_packets -> the tree BUILD is in). */
static const char *corpus_default(void)
{
	static char path[PATH_MAX + 64];
	char exe[PATH_MAX];
	ssize_t n;

	if (!access("tests/fuzz/corpus/packets", R_OK))
		return "tests/fuzz/corpus/packets";
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		for (int up = 0; up < 4; up++) {
			char *slash = strrchr(exe, '/');

			if (!slash)
				break;
			*slash = '\0';
			snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/packets", exe);
			if (!access(path, R_OK))
				return path;
		}
	}
	return NULL;
}

/* --- main ------------------------------------------------------------------------------ */

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: fuzz_packets [--frames N | --seconds N] [--seed N] [--corpus DIR] [--save "
	    "DIR]\n"
	    "  Random and mutated frames through fwd's tc and XDP programs (BPF_PROG_TEST_RUN),\n"
	    "  checking the invariants of every output; needs root.\n"
	    "  --frames N    frames to generate (default 200000)\n"
	    "  --seconds N   generate frames for N seconds (with --frames: whichever ends first)\n"
	    "  --seed N      the PRNG's seed (default: from the clock; printed)\n"
	    "  --corpus DIR  frame files replayed first (default tests/fuzz/corpus/packets)\n"
	    "  --save DIR    where frames that break an invariant are written (default /tmp)\n");
}

static int parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		}
		if (!v) {
			usage(stderr);
			return -1;
		}
		i++;
		if (!strcmp(a, "--frames") || !strcmp(a, "--seed") || !strcmp(a, "--seconds")) {
			unsigned long long n = strtoull(v, &end, 0);

			if (*end || end == v) {
				fprintf(stderr, "fuzz_packets: %s \"%s\": not a number\n", a, v);
				return -1;
			}
			if (a[2] == 'f') {
				opt_frames = n;
				opt_frames_set = true;
			} else if (!strcmp(a, "--seed")) {
				opt_seed = n;
			} else {
				opt_seconds = n;
			}
		} else if (!strcmp(a, "--corpus")) {
			opt_corpus = v;
		} else if (!strcmp(a, "--save")) {
			opt_save = v;
		} else {
			usage(stderr);
			return -1;
		}
	}
	return 0;
}

static void report(double secs)
{
	static const __u32 unreachable[] = {
		FWD_CNT_DROP_TRUNC_ETH,	     FWD_CNT_DROP_REDIRECT,	   FWD_CNT_DROP_REWRITE,
		FWD_CNT_DROP_NO_UPLINK_ADDR, FWD_CNT_DROP_ROUTED_IN,	   FWD_CNT_DROP_ISOLATED,
		FWD_CNT_DROP_CT_FULL,	     FWD_CNT_DROP_NOT_MASQUERADED, FWD_CNT_DROP_TAIL_CALL,
		FWD_CNT_PASS_ISOLATE6, /* no isolate in the fuzzed labs, as DROP_ISOLATED */
	};
	char missing[512] = "";
	double pct = frames_fed ? 100.0 * translated / frames_fed : 0;

	printf("fuzz_packets: %llu frames in %.1f s (seed %llu); runs: lab %llu (XDP fast path "
	       "%llu), switch %llu, xdp %llu; refused by the kernel: %llu\n",
	       frames_fed, secs, opt_seed, lab.runs, xup.runs, sw.runs, xdp.runs,
	       lab.refused + xup.refused + sw.refused + xdp.refused);
	printf("fuzz_packets: hits per counter (lab tc and XDP fast path / switch tc / xdp)\n");
	for (__u32 i = 0; i < FWD_CNT_MAX; i++) {
		__u64 total = lab.hits[i] + xup.hits[i] + sw.hits[i] + xdp.hits[i];
		bool skip = fwd_counter_is_event(i);

		printf("  %-22s %10llu %10llu %10llu%s\n", counter_name(i),
		       (unsigned long long)(lab.hits[i] + xup.hits[i]),
		       (unsigned long long)sw.hits[i], (unsigned long long)xdp.hits[i],
		       skip ? "  (event)" : "");
		for (size_t k = 0; k < sizeof(unreachable) / sizeof(unreachable[0]); k++)
			skip |= unreachable[k] == i;
		if (!skip && !total && strlen(missing) + 32 < sizeof(missing)) {
			strcat(missing, " ");
			strcat(missing, counter_name(i));
		}
	}
	printf("fuzz_packets: translated %llu of %llu frames (%.1f %%)\n", translated, frames_fed,
	       pct);
	for (int i = 0; i < INV_MAX; i++) {
		CHECK(inv_checked[i] > 0, "never checked");
		CHECK(!inv_fails[i], "broken %llu times (seed %llu)", inv_fails[i], opt_seed);
		check_result("fuzz_packets: %s (%llu checked)", inv_names[i], inv_checked[i]);
	}
	CHECK(!missing[0], "never reached:%s", missing);
	check_result("fuzz_packets: every verdict and drop reason a frame can reach is reached");
	CHECK(pct >= 30.0, "%.1f %%", pct);
	check_result("fuzz_packets: at least 30 %% of the frames translated (%.1f %%)", pct);
}

int main(int argc, char **argv)
{
	struct timespec t0;
	const char *corpus;
	int err, n;

	if (parse_args(argc, argv))
		return 2;
	if (opt_seconds && !opt_frames_set)
		opt_frames = ULLONG_MAX; /* the clock ends the run */
	if (!opt_seed) {
		clock_gettime(CLOCK_REALTIME, &t0);
		opt_seed = (unsigned long long)t0.tv_sec * 1000003ull ^ t0.tv_nsec ^ getpid();
	}
	if (opt_frames == ULLONG_MAX)
		printf("fuzz_packets: seed %llu, frames for %llu s (replay: --seed %llu)\n",
		       opt_seed, opt_seconds, opt_seed);
	else
		printf("fuzz_packets: seed %llu, %llu frames (replay: --seed %llu)\n", opt_seed,
		       opt_frames, opt_seed);
	fflush(stdout);
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0 || sandbox()) {
		printf("FAIL: fuzz_packets: setup\n");
		return 1;
	}
	if ((err = load_tc(&lab, true)) || (err = load_tc(&sw, false)) || (err = load_xdp(&xdp)) ||
	    (err = load_xdp_uplink(&xup))) {
		check_fail("%s", strerror(-err));
		check_result("fuzz_packets: load and fill the programs");
		goto end;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* A populated table first: the pool's connections, opened as their frames would, under
	 * a fixed seed, so that the corpus's frames find the same ports; then the run's own. */
	rng_state = CORPUS_SEED;
	pool_check();
	corpus = opt_corpus ? opt_corpus : corpus_default();
	if (corpus) {
		n = corpus_replay(corpus);
		CHECK(n >= 0, "%s: %s", corpus, strerror(-n));
		check_result("fuzz_packets: corpus %s replayed (%d frames)", corpus, n);
	}
	rng_state = opt_seed;
	for (unsigned long long i = 0; i < opt_frames; i++) {
		struct frame f;
		__u32 how = rnd(100);

		if (i % 256 == 0) {
			pool_check();
			if (opt_seconds && seconds_since(&t0) >= opt_seconds)
				break;
		}
		if (how < 4) {
			random_frame(&f);
		} else {
			template(&f);
			if (how < 50)
				mutate(&f);
		}
		feed(&f, NULL);
	}
	report(seconds_since(&t0));
end:
	fwd_xdp_uplink__destroy(xup.xu);
	fwd_xdp__destroy(xdp.x);
	fwd_tc__destroy(sw.tc);
	fwd_tc__destroy(lab.tc);
	return check_summary();
}

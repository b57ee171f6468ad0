// SPDX-License-Identifier: GPL-2.0
/*
 * Packet fixtures for NAT66, masquerade of IPv6 in BPF, through BPF_PROG_TEST_RUN: fwd_tc_ingress
 * (a namespace's frames; IPv6 reaches fwd_tc_ingress6 by a tail call) and fwd_tc_uplink (the
 * LAN's; fwd_tc_uplink6). The cases run in order on one loaded object: a reply finds the
 * connection an earlier case made. Per case: the verdict, the one frame counter that moved, the
 * redirect target, and the frame that comes out (addresses, ports, hop limit, MACs, and every
 * checksum recomputed, a quoted packet's too).
 *
 * The test's own network namespace, so that the FIB sees this world only:
 *
 *   up0 fd77::1/64 02:00:00:00:00:f1 (the uplink) ==== lanx; fd77::2 is 02:00:00:00:00:aa
 *   "red" fd00:15::1 (192.168.15.1) 02:00:00:00:00:01, host veth ifindex 101; "blue" ::2, 102
 *   the test run's device (ifindex 1) is the host veth of whoever sends (fwd_ports)
 *   masquerade6 fd00:15::/64, the bridge's prefix fd00:15::/64
 *   forward tcp [fd77::1]:8080 blue:7000 (DNAT66)
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fwd_kern_user.h"
#include "fwd_loader.h"
#include "fwd_tc.skel.h"

#include "check.h"
#include "pkt.h"
#include "sandbox.h"
#include "tc_run.h"

/* clang-format off */
#define MAC(last) { 0x02, 0, 0, 0, 0, (last) }
/* clang-format on */
static const __u8 mac_ns[3][6] = { MAC(0), MAC(1), MAC(2) };
static const __u8 mac_host[3][6] = { MAC(0x80), MAC(0x81), MAC(0x82) };
static const __u8 mac_gw[6] = MAC(5), mac_uplink[6] = MAC(0xf1), mac_remote[6] = MAC(0xaa);

#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY   129

enum prog { VETH, UPLINK_PROG };
enum outcome { REDIRECT, PASS, DROP };
enum who { REMOTE = 10, UPLINK, ROUTER, LINKLOCAL }; /* addresses besides namespaces 1, 2 */

static int uplink_ifindex;

/* fd00:15::@who for a namespace, else the address @who names. */
static void addr6(int who, __u8 out[16])
{
	const char *s = who == REMOTE	   ? "fd77::2"
			: who == UPLINK	   ? "fd77::1"
			: who == ROUTER	   ? "fd77::fe"
			: who == LINKLOCAL ? "fe80::1"
					   : NULL;
	char buf[32];

	if (!s) {
		snprintf(buf, sizeof(buf), "fd00:15::%x", who);
		s = buf;
	}
	inet_pton(AF_INET6, s, out);
}

/* What goes in: zero fields take defaults (a TCP SYN from red:40000 to fd77::2:80). */
struct spec {
	int from_ns; /* VETH: 1 or 2 */
	int saddr, daddr;
	__u8 proto; /* default TCP */
	__u16 sport, dport;
	__u8 tcp_flags; /* default SYN */
	__u32 seq, ack; /* TCP: default client 1000, server 5000, each SYN carrying 10 bytes */
	__u8 hop_limit; /* default 64 */
	__u8 icmp_type, icmp_code;
	__u16 icmp_id;
	const struct pkt *quote; /* ICMPv6 error: quote this frame's IPv6 packet */
	bool frag;		 /* a fragment header (first fragment, M set) */
	const __u8 *dmac;	 /* default: the gateway (VETH) or up0 (UPLINK_PROG) */
};

static size_t build(const struct spec *s, enum prog prog, struct pkt *f)
{
	bool out = prog == VETH;
	int ns = s->from_ns ? s->from_ns : 1;
	__u8 proto = s->proto ? s->proto : IPPROTO_TCP;
	__u16 server = proto == IPPROTO_UDP ? 53 : 80;
	__u16 sport = s->sport ? s->sport : (out ? 40000 : server);
	__u16 dport = s->dport ? s->dport : (out ? server : 40000);
	__u8 src[16], dst[16];

	addr6(s->saddr ? s->saddr : (out ? ns : REMOTE), src);
	addr6(s->daddr ? s->daddr : (out ? REMOTE : UPLINK), dst);
	pkt_init(f);
	pkt_eth(f,
		s->dmac ? s->dmac
		: out	? mac_gw
			: mac_uplink,
		out ? mac_ns[ns] : mac_remote, ETH_P_IPV6);
	pkt_ipv6(f, &(struct pkt_ipv6){ .saddr = src,
					.daddr = dst,
					.nexthdr = s->frag ? 44 : proto,
					.hop_limit = s->hop_limit });
	if (s->frag)
		pkt_ipv6_ext(f, 44, proto, 8, 1 /* offset 0, M */);
	switch (proto) {
	case IPPROTO_TCP: {
		__u8 flags = s->tcp_flags ? s->tcp_flags : TCP_SYN;
		__u8 *tcp =
		    pkt_tcp(f, sport, dport, s->seq ? s->seq : (out ? 1000 : 5000), flags, 64240);

		if (flags & TCP_ACK)
			*(__be32 *)(tcp + 8) = htonl(s->ack ? s->ack : (out ? 5011 : 1011));
		pkt_data(f, "0123456789", 10);
		break;
	}
	case IPPROTO_UDP:
		pkt_udp(f, sport, dport);
		pkt_data(f, "hello world", 11);
		break;
	case 58: {
		__u8 type =
		    s->icmp_type ? s->icmp_type : (out ? ICMP6_ECHO_REQUEST : ICMP6_ECHO_REPLY);
		__u8 *icmp = pkt_put(f, 8);

		icmp[0] = type;
		icmp[1] = s->icmp_code;
		if (s->quote) {
			pkt_data(f, s->quote->b + ETH_HLEN, s->quote->len - ETH_HLEN);
		} else {
			*(__be16 *)(icmp + 4) = htons(s->icmp_id);
			*(__be16 *)(icmp + 6) = htons(7);
			pkt_data(f, "pingpingpingping", 16);
		}
		break;
	}
	default: pkt_put(f, 8); break; /* anything else: 8 bytes of something */
	}
	pkt_finish6(f);
	return f->len;
}

struct obj {
	struct fwd_tc *skel;
	int prog_fd[2];
	int counters_fd, trace_fd, ct6_fd, ports_fd;
};

static const struct ipv6hdr *ip6_of(const struct pkt *f)
{
	return (const struct ipv6hdr *)(f->b + ETH_HLEN);
}

static const __u8 *l4_of(const struct pkt *f)
{
	return f->b + ETH_HLEN + sizeof(struct ipv6hdr);
}

static __u16 port_of(const struct pkt *f, bool dst)
{
	return ntohs(*(const __be16 *)(l4_of(f) + (dst ? 2 : 0)));
}

static bool addr_is(const struct in6_addr *a, int who)
{
	__u8 want[16];

	addr6(who, want);
	return !memcmp(a, want, 16);
}

/* As fwd_snat.c's run(): the verdict, the one frame counter, the target, the checksums. */
static void run(const struct obj *o, enum prog prog, const struct pkt *in, enum outcome want,
		__u32 counter, __u32 target, struct pkt *out)
{
	const __u32 verdicts[] = { [REDIRECT] = TC_ACT_REDIRECT,
				   [PASS] = prog == UPLINK_PROG ? (__u32)TC_ACT_UNSPEC : TC_ACT_OK,
				   [DROP] = TC_ACT_SHOT };
	const struct tc_run_maps maps = { o->counters_fd, o->trace_fd };
	struct pkt scratch;

	if (!out)
		out = &scratch;
	tc_run(&maps, o->prog_fd[prog], in, verdicts[want], want == REDIRECT, counter, target, out);
	if (!check_failing() && want != DROP) {
		const char *bad = pkt_csum_error6(out->b + ETH_HLEN, out->len - ETH_HLEN, false);

		CHECK(out->len == in->len, "frame out has %zu bytes, in %zu", out->len, in->len);
		CHECK(!bad, "%s is wrong", bad);
	}
}

/* A masqueraded frame: from the uplink's address, to the FIB's next hop, hop limit down. */
static void check_snat_out(const struct pkt *in, const struct pkt *out)
{
	CHECK(!memcmp(out->b, mac_remote, 6) && !memcmp(out->b + 6, mac_uplink, 6),
	      "MACs not the FIB's (next hop fd77::2 via up0)");
	CHECK(addr_is(&ip6_of(out)->saddr, UPLINK), "source not the uplink's address");
	CHECK(!memcmp(&ip6_of(out)->daddr, &ip6_of(in)->daddr, 16), "destination changed");
	CHECK(ip6_of(out)->hop_limit == ip6_of(in)->hop_limit - 1, "hop limit %u, want %u",
	      ip6_of(out)->hop_limit, ip6_of(in)->hop_limit - 1);
}

/* A reply into namespace @ns: its address, its veth pair's MACs, hop limit down. */
static void check_reply_in(const struct pkt *in, const struct pkt *out, int ns)
{
	CHECK(!memcmp(out->b, mac_ns[ns], 6) && !memcmp(out->b + 6, mac_host[ns], 6),
	      "MACs not the veth pair's");
	CHECK(addr_is(&ip6_of(out)->daddr, ns), "destination not the namespace's address");
	CHECK(!memcmp(&ip6_of(out)->saddr, &ip6_of(in)->saddr, 16), "source changed");
	CHECK(ip6_of(out)->hop_limit == ip6_of(in)->hop_limit - 1, "hop limit not decremented");
}

/* The test run's device sends as namespace @ns (anti-spoofing: fwd_ports). */
static int sender(const struct obj *o, int ns)
{
	struct fwd_port p = { .addr = htonl(0xc0a80f00 | ns) };
	__u32 ifindex = 1;

	memcpy(p.mac, mac_ns[ns], 6);
	addr6(ns, (__u8 *)p.addr6);
	return bpf_map_update_elem(o->ports_fd, &ifindex, &p, BPF_ANY) ? -errno : 0;
}

static int fill(const struct obj *o)
{
	for (int ns = 1; ns <= 2; ns++) {
		struct fwd_endpoint val = { .ifindex = 100 + ns };
		struct fwd_endpoint6_key key6;
		struct fwd_endpoint_key key = { .addr = htonl(0xc0a80f00 | ns) };
		struct fwd_ct_ns_key nk = { .addr = key.addr };
		struct fwd_ct_ns zero = {};

		memcpy(val.mac, mac_ns[ns], 6);
		memcpy(val.host_mac, mac_host[ns], 6);
		addr6(ns, (__u8 *)key6.addr);
		if (bpf_map_update_elem(bpf_map__fd(o->skel->maps.fwd_endpoints), &key, &val, 0) ||
		    bpf_map_update_elem(bpf_map__fd(o->skel->maps.fwd_endpoints6), &key6, &val,
					0) ||
		    bpf_map_update_elem(bpf_map__fd(o->skel->maps.fwd_ct_ns), &nk, &zero, 0))
			return -errno;
	}
	struct fwd_forward6_key fk = { .proto = IPPROTO_TCP, .port = htons(8080) };
	struct fwd_forward6_val fv = { .port = htons(7000), .rule = 1 };
	struct fwd_fwd_target_key tk = { .addr = htonl(0xc0a80f02),
					 .proto = IPPROTO_TCP,
					 .port = htons(7000) };
	__u32 one = 1;

	addr6(UPLINK, (__u8 *)fk.addr);
	addr6(2, (__u8 *)fv.addr);
	if (bpf_map_update_elem(bpf_map__fd(o->skel->maps.fwd_forwards6), &fk, &fv, 0) ||
	    bpf_map_update_elem(bpf_map__fd(o->skel->maps.fwd_fwd_targets), &tk, &one, 0))
		return -errno;
	return sender(o, 1);
}

static int load(struct obj *o)
{
	const struct fwd_ct_timeouts timeouts = FWD_CT_TIMEOUTS_DEFAULT;
	char frame[64] = { FWD_CT_START_FILL | FWD_CT_START_FILL6 };
	struct fwd_uplink6 up6;
	struct fwd_settings *cfg;
	__u8 prefix[16] = { 0xfd, 0, 0, 0x15 };
	int err;

	memset(o, 0, sizeof(*o));
	o->skel = fwd_tc__open();
	if (!o->skel)
		return -errno;
	cfg = (struct fwd_settings *)&o->skel->rodata->fwd_cfg;
	cfg->flags = FWD_SET_TRACE | FWD_SET_IPV6 | FWD_SET_SNAT6 | FWD_SET_DNAT6;
	cfg->bridge_ifindex = 3;
	memcpy(cfg->bridge_mac, mac_gw, 6);
	cfg->uplink_ifindex = uplink_ifindex;
	memcpy(cfg->uplink_mac, mac_uplink, 6);
	cfg->nat_port_lo = FWD_NAT_PORT_LO;
	cfg->nat_port_hi = FWD_NAT_PORT_HI;
	cfg->ct = timeouts;
	cfg->ct_max = 1024;
	cfg->ct6_max = 1024;
	cfg->ct_per_ns = 1024;
	memcpy(cfg->subnet6, prefix, 16);
	memset(cfg->subnet6_mask, 0xff, 8); /* /64 */
	cfg->n_masq6 = 1;
	memcpy(cfg->masq6[0].addr, prefix, 16);
	memset(cfg->masq6[0].mask, 0xff, 8);
	if ((err = bpf_map__set_max_entries(o->skel->maps.fwd_ct, 2 * 1024)) ||
	    (err = bpf_map__set_max_entries(o->skel->maps.fwd_ct_slots, 1024)) ||
	    (err = bpf_map__set_max_entries(o->skel->maps.fwd_ct_free, 1024)) ||
	    (err = bpf_map__set_max_entries(o->skel->maps.fwd_ct6, 2 * 1024)) ||
	    (err = bpf_map__set_max_entries(o->skel->maps.fwd_ct6_slots, 1024)) ||
	    (err = bpf_map__set_max_entries(o->skel->maps.fwd_ct6_free, 1024)))
		return err;
	err = fwd_tc__load(o->skel);
	if (err)
		return err;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame),
		    .repeat = 1);
	if (bpf_prog_test_run_opts(bpf_program__fd(o->skel->progs.fwd_ct_start), &opts))
		return -errno;
	if (opts.retval != TC_ACT_OK)
		return -EIO;
	addr6(UPLINK, (__u8 *)up6.addr);
	if (bpf_map_update_elem(bpf_map__fd(o->skel->maps.fwd_uplink6), &(__u32){ 0 }, &up6,
				BPF_ANY))
		return -errno;
	o->prog_fd[VETH] = bpf_program__fd(o->skel->progs.fwd_tc_ingress);
	o->prog_fd[UPLINK_PROG] = bpf_program__fd(o->skel->progs.fwd_tc_uplink);
	o->counters_fd = bpf_map__fd(o->skel->maps.fwd_counters);
	o->trace_fd = bpf_map__fd(o->skel->maps.fwd_trace);
	o->ct6_fd = bpf_map__fd(o->skel->maps.fwd_ct6);
	o->ports_fd = bpf_map__fd(o->skel->maps.fwd_ports);
	return fill(o);
}

static int ct6_get(const struct obj *o, __u8 proto, int saddr, __u16 sport, int daddr, __u16 dport,
		   struct fwd_ct6_entry *e)
{
	struct fwd_ct6_key key;

	memset(&key, 0, sizeof(key));
	key.proto = proto;
	addr6(saddr, (__u8 *)key.saddr);
	addr6(daddr, (__u8 *)key.daddr);
	key.sport = htons(sport);
	key.dport = htons(dport);
	return bpf_map_lookup_elem(o->ct6_fd, &key, e) ? -errno : 0;
}

/* The ICMPv6 error out of the uplink's quote, in @out: back to namespace @ns, from port 40000. */
static void check_quote_in(const struct pkt *out, int ns, __u16 port)
{
	const struct ipv6hdr *q = (const void *)(l4_of(out) + 8);
	const __u8 *ql4 = (const __u8 *)(q + 1);

	CHECK(addr_is(&q->saddr, ns), "quoted source is not the namespace's address");
	CHECK(addr_is(&q->daddr, REMOTE), "quoted destination changed");
	CHECK(ntohs(*(const __be16 *)(ql4 + (q->nexthdr == 58 ? 4 : 0))) == port,
	      "quoted source port %u, want %u", ntohs(*(const __be16 *)ql4), port);
}

/* Forwards on IPv6 (DNAT66): [fd77::1]:8080 -> blue:7000, from the LAN and hairpin. */
static void test_dnat66(struct obj *o)
{
	struct pkt in, out, quoted;
	struct fwd_ct6_entry e;

	build(&(struct spec){ .dport = 8080, .sport = 41000 }, UPLINK_PROG, &in);
	run(o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_DNAT6, 102, &out);
	CHECK(addr_is(&ip6_of(&out)->daddr, 2) && port_of(&out, 1) == 7000,
	      "destination not blue:7000 (port %u)", port_of(&out, 1));
	CHECK(addr_is(&ip6_of(&out)->saddr, REMOTE) && port_of(&out, 0) == 41000,
	      "the client's address and port not kept");
	CHECK(!memcmp(out.b, mac_ns[2], 6) && !memcmp(out.b + 6, mac_host[2], 6),
	      "MACs not blue's veth pair's");
	CHECK(!ct6_get(o, IPPROTO_TCP, REMOTE, 41000, UPLINK, 8080, &e) &&
		  e.c.nat == FWD_CT_NAT_DNAT && e.c.track.forward == 1 && !e.c.ns_counted,
	      "no ORIG entry of the forward (nat %u forward %u)", e.c.nat, e.c.track.forward);
	check_result("nat66: syn from the lan to [uplink]:8080 goes into blue:7000, client kept");

	if (sender(o, 2))
		check_fail("cannot switch the sender to blue");
	build(&(struct spec){ .from_ns = 2,
			      .sport = 7000,
			      .dport = 41000,
			      .seq = 5000,
			      .tcp_flags = TCP_SYN | TCP_ACK,
			      .ack = 1011 },
	      VETH, &in);
	run(o, VETH, &in, REDIRECT, FWD_CNT_DNAT6_REPLY, uplink_ifindex, &out);
	CHECK(addr_is(&ip6_of(&out)->saddr, UPLINK) && port_of(&out, 0) == 8080,
	      "source not [uplink]:8080 (port %u)", port_of(&out, 0));
	CHECK(!memcmp(out.b, mac_remote, 6), "not to the lan host's MAC");
	check_result("nat66: blue's syn-ack leaves as [uplink]:8080");

	/* blue answers the client's SYN (as it arrived: translated) with an ICMPv6 error */
	build(&(struct spec){ .saddr = REMOTE, .daddr = 2, .sport = 41000, .dport = 7000 },
	      UPLINK_PROG, &quoted);
	build(&(struct spec){ .from_ns = 2,
			      .proto = 58,
			      .icmp_type = 1,
			      .icmp_code = 1,
			      .daddr = REMOTE,
			      .quote = &quoted },
	      VETH, &in);
	run(o, VETH, &in, REDIRECT, FWD_CNT_DNAT6_REPLY, uplink_ifindex, &out);
	{
		const struct ipv6hdr *q = (const void *)(l4_of(&out) + 8);
		const __u8 *ql4 = (const __u8 *)(q + 1);

		CHECK(addr_is(&ip6_of(&out)->saddr, UPLINK), "outer source not the uplink's");
		CHECK(addr_is(&q->daddr, UPLINK) && ntohs(*(const __be16 *)(ql4 + 2)) == 8080,
		      "quoted destination not [uplink]:8080 (port %u)",
		      ntohs(*(const __be16 *)(ql4 + 2)));
		CHECK(addr_is(&q->saddr, REMOTE), "quoted source changed");
	}
	check_result("nat66: blue's icmpv6 error about the forwarded syn leaves as the uplink's");

	build(&(struct spec){ .dport = 8080, .sport = 41001, .tcp_flags = TCP_ACK }, UPLINK_PROG,
	      &in);
	run(o, UPLINK_PROG, &in, DROP, FWD_CNT_DROP_CT_INVALID, 0, NULL);
	check_result("nat66: from the lan, a bare ack opens no forwarded connection");

	build(&(struct spec){ .saddr = 1, .dport = 8080, .sport = 41002 }, UPLINK_PROG, &in);
	run(o, UPLINK_PROG, &in, DROP, FWD_CNT_DROP_SPOOF_UPLINK, 0, NULL);
	check_result("nat66: from the lan with a source of the bridge's prefix dropped");

	if (sender(o, 1))
		check_fail("cannot switch the sender to red");
	build(&(struct spec){ .daddr = UPLINK, .dport = 8080, .sport = 42000 }, VETH, &in);
	run(o, VETH, &in, REDIRECT, FWD_CNT_DNAT6, 102, &out);
	CHECK(addr_is(&ip6_of(&out)->saddr, 1) && addr_is(&ip6_of(&out)->daddr, 2) &&
		  port_of(&out, 1) == 7000,
	      "not red -> blue:7000");
	check_result("nat66: hairpin red -> [uplink]:8080 goes into blue:7000, red's address kept");

	if (sender(o, 2))
		check_fail("cannot switch the sender to blue");
	build(&(struct spec){ .from_ns = 2,
			      .dmac = mac_ns[1], /* on-link: red's own MAC */
			      .daddr = 1,
			      .sport = 7000,
			      .dport = 42000,
			      .seq = 5000,
			      .tcp_flags = TCP_SYN | TCP_ACK,
			      .ack = 1011 },
	      VETH, &in);
	run(o, VETH, &in, REDIRECT, FWD_CNT_DNAT6_REPLY, 101, &out);
	CHECK(addr_is(&ip6_of(&out)->saddr, UPLINK) && port_of(&out, 0) == 8080 &&
		  addr_is(&ip6_of(&out)->daddr, 1),
	      "not [uplink]:8080 -> red");
	CHECK(!memcmp(out.b, mac_ns[1], 6), "not to red's MAC");
	check_result("nat66: blue's hairpin reply goes into red from [uplink]:8080");

	build(&(struct spec){ .from_ns = 2, .sport = 7000, .dport = 43000, .tcp_flags = TCP_ACK },
	      VETH, &in);
	run(o, VETH, &in, PASS, FWD_CNT_PASS_FORWARD6, 0, NULL);
	check_result("nat66: from blue's forwarded port, no connection of ours: to the bridge");

	build(&(struct spec){ .from_ns = 2,
			      .dmac = mac_ns[1],
			      .daddr = 1,
			      .sport = 7000,
			      .dport = 44000,
			      .tcp_flags = TCP_ACK },
	      VETH, &in);
	run(o, VETH, &in, REDIRECT, FWD_CNT_REDIRECT_PEER, 101, &out);
	CHECK(!memcmp(out.b, in.b, in.len), "the frame changed");
	check_result("nat66: from blue's forwarded port to red directly, none of ours: switched");
	if (sender(o, 1))
		check_fail("cannot switch the sender back to red");
}

static void test_nat66(void)
{
	struct pkt in, out, udp_out, blue_out;
	struct fwd_ct6_entry e;
	struct obj o;
	__u16 port_blue;
	int err = load(&o);

	if (err) {
		check_fail("load: %s", strerror(-err));
		check_result("nat66: load");
		return;
	}

	build(&(struct spec){ 0 }, VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT6, uplink_ifindex, &out);
	check_snat_out(&in, &out);
	CHECK(port_of(&out, 0) == 40000, "source port %u, want 40000 kept", port_of(&out, 0));
	CHECK(!ct6_get(&o, IPPROTO_TCP, 1, 40000, REMOTE, 80, &e) &&
		  e.c.track.state == FWD_CT_TCP_SYN_SENT && e.c.ns_counted,
	      "no ORIG entry in syn_sent, counted for red");
	CHECK(!ct6_get(&o, IPPROTO_TCP, REMOTE, 80, UPLINK, 40000, &e) &&
		  e.c.dir == FWD_CT_DIR_REPLY,
	      "no REPLY entry");
	check_result("nat66: tcp syn red:40000 -> [fd77::2]:80 leaves as [uplink]:40000");

	build(&(struct spec){ .tcp_flags = TCP_SYN | TCP_ACK }, UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_SNAT6_REPLY, 101, &out);
	check_reply_in(&in, &out, 1);
	CHECK(port_of(&out, 1) == 40000, "destination port %u", port_of(&out, 1));
	CHECK(!ct6_get(&o, IPPROTO_TCP, 1, 40000, REMOTE, 80, &e) &&
		  e.c.track.state == FWD_CT_TCP_SYN_RECV,
	      "state %u, want syn_recv", e.c.track.state);
	check_result("nat66: syn-ack to [uplink]:40000 goes into red: syn_recv");

	build(&(struct spec){ .tcp_flags = TCP_ACK }, VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT6, uplink_ifindex, NULL);
	CHECK(!ct6_get(&o, IPPROTO_TCP, 1, 40000, REMOTE, 80, &e) &&
		  e.c.track.state == FWD_CT_TCP_ESTABLISHED && (e.c.track.flags & FWD_CT_F_ASSURED),
	      "state %u flags %#x, want established, assured", e.c.track.state, e.c.track.flags);
	check_result("nat66: the handshake's final ack: established, assured");

	build(&(struct spec){ .tcp_flags = TCP_RST | TCP_ACK, .seq = 123456789 }, UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, DROP, FWD_CNT_DROP_TCP_WINDOW, 0, NULL);
	CHECK(!ct6_get(&o, IPPROTO_TCP, 1, 40000, REMOTE, 80, &e) &&
		  e.c.track.state == FWD_CT_TCP_ESTABLISHED,
	      "state %u, want established still", e.c.track.state);
	check_result("nat66: an out-of-window rst from the lan dropped, the connection kept");

	if (sender(&o, 2))
		check_fail("cannot switch the sender to blue");
	build(&(struct spec){ .from_ns = 2 }, VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT6, uplink_ifindex, &blue_out);
	check_snat_out(&in, &blue_out);
	port_blue = port_of(&blue_out, 0);
	CHECK(port_blue != 40000 && port_blue >= FWD_NAT_PORT_LO && port_blue <= FWD_NAT_PORT_HI,
	      "blue got port %u", port_blue);
	check_result("nat66: blue with the same source port to the same server gets another port");

	build(&(struct spec){ .dport = port_blue, .tcp_flags = TCP_SYN | TCP_ACK }, UPLINK_PROG,
	      &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_SNAT6_REPLY, 102, &out);
	check_reply_in(&in, &out, 2);
	CHECK(port_of(&out, 1) == 40000, "destination port %u, want 40000", port_of(&out, 1));
	check_result("nat66: the reply to blue's port goes into blue, port 40000");

	/* A router on the way: Packet Too Big, quoting blue's SYN as it left. */
	build(&(struct spec){ .saddr = ROUTER, .proto = 58, .icmp_type = 2, .quote = &blue_out },
	      UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_SNAT6_REPLY, 102, &out);
	check_reply_in(&in, &out, 2);
	check_quote_in(&out, 2, 40000);
	check_result("nat66: packet too big for blue's flow: destination and quote translated");

	if (sender(&o, 1))
		check_fail("cannot switch the sender to red");
	build(&(struct spec){ .proto = IPPROTO_UDP }, VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT6, uplink_ifindex, &udp_out);
	check_snat_out(&in, &udp_out);
	check_result("nat66: udp red:40000 -> [fd77::2]:53 masqueraded");

	build(&(struct spec){ .proto = IPPROTO_UDP }, UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_SNAT6_REPLY, 101, &out);
	check_reply_in(&in, &out, 1);
	CHECK(!ct6_get(&o, IPPROTO_UDP, 1, 40000, REMOTE, 53, &e) &&
		  e.c.track.state == FWD_CT_UDP_ASSURED,
	      "state %u, want udp_assured", e.c.track.state);
	check_result("nat66: the udp reply goes into red: udp_assured");

	/* red refuses that reply (as it arrived, translated): port unreachable back out */
	build(&(struct spec){ .proto = 58, .icmp_type = 1, .icmp_code = 4, .quote = &out }, VETH,
	      &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT6, uplink_ifindex, &blue_out);
	{
		const struct ipv6hdr *q = (const void *)(l4_of(&blue_out) + 8);
		const __u8 *ql4 = (const __u8 *)(q + 1);

		CHECK(addr_is(&ip6_of(&blue_out)->saddr, UPLINK), "outer source not the uplink's");
		CHECK(addr_is(&q->daddr, UPLINK) && ntohs(*(const __be16 *)(ql4 + 2)) == 40000,
		      "quoted destination not [uplink]:40000");
	}
	check_result(
	    "nat66: red's port unreachable about a masqueraded reply leaves as the uplink's");

	build(&(struct spec){ .proto = 58, .icmp_type = 1, .icmp_code = 4, .quote = &udp_out },
	      UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_SNAT6_REPLY, 101, &out);
	check_reply_in(&in, &out, 1);
	check_quote_in(&out, 1, 40000);
	check_result(
	    "nat66: port unreachable for red's datagram: destination and quote translated");

	build(&(struct spec){ .proto = 58, .icmp_id = 777 }, VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT6, uplink_ifindex, &out);
	check_snat_out(&in, &out);
	CHECK(ntohs(*(const __be16 *)(l4_of(&out) + 4)) == 777, "identifier %u, want 777 kept",
	      ntohs(*(const __be16 *)(l4_of(&out) + 4)));
	check_result("nat66: echo request from red leaves from the uplink, identifier kept");

	build(&(struct spec){ .proto = 58, .icmp_id = 777 }, UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_SNAT6_REPLY, 101, &out);
	check_reply_in(&in, &out, 1);
	check_result("nat66: the echo reply goes into red");

	/* What the programs leave to the kernel (its ip6tables MASQUERADE), or refuse. */
	build(&(struct spec){ .hop_limit = 1, .sport = 40001 }, VETH, &in);
	run(&o, VETH, &in, PASS, FWD_CNT_PASS_NAT6, 0, NULL);
	check_result("nat66: hop limit 1 left to the kernel (its time exceeded)");

	build(&(struct spec){ .frag = true, .proto = IPPROTO_UDP, .sport = 40002 }, VETH, &in);
	run(&o, VETH, &in, PASS, FWD_CNT_PASS_NAT6, 0, NULL);
	check_result("nat66: a fragment left to the kernel");

	build(&(struct spec){ .proto = 132 /* SCTP */ }, VETH, &in);
	run(&o, VETH, &in, PASS, FWD_CNT_PASS_NAT6, 0, NULL);
	check_result("nat66: another protocol (sctp) left to the kernel");

	build(&(struct spec){ .daddr = 7 }, VETH, &in);
	run(&o, VETH, &in, PASS, FWD_CNT_PASS_NO_ENDPOINT, 0, NULL);
	check_result("nat66: to the bridge's own prefix: not masqueraded");

	build(&(struct spec){ .daddr = LINKLOCAL }, VETH, &in);
	run(&o, VETH, &in, PASS, FWD_CNT_PASS_NO_ENDPOINT, 0, NULL);
	check_result("nat66: to a link-local address: not masqueraded");

	build(&(struct spec){ .dport = 41000, .tcp_flags = TCP_SYN | TCP_ACK }, UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, PASS, FWD_CNT_PASS_UPLINK_HOST, 0, NULL);
	check_result("nat66: to the uplink, no connection of ours: the host's");

	build(&(struct spec){ .daddr = REMOTE }, UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, PASS, FWD_CNT_PASS_UPLINK_HOST, 0, NULL);
	check_result("nat66: to another address than the uplink's: the host's");

	test_dnat66(&o);
	fwd_tc__destroy(o.skel);
}

static int sandbox(void)
{
	static const char *const cmds[] = {
		"ip link add up0 address 02:00:00:00:00:f1 type veth peer name lanx",
		"ip link set lo up",
		"sysctl -qw net.ipv6.conf.all.forwarding=1",
		"ip -6 addr add fd77::1/64 dev up0 nodad",
		"ip link set up0 up",
		"ip link set lanx up",
		"ip -6 neigh replace fd77::2 lladdr 02:00:00:00:00:aa dev up0 nud permanent",
	};

	if (sandbox_enter("fwd_nat66", cmds, sizeof(cmds) / sizeof(cmds[0])))
		return -1;
	uplink_ifindex = if_nametoindex("up0");
	return uplink_ifindex ? 0 : -1;
}

int main(void)
{
	if (sandbox()) {
		printf("FAIL: fwd_nat66: setup\n");
		return 1;
	}
	test_nat66();
	return check_summary();
}

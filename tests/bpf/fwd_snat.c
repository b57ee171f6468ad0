// SPDX-License-Identifier: GPL-2.0
/*
 * Packet fixtures for masquerade (SNAT) and forwards (DNAT, hairpin, isolation) in BPF, run
 * through BPF_PROG_TEST_RUN: fwd_tc_ingress (host-side veths) and fwd_tc_uplink. The cases of a
 * table run in order on one loaded object, so a reply finds the connection an earlier case made.
 * Per case: the frame, the program, the verdict, the one counter that moves, the redirect target,
 * and checks of the frame that comes out (fields, and every checksum recomputed from scratch).
 *
 * The test runs in a network namespace of its own, so the FIB lookups see this world only:
 *
 *   up0 10.77.0.1/24 02:00:00:00:00:f1 (the uplink) ==== lanx; 10.77.0.2 is 02:00:00:00:00:aa
 *   "red" 192.168.15.1 02:00:00:00:00:01, host veth ifindex 101, host MAC 02:00:00:00:00:81
 *   "blue" .2 (102), "green" .3 (103), "yellow" .4 (104), same pattern
 *   masquerade 192.168.15.0/24, bridge subnet 192.168.15.0/24; forward tcp 8080 -> green:80
 *   10.88.0.0/16 via 10.77.0.2 (a route line's subnet, where test_routes() names it)
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
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
#include "fwd_loader.h" /* loader_counters_read_fd(): the loader's own way of reading them */
#include "fwd_tc.skel.h"

#include "check.h"
#include "pkt.h"
#include "sandbox.h"
#include "tc_run.h"

#define IP(a, b, c, d) ((__u32)(a) << 24 | (b) << 16 | (c) << 8 | (d)) /* host order */
#define NS(last)       IP(192, 168, 15, last)
#define UPLINK	       IP(10, 77, 0, 1)
#define REMOTE	       IP(10, 77, 0, 2)
#define ROUTER	       IP(10, 77, 0, 254)
/* clang-format off */
#define MAC(last) { 0x02, 0, 0, 0, 0, (last) }
/* clang-format on */

static const __u8 mac_ns[5][6] = { MAC(0), MAC(1), MAC(2), MAC(3), MAC(4) };
static const __u8 mac_host[5][6] = { MAC(0x80), MAC(0x81), MAC(0x82), MAC(0x83), MAC(0x84) };
static const __u8 mac_gw[6] = MAC(5), mac_uplink[6] = MAC(0xf1), mac_remote[6] = MAC(0xaa);

#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10
#define TCP_FIN 0x01

enum prog { VETH, UPLINK_PROG };
enum outcome { REDIRECT, PASS, DROP };

/* What goes in: zero fields take defaults (from red, TCP SYN to 10.77.0.2:80, TTL 64). */
struct spec {
	int from_ns;	    /* 1..4 on VETH; 0 on UPLINK_PROG (from the LAN) */
	const __u8 *dmac;   /* default: the gateway (VETH) or up0 (UPLINK_PROG) */
	__u32 saddr, daddr; /* host order; defaults by direction */
	__u8 proto;	    /* default TCP */
	__u16 sport, dport; /* host order; default 40000 -> 80 (VETH), 80 -> 40000 (UPLINK) */
	__u8 tcp_flags;	    /* default SYN */
	__u8 ttl;	    /* default 64 */
	__u8 icmp_type;	    /* ICMP: echo request by default on VETH, echo reply on UPLINK */
	__u16 icmp_id;	    /* ICMP echo identifier */
	bool udp_no_csum;   /* UDP sent with checksum 0 */
	bool more_frags;    /* MF set */
	__u16 frag_offset;  /* in 8-byte units; a later fragment (DF clear) */
	__u16 ip_id;	    /* default 0x1234 */
	bool no_df;	    /* DF clear (set by default) */
	__u16 pad;	    /* TCP: payload bytes beyond the default 10 */
	/* TCP sequence numbers: the client (VETH) starts at 1000, the server (UPLINK_PROG) at
	 * 5000, each SYN carries the 10 payload bytes, so each side acknowledges the other's
	 * ISN + 11 by default. */
	__u32 seq, ack;
	__u8 wscale;		 /* TCP: a window scale option of wscale - 1; 0: none */
	const struct pkt *quote; /* ICMP error: quote this frame's IPv4 packet (no Ethernet) */
	__u8 icmp_code;
};

/* The frame @s describes, into @f (pkt.h computes every checksum); its length. */
static size_t build(const struct spec *s, enum prog prog, struct pkt *f)
{
	bool out = prog == VETH;
	int ns = s->from_ns ? s->from_ns : 1;
	__u8 proto = s->proto ? s->proto : IPPROTO_TCP;
	/* the server's port: TCP 80, UDP 53; the client's 40000 */
	__u16 server = proto == IPPROTO_UDP ? 53 : 80;
	__u16 sport = s->sport ? s->sport : (out ? 40000 : server);
	__u16 dport = s->dport ? s->dport : (out ? server : 40000);
	__u8 icmp_type = s->icmp_type ? s->icmp_type : (out ? 8 : 0);
	struct pkt_ipv4 ip = {
		.saddr = s->saddr ? s->saddr : (out ? NS(ns) : REMOTE),
		.daddr = s->daddr ? s->daddr : (out ? REMOTE : UPLINK),
		.proto = proto,
		.ttl = s->ttl,
		.id = s->ip_id ? s->ip_id : 0x1234,
		.frag_off = s->frag_offset  ? (s->more_frags ? 0x2000 : 0) | s->frag_offset
			    : s->more_frags ? 0x2000
					    : (s->no_df ? 0 : 0x4000),
	};

	pkt_init(f);
	pkt_eth(f, s->dmac ? s->dmac : (out ? mac_gw : mac_uplink), out ? mac_ns[ns] : mac_remote,
		ETH_P_IP);
	pkt_ipv4(f, &ip);
	switch (proto) {
	case IPPROTO_TCP: {
		__u8 flags = s->tcp_flags ? s->tcp_flags : TCP_SYN;
		__u8 *tcp =
		    pkt_tcp(f, sport, dport, s->seq ? s->seq : (out ? 1000 : 5000), flags, 64240);

		if (flags & TCP_ACK)
			*(__be32 *)(tcp + 8) = htonl(s->ack ? s->ack : (out ? 5011 : 1011));
		if (s->wscale) { /* NOP, window scale (kind 3, length 3) */
			const __u8 opt[4] = { 1, 3, 3, s->wscale - 1 };

			tcp[12] = 6 << 4;
			pkt_data(f, opt, sizeof(opt));
		}
	}
		pkt_data(f, "0123456789", 10);
		pkt_put(f, s->pad); /* zeros */
		break;
	case IPPROTO_UDP:
		pkt_udp(f, sport, dport);
		pkt_data(f, "hello world", 11);
		break;
	case IPPROTO_ICMP:
		if (s->quote) {
			pkt_icmp(f, icmp_type, s->icmp_code, 0, 0);
			pkt_data(f, s->quote->b + ETH_HLEN, s->quote->len - ETH_HLEN);
		} else {
			pkt_icmp(f, icmp_type, s->icmp_code, s->icmp_id, 7);
			pkt_data(f, "pingpingpingping", 16);
		}
		break;
	default: /* GRE or anything else: 8 bytes of something */ pkt_put(f, 8); break;
	}
	pkt_finish(f, s->udp_no_csum ? PKT_UDP_NO_CSUM : 0);
	return f->len;
}

struct obj {
	const char *name;
	struct fwd_tc *skel;
	int prog_fd[2];
	int counters_fd, trace_fd, ct_fd, forwards_fd;
};

static int uplink_ifindex;

/* The case's PASS: or FAIL: line, named by the object and @name. */
static void result(const struct obj *o, const char *name)
{
	check_result("%s: %s", o->name, name);
}

/* Packets of counter @idx summed over CPUs (0 when it cannot be read). */
static __u64 counter_packets(const struct obj *o, __u32 idx)
{
	struct fwd_counter_sum c[FWD_CNT_MAX];

	return loader_counters_read_fd(o->counters_fd, c) ? 0 : c[idx].packets;
}

/*
 * Run @in through @prog; check the verdict, the one frame counter that moved (events are the
 * caller's to check), the redirect target and every checksum of the frame that comes out
 * (into @out).
 */
static void run(const struct obj *o, enum prog prog, const struct pkt *in, enum outcome want,
		__u32 counter, __u32 target, struct pkt *out)
{
	/* What the uplink's program passes is another filter's to look at (a topology sharing
	 * the uplink): TC_ACT_UNSPEC, which the kernel treats as TC_ACT_OK after the last. */
	const __u32 verdicts[] = { [REDIRECT] = TC_ACT_REDIRECT,
				   [PASS] = prog == UPLINK_PROG ? (__u32)TC_ACT_UNSPEC : TC_ACT_OK,
				   [DROP] = TC_ACT_SHOT };
	const struct tc_run_maps maps = { o->counters_fd, o->trace_fd };
	struct pkt scratch;

	if (!out)
		out = &scratch;
	tc_run(&maps, o->prog_fd[prog], in, verdicts[want], want == REDIRECT, counter, target, out);
	if (!check_failing() && want != DROP) {
		const char *bad;

		/* An ICMP error quotes only the start of the frame it answers; a packet cut into
		 * fragments comes out as its last one. */
		if (counter != FWD_CNT_TIME_EXCEEDED &&
		    pkt_ip_of(out)->frag_off == pkt_ip_of(in)->frag_off)
			CHECK(out->len == in->len, "frame out has %zu bytes, in %zu", out->len,
			      in->len);
		bad = pkt_frame_csum_error(out);
		CHECK(!bad, "%s is wrong", bad);
	}
}

static int ct_get(const struct obj *o, __u8 proto, __u32 saddr, __u16 sport, __u32 daddr,
		  __u16 dport, struct fwd_ct_entry *e)
{
	struct fwd_ct_key key;

	memset(&key, 0, sizeof(key));
	key.proto = proto;
	key.saddr = htonl(saddr);
	key.daddr = htonl(daddr);
	key.sport = htons(sport);
	key.dport = htons(dport);
	return bpf_map_lookup_elem(o->ct_fd, &key, e) ? -errno : 0;
}

static size_t map_count(int fd);

static size_t ct_count(const struct obj *o)
{
	return map_count(o->ct_fd);
}

/* Entries in the map @fd. */
static size_t map_count(int fd)
{
	__u8 key[64], next[64]; /* room for any key of ours */
	size_t n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, sizeof(key));
		prev = key;
		n++;
	}
	return n;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Fields of a masqueraded frame: from the uplink, to the LAN host's MAC, TTL down by one. */
static void check_snat_out(const struct pkt *in, const struct pkt *out)
{
	CHECK(!memcmp(out->b, mac_remote, 6) && !memcmp(out->b + 6, mac_uplink, 6),
	      "MACs not the FIB's (next hop 10.77.0.2 via up0)");
	CHECK(pkt_ip_of(out)->saddr == htonl(UPLINK), "source %s, want the uplink's",
	      inet_ntoa((struct in_addr){ pkt_ip_of(out)->saddr }));
	CHECK(pkt_ip_of(out)->daddr == pkt_ip_of(in)->daddr, "destination changed");
	CHECK(pkt_ip_of(out)->ttl == pkt_ip_of(in)->ttl - 1, "TTL %u, want %u", pkt_ip_of(out)->ttl,
	      pkt_ip_of(in)->ttl - 1);
}

static void check_reply_in(const struct pkt *in, const struct pkt *out, int ns)
{
	CHECK(!memcmp(out->b, mac_ns[ns], 6) && !memcmp(out->b + 6, mac_host[ns], 6),
	      "MACs not the veth pair's");
	CHECK(pkt_ip_of(out)->daddr == htonl(NS(ns)), "destination %s, want the namespace's",
	      inet_ntoa((struct in_addr){ pkt_ip_of(out)->daddr }));
	CHECK(pkt_ip_of(out)->saddr == pkt_ip_of(in)->saddr, "source changed");
	CHECK(pkt_ip_of(out)->ttl == pkt_ip_of(in)->ttl - 1, "TTL not decremented");
}

/* An ICMP time exceeded from the uplink back to the LAN host, quoting @in as it came. */
static void check_time_exceeded(const struct pkt *in, const struct pkt *out)
{
	const struct iphdr *ip = pkt_ip_of(out), *qip = pkt_ip_of(in);
	const __u8 *icmp = pkt_l4_of(out);
	size_t qlen = qip->ihl * 4 + 8;

	CHECK(!memcmp(out->b, mac_remote, 6) && !memcmp(out->b + 6, mac_uplink, 6),
	      "MACs not swapped back to the sender's");
	CHECK(ip->saddr == htonl(UPLINK) && ip->daddr == qip->saddr, "not uplink -> the sender");
	CHECK(ip->protocol == IPPROTO_ICMP && icmp[0] == 11 && icmp[1] == 0,
	      "not icmp time exceeded (protocol %u, type %u code %u)", ip->protocol, icmp[0],
	      icmp[1]);
	CHECK(out->len == ETH_HLEN + 28 + qlen && ntohs(ip->tot_len) == 28 + qlen,
	      "%zu bytes, want the header and 8 bytes quoted: %zu", out->len, ETH_HLEN + 28 + qlen);
	CHECK(!memcmp(icmp + 8, qip, qlen), "the quote is not the frame as it came");
}

static int fill(const struct obj *o)
{
	for (int i = 1; i <= 4; i++) {
		struct fwd_endpoint_key key = { .addr = htonl(NS(i)) };
		struct fwd_endpoint val = { .ifindex = 100 + i };

		memcpy(val.mac, mac_ns[i], 6);
		memcpy(val.host_mac, mac_host[i], 6);
		if (bpf_map_update_elem(bpf_map__fd(o->skel->maps.fwd_endpoints), &key, &val, 0))
			return -errno;
	}
	struct fwd_forward_key fk = { .addr = htonl(UPLINK),
				      .proto = IPPROTO_TCP,
				      .port = htons(8080) };
	struct fwd_forward_val fv = { .addr = htonl(NS(3)), .port = htons(80) };
	struct fwd_fwd_target_key tk = { .addr = htonl(NS(3)),
					 .proto = IPPROTO_TCP,
					 .port = htons(80) };
	__u32 one = 1;

	if (bpf_map_update_elem(o->forwards_fd, &fk, &fv, 0) ||
	    bpf_map_update_elem(bpf_map__fd(o->skel->maps.fwd_fwd_targets), &tk, &one, 0))
		return -errno;
	return 0;
}

/* fwd_ct_start, as `up` runs it: every slot free, the sweep started. */
static int ct_start(struct fwd_tc *skel, __u8 flags)
{
	char frame[64] = { (char)flags };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame),
		    .repeat = 1);

	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.fwd_ct_start), &opts))
		return -errno;
	return opts.retval == TC_ACT_OK ? 0 : -EIO;
}

/* Load an object with SNAT on; @tweak adjusts the settings (and map sizes) first. */
static int load(struct obj *o, const char *name, void (*tweak)(struct fwd_tc *))
{
	const struct fwd_ct_timeouts timeouts = FWD_CT_TIMEOUTS_DEFAULT;
	struct fwd_settings *cfg;
	int err;

	memset(o, 0, sizeof(*o));
	o->name = name;
	o->skel = fwd_tc__open();
	if (!o->skel)
		return -errno;
	cfg = (struct fwd_settings *)&o->skel->rodata->fwd_cfg;
	cfg->flags = FWD_SET_TRACE | FWD_SET_SNAT | FWD_SET_DNAT;
	cfg->bridge_ifindex = 3;
	memcpy(cfg->bridge_mac, mac_gw, 6);
	cfg->uplink_ifindex = uplink_ifindex;
	memcpy(cfg->uplink_mac, mac_uplink, 6);
	cfg->subnet = htonl(NS(0));
	cfg->subnet_mask = htonl(0xffffff00);
	cfg->nat_port_lo = FWD_NAT_PORT_LO;
	cfg->nat_port_hi = FWD_NAT_PORT_HI;
	cfg->ct = timeouts;
	cfg->n_masq = 1;
	cfg->masq[0].addr = htonl(NS(0));
	cfg->masq[0].mask = htonl(0xffffff00);
	/* A small table (the sweep reads it whole every 250 ms) unless @tweak sizes it. */
	bpf_map__set_max_entries(o->skel->maps.fwd_ct, 2 * 1024);
	if (tweak)
		tweak(o->skel);
	cfg->ct_max = bpf_map__max_entries(o->skel->maps.fwd_ct) / 2;
	if ((err = bpf_map__set_max_entries(o->skel->maps.fwd_ct_slots, cfg->ct_max)) ||
	    (err = bpf_map__set_max_entries(o->skel->maps.fwd_ct_free, cfg->ct_max)))
		return err;
	err = fwd_tc__load(o->skel);
	if (err)
		return err;
	err = ct_start(o->skel, FWD_CT_START_FILL);
	if (err)
		return err;
	if (bpf_map_update_elem(bpf_map__fd(o->skel->maps.fwd_uplink), &(__u32){ 0 },
				&(struct fwd_uplink){ .addr = htonl(UPLINK) }, BPF_ANY))
		return -errno;
	o->prog_fd[VETH] = bpf_program__fd(o->skel->progs.fwd_tc_ingress);
	o->prog_fd[UPLINK_PROG] = bpf_program__fd(o->skel->progs.fwd_tc_uplink);
	o->counters_fd = bpf_map__fd(o->skel->maps.fwd_counters);
	o->trace_fd = bpf_map__fd(o->skel->maps.fwd_trace);
	o->ct_fd = bpf_map__fd(o->skel->maps.fwd_ct);
	o->forwards_fd = bpf_map__fd(o->skel->maps.fwd_forwards);
	return fill(o);
}

/* load(), or a FAIL line saying why. */
static bool loaded(struct obj *o, const char *name, void (*tweak)(struct fwd_tc *))
{
	int err = load(o, name, tweak);

	if (err) {
		check_fail("load: %s", strerror(-err));
		result(o, "load");
	}
	return !err;
}

static void test_main(void)
{
	struct pkt in, out, syn_blue_out;
	struct fwd_ct_entry e;
	struct obj o;
	__u16 port_blue;

	if (!loaded(&o, "snat", NULL))
		goto end;

	build(&(struct spec){ .from_ns = 1 }, VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, &out);
	check_snat_out(&in, &out);
	CHECK(pkt_port_of(&out, 0) == 40000, "source port %u, want 40000 kept",
	      pkt_port_of(&out, 0));
	CHECK(!ct_get(&o, IPPROTO_TCP, NS(1), 40000, REMOTE, 80, &e) &&
		  e.track.state == FWD_CT_TCP_SYN_SENT,
	      "no ORIG entry in syn_sent");
	CHECK(!ct_get(&o, IPPROTO_TCP, REMOTE, 80, UPLINK, 40000, &e) && e.dir == FWD_CT_DIR_REPLY,
	      "no REPLY entry");
	result(&o, "tcp syn red:40000 -> lan:80 leaves as uplink:40000, checksums right");

	build(&(struct spec){ .tcp_flags = TCP_SYN | TCP_ACK }, UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_SNAT_REPLY, 101, &out);
	check_reply_in(&in, &out, 1);
	CHECK(pkt_port_of(&out, 1) == 40000, "destination port %u", pkt_port_of(&out, 1));
	CHECK(!ct_get(&o, IPPROTO_TCP, NS(1), 40000, REMOTE, 80, &e) &&
		  e.track.state == FWD_CT_TCP_SYN_RECV && !(e.track.flags & FWD_CT_F_ASSURED),
	      "state %u flags %#x, want syn_recv, not assured", e.track.state, e.track.flags);
	result(&o, "syn-ack back to uplink:40000 goes into red: syn_recv, not assured");

	build(&(struct spec){ .from_ns = 1, .tcp_flags = TCP_ACK }, VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, NULL);
	CHECK(!ct_get(&o, IPPROTO_TCP, NS(1), 40000, REMOTE, 80, &e) &&
		  e.track.state == FWD_CT_TCP_ESTABLISHED && (e.track.flags & FWD_CT_F_ASSURED),
	      "state %u flags %#x, want established, assured", e.track.state, e.track.flags);
	result(&o, "the handshake's final ack from red: established, assured");

	build(&(struct spec){ .from_ns = 2 }, VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, &syn_blue_out);
	check_snat_out(&in, &syn_blue_out);
	port_blue = pkt_port_of(&syn_blue_out, 0);
	CHECK(port_blue != 40000 && port_blue >= FWD_NAT_PORT_LO && port_blue <= FWD_NAT_PORT_HI,
	      "blue got port %u", port_blue);
	result(&o, "blue with the same source port to the same server gets another port");

	build(&(struct spec){ .dport = port_blue, .tcp_flags = TCP_SYN | TCP_ACK }, UPLINK_PROG,
	      &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_SNAT_REPLY, 102, &out);
	check_reply_in(&in, &out, 2);
	CHECK(pkt_port_of(&out, 1) == 40000, "destination port %u, want 40000",
	      pkt_port_of(&out, 1));
	result(&o, "reply to blue's port goes into blue with port 40000");

	build(&(struct spec){ .dport = port_blue, .tcp_flags = TCP_ACK, .ttl = 1 }, UPLINK_PROG,
	      &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_TIME_EXCEEDED, 1, &out);
	check_time_exceeded(&in, &out);
	result(&o, "ttl-1 reply to blue's port: time exceeded back to the lan host");

	/* A router on the way says "fragmentation needed", quoting blue's SYN as it left. */
	build(&(struct spec){ .saddr = ROUTER,
			      .proto = IPPROTO_ICMP,
			      .icmp_type = 3,
			      .icmp_code = 4,
			      .quote = &syn_blue_out },
	      UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_SNAT_REPLY, 102, &out);
	check_reply_in(&in, &out, 2);
	{
		const struct iphdr *q = (const void *)(pkt_l4_of(&out) + 8);
		const __u8 *ql4 = (const __u8 *)q + 20;

		CHECK(q->saddr == htonl(NS(2)), "quoted source %s, want blue",
		      inet_ntoa((struct in_addr){ q->saddr }));
		CHECK(q->daddr == htonl(REMOTE), "quoted destination changed");
		CHECK(ntohs(*(__be16 *)ql4) == 40000, "quoted source port %u, want 40000",
		      ntohs(*(__be16 *)ql4));
	}
	result(&o, "icmp frag-needed for blue's flow: outer and quoted header translated");

	build(
	    &(struct spec){
		.saddr = ROUTER, .proto = IPPROTO_ICMP, .icmp_type = 11, .quote = &syn_blue_out },
	    UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_SNAT_REPLY, 102, NULL);
	result(&o, "icmp time-exceeded for blue's flow translated");

	build(&(struct spec){ .from_ns = 1, .tcp_flags = TCP_RST | TCP_ACK }, VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, NULL);
	CHECK(!ct_get(&o, IPPROTO_TCP, NS(1), 40000, REMOTE, 80, &e) &&
		  e.track.state == FWD_CT_TCP_CLOSE,
	      "state %u, want close", e.track.state);
	/* The slot's lower bound follows, or the sweep would look only at the old expiry. */
	struct fwd_ct_slot sl = { 0 };

	CHECK(e.expires_ns <= now_ns() + 10ull * 1000000000 &&
		  !bpf_map_lookup_elem(bpf_map__fd(o.skel->maps.fwd_ct_slots), &e.slot, &sl) &&
		  sl.expires_ns <= e.expires_ns,
	      "expiry not brought forward to the close timeout: expires %llu, slot's %llu",
	      (unsigned long long)e.expires_ns, (unsigned long long)sl.expires_ns);
	result(&o, "rst from red moves the connection to the close timeout (10 s), its slot too");

	build(&(struct spec){ .from_ns = 1, .tcp_flags = TCP_FIN | TCP_ACK, .sport = 40001 }, VETH,
	      &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, NULL);
	CHECK(!ct_get(&o, IPPROTO_TCP, NS(1), 40001, REMOTE, 80, &e) &&
		  e.track.state == FWD_CT_TCP_FIN_WAIT,
	      "state %u, want fin_wait (picked up mid-stream)", e.track.state);
	result(&o, "a mid-stream FIN without an entry is picked up, fin_wait");

	build(
	    &(struct spec){
		.from_ns = 1, .proto = IPPROTO_UDP, .sport = 45000, .udp_no_csum = true },
	    VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, &out);
	check_snat_out(&in, &out);
	CHECK(*(__be16 *)(pkt_l4_of(&out) + 6) == 0, "UDP checksum 0 became %#x",
	      ntohs(*(__be16 *)(pkt_l4_of(&out) + 6)));
	result(&o, "udp without checksum (0) leaves translated with checksum 0");

	build(&(struct spec){ .from_ns = 4, .proto = IPPROTO_UDP, .sport = 45001 }, VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, &out);
	check_snat_out(&in, &out);
	CHECK(*(__be16 *)(pkt_l4_of(&out) + 6) != 0, "UDP checksum lost");
	result(&o, "udp with checksum leaves translated, checksum right");

	build(&(struct spec){ .proto = IPPROTO_UDP, .sport = 53, .dport = 45001 }, UPLINK_PROG,
	      &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_SNAT_REPLY, 104, &out);
	check_reply_in(&in, &out, 4);
	CHECK(!ct_get(&o, IPPROTO_UDP, NS(4), 45001, REMOTE, 53, &e) &&
		  e.track.state == FWD_CT_UDP_ASSURED,
	      "state %u, want udp_assured", e.track.state);
	result(&o, "udp reply goes into yellow, assured");

	build(&(struct spec){ .from_ns = 3, .proto = IPPROTO_ICMP, .icmp_id = 0x4242 }, VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, &out);
	check_snat_out(&in, &out);
	CHECK(ntohs(*(__be16 *)(pkt_l4_of(&out) + 4)) == 0x4242, "echo id changed");
	result(&o, "icmp echo request from green leaves translated");

	build(&(struct spec){ .proto = IPPROTO_ICMP, .icmp_id = 0x4242 }, UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_SNAT_REPLY, 103, &out);
	check_reply_in(&in, &out, 3);
	result(&o, "icmp echo reply goes into green");

	build(&(struct spec){ .from_ns = 1, .proto = IPPROTO_ICMP, .icmp_id = 0x4242 }, VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, &out);
	CHECK(ntohs(*(__be16 *)(pkt_l4_of(&out) + 4)) != 0x4242, "red got green's echo id");
	result(&o, "icmp echo from red with green's id gets another id");

	build(&(struct spec){ .from_ns = 1, .sport = 8080 }, VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, &out);
	CHECK(pkt_port_of(&out, 0) != 8080, "kept source port 8080, which the uplink forwards");
	result(&o, "a source port the uplink forwards is never kept (port shadowing)");

	/* Another topology masquerading out of the same uplink holds lan:80 <- uplink:41234:
	 * its table is in fwd_ct_peers, and the port is not kept. */
	{
		struct fwd_ct_entry peer_e = { .dir = FWD_CT_DIR_REPLY, .nat = FWD_CT_NAT_SNAT };
		struct fwd_ct_key rkey = { .saddr = htonl(REMOTE),
					   .daddr = htonl(UPLINK),
					   .sport = htons(80),
					   .dport = htons(41234),
					   .proto = IPPROTO_TCP };
		LIBBPF_OPTS(bpf_map_create_opts, no_prealloc, .map_flags = BPF_F_NO_PREALLOC);
		int peer_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "peer_ct", sizeof(rkey),
					     sizeof(peer_e), 16, &no_prealloc);
		int peers_fd = bpf_map__fd(o.skel->maps.fwd_ct_peers);
		__u32 zero = 0;

		CHECK(peer_fd >= 0 && !bpf_map_update_elem(peer_fd, &rkey, &peer_e, BPF_ANY) &&
			  !bpf_map_update_elem(peers_fd, &zero, &peer_fd, BPF_ANY),
		      "cannot make the peer's table: %s", strerror(errno));
		build(&(struct spec){ .from_ns = 1, .sport = 41234 }, VETH, &in);
		run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, &out);
		CHECK(pkt_port_of(&out, 0) != 41234,
		      "kept source port 41234, which another topology holds to lan:80");
		bpf_map_delete_elem(peers_fd, &zero);
		if (peer_fd >= 0)
			close(peer_fd);
		result(&o, "a port another topology on the uplink holds to that peer is not kept");
	}

	build(&(struct spec){ .dport = 22 }, UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, PASS, FWD_CNT_PASS_UPLINK_HOST, 0, &out);
	CHECK(!memcmp(in.b, out.b, in.len), "frame changed");
	result(&o, "uplink frame of no connection goes to the host unchanged");

	build(&(struct spec){ .daddr = IP(10, 77, 0, 9) }, UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, PASS, FWD_CNT_PASS_UPLINK_HOST, 0, NULL);
	result(&o, "uplink frame to another address goes to the host");

	build(&(struct spec){ .from_ns = 1, .ttl = 1, .sport = 41000 }, VETH, &in);
	run(&o, VETH, &in, PASS, FWD_CNT_PASS_TTL, 0, NULL);
	CHECK(ct_get(&o, IPPROTO_TCP, NS(1), 41000, REMOTE, 80, &e) == -ENOENT,
	      "connection made for a frame that expires");
	result(&o, "ttl 1 goes to the kernel (time exceeded), no connection made");

	build(&(struct spec){ .from_ns = 1, .daddr = UPLINK }, VETH, &in);
	run(&o, VETH, &in, PASS, FWD_CNT_PASS_ROUTE, 0, NULL);
	result(&o, "to the uplink's own address: the host's, not masqueraded");

	build(&(struct spec){ .from_ns = 1, .dmac = mac_ns[2], .daddr = NS(2) }, VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_REDIRECT_PEER, 102, NULL);
	result(&o, "namespace to namespace still switched");

	/* A datagram in two fragments each way, through SNAT; the first names the connection. */
	build(
	    &(struct spec){
		.from_ns = 1, .proto = IPPROTO_UDP, .sport = 41500, .more_frags = true },
	    VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, &out);
	check_snat_out(&in, &out);
	build(
	    &(struct spec){ .from_ns = 1, .proto = IPPROTO_UDP, .sport = 41500, .frag_offset = 3 },
	    VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, &out);
	check_snat_out(&in, &out);
	CHECK(!memcmp(pkt_l4_of(&out), pkt_l4_of(&in), 8), "a later fragment's payload changed");
	build(&(struct spec){ .proto = IPPROTO_UDP, .dport = 41500, .more_frags = true },
	      UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_SNAT_REPLY, 101, &out);
	check_reply_in(&in, &out, 1);
	build(&(struct spec){ .proto = IPPROTO_UDP, .dport = 41500, .frag_offset = 3 }, UPLINK_PROG,
	      &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_SNAT_REPLY, 101, &out);
	check_reply_in(&in, &out, 1);
	result(&o, "udp in fragments, out and back: every fragment translated");

	/* Reordered: a later fragment before its first is held, and goes again when it comes. */
	build(&(struct spec){ .from_ns = 1,
			      .proto = IPPROTO_UDP,
			      .sport = 41501,
			      .frag_offset = 3,
			      .ip_id = 0x4321 },
	      VETH, &in);
	run(&o, VETH, &in, DROP, FWD_CNT_FRAG_PARKED, 0, NULL);
	CHECK(map_count(bpf_map__fd(o.skel->maps.fwd_frag_park)) == 1, "%zu fragments held, want 1",
	      map_count(bpf_map__fd(o.skel->maps.fwd_frag_park)));
	build(&(struct spec){ .from_ns = 1,
			      .proto = IPPROTO_UDP,
			      .sport = 41501,
			      .more_frags = true,
			      .ip_id = 0x4321 },
	      VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, &out);
	check_snat_out(&in, &out);
	CHECK(
	    !memcmp(pkt_l4_of(&out) + 8, pkt_l4_of(&in) + 8, in.len - (pkt_l4_of(&in) - in.b) - 8),
	    "the first fragment is not itself again after the held one went");
	CHECK(map_count(bpf_map__fd(o.skel->maps.fwd_frag_park)) == 0,
	      "%zu fragments still held after their first came",
	      map_count(bpf_map__fd(o.skel->maps.fwd_frag_park)));
	result(&o, "a later fragment before its first: held, sent again when the first comes");

	for (int i = 0; i < 9; i++) {
		build(&(struct spec){ .from_ns = 1,
				      .proto = IPPROTO_UDP,
				      .sport = 41502,
				      .frag_offset = 3 + i,
				      .more_frags = i < 8,
				      .ip_id = 0x5000 },
		      VETH, &in);
		run(&o, VETH, &in, DROP, i < 8 ? FWD_CNT_FRAG_PARKED : FWD_CNT_DROP_FRAG_NO_FIRST,
		    0, NULL);
	}
	result(&o, "8 fragments held for one datagram, a 9th dropped, never sent untranslated");

	build(
	    &(struct spec){
		.proto = IPPROTO_UDP, .dport = 41500, .frag_offset = 3, .ip_id = 0x4322 },
	    UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, DROP, FWD_CNT_FRAG_PARKED, 0, NULL);
	result(&o, "from the lan too, a later fragment before its first is held");

	build(&(struct spec){ .from_ns = 1, .proto = 47 }, VETH, &in);
	run(&o, VETH, &in, DROP, FWD_CNT_DROP_NAT_PROTO, 0, NULL);
	result(&o, "gre is dropped, never sent untranslated");

	build(
	    &(struct spec){
		.from_ns = 3, .sport = 80, .dport = 5555, .tcp_flags = TCP_SYN | TCP_ACK },
	    VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, NULL);
	result(&o, "from a forward's target port, no forwarded connection: masqueraded");

	/* Forwards: tcp 8080 -> green:80. */
	build(&(struct spec){ .sport = 33000, .dport = 8080 }, UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_DNAT, 103, &out);
	check_reply_in(&in, &out, 3);
	CHECK(pkt_port_of(&out, 1) == 80 && pkt_port_of(&out, 0) == 33000, "ports %u -> %u",
	      pkt_port_of(&out, 0), pkt_port_of(&out, 1));
	result(&o, "lan:33000 -> uplink:8080 goes into green:80, client address kept");

	build(&(struct spec){ .sport = 33030, .dport = 8080, .more_frags = true, .ip_id = 0x777 },
	      UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_DNAT, 103, &out);
	check_reply_in(&in, &out, 3);
	build(&(struct spec){ .sport = 33030, .dport = 8080, .frag_offset = 4, .ip_id = 0x777 },
	      UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_DNAT, 103, &out);
	check_reply_in(&in, &out, 3);
	result(&o, "a syn in fragments to a forward: both into green");

	build(&(struct spec){ .sport = 33000, .dport = 8080, .tcp_flags = TCP_ACK, .ttl = 1 },
	      UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_TIME_EXCEEDED, 1, &out);
	check_time_exceeded(&in, &out);
	result(&o, "ttl 1 to a forward: time exceeded from the uplink, quoting it untranslated");

	build(&(struct spec){ .sport = 33010, .dport = 8080, .ttl = 1 }, UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_TIME_EXCEEDED, 1, &out);
	check_time_exceeded(&in, &out);
	CHECK(ct_get(&o, IPPROTO_TCP, REMOTE, 33010, UPLINK, 8080, &e) == -ENOENT,
	      "a connection made for a syn that expires here");
	result(&o, "a ttl-1 syn to a forward: time exceeded, no connection made");

	build(&(struct spec){ .sport = 33020, .dport = 8080 }, UPLINK_PROG, &in);
	pkt_ip_of(&in)->check ^= htons(1);
	run(&o, UPLINK_PROG, &in, DROP, FWD_CNT_DROP_BAD_IPV4_CSUM, 0, NULL);
	build(&(struct spec){ .sport = 33020, .dport = 8080 }, UPLINK_PROG, &in);
	((__u8 *)pkt_l4_of(&in))[12] = 0; /* data offset 0 */
	run(&o, UPLINK_PROG, &in, DROP, FWD_CNT_DROP_BAD_L4_LEN, 0, NULL);
	build(&(struct spec){ .from_ns = 1, .sport = 33020 }, VETH, &in);
	((__u8 *)pkt_l4_of(&in))[12] = 15 << 4; /* data offset past the segment */
	run(&o, VETH, &in, DROP, FWD_CNT_DROP_BAD_L4_LEN, 0, NULL);
	CHECK(ct_get(&o, IPPROTO_TCP, REMOTE, 33020, UPLINK, 8080, &e) == -ENOENT &&
		  ct_get(&o, IPPROTO_TCP, NS(1), 33020, REMOTE, 80, &e) == -ENOENT,
	      "a connection made for a malformed frame");
	result(&o,
	       "malformed to a forward and to masquerade: dropped with a reason, no connection");

	build(
	    &(struct spec){
		.from_ns = 3, .sport = 80, .dport = 33000, .tcp_flags = TCP_SYN | TCP_ACK },
	    VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_DNAT_REPLY, uplink_ifindex, &out);
	check_snat_out(&in, &out);
	CHECK(pkt_port_of(&out, 0) == 8080, "source port %u, want 8080", pkt_port_of(&out, 0));
	result(&o, "green's reply leaves as uplink:8080");

	build(&(struct spec){ .saddr = ROUTER,
			      .proto = IPPROTO_ICMP,
			      .icmp_type = 3,
			      .icmp_code = 4,
			      .quote = &out },
	      UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_DNAT, 103, NULL);
	result(&o, "icmp frag-needed for green's reply goes into green, translated");

	build(&(struct spec){ .sport = 33001, .dport = 8081 }, UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, PASS, FWD_CNT_PASS_UPLINK_HOST, 0, NULL);
	result(&o, "lan -> uplink:8081 (not forwarded) is the host's");

	build(&(struct spec){ .daddr = NS(2), .dport = 22 }, UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, DROP, FWD_CNT_DROP_NOT_FORWARDED, 0, NULL);
	result(&o, "lan -> a namespace address directly: dropped (isolation)");

	/* A LAN host forging a namespace's source, to a forward whose answer would go to it. */
	build(&(struct spec){ .saddr = NS(1), .sport = 33002, .dport = 8080 }, UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, DROP, FWD_CNT_DROP_SPOOF_UPLINK, 0, NULL);
	result(&o, "lan -> uplink:8080 with red's address as source: dropped (anti-spoofing)");

	build(&(struct spec){ .from_ns = 1, .sport = 42000, .daddr = UPLINK, .dport = 8080 }, VETH,
	      &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_DNAT, 103, &out);
	check_reply_in(&in, &out, 3);
	CHECK(pkt_port_of(&out, 1) == 80, "destination port %u", pkt_port_of(&out, 1));
	result(&o, "hairpin: red -> uplink:8080 goes into green:80, red's address kept");

	build(&(struct spec){ .from_ns = 3,
			      .dmac = mac_ns[1],
			      .daddr = NS(1),
			      .sport = 80,
			      .dport = 42000,
			      .tcp_flags = TCP_SYN | TCP_ACK,
			      .ack = 1011 /* red's SYN: the client is a namespace here */ },
	      VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_DNAT_REPLY, 101, &out);
	CHECK(!memcmp(out.b, mac_ns[1], 6) && !memcmp(out.b + 6, mac_host[1], 6),
	      "MACs not red's veth pair's");
	CHECK(pkt_ip_of(&out)->daddr == htonl(NS(1)) && pkt_port_of(&out, 1) == 42000,
	      "destination changed");
	CHECK(pkt_ip_of(&out)->saddr == htonl(UPLINK) && pkt_port_of(&out, 0) == 8080,
	      "hairpin reply not from uplink:8080");
	result(&o, "hairpin reply: green -> red comes from uplink:8080");
end:
	fwd_tc__destroy(o.skel);
}

static void tweak_three_ports(struct fwd_tc *skel)
{
	struct fwd_settings *cfg = (struct fwd_settings *)&skel->rodata->fwd_cfg;

	cfg->nat_port_lo = 50000;
	cfg->nat_port_hi = 50002;
	cfg->flags |= FWD_SET_SNAT_PORTS; /* a snat-ports line of the topology's own */
}

static void test_exhausted(void)
{
	struct pkt in, out;
	__u16 got[3] = {};
	struct obj o;

	if (!loaded(&o, "snat-3-ports", tweak_three_ports))
		goto end;
	/* Port 50001 is forwarded (set below): the range 50000-50002 has two ports to give. */
	struct fwd_forward_key fk = { .addr = htonl(UPLINK),
				      .proto = IPPROTO_TCP,
				      .port = htons(50001) };
	struct fwd_forward_val fv = { .addr = htonl(NS(3)), .port = htons(80) };

	bpf_map_update_elem(o.forwards_fd, &fk, &fv, 0);
	build(&(struct spec){ .from_ns = 1, .sport = 50000 }, VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, &out);
	got[0] = pkt_port_of(&out, 0);
	CHECK(got[0] == 50000, "a free source port of the range not kept (%u)", got[0]);
	result(&o, "a free source port inside the range is kept");

	build(&(struct spec){ .from_ns = 2, .sport = 40000 }, VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, &out);
	got[1] = pkt_port_of(&out, 0);
	CHECK(got[1] == 50002, "port %u, want 50002", got[1]);
	result(&o, "a source port outside the range (40000) is not kept: the range's last free "
		   "port, skipping 50001 (forwarded)");

	build(&(struct spec){ .from_ns = 3, .sport = 50000 }, VETH, &in);
	run(&o, VETH, &in, DROP, FWD_CNT_DROP_NAT_NO_PORT, 0, NULL);
	CHECK(ct_count(&o) == 4, "%zu entries, want 4 (no half connection left)", ct_count(&o));
	result(&o, "third flow: range exhausted, dropped and counted");

	build(&(struct spec){ .from_ns = 3, .sport = 50000, .dport = 81 }, VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, &out);
	CHECK(pkt_port_of(&out, 0) >= 50000 && pkt_port_of(&out, 0) <= 50002,
	      "port %u outside the range", pkt_port_of(&out, 0));
	result(&o, "the same source to another server port still gets a mapping");
end:
	fwd_tc__destroy(o.skel);

	/* Without a snat-ports line of its own a free source port is kept whatever it is. */
	if (!loaded(&o, "snat-default-ports", NULL))
		return;
	build(&(struct spec){ .from_ns = 1, .sport = 1234 }, VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, &out);
	CHECK(pkt_port_of(&out, 0) == 1234, "port %u, want 1234 kept", pkt_port_of(&out, 0));
	result(&o, "default range: a free source port below it (1234) is kept, as MASQUERADE");
	fwd_tc__destroy(o.skel);
}

/* Connection @sport of red to the LAN server, its state and flags into @e; 0 or -errno. */
static int track_get(const struct obj *o, __u16 sport, struct fwd_ct_entry *e)
{
	return ct_get(o, IPPROTO_TCP, NS(1), sport, REMOTE, 80, e);
}

/* One handshake red:@sport -> lan:80 (the server's window scale @srv_ws, 0: none). */
static void track_open(const struct obj *o, __u16 sport, __u8 cli_ws, __u8 srv_ws)
{
	struct pkt f;

	build(&(struct spec){ .from_ns = 1, .sport = sport, .wscale = cli_ws }, VETH, &f);
	run(o, VETH, &f, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, NULL);
	build(&(struct spec){ .dport = sport, .tcp_flags = TCP_SYN | TCP_ACK, .wscale = srv_ws },
	      UPLINK_PROG, &f);
	run(o, UPLINK_PROG, &f, REDIRECT, FWD_CNT_SNAT_REPLY, 101, NULL);
	build(&(struct spec){ .from_ns = 1, .sport = sport, .tcp_flags = TCP_ACK }, VETH, &f);
	run(o, VETH, &f, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, NULL);
}

/*
 * TCP tracking (bpf/conntrack.h): segments outside the window change nothing and are dropped,
 * the LAN opens connections with a SYN only, a forged SYN-ACK does not answer a SYN.
 */
static void test_tcp_tracking(void)
{
	struct fwd_ct_entry e;
	struct pkt in;
	struct obj o;
	__u64 n;

	if (!loaded(&o, "tcp-tracking", NULL))
		goto end;
	track_open(&o, 44000, 0, 0);
	CHECK(!track_get(&o, 44000, &e) && e.track.state == FWD_CT_TCP_ESTABLISHED,
	      "state %u, want established", e.track.state);
	result(&o, "tracking: a handshake, established");

	n = counter_packets(&o, FWD_CNT_DROP_TCP_WINDOW);
	/* The server's ISN is 5000, red offers 64240 bytes: 1 MB ahead is far out of the window. */
	build(&(struct spec){ .dport = 44000, .tcp_flags = TCP_RST, .seq = 5000 + 1000000 },
	      UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, DROP, FWD_CNT_DROP_TCP_WINDOW, 0, NULL);
	CHECK(!track_get(&o, 44000, &e) && e.track.state == FWD_CT_TCP_ESTABLISHED,
	      "state %u after a forged rst, want established", e.track.state);
	CHECK(counter_packets(&o, FWD_CNT_DROP_TCP_WINDOW) == n + 1,
	      "drop_tcp_window moved by %llu",
	      (unsigned long long)(counter_packets(&o, FWD_CNT_DROP_TCP_WINDOW) - n));
	result(&o, "an rst 1 MB out of the window from the lan: dropped, counted, state unchanged");

	build(&(struct spec){ .dport = 44000,
			      .tcp_flags = TCP_FIN | TCP_ACK,
			      .seq = 5000 + 70000000 },
	      UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, DROP, FWD_CNT_DROP_TCP_WINDOW, 0, NULL);
	build(&(struct spec){ .dport = 44000, .tcp_flags = TCP_ACK, .seq = 5000 - 3000000 },
	      UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, DROP, FWD_CNT_DROP_TCP_WINDOW, 0, NULL);
	CHECK(!track_get(&o, 44000, &e) && e.track.state == FWD_CT_TCP_ESTABLISHED,
	      "state %u, want established", e.track.state);
	result(&o, "a fin beyond the window and data far behind it: dropped, state unchanged");

	build(&(struct spec){ .dport = 44000, .tcp_flags = TCP_ACK, .seq = 5000 + 60000 },
	      UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_SNAT_REPLY, 101, NULL);
	result(&o, "data within red's 64240-byte window gets through");

	build(&(struct spec){ .dport = 44000, .tcp_flags = TCP_RST, .seq = 5011 }, UPLINK_PROG,
	      &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_SNAT_REPLY, 101, NULL);
	CHECK(!track_get(&o, 44000, &e) && e.track.state == FWD_CT_TCP_CLOSE,
	      "state %u, want close", e.track.state);
	result(&o, "an rst at the expected sequence number closes the connection");

	/* Window scale 7 on both sides: red offers 64240 << 7 bytes (8 MB). */
	track_open(&o, 44001, 8, 8);
	build(&(struct spec){ .dport = 44001, .tcp_flags = TCP_ACK, .seq = 5000 + 5000000 },
	      UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_SNAT_REPLY, 101, NULL);
	build(&(struct spec){ .dport = 44001, .tcp_flags = TCP_RST, .seq = 5000 + 40000000 },
	      UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, DROP, FWD_CNT_DROP_TCP_WINDOW, 0, NULL);
	result(&o, "window scale 7: data 5 MB ahead is in the window, an rst 40 MB ahead is not");

	/* Only one side announces a scale: neither window is scaled (RFC 7323). */
	track_open(&o, 44002, 8, 0);
	build(&(struct spec){ .dport = 44002, .tcp_flags = TCP_ACK, .seq = 5000 + 5000000 },
	      UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, DROP, FWD_CNT_DROP_TCP_WINDOW, 0, NULL);
	result(&o, "a scale announced by one side only scales nothing");

	build(&(struct spec){ .from_ns = 1, .sport = 44003 }, VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, NULL);
	build(&(struct spec){ .dport = 44003, .tcp_flags = TCP_SYN | TCP_ACK, .ack = 999999 },
	      UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, DROP, FWD_CNT_DROP_TCP_WINDOW, 0, NULL);
	CHECK(!track_get(&o, 44003, &e) && e.track.state == FWD_CT_TCP_SYN_SENT,
	      "state %u after a forged syn-ack, want syn_sent", e.track.state);
	result(&o, "a syn-ack that does not acknowledge the syn: dropped, still syn_sent");

	/* Forwards: tcp 8080 -> green:80. Only a SYN opens one from the LAN. */
	n = counter_packets(&o, FWD_CNT_DROP_CT_INVALID);
	build(&(struct spec){ .sport = 34000, .dport = 8080, .tcp_flags = TCP_ACK }, UPLINK_PROG,
	      &in);
	run(&o, UPLINK_PROG, &in, DROP, FWD_CNT_DROP_CT_INVALID, 0, NULL);
	build(&(struct spec){ .sport = 34001, .dport = 8080, .tcp_flags = TCP_SYN | TCP_ACK },
	      UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, DROP, FWD_CNT_DROP_CT_INVALID, 0, NULL);
	CHECK(ct_get(&o, IPPROTO_TCP, REMOTE, 34000, UPLINK, 8080, &e) == -ENOENT &&
		  ct_get(&o, IPPROTO_TCP, REMOTE, 34001, UPLINK, 8080, &e) == -ENOENT,
	      "an entry was made");
	CHECK(counter_packets(&o, FWD_CNT_DROP_CT_INVALID) == n + 2,
	      "drop_ct_invalid moved by %llu",
	      (unsigned long long)(counter_packets(&o, FWD_CNT_DROP_CT_INVALID) - n));
	result(&o, "a bare ack or a syn-ack from the lan to a forward opens nothing: dropped");

	build(&(struct spec){ .sport = 34002, .dport = 8080 }, UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_DNAT, 103, NULL);
	build(
	    &(struct spec){
		.from_ns = 3, .sport = 80, .dport = 34002, .tcp_flags = TCP_SYN | TCP_ACK },
	    VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_DNAT_REPLY, uplink_ifindex, NULL);
	CHECK(!ct_get(&o, IPPROTO_TCP, REMOTE, 34002, UPLINK, 8080, &e) &&
		  e.track.state == FWD_CT_TCP_SYN_RECV && !(e.track.flags & FWD_CT_F_ASSURED),
	      "state %u flags %#x: a SYN answered by green is half-open, not assured",
	      e.track.state, e.track.flags);
	build(&(struct spec){ .sport = 34002, .dport = 8080, .tcp_flags = TCP_ACK }, UPLINK_PROG,
	      &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_DNAT, 103, NULL);
	CHECK(!ct_get(&o, IPPROTO_TCP, REMOTE, 34002, UPLINK, 8080, &e) &&
		  e.track.state == FWD_CT_TCP_ESTABLISHED && (e.track.flags & FWD_CT_F_ASSURED),
	      "state %u flags %#x after the final ack", e.track.state, e.track.flags);
	result(&o, "a forward: syn, syn-ack (half-open), final ack (established, assured)");

	build(&(struct spec){ .from_ns = 2, .sport = 44010, .tcp_flags = TCP_ACK }, VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, NULL);
	CHECK(!ct_get(&o, IPPROTO_TCP, NS(2), 44010, REMOTE, 80, &e) &&
		  e.track.state == FWD_CT_TCP_ESTABLISHED && (e.track.flags & FWD_CT_F_LIBERAL),
	      "state %u flags %#x: a namespace's segment is picked up", e.track.state,
	      e.track.flags);
	result(&o, "from a namespace, a segment without an entry is picked up (after a flush)");
end:
	fwd_tc__destroy(o.skel);
}

static void tweak_tiny_table(struct fwd_tc *skel)
{
	bpf_map__set_max_entries(skel->maps.fwd_ct, 4); /* two connections */
}

/* A connection from namespace @ns, source port 41000 + @ns (kept: no two collide), a SYN. */
static void full_syn(const struct obj *o, int ns, enum outcome want, __u32 counter)
{
	struct pkt in;

	build(&(struct spec){ .from_ns = ns, .sport = 41000 + ns }, VETH, &in);
	run(o, VETH, &in, want, counter, want == REDIRECT ? uplink_ifindex : 0, NULL);
}

/* The server answers namespace @ns's connection (SYN-ACK), @ns completes the handshake. */
static void full_answer(const struct obj *o, int ns)
{
	struct pkt in;

	build(&(struct spec){ .dport = 41000 + ns, .tcp_flags = TCP_SYN | TCP_ACK }, UPLINK_PROG,
	      &in);
	run(o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_SNAT_REPLY, 100 + ns, NULL);
	build(&(struct spec){ .from_ns = ns, .sport = 41000 + ns, .tcp_flags = TCP_ACK }, VETH,
	      &in);
	run(o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, NULL);
}

static bool full_has(const struct obj *o, int ns)
{
	struct fwd_ct_entry e;

	return !ct_get(o, IPPROTO_TCP, NS(ns), 41000 + ns, REMOTE, 80, &e);
}

static void test_full(void)
{
	struct pkt in;
	struct obj o;
	__u64 ev;

	if (!loaded(&o, "ct-2-conns", tweak_tiny_table))
		goto end;
	full_syn(&o, 1, REDIRECT, FWD_CNT_SNAT);
	full_syn(&o, 2, REDIRECT, FWD_CNT_SNAT);
	full_answer(&o, 1);
	CHECK(ct_count(&o) == 4, "%zu entries, want 4", ct_count(&o));
	result(&o, "two connections fit, the first one established");

	ev = counter_packets(&o, FWD_CNT_CT_EARLY_DROP);
	full_syn(&o, 3, REDIRECT, FWD_CNT_SNAT);
	CHECK(counter_packets(&o, FWD_CNT_CT_EARLY_DROP) == ev + 1, "ct_early_drop moved by %llu",
	      (unsigned long long)(counter_packets(&o, FWD_CNT_CT_EARLY_DROP) - ev));
	CHECK(full_has(&o, 1) && !full_has(&o, 2) && full_has(&o, 3),
	      "entries of 1, 2, 3: %d %d %d, want the answered one and the new one",
	      full_has(&o, 1), full_has(&o, 2), full_has(&o, 3));
	CHECK(ct_count(&o) == 4, "%zu entries, want 4 (both of the evicted one's gone)",
	      ct_count(&o));
	result(&o,
	       "a third, table full: the half-open one is evicted for it, the established kept");

	full_answer(&o, 3);
	ev = counter_packets(&o, FWD_CNT_CT_EARLY_DROP);
	full_syn(&o, 4, DROP, FWD_CNT_DROP_CT_FULL);
	CHECK(counter_packets(&o, FWD_CNT_CT_EARLY_DROP) == ev, "ct_early_drop moved");
	CHECK(full_has(&o, 1) && full_has(&o, 3) && !full_has(&o, 4) && ct_count(&o) == 4,
	      "entries changed (%zu)", ct_count(&o));
	result(&o, "all established: a fourth is dropped and counted, nothing evicted");

	build(&(struct spec){ .from_ns = 1, .sport = 41001, .tcp_flags = TCP_ACK }, VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, NULL);
	result(&o, "established connections keep working when the table is full");
end:
	fwd_tc__destroy(o.skel);
}

static void tweak_short(struct fwd_tc *skel)
{
	struct fwd_settings *cfg = (struct fwd_settings *)&skel->rodata->fwd_cfg;

	cfg->ct.udp = 2;
	cfg->ct.tcp_syn_sent = 1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_expiry(void)
{
	struct pkt a, b, c;
	struct fwd_ct_entry e;
	struct obj o;

	if (!loaded(&o, "ct-expiry", tweak_short))
		goto end;
	build(&(struct spec){ .from_ns = 1, .proto = IPPROTO_UDP, .sport = 6001 }, VETH, &a);
	build(&(struct spec){ .from_ns = 2, .proto = IPPROTO_UDP, .sport = 6002 }, VETH, &b);
	build(&(struct spec){ .from_ns = 3, .sport = 6003 }, VETH, &c);
	run(&o, VETH, &a, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, NULL);
	run(&o, VETH, &b, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, NULL);
	run(&o, VETH, &c, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, NULL);
	CHECK(ct_count(&o) == 6, "%zu entries, want 6", ct_count(&o));
	result(&o, "udp a, udp b (2 s), tcp syn c (1 s) tracked");

	sleep_ms(1500);
	CHECK(ct_get(&o, IPPROTO_TCP, NS(3), 6003, REMOTE, 80, &e) == -ENOENT && ct_count(&o) == 4,
	      "syn_sent entry still there after its timeout (%zu entries)", ct_count(&o));
	result(&o, "after 1.5 s the unanswered syn is gone, both halves");
	run(&o, VETH, &a, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, NULL); /* refresh a only */
	sleep_ms(1200);
	CHECK(!ct_get(&o, IPPROTO_UDP, NS(1), 6001, REMOTE, 53, &e), "refreshed a is gone");
	CHECK(ct_get(&o, IPPROTO_UDP, NS(2), 6002, REMOTE, 53, &e) == -ENOENT,
	      "idle b is still there");
	result(&o, "at 2.7 s: idle b expired, a (refreshed at 1.5 s) lives on");
	sleep_ms(1300);
	CHECK(ct_count(&o) == 0, "%zu entries left, want 0", ct_count(&o));
	result(&o, "at 4 s: a expired too, table empty");
end:
	fwd_tc__destroy(o.skel);
}

static void tweak_close_1s(struct fwd_tc *skel)
{
	struct fwd_settings *cfg = (struct fwd_settings *)&skel->rodata->fwd_cfg;

	cfg->ct.tcp_close = 1;
	cfg->ct.tcp_time_wait = 1;
}

/* One connection on the tuple: SYN, SYN-ACK, ACK, FIN both ways (state time_wait). */
static void tcp_open_close(const struct obj *o, __u16 sport)
{
	static const __u8 out_flags[] = { TCP_SYN, TCP_ACK, TCP_FIN | TCP_ACK };
	static const __u8 in_flags[] = { TCP_SYN | TCP_ACK, TCP_ACK, TCP_FIN | TCP_ACK };
	struct pkt f;

	for (int i = 0; i < 3; i++) {
		build(&(struct spec){ .from_ns = 4, .sport = sport, .tcp_flags = out_flags[i] },
		      VETH, &f);
		run(o, VETH, &f, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, NULL);
		build(&(struct spec){ .dport = sport, .tcp_flags = in_flags[i] }, UPLINK_PROG, &f);
		run(o, UPLINK_PROG, &f, REDIRECT, FWD_CNT_SNAT_REPLY, 104, NULL);
	}
}

/*
 * A tuple used again while its last connection waits out the close timeout (a client that
 * reconnects from the same port): the new connection's close must shorten the expiry again,
 * though the timer already fires earlier than the new timeout, or the entry lives on for the
 * established timeout (5 days) after it.
 */
static void test_close_reused(void)
{
	struct fwd_ct_entry e;
	__u64 t_end;
	struct obj o;

	if (!loaded(&o, "ct-close-reused", tweak_close_1s))
		goto end;
	tcp_open_close(&o, 46004);
	CHECK(!ct_get(&o, IPPROTO_TCP, NS(4), 46004, REMOTE, 80, &e) &&
		  e.track.state == FWD_CT_TCP_TIME_WAIT,
	      "first connection in state %u, want time_wait", e.track.state);
	tcp_open_close(&o, 46004);
	CHECK(!ct_get(&o, IPPROTO_TCP, NS(4), 46004, REMOTE, 80, &e) &&
		  e.track.state == FWD_CT_TCP_TIME_WAIT,
	      "second connection in state %u, want time_wait", e.track.state);
	result(&o, "a closed tuple opened and closed again");
	t_end = now_ms() + 3000;
	while (ct_count(&o) && now_ms() < t_end)
		sleep_ms(50);
	CHECK(ct_count(&o) == 0, "%zu entries 3 s after a 1 s close timeout", ct_count(&o));
	result(&o, "it expires after the time_wait timeout, not the established one");
end:
	fwd_tc__destroy(o.skel);
}

/*
 * A full table of a closed connection (time_wait, assured) and an established one: a new
 * connection evicts the closed one, as Linux's early drop does (tcp_can_early_drop), and
 * keeps the established one.
 */
static void test_full_closed(void)
{
	struct fwd_ct_entry e;
	struct obj o;
	__u64 ev;

	if (!loaded(&o, "ct-2-conns-closed", tweak_tiny_table))
		goto end;
	tcp_open_close(&o, 46100);
	full_syn(&o, 1, REDIRECT, FWD_CNT_SNAT);
	full_answer(&o, 1);
	CHECK(!ct_get(&o, IPPROTO_TCP, NS(4), 46100, REMOTE, 80, &e) &&
		  e.track.state == FWD_CT_TCP_TIME_WAIT && ct_count(&o) == 4,
	      "%zu entries, the first in state %u: want 4, time_wait", ct_count(&o), e.track.state);
	result(&o, "a table of two: one connection closed (time_wait), one established");
	ev = counter_packets(&o, FWD_CNT_CT_EARLY_DROP);
	full_syn(&o, 2, REDIRECT, FWD_CNT_SNAT);
	CHECK(counter_packets(&o, FWD_CNT_CT_EARLY_DROP) == ev + 1, "ct_early_drop moved by %llu",
	      (unsigned long long)(counter_packets(&o, FWD_CNT_CT_EARLY_DROP) - ev));
	CHECK(ct_get(&o, IPPROTO_TCP, NS(4), 46100, REMOTE, 80, &e) == -ENOENT && full_has(&o, 1) &&
		  full_has(&o, 2),
	      "closed %d, established %d, new %d: want gone, kept, in",
	      !ct_get(&o, IPPROTO_TCP, NS(4), 46100, REMOTE, 80, &e), full_has(&o, 1),
	      full_has(&o, 2));
	result(&o, "a new connection evicts the closed one, not the established one");
end:
	fwd_tc__destroy(o.skel);
}

/* The CPU this process runs on from now on (the route cache is per CPU); 0 or -errno. */
static int pin_cpu(int cpu, cpu_set_t *old)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(*old), old))
		return -errno;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* isolate, and allow red -> blue tcp 80. */
static void tweak_isolate(struct fwd_tc *skel)
{
	struct fwd_settings *cfg = (struct fwd_settings *)&skel->rodata->fwd_cfg;

	cfg->flags |= FWD_SET_ISOLATE;
	cfg->n_allow = 1;
	cfg->allow[0] = (struct fwd_allow_rule){ .src = htonl(NS(1)),
						 .dst = htonl(NS(2)),
						 .src_plen = 32,
						 .proto = IPPROTO_TCP,
						 .port_lo = 80,
						 .port_hi = 80 };
}

/* Drops of policy rule @rule, summed over CPUs. */
static __u64 rule_drops(const struct obj *o, __u32 rule)
{
	struct fwd_counter_val v[256] = {}; /* more than the CPUs of any test machine */
	__u64 n = 0;

	if (libbpf_num_possible_cpus() > 256 ||
	    bpf_map_lookup_elem(bpf_map__fd(o->skel->maps.fwd_rule_drops), &rule, v))
		return 0;
	for (int i = 0; i < libbpf_num_possible_cpus(); i++)
		n += v[i].packets;
	return n;
}

/*
 * isolate (bpf/policy.h): red -> blue tcp 80 opens a tracked connection (nat none) whose
 * answers come back; every other frame between namespaces is dropped under the isolate rule.
 */
static void test_isolate(void)
{
	struct fwd_ct_entry e;
	struct pkt in;
	struct obj o;

	if (!loaded(&o, "isolate", tweak_isolate))
		goto end;
	/* Through the gateway (proxy ARP): to its MAC, TTL down by one on the way. */
	build(&(struct spec){ .from_ns = 1, .daddr = NS(2), .dport = 80 }, VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_REDIRECT_PEER, 102, NULL);
	CHECK(!ct_get(&o, IPPROTO_TCP, NS(1), 40000, NS(2), 80, &e) && e.nat == FWD_CT_NAT_NONE &&
		  e.dir == FWD_CT_DIR_ORIG,
	      "no tracked connection red -> blue:80");
	build(&(struct spec){ .from_ns = 2,
			      .daddr = NS(1),
			      .sport = 80,
			      .dport = 40000,
			      .tcp_flags = TCP_SYN | TCP_ACK,
			      .ack = 1011 },
	      VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_REDIRECT_PEER, 101, NULL);
	result(&o, "allowed: red -> blue:80 opens a connection, blue's answer goes back");

	build(&(struct spec){ .from_ns = 1, .daddr = NS(2), .dport = 81 }, VETH, &in);
	run(&o, VETH, &in, DROP, FWD_CNT_DROP_ISOLATED, 0, NULL);
	build(&(struct spec){ .from_ns = 2, .daddr = NS(1), .sport = 41000, .dport = 80 }, VETH,
	      &in);
	run(&o, VETH, &in, DROP, FWD_CNT_DROP_ISOLATED, 0, NULL);
	build(&(struct spec){ .from_ns = 1, .daddr = NS(3), .proto = IPPROTO_ICMP }, VETH, &in);
	run(&o, VETH, &in, DROP, FWD_CNT_DROP_ISOLATED, 0, NULL);
	CHECK(rule_drops(&o, FWD_RULE_ISOLATE) == 3, "%llu drops under the isolate rule, want 3",
	      (unsigned long long)rule_drops(&o, FWD_RULE_ISOLATE));
	result(&o, "not allowed: blue:81, blue -> red, a ping to green: dropped, counted by rule");
end:
	fwd_tc__destroy(o.skel);
}

#define ROUTED(last) IP(10, 88, 1, last) /* in 10.88.0.0/16, routed via 10.77.0.2 */

/* route 10.88.0.0/16 via 10.77.0.2 (the sandbox's host route is the kernel's half). */
static void tweak_routes(struct fwd_tc *skel)
{
	struct fwd_settings *cfg = (struct fwd_settings *)&skel->rodata->fwd_cfg;

	cfg->flags |= FWD_SET_ROUTES;
	cfg->n_routes = 1;
	cfg->routes[0].addr = htonl(IP(10, 88, 0, 0));
	cfg->routes[0].mask = htonl(0xffff0000);
}

/* ... and isolate, with allow 10.88.0.0/16 -> blue tcp 80. */
static void tweak_routes_isolate(struct fwd_tc *skel)
{
	struct fwd_settings *cfg = (struct fwd_settings *)&skel->rodata->fwd_cfg;

	tweak_routes(skel);
	cfg->flags |= FWD_SET_ISOLATE;
	cfg->n_allow = 1;
	cfg->allow[0] = (struct fwd_allow_rule){ .src = htonl(IP(10, 88, 0, 0)),
						 .dst = htonl(NS(2)),
						 .src_plen = 16,
						 .proto = IPPROTO_TCP,
						 .port_lo = 80,
						 .port_hi = 80 };
}

/* A frame routed out untranslated: the FIB's MACs (next hop 10.77.0.2), TTL down by one. */
static void check_routed_out(const struct pkt *in, const struct pkt *out)
{
	CHECK(!memcmp(out->b, mac_remote, 6) && !memcmp(out->b + 6, mac_uplink, 6),
	      "MACs not the FIB's (next hop 10.77.0.2 via up0)");
	CHECK(pkt_ip_of(out)->saddr == pkt_ip_of(in)->saddr &&
		  pkt_ip_of(out)->daddr == pkt_ip_of(in)->daddr,
	      "addresses changed: routed frames are not translated");
	CHECK(pkt_port_of(out, 0) == pkt_port_of(in, 0), "source port changed");
	CHECK(pkt_ip_of(out)->ttl == pkt_ip_of(in)->ttl - 1, "TTL not decremented");
}

/*
 * route ... via (bpf/fwd_tc.bpf.c: fwd_route_out, fwd_route_in): to and from a routed subnet
 * untranslated and untracked; the LAN's frames to a namespace still dropped; under isolate a
 * routed subnet opens only what an allow line admits, and the replies of what a namespace
 * opened get in.
 */
static void test_routes(void)
{
	struct pkt in, out;
	struct fwd_ct_entry e;
	struct obj o;

	if (!loaded(&o, "routes", tweak_routes))
		goto end;
	build(&(struct spec){ .from_ns = 1, .daddr = ROUTED(1) }, VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_ROUTED_OUT, uplink_ifindex, &out);
	check_routed_out(&in, &out);
	CHECK(ct_count(&o) == 0, "%zu connection table entries, want none", ct_count(&o));
	result(&o, "red -> a routed subnet: out of the uplink with red's own address");

	build(&(struct spec){ .saddr = ROUTED(1), .daddr = NS(2), .sport = 5555, .dport = 80 },
	      UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_ROUTED_IN, 102, &out);
	check_reply_in(&in, &out, 2);
	result(&o, "a routed subnet -> blue: in, its own address kept");

	build(&(struct spec){ .saddr = REMOTE, .daddr = NS(2), .dport = 80 }, UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, DROP, FWD_CNT_DROP_NOT_FORWARDED, 0, NULL);
	build(&(struct spec){ .saddr = ROUTED(1), .daddr = NS(99) }, UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, PASS, FWD_CNT_PASS_UPLINK_HOST, 0, NULL);
	build(&(struct spec){ .from_ns = 1, .daddr = ROUTED(1), .ttl = 1 }, VETH, &in);
	run(&o, VETH, &in, PASS, FWD_CNT_PASS_TTL, 0, NULL);
	result(&o, "the LAN -> blue dropped; to no namespace and TTL 1: the kernel's");
	fwd_tc__destroy(o.skel);

	if (!loaded(&o, "routes isolate", tweak_routes_isolate))
		goto end;
	build(&(struct spec){ .saddr = ROUTED(1), .daddr = NS(2), .sport = 5555, .dport = 80 },
	      UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_ROUTED_IN, 102, NULL);
	CHECK(!ct_get(&o, IPPROTO_TCP, ROUTED(1), 5555, NS(2), 80, &e) &&
		  e.nat == FWD_CT_NAT_NONE && e.dir == FWD_CT_DIR_ORIG && !e.ns_counted,
	      "no tracked connection 10.88.1.1 -> blue:80 (outside blue's cap)");
	build(&(struct spec){ .saddr = ROUTED(1), .daddr = NS(2), .sport = 5555, .dport = 81 },
	      UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, DROP, FWD_CNT_DROP_ISOLATED, 0, NULL);
	build(&(struct spec){ .saddr = ROUTED(1), .daddr = NS(1), .sport = 5555, .dport = 80 },
	      UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, DROP, FWD_CNT_DROP_ISOLATED, 0, NULL);
	result(&o, "a routed subnet -> blue:80 allowed and tracked; blue:81 and red dropped");

	build(&(struct spec){ .from_ns = 1, .daddr = ROUTED(1) }, VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_ROUTED_OUT, uplink_ifindex, &out);
	check_routed_out(&in, &out);
	build(
	    &(struct spec){
		.saddr = ROUTED(1), .daddr = NS(1), .tcp_flags = TCP_SYN | TCP_ACK, .ack = 1011 },
	    UPLINK_PROG, &in);
	run(&o, UPLINK_PROG, &in, REDIRECT, FWD_CNT_ROUTED_IN, 101, NULL);
	build(&(struct spec){ .saddr = ROUTED(1), .daddr = NS(1), .dport = 40001 }, UPLINK_PROG,
	      &in);
	run(&o, UPLINK_PROG, &in, DROP, FWD_CNT_DROP_ISOLATED, 0, NULL);
	result(&o, "red -> a routed subnet opens a connection, whose answer gets in; no other");
end:
	fwd_tc__destroy(o.skel);
}

/*
 * The route cache (bpf/fib.h): a flow's frames after the first take the cached answer, the
 * frame's own size is still checked against the uplink's MTU on every one, and a changed
 * neighbour reaches an established flow once the answer is older than the cache keeps it.
 */
static void test_fib_cache(void)
{
	struct spec flow = { .from_ns = 1, .sport = 43000, .tcp_flags = TCP_ACK };
	const __u8 mac_new[6] = MAC(0xbb);
	struct pkt in, out;
	__u64 lookups, t_end, cut;
	cpu_set_t old_cpus;
	struct obj o;
	int err;

	err = pin_cpu(0, &old_cpus);
	if (!err)
		err = load(&o, "fib-cache", NULL);
	if (!err && system("ip link set up0 mtu 200"))
		err = -EIO;
	if (err) {
		check_fail("setup: %s", strerror(-err));
		result(&o, "setup");
		goto end;
	}

	lookups = counter_packets(&o, FWD_CNT_FIB_LOOKUP);
	build(&flow, VETH, &in);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, &out);
	CHECK(counter_packets(&o, FWD_CNT_FIB_LOOKUP) == lookups + 1, "first frame: %llu lookups",
	      (unsigned long long)(counter_packets(&o, FWD_CNT_FIB_LOOKUP) - lookups));
	for (int i = 0; i < 3; i++)
		run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, &out);
	CHECK(!memcmp(out.b, mac_remote, 6), "destination MAC is not the neighbour's");
	CHECK(counter_packets(&o, FWD_CNT_FIB_LOOKUP) == lookups + 1,
	      "%llu lookups for 4 frames of one flow, want 1",
	      (unsigned long long)(counter_packets(&o, FWD_CNT_FIB_LOOKUP) - lookups));
	result(&o, "one route lookup for a flow's frames, the cache for the rest");

	/* up0's MTU is 200: 84 bytes fit, 284 do not (non-GSO frames may have MTU + 18) */
	flow.pad = 200;
	build(&flow, VETH, &in);
	run(&o, VETH, &in, PASS, FWD_CNT_PASS_FRAG_NEEDED, 0, NULL);
	flow.no_df = true;
	build(&flow, VETH, &in);
	cut = counter_packets(&o, FWD_CNT_FRAGMENTED);
	run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, &out);
	CHECK(counter_packets(&o, FWD_CNT_FIB_LOOKUP) == lookups + 1, "the cache was not used");
	CHECK(counter_packets(&o, FWD_CNT_FRAGMENTED) == cut + 1, "not counted as fragmented");
	/* 250 bytes into 200: 20 + 176, then 20 + 54 at offset 176 (22 eights), MF clear. */
	CHECK(ntohs(pkt_ip_of(&out)->frag_off) == 22 && ntohs(pkt_ip_of(&out)->tot_len) == 74 &&
		  out.len == ETH_HLEN + 74,
	      "the last fragment: offset %u, %u bytes (frame %zu)",
	      ntohs(pkt_ip_of(&out)->frag_off) & 0x1fff, ntohs(pkt_ip_of(&out)->tot_len), out.len);
	CHECK(!memcmp((const __u8 *)pkt_ip_of(&out) + 20, (const __u8 *)pkt_ip_of(&in) + 20 + 176,
		      54),
	      "the last fragment does not carry the packet's last 54 bytes");
	CHECK(pkt_ip_of(&out)->saddr == htonl(UPLINK), "the fragment is not translated");
	result(&o, "cached route: over the MTU with DF to the kernel, without DF in fragments");

	build(&(struct spec){ .from_ns = 2, .sport = 43000, .tcp_flags = TCP_ACK, .pad = 200 },
	      VETH, &in);
	run(&o, VETH, &in, PASS, FWD_CNT_PASS_FRAG_NEEDED, 0, NULL);
	CHECK(counter_packets(&o, FWD_CNT_FIB_LOOKUP) == lookups + 2,
	      "another source made no lookup of its own");
	result(&o, "route looked up: over the MTU with DF to the kernel");

	/* The LAN host's MAC changes: the flow follows within the cache's 100 ms. */
	flow.pad = 0;
	flow.no_df = false;
	build(&flow, VETH, &in);
	if (system("ip neigh replace 10.77.0.2 lladdr 02:00:00:00:00:bb dev up0 nud permanent"))
		check_fail("cannot change the neighbour");
	t_end = now_ms() + 2000;
	do {
		run(&o, VETH, &in, REDIRECT, FWD_CNT_SNAT, uplink_ifindex, &out);
		if (!memcmp(out.b, mac_new, 6) || check_failing())
			break;
		sleep_ms(10);
	} while (now_ms() < t_end);
	CHECK(!memcmp(out.b, mac_new, 6), "frames still go to the old MAC after 2 s");
	result(&o, "a changed neighbour reaches an established flow");
end:
	if (system("ip link set up0 mtu 1500") ||
	    system("ip neigh replace 10.77.0.2 lladdr 02:00:00:00:00:aa dev up0 nud permanent")) {
		check_fail("cannot restore up0");
		result(&o, "teardown");
	}
	sched_setaffinity(0, sizeof(old_cpus), &old_cpus);
	fwd_tc__destroy(o.skel);
}

/* A peer topology's fwd_forwards, forwarding tcp @port on the uplink's address: its fd. */
static int peer_forwards(__u16 port)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
	struct fwd_forward_key key = { .addr = htonl(UPLINK),
				       .proto = IPPROTO_TCP,
				       .port = htons(port) };
	struct fwd_forward_val val = { .addr = htonl(IP(192, 168, 16, 2)), .port = htons(80) };
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "fsn_peer", sizeof(key), sizeof(val), 16, &opts);

	if (fd >= 0 && bpf_map_update_elem(fd, &key, &val, BPF_ANY)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

struct peer_watch {
	int prog_fd;
	const struct pkt *frame;
	volatile bool stop;
	unsigned long runs, missed; /* runs whose verdict was not the redirect to the peer */
};

/* Run the frame to the peer's forward through the program until told to stop. */
static void *peer_watch_run(void *arg)
{
	struct peer_watch *w = arg;
	struct __sk_buff ctx = { .ifindex = 1 };
	struct pkt out;

	while (!w->stop) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = w->frame->b,
			    .data_size_in = w->frame->len, .data_out = out.b,
			    .data_size_out = sizeof(out.b), .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = 1);

		if (bpf_prog_test_run_opts(w->prog_fd, &opts) || opts.retval != TC_ACT_REDIRECT)
			w->missed++;
		w->runs++;
	}
	return NULL;
}

/* The ids in fwd_fwd_peers' slots up to the first empty one, into @ids: how many. */
static int peer_slots(const struct obj *o, __u32 *ids)
{
	int fd = bpf_map__fd(o->skel->maps.fwd_fwd_peers), n = 0;

	for (__u32 k = 0; k < FWD_MAX_PEERS && !bpf_map_lookup_elem(fd, &k, &ids[n]); k++)
		n++;
	return n;
}

static __u32 map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/*
 * Another topology's forward, from a namespace (fwd_fwd_peers, loader_peers_fill_fd()): red's
 * SYN to uplink:8180, which peer B forwards, goes into the uplink's ingress, marked, on every
 * run while the peers come, go and change places in the array, which every `up` and fwd-cni
 * ADD or DEL resyncs (the soak once lost a connection to a swap: B out of view for an RCU grace
 * period, and red's SYN reached the host, which refused it).
 */
static void test_peers(void)
{
	int b = peer_forwards(8180), c = peer_forwards(9000), d = peer_forwards(9001), outer;
	struct peer_watch watch = {};
	__u32 ids[FWD_MAX_PEERS];
	pthread_t thread;
	struct pkt in;
	struct obj o;
	int n;

	if (!loaded(&o, "peers", NULL))
		goto end;
	CHECK(b >= 0 && c >= 0 && d >= 0, "cannot create the peers' maps: %s", strerror(errno));
	outer = bpf_map__fd(o.skel->maps.fwd_fwd_peers);
	if (!check_failing())
		CHECK(!loader_peers_fill_fd(outer, (int[]){ b, c }, 2, "fwd_fwd_peers"),
		      "cannot fill the peers");
	build(&(struct spec){ .from_ns = 1, .daddr = UPLINK, .dport = 8180 }, VETH, &in);
	if (!check_failing())
		run(&o, VETH, &in, REDIRECT, FWD_CNT_TO_PEER, uplink_ifindex, NULL);
	result(&o, "red -> uplink:8180, a peer's forward: into the uplink's ingress");

	watch.prog_fd = o.prog_fd[VETH];
	watch.frame = &in;
	CHECK(!check_failing() && !pthread_create(&thread, NULL, peer_watch_run, &watch),
	      "cannot start the watching thread");
	if (check_failing()) {
		result(&o, "peers added, removed and reordered 50 times");
		goto end;
	}
	for (int i = 0; i < 10 && !check_failing(); i++) {
		const struct {
			int fds[3];
			int n;
		} steps[] = { { { c, b }, 2 },
			      { { d, b, c }, 3 },
			      { { b }, 1 },
			      { { c, d, b }, 3 },
			      { { b, c }, 2 } };

		for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++)
			CHECK(
			    !loader_peers_fill_fd(outer, steps[k].fds, steps[k].n, "fwd_fwd_peers"),
			    "cannot resync the peers, step %zu", k);
	}
	watch.stop = true;
	pthread_join(thread, NULL);
	CHECK(watch.missed == 0, "%lu of %lu runs during the resyncs missed the peer's forward",
	      watch.missed, watch.runs);
	CHECK(watch.runs > 100, "only %lu runs during the resyncs", watch.runs);
	n = peer_slots(&o, ids);
	CHECK(n == 2 && ((ids[0] == map_id(b) && ids[1] == map_id(c)) ||
			 (ids[0] == map_id(c) && ids[1] == map_id(b))),
	      "the slots hold %d maps, want peers B and C", n);
	result(&o, "peers added, removed and reordered 50 times: the forward never out of view");

	CHECK(!loader_peers_fill_fd(outer, NULL, 0, "fwd_fwd_peers"), "cannot empty the peers");
	n = peer_slots(&o, ids);
	CHECK(n == 0, "%d maps left in the slots", n);
	for (__u32 k = 0; k < FWD_MAX_PEERS; k++)
		CHECK(bpf_map_lookup_elem(outer, &k, &ids[0]), "slot %u still holds a map", k);
	run(&o, VETH, &in, PASS, FWD_CNT_PASS_ROUTE, 0, NULL);
	result(&o, "no peers: every slot empty, red -> uplink:8180 is the host's");
end:
	if (b >= 0)
		close(b);
	if (c >= 0)
		close(c);
	if (d >= 0)
		close(d);
	fwd_tc__destroy(o.skel);
}

/* A network namespace of our own: up0 (the uplink) with a LAN host behind it, forwarding on. */
static int sandbox(void)
{
	static const char *const cmds[] = {
		"ip link add up0 address 02:00:00:00:00:f1 type veth peer name lanx",
		"ip addr add 10.77.0.1/24 dev up0",
		"ip link set lo up",
		"ip link set up0 up",
		"ip link set lanx up",
		"ip neigh replace 10.77.0.2 lladdr 02:00:00:00:00:aa dev up0 nud permanent",
		"sysctl -qw net.ipv4.ip_forward=1",
		"ip route add 10.88.0.0/16 via 10.77.0.2 dev up0",
	};

	if (sandbox_enter("fwd_snat", cmds, sizeof(cmds) / sizeof(cmds[0])))
		return -1;
	uplink_ifindex = if_nametoindex("up0");
	return uplink_ifindex ? 0 : -1;
}

int main(void)
{
	if (sandbox()) {
		printf("FAIL: fwd_snat: setup\n");
		return 1;
	}
	test_main();
	test_exhausted();
	test_tcp_tracking();
	test_full();
	test_expiry();
	test_close_reused();
	test_full_closed();
	test_fib_cache();
	test_isolate();
	test_routes();
	test_peers();
	return check_summary();
}

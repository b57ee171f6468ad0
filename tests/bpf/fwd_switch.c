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
#include <linux/pkt_cls.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fwd_kern_user.h"
#include "counters_read.h"
#include "fwd_tc.skel.h"
#include "fwd_xdp.skel.h"

/* clang-format off */
#define MAC(last) { 0x02, 0, 0, 0, 0, (last) }
/* clang-format on */
#define IP(last) (0xc0a80f00u | (last)) /* 192.168.15.last, host order */

static const __u8 mac_red[6] = MAC(1), mac_blue[6] = MAC(2), mac_self[6] = MAC(9),
		  mac_bridge[6] = MAC(5), mac_other[6] = MAC(0x77),
		  mac_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		  mac_mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb};

enum outcome { REDIRECT, PASS, DROP, REFUSED /* the kernel refuses to run it at all */ };

/* What a fixture frame looks like; zero fields take the defaults in build_frame(). */
struct frame_spec {
	const __u8 *dst;  /* default: blue */
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
};

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
	{ "ipv6 unicast passed", { .ethertype = ETH_P_IPV6 },
	  .outcome = PASS, .counter = FWD_CNT_PASS_NOT_IPV4 },
	{ "ipv4 broadcast passed", { .dst = mac_bcast, .daddr = IP(255) },
	  .outcome = PASS, .counter = FWD_CNT_PASS_MULTICAST },
	{ "ipv4 multicast passed", { .dst = mac_mcast, .daddr = 0xe00000fbu },
	  .outcome = PASS, .counter = FWD_CNT_PASS_MULTICAST },
	{ "802.1Q tagged ipv4 to a namespace passed", { .ethertype = ETH_P_8021Q, .vlan_inner = ETH_P_IP },
	  .outcome = PASS, .counter = FWD_CNT_PASS_VLAN },
	{ "802.1ad tagged ipv4 to a namespace passed", { .ethertype = ETH_P_8021AD, .vlan_inner = ETH_P_IP },
	  .outcome = PASS, .counter = FWD_CNT_PASS_VLAN },
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
};
/* clang-format on */

#define FRAME_MAX 2048

static __u16 ip_csum(const void *hdr, size_t len)
{
	const __u16 *p = hdr;
	__u32 sum = 0;

	for (size_t i = 0; i < len / 2; i++)
		sum += p[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static size_t build_frame(const struct frame_spec *s, __u8 *buf)
{
	__u16 ethertype = s->ethertype ?: ETH_P_IP, l3type = ethertype;
	size_t off = 0, l4_len, opt = s->opt_len;
	struct iphdr *iph;

	memset(buf, 0, FRAME_MAX);
	memcpy(buf, s->dst ?: mac_blue, 6);
	memcpy(buf + 6, mac_red, 6);
	*(__be16 *)(buf + 12) = htons(ethertype);
	off = ETH_HLEN;
	if (s->vlan_inner) {
		*(__be16 *)(buf + off) = htons(42); /* TCI: VLAN 42 */
		*(__be16 *)(buf + off + 2) = htons(s->vlan_inner);
		l3type = s->vlan_inner;
		off += 4;
	}
	if (l3type == ETH_P_ARP) {
		/* Ethernet/IPv4 ARP: htype 1, ptype 0x0800, hlen 6, plen 4, op 1 or 2. */
		__u8 arp[28] = {0, 1, 8, 0, 6, 4, 0, s->dst == mac_bcast ? 1 : 2};

		memcpy(arp + 8, mac_red, 6);
		*(__be32 *)(arp + 14) = htonl(IP(1));
		*(__be32 *)(arp + 24) = htonl(IP(2));
		memcpy(buf + off, arp, sizeof(arp));
		return off + sizeof(arp) + 18; /* padded to 60 bytes like a NIC would */
	}
	if (l3type == ETH_P_IPV6) {
		buf[off] = 0x60;
		buf[off + 6] = IPPROTO_UDP;
		buf[off + 7] = 64;
		return off + 40 + 8;
	}

	iph = (struct iphdr *)(buf + off);
	switch (s->proto) {
	case IPPROTO_UDP: l4_len = 8; break;
	case IPPROTO_ICMP: l4_len = 8; break;
	default: l4_len = 20; break;
	}
	l4_len += s->payload;
	iph->version = s->version ?: 4;
	iph->ihl = s->ihl == 0xff ? 0 : s->ihl ?: 5;
	iph->ttl = 64;
	iph->protocol = s->proto ?: IPPROTO_TCP;
	iph->saddr = htonl(IP(1));
	iph->daddr = htonl(s->daddr ?: IP(2));
	iph->tot_len = htons(s->tot_len > 0 ? (size_t)s->tot_len : 20 + opt + l4_len);
	if (opt)
		buf[off + 20] = 1; /* NOP options */
	memset(buf + off + 20, 1, opt);
	if (iph->protocol == IPPROTO_TCP) {
		__u8 *tcp = buf + off + 20 + opt;

		*(__be16 *)tcp = htons(40000);
		*(__be16 *)(tcp + 2) = htons(5201);
		tcp[12] = 5 << 4;
		tcp[13] = 0x18; /* PSH|ACK */
	} else if (iph->protocol == IPPROTO_UDP) {
		__u8 *udp = buf + off + 20 + opt;

		*(__be16 *)udp = htons(40000);
		*(__be16 *)(udp + 2) = htons(53);
		*(__be16 *)(udp + 4) = htons(l4_len);
	} else {
		buf[off + 20 + opt] = 8; /* echo request */
	}
	iph->check = ip_csum(iph, 20 + opt);
	off += 20 + opt + l4_len + s->pad;
	if (s->truncate > 0)
		off = s->truncate;
	return off;
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

static int ncpus;

/* One case on one hook: "" when it passed, else why not (into @why). */
static void run_case(const struct hook *h, const struct test_case *tc, char *why, size_t len)
{
	struct fwd_counter_val before[FWD_CNT_MAX], after[FWD_CNT_MAX];
	__u8 in[FRAME_MAX], out[FRAME_MAX];
	struct fwd_trace trace = {}, zero_trace = {};
	__u32 zero = 0, want_cnt, want_target;
	size_t in_len = build_frame(&tc->in, in);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = in_len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);
	int err;

	why[0] = '\0';
	memset(out, 0xaa, sizeof(out));
	if (bpf_map_update_elem(h->trace_fd, &zero, &zero_trace, BPF_ANY) ||
	    read_counters(h->counters_fd, ncpus, before)) {
		snprintf(why, len, "cannot prepare maps: %s", strerror(errno));
		return;
	}
	err = bpf_prog_test_run_opts(h->prog_fd, &opts);
	if (read_counters(h->counters_fd, ncpus, after) ||
	    bpf_map_lookup_elem(h->trace_fd, &zero, &trace)) {
		snprintf(why, len, "cannot read maps: %s", strerror(errno));
		return;
	}
	if (tc->outcome == REFUSED || (h->is_tc && tc->tc_refused)) {
		if (err != -EINVAL) {
			snprintf(why, len, "test run returned %d (retval %u), want -EINVAL", err,
				 opts.retval);
			return;
		}
		for (int i = 0; i < FWD_CNT_MAX; i++)
			if (after[i].packets != before[i].packets) {
				snprintf(why, len, "counter %d moved without a run", i);
				return;
			}
		return;
	}
	if (err) {
		snprintf(why, len, "test run failed: %s", strerror(-err));
		return;
	}
	if (opts.retval != h->verdict[tc->outcome]) {
		snprintf(why, len, "verdict %u, want %u", opts.retval, h->verdict[tc->outcome]);
		return;
	}
	if (opts.data_size_out != in_len || memcmp(in, out, in_len)) {
		snprintf(why, len, "frame out (%u bytes) differs from frame in (%zu bytes)",
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
			snprintf(why, len,
				 "counter %u moved %llu packets/%llu bytes, want %llu/%llu", i,
				 (unsigned long long)dp, (unsigned long long)db,
				 (unsigned long long)wp, (unsigned long long)wb);
			return;
		}
	}
	if (trace.counter != want_cnt || trace.verdict != opts.retval ||
	    trace.target_ifindex != want_target) {
		snprintf(why, len, "trace says counter %u verdict %u target %u, want %u %u %u",
			 trace.counter, trace.verdict, trace.target_ifindex, want_cnt, opts.retval,
			 want_target);
		return;
	}
}

static int fill_endpoints(int fd)
{
	static const struct {
		__u8 last;
		__u32 ifindex;
	} eps[] = {{1, 101}, {2, 102}, {9, 1}};

	for (size_t i = 0; i < sizeof(eps) / sizeof(eps[0]); i++) {
		struct fwd_endpoint_key key = {.addr = htonl(IP(eps[i].last))};
		struct fwd_endpoint val = {.ifindex = eps[i].ifindex,
					   .mac = MAC(eps[i].last),
					   .host_mac = MAC(0x80 | eps[i].last)};

		if (bpf_map_update_elem(fd, &key, &val, BPF_ANY))
			return -errno;
	}
	return 0;
}

static int run_table(const struct hook *h, int *passed, int *failed)
{
	char why[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_case(h, &cases[i], why, sizeof(why));
		if (why[0]) {
			printf("FAIL: %s: %s: %s\n", h->name, cases[i].name, why);
			(*failed)++;
		} else {
			printf("PASS: %s: %s\n", h->name, cases[i].name);
			(*passed)++;
		}
	}
	return 0;
}

static void settings_for_test(struct fwd_settings *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->flags = FWD_SET_TRACE;
	cfg->bridge_ifindex = 3;
	memcpy(cfg->bridge_mac, mac_bridge, 6);
}

int main(void)
{
	struct fwd_tc *tc = NULL;
	struct fwd_xdp *xdp = NULL;
	int passed = 0, failed = 0, err;

	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) {
		fprintf(stderr, "fwd_switch: cannot count CPUs\n");
		return 1;
	}

	tc = fwd_tc__open();
	if (!tc) {
		printf("FAIL: tc: open: %s\n", strerror(errno));
		failed++;
		goto end;
	}
	settings_for_test((struct fwd_settings *)&tc->rodata->fwd_cfg);
	err = fwd_tc__load(tc);
	if (!err)
		err = fill_endpoints(bpf_map__fd(tc->maps.fwd_endpoints));
	if (err) {
		printf("FAIL: tc: load and fill: %s\n", strerror(-err));
		failed++;
	} else {
		struct hook h = {
		    .name = "tc",
		    .is_tc = true,
		    .prog_fd = bpf_program__fd(tc->progs.fwd_tc_ingress),
		    .counters_fd = bpf_map__fd(tc->maps.fwd_counters),
		    .trace_fd = bpf_map__fd(tc->maps.fwd_trace),
		    .verdict =
			{[REDIRECT] = TC_ACT_REDIRECT, [PASS] = TC_ACT_OK, [DROP] = TC_ACT_SHOT},
		    .redirect_cnt = FWD_CNT_REDIRECT_PEER,
		};
		run_table(&h, &passed, &failed);
	}

	xdp = fwd_xdp__open();
	if (!xdp) {
		printf("FAIL: xdp: open: %s\n", strerror(errno));
		failed++;
		goto end;
	}
	settings_for_test((struct fwd_settings *)&xdp->rodata->fwd_cfg);
	err = fwd_xdp__load(xdp);
	if (!err)
		err = fill_endpoints(bpf_map__fd(xdp->maps.fwd_endpoints));
	if (err) {
		printf("FAIL: xdp: load and fill: %s\n", strerror(-err));
		failed++;
	} else {
		struct hook h = {
		    .name = "xdp",
		    .prog_fd = bpf_program__fd(xdp->progs.fwd_xdp_ingress),
		    .counters_fd = bpf_map__fd(xdp->maps.fwd_counters),
		    .trace_fd = bpf_map__fd(xdp->maps.fwd_trace),
		    .verdict = {[REDIRECT] = XDP_REDIRECT, [PASS] = XDP_PASS, [DROP] = XDP_DROP},
		    .redirect_cnt = FWD_CNT_REDIRECT_XDP,
		};
		run_table(&h, &passed, &failed);
	}
end:
	fwd_xdp__destroy(xdp);
	fwd_tc__destroy(tc);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

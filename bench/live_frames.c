// SPDX-License-Identifier: GPL-2.0
/*
 * live_frames: a packet generator without pktgen. It crafts one Ethernet/IPv4/UDP frame and has
 * the kernel transmit it over and over with BPF_PROG_TEST_RUN + BPF_F_TEST_XDP_LIVE_FRAMES: the
 * program (live_frames.bpf.c) returns XDP_TX, so each frame leaves by the interface named as
 * the run's ingress; on a veth that means it arrives at the peer, as if a NIC had received it.
 * The receiving veth only takes such frames in NAPI mode (an XDP program or GRO on it), else
 * they are dropped: the driver of the benchmark sees to that.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "live_frames.h"
#include "util.h"
#include "live_frames.skel.h"

#define MIN_FRAME (ETH_HLEN + sizeof(struct iphdr) + sizeof(struct udphdr))
#define MAX_FRAME 1514
/*
 * Aim each test run at this long. Every BPF_PROG_TEST_RUN call with live frames installs the
 * program in the global XDP dispatcher and waits in synchronize_rcu() on the way out: with
 * calls of 0.05 s the generator spent two thirds of its CPU there, and every rate measured
 * with it was less than half of what the path carries (issue 18).
 */
#define CALL_SECONDS 1.0

struct frame_spec {
	unsigned char src_mac[ETH_ALEN], dst_mac[ETH_ALEN];
	struct in_addr src, dst;
	unsigned short sport, dport; /* host order */
	unsigned int len;	     /* whole frame, without FCS */
};

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: live_frames -i IFNAME -m SRC_MAC -M DST_MAC -a SRC_ADDR -A DST_ADDR -P DPORT\n"
	    "                   [-p SPORT] [-l LEN] [-t SECONDS] [-r REDIRECT_IFNAME]\n"
	    "                   [-b BATCH] [-R READY_FILE]\n"
	    "Transmit one crafted IPv4/UDP frame repeatedly, as XDP_TX frames of IFNAME\n"
	    "(BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES) for SECONDS.\n"
	    "  -i IFNAME      interface the frames are 'received' on and sent back out of\n"
	    "  -m, -M MAC     Ethernet source and destination (aa:bb:cc:dd:ee:ff)\n"
	    "  -a, -A ADDR    IPv4 source and destination\n"
	    "  -p, -P PORT    UDP source (default 9) and destination ports\n"
	    "  -l LEN         frame length without FCS (default 64, %zu-%d)\n"
	    "  -t SECONDS     run time (default 5)\n"
	    "  -r IFNAME      XDP_REDIRECT to IFNAME instead of XDP_TX\n"
	    "  -b BATCH       frames per batch inside the kernel (default 64)\n"
	    "  -R FILE        create FILE after the first batch went out\n"
	    "Prints: frames=N seconds=S pps=N\n"
	    "Exit status: 0 ok, 1 runtime failure, 2 usage.\n",
	    MIN_FRAME, MAX_FRAME);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int parse_mac(const char *s, unsigned char *mac)
{
	unsigned int b[ETH_ALEN];
	char extra;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &extra) != ETH_ALEN)
		return -EINVAL;
	for (int i = 0; i < ETH_ALEN; i++)
		mac[i] = b[i];
	return 0;
}

/* One's-complement sum of @len bytes, folded later; @sum carries a previous part. */
static unsigned int csum_add(unsigned int sum, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (; len > 1; len -= 2, p += 2)
		sum += (p[0] << 8) | p[1];
	if (len)
		sum += p[0] << 8;
	return sum;
}

static unsigned short csum_fold(unsigned int sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

/* Full checksums: whatever NAT sits in the path must find a valid frame to rewrite. */
static void craft(const struct frame_spec *s, unsigned char *buf)
{
	struct ethhdr *eth = (struct ethhdr *)buf;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	unsigned int l4len = s->len - ETH_HLEN - sizeof(*ip);
	unsigned int sum;

	memset(buf, 0, s->len);
	memcpy(eth->h_dest, s->dst_mac, ETH_ALEN);
	memcpy(eth->h_source, s->src_mac, ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(s->len - ETH_HLEN);
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = s->src.s_addr;
	ip->daddr = s->dst.s_addr;
	ip->check = csum_fold(csum_add(0, ip, sizeof(*ip)));
	udp->source = htons(s->sport);
	udp->dest = htons(s->dport);
	udp->len = htons(l4len);
	memset(udp + 1, 'f', l4len - sizeof(*udp));
	/* pseudo header, then the datagram */
	sum = csum_add(0, &ip->saddr, 8);
	sum += IPPROTO_UDP + l4len;
	sum = csum_add(sum, udp, l4len);
	udp->check = csum_fold(sum);
	if (!udp->check)
		udp->check = 0xffff;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ifname", required_argument, NULL, 'i' },
		{ "src-mac", required_argument, NULL, 'm' },
		{ "dst-mac", required_argument, NULL, 'M' },
		{ "src-addr", required_argument, NULL, 'a' },
		{ "dst-addr", required_argument, NULL, 'A' },
		{ "sport", required_argument, NULL, 'p' },
		{ "dport", required_argument, NULL, 'P' },
		{ "len", required_argument, NULL, 'l' },
		{ "duration", required_argument, NULL, 't' },
		{ "redirect", required_argument, NULL, 'r' },
		{ "batch", required_argument, NULL, 'b' },
		{ "ready-file", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct frame_spec spec = { .sport = 9, .len = 64 };
	const char *ifname = NULL, *redirect = NULL, *ready = NULL;
	bool have_smac = false, have_dmac = false, have_src = false, have_dst = false;
	unsigned char frame[MAX_FRAME];
	unsigned long long frames = 0;
	struct live_frames *skel = NULL;
	int ifindex, redirect_ifindex = 0, opt, err, ret = 1, repeat = 1 << 14;
	unsigned int batch = 64;
	double duration = 5, t0, t1;
	uint64_t v;

	while ((opt = getopt_long(argc, argv, "i:m:M:a:A:p:P:l:t:r:b:R:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'm':
		case 'M':
			if (parse_mac(optarg, opt == 'm' ? spec.src_mac : spec.dst_mac))
				goto bad;
			*(opt == 'm' ? &have_smac : &have_dmac) = true;
			break;
		case 'a':
		case 'A':
			if (inet_pton(AF_INET, optarg, opt == 'a' ? &spec.src : &spec.dst) != 1)
				goto bad;
			*(opt == 'a' ? &have_src : &have_dst) = true;
			break;
		case 'p':
		case 'P':
			if (bench_parse_u64(optarg, 1, 65535, &v))
				goto bad;
			*(opt == 'p' ? &spec.sport : &spec.dport) = v;
			break;
		case 'l':
			if (bench_parse_u64(optarg, MIN_FRAME, MAX_FRAME, &v))
				goto bad;
			spec.len = v;
			break;
		case 't':
			if (bench_parse_double(optarg, 0.1, 3600, &duration))
				goto bad;
			break;
		case 'r': redirect = optarg; break;
		case 'b':
			if (bench_parse_u64(optarg, 1, 256, &v))
				goto bad;
			batch = v;
			break;
		case 'R': ready = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!ifname || !have_smac || !have_dmac || !have_src || !have_dst || !spec.dport ||
	    optind != argc) {
		usage(stderr);
		return 2;
	}
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "live_frames: interface \"%s\": %s\n", ifname, strerror(errno));
		return 1;
	}
	if (redirect) {
		redirect_ifindex = if_nametoindex(redirect);
		if (!redirect_ifindex) {
			fprintf(stderr, "live_frames: interface \"%s\": %s\n", redirect,
				strerror(errno));
			return 1;
		}
	}
	craft(&spec, frame);
	libbpf_set_print(libbpf_print);
	bench_on_signals();

	skel = live_frames__open();
	if (!skel) {
		fprintf(stderr, "live_frames: open BPF object: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->redirect_ifindex = redirect_ifindex;
	_Static_assert(LF_HDR_LEN == MIN_FRAME, "the template is the headers");
	{
		__u64 words[LF_HDR_WORDS] = {};

		memcpy(words, frame, LF_HDR_LEN);
		memcpy((void *)skel->rodata->template, words, sizeof(words));
	}
	err = live_frames__load(skel);
	if (err) {
		fprintf(stderr, "live_frames: load BPF object: %s\n", strerror(-err));
		goto out;
	}

	t0 = bench_now();
	while (!bench_stop && bench_now() - t0 < duration) {
		struct xdp_md ctx = { .data = 0, .data_end = spec.len, .ingress_ifindex = ifindex };
		LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = frame, .data_size_in = spec.len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat,
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = batch);
		double c0 = bench_now(), took;

		err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.live_frames), &topts);
		if (err) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "live_frames: BPF_PROG_TEST_RUN on \"%s\": %s\n", ifname,
				strerror(errno));
			goto out;
		}
		/* the kernel stops early on a pending signal; count what it reported doing */
		frames += repeat;
		if (frames == (unsigned long long)repeat && bench_touch(ready)) {
			fprintf(stderr, "live_frames: ready file \"%s\": %s\n", ready,
				strerror(errno));
			goto out;
		}
		/* size the next call so the loop checks its deadline about every CALL_SECONDS */
		took = bench_now() - c0;
		if (took < CALL_SECONDS / 2 && repeat < (1 << 24))
			repeat *= 2;
		else if (took > CALL_SECONDS * 2 && repeat > 1024)
			repeat /= 2;
	}
	t1 = bench_now();
	if (bench_stop) {
		fprintf(stderr, "live_frames: interrupted\n");
		goto out;
	}
	printf("frames=%llu seconds=%.3f pps=%.0f\n", frames, t1 - t0, frames / (t1 - t0));
	ret = 0;
out:
	live_frames__destroy(skel);
	return ret;
bad:
	fprintf(stderr, "live_frames: bad value for -%c: \"%s\"\n", opt, optarg);
	return 2;
}

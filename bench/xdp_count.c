// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_count: the receiver side of bench/'s packet-rate tests. Attaches xdp_count.bpf.c (XDP, plus
 * its tc-ingress twin) to an interface of the current namespace, counts the matching UDP
 * datagrams for a fixed window and prints the rate. Bounded: it always detaches and exits.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "util.h"
#include "xdp_count.h"
#include "xdp_count.skel.h"

#define TC_HANDLE   0xfb0c
#define TC_PRIORITY 1 /* ahead of any other ingress filter */

struct counts {
	unsigned long long xdp, tc, bytes;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xdp_count -i IFNAME [-p PORT[-PORT]] [-d SECONDS] [-R READY_FILE]\n"
		"                 [-S START_FILE] [-T START_TIMEOUT] [--no-tc | --no-xdp] "
		"[--skb-mode]\n"
		"Count (and drop) IPv4 UDP datagrams to the given destination ports arriving\n"
		"on IFNAME in the current network namespace, with XDP and a tc-ingress fallback.\n"
		"  -i IFNAME         interface to attach to (required)\n"
		"  -p PORT[-PORT]    destination ports counted (default: all)\n"
		"  -d SECONDS        counting window (default 5)\n"
		"  -R FILE           create FILE once attached\n"
		"  -S FILE           start the window only when FILE exists\n"
		"  -T SECONDS        wait at most this long for the start file (default 120)\n"
		"  --no-tc           XDP only\n"
		"  --no-xdp          tc ingress only: every datagram reaches the stack as an skb\n"
		"                    (frames redirected into a veth then need GRO on it)\n"
		"  --skb-mode        generic XDP instead of the driver's\n"
		"Prints: pps=N packets=N seconds=S xdp=N tc=N bytes=N\n"
		"Exit status: 0 ok, 1 runtime failure, 2 usage.\n");
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int read_counts(int map_fd, struct counts *c)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 vals[ncpu > 0 ? ncpu : 1];
	unsigned long long *dst[XC_NR] = { &c->xdp, &c->tc, &c->bytes };
	__u32 key;

	if (ncpu <= 0)
		return ncpu;
	for (key = 0; key < XC_NR; key++) {
		if (bpf_map_lookup_elem(map_fd, &key, vals))
			return -errno;
		*dst[key] = 0;
		for (int i = 0; i < ncpu; i++)
			*dst[key] += vals[i];
	}
	return 0;
}

static int parse_ports(const char *s, __u16 *lo, __u16 *hi)
{
	char buf[32], *dash;
	uint64_t a, b;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (bench_parse_u64(buf, 0, 65535, &a))
		return -EINVAL;
	b = a;
	if (dash && bench_parse_u64(dash + 1, a, 65535, &b))
		return -EINVAL;
	*lo = a;
	*hi = b;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ifname", required_argument, NULL, 'i' },
		{ "ports", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "ready-file", required_argument, NULL, 'R' },
		{ "start-file", required_argument, NULL, 'S' },
		{ "start-timeout", required_argument, NULL, 'T' },
		{ "no-tc", no_argument, NULL, 'n' },
		{ "no-xdp", no_argument, NULL, 'x' },
		{ "skb-mode", no_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *ifname = NULL, *ready = NULL, *start = NULL;
	double duration = 5, start_timeout = 120, t0, t1;
	__u16 port_lo = 0, port_hi = 65535;
	bool use_tc = true, use_xdp = true, tc_created = false, tc_attached = false;
	bool xdp_attached = false;
	__u32 xdp_flags = XDP_FLAGS_DRV_MODE;
	struct xdp_count *skel = NULL;
	struct counts c0, c1;
	int ifindex, err, ret = 1, opt;

	while ((opt = getopt_long(argc, argv, "i:p:d:R:S:T:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'p':
			if (parse_ports(optarg, &port_lo, &port_hi)) {
				fprintf(stderr, "xdp_count: bad port range \"%s\"\n", optarg);
				return 2;
			}
			break;
		case 'd':
			if (bench_parse_double(optarg, 0.1, 3600, &duration)) {
				fprintf(stderr, "xdp_count: bad duration \"%s\" (0.1-3600 s)\n",
					optarg);
				return 2;
			}
			break;
		case 'R': ready = optarg; break;
		case 'S': start = optarg; break;
		case 'T':
			if (bench_parse_double(optarg, 0, 3600, &start_timeout)) {
				fprintf(stderr, "xdp_count: bad start timeout \"%s\"\n", optarg);
				return 2;
			}
			break;
		case 'n': use_tc = false; break;
		case 'x': use_xdp = false; break;
		case 'g': xdp_flags = XDP_FLAGS_SKB_MODE; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!ifname || optind != argc || (!use_tc && !use_xdp)) {
		usage(stderr);
		return 2;
	}
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "xdp_count: interface \"%s\": %s\n", ifname, strerror(errno));
		return 1;
	}
	libbpf_set_print(libbpf_print);
	bench_on_signals();

	skel = xdp_count__open();
	if (!skel) {
		fprintf(stderr, "xdp_count: open BPF object: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->port_lo = port_lo;
	skel->rodata->port_hi = port_hi;
	err = xdp_count__load(skel);
	if (err) {
		fprintf(stderr, "xdp_count: load BPF object: %s\n", strerror(-err));
		goto out;
	}

	/*
	 * UPDATE_IF_NOEXIST: never replace somebody else's program (fwd's own, say). If one is
	 * there, count at tc ingress only: what that program passes on still gets counted.
	 */
	if (use_xdp) {
		err = bpf_xdp_attach(ifindex, bpf_program__fd(skel->progs.xdp_count),
				     xdp_flags | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
		if (err == -EBUSY && use_tc) {
			fprintf(stderr,
				"xdp_count: warning: \"%s\" already has an XDP program; "
				"counting at tc ingress only\n",
				ifname);
		} else if (err) {
			fprintf(stderr, "xdp_count: attach XDP to \"%s\": %s\n", ifname,
				strerror(-err));
			goto out;
		} else {
			xdp_attached = true;
		}
	}

	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc_opts, .handle = TC_HANDLE, .priority = TC_PRIORITY,
		    .prog_fd = bpf_program__fd(skel->progs.tc_count));
	if (use_tc) {
		err = bpf_tc_hook_create(&hook);
		if (err && err != -EEXIST) {
			fprintf(stderr, "xdp_count: create clsact on \"%s\": %s\n", ifname,
				strerror(-err));
			goto out;
		}
		tc_created = !err;
		err = bpf_tc_attach(&hook, &tc_opts);
		if (err) {
			fprintf(stderr, "xdp_count: attach tc ingress to \"%s\": %s\n", ifname,
				strerror(-err));
			goto out;
		}
		tc_attached = true;
	}

	err = bench_touch(ready);
	if (err) {
		fprintf(stderr, "xdp_count: ready file \"%s\": %s\n", ready, strerror(-err));
		goto out;
	}
	err = bench_wait_file(start, start_timeout);
	if (err) {
		fprintf(stderr, "xdp_count: start file \"%s\": %s\n", start,
			err == -ETIMEDOUT ? "never appeared" : "interrupted");
		goto out;
	}

	err = read_counts(bpf_map__fd(skel->maps.counters), &c0);
	t0 = bench_now();
	bench_sleep(duration);
	t1 = bench_now();
	if (!err)
		err = read_counts(bpf_map__fd(skel->maps.counters), &c1);
	if (err) {
		fprintf(stderr, "xdp_count: read counters: %s\n", strerror(-err));
		goto out;
	}
	if (bench_stop) {
		fprintf(stderr, "xdp_count: interrupted\n");
		goto out;
	}
	{
		unsigned long long x = c1.xdp - c0.xdp, t = c1.tc - c0.tc;

		printf("pps=%.0f packets=%llu seconds=%.3f xdp=%llu tc=%llu bytes=%llu\n",
		       (x + t) / (t1 - t0), x + t, t1 - t0, x, t, c1.bytes - c0.bytes);
	}
	ret = 0;
out:
	if (tc_attached) {
		/* detach wants the filter identified by handle and priority only */
		tc_opts.prog_fd = tc_opts.flags = tc_opts.prog_id = 0;
		bpf_tc_detach(&hook, &tc_opts);
	}
	if (tc_created) {
		/* INGRESS|EGRESS is how libbpf is told to remove the clsact qdisc itself */
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
	if (xdp_attached) {
		/* remove only our own program, in case something replaced it meanwhile */
		LIBBPF_OPTS(bpf_xdp_attach_opts, xopts,
			    .old_prog_fd = bpf_program__fd(skel->progs.xdp_count));
		bpf_xdp_attach(ifindex, -1, xdp_flags | XDP_FLAGS_REPLACE, &xopts);
	}
	xdp_count__destroy(skel);
	return ret;
}

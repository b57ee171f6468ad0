// SPDX-License-Identifier: GPL-2.0
/*
 * What datapath bpf needs of the kernel, asked of the kernel before `up` changes anything:
 * program types, map types and helpers (libbpf's probes load a minimal program or map for
 * each). Features fwd can do without are not here; their fallbacks are where they are used:
 * links left at their GSO size before gso_ipv4_max_size (6.3, ctl/up.c), no redirection of the
 * host's own connections without cgroup v2 (loader/sock.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "fwd_kernel_without.h"
#include "internal.h"

enum probe_kind { PROBE_PROG, PROBE_MAP, PROBE_HELPER };

struct probe {
	const char *name; /* what the error names, and FWD_KERNEL_WITHOUT takes */
	enum probe_kind kind;
	enum bpf_prog_type prog; /* PROBE_PROG, and the program type a helper is asked for */
	enum bpf_map_type map;	 /* PROBE_MAP */
	enum bpf_func_id helper; /* PROBE_HELPER */
	const char *since;	 /* the Linux version that brought it, for the message */
};

#define PROG(t, v)                                                                                 \
	{                                                                                          \
		"prog_" #t, PROBE_PROG, BPF_PROG_TYPE_##t, 0, 0, v                                 \
	}
#define MAP(t, v)                                                                                  \
	{                                                                                          \
		"map_" #t, PROBE_MAP, 0, BPF_MAP_TYPE_##t, 0, v                                    \
	}
#define HELPER(p, h, v)                                                                            \
	{                                                                                          \
		"bpf_" #h, PROBE_HELPER, BPF_PROG_TYPE_##p, 0, BPF_FUNC_##h, v                     \
	}

static const struct probe probes[] = {
	PROG(SCHED_CLS, "4.1"),		/* fwd_tc: every veth, bridge and uplink */
	PROG(CGROUP_SOCK_ADDR, "4.17"), /* fwd_sock: the host's own connections */
	MAP(HASH, "3.19"),		/* endpoints, forwards, conntrack */
	MAP(ARRAY, "3.19"),		/* forward targets, trace */
	MAP(PERCPU_ARRAY, "4.6"),	/* counters, route cache */
	MAP(QUEUE, "4.20"),		/* recent connections, for early drop; free slots */
	MAP(SK_STORAGE, "5.2"),		/* fwd_sock's per-socket original address */
	HELPER(SCHED_CLS, redirect_peer, "5.10"),
	HELPER(SCHED_CLS, redirect_neigh, "5.10"),
	HELPER(SCHED_CLS, fib_lookup, "4.18"),
	HELPER(SCHED_CLS, timer_init, "5.15"), /* the conntrack sweep */
	HELPER(SCHED_CLS, timer_set_callback, "5.15"),
	HELPER(SCHED_CLS, timer_start, "5.15"),
	HELPER(SCHED_CLS, for_each_map_elem, "5.13"),
	HELPER(SCHED_CLS, loop, "5.17"),
	HELPER(SCHED_CLS, ktime_get_coarse_ns, "5.11"),
	HELPER(SCHED_CLS, csum_diff, "4.6"),
	HELPER(SCHED_CLS, l3_csum_replace, "4.1"),
	HELPER(SCHED_CLS, l4_csum_replace, "4.1"),
	HELPER(SCHED_CLS, skb_store_bytes, "4.1"),
	HELPER(SCHED_CLS, skb_load_bytes, "4.5"),
	HELPER(SCHED_CLS, skb_pull_data, "4.9"),
	HELPER(SCHED_CLS, map_push_elem, "4.20"),
	HELPER(SCHED_CLS, map_pop_elem, "4.20"),
	HELPER(SCHED_CLS, get_prandom_u32, "4.1"),
	HELPER(CGROUP_SOCK_ADDR, sk_storage_get, "5.2"),
	HELPER(CGROUP_SOCK_ADDR, get_netns_cookie, "5.7"),
};

/* What a forward line's xdp needs besides (fwd_xdp_uplink): asked only when there is one. */
static const struct probe probes_xdp[] = {
	PROG(XDP, "4.8"),
	HELPER(XDP, xdp_load_bytes, "5.18"),
	HELPER(XDP, xdp_store_bytes, "5.18"),
	HELPER(XDP, redirect, "4.14"),
};

/* 1 when the kernel has it, 0 when not, -errno when the kernel could not be asked. */
static int probe_one(const struct probe *p)
{
	if (fwd_kernel_without(p->name))
		return 0;
	switch (p->kind) {
	case PROBE_PROG: return libbpf_probe_bpf_prog_type(p->prog, NULL);
	case PROBE_MAP: return libbpf_probe_bpf_map_type(p->map, NULL);
	case PROBE_HELPER: return libbpf_probe_bpf_helper(p->prog, p->helper, NULL);
	}
	return -EINVAL;
}

/* Each of @n probes that the kernel lacks reported, as needed by @who; how many, or -errno. */
static int probe_list(const struct probe *list, size_t n, const char *who)
{
	int missing = 0;

	for (size_t i = 0; i < n; i++) {
		const struct probe *p = &list[i];
		int ret = probe_one(p);

		if (ret < 0)
			return fwd_fail(ret, p->name, "cannot probe the kernel for it");
		if (!ret) {
			fwd_err("kernel: %s is missing (Linux %s and later have it); %s needs it",
				p->name, p->since, who);
			missing++;
		}
	}
	return missing;
}

int loader_probe_kernel(bool xdp)
{
	int missing = probe_list(probes, sizeof(probes) / sizeof(probes[0]), "datapath bpf");
	int missing_xdp = 0;

	if (missing >= 0 && xdp)
		missing_xdp = probe_list(probes_xdp, sizeof(probes_xdp) / sizeof(probes_xdp[0]),
					 "a forward line's xdp");
	if (missing < 0 || missing_xdp < 0)
		return missing < 0 ? missing : missing_xdp;
	if (missing) {
		fwd_err("kernel: %d feature%s missing: use Linux 5.17 or later, or datapath kernel",
			missing, missing == 1 ? "" : "s");
		return -ENOTSUP;
	}
	if (missing_xdp) {
		fwd_err("kernel: the XDP fast path needs Linux 5.18 or later: remove xdp from the "
			"forward lines");
		return -ENOTSUP;
	}
	return 0;
}

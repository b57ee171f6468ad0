// SPDX-License-Identifier: GPL-2.0
/*
 * Attaching and detaching. tc: a clsact qdisc and one cls_bpf filter at fwd's fixed
 * handle/priority, so that a re-run replaces the program inside the existing filter
 * (BPF_TC_F_REPLACE): frames see the old program or the new one, never none. XDP goes through
 * libxdp's dispatcher only, so fwd coexists with other XDP programs on a link.
 */
#include <errno.h>
#include <string.h>
#include <net/if.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "internal.h"
#include "fwd_kern_user.h"

static const char *attach_ifname(int ifindex, char *buf)
{
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "if%d", ifindex);
	return buf;
}

int attach_tc_ingress(int ifindex, int prog_fd)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = FWD_TC_HANDLE, .priority = FWD_TC_PRIORITY,
			    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	char name[IF_NAMESIZE];
	int err;

	loader_log_probe(true); /* clsact; -EEXIST when it is there already */
	err = bpf_tc_hook_create(&hook);
	loader_log_probe(false);
	if (err && err != -EEXIST) {
		fwd_err("%s: cannot create clsact qdisc: %s\n", attach_ifname(ifindex, name),
			strerror(-err));
		return err;
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		fwd_err("%s: cannot attach tc ingress program: %s\n", attach_ifname(ifindex, name),
			strerror(-err));
		return err;
	}
	fwd_debug("%s: tc ingress program id %u\n", attach_ifname(ifindex, name), opts.prog_id);
	return 0;
}

uint32_t attach_tc_query(int ifindex, bool egress)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = FWD_TC_HANDLE,
			    .priority = FWD_TC_PRIORITY);

	int err;

	/* No clsact, no filter: both are "nothing attached" here. */
	loader_log_probe(true);
	err = bpf_tc_query(&hook, &opts);
	loader_log_probe(false);
	return err ? 0 : opts.prog_id;
}

static int attach_tc_remove(int ifindex, bool egress)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = FWD_TC_HANDLE,
			    .priority = FWD_TC_PRIORITY);
	char name[IF_NAMESIZE];
	int err;

	if (!attach_tc_query(ifindex, egress))
		return 0;
	err = bpf_tc_detach(&hook, &opts);
	if (err && err != -ENOENT) {
		fwd_err("%s: cannot detach tc %s program: %s\n", attach_ifname(ifindex, name),
			egress ? "egress" : "ingress", strerror(-err));
		return err;
	}
	return 0;
}

static bool attach_xdp_is_fwd(const struct xdp_program *prog)
{
	return prog && !strncmp(xdp_program__name(prog), "fwd_", 4);
}

/*
 * Detach XDP programs named fwd_*, leaving others (and libxdp's dispatcher for them) alone.
 * One at a time: a detach rebuilds the dispatcher, so the multiprog is read again after each.
 */
static int attach_xdp_remove(int ifindex)
{
	char name[IF_NAMESIZE];
	int err = 0;

	for (int round = 0; round < 16 && !err; round++) {
		struct xdp_program *prog = NULL;
		struct xdp_multiprog *mp;

		mp = xdp_multiprog__get_from_ifindex(ifindex);
		if (!mp || libxdp_get_error(mp))
			return 0; /* nothing attached */
		if (xdp_multiprog__is_legacy(mp)) {
			if (attach_xdp_is_fwd(xdp_multiprog__main_prog(mp)))
				err = xdp_multiprog__detach(mp);
			else
				round = 16;
		} else {
			for (prog = xdp_multiprog__next_prog(NULL, mp); prog;
			     prog = xdp_multiprog__next_prog(prog, mp))
				if (attach_xdp_is_fwd(prog))
					break;
			if (prog)
				err = xdp_program__detach(prog, ifindex,
							  xdp_multiprog__attach_mode(mp), 0);
			else
				round = 16;
		}
		xdp_multiprog__close(mp);
	}
	if (err)
		fwd_err("%s: cannot detach XDP program: %s\n", attach_ifname(ifindex, name),
			strerror(-err));
	return err;
}

int attach_remove_all(int ifindex)
{
	int err, ret = 0;

	if (ifindex <= 0)
		return 0;
	err = attach_tc_remove(ifindex, false);
	if (err)
		ret = err;
	err = attach_tc_remove(ifindex, true);
	if (err && !ret)
		ret = err;
	err = attach_xdp_remove(ifindex);
	if (err && !ret)
		ret = err;
	return ret;
}

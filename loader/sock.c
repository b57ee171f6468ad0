// SPDX-License-Identifier: GPL-2.0
/*
 * fwd_sock: the host's own connections to the uplink's address and a forwarded port. Loaded
 * next to fwd_tc with the same settings plus the host namespace's cookie, sharing fwd_tc's
 * fwd_forwards and fwd_counters (the very maps, not copies: a forward changed by a re-run is
 * seen by both at once), and attached to the root of the cgroup v2 hierarchy through links
 * pinned as FWD_PIN_ROOT/TOPOLOGY/link_*.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "fwd_kern_user.h"
#include "fwd_sock.skel.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71 /* Linux 5.14; older libc headers lack it */
#endif

enum { SOCK_CONNECT4, SOCK_SENDMSG4, SOCK_RECVMSG4, SOCK_PEERNAME4, SOCK_N_LINKS };

/* Pins under the topology's directory, one per program. */
static const char *const sock_link_pins[SOCK_N_LINKS] = {
	[SOCK_CONNECT4] = "link_connect4",
	[SOCK_SENDMSG4] = "link_sendmsg4",
	[SOCK_RECVMSG4] = "link_recvmsg4",
	[SOCK_PEERNAME4] = "link_peername4",
};

/*
 * The cookie of the namespace we are in: the host namespace, since fwdctl -n has entered it
 * before the loader runs. A socket is the only way to ask; AF_UNIX, so that asking makes no
 * network socket at all.
 */
static int sock_netns_cookie(__u64 *cookie)
{
	socklen_t len = sizeof(*cookie);
	int fd, err = 0;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len))
		err = -errno;
	close(fd);
	return err;
}

int sock_down(const char *topology)
{
	char path[PATH_MAX];
	int err, ret = 0;

	for (int i = 0; i < SOCK_N_LINKS; i++) {
		err = pins_path(path, topology, sock_link_pins[i]);
		if (!err)
			err = cgroup_link_remove(path);
		if (err && !ret)
			ret = err;
	}
	return ret;
}

static int sock_load(struct fwd_sock *skel, const char *topology, const struct fwd_settings *cfg,
		     __u64 cookie, const struct sock_shared *shared)
{
	struct fwd_settings *rodata = (struct fwd_settings *)&skel->rodata->fwd_cfg;
	char path[PATH_MAX];
	int err;

	*rodata = *cfg;
	rodata->netns_cookie = cookie;
	err = bpf_map__reuse_fd(skel->maps.fwd_forwards, shared->forwards_fd);
	if (!err)
		err = bpf_map__reuse_fd(skel->maps.fwd_counters, shared->counters_fd);
	if (!err)
		err = bpf_map__reuse_fd(skel->maps.fwd_uplink, shared->uplink_fd);
	if (err) {
		fwd_err("fwd_sock: cannot share fwd_tc's maps: %s\n", strerror(-err));
		return err;
	}
	/* Pinned, so that sockets rewritten before a re-run of up still read the uplink's
	 * address back afterwards. */
	err = pins_path(path, topology, FWD_MAP_SOCK_NAT);
	if (!err)
		err = pins_map_prepare(skel->maps.fwd_sock_nat, path);
	if (err)
		return err;
	err = fwd_sock__load(skel);
	if (err)
		fwd_err("fwd_sock: cannot load BPF object: %s\n", strerror(-err));
	return err;
}

static int sock_attach(struct fwd_sock *skel, const char *topology, int cg_fd)
{
	struct bpf_program *progs[SOCK_N_LINKS] = {
		[SOCK_CONNECT4] = skel->progs.fwd_connect4,
		[SOCK_SENDMSG4] = skel->progs.fwd_sendmsg4,
		[SOCK_RECVMSG4] = skel->progs.fwd_recvmsg4,
		[SOCK_PEERNAME4] = skel->progs.fwd_peername4,
	};
	char path[PATH_MAX];
	int err = 0;

	/* Backwards: the programs that give the uplink's address back first, the rewriting
	 * ones (sendmsg4, connect4) last, so no socket is rewritten without its way back. */
	for (int i = SOCK_N_LINKS - 1; i >= 0 && !err; i--) {
		err = pins_path(path, topology, sock_link_pins[i]);
		if (!err)
			err = cgroup_link_attach(progs[i], cg_fd, path);
	}
	return err;
}

int sock_up(const char *topology, const struct fwd_settings *cfg, bool wanted,
	    const struct sock_shared *shared)
{
	char cgroup[PATH_MAX];
	struct fwd_sock *skel;
	__u64 cookie = 0;
	int err, cg_fd;

	if (!wanted) /* no forwards (any more): nothing to attach, and nothing may stay */
		return sock_down(topology);
	err = loader_cgroup_v2_root(cgroup, sizeof(cgroup));
	if (err) {
		fwd_warn("topology %s: %s%s: the host's own connections to uplink:forwarded-port "
			 "are not forwarded (everything else is)\n",
			 topology, err == -ENOENT ? "no cgroup v2 mounted" : "cannot read mounts: ",
			 err == -ENOENT ? "" : strerror(-err));
		return 0;
	}
	err = sock_netns_cookie(&cookie);
	if (err) {
		fwd_warn("topology %s: cannot read the network namespace's cookie (%s): the host's "
			 "own connections to uplink:forwarded-port are not forwarded (everything "
			 "else is)\n",
			 topology, strerror(-err));
		return 0;
	}
	cg_fd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0) {
		err = -errno;
		fwd_err("%s: cannot open cgroup: %s\n", cgroup, strerror(-err));
		return err;
	}
	skel = fwd_sock__open();
	if (!skel) {
		err = -errno;
		fwd_err("fwd_sock: cannot open BPF object: %s\n", strerror(-err));
		goto end_close;
	}
	err = sock_load(skel, topology, cfg, cookie, shared);
	if (err)
		goto end_destroy;

	err = sock_attach(skel, topology, cg_fd);
	if (!err)
		fwd_info("topology %s: cgroup programs on %s, links pinned under %s/%s\n", topology,
			 cgroup, FWD_PIN_ROOT, topology);

end_destroy:
	/* The pinned links hold their programs: closing ours detaches nothing. */
	fwd_sock__destroy(skel);
end_close:
	close(cg_fd);
	return err;
}

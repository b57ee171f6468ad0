// SPDX-License-Identifier: GPL-2.0
/*
 * GRO of a link inside a namespace, through the ethtool ioctl (SIOCETHTOOL on a socket of that
 * namespace: the ioctl finds the link by name in the socket's namespace). The calling thread
 * enters the namespace only to create the socket.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

#include "netns.h"
#include "xdp_gro.h"

/* A datagram socket of namespace @nsfd, or -errno. */
static int xdp_gro_socket(int nsfd)
{
	int origin = netns_open_current(), fd, err;

	if (origin < 0)
		return origin;
	if (setns(nsfd, CLONE_NEWNET)) {
		err = -errno;
		close(origin);
		return err;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	err = fd < 0 ? -errno : 0;
	if (setns(origin, CLONE_NEWNET) && !err) {
		err = -errno;
		close(fd);
	}
	close(origin);
	return err ? err : fd;
}

static int xdp_gro_ioctl(int fd, const char *ifname, struct ethtool_value *ev)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)ev;
	return ioctl(fd, SIOCETHTOOL, &ifr) ? -errno : 0;
}

int xdp_gro_get(int nsfd, const char *ifname)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_GGRO };
	int fd = xdp_gro_socket(nsfd), err;

	if (fd < 0)
		return fd;
	err = xdp_gro_ioctl(fd, ifname, &ev);
	close(fd);
	return err ? err : ev.data != 0;
}

int xdp_gro_set(int nsfd, const char *ifname, bool on, bool *changed)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_GGRO };
	int fd = xdp_gro_socket(nsfd), err;

	*changed = false;
	if (fd < 0)
		return fd;
	err = xdp_gro_ioctl(fd, ifname, &ev);
	if (!err && (ev.data != 0) != on) {
		ev = (struct ethtool_value){ .cmd = ETHTOOL_SGRO, .data = on };
		err = xdp_gro_ioctl(fd, ifname, &ev);
		*changed = !err;
	}
	close(fd);
	return err;
}

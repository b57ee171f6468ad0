// SPDX-License-Identifier: GPL-2.0
/*
 * Has a link an XDP program? One RTM_GETLINK for that link.
 *
 * libxdp (through libbpf's bpf_xdp_query) answers it by dumping every link of the namespace and
 * keeping one; and every veth in a dump costs the kernel a walk over all the namespaces the
 * host has a veth to (the peer's namespace id, a linear search). Asked for each of 1,000
 * veths with ten topologies up, that was 1,000 dumps of 20,000 links. Here libxdp is asked
 * only about a link that has a program.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "fwd_nlmsg.h"
#include "internal.h"

/* Does IFLA_XDP @xdp say a program is attached? */
static bool xdp_nest_attached(const struct nlattr *xdp)
{
	const struct nlattr *x;

	mnl_attr_for_each_nested(x, xdp)
	{
		if (mnl_attr_get_type(x) == IFLA_XDP_ATTACHED && !mnl_attr_validate(x, MNL_TYPE_U8))
			return mnl_attr_get_u8(x) != XDP_ATTACHED_NONE;
	}
	return false;
}

/* The link's message: *data set to true when its IFLA_XDP says a program is attached. */
static int xdp_query_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	bool *attached = data;

	if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*ifi))
	{
		if (mnl_attr_get_type(a) == IFLA_XDP)
			*attached = xdp_nest_attached(a);
	}
	return MNL_CB_OK;
}

int xdp_attached(int ifindex)
{
	char buf[16384];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	unsigned int seq = (unsigned int)time(NULL), portid;
	bool attached = false;
	int ret = -EIO;
	ssize_t n;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	/* Statistics are most of a link message and not read here. */
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		goto out;
	if (!fwd_nlmsgs_whole(buf, (size_t)n)) {
		errno = EBADMSG;
		goto out;
	}
	if (mnl_cb_run(buf, (size_t)n, seq, portid, xdp_query_cb, &attached) < 0)
		goto out;
	ret = attached;
out:
	if (ret < 0)
		ret = errno ? -errno : -EIO;
	mnl_socket_close(nl);
	return ret;
}

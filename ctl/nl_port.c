// SPDX-License-Identifier: GPL-2.0
/*
 * Bridge ports as the bridge reports them (an AF_BRIDGE link dump): name, index, flags, MAC,
 * master and the port's isolation, without the link attributes an AF_UNSPEC read carries. Among
 * those is a veth's peer namespace id, which the kernel finds by a walk over every namespace
 * this one has an id for: per link, with thousands of namespaces, the most of a re-`up`.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "nl_msg.h"

struct port_dump {
	int master;
	int (*cb)(const struct nl_link *port, void *ctx);
	void *ctx;
};

/* IFLA_PROTINFO { IFLA_BRPORT_ISOLATED } */
static bool port_isolated(const struct nlattr *protinfo)
{
	const struct nlattr *port[IFLA_BRPORT_MAX + 1] = { 0 };
	struct attr_tb tp = { port, IFLA_BRPORT_MAX };

	return protinfo && mnl_attr_parse_nested(protinfo, attr_index_cb, &tp) >= 0 &&
	       port[IFLA_BRPORT_ISOLATED] &&
	       !mnl_attr_validate(port[IFLA_BRPORT_ISOLATED], MNL_TYPE_U8) &&
	       mnl_attr_get_u8(port[IFLA_BRPORT_ISOLATED]);
}

static int port_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct port_dump *d = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	struct attr_tb t = { tb, IFLA_MAX };
	struct nl_link l = { .link_netnsid = -1, .ipv6_addr_gen_mode = -1 };

	if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi) ||
	    mnl_attr_parse(nlh, sizeof(*ifi), attr_index_cb, &t) < 0)
		return -EBADMSG;
	if (!tb[IFLA_MASTER] || mnl_attr_validate(tb[IFLA_MASTER], MNL_TYPE_U32) ||
	    (int)mnl_attr_get_u32(tb[IFLA_MASTER]) != d->master || !tb[IFLA_IFNAME])
		return 0; /* another bridge's */
	l.ifindex = ifi->ifi_index;
	l.flags = ifi->ifi_flags;
	l.master = d->master;
	copy_str(l.name, sizeof(l.name), tb[IFLA_IFNAME]);
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == sizeof(l.mac))
		memcpy(l.mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), sizeof(l.mac));
	l.brport_isolated = port_isolated(tb[IFLA_PROTINFO]);
	return d->cb(&l, d->ctx);
}

int nl_bridge_ports_dump(struct nl_sock *nl, int master,
			 int (*cb)(const struct nl_link *port, void *ctx), void *ctx)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh = msg_start(buf, RTM_GETLINK, NLM_F_DUMP);
	struct ifinfomsg *ifi = put_ifinfomsg(nlh, 0);
	struct port_dump d = { master, cb, ctx };

	ifi->ifi_family = AF_BRIDGE;
	return nl_request(nl, nlh, port_dump_cb, &d);
}

// SPDX-License-Identifier: GPL-2.0
/* rtnetlink links: read, dump, create (bridge, veth pair), delete, configure. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "fwd_kernel_without.h"
#include "nl_msg.h"

/*
 * IPv4 BIG TCP (Linux 6.3) is newer than Debian 12's <linux/if_link.h> (6.1): the attribute's
 * number in the kernel's enum. Kernels without it never report it, and their RTM_NEWLINK
 * parsing skips attributes it does not know.
 */
#define FWD_IFLA_GSO_IPV4_MAX_SIZE 63
#define FWD_IFLA_PARSE_MAX                                                                         \
	(IFLA_MAX > FWD_IFLA_GSO_IPV4_MAX_SIZE ? IFLA_MAX : FWD_IFLA_GSO_IPV4_MAX_SIZE)

/* IFLA_AF_SPEC { AF_INET6 { IFLA_INET6_ADDR_GEN_MODE } }, -1 when the link has no IPv6. */
static int parse_ipv6_addr_gen_mode(const struct nlattr *af_spec)
{
	const struct nlattr *af[AF_MAX + 1] = { 0 }, *in6[IFLA_INET6_MAX + 1] = { 0 };
	struct attr_tb ta = { af, AF_MAX }, t6 = { in6, IFLA_INET6_MAX };

	if (!af_spec || mnl_attr_parse_nested(af_spec, attr_index_cb, &ta) < 0 || !af[AF_INET6] ||
	    mnl_attr_parse_nested(af[AF_INET6], attr_index_cb, &t6) < 0 ||
	    !in6[IFLA_INET6_ADDR_GEN_MODE] ||
	    mnl_attr_validate(in6[IFLA_INET6_ADDR_GEN_MODE], MNL_TYPE_U8))
		return -1;
	return mnl_attr_get_u8(in6[IFLA_INET6_ADDR_GEN_MODE]);
}

static int parse_link(const struct nlmsghdr *nlh, struct nl_link *l)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[FWD_IFLA_PARSE_MAX + 1] = { 0 };
	struct attr_tb t = { tb, FWD_IFLA_PARSE_MAX };

	if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return -EBADMSG;
	if (mnl_attr_parse(nlh, sizeof(*ifi), attr_index_cb, &t) < 0)
		return -EBADMSG;

	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	l->link_netnsid = -1;
	if (tb[IFLA_IFNAME])
		copy_str(l->name, sizeof(l->name), tb[IFLA_IFNAME]);
	if (tb[IFLA_MASTER] && !mnl_attr_validate(tb[IFLA_MASTER], MNL_TYPE_U32))
		l->master = (int)mnl_attr_get_u32(tb[IFLA_MASTER]);
	if (tb[IFLA_LINK] && !mnl_attr_validate(tb[IFLA_LINK], MNL_TYPE_U32))
		l->peer_ifindex = (int)mnl_attr_get_u32(tb[IFLA_LINK]);
	if (tb[IFLA_LINK_NETNSID] && !mnl_attr_validate(tb[IFLA_LINK_NETNSID], MNL_TYPE_U32))
		l->link_netnsid = (int)mnl_attr_get_u32(tb[IFLA_LINK_NETNSID]);
	if (tb[IFLA_ADDRESS]) {
		/* Not every link type has a 6-byte address (tunnels carry 4 or 16 bytes). */
		size_t n = mnl_attr_get_payload_len(tb[IFLA_ADDRESS]);

		if (n == sizeof(l->mac))
			memcpy(l->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), n);
	}
	if (tb[IFLA_IFALIAS])
		copy_str(l->alias, sizeof(l->alias), tb[IFLA_IFALIAS]);
	if (tb[IFLA_TSO_MAX_SIZE] && !mnl_attr_validate(tb[IFLA_TSO_MAX_SIZE], MNL_TYPE_U32))
		l->tso_max_size = mnl_attr_get_u32(tb[IFLA_TSO_MAX_SIZE]);
	if (tb[IFLA_GSO_MAX_SIZE] && !mnl_attr_validate(tb[IFLA_GSO_MAX_SIZE], MNL_TYPE_U32))
		l->gso_max_size = mnl_attr_get_u32(tb[IFLA_GSO_MAX_SIZE]);
	if (tb[FWD_IFLA_GSO_IPV4_MAX_SIZE] &&
	    !mnl_attr_validate(tb[FWD_IFLA_GSO_IPV4_MAX_SIZE], MNL_TYPE_U32))
		l->gso_ipv4_max_size = mnl_attr_get_u32(tb[FWD_IFLA_GSO_IPV4_MAX_SIZE]);
	/* As a kernel before 6.3 reports links: without the setting. */
	if (fwd_kernel_without("gso_ipv4_max_size"))
		l->tso_max_size = l->gso_ipv4_max_size = 0;
	if (tb[IFLA_NUM_RX_QUEUES] && !mnl_attr_validate(tb[IFLA_NUM_RX_QUEUES], MNL_TYPE_U32))
		l->num_rx_queues = mnl_attr_get_u32(tb[IFLA_NUM_RX_QUEUES]);
	l->ipv6_addr_gen_mode = parse_ipv6_addr_gen_mode(tb[IFLA_AF_SPEC]);
	if (tb[IFLA_LINKINFO]) {
		const struct nlattr *info[IFLA_INFO_MAX + 1] = { 0 };
		struct attr_tb ti = { info, IFLA_INFO_MAX };

		if (mnl_attr_parse_nested(tb[IFLA_LINKINFO], attr_index_cb, &ti) >= 0 &&
		    info[IFLA_INFO_KIND])
			copy_str(l->kind, sizeof(l->kind), info[IFLA_INFO_KIND]);
		if (info[IFLA_INFO_SLAVE_DATA]) { /* a bridge port's settings */
			const struct nlattr *port[IFLA_BRPORT_MAX + 1] = { 0 };
			struct attr_tb tp = { port, IFLA_BRPORT_MAX };

			if (mnl_attr_parse_nested(info[IFLA_INFO_SLAVE_DATA], attr_index_cb, &tp) >=
				0 &&
			    port[IFLA_BRPORT_ISOLATED] &&
			    !mnl_attr_validate(port[IFLA_BRPORT_ISOLATED], MNL_TYPE_U8))
				l->brport_isolated = mnl_attr_get_u8(port[IFLA_BRPORT_ISOLATED]);
		}
	}
	return 0;
}

static int link_one_cb(const struct nlmsghdr *nlh, void *data)
{
	return parse_link(nlh, data);
}

int nl_link_get(struct nl_sock *nl, const char *ifname, struct nl_link *out)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh = msg_start(buf, RTM_GETLINK, 0);

	put_ifinfomsg(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	/* Skip statistics and VF data we do not read: smaller replies. */
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return nl_request(nl, nlh, link_one_cb, out);
}

int nl_link_get_by_index(struct nl_sock *nl, int ifindex, struct nl_link *out)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh = msg_start(buf, RTM_GETLINK, 0);

	/* Index 0 would be taken as "look up by name" with no name: say what it is. */
	if (ifindex <= 0)
		return -ENODEV;
	put_ifinfomsg(nlh, ifindex);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return nl_request(nl, nlh, link_one_cb, out);
}

struct link_dump {
	int (*cb)(const struct nl_link *link, void *ctx);
	void *ctx;
};

static int link_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct link_dump *d = data;
	struct nl_link l;
	int ret = parse_link(nlh, &l);

	return ret ? ret : d->cb(&l, d->ctx);
}

int nl_link_dump(struct nl_sock *nl, int (*cb)(const struct nl_link *link, void *ctx), void *ctx)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh = msg_start(buf, RTM_GETLINK, NLM_F_DUMP);
	struct link_dump d = { cb, ctx };

	put_ifinfomsg(nlh, 0);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return nl_request(nl, nlh, link_dump_cb, &d);
}

int nl_bridge_add(struct nl_sock *nl, const char *name, const uint8_t mac[6])
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh = msg_start(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct nlattr *info, *data;

	put_ifinfomsg(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	/* An address given at creation counts as set by the user: the bridge keeps it. */
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	/*
	 * No multicast snooping: with it, every port that comes up makes the bridge re-arm
	 * the multicast timers of every port (br_port_state_selection), n² for n namespaces.
	 * Without a querier on the bridge (fwd runs none) snooping floods unregistered
	 * multicast to every port anyway; now all multicast is.
	 */
	mnl_attr_put_u8(nlh, IFLA_BR_MCAST_SNOOPING, 0);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nl_request(nl, nlh, NULL, NULL);
}

/* The echo of a link's creation (NLM_F_ECHO): the host end's state, as a get would read it. */
static int echoed_link(const struct nlmsghdr *nlh, void *data)
{
	struct nl_link *out = data, l;

	if (!parse_link(nlh, &l) && !strcmp(l.name, out->name))
		*out = l;
	return 0;
}

/* The GSO sizes of a link being created, those given. */
static void put_gso(struct nlmsghdr *nlh, const struct nl_gso *gso)
{
	if (gso && gso->ipv4)
		mnl_attr_put_u32(nlh, FWD_IFLA_GSO_IPV4_MAX_SIZE, gso->ipv4);
	if (gso && gso->ipv6)
		mnl_attr_put_u32(nlh, IFLA_GSO_MAX_SIZE, gso->ipv6);
}

int nl_veth_add(struct nl_sock *nl, const char *host_name, const char *alias, const char *peer_name,
		int peer_netns_fd, const struct nl_gso *gso, struct nl_link *out)
{
	char buf[NL_REQ_SIZE];
	/* Echoed: a get afterwards would cost the kernel a walk over all the namespaces this one
	 * has an id for (the link's peer's id), per veth. */
	struct nlmsghdr *nlh =
	    msg_start(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | (out ? NLM_F_ECHO : 0));
	struct nlattr *info, *data, *peer;
	int ret;

	if (out) {
		memset(out, 0, sizeof(*out));
		snprintf(out->name, sizeof(out->name), "%s", host_name);
	}

	put_ifinfomsg(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, host_name);
	/* Sizes given at creation: no request per end afterwards (`up` of many namespaces). */
	put_gso(nlh, gso);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	/* The peer is described like a link of its own: an ifinfomsg, then its attributes. */
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	put_ifinfomsg(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer_name);
	put_gso(nlh, gso);
	/* Born inside the namespace, so its name is checked there, never against ours. */
	if (peer_netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	ret = nl_request(nl, nlh, out ? echoed_link : NULL, out);
	if (ret || !alias)
		return ret;

	/*
	 * The kernel ignores IFLA_IFALIAS when it creates a link (only a change sets it), so the
	 * alias is a second request. Should it fail, the pair goes again: a veth without its
	 * alias would not be recognised as fwd's later.
	 */
	nlh = msg_start(buf, RTM_NEWLINK, 0);
	put_ifinfomsg(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, host_name);
	mnl_attr_put_strz(nlh, IFLA_IFALIAS, alias);
	ret = nl_request(nl, nlh, NULL, NULL);
	if (ret) {
		char why[sizeof(nl->errmsg)];

		memcpy(why, nl->errmsg, sizeof(why));
		nlh = msg_start(buf, RTM_DELLINK, 0);
		put_ifinfomsg(nlh, 0);
		mnl_attr_put_strz(nlh, IFLA_IFNAME, host_name);
		nl_request(nl, nlh, NULL, NULL);
		memcpy(nl->errmsg, why, sizeof(why));
	} else if (out && out->ifindex) {
		snprintf(out->alias, sizeof(out->alias), "%s", alias);
	}
	return ret;
}

int nl_link_del(struct nl_sock *nl, int ifindex)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh = msg_start(buf, RTM_DELLINK, 0);

	if (ifindex <= 0)
		return -ENODEV;
	put_ifinfomsg(nlh, ifindex);
	return nl_request(nl, nlh, NULL, NULL);
}

int nl_link_set_alias(struct nl_sock *nl, int ifindex, const char *alias)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh = msg_start(buf, RTM_NEWLINK, 0);

	if (ifindex <= 0)
		return -ENODEV;
	put_ifinfomsg(nlh, ifindex);
	mnl_attr_put_strz(nlh, IFLA_IFALIAS, alias);
	return nl_request(nl, nlh, NULL, NULL);
}

int nl_link_set_up(struct nl_sock *nl, int ifindex)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh = msg_start(buf, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi;

	if (ifindex <= 0)
		return -ENODEV;
	ifi = put_ifinfomsg(nlh, ifindex);
	/* ifi_change limits the update to IFF_UP; the other flags stay as they are. */
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return nl_request(nl, nlh, NULL, NULL);
}

int nl_link_set_ipv6_addr_gen_mode(struct nl_sock *nl, int ifindex, uint8_t mode)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh = msg_start(buf, RTM_NEWLINK, 0);
	struct nlattr *spec, *in6;

	if (ifindex <= 0)
		return -ENODEV;
	put_ifinfomsg(nlh, ifindex);
	/* As `ip link set DEV addrgenmode none`. */
	spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	in6 = mnl_attr_nest_start(nlh, AF_INET6);
	mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, mode);
	mnl_attr_nest_end(nlh, in6);
	mnl_attr_nest_end(nlh, spec);
	return nl_request(nl, nlh, NULL, NULL);
}

/* Change one u32 attribute of a link, the others as they are. */
static int link_set_u32(struct nl_sock *nl, int ifindex, uint16_t type, uint32_t value)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh = msg_start(buf, RTM_NEWLINK, 0);

	if (ifindex <= 0)
		return -ENODEV;
	put_ifinfomsg(nlh, ifindex);
	mnl_attr_put_u32(nlh, type, value);
	return nl_request(nl, nlh, NULL, NULL);
}

int nl_link_set_master(struct nl_sock *nl, int ifindex, int master_ifindex)
{
	/* 0 releases the link from its master. */
	return link_set_u32(nl, ifindex, IFLA_MASTER, (uint32_t)master_ifindex);
}

int nl_bridge_port_set_isolated(struct nl_sock *nl, int ifindex, bool isolated)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh = msg_start(buf, RTM_NEWLINK, 0);
	struct nlattr *info, *data;

	if (ifindex <= 0)
		return -ENODEV;
	put_ifinfomsg(nlh, ifindex);
	/* As `ip link set DEV type bridge_slave isolated on|off`. */
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_SLAVE_KIND, "bridge");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_SLAVE_DATA);
	mnl_attr_put_u8(nlh, IFLA_BRPORT_ISOLATED, isolated);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nl_request(nl, nlh, NULL, NULL);
}

int nl_link_set_gso_ipv4_max_size(struct nl_sock *nl, int ifindex, uint32_t size)
{
	return link_set_u32(nl, ifindex, FWD_IFLA_GSO_IPV4_MAX_SIZE, size);
}

int nl_link_set_gso_max_size(struct nl_sock *nl, int ifindex, uint32_t size)
{
	return link_set_u32(nl, ifindex, IFLA_GSO_MAX_SIZE, size);
}

/* ---- addresses ---- */

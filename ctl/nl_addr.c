// SPDX-License-Identifier: GPL-2.0
/* rtnetlink IPv4 addresses and the default route. */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "fwd_inet.h"
#include "nl_msg.h"

static struct nlmsghdr *addr_msg(char *buf, uint16_t type, uint16_t flags, int ifindex,
				 in_addr_t addr, uint8_t prefix)
{
	struct nlmsghdr *nlh = msg_start(buf, type, flags);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	/* in_addr_t is already in network order, as netlink wants it: copy the bytes. */
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(addr), &addr);
	/* On a broadcast link IFA_ADDRESS is the same as IFA_LOCAL (it is the peer on a p2p one).
	 */
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(addr), &addr);
	return nlh;
}

int nl_addr_add(struct nl_sock *nl, int ifindex, in_addr_t addr, uint8_t prefix)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	int ret;

	if (prefix > 32)
		return -EINVAL;
	nlh = addr_msg(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, addr, prefix);
	/* What `ip addr add A/P brd +` sets; /31 and /32 have no broadcast address. */
	if (prefix < 31) {
		in_addr_t mask = fwd_prefix_netmask(prefix);
		in_addr_t brd = addr | ~mask;

		mnl_attr_put(nlh, IFA_BROADCAST, sizeof(brd), &brd);
	}
	ret = nl_request(nl, nlh, NULL, NULL);
	/*
	 * The kernel says EEXIST only when this link already has this very local address with
	 * this very prefix length (NLM_F_EXCL): the state asked for is there, so it is success.
	 */
	if (ret == -EEXIST) {
		nl->errmsg[0] = '\0';
		ret = 0;
	}
	return ret;
}

int nl_addr_del(struct nl_sock *nl, int ifindex, in_addr_t addr, uint8_t prefix)
{
	char buf[NL_REQ_SIZE];

	if (prefix > 32)
		return -EINVAL;
	/* IFA_ADDRESS makes the kernel match the prefix length too, not just the address. */
	return nl_request(nl, addr_msg(buf, RTM_DELADDR, 0, ifindex, addr, prefix), NULL, NULL);
}

struct addr_dump {
	int ifindex;
	bool primary_only;
	int (*cb)(int ifindex, in_addr_t addr, uint8_t prefix, void *ctx);
	void *ctx;
};

int addr_reply_parse(const struct nlmsghdr *nlh, uint8_t family, int ifindex,
		     const struct nlattr **tb, const struct nlattr **local)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct attr_tb t = { tb, IFA_MAX };
	size_t size = family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);

	if (nlh->nlmsg_type != RTM_NEWADDR || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return -EBADMSG;
	/* Without strict checking the kernel ignores our filter: apply it here. */
	if (ifa->ifa_family != family || (ifindex && (int)ifa->ifa_index != ifindex))
		return 0;
	if (mnl_attr_parse(nlh, sizeof(*ifa), attr_index_cb, &t) < 0)
		return -EBADMSG;
	/* IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's on p2p links. */
	*local = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	return *local && mnl_attr_get_payload_len(*local) == size;
}

static int addr_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct addr_dump *d = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = { 0 };
	const struct nlattr *a;
	uint32_t flags;
	in_addr_t addr;
	int ret = addr_reply_parse(nlh, AF_INET, d->ifindex, tb, &a);

	if (ret <= 0)
		return ret;
	/* IFA_FLAGS (32 bits) supersedes the 8-bit header field when present. */
	flags = ifa->ifa_flags;
	if (tb[IFA_FLAGS] && !mnl_attr_validate(tb[IFA_FLAGS], MNL_TYPE_U32))
		flags = mnl_attr_get_u32(tb[IFA_FLAGS]);
	if (d->primary_only && (flags & IFA_F_SECONDARY))
		return 0;
	memcpy(&addr, mnl_attr_get_payload(a), sizeof(addr));
	return d->cb((int)ifa->ifa_index, addr, ifa->ifa_prefixlen, d->ctx);
}

static int addr_dump(struct nl_sock *nl, struct addr_dump *d)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh = msg_start(buf, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = AF_INET;
	ifa->ifa_index = (uint32_t)(d->ifindex > 0 ? d->ifindex : 0);
	return nl_request(nl, nlh, addr_dump_cb, d);
}

int nl_addr_dump(struct nl_sock *nl, int ifindex,
		 int (*cb)(int ifindex, in_addr_t addr, uint8_t prefix, void *ctx), void *ctx)
{
	struct addr_dump d = { ifindex, false, cb, ctx };

	return addr_dump(nl, &d);
}

struct addr_first {
	in_addr_t addr;
	uint8_t prefix;
	bool found;
};

static int addr_first_cb(int ifindex, in_addr_t addr, uint8_t prefix, void *ctx)
{
	struct addr_first *f = ctx;

	f->addr = addr;
	f->prefix = prefix;
	f->found = true;
	/* Positive: stop calling back (nl_request still drains the dump). */
	return 1;
}

int nl_addr_get_primary(struct nl_sock *nl, int ifindex, in_addr_t *addr, uint8_t *prefix)
{
	struct addr_first f = { 0 };
	struct addr_dump d = { ifindex, true, addr_first_cb, &f };
	int ret;

	/* ifindex 0 would mean "every link" to the dump. */
	if (ifindex <= 0)
		return -ENODEV;
	ret = addr_dump(nl, &d);
	if (ret < 0)
		return ret;
	if (!f.found)
		return -EADDRNOTAVAIL;
	*addr = f.addr;
	*prefix = f.prefix;
	return 0;
}

/* RTM_NEWROUTE or RTM_DELROUTE of the main table's route to @net/@prefix via @gateway (out of
 * @ifindex, when > 0), as `ip route add|replace|del NET/PREFIX via G [dev D]` sends it. */
static struct nlmsghdr *route_msg(char *buf, uint16_t type, uint16_t flags, in_addr_t net,
				  uint8_t prefix, in_addr_t gateway, int ifindex)
{
	struct nlmsghdr *nlh = msg_start(buf, type, flags);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = prefix;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_DST, sizeof(net), &net);
	mnl_attr_put(nlh, RTA_GATEWAY, sizeof(gateway), &gateway);
	if (ifindex > 0)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	return nlh;
}

int nl_route_add(struct nl_sock *nl, in_addr_t net, uint8_t prefix, in_addr_t gateway, int ifindex,
		 bool replace)
{
	char buf[NL_REQ_SIZE];

	return nl_request(nl,
			  route_msg(buf, RTM_NEWROUTE,
				    NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL), net,
				    prefix, gateway, ifindex),
			  NULL, NULL);
}

struct route_find {
	in_addr_t net, gateway;
	uint8_t prefix;
	bool found;
};

static int route_find_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	struct attr_tb t = { tb, RTA_MAX };
	struct route_find *f = data;
	in_addr_t dst = 0, gw = 0;

	if (nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return -EBADMSG;
	if (rtm->rtm_family != AF_INET || rtm->rtm_table != RT_TABLE_MAIN ||
	    rtm->rtm_dst_len != f->prefix)
		return 0;
	if (mnl_attr_parse(nlh, sizeof(*rtm), attr_index_cb, &t) < 0)
		return -EBADMSG;
	if (tb[RTA_DST] && mnl_attr_get_payload_len(tb[RTA_DST]) == sizeof(dst))
		memcpy(&dst, mnl_attr_get_payload(tb[RTA_DST]), sizeof(dst));
	if (tb[RTA_GATEWAY] && mnl_attr_get_payload_len(tb[RTA_GATEWAY]) == sizeof(gw))
		memcpy(&gw, mnl_attr_get_payload(tb[RTA_GATEWAY]), sizeof(gw));
	if (dst == f->net && gw == f->gateway)
		f->found = true;
	return 0;
}

int nl_route_has(struct nl_sock *nl, in_addr_t net, uint8_t prefix, in_addr_t gateway)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh = msg_start(buf, RTM_GETROUTE, NLM_F_DUMP);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	struct route_find f = { net, gateway, prefix, false };
	int ret;

	rtm->rtm_family = AF_INET;
	ret = nl_request(nl, nlh, route_find_cb, &f);
	return ret < 0 ? ret : f.found;
}

int nl_route_del(struct nl_sock *nl, in_addr_t net, uint8_t prefix, in_addr_t gateway)
{
	char buf[NL_REQ_SIZE];
	int ret =
	    nl_request(nl, route_msg(buf, RTM_DELROUTE, 0, net, prefix, gateway, 0), NULL, NULL);

	return ret == -ESRCH || ret == -ENOENT ? 0 : ret;
}

int nl_route_replace_default(struct nl_sock *nl, in_addr_t gateway, int ifindex)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh = msg_start(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 0;
	rtm->rtm_table = RT_TABLE_MAIN;
	/* What `ip route replace default via G dev D` sends. */
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_GATEWAY, sizeof(gateway), &gateway);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	return nl_request(nl, nlh, NULL, NULL);
}

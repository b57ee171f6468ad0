// SPDX-License-Identifier: GPL-2.0
/*
 * rtnetlink IPv6 addresses and the IPv6 default route. Every address fwd adds is IFA_F_NODAD:
 * fwd hands out the addresses itself (its parser refuses duplicates), so duplicate address
 * detection would only hold each one "tentative" for a second after `up` returns.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "nl_msg.h"

static struct nlmsghdr *addr6_msg(char *buf, uint16_t type, uint16_t flags, int ifindex,
				  const struct in6_addr *addr, uint8_t prefix)
{
	struct nlmsghdr *nlh = msg_start(buf, type, flags);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = AF_INET6;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(*addr), addr);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(*addr), addr);
	return nlh;
}

int nl_addr6_add(struct nl_sock *nl, int ifindex, const struct in6_addr *addr, uint8_t prefix)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	int ret;

	if (prefix > 128)
		return -EINVAL;
	nlh = addr6_msg(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, addr, prefix);
	ifa = mnl_nlmsg_get_payload(nlh);
	ifa->ifa_flags = IFA_F_NODAD;
	/* IFA_FLAGS (32 bits) is what the kernel reads when present; both say the same. */
	mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	ret = nl_request(nl, nlh, NULL, NULL);
	/* EEXIST: this link has this address already (NLM_F_EXCL); the state asked for. */
	if (ret == -EEXIST) {
		nl->errmsg[0] = '\0';
		ret = 0;
	}
	return ret;
}

int nl_addr6_del(struct nl_sock *nl, int ifindex, const struct in6_addr *addr, uint8_t prefix)
{
	char buf[NL_REQ_SIZE];

	if (prefix > 128)
		return -EINVAL;
	return nl_request(nl, addr6_msg(buf, RTM_DELADDR, 0, ifindex, addr, prefix), NULL, NULL);
}

struct addr6_dump {
	int ifindex;
	int (*cb)(int ifindex, const struct in6_addr *addr, uint8_t prefix, void *ctx);
	void *ctx;
	bool preferred_only; /* skip deprecated and tentative addresses */
};

static int addr6_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct addr6_dump *d = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = { 0 };
	const struct nlattr *a;
	struct in6_addr addr;
	int ret = addr_reply_parse(nlh, AF_INET6, d->ifindex, tb, &a);

	if (ret <= 0)
		return ret;
	/* Only global addresses: a link-local one is the kernel's, not fwd's to remove. */
	if (ifa->ifa_scope != RT_SCOPE_UNIVERSE)
		return 0;
	if (d->preferred_only) {
		/* IFA_FLAGS (32 bits) supersedes the header's 8 when the kernel sends it */
		uint32_t flags = ifa->ifa_flags;

		if (tb[IFA_FLAGS] && !mnl_attr_validate(tb[IFA_FLAGS], MNL_TYPE_U32))
			flags = mnl_attr_get_u32(tb[IFA_FLAGS]);
		if (flags & (IFA_F_DEPRECATED | IFA_F_TENTATIVE))
			return 0;
	}
	memcpy(&addr, mnl_attr_get_payload(a), sizeof(addr));
	return d->cb((int)ifa->ifa_index, &addr, ifa->ifa_prefixlen, d->ctx);
}

static int addr6_dump(struct nl_sock *nl, int ifindex,
		      int (*cb)(int ifindex, const struct in6_addr *addr, uint8_t prefix,
				void *ctx),
		      void *ctx, bool preferred_only)
{
	struct addr6_dump d = { ifindex, cb, ctx, preferred_only };
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh = msg_start(buf, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = AF_INET6;
	ifa->ifa_index = (uint32_t)(ifindex > 0 ? ifindex : 0);
	return nl_request(nl, nlh, addr6_dump_cb, &d);
}

int nl_addr6_dump(struct nl_sock *nl, int ifindex,
		  int (*cb)(int ifindex, const struct in6_addr *addr, uint8_t prefix, void *ctx),
		  void *ctx)
{
	return addr6_dump(nl, ifindex, cb, ctx, false);
}

/* nl_addr6_dump() callback of nl_addr6_first(): the first one, then stop (1). */
static int addr6_first_cb(int ifindex, const struct in6_addr *addr, uint8_t prefix, void *ctx)
{
	*(struct in6_addr *)ctx = *addr;
	return 1;
}

int nl_addr6_first(struct nl_sock *nl, int ifindex, struct in6_addr *out)
{
	int ret = addr6_dump(nl, ifindex, addr6_first_cb, out, true);

	return ret < 0 ? ret : ret == 1;
}

/* RTM_NEWROUTE (replace) or RTM_DELROUTE of the IPv6 default route via @gateway. */
static struct nlmsghdr *route6_default_msg(char *buf, uint16_t type, uint16_t flags,
					   const struct in6_addr *gateway, int ifindex, bool onlink)
{
	struct nlmsghdr *nlh = msg_start(buf, type, flags);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = AF_INET6;
	rtm->rtm_dst_len = 0;
	rtm->rtm_table = RT_TABLE_MAIN;
	/* What `ip -6 route replace default via G dev D` sends. */
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	rtm->rtm_flags = onlink ? RTNH_F_ONLINK : 0;
	if (gateway)
		mnl_attr_put(nlh, RTA_GATEWAY, sizeof(*gateway), gateway);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	return nlh;
}

int nl_route6_replace_default(struct nl_sock *nl, const struct in6_addr *gateway, int ifindex,
			      bool onlink)
{
	char buf[NL_REQ_SIZE];

	return nl_request(nl,
			  route6_default_msg(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE,
					     gateway, ifindex, onlink),
			  NULL, NULL);
}

int nl_route6_del_default(struct nl_sock *nl, int ifindex)
{
	char buf[NL_REQ_SIZE];
	int ret = nl_request(nl, route6_default_msg(buf, RTM_DELROUTE, 0, NULL, ifindex, false),
			     NULL, NULL);

	if (ret == -ESRCH) { /* none: the state asked for */
		nl->errmsg[0] = '\0';
		ret = 0;
	}
	return ret;
}

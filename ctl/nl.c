// SPDX-License-Identifier: GPL-2.0
/*
 * rtnetlink through libmnl: links, addresses, routes. One request at a time per socket; every
 * request but a dump asks for an ack, so each call returns only once the kernel has answered
 * (ack, error or end of dump), and the kernel's extended-ack text of a failure is kept for
 * nl_errmsg().
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "netns.h"
#include "nl.h"
#include "fwd_inet.h"
#include "fwd_kernel_without.h"
#include "fwd_log.h"

/*
 * Receive buffer. MNL_SOCKET_BUFFER_SIZE (one page) is enough for single replies, but the
 * kernel sizes dump skbs after the largest buffer the reader has offered, up to 32 KiB; a
 * bigger buffer means fewer round trips for large dumps and room for links with many
 * attributes. A message that does not fit is an error (ENOSPC from mnl_socket_recvfrom).
 */
#define NL_RECV_SIZE 32768
/* Requests are small: a veth pair with its peer and alias is well under 1 KiB. */
#define NL_REQ_SIZE 4096

/*
 * IPv4 BIG TCP (Linux 6.3) is newer than Debian 12's <linux/if_link.h> (6.1): the attribute's
 * number in the kernel's enum. Kernels without it never report it, and their RTM_NEWLINK
 * parsing skips attributes it does not know.
 */
#define FWD_IFLA_GSO_IPV4_MAX_SIZE 63
#define FWD_IFLA_PARSE_MAX                                                                         \
	(IFLA_MAX > FWD_IFLA_GSO_IPV4_MAX_SIZE ? IFLA_MAX : FWD_IFLA_GSO_IPV4_MAX_SIZE)

struct nl_sock {
	struct mnl_socket *mnl;
	unsigned int portid;
	unsigned int seq;
	char errmsg[256];
	char buf[NL_RECV_SIZE];
};

/* Called for each reply message of a request that is not an ack/error/done. */
typedef int (*nl_msg_cb)(const struct nlmsghdr *nlh, void *data);

int nl_open(struct nl_sock **out)
{
	struct nl_sock *nl;
	int one = 1, ret;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->mnl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->mnl) {
		ret = -errno;
		goto err_free;
	}
	/*
	 * CAP_ACK: error replies do not echo our whole request back. EXT_ACK: they carry the
	 * kernel's own explanation (NLMSGERR_ATTR_MSG), which is what users need to see.
	 */
	if (mnl_socket_setsockopt(nl->mnl, NETLINK_CAP_ACK, &one, sizeof(one)) ||
	    mnl_socket_setsockopt(nl->mnl, NETLINK_EXT_ACK, &one, sizeof(one))) {
		ret = -errno;
		goto err_close;
	}
	/*
	 * Strict checking lets the kernel filter dumps by the header fields we set (ifindex,
	 * table). Older kernels lack it; every dump is filtered here as well, so it is optional.
	 */
	mnl_socket_setsockopt(nl->mnl, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	if (mnl_socket_bind(nl->mnl, 0, MNL_SOCKET_AUTOPID)) {
		ret = -errno;
		goto err_close;
	}
	nl->portid = mnl_socket_get_portid(nl->mnl);
	/* Any start value works: replies are matched on this socket's own sequence numbers. */
	nl->seq = (unsigned int)getpid() << 16;
	*out = nl;
	return 0;

err_close:
	mnl_socket_close(nl->mnl);
err_free:
	free(nl);
	return ret;
}

int nl_open_netns(int netns_fd, struct nl_sock **out)
{
	int origin, ret, err;

	origin = netns_open_current();
	if (origin < 0)
		return origin;
	if (setns(netns_fd, CLONE_NEWNET)) {
		ret = -errno;
		goto out;
	}
	/* A netlink socket stays bound to the namespace it was created in, whatever comes next. */
	ret = nl_open(out);
	if (setns(origin, CLONE_NEWNET)) {
		err = -errno;
		if (!ret)
			nl_close(*out);
		ret = err;
	}
out:
	close(origin);
	return ret;
}

void nl_close(struct nl_sock *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->mnl);
	free(nl);
}

const char *nl_errmsg(const struct nl_sock *nl)
{
	return nl ? nl->errmsg : "";
}

static int extack_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, NLMSGERR_ATTR_MAX) < 0)
		return MNL_CB_OK;
	tb[type] = attr;
	return MNL_CB_OK;
}

/*
 * Keep the extended ack of an error or done message. @offset is where its attributes start
 * in the payload: after struct nlmsgerr (plus our echoed request unless it was capped), or
 * after the int error code of NLMSG_DONE.
 */
static void extack_save(struct nl_sock *nl, const struct nlmsghdr *nlh, unsigned int offset)
{
	const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1] = { 0 };

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || offset > mnl_nlmsg_get_payload_len(nlh))
		return;
	mnl_attr_parse(nlh, offset, extack_attr_cb, tb);
	if (tb[NLMSGERR_ATTR_MSG] && !mnl_attr_validate(tb[NLMSGERR_ATTR_MSG], MNL_TYPE_NUL_STRING))
		snprintf(nl->errmsg, sizeof(nl->errmsg), "%s",
			 mnl_attr_get_str(tb[NLMSGERR_ATTR_MSG]));
	else if (tb[NLMSGERR_ATTR_MISS_TYPE] &&
		 !mnl_attr_validate(tb[NLMSGERR_ATTR_MISS_TYPE], MNL_TYPE_U32))
		/* Since 6.0 a missing attribute is reported by number only, without text. */
		snprintf(nl->errmsg, sizeof(nl->errmsg), "missing attribute %u",
			 mnl_attr_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]));
}

/* 0 for an ack, -errno for an error reply (with its extended ack kept). */
static int parse_error(struct nl_sock *nl, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	unsigned int offset = sizeof(*err);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*err))
		return -EBADMSG;
	if (!err->error)
		return 0;
	/* Unless capped (NETLINK_CAP_ACK), our request is echoed back before the TLVs. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		offset += mnl_nlmsg_get_payload_len(&err->msg);
	extack_save(nl, nlh, offset);
	/* A positive error would be a kernel bug; never let it pass for success. */
	return err->error < 0 ? err->error : -EPROTO;
}

/* The end of a dump: 0, or the error the dump failed with (e.g. the table went away). */
static int parse_done(struct nl_sock *nl, const struct nlmsghdr *nlh)
{
	int err;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(int))
		return 0;
	memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
	if (err >= 0)
		return 0;
	extack_save(nl, nlh, sizeof(int));
	return err;
}

/*
 * Send @req and read replies until its ack, error or end of dump, calling @cb for each reply.
 * A non-zero return from @cb is returned, but the remaining replies are still read, so that
 * the next request on this socket does not find them first.
 */
static int nl_request(struct nl_sock *nl, struct nlmsghdr *req, nl_msg_cb cb, void *data)
{
	int ret = 0;

	nl->errmsg[0] = '\0';
	req->nlmsg_seq = ++nl->seq;
	/*
	 * Dumps end with NLMSG_DONE; everything else is told to end with an ack. The dump bits
	 * mean something else on NEW requests (NLM_F_MATCH is NLM_F_EXCL), so only a GET
	 * (every fourth rtnetlink type) with both of them set is a dump.
	 */
	if ((req->nlmsg_type - RTM_BASE) % 4 != RTM_GETLINK - RTM_BASE ||
	    (req->nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP)
		req->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl->mnl, req, req->nlmsg_len) < 0)
		return -errno;

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->mnl, nl->buf, sizeof(nl->buf));
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)nl->buf;
		int len = (int)n;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			int err;

			/* Leftovers of a request abandoned earlier (e.g. after ENOBUFS). */
			if (nlh->nlmsg_seq != nl->seq ||
			    (nlh->nlmsg_pid && nlh->nlmsg_pid != nl->portid))
				continue;
			if (nlh->nlmsg_type >= NLMSG_MIN_TYPE) {
				/*
				 * NLM_F_DUMP_INTR (the table changed during the dump) is no error
				 * here: callers converge by looking again, never needing atomicity.
				 */
				if (cb && !ret)
					ret = cb(nlh, data);
				continue;
			}
			/* An ack, error, end of dump or overrun ends the request. */
			if (nlh->nlmsg_type == NLMSG_ERROR)
				err = parse_error(nl, nlh);
			else if (nlh->nlmsg_type == NLMSG_DONE)
				err = parse_done(nl, nlh);
			else if (nlh->nlmsg_type == NLMSG_OVERRUN)
				err = -ENOBUFS;
			else
				continue;
			return ret ? ret : err;
		}
	}
}

static struct nlmsghdr *msg_start(char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, NL_REQ_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	return nlh;
}

static struct ifinfomsg *put_ifinfomsg(struct nlmsghdr *nlh, int ifindex)
{
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return ifi;
}

/* ---- links ---- */

struct attr_tb {
	const struct nlattr **tb;
	unsigned int max;
};

/* Index attributes by type; unknown (newer) types are skipped, validation is left to users. */
static int attr_index_cb(const struct nlattr *attr, void *data)
{
	const struct attr_tb *t = data;

	if (mnl_attr_type_valid(attr, t->max) < 0)
		return MNL_CB_OK;
	t->tb[mnl_attr_get_type(attr)] = attr;
	return MNL_CB_OK;
}

static void copy_str(char *dst, size_t len, const struct nlattr *attr)
{
	/* Only the attribute's own bytes: a string attribute need not be NUL-terminated. */
	size_t n = mnl_attr_get_payload_len(attr);
	const char *s = mnl_attr_get_payload(attr);

	n = strnlen(s, n);
	if (n >= len)
		n = len - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
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
	if (tb[FWD_IFLA_GSO_IPV4_MAX_SIZE] &&
	    !mnl_attr_validate(tb[FWD_IFLA_GSO_IPV4_MAX_SIZE], MNL_TYPE_U32))
		l->gso_ipv4_max_size = mnl_attr_get_u32(tb[FWD_IFLA_GSO_IPV4_MAX_SIZE]);
	/* As a kernel before 6.3 reports links: without the setting. */
	if (fwd_kernel_without("gso_ipv4_max_size"))
		l->tso_max_size = l->gso_ipv4_max_size = 0;
	if (tb[IFLA_LINKINFO]) {
		const struct nlattr *info[IFLA_INFO_MAX + 1] = { 0 };
		struct attr_tb ti = { info, IFLA_INFO_MAX };

		if (mnl_attr_parse_nested(tb[IFLA_LINKINFO], attr_index_cb, &ti) >= 0 &&
		    info[IFLA_INFO_KIND])
			copy_str(l->kind, sizeof(l->kind), info[IFLA_INFO_KIND]);
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
	struct nlattr *info;

	put_ifinfomsg(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	/* An address given at creation counts as set by the user: the bridge keeps it. */
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, info);
	return nl_request(nl, nlh, NULL, NULL);
}

int nl_veth_add(struct nl_sock *nl, const char *host_name, const char *alias, const char *peer_name,
		int peer_netns_fd, uint32_t gso_ipv4_max_size)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh = msg_start(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct nlattr *info, *data, *peer;
	int ret;

	put_ifinfomsg(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, host_name);
	/* Sizes given at creation: no request per end afterwards (`up` of many namespaces). */
	if (gso_ipv4_max_size)
		mnl_attr_put_u32(nlh, FWD_IFLA_GSO_IPV4_MAX_SIZE, gso_ipv4_max_size);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	/* The peer is described like a link of its own: an ifinfomsg, then its attributes. */
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	put_ifinfomsg(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer_name);
	if (gso_ipv4_max_size)
		mnl_attr_put_u32(nlh, FWD_IFLA_GSO_IPV4_MAX_SIZE, gso_ipv4_max_size);
	/* Born inside the namespace, so its name is checked there, never against ours. */
	if (peer_netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	ret = nl_request(nl, nlh, NULL, NULL);
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

int nl_link_set_gso_ipv4_max_size(struct nl_sock *nl, int ifindex, uint32_t size)
{
	return link_set_u32(nl, ifindex, FWD_IFLA_GSO_IPV4_MAX_SIZE, size);
}

/* ---- addresses ---- */

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

static int addr_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct addr_dump *d = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = { 0 };
	struct attr_tb t = { tb, IFA_MAX };
	const struct nlattr *a;
	uint32_t flags;
	in_addr_t addr;

	if (nlh->nlmsg_type != RTM_NEWADDR || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return -EBADMSG;
	/* Without strict checking the kernel ignores our filter: apply it here. */
	if (ifa->ifa_family != AF_INET || (d->ifindex && (int)ifa->ifa_index != d->ifindex))
		return 0;
	if (mnl_attr_parse(nlh, sizeof(*ifa), attr_index_cb, &t) < 0)
		return -EBADMSG;
	/* IFA_FLAGS (32 bits) supersedes the 8-bit header field when present. */
	flags = ifa->ifa_flags;
	if (tb[IFA_FLAGS] && !mnl_attr_validate(tb[IFA_FLAGS], MNL_TYPE_U32))
		flags = mnl_attr_get_u32(tb[IFA_FLAGS]);
	if (d->primary_only && (flags & IFA_F_SECONDARY))
		return 0;
	/* IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's on p2p links. */
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a || mnl_attr_get_payload_len(a) != sizeof(addr))
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

/* ---- routes ---- */

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

int nl_fail(struct nl_sock *nl, int err, const char *object, const char *what)
{
	const char *ack = nl ? nl_errmsg(nl) : "";

	if (!ack[0])
		return fwd_fail(err, object, what);
	fwd_err("%s: %s: %s (kernel: %s)", object, what, strerror(-err), ack);
	return err;
}

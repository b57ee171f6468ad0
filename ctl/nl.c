// SPDX-License-Identifier: GPL-2.0
/*
 * rtnetlink through libmnl: the socket and its requests (links: nl_link.c, addresses and
 * routes: nl_addr.c). One request at a time per socket; every
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

#include "netns.h"
#include "nl_msg.h"
#include "fwd_log.h"
#include "fwd_nlmsg.h"

/* A socket of netlink @protocol (NETLINK_ROUTE, NETLINK_NETFILTER), bound, with ext-acks. */
static int nl_open_protocol(int protocol, struct nl_sock **out)
{
	struct nl_sock *nl;
	int one = 1, ret;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->netfilter = protocol == NETLINK_NETFILTER;
	nl->mnl = mnl_socket_open2(protocol, SOCK_CLOEXEC);
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

int nl_open(struct nl_sock **out)
{
	return nl_open_protocol(NETLINK_ROUTE, out);
}

int nl_open_netfilter(struct nl_sock **out)
{
	return nl_open_protocol(NETLINK_NETFILTER, out);
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
int nl_request(struct nl_sock *nl, struct nlmsghdr *req, nl_msg_cb cb, void *data)
{
	int ret = 0;

	nl->errmsg[0] = '\0';
	req->nlmsg_seq = ++nl->seq;
	/*
	 * Dumps end with NLMSG_DONE; everything else is told to end with an ack. The dump bits
	 * mean something else on NEW requests (NLM_F_MATCH is NLM_F_EXCL), so only a GET
	 * (every fourth rtnetlink type) with both of them set is a dump; fwd sends netfilter
	 * no NEW request, so there the bits alone say it.
	 */
	if ((!nl->netfilter && (req->nlmsg_type - RTM_BASE) % 4 != RTM_GETLINK - RTM_BASE) ||
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
		for (; fwd_nlmsg_ok(nlh, len); nlh = fwd_nlmsg_next(nlh, &len)) {
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

struct nlmsghdr *msg_start(char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, NL_REQ_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	return nlh;
}

struct ifinfomsg *put_ifinfomsg(struct nlmsghdr *nlh, int ifindex)
{
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return ifi;
}

/* Index attributes by type; unknown (newer) types are skipped, validation is left to users. */
int attr_index_cb(const struct nlattr *attr, void *data)
{
	const struct attr_tb *t = data;

	if (mnl_attr_type_valid(attr, t->max) < 0)
		return MNL_CB_OK;
	t->tb[mnl_attr_get_type(attr)] = attr;
	return MNL_CB_OK;
}

void copy_str(char *dst, size_t len, const struct nlattr *attr)
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
int nl_fail(struct nl_sock *nl, int err, const char *object, const char *what)
{
	const char *ack = nl ? nl_errmsg(nl) : "";

	if (!ack[0])
		return fwd_fail(err, object, what);
	fwd_err("%s: %s: %s (kernel: %s)", object, what, strerror(-err), ack);
	return err;
}

int nl_open_address_events(struct nl_sock **out)
{
	struct nl_sock *nl;
	int ret;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->mnl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!nl->mnl) {
		ret = -errno;
		free(nl);
		return ret;
	}
	/* Addresses come and go (RTMGRP_IPV4_IFADDR, RTMGRP_IPV6_IFADDR); links too, with their
	 * addresses (RTMGRP_LINK): an uplink that is re-created. */
	if (mnl_socket_bind(nl->mnl, RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_LINK,
			    MNL_SOCKET_AUTOPID)) {
		ret = -errno;
		mnl_socket_close(nl->mnl);
		free(nl);
		return ret;
	}
	*out = nl;
	return 0;
}

int nl_fd(const struct nl_sock *nl)
{
	return mnl_socket_get_fd(nl->mnl);
}

int nl_drain(struct nl_sock *nl)
{
	int n = 0;

	for (;;) {
		ssize_t len = mnl_socket_recvfrom(nl->mnl, nl->buf, sizeof(nl->buf));

		if (len > 0) {
			n++;
			continue;
		}
		if (len < 0 && errno == EINTR)
			continue;
		/* EAGAIN: drained. ENOBUFS: events were lost, which only means "something
		 * changed", as any event does. */
		if (len < 0 && errno == ENOBUFS) {
			n++;
			continue;
		}
		return len < 0 && errno != EAGAIN ? -errno : n;
	}
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside ctl's netlink code only (nl.c, nl_link.c, nl_addr.c): building requests, sending them,
 * reading attributes. Everything else uses nl.h.
 */
#ifndef FWD_NL_MSG_H
#define FWD_NL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "nl.h"

/*
 * Receive buffer. MNL_SOCKET_BUFFER_SIZE (one page) is enough for single replies, but the
 * kernel sizes dump skbs after the largest buffer the reader has offered, up to 32 KiB; a
 * bigger buffer means fewer round trips for large dumps and room for links with many
 * attributes. A message that does not fit is an error (ENOSPC from mnl_socket_recvfrom).
 */
#define NL_RECV_SIZE 32768
/* Requests are small: a veth pair with its peer and alias is well under 1 KiB. */
#define NL_REQ_SIZE 4096

struct nl_sock {
	struct mnl_socket *mnl;
	bool netfilter; /* NETLINK_NETFILTER (nl_conntrack.c), else NETLINK_ROUTE */
	unsigned int portid;
	unsigned int seq;
	char errmsg[256];
	char buf[NL_RECV_SIZE];
};

/* Called for each reply message of a request that is not an ack/error/done. */
typedef int (*nl_msg_cb)(const struct nlmsghdr *nlh, void *data);

/*
 * Send @req and read the replies until the ack, the error or the end of the dump: @cb (may be
 * NULL) sees every other message. 0, or -errno (the kernel's, with its ext-ack kept).
 */
int nl_request(struct nl_sock *nl, struct nlmsghdr *req, nl_msg_cb cb, void *data);
/* A request of @type with NLM_F_REQUEST | @flags in @buf (NL_REQ_SIZE, zeroed). */
struct nlmsghdr *msg_start(char *buf, uint16_t type, uint16_t flags);
struct ifinfomsg *put_ifinfomsg(struct nlmsghdr *nlh, int ifindex);

/* Attributes indexed by type, for mnl_attr_parse(..., attr_index_cb, &struct attr_tb). */
struct attr_tb {
	const struct nlattr **tb;
	unsigned int max;
};
int attr_index_cb(const struct nlattr *attr, void *data);
/*
 * An RTM_NEWADDR reply of an address dump (nl_addr.c, nl_addr6.c): 1 when it is of @family and
 * link @ifindex (0: any) and carries an address of the family's size, its attributes in @tb
 * (IFA_MAX + 1) and the address attribute in *@local; 0 to skip it; -EBADMSG.
 */
int addr_reply_parse(const struct nlmsghdr *nlh, uint8_t family, int ifindex,
		     const struct nlattr **tb, const struct nlattr **local);
/* A string attribute into @dst (@len bytes), NUL-terminated, cut when too long. */
void copy_str(char *dst, size_t len, const struct nlattr *attr);

#endif

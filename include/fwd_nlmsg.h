/* SPDX-License-Identifier: GPL-2.0 */
/* Walking the netlink messages of a datagram: what ctl/nl.c and loader/xdp_query.c share. */
#ifndef FWD_NLMSG_H
#define FWD_NLMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/netlink.h>

/*
 * Does a whole message start at @nlh, within the @len bytes left? libmnl's mnl_nlmsg_ok()
 * compares the length as an int: one above INT_MAX passes as negative, and mnl_nlmsg_next()
 * then steps by 0 bytes, forever (tests/fuzz/fuzz_netlink.c found it). This one does not.
 */
static inline bool fwd_nlmsg_ok(const struct nlmsghdr *nlh, int len)
{
	return len >= (int)sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) &&
	       nlh->nlmsg_len <= (unsigned int)len;
}

/* The message after @nlh; *@len (what is left) goes down by what @nlh took. */
static inline const struct nlmsghdr *fwd_nlmsg_next(const struct nlmsghdr *nlh, int *len)
{
	unsigned int step = NLMSG_ALIGN(nlh->nlmsg_len);

	*len -= (int)step;
	return (const struct nlmsghdr *)((const char *)nlh + step);
}

/* Is every message of the @n bytes at @buf whole (fit for libmnl's mnl_cb_run())? */
static inline bool fwd_nlmsgs_whole(const void *buf, size_t n)
{
	const struct nlmsghdr *nlh = buf;
	int len = (int)n;

	while (len >= (int)sizeof(*nlh)) {
		if (!fwd_nlmsg_ok(nlh, len))
			return false;
		nlh = fwd_nlmsg_next(nlh, &len);
	}
	return true;
}

#endif

// SPDX-License-Identifier: GPL-2.0
/* rtnetlink namespace ids: how many peer namespaces this one has an id for. */
#include <errno.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>

#include "nl_msg.h"

static int count_nsid(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWNSID)
		++*(int *)data;
	return 0;
}

int nl_nsid_count(struct nl_sock *nl)
{
	char buf[NL_REQ_SIZE] = { 0 };
	struct nlmsghdr *nlh = msg_start(buf, RTM_GETNSID, NLM_F_DUMP);
	struct rtgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	int n = 0, ret;

	g->rtgen_family = AF_UNSPEC;
	ret = nl_request(nl, nlh, count_nsid, &n);
	return ret ? ret : n;
}

// SPDX-License-Identifier: GPL-2.0
/* rtnetlink namespace ids: which peer namespaces this one has an id for. */
#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>

#include "nl_msg.h"

struct nsid_digest {
	uint64_t sum;
	uint64_t n;
};

static int add_nsid(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NETNSA_MAX + 1] = { 0 };
	struct attr_tb t = { tb, NETNSA_MAX };
	struct nsid_digest *d = data;

	if (nlh->nlmsg_type != RTM_NEWNSID ||
	    mnl_attr_parse(nlh, sizeof(struct rtgenmsg), attr_index_cb, &t) < 0 ||
	    !tb[NETNSA_NSID] || mnl_attr_validate(tb[NETNSA_NSID], MNL_TYPE_U32))
		return 0;
	/* Distinct ids: their sum moves whenever one goes or another takes its place. */
	d->sum += (uint64_t)mnl_attr_get_u32(tb[NETNSA_NSID]) + 1;
	d->n++;
	return 0;
}

int nl_nsid_digest(struct nl_sock *nl, uint64_t *digest)
{
	char buf[NL_REQ_SIZE] = { 0 };
	struct nlmsghdr *nlh = msg_start(buf, RTM_GETNSID, NLM_F_DUMP);
	struct rtgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	struct nsid_digest d = { 0 };
	int ret;

	g->rtgen_family = AF_UNSPEC;
	ret = nl_request(nl, nlh, add_nsid, &d);
	*digest = d.sum ^ (d.n << 48);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * nf_conntrack through ctnetlink (NETLINK_NETFILTER): a dump of the IPv4 connections and the
 * deletion of one, which datapath kernel's `up` and `down` use to end the connections of
 * forwards that are gone (ctl/kernel_ct.c). The messages are what `conntrack -L` and
 * `conntrack -D` send, without libnetfilter_conntrack.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "nl_msg.h"

#define CT_MSG(type) ((NFNL_SUBSYS_CTNETLINK << 8) | (type))

struct ct_dump {
	int (*cb)(const struct nl_ct_tuple *orig, const struct nl_ct_tuple *reply, uint32_t status,
		  void *ctx);
	void *ctx;
	uint32_t status_bits; /* only connections with all of these */
};

static struct nlmsghdr *ct_msg_start(char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = msg_start(buf, CT_MSG(type), flags);
	struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));

	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	return nlh;
}

/* A CTA_TUPLE_* nest into @t: 0, or -EBADMSG when an IPv4 address or the protocol is missing
 * (ports stay 0 for protocols without them). */
static int tuple_parse(const struct nlattr *nest, struct nl_ct_tuple *t)
{
	const struct nlattr *tb[CTA_TUPLE_MAX + 1] = { 0 }, *ip[CTA_IP_MAX + 1] = { 0 };
	const struct nlattr *proto[CTA_PROTO_MAX + 1] = { 0 };
	struct attr_tb tt = { tb, CTA_TUPLE_MAX }, ti = { ip, CTA_IP_MAX },
		       tp = { proto, CTA_PROTO_MAX };

	memset(t, 0, sizeof(*t));
	if (mnl_attr_parse_nested(nest, attr_index_cb, &tt) < 0 || !tb[CTA_TUPLE_IP] ||
	    !tb[CTA_TUPLE_PROTO] ||
	    mnl_attr_parse_nested(tb[CTA_TUPLE_IP], attr_index_cb, &ti) < 0 ||
	    mnl_attr_parse_nested(tb[CTA_TUPLE_PROTO], attr_index_cb, &tp) < 0)
		return -EBADMSG;
	if (!ip[CTA_IP_V4_SRC] || mnl_attr_validate(ip[CTA_IP_V4_SRC], MNL_TYPE_U32) ||
	    !ip[CTA_IP_V4_DST] || mnl_attr_validate(ip[CTA_IP_V4_DST], MNL_TYPE_U32) ||
	    !proto[CTA_PROTO_NUM] || mnl_attr_validate(proto[CTA_PROTO_NUM], MNL_TYPE_U8))
		return -EBADMSG;
	t->src = mnl_attr_get_u32(ip[CTA_IP_V4_SRC]);
	t->dst = mnl_attr_get_u32(ip[CTA_IP_V4_DST]);
	t->proto = mnl_attr_get_u8(proto[CTA_PROTO_NUM]);
	if (proto[CTA_PROTO_SRC_PORT] &&
	    !mnl_attr_validate(proto[CTA_PROTO_SRC_PORT], MNL_TYPE_U16))
		t->sport = mnl_attr_get_u16(proto[CTA_PROTO_SRC_PORT]);
	if (proto[CTA_PROTO_DST_PORT] &&
	    !mnl_attr_validate(proto[CTA_PROTO_DST_PORT], MNL_TYPE_U16))
		t->dport = mnl_attr_get_u16(proto[CTA_PROTO_DST_PORT]);
	return 0;
}

static int ct_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CTA_MAX + 1] = { 0 };
	struct attr_tb t = { tb, CTA_MAX };
	const struct ct_dump *d = data;
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	struct nl_ct_tuple orig, reply;
	uint32_t status = 0;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*nfg))
		return -EBADMSG;
	if (nfg->nfgen_family != AF_INET)
		return 0;
	if (mnl_attr_parse(nlh, sizeof(*nfg), attr_index_cb, &t) < 0)
		return -EBADMSG;
	if (!tb[CTA_TUPLE_ORIG] || !tb[CTA_TUPLE_REPLY] || tuple_parse(tb[CTA_TUPLE_ORIG], &orig) ||
	    tuple_parse(tb[CTA_TUPLE_REPLY], &reply))
		return 0; /* not one fwd could have made: skipped, not fatal */
	if (tb[CTA_STATUS] && !mnl_attr_validate(tb[CTA_STATUS], MNL_TYPE_U32))
		status = ntohl(mnl_attr_get_u32(tb[CTA_STATUS]));
	if ((status & d->status_bits) != d->status_bits)
		return 0;
	return d->cb(&orig, &reply, status, d->ctx);
}

int nl_ct_dump(struct nl_sock *nl, uint32_t status_bits,
	       int (*cb)(const struct nl_ct_tuple *orig, const struct nl_ct_tuple *reply,
			 uint32_t status, void *ctx),
	       void *ctx)
{
	char buf[NL_REQ_SIZE];
	struct ct_dump d = { cb, ctx, status_bits };
	struct nlmsghdr *nlh = ct_msg_start(buf, IPCTNL_MSG_CT_GET, NLM_F_DUMP);

	/* Filtered by the kernel (Linux 5.19 on; an older one ignores the attributes and
	 * ct_dump_cb() filters): a host's table is mostly connections of no forward. */
	if (status_bits) {
		mnl_attr_put_u32(nlh, CTA_STATUS, htonl(status_bits));
		mnl_attr_put_u32(nlh, CTA_STATUS_MASK, htonl(status_bits));
	}
	return nl_request(nl, nlh, ct_dump_cb, &d);
}

int nl_ct_delete(struct nl_sock *nl, const struct nl_ct_tuple *orig)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh = ct_msg_start(buf, IPCTNL_MSG_CT_DELETE, 0);
	struct nlattr *tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG), *n;
	int ret;

	n = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, orig->src);
	mnl_attr_put_u32(nlh, CTA_IP_V4_DST, orig->dst);
	mnl_attr_nest_end(nlh, n);
	n = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, orig->proto);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, orig->sport);
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, orig->dport);
	mnl_attr_nest_end(nlh, n);
	mnl_attr_nest_end(nlh, tuple);
	ret = nl_request(nl, nlh, NULL, NULL);
	return ret == -ENOENT ? 0 : ret;
}

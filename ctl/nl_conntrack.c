// SPDX-License-Identifier: GPL-2.0
/*
 * nf_conntrack through ctnetlink (NETLINK_NETFILTER): a dump of the IPv4 or IPv6 connections
 * and the deletion of one, which datapath kernel's `up` and `down` use to end the connections of
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
	uint8_t family;
	uint32_t status_bits; /* only connections with all of these */
};

static struct nlmsghdr *ct_msg_start(char *buf, uint16_t type, uint16_t flags, uint8_t family)
{
	struct nlmsghdr *nlh = msg_start(buf, CT_MSG(type), flags);
	struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));

	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	return nlh;
}

/* An address of @family from @src and @dst (CTA_IP_V4_* or CTA_IP_V6_*) into @t: 0, or
 * -EBADMSG. */
static int tuple_addrs(const struct nlattr *const *ip, uint8_t family, struct nl_ct_tuple *t)
{
	if (family == AF_INET) {
		if (!ip[CTA_IP_V4_SRC] || mnl_attr_validate(ip[CTA_IP_V4_SRC], MNL_TYPE_U32) ||
		    !ip[CTA_IP_V4_DST] || mnl_attr_validate(ip[CTA_IP_V4_DST], MNL_TYPE_U32))
			return -EBADMSG;
		t->src.v4 = mnl_attr_get_u32(ip[CTA_IP_V4_SRC]);
		t->dst.v4 = mnl_attr_get_u32(ip[CTA_IP_V4_DST]);
		return 0;
	}
	if (!ip[CTA_IP_V6_SRC] || mnl_attr_get_payload_len(ip[CTA_IP_V6_SRC]) != 16 ||
	    !ip[CTA_IP_V6_DST] || mnl_attr_get_payload_len(ip[CTA_IP_V6_DST]) != 16)
		return -EBADMSG;
	memcpy(&t->src.v6, mnl_attr_get_payload(ip[CTA_IP_V6_SRC]), 16);
	memcpy(&t->dst.v6, mnl_attr_get_payload(ip[CTA_IP_V6_DST]), 16);
	return 0;
}

/* A CTA_TUPLE_* nest of @family into @t: 0, or -EBADMSG when an address or the protocol is
 * missing (ports stay 0 for protocols without them). */
static int tuple_parse(const struct nlattr *nest, uint8_t family, struct nl_ct_tuple *t)
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
	if (tuple_addrs(ip, family, t) || !proto[CTA_PROTO_NUM] ||
	    mnl_attr_validate(proto[CTA_PROTO_NUM], MNL_TYPE_U8))
		return -EBADMSG;
	t->family = family;
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
	if (nfg->nfgen_family != d->family)
		return 0;
	if (mnl_attr_parse(nlh, sizeof(*nfg), attr_index_cb, &t) < 0)
		return -EBADMSG;
	if (!tb[CTA_TUPLE_ORIG] || !tb[CTA_TUPLE_REPLY] ||
	    tuple_parse(tb[CTA_TUPLE_ORIG], d->family, &orig) ||
	    tuple_parse(tb[CTA_TUPLE_REPLY], d->family, &reply))
		return 0; /* not one fwd could have made: skipped, not fatal */
	if (tb[CTA_STATUS] && !mnl_attr_validate(tb[CTA_STATUS], MNL_TYPE_U32))
		status = ntohl(mnl_attr_get_u32(tb[CTA_STATUS]));
	if ((status & d->status_bits) != d->status_bits)
		return 0;
	return d->cb(&orig, &reply, status, d->ctx);
}

int nl_ct_dump(struct nl_sock *nl, uint8_t family, uint32_t status_bits,
	       int (*cb)(const struct nl_ct_tuple *orig, const struct nl_ct_tuple *reply,
			 uint32_t status, void *ctx),
	       void *ctx)
{
	char buf[NL_REQ_SIZE];
	struct ct_dump d = { cb, ctx, family, status_bits };
	struct nlmsghdr *nlh = ct_msg_start(buf, IPCTNL_MSG_CT_GET, NLM_F_DUMP, family);

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
	struct nlmsghdr *nlh = ct_msg_start(buf, IPCTNL_MSG_CT_DELETE, 0, orig->family);
	struct nlattr *tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG), *n;
	int ret;

	n = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	if (orig->family == AF_INET) {
		mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, orig->src.v4);
		mnl_attr_put_u32(nlh, CTA_IP_V4_DST, orig->dst.v4);
	} else {
		mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, &orig->src.v6);
		mnl_attr_put(nlh, CTA_IP_V6_DST, 16, &orig->dst.v6);
	}
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

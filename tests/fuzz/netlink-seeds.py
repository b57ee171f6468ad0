#!/usr/bin/env python3
# tests/fuzz/netlink-seeds.py DIR — writes the seed inputs of fuzz_netlink (see the format at the
# top of tests/fuzz/fuzz_netlink.c): for each request fwd makes, the replies a kernel sends to it,
# built field by field as in <linux/netlink.h> and <linux/rtnetlink.h>.
import os
import struct
import sys

NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE, RTM_NEWNSID = 16, 20, 24, 88
RTA_DST, RTA_OIF, RTA_GATEWAY = 1, 4, 5
NLM_F_MULTI, NLM_F_CAPPED, NLM_F_ACK_TLVS = 0x2, 0x100, 0x200
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MASTER, IFLA_LINK = 1, 3, 10, 5
IFLA_PROTINFO, IFLA_LINKINFO, IFLA_IFALIAS, IFLA_AF_SPEC = 12, 18, 20, 26
IFLA_LINK_NETNSID, IFLA_TSO_MAX_SIZE, IFLA_GSO_IPV4_MAX_SIZE = 37, 59, 63
IFLA_INFO_KIND, IFLA_INFO_SLAVE_DATA = 1, 5
IFLA_BRPORT_ISOLATED = 36
AF_INET, AF_INET6 = 2, 10
IFLA_INET6_ADDR_GEN_MODE = 8
IFA_ADDRESS, IFA_LOCAL, IFA_FLAGS = 1, 2, 8
NETNSA_NSID = 1
NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_MISS_TYPE = 1, 5


def attr(kind, payload):
    n = 4 + len(payload)
    return struct.pack('=HH', n, kind) + payload + b'\0' * (-n % 4)


def msg(kind, payload, flags=0):
    n = 16 + len(payload)
    return struct.pack('=IHHII', n, kind, flags, 1, 4242) + payload + b'\0' * (-n % 4)


def link(index, name, kind=None, master=0, alias=None, port_isolated=None):
    a = attr(IFLA_IFNAME, name + b'\0') + attr(IFLA_ADDRESS, bytes([2, 0, 0, 0, 0, index]))
    if master:
        a += attr(IFLA_MASTER, struct.pack('=I', master))
    if kind:
        info = attr(IFLA_INFO_KIND, kind + b'\0')
        if port_isolated is not None:
            info += attr(IFLA_INFO_SLAVE_DATA, attr(IFLA_BRPORT_ISOLATED, bytes([port_isolated])))
        a += attr(IFLA_LINKINFO, info)
    if alias:
        a += attr(IFLA_IFALIAS, alias + b'\0')
    if port_isolated is not None:
        a += attr(IFLA_PROTINFO, attr(IFLA_BRPORT_ISOLATED, bytes([port_isolated])))
    a += attr(IFLA_LINK, struct.pack('=I', index + 1)) + attr(IFLA_LINK_NETNSID, struct.pack('=i', 3))
    a += attr(IFLA_TSO_MAX_SIZE, struct.pack('=I', 524280))
    a += attr(IFLA_GSO_IPV4_MAX_SIZE, struct.pack('=I', 65536))
    a += attr(IFLA_AF_SPEC, attr(AF_INET6, attr(IFLA_INET6_ADDR_GEN_MODE, b'\1')))
    ifinfo = struct.pack('=BxHiII', 0, 1, index, 0x1043, 0)
    return msg(RTM_NEWLINK, ifinfo + a, NLM_F_MULTI)


def addr(index, a, prefix, flags=0, family=AF_INET, scope=0):
    ifa = struct.pack('=BBBBI', family, prefix, flags, scope, index)
    return msg(RTM_NEWADDR, ifa + attr(IFA_LOCAL, bytes(a)) + attr(IFA_ADDRESS, bytes(a)) +
               attr(IFA_FLAGS, struct.pack('=I', flags)), NLM_F_MULTI)


def route(dst, prefix, gw, oif=2, table=254):
    rtm = struct.pack('=BBBBBBBBI', AF_INET, prefix, 0, 0, table, 3, 0, 1, 0)
    return msg(RTM_NEWROUTE, rtm + attr(RTA_DST, bytes(dst)) + attr(RTA_GATEWAY, bytes(gw)) +
               attr(RTA_OIF, struct.pack('=I', oif)), NLM_F_MULTI)


def ack(error=0, text=None):
    # capped: no echo of the request, then the extended ack's attributes
    body = struct.pack('=i', error) + struct.pack('=IHHII', 16, 0, 0, 1, 4242)
    flags = NLM_F_CAPPED
    if text is not None:
        body += attr(NLMSGERR_ATTR_MSG, text + b'\0')
        flags |= NLM_F_ACK_TLVS
    return msg(NLMSG_ERROR, body, flags)


def done(error=0):
    return msg(NLMSG_DONE, struct.pack('=i', error), NLM_F_MULTI)


def datagrams(*dgs):
    return b''.join(struct.pack('=H', len(d)) + d for d in dgs)


seeds = {
    'link-get': (0, [link(7, b'fwd0', b'veth', alias=b'fwd:lab:red') + ack()]),
    'link-get-missing': (0, [ack(-19, b'Cannot find device')]),
    'link-by-index': (1, [link(7, b'vnet0', b'bridge') + ack()]),
    'link-dump': (2, [link(1, b'lo') + link(2, b'eth0', b'veth'), link(7, b'vnet0', b'bridge') + done()]),
    'ports-dump': (3, [link(8, b'fwd1a2b3c4d', b'veth', master=7, port_isolated=1) +
                       link(9, b'fwd5e6f7a8b', b'veth', master=7, port_isolated=0) + done()]),
    'addr-dump': (4, [addr(2, [10, 0, 0, 5], 24) + addr(7, [192, 168, 15, 5], 24, 0x01), done()]),
    'addr-primary': (5, [addr(7, [192, 168, 15, 5], 24) + done()]),
    # IPv6: a global address and a link-local one (scope 253), which the dump leaves out
    'addr6-dump': (8, [addr(2, [0xfd, 0, 0, 0x15] + [0] * 11 + [1], 64, 0x02, AF_INET6) +
                       addr(2, [0xfe, 0x80] + [0] * 13 + [1], 64, 0x80, AF_INET6, 253), done()]),
    'nsid-dump': (6, [b''.join(msg(RTM_NEWNSID, struct.pack('=Bxxx', 0) +
                                   attr(NETNSA_NSID, struct.pack('=I', i)), NLM_F_MULTI)
                               for i in range(4)) + done()]),
    # a route line's route, beside another table's and another prefix's
    'route-dump': (9, [route([10, 0, 0, 0], 8, [10, 77, 0, 9]) +
                       route([192, 168, 16, 0], 24, [10, 77, 0, 3], table=100),
                       route([192, 168, 16, 0], 24, [10, 77, 0, 3]) + done()]),
    'ack': (7, [ack()]),
    'error-with-text': (7, [ack(-22, b'Invalid argument: no such master')]),
    'dump-error': (2, [link(1, b'lo') + done(-16)]),
}
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for name, (op, dgs) in seeds.items():
    with open(os.path.join(out, name), 'wb') as f:
        f.write(bytes([op, 1]) + datagrams(*dgs))

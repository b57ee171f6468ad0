// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the kernel's netlink replies as ctl/nl*.c reads them (links, bridge ports,
 * addresses, routes, namespace ids, acks, errors with their extended ack). The input plays the
 *kernel:
 *
 *	byte 0   which request fwd makes (a lookup, a dump, a change that wants an ack)
 *	byte 1   bit 0: replies carry the request's sequence number and our port id, as the
 *	         kernel's do (clear: whatever the input says, as leftovers of an older request)
 *	then     datagrams, each a 2-byte length (host order) and that many bytes
 *
 * Nothing is sent: this file defines mnl_socket_sendto() and mnl_socket_recvfrom(), which
 * take libmnl's place in this program. When the datagrams run out, a read fails with EIO.
 * Besides crashes and sanitizer reports it checks what callers rely on: every string fwd
 * copies out of a reply is terminated within its field.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>

#include "fwd_nlmsg.h"
#include "nl.h"
#include "nl_msg.h"

#include "fuzz.h"

static const uint8_t *input;
static size_t input_left;
static bool stamp;
static struct nl_sock sock;

ssize_t mnl_socket_sendto(const struct mnl_socket *nl, const void *req, size_t len)
{
	return (ssize_t)len;
}

ssize_t mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf, size_t bufsiz)
{
	uint16_t len;
	int left;

	if (input_left < sizeof(len)) {
		errno = EIO;
		return -1;
	}
	memcpy(&len, input, sizeof(len));
	input += sizeof(len);
	input_left -= sizeof(len);
	if (len > input_left)
		len = (uint16_t)input_left;
	if (len > bufsiz)
		len = (uint16_t)bufsiz;
	memcpy(buf, input, len);
	input += len;
	input_left -= len;
	left = len;
	if (stamp)
		for (const struct nlmsghdr *h = buf; fwd_nlmsg_ok(h, left);
		     h = fwd_nlmsg_next(h, &left)) {
			struct nlmsghdr *w = (struct nlmsghdr *)h;

			w->nlmsg_seq = sock.seq;
			w->nlmsg_pid = sock.portid;
		}
	return len;
}

static void check_str(const char *s, size_t size, const char *what)
{
	if (!memchr(s, '\0', size))
		fuzz_broken(what, s, size);
}

static void check_link(const struct nl_link *l)
{
	check_str(l->name, sizeof(l->name), "a link's name is not terminated");
	check_str(l->kind, sizeof(l->kind), "a link's kind is not terminated");
	check_str(l->alias, sizeof(l->alias), "a link's alias is not terminated");
}

static int link_seen(const struct nl_link *l, void *ctx)
{
	check_link(l);
	return 0;
}

static int addr_seen(int ifindex, in_addr_t addr, uint8_t prefix, void *ctx)
{
	return 0;
}

static int addr6_seen(int ifindex, const struct in6_addr *addr, uint8_t prefix, void *ctx)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nl_link link;
	in_addr_t addr;
	uint8_t prefix;
	uint64_t digest;

	if (size < 2)
		return 0;
	memset(&sock, 0, sizeof(sock));
	sock.portid = 4242;
	stamp = data[1] & 1;
	input = data + 2;
	input_left = size - 2;
	switch (data[0] % 10) {
	case 0:
		if (!nl_link_get(&sock, "fwd0", &link))
			check_link(&link);
		break;
	case 1:
		if (!nl_link_get_by_index(&sock, 7, &link))
			check_link(&link);
		break;
	case 2: nl_link_dump(&sock, link_seen, NULL); break;
	case 3: nl_bridge_ports_dump(&sock, 7, link_seen, NULL); break;
	case 4: nl_addr_dump(&sock, 0, addr_seen, NULL); break;
	case 5: nl_addr_get_primary(&sock, 7, &addr, &prefix); break;
	case 6: nl_nsid_digest(&sock, &digest); break;
	case 7:
		nl_link_set_up(&sock, 7); /* an ack, or an error with its extended ack */
		break;
	case 8: nl_addr6_dump(&sock, 2, addr6_seen, NULL); break;
	case 9: nl_route_has(&sock, inet_addr("192.168.16.0"), 24, inet_addr("10.77.0.3")); break;
	}
	check_str(sock.errmsg, sizeof(sock.errmsg), "the extended ack's text is not terminated");
	return 0;
}

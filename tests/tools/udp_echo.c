// SPDX-License-Identifier: GPL-2.0
/*
 * udp_echo: the tests' UDP server. It answers every datagram with the address of the peer that
 * sent it, one line ("IP\n", or "IP:PORT\n" with -p), from one process. `socat
 * UDP-RECVFROM:PORT,fork` forks a child per datagram and loses the datagrams that arrive while
 * a child runs (5 of 60 single-datagram requests on the kernel datapath): a test that asks once
 * must get its answer.
 *
 *   udp_echo [-a ADDR] [-p] PORT
 *     -a ADDR   bind to this IPv4 address (default: any)
 *     -p        answer "IP:PORT" instead of "IP"
 *
 * The answer leaves from the address the datagram was sent to (IP_PKTINFO), so a client's
 * connected socket accepts it whichever address the namespace would pick for the peer.
 * Run it in a namespace with `ip netns exec NS`; it runs until SIGTERM, SIGINT or SIGKILL.
 * Exit status: 0 after SIGTERM or SIGINT, 1 when the socket fails, 2 usage.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: udp_echo [-a ADDR] [-p] PORT\n");
	return 2;
}

/* SIGTERM and SIGINT end the loop: without SA_RESTART, they interrupt recvmsg(). */
static int catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL))
		return -errno;
	return 0;
}

static int open_socket(const struct sockaddr_in *sin)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) ||
	    bind(fd, (const struct sockaddr *)sin, sizeof(*sin))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/*
 * Receive one datagram and answer it. 0 when done (answered, or the answer could not be sent:
 * the peer's problem, not the server's), -EINTR on a signal, -errno when the socket fails.
 */
static int echo_one(int fd, bool with_port)
{
	char data[65536], line[INET_ADDRSTRLEN + 8];
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} ctl;
	struct sockaddr_in peer;
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr msg = { .msg_name = &peer,
			      .msg_namelen = sizeof(peer),
			      .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	struct in_pktinfo *to = NULL;
	char addr[INET_ADDRSTRLEN];
	struct cmsghdr *c;
	int len;

	if (recvmsg(fd, &msg, 0) < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
			to = (struct in_pktinfo *)CMSG_DATA(c);
	if (msg.msg_namelen < sizeof(peer) || peer.sin_family != AF_INET)
		return 0;
	inet_ntop(AF_INET, &peer.sin_addr, addr, sizeof(addr));
	if (with_port)
		len = snprintf(line, sizeof(line), "%s:%u\n", addr, ntohs(peer.sin_port));
	else
		len = snprintf(line, sizeof(line), "%s\n", addr);

	/* The answer: from the address asked (ipi_spec_dst), through any interface. */
	iov.iov_base = line;
	iov.iov_len = len;
	msg.msg_namelen = sizeof(peer);
	msg.msg_flags = 0;
	if (to) {
		struct in_pktinfo from = { .ipi_spec_dst = to->ipi_addr };

		msg.msg_controllen = CMSG_SPACE(sizeof(from));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(from));
		memcpy(CMSG_DATA(c), &from, sizeof(from));
	} else {
		msg.msg_control = NULL;
		msg.msg_controllen = 0;
	}
	if (sendmsg(fd, &msg, 0) < 0 && errno == EINTR)
		return -EINTR;
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	bool with_port = false;
	unsigned long port;
	char *end;
	int opt, fd, err;

	while ((opt = getopt(argc, argv, "a:p")) != -1) {
		switch (opt) {
		case 'a':
			if (inet_pton(AF_INET, optarg, &sin.sin_addr) != 1) {
				fprintf(stderr, "udp_echo: %s: not an IPv4 address\n", optarg);
				return 2;
			}
			break;
		case 'p': with_port = true; break;
		default: return usage();
		}
	}
	if (optind != argc - 1)
		return usage();
	errno = 0;
	port = strtoul(argv[optind], &end, 10);
	if (errno || end == argv[optind] || *end || !port || port > 65535) {
		fprintf(stderr, "udp_echo: %s: not a port\n", argv[optind]);
		return 2;
	}
	sin.sin_port = htons(port);

	err = catch_signals();
	fd = err ? err : open_socket(&sin);
	if (fd < 0) {
		fprintf(stderr, "udp_echo: port %lu: %s\n", port, strerror(-fd));
		return 1;
	}
	while (!stop) {
		err = echo_one(fd, with_port);
		if (err && err != -EINTR) {
			fprintf(stderr, "udp_echo: port %lu: %s\n", port, strerror(-err));
			close(fd);
			return 1;
		}
	}
	close(fd);
	return 0;
}

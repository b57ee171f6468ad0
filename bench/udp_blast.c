// SPDX-License-Identifier: GPL-2.0
/*
 * udp_blast: small UDP datagrams from ordinary sockets with sendmmsg(), for a fixed time.
 * With --flows N it spreads the datagrams over N distinct 5-tuples (several sockets, each with
 * its own source port, times a range of destination ports), visiting every flow once per pass,
 * so a connection tracker in the path has to hold N entries at once. The sockets are not
 * connected: every datagram names its destination, so one flow and a million cost the sender
 * the same per datagram and the receiver's rate reflects the path, not the generator.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

#define MAX_BATCH     256
#define MAX_SIZE      1472
#define MAX_SOCKETS   1024
#define PRIME_TIMEOUT 120.0 /* seconds the first pass over all flows may take */

struct blast {
	int fds[MAX_SOCKETS];
	unsigned int n_sockets;
	unsigned int ports; /* destination ports per socket (the last socket may use fewer) */
	unsigned long long flows;
	union bench_addr dst; /* port = base port */
	unsigned int batch;
	unsigned int size;
	unsigned long long sent, errors;
};

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: udp_blast -a DST_ADDR -p PORT [-f FLOWS] [-P PORTS] [-t SECONDS] [-s SIZE]\n"
	    "                 [-b BATCH] [-R READY_FILE]\n"
	    "Send SIZE-byte UDP datagrams (default 18) to DST_ADDR with sendmmsg() for SECONDS.\n"
	    "  -a ADDR      IPv4 or IPv6 destination (required)\n"
	    "  -p PORT      first destination port (required)\n"
	    "  -f FLOWS     distinct 5-tuples, visited round-robin (default 1, at most 64M)\n"
	    "  -P PORTS     destination ports per source socket (default: as many as fit)\n"
	    "  -t SECONDS   how long to send after the first pass over all flows (default 5)\n"
	    "  -s SIZE      UDP payload bytes (default 18)\n"
	    "  -b BATCH     datagrams per sendmmsg() (default 64, at most %d)\n"
	    "  -R FILE      create FILE once every flow has been sent at least once\n"
	    "Prints: sent=N seconds=S pps=N flows=N sockets=N errors=N prime_s=S\n"
	    "Exit status: 0 ok, 1 runtime failure, 2 usage.\n",
	    MAX_BATCH);
}

static int blast_open(struct blast *b)
{
	unsigned int i;

	for (i = 0; i < b->n_sockets; i++) {
		int sndbuf = 4 << 20;

		b->fds[i] = socket(b->dst.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (b->fds[i] < 0) {
			fprintf(stderr, "udp_blast: socket %u: %s\n", i, strerror(errno));
			return -errno;
		}
		/* a larger buffer only smooths bursts; failure is harmless */
		setsockopt(b->fds[i], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	}
	return 0;
}

/* Ports socket @s sends to: all but the last socket cover b->ports. */
static unsigned int blast_limit(const struct blast *b, unsigned int s)
{
	if (s + 1 < b->n_sockets)
		return b->ports;
	return b->flows - (unsigned long long)(b->n_sockets - 1) * b->ports;
}

/*
 * One batch on socket @s to the next b->batch destination ports of its range, wrapping around
 * (with few flows a batch visits each several times). @cursor is the socket's position.
 */
static int blast_batch(struct blast *b, unsigned int s, unsigned int *cursor, const char *payload)
{
	static union bench_addr addrs[MAX_BATCH];
	static struct mmsghdr msgs[MAX_BATCH];
	static struct iovec iov;
	unsigned int i, limit = blast_limit(b, s);
	int r;

	iov.iov_base = (void *)payload;
	iov.iov_len = b->size;
	for (i = 0; i < b->batch; i++) {
		addrs[i] = b->dst;
		bench_addr_set_port(&addrs[i], bench_addr_port(&b->dst) + *cursor);
		if (++*cursor == limit)
			*cursor = 0;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_name = &addrs[i];
		msgs[i].msg_hdr.msg_namelen = bench_addr_len(&addrs[i]);
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	r = sendmmsg(b->fds[s], msgs, b->batch, 0);
	if (r < 0) {
		if (errno == EINTR)
			return 0;
		/* ENOBUFS and friends: the path is saturated; count and go on */
		b->errors++;
		if (errno == ENOBUFS || errno == EAGAIN || errno == ECONNREFUSED)
			return 0;
		fprintf(stderr, "udp_blast: sendmmsg: %s\n", strerror(errno));
		return -errno;
	}
	/* a short send leaves the unsent ports for later rounds to cover; fine for a rate test */
	b->sent += r;
	return 0;
}

/* One batch per socket, @rounds times or until @deadline. Returns 0, 1 at the deadline, -errno. */
static int blast_rounds(struct blast *b, unsigned int *cursors, unsigned long long rounds,
			const char *payload, double deadline)
{
	unsigned long long r;
	unsigned int s;
	int err;

	for (r = 0; r < rounds; r++) {
		for (s = 0; s < b->n_sockets; s++) {
			err = blast_batch(b, s, &cursors[s], payload);
			if (err)
				return err;
		}
		/* the clock is cheap (vDSO) next to a sendmmsg of 64 datagrams */
		if (bench_stop || bench_now() > deadline)
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "flows", required_argument, NULL, 'f' },
		{ "ports", required_argument, NULL, 'P' },
		{ "duration", required_argument, NULL, 't' },
		{ "size", required_argument, NULL, 's' },
		{ "batch", required_argument, NULL, 'b' },
		{ "ready-file", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	static unsigned int cursors[MAX_SOCKETS];
	static char payload[MAX_SIZE];
	struct blast b = { .flows = 1, .batch = 64, .size = 18 };
	const char *addr = NULL, *ready = NULL;
	uint64_t port = 0, ports = 0, v;
	double duration = 5, t_start, t_primed, t_end;
	unsigned long long sent0;
	int opt, err, ret = 1;
	unsigned int i;

	while ((opt = getopt_long(argc, argv, "a:p:f:P:t:s:b:R:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'p':
			if (bench_parse_u64(optarg, 1, 65535, &port))
				goto bad;
			break;
		case 'f':
			if (bench_parse_u64(optarg, 1, 64ULL << 20, &v))
				goto bad;
			b.flows = v;
			break;
		case 'P':
			if (bench_parse_u64(optarg, 1, 65535, &ports))
				goto bad;
			break;
		case 't':
			if (bench_parse_double(optarg, 0.1, 3600, &duration))
				goto bad;
			break;
		case 's':
			if (bench_parse_u64(optarg, 1, MAX_SIZE, &v))
				goto bad;
			b.size = v;
			break;
		case 'b':
			if (bench_parse_u64(optarg, 1, MAX_BATCH, &v))
				goto bad;
			b.batch = v;
			break;
		case 'R': ready = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!addr || !port || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (bench_parse_addr(addr, &b.dst)) {
		fprintf(stderr, "udp_blast: bad address \"%s\"\n", addr);
		return 2;
	}
	bench_addr_set_port(&b.dst, port);
	if (!ports)
		ports = 65536 - port;
	if (ports > 65536 - port) {
		fprintf(stderr, "udp_blast: %llu ports from %llu run past 65535\n",
			(unsigned long long)ports, (unsigned long long)port);
		return 2;
	}
	if (ports > b.flows)
		ports = b.flows;
	b.ports = ports;
	b.n_sockets = (b.flows + ports - 1) / ports;
	if (b.n_sockets > MAX_SOCKETS) {
		fprintf(stderr, "udp_blast: %llu flows need %u sockets (max %d): raise -P\n",
			b.flows, b.n_sockets, MAX_SOCKETS);
		return 2;
	}
	for (i = 0; i < b.n_sockets; i++)
		b.fds[i] = -1;
	memset(payload, 'f', sizeof(payload));
	bench_on_signals();
	if (blast_open(&b))
		goto out;

	/* Priming: every flow once, so all of them are live before the window starts. */
	t_start = bench_now();
	err = blast_rounds(&b, cursors, (b.ports + b.batch - 1) / b.batch, payload,
			   t_start + PRIME_TIMEOUT);
	if (err < 0)
		goto out;
	t_primed = bench_now();
	if (err > 0 && !bench_stop)
		fprintf(stderr, "udp_blast: warning: first pass over %llu flows took over %.0f s\n",
			b.flows, PRIME_TIMEOUT);
	err = bench_touch(ready);
	if (err) {
		fprintf(stderr, "udp_blast: ready file \"%s\": %s\n", ready, strerror(-err));
		goto out;
	}

	sent0 = b.sent;
	t_end = t_primed + duration;
	while (!bench_stop && bench_now() < t_end) {
		err = blast_rounds(&b, cursors, ~0ULL, payload, t_end);
		if (err < 0)
			goto out;
	}
	if (bench_stop) {
		fprintf(stderr, "udp_blast: interrupted\n");
		goto out;
	}
	t_end = bench_now();
	printf("sent=%llu seconds=%.3f pps=%.0f flows=%llu sockets=%u errors=%llu prime_s=%.3f\n",
	       b.sent - sent0, t_end - t_primed, (b.sent - sent0) / (t_end - t_primed), b.flows,
	       b.n_sockets, b.errors, t_primed - t_start);
	ret = 0;
out:
	for (i = 0; i < b.n_sockets; i++)
		if (b.fds[i] >= 0)
			close(b.fds[i]);
	return ret;
bad:
	fprintf(stderr, "udp_blast: bad value for -%c: \"%s\"\n", opt, optarg);
	return 2;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * crr: TCP connect / request / response / close, one transaction at a time, for a fixed time
 * (netperf's TCP_CRR, without netperf). The server writes its response and closes first, the
 * way an HTTP/1.0 server does: the TIME_WAIT state then sits on the server's side, so the client
 * never runs out of ephemeral ports and no sysctl has to be touched.
 *
 * With -k (both sides) one connection carries every request and response instead, and the client
 * reports the round trips' median and 99th percentile (netperf's TCP_RR): the ping-pong of
 * `make bench` where sockperf cannot go (Debian 12's sockperf 3.7 has no IPv6). IPv4 or IPv6.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

#define MAX_MSG	      65536
#define IO_TIMEOUT_MS 1000 /* a transaction stuck longer than this counts as an error */

struct opts {
	union bench_addr addr;
	double duration;
	unsigned int size;
	const char *ready;
	bool keep; /* -k: one connection, round trips timed */
};

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: crr server -p PORT [-a BIND_ADDR] [-t SECONDS] [-s SIZE] [-R READY_FILE] [-k]\n"
	    "       crr client -a ADDR -p PORT [-t SECONDS] [-s SIZE] [-k]\n"
	    "TCP connect/request/response/close transactions, one at a time.\n"
	    "  -a ADDR     server address (client) or address to bind (server; default any, IPv6\n"
	    "              and IPv4); IPv4 or IPv6\n"
	    "  -p PORT     TCP port (required)\n"
	    "  -t SECONDS  run time; the server stops accepting after it too (default 5)\n"
	    "  -s SIZE     request and response bytes (default 64)\n"
	    "  -R FILE     server: create FILE once listening\n"
	    "  -k          keep the connection: requests and responses on one connection (the\n"
	    "              server answers until the client closes), round trips timed\n"
	    "Client prints: transactions=N seconds=S per_s=N errors=N; with -k also p50_us=X\n"
	    "p99_us=X (round trips)\n"
	    "Exit status: 0 ok, 1 runtime failure (client: no transaction completed), 2 usage.\n");
}

static int set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_MS / 1000,
			      .tv_usec = (IO_TIMEOUT_MS % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return -errno;
	return 0;
}

/* Read exactly @len bytes. 0, -EPIPE on early EOF, or -errno. */
static int read_full(int fd, char *buf, size_t len)
{
	while (len) {
		ssize_t r = read(fd, buf, len);

		if (r < 0)
			return -errno;
		if (r == 0)
			return -EPIPE;
		buf += r;
		len -= r;
	}
	return 0;
}

static int write_full(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t r = write(fd, buf, len);

		if (r < 0)
			return -errno;
		buf += r;
		len -= r;
	}
	return 0;
}

static int serve(const struct opts *o)
{
	static char buf[MAX_MSG];
	double end = bench_now() + o->duration;
	int one = 1, lfd, err;

	lfd = socket(o->addr.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0) {
		fprintf(stderr, "crr: socket: %s\n", strerror(errno));
		return 1;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (o->addr.sa.sa_family == AF_INET6) /* :: takes IPv4 too */
		setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &(int){ 0 }, sizeof(int));
	if (bind(lfd, &o->addr.sa, bench_addr_len(&o->addr)) || listen(lfd, 1024)) {
		fprintf(stderr, "crr: listen on port %u: %s\n", bench_addr_port(&o->addr),
			strerror(errno));
		close(lfd);
		return 1;
	}
	err = bench_touch(o->ready);
	if (err) {
		fprintf(stderr, "crr: ready file \"%s\": %s\n", o->ready, strerror(-err));
		close(lfd);
		return 1;
	}
	memset(buf, 's', o->size);
	while (!bench_stop && bench_now() < end) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		int fd;

		/* wake up regularly to notice the end of the run */
		if (poll(&p, 1, 100) <= 0)
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (o->keep) {
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			set_timeouts(fd);
			/* until the client closes (or the run ends: reads time out each second) */
			while (!bench_stop && !read_full(fd, buf, o->size) &&
			       !write_full(fd, buf, o->size))
				;
		} else if (!set_timeouts(fd) && !read_full(fd, buf, o->size)) {
			write_full(fd, buf, o->size);
		}
		close(fd);
	}
	close(lfd);
	return 0;
}

static int transaction(const struct opts *o, char *buf)
{
	int fd, err, one = 1;
	char eof;

	fd = socket(o->addr.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a request/response protocol: do not let Nagle hold the request back */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	err = set_timeouts(fd);
	if (!err && connect(fd, &o->addr.sa, bench_addr_len(&o->addr)))
		err = -errno;
	if (!err)
		err = write_full(fd, buf, o->size);
	if (!err)
		err = read_full(fd, buf, o->size);
	/* wait for the server's FIN, so the transaction includes the whole close */
	if (!err && read(fd, &eof, 1) != 0)
		err = -EPROTO;
	close(fd);
	return err;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * -k's one connection, made within KEEP_CONNECT_MS. What -k times is the round trips on it, not
 * the handshake, so a lost first SYN must not end the run. It happens: a namespace that only
 * received during the iperf3 run before (its ACKs confirm no neighbour) can find its gateway's
 * neighbour entry FAILED a minute later (its unicast probes were lost under that load), and the
 * kernel answers the first SYN-ACK with "address unreachable" after a second: the client's
 * connect() then runs out of its 1 s send timeout (EINPROGRESS), or fails with EHOSTUNREACH on
 * its own side. The socket or -errno.
 */
#define KEEP_CONNECT_MS 5000
static int keep_connect(const struct opts *o)
{
	double t0 = bench_now();
	int fd, one = 1, err;

	for (;;) {
		fd = socket(o->addr.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
		    set_timeouts(fd) || connect(fd, &o->addr.sa, bench_addr_len(&o->addr)))
			err = -errno;
		else
			return fd;
		close(fd);
		if ((err != -EINPROGRESS && err != -EHOSTUNREACH && err != -ENETUNREACH &&
		     err != -ETIMEDOUT) ||
		    bench_stop || (bench_now() - t0) * 1000 >= KEEP_CONNECT_MS)
			return err;
		fprintf(stderr, "crr: connect to %s port %u: %s, again\n", bench_addr_str(&o->addr),
			bench_addr_port(&o->addr), strerror(-err));
	}
}

/* -k: request/response round trips on one connection, each timed. */
static int client_keep(const struct opts *o)
{
	static char buf[MAX_MSG];
	size_t n = 0, cap = 1 << 16;
	double *rtt = malloc(cap * sizeof(*rtt)), t0, t1;
	int fd, err = 0;

	if (!rtt)
		return 1;
	memset(buf, 'c', o->size);
	fd = keep_connect(o);
	if (fd < 0) {
		fprintf(stderr, "crr: connect to %s port %u: %s\n", bench_addr_str(&o->addr),
			bench_addr_port(&o->addr), strerror(-fd));
		free(rtt);
		return 1;
	}
	t0 = bench_now();
	t1 = t0;
	while (!bench_stop && t1 - t0 < o->duration) {
		double start = t1;

		err = write_full(fd, buf, o->size);
		if (!err)
			err = read_full(fd, buf, o->size);
		if (err)
			break;
		t1 = bench_now();
		if (n == cap) {
			double *more = realloc(rtt, 2 * cap * sizeof(*rtt));

			if (!more)
				break;
			rtt = more;
			cap *= 2;
		}
		rtt[n++] = (t1 - start) * 1e6;
	}
	close(fd);
	if (bench_stop || !n) {
		fprintf(stderr, "crr: %s\n", bench_stop ? "interrupted" : strerror(-err));
		free(rtt);
		return 1;
	}
	qsort(rtt, n, sizeof(*rtt), cmp_double);
	printf("transactions=%zu seconds=%.3f per_s=%.0f errors=%d p50_us=%.3f p99_us=%.3f\n", n,
	       t1 - t0, n / (t1 - t0), err ? 1 : 0, rtt[n / 2], rtt[n * 99 / 100]);
	free(rtt);
	return 0;
}

static int client(const struct opts *o)
{
	static char buf[MAX_MSG];
	unsigned long long done = 0, errors = 0;
	int last_err = 0;
	double t0, t1;

	memset(buf, 'c', o->size);
	t0 = bench_now();
	while (!bench_stop && bench_now() - t0 < o->duration) {
		int err = transaction(o, buf);

		if (err) {
			errors++;
			last_err = err;
			/* a refused connect returns at once; do not spin on it */
			if (err == -ECONNREFUSED)
				usleep(10000);
		} else {
			done++;
		}
	}
	t1 = bench_now();
	if (bench_stop) {
		fprintf(stderr, "crr: interrupted\n");
		return 1;
	}
	printf("transactions=%llu seconds=%.3f per_s=%.0f errors=%llu\n", done, t1 - t0,
	       done / (t1 - t0), errors);
	if (!done) {
		fprintf(stderr, "crr: no transaction with %s port %u completed: %s\n",
			bench_addr_str(&o->addr), bench_addr_port(&o->addr), strerror(-last_err));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 't' },
		{ "size", required_argument, NULL, 's' },
		{ "ready-file", required_argument, NULL, 'R' },
		{ "keep", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct opts o = { .duration = 5, .size = 64 };
	const char *addr = NULL;
	bool is_server;
	uint64_t v, port = 0;
	int opt;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc < 2 || (strcmp(argv[1], "server") && strcmp(argv[1], "client"))) {
		usage(stderr);
		return 2;
	}
	is_server = !strcmp(argv[1], "server");
	optind = 2;
	while ((opt = getopt_long(argc, argv, "a:p:t:s:R:kh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'p':
			if (bench_parse_u64(optarg, 1, 65535, &port))
				goto bad;
			break;
		case 't':
			if (bench_parse_double(optarg, 0.1, 3600, &o.duration))
				goto bad;
			break;
		case 's':
			if (bench_parse_u64(optarg, 1, MAX_MSG, &v))
				goto bad;
			o.size = v;
			break;
		case 'R': o.ready = optarg; break;
		case 'k': o.keep = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !port || (!is_server && !addr)) {
		usage(stderr);
		return 2;
	}
	if (addr && bench_parse_addr(addr, &o.addr)) {
		fprintf(stderr, "crr: bad address \"%s\"\n", addr);
		return 2;
	}
	if (!addr) {
		o.addr.v6.sin6_family = AF_INET6;
		o.addr.v6.sin6_addr = in6addr_any;
	}
	bench_addr_set_port(&o.addr, port);
	bench_on_signals();
	if (is_server)
		return serve(&o);
	return o.keep ? client_keep(&o) : client(&o);
bad:
	fprintf(stderr, "crr: bad value for -%c: \"%s\"\n", opt, optarg);
	return 2;
}

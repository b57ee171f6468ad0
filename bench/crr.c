// SPDX-License-Identifier: GPL-2.0
/*
 * crr: TCP connect / request / response / close, one transaction at a time, for a fixed time
 * (netperf's TCP_CRR, without netperf). The server writes its response and closes first, the
 * way an HTTP/1.0 server does: the TIME_WAIT state then sits on the server's side, so the client
 * never runs out of ephemeral ports and no sysctl has to be touched.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

#define MAX_MSG	      65536
#define IO_TIMEOUT_MS 1000 /* a transaction stuck longer than this counts as an error */

struct opts {
	struct sockaddr_in addr;
	double duration;
	unsigned int size;
	const char *ready;
};

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: crr server -p PORT [-a BIND_ADDR] [-t SECONDS] [-s SIZE] [-R READY_FILE]\n"
	    "       crr client -a ADDR -p PORT [-t SECONDS] [-s SIZE]\n"
	    "TCP connect/request/response/close transactions, one at a time.\n"
	    "  -a ADDR     server address (client) or address to bind (server; default any)\n"
	    "  -p PORT     TCP port (required)\n"
	    "  -t SECONDS  run time; the server stops accepting after it too (default 5)\n"
	    "  -s SIZE     request and response bytes (default 64)\n"
	    "  -R FILE     server: create FILE once listening\n"
	    "Client prints: transactions=N seconds=S per_s=N errors=N\n"
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

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0) {
		fprintf(stderr, "crr: socket: %s\n", strerror(errno));
		return 1;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&o->addr, sizeof(o->addr)) || listen(lfd, 1024)) {
		fprintf(stderr, "crr: listen on port %u: %s\n", ntohs(o->addr.sin_port),
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
		if (!set_timeouts(fd) && !read_full(fd, buf, o->size))
			write_full(fd, buf, o->size);
		close(fd);
	}
	close(lfd);
	return 0;
}

static int transaction(const struct opts *o, char *buf)
{
	int fd, err, one = 1;
	char eof;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a request/response protocol: do not let Nagle hold the request back */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	err = set_timeouts(fd);
	if (!err && connect(fd, (const struct sockaddr *)&o->addr, sizeof(o->addr)))
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
		fprintf(stderr, "crr: no transaction with %s:%u completed: %s\n",
			inet_ntoa(o->addr.sin_addr), ntohs(o->addr.sin_port), strerror(-last_err));
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
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct opts o = { .duration = 5, .size = 64 };
	const char *addr = NULL;
	bool is_server;
	uint64_t v;
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
	o.addr.sin_family = AF_INET;
	optind = 2;
	while ((opt = getopt_long(argc, argv, "a:p:t:s:R:h", lopts, NULL)) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'p':
			if (bench_parse_u64(optarg, 1, 65535, &v))
				goto bad;
			o.addr.sin_port = htons(v);
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
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !o.addr.sin_port || (!is_server && !addr)) {
		usage(stderr);
		return 2;
	}
	if (addr && inet_pton(AF_INET, addr, &o.addr.sin_addr) != 1) {
		fprintf(stderr, "crr: bad IPv4 address \"%s\"\n", addr);
		return 2;
	}
	bench_on_signals();
	return is_server ? serve(&o) : client(&o);
bad:
	fprintf(stderr, "crr: bad value for -%c: \"%s\"\n", opt, optarg);
	return 2;
}

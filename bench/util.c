// SPDX-License-Identifier: GPL-2.0
/* Helpers shared by bench/'s load generators. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "util.h"

volatile sig_atomic_t bench_stop;

static void on_signal(int sig)
{
	bench_stop = 1;
}

void bench_on_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	/* No SA_RESTART: blocking calls return EINTR so loops notice the flag. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void bench_sleep(double s)
{
	double end = bench_now() + s;
	double left;

	while (!bench_stop && (left = end - bench_now()) > 0) {
		struct timespec ts = { .tv_sec = (time_t)left,
				       .tv_nsec = (long)((left - (time_t)left) * 1e9) };

		nanosleep(&ts, NULL);
	}
}

int bench_touch(const char *path)
{
	int fd;

	if (!path)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int bench_wait_file(const char *path, double timeout_s)
{
	double end = bench_now() + timeout_s;

	if (!path)
		return 0;
	while (access(path, F_OK) != 0) {
		if (bench_stop)
			return -EINTR;
		if (bench_now() > end)
			return -ETIMEDOUT;
		usleep(5000);
	}
	return 0;
}

int bench_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int bench_parse_double(const char *s, double min, double max, double *out)
{
	double v;
	char *end;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int bench_parse_addr(const char *text, union bench_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, text, &a->v4.sin_addr) == 1) {
		a->v4.sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, &a->v6.sin6_addr) == 1) {
		a->v6.sin6_family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

socklen_t bench_addr_len(const union bench_addr *a)
{
	return a->sa.sa_family == AF_INET6 ? sizeof(a->v6) : sizeof(a->v4);
}

uint16_t bench_addr_port(const union bench_addr *a)
{
	return ntohs(a->sa.sa_family == AF_INET6 ? a->v6.sin6_port : a->v4.sin_port);
}

void bench_addr_set_port(union bench_addr *a, uint16_t port)
{
	if (a->sa.sa_family == AF_INET6)
		a->v6.sin6_port = htons(port);
	else
		a->v4.sin_port = htons(port);
}

const char *bench_addr_str(const union bench_addr *a)
{
	static char buf[INET6_ADDRSTRLEN];

	if (a->sa.sa_family == AF_INET6)
		return inet_ntop(AF_INET6, &a->v6.sin6_addr, buf, sizeof(buf));
	return inet_ntop(AF_INET, &a->v4.sin_addr, buf, sizeof(buf));
}

/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by bench/'s load generators: clocks, deadlines, ready/start files, numbers. */
#ifndef FWD_BENCH_UTIL_H
#define FWD_BENCH_UTIL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* Set by SIGINT/SIGTERM once bench_on_signals() ran; every loop checks it. */
extern volatile sig_atomic_t bench_stop;

void bench_on_signals(void);
/* CLOCK_MONOTONIC in seconds. */
double bench_now(void);
/* Sleep @s seconds unless a signal asks to stop first. */
void bench_sleep(double s);
/* Create (or truncate) @path; a NULL path is a no-op. Returns 0 or -errno. */
int bench_touch(const char *path);
/* Poll for @path to exist, up to @timeout_s seconds; a NULL path returns at once. 0 or
 * -ETIMEDOUT/-EINTR. */
int bench_wait_file(const char *path, double timeout_s);
/* Strict number parsing: the whole string, within [min, max]. Returns 0 or -EINVAL. */
int bench_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int bench_parse_double(const char *s, double min, double max, double *out);

/* A socket address of either family. */
union bench_addr {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
};

/* IPv4 dotted quad or IPv6 text into @a, port 0. Returns 0 or -EINVAL. */
int bench_parse_addr(const char *text, union bench_addr *a);
/* Its length for bind()/connect()/sendmsg(), by its family. */
socklen_t bench_addr_len(const union bench_addr *a);
/* Its port, host order; and set it. */
uint16_t bench_addr_port(const union bench_addr *a);
void bench_addr_set_port(union bench_addr *a, uint16_t port);
/* Its address as text (a static buffer). */
const char *bench_addr_str(const union bench_addr *a);

#endif

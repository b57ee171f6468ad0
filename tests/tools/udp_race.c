// SPDX-License-Identifier: GPL-2.0
/*
 * udp_race: two threads, one per CPU, send the first datagram of a new flow at the same moment,
 * round after round, each round from a new source port. Both datagrams arrive at the datapath
 * on two CPUs at once, so both try to create the flow's connection-tracking entry: a datapath
 * that drops the loser of that race loses a datagram. The server (udp_echo) answers each one;
 * a round is lost when fewer than two answers come back within a second.
 *
 *   udp_race -a ADDR -p PORT [-n ROUNDS] [-b BASE_PORT]
 *
 * Prints "rounds=N lost=N" and exits 0 when nothing was lost, 1 when something was, 2 on
 * usage errors or when the sockets or threads cannot be made. Needs two CPUs.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

struct race {
	int fd;
	struct sockaddr_in dst;
	pthread_barrier_t start, done;
	int rounds;
};

struct sender {
	struct race *r;
	int cpu;
};

static void *sender_run(void *arg)
{
	struct sender *s = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(s->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	for (int i = 0; i < s->r->rounds; i++) {
		pthread_barrier_wait(&s->r->start);
		sendto(s->r->fd, "race", 4, 0, (struct sockaddr *)&s->r->dst, sizeof(s->r->dst));
		pthread_barrier_wait(&s->r->done);
	}
	return NULL;
}

/* A socket bound to @port (any address) with a receive timeout of a second; -1 on failure. */
static int socket_on(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { .tv_sec = 1 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct race r = { .rounds = 1000, .dst = { .sin_family = AF_INET } };
	struct sender senders[2] = { { &r, 0 }, { &r, 1 } };
	int opt, base = 20000, lost = 0;
	pthread_t threads[2];
	char buf[64];

	while ((opt = getopt(argc, argv, "a:p:n:b:")) != -1) {
		switch (opt) {
		case 'a':
			if (inet_pton(AF_INET, optarg, &r.dst.sin_addr) != 1)
				return 2;
			break;
		case 'p': r.dst.sin_port = htons(atoi(optarg)); break;
		case 'n': r.rounds = atoi(optarg); break;
		case 'b': base = atoi(optarg); break;
		default: goto usage;
		}
	}
	if (!r.dst.sin_addr.s_addr || !r.dst.sin_port || r.rounds <= 0 || base <= 0 ||
	    base + r.rounds > 65535)
		goto usage;
	if (pthread_barrier_init(&r.start, NULL, 3) || pthread_barrier_init(&r.done, NULL, 3))
		return 2;
	r.fd = -1;
	for (int t = 0; t < 2; t++)
		if (pthread_create(&threads[t], NULL, sender_run, &senders[t]))
			return 2;
	for (int i = 0; i < r.rounds; i++) {
		int fd = socket_on(base + i), answers = 0;

		if (fd < 0) {
			fprintf(stderr, "udp_race: port %d: %s\n", base + i, strerror(errno));
			return 2;
		}
		r.fd = fd;
		pthread_barrier_wait(&r.start); /* both threads send now */
		pthread_barrier_wait(&r.done);
		while (answers < 2 && recv(fd, buf, sizeof(buf), 0) > 0)
			answers++;
		if (answers < 2)
			lost++;
		close(fd);
	}
	for (int t = 0; t < 2; t++)
		pthread_join(threads[t], NULL);
	printf("rounds=%d lost=%d\n", r.rounds, lost);
	return lost ? 1 : 0;
usage:
	fprintf(stderr, "usage: udp_race -a ADDR -p PORT [-n ROUNDS] [-b BASE_PORT]\n");
	return 2;
}

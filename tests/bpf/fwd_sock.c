// SPDX-License-Identifier: GPL-2.0
/*
 * fwd_sock through real sockets. BPF_PROG_TEST_RUN cannot run cgroup sock_addr programs, so
 * the test makes a world where they can run without touching anything else: a network
 * namespace of its own (loopback only) and a cgroup of its own under the cgroup v2 root, with
 * the programs attached to that cgroup only and a forked child as its only member.
 *
 *   "uplink address" 127.0.0.1
 *   forward tcp 80   -> 127.0.0.2:8080
 *   forward udp 5353 -> 127.0.0.3:53
 *   forward udp 5354 -> 127.0.0.4:53
 *
 * Per case: where the connection or datagram arrived, the address the socket reads back
 * (getpeername, recvfrom), and how much host_dnat moved. A second namespace, the same
 * addresses but another cookie, must see nothing rewritten.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fwd_loader.h" /* loader_cgroup_v2_root(): the loader's own way of finding it */
#include "fwd_kern_user.h"
#include "fwd_sock.skel.h"

#include "check.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

#define LO(last) htonl(0x7f000000u | (last)) /* 127.0.0.last, network order */
#define UPLINK	 LO(1)

static int counters_fd;

/* One PASS: or FAIL: line (check.h); @fmt... says what was seen instead, on failure only. */
static void check(const char *name, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void check(const char *name, int ok, const char *fmt, ...)
{
	char why[sizeof(check_why)];
	va_list ap;

	if (!ok) {
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
		check_fail("%s", why);
	}
	check_result("fwd_sock: %s", name);
}

static void ok(const char *name)
{
	check_result("fwd_sock: %s", name);
}

static __u64 host_dnat(void)
{
	struct fwd_counter_sum c[FWD_CNT_MAX];

	return loader_counters_read_fd(counters_fd, c) ? ~0ull : c[FWD_CNT_HOST_DNAT].packets;
}

static __u64 netns_cookie(void)
{
	__u64 cookie = 0;
	socklen_t len = sizeof(cookie);
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	if (fd >= 0)
		getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len);
	close(fd);
	return cookie;
}

/* A fresh network namespace with only lo, up. */
static int new_netns(void)
{
	struct ifreq ifr = { .ifr_flags = IFF_UP };
	int fd, err;

	if (unshare(CLONE_NEWNET))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, "lo");
	err = ioctl(fd, SIOCSIFFLAGS, &ifr) ? -errno : 0;
	close(fd);
	return err;
}

static struct sockaddr_in sin_of(__be32 addr, __u16 port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = addr };

	sin.sin_port = htons(port);
	return sin;
}

/* "a.b.c.d:port", from a rotation of buffers so that one printf can take several. */
static const char *str_of(__be32 addr, __be16 port)
{
	static char buf[4][32];
	static int n;
	char *b = buf[n++ % 4];

	snprintf(b, 32, "%s:%u", inet_ntoa((struct in_addr){ addr }), ntohs(port));
	return b;
}

static const char *sin_str(const struct sockaddr_in *sin)
{
	return str_of(sin->sin_addr.s_addr, sin->sin_port);
}

static int same(const struct sockaddr_in *a, __be32 addr, __u16 port)
{
	return a->sin_addr.s_addr == addr && a->sin_port == htons(port);
}

static int bound(int type, __be32 addr, __u16 port)
{
	struct sockaddr_in sin = sin_of(addr, port);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0), one = 1;
	struct timeval tv = { .tv_sec = 2 };

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    (type == SOCK_STREAM && listen(fd, 8))) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * connect() to @addr:@port; a listener on @at_addr:@at_port must get the connection, and
 * getpeername() must say @addr:@port; host_dnat must move by @moved.
 */
static void tcp_case(const char *name, __be32 addr, __u16 port, __be32 at_addr, __u16 at_port,
		     __u64 moved)
{
	struct sockaddr_in to = sin_of(addr, port), peer = {};
	socklen_t len = sizeof(peer);
	int lfd = bound(SOCK_STREAM, at_addr, at_port), fd, afd = -1;
	__u64 before = host_dnat();
	char what[96];

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || fd < 0) {
		check(name, 0, "setup: %s", strerror(errno));
		goto end;
	}
	snprintf(what, sizeof(what), "%s: connect", name);
	if (connect(fd, (struct sockaddr *)&to, sizeof(to))) {
		check(what, 0, "%s", strerror(errno));
		goto end;
	}
	ok(what);
	afd = accept(lfd, NULL, NULL);
	snprintf(what, sizeof(what), "%s: arrives at %s", name, str_of(at_addr, htons(at_port)));
	check(what, afd >= 0, "accept: %s", strerror(errno));
	getpeername(fd, (struct sockaddr *)&peer, &len);
	snprintf(what, sizeof(what), "%s: getpeername says %s", name, sin_str(&to));
	check(what, same(&peer, addr, port), "got %s", sin_str(&peer));
	snprintf(what, sizeof(what), "%s: host_dnat moved by %llu", name,
		 (unsigned long long)moved);
	check(what, host_dnat() - before == moved, "moved by %llu",
	      (unsigned long long)(host_dnat() - before));
end:
	close(afd);
	close(fd);
	close(lfd);
}

/*
 * An unconnected UDP socket sends to each @addr:@ports[i]; the server at @at_addr:@at_port[i]
 * must get it and answer, and recvfrom() must report @addr:@ports[i] as the source.
 */
static void udp_case(const char *name, __be32 addr, const __u16 *ports, const __be32 *at_addr,
		     const __u16 *at_port, int n, __u64 moved)
{
	struct sockaddr_in from, to;
	socklen_t len;
	int fd = bound(SOCK_DGRAM, LO(1), 0), srv[4] = { -1, -1, -1, -1 };
	__u64 before = host_dnat();
	char what[96], buf[8];
	unsigned int seen = 0;

	for (int i = 0; i < n; i++) {
		srv[i] = bound(SOCK_DGRAM, at_addr[i], at_port[i]);
		if (srv[i] < 0 || fd < 0) {
			check(name, 0, "setup: %s", strerror(errno));
			goto end;
		}
	}
	for (int i = 0; i < n; i++) {
		to = sin_of(addr, ports[i]);
		sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to));
	}
	for (int i = 0; i < n; i++) {
		len = sizeof(from);
		snprintf(what, sizeof(what), "%s: datagram to port %u arrives at %s", name,
			 ports[i], str_of(at_addr[i], htons(at_port[i])));
		if (recvfrom(srv[i], buf, sizeof(buf), 0, (struct sockaddr *)&from, &len) != 1) {
			check(what, 0, "recvfrom: %s", strerror(errno));
			goto end;
		}
		ok(what);
		sendto(srv[i], "y", 1, 0, (struct sockaddr *)&from, len);
	}
	/* Replies may come in any order: each must name one of the ports asked, all of them
	 * once. */
	for (int i = 0; i < n; i++) {
		len = sizeof(from);
		if (recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len) != 1) {
			check(name, 0, "no reply: %s", strerror(errno));
			goto end;
		}
		for (int m = 0; m < n; m++)
			if (same(&from, addr, ports[m]) && !(seen & 1u << m))
				seen |= 1u << m;
		snprintf(what, sizeof(what), "%s: reply %d comes from the address asked", name, i);
		check(what, __builtin_popcount(seen) == i + 1, "from %s", sin_str(&from));
	}
	snprintf(what, sizeof(what), "%s: host_dnat moved by %llu", name,
		 (unsigned long long)moved);
	check(what, host_dnat() - before == moved, "moved by %llu",
	      (unsigned long long)(host_dnat() - before));
end:
	for (int i = 0; i < n; i++)
		close(srv[i]);
	close(fd);
}

/* Runs in the child, inside the test cgroup and the first namespace. */
static int child(void)
{
	const __u16 udp_ports[] = { 5353, 5354 }, udp_at_port[] = { 53, 53 };
	const __be32 udp_at[] = { LO(3), LO(4) };
	const __u16 udp80[] = { 80 }, udp80_at_port[] = { 80 }, udp5353[] = { 5353 };
	const __be32 udp80_at[] = { LO(1) };
	int ret;

	tcp_case("tcp to a forward", UPLINK, 80, LO(2), 8080, 1);
	tcp_case("tcp to a port not forwarded", UPLINK, 7050, UPLINK, 7050, 0);
	tcp_case("tcp to a forward's target directly", LO(2), 8080, LO(2), 8080, 0);
	udp_case("udp to two forwards from one socket", UPLINK, udp_ports, udp_at, udp_at_port, 2,
		 2);
	udp_case("udp to a port only tcp forwards", UPLINK, udp80, udp80_at, udp80_at_port, 1, 0);

	/* Another namespace (as the machine's own is): the same addresses, nothing rewritten. */
	if (new_netns()) {
		check("second namespace", 0, "%s", strerror(errno));
	} else {
		tcp_case("other namespace: tcp to a forwarded port", UPLINK, 80, UPLINK, 80, 0);
		udp_case("other namespace: udp to a forwarded port", UPLINK, udp5353, udp80_at,
			 udp5353, 1, 0);
	}
	ret = check_summary();
	fflush(stdout);
	return ret;
}

static int fill_forwards(int fd)
{
	const struct {
		__u8 proto;
		__u16 port;
		__be32 to;
		__u16 to_port;
	} fwds[] = { { IPPROTO_TCP, 80, LO(2), 8080 },
		     { IPPROTO_UDP, 5353, LO(3), 53 },
		     { IPPROTO_UDP, 5354, LO(4), 53 } };

	for (size_t i = 0; i < sizeof(fwds) / sizeof(fwds[0]); i++) {
		struct fwd_forward_key k = { .addr = UPLINK,
					     .proto = fwds[i].proto,
					     .port = htons(fwds[i].port) };
		struct fwd_forward_val v = { .addr = fwds[i].to, .port = htons(fwds[i].to_port) };

		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
			return -errno;
	}
	return 0;
}

/* Join cgroup @dir: write our pid into its cgroup.procs. */
static int cgroup_join(const char *dir)
{
	char path[PATH_MAX], pid[16];
	int fd, n, err = 0;

	if (snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	n = snprintf(pid, sizeof(pid), "%d\n", getpid());
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, pid, n) != n)
		err = -errno;
	if (fd >= 0)
		close(fd);
	return err;
}

int main(void)
{
	static const char *const progs[] = { "fwd_connect4", "fwd_sendmsg4", "fwd_recvmsg4",
					     "fwd_peername4" };
	char root[PATH_MAX], dir[PATH_MAX + 32];
	struct bpf_link *links[4] = {};
	struct fwd_settings *cfg;
	struct fwd_sock *skel = NULL;
	int cg_fd = -1, status, ret = 1;
	pid_t pid;

	if (loader_cgroup_v2_root(root, sizeof(root))) {
		printf("SKIP: fwd_sock: no cgroup v2 mounted\n");
		return 0;
	}
	if (new_netns()) {
		printf("FAIL: fwd_sock: setup: %s\n", strerror(errno));
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/fwd-test-%d", root, getpid());
	if (mkdir(dir, 0755) || (cg_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		printf("FAIL: fwd_sock: %s: %s\n", dir, strerror(errno));
		rmdir(dir);
		return 1;
	}

	skel = fwd_sock__open();
	if (!skel)
		goto end;
	cfg = (struct fwd_settings *)&skel->rodata->fwd_cfg;
	cfg->flags = FWD_SET_DNAT;
	cfg->netns_cookie = netns_cookie();
	if (fwd_sock__load(skel) || fill_forwards(bpf_map__fd(skel->maps.fwd_forwards)) ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.fwd_uplink), &(__u32){ 0 },
				&(struct fwd_uplink){ .addr = UPLINK }, BPF_ANY)) {
		printf("FAIL: fwd_sock: load: %s\n", strerror(errno));
		goto end;
	}
	counters_fd = bpf_map__fd(skel->maps.fwd_counters);
	for (int i = 0; i < 4; i++) {
		links[i] = bpf_program__attach_cgroup(
		    bpf_object__find_program_by_name(skel->obj, progs[i]), cg_fd);
		if (!links[i]) {
			printf("FAIL: fwd_sock: attach %s: %s\n", progs[i], strerror(errno));
			goto end;
		}
	}

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(cgroup_join(dir) ? (printf("FAIL: fwd_sock: join %s\n", dir), 1) : child());
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		printf("FAIL: fwd_sock: fork: %s\n", strerror(errno));
		goto end;
	}
	ret = WIFEXITED(status) ? WEXITSTATUS(status) : 1;

end:
	for (int i = 0; i < 4; i++)
		bpf_link__destroy(links[i]);
	fwd_sock__destroy(skel);
	if (cg_fd >= 0)
		close(cg_fd);
	/* The child has been reaped, but the cgroup may stay populated a moment longer. */
	for (int i = 0; i < 100 && rmdir(dir) && errno == EBUSY; i++)
		usleep(10000);
	return ret;
}

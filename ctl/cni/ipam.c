// SPDX-License-Identifier: GPL-2.0
/*
 * An IPAM plugin instead of fwd-cni's own allocation: when the network config names one
 * ("ipam": {"type": "host-local", ...}), ADD and DEL run it as the spec says a plugin
 * delegates: found in CNI_PATH, with this call's CNI_* variables and the same network config
 * on stdin; its result's first IPv4 address is the container's. Its error, when it fails,
 * is passed on as the plugin's.
 */
#include "cni.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define IPAM_OUT_MAX (64u << 10) /* a result is a few hundred bytes */

/* The plugin @type in a directory of CNI_PATH, into @path; 0 or -1 with @e set. */
static int ipam_find(const char *type, char *path, size_t len, struct cni_error *e)
{
	const char *dirs = getenv("CNI_PATH");
	char *copy, *dir, *save = NULL;
	bool found = false;

	if (!dirs || !*dirs)
		return cni_fail(e, CNI_ERR_ENV, "CNI_PATH is not set: where is ipam plugin %s?",
				type);
	copy = strdup(dirs);
	if (!copy)
		return cni_fail(e, CNI_ERR_IO, "out of memory");
	for (dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		snprintf(path, len, "%s/%s", dir, type);
		found = !access(path, X_OK);
	}
	free(copy);
	return found ? 0
		     : cni_fail(e, CNI_ERR_CONFIG, "ipam plugin %s is not in CNI_PATH (%s)", type,
				dirs);
}

/* Write @in to @fd (the plugin's stdin) and read its stdout from @out_fd, both at once, so
 * that neither side waits on a full pipe. The output into @out (malloc'ed, NUL-terminated). */
static int ipam_talk(int in_fd, const char *in, size_t in_len, int out_fd, char **out,
		     size_t *out_len)
{
	size_t sent = 0, got = 0;
	char *buf = malloc(IPAM_OUT_MAX + 1);

	if (!buf)
		return -ENOMEM;
	while (out_fd >= 0) {
		struct pollfd p[2] = { { .fd = out_fd, .events = POLLIN },
				       { .fd = in_fd, .events = POLLOUT } };
		ssize_t n;

		if (poll(p, in_fd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
			break;
		if (in_fd >= 0 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			n = write(in_fd, in + sent, in_len - sent);
			sent += n > 0 ? (size_t)n : 0;
			if (n < 0 || sent == in_len) {
				close(in_fd);
				in_fd = -1;
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(out_fd, buf + got, IPAM_OUT_MAX - got);
			if (n <= 0 || (got += (size_t)n) == IPAM_OUT_MAX)
				out_fd = -1; /* the caller closes it */
		}
	}
	if (in_fd >= 0)
		close(in_fd);
	buf[got] = '\0';
	*out = buf;
	*out_len = got;
	return 0;
}

/*
 * Run ipam plugin @nc->ipam_type for @command with the network config @conf on stdin. Its
 * stdout into *@out (malloc'ed); its exit status, or -1 with @e set when it could not run.
 */
static int ipam_run(const struct cni_netconf *nc, const char *command, const char *conf,
		    size_t conf_len, char **out, struct cni_error *e)
{
	char path[PATH_MAX];
	int to[2], from[2], status = 0;
	size_t out_len;
	pid_t pid;

	*out = NULL;
	if (ipam_find(nc->ipam_type, path, sizeof(path), e))
		return -1;
	if (pipe2(to, O_CLOEXEC))
		return cni_fail(e, CNI_ERR_IO, "pipe: %s", strerror(errno));
	if (pipe2(from, O_CLOEXEC)) {
		close(to[0]);
		close(to[1]);
		return cni_fail(e, CNI_ERR_IO, "pipe: %s", strerror(errno));
	}
	pid = fork();
	if (pid == 0) {
		/* The runtime's CNI_* variables, with this call's command (GC has none to pass) */
		dup2(to[0], STDIN_FILENO);
		dup2(from[1], STDOUT_FILENO);
		setenv("CNI_COMMAND", command, 1);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	if (pid < 0) {
		close(to[1]);
		close(from[0]);
		return cni_fail(e, CNI_ERR_IO, "fork: %s", strerror(errno));
	}
	signal(SIGPIPE, SIG_IGN); /* a plugin that exits without reading its stdin */
	if (ipam_talk(to[1], conf, conf_len, from[0], out, &out_len)) {
		close(from[0]);
		waitpid(pid, &status, 0);
		return cni_fail(e, CNI_ERR_IO, "out of memory");
	}
	close(from[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* The plugin failed: its error object's code and message, passed on. */
static int ipam_error(const struct cni_netconf *nc, const char *out, int status,
		      struct cni_error *e)
{
	json_t *doc = json_loads(out, 0, NULL);
	json_t *code = json_object_get(doc, "code"), *msg = json_object_get(doc, "msg");

	cni_fail(e, json_is_integer(code) ? (int)json_integer_value(code) : CNI_ERR_IO,
		 "ipam plugin %s: %s", nc->ipam_type,
		 json_is_string(msg) ? json_string_value(msg) : "failed without an error object");
	if (!json_is_string(msg))
		snprintf(e->details, sizeof(e->details), "exit status %d", status);
	json_decref(doc);
	return -1;
}

int cni_ipam_add(const struct cni_netconf *nc, const char *conf, size_t conf_len, in_addr_t *addr,
		 struct cni_error *e)
{
	in_addr_t mask = fwd_prefix_netmask(nc->subnet.prefix);
	char *out, ip[INET_ADDRSTRLEN + 4], *slash;
	int status = ipam_run(nc, "ADD", conf, conf_len, &out, e);
	json_t *doc, *ips, *a;
	size_t i;
	int ret = -1;

	if (status < 0)
		return -1;
	if (status) {
		ipam_error(nc, out, status, e);
		free(out);
		return -1;
	}
	doc = json_loads(out, 0, NULL);
	free(out);
	ips = json_object_get(doc, "ips");
	/* The first IPv4 address of the result; it must be a host of the network's subnet. */
	json_array_foreach(ips, i, a)
	{
		const char *s = json_string_value(json_object_get(a, "address"));

		if (!s || strlen(s) >= sizeof(ip) || strchr(s, ':'))
			continue;
		strcpy(ip, s);
		if ((slash = strchr(ip, '/')))
			*slash = '\0';
		if (inet_pton(AF_INET, ip, addr) == 1 && (*addr & mask) == nc->subnet.addr &&
		    *addr != nc->gateway && (*addr & ~mask) && (*addr & ~mask) != ~mask) {
			ret = 0;
			break;
		}
		cni_fail(
		    e, CNI_ERR_CONFIG,
		    "ipam plugin %s gave %s, not a host of subnet %s/%u other than the gateway",
		    nc->ipam_type, s, inet_ntoa((struct in_addr){ nc->subnet.addr }),
		    nc->subnet.prefix);
		break;
	}
	if (ret && !e->code)
		cni_fail(e, CNI_ERR_CONFIG, "ipam plugin %s gave no IPv4 address", nc->ipam_type);
	json_decref(doc);
	if (ret) { /* what it allocated goes back */
		struct cni_error ignored;

		cni_ipam_del(nc, conf, conf_len, &ignored);
	}
	return ret;
}

int cni_ipam_del(const struct cni_netconf *nc, const char *conf, size_t conf_len,
		 struct cni_error *e)
{
	char *out;
	int status = ipam_run(nc, "DEL", conf, conf_len, &out, e);

	if (status > 0)
		ipam_error(nc, out, status, e);
	free(out);
	return status ? -1 : 0;
}

// SPDX-License-Identifier: GPL-2.0
/* fork/exec with pipes; see exec.h. Used for iptables only: links are netlink's job. */
#include "exec.h"
#include "fwd_buf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the child wrote on stderr: the first @cap - 1 bytes are enough for a message. */
struct err_sink {
	char *buf;
	size_t len, cap;
};

static void err_sink_add(struct err_sink *s, const char *data, size_t n)
{
	if (!s->buf || s->len + 1 >= s->cap)
		return;
	if (n > s->cap - s->len - 1)
		n = s->cap - s->len - 1;
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
}

int fwd_run(char *const argv[], const char *input, char **output, char *errbuf, size_t errlen)
{
	int in[2], out[2], err[2], status, ret;
	struct fwd_buf so = { 0 };
	struct err_sink se = { .buf = errbuf, .cap = errlen };
	size_t in_left = input ? strlen(input) : 0;
	pid_t pid;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		execvp(argv[0], argv);
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (!in_left) {
		close(in[1]);
		in[1] = -1;
	}
	/* Feed and drain at once: a large output must not block a child still reading input. */
	signal(SIGPIPE, SIG_IGN);
	struct pollfd pfd[3] = { { in[1], POLLOUT, 0 },
				 { out[0], POLLIN, 0 },
				 { err[0], POLLIN, 0 } };
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0 || pfd[2].fd >= 0) {
		char buf[4096];

		if (poll(pfd, 3, -1) < 0 && errno != EINTR)
			break;
		if (pfd[0].fd >= 0 && pfd[0].revents) {
			ssize_t n = write(pfd[0].fd, input, in_left);
			if (n > 0) {
				input += n;
				in_left -= (size_t)n;
			}
			if (n <= 0 || !in_left) {
				close(pfd[0].fd);
				pfd[0].fd = -1;
			}
		}
		for (int i = 1; i < 3; i++) {
			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			ssize_t n = read(pfd[i].fd, buf, sizeof(buf));
			if (n <= 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
			} else if (i == 1) {
				fwd_buf_append(&so, buf, (size_t)n); /* a failure stays in so.err */
			} else {
				err_sink_add(&se, buf, (size_t)n);
			}
		}
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (ret == 127 || so.err) {
		fwd_buf_free(&so);
		return ret == 127 ? -ENOENT : so.err;
	}
	if (output) {
		*output = so.data ? fwd_buf_take(&so) : strdup("");
		if (!*output)
			return -ENOMEM;
	}
	fwd_buf_free(&so);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs of the current network namespace. A sysfs mount shows the links of the network
 * namespace that mounted it: the machine's /sys shows the root namespace's, not the host
 * namespace `fwdctl -n` works in, and no netlink message carries a queue's RPS settings. So the
 * ops run in a child process that takes a mount namespace of its own and mounts a fresh sysfs
 * over /sys there (what `ip netns exec` does); fwdctl's own mounts are never touched, and the
 * child inherits the calling thread's network namespace. The ops travel in a shared mapping.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netsysfs.h"

/* Read @path into @buf, the trailing newline cut. 0 or -errno. */
static int read_value(int dir, const char *path, char *buf, size_t len)
{
	int fd = openat(dir, path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int write_value(int dir, const char *path, const char *value)
{
	int fd = openat(dir, path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* The child: a sysfs of its network namespace on its own /sys, then every op. */
static int child(struct netsysfs_op *ops, size_t n)
{
	int dir;

	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL))
		return errno;
	umount2("/sys", MNT_DETACH); /* may not be a mount point at all */
	if (mount("sysfs", "/sys", "sysfs", 0, NULL))
		return errno;
	dir = open("/sys/class/net", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return errno;
	for (size_t i = 0; i < n; i++) {
		struct netsysfs_op *op = &ops[i];
		char now[sizeof(op->value)];
		unsigned long long have, want;

		op->old[0] = '\0';
		if (op->mode == NETSYSFS_READ) {
			op->err = read_value(dir, op->path, op->value, sizeof(op->value));
			continue;
		}
		op->err = read_value(dir, op->path, now, sizeof(now));
		if (op->err)
			continue;
		have = strtoull(now, NULL, 10);
		want = strtoull(op->value, NULL, 10);
		if (have == want || (op->mode == NETSYSFS_RAISE && have > want))
			continue;
		op->err = write_value(dir, op->path, op->value);
		if (!op->err)
			memcpy(op->old, now, sizeof(op->old));
	}
	return 0;
}

int netsysfs_run(struct netsysfs_op *ops, size_t n)
{
	size_t size = n * sizeof(*ops);
	struct netsysfs_op *shared;
	int status, ret = 0;
	pid_t pid;

	if (!n)
		return 0;
	shared = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return -errno;
	memcpy(shared, ops, size);
	for (size_t i = 0; i < n; i++)
		shared[i].err = -ECANCELED; /* until the child says otherwise */
	pid = fork();
	if (pid < 0) {
		ret = -errno;
	} else if (pid == 0) {
		/* no allocation or locks here: the parent may have had other threads */
		_exit(child(shared, n));
	} else {
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR) {
				ret = -errno;
				break;
			}
		if (!ret && !WIFEXITED(status))
			ret = -ECHILD;
		else if (!ret && WEXITSTATUS(status))
			ret = -WEXITSTATUS(status);
	}
	if (!ret)
		memcpy(ops, shared, size);
	munmap(shared, size);
	return ret;
}

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

/*
 * rps_cpus reads back as a full-width bitmap ("00000003" on two CPUs, comma-separated groups
 * of 32): two masks are the same when they are equal as numbers, leading zeros and commas
 * aside. Longer masks than 64 CPUs compare as text.
 */
static int same_value(const char *a, const char *b)
{
	char x[sizeof(((struct netsysfs_op *)0)->value)], y[sizeof(x)];
	size_t i = 0, j = 0;

	for (const char *p = a; *p && i < sizeof(x) - 1; p++)
		if (*p != ',')
			x[i++] = *p;
	for (const char *p = b; *p && j < sizeof(y) - 1; p++)
		if (*p != ',')
			y[j++] = *p;
	x[i] = y[j] = '\0';
	for (i = 0; x[i] == '0' && x[i + 1]; i++)
		;
	for (j = 0; y[j] == '0' && y[j + 1]; j++)
		;
	return !strcmp(x + i, y + j);
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

		op->old[0] = '\0';
		if (op->mode == NETSYSFS_READ) {
			op->err = read_value(dir, op->path, op->value, sizeof(op->value));
			continue;
		}
		op->err = read_value(dir, op->path, now, sizeof(now));
		if (op->err || same_value(now, op->value))
			continue;
		if (op->mode == NETSYSFS_RAISE &&
		    strtoull(now, NULL, 10) >= strtoull(op->value, NULL, 10))
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
		/* only system calls here: the parent may have had other threads */
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

// SPDX-License-Identifier: GPL-2.0
/*
 * Named network namespaces, created and removed exactly as `ip netns add/delete` does: the
 * namespace lives as long as its bind mount on /run/netns/NAME, whichever process made it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "netns.h"

/* The calling thread's own namespace: /proc/self would name the thread-group leader's. */
#define NETNS_SELF "/proc/thread-self/ns/net"

/* The same rule as iproute2: a single path component, so NAME cannot escape /run/netns. */
static int netns_path(const char *name, char *path, size_t len)
{
	if (!name || !*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	if ((size_t)snprintf(path, len, "%s/%s", FWD_NETNS_RUN_DIR, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * Make /run/netns a shared mount point, so that a namespace mounted there later is also seen
 * by mount namespaces that were cloned from this one (`ip netns exec` makes a private copy).
 * MS_SHARED fails with EINVAL while /run/netns is not a mount point of its own: bind-mount the
 * directory on itself once to make it one, then try again.
 */
static int run_dir_make_shared(void)
{
	static bool shared; /* once per process: MS_REC walks every namespace mounted there */
	bool bound = false;

	if (shared)
		return 0;
	for (;;) {
		if (!mount("", FWD_NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL)) {
			shared = true;
			return 0;
		}
		if (errno != EINVAL || bound)
			return -errno;
		if (mount(FWD_NETNS_RUN_DIR, FWD_NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL))
			return -errno;
		bound = true;
	}
}

/* Is @path a network namespace's bind mount (nsfs), not a plain file? */
static bool netns_mounted(const char *path)
{
	struct statfs fs;

	return !statfs(path, &fs) && fs.f_type == NSFS_MAGIC;
}

int netns_add(const char *name)
{
	char path[PATH_MAX];
	int fd, origin, ret;

	ret = netns_path(name, path, sizeof(path));
	if (ret)
		return ret;
	if (mkdir(FWD_NETNS_RUN_DIR, 0755) && errno != EEXIST)
		return -errno;
	ret = run_dir_make_shared();
	if (ret)
		return ret;

	/* O_EXCL: an existing name is reported, never silently replaced. */
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0 && errno == EEXIST && !netns_mounted(path)) {
		/* A name without its namespace: the empty file made above, never bind-mounted
		 * because its maker was killed in between (test_races saw an `up` killed there
		 * fail the next one, which opened the file). Made again; the topology's lock keeps
		 * fwdctl from racing itself here. */
		if (unlink(path) && errno != ENOENT)
			return -errno;
		fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	}
	if (fd < 0)
		return -errno;
	close(fd);

	origin = open(NETNS_SELF, O_RDONLY | O_CLOEXEC);
	if (origin < 0) {
		ret = -errno;
		goto err_unlink;
	}
	if (unshare(CLONE_NEWNET)) {
		ret = -errno;
		goto err_close;
	}
	/* The bind mount is the only reference that outlives this thread's membership. */
	if (mount(NETNS_SELF, path, "none", MS_BIND, NULL)) {
		ret = -errno;
		goto err_restore;
	}
	if (setns(origin, CLONE_NEWNET)) {
		ret = -errno;
		goto err_umount;
	}
	close(origin);
	return 0;

err_umount:
	umount2(path, MNT_DETACH);
err_restore:
	/* Best effort: there is nothing better to do if even this fails. */
	setns(origin, CLONE_NEWNET);
err_close:
	close(origin);
err_unlink:
	unlink(path);
	return ret;
}

int netns_delete(const char *name)
{
	char path[PATH_MAX];
	int ret;

	ret = netns_path(name, path, sizeof(path));
	if (ret)
		return ret;
	/*
	 * MNT_DETACH: processes still inside keep the namespace alive; only the name goes. EINVAL
	 * (not a mount point: a half-made or stale file) and ENOENT are left for unlink to report.
	 */
	if (umount2(path, MNT_DETACH) && errno != EINVAL && errno != ENOENT)
		return -errno;
	if (unlink(path))
		return -errno;
	return 0;
}

int netns_open(const char *name)
{
	char path[PATH_MAX];
	int fd, ret;

	ret = netns_path(name, path, sizeof(path));
	if (ret)
		return ret;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* A name with its namespace: a file left half-made is none, and netns_add() makes it again. */
bool netns_exists(const char *name)
{
	char path[PATH_MAX];

	return !netns_path(name, path, sizeof(path)) && netns_mounted(path);
}

int netns_enter(const char *name)
{
	int fd, ret = 0;

	fd = netns_open(name);
	if (fd < 0)
		return fd;
	/* Only the network namespace: /sys and the mount namespace stay the caller's. */
	if (setns(fd, CLONE_NEWNET))
		ret = -errno;
	close(fd);
	return ret;
}

int netns_open_current(void)
{
	int fd = open(NETNS_SELF, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

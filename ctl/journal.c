// SPDX-License-Identifier: GPL-2.0
/* The journal of created objects; see journal.h. One line per entry: "KIND NAME [VALUE]". */
#include "journal.h"
#include "names.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const kind_names[] = {
	[J_NETNS] = "netns",	   [J_LINK] = "link", [J_BRIDGE] = "bridge",
	[J_IPTABLES] = "iptables", [J_BPF] = "bpf",   [J_SYSCTL] = "sysctl",
	[J_ROUTE] = "route",
};

int journal_netns_id(char *out, size_t len)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st))
		return -errno;
	snprintf(out, len, "%lu:%lu", (unsigned long)st.st_dev, (unsigned long)st.st_ino);
	return 0;
}

static int entry_push(struct journal *j, enum journal_kind kind, const char *name,
		      const char *value)
{
	if (j->n == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 64;
		struct journal_entry *e = realloc(j->entries, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		j->entries = e;
		j->cap = cap;
	}
	struct journal_entry *e = &j->entries[j->n++];
	e->kind = kind;
	snprintf(e->name, sizeof(e->name), "%s", name);
	snprintf(e->value, sizeof(e->value), "%s", value ? value : "");
	return 0;
}

static void entry_format(const struct journal_entry *e, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s%s%s\n", kind_names[e->kind], e->name, e->value[0] ? " " : "",
		 e->value);
}

int journal_parse(struct journal *j, FILE *f)
{
	char line[256], kind[16], name[80], value[16];

	while (fgets(line, sizeof(line), f)) {
		int n = sscanf(line, "%15s %79s %15s", kind, name, value);

		if (n < 2)
			continue;
		if (!strcmp(kind, "hostns")) {
			/* "DEV:INODE" fits; anything longer was not written by fwd. */
			if (strlen(name) < sizeof(j->hostns))
				strcpy(j->hostns, name);
			continue;
		}
		for (size_t k = 0; k < sizeof(kind_names) / sizeof(kind_names[0]); k++) {
			if (strcmp(kind, kind_names[k]))
				continue;
			if (!journal_find(j, (enum journal_kind)k, name) &&
			    entry_push(j, (enum journal_kind)k, name, n == 3 ? value : NULL))
				return -ENOMEM;
			break;
		}
	}
	return 0;
}

int journal_open(struct journal *j, const char *topology, bool create)
{
	char path[128], lock[128];
	FILE *f;
	int ret;

	memset(j, 0, sizeof(*j));
	j->fd = j->lock_fd = -1;
	snprintf(j->topology, sizeof(j->topology), "%s", topology);
	if (mkdir(FWD_RUN_DIR, 0755) && errno != EEXIST)
		return -errno;
	fwd_journal_path(topology, "lock", lock, sizeof(lock));
	fwd_journal_path(topology, "journal", path, sizeof(path));
	/* Serialise commands on one topology: a second `up` waits for the first. The lock file
	 * goes when the topology does (and when there was nothing to lock): a waiter that got
	 * the lock of a file removed meanwhile takes the new one. */
	for (;;) {
		struct stat held, named;

		j->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (j->lock_fd < 0 || flock(j->lock_fd, LOCK_EX)) {
			ret = -errno;
			goto err;
		}
		if (!fstat(j->lock_fd, &held) && !stat(lock, &named) &&
		    held.st_ino == named.st_ino && held.st_dev == named.st_dev)
			break;
		close(j->lock_fd);
	}
	f = fopen(path, "re");
	if (f) {
		ret = journal_parse(j, f);
		fclose(f);
		if (ret)
			goto err;
	} else if (errno != ENOENT || !create) {
		ret = -errno;
		if (ret == -ENOENT)
			unlink(lock); /* no topology, nothing to lock: no file left behind */
		goto err;
	}
	if (!create)
		return 0;
	j->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (j->fd < 0) {
		ret = -errno;
		goto err;
	}
	if (!j->hostns[0]) {
		char line[96];

		ret = journal_netns_id(j->hostns, sizeof(j->hostns));
		if (ret)
			goto err;
		snprintf(line, sizeof(line), "hostns %s\n", j->hostns);
		if (write(j->fd, line, strlen(line)) < 0) {
			ret = -errno;
			goto err;
		}
	}
	return 0;
err:
	journal_close(j);
	return ret;
}

void journal_close(struct journal *j)
{
	if (j->dirty && j->lock_fd >= 0)
		journal_sync(j);
	if (j->fd >= 0)
		close(j->fd);
	if (j->lock_fd >= 0)
		close(j->lock_fd); /* releases the flock */
	free(j->entries);
	j->entries = NULL;
	j->n = j->cap = 0;
	j->fd = j->lock_fd = -1;
}

const struct journal_entry *journal_find(const struct journal *j, enum journal_kind kind,
					 const char *name)
{
	for (size_t i = 0; i < j->n; i++)
		if (j->entries[i].kind == kind && !strcmp(j->entries[i].name, name))
			return &j->entries[i];
	return NULL;
}

int journal_add(struct journal *j, enum journal_kind kind, const char *name, const char *value)
{
	char line[160];
	int ret;

	if (journal_find(j, kind, name))
		return 0;
	ret = entry_push(j, kind, name, value);
	if (ret)
		return ret;
	entry_format(&j->entries[j->n - 1], line, sizeof(line));
	/* One write() per entry: a kill between entries never leaves half a line. */
	if (j->fd >= 0 && write(j->fd, line, strlen(line)) < 0)
		return -errno;
	return 0;
}

void journal_forget(struct journal *j, enum journal_kind kind, const char *name)
{
	for (size_t i = 0; i < j->n; i++) {
		if (j->entries[i].kind == kind && !strcmp(j->entries[i].name, name)) {
			j->entries[i] = j->entries[--j->n];
			j->dirty = true;
			return;
		}
	}
}

int journal_sync(struct journal *j)
{
	char path[128], tmp[136], line[160];
	FILE *f;

	if (!j->dirty)
		return 0;
	fwd_journal_path(j->topology, "journal", path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "hostns %s\n", j->hostns);
	for (size_t i = 0; i < j->n; i++) {
		entry_format(&j->entries[i], line, sizeof(line));
		fputs(line, f);
	}
	if (fclose(f) || rename(tmp, path))
		return -errno;
	j->dirty = false;
	/* Appends must go to the new file, not the unlinked old one. */
	if (j->fd >= 0) {
		close(j->fd);
		j->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (j->fd < 0)
			return -errno;
	}
	return 0;
}

int journal_delete(struct journal *j)
{
	char path[128];

	fwd_journal_path(j->topology, "journal", path, sizeof(path));
	if (unlink(path) && errno != ENOENT)
		return -errno;
	j->dirty = false;
	/* The lock file goes too; a waiter holding its fd just proceeds on a fresh journal. */
	fwd_journal_path(j->topology, "lock", path, sizeof(path));
	unlink(path);
	return 0;
}

/* Is @path a network namespace with identity @id ("DEV:INODE")? */
static bool netns_is(const char *path, const char *id)
{
	char buf[64];
	struct stat st;

	if (stat(path, &st))
		return false;
	snprintf(buf, sizeof(buf), "%lu:%lu", (unsigned long)st.st_dev, (unsigned long)st.st_ino);
	return !strcmp(buf, id);
}

bool journal_netns_alive(const char *id)
{
	static const char *const dirs[] = { "/run/netns", "/proc" };
	bool alive = false;

	/* Named namespaces (ip netns), then every process's (a namespace lives while one of
	 * its processes, or a bind mount, holds it). */
	for (size_t d = 0; d < 2 && !alive; d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *de;

		while (dir && !alive && (de = readdir(dir))) {
			char path[300];

			if (de->d_name[0] == '.')
				continue;
			if (d == 0)
				snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
			else if (de->d_name[0] >= '0' && de->d_name[0] <= '9')
				snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
			else
				continue;
			alive = netns_is(path, id);
		}
		if (dir)
			closedir(dir);
	}
	return alive;
}

int journal_lock_all(void)
{
	int fd;

	if (mkdir(FWD_RUN_DIR, 0755) && errno != EEXIST)
		return -errno;
	/* The directory itself: a lock file would outlive every topology. */
	fd = open(FWD_RUN_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		int ret = -errno;

		if (fd >= 0)
			close(fd);
		return ret;
	}
	return fd;
}

int journal_hostns_topologies(const char *hostns, const char *except,
			      char names[][FWD_TOPO_NAME_SIZE], int max)
{
	DIR *d = opendir(FWD_RUN_DIR);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while (n < max && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char path[sizeof(FWD_RUN_DIR) + sizeof(de->d_name)], line[128];
		FILE *f;

		if (len < 9 || len - 8 >= FWD_TOPO_NAME_SIZE ||
		    strcmp(de->d_name + len - 8, ".journal"))
			continue;
		if (except && len - 8 == strlen(except) && !strncmp(de->d_name, except, len - 8))
			continue;
		snprintf(path, sizeof(path), FWD_RUN_DIR "/%s", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		/* The first line names the host namespace: "hostns DEV:INODE". */
		if (fgets(line, sizeof(line), f) && !strncmp(line, "hostns ", 7)) {
			line[strcspn(line, "\n")] = '\0';
			if (!strcmp(line + 7, hostns)) {
				memcpy(names[n], de->d_name, len - 8);
				names[n++][len - 8] = '\0';
			}
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

bool journal_hostns_sysctl(const struct journal *j, const char *name, char *old, size_t len)
{
	char names[64][FWD_TOPO_NAME_SIZE];
	int n = journal_hostns_topologies(j->hostns, j->topology, names, 64);
	bool found = false;

	for (int i = 0; i < n && !found; i++) {
		char path[128];
		struct journal o = { .fd = -1, .lock_fd = -1 };
		const struct journal_entry *e;
		FILE *f;

		snprintf(path, sizeof(path), FWD_RUN_DIR "/%.*s.journal", FWD_TOPO_NAME_MAX,
			 names[i]);
		if (!(f = fopen(path, "re")))
			continue;
		if (!journal_parse(&o, f) && (e = journal_find(&o, J_SYSCTL, name))) {
			snprintf(old, len, "%s", e->value);
			found = true;
		}
		fclose(f);
		journal_close(&o);
	}
	return found;
}

void journal_sysctl_path(const char *name, char *path, size_t len)
{
	size_t skip = strlen("/proc/sys/");

	snprintf(path, len, "/proc/sys/%s", name);
	if (strchr(name, '/') || strlen(path) < skip)
		return;
	for (char *p = path + skip; *p; p++)
		if (*p == '.')
			*p = '/';
}

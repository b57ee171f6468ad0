// SPDX-License-Identifier: GPL-2.0
/* bpffs: mounting it, the topology's pin directory, reusing map pins, replacing program pins. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

int loader_ensure_bpffs(void)
{
	struct statfs st;
	int err;

	if (statfs(FWD_BPFFS, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mkdir(FWD_BPFFS, 0700) && errno != EEXIST) {
		err = -errno;
		fwd_err("%s: cannot create mount point: %s\n", FWD_BPFFS, strerror(-err));
		return err;
	}
	if (mount("bpf", FWD_BPFFS, "bpf", 0, "mode=0700")) {
		err = -errno;
		fwd_err("%s: cannot mount bpffs: %s\n", FWD_BPFFS, strerror(-err));
		return err;
	}
	fwd_info("%s: mounted bpffs\n", FWD_BPFFS);
	return 0;
}

/* Topology names are checked by the parser; this guards the path against anything else. */
static bool pins_name_ok(const char *name, size_t max)
{
	size_t len = strlen(name);

	return len > 0 && len <= max && !strchr(name, '/') && strcmp(name, ".") &&
	       strcmp(name, "..");
}

int pins_path(char *buf, const char *topology, const char *name)
{
	int n;

	if (!pins_name_ok(topology, FWD_TOPO_NAME_MAX) || (name && !pins_name_ok(name, NAME_MAX)))
		return -EINVAL;
	if (name)
		n = snprintf(buf, PATH_MAX, "%s/%s/%s", FWD_PIN_ROOT, topology, name);
	else
		n = snprintf(buf, PATH_MAX, "%s/%s", FWD_PIN_ROOT, topology);
	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int pins_mkdir(const char *path)
{
	if (mkdir(path, 0700) && errno != EEXIST) {
		int err = -errno;

		fwd_err("%s: cannot create pin directory: %s\n", path, strerror(-err));
		return err;
	}
	return 0;
}

int pins_dir_create(const char *topology)
{
	char path[PATH_MAX];
	int err;

	err = pins_path(path, topology, NULL);
	if (err) {
		fwd_err("topology \"%s\": no pin path for it: %s\n", topology, strerror(-err));
		return err;
	}
	err = pins_mkdir(FWD_PIN_ROOT);
	if (!err)
		err = pins_mkdir(path);
	return err;
}

/* bpffs holds only files and directories: unlink depth first. */
static int pins_remove_tree(int parent_fd, const char *name)
{
	struct dirent *de;
	int fd, err = 0;
	DIR *dir;

	fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOTDIR || errno == ELOOP)
			return unlinkat(parent_fd, name, 0) ? -errno : 0;
		return -errno;
	}
	dir = fdopendir(fd);
	if (!dir) {
		err = -errno;
		close(fd);
		return err;
	}
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_type == DT_DIR)
			err = pins_remove_tree(dirfd(dir), de->d_name);
		else if (unlinkat(dirfd(dir), de->d_name, 0))
			err = -errno;
		if (err)
			break;
	}
	closedir(dir);
	if (!err && unlinkat(parent_fd, name, AT_REMOVEDIR))
		err = -errno;
	return err;
}

int pins_dir_remove(const char *topology)
{
	char path[PATH_MAX];
	int err;

	err = pins_path(path, topology, NULL);
	if (err) {
		fwd_err("topology \"%s\": no pin path for it: %s\n", topology, strerror(-err));
		return err;
	}
	err = pins_remove_tree(AT_FDCWD, path);
	if (err == -ENOENT)
		err = 0;
	if (err) {
		fwd_err("%s: cannot remove pins: %s\n", path, strerror(-err));
		return err;
	}
	rmdir(FWD_PIN_ROOT); /* only when no other topology is pinned: ENOTEMPTY is fine */
	return 0;
}

/* Is @fd a map's (not a program's or a link's, pinned beside them)? Its fdinfo says. */
static bool pins_fd_is_map(int fd)
{
	char path[64], line[128];
	bool map = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	while (f && !map && fgets(line, sizeof(line), f))
		map = !strncmp(line, "map_type:", 9);
	if (f)
		fclose(f);
	return map;
}

void pins_owner(const char *topology, struct attach_owner *owner)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	owner->n = 0;
	if (pins_path(path, topology, NULL) || !(d = opendir(path)))
		return;
	while ((de = readdir(d)) && owner->n < sizeof(owner->map_ids) / sizeof(owner->map_ids[0])) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		char pin[PATH_MAX];
		int fd;

		if (de->d_name[0] == '.' ||
		    snprintf(pin, sizeof(pin), "%s/%s", path, de->d_name) >= (int)sizeof(pin))
			continue;
		loader_log_probe(true); /* programs and links are pinned here too */
		fd = bpf_obj_get(pin);
		loader_log_probe(false);
		if (fd < 0)
			continue;
		if (pins_fd_is_map(fd) && !bpf_obj_get_info_by_fd(fd, &info, &len))
			owner->map_ids[owner->n++] = info.id;
		close(fd);
	}
	closedir(d);
}

int pins_map_open(const char *topology, const char *name, const char *what, char *path)
{
	int fd, err;

	err = pins_path(path, topology, name);
	if (err) {
		fwd_err("topology \"%s\": no pin path for it: %s\n", topology, strerror(-err));
		return err;
	}
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		fwd_err("%s: cannot open %s: %s\n", path, what, strerror(-err));
		return err;
	}
	return fd;
}

int pins_map_info(int fd, const char *path, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);
	int err;

	memset(info, 0, sizeof(*info));
	if (!bpf_obj_get_info_by_fd(fd, info, &len))
		return 0;
	err = -errno;
	fwd_err("%s: cannot read pinned map: %s\n", path, strerror(-err));
	return err;
}

int pins_map_prepare(struct bpf_map *map, const char *path)
{
	struct bpf_map_info info;
	int fd, err;

	fd = bpf_obj_get(path);
	if (fd < 0 && errno != ENOENT) {
		err = -errno;
		fwd_err("%s: cannot open pinned map: %s\n", path, strerror(-err));
		return err;
	}
	if (fd >= 0) {
		err = pins_map_info(fd, path, &info);
		close(fd);
		if (err)
			return err;
		if (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
		    info.value_size != bpf_map__value_size(map) ||
		    info.max_entries != bpf_map__max_entries(map) ||
		    info.map_flags != bpf_map__map_flags(map)) {
			fwd_warn("%s: pinned map has another shape (older fwd?), recreating it\n",
				 path);
			if (unlink(path) && errno != ENOENT) {
				err = -errno;
				fwd_err("%s: cannot remove pinned map: %s\n", path, strerror(-err));
				return err;
			}
		}
	}
	err = bpf_map__set_pin_path(map, path);
	if (err)
		fwd_err("%s: cannot set pin path: %s\n", path, strerror(-err));
	return err;
}

int pins_map_reshape(struct bpf_map *map, const char *path, int *old_fd)
{
	struct bpf_map_info info;
	int fd, err;

	*old_fd = -1;
	fd = bpf_obj_get(path);
	if (fd < 0 && errno == ENOENT)
		return pins_map_prepare(map, path);
	if (fd < 0) {
		err = -errno;
		fwd_err("%s: cannot open pinned map: %s\n", path, strerror(-err));
		return err;
	}
	err = pins_map_info(fd, path, &info);
	if (err) {
		close(fd);
		return err;
	}
	if (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
	    info.value_size != bpf_map__value_size(map) ||
	    info.map_flags != bpf_map__map_flags(map)) {
		close(fd);
		return -ESTALE; /* the caller says what that means for this map */
	}
	if (info.max_entries == bpf_map__max_entries(map)) {
		close(fd);
		return pins_map_prepare(map, path);
	}
	fwd_info("%s: %u entries, resizing to %u\n", path, info.max_entries,
		 bpf_map__max_entries(map));
	*old_fd = fd; /* no pin path: libbpf creates the map anew */
	return 0;
}

/* Pin @fd at @path, replacing an older pin atomically (pin aside, then rename over it). */
static int pins_fd_replace(int fd, const char *path, const char *what)
{
	char tmp[PATH_MAX];
	int err;

	/* bpffs refuses names with a dot in them. */
	if (snprintf(tmp, sizeof(tmp), "%s_new", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp); /* left over by a killed run */
	err = bpf_obj_pin(fd, tmp);
	if (err) {
		err = -errno;
		fwd_err("%s: cannot pin %s: %s\n", tmp, what, strerror(-err));
		return err;
	}
	if (rename(tmp, path)) {
		err = -errno;
		fwd_err("%s: cannot replace pinned %s: %s\n", path, what, strerror(-err));
		unlink(tmp);
		return err;
	}
	return 0;
}

int pins_prog_replace(struct bpf_program *prog, const char *path)
{
	return pins_fd_replace(bpf_program__fd(prog), path, "program");
}

int pins_map_replace(struct bpf_map *map, const char *path)
{
	return pins_fd_replace(bpf_map__fd(map), path, "map");
}

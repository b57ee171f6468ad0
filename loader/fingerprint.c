// SPDX-License-Identifier: GPL-2.0
/*
 * What a topology's datapath was last made from, so that a re-`up` with nothing changed leaves
 * it as it is instead of loading the same programs again and swapping them into every veth's
 * filter (with a thousand namespaces, most of the re-up's time). Three hashes: of everything
 * the programs are loaded from (this very executable, BPF objects and loader included; the
 * topology's text; the settings derived from its links), known before the namespaces are
 * built; of the namespaces' links, known after; and of what is pinned, so that a pin removed or
 * replaced by hand is seen. Kept in a one-entry map pinned beside the topology's other pins (so
 * `down` removes it with them); removed before anything is changed and written after all of it
 * succeeded, so that a failed or killed up is never taken for a finished one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <bpf/bpf.h>

#include "internal.h"

#define FP_PIN "fwd_fingerprint"

uint64_t fingerprint_add(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	/* FNV-1a: not against an adversary (only root writes the pins), against a stale match. */
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

uint64_t fingerprint_self(uint64_t h)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	struct stat st;
	void *p;

	/* Without it, never a match: the programs are loaded as always. */
	if (fd < 0 || fstat(fd, &st) || !st.st_size) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return 0;
	h = fingerprint_add(h, p, st.st_size);
	munmap(p, st.st_size);
	return h;
}

uint64_t fingerprint_pins(const char *topology)
{
	char dir_path[PATH_MAX];
	struct dirent *de;
	uint64_t sum = 0;
	DIR *dir;

	if (pins_path(dir_path, topology, NULL) || !(dir = opendir(dir_path)))
		return 0;
	/* A sum of one hash per pin: the same whatever order the directory lists them in. */
	while ((de = readdir(dir))) {
		struct bpf_map_info info = {}; /* a map's, program's or link's: type, then id */
		__u32 len = sizeof(info.type) + sizeof(info.id);
		char path[PATH_MAX];
		int fd;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, FP_PIN))
			continue;
		if (pins_path(path, topology, de->d_name) || (fd = bpf_obj_get(path)) < 0) {
			sum = 0;
			break;
		}
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			info.id = 0;
		close(fd);
		if (!info.id) {
			sum = 0;
			break;
		}
		sum += fingerprint_add(
		    fingerprint_add(FINGERPRINT_SEED, de->d_name, strlen(de->d_name)), &info.id,
		    sizeof(info.id));
	}
	closedir(dir);
	return sum;
}

bool fingerprint_read(const char *topology, struct fingerprint *out)
{
	char path[PATH_MAX];
	__u32 zero = 0;
	int fd;
	bool ok;

	if (pins_path(path, topology, FP_PIN))
		return false;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	ok = !bpf_map_lookup_elem(fd, &zero, out);
	close(fd);
	return ok;
}

void fingerprint_forget(const char *topology)
{
	char path[PATH_MAX];

	if (!pins_path(path, topology, FP_PIN))
		unlink(path);
}

int fingerprint_write(const char *topology, const struct fingerprint *fp)
{
	char path[PATH_MAX];
	__u32 zero = 0;
	int fd, err;

	err = pins_path(path, topology, FP_PIN);
	if (err)
		return err;
	unlink(path);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, FP_PIN, sizeof(zero), sizeof(*fp), 1, NULL);
	if (fd < 0)
		return fwd_fail(-errno, FP_PIN, "cannot create");
	err = bpf_map_update_elem(fd, &zero, fp, BPF_ANY) ? -errno : 0;
	if (!err && bpf_obj_pin(fd, path))
		err = -errno;
	close(fd);
	return err ? fwd_fail(err, path, "cannot write") : 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup attachments: where the root of the cgroup v2 hierarchy is, and BPF links on it.
 *
 * Links (BPF_LINK_CREATE), never BPF_PROG_ATTACH: a link is always multi-attach, so fwd neither
 * replaces anyone else's program on the root nor can be replaced by one, and its program can be
 * swapped atomically (BPF_LINK_UPDATE), so a re-run of up leaves no instant without fwd's
 * program and never attaches it twice. Each link is pinned next to the topology's maps; the pin
 * is what keeps it attached once fwdctl exits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fwd_kernel_without.h"
#include "internal.h"

/* mountinfo writes space, tab, newline and backslash in paths as \ooo: decode in place. */
static void cgroup_unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

int loader_cgroup_v2_root(char *buf, size_t len)
{
	char *line = NULL, root[PATH_MAX], mnt[PATH_MAX];
	size_t cap = 0;
	int err = -ENOENT;
	FILE *f;

	if (fwd_kernel_without("cgroup_v2"))
		return -ENOENT;
	/* Ours, not the host's: fwdctl -n enters a network namespace, never a mount namespace. */
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (err == -ENOENT && getline(&line, &cap, f) > 0) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER */
		const char *sep = strstr(line, " - ");

		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		if (sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2)
			continue;
		/* A mount of a sub-cgroup (a container's view, a bind mount) is not the root:
		 * the machine's processes outside it would not run fwd's programs. */
		if (strcmp(root, "/"))
			continue;
		cgroup_unescape(mnt);
		err = snprintf(buf, len, "%s", mnt) >= (int)len ? -ENAMETOOLONG : 0;
	}
	free(line);
	fclose(f);
	return err;
}

int cgroup_link_attach(struct bpf_program *prog, int cg_fd, const char *pin)
{
	struct bpf_link *link;
	int err;

	loader_log_probe(true); /* no pin yet (a first up) is an answer, not a failure */
	link = bpf_link__open(pin);
	loader_log_probe(false);
	if (link) {
		err = bpf_link__update_program(link, prog);
		bpf_link__destroy(link); /* closes our fd only: the pin keeps the link */
		if (!err)
			return 0;
		/* A link someone detached (bpftool link detach) cannot take a program any more:
		 * replace it by a new one. */
		fwd_info("%s: cannot update the pinned link (%s): attaching anew\n", pin,
			 strerror(-err));
		cgroup_link_remove(pin);
	} else if (errno != ENOENT) {
		err = -errno;
		fwd_err("%s: cannot open pinned link: %s\n", pin, strerror(-err));
		return err;
	}

	link = bpf_program__attach_cgroup(prog, cg_fd);
	if (!link) {
		err = -errno;
		fwd_err("%s: cannot attach to the cgroup: %s\n", bpf_program__name(prog),
			strerror(-err));
		return err;
	}
	err = bpf_link__pin(link, pin);
	if (err)
		fwd_err("%s: cannot pin link: %s\n", pin, strerror(-err));
	/* Unpinned, closing the only fd detaches it again: nothing is left half-done. */
	bpf_link__destroy(link);
	return err;
}

int cgroup_link_remove(const char *pin)
{
	int fd, err = 0;

	fd = bpf_obj_get(pin);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	/* Detach now: dropping the pin alone releases the link from a kernel work item, a
	 * moment after down has returned. A link detached already answers ENOLINK. */
	if (bpf_link_detach(fd) && errno != ENOLINK && errno != EINVAL) {
		err = -errno;
		fwd_err("%s: cannot detach link: %s\n", pin, strerror(-err));
	}
	close(fd);
	if (unlink(pin) && errno != ENOENT && !err) {
		err = -errno;
		fwd_err("%s: cannot remove pinned link: %s\n", pin, strerror(-err));
	}
	return err;
}

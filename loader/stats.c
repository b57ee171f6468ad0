// SPDX-License-Identifier: GPL-2.0
/* loader_stats: the per-CPU counters of a topology, summed over CPUs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "fwd_json.h"
#include "fwd_kern_user.h"

static const char *const stats_names[FWD_CNT_MAX] = {
#define FWD_X_NAME(id, name) [FWD_CNT_##id] = name,
    FWD_COUNTERS(FWD_X_NAME)
#undef FWD_X_NAME
};

/* Sum of counter @idx over all CPUs. */
static int stats_read(int fd, __u32 idx, struct fwd_counter_val *vals, int ncpus,
		      struct fwd_counter_val *sum)
{
	memset(sum, 0, sizeof(*sum));
	if (bpf_map_lookup_elem(fd, &idx, vals))
		return -errno;
	for (int c = 0; c < ncpus; c++) {
		sum->packets += vals[c].packets;
		sum->bytes += vals[c].bytes;
	}
	return 0;
}

/*
 * The counters of another fwd version (a datapath loaded by an older fwdctl, not yet reloaded
 * by this one's `up`) have other names at the same indices: refuse them rather than print
 * numbers under the wrong names. `up` recreates a map of another shape (pins_map_prepare).
 * The number of counters is what tells the versions apart (see enum fwd_counter).
 */
static int stats_check_layout(int fd, const char *path)
{
	struct bpf_map_info info;
	int err = pins_map_info(fd, path, &info);

	if (err)
		return err;
	if (info.max_entries != FWD_CNT_MAX) {
		pr_warn("%s: %u counters, this fwdctl knows %u: loaded by another fwd version; "
			"`fwdctl up` again reloads the datapath with this one's\n",
			path, info.max_entries, FWD_CNT_MAX);
		return -ESTALE;
	}
	return 0;
}

int loader_stats(const char *topology, struct fwd_json *j)
{
	struct fwd_counter_val sum, total = {}, *vals;
	char path[PATH_MAX];
	int fd, ncpus, err;

	loader_log_init();
	fd = pins_map_open(topology, FWD_MAP_COUNTERS, "counters", path);
	if (fd < 0)
		return fd;
	err = stats_check_layout(fd, path);
	if (err)
		goto end_close;
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) {
		err = ncpus ?: -EINVAL;
		pr_warn("%s: cannot count CPUs: %s\n", path, strerror(-err));
		goto end_close;
	}
	vals = calloc(ncpus, sizeof(*vals)); /* 16 bytes: already the per-CPU stride */
	if (!vals) {
		err = -ENOMEM;
		goto end_close;
	}

	if (j) {
		json_object_begin(j, NULL);
		json_string(j, "topology", topology);
		json_array_begin(j, "counters");
	} else {
		printf("%-20s %-5s %15s %18s\n", "COUNTER", "KIND", "PACKETS", "BYTES");
	}
	for (__u32 i = 0; i < FWD_CNT_MAX; i++) {
		const char *kind = fwd_counter_is_event(i)	? "event"
				   : i >= FWD_CNT_DROP_FIRST ? "drop"
							     : "path";

		err = stats_read(fd, i, vals, ncpus, &sum);
		if (err) {
			pr_warn("%s: cannot read counter %s: %s\n", path, stats_names[i],
				strerror(-err));
			break;
		}
		if (!fwd_counter_is_event(i)) { /* the total is of frames */
			total.packets += sum.packets;
			total.bytes += sum.bytes;
		}
		if (j) {
			json_object_begin(j, NULL);
			json_string(j, "name", stats_names[i]);
			json_string(j, "kind", kind);
			json_uint(j, "packets", sum.packets);
			json_uint(j, "bytes", sum.bytes);
			json_object_end(j);
		} else {
			printf("%-20s %-5s %15llu %18llu\n", stats_names[i], kind,
			       (unsigned long long)sum.packets, (unsigned long long)sum.bytes);
		}
	}
	if (j) {
		json_array_end(j);
		json_uint(j, "packets", total.packets);
		json_uint(j, "bytes", total.bytes);
		json_object_end(j);
	} else if (!err) {
		printf("%-20s %-5s %15llu %18llu\n", "total", "", (unsigned long long)total.packets,
		       (unsigned long long)total.bytes);
	}
	free(vals);
end_close:
	close(fd);
	return err;
}

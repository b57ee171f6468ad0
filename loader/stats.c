// SPDX-License-Identifier: GPL-2.0
/* The per-CPU counters of a topology, summed over CPUs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"

static const char *const stats_names[FWD_CNT_MAX] = {
#define FWD_X_NAME(id, name) [FWD_CNT_##id] = name,
	FWD_COUNTERS(FWD_X_NAME)
#undef FWD_X_NAME
};

const char *loader_counter_name(unsigned int counter)
{
	return counter < FWD_CNT_MAX ? stats_names[counter] : "?";
}

const char *loader_counter_kind_name(enum fwd_counter_kind kind)
{
	return kind == FWD_COUNTER_EVENT ? "event" : kind == FWD_COUNTER_DROP ? "drop" : "path";
}

int loader_counters_read_fd(int fd, struct fwd_counter_sum out[FWD_CNT_MAX])
{
	int ncpus = libbpf_num_possible_cpus();
	struct fwd_counter_val *vals;
	int err = 0;

	if (ncpus <= 0)
		return fwd_fail(ncpus ?: -EINVAL, "counters", "cannot count CPUs");
	vals = calloc(ncpus, sizeof(*vals)); /* 16 bytes: already the per-CPU stride */
	if (!vals)
		return fwd_fail(-ENOMEM, "counters", "cannot read");
	for (__u32 i = 0; i < FWD_CNT_MAX; i++) {
		struct fwd_counter_sum *c = &out[i];

		c->name = stats_names[i];
		c->kind = fwd_counter_is_event(i)   ? FWD_COUNTER_EVENT
			  : i >= FWD_CNT_DROP_FIRST ? FWD_COUNTER_DROP
						    : FWD_COUNTER_PATH;
		c->packets = c->bytes = 0;
		if (bpf_map_lookup_elem(fd, &i, vals)) {
			err = -errno;
			fwd_err("counters: cannot read %s: %s", stats_names[i], strerror(-err));
			break;
		}
		for (int cpu = 0; cpu < ncpus; cpu++) {
			c->packets += vals[cpu].packets;
			c->bytes += vals[cpu].bytes;
		}
	}
	free(vals);
	return err;
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
		fwd_err("%s: %u counters, this fwdctl knows %u: loaded by another fwd version; "
			"`fwdctl up` again reloads the datapath with this one's",
			path, info.max_entries, FWD_CNT_MAX);
		return -ESTALE;
	}
	return 0;
}

int loader_counters_read(const char *topology, struct fwd_counter_sum out[FWD_CNT_MAX])
{
	char path[PATH_MAX];
	int fd, err;

	fd = pins_map_open(topology, FWD_MAP_COUNTERS, "counters", path);
	if (fd < 0)
		return fd;
	err = stats_check_layout(fd, path);
	if (!err)
		err = loader_counters_read_fd(fd, out);
	close(fd);
	return err;
}

int loader_rule_drops_read(const char *topology, size_t n, struct fwd_counter_val *out)
{
	int ncpus = libbpf_num_possible_cpus();
	struct fwd_counter_val *vals;
	char path[PATH_MAX];
	int fd, err = 0;

	if (ncpus <= 0)
		return fwd_fail(ncpus ?: -EINVAL, "rule drops", "cannot count CPUs");
	fd = pins_map_open(topology, FWD_MAP_RULE_DROPS, "rule drops", path);
	if (fd < 0)
		return fd;
	vals = calloc(ncpus, sizeof(*vals));
	if (!vals) {
		close(fd);
		return fwd_fail(-ENOMEM, "rule drops", "cannot read");
	}
	for (__u32 r = 0; r < n && r < FWD_MAX_RULES; r++) {
		out[r].packets = out[r].bytes = 0;
		if (bpf_map_lookup_elem(fd, &r, vals)) {
			err = fwd_fail(-errno, path, "cannot read");
			break;
		}
		for (int cpu = 0; cpu < ncpus; cpu++) {
			out[r].packets += vals[cpu].packets;
			out[r].bytes += vals[cpu].bytes;
		}
	}
	free(vals);
	close(fd);
	return err;
}

/* Entries @first .. @first + @n - 1 of the pinned PERCPU_ARRAY of struct fwd_traffic @name,
 * summed over CPUs, into @out. */
static int traffic_read(const char *topology, const char *name, __u32 first, size_t n,
			struct fwd_traffic *out)
{
	int ncpus = libbpf_num_possible_cpus();
	struct fwd_traffic *vals;
	char path[PATH_MAX];
	int fd, err = 0;

	if (ncpus <= 0)
		return fwd_fail(ncpus ?: -EINVAL, name, "cannot count CPUs");
	fd = pins_map_open(topology, name, "traffic counters", path);
	if (fd < 0)
		return fd;
	vals = calloc(ncpus, sizeof(*vals));
	if (!vals) {
		close(fd);
		return fwd_fail(-ENOMEM, name, "cannot read");
	}
	for (size_t i = 0; i < n; i++) {
		__u32 key = first + (__u32)i;

		memset(&out[i], 0, sizeof(out[i]));
		if (bpf_map_lookup_elem(fd, &key, vals)) {
			err = fwd_fail(-errno, path, "cannot read");
			break;
		}
		for (int cpu = 0; cpu < ncpus; cpu++) {
			out[i].in_packets += vals[cpu].in_packets;
			out[i].in_bytes += vals[cpu].in_bytes;
			out[i].out_packets += vals[cpu].out_packets;
			out[i].out_bytes += vals[cpu].out_bytes;
		}
	}
	free(vals);
	close(fd);
	return err;
}

int loader_traffic_read(const char *topology, size_t n_ns, struct fwd_traffic *ns, size_t n_fwd,
			struct fwd_traffic *fwd)
{
	int err = 0;

	if (n_ns)
		err = traffic_read(topology, FWD_MAP_NS_STATS, 1, n_ns, ns);
	if (!err && n_fwd)
		err = traffic_read(topology, FWD_MAP_FWD_STATS, 1, n_fwd, fwd);
	return err;
}

int loader_ns_drops_read(const char *topology, size_t n_ns, struct fwd_counter_val *out)
{
	int ncpus = libbpf_num_possible_cpus();
	struct fwd_ns_drop_key key, *prev = NULL;
	struct fwd_counter_val *vals;
	char path[PATH_MAX];
	int fd, err = 0;

	if (ncpus <= 0)
		return fwd_fail(ncpus ?: -EINVAL, FWD_MAP_NS_DROPS, "cannot count CPUs");
	memset(out, 0, n_ns * FWD_CNT_MAX * sizeof(*out));
	fd = pins_map_open(topology, FWD_MAP_NS_DROPS, "drops per namespace", path);
	if (fd < 0)
		return fd;
	vals = calloc(ncpus, sizeof(*vals));
	if (!vals) {
		close(fd);
		return fwd_fail(-ENOMEM, FWD_MAP_NS_DROPS, "cannot read");
	}
	while (!bpf_map_get_next_key(fd, prev, &key)) {
		prev = &key;
		if (!key.slot || key.slot > n_ns || key.counter >= FWD_CNT_MAX)
			continue; /* a slot this up did not number */
		if (bpf_map_lookup_elem(fd, &key, vals))
			continue; /* gone meanwhile */
		for (int cpu = 0; cpu < ncpus; cpu++) {
			struct fwd_counter_val *o =
			    &out[(key.slot - 1) * FWD_CNT_MAX + key.counter];

			o->packets += vals[cpu].packets;
			o->bytes += vals[cpu].bytes;
		}
	}
	free(vals);
	close(fd);
	return err;
}

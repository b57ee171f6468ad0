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

/*
 * Per-CPU values whose fields are all __u64 (struct fwd_counter_val, struct fwd_traffic:
 * sizes multiples of 8, so the kernel's per-CPU stride is the struct's size), summed over CPUs.
 * percpu_open() makes room for one value of @words fields per CPU.
 */
struct percpu {
	int ncpus;
	size_t words;
	__u64 *vals;
};

static int percpu_open(struct percpu *p, size_t words, const char *what)
{
	p->ncpus = libbpf_num_possible_cpus();
	p->words = words;
	p->vals = NULL;
	if (p->ncpus <= 0)
		return fwd_fail(p->ncpus ?: -EINVAL, what, "cannot count CPUs");
	p->vals = calloc((size_t)p->ncpus * words, sizeof(*p->vals));
	return p->vals ? 0 : fwd_fail(-ENOMEM, what, "cannot read");
}

/* The value of @key in per-CPU map @fd, summed over CPUs into @sum (@p->words fields);
 * -errno of the lookup, unsaid. */
static int percpu_sum(struct percpu *p, int fd, const void *key, __u64 *sum)
{
	memset(sum, 0, p->words * sizeof(*sum));
	if (bpf_map_lookup_elem(fd, key, p->vals))
		return -errno;
	for (int cpu = 0; cpu < p->ncpus; cpu++)
		for (size_t w = 0; w < p->words; w++)
			sum[w] += p->vals[(size_t)cpu * p->words + w];
	return 0;
}

#define PERCPU_WORDS(type) (sizeof(type) / sizeof(__u64))

int loader_counters_read_fd(int fd, struct fwd_counter_sum out[FWD_CNT_MAX])
{
	struct percpu p;
	int err = percpu_open(&p, PERCPU_WORDS(struct fwd_counter_val), "counters");

	for (__u32 i = 0; i < FWD_CNT_MAX && !err; i++) {
		struct fwd_counter_sum *c = &out[i];
		struct fwd_counter_val v;

		c->name = stats_names[i];
		c->kind = fwd_counter_is_event(i)   ? FWD_COUNTER_EVENT
			  : i >= FWD_CNT_DROP_FIRST ? FWD_COUNTER_DROP
						    : FWD_COUNTER_PATH;
		err = percpu_sum(&p, fd, &i, (__u64 *)&v);
		if (err)
			fwd_err("counters: cannot read %s: %s", stats_names[i], strerror(-err));
		c->packets = v.packets;
		c->bytes = v.bytes;
	}
	free(p.vals);
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
	char path[PATH_MAX];
	struct percpu p;
	int fd, err;

	fd = pins_map_open(topology, FWD_MAP_RULE_DROPS, "rule drops", path);
	if (fd < 0)
		return fd;
	err = percpu_open(&p, PERCPU_WORDS(struct fwd_counter_val), "rule drops");
	for (__u32 r = 0; r < n && r < FWD_MAX_RULES && !err; r++)
		if ((err = percpu_sum(&p, fd, &r, (__u64 *)&out[r])))
			fwd_fail(err, path, "cannot read");
	free(p.vals);
	close(fd);
	return err;
}

/* Entries @first .. @first + @n - 1 of the pinned PERCPU_ARRAY of struct fwd_traffic @name,
 * summed over CPUs, into @out. */
static int traffic_read(const char *topology, const char *name, __u32 first, size_t n,
			struct fwd_traffic *out)
{
	char path[PATH_MAX];
	struct percpu p;
	int fd, err;

	fd = pins_map_open(topology, name, "traffic counters", path);
	if (fd < 0)
		return fd;
	err = percpu_open(&p, PERCPU_WORDS(struct fwd_traffic), name);
	for (size_t i = 0; i < n && !err; i++) {
		__u32 key = first + (__u32)i;

		if ((err = percpu_sum(&p, fd, &key, (__u64 *)&out[i])))
			fwd_fail(err, path, "cannot read");
	}
	free(p.vals);
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
	struct fwd_ns_drop_key key, *prev = NULL;
	char path[PATH_MAX];
	struct percpu p;
	int fd, err;

	memset(out, 0, n_ns * FWD_CNT_MAX * sizeof(*out));
	fd = pins_map_open(topology, FWD_MAP_NS_DROPS, "drops per namespace", path);
	if (fd < 0)
		return fd;
	err = percpu_open(&p, PERCPU_WORDS(struct fwd_counter_val), FWD_MAP_NS_DROPS);
	while (!err && !bpf_map_get_next_key(fd, prev, &key)) {
		prev = &key;
		if (!key.slot || key.slot > n_ns || key.counter >= FWD_CNT_MAX)
			continue; /* a slot this up did not number */
		/* Gone meanwhile (a reset by up): left at 0. */
		percpu_sum(&p, fd, &key, (__u64 *)&out[(key.slot - 1) * FWD_CNT_MAX + key.counter]);
	}
	free(p.vals);
	close(fd);
	return err;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * ct_design: what a connection costs under each expiry design of bench/ct_design.bpf.c, at a
 * given table size. Runs the variant's programs with BPF_PROG_TEST_RUN (the kernel's own
 * average per run) and reads the machine's interrupt time for what runs outside them (timer
 * callbacks). One variant per process, so memory is measured alone.
 *
 *   insert_ns     a new connection: both entries (and the timer, or the queued key)
 *   lookup_ns     a lookup of a random connection of the full table, expiry refreshed
 *   delete_ns     deleting a connection (early drop, flush): both entries (and the timer)
 *   pass_ns       per connection, what keeps an idle table expiring: a sweep's pass
 *                 (table walk) or a FIFO check (pop, look up, queue again); 0 for timers,
 *                 which cost nothing until they fire
 *   expire_ns     per connection, making an expired connection leave: the timer callbacks
 *                 (interrupt time of the whole machine, /proc/stat), a sweep's pass that
 *                 deletes everything, a FIFO pop and delete
 *   mem_bytes     per connection, the memory of the variant's maps once full, as the kernel
 *                 accounts it (fdinfo memlock); timers come on top: a struct bpf_hrtimer each
 *   misses        lookups that found nothing (an LRU evicts before it is full; a timer that
 *                 could not be armed cost its connection)
 *   insert_fails  connections not inserted: their timer could not be armed
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/btf.h>

#include "util.h"
#include "ct_design.h"
#include "ct_design.skel.h"

static const char *const variants[] = { "timer_np", "timer_pa", "life_np", "life_pa", "fifo_pa",
					"lru",	    "slots_np", "flat",	   "paged",   "paged_km" };

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: ct_design -v VARIANT [-n CONNECTIONS] [-t TIMEOUT_S]\n"
	    "Measure one conntrack expiry design at a table of CONNECTIONS (default\n"
	    "1000000) connections, two entries each; TIMEOUT_S (default 20) is the\n"
	    "connections' timeout, long enough for the lookups to run before they expire.\n"
	    "VARIANT: timer_np timer_pa life_np life_pa fifo_pa lru slots_np flat paged paged_km\n"
	    "Prints one line: variant= conns= insert_ns= lookup_ns= delete_ns= pass_ns=\n"
	    "expire_ns= mem_bytes= misses= insert_fails=\n"
	    "Exit status: 0 ok, 1 runtime failure, 2 usage.\n");
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || level == LIBBPF_INFO)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* A map's memory as the kernel accounts it (fdinfo's memlock: for a table allocated on
 * insert, what its entries take now), in bytes; 0 for a map not given. */
static long long fd_mem(int fd)
{
	char path[64], line[256];
	long long v = 0;
	FILE *f;

	if (fd < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static long long map_mem(const struct bpf_map *map)
{
	return map ? fd_mem(bpf_map__fd(map)) : 0;
}

/* paged_km: the inner arrays' memory, all of them (they are alike). */
static long long inner_mem;

/* Time all CPUs spent in hard and soft interrupts, in nanoseconds (USER_HZ ticks). */
static long long irq_time_ns(void)
{
	unsigned long long v[7] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5], &v[6]);
	fclose(f);
	if (n != 7)
		return -1;
	return (long long)(v[5] + v[6]) * (1000000000LL / sysconf(_SC_CLK_TCK));
}

/* Run @prog @repeat times; the kernel's average per run in ns, or -1. */
static double run(struct bpf_program *prog, __u32 repeat)
{
	unsigned char pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &o)) {
		fprintf(stderr, "ct_design: test run of %s: %s\n", bpf_program__name(prog),
			strerror(errno));
		return -1;
	}
	return o.duration;
}

/* paged_km's groups: an inner ARRAY of PAGES_PER_GROUP pages for every slot of @outer. */
static int paged_km_fill(struct bpf_object *obj, struct bpf_map *outer)
{
	/* With the page's BTF: the inner arrays must hold its spin lock where the program's
	 * template does. */
	struct btf *btf = bpf_object__btf(obj);
	LIBBPF_OPTS(bpf_map_create_opts, opts, .btf_fd = btf__fd(btf),
		    .btf_key_type_id = btf__find_by_name_kind(btf, "__u32", BTF_KIND_TYPEDEF),
		    .btf_value_type_id = btf__find_by_name_kind(btf, "page", BTF_KIND_STRUCT));
	__u32 n = bpf_map__max_entries(outer);

	for (__u32 i = 0; i < n; i++) {
		int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, sizeof(__u32),
					sizeof(struct ct_design_page), PAGES_PER_GROUP, &opts);
		int err;

		if (fd < 0)
			return -errno;
		err = bpf_map_update_elem(bpf_map__fd(outer), &i, &fd, 0);
		inner_mem += fd_mem(fd);
		close(fd);
		if (err)
			return -errno;
	}
	return 0;
}

static struct bpf_program *prog_of(struct ct_design *skel, const char *what, const char *v)
{
	char name[64];

	snprintf(name, sizeof(name), "%s_%s", what, v);
	return bpf_object__find_program_by_name(skel->obj, name);
}

int main(int argc, char **argv)
{
	const char *v = NULL;
	uint64_t n = 1000000, timeout_s = 20;
	struct ct_design *skel;
	struct bpf_map *map;
	struct bpf_program *p, *ins, *look, *del, *sweep;
	long long mem, irq0, irq1;
	double insert_ns, lookup_ns, delete_ns, pass_ns = 0, expire_ns, t0;
	__u64 n_del, n_left, look_misses, insert_fails;
	bool timer, fifo;
	int opt;

	while ((opt = getopt(argc, argv, "v:n:t:h")) != -1) {
		switch (opt) {
		case 'v': v = optarg; break;
		case 'n':
			if (bench_parse_u64(optarg, 1000, 4000000, &n))
				goto bad;
			break;
		case 't':
			if (bench_parse_u64(optarg, 2, 600, &timeout_s))
				goto bad;
			break;
		case 'h': usage(stdout); return 0;
		default: goto bad;
		}
	}
	for (size_t i = 0; v && i < sizeof(variants) / sizeof(variants[0]); i++)
		if (!strcmp(v, variants[i]))
			goto known;
bad:
	usage(stderr);
	return 2;
known:
	timer = !strncmp(v, "timer", 5);
	fifo = !strcmp(v, "fifo_pa");
	libbpf_set_print(libbpf_print);

	skel = ct_design__open();
	if (!skel)
		return 1;
	skel->rodata->n_conns = n;
	map = bpf_object__find_map_by_name(skel->obj, v);
	if (!strncmp(v, "paged", 5)) {
		/* Two keys a connection, pages 40 % full on average: a key that finds its page
		 * full has nowhere else to go, and at 1M connections 200 did not fit at 60 %, 2
		 * at 50 % (39 cells a page). */
		__u32 pages = (2 * n * 10 + PAGE_CELLS * 4 - 1) / (PAGE_CELLS * 4);

		skel->rodata->n_pages = pages;
		if (getrandom((void *)&skel->rodata->page_seed, sizeof(__u64), 0) != sizeof(__u64))
			goto fail;
		if (!strcmp(v, "paged_km")) {
			skel->rodata->page_groups = true;
			pages = (pages + PAGES_PER_GROUP - 1) / PAGES_PER_GROUP; /* groups */
		}
		if (!map || bpf_map__set_max_entries(map, pages))
			goto fail;
	} else if (!map || bpf_map__set_max_entries(map, 2 * n)) {
		goto fail;
	}
	if (fifo && bpf_map__set_max_entries(skel->maps.fifo_q, n))
		goto fail;
	if (!strcmp(v, "slots_np") && (bpf_map__set_max_entries(skel->maps.slot_arr, n) ||
				       bpf_map__set_max_entries(skel->maps.slot_free, n)))
		goto fail;
	/* Only this variant's programs: the others would only cost load time. */
	bpf_object__for_each_program(p, skel->obj)
	{
		const char *name = bpf_program__name(p), *us = strchr(name, '_');

		bpf_program__set_autoload(p, us && !strcmp(us + 1, v));
	}
	if (ct_design__load(skel))
		goto fail;
	if (!strcmp(v, "paged_km") && paged_km_fill(skel->obj, map)) {
		fprintf(stderr, "ct_design: paged_km: inner arrays: %s\n", strerror(errno));
		goto fail;
	}
	ins = prog_of(skel, "insert", v);
	look = prog_of(skel, "lookup", v);
	del = prog_of(skel, "delete", v);
	sweep = prog_of(skel, "sweep", v);

	skel->bss->timeout_ns = timeout_s * 1000000000ull;
	insert_ns = run(ins, n);
	if (insert_ns < 0)
		goto fail;
	/* Timers that could not be armed (bpf_timer_init allocates and fails under bursts) cost
	 * their connections; everything else must fit. */
	insert_fails = skel->bss->fails;
	if (insert_fails && timer)
		fprintf(stderr,
			"ct_design: %s: timer errors: init %lld, set_callback %lld, start %lld\n",
			v, (long long)skel->bss->timer_err[0], (long long)skel->bss->timer_err[1],
			(long long)skel->bss->timer_err[2]);
	if (insert_fails && !timer) {
		fprintf(stderr, "ct_design: %s: %llu of %llu inserts failed\n", v,
			(unsigned long long)insert_fails, (unsigned long long)n);
		goto fail;
	}
	mem = map_mem(map) + inner_mem;
	if (fifo)
		mem += map_mem(skel->maps.fifo_q);
	if (!strcmp(v, "slots_np"))
		mem += map_mem(skel->maps.slot_arr) + map_mem(skel->maps.slot_free);

	/* Lookups: twice the table, a refresh each (the timeout grew by a second meanwhile). */
	t0 = bench_now();
	skel->bss->next_conn = 0;
	skel->bss->timeout_ns += 1000000000ull;
	lookup_ns = run(look, 2 * n);
	look_misses = skel->bss->misses;

	/* Delete a tenth of the connections, as early drops or a flush would. */
	n_del = n / 10;
	skel->bss->next_conn = 0;
	skel->bss->misses = 0;
	delete_ns = run(del, n_del);
	n_left = n - insert_fails - (n_del - skel->bss->misses);

	/* What an idle, full table costs per connection and pass; then expiry. */
	if (sweep && !fifo) {
		pass_ns = run(sweep, 1) / n_left;
		skel->bss->now_shift_ns = (timeout_s + 2) * 1000000000ull;
		expire_ns = run(sweep, 1) / n_left;
	} else if (fifo) {
		pass_ns = run(sweep, n_left);
		skel->bss->now_shift_ns = (timeout_s + 2) * 1000000000ull;
		expire_ns = run(sweep, n_left);
	} else if (timer) {
		/* Wait for the timers, counting the whole machine's interrupt time meanwhile. */
		irq0 = irq_time_ns();
		while (skel->bss->expired < n_left && bench_now() < t0 + timeout_s + 30)
			bench_sleep(0.1);
		bench_sleep(0.5); /* the RCU frees that follow the last deletes */
		irq1 = irq_time_ns();
		if (skel->bss->expired < n_left) {
			fprintf(stderr, "ct_design: %s: %llu of %llu timers fired\n", v,
				(unsigned long long)skel->bss->expired, (unsigned long long)n_left);
			goto fail;
		}
		expire_ns = (double)(irq1 - irq0) / n_left;
	} else {
		expire_ns = 0; /* lru: evicted by later inserts; flat: not a table */
	}
	if ((sweep || timer) && skel->bss->expired < n_left) {
		fprintf(stderr, "ct_design: %s: only %llu of %llu connections expired\n", v,
			(unsigned long long)skel->bss->expired, (unsigned long long)n_left);
		goto fail;
	}
	printf("variant=%s conns=%llu insert_ns=%.0f lookup_ns=%.0f delete_ns=%.0f pass_ns=%.1f "
	       "expire_ns=%.0f mem_bytes=%.0f misses=%llu insert_fails=%llu\n",
	       v, (unsigned long long)n, insert_ns, lookup_ns, delete_ns, pass_ns, expire_ns,
	       (double)mem / n, (unsigned long long)look_misses, (unsigned long long)insert_fails);
	ct_design__destroy(skel);
	return 0;
fail:
	fprintf(stderr, "ct_design: %s failed\n", v);
	ct_design__destroy(skel);
	return 1;
}

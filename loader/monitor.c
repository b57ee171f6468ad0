// SPDX-License-Identifier: GPL-2.0
/*
 * fwdctl monitor: switch the datapath's events on (fwd_monitor), read them from the pinned
 * ring buffer (fwd_events) and hand them over decoded; switch them off again when done. See
 * bpf/monitor.h for the datapath's side and struct fwd_monitor_cfg for the contract.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "fwd_kern_user.h"

static const char *const event_kind_names[FWD_EV_MAX] = {
#define FWD_X_NAME(id, name) [FWD_EV_##id] = name,
	FWD_EVENT_KINDS(FWD_X_NAME)
#undef FWD_X_NAME
};

struct loader_monitor {
	char topology[FWD_TOPO_NAME_SIZE];
	int cfg_fd, events_fd, counters_fd;
	struct ring_buffer *rb;
	uint32_t flags, rate_per_cpu;
	int ncpus;
	uint64_t skipped0, lost0; /* the counters when this monitor started */
	loader_monitor_cb cb;
	void *cb_arg;
	bool off; /* loader_monitor_off() ran */
};

static int monitor_discard(const struct fwd_monitor_event *ev, void *arg)
{
	return 0;
}

static struct fwd_ct_tuple monitor_tuple(const struct fwd_ct_key *k)
{
	return (struct fwd_ct_tuple){
		.src = k->saddr, .dst = k->daddr, .sport = ntohs(k->sport), .dport = ntohs(k->dport)
	};
}

/* An IPv6 connection's tuple from its ORIG key @k, or (@reverse) its REPLY key read
 * backwards, which is the translated tuple. */
static struct fwd_ct_tuple monitor_tuple6(const struct fwd_ct6_key *k, bool reverse)
{
	struct fwd_ct_tuple t = { .v6 = true };

	memcpy(reverse ? &t.dst6 : &t.src6, k->saddr, sizeof(t.src6));
	memcpy(reverse ? &t.src6 : &t.dst6, k->daddr, sizeof(t.dst6));
	t.sport = ntohs(reverse ? k->dport : k->sport);
	t.dport = ntohs(reverse ? k->sport : k->dport);
	return t;
}

static int monitor_ring_cb(void *ctx, void *data, size_t size)
{
	const struct fwd_event *ev = data;
	struct loader_monitor *m = ctx;
	struct fwd_monitor_event out = { 0 };
	uint16_t kind = size < sizeof(*ev) ? FWD_EV_MAX : ev->kind & ~FWD_EV_IPV6;

	if (kind >= FWD_EV_MAX || (kind == FWD_EV_DROP && ev->kind != kind))
		return 0; /* another fwd version's record: not ours to read */
	out.kind = event_kind_names[kind];
	out.ts_ns = ev->ts_ns;
	if (ev->kind & FWD_EV_IPV6) {
		out.proto = ev->ct6.orig.proto;
		out.nat = ev->ct_nat;
		out.state = loader_ct_state_name(ev->ct_state);
		out.original = monitor_tuple6(&ev->ct6.orig, false);
		out.translated = monitor_tuple6(&ev->ct6.reply, true);
	} else if (kind == FWD_EV_DROP) {
		out.reason = ev->counter < FWD_CNT_MAX ? loader_counter_name(ev->counter) : "?";
		out.ifindex = (int)ev->ifindex;
		out.len = ev->len;
		loader_frame_decode(ev->head,
				    ev->head_len < FWD_EVENT_HEAD ? ev->head_len : FWD_EVENT_HEAD,
				    &out.frame);
	} else {
		out.proto = ev->ct.orig.proto;
		out.nat = ev->ct_nat;
		out.state = loader_ct_state_name(ev->ct_state);
		out.original = monitor_tuple(&ev->ct.orig);
		/* The translated tuple is the REPLY key read backwards. */
		out.translated = (struct fwd_ct_tuple){ .src = ev->ct.reply.daddr,
							.dst = ev->ct.reply.saddr,
							.sport = ntohs(ev->ct.reply.dport),
							.dport = ntohs(ev->ct.reply.sport) };
	}
	return m->cb(&out, m->cb_arg);
}

static int monitor_cfg_write(struct loader_monitor *m, const struct fwd_monitor_cfg *cfg)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(m->cfg_fd, &zero, cfg, BPF_ANY))
		return fwd_fail(-errno, FWD_MAP_MONITOR, "cannot write");
	return 0;
}

/* The monitor counters (monitor_skipped, monitor_lost), summed over CPUs. */
static int monitor_counts_now(struct loader_monitor *m, uint64_t *skipped, uint64_t *lost)
{
	struct fwd_counter_sum sums[FWD_CNT_MAX];
	int err = loader_counters_read_fd(m->counters_fd, sums);

	*skipped = err ? 0 : sums[FWD_CNT_MONITOR_SKIPPED].packets;
	*lost = err ? 0 : sums[FWD_CNT_MONITOR_LOST].packets;
	return err;
}

pid_t owner_alive(__u32 pid)
{
	if (!pid || (pid_t)pid == getpid() || (kill((pid_t)pid, 0) && errno == ESRCH))
		return 0; /* none, ours, or left by one that was killed */
	return (pid_t)pid;
}

/* Whether another live process monitors @topology: its pid, 0 when none. */
static pid_t monitor_owner(struct loader_monitor *m)
{
	struct fwd_monitor_cfg cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(m->cfg_fd, &zero, &cfg) || !cfg.flags)
		return 0;
	return owner_alive(cfg.pid);
}

int loader_monitor_start(const char *topology, uint32_t flags, uint32_t rate, loader_monitor_cb cb,
			 void *arg, struct loader_monitor **out)
{
	struct loader_monitor *m = calloc(1, sizeof(*m));
	char path[PATH_MAX];
	pid_t owner;
	int err;

	*out = NULL;
	if (!m)
		return fwd_fail(-ENOMEM, "monitor", "cannot start");
	snprintf(m->topology, sizeof(m->topology), "%s", topology);
	m->cfg_fd = m->events_fd = m->counters_fd = -1;
	m->cb = cb;
	m->cb_arg = arg;
	m->flags = flags;
	m->ncpus = libbpf_num_possible_cpus();
	if (m->ncpus <= 0) {
		err = fwd_fail(m->ncpus ?: -EINVAL, "monitor", "cannot count CPUs");
		goto fail;
	}
	/* Each CPU's share of the cap, rounded up: at least one event a second each. */
	m->rate_per_cpu = (rate + (uint32_t)m->ncpus - 1) / (uint32_t)m->ncpus;
	if ((m->cfg_fd = pins_map_open(topology, FWD_MAP_MONITOR, "the monitor's settings", path)) <
		0 ||
	    (m->events_fd = pins_map_open(topology, FWD_MAP_EVENTS, "the event buffer", path)) <
		0 ||
	    (m->counters_fd = pins_map_open(topology, FWD_MAP_COUNTERS, "the counters", path)) <
		0) {
		err = m->cfg_fd < 0 ? m->cfg_fd : m->events_fd < 0 ? m->events_fd : m->counters_fd;
		if (err == -ENOENT)
			fwd_err("topology %s: its datapath has no event buffer: 'fwdctl up' again "
				"loads one that has\n",
				topology);
		goto fail;
	}
	owner = monitor_owner(m);
	if (owner) {
		fwd_err("topology %s: fwdctl monitor runs already (pid %d); one at a time\n",
			topology, (int)owner);
		err = -EBUSY;
		goto fail;
	}
	m->rb = ring_buffer__new(m->events_fd, monitor_ring_cb, m, NULL);
	if (!m->rb) {
		err = fwd_fail(-errno, FWD_MAP_EVENTS, "cannot read");
		goto fail;
	}
	err = monitor_counts_now(m, &m->skipped0, &m->lost0);
	if (!err)
		err =
		    monitor_cfg_write(m, &(struct fwd_monitor_cfg){ .flags = flags,
								    .rate_per_cpu = m->rate_per_cpu,
								    .pid = (__u32)getpid() });
	if (err)
		goto fail;
	*out = m;
	return 0;
fail:
	loader_monitor_stop(m);
	return err;
}

int loader_monitor_poll(struct loader_monitor *m, int timeout_ms)
{
	int n = ring_buffer__poll(m->rb, timeout_ms);

	if (n == -EINTR)
		return 0;
	return n < 0 ? fwd_fail(n, FWD_MAP_EVENTS, "cannot read") : n;
}

uint32_t loader_monitor_rate_cap(const struct loader_monitor *m)
{
	return m->rate_per_cpu * (uint32_t)m->ncpus;
}

int loader_monitor_counts(struct loader_monitor *m, uint64_t *skipped, uint64_t *lost)
{
	int err = monitor_counts_now(m, skipped, lost);

	if (err)
		return err;
	/* Counters start again at 0 when a reload replaces the map: never below zero. */
	*skipped = *skipped >= m->skipped0 ? *skipped - m->skipped0 : *skipped;
	*lost = *lost >= m->lost0 ? *lost - m->lost0 : *lost;
	return 0;
}

int loader_monitor_off(struct loader_monitor *m)
{
	struct fwd_monitor_cfg cfg;
	__u32 zero = 0;
	int n;

	if (m->off)
		return 0;
	m->off = true;
	/* Off again, unless another monitor took over meanwhile (ours was killed and found
	 * stale): the datapath goes back to reading one flag per drop. */
	if (!bpf_map_lookup_elem(m->cfg_fd, &zero, &cfg) && cfg.pid == (__u32)getpid())
		monitor_cfg_write(m, &(struct fwd_monitor_cfg){ 0 });
	n = ring_buffer__consume(m->rb);
	return n < 0 ? fwd_fail(n, FWD_MAP_EVENTS, "cannot read") : n;
}

void loader_monitor_stop(struct loader_monitor *m)
{
	if (!m)
		return;
	if (m->cfg_fd >= 0 && m->rb && !m->off) {
		m->cb = monitor_discard; /* nobody reads them any more */
		loader_monitor_off(m);
	}
	ring_buffer__free(m->rb);
	if (m->cfg_fd >= 0)
		close(m->cfg_fd);
	if (m->events_fd >= 0)
		close(m->events_fd);
	if (m->counters_fd >= 0)
		close(m->counters_fd);
	free(m);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * fwdctl capture: switch the tc programs' frame copies on (fwd_capture, with a filter), read
 * them from the pinned perf buffer (fwd_capture_buf) and hand them over; switch them off again
 * when done. See bpf/capture.h for the datapath's side.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "fwd_kern_user.h"

#define CAPTURE_PAGES 256 /* per CPU: 1 MiB of perf ring each */

struct loader_capture {
	int cfg_fd, buf_fd;
	struct perf_buffer *pb;
	uint32_t snaplen;
	uint64_t lost;
	bool off;
	loader_capture_cb cb;
	void *cb_arg;
};

static void capture_sample(void *ctx, int cpu, void *data, __u32 size)
{
	struct loader_capture *c = ctx;
	struct fwd_capture_meta m;
	struct fwd_captured f = { 0 };
	size_t room;

	if (size < sizeof(m))
		return;
	memcpy(&m, data, sizeof(m)); /* the sample's data is only 4-byte aligned */
	room = size - sizeof(m);     /* the frame's bytes, then the perf record's padding */
	f.ts_ns = m.ts_ns;
	f.ifindex = (int)m.ifindex;
	f.len = m.len;
	f.caplen = m.len < c->snaplen ? m.len : c->snaplen;
	if (f.caplen > room)
		f.caplen = (uint32_t)room;
	f.out = m.where == FWD_CAP_OUT;
	f.path = f.out && m.counter < FWD_CNT_MAX ? loader_counter_name(m.counter) : NULL;
	f.data = (const uint8_t *)data + sizeof(m);
	c->cb(&f, c->cb_arg);
}

static void capture_lost(void *ctx, int cpu, __u64 n)
{
	((struct loader_capture *)ctx)->lost += n;
}

static int capture_cfg_write(struct loader_capture *c, const struct fwd_capture_cfg *cfg)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(c->cfg_fd, &zero, cfg, BPF_ANY))
		return fwd_fail(-errno, FWD_MAP_CAPTURE, "cannot write");
	return 0;
}

int loader_capture_start(const char *topology, uint32_t where, uint32_t snaplen,
			 const struct fwd_capture_filter *filter, loader_capture_cb cb, void *arg,
			 struct loader_capture **out)
{
	struct loader_capture *c = calloc(1, sizeof(*c));
	struct fwd_capture_cfg cfg = { 0 };
	char path[PATH_MAX];
	__u32 zero = 0;
	int err;

	*out = NULL;
	if (!c)
		return fwd_fail(-ENOMEM, "capture", "cannot start");
	c->cfg_fd = c->buf_fd = -1;
	c->cb = cb;
	c->cb_arg = arg;
	c->snaplen = snaplen;
	c->cfg_fd = pins_map_open(topology, FWD_MAP_CAPTURE, "the capture's settings", path);
	if (c->cfg_fd >= 0)
		c->buf_fd =
		    pins_map_open(topology, FWD_MAP_CAPTURE_BUF, "the capture buffer", path);
	if (c->cfg_fd < 0 || c->buf_fd < 0) {
		err = c->cfg_fd < 0 ? c->cfg_fd : c->buf_fd;
		if (err == -ENOENT)
			fwd_err("topology %s: its datapath cannot capture: 'fwdctl up' again loads "
				"one that can\n",
				topology);
		goto fail;
	}
	/* One at a time: another live capture's settings are not ours to change. */
	if (!bpf_map_lookup_elem(c->cfg_fd, &zero, &cfg) && cfg.flags && owner_alive(cfg.pid)) {
		fwd_err("topology %s: fwdctl capture runs already (pid %u); one at a time\n",
			topology, cfg.pid);
		err = -EBUSY;
		goto fail;
	}
	c->pb = perf_buffer__new(c->buf_fd, CAPTURE_PAGES, capture_sample, capture_lost, c, NULL);
	if (!c->pb) {
		err = fwd_fail(-errno, FWD_MAP_CAPTURE_BUF, "cannot read");
		goto fail;
	}
	cfg = (struct fwd_capture_cfg){ .flags = where,
					.snaplen = snaplen,
					.addr = filter->addr,
					.port = htons(filter->port),
					.proto = filter->proto,
					.ifindex = (__u32)filter->ifindex,
					.ns_addr = filter->ns_addr,
					.fw_proto = filter->fw_proto,
					.fw_target = filter->fw_target,
					.fw_lo = filter->fw_lo,
					.fw_hi = filter->fw_hi,
					.fw_to_lo = filter->fw_to_lo,
					.fw_to_hi = filter->fw_to_hi,
					.pid = (__u32)getpid() };
	err = capture_cfg_write(c, &cfg);
	if (err)
		goto fail;
	*out = c;
	return 0;
fail:
	loader_capture_stop(c);
	return err;
}

int loader_capture_poll(struct loader_capture *c, int timeout_ms)
{
	int n = perf_buffer__poll(c->pb, timeout_ms);

	if (n == -EINTR)
		return 0;
	return n < 0 ? fwd_fail(n, FWD_MAP_CAPTURE_BUF, "cannot read") : n;
}

int loader_capture_off(struct loader_capture *c)
{
	struct fwd_capture_cfg cfg;
	__u32 zero = 0;
	int n;

	if (c->off)
		return 0;
	c->off = true;
	if (!bpf_map_lookup_elem(c->cfg_fd, &zero, &cfg) && cfg.pid == (__u32)getpid())
		capture_cfg_write(c, &(struct fwd_capture_cfg){ 0 });
	n = perf_buffer__consume(c->pb);
	return n < 0 ? fwd_fail(n, FWD_MAP_CAPTURE_BUF, "cannot read") : 0;
}

uint64_t loader_capture_lost(const struct loader_capture *c)
{
	return c->lost;
}

static void capture_discard(const struct fwd_captured *f, void *arg)
{
}

void loader_capture_stop(struct loader_capture *c)
{
	if (!c)
		return;
	if (c->pb && !c->off) {
		c->cb = capture_discard; /* nobody reads them any more */
		loader_capture_off(c);
	}
	perf_buffer__free(c->pb);
	if (c->cfg_fd >= 0)
		close(c->cfg_fd);
	if (c->buf_fd >= 0)
		close(c->buf_fd);
	free(c);
}

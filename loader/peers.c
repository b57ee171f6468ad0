// SPDX-License-Identifier: GPL-2.0
/*
 * What a topology's programs know of the others of its host namespace: of those on the same
 * uplink, fwd_ct_peers and fwd_ct6_peers, their connection tables, so that no two of them hand
 * out the same port
 * on its address, and fwd_fwd_peers, their forwards, which its namespaces reach through the
 * uplink's ingress (bpf/nat.h, bpf/fwd_tc.bpf.c); fwd_foreign, the subnets of all, kept out of
 * its bridge (fwd_tc_bridge_out).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "internal.h"
#include "fwd_kern_user.h"
#include "fwd_inet.h"

/* The pinned map @name of @topology, its path into @path: the fd, or -1 when it is not pinned
 * (datapath kernel, or an fwd before the map). */
static int peers_pin_open(const char *topology, const char *name, char *path)
{
	if (pins_path(path, topology, name))
		return -1;
	return bpf_obj_get(path);
}

/* The id of map @fd, 0 when it cannot be read. */
static uint32_t peers_map_id(int fd)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* Which of @ids[@n] is @id: its index, or -1. */
static int peers_index_of(const uint32_t *ids, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (id && ids[i] == id)
			return (int)i;
	return -1;
}

/* The first of @cur[@len] that may be overwritten (a map not in @want[@n], or one that an
 * earlier slot holds too), or @len when none. */
static uint32_t peers_slot_spare(const uint32_t *cur, uint32_t len, const uint32_t *want, size_t n)
{
	for (uint32_t i = 0; i < len; i++)
		if (peers_index_of(want, n, cur[i]) < 0 || peers_index_of(cur, i, cur[i]) >= 0)
			return i;
	return len;
}

static int peers_slot_set(int outer_fd, uint32_t slot, int map_fd, const char *what)
{
	if (bpf_map_update_elem(outer_fd, &slot, &map_fd, BPF_ANY))
		return fwd_fail(-errno, what, "cannot fill a peer's slot");
	return 0;
}

static int peers_slot_clear(int outer_fd, uint32_t slot, const char *what)
{
	if (bpf_map_delete_elem(outer_fd, &slot) && errno != ENOENT)
		return fwd_fail(-errno, what, "cannot empty a peer's slot");
	return 0;
}

int loader_peers_fill_fd(int outer_fd, const int *map_fds, size_t n, const char *what)
{
	uint32_t cur[FWD_MAX_PEERS] = {}, want[FWD_MAX_PEERS] = {};
	bool placed[FWD_MAX_PEERS] = {};
	uint32_t len = 0, i;
	int err = 0;

	if (n > FWD_MAX_PEERS)
		n = FWD_MAX_PEERS;
	for (i = 0; i < n; i++)
		want[i] = peers_map_id(map_fds[i]);
	/* The programs stop at the first empty slot: what they see is the slots up to it. */
	for (i = 0; i < FWD_MAX_PEERS; i++)
		if (bpf_map_lookup_elem(outer_fd, &i, &cur[i]))
			cur[i] = 0;
	while (len < FWD_MAX_PEERS && cur[len])
		len++;
	/* Every change below keeps each wanted map that the programs see in view: a map that
	 * moves is written into its new slot before its old one is emptied. (Filling the slots
	 * in @map_fds' order would not: a swap of two peers hides one of them for an RCU grace
	 * period, and a namespace's connection to its forward meanwhile reached the host.) */
	/* 1. The maps not there yet: in the place of one that goes, or after the last. */
	for (size_t w = 0; w < n && !err; w++) {
		if (!want[w] || peers_index_of(cur, len, want[w]) >= 0)
			continue;
		i = peers_slot_spare(cur, len, want, n); /* < FWD_MAX_PEERS: @n is at most that */
		err = peers_slot_set(outer_fd, i, map_fds[w], what);
		cur[i] = want[w];
		if (i == len)
			len++;
	}
	/* 2. What is not wanted (or is there twice) goes; the last slot's map, when it is
	 * wanted, takes its place first, so that the wanted ones stay in the slots up to the
	 * first empty one. */
	for (i = 0; i < len && !err;) {
		int w = peers_index_of(want, n, cur[i]), last_w = -1;

		if (w >= 0 && !placed[w]) {
			placed[w] = true;
			i++;
			continue;
		}
		while (len - 1 > i && !err) {
			last_w = peers_index_of(want, n, cur[len - 1]);
			if (last_w >= 0 && !placed[last_w])
				break;
			err = peers_slot_clear(outer_fd, --len, what);
			cur[len] = 0;
		}
		if (err)
			break;
		if (len - 1 > i) {
			err = peers_slot_set(outer_fd, i, map_fds[last_w], what);
			cur[i] = cur[len - 1];
		}
		if (!err)
			err = peers_slot_clear(outer_fd, --len, what);
		cur[len] = 0;
	}
	/* 3. Slots past an empty one, which no program reads: emptied, their maps let go. */
	for (i = len + 1; i < FWD_MAX_PEERS && !err; i++)
		if (cur[i])
			err = peers_slot_clear(outer_fd, i, what);
	return err;
}

/* @topology's array of maps @outer takes the maps @inner of @peers (not itself). */
static int peers_fill(const char *topology, const char *outer, const char *inner,
		      char (*peers)[FWD_TOPO_NAME_SIZE], size_t n)
{
	int fd, map_fds[FWD_MAX_PEERS] = {}, err;
	char path[PATH_MAX];
	size_t k = 0;

	fd = peers_pin_open(topology, outer, path);
	if (fd < 0)
		return 0;
	for (size_t i = 0; i < n && k < FWD_MAX_PEERS; i++) {
		char pin[PATH_MAX];

		if (strcmp(peers[i], topology)) {
			map_fds[k] = peers_pin_open(peers[i], inner, pin);
			if (map_fds[k] >= 0)
				k++; /* else datapath kernel, or gone meanwhile */
		}
	}
	err = loader_peers_fill_fd(fd, map_fds, k, path);
	while (k)
		close(map_fds[--k]);
	close(fd);
	return err;
}

int loader_peers_sync(const char *topology, char (*peers)[FWD_TOPO_NAME_SIZE], size_t n)
{
	int err = peers_fill(topology, FWD_MAP_CT_PEERS, FWD_MAP_CT, peers, n);

	if (!err)
		err = peers_fill(topology, FWD_MAP_CT6_PEERS, FWD_MAP_CT6, peers, n);
	return err ? err : peers_fill(topology, FWD_MAP_FWD_PEERS, FWD_MAP_FORWARDS, peers, n);
}

int loader_foreign_sync(const char *topology, const struct fwd_cidr *nets, size_t n)
{
	struct fwd_lpm4_key key, next, *prev = NULL;
	char path[PATH_MAX];
	__u8 one = 1;
	int fd, err = 0;

	fd = peers_pin_open(topology, FWD_MAP_FOREIGN, path);
	if (fd < 0)
		return 0;
	for (size_t i = 0; i < n && !err; i++) {
		key.prefixlen = nets[i].prefix;
		key.addr = nets[i].addr & fwd_prefix_netmask(nets[i].prefix);
		if (bpf_map_update_elem(fd, &key, &one, BPF_ANY)) {
			err = -errno;
			fwd_err("%s: cannot add subnet %u bits: %s\n", path, key.prefixlen,
				strerror(-err));
		}
	}
	/* What is not in @nets goes (a topology that went down). */
	while (!err && !bpf_map_get_next_key(fd, prev, &next)) {
		bool wanted = false;

		for (size_t i = 0; i < n && !wanted; i++)
			wanted = next.prefixlen == nets[i].prefix &&
				 next.addr == (nets[i].addr & fwd_prefix_netmask(nets[i].prefix));
		if (!wanted && bpf_map_delete_elem(fd, &next) == 0) {
			prev = NULL; /* the walk starts over after a delete */
			continue;
		}
		key = next;
		prev = &key;
	}
	close(fd);
	return err;
}

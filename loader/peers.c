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

/*
 * Does slot @slot of the array of maps @outer_fd hold the map @map_fd already? (From user
 * space, a lookup gives the inner map's id.) An update would wait for an RCU grace period
 * (milliseconds), and every up re-syncs every topology's peers: ten topologies, 180 slots.
 */
static bool peers_slot_holds(int outer_fd, uint32_t slot, int map_fd)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info), id = 0;

	return !bpf_map_lookup_elem(outer_fd, &slot, &id) &&
	       !bpf_obj_get_info_by_fd(map_fd, &info, &len) && info.id == id;
}

/* @topology's array of maps @outer takes the maps @inner of @peers (not itself), from 0. */
static int peers_fill(const char *topology, const char *outer, const char *inner,
		      char (*peers)[FWD_TOPO_NAME_SIZE], size_t n)
{
	char path[PATH_MAX];
	uint32_t slot = 0;
	int fd, err = 0;

	fd = peers_pin_open(topology, outer, path);
	if (fd < 0)
		return 0;
	for (size_t i = 0; i < n && slot < FWD_MAX_PEERS && !err; i++) {
		char pin[PATH_MAX];
		int map_fd;

		if (!strcmp(peers[i], topology))
			continue;
		map_fd = peers_pin_open(peers[i], inner, pin);
		if (map_fd < 0)
			continue; /* datapath kernel, or gone meanwhile */
		if (peers_slot_holds(fd, slot, map_fd)) {
			slot++;
		} else if (bpf_map_update_elem(fd, &slot, &map_fd, BPF_ANY)) {
			err = -errno;
			fwd_err("%s: cannot add topology %s's %s: %s\n", path, peers[i], inner,
				strerror(-err));
		} else {
			slot++;
		}
		close(map_fd);
	}
	/* The rest goes: a map left there would be a peer that left (and its memory kept). */
	for (uint32_t k = slot; k < FWD_MAX_PEERS && !err; k++) {
		uint32_t id;

		if (bpf_map_lookup_elem(fd, &k, &id))
			continue; /* empty already */
		if (bpf_map_delete_elem(fd, &k) && errno != ENOENT)
			err = fwd_fail(-errno, path, "cannot remove a peer's map");
	}
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

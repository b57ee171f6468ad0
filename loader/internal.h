/* SPDX-License-Identifier: GPL-2.0 */
/* Shared between the loader's files only: logging, pin paths, map sync, attachment. */
#ifndef FWD_LOADER_INTERNAL_H
#define FWD_LOADER_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>

#include "fwd_loader.h"
#include "fwd_log.h"

struct bpf_map;
struct bpf_program;
struct bpf_map_info;
struct fwd_settings;
struct bpf_object;
struct attach_owner;

/* log.c: around calls whose failure is an answer (querying a link without clsact), libbpf's
 * warnings are demoted to debug. */
void loader_log_probe(bool on);

/* pins.c */
#define FWD_PIN_PROG_TC		"fwd_tc_ingress" /* the tc program's pin, next to the maps' */
#define FWD_PIN_PROG_UPLINK	"fwd_tc_uplink"	 /* the uplink's tc program */
#define FWD_PIN_PROG_XDP_UPLINK "fwd_xdp_uplink" /* its XDP fast path, while attached */
#define FWD_PIN_PROG_CT_DELETE	"fwd_ct_delete"	 /* run by `fwdctl ct flush` (loader/ct.c) */
#define FWD_PIN_PROG_CT6_DELETE "fwd_ct6_delete" /* the same for fwd_ct6 */
/* FWD_PIN_ROOT/@topology[/@name] into @buf (PATH_MAX); -EINVAL for a name unfit for a path. */
int pins_path(char *buf, const char *topology, const char *name);
int pins_dir_create(const char *topology);
int pins_dir_remove(const char *topology);
/* The ids of the maps pinned for @topology (none: n 0). */
void pins_owner(const char *topology, struct attach_owner *owner);
/*
 * Open the pinned map @name of @topology (its path into @path, PATH_MAX): the fd, or -errno
 * after a warning that names the map as @what.
 */
int pins_map_open(const char *topology, const char *name, const char *what, char *path);
/* The info (type, sizes, entries, flags) of map @fd pinned at @path; -errno after a warning. */
int pins_map_info(int fd, const char *path, struct bpf_map_info *info);
/*
 * Make libbpf reuse @map's pin at @path when its shape (type, key/value size, entries, flags)
 * still matches the object's; a pin of another shape (an older fwd) is replaced, with a note.
 */
int pins_map_prepare(struct bpf_map *map, const char *path);
/*
 * pins_map_prepare() for a map whose entries can be carried over into a map of another size
 * (the connection table): a pin of the same layout (type, key and value size, flags) and
 * another max_entries is left in place and opened into *@old_fd (else -1), and libbpf will
 * create @map anew, unpinned: the caller copies the entries over, then pins_map_replace().
 * -ESTALE, without a message, when the pinned map has another layout.
 */
int pins_map_reshape(struct bpf_map *map, const char *path, int *old_fd);
/* Pin @prog at @path, replacing an older pin atomically (pin aside, then rename over it). */
int pins_prog_replace(struct bpf_program *prog, const char *path);
/* The same for a map. */
int pins_map_replace(struct bpf_map *map, const char *path);

/* monitor.c: @pid (of the fwdctl monitor or capture that wrote a settings map) when it is
 * another live process than this one; 0 when none, ours, or gone. */
pid_t owner_alive(__u32 pid);

/* maps.c: fwd_endpoints converges to exactly the topology's namespaces. */
int maps_sync_endpoints(int map_fd, const struct fwd_topology *t, const struct fwd_runtime *rt);
/* fwd_endpoints6: the same for the namespaces' IPv6 addresses. */
int maps_sync_endpoints6(int map_fd, const struct fwd_topology *t, const struct fwd_runtime *rt);
/* fwd_forwards6: the forwards published on an IPv6 address of the uplink (DNAT66), the rest
 * pruned. */
int maps_sync_forwards6(int fd, const struct fwd_topology *t, const struct fwd_runtime *rt);
/* fwd_forwards (one entry per uplink address and port: a forward line without an address is on
 * @uplink_addr), fwd_fwd_targets and fwd_fwd_addrs converge to the forwards. */
int maps_sync_forwards(int fwd_fd, int targets_fd, int addrs_fd, const struct fwd_topology *t,
		       in_addr_t uplink_addr);
/* fwd_ports: per host-side veth, the only source addresses and MAC its frames may carry. */
int maps_sync_ports(int fd, const struct fwd_topology *t, const struct fwd_runtime *rt);
/* fwd_rules from the forwards' "from" lists (index: FWD_RULE_ISOLATE, forward i at i + 1), and
 * the rules' drop counters (@drops_fd) from 0: they count since this `up`. */
int maps_sync_rules(int rules_fd, int drops_fd, const struct fwd_topology *t);
/* fwd_xdp_targets from @t's xdp forwards and @rt's veths (a fresh map: the others stay 0). */
int maps_sync_xdp_targets(int fd, const struct fwd_topology *t, const struct fwd_runtime *rt);
/* fwd_ns_stats, fwd_forward_stats, fwd_ns_drops: zero for the topology's namespaces and
 * forwards, whose slots this up numbers anew. */
int maps_reset_traffic(int ns_fd, int fwd_fd, int drops_fd, const struct fwd_topology *t);
/* fwd_ct_ns: one count per namespace, 0 for a new one, kept for one that stays. */
int maps_sync_ct_ns(int fd, const struct fwd_topology *t);

/*
 * ct.c: a connection table and the program that deletes connections from it (fwd_ct_delete):
 * a connection deleted from user space goes through it, so that its slot is handed back and
 * its namespace's count goes down, as in the datapath (bpf/conntrack.h's ct_forget).
 */
struct ct_fds {
	int ct, del_prog;
};
/* The pinned ones of @topology; 0 or -errno (said). */
int ct_fds_open(const char *topology, struct ct_fds *fds);
void ct_fds_close(struct ct_fds *fds);
/*
 * Copy the connections of table @old_fd into @new_fd (same layout, another size), both entries
 * of each, those that exist there already left alone (BPF_NOEXIST). The copies have no slot
 * (FWD_CT_NO_SLOT) until fwd_ct_start adopts them, which `up` runs next. Assured connections
 * go first, so a smaller table keeps them rather than half-open ones. *@copied and *@lost:
 * connections copied, and refused by a full table.
 */
int ct_copy(int old_fd, int new_fd, size_t *copied, size_t *lost);
/* Move the keys of queue @old_fd (fwd_ct_recent) into @new_fd, oldest first. */
int ct_recent_move(int old_fd, int new_fd);
/*
 * Remove the connections that no longer match the topology: of a forward that was removed or
 * now points elsewhere (and every forwarded one when @dnat is false), masqueraded ones whose
 * translated source is not @rt's uplink address (every one when @snat is false). Both entries
 * of each.
 */
int ct_prune(const struct ct_fds *fds, const struct fwd_topology *t, const struct fwd_runtime *rt,
	     bool snat, bool dnat);
/* Is a pinned connection table of this @info one this fwd can keep or migrate? */
bool ct_layout_ok(const struct bpf_map_info *info);

/* ct6.c: fwd_ct6 (NAT66), for loader_ct_walk(), loader_ct_flush() and up's pruning. A
 * topology without a pinned fwd_ct6 has no IPv6 connection: 0. */
int ct6_walk(const char *topology, int (*cb)(const struct fwd_ct_conn *c, void *ctx), void *ctx);
int ct6_flush(const char *topology, const struct fwd_ct_filter *f, size_t *flushed);
/* Remove the IPv6 connections no longer translated so: masqueraded ones with NAT66 off
 * (!@snat6), another uplink address or their masquerade gone; forwarded ones with DNAT66 off
 * (!@dnat6) or their forward removed or retargeted. @fds: fwd_ct6 and fwd_ct6_delete. */
int ct6_prune(const struct ct_fds *fds, const struct fwd_topology *t, const struct fwd_runtime *rt,
	      bool snat6, bool dnat6);
/* As ct_copy() and ct_recent_move(), for fwd_ct6 and fwd_ct6_recent: a re-`up` that changes
 * the table's size carries the IPv6 connections over. */
int ct6_copy(int old_fd, int new_fd, size_t *copied, size_t *lost);
int ct6_recent_move(int old_fd, int new_fd);

/* cgroup.c
 *
 * Attach @prog to the cgroup @cg_fd through a BPF link pinned at @pin; when @pin holds a link
 * already (a re-run of up), swap that link's program for @prog instead.
 */
int cgroup_link_attach(struct bpf_program *prog, int cg_fd, const char *pin);
/* Detach the link pinned at @pin and remove the pin; 0 when there is none. */
int cgroup_link_remove(const char *pin);

/*
 * sock.c: fwd_sock, the host's own connections to forwards. With @wanted, load it with @cfg
 * (plus the cookie of the namespace we are in), sharing fwd_tc's maps in @shared, and attach
 * it to the cgroup v2 root or update its pinned links; without cgroup v2 (or the cookie), one
 * warning and 0. Without @wanted, sock_down().
 */
struct sock_shared {
	int forwards_fd, counters_fd,
	    uplink_fd; /* fwd_tc's fwd_forwards, fwd_counters, fwd_uplink */
};
int sock_up(const char *topology, const struct fwd_settings *cfg, bool wanted,
	    const struct sock_shared *shared);
/* Detach and unpin fwd_sock's links of @topology; 0 when there are none. */
int sock_down(const char *topology);

/* fingerprint.c: what a topology's datapath was last made from (see there). */
struct fingerprint {
	uint64_t programs; /* the objects, the topology's text, the settings */
	uint64_t links;	   /* the namespaces' veths */
	uint64_t pins;	   /* the kernel's ids of what is pinned */
};
#define FINGERPRINT_SEED 0xcbf29ce484222325ULL
uint64_t fingerprint_add(uint64_t h, const void *data, size_t len);
/* The running executable into @h; 0 when it cannot be read. */
uint64_t fingerprint_self(uint64_t h);
/* Which objects are pinned for @topology (every pin but the fingerprint's, by name and kernel
 * id): a pin missing, added or replaced changes it. 0 when one cannot be read. */
uint64_t fingerprint_pins(const char *topology);
bool fingerprint_read(const char *topology, struct fingerprint *out);
int fingerprint_write(const char *topology, const struct fingerprint *fp);
void fingerprint_forget(const char *topology);

/* attach.c */
/* fwd's filters on the uplink: one handle each, from FWD_TC_HANDLE on (a topology each). */
#define FWD_TC_UPLINK_HANDLES 32
/* What makes a program a topology's: the ids of the maps pinned for it (pins_owner()). */
struct attach_owner {
	uint32_t map_ids[64];
	size_t n;
};
/*
 * Attach @prog_fd to fwd's own link @ifindex (a veth, the bridge) at fwd's fixed handle,
 * replacing fwd's program there; -EBUSY, with a message, when a program that is not fwd's
 * holds that handle.
 */
int attach_tc(int ifindex, bool egress, int prog_fd);
/* Attach @prog_fd to the uplink's ingress: in place of @owner's filter there, or at a free
 * handle of fwd's range. */
int attach_tc_uplink(int ifindex, int prog_fd, const struct attach_owner *owner);
/* The id of @owner's program on the uplink's ingress (its handle into @handle), 0 when none. */
uint32_t attach_tc_uplink_find(int ifindex, const struct attach_owner *owner, uint32_t *handle);
/* Remove @owner's filters from the uplink's ingress, and nobody else's. */
int attach_tc_uplink_remove(int ifindex, const struct attach_owner *owner);
/* The id of @owner's XDP program (the fast path) on the uplink, 0 when none. */
uint32_t attach_xdp_uplink_find(int ifindex, const struct attach_owner *owner);
/* Remove @owner's XDP programs from the uplink, but the one of id @keep_id (0: all); other
 * programs behind libxdp's dispatcher stay. */
int attach_xdp_uplink_remove(int ifindex, const struct attach_owner *owner, uint32_t keep_id);
/* xdp_uplink.c: load the XDP fast path over the maps of loaded object @tc, with settings @cfg,
 * attach it to the uplink in place of @owner's program there and pin it as @topology's. */
int xdp_uplink_attach(const char *topology, const struct bpf_object *tc,
		      const struct fwd_settings *cfg, int ifindex,
		      const struct attach_owner *owner);
/* xdp_query.c: 1 when link @ifindex has an XDP program, 0 when not, -errno. */
int xdp_attached(int ifindex);

/* Remove fwd's tc filters (both directions) and fwd_* XDP programs from fwd's own link
 * @ifindex; 0 if none. */
int attach_remove_all(int ifindex);
/* The id of fwd's tc program on @ifindex in direction @egress, 0 when none. */
uint32_t attach_tc_query(int ifindex, bool egress);

#endif

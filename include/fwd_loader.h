/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The loader's public API: the BPF datapath's user-space side (implemented in loader/, the only
 * place that knows libbpf and libxdp). Load, pin, attach and fill maps; read counters,
 * connections and attachments back as data. The loader never prints data: the front ends
 * (ctl/) render what it returns. The control plane resolves the links and hands their ifindexes
 * and MACs over in struct fwd_runtime; the loader never speaks netlink.
 * All functions run in the host namespace (after -n) and return 0 or -errno, with the reason
 * already logged (include/fwd_log.h).
 */
#ifndef FWD_LOADER_H
#define FWD_LOADER_H

#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fwd_kern_user.h"
#include "topology.h"

#define FWD_BPFFS    "/sys/fs/bpf"
#define FWD_PIN_ROOT FWD_BPFFS "/fwd" /* pins of topology T live in FWD_PIN_ROOT/T/ */

/* One namespace's attachment point, resolved by the control plane. */
struct fwd_endpoint_rt {
	const struct fwd_namespace *ns;
	int host_ifindex; /* the host-side veth, enslaved to the bridge */
	uint8_t host_mac[6];
	uint8_t ns_mac[6]; /* the namespace's own end of the veth ("eth0") */
};

struct fwd_runtime {
	int bridge_ifindex;
	uint8_t bridge_mac[6];
	int uplink_ifindex; /* 0 when the topology has no uplink */
	uint8_t uplink_mac[6];
	in_addr_t uplink_addr;	      /* the uplink's primary IPv4, network order; 0 if none */
	struct in6_addr uplink_addr6; /* its first global IPv6 address, when uplink_has6 */
	bool uplink_has6;
	struct fwd_endpoint_rt *endpoints; /* same order as topology->namespaces */
	size_t n_endpoints;
	/* up --flush-conntrack: start with an empty connection table instead of keeping (or
	 * migrating) the pinned one; the only way past a table of another entry layout. */
	bool ct_flush;
};

/* Mount bpffs at FWD_BPFFS when it is not mounted. */
int loader_ensure_bpffs(void);
/*
 * Check that the kernel has what datapath bpf needs (program and map types, helpers), and with
 * @xdp what the XDP fast path of xdp forwards needs too; -ENOTSUP after an error naming each
 * missing feature. Fallbacks fwd has are not requirements.
 */
int loader_probe_kernel(bool xdp);
/*
 * Can `up` keep the pinned connection table of @topology? 0 when there is none, or when its
 * entries have this fwd's layout (another `conntrack max` is migrated); -ESTALE, after an error
 * saying what to do, when they were written by a fwd with another layout.
 */
int loader_ct_check(const char *topology);
/*
 * Load or reuse (pinned maps survive) the programs of topology @t, fill the maps from @t and
 * @rt (removing stale entries), attach to every link, and pin. Running it twice changes nothing;
 * programs are replaced in place so traffic sees no gap, and a run with nothing changed keeps
 * them as they are (loader/fingerprint.c). A connection table of another size (`conntrack max`)
 * is replaced by one of the new size holding the same connections; the connections of forwards
 * that were removed or retargeted, and masqueraded ones whose translated source is no longer the
 * uplink's address, are removed.
 *
 * In two steps, so that the programs load (the verifier's part, in a thread) while the caller
 * builds the namespaces. loader_up_start() needs @rt's bridge and uplink (ifindex, MAC, address)
 * as they will be, not its endpoints; @t must stay valid until the job ends. Every started job
 * ends in loader_up_finish() (the rest, with the endpoints now) or loader_up_abandon() (nothing
 * attached; the pins directory stays for `down`). 0 or -errno.
 */
struct loader_up_job;
int loader_up_start(const struct fwd_topology *t, const struct fwd_runtime *rt,
		    struct loader_up_job **job);
int loader_up_finish(struct loader_up_job *job, const struct fwd_runtime *rt);
void loader_up_abandon(struct loader_up_job *job);
/*
 * Detach the topology's programs from links that still exist (@uplink_ifindex and
 * @bridge_ifindex, 0 when gone; veths take their programs with them) and remove
 * FWD_PIN_ROOT/@topology entirely. Absent pins are not an error.
 */
int loader_down(const char *topology, int uplink_ifindex, int bridge_ifindex);
/*
 * loader_down() of a topology whose host namespace is gone (its links and attachments went with
 * it): the cgroup links of its sockets' programs and its pins. Never touches a link.
 */
int loader_down_orphan(const char *topology);

/*
 * Topology @topology's fwd_ct_peers and fwd_fwd_peers take the connection tables and the
 * forwards of @peers (names of the other topologies on the same uplink, @n <= FWD_MAX_PEERS),
 * and nothing else: a masqueraded connection then never takes a port one of them holds on the
 * uplink's address, and the namespaces reach their forwards. A peer without pins (datapath
 * kernel, or not up) is skipped. No pins of @topology: 0, nothing to do.
 */
int loader_peers_sync(const char *topology, char (*peers)[FWD_TOPO_NAME_SIZE], size_t n);
/*
 * loader_peers_sync()'s work on one array of maps: @outer_fd's slots, read from 0 up to the
 * first empty one as the programs read them, come to hold the maps @map_fds[@n] (n <=
 * FWD_MAX_PEERS) and nothing else, without a moment in which a map wanted both before and
 * after is out of the programs' view. @what names the array in errors.
 */
int loader_peers_fill_fd(int outer_fd, const int *map_fds, size_t n, const char *what);

/*
 * Topology @topology's fwd_foreign takes subnets @nets (@n <= FWD_MAX_FOREIGN: the other
 * topologies' of this host namespace), and nothing else. No pins of @topology: 0.
 */
int loader_foreign_sync(const char *topology, const struct fwd_cidr *nets, size_t n);

/* Counters: packets and bytes per path, events, drops by reason, summed over CPUs. */
enum fwd_counter_kind { FWD_COUNTER_PATH, FWD_COUNTER_EVENT, FWD_COUNTER_DROP };
struct fwd_counter_sum {
	const char *name; /* static */
	enum fwd_counter_kind kind;
	uint64_t packets;
	uint64_t bytes;
};
/* All FWD_CNT_MAX counters of the per-CPU counter map @fd (pinned or a skeleton's). */
int loader_counters_read_fd(int fd, struct fwd_counter_sum out[FWD_CNT_MAX]);
/*
 * The pinned counters of @topology; -ESTALE (after an error saying so) when they were loaded by
 * another fwd version, whose counters have other names at the same indices.
 */
int loader_counters_read(const char *topology, struct fwd_counter_sum out[FWD_CNT_MAX]);
/*
 * The drops of the first @n policy rules of @topology (fwd_rule_drops: FWD_RULE_ISOLATE, then
 * forward i at i + 1), summed over CPUs, since its last `up`.
 */
int loader_rule_drops_read(const char *topology, size_t n, struct fwd_counter_val *out);
const char *loader_counter_kind_name(enum fwd_counter_kind kind);
/*
 * Per namespace (@ns[i]: the topology's i-th namespace) and per forward line (@fwd[i]: its
 * i-th forward), what the programs carried since the last up, summed over CPUs: in is into
 * the namespace or through the forward to its target, out the other way.
 */
int loader_traffic_read(const char *topology, size_t n_ns, struct fwd_traffic *ns, size_t n_fwd,
			struct fwd_traffic *fwd);
/* What each namespace sent that was dropped, by reason: @out[i * FWD_CNT_MAX + counter] for
 * the i-th of @n_ns namespaces. */
int loader_ns_drops_read(const char *topology, size_t n_ns, struct fwd_counter_val *out);
/* The name fwdctl stats shows for counter @counter (< FWD_CNT_MAX). */
const char *loader_counter_name(unsigned int counter);

/*
 * One tracked connection. The original tuple is as fwd first saw it, the translated one as it
 * went on. ICMP echo: the identifier is the port of the side that chose it, the other port 0.
 */
struct fwd_ct_tuple {
	in_addr_t src, dst;    /* network order */
	uint16_t sport, dport; /* host order */
	bool v6;	       /* IPv6: the addresses are src6 and dst6 */
	struct in6_addr src6, dst6;
};
struct fwd_ct_conn {
	uint8_t proto; /* IPPROTO_* */
	uint8_t nat;   /* enum fwd_ct_nat: masquerade, a forward's, or isolate's (none) */
	struct fwd_ct_tuple original, translated;
	const char *state; /* static: "syn_sent", "established", ... */
	int64_t seconds_left;
	int64_t age;  /* seconds */
	bool assured; /* protected from early drop: TCP established, UDP answered */
};
/* The name of conntrack state @state (enum fwd_ct_state): "established", ...; "?" if unknown. */
const char *loader_ct_state_name(unsigned int state);
/* Call @cb for each connection of @topology, IPv4's then IPv6's; a non-zero return from @cb
 * stops and is returned. */
int loader_ct_walk(const char *topology, int (*cb)(const struct fwd_ct_conn *c, void *ctx),
		   void *ctx);
/*
 * Which connections loader_ct_flush() removes: those that match every field set (AND); all of
 * them when none is.
 */
struct fwd_ct_filter {
	uint8_t proto;	   /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP; 0: any */
	uint16_t port;	   /* host order: either port of the original tuple; 0: any */
	in_addr_t ns_addr; /* network order: a namespace's address, the source of the original
			    * tuple (masquerade, hairpin) or a forward's target; 0: any */
	struct in6_addr ns_addr6; /* with ns_addr and ns_has6: the namespace's IPv6 address, a
				   * forward's target in the IPv6 table */
	bool ns_has6;
};
/*
 * Forget the tracked connections @f matches (NULL: every one), both entries of each; their
 * next packets start new ones (TCP from a namespace is picked up, from the LAN it is not).
 * The number of connections removed into *@flushed (may be NULL).
 */
int loader_ct_flush(const char *topology, const struct fwd_ct_filter *f, size_t *flushed);

/* What `status` shows of a topology's BPF side. */
struct fwd_bpf_pin {
	char name[NAME_MAX + 1];
	const char *kind; /* "map", "prog", "link" */
	char type[32];	  /* libbpf's name of the map, program or link type */
	uint32_t id;
	uint32_t max_entries; /* maps only */
};
struct fwd_bpf_endpoint {
	in_addr_t addr; /* network order */
	uint8_t mac[6];
	char host_ifname[IF_NAMESIZE]; /* "ifN" when the link is gone */
	uint32_t host_ifindex;
};
struct fwd_bpf_attachment {
	char ifname[IF_NAMESIZE];
	const char *hook; /* "tc-ingress", "tc-egress", "xdp" */
	char prog[16];
	uint32_t id;
	bool current; /* the pinned program (else a stale one left on the topology's link) */
};
struct fwd_bpf_cgroup_link {
	const char *hook; /* "connect4", "sendmsg4", ... */
	char prog[16];
	uint32_t prog_id;
	uint32_t link_id;
	bool attached; /* the cgroup really runs it (else only pinned) */
};
struct fwd_bpf_status {
	char pin_dir[PATH_MAX];
	struct fwd_bpf_pin *pins;
	size_t n_pins;
	struct fwd_bpf_endpoint *endpoints;
	size_t n_endpoints;
	struct fwd_bpf_attachment *attachments;
	size_t n_attachments;
	char cgroup_root[PATH_MAX]; /* "" when no cgroup v2 is mounted */
	struct fwd_bpf_cgroup_link *cgroup_links;
	size_t n_cgroup_links;
};
/* Read it all (@uplink_ifindex: the uplink, where the topology's filter shares the hook; 0
 * when none; @bridge_ifindex: the topology's bridge, 0 when none); loader_status_free()
 * releases it (also after a failure). */
int loader_status_read(const char *topology, int uplink_ifindex, int bridge_ifindex,
		       struct fwd_bpf_status *st);
void loader_status_free(struct fwd_bpf_status *st);

/* The root of the cgroup v2 hierarchy into @buf; -ENOENT when none is mounted. */
int loader_cgroup_v2_root(char *buf, size_t len);

/* What the first bytes of a frame (from its Ethernet header) say, as far as they go. */
struct fwd_frame_info {
	uint16_t ethertype; /* 0 when shorter than an Ethernet header; one 802.1Q tag skipped */
	bool has_ip, has_ports, has_icmp; /* has_ip: an IPv4 or IPv6 header (tuple.v6) */
	uint8_t proto;		   /* has_ip: IPPROTO_* (IPv6: after its extension headers) */
	struct fwd_ct_tuple tuple; /* has_ip: addresses; has_ports: TCP or UDP ports too */
	uint8_t icmp_type, icmp_code;
};
void loader_frame_decode(const uint8_t *frame, size_t len, struct fwd_frame_info *out);

/*
 * fwdctl monitor: the datapath's events, decoded. A drop says why (@reason, a counter's name),
 * where it came in and what the frame was, as far as its first bytes tell (the has_ flags); a
 * connection event says what happened (@kind) to which connection, original and translated.
 */
struct fwd_monitor_event {
	const char *kind; /* static: "drop", "new", "closed", "expired", "evicted", "deleted" */
	uint64_t ts_ns;	  /* CLOCK_MONOTONIC_COARSE */
	/* drop */
	const char *reason; /* static: the counter the drop moved; NULL for a connection event */
	int ifindex;	    /* the interface it came in on */
	uint32_t len;	    /* the frame's length */
	struct fwd_frame_info frame;
	/* connection events */
	uint8_t proto;	   /* IPPROTO_* */
	uint8_t nat;	   /* enum fwd_ct_nat */
	const char *state; /* static: its conntrack state then */
	struct fwd_ct_tuple original, translated;
};
/* Called for each event; a non-zero return stops loader_monitor_poll(), which returns it. */
typedef int (*loader_monitor_cb)(const struct fwd_monitor_event *ev, void *arg);
struct loader_monitor;
/*
 * Ask @topology's datapath for events (@flags: enum fwd_monitor_flags) at no more than about
 * @rate a second (each CPU gets rate / CPUs, rounded up), delivered to @cb. -EBUSY when another
 * fwdctl monitor of the topology is running; -ENOENT when its datapath has no event buffer.
 */
int loader_monitor_start(const char *topology, uint32_t flags, uint32_t rate, loader_monitor_cb cb,
			 void *arg, struct loader_monitor **m);
/* Deliver the events there are, waiting up to @timeout_ms for one: how many, or -errno. */
int loader_monitor_poll(struct loader_monitor *m, int timeout_ms);
/* The cap in force: events a second over all CPUs. */
uint32_t loader_monitor_rate_cap(const struct loader_monitor *m);
/* Events the datapath did not send since the start: over the cap, or with the buffer full. */
int loader_monitor_counts(struct loader_monitor *m, uint64_t *skipped, uint64_t *lost);
/* Switch the events off again (unless another monitor took over), then deliver what the
 * buffer still holds: afterwards loader_monitor_counts() and the events delivered add up. */
int loader_monitor_off(struct loader_monitor *m);
/* loader_monitor_off() unless done (its events dropped), and free @m. */
void loader_monitor_stop(struct loader_monitor *m);

/*
 * fwdctl capture: copies of the frames the tc programs handle, as they arrive and as they
 * leave translated (struct fwd_capture_cfg). The filter is matched on the frame as it arrives;
 * fields at 0 match anything. A namespace (@ifindex, its host-side veth, and @ns_addr) matches
 * what it sends, what is addressed to or from it, and what is delivered into it.
 */
struct fwd_capture_filter {
	uint8_t proto;	   /* IPPROTO_* */
	in_addr_t addr;	   /* network order: source or destination */
	uint16_t port;	   /* host order: source or destination port */
	int ifindex;	   /* a namespace's host-side veth */
	in_addr_t ns_addr; /* network order: that namespace's address */
	/* A forward's frames: to its published ports, or from its target's (fw_proto 0: any). */
	uint8_t fw_proto;
	in_addr_t fw_target; /* network order */
	uint16_t fw_lo, fw_hi, fw_to_lo, fw_to_hi;
};
struct fwd_captured {
	uint64_t ts_ns;	  /* CLOCK_MONOTONIC */
	int ifindex;	  /* in: the interface it came in on; out: the one it was sent to */
	bool out;	  /* after translation, on its way out */
	const char *path; /* out: the counter it moved ("snat", "dnat", ...) */
	uint32_t len;	  /* the frame's length */
	uint32_t caplen;  /* the bytes of it in @data */
	const uint8_t *data;
};
typedef void (*loader_capture_cb)(const struct fwd_captured *f, void *arg);
struct loader_capture;
/* Start copies of @where (enum fwd_capture_flags), at most @snaplen bytes each, delivered to
 * @cb. -EBUSY when another fwdctl capture of the topology runs. */
int loader_capture_start(const char *topology, uint32_t where, uint32_t snaplen,
			 const struct fwd_capture_filter *filter, loader_capture_cb cb, void *arg,
			 struct loader_capture **c);
/* Deliver the frames there are, waiting up to @timeout_ms: how many batches, or -errno. */
int loader_capture_poll(struct loader_capture *c, int timeout_ms);
/* Switch the copies off (unless another capture took over), then deliver what is buffered. */
int loader_capture_off(struct loader_capture *c);
/* Copies the perf buffer had no room for since the start. */
uint64_t loader_capture_lost(const struct loader_capture *c);
void loader_capture_stop(struct loader_capture *c);

#endif

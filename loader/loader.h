/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The BPF datapath's user-space side: load, pin, attach, fill maps, read counters.
 * The only place that knows libbpf and libxdp. The control plane (ctl/) resolves the links and
 * hands their ifindexes and MACs over in struct fwd_runtime; the loader never speaks netlink.
 * All functions run in the host namespace (after -n) and return 0 or -errno, with a message
 * "fwdctl: OBJECT: what failed: cause" already printed on stderr.
 */
#ifndef FWD_LOADER_H
#define FWD_LOADER_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "topology.h"

struct fwd_json;

#define FWD_BPFFS "/sys/fs/bpf"
#define FWD_PIN_ROOT FWD_BPFFS "/fwd" /* pins of topology T live in FWD_PIN_ROOT/T/ */

/* One namespace's attachment point, resolved by the control plane. */
struct fwd_endpoint_rt {
	const struct fwd_namespace *ns;
	int host_ifindex;   /* the host-side veth, enslaved to the bridge */
	uint8_t host_mac[6];
	uint8_t ns_mac[6];  /* the namespace's own end of the veth ("eth0") */
};

struct fwd_runtime {
	int bridge_ifindex;
	uint8_t bridge_mac[6];
	int uplink_ifindex;	 /* 0 when the topology has no uplink */
	uint8_t uplink_mac[6];
	in_addr_t uplink_addr;	 /* the uplink's primary IPv4, network order; 0 if none */
	struct fwd_endpoint_rt *endpoints; /* same order as topology->namespaces */
	size_t n_endpoints;
};

/*
 * Load or reuse (pinned maps survive) the programs of topology @t, fill the maps from @t and
 * @rt (removing stale entries), attach to every link, and pin. Running it twice changes nothing;
 * programs are replaced in place so traffic sees no gap.
 */
int loader_up(const struct fwd_topology *t, const struct fwd_runtime *rt);
/*
 * Detach the topology's programs from links that still exist (@uplink_ifindex and
 * @bridge_ifindex, 0 when gone; veths take their programs with them) and remove
 * FWD_PIN_ROOT/@topology entirely. Absent pins are not an error.
 */
int loader_down(const char *topology, int uplink_ifindex, int bridge_ifindex);
/* Programs attached per interface and the pinned objects; text on stdout, or into @j. */
int loader_status(const char *topology, struct fwd_json *j);
/* Counters: packets/bytes per path, drops by reason; text on stdout, or into @j. */
int loader_stats(const char *topology, struct fwd_json *j);
/*
 * Connection tracking (masquerade, forwards): one line per connection with the protocol, the
 * original tuple (as fwd first saw it), the translated tuple (as it went on), the state
 * and the seconds until it expires; text on stdout, or into @j as
 * {"topology", "connections": [{proto, nat ("snat"|"dnat"), original: {src, sport, dst, dport},
 * translated: {...}, state, seconds_left, age}], "count"}. ICMP echo: the identifier is the port of the side
 * that chose it, the other port is 0.
 */
int loader_ct_list(const char *topology, struct fwd_json *j);
/* Forget every tracked connection; their next packets start new ones (TCP: picked up). */
int loader_ct_flush(const char *topology);
/* Mount bpffs at FWD_BPFFS when it is not mounted. */
int loader_ensure_bpffs(void);
/*
 * How much libbpf/libxdp/loader output reaches stderr: -1 (-q) and 0 warnings only, 1 (-v)
 * also info, 2 (-vv) also libbpf debug and verifier logs. FWD_DEBUG=1 in the environment
 * forces 2.
 */
void loader_set_verbosity(int verbosity);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The topology model: what topology.conf declares, validated (by ctl/topo_parse.c), with no side
 * effects. Shared by the control plane and the loader.
 */
#ifndef FWD_TOPOLOGY_H
#define FWD_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>

#include "fwd_inet.h"
#include "fwd_kern_user.h" /* struct fwd_ct_timeouts, the conntrack and SNAT defaults */

#define FWD_TOPO_NAME_MAX  12			   /* [a-z0-9-]; names pins and iptables chains */
#define FWD_TOPO_NAME_SIZE (FWD_TOPO_NAME_MAX + 1) /* a buffer for one, with its NUL */
#define FWD_IFNAME_MAX	   15			   /* IFNAMSIZ - 1 */
#define FWD_NETNS_NAME_MAX 64 /* fwd's own limit; ip netns allows any file name */
/* A Linux bridge takes at most 1023 ports (BR_MAX_PORTS, 1024, less port number 0): one per
 * namespace. More namespaces on a host: several topologies. */
#define FWD_MAX_NAMESPACES 1023
#define FWD_MAX_FORWARDS   4096
_Static_assert(FWD_MAX_RULES == 1 + FWD_MAX_FORWARDS, "fwd_rules: isolate and every forward");
#define FWD_MAX_MASQUERADES 64
#define FWD_MAX_ALLOWS	    FWD_MAX_ALLOW /* allow lines: datapath bpf walks them (new conns) */
#define FWD_MAX_ROUTES	    FWD_MAX_ROUTE /* route lines: datapath bpf walks them */
#define FWD_LINE_MAX	    1024	  /* longer lines are refused, not truncated */

/* conntrack max N: connections (two fwd_ct entries each); fwd_ct_recent holds a quarter. */
#define FWD_CT_MAX_MIN 1024
#define FWD_CT_MAX_MAX 16777216
/* conntrack timeout STATE SECONDS: 1 s to 365 days. */
#define FWD_CT_TIMEOUT_MAX 31536000
/* snat-ports LO-HI: never a privileged port. */
#define FWD_SNAT_PORT_MIN 1024

enum fwd_datapath {
	FWD_DATAPATH_BPF = 0,
	FWD_DATAPATH_KERNEL = 1,
};

/* Addresses are kept in network byte order (as on the wire). */
struct fwd_cidr {
	in_addr_t addr; /* network order */
	uint8_t prefix;
};

/* An IPv6 address and prefix length (0-128). */
struct fwd_cidr6 {
	struct in6_addr addr;
	uint8_t prefix;
};

struct fwd_namespace {
	char name[FWD_NETNS_NAME_MAX + 1];
	in_addr_t addr;	       /* network order: its IPv4 address; with v6only, its stand-in
				* (fwd_addr_is_standin(), in fwd_kern_user.h) */
	struct in6_addr addr6; /* its IPv6 address, when has6 */
	bool has6;
	bool v6only; /* it has an IPv6 address and no IPv4 one (has6 too) */
	int line;
};

struct fwd_masquerade {
	struct fwd_cidr net; /* host bits are zero */
	int line;
};

/* masquerade of an IPv6 prefix (NAT66). */
struct fwd_masquerade6 {
	struct fwd_cidr6 net; /* host bits are zero */
	int line;
};

struct fwd_forward {
	in_addr_t addr;	       /* network order: the uplink address it is published
				* on; 0: the uplink's primary address */
	struct in6_addr addr6; /* with has_addr6: the uplink's IPv6 address it is
				* published on, and only there (no IPv4) */
	bool has_addr6;
	uint8_t proto;			    /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port_lo;		    /* host order, inclusive */
	uint16_t port_hi;		    /* host order, inclusive; == port_lo for one port */
	uint16_t to_port;		    /* host order: target port for port_lo */
	size_t ns;			    /* index into fwd_topology.namespaces */
	struct fwd_cidr from[FWD_MAX_FROM]; /* "from": the only sources it takes (host bits 0) */
	size_t n_from;			    /* 0: any source */
	bool xdp; /* udp only: taken from the uplink at XDP (datapath bpf, IPv4), see
		   * bpf/fwd_xdp_uplink.bpf.c */
	int line;
};

/* allow SRC -> DST [tcp|udp PORT[-PORT]]: an exception to isolate, for new connections. */
struct fwd_allow {
	in_addr_t src;	    /* network order: a namespace's address (its name is in the file),
			     * or a subnet inside a route line's (host bits 0) */
	uint8_t src_prefix; /* 32 for a namespace; a subnet's prefix length */
	bool from_route;    /* src is inside a route line's subnet, not a namespace */
	in_addr_t dst;	    /* network order: a namespace's address */
	uint8_t proto;	    /* 0: any protocol, IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port_lo;   /* host order, inclusive: the destination port (0-0 with proto 0) */
	uint16_t port_hi;
	int line;
};

/* route NET via ADDR: another host's subnet, reached through the uplink without masquerade. */
struct fwd_route {
	struct fwd_cidr net; /* host bits are zero */
	in_addr_t via;	     /* network order: the next hop, on the uplink's subnet */
	int line;
};

struct fwd_topology {
	char name[FWD_TOPO_NAME_SIZE];
	enum fwd_datapath datapath;
	char bridge[FWD_IFNAME_MAX + 1];
	struct fwd_cidr gateway;	 /* the bridge's address and the subnet's prefix; with
					  * v6only 0.0.0.0/8, the namespaces' stand-ins */
	struct fwd_cidr6 gateway6;	 /* its IPv6 address and prefix, when has6 */
	bool has6;			 /* the bridge has an IPv6 address */
	bool v6only;			 /* ... and no IPv4 one (has6 too): nor has a namespace */
	char uplink[FWD_IFNAME_MAX + 1]; /* "" when there is no uplink line */

	struct fwd_masquerade *masquerades;
	size_t n_masquerades;
	struct fwd_masquerade6 *masquerades6;
	size_t n_masquerades6;
	struct fwd_namespace *namespaces;
	size_t n_namespaces;
	struct fwd_forward *forwards;
	size_t n_forwards;
	bool isolate; /* namespaces reach each other only as allowed (replies always) */
	struct fwd_allow *allows;
	size_t n_allows;
	struct fwd_route *routes;
	size_t n_routes;
	/* tuning rfs: consent to raise the host-wide RFS table (net.core.rps_sock_flow_entries),
	 * which steers a flow's receive processing to the CPU of the socket that reads it */
	bool tuning_rfs;

	/* Settings of datapath bpf's connection tracking and SNAT; the parser fills in the
	 * defaults (FWD_CT_MAX_CONNS, FWD_CT_TIMEOUTS_DEFAULT, FWD_NAT_PORT_LO-HI). */
	uint32_t ct_max;		    /* connections */
	uint32_t ct_per_ns;		    /* connections one namespace may open; 0: not set,
					     * topo_ct_per_ns() gives the default */
	struct fwd_ct_timeouts ct_timeouts; /* seconds, per state */
	uint16_t snat_port_lo;		    /* host order, inclusive */
	uint16_t snat_port_hi;		    /* host order, inclusive */

	/* Where it was read from, for messages about it (conflicts between topologies) and for
	 * `up` to keep a copy: the file's path and text as parsed, and the lines of the
	 * keywords that have no item of their own (0: not in the file). */
	char *source;
	char *text;
	size_t text_len;
	int bridge_line, uplink_line, snat_ports_line;
};

/* The defaults of the settings above, for a topology built by hand (the parser sets them). */
static inline void topo_settings_default(struct fwd_topology *t)
{
	const struct fwd_ct_timeouts timeouts = FWD_CT_TIMEOUTS_DEFAULT;

	t->ct_max = FWD_CT_MAX_CONNS;
	t->ct_timeouts = timeouts;
	t->snat_port_lo = FWD_NAT_PORT_LO;
	t->snat_port_hi = FWD_NAT_PORT_HI;
}

/*
 * The cap on the connections one namespace may open (conntrack per-namespace): the file's, or
 * by default a quarter of the table and at most FWD_CT_PER_NS_DEFAULT, which is half the
 * default SNAT port range: one namespace neither fills the table nor takes every port to
 * one destination.
 */
#define FWD_CT_PER_NS_DEFAULT 14116
static inline uint32_t topo_ct_per_ns(const struct fwd_topology *t)
{
	uint32_t quarter = (t->ct_max ? t->ct_max : FWD_CT_MAX_CONNS) / 4;

	if (t->ct_per_ns)
		return t->ct_per_ns;
	return quarter < FWD_CT_PER_NS_DEFAULT ? quarter : FWD_CT_PER_NS_DEFAULT;
}

/* The bridge's subnet and its netmask, network order. */
static inline in_addr_t topo_netmask(const struct fwd_topology *t)
{
	return fwd_prefix_netmask(t->gateway.prefix);
}

static inline in_addr_t topo_subnet(const struct fwd_topology *t)
{
	return t->gateway.addr & topo_netmask(t);
}

/* Is forward @f published on an IPv4 address of the uplink? Every one but those naming an IPv6
 * address or leading to a namespace with IPv6 only (the BPF maps, keyed by IPv4, hold only
 * these). */
static inline bool fwd_forward_on_ipv4(const struct fwd_topology *t, const struct fwd_forward *f)
{
	return !f->has_addr6 && !t->namespaces[f->ns].v6only;
}

/*
 * Where an IPv4 forward of @t sends a connection of @proto to @addr (network order) port @port
 * (host order), the uplink's primary address being @uplink_addr: true, with the target's
 * address (network order) and port (host order); false when no forward takes it. What `up`
 * compares a tracked connection with, on either datapath.
 */
static inline bool topo_forward_target(const struct fwd_topology *t, uint8_t proto, in_addr_t addr,
				       uint16_t port, in_addr_t uplink_addr, in_addr_t *to_addr,
				       uint16_t *to_port)
{
	for (size_t i = 0; i < t->n_forwards; i++) {
		const struct fwd_forward *f = &t->forwards[i];

		/* On the address it names, or (none named) the uplink's primary one. */
		if (!fwd_forward_on_ipv4(t, f) || f->proto != proto || port < f->port_lo ||
		    port > f->port_hi || addr != (f->addr ? f->addr : uplink_addr))
			continue;
		*to_addr = t->namespaces[f->ns].addr;
		*to_port = (uint16_t)(f->to_port + (port - f->port_lo));
		return true;
	}
	return false;
}

/* Does the topology route IPv4 through the uplink (an IPv4 masquerade, a forward on IPv4, a
 * routed subnet)? The uplink needs an IPv4 address then. */
static inline bool topo_routes4(const struct fwd_topology *t)
{
	if (t->n_masquerades || t->n_routes)
		return true;
	for (size_t i = 0; i < t->n_forwards; i++)
		if (fwd_forward_on_ipv4(t, &t->forwards[i]))
			return true;
	return false;
}

/* The route line whose subnet holds @addr (network order), or NULL. */
static inline const struct fwd_route *topo_route_of(const struct fwd_topology *t, in_addr_t addr)
{
	for (size_t i = 0; i < t->n_routes; i++)
		if ((addr & fwd_prefix_netmask(t->routes[i].net.prefix)) == t->routes[i].net.addr)
			return &t->routes[i];
	return NULL;
}

/* Is forward @f published on an IPv6 address of the uplink? One naming an IPv6 address is (and
 * only there); one naming none is, on the uplink's first global IPv6 address, when its target
 * namespace has an IPv6 address and it has no "from" (IPv4 sources) nor an IPv4 address of its
 * own. */
static inline bool fwd_forward_has6(const struct fwd_topology *t, const struct fwd_forward *f)
{
	return f->has_addr6 || (t->has6 && t->namespaces[f->ns].has6 && !f->n_from && !f->addr);
}

/*
 * topo_forward_target() for IPv6: where a forward of @t published on IPv6 sends a connection of
 * @proto to @addr port @port (host order), the uplink's first global IPv6 address being
 * @uplink_addr6 (NULL: it has none, so only forwards naming an address are published): true,
 * with the target's IPv6 address and port (host order).
 */
static inline bool topo_forward6_target(const struct fwd_topology *t, uint8_t proto,
					const struct in6_addr *addr, uint16_t port,
					const struct in6_addr *uplink_addr6,
					struct in6_addr *to_addr, uint16_t *to_port)
{
	for (size_t i = 0; i < t->n_forwards; i++) {
		const struct fwd_forward *f = &t->forwards[i];
		const struct in6_addr *on = f->has_addr6 ? &f->addr6 : uplink_addr6;

		if (!fwd_forward_has6(t, f) || !on || f->proto != proto || port < f->port_lo ||
		    port > f->port_hi || memcmp(on, addr, sizeof(*addr)))
			continue;
		*to_addr = t->namespaces[f->ns].addr6;
		*to_port = (uint16_t)(f->to_port + (port - f->port_lo));
		return true;
	}
	return false;
}

/* Does the topology route IPv6 between the uplink and the namespaces: an IPv6 masquerade, or a
 * forward published on IPv6? (topo_routes4()'s twin; net.ipv6.conf.all.forwarding is on while
 * one does.) */
static inline bool topo_routes6(const struct fwd_topology *t)
{
	if (t->n_masquerades6)
		return true;
	for (size_t i = 0; i < t->n_forwards; i++)
		if (fwd_forward_has6(t, &t->forwards[i]))
			return true;
	return false;
}

#endif

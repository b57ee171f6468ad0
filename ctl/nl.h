/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rtnetlink through libmnl: links, addresses, routes. The only place that speaks netlink.
 * Every function returns 0 (or a positive value where stated) or -errno. When the kernel sent
 * an extended ack message with the error, nl_errmsg() returns it until the next request.
 */
#ifndef FWD_NL_H
#define FWD_NL_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <net/if.h>

struct nl_sock;

/* A netlink socket in the calling thread's current network namespace. */
int nl_open(struct nl_sock **out);
/* A NETLINK_NETFILTER socket, for the nl_ct_*() calls below. */
int nl_open_netfilter(struct nl_sock **out);
/* A netlink socket bound to the network namespace @netns_fd (the caller's namespace is
 * unchanged on return). */
int nl_open_netns(int netns_fd, struct nl_sock **out);
void nl_close(struct nl_sock *nl);
/*
 * A socket that only listens, non-blocking: to every change of an IPv4 address and of a link
 * in the calling thread's namespace (fwdctl watch). nl_fd() is the descriptor to poll;
 * nl_drain() reads what is queued without looking at it and returns how many messages (a lost
 * batch counts as one), 0 when none, or -errno.
 */
int nl_open_address_events(struct nl_sock **out);
int nl_fd(const struct nl_sock *nl);
int nl_drain(struct nl_sock *nl);
/* The kernel's extended-ack text for the last failed request, or "" when it sent none. */
const char *nl_errmsg(const struct nl_sock *nl);
/*
 * Log "OBJECT: WHAT: strerror(-err)" as an error, with the kernel's extended-ack text when @nl
 * (may be NULL) has one for its last request. Returns @err, so callers can `return nl_fail()`.
 */
int nl_fail(struct nl_sock *nl, int err, const char *object, const char *what);

/*
 * A digest of the ids this namespace holds for other network namespaces (RTM_GETNSID dump); 0
 * or -errno. The kernel gives an id to each namespace a link here reaches (a veth's peer) and
 * takes it back while it destroys that namespace: `down` watches the digest change. Linux 6.18
 * ends that dump after its first buffer (134 ids here), so with more, only the lowest ids are
 * seen: a namespace with a higher one goes unnoticed until the lower ones have gone.
 */
int nl_nsid_digest(struct nl_sock *nl, uint64_t *digest);

struct nl_link {
	int ifindex;
	int master;	    /* ifindex of the bridge it is enslaved to, 0 if none */
	int link_netnsid;   /* veth: peer's netnsid as seen from here, -1 if same/unknown */
	int peer_ifindex;   /* veth: IFLA_LINK (peer's ifindex in its namespace), 0 if none */
	unsigned int flags; /* IFF_* */
	uint8_t mac[6];
	char name[IF_NAMESIZE];
	char kind[16];	 /* "veth", "bridge", ... ("" when not reported) */
	char alias[128]; /* IFLA_IFALIAS, "" when unset */
	uint32_t
	    gso_ipv4_max_size;	/* largest IPv4 GSO packet the stack builds for it (BIG
				 * TCP above 65536); 0: the kernel has no such setting (< 6.3) */
	uint32_t gso_max_size;	/* the same for every other protocol, IPv6 among them (BIG
				 * TCP above 65536, Linux 5.19) */
	uint32_t tso_max_size;	/* the most either GSO size may be (a bridge: its ports'
				 * least, 65536 without ports); 0 when not reported */
	bool brport_isolated;	/* a bridge port that forwards to no other isolated port */
	int ipv6_addr_gen_mode; /* IN6_ADDR_GEN_MODE_*, -1: no IPv6 on the link (or not said) */
	uint32_t num_rx_queues; /* receive queues (sysfs queues/rx-N); 0 when not reported */
};

/* Look up a link by name: 0 and *out filled, -ENODEV when absent. */
int nl_link_get(struct nl_sock *nl, const char *ifname, struct nl_link *out);
int nl_link_get_by_index(struct nl_sock *nl, int ifindex, struct nl_link *out);
/* Call @cb for every link; a non-zero return from @cb stops the dump and is returned. */
int nl_link_dump(struct nl_sock *nl, int (*cb)(const struct nl_link *link, void *ctx), void *ctx);
/*
 * Call @cb for every port of bridge @master, as the bridge reports it: ifindex, name, flags,
 * MAC, master and brport_isolated only (the rest zero: no kind, alias or GSO sizes, and
 * ipv6_addr_gen_mode -1). Far cheaper than reading the ports as links when they are veths to
 * thousands of namespaces. A non-zero return from @cb is returned.
 */
int nl_bridge_ports_dump(struct nl_sock *nl, int master,
			 int (*cb)(const struct nl_link *port, void *ctx), void *ctx);

/* Create a bridge (down) with MAC @mac and no multicast snooping. -EEXIST when a link with
 * that name exists. */
int nl_bridge_add(struct nl_sock *nl, const char *name, const uint8_t mac[6]);
/* A link's GSO sizes (BIG TCP): gso_ipv4_max_size and gso_max_size (IPv6's); 0: not given. */
struct nl_gso {
	uint32_t ipv4;
	uint32_t ipv6;
};

/*
 * Create a veth pair: @host_name in this socket's namespace, with IFLA_IFALIAS @alias (may be
 * NULL), and its peer @peer_name created directly inside the namespace @peer_netns_fd (so the
 * peer's name never clashes with host interfaces). Both ends are left down, with the GSO sizes
 * @gso (NULL, or a size 0: the kernel's default). With @out, the host end as the kernel echoes
 * its creation; out->ifindex stays 0 where the kernel echoes nothing (before Linux 6.1): read
 * it then.
 */
int nl_veth_add(struct nl_sock *nl, const char *host_name, const char *alias, const char *peer_name,
		int peer_netns_fd, const struct nl_gso *gso, struct nl_link *out);
int nl_link_del(struct nl_sock *nl, int ifindex);
int nl_link_set_up(struct nl_sock *nl, int ifindex);
int nl_link_set_alias(struct nl_sock *nl, int ifindex, const char *alias);
/*
 * How the link makes its IPv6 link-local address: IN6_ADDR_GEN_MODE_NONE makes none, so the
 * link sends no DAD, MLD or router solicitation when it comes up. Only takes effect on a link
 * that is down (the kernel refuses it inside the request that creates the link).
 */
int nl_link_set_ipv6_addr_gen_mode(struct nl_sock *nl, int ifindex, uint8_t mode);
int nl_link_set_master(struct nl_sock *nl, int ifindex, int master_ifindex);
/* A bridge port that forwards to no other isolated port, only to the bridge (isolate). */
int nl_bridge_port_set_isolated(struct nl_sock *nl, int ifindex, bool isolated);
/* Set gso_ipv4_max_size (`ip link set DEV gso_ipv4_max_size N` of iproute2 6.3 and later). */
int nl_link_set_gso_ipv4_max_size(struct nl_sock *nl, int ifindex, uint32_t size);
/* Set gso_max_size (`ip link set DEV gso_max_size N`; above 65536 from Linux 5.19). */
int nl_link_set_gso_max_size(struct nl_sock *nl, int ifindex, uint32_t size);

/* Add an IPv4 address; 0 also when exactly this address/prefix is already there. */
int nl_addr_add(struct nl_sock *nl, int ifindex, in_addr_t addr, uint8_t prefix);
/* Remove an IPv4 address; -EADDRNOTAVAIL when absent. */
int nl_addr_del(struct nl_sock *nl, int ifindex, in_addr_t addr, uint8_t prefix);
/* The first (primary) IPv4 address of @ifindex: 0, or -EADDRNOTAVAIL when it has none. */
int nl_addr_get_primary(struct nl_sock *nl, int ifindex, in_addr_t *addr, uint8_t *prefix);
/* Call @cb for every IPv4 address of @ifindex (0: all links). */
int nl_addr_dump(struct nl_sock *nl, int ifindex,
		 int (*cb)(int ifindex, in_addr_t addr, uint8_t prefix, void *ctx), void *ctx);

/* Create or replace the IPv4 default route via @gateway out of @ifindex (NLM_F_REPLACE). */
int nl_route_replace_default(struct nl_sock *nl, in_addr_t gateway, int ifindex);
/* Add the route to @net/@prefix via @gateway out of @ifindex (`ip route add`; with @replace,
 * `ip route replace`): -EEXIST, without @replace, when the main table has one to @net/@prefix. */
int nl_route_add(struct nl_sock *nl, in_addr_t net, uint8_t prefix, in_addr_t gateway, int ifindex,
		 bool replace);
/* Does the main table route @net/@prefix via @gateway? 1 yes, 0 no, or -errno. */
int nl_route_has(struct nl_sock *nl, in_addr_t net, uint8_t prefix, in_addr_t gateway);
/* Remove the route to @net/@prefix via @gateway; 0 also when there is none. */
int nl_route_del(struct nl_sock *nl, in_addr_t net, uint8_t prefix, in_addr_t gateway);

/* nf_conntrack's connections (ctnetlink, nl_conntrack.c). Addresses and ports network order. */
struct nl_ct_tuple {
	uint8_t family; /* AF_INET or AF_INET6 */
	union {
		in_addr_t v4;
		struct in6_addr v6;
	} src, dst;
	uint16_t sport, dport;
	uint8_t proto;
};
/* Call @cb for each connection of @family (AF_INET or AF_INET6) nf_conntrack holds whose status
 * has all of @status_bits (IPS_*; 0: every connection), with its tuples and status bits; a
 * non-zero return of @cb ends the walk with it. */
int nl_ct_dump(struct nl_sock *nl, uint8_t family, uint32_t status_bits,
	       int (*cb)(const struct nl_ct_tuple *orig, const struct nl_ct_tuple *reply,
			 uint32_t status, void *ctx),
	       void *ctx);
/* Delete the connection whose original tuple is @orig; 0 also when it is gone. */
int nl_ct_delete(struct nl_sock *nl, const struct nl_ct_tuple *orig);

/* IPv6 (nl_addr6.c). Add an address without duplicate address detection (IFA_F_NODAD); 0 also
 * when it is there already. */
int nl_addr6_add(struct nl_sock *nl, int ifindex, const struct in6_addr *addr, uint8_t prefix);
/* Remove an IPv6 address; -EADDRNOTAVAIL when absent. */
int nl_addr6_del(struct nl_sock *nl, int ifindex, const struct in6_addr *addr, uint8_t prefix);
/* Call @cb for every global (not link-local) IPv6 address of @ifindex (0: all links). */
int nl_addr6_dump(struct nl_sock *nl, int ifindex,
		  int (*cb)(int ifindex, const struct in6_addr *addr, uint8_t prefix, void *ctx),
		  void *ctx);
/* The first global IPv6 address of @ifindex that is neither deprecated nor tentative, as the
 * kernel lists them (the newest first), into @out: the one forwards are published on. 1, 0
 * when it has none, or -errno. */
int nl_addr6_first(struct nl_sock *nl, int ifindex, struct in6_addr *out);
/* Create or replace the IPv6 default route via @gateway out of @ifindex; with @onlink, a
 * gateway no prefix of the link covers (`ip -6 route replace default via G dev D onlink`). */
int nl_route6_replace_default(struct nl_sock *nl, const struct in6_addr *gateway, int ifindex,
			      bool onlink);
/* Remove the IPv6 default route out of @ifindex; 0 also when there is none. */
int nl_route6_del_default(struct nl_sock *nl, int ifindex);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* The parsed topology: what topology.conf declares, validated, with no side effects. */
#ifndef FWD_TOPOLOGY_H
#define FWD_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>

#define FWD_TOPO_NAME_MAX 12  /* [a-z0-9-]; names pins and iptables chains */
#define FWD_IFNAME_MAX 15     /* IFNAMSIZ - 1 */
#define FWD_NETNS_NAME_MAX 64 /* fwd's own limit; ip netns allows any file name */
#define FWD_MAX_NAMESPACES 4096
#define FWD_MAX_FORWARDS 4096
#define FWD_MAX_MASQUERADES 64
#define FWD_LINE_MAX 1024 /* longer lines are refused, not truncated */

enum fwd_datapath {
	FWD_DATAPATH_BPF = 0,
	FWD_DATAPATH_KERNEL = 1,
};

/* Addresses are kept in network byte order (as on the wire). */
struct fwd_cidr {
	in_addr_t addr; /* network order */
	uint8_t prefix;
};

struct fwd_namespace {
	char name[FWD_NETNS_NAME_MAX + 1];
	in_addr_t addr; /* network order */
	int line;
};

struct fwd_masquerade {
	struct fwd_cidr net; /* host bits are zero */
	int line;
};

struct fwd_forward {
	uint8_t proto;	   /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port_lo;  /* host order, inclusive */
	uint16_t port_hi;  /* host order, inclusive; == port_lo for one port */
	uint16_t to_port;  /* host order: target port for port_lo */
	size_t ns;	   /* index into fwd_topology.namespaces */
	int line;
};

struct fwd_topology {
	char name[FWD_TOPO_NAME_MAX + 1];
	enum fwd_datapath datapath;
	char bridge[FWD_IFNAME_MAX + 1];
	struct fwd_cidr gateway; /* the bridge's address and the subnet's prefix */
	char uplink[FWD_IFNAME_MAX + 1]; /* "" when there is no uplink line */

	struct fwd_masquerade *masquerades;
	size_t n_masquerades;
	struct fwd_namespace *namespaces;
	size_t n_namespaces;
	struct fwd_forward *forwards;
	size_t n_forwards;
};

/*
 * Parse topology.conf text. @path names the file in messages and gives the default topology
 * name (basename without .conf). Every violation is written to @err as "PATH:LINE: message";
 * returns 0, -EINVAL when the text is invalid, or -ENOMEM. Nothing outside @t is touched.
 */
int topo_parse_buf(struct fwd_topology *t, const char *path, const char *buf, size_t len,
		   FILE *err);
/* Read @path (at most 16 MiB) and parse it; -errno with a message on @err when unreadable. */
int topo_parse_file(struct fwd_topology *t, const char *path, FILE *err);
void topo_free(struct fwd_topology *t);

/* Is @name a valid topology name? (also used for "down NAME") */
bool topo_name_valid(const char *name);

/* Print the normalised topology: canonical order, one declaration per line. */
void topo_print(const struct fwd_topology *t, FILE *out);
struct fwd_json;
void topo_print_json(const struct fwd_topology *t, struct fwd_json *j);

/* Lookups used by the control plane. */
const struct fwd_namespace *topo_namespace_find(const struct fwd_topology *t, const char *name);
in_addr_t topo_subnet(const struct fwd_topology *t);	   /* network order */
in_addr_t topo_netmask(const struct fwd_topology *t);	   /* network order */

/* "a.b.c.d" into a static buffer per call slot (up to 4 live at a time). */
const char *fwd_ip_str(in_addr_t addr);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fwd-cni: fwd as a CNI plugin (spec 1.0.0: ADD, DEL, CHECK, VERSION; 1.1.0's GC and STATUS).
 * A CNI network is a fwd topology that fwd-cni writes itself: the network config gives the
 * bridge, subnet, gateway, uplink and masquerade; each container attached (ADD) is one of its
 * namespaces, at an address fwd-cni (or the IPAM plugin the config names) allocates, with a
 * forward per port mapping; DEL takes it
 * out again, and the last DEL takes the topology down. The topology is brought up by the code
 * `fwdctl up` runs, so `fwdctl status`, `stats` and `ct` show the containers as any namespace.
 *
 * It sits above ctl/ (its library and headers), as the tests' tools do.
 */
#ifndef FWD_CNI_H
#define FWD_CNI_H

#include <jansson.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "topology.h"

/* The spec's error codes ("Error" in SPEC.md); from 100: fwd-cni's own. */
enum cni_code {
	CNI_ERR_VERSION = 1,	/* incompatible CNI version */
	CNI_ERR_FIELD = 2,	/* unsupported field in the network config */
	CNI_ERR_CONTAINER = 3,	/* container unknown or does not exist */
	CNI_ERR_ENV = 4,	/* invalid necessary environment variables */
	CNI_ERR_IO = 5,		/* I/O failure */
	CNI_ERR_DECODE = 6,	/* failed to decode content */
	CNI_ERR_CONFIG = 7,	/* invalid network config */
	CNI_ERR_TRY_AGAIN = 11, /* try again later */
	CNI_ERR_NOT_READY = 50, /* STATUS: the plugin cannot serve ADD now */
	CNI_ERR_UP = 100,	/* fwd could not build the topology (stderr says why) */
	CNI_ERR_FULL = 101,	/* no free address in the subnet */
	CNI_ERR_PORT = 102,	/* a host port another container publishes */
};

/* What the plugin prints on failure: {"cniVersion", "code", "msg", "details"}. */
struct cni_error {
	int code;
	char msg[256];
	char details[512];
};

/* Fill @e; returns -1, for `return cni_fail(...)`. */
int cni_fail(struct cni_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One port mapping (the portMappings capability): a forward of the topology. */
#define CNI_MAX_PORTS 64
struct cni_port {
	uint16_t host_port;	 /* host order */
	uint16_t container_port; /* host order */
	uint8_t proto;		 /* IPPROTO_TCP or IPPROTO_UDP */
	in_addr_t host_ip;	 /* network order; 0: the uplink's primary address */
};

/* One attachment of a container to a GC list ("cni.dev/valid-attachments"). */
struct cni_attachment_id {
	char id[256];
	char ifname[IF_NAMESIZE];
};

/* The network config, checked: what makes the topology, and this call's runtime config. */
struct cni_netconf {
	char cni_version[16];
	char name[128];			   /* the network's name */
	char topology[FWD_TOPO_NAME_SIZE]; /* "topology", else made from the name */
	char bridge[IF_NAMESIZE];
	struct fwd_cidr subnet; /* host bits zero */
	in_addr_t gateway;	/* network order: "gateway", else the subnet's first host */
	bool masquerade;
	char uplink[IF_NAMESIZE]; /* "" without one */
	enum fwd_datapath datapath;
	char ipam_type[64]; /* "ipam": {"type"}: the plugin that allocates; "": fwd-cni does */
	/* "routes": [{"dst", "gw"}]: other hosts' subnets, route lines of the topology */
	struct fwd_route routes[FWD_MAX_ROUTES];
	size_t n_routes;
	struct cni_port ports[CNI_MAX_PORTS]; /* runtimeConfig.portMappings */
	size_t n_ports;
	/* GC: the attachments to keep; NULL when the field is absent */
	struct cni_attachment_id *valid;
	size_t n_valid;
};

/* The versions fwd-cni speaks; the result is written in the config's. */
extern const char *const cni_versions[];

/*
 * Parse and check the network config in @buf (@len bytes, untrusted). 0, or -1 with @e set
 * (CNI_ERR_DECODE, CNI_ERR_CONFIG, CNI_ERR_VERSION, CNI_ERR_FIELD). Free with
 * cni_netconf_free().
 */
int cni_netconf_parse(const char *buf, size_t len, struct cni_netconf *nc, struct cni_error *e);
void cni_netconf_free(struct cni_netconf *nc);

/* A container attached to the network: what the state file keeps of it. */
struct cni_container {
	char id[256];
	char ifname[IF_NAMESIZE];
	char netns[FWD_NETNS_NAME_MAX + 1]; /* its namespace's name under /run/netns */
	in_addr_t addr;			    /* network order */
	struct cni_port ports[CNI_MAX_PORTS];
	size_t n_ports;
};

/* The network's containers, in FWD_CNI_DIR/TOPOLOGY.json, locked while held. */
#define FWD_CNI_DIR "/run/fwd/cni"
struct cni_state {
	char path[128];
	int lock_fd;
	struct cni_container *c;
	size_t n;
};

/* Lock and read the state of topology @topology (none yet: empty). 0 or -1 with @e set. */
int cni_state_open(struct cni_state *s, const char *topology, struct cni_error *e);
/* Write it back (atomically); 0 or -1 with @e set. */
int cni_state_save(struct cni_state *s, struct cni_error *e);
/* Unlock and free. */
void cni_state_close(struct cni_state *s);
/* The container attached as (@id, @ifname), or NULL. */
struct cni_container *cni_state_find(struct cni_state *s, const char *id, const char *ifname);
/* Remove entry @c (a pointer into s->c). */
void cni_state_remove(struct cni_state *s, struct cni_container *c);
/* A new entry at the end, zeroed; NULL without memory. */
struct cni_container *cni_state_add(struct cni_state *s);
/* The first free address of @nc's subnet (not the gateway, network or broadcast address, nor
 * a container's), network order; 0 when none is left. */
in_addr_t cni_state_free_addr(const struct cni_state *s, const struct cni_netconf *nc);

/*
 * The IPAM plugin @nc->ipam_type (ipam.c), given the network config @conf as fwd-cni got it:
 * ADD's address into *@addr (a host of the subnet, not the gateway), and DEL. 0, or -1 with
 * @e set (the plugin's own error passed on).
 */
int cni_ipam_add(const struct cni_netconf *nc, const char *conf, size_t conf_len, in_addr_t *addr,
		 struct cni_error *e);
int cni_ipam_del(const struct cni_netconf *nc, const char *conf, size_t conf_len,
		 struct cni_error *e);

/*
 * Bring topology @nc up with the containers of @s as its namespaces (down when there are
 * none). 0, or -1 with @e set.
 */
int cni_apply(const struct cni_netconf *nc, const struct cni_state *s, struct cni_error *e);

#endif

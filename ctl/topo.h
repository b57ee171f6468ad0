/* SPDX-License-Identifier: GPL-2.0 */
/* topology.conf: parsing and validation (topo_parse.c), the normalised forms (topo.c). */
#ifndef FWD_TOPO_H
#define FWD_TOPO_H

#include <stdio.h>

#include <jansson.h>

#include "topology.h"

/*
 * The states of `conntrack timeout STATE SECONDS`, in the order the normalised form prints
 * them: X(name in the file, member of struct fwd_ct_timeouts).
 */
#define FWD_CT_TIMEOUT_STATES(X)                                                                   \
	X("tcp-syn-sent", tcp_syn_sent)                                                            \
	X("tcp-syn-recv", tcp_syn_recv)                                                            \
	X("tcp-established", tcp_established)                                                      \
	X("tcp-fin-wait", tcp_fin_wait)                                                            \
	X("tcp-time-wait", tcp_time_wait)                                                          \
	X("tcp-close", tcp_close)                                                                  \
	X("udp", udp)                                                                              \
	X("udp-assured", udp_assured)                                                              \
	X("icmp", icmp)

struct topo_ct_state {
	const char *name;
	size_t offset; /* of its __u32 in struct fwd_ct_timeouts */
};
extern const struct topo_ct_state topo_ct_states[];
extern const size_t topo_n_ct_states;

/* The timeout of @s in @to. */
static inline __u32 *topo_ct_timeout(struct fwd_ct_timeouts *to, const struct topo_ct_state *s)
{
	return (__u32 *)((char *)to + s->offset);
}

/*
 * Parse topology.conf text. @path names the file in messages and gives the default topology
 * name (basename without .conf). Every violation is written to @err as "PATH:LINE: message";
 * returns 0, -EINVAL when the text is invalid, or -ENOMEM. Nothing outside @t is touched.
 */
int topo_parse_buf(struct fwd_topology *t, const char *path, const char *buf, size_t len,
		   FILE *err);
/* Read @path (at most 16 MiB) and parse it; -errno with a message on @err when unreadable. */
int topo_parse_file(struct fwd_topology *t, const char *path, FILE *err);
/* (topo_routes4() and topo_routes6(): in topology.h, beside the forward helpers they use) */
/*
 * The topology name a file gives, even when the rest of it does not parse: its first valid
 * `topology NAME` line, else its base name without ".conf" (into @name, FWD_TOPO_NAME_SIZE);
 * -EINVAL when neither is a valid name.
 */
int topo_name_of_file(const char *path, char *name);
void topo_free(struct fwd_topology *t);

/* Is @name a valid topology name? (also used for "down NAME") */
bool topo_name_valid(const char *name);

/* The normalised topology: canonical order, one declaration per line. */
void topo_print(const struct fwd_topology *t, FILE *out);
/* The same as a JSON object (`fwdctl -j check`); NULL when out of memory. */
json_t *topo_to_json(const struct fwd_topology *t);

const struct fwd_namespace *topo_namespace_find(const struct fwd_topology *t, const char *name);
/* The name of the namespace with address @addr, "?" when none has it. */
const char *topo_namespace_name(const struct fwd_topology *t, in_addr_t addr);
/* Its IPv4 address, or its IPv6 one when it has IPv6 only, as text (fwd_ip_str's buffers). */
const char *topo_namespace_addr_str(const struct fwd_namespace *ns);
/* The namespace whose IPv4 address (or stand-in) is @addr, NULL when none. */
const struct fwd_namespace *topo_namespace_of(const struct fwd_topology *t, in_addr_t addr);

/* "a.b.c.d" into a static buffer per call slot (up to 4 live at a time). */
const char *fwd_ip_str(in_addr_t addr);
/* The IPv6 address in RFC 5952's form, in one of four static buffers (like fwd_ip_str). */
const char *fwd_ip6_str(const struct in6_addr *addr);

#endif

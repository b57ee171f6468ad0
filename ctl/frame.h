/* SPDX-License-Identifier: GPL-2.0 */
/* A decoded frame (struct fwd_frame_info) in output: monitor's drops, capture's copies. */
#ifndef FWD_FRAME_H
#define FWD_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fwd_loader.h"
#include "topology.h"

/* "tcp", "udp", "icmp", or the protocol's number. */
json_t *frame_proto_json(uint8_t proto);
/* Add what @f knows to @doc: ethertype, proto, src, dst, sport, dport, icmp_type, icmp_code. */
void frame_json_add(json_t *doc, const struct fwd_frame_info *f);
/* "SRC[:SPORT] -> DST[:DPORT]" of the members src, sport, dst, dport of @doc; "-" without. */
void frame_flow_text(json_t *doc, char *buf, size_t len);
/* Those members of @doc as text: "tcp 10.0.0.1:80 -> 10.0.0.2:5000", "icmp A -> B type 8 code
 * 0", "ethertype 0x0806". */
void frame_text(json_t *doc, char *buf, size_t len);

/*
 * Which namespace of a topology a host-side veth belongs to: their ifindexes, looked up once
 * (a namespace added later is not known). frame_ns_of(): its name, or NULL.
 */
struct frame_ns_map {
	const struct fwd_topology *t;
	int *ifindex; /* per namespace, in the topology's order; 0: no veth */
};
int frame_ns_map_build(const struct fwd_topology *t, struct frame_ns_map *m);
const char *frame_ns_of(const struct frame_ns_map *m, int ifindex);
void frame_ns_map_free(struct frame_ns_map *m);

#endif

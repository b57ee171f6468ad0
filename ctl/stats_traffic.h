/* SPDX-License-Identifier: GPL-2.0 */
/* fwdctl stats: the counters per namespace and per forward, as rows of the stats document. */
#ifndef FWD_STATS_TRAFFIC_H
#define FWD_STATS_TRAFFIC_H

#include <stddef.h>

#include <jansson.h>

#include "topology.h"

/* "tcp 8000-8009 blue:80" (with " on ADDR" for an address), forward @f of @t, into @buf. */
int stats_forward_text(const struct fwd_topology *t, const struct fwd_forward *f, char *buf,
		       size_t len);
/*
 * The "namespaces" and "forwards" arrays of the stats document into *@ns and *@fwd; an error
 * (said) leaves both NULL.
 */
int stats_traffic_rows(const struct fwd_topology *t, json_t **ns, json_t **fwd);
/* Both as text tables after the counters. */
void stats_traffic_print(json_t *doc);

#endif

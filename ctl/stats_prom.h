/* SPDX-License-Identifier: GPL-2.0 */
/* fwdctl stats --prometheus: the counters in the Prometheus text exposition format. */
#ifndef FWD_CTL_STATS_PROM_H
#define FWD_CTL_STATS_PROM_H

#include <stdio.h>

#include <jansson.h>

/*
 * Write @docs, an array of the documents 'fwdctl -j stats' prints (one per topology), to @f
 * as metric families of the text exposition format 0.0.4, every family once with all the
 * topologies' samples. 0, or -errno of the write.
 */
int stats_prom_write(FILE *f, json_t *docs);

#endif

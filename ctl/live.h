/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the live commands (monitor, capture) share: the clocks, an event's time as text, and
 * running until SIGINT or SIGTERM.
 */
#ifndef FWD_LIVE_H
#define FWD_LIVE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* @clock now, in nanoseconds. */
int64_t live_clock_ns(clockid_t clock);
/* @ns of CLOCK_REALTIME as UTC, ISO 8601 with @digits (3 or 6) fractional digits. */
void live_time_text(int64_t ns, int digits, char *buf, size_t len);
/* From now on SIGINT and SIGTERM only set live_stopped(): the loop ends, the command cleans up. */
void live_catch_stop(void);
int live_stopped(void);

#endif

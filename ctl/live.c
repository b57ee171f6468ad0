// SPDX-License-Identifier: GPL-2.0
/* What fwdctl monitor and capture share: clocks, times as text, stopping on a signal. */
#include "live.h"

#include <signal.h>
#include <stdio.h>

static volatile sig_atomic_t live_stop_signal;

static void live_on_signal(int sig)
{
	live_stop_signal = sig;
}

int64_t live_clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void live_time_text(int64_t ns, int digits, char *buf, size_t len)
{
	time_t sec = (time_t)(ns / 1000000000);
	int frac = (int)(ns % 1000000000);
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	if (digits == 3)
		snprintf(buf + n, len - n, ".%03dZ", frac / 1000000);
	else
		snprintf(buf + n, len - n, ".%06dZ", frac / 1000);
}

void live_catch_stop(void)
{
	struct sigaction sa = { .sa_handler = live_on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int live_stopped(void)
{
	return live_stop_signal != 0;
}

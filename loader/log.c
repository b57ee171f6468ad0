// SPDX-License-Identifier: GPL-2.0
/*
 * One logging layer for the loader, libbpf and libxdp: warnings always reach stderr with the
 * "fwdctl: " prefix; info from -v on; libbpf's and the verifier's debug output from -vv, or
 * when FWD_DEBUG is set in the environment.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "internal.h"

static int fwd_verbosity; /* -1 -q, 0 default, 1 -v, 2 -vv */
static bool fwd_log_ready;
static int fwd_log_probing; /* > 0: libbpf warnings are expected answers, not failures */

void loader_log_probe(bool on)
{
	fwd_log_probing += on ? 1 : -1;
}

void loader_set_verbosity(int verbosity)
{
	fwd_verbosity = verbosity;
}

int loader_verbosity(void)
{
	const char *env = getenv("FWD_DEBUG");

	if (env && *env && *env != '0')
		return FWD_LOG_DEBUG;
	return fwd_verbosity;
}

static void fwd_vlog(int level, const char *fmt, va_list ap)
{
	if (level > FWD_LOG_WARN && level > loader_verbosity())
		return;
	fputs("fwdctl: ", stderr);
	vfprintf(stderr, fmt, ap);
}

void fwd_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fwd_vlog(level, fmt, ap);
	va_end(ap);
}

static int fwd_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int l = level == LIBBPF_WARN   ? FWD_LOG_WARN
		: level == LIBBPF_INFO ? FWD_LOG_INFO
				       : FWD_LOG_DEBUG;

	if (fwd_log_probing > 0 && l == FWD_LOG_WARN)
		l = FWD_LOG_DEBUG; /* e.g. "Parent Qdisc doesn't exists" when asking a bare link */
	/* libbpf says "libbpf: ..." itself; its info is chatty, so it needs -vv too. */
	fwd_vlog(l == FWD_LOG_INFO ? FWD_LOG_DEBUG : l, fmt, ap);
	return 0;
}

static int fwd_libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	fwd_vlog(level == LIBXDP_WARN ? FWD_LOG_WARN : FWD_LOG_DEBUG, fmt, ap);
	return 0;
}

void loader_log_init(void)
{
	if (fwd_log_ready)
		return;
	libbpf_set_print(fwd_libbpf_print);
	libxdp_set_print(fwd_libxdp_print);
	fwd_log_ready = true;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The one logger (include/fwd_log.h). libbpf's and libxdp's output is routed here too: their
 * warnings are fwd's warnings, their info and debug output (verifier logs among it) needs -vv.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "internal.h"

static const char *log_prog = "fwd";
static int log_verbosity; /* -1 -q, 0 default, 1 -v, 2 -vv */
static int log_probing;	  /* > 0: libbpf warnings are expected answers, not failures */

static int log_level_shown(void)
{
	const char *env = getenv("FWD_DEBUG");

	if (env && *env && strcmp(env, "0"))
		return FWD_LOG_DEBUG;
	if (log_verbosity < 0)
		return FWD_LOG_WARN;
	return FWD_LOG_NOTE + (log_verbosity > 2 ? 2 : log_verbosity);
}

bool fwd_log_enabled(enum fwd_log_level level)
{
	return (int)level <= log_level_shown();
}

static void log_vprint(enum fwd_log_level level, bool prefix, const char *fmt, va_list ap)
{
	size_t n = strlen(fmt);

	if (!fwd_log_enabled(level))
		return;
	if (prefix)
		fprintf(stderr, "%s: ", log_prog);
	vfprintf(stderr, fmt, ap);
	/* fwd's messages are single lines without their newline; libbpf's bring their own. */
	if (!n || fmt[n - 1] != '\n')
		fputc('\n', stderr);
}

void fwd_log(enum fwd_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprint(level, true, fmt, ap);
	va_end(ap);
}

int fwd_fail(int err, const char *object, const char *what)
{
	fwd_err("%s: %s: %s", object, what, strerror(-err));
	return err;
}

static int log_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum fwd_log_level l = level == LIBBPF_WARN ? FWD_LOG_WARN : FWD_LOG_DEBUG;

	if (log_probing > 0)
		l = FWD_LOG_DEBUG; /* e.g. "Parent Qdisc doesn't exists" when asking a bare link */
	/* libbpf starts its lines with "libbpf: " itself. */
	log_vprint(l, false, fmt, ap);
	return 0;
}

static int log_libxdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	log_vprint(level == LIBXDP_WARN && log_probing <= 0 ? FWD_LOG_WARN : FWD_LOG_DEBUG, false,
		   fmt, ap);
	return 0;
}

void fwd_log_setup(const char *prog, int verbosity)
{
	log_prog = prog;
	log_verbosity = verbosity;
	libbpf_set_print(log_libbpf);
	libxdp_set_print(log_libxdp);
}

void loader_log_probe(bool on)
{
	log_probing += on ? 1 : -1;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one logger of fwd's programs (implemented in loader/log.c, which also routes libbpf's and
 * libxdp's output through it). Every line goes to stderr as "PROGRAM: message"; data goes to
 * stdout and never through here.
 *
 * Who prints: a function that decides an error prints it once, with the object and the cause,
 * and returns -errno; its callers pass the -errno on without printing again.
 */
#ifndef FWD_LOG_H
#define FWD_LOG_H

#include <stdbool.h>

enum fwd_log_level {
	FWD_LOG_ERR,   /* a failure: always printed */
	FWD_LOG_WARN,  /* something the user should know; fwd goes on: always printed */
	FWD_LOG_NOTE,  /* what a command did ("topology lab is up"): hidden by -q */
	FWD_LOG_INFO,  /* what is being done, step by step: -v */
	FWD_LOG_DEBUG, /* libbpf's debug output and verifier logs: -vv (or FWD_DEBUG=1) */
};

/*
 * @prog prefixes every line ("fwdctl"). @verbosity: -1 for -q, 0 by default, 1 for -v, 2 for
 * -vv; FWD_DEBUG set (and not "0") in the environment raises it to 2.
 */
void fwd_log_setup(const char *prog, int verbosity);
/* Would a message of @level be printed? (to skip work that only feeds a message) */
bool fwd_log_enabled(enum fwd_log_level level);
void fwd_log(enum fwd_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define fwd_err(...)   fwd_log(FWD_LOG_ERR, __VA_ARGS__)
#define fwd_warn(...)  fwd_log(FWD_LOG_WARN, __VA_ARGS__)
#define fwd_note(...)  fwd_log(FWD_LOG_NOTE, __VA_ARGS__)
#define fwd_info(...)  fwd_log(FWD_LOG_INFO, __VA_ARGS__)
#define fwd_debug(...) fwd_log(FWD_LOG_DEBUG, __VA_ARGS__)

/*
 * Print "OBJECT: WHAT: strerror(-err)" as an error and return @err, so a caller that decided
 * the failure can `return fwd_fail(err, ...)`.
 */
int fwd_fail(int err, const char *object, const char *what);

#endif

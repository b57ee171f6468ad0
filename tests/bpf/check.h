/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PASS:/FAIL: lines of the BPF tests, the ones tests/run-all counts. A case collects what
 * went wrong with CHECK() (the first failure says why), then reports once:
 *
 *	CHECK(f_port(&out, 0) == 40000, "source port %u", f_port(&out, 0));
 *	check_result("%s: %s", obj, "tcp syn leaves as uplink:40000");
 *		-> "PASS: snat: tcp syn leaves as uplink:40000"
 *		   or "FAIL: snat: tcp syn leaves as uplink:40000: source port 50001"
 *
 * and the program ends with `return check_summary();` ("N passed, N failed", exit status).
 */
#ifndef FWD_TESTS_CHECK_H
#define FWD_TESTS_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int check_passed, check_failed;
static bool check_bad;	    /* the current case failed */
static char check_why[256]; /* why: its first failure */

/* Fail the current case with a reason (kept only if it is the first). */
static inline void check_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline void check_fail(const char *fmt, ...)
{
	va_list ap;

	if (check_bad)
		return;
	check_bad = true;
	va_start(ap, fmt);
	vsnprintf(check_why, sizeof(check_why), fmt, ap);
	va_end(ap);
}

/* COND must hold, or the case fails with the reason printf(...) makes. */
#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!check_bad && !(cond))                                                         \
			check_fail(__VA_ARGS__);                                                   \
	} while (0)

/* Has the current case failed so far? */
static inline bool check_failing(void)
{
	return check_bad;
}

/* The current case's line, named by printf(...); the next case starts clean. True: passed. */
static inline bool check_result(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline bool check_result(const char *fmt, ...)
{
	bool ok = !check_bad;
	va_list ap;

	printf("%s: ", ok ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (ok)
		printf("\n");
	else
		printf(": %s\n", check_why);
	if (ok)
		check_passed++;
	else
		check_failed++;
	check_bad = false;
	check_why[0] = '\0';
	return ok;
}

/* The last line, "N passed, N failed"; the exit status to return from main(). */
static inline int check_summary(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* What the libFuzzer targets of tests/fuzz/ share. */
#ifndef FWD_TESTS_FUZZ_H
#define FWD_TESTS_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Where the parsers' messages about bad input go: nowhere (they are expected, and many). */
static inline FILE *fuzz_sink(void)
{
	static FILE *sink;

	if (!sink)
		sink = fopen("/dev/null", "w");
	if (!sink)
		abort();
	return sink;
}

/*
 * A property the target checks does not hold: say which, with the text that shows it, and
 * abort (libFuzzer keeps the input as a crash).
 */
static inline void fuzz_broken(const char *what, const char *text, size_t len)
{
	fprintf(stderr, "fuzz: %s:\n%.*s\n", what, (int)len, text);
	abort();
}

#endif

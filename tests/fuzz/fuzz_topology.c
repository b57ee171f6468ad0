// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: topology.conf, the file users write (ctl/topo_parse.c). Besides crashes and
 * sanitizer reports it checks a property: a text that parses prints a normalised form
 * (`fwdctl check`) that parses again to the same normalised form, and converts to JSON.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo.h"

#include "fuzz.h"

/* The normalised form of @t, malloc'ed, in *@text (*@len bytes). */
static void normalised(const struct fwd_topology *t, char **text, size_t *len)
{
	FILE *m = open_memstream(text, len);

	if (!m)
		abort(); /* out of memory: not what this target looks for */
	topo_print(t, m);
	fclose(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fwd_topology t, again;
	char *first = NULL, *second = NULL;
	size_t first_len, second_len;
	json_t *json;

	if (topo_parse_buf(&t, "fuzz.conf", (const char *)data, size, fuzz_sink()))
		return 0;
	normalised(&t, &first, &first_len);
	if (topo_parse_buf(&again, "fuzz.conf", first, first_len, fuzz_sink()))
		fuzz_broken("the normalised form does not parse", first, first_len);
	normalised(&again, &second, &second_len);
	if (first_len != second_len || memcmp(first, second, first_len))
		fuzz_broken("the normalised form changes when parsed again", second, second_len);
	json = topo_to_json(&t);
	if (!json)
		abort();
	json_decref(json);
	topo_free(&again);
	topo_free(&t);
	free(first);
	free(second);
	return 0;
}

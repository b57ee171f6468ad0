// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: topology.conf, the file users write (ctl/topo_parse.c). Besides crashes and
 * sanitizer reports it checks a property: a text that parses prints a normalised form
 * (`fwdctl check`) that parses again to the same normalised form, and converts to JSON; every
 * namespace with IPv6 alone has a stand-in of 0.0.0.0/8 that no other namespace has.
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

/* Each stand-in is in 0.0.0.0/8, not 0.0.0.0, and the key of one namespace only (sorted: a
 * topology holds up to 1,023 namespaces). */
static int by_addr(const void *a, const void *b)
{
	in_addr_t x = *(const in_addr_t *)a, y = *(const in_addr_t *)b;

	return (x > y) - (x < y);
}

static void check_standins(const struct fwd_topology *t)
{
	in_addr_t *keys = calloc(t->n_namespaces + 1, sizeof(*keys));

	if (!keys)
		abort();
	for (size_t i = 0; i < t->n_namespaces; i++) {
		const struct fwd_namespace *ns = &t->namespaces[i];

		if (ns->v6only != (fwd_addr_is_standin(ns->addr) != 0) ||
		    (ns->v6only && (!ns->addr || !ns->has6)))
			fuzz_broken("a namespace's stand-in is wrong", ns->name, strlen(ns->name));
		keys[i] = ns->addr;
	}
	qsort(keys, t->n_namespaces, sizeof(*keys), by_addr);
	for (size_t i = 1; i < t->n_namespaces; i++)
		if (keys[i] == keys[i - 1])
			fuzz_broken("two namespaces share a key", "", 0);
	free(keys);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fwd_topology t, again;
	char *first = NULL, *second = NULL;
	size_t first_len, second_len;
	json_t *json;

	if (topo_parse_buf(&t, "fuzz.conf", (const char *)data, size, fuzz_sink()))
		return 0;
	check_standins(&t);
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

// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the journal (ctl/journal.c), the file `down` trusts to say what `up`
 * created. Besides crashes and sanitizer reports it checks what `down` relies on: every entry
 * has a known kind and a terminated name and value, and no kind and name appear twice.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "journal.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal j = { .fd = -1, .lock_fd = -1 };
	FILE *f;

	if (!size)
		return 0; /* fmemopen() takes no empty buffer; an empty journal is read elsewhere */
	f = fmemopen((void *)data, size, "r");
	if (!f)
		abort();
	if (journal_parse(&j, f))
		abort(); /* only out of memory fails */
	fclose(f);
	if (!memchr(j.hostns, '\0', sizeof(j.hostns)))
		fuzz_broken("the host namespace's identity is not terminated", j.hostns,
			    sizeof(j.hostns));
	for (size_t i = 0; i < j.n; i++) {
		const struct journal_entry *e = &j.entries[i];

		if (e->kind > J_LAST_KIND)
			fuzz_broken("an entry of no known kind", e->name, sizeof(e->name));
		if (!memchr(e->name, '\0', sizeof(e->name)) ||
		    !memchr(e->value, '\0', sizeof(e->value)))
			fuzz_broken("an entry's name or value is not terminated", e->name,
				    sizeof(e->name));
		if (journal_find(&j, e->kind, e->name) != e)
			fuzz_broken("an entry appears twice", e->name, strlen(e->name));
	}
	journal_close(&j);
	return 0;
}

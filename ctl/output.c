// SPDX-License-Identifier: GPL-2.0
/* Text tables and JSON from one document; see output.h. */
#include "output.h"

#include <errno.h>

void out_value_text(json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
	else
		snprintf(buf, len, "-");
}

static void out_cell(FILE *f, const struct out_col *c, bool first, const char *text)
{
	fprintf(f, "%s%*s", first ? "" : " ", c->width, text);
}

void out_row(FILE *f, const char *indent, const struct out_col *cols, size_t n, json_t *row)
{
	char buf[512];

	fputs(indent, f);
	for (size_t i = 0; i < n; i++) {
		if (cols[i].text)
			cols[i].text(row, buf, sizeof(buf));
		else
			out_value_text(json_object_get(row, cols[i].key), buf, sizeof(buf));
		out_cell(f, &cols[i], i == 0, buf);
	}
	fputc('\n', f);
}

void out_table(FILE *f, const char *indent, const struct out_col *cols, size_t n, json_t *rows,
	       bool header)
{
	size_t i;
	json_t *row;

	if (header) {
		fputs(indent, f);
		for (i = 0; i < n; i++)
			out_cell(f, &cols[i], i == 0, cols[i].head);
		fputc('\n', f);
	}
	json_array_foreach(rows, i, row) out_row(f, indent, cols, n, row);
}

int out_json(json_t *doc)
{
	if (!doc)
		return -ENOMEM;
	json_dumpf(doc, stdout, JSON_COMPACT);
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(doc);
	return 0;
}

int out_append(json_t *array, json_t *v)
{
	return v && !json_array_append_new(array, v) ? 0 : -ENOMEM;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a command prints is built once, as a JSON document (jansson), and shown either as that
 * document (-j) or as text: tables whose columns each name a member of the rows, so a field is
 * written in one place for both forms.
 */
#ifndef FWD_OUTPUT_H
#define FWD_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

struct out_col {
	const char *head; /* the column's header */
	const char *key;  /* the member of each row shown in this column */
	int width;	  /* text width; negative left-aligns (as printf's "%-*s"), 0 unpadded */
	/* Optional: the cell's text made from the whole row, where a cell combines members. */
	void (*text)(json_t *row, char *buf, size_t len);
};

/* One row (a JSON object) as a text line: @indent, then the columns separated by a space. */
void out_row(FILE *f, const char *indent, const struct out_col *cols, size_t n, json_t *row);
/* The header line (when @header), then every row of the array @rows. */
void out_table(FILE *f, const char *indent, const struct out_col *cols, size_t n, json_t *rows,
	       bool header);
/* A member's text: strings as they are, numbers in decimal, true/false, "-" for null/absent. */
void out_value_text(json_t *v, char *buf, size_t len);
/* Print @doc on stdout as one line of JSON and release it; -ENOMEM when @doc is NULL. */
int out_json(json_t *doc);
/* Append @v (a new reference, may be NULL) to @array; -ENOMEM when it could not be made. */
int out_append(json_t *array, json_t *v);

#define OUT_COLS(cols) (cols), (sizeof(cols) / sizeof((cols)[0]))

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* A small streaming JSON writer for fwdctl's -j output. */
#ifndef FWD_JSON_H
#define FWD_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define FWD_JSON_MAX_DEPTH 16

struct fwd_json {
	FILE *out;
	int depth;
	bool first[FWD_JSON_MAX_DEPTH]; /* no member written yet at this depth */
};

/* @key is NULL inside arrays and for the top-level value. */
void json_init(struct fwd_json *j, FILE *out);
void json_object_begin(struct fwd_json *j, const char *key);
void json_object_end(struct fwd_json *j);
void json_array_begin(struct fwd_json *j, const char *key);
void json_array_end(struct fwd_json *j);
void json_string(struct fwd_json *j, const char *key, const char *value);
void json_uint(struct fwd_json *j, const char *key, uint64_t value);
void json_int(struct fwd_json *j, const char *key, int64_t value);
void json_bool(struct fwd_json *j, const char *key, bool value);
void json_null(struct fwd_json *j, const char *key);
/* Ends the document with a newline. */
void json_finish(struct fwd_json *j);

#endif

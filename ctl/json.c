// SPDX-License-Identifier: GPL-2.0
/* Streaming JSON writer: compact output, strings escaped per RFC 8259. */
#include "fwd_json.h"

#include <inttypes.h>

static void json_escaped(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\t': fputs("\\t", out); break;
		case '\r': fputs("\\r", out); break;
		default:
			if (*p < 0x20)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

/* Separator and key before a value at the current depth. */
static void json_member(struct fwd_json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->out);
	j->first[j->depth] = false;
	if (key) {
		json_escaped(j->out, key);
		fputc(':', j->out);
	}
}

void json_init(struct fwd_json *j, FILE *out)
{
	j->out = out;
	j->depth = 0;
	for (int i = 0; i < FWD_JSON_MAX_DEPTH; i++)
		j->first[i] = true;
}

static void json_open(struct fwd_json *j, const char *key, char c)
{
	json_member(j, key);
	fputc(c, j->out);
	if (j->depth + 1 < FWD_JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

static void json_close(struct fwd_json *j, char c)
{
	fputc(c, j->out);
	if (j->depth > 0)
		j->depth--;
}

void json_object_begin(struct fwd_json *j, const char *key) { json_open(j, key, '{'); }
void json_object_end(struct fwd_json *j) { json_close(j, '}'); }
void json_array_begin(struct fwd_json *j, const char *key) { json_open(j, key, '['); }
void json_array_end(struct fwd_json *j) { json_close(j, ']'); }

void json_string(struct fwd_json *j, const char *key, const char *value)
{
	json_member(j, key);
	json_escaped(j->out, value);
}

void json_uint(struct fwd_json *j, const char *key, uint64_t value)
{
	json_member(j, key);
	fprintf(j->out, "%" PRIu64, value);
}

void json_int(struct fwd_json *j, const char *key, int64_t value)
{
	json_member(j, key);
	fprintf(j->out, "%" PRId64, value);
}

void json_bool(struct fwd_json *j, const char *key, bool value)
{
	json_member(j, key);
	fputs(value ? "true" : "false", j->out);
}

void json_null(struct fwd_json *j, const char *key)
{
	json_member(j, key);
	fputs("null", j->out);
}

void json_finish(struct fwd_json *j)
{
	fputc('\n', j->out);
	fflush(j->out);
}

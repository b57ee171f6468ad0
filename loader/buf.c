// SPDX-License-Identifier: GPL-2.0
/* The growable text buffer of include/fwd_buf.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd_buf.h"

/* Room for @n more bytes and the NUL; sets the sticky error when it cannot be had. */
static int buf_reserve(struct fwd_buf *b, size_t n)
{
	size_t cap;
	char *data;

	if (b->err)
		return b->err;
	if (b->len + n + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n + 1)
		cap *= 2;
	data = realloc(b->data, cap);
	if (!data)
		return b->err = -ENOMEM;
	b->data = data;
	b->cap = cap;
	return 0;
}

int fwd_buf_append(struct fwd_buf *b, const void *data, size_t n)
{
	int err = buf_reserve(b, n);

	if (err)
		return err;
	memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int fwd_buf_printf(struct fwd_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, err;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return b->err ? b->err : (b->err = -EINVAL);
	err = buf_reserve(b, (size_t)n);
	if (err)
		return err;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

char *fwd_buf_take(struct fwd_buf *b)
{
	char *data = b->err ? NULL : b->data;

	if (b->err)
		free(b->data);
	*b = (struct fwd_buf){ 0 };
	return data;
}

void fwd_buf_free(struct fwd_buf *b)
{
	free(b->data);
	*b = (struct fwd_buf){ 0 };
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A growable text buffer (implemented in loader/buf.c). An allocation failure is sticky: the
 * buffer keeps b->err = -ENOMEM and takes no more text, so a writer can append freely and check
 * once at the end, and never uses a buffer with a gap in it.
 */
#ifndef FWD_BUF_H
#define FWD_BUF_H

#include <stddef.h>

struct fwd_buf {
	char *data; /* NUL-terminated once anything was appended; NULL before */
	size_t len;
	size_t cap;
	int err; /* 0, or -ENOMEM after a failed growth */
};

int fwd_buf_append(struct fwd_buf *b, const void *data, size_t n);
int fwd_buf_printf(struct fwd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the text over to the caller (who frees it); the buffer is empty again. NULL on error. */
char *fwd_buf_take(struct fwd_buf *b);
void fwd_buf_free(struct fwd_buf *b);

#endif

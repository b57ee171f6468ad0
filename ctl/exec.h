/* SPDX-License-Identifier: GPL-2.0 */
/* Running a helper program (iptables-restore, iptables-save) with input and captured output. */
#ifndef FWD_EXEC_H
#define FWD_EXEC_H

#include <stddef.h>

/*
 * Run @argv (PATH lookup) in the current network namespace, feed it @input (may be NULL), and
 * capture stdout into a malloc'd NUL-terminated *@output (when non-NULL; caller frees) and
 * stderr into @errbuf (truncated). Returns the exit status (0..255), or -errno when it could
 * not run at all (-ENOENT: not installed).
 */
int fwd_run(char *const argv[], const char *input, char **output, char *errbuf, size_t errlen);

#endif

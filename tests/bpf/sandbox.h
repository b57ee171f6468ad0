/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The world of a BPF test: a network namespace of the process's own (unshare: nothing named,
 * nothing to clean up, gone when the process ends), built by running CMDS in it with the
 * shell, in order. The first command that fails ends it: -1 and a line on stderr naming WHO
 * (the test) and the command.
 *
 *	static const char *const cmds[] = { "ip link set lo up", ... };
 *	if (sandbox_enter("fwd_snat", cmds, sizeof(cmds) / sizeof(cmds[0])))
 *		...
 */
#ifndef FWD_TESTS_SANDBOX_H
#define FWD_TESTS_SANDBOX_H

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int sandbox_enter(const char *who, const char *const *cmds, size_t n)
{
	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "%s: unshare(CLONE_NEWNET): %s\n", who, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (system(cmds[i])) {
			fprintf(stderr, "%s: \"%s\" failed\n", who, cmds[i]);
			return -1;
		}
	return 0;
}

#endif

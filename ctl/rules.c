// SPDX-License-Identifier: GPL-2.0
/* Running netfilter's save and restore tools for ipt.c and ebt.c (see rules.h). */
#include "rules.h"
#include "exec.h"
#include "fwd_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

char *rules_save(char *const argv[], const char *pkg)
{
	char err[512], *out = NULL;
	int ret = fwd_run(argv, NULL, &out, err, sizeof(err));

	if (ret == -ENOENT) {
		fwd_err("%s: not found (apt-get install %s)", argv[0], pkg);
		return NULL;
	}
	if (ret) {
		fwd_err("%s: failed: %s", argv[0], err[0] ? err : "error");
		free(out);
		return NULL;
	}
	return out;
}

int rules_restore(char *const argv[], const char *input, const char *pkg)
{
	char err[1024];
	int ret = fwd_run(argv, input, NULL, err, sizeof(err));

	if (ret == -ENOENT) {
		fwd_err("%s: not found (apt-get install %s)", argv[0], pkg);
		return ret;
	}
	if (ret) {
		fwd_err("%s: failed: %s", argv[0], err[0] ? err : "error\n");
		return -EIO;
	}
	return 0;
}

bool rules_has_line(const char *save, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = save; (p = strstr(p, line)); p += n)
		if ((p == save || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

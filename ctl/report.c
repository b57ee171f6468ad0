// SPDX-License-Identifier: GPL-2.0
/* The one error format of fwdctl: "fwdctl: OBJECT: what failed: cause (kernel: ext-ack)". */
#include "fwdctl.h"
#include "nl.h"

#include <stdio.h>
#include <string.h>

int fwd_fail(struct nl_sock *nl, int err, const char *object, const char *what)
{
	const char *ack = nl ? nl_errmsg(nl) : "";

	fprintf(stderr, "fwdctl: %s: %s: %s%s%s%s\n", object, what, strerror(-err),
		ack[0] ? " (kernel: " : "", ack, ack[0] ? ")" : "");
	return err;
}

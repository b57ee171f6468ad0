/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What ipt.c and ebt.c share: running a netfilter tool's save and restore commands, and
 * reading the saved text.
 */
#ifndef FWD_RULES_H
#define FWD_RULES_H

#include <stdbool.h>

/* The output of @argv (iptables-save, ebtables-save ...), malloc'd, or NULL after a message
 * (@pkg: the Debian package to install when the tool is missing). */
char *rules_save(char *const argv[], const char *pkg);
/* Feed @input to @argv (a restore command); 0, or -errno after a message. */
int rules_restore(char *const argv[], const char *input, const char *pkg);
/* Does @save hold the whole line @line? */
bool rules_has_line(const char *save, const char *line);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* Named network namespaces, created and removed exactly as `ip netns add/delete` does. */
#ifndef FWD_NETNS_H
#define FWD_NETNS_H

#include <stdbool.h>

#define FWD_NETNS_RUN_DIR "/run/netns"

/*
 * Create /run/netns/NAME as a bind mount of a new network namespace (making /run/netns a
 * shared mount point first, as iproute2 does, so `ip netns exec` sees it). The caller's
 * network namespace is unchanged on return. Returns 0, -EEXIST, or -errno.
 */
int netns_add(const char *name);
/* Unmount (MNT_DETACH) and remove /run/netns/NAME. Returns 0, -ENOENT, or -errno. */
int netns_delete(const char *name);
/* O_RDONLY|O_CLOEXEC fd of /run/netns/NAME, or -errno. */
int netns_open(const char *name);
/* Is /run/netns/NAME a namespace? Not when it is a file left half-made by a killed maker. */
bool netns_exists(const char *name);
/* setns() the calling thread into /run/netns/NAME (what `-n NAME` does). 0 or -errno. */
int netns_enter(const char *name);
/* The current network namespace as an fd (for returning to it), or -errno. */
int netns_open_current(void);

#endif

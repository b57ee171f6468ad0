/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The journal: what `up` created for a topology, in FWD_RUN_DIR/TOPOLOGY.journal.
 * An entry is appended *before* the object is created, so an `up` killed at any point leaves a
 * journal that names everything that may exist, and `down` removes exactly that. /run is tmpfs:
 * the journal vanishes at reboot together with the namespaces and links it describes.
 */
#ifndef FWD_JOURNAL_H
#define FWD_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "topology.h"

enum journal_kind {
	J_NETNS,    /* a named namespace fwd created */
	J_LINK,	    /* a host-side veth (in the host namespace) */
	J_BRIDGE,   /* the bridge, when fwd created it */
	J_IPTABLES, /* fwd's iptables chains for this topology */
	J_BPF,	    /* pinned maps and programs, attachments on bridge/uplink */
	J_SYSCTL,   /* a host sysctl fwd changed; value: what it was before */
	J_ROUTE,    /* a route line's host route: NET (name) via ADDR (value), out of the uplink */
};
#define J_LAST_KIND J_ROUTE /* the highest kind: a new one goes before this line's update */

struct journal_entry {
	enum journal_kind kind;
	char name[80];
	char value[16];
};

struct journal {
	char topology[FWD_TOPO_NAME_SIZE];
	char hostns[64]; /* identity of the host namespace: "DEV:INODE" */
	struct journal_entry *entries;
	size_t n, cap;
	int fd;	     /* the journal, open for append */
	int lock_fd; /* flock'ed for the whole command */
	bool dirty;  /* entries were forgotten since the file was last written */
};

/*
 * Lock and read the journal of @topology. With @create, make it (with the current host
 * namespace's identity) if absent; without, -ENOENT when absent.
 */
int journal_open(struct journal *j, const char *topology, bool create);
void journal_close(struct journal *j);
/*
 * Read a journal's text from @f into @j: its entries (each kind and name once) and its host
 * namespace; lines fwd did not write are skipped. 0 or -ENOMEM. journal_open() reads with it;
 * the fuzzer (tests/fuzz/fuzz_journal.c) feeds it whatever it likes.
 */
int journal_parse(struct journal *j, FILE *f);
/* The identity of the calling thread's network namespace, "DEV:INODE". */
int journal_netns_id(char *out, size_t len);
const struct journal_entry *journal_find(const struct journal *j, enum journal_kind kind,
					 const char *name);
/* Append and flush, before the object is created; a no-op when already recorded. */
int journal_add(struct journal *j, enum journal_kind kind, const char *name, const char *value);
/*
 * Forget an entry (the object is gone). Only in memory: journal_sync() or journal_close()
 * rewrites the file once, so removing 1,000 objects is not 1,000 rewrites. Should the command
 * die before that, the file still names objects that are gone, which `down` skips.
 */
void journal_forget(struct journal *j, enum journal_kind kind, const char *name);
/* Rewrite the file atomically with the entries in memory, when anything was forgotten. */
int journal_sync(struct journal *j);
/*
 * Another topology up in @j's host namespace journaled sysctl @name: the value it restores,
 * in @old (@len bytes). A topology that finds a host-wide sysctl set already by another one
 * journals the same value, so that whichever goes down last restores it.
 */
bool journal_hostns_sysctl(const struct journal *j, const char *name, char *old, size_t len);
/*
 * The /proc/sys path of a J_SYSCTL entry's name: dotted ("net.ipv4.ip_forward"), or, for one
 * naming an interface, which may hold dots itself, with slashes ("net/ipv4/conf/br0/proxy_arp").
 */
void journal_sysctl_path(const char *name, char *path, size_t len);
/*
 * Serialise what looks across topologies (the conflict checks with the save that follows them,
 * the conntrack peers): an exclusive lock on FWD_RUN_DIR, the fd (close() releases it), or
 * -errno. Taken after a topology's own lock, never before it.
 */
int journal_lock_all(void);
/*
 * The topologies journaled in host namespace @hostns ("DEV:INODE", journal_netns_id()), but
 * @except (NULL: all): their names into @names, at most @max; how many.
 */
int journal_hostns_topologies(const char *hostns, const char *except,
			      char names[][FWD_TOPO_NAME_SIZE], int max);
/* Does the network namespace of identity @id ("DEV:INODE") still exist? */
bool journal_netns_alive(const char *id);
/* Remove the journal file (after `down` removed everything). */
int journal_delete(struct journal *j);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* Removing what the journal records: used by `down`, and by `up` for what is no longer declared. */
#ifndef FWD_TEARDOWN_H
#define FWD_TEARDOWN_H

#include "journal.h"
#include "nl.h"

/*
 * Remove the object of one journal entry (absent objects are fine) and forget it.
 * Returns 0 or -errno with a message printed; the entry stays journaled on failure.
 */
int teardown_entry(struct nl_sock *nl, struct journal *j, const struct journal_entry *e);
/* Everything in the journal: rules, namespaces (their veths go with them), leftover links,
 * BPF, bridge, sysctls. teardown_namespaces(), teardown_wait_links(), teardown_rest(). */
int teardown_all(struct nl_sock *nl, struct journal *j);
/*
 * The same in three steps, for `down` of several topologies: unmount every one's namespaces
 * first, so that the kernel destroys them in few batches (it unhashes each dying namespace from
 * every live one: dying ones that wait for a later batch make each batch dearer); then wait
 * while the links of all of them go; then the rest of each.
 */
int teardown_namespaces(struct nl_sock *nl, struct journal *j);
void teardown_wait_links(struct nl_sock *nl, struct journal *const *js, size_t n_js);
int teardown_rest(struct nl_sock *nl, struct journal *j);
/*
 * What is left of a topology whose host namespace is gone: its namespaces (/run/netns is the
 * machine's), its pins and cgroup links. Links, rules and sysctls went with the host namespace
 * and are forgotten; nothing is done in the namespace we run in.
 */
int teardown_orphan(struct journal *j);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* Names fwd gives to the objects it creates, derived only from the topology. */
#ifndef FWD_NAMES_H
#define FWD_NAMES_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "topology.h"

/* The namespace's own end of its veth, as containers name it. */
#define FWD_NS_IFNAME "eth0"
#define FWD_RUN_DIR   "/run/fwd"

/*
 * Host-side veth: "fwd" + 8 hex digits of a hash of topology and namespace. Any namespace name
 * fits IFNAMSIZ this way, and names never depend on the order of the file.
 */
void fwd_host_veth_name(const char *topology, const char *netns, char out[IF_NAMESIZE]);
/*
 * The bridge's MAC, fixed at creation: 02:66 + a hash of topology and bridge. A bridge left to
 * itself takes the lowest MAC of its ports and changes it as veths come and go, and every
 * namespace's ARP entry for the gateway goes stale with it.
 */
void fwd_bridge_mac(const char *topology, const char *bridge, uint8_t mac[6]);
/* IFLA_IFALIAS of the host-side veth: "fwd:TOPOLOGY:NAMESPACE", so `ip link` tells whose it is. */
void fwd_host_veth_alias(const char *topology, const char *netns, char *out, size_t len);
/* iptables chain for @hook ("PRE", "OUT", "POST", "FWD"): "FWD-TOPOLOGY-HOOK". */
void fwd_chain_name(const char *topology, const char *hook, char *out, size_t len);
/* The journal of what `up` created: FWD_RUN_DIR/TOPOLOGY.journal (and .lock). */
void fwd_journal_path(const char *topology, const char *suffix, char *out, size_t len);

#endif

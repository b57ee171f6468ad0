/* SPDX-License-Identifier: GPL-2.0 */
/* What each topology's programs know of the others of its host namespace. */
#ifndef FWD_PEERS_H
#define FWD_PEERS_H

/*
 * Every topology of datapath bpf that is up in this host namespace gets the subnets of all the
 * others (loader_foreign_sync(): kept out of its bridge) and, when it masquerades or forwards
 * on an uplink, the connection tables and forwards of the others on that uplink
 * (loader_peers_sync(): no port handed out twice; their forwards reached from its namespaces).
 * Run at the end of every `up` and `down`.
 */
int peers_resync(void);

#endif

// SPDX-License-Identifier: GPL-2.0
/* What each topology's programs know of the others of its host namespace; see peers.h. */
#include "peers.h"
#include "fwd_loader.h"
#include "fwd_log.h"
#include "fwdctl.h"
#include "journal.h"
#include "names.h"
#include "topo.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#define PEERS_MAX_TOPOLOGIES 256

struct peer {
	char uplink[FWD_IFNAME_MAX + 1];
	bool bpf;	/* datapath bpf: has the maps to fill */
	bool on_uplink; /* datapath bpf, with a masquerade or forward line on an uplink */
	struct fwd_cidr subnet;
};

int peers_resync(void)
{
	static char names[PEERS_MAX_TOPOLOGIES][FWD_TOPO_NAME_SIZE];
	static char group[FWD_MAX_PEERS + 1][FWD_TOPO_NAME_SIZE];
	static struct peer peers[PEERS_MAX_TOPOLOGIES];
	static struct fwd_cidr foreign[FWD_MAX_FOREIGN];
	char here[64];
	int n, lock, ret = 0;

	if (journal_netns_id(here, sizeof(here)))
		return 0;
	lock = journal_lock_all();
	if (lock < 0)
		return fwd_fail(lock, FWD_RUN_DIR, "cannot lock");
	n = journal_hostns_topologies(here, NULL, names, PEERS_MAX_TOPOLOGIES);
	for (int i = 0; i < n; i++) {
		struct fwd_topology t;

		memset(&peers[i], 0, sizeof(peers[i]));
		if (fwd_saved_topology(names[i], &t))
			continue;
		peers[i].bpf = t.datapath == FWD_DATAPATH_BPF;
		peers[i].on_uplink =
		    peers[i].bpf && (t.n_masquerades || t.n_forwards) && t.uplink[0];
		/* (IPv6 only: no IPv4 subnet to keep out; prefix 0 says none) */
		peers[i].subnet.addr = t.v6only ? 0 : topo_subnet(&t);
		peers[i].subnet.prefix = t.v6only ? 0 : t.gateway.prefix;
		memcpy(peers[i].uplink, t.uplink, sizeof(peers[i].uplink));
		topo_free(&t);
	}
	for (int i = 0; i < n && !ret; i++) {
		size_t k = 0;

		if (!peers[i].bpf)
			continue;
		for (int p = 0; p < n && k < FWD_MAX_FOREIGN; p++)
			if (p != i && peers[p].subnet.prefix)
				foreign[k++] = peers[p].subnet;
		ret = loader_foreign_sync(names[i], foreign, k);
		k = 0;
		if (ret || !peers[i].on_uplink)
			continue;
		for (int p = 0; p < n && k <= FWD_MAX_PEERS; p++)
			if (p != i && peers[p].on_uplink &&
			    !strcmp(peers[p].uplink, peers[i].uplink))
				memcpy(group[k++], names[p], FWD_TOPO_NAME_SIZE);
		if (k > FWD_MAX_PEERS)
			fwd_warn(
			    "uplink %s: more than %d topologies of datapath bpf use it; topology "
			    "%s sees the connections of %d of them only",
			    peers[i].uplink, FWD_MAX_PEERS + 1, names[i], FWD_MAX_PEERS);
		ret = loader_peers_sync(names[i], group, k > FWD_MAX_PEERS ? FWD_MAX_PEERS : k);
	}
	close(lock);
	return ret;
}

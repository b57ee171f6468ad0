// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel datapath's anti-spoofing rules (see ebt.h), in the same way as ipt.c: one
 * ebtables-restore --noflush transaction, a `:CHAIN` line that empties fwd's chain and no
 * other, the jump added only where ebtables-save does not show it already (rules.c).
 */
#include "ebt.h"
#include "rules.h"
#include "fwd_buf.h"
#include "fwd_log.h"
#include "names.h"
#include "topo.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ebtables-save of the nat table, or NULL with a message. */
static char *ebt_save(void)
{
	char *argv[] = { "ebtables-save", "-t", "nat", NULL };

	return rules_save(argv, "ebtables");
}

static int ebt_restore(const char *input)
{
	char *argv[] = { "ebtables-restore", "--noflush", NULL };

	return rules_restore(argv, input, "ebtables");
}

static void ebt_mac_str(const uint8_t *m, char *out, size_t len)
{
	snprintf(out, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

int ebt_apply(const struct fwd_topology *t, char (*veths)[16], const uint8_t (*macs)[6])
{
	struct fwd_buf b = { 0 };
	char chain[32], jump[64], *save = ebt_save();
	int ret;

	if (!save)
		return -EIO;
	fwd_chain_name(t->name, "SPOOF", chain, sizeof(chain));
	snprintf(jump, sizeof(jump), "-A PREROUTING -j %s", chain);
	fwd_buf_printf(&b, "*nat\n:%s RETURN\n", chain);
	if (!rules_has_line(save, jump))
		fwd_buf_printf(&b, "%s\n", jump);
	for (size_t i = 0; i < t->n_namespaces; i++) {
		const char *veth = veths[i], *addr = fwd_ip_str(t->namespaces[i].addr);
		char mac[18];

		ebt_mac_str(macs[i], mac, sizeof(mac));
		/* IPv4 and ARP: datapath bpf's programs check those themselves (bpf/spoof.h).
		 * A namespace with IPv6 only sends neither. */
		if (t->datapath == FWD_DATAPATH_KERNEL && t->namespaces[i].v6only) {
			fwd_buf_printf(&b, "-A %s -i %s -s ! %s -j DROP\n", chain, veth, mac);
			fwd_buf_printf(&b, "-A %s -p IPv4 -i %s -j DROP\n", chain, veth);
			fwd_buf_printf(&b, "-A %s -p ARP -i %s -j DROP\n", chain, veth);
		} else if (t->datapath == FWD_DATAPATH_KERNEL) {
			fwd_buf_printf(&b, "-A %s -i %s -s ! %s -j DROP\n", chain, veth, mac);
			fwd_buf_printf(&b, "-A %s -p IPv4 -i %s --ip-src ! %s -j DROP\n", chain,
				       veth, addr);
			/* An address probe (RFC 5227) says 0.0.0.0, as datapath bpf lets through.
			 */
			fwd_buf_printf(
			    &b,
			    "-A %s -p ARP -i %s --arp-ip-src 0.0.0.0 --arp-mac-src %s -j "
			    "RETURN\n",
			    chain, veth, mac);
			fwd_buf_printf(&b, "-A %s -p ARP -i %s --arp-ip-src ! %s -j DROP\n", chain,
				       veth, addr);
			fwd_buf_printf(&b, "-A %s -p ARP -i %s --arp-mac-src ! %s -j DROP\n", chain,
				       veth, mac);
		}
		/* IPv6, with IPv6 on the bridge (datapath bpf's programs check it themselves,
		 * bpf/spoof.h): a namespace's IPv6 carries its own MAC and address (fwd's links
		 * have no link-local address and no DAD, so every frame it sends does), and no
		 * router advertisement or redirect (RA guard); a namespace without an address
		 * sends none. ebtables cannot read a neighbour advertisement's target, which
		 * datapath bpf holds to the namespace's address too. */
		if (t->datapath == FWD_DATAPATH_KERNEL && t->has6 && t->namespaces[i].has6) {
			fwd_buf_printf(&b, "-A %s -p IPv6 -i %s -s ! %s -j DROP\n", chain, veth,
				       mac);
			fwd_buf_printf(&b, "-A %s -p IPv6 -i %s --ip6-src ! %s -j DROP\n", chain,
				       veth, fwd_ip6_str(&t->namespaces[i].addr6));
			/* and no MLD (130-132, 143: from ::, dropped above already) */
			static const char *const icmp6_dropped[] = { "router-advertisement",
								     "redirect", "130:132", "143" };

			for (size_t k = 0; k < sizeof(icmp6_dropped) / sizeof(icmp6_dropped[0]);
			     k++)
				fwd_buf_printf(&b,
					       "-A %s -p IPv6 -i %s --ip6-proto ipv6-icmp "
					       "--ip6-icmp-type %s -j DROP\n",
					       chain, veth, icmp6_dropped[k]);
		} else if (t->datapath == FWD_DATAPATH_KERNEL && t->has6) {
			fwd_buf_printf(&b, "-A %s -p IPv6 -i %s -j DROP\n", chain, veth);
		}
	}
	fwd_buf_printf(&b, "COMMIT\n");
	/* Never apply a script with a gap in it: a failed append leaves b.err set. */
	ret = b.err ? fwd_fail(b.err, "ebtables", "cannot build the rules") : ebt_restore(b.data);
	fwd_buf_free(&b);
	free(save);
	return ret;
}

int ebt_remove(const char *topology)
{
	struct fwd_buf b = { 0 };
	char chain[32], jump[64], decl[40], *save = ebt_save();
	int ret = 0;

	if (!save)
		return -EIO;
	fwd_chain_name(topology, "SPOOF", chain, sizeof(chain));
	snprintf(jump, sizeof(jump), "-A PREROUTING -j %s", chain);
	snprintf(decl, sizeof(decl), ":%s ", chain);
	if (rules_has_line(save, jump))
		fwd_buf_printf(&b, "-D PREROUTING -j %s\n", chain);
	if (strstr(save, decl))
		fwd_buf_printf(&b, "-F %s\n-X %s\n", chain, chain);
	if (b.err)
		ret = fwd_fail(b.err, "ebtables", "cannot build the rules");
	else if (b.len) {
		char *script = NULL;

		if (asprintf(&script, "*nat\n%sCOMMIT\n", b.data) < 0)
			ret = fwd_fail(-ENOMEM, "ebtables", "cannot build the rules");
		else
			ret = ebt_restore(script);
		free(script);
	}
	fwd_buf_free(&b);
	free(save);
	return ret;
}

char *ebt_show(const char *topology)
{
	char *save = ebt_save(), chain[32];
	struct fwd_buf b = { 0 };

	if (!save)
		return NULL;
	fwd_chain_name(topology, "SPOOF", chain, sizeof(chain));
	for (char *line = strtok(save, "\n"); line; line = strtok(NULL, "\n"))
		if (line[0] == '-' && strstr(line, chain))
			fwd_buf_printf(&b, "%s\n", line);
	free(save);
	if (b.err)
		fwd_fail(b.err, "ebtables", "cannot read the rules");
	return fwd_buf_take(&b);
}

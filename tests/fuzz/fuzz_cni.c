// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: fwd-cni's network config (ctl/cni/netconf.c), JSON a container runtime
 * hands the plugin. Besides crashes and sanitizer reports it checks what the plugin relies on
 * in a config that parses: a valid topology name, a subnet without host bits, a gateway that
 * is a host of it, port mappings in range and each host port once.
 */
#include <stdint.h>
#include <string.h>

#include "cni/cni.h"
#include "topo.h"

#include "fuzz.h"

static void check(const struct cni_netconf *nc, const uint8_t *data, size_t size)
{
	in_addr_t mask = fwd_prefix_netmask(nc->subnet.prefix), host = nc->gateway & ~mask;

	if (!topo_name_valid(nc->topology))
		fuzz_broken("an invalid topology name", (const char *)data, size);
	if (nc->subnet.prefix < 8 || nc->subnet.prefix > 30 || (nc->subnet.addr & ~mask))
		fuzz_broken("a subnet with host bits or out of range", (const char *)data, size);
	if ((nc->gateway & mask) != nc->subnet.addr || !host || host == ~mask)
		fuzz_broken("a gateway that is not a host of the subnet", (const char *)data, size);
	if (nc->n_ports > CNI_MAX_PORTS || (nc->masquerade && !nc->uplink[0]))
		fuzz_broken("ports or masquerade without what they need", (const char *)data, size);
	for (size_t i = 0; i < nc->n_ports; i++) {
		if (!nc->ports[i].host_port || !nc->ports[i].container_port)
			fuzz_broken("port 0 in a mapping", (const char *)data, size);
		for (size_t k = 0; k < i; k++)
			if (nc->ports[k].host_port == nc->ports[i].host_port &&
			    nc->ports[k].proto == nc->ports[i].proto &&
			    nc->ports[k].host_ip == nc->ports[i].host_ip)
				fuzz_broken("a host port mapped twice", (const char *)data, size);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cni_netconf nc;
	struct cni_error e;

	if (cni_netconf_parse((const char *)data, size, &nc, &e)) {
		if (!e.code || !e.msg[0])
			fuzz_broken("an error without a code or message", (const char *)data, size);
		return 0;
	}
	check(&nc, data, size);
	cni_netconf_free(&nc);
	return 0;
}

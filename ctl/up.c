// SPDX-License-Identifier: GPL-2.0
/*
 * fwdctl up: build the topology, or converge a running one to the file.
 *
 * Order: check everything that can be checked without changing anything (uplink present,
 * names free), then for each object: journal it, create it if missing, configure it
 * idempotently. Objects in the journal that the file no longer declares are removed last but
 * one, and the datapath (iptables or BPF) is applied last, when every link it refers to exists.
 */
#include "fwd_loader.h"
#include "fwd_log.h"
#include "fwdctl.h"
#include "conflicts.h"
#include "ebt.h"
#include "ipt.h"
#include "journal.h"
#include "names.h"
#include "netns.h"
#include "nl.h"
#include "peers.h"
#include "rfs.h"
#include "xdp_gro.h"
#include "kernel_ct.h"
#include "teardown.h"
#include "topo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>

struct up {
	const struct fwd_topology *t;
	const struct fwd_opts *o;
	struct journal j;
	struct nl_sock *nl; /* host namespace */
	struct nl_link bridge, uplink;
	in_addr_t uplink_addr;
	uint8_t uplink_prefix;	      /* of uplink_addr */
	struct in6_addr uplink_addr6; /* its first global IPv6 address, when uplink_has6 */
	bool uplink_has6;
	char (*veth)[IF_NAMESIZE]; /* host-side veth name per namespace */
	/* Per namespace: its veth as preflight read it (ifindex 0: not there then). Read once:
	 * each read of a host-side veth costs the kernel a walk over every namespace the host
	 * has a veth to. */
	struct nl_link *found;
	size_t *by_veth;	   /* namespace indices, sorted by veth name (veth_names()) */
	struct loader_up_job *job; /* datapath bpf: the programs loading meanwhile */
	struct fwd_endpoint_rt *eps;
	bool *port_isolated;  /* per namespace: its bridge port is isolated (as found) */
	int *eth6_pending;    /* per namespace: eth0's ifindex while its IPv6 address waits
			       * for add_addrs6(); 0 when it has it */
	bool flush_conntrack; /* up --flush-conntrack */
	bool ipv6_was;	      /* the last up of this topology gave IPv6 addresses */
	bool *xdp_was;	      /* per namespace: the last up made it an xdp forward's target */
};

/* Errors of the host-namespace socket carry its extended ack. */
static int fail(struct up *u, int err, const char *object, const char *what)
{
	return nl_fail(u->nl, err, object, what);
}

/* nl_addr6_dump() callback: stops (1) at the address *@ctx. */
static int addr6_is(int ifindex, const struct in6_addr *addr, uint8_t prefix, void *ctx)
{
	return !memcmp(addr, ctx, sizeof(*addr));
}

/* nl_addr_dump() callback: stops (1) at the address *@ctx. */
static int addr_is(int ifindex, in_addr_t addr, uint8_t prefix, void *ctx)
{
	return addr == *(const in_addr_t *)ctx;
}

static const char (*sort_veths)[IF_NAMESIZE];

static int by_veth_name(const void *a, const void *b)
{
	return strcmp(sort_veths[*(const size_t *)a], sort_veths[*(const size_t *)b]);
}

/*
 * Each namespace's host-side veth name, and the namespaces' indices in the order of those
 * names (u->by_veth), which finds two namespaces whose names hash to the same link name here
 * and a journaled link's namespace in remove_stale(), without comparing every pair.
 */
static int veth_names(struct up *u)
{
	const struct fwd_topology *t = u->t;

	for (size_t i = 0; i < t->n_namespaces; i++) {
		fwd_host_veth_name(t->name, t->namespaces[i].name, u->veth[i]);
		u->by_veth[i] = i;
	}
	sort_veths = (const char(*)[IF_NAMESIZE])u->veth;
	qsort(u->by_veth, t->n_namespaces, sizeof(*u->by_veth), by_veth_name);
	for (size_t s = 1; s < t->n_namespaces; s++) {
		size_t a = u->by_veth[s - 1], b = u->by_veth[s];

		if (!strcmp(u->veth[a], u->veth[b])) {
			if (a > b) {
				size_t x = a;

				a = b;
				b = x;
			}
			fwd_err("namespaces '%s' and '%s' hash to the same link name %s; "
				"rename one\n",
				t->namespaces[a].name, t->namespaces[b].name, u->veth[a]);
			return -EEXIST;
		}
	}
	return 0;
}

/* Is @name the host-side veth of one of the file's namespaces? Which one, in *@i. */
static bool veth_index(const struct up *u, const char *name, size_t *i)
{
	size_t lo = 0, hi = u->t->n_namespaces;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(u->veth[u->by_veth[mid]], name);

		if (!c) {
			*i = u->by_veth[mid];
			return true;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static bool veth_wanted(const struct up *u, const char *name)
{
	size_t i;

	return veth_index(u, name, &i);
}

static int adopt_bridge_ports(struct up *u);

/* Nothing has changed yet: every refusal here leaves the machine as it was. */
static int preflight(struct up *u)
{
	const struct fwd_ct_timeouts ct_defaults = FWD_CT_TIMEOUTS_DEFAULT;
	const struct fwd_topology *t = u->t;
	struct nl_link l;
	int ret;

	if (u->j.hostns[0]) {
		char here[64];

		if (!journal_netns_id(here, sizeof(here)) && strcmp(here, u->j.hostns)) {
			fwd_err("topology '%s': already up in another host network "
				"namespace; run 'down' there first (with the same -n)\n",
				t->name);
			return -EBUSY;
		}
	}
	if (t->uplink[0]) {
		ret = nl_link_get(u->nl, t->uplink, &u->uplink);
		if (ret == -ENODEV) {
			fwd_err("uplink %s: does not exist in the host namespace", t->uplink);
			return ret;
		}
		if (ret)
			return fail(u, ret, t->uplink, "cannot read link");
		uint8_t prefix = 0;
		/* Forwards to a namespace with IPv6 are published on this one too (ipt.c), and
		 * datapath bpf masquerades IPv6 to it (NAT66). */
		bool wants6 = t->has6 && (t->n_forwards || t->n_masquerades6);

		if (wants6 &&
		    (ret = nl_addr6_first(u->nl, u->uplink.ifindex, &u->uplink_addr6)) < 0)
			return fail(u, ret, t->uplink, "cannot list its IPv6 addresses");
		u->uplink_has6 = wants6 && ret == 1;
		ret = nl_addr_get_primary(u->nl, u->uplink.ifindex, &u->uplink_addr, &prefix);
		if (ret && topo_routes4(t)) {
			fwd_err("uplink %s: has no IPv4 address to masquerade to or "
				"forward from\n",
				t->uplink);
			return ret == -EADDRNOTAVAIL ? -EADDRNOTAVAIL : ret;
		}
		u->uplink_prefix = prefix;
	}
	/* A next hop off the uplink's subnet: the kernel would refuse the route half-way. */
	for (size_t i = 0; i < t->n_routes; i++) {
		const struct fwd_route *r = &t->routes[i];
		in_addr_t mask = fwd_prefix_netmask(u->uplink_prefix);

		if ((r->via & mask) != (u->uplink_addr & mask)) {
			fwd_err("%s:%d: route via %s: not on uplink %s's subnet %s/%u", t->source,
				r->line, fwd_ip_str(r->via), t->uplink,
				fwd_ip_str(u->uplink_addr & mask), u->uplink_prefix);
			return -ENETUNREACH;
		}
	}
	for (size_t i = 0; i < t->n_forwards && t->uplink[0]; i++) {
		const struct fwd_forward *f = &t->forwards[i];
		in_addr_t addr = f->addr;

		if (addr && !nl_addr_dump(u->nl, u->uplink.ifindex, addr_is, &addr)) {
			fwd_err("%s:%d: %s is not an address of uplink %s", t->source, f->line,
				fwd_ip_str(addr), t->uplink);
			return -EADDRNOTAVAIL;
		}
		if (f->has_addr6 &&
		    nl_addr6_dump(u->nl, u->uplink.ifindex, addr6_is, (void *)&f->addr6) != 1) {
			fwd_err("%s:%d: %s is not an address of uplink %s", t->source, f->line,
				fwd_ip6_str(&f->addr6), t->uplink);
			return -EADDRNOTAVAIL;
		}
	}
	ret = nl_link_get(u->nl, t->bridge, &u->bridge);
	if (!ret && strcmp(u->bridge.kind, "bridge")) {
		fwd_err("bridge %s: a link of that name exists and is not a bridge "
			"(kind '%s')\n",
			t->bridge, u->bridge.kind);
		return -EEXIST;
	}
	if (ret && ret != -ENODEV)
		return fail(u, ret, t->bridge, "cannot read link");

	if ((ret = veth_names(u)) || (ret = adopt_bridge_ports(u)))
		return ret;
	for (size_t i = 0; i < t->n_namespaces; i++) {
		char alias[128];

		if (u->found[i].ifindex)
			continue; /* a port of the topology's bridge already */

		if (!strcmp(u->veth[i], t->bridge) || !strcmp(u->veth[i], t->uplink)) {
			fwd_err("link %s: name of namespace '%s''s veth is taken by "
				"the bridge or uplink\n",
				u->veth[i], t->namespaces[i].name);
			return -EEXIST;
		}
		fwd_host_veth_alias(t->name, t->namespaces[i].name, alias, sizeof(alias));
		ret = nl_link_get(u->nl, u->veth[i], &l);
		/* Without an alias but journaled: an up killed between creating the veth and
		 * naming it (the kernel takes no alias at creation): ours. */
		if (!ret && !l.alias[0] && !strcmp(l.kind, "veth") &&
		    journal_find(&u->j, J_LINK, u->veth[i])) {
			u->found[i] = l;
			continue;
		}
		if (!ret && strcmp(l.alias, alias)) {
			fwd_err("link %s: exists and is not fwd's veth of '%s' "
				"(alias '%s')\n",
				u->veth[i], t->namespaces[i].name, l.alias);
			return -EEXIST;
		}
		if (!ret)
			u->found[i] = l;
	}
	if (t->datapath == FWD_DATAPATH_BPF) {
		bool xdp = false;

		for (size_t i = 0; i < t->n_forwards; i++)
			xdp |= t->forwards[i].xdp;
		ret = loader_probe_kernel(xdp);
		if (!ret)
			ret = loader_ensure_bpffs();
		/* A table another fwd version made cannot be carried over: refused before
		 * anything changes, unless the user asked for an empty one. */
		if (!ret && !u->flush_conntrack)
			ret = loader_ct_check(t->name);
		if (ret)
			return ret;
	} else if (t->ct_max != FWD_CT_MAX_CONNS ||
		   memcmp(&t->ct_timeouts, &ct_defaults, sizeof(ct_defaults))) {
		/* nf_conntrack_max is one for the whole machine, and nf_conntrack's timeouts
		 * are sysctls of the host namespace that every connection there shares: not
		 * fwd's to change for one topology. (conntrack per-namespace is connlimit's:
		 * ctl/ipt.c.) */
		fwd_warn("topology %s: conntrack max and conntrack timeout apply to datapath bpf "
			 "only; datapath kernel uses nf_conntrack's host-wide settings (sysctl "
			 "net.netfilter.nf_conntrack_max, net.netfilter.nf_conntrack_*_timeout_*)",
			 t->name);
	}
	return 0;
}

/*
 * The topology as it is up, for status/stats/ct/down by NAME and for the conflict checks of
 * other topologies' `up`: the file's text as parsed (so that its line numbers are the file's)
 * in FWD_RUN_DIR/NAME.conf, and the file's path in NAME.source. Each written atomically.
 */
static int save_file(const char *name, const char *ext, const char *text, size_t len)
{
	char path[128], tmp[136];
	FILE *f;

	fwd_journal_path(name, ext, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	if (fwrite(text, 1, len, f) != len) {
		fclose(f);
		unlink(tmp);
		return -EIO;
	}
	if (fclose(f) || rename(tmp, path))
		return -errno;
	return 0;
}

static int save_topology(const struct fwd_topology *t)
{
	char source[PATH_MAX + 1];
	int ret;

	if (!realpath(t->source, source))
		snprintf(source, sizeof(source), "%s", t->source);
	strcat(source, "\n");
	ret = save_file(t->name, "source", source, strlen(source));
	if (!ret)
		ret = save_file(t->name, "conf", t->text, t->text_len);
	return ret;
}

/*
 * BIG TCP. TCP sizes its GSO packets after the device its route leaves by, for a namespace its
 * veth, and what a namespace sends may leave by the uplink. So both ends of every veth pair,
 * and the bridge (where the host routes packets into the namespaces), take the uplink's GSO
 * sizes when they are above the kernel's 64 KiB default (BIG TCP on the uplink), and the
 * default otherwise: a packet larger than the uplink takes whole would be cut into MSS-sized
 * segments in software there. Two sizes: gso_ipv4_max_size for IPv4 (Linux 6.3) and
 * gso_max_size for IPv6 (5.19). Without an uplink the default too, since the host may route
 * the namespaces' traffic out of any of its links.
 *
 * IPv6's only with datapath bpf, whose paths carry such packets whole (switching, NAT66,
 * DNAT66). The kernel's IPv6 forwarding does not: an IPv6 packet over 64 KiB carries a
 * hop-by-hop header with its length, which ip6_forward() counts against the next link's MTU,
 * and it answers Packet Too Big for every one (Linux 6.18: one TCP stream through datapath
 * kernel's masquerade fell from 14.5 Gbit/s to 0.02). So datapath kernel keeps IPv6 at 64 KiB.
 */
#define GSO_LEGACY_MAX_SIZE 65536u

static uint32_t gso_at_least_legacy(uint32_t uplink)
{
	return uplink > GSO_LEGACY_MAX_SIZE ? uplink : GSO_LEGACY_MAX_SIZE;
}

static struct nl_gso wanted_gso(const struct up *u)
{
	bool bpf = u->t->datapath == FWD_DATAPATH_BPF;

	return (struct nl_gso){ .ipv4 = gso_at_least_legacy(u->uplink.gso_ipv4_max_size),
				.ipv6 = gso_at_least_legacy(bpf ? u->uplink.gso_max_size : 0) };
}

/* @size, or the most link @l takes when that is less (the kernel refuses more than
 * tso_max_size). */
static uint32_t gso_capped(const struct nl_link *l, uint32_t size)
{
	return l->tso_max_size && size > l->tso_max_size ? l->tso_max_size : size;
}

/* A link to the sizes @want; a size the kernel does not report (IPv4's before 6.3) is left
 * alone. */
static int ensure_gso(struct nl_sock *nl, const struct nl_link *l, const struct nl_gso *want)
{
	uint32_t v4 = gso_capped(l, want->ipv4), v6 = gso_capped(l, want->ipv6);
	int ret = 0;

	if (l->gso_ipv4_max_size && l->gso_ipv4_max_size != v4)
		ret = nl_link_set_gso_ipv4_max_size(nl, l->ifindex, v4);
	if (!ret && l->gso_max_size && l->gso_max_size != v6)
		ret = nl_link_set_gso_max_size(nl, l->ifindex, v6);
	return ret;
}

/* Has @l the GSO sizes ensure_gso() would give it? */
static bool gso_as_wanted(const struct nl_link *l, const struct nl_gso *want)
{
	return (!l->gso_ipv4_max_size || l->gso_ipv4_max_size == gso_capped(l, want->ipv4)) &&
	       (!l->gso_max_size || l->gso_max_size == gso_capped(l, want->ipv6));
}

static int adopt_port(const struct nl_link *port, void *ctx)
{
	struct up *u = ctx;
	size_t i;

	if (!veth_index(u, port->name, &i))
		return 0;
	u->found[i] = *port;
	/* Ours: fwd's name for the veth, on fwd's bridge. What the port list leaves out is
	 * what such a veth has: */
	snprintf(u->found[i].kind, sizeof(u->found[i].kind), "veth");
	fwd_host_veth_alias(u->t->name, u->t->namespaces[i].name, u->found[i].alias,
			    sizeof(u->found[i].alias));
	/* ipv6_addr_gen_mode stays -1: its IPv6 was turned off when it was made. */
	return 0;
}

/*
 * A re-`up`: the veths that are ports of the topology's own bridge are taken from the bridge's
 * list of ports (nl_bridge_ports_dump()), not read one by one: each read of a host-side veth
 * costs the kernel a walk over every namespace the host has a veth to (a tenth of a second per
 * thousand veths with ten thousand namespaces). The list has no GSO sizes: used only while the
 * bridge has the size `up` gives the veths (it gets it after them, so a changed uplink is seen
 * there); otherwise each veth is read and converged.
 */
static int adopt_bridge_ports(struct up *u)
{
	struct nl_gso want = wanted_gso(u);
	int ret;

	if (!u->bridge.ifindex || !journal_find(&u->j, J_BRIDGE, u->t->bridge) ||
	    !gso_as_wanted(&u->bridge, &want))
		return 0;
	ret = nl_bridge_ports_dump(u->nl, u->bridge.ifindex, adopt_port, u);
	if (ret) {
		memset(u->found, 0, u->t->n_namespaces * sizeof(*u->found));
		return fail(u, ret, u->t->bridge, "cannot list its ports");
	}
	return 0;
}

/*
 * fwd's links carry no IPv6 while the topology has none: no link-local address, so nothing is
 * sent when they come up. Otherwise each new namespace's DAD and MLD packets are flooded by
 * the bridge to every port: n namespaces, n² deliveries, which was most of a large up. Set
 * before the link goes up (a link already up keeps what it has).
 */
static int ensure_no_ipv6(struct nl_sock *nl, const struct nl_link *l)
{
	if (l->ipv6_addr_gen_mode < 0 || l->ipv6_addr_gen_mode == IN6_ADDR_GEN_MODE_NONE)
		return 0;
	return nl_link_set_ipv6_addr_gen_mode(nl, l->ifindex, IN6_ADDR_GEN_MODE_NONE);
}

/*
 * A host-side veth gets no IPv6 at all (disable_ipv6, a sysctl of this namespace; netlink
 * cannot set it), before it comes up: even without an address, a link that comes up with IPv6
 * puts a multicast route (ff00::/8) in the host's table, and with thousands of veths each one
 * that comes or goes walks all of them (fib6_add_rt2node at up, fib6_ifdown at down, the
 * kernel's destruction of the namespaces included). Nor any address, so no address-generation
 * mode to set (one request less per veth). Written whenever the link was read (writing the
 * value it has changes nothing); not for a link that reports no IPv6 (ipv6_addr_gen_mode -1: a
 * kernel without it, or a port a re-up took from the bridge's list, made by an up that wrote it).
 */
static int host_link_no_ipv6(const struct nl_link *l)
{
	char path[128];
	int fd, ret;

	if (l->ipv6_addr_gen_mode < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", l->name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = write(fd, "1", 1) == 1 ? 0 : -errno;
	close(fd);
	return ret;
}

/*
 * With IPv6 the bridge needs a link-local address: the kernel sends the neighbour
 * solicitation for a packet it routes into the bridge (a masqueraded reply from the LAN) from
 * the outgoing link's link-local address, and sends none without one (ndisc_send_ns()). Its
 * own, made from the bridge's MAC (modified EUI-64, RFC 4291), without DAD; the kernel makes
 * none (ensure_no_ipv6: no address generation on fwd's links). The namespaces need none: a
 * host's solicitations go out from its global address.
 */
/* Global IPv6 addresses on a link other than the declared one (configure_inside6, the bridge). */
struct stale_addrs6 {
	const struct fwd_namespace *ns; /* keep its addr6 when it has one */
	uint8_t keep_prefix;
	bool kept; /* the declared address is there, with the declared prefix */
	struct in6_addr drop[8];
	uint8_t drop_prefix[8];
	size_t n;
};

static struct in6_addr bridge_link_local_addr(const struct up *u)
{
	const uint8_t *m = u->bridge.mac;

	return (struct in6_addr){ .s6_addr = { 0xfe, 0x80, [8] = m[0] ^ 0x02, m[1], m[2], 0xff,
					       0xfe, m[3], m[4], m[5] } };
}

static int bridge_link_local(struct up *u)
{
	struct in6_addr ll = bridge_link_local_addr(u);

	return nl_addr6_add(u->nl, u->bridge.ifindex, &ll, 64);
}

static int collect_bridge6(int ifindex, const struct in6_addr *addr, uint8_t prefix, void *ctx)
{
	struct stale_addrs6 *s = ctx;

	if (s->n < sizeof(s->drop) / sizeof(s->drop[0])) {
		s->drop[s->n] = *addr;
		s->drop_prefix[s->n++] = prefix;
	}
	return 0;
}

/*
 * The last up gave fwd's own bridge IPv6 addresses: those this file no longer has go (all of
 * them, the link-local one too, when it has no IPv6). A bridge fwd did not create keeps what
 * it has, as with IPv4.
 */
static int bridge_stale_ipv6(struct up *u)
{
	const struct fwd_topology *t = u->t;
	struct stale_addrs6 st = { 0 };
	int ret;

	if (!u->ipv6_was || !journal_find(&u->j, J_BRIDGE, t->bridge))
		return 0;
	if ((ret = nl_addr6_dump(u->nl, u->bridge.ifindex, collect_bridge6, &st)))
		return ret;
	if (!t->has6 && st.n < sizeof(st.drop) / sizeof(st.drop[0])) {
		st.drop[st.n] = bridge_link_local_addr(u);
		st.drop_prefix[st.n++] = 64;
	}
	for (size_t k = 0; k < st.n; k++) {
		if (t->has6 && !memcmp(&st.drop[k], &t->gateway6.addr, sizeof(st.drop[k])))
			continue;
		ret = nl_addr6_del(u->nl, u->bridge.ifindex, &st.drop[k], st.drop_prefix[k]);
		if (ret && ret != -EADDRNOTAVAIL)
			return ret;
	}
	return 0;
}

/* Addresses on a namespace's eth0 other than the declared one, however many. */
struct stale_addrs {
	in_addr_t keep;
	uint8_t keep_prefix;
	bool kept; /* the declared address is there, with the declared prefix */
	struct {
		in_addr_t addr;
		uint8_t prefix;
	} * drop;
	size_t n;
};

static int collect_stale(int ifindex, in_addr_t addr, uint8_t prefix, void *ctx)
{
	struct stale_addrs *s = ctx;
	void *grown;

	if (addr == s->keep) {
		s->kept |= prefix == s->keep_prefix;
		return 0;
	}
	grown = realloc(s->drop, (s->n + 1) * sizeof(*s->drop));
	if (!grown)
		return -ENOMEM;
	s->drop = grown;
	s->drop[s->n].addr = addr;
	s->drop[s->n++].prefix = prefix;
	return 0;
}

/*
 * A bridge with IPv6 only: fwd's own bridge keeps no IPv4 address (the one a former file gave
 * it goes); one fwd did not create keeps what it has, as for the gateway's address.
 */
static int bridge_no_ipv4(struct up *u)
{
	struct stale_addrs st = { 0 };
	int ret;

	if (!journal_find(&u->j, J_BRIDGE, u->t->bridge))
		return 0;
	ret = nl_addr_dump(u->nl, u->bridge.ifindex, collect_stale, &st);
	for (size_t k = 0; !ret && k < st.n; k++) {
		ret = nl_addr_del(u->nl, u->bridge.ifindex, st.drop[k].addr, st.drop[k].prefix);
		if (ret == -EADDRNOTAVAIL)
			ret = 0; /* gone meanwhile */
	}
	free(st.drop);
	return ret;
}

static int ensure_bridge(struct up *u)
{
	const struct fwd_topology *t = u->t;
	int ret;

	if (!u->bridge.ifindex) {
		ret = journal_add(&u->j, J_BRIDGE, t->bridge, NULL);
		if (ret)
			return fail(u, ret, "journal", "cannot write");
		uint8_t mac[6];

		fwd_bridge_mac(t->name, t->bridge, mac);
		ret = nl_bridge_add(u->nl, t->bridge, mac);
		if (ret)
			return fail(u, ret, t->bridge, "cannot create bridge");
		ret = nl_link_get(u->nl, t->bridge, &u->bridge);
		if (ret)
			return fail(u, ret, t->bridge, "cannot read link");
		fwd_info("created bridge %s", t->bridge);
	}
	if (t->v6only)
		ret = bridge_no_ipv4(u);
	else
		ret = nl_addr_add(u->nl, u->bridge.ifindex, t->gateway.addr, t->gateway.prefix);
	if (ret)
		return fail(u, ret, t->bridge,
			    t->v6only ? "cannot remove an IPv4 address"
				      : "cannot add gateway address");
	if (t->has6 &&
	    (ret = nl_addr6_add(u->nl, u->bridge.ifindex, &t->gateway6.addr, t->gateway6.prefix)))
		return fail(u, ret, t->bridge, "cannot add the IPv6 gateway address");
	if (t->has6 && (ret = bridge_link_local(u)))
		return fail(u, ret, t->bridge, "cannot add its IPv6 link-local address");
	if ((ret = bridge_stale_ipv6(u)))
		return fail(u, ret, t->bridge, "cannot remove an old IPv6 address");
	if ((ret = ensure_no_ipv6(u->nl, &u->bridge)))
		return fail(u, ret, t->bridge, "cannot turn off its IPv6 link-local address");
	ret = nl_link_set_up(u->nl, u->bridge.ifindex);
	if (ret)
		return fail(u, ret, t->bridge, "cannot set up");
	return 0;
}

/*
 * Set sysctl @name (as the journal names it: journal_sysctl_path) to @value, journaling what
 * it was for `down`; a value journaled already stays the one `down` restores.
 */
static int sysctl_ensure(struct up *u, const char *name, const char *value)
{
	char path[160], old[16] = "";
	ssize_t n;
	int fd, ret = 0;

	journal_sysctl_path(name, path, sizeof(path));
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail(u, -errno, path, "cannot open");
	n = read(fd, old, sizeof(old) - 1);
	if (n < 0) {
		ret = -errno;
		close(fd);
		return fail(u, ret, path, "cannot read");
	}
	old[strcspn(old, "\n")] = '\0';
	if (!strcmp(old, value)) {
		/* Set by another topology of this host namespace: journaled with what that one
		 * will restore, so that the last of them to go down restores it (the first one
		 * down leaves it to the others, teardown.c). Set by someone else: left alone. */
		char theirs[sizeof(old)];

		close(fd);
		if (!strchr(name, '/') && !journal_find(&u->j, J_SYSCTL, name) &&
		    journal_hostns_sysctl(&u->j, name, theirs, sizeof(theirs)) &&
		    (ret = journal_add(&u->j, J_SYSCTL, name, theirs)))
			return fail(u, ret, "journal", "cannot write");
		return 0;
	}
	if (!journal_find(&u->j, J_SYSCTL, name))
		ret = journal_add(&u->j, J_SYSCTL, name, old);
	if (!ret && pwrite(fd, value, strlen(value), 0) != (ssize_t)strlen(value))
		ret = -errno;
	close(fd);
	return ret ? fail(u, ret, path, "cannot set") : 0;
}

/* What sysctl_ensure() set goes back to what it was, and the journal forgets it. */
static int sysctl_release(struct up *u, const char *name)
{
	const struct journal_entry *e = journal_find(&u->j, J_SYSCTL, name);
	char path[160], theirs[16];
	int fd, ret = 0;

	if (!e)
		return 0;
	/* A host-wide one another topology journaled too stays as it is: it needs it. */
	if (!strchr(name, '/') && journal_hostns_sysctl(&u->j, name, theirs, sizeof(theirs))) {
		journal_forget(&u->j, J_SYSCTL, name);
		return 0;
	}
	journal_sysctl_path(name, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && write(fd, e->value, strlen(e->value)) < 0)
		ret = -errno;
	if (fd >= 0)
		close(fd);
	if (ret)
		return fail(u, ret, path, "cannot restore");
	journal_forget(&u->j, J_SYSCTL, name);
	return 0;
}

/*
 * ip_forward in the host namespace only; the previous value is journaled for `down`. IPv6
 * forwarding only while the file routes IPv6 between the uplink and the namespaces (an IPv6
 * masquerade, a forward published on IPv6): nothing else of IPv6 is routed (and
 * `all.forwarding` is every link's, the uplink's included: it stops taking router
 * advertisements there, as with Docker's IPv6).
 */
static int ensure_ip_forward(struct up *u)
{
	const char *v4 = "net.ipv4.ip_forward", *v6 = "net.ipv6.conf.all.forwarding";
	/* (a bridge with IPv6 only routes no IPv4) */
	int ret = u->t->v6only ? sysctl_release(u, v4) : sysctl_ensure(u, v4, "1");

	if (ret)
		return ret;
	/* isolate routes IPv6 between the namespaces (ns_prefix6()). */
	return topo_routes6(u->t) || (u->t->isolate && u->t->has6) ? sysctl_ensure(u, v6, "1")
								   : sysctl_release(u, v6);
}

/*
 * isolate, on both datapaths: the bridge forwards nothing from one namespace's port to
 * another's (isolated ports), and answers ARP for every address of the subnet with its own
 * MAC (proxy ARP, private-VLAN style), so that what one namespace sends another goes through
 * the gateway, where the policy is: datapath bpf's tc program, datapath kernel's FORWARD
 * rules. Without isolate, all of it goes back to how it was.
 */
static int ensure_isolation(struct up *u)
{
	static const char *const knobs[] = { "proxy_arp", "proxy_arp_pvlan" };
	const struct fwd_topology *t = u->t;
	char name[128];
	int ret = 0;

	for (size_t i = 0; i < t->n_namespaces && !ret; i++) {
		/* Only where it changes: a request per port is most of a large up. */
		if (u->port_isolated[i] == t->isolate)
			continue;
		ret = nl_bridge_port_set_isolated(u->nl, u->eps[i].host_ifindex, t->isolate);
		if (ret)
			return fail(u, ret, u->veth[i], "cannot set the bridge port's isolation");
	}
	for (size_t k = 0; k < sizeof(knobs) / sizeof(knobs[0]) && !ret; k++) {
		snprintf(name, sizeof(name), "net/ipv4/conf/%s/%s", t->bridge, knobs[k]);
		ret = t->isolate ? sysctl_ensure(u, name, "1") : sysctl_release(u, name);
	}
	return ret;
}

/*
 * An address changed in the file: drop the old ones so exactly the declared one (@prefix long)
 * remains. *@present: it is there already.
 */
static int remove_stale_addrs(struct nl_sock *in, const struct fwd_namespace *ns, int ifindex,
			      uint8_t prefix, bool *present)
{
	struct stale_addrs st = { .keep = ns->addr, .keep_prefix = prefix };
	int ret = nl_addr_dump(in, ifindex, collect_stale, &st);

	*present = st.kept;
	if (ret)
		nl_fail(in, ret, ns->name, "cannot list the addresses of " FWD_NS_IFNAME);
	for (size_t k = 0; !ret && k < st.n; k++) {
		ret = nl_addr_del(in, ifindex, st.drop[k].addr, st.drop[k].prefix);
		if (ret == -EADDRNOTAVAIL)
			ret = 0; /* gone meanwhile */
		else if (ret)
			nl_fail(in, ret, ns->name, "cannot remove an old address");
	}
	free(st.drop);
	return ret;
}

/*
 * The prefix of a namespace's IPv6 address: the bridge's, or under isolate a /128 with the
 * default route onlink via the gateway, so that the namespace sends all it sends, to the
 * others too, to the gateway, where the policy is. (IPv6 has no proxy ARP to do that with,
 * only proxy NDP, which takes an entry per address on the bridge.) The host's redirects
 * ("blue is on-link") would undo it: ip6tables drops them (FWD-T-HOST, ctl/ipt.c).
 */
static uint8_t ns_prefix6(const struct fwd_topology *t)
{
	return t->isolate ? 128 : t->gateway6.prefix;
}

static int collect_stale6(int ifindex, const struct in6_addr *addr, uint8_t prefix, void *ctx)
{
	struct stale_addrs6 *s = ctx;

	/* The same address with another prefix (isolate came or went) goes, then comes back:
	 * the kernel keeps one prefix per IPv6 address and takes no second. */
	if (s->ns->has6 && !memcmp(addr, &s->ns->addr6, sizeof(*addr)) &&
	    prefix == s->keep_prefix) {
		s->kept = true;
		return 0;
	}
	if (s->n == sizeof(s->drop) / sizeof(s->drop[0]))
		return 0; /* more than fwd ever gave: the next up takes the rest */
	s->drop[s->n] = *addr;
	s->drop_prefix[s->n++] = prefix;
	return 0;
}

/*
 * IPv6 inside a namespace: exactly the declared address (none when it has none, also after
 * an up that gave it one), without DAD, and the default route via the bridge's IPv6 address.
 * eth0 has no link-local address (ensure_no_ipv6): nothing else of IPv6 is there.
 */
static int configure_inside6(struct up *u, struct nl_sock *in, size_t i, int ifindex, bool fresh)
{
	const struct fwd_topology *t = u->t;
	const struct fwd_namespace *ns = &t->namespaces[i];
	struct stale_addrs6 st = { .ns = ns, .keep_prefix = ns_prefix6(t) };
	int ret = 0;

	/* No IPv6 now nor at the last up: nothing to look for (a request per namespace less);
	 * nor on a veth this up made (@fresh). */
	if (!t->has6 && !u->ipv6_was)
		return 0;
	if (!fresh)
		ret = nl_addr6_dump(in, ifindex, collect_stale6, &st);
	if (ret)
		return nl_fail(in, ret, ns->name,
			       "cannot list the IPv6 addresses of " FWD_NS_IFNAME);
	for (size_t k = 0; k < st.n; k++) {
		ret = nl_addr6_del(in, ifindex, &st.drop[k], st.drop_prefix[k]);
		if (ret && ret != -EADDRNOTAVAIL)
			return nl_fail(in, ret, ns->name, "cannot remove an old IPv6 address");
	}
	if (!ns->has6 || !t->has6)
		return st.n ? nl_route6_del_default(in, ifindex) : 0;
	if (!st.kept) { /* the address, then its route: once the frames it sends are filtered */
		u->eth6_pending[i] = ifindex;
		return 0;
	}
	if ((ret = nl_route6_replace_default(in, &t->gateway6.addr, ifindex, t->isolate)))
		return nl_fail(in, ret, ns->name, "cannot set the IPv6 default route");
	return 0;
}

/*
 * Inside the namespace: lo and eth0 up, eth0's GSO size, exactly the declared address,
 * default route; the same for IPv6 (configure_inside6).
 */
static int configure_inside(struct up *u, size_t i, int nsfd, bool fresh)
{
	const struct fwd_namespace *ns = &u->t->namespaces[i];
	struct nl_gso want = wanted_gso(u);
	struct nl_sock *in = NULL;
	struct nl_link lo, eth;
	bool has_addr;
	int ret;

	ret = nl_open_netns(nsfd, &in);
	if (ret)
		return fail(u, ret, ns->name, "cannot open netlink in namespace");
	/* What is as declared already is not asked for again: a re-up of a thousand namespaces
	 * is mostly these requests. */
	if ((ret = nl_link_get(in, "lo", &lo)) ||
	    (!(lo.flags & IFF_UP) && (ret = nl_link_set_up(in, lo.ifindex)))) {
		nl_fail(in, ret, ns->name, "cannot set lo up");
		goto out;
	}
	if ((ret = nl_link_get(in, FWD_NS_IFNAME, &eth))) {
		nl_fail(in, ret, ns->name, "cannot find " FWD_NS_IFNAME);
		goto out;
	}
	memcpy(u->eps[i].ns_mac, eth.mac, 6);
	if ((ret = ensure_gso(in, &eth, &want))) {
		nl_fail(in, ret, ns->name, "cannot set " FWD_NS_IFNAME "'s GSO sizes");
		goto out;
	}
	if ((ret = remove_stale_addrs(in, ns, eth.ifindex, u->t->gateway.prefix, &has_addr)))
		goto out;
	if ((ret = ensure_no_ipv6(in, &eth))) {
		nl_fail(in, ret, ns->name,
			"cannot turn off " FWD_NS_IFNAME "'s IPv6 link-local address");
		goto out;
	}
	/* (IPv6 only: remove_stale_addrs took every IPv4 address, and the kernel the default
	 * route via the gateway with the last of them) */
	if (!has_addr && !ns->v6only &&
	    (ret = nl_addr_add(in, eth.ifindex, ns->addr, u->t->gateway.prefix))) {
		nl_fail(in, ret, ns->name, "cannot add address");
		goto out;
	}
	if (!(eth.flags & IFF_UP) && (ret = nl_link_set_up(in, eth.ifindex))) {
		nl_fail(in, ret, ns->name, "cannot set " FWD_NS_IFNAME " up");
		goto out;
	}
	if (!ns->v6only && (ret = nl_route_replace_default(in, u->t->gateway.addr, eth.ifindex))) {
		nl_fail(in, ret, ns->name, "cannot set default route");
		goto out;
	}
	ret = configure_inside6(u, in, i, eth.ifindex, fresh);
out:
	nl_close(in);
	return ret;
}

/*
 * The namespaces' new IPv6 addresses, and their default routes, once the anti-spoofing filters
 * the frames they send (datapath bpf's programs are attached, datapath kernel's ebtables rules
 * in place). An address makes the namespace join its solicited-node group and report that (MLD,
 * from ::, as eth0 has no link-local address): reports the filters drop, but which the bridge,
 * without multicast snooping, would flood to every port before them: n namespaces, n² frames,
 * which made a dual-stack up of 1,000 namespaces take twice as long as an IPv4-only one.
 */
static int add_addrs6(struct up *u)
{
	const struct fwd_topology *t = u->t;

	for (size_t i = 0; i < t->n_namespaces; i++) {
		const struct fwd_namespace *ns = &t->namespaces[i];
		int ifindex = u->eth6_pending[i], nsfd, ret;
		struct nl_sock *in = NULL;

		if (!ifindex)
			continue;
		nsfd = netns_open(ns->name);
		if (nsfd < 0)
			return fail(u, nsfd, ns->name, "cannot open namespace");
		ret = nl_open_netns(nsfd, &in);
		close(nsfd);
		if (ret)
			return fail(u, ret, ns->name, "cannot open netlink in namespace");
		if ((ret = nl_addr6_add(in, ifindex, &ns->addr6, ns_prefix6(t))))
			nl_fail(in, ret, ns->name, "cannot add its IPv6 address");
		else if ((ret = nl_route6_replace_default(in, &t->gateway6.addr, ifindex,
							  t->isolate)))
			nl_fail(in, ret, ns->name, "cannot set the IPv6 default route");
		nl_close(in);
		if (ret)
			return ret;
		u->eth6_pending[i] = 0;
	}
	return 0;
}

/*
 * What the host routes into the namespaces leaves by the bridge: the veths' GSO size. Once its
 * ports are in: a bridge takes no more than its ports' least tso_max_size, 64 KiB without any.
 */
static int ensure_bridge_gso(struct up *u)
{
	struct nl_gso want = wanted_gso(u);
	int ret = nl_link_get_by_index(u->nl, u->bridge.ifindex, &u->bridge);

	if (!ret)
		ret = ensure_gso(u->nl, &u->bridge, &want);
	return ret ? fail(u, ret, u->t->bridge, "cannot set its GSO sizes") : 0;
}

/*
 * RFS on the host-side veths (rfs.c) while the host has its table (net.core.rps_sock_flow_entries
 * above 0: raised by `tuning rfs`, or by the administrator); without the table a queue's flow
 * table steers nothing, and a re-up takes the veths' tables away again. Veths made by this up
 * start without one: when none is wanted, only those found already are looked at.
 */
static int ensure_rfs(struct up *u)
{
	const struct fwd_topology *t = u->t;
	char(*names)[IF_NAMESIZE];
	size_t n = 0, changed = 0, failed;
	uint32_t want;
	long entries;
	int ret;

	if (t->tuning_rfs && (ret = rfs_host_raise(FWD_RFS_SOCK_FLOW_ENTRIES)))
		return fail(u, ret, "net.core.rps_sock_flow_entries",
			    ret == -ENOENT ? "cannot raise for 'tuning rfs': fwdctl must start in "
					     "the machine's initial network namespace"
					   : "cannot raise for 'tuning rfs'");
	entries = rfs_host_entries();
	want = entries > 0 ? FWD_RFS_FLOW_CNT : 0;
	names = calloc(t->n_namespaces ? t->n_namespaces : 1, sizeof(*names));
	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_namespaces; i++)
		if (want || u->found[i].ifindex)
			memcpy(names[n++], u->veth[i], IF_NAMESIZE);
	ret =
	    n ? rfs_links_ensure((const char(*)[IF_NAMESIZE])names, n, want, &changed, &failed) : 0;
	if (ret)
		ret = fail(u, ret, failed < n ? names[failed] : "sysfs",
			   "cannot set RFS (its receive queue's rps_flow_cnt)");
	else if (changed)
		fwd_info("RFS %s on %zu host-side veth%s", want ? "on" : "off", changed,
			 changed == 1 ? "" : "s");
	free(names);
	if (ret || !t->tuning_rfs || !u->uplink.ifindex)
		return ret;
	/* The consent covers the uplink's queues too; what they have is never lowered. */
	ret = rfs_uplink_raise(t->uplink, u->uplink.num_rx_queues, (uint32_t)entries, &changed);
	if (ret)
		return fail(u, ret, t->uplink, "cannot set RFS (its receive queues' rps_flow_cnt)");
	if (changed)
		fwd_info("RFS on %zu receive queue%s of uplink %s", changed,
			 changed == 1 ? "" : "s", t->uplink);
	return 0;
}

/*
 * Per namespace of @t: is it, by name, the target of an xdp forward of @of (datapath bpf)?
 * Into @targets, one per namespace of @t.
 */
static void xdp_targets(const struct fwd_topology *of, const struct fwd_topology *t, bool *targets)
{
	if (of->datapath != FWD_DATAPATH_BPF)
		return;
	for (size_t i = 0; i < of->n_forwards; i++) {
		const struct fwd_namespace *ns;

		if (!of->forwards[i].xdp)
			continue;
		ns = topo_namespace_find(t, of->namespaces[of->forwards[i].ns].name);
		if (ns)
			targets[ns - t->namespaces] = true;
	}
}

/*
 * GRO on eth0 of each target of an xdp forward (ctl/xdp_gro.h: NAPI mode, or the frames the
 * uplink's XDP redirects there are dropped); off again where the last up had turned it on for
 * a forward this file no longer takes by XDP.
 */
static int ensure_xdp_gro(struct up *u)
{
	const struct fwd_topology *t = u->t;
	size_t on = 0, off = 0;
	bool *want = calloc(t->n_namespaces ? t->n_namespaces : 1, sizeof(*want));
	int ret = 0;

	if (!want)
		return -ENOMEM;
	xdp_targets(t, t, want);
	for (size_t i = 0; i < t->n_namespaces && !ret; i++) {
		bool changed = false;
		int nsfd;

		if (!want[i] && !u->xdp_was[i])
			continue;
		nsfd = netns_open(t->namespaces[i].name);
		if (nsfd < 0) {
			ret = fail(u, nsfd, t->namespaces[i].name, "cannot open namespace");
			break;
		}
		ret = xdp_gro_set(nsfd, FWD_NS_IFNAME, want[i], &changed);
		close(nsfd);
		if (ret)
			ret = fail(u, ret, t->namespaces[i].name,
				   want[i] ? "cannot turn GRO on for its xdp forward"
					   : "cannot turn GRO off");
		else if (changed)
			*(want[i] ? &on : &off) += 1;
	}
	free(want);
	if (on || off)
		fwd_info("GRO on in %zu, off in %zu namespace%s (the XDP fast path)", on, off,
			 on + off == 1 ? "" : "s");
	return ret;
}

static int ensure_namespace(struct up *u, size_t i)
{
	const struct fwd_namespace *ns = &u->t->namespaces[i];
	const char *veth = u->veth[i];
	struct nl_gso gso;
	struct nl_link l;
	bool fresh = false; /* its veth made by this up: nothing inside from before */
	int nsfd, ret;

	if (!netns_exists(ns->name)) {
		ret = journal_add(&u->j, J_NETNS, ns->name, NULL);
		if (ret)
			return fail(u, ret, "journal", "cannot write");
		ret = netns_add(ns->name);
		if (ret && ret != -EEXIST)
			return fail(u, ret, ns->name, "cannot create namespace");
	}
	nsfd = netns_open(ns->name);
	if (nsfd < 0)
		return fail(u, nsfd, ns->name, "cannot open namespace");

	l = u->found[i];
	ret = l.ifindex ? 0 : nl_link_get(u->nl, veth, &l);
	if (ret == -ENODEV) {
		char alias[128];

		ret = journal_add(&u->j, J_LINK, veth, NULL);
		if (ret) {
			fail(u, ret, "journal", "cannot write");
			goto out;
		}
		fwd_host_veth_alias(u->t->name, ns->name, alias, sizeof(alias));
		/* IPv4's size only where the kernel has the setting (the uplink reports it),
		 * IPv6's only when it is not the default. */
		gso = wanted_gso(u);
		if (!u->uplink.gso_ipv4_max_size)
			gso.ipv4 = 0;
		if (gso.ipv6 == GSO_LEGACY_MAX_SIZE)
			gso.ipv6 = 0;
		ret = nl_veth_add(u->nl, veth, alias, FWD_NS_IFNAME, nsfd, &gso, &l);
		if (ret) {
			char obj[160];

			snprintf(obj, sizeof(obj), "veth %s (namespace %s)", veth, ns->name);
			fail(u, ret, obj, "cannot create");
			goto out;
		}
		if (!l.ifindex) /* not echoed */
			ret = nl_link_get(u->nl, veth, &l);
		fresh = !ret;
	}
	if (ret) {
		fail(u, ret, veth, "cannot read link");
		goto out;
	}
	if (!l.alias[0]) { /* created by an up killed before it named it (preflight) */
		char alias[128];

		fwd_host_veth_alias(u->t->name, ns->name, alias, sizeof(alias));
		if ((ret = nl_link_set_alias(u->nl, l.ifindex, alias))) {
			fail(u, ret, veth, "cannot set its alias");
			goto out;
		}
	}
	if (l.master != u->bridge.ifindex &&
	    (ret = nl_link_set_master(u->nl, l.ifindex, u->bridge.ifindex))) {
		fail(u, ret, veth, "cannot attach to the bridge");
		goto out;
	}
	gso = wanted_gso(u);
	if ((ret = ensure_gso(u->nl, &l, &gso))) {
		fail(u, ret, veth, "cannot set its GSO sizes");
		goto out;
	}
	if ((ret = host_link_no_ipv6(&l))) {
		fail(u, ret, veth, "cannot turn off IPv6 on it");
		goto out;
	}
	if (!(l.flags & IFF_UP) && (ret = nl_link_set_up(u->nl, l.ifindex))) {
		fail(u, ret, veth, "cannot set up");
		goto out;
	}
	u->eps[i].ns = ns;
	u->eps[i].host_ifindex = l.ifindex;
	u->port_isolated[i] = l.brport_isolated;
	memcpy(u->eps[i].host_mac, l.mac, 6);
	ret = configure_inside(u, i, nsfd, fresh);
out:
	close(nsfd);
	return ret;
}

/* "NET/PREFIX" and "VIA" of route @r, as J_ROUTE entries name them. */
static void route_names(const struct fwd_route *r, char *net, size_t net_len, char *via,
			size_t via_len)
{
	snprintf(net, net_len, "%s/%u", fwd_ip_str(r->net.addr), r->net.prefix);
	snprintf(via, via_len, "%s", fwd_ip_str(r->via));
}

/* Does the file still route journaled route @e, through the same next hop? */
static bool route_wanted(const struct fwd_topology *t, const struct journal_entry *e)
{
	char net[INET_ADDRSTRLEN + 4], via[INET_ADDRSTRLEN];

	for (size_t i = 0; i < t->n_routes; i++) {
		route_names(&t->routes[i], net, sizeof(net), via, sizeof(via));
		if (!strcmp(net, e->name) && !strcmp(via, e->value))
			return true;
	}
	return false;
}

/*
 * route lines: the host routes each subnet via its next hop out of the uplink. Journaled
 * first; one the journal holds is replaced (an up that was killed), one it does not hold must
 * not be there yet: it is someone else's, and `down` would take it.
 */
static int ensure_routes(struct up *u)
{
	const struct fwd_topology *t = u->t;
	char net[INET_ADDRSTRLEN + 4], via[INET_ADDRSTRLEN];
	int ret;

	for (size_t i = 0; i < t->n_routes; i++) {
		const struct fwd_route *r = &t->routes[i];
		bool ours;

		route_names(r, net, sizeof(net), via, sizeof(via));
		ours = journal_find(&u->j, J_ROUTE, net) != NULL;
		if (!ours && (ret = journal_add(&u->j, J_ROUTE, net, via)))
			return fail(u, ret, "journal", "cannot write");
		ret = nl_route_add(u->nl, r->net.addr, r->net.prefix, r->via, u->uplink.ifindex,
				   ours);
		if (ret == -EEXIST) {
			journal_forget(&u->j, J_ROUTE, net);
			fwd_err("%s:%d: route %s: the host namespace routes it already (not fwd's "
				"route: remove it, or this line)",
				t->source, r->line, net);
			return ret;
		}
		if (ret)
			return nl_fail(u->nl, ret, net, "cannot add route");
	}
	return 0;
}

/* Namespaces and links the journal holds but the file no longer declares. */
static int remove_stale(struct up *u)
{
	for (size_t k = u->j.n; k-- > 0;) {
		struct journal_entry e = u->j.entries[k];
		bool wanted = false;

		if (e.kind == J_LINK) {
			wanted = veth_wanted(u, e.name);
		} else if (e.kind == J_NETNS) {
			wanted = topo_namespace_find(u->t, e.name) != NULL;
		} else if (e.kind == J_BRIDGE) {
			wanted = !strcmp(e.name, u->t->bridge);
		} else if (e.kind == J_ROUTE) {
			wanted = route_wanted(u->t, &e);
		} else {
			continue;
		}
		if (wanted)
			continue;
		fwd_info("removing %s, no longer declared", e.name);
		int ret = teardown_entry(u->nl, &u->j, &e);
		if (ret)
			return ret;
	}
	return 0;
}

/* datapath bpf masquerades and forwards in BPF: iptables is datapath kernel's only. */
/* datapath kernel's rules; and IPv6's on either datapath (datapath bpf's programs pass IPv6
 * to the kernel: its bridge, routing and ip6tables carry it, see ipt.c). */
static bool needs_iptables(const struct fwd_topology *t)
{
	return t->datapath == FWD_DATAPATH_KERNEL || t->has6;
}

static int remove_journaled(struct up *u, enum journal_kind kind, const char *name)
{
	const struct journal_entry *e = journal_find(&u->j, kind, name);

	return e ? teardown_entry(u->nl, &u->j, e) : 0;
}

/* datapath kernel's anti-spoofing on the host-side veths (ctl/ebt.c). */
static int apply_ebtables(struct up *u)
{
	uint8_t(*macs)[6] = calloc(u->t->n_namespaces ? u->t->n_namespaces : 1, sizeof(*macs));
	int ret;

	if (!macs)
		return fail(u, -ENOMEM, "ebtables", "cannot build the rules");
	for (size_t i = 0; i < u->t->n_namespaces; i++)
		memcpy(macs[i], u->eps[i].ns_mac, 6);
	ret = ebt_apply(u->t, u->veth, (const uint8_t(*)[6])macs);
	free(macs);
	return ret;
}

/* What the loader is told of the links; the endpoints are filled in by ensure_namespace(). */
static struct fwd_runtime runtime_of(const struct up *u)
{
	struct fwd_runtime rt = {
		.bridge_ifindex = u->bridge.ifindex,
		.uplink_ifindex = u->uplink.ifindex,
		.uplink_addr = u->uplink_addr,
		.uplink_addr6 = u->uplink_addr6,
		.uplink_has6 = u->uplink_has6,
		.endpoints = u->eps,
		.n_endpoints = u->t->n_namespaces,
		.ct_flush = u->flush_conntrack,
	};

	memcpy(rt.bridge_mac, u->bridge.mac, 6);
	memcpy(rt.uplink_mac, u->uplink.mac, 6);
	return rt;
}

/*
 * datapath bpf: the programs load (the verifier's part) while the namespaces are built; their
 * attach waits for apply_datapath(). Once the bridge exists: the programs carry its ifindex.
 */
static int start_datapath_load(struct up *u)
{
	const struct fwd_topology *t = u->t;
	struct fwd_runtime rt = runtime_of(u);
	int ret;

	if (t->datapath != FWD_DATAPATH_BPF)
		return 0;
	/* Where the loader attaches, so that `down` can detach even without the file; and the
	 * pins directory the load makes. */
	if ((ret = journal_add(&u->j, J_BPF, "bridge", t->bridge)) ||
	    (t->uplink[0] && (ret = journal_add(&u->j, J_BPF, "uplink", t->uplink))) ||
	    (ret = journal_add(&u->j, J_BPF, "pins", NULL)))
		return fail(u, ret, "journal", "cannot write");
	ret = loader_up_start(t, &rt, &u->job);
	return ret ? fail(u, ret, "datapath", "cannot start loading the programs") : 0;
}

static int apply_datapath(struct up *u)
{
	const struct fwd_topology *t = u->t;
	int ret;

	/* Switching datapaths: what the new one does not use goes first. */
	if (t->datapath == FWD_DATAPATH_KERNEL && (ret = remove_journaled(u, J_BPF, "pins")))
		return ret;
	if (!needs_iptables(t) && (ret = remove_journaled(u, J_IPTABLES, t->name)))
		return ret;

	if (needs_iptables(t)) {
		if ((ret = journal_add(&u->j, J_IPTABLES, t->name, NULL)))
			return fail(u, ret, "journal", "cannot write");
		if ((ret =
			 ipt_apply(t, u->uplink_addr, u->uplink_has6 ? &u->uplink_addr6 : NULL)) ||
		    (ret = apply_ebtables(u)))
			return ret;
	}
	/* Connections of forwards this file no longer has: nf_conntrack would keep translating
	 * them (the rules only choose a new connection's target). */
	if (t->datapath == FWD_DATAPATH_KERNEL &&
	    (ret = kernel_ct_forget_forwards(t, u->uplink_addr,
					     u->uplink_has6 ? &u->uplink_addr6 : NULL, false)) < 0)
		return ret;
	if (t->datapath == FWD_DATAPATH_KERNEL)
		return 0;

	struct fwd_runtime rt = runtime_of(u);
	struct loader_up_job *job = u->job;

	u->job = NULL; /* finished or abandoned by loader_up_finish() */
	return loader_up_finish(job, &rt);
}

int fwd_cmd_up(const struct fwd_cmdline *c, const struct fwd_opts *o)
{
	const struct fwd_topology *t = &c->topology;
	struct up u = { .t = t, .o = o, .flush_conntrack = c->flush_conntrack };
	int ret, lock_all, refused;

	u.veth = calloc(t->n_namespaces, sizeof(*u.veth));
	u.eps = calloc(t->n_namespaces, sizeof(*u.eps));
	u.port_isolated = calloc(t->n_namespaces, sizeof(*u.port_isolated));
	u.found = calloc(t->n_namespaces, sizeof(*u.found));
	u.by_veth = calloc(t->n_namespaces, sizeof(*u.by_veth));
	u.eth6_pending = calloc(t->n_namespaces, sizeof(*u.eth6_pending));
	u.xdp_was = calloc(t->n_namespaces ? t->n_namespaces : 1, sizeof(*u.xdp_was));
	if (!u.veth || !u.eps || !u.port_isolated || !u.found || !u.by_veth || !u.eth6_pending ||
	    !u.xdp_was) {
		ret = -ENOMEM;
		goto out_free;
	}
	ret = nl_open(&u.nl);
	if (ret) {
		fwd_err("netlink: cannot open socket: %s", strerror(-ret));
		goto out_free;
	}
	/* The topology's lock for the whole command, preflight included: a second `up` of the
	 * same file waits, then finds what the first built. */
	ret = journal_open(&u.j, t->name, true);
	if (ret) {
		fail(&u, ret, "journal", "cannot open");
		goto out_nl;
	}
	/* Checked against the others and saved for them under one lock: two topologies that
	 * conflict, brought up at once, cannot both pass. */
	lock_all = journal_lock_all();
	if (lock_all < 0) {
		ret = fail(&u, lock_all, FWD_RUN_DIR, "cannot lock");
		goto out_journal;
	}
	refused = preflight(&u);
	if (!refused && conflicts_check(t, u.uplink_addr))
		refused = -EUSERS;
	if (refused) {
		close(lock_all);
		if (!u.j.n)
			journal_delete(&u.j); /* a first up: nothing was built, nothing is left */
		journal_close(&u.j);
		ret = refused;
		goto out_nl;
	}
	/* What the last up built (the file it saved), before this one replaces it. */
	{
		struct fwd_topology saved;

		if (!fwd_saved_topology(t->name, &saved)) {
			u.ipv6_was = saved.has6;
			xdp_targets(&saved, t, u.xdp_was);
			topo_free(&saved);
		}
	}
	/* From here on, everything is journaled before it is created. */
	ret = save_topology(t);
	close(lock_all);
	if (ret) {
		fail(&u, ret, "/run/fwd", "cannot save the topology");
		goto out_journal;
	}
	if ((ret = ensure_bridge(&u)) || (ret = ensure_ip_forward(&u)) ||
	    (ret = start_datapath_load(&u)))
		goto out_journal;
	for (size_t i = 0; i < t->n_namespaces; i++)
		if ((ret = ensure_namespace(&u, i)))
			goto out_journal;
	/* Isolation after the datapath: the policy is in place before the bridge sends the
	 * namespaces' traffic to each other through it. */
	if ((ret = remove_stale(&u)) || (ret = ensure_bridge_gso(&u)) || (ret = ensure_rfs(&u)) ||
	    (ret = ensure_xdp_gro(&u)) || (ret = apply_datapath(&u)) || (ret = add_addrs6(&u)) ||
	    (ret = ensure_isolation(&u)) || (ret = ensure_routes(&u)) || (ret = peers_resync()))
		goto out_journal;
	fwd_note("topology %s is up: %zu namespace%s on %s, datapath %s", t->name, t->n_namespaces,
		 t->n_namespaces == 1 ? "" : "s", t->bridge,
		 t->datapath == FWD_DATAPATH_BPF ? "bpf" : "kernel");
out_journal:
	loader_up_abandon(u.job); /* what failed before the attach: the pins stay for down */
	if (ret)
		fwd_err("up %s failed; 'fwdctl%s%s down %s' removes what was "
			"built\n",
			t->name, o->hostns ? " -n " : "", o->hostns ? o->hostns : "", t->name);
	journal_close(&u.j);
out_nl:
	nl_close(u.nl);
out_free:
	free(u.veth);
	free(u.eps);
	free(u.port_isolated);
	free(u.found);
	free(u.by_veth);
	free(u.eth6_pending);
	free(u.xdp_was);
	if (ret == -ENOMEM)
		fwd_err("up: out of memory");
	if (ret == -EUSERS)
		return FWD_EXIT_USAGE; /* conflicts with another topology, each reported */
	return ret ? FWD_EXIT_FAILURE : FWD_EXIT_OK;
}

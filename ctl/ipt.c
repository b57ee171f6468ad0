// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel datapath's rules. Why iptables-restore --noflush rather than libiptc or libnftnl:
 * it is the interface iptables itself keeps stable across its legacy and nft back ends, one
 * input is one atomic transaction per table (no window with half the rules), and a `:CHAIN`
 * line flushes just that chain, so a re-run replaces fwd's rules and touches no others.
 */
#include "ipt.h"
#include "rules.h"
#include "fwd_buf.h"
#include "fwd_log.h"
#include "names.h"
#include "topo.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum ipt_hook { IPT_RAW, IPT_PRE, IPT_OUT, IPT_POST, IPT_FWD, IPT_HOST, IPT_HOOKS };
static const struct {
	const char *table, *builtin, *suffix;
	bool only6; /* a chain of ip6tables only */
} hooks[IPT_HOOKS] = {
	{ "raw", "PREROUTING", "RAW" },	      /* anti-spoofing; "forward ... from" */
	{ "nat", "PREROUTING", "PRE" },	      /* DNAT of forwards arriving from outside */
	{ "nat", "OUTPUT", "OUT" },	      /* DNAT of the host's own connections to a forward */
	{ "nat", "POSTROUTING", "POST" },     /* MASQUERADE out of the uplink */
	{ "filter", "FORWARD", "FWD" },	      /* isolate; forwarded and masqueraded traffic */
	{ "filter", "OUTPUT", "HOST", true }, /* isolate: no redirect into the bridge */
};
static const char *const ipt_tables[] = { "raw", "nat", "filter" };

/* The uplink's addresses the forwards are published on. */
struct ipt_uplink {
	in_addr_t addr;		      /* primary IPv4, network order */
	const struct in6_addr *addr6; /* first global IPv6, or NULL */
};

/* The two families' tools: the same chains, hooks and names in each. */
struct ipt_family {
	const char *save, *restore;
	/* The rules of one chain (hook: an index of hooks[]), appended to @b. */
	void (*chain_rules)(struct fwd_buf *b, const struct fwd_topology *t, int hook,
			    const char *chain, const struct ipt_uplink *up);
};

static void chain_rules(struct fwd_buf *b, const struct fwd_topology *t, int hook,
			const char *chain, const struct ipt_uplink *up);
static void chain_rules6(struct fwd_buf *b, const struct fwd_topology *t, int hook,
			 const char *chain, const struct ipt_uplink *up);
static const struct ipt_family ipv4 = { "iptables-save", "iptables-restore", chain_rules };
static const struct ipt_family ipv6 = { "ip6tables-save", "ip6tables-restore", chain_rules6 };

/* iptables-save (or ip6tables-save) of every table, or NULL with a message. */
static char *ipt_save(const struct ipt_family *fam)
{
	char *argv[] = { (char *)fam->save, NULL };

	return rules_save(argv, "iptables");
}

static bool save_has_chain(const char *save, const char *chain)
{
	char line[64];

	snprintf(line, sizeof(line), ":%s ", chain);
	return strstr(save, line) != NULL;
}

static int ipt_restore(const struct ipt_family *fam, const char *input)
{
	char *argv[] = { (char *)fam->restore, "--noflush", "--wait", NULL };

	return rules_restore(argv, input, "iptables");
}

static const char *proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "tcp" : "udp";
}

/* "-p tcp -m tcp --dport LO:HI" */
static void port_match(char *buf, size_t len, uint8_t proto, uint16_t lo, uint16_t hi)
{
	int n =
	    snprintf(buf, len, "-p %s -m %s --dport %u", proto_name(proto), proto_name(proto), lo);

	if (hi != lo && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ":%u", hi);
}

/*
 * forward ... from: in raw PREROUTING, before any DNAT, a new connection to the forward from
 * a source outside its CIDRs is dropped (the rule's counter counts it); its own go on (RETURN:
 * out of this chain, nothing else in it is for them).
 */
/* The uplink address forward @f is published on: the one its line names, else the primary. */
static in_addr_t forward_addr(const struct fwd_forward *f, in_addr_t uplink_addr)
{
	return f->addr ? f->addr : uplink_addr;
}

static void forward_from_rules(struct fwd_buf *b, const struct fwd_topology *t, const char *chain,
			       in_addr_t uplink_addr)
{
	for (size_t i = 0; i < t->n_forwards; i++) {
		const struct fwd_forward *f = &t->forwards[i];
		char match[64];

		if (!f->n_from)
			continue;
		port_match(match, sizeof(match), f->proto, f->port_lo, f->port_hi);
		for (size_t k = 0; k < f->n_from; k++)
			fwd_buf_printf(b, "-A %s -d %s/32 %s -s %s/%u -j RETURN\n", chain,
				       fwd_ip_str(forward_addr(f, uplink_addr)), match,
				       fwd_ip_str(f->from[k].addr), f->from[k].prefix);
		fwd_buf_printf(b, "-A %s -d %s/32 %s -j DROP\n", chain,
			       fwd_ip_str(forward_addr(f, uplink_addr)), match);
	}
}

/*
 * isolate: between namespaces (routed by the host: the bridge's ports are isolated, and it
 * answers their ARP, see ctl/up.c; for IPv6 their addresses are /128s routed via the gateway)
 * only replies, forwards (hairpin) and what an allow line admits; the last rule's counter
 * counts the rest. @v6: ip6tables' rules, where an allow line needs an IPv6 address at both
 * ends; iptables' need an IPv4 address at both.
 */
static void isolate_rules(struct fwd_buf *b, const struct fwd_topology *t, const char *chain,
			  bool v6)
{
	fwd_buf_printf(b,
		       "-A %s -i %s -o %s -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n",
		       chain, t->bridge, t->bridge);
	/* A namespace reaching a forward (hairpin) reaches a service, as the LAN does. */
	fwd_buf_printf(b, "-A %s -i %s -o %s -m conntrack --ctstate DNAT -j ACCEPT\n", chain,
		       t->bridge, t->bridge);
	for (size_t i = 0; i < t->n_allows; i++) {
		const struct fwd_allow *a = &t->allows[i];
		const struct fwd_namespace *src = topo_namespace_of(t, a->src);
		const struct fwd_namespace *dst = topo_namespace_of(t, a->dst);
		char match[64] = "", from[INET6_ADDRSTRLEN + 4], to[INET6_ADDRSTRLEN + 4];

		if (a->from_route)
			continue; /* from the uplink: route_rules() */
		if (v6 && (!src || !dst || !src->has6 || !dst->has6))
			continue;
		if (!v6 && (fwd_addr_is_standin(a->src) || fwd_addr_is_standin(a->dst)))
			continue; /* a namespace with IPv6 only: no IPv4 to admit */
		if (v6) {
			snprintf(from, sizeof(from), "%s/128", fwd_ip6_str(&src->addr6));
			snprintf(to, sizeof(to), "%s/128", fwd_ip6_str(&dst->addr6));
		} else {
			snprintf(from, sizeof(from), "%s/32", fwd_ip_str(a->src));
			snprintf(to, sizeof(to), "%s/32", fwd_ip_str(a->dst));
		}
		if (a->proto)
			port_match(match, sizeof(match), a->proto, a->port_lo, a->port_hi);
		fwd_buf_printf(b, "-A %s -i %s -o %s -s %s -d %s %s%s-j ACCEPT\n", chain, t->bridge,
			       t->bridge, from, to, match, a->proto ? " " : "");
	}
	fwd_buf_printf(b, "-A %s -i %s -o %s -j DROP\n", chain, t->bridge, t->bridge);
}

/*
 * route lines, in FORWARD: a routed subnet's frames into the bridge, before the rule that
 * drops what else is routed into it: all of them, or under isolate (where the replies of
 * what the namespaces opened passed already) what an allow line from there admits.
 */
static void route_in_rules(struct fwd_buf *b, const struct fwd_topology *t, const char *chain)
{
	char subnet[INET_ADDRSTRLEN + 4];

	snprintf(subnet, sizeof(subnet), "%s/%u", fwd_ip_str(topo_subnet(t)), t->gateway.prefix);
	for (size_t i = 0; i < t->n_routes && !t->isolate; i++)
		fwd_buf_printf(b, "-A %s -i %s -o %s -s %s/%u -d %s -j ACCEPT\n", chain, t->uplink,
			       t->bridge, fwd_ip_str(t->routes[i].net.addr),
			       t->routes[i].net.prefix, subnet);
	for (size_t i = 0; i < t->n_allows && t->isolate; i++) {
		const struct fwd_allow *a = &t->allows[i];
		char match[64] = "";

		if (!a->from_route)
			continue;
		if (a->proto)
			port_match(match, sizeof(match), a->proto, a->port_lo, a->port_hi);
		fwd_buf_printf(b, "-A %s -i %s -o %s -s %s/%u -d %s/32 %s%s-j ACCEPT\n", chain,
			       t->uplink, t->bridge, fwd_ip_str(a->src), a->src_prefix,
			       fwd_ip_str(a->dst), match, a->proto ? " " : "");
	}
}

/* The rules of one chain, appended to @b (hook indexes: hooks[]). */
static void chain_rules(struct fwd_buf *b, const struct fwd_topology *t, int hook,
			const char *chain, const struct ipt_uplink *up)
{
	in_addr_t uplink_addr = up->addr;

	if (hook == IPT_RAW && t->uplink[0])
		fwd_buf_printf(b, "-A %s -i %s -s %s/%u -j DROP\n", chain, t->uplink,
			       fwd_ip_str(topo_subnet(t)), t->gateway.prefix);
	if (hook == IPT_RAW && uplink_addr)
		forward_from_rules(b, t, chain, uplink_addr);
	if (hook == IPT_FWD) {
		/* Routed into the bridge from outside the topology (another topology's
		 * namespaces, the LAN): only a forward (DNATed) and the replies of what the
		 * namespaces opened get in, first of all, as Docker's isolation chains do. */
		fwd_buf_printf(
		    b,
		    "-A %s -o %s ! -i %s -m conntrack --ctstate ESTABLISHED,RELATED,DNAT "
		    "-j ACCEPT\n",
		    chain, t->bridge, t->bridge);
		route_in_rules(b, t, chain);
		fwd_buf_printf(b, "-A %s -o %s ! -i %s -j DROP\n", chain, t->bridge, t->bridge);
	}
	if (hook == IPT_FWD && t->isolate)
		isolate_rules(b, t, chain, false);
	for (size_t i = 0; i < t->n_forwards && (hook == IPT_PRE || hook == IPT_OUT); i++) {
		const struct fwd_forward *f = &t->forwards[i];
		const char *to = fwd_ip_str(t->namespaces[f->ns].addr);
		char ports[16], target[48];

		if (!fwd_forward_on_ipv4(t, f))
			continue;
		if (f->port_lo == f->port_hi) {
			snprintf(ports, sizeof(ports), "%u", f->port_lo);
			snprintf(target, sizeof(target), "%s:%u", to, f->to_port);
		} else {
			snprintf(ports, sizeof(ports), "%u:%u", f->port_lo, f->port_hi);
			/* "/BASE" shifts each port by the same offset instead of picking any. */
			snprintf(target, sizeof(target), "%s:%u-%u/%u", to, f->to_port,
				 f->to_port + (f->port_hi - f->port_lo), f->port_lo);
		}
		fwd_buf_printf(
		    b, "-A %s -d %s/32 -p %s -m %s --dport %s -j DNAT --to-destination %s\n", chain,
		    fwd_ip_str(forward_addr(f, uplink_addr)), proto_name(f->proto),
		    proto_name(f->proto), ports, target);
	}
	/* A routed subnet is reached with the namespaces' own addresses: no masquerade. */
	for (size_t i = 0; hook == IPT_POST && i < t->n_routes; i++)
		fwd_buf_printf(b, "-A %s -s %s/%u -d %s/%u -o %s -j RETURN\n", chain,
			       fwd_ip_str(topo_subnet(t)), t->gateway.prefix,
			       fwd_ip_str(t->routes[i].net.addr), t->routes[i].net.prefix,
			       t->uplink);
	if (hook == IPT_POST) {
		/* snat-ports: MASQUERADE takes a port range only with -p (tcp and udp; ICMP and
		 * the rest by the rule without one). Left out at the default range, as before
		 * the setting existed: MASQUERADE then keeps ports where it can. */
		bool ports =
		    t->snat_port_lo != FWD_NAT_PORT_LO || t->snat_port_hi != FWD_NAT_PORT_HI;

		for (size_t i = 0; i < t->n_masquerades; i++) {
			const char *net = fwd_ip_str(t->masquerades[i].net.addr);
			unsigned int prefix = t->masquerades[i].net.prefix;

			for (int p = 0; ports && p < 2; p++)
				fwd_buf_printf(
				    b,
				    "-A %s -s %s/%u -o %s -p %s -j MASQUERADE --to-ports "
				    "%u-%u\n",
				    chain, net, prefix, t->uplink, p ? "udp" : "tcp",
				    t->snat_port_lo, t->snat_port_hi);
			fwd_buf_printf(b, "-A %s -s %s/%u -o %s -j MASQUERADE\n", chain, net,
				       prefix, t->uplink);
		}
	}
	if (hook == IPT_FWD && t->uplink[0])
		/* What conntrack calls invalid (a UDP length past the datagram, a TCP data offset
		 * of 0) gets no NAT: MASQUERADE would let it out with the namespace's address. */
		fwd_buf_printf(b, "-A %s -s %s/%u -o %s -m conntrack --ctstate INVALID -j DROP\n",
			       chain, fwd_ip_str(topo_subnet(t)), t->gateway.prefix, t->uplink);
	for (size_t i = 0; hook == IPT_FWD && i < t->n_routes; i++)
		fwd_buf_printf(b, "-A %s -s %s/%u -d %s/%u -o %s -j ACCEPT\n", chain,
			       fwd_ip_str(topo_subnet(t)), t->gateway.prefix,
			       fwd_ip_str(t->routes[i].net.addr), t->routes[i].net.prefix,
			       t->uplink);
	if (hook == IPT_FWD) {
		for (size_t i = 0; i < t->n_forwards; i++) {
			const struct fwd_forward *f = &t->forwards[i];
			char ports[16];

			if (!fwd_forward_on_ipv4(t, f))
				continue;
			snprintf(ports, sizeof(ports), "%u:%u", f->to_port,
				 f->to_port + (f->port_hi - f->port_lo));
			fwd_buf_printf(
			    b,
			    "-A %s -d %s/32 -p %s -m %s --dport %s -m conntrack --ctstate "
			    "NEW,ESTABLISHED,RELATED -j ACCEPT\n",
			    chain, fwd_ip_str(t->namespaces[f->ns].addr), proto_name(f->proto),
			    proto_name(f->proto), ports);
		}
		for (size_t i = 0; i < t->n_masquerades; i++) {
			const struct fwd_masquerade *m = &t->masquerades[i];

			/* conntrack per-namespace, when the file sets it: connlimit counts the
			 * new masqueraded connections of each source address (nf_conntrack has
			 * no cap of its own to follow datapath bpf's default). */
			if (t->ct_per_ns)
				fwd_buf_printf(b,
					       "-A %s -s %s/%u -o %s -m conntrack --ctstate NEW -m "
					       "connlimit --connlimit-above %u --connlimit-mask 32 "
					       "--connlimit-saddr -j DROP\n",
					       chain, fwd_ip_str(m->net.addr), m->net.prefix,
					       t->uplink, t->ct_per_ns);
			fwd_buf_printf(b, "-A %s -s %s/%u -o %s -j ACCEPT\n", chain,
				       fwd_ip_str(m->net.addr), m->net.prefix, t->uplink);
			fwd_buf_printf(
			    b,
			    "-A %s -d %s/%u -i %s -m conntrack --ctstate ESTABLISHED,RELATED "
			    "-j ACCEPT\n",
			    chain, fwd_ip_str(m->net.addr), m->net.prefix, t->uplink);
		}
		/* The rest of the subnet leaves by the uplink only as the reply side of a
		 * connection (a forward's answers and ICMP errors, which nf_nat translates);
		 * anything else would leave with a namespace's address, e.g. a forward target's
		 * segments once its connection left the table. */
		if (t->uplink[0]) {
			fwd_buf_printf(
			    b, "-A %s -s %s/%u -o %s -m conntrack --ctdir REPLY -j ACCEPT\n", chain,
			    fwd_ip_str(topo_subnet(t)), t->gateway.prefix, t->uplink);
			fwd_buf_printf(b, "-A %s -s %s/%u -o %s -j DROP\n", chain,
				       fwd_ip_str(topo_subnet(t)), t->gateway.prefix, t->uplink);
		}
	}
}

/*
 * A forward whose target namespace has an IPv6 address is published on the uplink's (first
 * global) IPv6 address too, the same ports, the client's address kept (DNAT only); not one
 * with "from" or an IPv4 address of its own. One naming an IPv6 address is published there
 * (and on no IPv4 address). What the namespaces reach this way (hairpin) comes back over the
 * bridge, where bridge-nf-call-ip6tables lets conntrack translate it, as IPv4's does.
 */
static void forward_rules6(struct fwd_buf *b, const struct fwd_topology *t, const char *chain,
			   const struct in6_addr *uplink6)
{
	for (size_t i = 0; i < t->n_forwards; i++) {
		const struct fwd_forward *f = &t->forwards[i];
		const struct fwd_namespace *ns = &t->namespaces[f->ns];
		char ports[16], target[INET6_ADDRSTRLEN + 32], on[INET6_ADDRSTRLEN];

		if (!fwd_forward_has6(t, f) || (!f->has_addr6 && !uplink6))
			continue;
		snprintf(on, sizeof(on), "%s", fwd_ip6_str(f->has_addr6 ? &f->addr6 : uplink6));
		if (f->port_lo == f->port_hi) {
			snprintf(ports, sizeof(ports), "%u", f->port_lo);
			snprintf(target, sizeof(target), "[%s]:%u", fwd_ip6_str(&ns->addr6),
				 f->to_port);
		} else {
			snprintf(ports, sizeof(ports), "%u:%u", f->port_lo, f->port_hi);
			snprintf(target, sizeof(target), "[%s]:%u-%u/%u", fwd_ip6_str(&ns->addr6),
				 f->to_port, f->to_port + (f->port_hi - f->port_lo), f->port_lo);
		}
		fwd_buf_printf(
		    b, "-A %s -d %s/128 -p %s -m %s --dport %s -j DNAT --to-destination %s\n",
		    chain, on, proto_name(f->proto), proto_name(f->proto), ports, target);
	}
}

/*
 * IPv6 (a bridge with an IPv6 address): the same chains in ip6tables, on both datapaths (datapath
 * bpf's programs translate most of it first; what they pass on meets these). From outside into
 * the bridge only replies and forwards; spoofed sources of the bridge's prefix from the uplink
 * dropped in raw; each masquerade6 masqueraded out of the uplink, NAT66 as Docker does with
 * ip6tables; forwards published on IPv6 DNATed; isolate's policy between the namespaces; the
 * rest of the prefix leaves by the uplink only as the reply side of a connection (no leak of a
 * namespace's address).
 */
static void chain_rules6(struct fwd_buf *b, const struct fwd_topology *t, int hook,
			 const char *chain, const struct ipt_uplink *up)
{
	char prefix[INET6_ADDRSTRLEN + 4];
	struct in6_addr net = fwd_in6_prefix_fill(&t->gateway6.addr, t->gateway6.prefix, false);
	bool ports = t->snat_port_lo != FWD_NAT_PORT_LO || t->snat_port_hi != FWD_NAT_PORT_HI;

	snprintf(prefix, sizeof(prefix), "%s/%u", fwd_ip6_str(&net), t->gateway6.prefix);
	if (hook == IPT_RAW && t->uplink[0])
		fwd_buf_printf(b, "-A %s -i %s -s %s -j DROP\n", chain, t->uplink, prefix);
	for (size_t i = 0; hook == IPT_POST && i < t->n_masquerades6; i++) {
		const char *m = fwd_ip6_str(&t->masquerades6[i].net.addr);
		unsigned int len = t->masquerades6[i].net.prefix;

		for (int p = 0; ports && p < 2; p++)
			fwd_buf_printf(
			    b, "-A %s -s %s/%u -o %s -p %s -j MASQUERADE --to-ports %u-%u\n", chain,
			    m, len, t->uplink, p ? "udp" : "tcp", t->snat_port_lo, t->snat_port_hi);
		fwd_buf_printf(b, "-A %s -s %s/%u -o %s -j MASQUERADE\n", chain, m, len, t->uplink);
	}
	if (hook == IPT_PRE || hook == IPT_OUT)
		forward_rules6(b, t, chain, up->addr6);
	/*
	 * isolate routes what one namespace sends another back out of the bridge, for which the
	 * kernel sends the sender a redirect ("on-link, at this MAC"); a namespace takes it (its
	 * default route's gateway is not the redirect's link-local source, yet Linux 6.18 took
	 * three in a row), then sends straight to the other's MAC, which the isolated ports drop:
	 * even what an allow line admits stops. IPv4's proxy ARP answers with the bridge's MAC,
	 * so a redirect there changes nothing.
	 */
	if (hook == IPT_HOST && t->isolate)
		fwd_buf_printf(b,
			       "-A %s -o %s -p ipv6-icmp -m icmp6 --icmpv6-type redirect -j DROP\n",
			       chain, t->bridge);
	if (hook != IPT_FWD)
		return;
	fwd_buf_printf(b,
		       "-A %s -o %s ! -i %s -m conntrack --ctstate ESTABLISHED,RELATED,DNAT "
		       "-j ACCEPT\n",
		       chain, t->bridge, t->bridge);
	fwd_buf_printf(b, "-A %s -o %s ! -i %s -j DROP\n", chain, t->bridge, t->bridge);
	if (t->isolate)
		isolate_rules(b, t, chain, true);
	if (!t->uplink[0])
		return;
	fwd_buf_printf(b, "-A %s -s %s -o %s -m conntrack --ctstate INVALID -j DROP\n", chain,
		       prefix, t->uplink);
	for (size_t i = 0; i < t->n_masquerades6; i++) {
		const char *m = fwd_ip6_str(&t->masquerades6[i].net.addr);
		unsigned int len = t->masquerades6[i].net.prefix;

		if (t->ct_per_ns)
			fwd_buf_printf(
			    b,
			    "-A %s -s %s/%u -o %s -m conntrack --ctstate NEW -m connlimit "
			    "--connlimit-above %u --connlimit-mask 128 --connlimit-saddr "
			    "-j DROP\n",
			    chain, m, len, t->uplink, t->ct_per_ns);
		fwd_buf_printf(b, "-A %s -s %s/%u -o %s -j ACCEPT\n", chain, m, len, t->uplink);
		fwd_buf_printf(
		    b,
		    "-A %s -d %s/%u -i %s -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n",
		    chain, m, len, t->uplink);
	}
	fwd_buf_printf(b, "-A %s -s %s -o %s -m conntrack --ctdir REPLY -j ACCEPT\n", chain, prefix,
		       t->uplink);
	fwd_buf_printf(b, "-A %s -s %s -o %s -j DROP\n", chain, prefix, t->uplink);
}

static int remove_family(const struct ipt_family *fam, const char *topology);

static int apply_family(const struct ipt_family *fam, const struct fwd_topology *t,
			const struct ipt_uplink *up)
{
	struct fwd_buf b = { 0 };
	char *save = ipt_save(fam);
	int ret;

	if (!save)
		return -EIO;
	for (size_t ti = 0; ti < sizeof(ipt_tables) / sizeof(ipt_tables[0]); ti++) {
		const char *table = ipt_tables[ti];

		fwd_buf_printf(&b, "*%s\n", table);
		for (int h = 0; h < IPT_HOOKS; h++) {
			char chain[32];

			if (strcmp(hooks[h].table, table) || (hooks[h].only6 && fam != &ipv6))
				continue;
			fwd_chain_name(t->name, hooks[h].suffix, chain, sizeof(chain));
			/* Declaring a chain in --noflush mode creates it or empties it. */
			fwd_buf_printf(&b, ":%s - [0:0]\n", chain);
		}
		for (int h = 0; h < IPT_HOOKS; h++) {
			char chain[32], jump[80];

			if (strcmp(hooks[h].table, table) || (hooks[h].only6 && fam != &ipv6))
				continue;
			fwd_chain_name(t->name, hooks[h].suffix, chain, sizeof(chain));
			snprintf(jump, sizeof(jump), "-A %s -j %s", hooks[h].builtin, chain);
			if (!rules_has_line(save, jump))
				fwd_buf_printf(&b, "%s\n", jump);
			fam->chain_rules(&b, t, h, chain, up);
		}
		fwd_buf_printf(&b, "COMMIT\n");
	}
	/* Never apply a script with a gap in it: a failed append leaves b.err set. */
	ret = b.err ? fwd_fail(b.err, fam->restore, "cannot build the rules")
		    : ipt_restore(fam, b.data);
	fwd_buf_free(&b);
	free(save);
	return ret;
}

int ipt_apply(const struct fwd_topology *t, in_addr_t uplink_addr,
	      const struct in6_addr *uplink_addr6)
{
	const struct ipt_uplink up = { uplink_addr, uplink_addr6 };
	/* iptables for datapath kernel (datapath bpf's programs carry IPv4), ip6tables for
	 * IPv6 on either; a topology that no longer needs one loses its chains there. */
	int ret = t->datapath == FWD_DATAPATH_KERNEL ? apply_family(&ipv4, t, &up)
						     : remove_family(&ipv4, t->name);

	if (!ret)
		ret = t->has6 ? apply_family(&ipv6, t, &up) : remove_family(&ipv6, t->name);
	return ret;
}

static int remove_family(const struct ipt_family *fam, const char *topology)
{
	struct fwd_buf b = { 0 };
	char *save = ipt_save(fam);
	int ret = 0;

	if (!save)
		return -EIO;
	for (size_t ti = 0; ti < sizeof(ipt_tables) / sizeof(ipt_tables[0]); ti++) {
		const char *table = ipt_tables[ti];
		size_t start = b.len;

		fwd_buf_printf(&b, "*%s\n", table);
		bool any = false;
		for (int h = 0; h < IPT_HOOKS; h++) {
			char chain[32], jump[80];

			if (strcmp(hooks[h].table, table))
				continue;
			fwd_chain_name(topology, hooks[h].suffix, chain, sizeof(chain));
			snprintf(jump, sizeof(jump), "-A %s -j %s", hooks[h].builtin, chain);
			if (rules_has_line(save, jump)) {
				fwd_buf_printf(&b, "-D %s -j %s\n", hooks[h].builtin, chain);
				any = true;
			}
			if (save_has_chain(save, chain)) {
				fwd_buf_printf(&b, "-F %s\n-X %s\n", chain, chain);
				any = true;
			}
		}
		if (any)
			fwd_buf_printf(&b, "COMMIT\n");
		else if (!b.err)
			b.data[b.len = start] = '\0'; /* nothing of fwd's in this table */
	}
	if (b.err)
		ret = fwd_fail(b.err, fam->restore, "cannot build the rules");
	else if (b.len)
		ret = ipt_restore(fam, b.data);
	fwd_buf_free(&b);
	free(save);
	return ret;
}

int ipt_remove(const char *topology)
{
	int ret = remove_family(&ipv4, topology);

	return ret ? ret : remove_family(&ipv6, topology);
}

static char *show_family(const struct ipt_family *fam, const char *topology)
{
	char *save = ipt_save(fam), prefix[32];
	struct fwd_buf b = { 0 };

	if (!save)
		return NULL;
	snprintf(prefix, sizeof(prefix), "FWD-%s-", topology);
	for (char *line = strtok(save, "\n"); line; line = strtok(NULL, "\n"))
		if (strstr(line, prefix) && line[0] == '-')
			fwd_buf_printf(&b, "%s\n", line);
	free(save);
	if (b.err)
		fwd_fail(b.err, fam->save, "cannot read the rules");
	return fwd_buf_take(&b);
}

char *ipt_show(const char *topology)
{
	return show_family(&ipv4, topology);
}

char *ip6t_show(const char *topology)
{
	return show_family(&ipv6, topology);
}

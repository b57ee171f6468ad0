// SPDX-License-Identifier: GPL-2.0
/*
 * topology.conf parser: text in, validated struct fwd_topology out, no side effects.
 * Lines are checked one at a time (syntax, per-line rules), then the whole file (cross-line
 * rules: exactly one bridge, addresses inside the subnet, forward targets, overlaps). Every
 * violation is reported, not just the first, so one run of `fwdctl check` shows them all.
 */
#include "topo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS    8	  /* more than any keyword takes, so extra arguments are reported */
#define MAX_REPORTED  100 /* after this many errors the rest are counted, not printed */
#define FILE_SIZE_MAX (16u << 20)

struct parser {
	struct fwd_topology *t;
	const char *path;
	FILE *err;
	int line;
	int last_line;
	int errors;
	bool oom; /* a check could not run: the parse fails with -ENOMEM */
	/* line numbers of the at-most-once keywords, 0 while unseen */
	int topology_line, datapath_line, bridge_line, uplink_line;
	int ct_max_line, ct_per_ns_line, snat_ports_line, isolate_line, tuning_rfs_line;
	bool bridge_ipv6_bad;	 /* the bridge's IPv6 address was refused (already reported) */
	int ct_timeout_line[16]; /* per topo_ct_states[] */
	/* forward targets and allow's namespaces are names until every namespace is known */
	char (*forward_target)[FWD_NETNS_NAME_MAX + 1];
	char (*allow_ns)[2][FWD_NETNS_NAME_MAX + 1];
};

static void perr(struct parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void perr(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	if (++p->errors > MAX_REPORTED)
		return;
	fprintf(p->err, "%s:%d: ", p->path, line);
	va_start(ap, fmt);
	vfprintf(p->err, fmt, ap);
	va_end(ap);
	fputc('\n', p->err);
}

/* ---- token parsers: each returns true when the token is valid ---- */

/* Strict dotted quad: four decimal octets, no leading zeros, nothing else. */
static bool parse_ipv4(const char *s, in_addr_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned int octet = 0;
		const char *start = s;

		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9') {
			octet = octet * 10 + (unsigned int)(*s - '0');
			if (octet > 255)
				return false;
			s++;
		}
		if (s - start > 1 && *start == '0')
			return false; /* "010" could mean octal to some tools: refuse */
		v = (v << 8) | octet;
		if (i < 3 && *s++ != '.')
			return false;
	}
	if (*s)
		return false;
	*out = htonl(v);
	return true;
}

/* Decimal number in [lo, hi], no sign, no leading zeros. */
static bool parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	unsigned long v = 0;

	if (!*s || (s[0] == '0' && s[1]))
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > hi)
			return false;
	}
	if (v < lo)
		return false;
	*out = v;
	return true;
}

static bool cidr_contains(struct fwd_cidr net, in_addr_t addr)
{
	return ((addr ^ net.addr) & fwd_prefix_netmask(net.prefix)) == 0;
}

/* ADDR/PREFIX: ADDR copied into @buf (@len bytes); the PREFIX text, or NULL when there is no
 * slash or ADDR does not fit. */
static const char *split_prefix(const char *s, char *buf, size_t len)
{
	const char *slash = strchr(s, '/');

	if (!slash || (size_t)(slash - s) >= len)
		return NULL;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	return slash + 1;
}

/* ADDR/PREFIX, where the address may have host bits (the caller decides). */
static bool parse_cidr(const char *s, struct fwd_cidr *out)
{
	char buf[32];
	const char *len_text = split_prefix(s, buf, sizeof(buf));
	unsigned long prefix;

	if (!len_text || !parse_ipv4(buf, &out->addr) || !parse_uint(len_text, 0, 32, &prefix))
		return false;
	out->prefix = (uint8_t)prefix;
	return true;
}

/*
 * An IPv6 address as RFC 5952 writes it (lower case, no leading zeros, the longest run of zero
 * fields as "::"), the only spelling accepted, as "010" is refused for IPv4: one address, one
 * text. *WHY says what is wrong when it is not one: NULL when the text is no IPv6 address at
 * all, else a message naming the canonical form (in WHY_BUF).
 */
static bool parse_ipv6(const char *s, struct in6_addr *out, const char **why, char *why_buf,
		       size_t why_len)
{
	char canon[INET6_ADDRSTRLEN];

	*why = NULL;
	if (strlen(s) >= INET6_ADDRSTRLEN || inet_pton(AF_INET6, s, out) != 1)
		return false;
	inet_ntop(AF_INET6, out, canon, sizeof(canon));
	if (strcmp(canon, s)) {
		snprintf(why_buf, why_len, "is not in canonical form (RFC 5952): write %s", canon);
		*why = why_buf;
		return false;
	}
	return true;
}

/* What keeps an IPv6 address from being a host's on a bridge, or NULL. */
static const char *ipv6_unicast_problem(const struct in6_addr *a)
{
	if (IN6_IS_ADDR_UNSPECIFIED(a))
		return "is the unspecified address";
	if (IN6_IS_ADDR_LOOPBACK(a))
		return "is the loopback address";
	if (IN6_IS_ADDR_MULTICAST(a))
		return "is a multicast address";
	if (IN6_IS_ADDR_LINKLOCAL(a))
		return "is link-local (fe80::/10: the kernel gives every link one of its own)";
	if (IN6_IS_ADDR_V4MAPPED(a) || IN6_IS_ADDR_V4COMPAT(a))
		return "embeds an IPv4 address (write the IPv4 address as such)";
	return NULL;
}

/* ADDR6/PREFIX (0-128), the address in canonical form; host bits allowed (the caller decides).
 * *WHY as parse_ipv6(). */
static bool parse_cidr6(const char *s, struct fwd_cidr6 *out, const char **why, char *why_buf,
			size_t why_len)
{
	char buf[INET6_ADDRSTRLEN];
	const char *len_text = split_prefix(s, buf, sizeof(buf));
	unsigned long prefix;

	*why = NULL;
	if (!len_text || !parse_ipv6(buf, &out->addr, why, why_buf, why_len) ||
	    !parse_uint(len_text, 0, 128, &prefix))
		return false;
	out->prefix = (uint8_t)prefix;
	return true;
}

/* Linux's dev_valid_name(), restricted to printable ASCII. */
static const char *ifname_problem(const char *s)
{
	size_t n = strlen(s);

	if (n > FWD_IFNAME_MAX)
		return "is longer than 15 characters";
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return "is not a valid interface name";
	for (; *s; s++)
		if (*s == '/' || *s == ':' || *s <= ' ' || *s > '~')
			return "contains a character not allowed in interface names";
	return NULL;
}

/* A name usable as /run/netns/NAME and in messages: [A-Za-z0-9_.-], not starting with '.'. */
static const char *netns_name_problem(const char *s)
{
	size_t n = strlen(s);

	if (n > FWD_NETNS_NAME_MAX)
		return "is longer than 64 characters";
	if (s[0] == '.' || s[0] == '-')
		return "must not start with '.' or '-'";
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return "may contain only letters, digits, '_', '.' and '-'";
	return NULL;
}

bool topo_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > FWD_TOPO_NAME_MAX)
		return false;
	for (; *name; name++)
		if (!((*name >= 'a' && *name <= 'z') || (*name >= '0' && *name <= '9') ||
		      *name == '-'))
			return false;
	return true;
}

/* ---- one handler per keyword; tokens[0] is the keyword ---- */

static bool once(struct parser *p, int *seen_line, const char *kw)
{
	if (*seen_line) {
		perr(p, p->line, "duplicate '%s' (first at line %d)", kw, *seen_line);
		return false;
	}
	*seen_line = p->line;
	return true;
}

static void kw_topology(struct parser *p, char **tok)
{
	if (!once(p, &p->topology_line, "topology"))
		return;
	if (!topo_name_valid(tok[1])) {
		perr(p, p->line, "topology name '%s' must be 1-12 characters of [a-z0-9-]", tok[1]);
		return;
	}
	strcpy(p->t->name, tok[1]);
}

static void kw_datapath(struct parser *p, char **tok)
{
	if (!once(p, &p->datapath_line, "datapath"))
		return;
	if (!strcmp(tok[1], "bpf"))
		p->t->datapath = FWD_DATAPATH_BPF;
	else if (!strcmp(tok[1], "kernel"))
		p->t->datapath = FWD_DATAPATH_KERNEL;
	else
		perr(p, p->line, "unknown datapath '%s' (expected 'bpf' or 'kernel')", tok[1]);
}

/* The bridge's IPv6 address, beside its IPv4 one: a host of a /48 to /126 prefix. */
static void bridge_ipv6(struct parser *p, const char *s)
{
	const char *why;
	char why_buf[96];
	struct fwd_cidr6 c;
	struct in6_addr net;

	if (p->t->has6) {
		perr(p, p->line, "bridge has two IPv6 addresses ('%s'): give it one", s);
		return;
	}
	if (!parse_cidr6(s, &c, &why, why_buf, sizeof(why_buf))) {
		if (why)
			perr(p, p->line, "bridge address '%s' %s", s, why);
		else
			perr(p, p->line,
			     "bridge address '%s' is not ADDR/PREFIX (e.g. fd00:15::5/64)", s);
		return;
	}
	if (c.prefix < 48 || c.prefix > 126) {
		perr(p, p->line, "bridge prefix /%u must be between /48 and /126", c.prefix);
		return;
	}
	if ((why = ipv6_unicast_problem(&c.addr))) {
		perr(p, p->line, "bridge address %s %s", s, why);
		return;
	}
	net = fwd_in6_prefix_fill(&c.addr, c.prefix, false);
	if (!memcmp(&net, &c.addr, sizeof(net))) {
		perr(p, p->line,
		     "bridge address %s is its prefix's subnet-router anycast address (host bits "
		     "all zero), not a host",
		     s);
		return;
	}
	p->t->gateway6 = c;
	p->t->has6 = true;
	p->bridge_ipv6_bad = false;
}

static void kw_bridge(struct parser *p, char **tok)
{
	const char *why;
	struct fwd_cidr c;

	if (!once(p, &p->bridge_line, "bridge"))
		return;
	if ((why = ifname_problem(tok[1]))) {
		perr(p, p->line, "bridge name '%s' %s", tok[1], why);
		return;
	}
	strcpy(p->t->bridge, tok[1]);
	/* IPv6 beside IPv4: the IPv4 address first, as every other line writes it. */
	if (tok[3] || strchr(tok[2], ':'))
		p->bridge_ipv6_bad = true; /* until bridge_ipv6() accepts it */
	if (!tok[3] && strchr(tok[2], ':')) {
		/* IPv6 alone: the subnet the maps see is the stand-ins' (topology.h) */
		p->t->v6only = true;
		p->t->gateway = (struct fwd_cidr){ 0, FWD_STANDIN_PREFIX };
		bridge_ipv6(p, tok[2]);
		return;
	}
	if (tok[3]) {
		if (!strchr(tok[3], ':'))
			perr(p, p->line,
			     "bridge's second address '%s' is not IPv6 (usage: bridge IFNAME "
			     "ADDR/PREFIX [ADDR6/PREFIX])",
			     tok[3]);
		else
			bridge_ipv6(p, tok[3]);
	}
	if (strchr(tok[2], ':')) {
		perr(p, p->line,
		     "bridge address '%s' is IPv6: with two addresses the IPv4 one comes first",
		     tok[2]);
		return;
	}
	if (!parse_cidr(tok[2], &c)) {
		perr(p, p->line, "bridge address '%s' is not ADDR/PREFIX (e.g. 192.168.15.5/24)",
		     tok[2]);
		return;
	}
	if (c.prefix < 8 || c.prefix > 30) {
		perr(p, p->line, "bridge prefix /%u must be between /8 and /30", c.prefix);
		return;
	}
	in_addr_t host = c.addr & ~fwd_prefix_netmask(c.prefix);
	if (fwd_addr_is_standin(c.addr)) {
		perr(p, p->line,
		     "bridge address %s is in 0.0.0.0/8 (\"this network\"), not a host's address",
		     tok[2]);
		return;
	}
	if (host == 0 || host == ~fwd_prefix_netmask(c.prefix)) {
		perr(p, p->line, "bridge address %s is the %s address of its subnet, not a host",
		     tok[2], host ? "broadcast" : "network");
		return;
	}
	p->t->gateway = c;
}

static void kw_uplink(struct parser *p, char **tok)
{
	const char *why;

	if (!once(p, &p->uplink_line, "uplink"))
		return;
	if ((why = ifname_problem(tok[1]))) {
		perr(p, p->line, "uplink name '%s' %s", tok[1], why);
		return;
	}
	strcpy(p->t->uplink, tok[1]);
}

/* masquerade of an IPv6 prefix: host bits zero; inside the bridge's prefix (check_masquerades). */
static void masquerade_ipv6(struct parser *p, const char *s)
{
	struct fwd_topology *t = p->t;
	const char *why;
	char why_buf[96];
	struct fwd_cidr6 c;
	struct in6_addr net;

	if (!parse_cidr6(s, &c, &why, why_buf, sizeof(why_buf))) {
		if (why)
			perr(p, p->line, "masquerade '%s' %s", s, why);
		else
			perr(p, p->line, "masquerade '%s' is not a CIDR (e.g. fd00:15::/64)", s);
		return;
	}
	net = fwd_in6_prefix_fill(&c.addr, c.prefix, false);
	if (memcmp(&net, &c.addr, sizeof(net))) {
		perr(p, p->line, "masquerade %s has host bits set (did you mean %s/%u?)", s,
		     fwd_ip6_str(&net), c.prefix);
		return;
	}
	if (t->n_masquerades6 == FWD_MAX_MASQUERADES) {
		perr(p, p->line, "too many IPv6 masquerade lines (at most %d)",
		     FWD_MAX_MASQUERADES);
		return;
	}
	t->masquerades6[t->n_masquerades6++] = (struct fwd_masquerade6){ c, p->line };
}

static void kw_masquerade(struct parser *p, char **tok)
{
	struct fwd_topology *t = p->t;
	struct fwd_cidr c;

	if (strchr(tok[1], ':')) {
		masquerade_ipv6(p, tok[1]);
		return;
	}
	if (!parse_cidr(tok[1], &c)) {
		perr(p, p->line, "masquerade '%s' is not a CIDR (e.g. 192.168.15.0/24)", tok[1]);
		return;
	}
	if (c.addr & ~fwd_prefix_netmask(c.prefix)) {
		struct fwd_cidr net = { c.addr & fwd_prefix_netmask(c.prefix), c.prefix };
		perr(p, p->line, "masquerade %s has host bits set (did you mean %s/%u?)", tok[1],
		     fwd_ip_str(net.addr), net.prefix);
		return;
	}
	if (t->n_masquerades == FWD_MAX_MASQUERADES) {
		perr(p, p->line, "too many masquerade lines (at most %d)", FWD_MAX_MASQUERADES);
		return;
	}
	t->masquerades[t->n_masquerades++] = (struct fwd_masquerade){ c, p->line };
}

static void kw_namespace(struct parser *p, char **tok)
{
	struct fwd_topology *t = p->t;
	const char *why;
	in_addr_t addr = 0;

	if ((why = netns_name_problem(tok[1]))) {
		perr(p, p->line, "namespace name '%s' %s", tok[1], why);
		return;
	}
	if (strchr(tok[2], '/')) {
		perr(p, p->line, "namespace address '%s' takes no /PREFIX (the bridge's applies)",
		     tok[2]);
		return;
	}
	if (strchr(tok[2], ':') && tok[3]) {
		perr(p, p->line,
		     "namespace address '%s' is IPv6: with two addresses the IPv4 one comes first",
		     tok[2]);
		return;
	}
	if (!strchr(tok[2], ':') && !parse_ipv4(tok[2], &addr)) {
		perr(p, p->line, "namespace address '%s' is not an IPv4 address", tok[2]);
		return;
	}
	if (t->n_namespaces == FWD_MAX_NAMESPACES) {
		perr(p, p->line,
		     "too many namespaces: at most %d, the ports a Linux bridge takes "
		     "(BR_MAX_PORTS); put more in another topology",
		     FWD_MAX_NAMESPACES);
		return;
	}
	struct fwd_namespace *ns = &t->namespaces[t->n_namespaces++];
	strcpy(ns->name, tok[1]);
	ns->line = p->line;
	/* IPv6 alone: its stand-in comes when every namespace is known (assign_standins) */
	ns->v6only = strchr(tok[2], ':') != NULL;
	if (!ns->v6only)
		ns->addr = addr;
	if (ns->v6only || tok[3]) {
		const char *s6 = ns->v6only ? tok[2] : tok[3], *why6;
		char why_buf[96];

		if (strchr(s6, '/'))
			perr(p, p->line,
			     "namespace address '%s' takes no /PREFIX (the bridge's applies)", s6);
		else if (!strchr(s6, ':'))
			perr(p, p->line,
			     "namespace's second address '%s' is not IPv6 (usage: namespace NAME "
			     "ADDR [ADDR6] or namespace NAME ADDR6)",
			     s6);
		else if (!parse_ipv6(s6, &ns->addr6, &why6, why_buf, sizeof(why_buf)))
			perr(p, p->line, "namespace address '%s' %s", s6,
			     why6 ? why6 : "is not an IPv6 address");
		else if ((why6 = ipv6_unicast_problem(&ns->addr6)))
			perr(p, p->line, "namespace address %s %s", s6, why6);
		else
			ns->has6 = true;
	}
}

/* PORT or PORT-PORT */
static bool parse_port_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	char buf[16];
	const char *dash = strchr(s, '-');
	unsigned long a, b;

	if (!dash)
		return parse_uint(s, 1, 65535, &a) && (*lo = *hi = (uint16_t)a, true);
	if ((size_t)(dash - s) >= sizeof(buf))
		return false;
	memcpy(buf, s, (size_t)(dash - s));
	buf[dash - s] = '\0';
	if (!parse_uint(buf, 1, 65535, &a) || !parse_uint(dash + 1, 1, 65535, &b))
		return false;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return true;
}

/* A CIDR without host bits, for @what; false (reported) otherwise. */
static bool parse_net(struct parser *p, const char *s, const char *what, struct fwd_cidr *c)
{
	if (!parse_cidr(s, c)) {
		perr(p, p->line, "%s '%s' is not a CIDR (e.g. 10.0.0.0/8)", what, s);
		return false;
	}
	if (c->addr & ~fwd_prefix_netmask(c->prefix)) {
		perr(p, p->line, "%s %s has host bits set (did you mean %s/%u?)", what, s,
		     fwd_ip_str(c->addr & fwd_prefix_netmask(c->prefix)), c->prefix);
		return false;
	}
	return true;
}

/* What makes @a no address of a host another host's subnet could hold, or NULL. */
static const char *ipv4_unicast_problem(in_addr_t a)
{
	uint32_t h = ntohl(a);

	if ((h >> 24) == 0)
		return "is in 0.0.0.0/8 (this network)";
	if ((h >> 24) == 127)
		return "is a loopback address";
	if ((h >> 28) >= 14)
		return "is multicast, reserved or broadcast";
	return NULL;
}

/* route NET via ADDR */
static void kw_route(struct parser *p, char **tok)
{
	struct fwd_topology *t = p->t;
	struct fwd_route r = { .line = p->line };
	const char *why;

	if (strcmp(tok[2], "via")) {
		perr(p, p->line, "expected 'route NET via ADDR', got 'route %s %s %s'", tok[1],
		     tok[2], tok[3]);
		return;
	}
	if (strchr(tok[1], ':') || strchr(tok[3], ':')) {
		perr(p, p->line, "route: IPv6 subnets are not routed (yet): IPv4 only");
		return;
	}
	if (!parse_net(p, tok[1], "route", &r.net))
		return;
	if (r.net.prefix == 0) {
		perr(p, p->line,
		     "route %s would route everything: a route is another host's subnet (the "
		     "uplink's default route reaches the rest)",
		     tok[1]);
		return;
	}
	if ((why = ipv4_unicast_problem(r.net.addr))) {
		perr(p, p->line, "route %s %s", tok[1], why);
		return;
	}
	if (!parse_ipv4(tok[3], &r.via)) {
		perr(p, p->line, "route: via '%s' is not an IPv4 address", tok[3]);
		return;
	}
	if ((why = ipv4_unicast_problem(r.via))) {
		perr(p, p->line, "route: via %s %s", tok[3], why);
		return;
	}
	if (cidr_contains(r.net, r.via)) {
		perr(p, p->line, "route: via %s is inside %s itself: the next hop is on the LAN",
		     tok[3], tok[1]);
		return;
	}
	if (t->n_routes == FWD_MAX_ROUTES) {
		perr(p, p->line, "too many route lines (at most %d)", FWD_MAX_ROUTES);
		return;
	}
	t->routes[t->n_routes++] = r;
}

/* forward ... from CIDR[,CIDR...]: into @f->from. */
static bool parse_from(struct parser *p, const char *list, struct fwd_forward *f)
{
	char buf[FWD_LINE_MAX + 1];

	snprintf(buf, sizeof(buf), "%s", list);
	for (char *save = NULL, *c = strtok_r(buf, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
		if (f->n_from == FWD_MAX_FROM) {
			perr(p, p->line, "forward from: more than %d CIDRs", FWD_MAX_FROM);
			return false;
		}
		if (!parse_net(p, c, "forward from", &f->from[f->n_from]))
			return false;
		for (size_t i = 0; i < f->n_from; i++)
			if (f->from[i].addr == f->from[f->n_from].addr &&
			    f->from[i].prefix == f->from[f->n_from].prefix) {
				perr(p, p->line, "forward from: %s is listed twice", c);
				return false;
			}
		f->n_from++;
	}
	if (!f->n_from || list[0] == ',' || list[strlen(list) - 1] == ',' || strstr(list, ",,")) {
		perr(p, p->line, "forward from '%s' is not CIDR[,CIDR...]", list);
		return false;
	}
	return true;
}

static void kw_forward(struct parser *p, char **tok)
{
	struct fwd_topology *t = p->t;
	struct fwd_forward f = { .line = p->line };
	char target[FWD_NETNS_NAME_MAX + 1];
	const char *colon = strchr(tok[3], ':');
	size_t name_len = colon ? (size_t)(colon - tok[3]) : strlen(tok[3]);
	unsigned long to_port;

	if (!strcmp(tok[1], "tcp")) {
		f.proto = IPPROTO_TCP;
	} else if (!strcmp(tok[1], "udp")) {
		f.proto = IPPROTO_UDP;
	} else {
		perr(p, p->line, "unknown protocol '%s' (expected 'tcp' or 'udp')", tok[1]);
		return;
	}
	/* [ADDR:]PORT[-PORT] or [ADDR6]:PORT[-PORT]: an address of the uplink to publish on, else
	 * its primary one (and its first IPv6 one, see ipt.c). */
	const char *ports = strchr(tok[2], ':');

	if (tok[2][0] == '[') {
		const char *close = strstr(tok[2], "]:"), *why = NULL, *problem;
		char addr[INET6_ADDRSTRLEN], why_buf[96];
		size_t len = close ? (size_t)(close - tok[2] - 1) : 0;

		if (!close || !len || len >= sizeof(addr) ||
		    (memcpy(addr, tok[2] + 1, len), addr[len] = '\0',
		     !parse_ipv6(addr, &f.addr6, &why, why_buf, sizeof(why_buf)))) {
			if (why)
				perr(p, p->line, "forward address %s %s", addr, why);
			else
				perr(p, p->line, "'%s' is not [ADDR6]:PORT[-PORT]", tok[2]);
			return;
		}
		problem = ipv6_unicast_problem(&f.addr6);
		if (problem) {
			perr(p, p->line, "forward address %s %s: not one a LAN reaches", addr,
			     problem);
			return;
		}
		f.has_addr6 = true;
		ports = close + 2;
	} else if (ports) {
		char addr[16];
		size_t len = (size_t)(ports - tok[2]);

		if (len >= sizeof(addr) ||
		    (memcpy(addr, tok[2], len), addr[len] = '\0', !parse_ipv4(addr, &f.addr))) {
			perr(p, p->line, "'%.*s' is not an IPv4 address (ADDR:PORT)", (int)len,
			     tok[2]);
			return;
		}
		if (fwd_addr_is_standin(f.addr) || (ntohl(f.addr) >> 24) == 127 ||
		    (ntohl(f.addr) >> 28) >= 14) {
			perr(p, p->line,
			     "forward address %s is not a unicast address a LAN reaches", addr);
			return;
		}
		ports++;
	} else {
		ports = tok[2];
	}
	if (!parse_port_range(ports, &f.port_lo, &f.port_hi)) {
		perr(p, p->line,
		     "port '%s' is not [ADDR:]PORT or [ADDR:]PORT-PORT with ports 1-65535", tok[2]);
		return;
	}
	if (f.port_lo > f.port_hi) {
		perr(p, p->line, "port range '%s' is reversed", tok[2]);
		return;
	}
	if (name_len == 0 || name_len > FWD_NETNS_NAME_MAX) {
		perr(p, p->line, "forward target '%s' is not NAMESPACE[:PORT]", tok[3]);
		return;
	}
	memcpy(target, tok[3], name_len);
	target[name_len] = '\0';
	f.to_port = f.port_lo;
	if (colon) {
		if (!parse_uint(colon + 1, 1, 65535, &to_port)) {
			perr(p, p->line, "target port '%s' is not a port 1-65535", colon + 1);
			return;
		}
		if (to_port + (f.port_hi - f.port_lo) > 65535) {
			perr(p, p->line, "target ports %lu-%lu run past 65535", to_port,
			     to_port + (f.port_hi - f.port_lo));
			return;
		}
		f.to_port = (uint16_t)to_port;
	}
	/* The last word "xdp": the XDP fast path, for UDP (a TCP stream arrives as GSO
	 * segments, which only tc carries whole). */
	for (int k = 4; k <= 6 && tok[k - 1]; k++)
		if (tok[k] && !tok[k + 1] && !strcmp(tok[k], "xdp")) {
			f.xdp = true;
			tok[k] = NULL;
		}
	if (f.xdp && f.proto != IPPROTO_UDP) {
		perr(p, p->line,
		     "forward tcp ... xdp: the XDP fast path takes UDP only (TCP arrives in GSO "
		     "segments, which tc carries whole)");
		return;
	}
	if (f.xdp && f.has_addr6) {
		perr(p, p->line, "forward on an IPv6 address: the XDP fast path is IPv4's");
		return;
	}
	if (tok[4] && (strcmp(tok[4], "from") || !tok[5])) {
		perr(p, p->line, "after the target, expected 'from CIDR[,CIDR...]', got '%s%s%s'",
		     tok[4], tok[5] ? " " : "", tok[5] ? tok[5] : "");
		return;
	}
	if (tok[4] && !parse_from(p, tok[5], &f))
		return;
	if (tok[4] && f.has_addr6) {
		perr(p, p->line, "forward on an IPv6 address: 'from' takes IPv4 sources only");
		return;
	}
	if (t->n_forwards == FWD_MAX_FORWARDS) {
		perr(p, p->line, "too many forward lines (at most %d)", FWD_MAX_FORWARDS);
		return;
	}
	strcpy(p->forward_target[t->n_forwards], target);
	t->forwards[t->n_forwards++] = f;
}

static void kw_isolate(struct parser *p, char **tok)
{
	if (once(p, &p->isolate_line, "isolate"))
		p->t->isolate = true;
}

/* tuning rfs: the one tuning there is, a consent (see struct fwd_topology) */
static void kw_tuning(struct parser *p, char **tok)
{
	if (strcmp(tok[1], "rfs")) {
		perr(p, p->line, "unknown tuning '%s' (there is: rfs)", tok[1]);
		return;
	}
	if (once(p, &p->tuning_rfs_line, "tuning rfs"))
		p->t->tuning_rfs = true;
}

/* allow SRC -> DST [tcp|udp PORT[-PORT]] */
static void kw_allow(struct parser *p, char **tok)
{
	struct fwd_topology *t = p->t;
	struct fwd_allow a = { .line = p->line };

	if (strcmp(tok[2], "->")) {
		perr(p, p->line, "expected 'SRC -> DST', got '%s %s %s'", tok[1], tok[2], tok[3]);
		return;
	}
	for (int i = 0; i < 2; i++)
		if (strlen(tok[1 + 2 * i]) > FWD_NETNS_NAME_MAX) {
			perr(p, p->line, "allow: '%s' is no namespace name (too long)",
			     tok[1 + 2 * i]);
			return;
		}
	if (tok[4]) {
		if (!strcmp(tok[4], "tcp")) {
			a.proto = IPPROTO_TCP;
		} else if (!strcmp(tok[4], "udp")) {
			a.proto = IPPROTO_UDP;
		} else {
			perr(p, p->line, "allow: unknown protocol '%s' (expected 'tcp' or 'udp')",
			     tok[4]);
			return;
		}
		if (!tok[5]) {
			perr(p, p->line, "allow: '%s' needs a PORT or PORT-PORT after it", tok[4]);
			return;
		}
		if (!parse_port_range(tok[5], &a.port_lo, &a.port_hi)) {
			perr(p, p->line,
			     "allow: port '%s' is not PORT or PORT-PORT with ports 1-65535",
			     tok[5]);
			return;
		}
		if (a.port_lo > a.port_hi) {
			perr(p, p->line, "allow: port range '%s' is reversed", tok[5]);
			return;
		}
	}
	if (t->n_allows == FWD_MAX_ALLOWS) {
		perr(p, p->line, "too many allow lines (at most %d)", FWD_MAX_ALLOWS);
		return;
	}
	strcpy(p->allow_ns[t->n_allows][0], tok[1]);
	strcpy(p->allow_ns[t->n_allows][1], tok[3]);
	t->allows[t->n_allows++] = a;
}

/* conntrack max N | conntrack per-namespace N | conntrack timeout STATE SECONDS */
static void kw_conntrack(struct parser *p, char **tok)
{
	struct fwd_topology *t = p->t;
	unsigned long v;
	size_t i;

	if (!strcmp(tok[1], "max")) {
		if (!tok[2] || tok[3]) {
			perr(p, p->line,
			     "'conntrack max' takes 1 argument (usage: conntrack max N)");
			return;
		}
		if (!once(p, &p->ct_max_line, "conntrack max"))
			return;
		if (!parse_uint(tok[2], FWD_CT_MAX_MIN, FWD_CT_MAX_MAX, &v)) {
			perr(p, p->line, "conntrack max '%s' is not a number of connections %d-%d",
			     tok[2], FWD_CT_MAX_MIN, FWD_CT_MAX_MAX);
			return;
		}
		t->ct_max = (uint32_t)v;
		return;
	}
	if (!strcmp(tok[1], "per-namespace")) {
		if (!tok[2] || tok[3]) {
			perr(p, p->line,
			     "'conntrack per-namespace' takes 1 argument (usage: conntrack "
			     "per-namespace N)");
			return;
		}
		if (!once(p, &p->ct_per_ns_line, "conntrack per-namespace"))
			return;
		if (!parse_uint(tok[2], 1, FWD_CT_MAX_MAX, &v)) {
			perr(p, p->line,
			     "conntrack per-namespace '%s' is not a number of connections 1-%d",
			     tok[2], FWD_CT_MAX_MAX);
			return;
		}
		t->ct_per_ns = (uint32_t)v;
		return;
	}
	if (strcmp(tok[1], "timeout")) {
		perr(p, p->line,
		     "unknown conntrack setting '%s' (expected 'max', 'per-namespace' or "
		     "'timeout')",
		     tok[1]);
		return;
	}
	if (!tok[2] || !tok[3]) {
		perr(p, p->line,
		     "'conntrack timeout' takes 2 arguments (usage: conntrack timeout STATE "
		     "SECONDS)");
		return;
	}
	for (i = 0; i < topo_n_ct_states; i++)
		if (!strcmp(tok[2], topo_ct_states[i].name))
			break;
	if (i == topo_n_ct_states) {
		perr(p, p->line,
		     "unknown conntrack state '%s' (expected tcp-syn-sent, tcp-syn-recv, "
		     "tcp-established, tcp-fin-wait, tcp-time-wait, tcp-close, udp, udp-assured "
		     "or icmp)",
		     tok[2]);
		return;
	}
	if (p->ct_timeout_line[i]) {
		perr(p, p->line, "duplicate 'conntrack timeout %s' (first at line %d)", tok[2],
		     p->ct_timeout_line[i]);
		return;
	}
	p->ct_timeout_line[i] = p->line;
	if (!parse_uint(tok[3], 1, FWD_CT_TIMEOUT_MAX, &v)) {
		perr(p, p->line, "conntrack timeout '%s' is not a number of seconds 1-%d", tok[3],
		     FWD_CT_TIMEOUT_MAX);
		return;
	}
	*topo_ct_timeout(&t->ct_timeouts, &topo_ct_states[i]) = (__u32)v;
}

/* snat-ports LO-HI */
static void kw_snat_ports(struct parser *p, char **tok)
{
	uint16_t lo, hi;

	if (!once(p, &p->snat_ports_line, "snat-ports"))
		return;
	if (!strchr(tok[1], '-') || !parse_port_range(tok[1], &lo, &hi)) {
		perr(p, p->line, "snat-ports '%s' is not LO-HI with ports 1-65535", tok[1]);
		return;
	}
	if (lo > hi) {
		perr(p, p->line, "snat-ports range '%s' is reversed", tok[1]);
		return;
	}
	if (lo < FWD_SNAT_PORT_MIN) {
		perr(p, p->line, "snat-ports '%s' starts below %d (a privileged port)", tok[1],
		     FWD_SNAT_PORT_MIN);
		return;
	}
	p->t->snat_port_lo = lo;
	p->t->snat_port_hi = hi;
}

struct keyword {
	const char *name;
	int args;     /* number of arguments after the keyword ... */
	int args_max; /* ... or, when not 0, the least, and this the most */
	const char *usage;
	void (*handle)(struct parser *p, char **tok);
};

/* New grammar (several bridges, IPv6, ...) is one row and one handler. */
static const struct keyword keywords[] = {
	{ "topology", 1, 0, "topology NAME", kw_topology },
	{ "datapath", 1, 0, "datapath bpf|kernel", kw_datapath },
	{ "bridge", 2, 3, "bridge IFNAME ADDR/PREFIX [ADDR6/PREFIX]", kw_bridge },
	{ "uplink", 1, 0, "uplink IFNAME", kw_uplink },
	{ "masquerade", 1, 0, "masquerade CIDR", kw_masquerade },
	{ "namespace", 2, 3, "namespace NAME ADDR [ADDR6]", kw_namespace },
	{ "forward", 3, 6,
	  "forward tcp|udp [ADDR:|[ADDR6]:]PORT[-PORT] NAMESPACE[:PORT] [from CIDR[,CIDR...]] "
	  "[xdp]",
	  kw_forward },
	{ "isolate", 0, 0, "isolate", kw_isolate },
	{ "allow", 3, 5, "allow SRC -> DST [tcp|udp PORT[-PORT]]", kw_allow },
	{ "route", 3, 0, "route NET via ADDR", kw_route },
	{ "conntrack", 2, 3,
	  "conntrack max N | conntrack per-namespace N | conntrack timeout STATE SECONDS",
	  kw_conntrack },
	{ "snat-ports", 1, 0, "snat-ports LO-HI", kw_snat_ports },
	{ "tuning", 1, 0, "tuning rfs", kw_tuning },
};

/* Split one line (NUL-terminated, comment already cut) into tokens, then dispatch. */
static void parse_line(struct parser *p, char *s)
{
	char *tok[MAX_TOKENS + 1];
	int n = 0;

	for (char *c = s; *c; c++) {
		if ((unsigned char)*c < ' ' && *c != '\t') {
			perr(p, p->line, "control character 0x%02x", (unsigned char)*c);
			return;
		}
		if ((unsigned char)*c > '~') {
			perr(p, p->line, "non-ASCII byte 0x%02x", (unsigned char)*c);
			return;
		}
	}
	for (char *save = NULL, *w = strtok_r(s, " \t", &save); w;
	     w = strtok_r(NULL, " \t", &save)) {
		if (n == MAX_TOKENS) {
			perr(p, p->line, "too many words");
			return;
		}
		tok[n++] = w;
	}
	if (n == 0)
		return;
	tok[n] = NULL;
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		const struct keyword *k = &keywords[i];

		if (strcmp(tok[0], k->name))
			continue;
		if (!k->args_max && n - 1 != k->args) {
			perr(p, p->line, "'%s' takes %d argument%s, got %d (usage: %s)", k->name,
			     k->args, k->args == 1 ? "" : "s", n - 1, k->usage);
			return;
		}
		if (k->args_max && (n - 1 < k->args || n - 1 > k->args_max)) {
			perr(p, p->line, "'%s' takes %d to %d arguments, got %d (usage: %s)",
			     k->name, k->args, k->args_max, n - 1, k->usage);
			return;
		}
		k->handle(p, tok);
		return;
	}
	perr(p, p->line, "unknown keyword '%s'", tok[0]);
}

/* ---- whole-file rules ---- */

/* By IPv4 address; those with IPv6 only after, by IPv6 address. */
static int cmp_namespace_addr(const void *a, const void *b)
{
	const struct fwd_namespace *m = a, *n = b;
	uint32_t x = ntohl(m->addr), y = ntohl(n->addr);

	if (m->v6only != n->v6only)
		return m->v6only ? 1 : -1;
	if (m->v6only)
		return memcmp(&m->addr6, &n->addr6, sizeof(m->addr6));
	return x < y ? -1 : x > y;
}

static int cmp_forward(const void *a, const void *b)
{
	const struct fwd_forward *x = a, *y = b;
	int c;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->has_addr6 != y->has_addr6) /* IPv6 addresses' after the rest */
		return x->has_addr6 ? 1 : -1;
	if (x->has_addr6 && (c = memcmp(&x->addr6, &y->addr6, sizeof(x->addr6))))
		return c;
	if (x->addr != y->addr) /* the primary address's (0) first, then by address */
		return ntohl(x->addr) < ntohl(y->addr) ? -1 : 1;
	return x->port_lo < y->port_lo ? -1 : x->port_lo > y->port_lo;
}

/* Namespace indices in order of name, then of address; ties in file order (qsort is not
 * stable: the index decides). */
static const struct fwd_namespace *sort_ns;

static int by_ns_name(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(sort_ns[i].name, sort_ns[j].name);

	return c ? c : (i > j) - (i < j);
}

static int by_ns_addr(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	uint32_t x = ntohl(sort_ns[i].addr), y = ntohl(sort_ns[j].addr);

	return x != y ? (x > y) - (x < y) : (i > j) - (i < j);
}

/*
 * For each namespace, the first one before it in the file with the same name (@same_name) or
 * address (@same_addr), SIZE_MAX when none: sorted, not compared pair by pair (a topology
 * holds up to a bridge's 1,023 namespaces, and every command parses every topology that is up).
 */
static bool first_duplicates(const struct fwd_topology *t, size_t *same_name, size_t *same_addr)
{
	size_t n = t->n_namespaces, *idx = calloc(n ? n : 1, sizeof(*idx));

	if (!idx)
		return false;
	sort_ns = t->namespaces;
	for (int pass = 0; pass < 2; pass++) {
		size_t *first = pass ? same_addr : same_name;

		for (size_t i = 0; i < n; i++)
			idx[i] = i;
		qsort(idx, n, sizeof(*idx), pass ? by_ns_addr : by_ns_name);
		for (size_t k = 0, head = 0; k < n; k++) {
			bool same =
			    k && (pass ? t->namespaces[idx[k]].addr == t->namespaces[idx[head]].addr
				       : !strcmp(t->namespaces[idx[k]].name,
						 t->namespaces[idx[head]].name));

			if (!same)
				head = k;
			first[idx[k]] = same ? idx[head] : SIZE_MAX;
		}
	}
	free(idx);
	return true;
}

static void check_namespaces(struct parser *p)
{
	struct fwd_topology *t = p->t;
	in_addr_t mask = fwd_prefix_netmask(t->gateway.prefix);
	size_t n = t->n_namespaces ? t->n_namespaces : 1;
	size_t *same_name = calloc(n, sizeof(*same_name)),
	       *same_addr = calloc(n, sizeof(*same_addr));

	if (!same_name || !same_addr || !first_duplicates(t, same_name, same_addr)) {
		p->oom = true;
		goto out;
	}
	for (size_t i = 0; i < t->n_namespaces; i++) {
		struct fwd_namespace *ns = &t->namespaces[i];
		in_addr_t host = ns->addr & ~mask;
		size_t j;

		if ((j = same_name[i]) != SIZE_MAX)
			perr(p, ns->line, "duplicate namespace '%s' (first at line %d)", ns->name,
			     t->namespaces[j].line);
		else if ((j = same_addr[i]) != SIZE_MAX)
			perr(p, ns->line, "address %s already used by namespace '%s' (line %d)",
			     fwd_ip_str(ns->addr), t->namespaces[j].name, t->namespaces[j].line);
		if (!p->bridge_line || !t->gateway.prefix || ns->v6only)
			continue; /* no subnet to check against, or reported; IPv6 only */
		if (t->v6only)
			perr(p, ns->line,
			     "namespace '%s' has an IPv4 address, the bridge none (bridge line %d)",
			     ns->name, p->bridge_line);
		else if (!cidr_contains(t->gateway, ns->addr))
			perr(p, ns->line,
			     "address %s of namespace '%s' is outside the bridge subnet %s/%u",
			     fwd_ip_str(ns->addr), ns->name, fwd_ip_str(t->gateway.addr & mask),
			     t->gateway.prefix);
		else if (ns->addr == t->gateway.addr)
			perr(p, ns->line,
			     "address %s of namespace '%s' is the gateway's (bridge line %d)",
			     fwd_ip_str(ns->addr), ns->name, p->bridge_line);
		else if (host == 0 || host == ~mask)
			perr(p, ns->line, "address %s of namespace '%s' is the subnet's %s address",
			     fwd_ip_str(ns->addr), ns->name, host ? "broadcast" : "network");
	}
out:
	free(same_name);
	free(same_addr);
}

static void check_masquerades(struct parser *p)
{
	struct fwd_topology *t = p->t;

	for (size_t i = 0; i < t->n_masquerades; i++) {
		struct fwd_masquerade *m = &t->masquerades[i];

		if (!p->uplink_line)
			perr(p, m->line, "masquerade needs an 'uplink' line");
		if (t->v6only)
			perr(
			    p, m->line,
			    "masquerade %s/%u is IPv4, the bridge has no IPv4 address (bridge line "
			    "%d)",
			    fwd_ip_str(m->net.addr), m->net.prefix, p->bridge_line);
		else if (p->bridge_line && t->gateway.prefix &&
			 (m->net.prefix < t->gateway.prefix ||
			  !cidr_contains(t->gateway, m->net.addr)))
			perr(p, m->line, "masquerade %s/%u is not inside the bridge subnet %s/%u",
			     fwd_ip_str(m->net.addr), m->net.prefix,
			     fwd_ip_str(t->gateway.addr & fwd_prefix_netmask(t->gateway.prefix)),
			     t->gateway.prefix);
		for (size_t j = 0; j < i; j++) {
			struct fwd_masquerade *o = &t->masquerades[j];
			uint8_t shorter =
			    m->net.prefix < o->net.prefix ? m->net.prefix : o->net.prefix;

			if (((m->net.addr ^ o->net.addr) & fwd_prefix_netmask(shorter)) == 0) {
				perr(p, m->line, "masquerade %s/%u overlaps the one at line %d",
				     fwd_ip_str(m->net.addr), m->net.prefix, o->line);
				break;
			}
		}
	}
}

/* ---- IPv6 beside IPv4 ---- */

static const struct fwd_namespace *sort_ns6;

static int by_ns_addr6(const void *a, const void *b)
{
	const struct fwd_namespace *x = &sort_ns6[*(const size_t *)a],
				   *y = &sort_ns6[*(const size_t *)b];
	int c = memcmp(&x->addr6, &y->addr6, sizeof(x->addr6));

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* The namespaces' IPv6 addresses: inside the bridge's prefix, not the gateway's nor the
 * prefix's anycast address, each used once (sorted, so that 1,023 namespaces cost no
 * quadratic walk). */
static void check_namespaces6(struct parser *p)
{
	struct fwd_topology *t = p->t;
	size_t *idx = calloc(t->n_namespaces ? t->n_namespaces : 1, sizeof(*idx)), n = 0;

	if (!idx) {
		p->oom = true;
		return;
	}
	for (size_t i = 0; i < t->n_namespaces; i++) {
		const struct fwd_namespace *ns = &t->namespaces[i];
		struct in6_addr net;

		if (!ns->has6)
			continue;
		idx[n++] = i;
		if (!p->bridge_line || p->bridge_ipv6_bad)
			continue; /* reported */
		if (!t->has6) {
			perr(p, ns->line,
			     "namespace '%s' has an IPv6 address, the bridge none (bridge line %d)",
			     ns->name, p->bridge_line);
			continue;
		}
		net = fwd_in6_prefix_fill(&t->gateway6.addr, t->gateway6.prefix, false);
		if (!fwd_in6_same_prefix(&ns->addr6, &t->gateway6.addr, t->gateway6.prefix))
			perr(p, ns->line,
			     "address %s of namespace '%s' is outside the bridge prefix %s/%u",
			     fwd_ip6_str(&ns->addr6), ns->name, fwd_ip6_str(&net),
			     t->gateway6.prefix);
		else if (!memcmp(&ns->addr6, &t->gateway6.addr, sizeof(ns->addr6)))
			perr(p, ns->line,
			     "address %s of namespace '%s' is the gateway's (bridge line %d)",
			     fwd_ip6_str(&ns->addr6), ns->name, p->bridge_line);
		else if (!memcmp(&ns->addr6, &net, sizeof(net)))
			perr(p, ns->line,
			     "address %s of namespace '%s' is the prefix's subnet-router anycast "
			     "address",
			     fwd_ip6_str(&ns->addr6), ns->name);
	}
	sort_ns6 = t->namespaces;
	qsort(idx, n, sizeof(*idx), by_ns_addr6);
	for (size_t k = 1; k < n; k++) {
		const struct fwd_namespace *a = &t->namespaces[idx[k - 1]],
					   *b = &t->namespaces[idx[k]];

		if (!memcmp(&a->addr6, &b->addr6, sizeof(a->addr6)) && strcmp(a->name, b->name))
			perr(p, b->line, "address %s already used by namespace '%s' (line %d)",
			     fwd_ip6_str(&b->addr6), a->name, a->line);
	}
	free(idx);
}

/* IPv6 masquerades: an uplink, inside the bridge's IPv6 prefix, no two overlapping. */
static void check_masquerades6(struct parser *p)
{
	struct fwd_topology *t = p->t;

	for (size_t i = 0; i < t->n_masquerades6; i++) {
		const struct fwd_masquerade6 *m = &t->masquerades6[i];

		if (!p->uplink_line)
			perr(p, m->line, "masquerade needs an 'uplink' line");
		if (p->bridge_ipv6_bad) {
			/* the bridge's IPv6 address is wrong: reported */
		} else if (p->bridge_line && !t->has6) {
			perr(
			    p, m->line,
			    "masquerade %s/%u is IPv6, the bridge has no IPv6 address (bridge line "
			    "%d)",
			    fwd_ip6_str(&m->net.addr), m->net.prefix, p->bridge_line);
		} else if (p->bridge_line && (m->net.prefix < t->gateway6.prefix ||
					      !fwd_in6_same_prefix(&m->net.addr, &t->gateway6.addr,
								   t->gateway6.prefix))) {
			struct in6_addr net =
			    fwd_in6_prefix_fill(&t->gateway6.addr, t->gateway6.prefix, false);

			perr(p, m->line, "masquerade %s/%u is not inside the bridge prefix %s/%u",
			     fwd_ip6_str(&m->net.addr), m->net.prefix, fwd_ip6_str(&net),
			     t->gateway6.prefix);
		}
		for (size_t j = 0; j < i; j++) {
			const struct fwd_masquerade6 *o = &t->masquerades6[j];
			uint8_t shorter =
			    m->net.prefix < o->net.prefix ? m->net.prefix : o->net.prefix;

			if (fwd_in6_same_prefix(&m->net.addr, &o->net.addr, shorter)) {
				perr(p, m->line, "masquerade %s/%u overlaps the one at line %d",
				     fwd_ip6_str(&m->net.addr), m->net.prefix, o->line);
				break;
			}
		}
	}
}

/*
 * The stand-ins of the namespaces with IPv6 only (fwd_kern_user.h): their IPv6 address folded
 * into the 24 host bits of 0.0.0.0/8, so that a namespace keeps its stand-in whatever else the
 * file gains or loses; on a collision (or 0.0.0.0) the next free one, taken in order of IPv6
 * address. Linear search: collisions are rare, and stand-ins only go to IPv6-only namespaces.
 */
static bool standin_taken(const struct fwd_topology *t, size_t upto, const size_t *idx,
			  in_addr_t addr)
{
	for (size_t k = 0; k < upto; k++)
		if (t->namespaces[idx[k]].addr == addr)
			return true;
	return false;
}

static void assign_standins(struct parser *p)
{
	struct fwd_topology *t = p->t;
	size_t *idx = calloc(t->n_namespaces ? t->n_namespaces : 1, sizeof(*idx)), n = 0;

	if (!idx) {
		p->oom = true;
		return;
	}
	for (size_t i = 0; i < t->n_namespaces; i++)
		if (t->namespaces[i].v6only)
			idx[n++] = i;
	sort_ns6 = t->namespaces;
	qsort(idx, n, sizeof(*idx), by_ns_addr6);
	for (size_t k = 0; k < n; k++) {
		struct fwd_namespace *ns = &t->namespaces[idx[k]];
		uint32_t h = 0, w;

		for (int i = 0; i < 4; i++) {
			memcpy(&w, &ns->addr6.s6_addr[4 * i], sizeof(w));
			h ^= ntohl(w);
		}
		h = (h ^ (h >> 24)) & 0xffffff;
		if (!h)
			h = 1;
		while (standin_taken(t, k, idx, htonl(h)))
			h = (h & 0xffffff) == 0xffffff ? 1 : h + 1;
		ns->addr = htonl(h);
	}
	free(idx);
}

/* Resolve forward targets (namespaces may be declared after), then look for overlaps. */
static void check_forwards(struct parser *p)
{
	struct fwd_topology *t = p->t;
	in_addr_t addrs[FWD_MAX_FORWARD_ADDRS];
	size_t n_addrs = 0, n_ports = 0;

	/* What the BPF maps hold: every port of every forward, and the addresses named. */
	for (size_t i = 0; i < t->n_forwards; i++) {
		const struct fwd_forward *f = &t->forwards[i];
		size_t k;

		n_ports += (size_t)(f->port_hi - f->port_lo) + 1;
		if (n_ports > FWD_MAX_FORWARD_PORTS) {
			perr(p, f->line, "the forwards hold more than %d ports in all",
			     FWD_MAX_FORWARD_PORTS);
			break;
		}
		for (k = 0; k < n_addrs && addrs[k] != f->addr; k++)
			;
		if (k < n_addrs || !f->addr) /* (IPv6 ones: 0, in no map) */
			continue;
		if (n_addrs == FWD_MAX_FORWARD_ADDRS) {
			perr(p, f->line, "forwards name more than %d addresses of the uplink",
			     FWD_MAX_FORWARD_ADDRS);
			break;
		}
		addrs[n_addrs++] = f->addr;
	}

	for (size_t i = 0; i < t->n_forwards; i++) {
		struct fwd_forward *f = &t->forwards[i];
		const struct fwd_namespace *ns = topo_namespace_find(t, p->forward_target[i]);

		if (!p->uplink_line)
			perr(p, f->line, "forward needs an 'uplink' line");
		if (!ns) {
			perr(p, f->line, "forward target '%s' is not a declared namespace",
			     p->forward_target[i]);
			f->ns = SIZE_MAX;
		} else {
			f->ns = (size_t)(ns - t->namespaces);
			if (f->has_addr6 && !ns->has6)
				perr(p, f->line,
				     "forward on an IPv6 address: namespace %s has no IPv6 address",
				     ns->name);
			else if (ns->v6only && (f->addr || f->n_from))
				perr(p, f->line, "forward %s: namespace %s has no IPv4 address",
				     f->addr ? "on an IPv4 address" : "from IPv4 sources",
				     ns->name);
		}
		for (size_t j = 0; j < i; j++) {
			struct fwd_forward *o = &t->forwards[j];

			/* On different addresses, the same port is two forwards (a forward on
			 * the primary address and one naming it are checked at up). */
			if (o->proto == f->proto && o->addr == f->addr &&
			    o->has_addr6 == f->has_addr6 &&
			    (!f->has_addr6 || !memcmp(&o->addr6, &f->addr6, sizeof(f->addr6))) &&
			    f->port_lo <= o->port_hi && o->port_lo <= f->port_hi) {
				perr(p, f->line, "%s ports %u-%u overlap the forward at line %d",
				     f->proto == IPPROTO_TCP ? "tcp" : "udp", f->port_lo,
				     f->port_hi, o->line);
				break;
			}
		}
	}
}

/*
 * allow SRC: not a namespace; a subnet or address inside a route line's subnet (a host or a
 * namespace of another host) fills in @a's source. False when it is no address at all
 * (reported as no namespace); true when it was one (errors reported here).
 */
static bool allow_from_routed(struct parser *p, struct fwd_allow *a, const char *s)
{
	struct fwd_cidr c;
	const struct fwd_route *r;

	if (parse_ipv4(s, &c.addr))
		c.prefix = 32;
	else if (!strchr(s, '/') || !parse_net(p, s, "allow", &c))
		return strchr(s, '/') != NULL; /* parse_net() said what is wrong */
	a->src = c.addr;
	a->src_prefix = c.prefix;
	a->from_route = true;
	r = topo_route_of(p->t, c.addr);
	if (!r || c.prefix < r->net.prefix)
		perr(p, a->line,
		     "allow: %s is neither a declared namespace nor inside a route line's subnet",
		     s);
	return true;
}

/* Whole-file rules of the route lines: an uplink; outside the bridge's subnet and each other;
 * the next hop outside the bridge's subnet and every routed one. */
static void check_routes(struct parser *p)
{
	struct fwd_topology *t = p->t;

	for (size_t i = 0; i < t->n_routes; i++) {
		const struct fwd_route *r = &t->routes[i];

		if (!p->uplink_line)
			perr(p, r->line,
			     "route needs an 'uplink' line (the next hop is behind it)");
		if (t->v6only)
			perr(p, r->line,
			     "route %s/%u is IPv4, the bridge has no IPv4 address (bridge line %d)",
			     fwd_ip_str(r->net.addr), r->net.prefix, p->bridge_line);
		if (p->bridge_line && !t->v6only) {
			uint8_t shorter =
			    r->net.prefix < t->gateway.prefix ? r->net.prefix : t->gateway.prefix;

			if (((r->net.addr ^ t->gateway.addr) & fwd_prefix_netmask(shorter)) == 0)
				perr(
				    p, r->line,
				    "route %s/%u overlaps the bridge subnet %s/%u (bridge line %d)",
				    fwd_ip_str(r->net.addr), r->net.prefix,
				    fwd_ip_str(topo_subnet(t)), t->gateway.prefix, p->bridge_line);
			else if (cidr_contains(t->gateway, r->via))
				perr(
				    p, r->line,
				    "route: via %s is inside the bridge subnet: the next hop is on "
				    "the LAN, behind the uplink",
				    fwd_ip_str(r->via));
		}
		for (size_t j = 0; j < t->n_routes; j++) {
			const struct fwd_route *o = &t->routes[j];
			uint8_t shorter =
			    r->net.prefix < o->net.prefix ? r->net.prefix : o->net.prefix;

			if (j < i &&
			    ((r->net.addr ^ o->net.addr) & fwd_prefix_netmask(shorter)) == 0) {
				perr(p, r->line, "route %s/%u overlaps the one at line %d",
				     fwd_ip_str(r->net.addr), r->net.prefix, o->line);
				break;
			}
			if (j != i && cidr_contains(o->net, r->via)) {
				perr(p, r->line,
				     "route: via %s is inside the routed %s/%u (line %d)",
				     fwd_ip_str(r->via), fwd_ip_str(o->net.addr), o->net.prefix,
				     o->line);
				break;
			}
		}
	}
}

/* Resolve allow's namespaces; allow needs isolate, and says something new each time. */
static void check_allows(struct parser *p)
{
	struct fwd_topology *t = p->t;

	for (size_t i = 0; i < t->n_allows; i++) {
		struct fwd_allow *a = &t->allows[i];
		const struct fwd_namespace *ns[2];
		bool known = true;

		if (!p->isolate_line)
			perr(p, a->line, "allow has no effect without an 'isolate' line");
		for (int k = 0; k < 2; k++) {
			ns[k] = topo_namespace_find(t, p->allow_ns[i][k]);
			if (!ns[k] && k == 0 && allow_from_routed(p, a, p->allow_ns[i][0]))
				continue;
			if (!ns[k]) {
				perr(p, a->line, "allow: '%s' is not a declared namespace",
				     p->allow_ns[i][k]);
				known = false;
			}
		}
		if (!known)
			continue;
		if (ns[0]) {
			a->src = ns[0]->addr;
			a->src_prefix = 32;
		}
		a->dst = ns[1]->addr;
		if (ns[1]->v6only && !ns[0]) {
			perr(p, a->line, "allow: '%s' has no IPv4 address, and routes are IPv4",
			     ns[1]->name);
			continue;
		}
		if (ns[0] && a->src == a->dst) {
			perr(p, a->line,
			     "allow: '%s' to itself (a namespace always reaches itself)",
			     ns[0]->name);
			continue;
		}
		for (size_t j = 0; j < i; j++) {
			const struct fwd_allow *o = &t->allows[j];

			if (o->src == a->src && o->src_prefix == a->src_prefix &&
			    o->dst == a->dst && o->proto == a->proto && o->port_lo == a->port_lo &&
			    o->port_hi == a->port_hi) {
				perr(p, a->line, "allow: the same as the one at line %d", o->line);
				break;
			}
		}
	}
}

/* The default topology name: the file's base name without ".conf" (into @name, 256 bytes);
 * whether it is a valid one. */
static bool name_of_path(const char *path, char *name)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 5 && !strcmp(base + n - 5, ".conf"))
		n -= 5;
	if (n > 255)
		n = 255;
	memcpy(name, base, n);
	name[n] = '\0';
	return topo_name_valid(name);
}

static void default_name(struct parser *p)
{
	char name[256];

	if (!name_of_path(p->path, name)) {
		perr(p, 1,
		     "no 'topology' line, and the file name '%s' is not a valid topology "
		     "name (1-12 characters of [a-z0-9-]): add 'topology NAME'",
		     name);
		return;
	}
	strcpy(p->t->name, name);
}

int topo_name_of_file(const char *path, char *name)
{
	char line[FWD_LINE_MAX + 2], word[16], arg[FWD_TOPO_NAME_SIZE + 1], other[256];
	FILE *f = fopen(path, "re");

	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "#")] = '\0';
		if (sscanf(line, "%15s %13s", word, arg) == 2 && !strcmp(word, "topology") &&
		    topo_name_valid(arg)) {
			fclose(f);
			strcpy(name, arg);
			return 0;
		}
	}
	if (f)
		fclose(f);
	if (!name_of_path(path, other))
		return -EINVAL;
	strcpy(name, other);
	return 0;
}

static void check_file(struct parser *p)
{
	struct fwd_topology *t = p->t;
	int end = p->last_line ? p->last_line : 1;

	if (!p->topology_line)
		default_name(p);
	if (!p->bridge_line)
		perr(p, end, "no 'bridge' line (exactly one is required)");
	if (t->n_namespaces == 0)
		perr(p, end, "no 'namespace' line (at least one is required)");
	if (p->uplink_line && !strcmp(t->uplink, t->bridge))
		perr(p, p->uplink_line, "uplink '%s' is the bridge itself", t->uplink);
	assign_standins(p);
	check_namespaces(p);
	check_namespaces6(p);
	check_masquerades(p);
	check_masquerades6(p);
	check_forwards(p);
	check_routes(p);
	check_allows(p);
}

/* After validation: canonical order (namespaces by address, forwards by proto and port). */
static void normalise(struct fwd_topology *t)
{
	char(*names)[FWD_NETNS_NAME_MAX + 1] = NULL;

	if (t->n_forwards) {
		names = calloc(t->n_forwards, sizeof(*names));
		if (!names)
			return; /* order is cosmetic; indices stay valid unsorted */
		for (size_t i = 0; i < t->n_forwards; i++)
			strcpy(names[i], t->namespaces[t->forwards[i].ns].name);
	}
	qsort(t->namespaces, t->n_namespaces, sizeof(*t->namespaces), cmp_namespace_addr);
	if (!t->n_forwards)
		return;
	for (size_t i = 0; i < t->n_forwards; i++)
		t->forwards[i].ns = (size_t)(topo_namespace_find(t, names[i]) - t->namespaces);
	free(names);
	qsort(t->forwards, t->n_forwards, sizeof(*t->forwards), cmp_forward);
}

int topo_parse_buf(struct fwd_topology *t, const char *path, const char *buf, size_t len, FILE *err)
{
	struct parser p = { .t = t, .path = path, .err = err };
	char *line = NULL;
	int ret = -ENOMEM;

	memset(t, 0, sizeof(*t));
	topo_settings_default(t);
	t->namespaces = calloc(FWD_MAX_NAMESPACES, sizeof(*t->namespaces));
	t->forwards = calloc(FWD_MAX_FORWARDS, sizeof(*t->forwards));
	t->masquerades = calloc(FWD_MAX_MASQUERADES, sizeof(*t->masquerades));
	t->masquerades6 = calloc(FWD_MAX_MASQUERADES, sizeof(*t->masquerades6));
	t->allows = calloc(FWD_MAX_ALLOWS, sizeof(*t->allows));
	t->routes = calloc(FWD_MAX_ROUTES, sizeof(*t->routes));
	p.forward_target = calloc(FWD_MAX_FORWARDS, sizeof(*p.forward_target));
	p.allow_ns = calloc(FWD_MAX_ALLOWS, sizeof(*p.allow_ns));
	line = malloc(FWD_LINE_MAX + 1);
	if (!t->namespaces || !t->forwards || !t->masquerades || !t->masquerades6 || !t->allows ||
	    !t->routes || !p.forward_target || !p.allow_ns || !line)
		goto out;

	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		const char *raw = buf + pos;

		p.line = ++p.last_line;
		pos += n + (nl ? 1 : 0);
		if (memchr(raw, '\0', n)) {
			perr(&p, p.line, "NUL byte");
			continue;
		}
		if (memchr(raw, '\r', n)) {
			perr(&p, p.line, "carriage return (CRLF line endings are not accepted)");
			continue;
		}
		if (n > FWD_LINE_MAX) {
			perr(&p, p.line, "line is %zu bytes long (at most %d)", n, FWD_LINE_MAX);
			continue;
		}
		memcpy(line, raw, n);
		line[n] = '\0';
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		parse_line(&p, line);
	}
	check_file(&p);

	if (p.errors > MAX_REPORTED)
		fprintf(err, "%s: %d more errors not shown\n", path, p.errors - MAX_REPORTED);
	ret = p.oom ? -ENOMEM : p.errors ? -EINVAL : 0;
	if (!ret)
		normalise(t);
	if (!ret) {
		t->bridge_line = p.bridge_line;
		t->uplink_line = p.uplink_line;
		t->snat_ports_line = p.snat_ports_line;
		t->source = strdup(path);
		t->text = malloc(len + 1);
		if (!t->source || !t->text)
			ret = -ENOMEM;
		else
			memcpy(t->text, buf, len), t->text[len] = '\0', t->text_len = len;
	}
out:
	free(line);
	free(p.forward_target);
	free(p.allow_ns);
	if (ret)
		topo_free(t);
	return ret;
}

int topo_parse_file(struct fwd_topology *t, const char *path, FILE *err)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t len;
	int ret;

	memset(t, 0, sizeof(*t));
	if (!f) {
		ret = -errno;
		fprintf(err, "fwdctl: %s: cannot open: %s\n", path, strerror(errno));
		return ret;
	}
	buf = malloc(FILE_SIZE_MAX + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	len = fread(buf, 1, FILE_SIZE_MAX + 1, f);
	if (ferror(f)) {
		ret = -EIO;
		fprintf(err, "fwdctl: %s: cannot read: %s\n", path, strerror(errno));
	} else if (len > FILE_SIZE_MAX) {
		ret = -EFBIG;
		fprintf(err, "%s:1: file is larger than %u bytes\n", path, FILE_SIZE_MAX);
	} else {
		ret = topo_parse_buf(t, path, buf, len, err);
	}
	free(buf);
	fclose(f);
	return ret;
}

void topo_free(struct fwd_topology *t)
{
	free(t->namespaces);
	free(t->forwards);
	free(t->masquerades);
	free(t->masquerades6);
	free(t->allows);
	free(t->routes);
	free(t->source);
	free(t->text);
	memset(t, 0, sizeof(*t));
}

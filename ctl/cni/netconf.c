// SPDX-License-Identifier: GPL-2.0
/*
 * fwd-cni's network config: JSON from the runtime (untrusted), parsed with jansson and checked
 * before anything is changed. Fields the spec or a runtime adds and fwd-cni does not use
 * (type, args, capabilities, prevResult, dns, ...) are ignored, as plugins do; a field fwd-cni
 * reads must have the right type and value, or the call fails with the spec's code.
 *
 *   {"cniVersion": "1.0.0", "name": "lab", "type": "fwd-cni", "bridge": "fwdcni0",
 *    "subnet": "10.88.5.0/24", "gateway": "10.88.5.1", "uplink": "eth0", "masquerade": true,
 *    "datapath": "bpf", "topology": "lab", "capabilities": {"portMappings": true},
 *    "routes": [{"dst": "10.88.6.0/24", "gw": "192.168.1.12"}]}
 */
#include "cni.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo.h"

const char *const cni_versions[] = { "1.0.0", "1.1.0", NULL };

int cni_fail(struct cni_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* A strict dotted quad (inet_pton's form) into *@out, network order. */
static bool parse_ipv4(const char *s, in_addr_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return false;
	*out = a.s_addr;
	return true;
}

/* Field @key of @o: absent (NULL, when @required is false), else of jansson @type. */
static json_t *field(json_t *o, const char *key, json_type type, bool required, struct cni_error *e)
{
	json_t *v = json_object_get(o, key);

	if (!v) {
		if (required)
			cni_fail(e, CNI_ERR_CONFIG, "network config: \"%s\" is missing", key);
		return NULL;
	}
	if (json_typeof(v) != type && !(type == JSON_TRUE && json_is_boolean(v))) {
		cni_fail(e, CNI_ERR_CONFIG, "network config: \"%s\" has the wrong type", key);
		return NULL;
	}
	return v;
}

/* A string field into @out (@size bytes, at least 1 character): 0, 1 when absent and not
 * @required, -1 with @e set. */
static int string_field(json_t *o, const char *key, bool required, char *out, size_t size,
			struct cni_error *e)
{
	json_t *v = field(o, key, JSON_STRING, required, e);
	const char *s;

	if (!v)
		return json_object_get(o, key) || required ? -1 : 1;
	s = json_string_value(v);
	if (!*s || strlen(s) >= size || strlen(s) != json_string_length(v))
		return cni_fail(e, CNI_ERR_CONFIG,
				"network config: \"%s\" must be 1 to %zu characters", key,
				size - 1);
	strcpy(out, s);
	return 0;
}

/* The CNI spec's network name: letters, digits, '_', '.', '-', starting with one of the first. */
static bool network_name_valid(const char *s)
{
	if (!isalnum((unsigned char)s[0]))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

/* The topology a network is without a "topology" field: its name, lower case, what a topology
 * name may not hold turned into '-', at most FWD_TOPO_NAME_MAX characters. */
static void topology_of_name(const char *name, char *out)
{
	size_t n = 0;

	for (; *name && n < FWD_TOPO_NAME_MAX; name++) {
		char ch = (char)tolower((unsigned char)*name);

		out[n++] = (isalnum((unsigned char)ch) && isascii(ch)) ? ch : '-';
	}
	out[n] = '\0';
}

/* @s, field @what: an IPv4 ADDR/PREFIX without host bits, PREFIX in [@lo, @hi], into @c. */
static int parse_net(const char *s, const char *what, unsigned long lo, unsigned long hi,
		     struct fwd_cidr *c, struct cni_error *e)
{
	char buf[32], *slash, *end;
	unsigned long prefix;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (!slash)
		return cni_fail(e, CNI_ERR_CONFIG, "network config: %s \"%s\" is not ADDR/PREFIX",
				what, buf);
	*slash = '\0';
	prefix = strtoul(slash + 1, &end, 10);
	if (!parse_ipv4(buf, &c->addr) || *end || !isdigit((unsigned char)slash[1]))
		return cni_fail(e, CNI_ERR_CONFIG,
				"network config: %s \"%s/%s\" is not an IPv4 ADDR/PREFIX", what,
				buf, slash + 1);
	if (prefix < lo || prefix > hi)
		return cni_fail(e, CNI_ERR_CONFIG,
				"network config: %s prefix /%lu must be between /%lu and /%lu",
				what, prefix, lo, hi);
	c->prefix = (uint8_t)prefix;
	if (c->addr & ~fwd_prefix_netmask(c->prefix))
		return cni_fail(e, CNI_ERR_CONFIG, "network config: %s %s/%lu has host bits set",
				what, buf, prefix);
	return 0;
}

static int parse_subnet(json_t *o, struct cni_netconf *nc, struct cni_error *e)
{
	char buf[32];

	if (string_field(o, "subnet", true, buf, sizeof(buf), e))
		return -1;
	return parse_net(buf, "subnet", 8, 30, &nc->subnet, e);
}

/*
 * "routes": [{"dst": CIDR, "gw": ADDR}, ...]: another host's subnet via its address on the
 * uplink's subnet, each a route line of the topology (whose parser checks overlaps).
 */
static int parse_routes(json_t *o, struct cni_netconf *nc, struct cni_error *e)
{
	json_t *routes = json_object_get(o, "routes"), *r;
	char buf[32];
	size_t i;

	if (!routes)
		return 0;
	if (!json_is_array(routes))
		return cni_fail(e, CNI_ERR_CONFIG, "network config: \"routes\" is not an array");
	if (json_array_size(routes) > FWD_MAX_ROUTES)
		return cni_fail(e, CNI_ERR_CONFIG, "network config: more than %d routes",
				FWD_MAX_ROUTES);
	if (json_array_size(routes) && !nc->uplink[0])
		return cni_fail(e, CNI_ERR_CONFIG, "network config: routes need an \"uplink\"");
	json_array_foreach(routes, i, r)
	{
		struct fwd_route *route = &nc->routes[nc->n_routes++];

		if (!json_is_object(r))
			return cni_fail(e, CNI_ERR_CONFIG,
					"network config: routes[%zu] is not an object", i);
		if (string_field(r, "dst", true, buf, sizeof(buf), e) ||
		    parse_net(buf, "route dst", 1, 32, &route->net, e))
			return -1;
		if (string_field(r, "gw", true, buf, sizeof(buf), e))
			return -1;
		if (!parse_ipv4(buf, &route->via))
			return cni_fail(e, CNI_ERR_CONFIG,
					"network config: route gw \"%s\" is not an IPv4 address",
					buf);
	}
	return 0;
}

static int parse_gateway(json_t *o, struct cni_netconf *nc, struct cni_error *e)
{
	in_addr_t mask = fwd_prefix_netmask(nc->subnet.prefix), host;
	char buf[32];
	int r = string_field(o, "gateway", false, buf, sizeof(buf), e);

	if (r < 0)
		return -1;
	if (r > 0) { /* the subnet's first host */
		nc->gateway = htonl(ntohl(nc->subnet.addr) + 1);
		return 0;
	}
	if (!parse_ipv4(buf, &nc->gateway))
		return cni_fail(e, CNI_ERR_CONFIG,
				"network config: gateway \"%s\" is not an IPv4 address", buf);
	host = nc->gateway & ~mask;
	if ((nc->gateway & mask) != nc->subnet.addr || !host || host == ~mask)
		return cni_fail(e, CNI_ERR_CONFIG,
				"network config: gateway %s is not a host of the subnet", buf);
	return 0;
}

/* runtimeConfig.portMappings: [{"hostPort", "containerPort", "protocol", "hostIP"}]. */
static int parse_ports(json_t *o, struct cni_netconf *nc, struct cni_error *e)
{
	json_t *rc = json_object_get(o, "runtimeConfig"), *pm, *m;
	size_t i;

	if (!rc)
		return 0;
	if (!json_is_object(rc))
		return cni_fail(e, CNI_ERR_CONFIG,
				"network config: \"runtimeConfig\" is not an object");
	pm = json_object_get(rc, "portMappings");
	if (!pm)
		return 0;
	if (!json_is_array(pm))
		return cni_fail(e, CNI_ERR_CONFIG,
				"runtimeConfig: \"portMappings\" is not an array");
	if (json_array_size(pm) > CNI_MAX_PORTS)
		return cni_fail(e, CNI_ERR_CONFIG, "runtimeConfig: more than %d port mappings",
				CNI_MAX_PORTS);
	json_array_foreach(pm, i, m)
	{
		struct cni_port *p = &nc->ports[nc->n_ports];
		json_t *hp = json_object_get(m, "hostPort"),
		       *cp = json_object_get(m, "containerPort");
		json_t *proto = json_object_get(m, "protocol"), *ip = json_object_get(m, "hostIP");
		const char *ps = proto && json_is_string(proto) ? json_string_value(proto) : "tcp";

		if (!json_is_object(m) || !json_is_integer(hp) || !json_is_integer(cp) ||
		    json_integer_value(hp) < 1 || json_integer_value(hp) > 65535 ||
		    json_integer_value(cp) < 1 || json_integer_value(cp) > 65535)
			return cni_fail(
			    e, CNI_ERR_CONFIG,
			    "portMappings[%zu]: hostPort and containerPort must be ports "
			    "1-65535",
			    i);
		if ((proto && !json_is_string(proto)) ||
		    (strcasecmp(ps, "tcp") && strcasecmp(ps, "udp")))
			return cni_fail(e, CNI_ERR_CONFIG,
					"portMappings[%zu]: protocol must be \"tcp\" or \"udp\"",
					i);
		p->host_port = (uint16_t)json_integer_value(hp);
		p->container_port = (uint16_t)json_integer_value(cp);
		p->proto = strcasecmp(ps, "udp") ? IPPROTO_TCP : IPPROTO_UDP;
		if (ip && !json_is_string(ip))
			return cni_fail(e, CNI_ERR_CONFIG,
					"portMappings[%zu]: hostIP is not a string", i);
		if (ip && *json_string_value(ip) && strcmp(json_string_value(ip), "0.0.0.0") &&
		    !parse_ipv4(json_string_value(ip), &p->host_ip))
			return cni_fail(
			    e, CNI_ERR_FIELD,
			    "portMappings[%zu]: hostIP \"%s\": only an IPv4 address of the "
			    "uplink is supported",
			    i, json_string_value(ip));
		for (size_t k = 0; k < nc->n_ports; k++)
			if (nc->ports[k].proto == p->proto &&
			    nc->ports[k].host_port == p->host_port &&
			    nc->ports[k].host_ip == p->host_ip)
				return cni_fail(
				    e, CNI_ERR_CONFIG,
				    "portMappings[%zu]: host port %u/%s is mapped twice", i,
				    p->host_port, p->proto == IPPROTO_TCP ? "tcp" : "udp");
		nc->n_ports++;
	}
	return 0;
}

/* GC's "cni.dev/valid-attachments": [{"containerID", "ifname"}]. */
static int parse_valid(json_t *o, struct cni_netconf *nc, struct cni_error *e)
{
	json_t *va = json_object_get(o, "cni.dev/valid-attachments"), *a;
	size_t i;

	if (!va)
		return 0;
	if (!json_is_array(va))
		return cni_fail(e, CNI_ERR_CONFIG, "\"cni.dev/valid-attachments\" is not an array");
	nc->valid = calloc(json_array_size(va) + 1, sizeof(*nc->valid));
	if (!nc->valid)
		return cni_fail(e, CNI_ERR_IO, "out of memory");
	json_array_foreach(va, i, a)
	{
		struct cni_attachment_id *v = &nc->valid[nc->n_valid++];

		if (string_field(a, "containerID", true, v->id, sizeof(v->id), e) ||
		    string_field(a, "ifname", true, v->ifname, sizeof(v->ifname), e))
			return cni_fail(e, CNI_ERR_CONFIG,
					"\"cni.dev/valid-attachments\"[%zu]: needs \"containerID\" "
					"and \"ifname\" strings",
					i);
	}
	return 0;
}

/* "ipam": {"type": PLUGIN, ...}: a plugin's file name, run from CNI_PATH (ipam.c). */
static int parse_ipam(json_t *o, struct cni_netconf *nc, struct cni_error *e)
{
	json_t *ipam = json_object_get(o, "ipam");

	if (!json_is_object(ipam))
		return cni_fail(e, CNI_ERR_CONFIG, "network config: \"ipam\" is not an object");
	if (string_field(ipam, "type", true, nc->ipam_type, sizeof(nc->ipam_type), e))
		return cni_fail(e, CNI_ERR_CONFIG, "network config: \"ipam\" needs a \"type\"");
	if (!network_name_valid(nc->ipam_type))
		return cni_fail(e, CNI_ERR_CONFIG,
				"network config: ipam type \"%s\" is no plugin name",
				nc->ipam_type);
	return 0;
}

static int parse_fields(json_t *o, struct cni_netconf *nc, struct cni_error *e)
{
	char datapath[16];
	json_t *v;
	int r;

	if (string_field(o, "cniVersion", true, nc->cni_version, sizeof(nc->cni_version), e))
		return -1;
	for (size_t i = 0;; i++) {
		if (!cni_versions[i])
			return cni_fail(e, CNI_ERR_VERSION,
					"cniVersion %s: fwd-cni speaks 1.0.0 and 1.1.0",
					nc->cni_version);
		if (!strcmp(cni_versions[i], nc->cni_version))
			break;
	}
	if (string_field(o, "name", true, nc->name, sizeof(nc->name), e))
		return -1;
	if (!network_name_valid(nc->name))
		return cni_fail(e, CNI_ERR_CONFIG,
				"network name \"%s\": letters, digits, '_', '.' and '-', starting "
				"with a letter or digit",
				nc->name);
	if ((r = string_field(o, "topology", false, nc->topology, sizeof(nc->topology), e)) < 0)
		return -1;
	if (r > 0)
		topology_of_name(nc->name, nc->topology);
	if (!topo_name_valid(nc->topology))
		return cni_fail(e, CNI_ERR_CONFIG,
				"topology \"%s\" is no topology name (1-12 of a-z, 0-9, '-'): set "
				"\"topology\"",
				nc->topology);
	if (string_field(o, "bridge", true, nc->bridge, sizeof(nc->bridge), e))
		return -1;
	if (parse_subnet(o, nc, e) || parse_gateway(o, nc, e))
		return -1;
	if ((r = string_field(o, "uplink", false, nc->uplink, sizeof(nc->uplink), e)) < 0)
		return -1;
	if (json_object_get(o, "masquerade")) {
		if (!(v = field(o, "masquerade", JSON_TRUE, true, e)))
			return -1;
		nc->masquerade = json_is_true(v);
	}
	if (nc->masquerade && !nc->uplink[0])
		return cni_fail(e, CNI_ERR_CONFIG,
				"network config: masquerade needs an \"uplink\"");
	if ((r = string_field(o, "datapath", false, datapath, sizeof(datapath), e)) < 0)
		return -1;
	if (!r && strcmp(datapath, "bpf") && strcmp(datapath, "kernel"))
		return cni_fail(e, CNI_ERR_CONFIG,
				"network config: datapath \"%s\" (expected \"bpf\" or \"kernel\")",
				datapath);
	nc->datapath = !r && !strcmp(datapath, "kernel") ? FWD_DATAPATH_KERNEL : FWD_DATAPATH_BPF;
	if (json_object_get(o, "ipam") && parse_ipam(o, nc, e))
		return -1;
	if (parse_ports(o, nc, e) || parse_valid(o, nc, e) || parse_routes(o, nc, e))
		return -1;
	if (nc->n_ports && !nc->uplink[0])
		return cni_fail(e, CNI_ERR_CONFIG,
				"port mappings need an \"uplink\" in the network config");
	return 0;
}

int cni_netconf_parse(const char *buf, size_t len, struct cni_netconf *nc, struct cni_error *e)
{
	json_error_t jerr;
	json_t *o;
	int ret;

	memset(nc, 0, sizeof(*nc));
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o)
		return cni_fail(e, CNI_ERR_DECODE, "network config: line %d: %s", jerr.line,
				jerr.text);
	if (!json_is_object(o)) {
		json_decref(o);
		return cni_fail(e, CNI_ERR_DECODE, "network config: not a JSON object");
	}
	ret = parse_fields(o, nc, e);
	json_decref(o);
	if (ret)
		cni_netconf_free(nc);
	return ret;
}

void cni_netconf_free(struct cni_netconf *nc)
{
	free(nc->valid);
	nc->valid = NULL;
	nc->n_valid = 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * fwd-cni: the CNI plugin's entry point. The runtime says what to do in CNI_COMMAND and the
 * other CNI_* variables, and gives the network config on stdin; the plugin answers with a
 * result, or an error object and exit status 1, on stdout (SPEC.md, "Execution protocol").
 * Its log lines go to stderr, as fwdctl's do.
 */
#include "cni.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fwd_log.h"
#include "fwdctl.h"
#include "names.h"
#include "netns.h"
#include "nl.h"
#include "topo.h"

#define STDIN_MAX (1u << 20) /* a network config is a few hundred bytes */
#define NETNS_DIR "/run/netns/"

/* The CNI_* variables of this call. */
struct cni_env {
	const char *command, *container_id, *netns, *ifname;
	char netns_name[FWD_NETNS_NAME_MAX + 1]; /* CNI_NETNS's name under /run/netns */
};

static char *read_stdin(size_t *len)
{
	char *buf = malloc(STDIN_MAX + 1);
	size_t n = 0;

	while (buf && n < STDIN_MAX) {
		size_t r = fread(buf + n, 1, STDIN_MAX - n, stdin);

		if (!r)
			break;
		n += r;
	}
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

static const char *env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* Variables ADD, CHECK (@need_netns) and DEL need; CNI_NETNS must name a namespace under
 * /run/netns, which is how fwd knows namespaces (podman's and containerd's are there). */
static int env_check(struct cni_env *env, bool need_netns, struct cni_error *e)
{
	char real[PATH_MAX];

	if (!env->container_id)
		return cni_fail(e, CNI_ERR_ENV, "CNI_CONTAINERID is not set");
	if (!env->ifname)
		return cni_fail(e, CNI_ERR_ENV, "CNI_IFNAME is not set");
	if (strlen(env->container_id) >= sizeof(((struct cni_container *)0)->id))
		return cni_fail(e, CNI_ERR_ENV, "CNI_CONTAINERID is too long");
	if (strcmp(env->ifname, "eth0"))
		return cni_fail(e, CNI_ERR_ENV,
				"CNI_IFNAME %s: fwd-cni names the container's interface eth0",
				env->ifname);
	if (!need_netns)
		return 0;
	if (!env->netns)
		return cni_fail(e, CNI_ERR_ENV, "CNI_NETNS is not set");
	/* (/var/run/netns/NAME is /run/netns/NAME through the /var/run link) */
	bool found = realpath(env->netns, real) != NULL;
	const char *path = found ? real : env->netns;

	if (strncmp(path, NETNS_DIR, strlen(NETNS_DIR)) || strchr(path + strlen(NETNS_DIR), '/') ||
	    strlen(path + strlen(NETNS_DIR)) > FWD_NETNS_NAME_MAX)
		return cni_fail(e, CNI_ERR_ENV,
				"CNI_NETNS %s: fwd-cni takes a named network namespace under %s",
				env->netns, NETNS_DIR);
	if (!found)
		return cni_fail(e, CNI_ERR_CONTAINER, "CNI_NETNS %s: %s", env->netns,
				strerror(errno));
	strcpy(env->netns_name, real + strlen(NETNS_DIR));
	return 0;
}

static json_t *iface_json(const char *name, const uint8_t *mac, const char *sandbox)
{
	char m[18];

	snprintf(m, sizeof(m), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	return json_pack("{s:s, s:s, s:s*}", "name", name, "mac", m, "sandbox", sandbox);
}

/* The ADD result: the host's veth and the container's eth0 (as they are now), its address. */
static json_t *add_result(const struct cni_netconf *nc, const struct cni_env *env,
			  const struct cni_container *c)
{
	struct nl_link host = { 0 }, inside = { 0 };
	struct nl_sock *nl = NULL, *in = NULL;
	char veth[IF_NAMESIZE], ip[INET_ADDRSTRLEN], addr[INET_ADDRSTRLEN + 4], gw[INET_ADDRSTRLEN];
	int fd = netns_open(c->netns);

	fwd_host_veth_name(nc->topology, c->netns, veth);
	if (!nl_open(&nl))
		nl_link_get(nl, veth, &host);
	nl_close(nl);
	if (fd >= 0 && !nl_open_netns(fd, &in))
		nl_link_get(in, "eth0", &inside);
	nl_close(in);
	if (fd >= 0)
		close(fd);
	inet_ntop(AF_INET, &c->addr, ip, sizeof(ip));
	snprintf(addr, sizeof(addr), "%s/%u", ip, nc->subnet.prefix);
	inet_ntop(AF_INET, &nc->gateway, gw, sizeof(gw));
	return json_pack("{s:s, s:[o, o], s:[{s:s, s:s, s:i}], s:[{s:s, s:s}], s:{}}", "cniVersion",
			 nc->cni_version, "interfaces", iface_json(veth, host.mac, NULL),
			 iface_json("eth0", inside.mac, env->netns), "ips", "address", addr,
			 "gateway", gw, "interface", 1, "routes", "dst", "0.0.0.0/0", "gw", gw,
			 "dns");
}

/* A host port of @p that another container than @self publishes already. */
static const struct cni_container *
port_owner(const struct cni_state *s, const struct cni_container *self, const struct cni_port *p)
{
	for (size_t i = 0; i < s->n; i++)
		for (size_t k = 0; &s->c[i] != self && k < s->c[i].n_ports; k++)
			if (s->c[i].ports[k].host_port == p->host_port &&
			    s->c[i].ports[k].proto == p->proto &&
			    s->c[i].ports[k].host_ip == p->host_ip)
				return &s->c[i];
	return NULL;
}

/* The container's address: the IPAM plugin's when the config names one, else fwd-cni's. */
static int allocate(const struct cni_netconf *nc, const struct cni_state *s, const char *conf,
		    size_t conf_len, in_addr_t *addr, struct cni_error *e)
{
	if (!nc->ipam_type[0]) {
		*addr = cni_state_free_addr(s, nc);
		return *addr ? 0
			     : cni_fail(e, CNI_ERR_FULL, "no free address left in %s/%u",
					inet_ntoa((struct in_addr){ nc->subnet.addr }),
					nc->subnet.prefix);
	}
	if (cni_ipam_add(nc, conf, conf_len, addr, e))
		return -1;
	for (size_t i = 0; i < s->n; i++)
		if (s->c[i].addr == *addr) {
			struct cni_error ignored;

			cni_ipam_del(nc, conf, conf_len, &ignored);
			return cni_fail(
			    e, CNI_ERR_CONFIG, "ipam plugin %s gave %s, container %.64s's address",
			    nc->ipam_type, inet_ntoa((struct in_addr){ *addr }), s->c[i].id);
		}
	return 0;
}

static int cmd_add(const struct cni_netconf *nc, struct cni_env *env, const char *conf,
		   size_t conf_len, json_t **result, struct cni_error *e)
{
	struct cni_state s = { .lock_fd = -1 };
	struct cni_container *c, before;
	bool again = false;
	int ret = -1;

	if (env_check(env, true, e) || cni_state_open(&s, nc->topology, e))
		goto out;
	for (size_t i = 0; i < s.n; i++)
		if (!strcmp(s.c[i].netns, env->netns_name) &&
		    strcmp(s.c[i].id, env->container_id)) {
			cni_fail(e, CNI_ERR_CONFIG,
				 "namespace %s is attached already, by container %s",
				 env->netns_name, s.c[i].id);
			goto out;
		}
	/* An ADD again (the runtime retrying): the same address, the mappings as now given. */
	c = cni_state_find(&s, env->container_id, env->ifname);
	if (c) {
		again = true;
		before = *c;
	} else {
		in_addr_t addr;

		if (allocate(nc, &s, conf, conf_len, &addr, e))
			goto out;
		if (!(c = cni_state_add(&s))) {
			cni_fail(e, CNI_ERR_IO, "too many containers on network %s", nc->name);
			goto out;
		}
		strcpy(c->id, env->container_id);
		strcpy(c->ifname, env->ifname);
		c->addr = addr;
	}
	strcpy(c->netns, env->netns_name);
	memcpy(c->ports, nc->ports, sizeof(c->ports));
	c->n_ports = nc->n_ports;
	for (size_t k = 0; k < c->n_ports; k++) {
		const struct cni_container *o = port_owner(&s, c, &c->ports[k]);

		if (o) {
			cni_fail(e, CNI_ERR_PORT, "host port %u/%s is published by container %.64s",
				 c->ports[k].host_port,
				 c->ports[k].proto == IPPROTO_UDP ? "udp" : "tcp", o->id);
			goto out;
		}
	}
	if (cni_apply(nc, &s, e)) {
		/* Not saved: the network goes back to what the state says (the runtime calls DEL
		 * next, which finds nothing of a new container to remove). */
		struct cni_error ignored;

		if (again) {
			*c = before;
		} else {
			cni_state_remove(&s, c);
			if (nc->ipam_type[0])
				cni_ipam_del(nc, conf, conf_len, &ignored);
		}
		cni_apply(nc, &s, &ignored);
		goto out;
	}
	if (cni_state_save(&s, e))
		goto out;
	*result = add_result(nc, env, c);
	ret = *result ? 0 : cni_fail(e, CNI_ERR_IO, "out of memory");
out:
	cni_state_close(&s);
	return ret;
}

/* DEL: whatever of the container is left goes; nothing left is no error (the spec's). */
static int cmd_del(const struct cni_netconf *nc, struct cni_env *env, const char *conf,
		   size_t conf_len, struct cni_error *e)
{
	struct cni_state s = { .lock_fd = -1 };
	struct cni_container *c;
	int ret = -1;

	if (env_check(env, false, e) || cni_state_open(&s, nc->topology, e))
		goto out;
	/* The IPAM plugin's DEL, whatever fwd-cni knows (it may have the address alone). */
	if (nc->ipam_type[0] && cni_ipam_del(nc, conf, conf_len, e))
		goto out;
	c = cni_state_find(&s, env->container_id, env->ifname);
	ret = 0;
	if (!c)
		goto out;
	cni_state_remove(&s, c);
	/* Saved first: should the up fail, the next call builds the network without it. */
	ret = cni_state_save(&s, e);
	if (!ret)
		ret = cni_apply(nc, &s, e);
	if (!ret && !s.n)
		unlink(s.path);
out:
	cni_state_close(&s);
	return ret;
}

/* CHECK: attached, the topology up, eth0 in its namespace with its address. */
static int has_addr(int ifindex, in_addr_t addr, uint8_t prefix, void *ctx)
{
	const struct cni_container *c = ctx;

	return addr == c->addr ? 1 : 0;
}

static int cmd_check(const struct cni_netconf *nc, struct cni_env *env, struct cni_error *e)
{
	struct cni_state s = { .lock_fd = -1 };
	struct cni_container *c;
	struct nl_sock *in = NULL;
	struct nl_link eth;
	struct fwd_topology t;
	int ret = -1, fd;

	if (env_check(env, true, e) || cni_state_open(&s, nc->topology, e))
		goto out;
	c = cni_state_find(&s, env->container_id, env->ifname);
	if (!c || strcmp(c->netns, env->netns_name)) {
		cni_fail(e, CNI_ERR_CONTAINER, "container %.64s is not attached to network %s",
			 env->container_id, nc->name);
		goto out;
	}
	if (fwd_saved_topology(nc->topology, &t)) {
		cni_fail(e, CNI_ERR_UP, "topology %s is not up", nc->topology);
		goto out;
	}
	topo_free(&t);
	fd = netns_open(c->netns);
	if (fd < 0 || nl_open_netns(fd, &in) || nl_link_get(in, "eth0", &eth) ||
	    nl_addr_dump(in, eth.ifindex, has_addr, c) != 1)
		cni_fail(e, CNI_ERR_CONTAINER, "namespace %s: eth0 lacks %s", c->netns,
			 inet_ntoa((struct in_addr){ c->addr }));
	else
		ret = 0;
	nl_close(in);
	if (fd >= 0)
		close(fd);
out:
	cni_state_close(&s);
	return ret;
}

/* GC (1.1.0): every attachment the runtime does not list goes. */
static int cmd_gc(const struct cni_netconf *nc, struct cni_error *e)
{
	struct cni_state s = { .lock_fd = -1 };
	size_t before;
	int ret = -1;

	if (cni_state_open(&s, nc->topology, e))
		goto out;
	before = s.n;
	for (size_t i = s.n; nc->valid && i-- > 0;) {
		bool keep = false;

		for (size_t k = 0; k < nc->n_valid && !keep; k++)
			keep = !strcmp(nc->valid[k].id, s.c[i].id) &&
			       !strcmp(nc->valid[k].ifname, s.c[i].ifname);
		if (!keep)
			cni_state_remove(&s, &s.c[i]);
	}
	ret = 0;
	if (s.n != before && !(ret = cni_state_save(&s, e)))
		ret = cni_apply(nc, &s, e);
out:
	cni_state_close(&s);
	return ret;
}

/* STATUS (1.1.0): can an ADD succeed now? Root, and the uplink there when one is named. */
static int cmd_status(const struct cni_netconf *nc, struct cni_error *e)
{
	if (geteuid() != 0)
		return cni_fail(e, CNI_ERR_NOT_READY, "fwd-cni needs root");
	if (nc->uplink[0] && !if_nametoindex(nc->uplink))
		return cni_fail(e, CNI_ERR_NOT_READY, "uplink %s does not exist", nc->uplink);
	return 0;
}

/* VERSION: the versions spoken; stdin holds only {"cniVersion"}. */
static json_t *version_result(const char *in, size_t len)
{
	json_t *req = json_loadb(in, len, 0, NULL), *list = json_array(), *doc;
	const char *v = json_string_value(json_object_get(req, "cniVersion"));

	for (size_t i = 0; cni_versions[i]; i++)
		json_array_append_new(list, json_string(cni_versions[i]));
	doc = json_pack("{s:s, s:o}", "cniVersion", v ? v : "1.1.0", "supportedVersions", list);
	json_decref(req);
	return doc;
}

/* The version an error is written in: the request's, when fwd-cni speaks it. */
static const char *error_version(const char *in, size_t len)
{
	static char v[16] = "1.0.0";
	json_t *req = json_loadb(in, len, 0, NULL);
	const char *asked = json_string_value(json_object_get(req, "cniVersion"));

	for (size_t i = 0; asked && cni_versions[i]; i++)
		if (!strcmp(asked, cni_versions[i]))
			snprintf(v, sizeof(v), "%s", asked);
	json_decref(req);
	return v;
}

/*
 * stdout is the runtime's channel for the result: while the command runs it points at stderr,
 * so that nothing the commands fwd runs (iptables-restore, ...) print can end up in it. The
 * result goes to the real one, kept in @result_fd.
 */
static int result_fd = -1;

static void print_json(json_t *doc)
{
	FILE *out = result_fd >= 0 ? fdopen(result_fd, "w") : stdout;

	if (!out)
		out = stdout;
	json_dumpf(doc, out, JSON_COMPACT);
	fputc('\n', out);
	fflush(out);
}

int main(void)
{
	struct cni_env env = { .command = env_nonempty("CNI_COMMAND"),
			       .container_id = env_nonempty("CNI_CONTAINERID"),
			       .netns = env_nonempty("CNI_NETNS"),
			       .ifname = env_nonempty("CNI_IFNAME") };
	struct cni_error e = { 0 };
	struct cni_netconf nc;
	json_t *result = NULL;
	size_t len;
	char *in;
	int ret = -1;

	fwd_log_setup("fwd-cni", 0);
	result_fd = dup(STDOUT_FILENO);
	if (result_fd >= 0)
		dup2(STDERR_FILENO, STDOUT_FILENO);
	in = read_stdin(&len);
	if (!in) {
		cni_fail(&e, CNI_ERR_IO, "out of memory");
	} else if (!env.command) {
		cni_fail(&e, CNI_ERR_ENV,
			 "CNI_COMMAND is not set (fwd-cni is run by a container "
			 "runtime: see fwd-cni(8))");
	} else if (!strcmp(env.command, "VERSION")) {
		result = version_result(in, len);
		ret = result ? 0 : cni_fail(&e, CNI_ERR_IO, "out of memory");
	} else if (!cni_netconf_parse(in, len, &nc, &e)) {
		if (!strcmp(env.command, "ADD"))
			ret = cmd_add(&nc, &env, in, len, &result, &e);
		else if (!strcmp(env.command, "DEL"))
			ret = cmd_del(&nc, &env, in, len, &e);
		else if (!strcmp(env.command, "CHECK"))
			ret = cmd_check(&nc, &env, &e);
		else if (!strcmp(env.command, "GC"))
			ret = cmd_gc(&nc, &e);
		else if (!strcmp(env.command, "STATUS"))
			ret = cmd_status(&nc, &e);
		else
			cni_fail(&e, CNI_ERR_ENV,
				 "CNI_COMMAND %s: expected ADD, DEL, CHECK, GC, "
				 "STATUS or VERSION",
				 env.command);
		cni_netconf_free(&nc);
	}
	if (!ret && result)
		print_json(result);
	if (ret) {
		json_t *err = json_pack("{s:s, s:i, s:s, s:s*}", "cniVersion",
					in ? error_version(in, len) : "1.0.0", "code", e.code,
					"msg", e.msg, "details", e.details[0] ? e.details : NULL);

		fprintf(stderr, "fwd-cni: %s\n", e.msg);
		if (err)
			print_json(err);
		json_decref(err);
	}
	json_decref(result);
	free(in);
	return ret ? 1 : 0;
}

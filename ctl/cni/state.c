// SPDX-License-Identifier: GPL-2.0
/*
 * fwd-cni's state: per network (its topology), the containers attached, each with its address
 * and port mappings, in FWD_CNI_DIR/TOPOLOGY.json. The topology fwd-cni writes is made from it
 * alone, so every ADD and DEL brings up the whole network as it now is. A lock file held for the
 * whole call serialises concurrent ADDs and DELs of one network (the runtime starts containers
 * at once): each allocates from what the one before saved. /run is tmpfs: the state goes at
 * reboot with the namespaces it names.
 */
#include "cni.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_MAX_CONTAINERS FWD_MAX_NAMESPACES

static int read_port(json_t *j, struct cni_port *p)
{
	const char *proto = json_string_value(json_object_get(j, "protocol"));
	const char *ip = json_string_value(json_object_get(j, "hostIP"));
	json_int_t hp = json_integer_value(json_object_get(j, "hostPort"));
	json_int_t cp = json_integer_value(json_object_get(j, "containerPort"));
	struct in_addr a = { 0 };

	if (!proto || hp < 1 || hp > 65535 || cp < 1 || cp > 65535 ||
	    (ip && *ip && inet_pton(AF_INET, ip, &a) != 1))
		return -1;
	p->host_port = (uint16_t)hp;
	p->container_port = (uint16_t)cp;
	p->proto = strcmp(proto, "udp") ? IPPROTO_TCP : IPPROTO_UDP;
	p->host_ip = a.s_addr;
	return 0;
}

/* One container of the file; -1 when it is not one fwd-cni wrote. */
static int read_container(json_t *j, struct cni_container *c)
{
	const char *id = json_string_value(json_object_get(j, "containerID"));
	const char *ifname = json_string_value(json_object_get(j, "ifname"));
	const char *netns = json_string_value(json_object_get(j, "netns"));
	const char *addr = json_string_value(json_object_get(j, "address"));
	json_t *ports = json_object_get(j, "ports"), *p;
	struct in_addr a;
	size_t i;

	if (!id || !ifname || !netns || !addr || strlen(id) >= sizeof(c->id) ||
	    strlen(ifname) >= sizeof(c->ifname) || strlen(netns) >= sizeof(c->netns) ||
	    inet_pton(AF_INET, addr, &a) != 1 || json_array_size(ports) > CNI_MAX_PORTS)
		return -1;
	strcpy(c->id, id);
	strcpy(c->ifname, ifname);
	strcpy(c->netns, netns);
	c->addr = a.s_addr;
	json_array_foreach(ports, i, p)
	{
		if (read_port(p, &c->ports[c->n_ports++]))
			return -1;
	}
	return 0;
}

static int state_read(struct cni_state *s, struct cni_error *e)
{
	json_error_t jerr;
	json_t *doc = json_load_file(s->path, 0, &jerr), *list, *j;
	size_t i;

	if (!doc) {
		if (access(s->path, F_OK) && errno == ENOENT)
			return 0; /* the network's first container */
		return cni_fail(e, CNI_ERR_IO, "%s: %s", s->path, jerr.text);
	}
	list = json_object_get(doc, "containers");
	s->c = calloc(json_array_size(list) + 1, sizeof(*s->c));
	if (!s->c) {
		json_decref(doc);
		return cni_fail(e, CNI_ERR_IO, "out of memory");
	}
	json_array_foreach(list, i, j)
	{
		if (s->n == STATE_MAX_CONTAINERS || read_container(j, &s->c[s->n])) {
			json_decref(doc);
			return cni_fail(e, CNI_ERR_IO, "%s: entry %zu is not fwd-cni's", s->path,
					i);
		}
		s->n++;
	}
	json_decref(doc);
	return 0;
}

int cni_state_open(struct cni_state *s, const char *topology, struct cni_error *e)
{
	char lock[160];

	memset(s, 0, sizeof(*s));
	s->lock_fd = -1;
	if ((mkdir("/run/fwd", 0755) && errno != EEXIST) ||
	    (mkdir(FWD_CNI_DIR, 0700) && errno != EEXIST))
		return cni_fail(e, CNI_ERR_IO, "%s: cannot create: %s", FWD_CNI_DIR,
				strerror(errno));
	snprintf(s->path, sizeof(s->path), "%s/%s.json", FWD_CNI_DIR, topology);
	snprintf(lock, sizeof(lock), "%s/%s.lock", FWD_CNI_DIR, topology);
	s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0)
		return cni_fail(e, CNI_ERR_IO, "%s: cannot open: %s", lock, strerror(errno));
	/* Waits for the call before: an up of a large network takes a while, not forever. */
	if (flock(s->lock_fd, LOCK_EX))
		return cni_fail(e, CNI_ERR_IO, "%s: cannot lock: %s", lock, strerror(errno));
	return state_read(s, e);
}

static json_t *container_json(const struct cni_container *c)
{
	json_t *ports = json_array(), *o;
	char ip[INET_ADDRSTRLEN];

	for (size_t i = 0; ports && i < c->n_ports; i++) {
		const struct cni_port *p = &c->ports[i];
		char hip[INET_ADDRSTRLEN] = "";

		if (p->host_ip)
			inet_ntop(AF_INET, &p->host_ip, hip, sizeof(hip));
		json_array_append_new(
		    ports, json_pack("{s:i, s:i, s:s, s:s}", "hostPort", p->host_port,
				     "containerPort", p->container_port, "protocol",
				     p->proto == IPPROTO_UDP ? "udp" : "tcp", "hostIP", hip));
	}
	inet_ntop(AF_INET, &c->addr, ip, sizeof(ip));
	o = json_pack("{s:s, s:s, s:s, s:s, s:o*}", "containerID", c->id, "ifname", c->ifname,
		      "netns", c->netns, "address", ip, "ports", ports);
	return o;
}

int cni_state_save(struct cni_state *s, struct cni_error *e)
{
	json_t *list = json_array(), *doc;
	char tmp[sizeof(s->path) + 8];
	int ret;

	for (size_t i = 0; list && i < s->n; i++)
		if (json_array_append_new(list, container_json(&s->c[i])))
			break;
	doc = json_pack("{s:o*}", "containers", list);
	if (!doc || json_array_size(list) != s->n) {
		json_decref(doc);
		return cni_fail(e, CNI_ERR_IO, "out of memory");
	}
	snprintf(tmp, sizeof(tmp), "%s.new", s->path);
	ret = json_dump_file(doc, tmp, JSON_INDENT(1));
	json_decref(doc);
	if (ret || rename(tmp, s->path)) {
		unlink(tmp);
		return cni_fail(e, CNI_ERR_IO, "%s: cannot write", s->path);
	}
	return 0;
}

void cni_state_close(struct cni_state *s)
{
	if (s->lock_fd >= 0)
		close(s->lock_fd); /* and with it the lock */
	free(s->c);
	memset(s, 0, sizeof(*s));
	s->lock_fd = -1;
}

struct cni_container *cni_state_find(struct cni_state *s, const char *id, const char *ifname)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->c[i].id, id) && !strcmp(s->c[i].ifname, ifname))
			return &s->c[i];
	return NULL;
}

void cni_state_remove(struct cni_state *s, struct cni_container *c)
{
	size_t i = (size_t)(c - s->c);

	memmove(&s->c[i], &s->c[i + 1], (s->n - i - 1) * sizeof(*s->c));
	s->n--;
}

struct cni_container *cni_state_add(struct cni_state *s)
{
	struct cni_container *grown;

	if (s->n == STATE_MAX_CONTAINERS)
		return NULL;
	grown = realloc(s->c, (s->n + 1) * sizeof(*s->c));
	if (!grown)
		return NULL;
	s->c = grown;
	memset(&s->c[s->n], 0, sizeof(s->c[s->n]));
	return &s->c[s->n++];
}

static bool addr_taken(const struct cni_state *s, in_addr_t addr)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->c[i].addr == addr)
			return true;
	return false;
}

in_addr_t cni_state_free_addr(const struct cni_state *s, const struct cni_netconf *nc)
{
	uint32_t net = ntohl(nc->subnet.addr),
		 hosts = ~ntohl(fwd_prefix_netmask(nc->subnet.prefix));

	/* From the first host up: the gateway, network and broadcast address excluded. */
	for (uint32_t h = 1; h < hosts; h++) {
		in_addr_t a = htonl(net + h);

		if (a != nc->gateway && !addr_taken(s, a))
			return a;
	}
	return 0;
}

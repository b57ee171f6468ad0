// SPDX-License-Identifier: GPL-2.0
/* fwdctl: the command line, validated whole, then dispatched through the command table. */
#include "fwd_log.h"
#include "fwdctl.h"
#include "netns.h"
#include "output.h"
#include "rfs.h"
#include "topo.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

#ifndef FWD_VERSION
#define FWD_VERSION "0.1.0"
#endif

/* clang-format off: the texts keep their layout, one output line per source line */
static const char usage_text[] = "Usage: fwdctl [-n HOSTNS] [-v|-q] [-j] COMMAND [ARGS]\n"
				 "       fwdctl --help | --version\n";

static const char help_text[] =
    "NAME\n"
    "    fwdctl - build container networking from a topology file, with an eBPF datapath\n"
    "\n"
    "SYNOPSIS\n"
    "    fwdctl [-n HOSTNS] [-v|-q] [-j] COMMAND [ARGS]\n"
    "\n"
    "DESCRIPTION\n"
    "    fwdctl creates network namespaces joined by veth pairs to a Linux bridge, gives them\n"
    "    addresses and a default route via the bridge's address, masquerades their traffic out\n"
    "    of an uplink and publishes their ports on the uplink's address, all described by one\n"
    "    topology file (topology.conf(5)). Links, addresses and routes are made\n"
    "    through rtnetlink. With 'datapath bpf' (the default) eBPF programs carry traffic\n"
    "    between namespaces, SNAT and DNAT, and, from the root of the cgroup v2 hierarchy,\n"
    "    point the host's own connections to a forwarded port at its namespace; with\n"
    "    'datapath kernel' the Linux bridge and iptables (and, against forged sources,\n"
    "    ebtables) rules in fwd's own chains do, as in the classic recipe.\n"
    "\n"
    "COMMANDS\n"
    "    check FILE\n"
    "        Parse and validate FILE only; print the normalised topology (-j: as JSON).\n"
    "    up [--flush-conntrack] FILE\n"
    "        Build the topology, or converge a running one to FILE: what was added is created,\n"
    "        what was removed is deleted, the rest is left alone. Running it twice changes\n"
    "        nothing. The veths and the bridge take the uplink's gso_ipv4_max_size when it\n"
    "        is above 65536 (BIG TCP on the uplink), 65536 otherwise. While the machine's\n"
    "        RFS table (net.core.rps_sock_flow_entries; 'tuning rfs' raises it) is above 0,\n"
    "        the host-side veths steer each flow to the CPU of its reader. A new 'conntrack max'\n"
    "        carries the tracked connections over into a table of the new size; those of\n"
    "        removed or retargeted forwards (nf_conntrack's too, for datapath kernel), and\n"
    "        masqueraded ones of an old uplink address, are removed. A table of another fwd\n"
    "        version's layout is refused unless --flush-conntrack is given, which starts\n"
    "        with an empty table. Refused (exit 2) when it conflicts with another topology\n"
    "        that is up: the same bridge, namespace or forwarded port, overlapping subnets,\n"
    "        a route over its subnet, ... (fwdctl(8), SEVERAL TOPOLOGIES).\n"
    "    down FILE|NAME...\n"
    "        Remove everything the topology created, also after a failed or killed 'up', and\n"
    "        nothing else. A topology that is not up is not an error. FILE names it even when\n"
    "        a line of it no longer parses; a topology whose host namespace is gone is taken\n"
    "        down from anywhere. Several go together, their namespaces first: far faster\n"
    "        than one by one with thousands of namespaces (fwdctl(8)).\n"
    "    status [NAME]\n"
    "        Namespaces, links (state, gso_ipv4_max_size, RFS), addresses, datapath,\n"
    "        attached programs (per link, and on the cgroup v2 root) and rules of NAME, or\n"
    "        of every topology that is up in this host namespace (or whose host namespace\n"
    "        is gone).\n"
    "    stats [--prometheus] [NAME]\n"
    "        BPF counters: packets and bytes per path, drops by reason (datapath bpf),\n"
    "        and events outside the frame total: host_dnat, the host's own connections and\n"
    "        datagrams sent to a forward; ct_early_drop, unanswered connections evicted\n"
    "        from a full connection table to admit new ones; fib_lookup, route lookups for\n"
    "        frames leaving by the uplink (the rest took the per-CPU route cache's answer,\n"
    "        trusted for 100 ms). Refuses counters loaded by another fwd version (exit 1):\n"
    "        'up' again reloads the datapath. Then the policy rules (isolate, forward ...\n"
    "        from) with what each dropped since the last 'up'; then per namespace the frames\n"
    "        it sent, those delivered into it and its own dropped, by reason, and per forward\n"
    "        the frames in to its target and out of it. --prometheus prints them in\n"
    "        Prometheus' text format (fwd_frames_total, fwd_frame_bytes_total,\n"
    "        fwd_events_total, fwd_policy_dropped_{frames,bytes}_total,\n"
    "        fwd_namespace_{frames,bytes,dropped_frames}_total, fwd_forward_{frames,bytes}_total;\n"
    "        labels topology, counter, kind, event, rule, line, namespace, direction, reason,\n"
    "        forward), for NAME or, without one, for every\n"
    "        topology with datapath bpf up in this host namespace: node_exporter's\n"
    "        textfile collector reads it as it is.\n"
    "    ct [NAME] [flush [proto tcp|udp|icmp] [port N] [namespace NS]]\n"
    "        Connection-tracking entries (datapath bpf), or remove them with 'flush': all, or\n"
    "        those matching every filter given: the protocol, either port of the original\n"
    "        tuple, a namespace (the connections it opened and those forwarded to it).\n"
    "    watch [FILE|NAME]\n"
    "        Follow the uplink addresses of NAME, or of every topology up in this host\n"
    "        namespace, through rtnetlink, and bring a topology up again when its uplink's\n"
    "        address changed: new connections are masqueraded to, and forwards published on,\n"
    "        the new address within a second, and connections of the old one are removed.\n"
    "        Brings each topology up to date when it starts; runs until SIGTERM or SIGINT\n"
    "        (exit 0): a service's main process (fwd@.service).\n"
    "    monitor [--drops] [--ct] [--rate N] [--count N] [--duration S] [NAME]\n"
    "        Print what the BPF datapath drops (reason, interface, addresses, ports) and\n"
    "        the connections it tracks as they come and go (new, closed, expired, evicted,\n"
    "        deleted; original and translated tuples), one line each (-j: one JSON object\n"
    "        per line), until SIGINT or SIGTERM, N events or S seconds; --drops or --ct:\n"
    "        that kind only. At most N events a second are sent (--rate, default 1000); the\n"
    "        others are counted (monitor_skipped, monitor_lost) and shown once a second and\n"
    "        in a summary at the end. Off, it costs the datapath nothing but a flag read\n"
    "        per drop and per connection made or deleted. One monitor per topology at a time.\n"
    "    capture [--where in|out|both] [--count N] [--duration S] [--snaplen N] [-w FILE]\n"
    "            [NAME] [proto tcp|udp|icmp] [host ADDR] [port N] [namespace NS] [forward N]\n"
    "        Copies of the frames the BPF datapath handles, as they arrive (in) and as they\n"
    "        leave translated (out), one line each (-j: JSON), or with -w a pcap file of\n"
    "        link type LINUX_SLL2 (interface index and direction per frame; '-': stdout)\n"
    "        that tcpdump -r and tshark read. The filter is matched in BPF on the frame as\n"
    "        it arrives; its copy after translation goes with it; a namespace also matches\n"
    "        what is delivered into it. Until SIGINT or SIGTERM, N frames or S seconds.\n"
    "\n"
    "OPTIONS\n"
    "    -n, --netns HOSTNS\n"
    "        Run the command as if the network namespace HOSTNS (/run/netns/HOSTNS) were the\n"
    "        host, like 'ip -n'. Namespaces of the topology are still named globally.\n"
    "    -j, --json\n"
    "        Print data as JSON on stdout. Diagnostics always go to stderr.\n"
    "    -v, --verbose\n"
    "        Say what is being done; twice for libbpf's debug output.\n"
    "    -q, --quiet\n"
    "        Print errors only.\n"
    "    -h, --help\n"
    "        This text.\n"
    "    -V, --version\n"
    "        Print the version.\n"
    "\n"
    "ENVIRONMENT\n"
    "    FWD_DEBUG=1              everything -vv shows, libbpf's and the verifier's logs too\n"
    "    FWD_KERNEL_WITHOUT=F,... treat kernel features as missing, to test fallbacks\n"
    "                             (gso_ipv4_max_size, cgroup_v2, bpf_loop, ...)\n"
    "\n"
    "FILES\n"
    "    /run/netns/NAME          namespaces, created exactly as 'ip netns add' does\n"
    "    /run/fwd/NAME.journal    what 'up' created, written before creating it\n"
    "    /run/fwd/NAME.conf       the topology file that is up, as parsed (.source: its path)\n"
    "    /sys/fs/bpf/fwd/NAME/    pinned BPF maps, programs and cgroup links (datapath bpf)\n"
    "\n"
    "EXIT STATUS\n"
    "    0  success\n"
    "    1  runtime failure (netlink, BPF load, iptables, missing privilege); the reason is\n"
    "       printed\n"
    "    2  usage or configuration error, reported as FILE:LINE: message (a conflict with\n"
    "       another topology: naming it, its file and line); nothing was changed\n"
    "\n"
    "EXAMPLES\n"
    "    fwdctl check lab.conf\n"
    "    fwdctl up lab.conf && fwdctl status lab\n"
    "    ip netns add sandbox && fwdctl -n sandbox up lab.conf   # keep off the real network\n"
    "    fwdctl -j stats lab\n"
    "    fwdctl stats --prometheus > /var/lib/node_exporter/fwd.prom.$$ &&\n"
    "        mv /var/lib/node_exporter/fwd.prom.$$ /var/lib/node_exporter/fwd.prom\n"
    "    fwdctl ct lab flush proto udp namespace blue\n"
    "    fwdctl -j monitor --drops --count 10 lab\n"
    "    fwdctl capture lab port 80 -w fwd.pcap   # then: tshark -r fwd.pcap\n"
    "    fwdctl down lab\n"
    "\n"
    "SEE ALSO\n"
    "    fwdctl(8) and topology.conf(5), the manual pages: 'man fwdctl', 'man topology.conf';\n"
    "    ip-netns(8), bridge(8), iptables(8), bpftool(8)\n";

/* clang-format on */

static const struct option long_options[] = {
	{ "netns", required_argument, NULL, 'n' },
	{ "json", no_argument, NULL, 'j' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fwd_err("%s", msg);
	fputs(usage_text, stderr);
	return FWD_EXIT_USAGE;
}

/* Parse FILE; configuration errors are exit 2, an unreadable file too (a usage error). */
static int load_topology(const char *path, struct fwd_topology *t)
{
	int ret = topo_parse_file(t, path, stderr);

	if (ret == -ENOMEM) {
		fwd_err("%s: out of memory", path);
		return FWD_EXIT_FAILURE;
	}
	return ret ? FWD_EXIT_USAGE : FWD_EXIT_OK;
}

static int cmd_check(const struct fwd_cmdline *c, const struct fwd_opts *o)
{
	if (!o->json) {
		topo_print(&c->topology, stdout);
		return FWD_EXIT_OK;
	}
	if (out_json(topo_to_json(&c->topology))) {
		fwd_err("check: out of memory");
		return FWD_EXIT_FAILURE;
	}
	return FWD_EXIT_OK;
}

/* What a command takes after its name. */
enum cmd_args {
	ARGS_FILE,	       /* FILE */
	ARGS_FILES_OR_NAMES,   /* FILE|NAME... */
	ARGS_NAME,	       /* [NAME] */
	ARGS_NAME_FLUSH,       /* [NAME] [flush [proto P] [port N] [namespace NS]] */
	ARGS_OPT_FILE_OR_NAME, /* [FILE|NAME] */
	ARGS_MONITOR,	       /* [--drops] [--ct] [--rate N] [--count N] [--duration S] [NAME] */
	ARGS_CAPTURE,	       /* [--where W] [--count N] [--duration S] [--snaplen N] [-w FILE]
				  [NAME] [proto P] [host ADDR] [port N] [namespace NS] [forward N] */
};

struct command {
	const char *name;
	enum cmd_args args;
	bool needs_root; /* CAP_NET_ADMIN and CAP_SYS_ADMIN */
	int (*run)(const struct fwd_cmdline *c, const struct fwd_opts *o);
	const char *option; /* the one option the command takes after its name, or NULL */
};

static const struct command commands[] = {
	{ "check", ARGS_FILE, false, cmd_check },
	{ "up", ARGS_FILE, true, fwd_cmd_up, "--flush-conntrack" },
	{ "down", ARGS_FILES_OR_NAMES, true, fwd_cmd_down },
	{ "status", ARGS_NAME, true, fwd_cmd_status },
	{ "stats", ARGS_NAME, true, fwd_cmd_stats, "--prometheus" },
	{ "ct", ARGS_NAME_FLUSH, true, fwd_cmd_ct },
	{ "watch", ARGS_OPT_FILE_OR_NAME, true, fwd_cmd_watch },
	{ "monitor", ARGS_MONITOR, true, fwd_cmd_monitor },
	{ "capture", ARGS_CAPTURE, true, fwd_cmd_capture },
};

static const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* "down FILE|NAME": an existing file names its topology; otherwise the word is the name. */
static int resolve_name(const char *arg, struct fwd_cmdline *c)
{
	struct stat st;

	if (!stat(arg, &st) && S_ISREG(st.st_mode)) {
		FILE *devnull = fopen("/dev/null", "we");
		int ret = topo_parse_file(&c->topology, arg, devnull ? devnull : stderr);

		if (devnull)
			fclose(devnull);
		if (ret == -ENOMEM)
			return load_topology(arg, &c->topology); /* says so */
		if (!ret) {
			snprintf(c->name, sizeof(c->name), "%s", c->topology.name);
			topo_free(&c->topology);
			return FWD_EXIT_OK;
		}
		/* A file edited since its up (a bad line added) still names what to take down. */
		if (topo_name_of_file(arg, c->name))
			return load_topology(arg, &c->topology); /* its errors, exit 2 */
		fwd_warn("%s: does not parse ('fwdctl check %s' says why); taking down topology "
			 "%s, which it names",
			 arg, arg, c->name);
		return FWD_EXIT_OK;
	}
	if (strchr(arg, '/') || strstr(arg, ".conf")) {
		fwd_err("%s: no such file", arg);
		return FWD_EXIT_USAGE;
	}
	if (!topo_name_valid(arg)) {
		fwd_err("'%s' is neither a file nor a topology name (1-12 characters of [a-z0-9-])",
			arg);
		return FWD_EXIT_USAGE;
	}
	snprintf(c->name, sizeof(c->name), "%s", arg);
	return FWD_EXIT_OK;
}

/* "down FILE|NAME...": each topology once, however it is named (file or name). */
static int resolve_names(const struct command *cmd, int nargs, char **args, struct fwd_cmdline *c)
{
	if (nargs < 1)
		return usage_error("%s takes one or more arguments", cmd->name);
	c->names = calloc(nargs, sizeof(*c->names));
	if (!c->names)
		return usage_error("out of memory");
	for (int i = 0; i < nargs; i++) {
		int ret = resolve_name(args[i], c);
		bool seen = false;

		if (ret)
			return ret;
		for (size_t k = 0; k < c->n_names && !seen; k++)
			seen = !strcmp(c->names[k], c->name);
		if (!seen)
			snprintf(c->names[c->n_names++], sizeof(c->names[0]), "%s", c->name);
	}
	c->name[0] = '\0';
	return FWD_EXIT_OK;
}

/* "flush [proto tcp|udp|icmp] [port N] [namespace NS]": the filters after flush, each once. */
static int parse_flush_filters(int nargs, char **args, struct fwd_cmdline *c)
{
	bool seen_proto = false, seen_port = false, seen_ns = false;
	char *end;

	for (int i = 0; i < nargs; i += 2) {
		const char *key = args[i], *val = i + 1 < nargs ? args[i + 1] : NULL;

		if (strcmp(key, "proto") && strcmp(key, "port") && strcmp(key, "namespace"))
			return usage_error("unexpected argument '%s' (flush takes proto, port and "
					   "namespace)",
					   key);
		if (!val)
			return usage_error("flush %s: needs a value", key);
		if (!strcmp(key, "proto")) {
			if (seen_proto)
				return usage_error("flush: proto given twice");
			seen_proto = true;
			if (!strcmp(val, "tcp"))
				c->flush_proto = IPPROTO_TCP;
			else if (!strcmp(val, "udp"))
				c->flush_proto = IPPROTO_UDP;
			else if (!strcmp(val, "icmp"))
				c->flush_proto = IPPROTO_ICMP;
			else
				return usage_error("flush proto '%s': expected tcp, udp or icmp",
						   val);
		} else if (!strcmp(key, "port")) {
			unsigned long port;

			if (seen_port)
				return usage_error("flush: port given twice");
			seen_port = true;
			errno = 0;
			port = strtoul(val, &end, 10);
			if (errno || *end || val[0] < '1' || val[0] > '9' || port > 65535)
				return usage_error("flush port '%s': expected a port 1-65535", val);
			c->flush_port = (uint16_t)port;
		} else {
			if (seen_ns)
				return usage_error("flush: namespace given twice");
			seen_ns = true;
			if (strlen(val) > FWD_NETNS_NAME_MAX)
				return usage_error(
				    "flush namespace '%s': longer than %d characters", val,
				    FWD_NETNS_NAME_MAX);
			snprintf(c->flush_ns, sizeof(c->flush_ns), "%s", val);
		}
	}
	return FWD_EXIT_OK;
}

/* A whole number in [@min, @max] for option @opt, into *@out; an exit status. */
static int parse_number(const char *opt, const char *val, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!val)
		return usage_error("%s: needs a value", opt);
	errno = 0;
	v = strtoull(val, &end, 10);
	if (errno || *end || val[0] < '0' || val[0] > '9' || v < min || v > max)
		return usage_error("%s '%s': expected a number from %llu to %llu", opt, val,
				   (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return FWD_EXIT_OK;
}

/* --count N and --duration S, which end monitor and capture. */
static bool is_limit_option(const char *arg)
{
	return !strcmp(arg, "--count") || !strcmp(arg, "--duration");
}

/* One of them (is_limit_option()) with its value @val into @c. An exit status. */
static int parse_limit_option(const char *opt, const char *val, struct fwd_cmdline *c)
{
	uint64_t v;
	int ret;

	if (!strcmp(opt, "--count")) {
		if ((ret = parse_number(opt, val, 1, UINT64_MAX, &v)))
			return ret;
		c->count = v;
	} else {
		if ((ret = parse_number(opt, val, 1, 86400 * 365, &v)))
			return ret;
		c->duration = (uint32_t)v;
	}
	return FWD_EXIT_OK;
}

/* The [NAME] of monitor and capture: once, and a valid name. An exit status. */
static int take_topology_name(const char *cmd, const char *arg, struct fwd_cmdline *c)
{
	if (c->name[0])
		return usage_error("%s takes at most one topology name", cmd);
	if (!topo_name_valid(arg))
		return usage_error("'%s' is not a topology name (1-12 characters of [a-z0-9-])",
				   arg);
	snprintf(c->name, sizeof(c->name), "%s", arg);
	return FWD_EXIT_OK;
}

/* "monitor [--drops] [--ct] [--rate N] [--count N] [--duration S] [NAME]", in any order. */
static int parse_monitor_args(int nargs, char **args, struct fwd_cmdline *c)
{
	for (int i = 0; i < nargs; i++) {
		const char *a = args[i], *val = i + 1 < nargs ? args[i + 1] : NULL;
		uint64_t v;
		int ret;

		if (!strcmp(a, "--drops")) {
			c->mon_drops = true;
		} else if (!strcmp(a, "--ct")) {
			c->mon_ct = true;
		} else if (!strcmp(a, "--rate")) {
			if ((ret = parse_number(a, val, 1, 1000000, &v)))
				return ret;
			c->mon_rate = (uint32_t)v;
			i++;
		} else if (is_limit_option(a)) {
			if ((ret = parse_limit_option(a, val, c)))
				return ret;
			i++;
		} else if (a[0] == '-') {
			return usage_error("monitor: unknown option '%s' (--drops, --ct, --rate N, "
					   "--count N, --duration S)",
					   a);
		} else if ((ret = take_topology_name("monitor", a, c))) {
			return ret;
		}
	}
	return FWD_EXIT_OK;
}

/* "capture [--where in|out|both] [--count N] [--duration S] [--snaplen N] [-w FILE] [NAME]
 * [proto P] [host ADDR] [port N] [namespace NS] [forward N]": options anywhere, then the
 * filter. */
static int parse_capture_args(int nargs, char **args, struct fwd_cmdline *c)
{
	bool filter = false, seen[5] = { false };
	static const char *const keys[] = { "proto", "host", "port", "namespace", "forward" };

	c->cap_where = FWD_CAP_IN | FWD_CAP_OUT;
	for (int i = 0; i < nargs; i++) {
		const char *a = args[i], *val = i + 1 < nargs ? args[i + 1] : NULL;
		int k = -1, ret;
		uint64_t v;

		for (int j = 0; j < 5; j++)
			if (!strcmp(a, keys[j]))
				k = j;
		if (!strcmp(a, "--where")) {
			if (!val ||
			    (strcmp(val, "in") && strcmp(val, "out") && strcmp(val, "both")))
				return usage_error("--where: expected in, out or both");
			c->cap_where = !strcmp(val, "in")    ? FWD_CAP_IN
				       : !strcmp(val, "out") ? FWD_CAP_OUT
							     : FWD_CAP_IN | FWD_CAP_OUT;
			i++;
		} else if (is_limit_option(a)) {
			if ((ret = parse_limit_option(a, val, c)))
				return ret;
			i++;
		} else if (!strcmp(a, "--snaplen")) {
			if ((ret = parse_number(a, val, 64, 65000, &v)))
				return ret;
			c->cap_snaplen = (uint32_t)v;
			i++;
		} else if (!strcmp(a, "-w")) {
			if (!val || !val[0])
				return usage_error("-w: needs a file name (- for stdout)");
			c->cap_file = val;
			i++;
		} else if (a[0] == '-') {
			return usage_error(
			    "capture: unknown option '%s' (--where, --count, --duration, "
			    "--snaplen, -w)",
			    a);
		} else if (k >= 0) {
			filter = true;
			if (seen[k])
				return usage_error("capture: %s given twice", a);
			seen[k] = true;
			if (!val)
				return usage_error("capture %s: needs a value", a);
			i++;
			if (k == 0) {
				c->cap_proto = !strcmp(val, "tcp")    ? IPPROTO_TCP
					       : !strcmp(val, "udp")  ? IPPROTO_UDP
					       : !strcmp(val, "icmp") ? IPPROTO_ICMP
								      : 0;
				if (!c->cap_proto)
					return usage_error(
					    "capture proto '%s': expected tcp, udp or icmp", val);
			} else if (k == 1) {
				struct in_addr in;

				if (inet_pton(AF_INET, val, &in) != 1 || !in.s_addr)
					return usage_error("capture host '%s': expected an IPv4 "
							   "address",
							   val);
				c->cap_host = in.s_addr;
			} else if (k == 2 || k == 4) {
				if ((ret = parse_number(k == 2 ? "capture port" : "capture forward",
							val, 1, 65535, &v)))
					return ret;
				if (k == 2)
					c->cap_port = (uint16_t)v;
				else
					c->cap_forward = (uint16_t)v;
			} else {
				if (strlen(val) > FWD_NETNS_NAME_MAX)
					return usage_error("capture namespace '%s': longer than %d "
							   "characters",
							   val, FWD_NETNS_NAME_MAX);
				snprintf(c->cap_ns, sizeof(c->cap_ns), "%s", val);
			}
		} else if (filter) {
			return usage_error("capture: unexpected argument '%s' (the filter takes "
					   "proto, host, port, namespace and forward)",
					   a);
		} else if ((ret = take_topology_name("capture", a, c))) {
			return ret;
		}
	}
	return FWD_EXIT_OK;
}

/* The arguments of @cmd into @c; an exit status. Nothing is changed yet. */
static int parse_args(const struct command *cmd, int nargs, char **args, struct fwd_cmdline *c)
{
	int i = 0;

	/* The command's own option comes first: "up --flush-conntrack FILE", "stats
	 * --prometheus NAME". */
	if (cmd->option && nargs > 0 && !strcmp(args[0], cmd->option)) {
		if (!strcmp(cmd->option, "--prometheus"))
			c->prometheus = true;
		else
			c->flush_conntrack = true;
		nargs--;
		args++;
	}
	switch (cmd->args) {
	case ARGS_MONITOR: return parse_monitor_args(nargs, args, c);
	case ARGS_CAPTURE: return parse_capture_args(nargs, args, c);
	case ARGS_OPT_FILE_OR_NAME:
		if (nargs > 1)
			return usage_error("%s takes at most one argument", cmd->name);
		return nargs ? resolve_name(args[0], c) : FWD_EXIT_OK;
	case ARGS_FILE:
		if (nargs != 1)
			return usage_error("%s takes exactly one argument", cmd->name);
		return load_topology(args[0], &c->topology);
	case ARGS_FILES_OR_NAMES: return resolve_names(cmd, nargs, args, c);
	case ARGS_NAME:
	case ARGS_NAME_FLUSH:
		if (i < nargs && strcmp(args[i], "flush")) {
			if (!topo_name_valid(args[i]))
				return usage_error("'%s' is not a topology name "
						   "(1-12 characters of [a-z0-9-])",
						   args[i]);
			snprintf(c->name, sizeof(c->name), "%s", args[i++]);
		}
		if (cmd->args == ARGS_NAME_FLUSH && i < nargs && !strcmp(args[i], "flush")) {
			c->flush = true;
			return parse_flush_filters(nargs - i - 1, args + i + 1, c);
		}
		if (i < nargs)
			return usage_error("unexpected argument '%s'", args[i]);
		return FWD_EXIT_OK;
	}
	return FWD_EXIT_USAGE;
}

/*
 * -n NAME: the command runs in that network namespace. What only the machine's initial network
 * namespace has (the host-wide RFS table's sysctl) is opened before going there.
 */
static int enter_hostns(const char *name)
{
	rfs_host_open();
	return netns_enter(name);
}

int main(int argc, char **argv)
{
	struct fwd_opts o = { 0 };
	struct fwd_cmdline c = { 0 };
	const struct command *cmd;
	int opt, ret;

	/* '+': stop at the command, so its arguments are never taken for options. */
	while ((opt = getopt_long(argc, argv, "+n:jvqhV", long_options, NULL)) != -1) {
		switch (opt) {
		case 'n': o.hostns = optarg; break;
		case 'j': o.json = true; break;
		case 'v': o.verbose++; break;
		case 'q': o.quiet = true; break;
		case 'h': fputs(help_text, stdout); return FWD_EXIT_OK;
		case 'V': printf("fwdctl %s\n", FWD_VERSION); return FWD_EXIT_OK;
		default: fputs(usage_text, stderr); return FWD_EXIT_USAGE;
		}
	}
	fwd_log_setup("fwdctl", o.quiet ? -1 : o.verbose);
	if (o.verbose && o.quiet)
		return usage_error("-v and -q exclude each other");
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return FWD_EXIT_USAGE;
	}
	const char *name = argv[optind++];
	int nargs = argc - optind;
	char **args = argv + optind;

	if (!strcmp(name, "help")) {
		fputs(help_text, stdout);
		return FWD_EXIT_OK;
	}
	cmd = command_find(name);
	/* "fwdctl up --help" asks for help; any other option after the command is misplaced
	 * (but the command's own, first), and would otherwise be taken for a file or topology
	 * name. */
	for (int i = 0; i < nargs; i++) {
		if (!strcmp(args[i], "-h") || !strcmp(args[i], "--help")) {
			fputs(help_text, stdout);
			return FWD_EXIT_OK;
		}
		if (cmd && cmd->option && i == 0 && !strcmp(args[i], cmd->option))
			continue;
		if (cmd && (cmd->args == ARGS_MONITOR || cmd->args == ARGS_CAPTURE))
			continue; /* their options, anywhere after them: parse_*_args() */
		if (args[i][0] == '-' && args[i][1])
			return usage_error(
			    "option '%s' goes before the command: fwdctl [OPTIONS] COMMAND ...",
			    args[i]);
	}
	if (!cmd)
		return usage_error("unknown command '%s'", name);
	/* Validate the whole command line before touching anything. */
	ret = parse_args(cmd, nargs, args, &c);
	if (ret)
		return ret;
	if (c.prometheus && o.json)
		return usage_error("-j and --prometheus exclude each other: one format");

	if (cmd->needs_root && geteuid() != 0) {
		fwd_err("%s: needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN)", cmd->name);
		ret = FWD_EXIT_FAILURE;
	} else if (cmd->needs_root && o.hostns && (ret = enter_hostns(o.hostns))) {
		fwd_err("-n %s: cannot enter network namespace: %s", o.hostns, strerror(-ret));
		ret = FWD_EXIT_FAILURE;
	} else {
		ret = cmd->run(&c, &o);
	}
	topo_free(&c.topology);
	free(c.names);
	return ret;
}

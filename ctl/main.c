// SPDX-License-Identifier: GPL-2.0
/* fwdctl: command line parsing and dispatch. */
#include "fwdctl.h"
#include "loader.h"
#include "fwd_json.h"
#include "netns.h"
#include "topology.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef FWD_VERSION
#define FWD_VERSION "0.1.0"
#endif

static const char usage_text[] =
	"Usage: fwdctl [-n HOSTNS] [-v|-q] [-j] COMMAND [ARGS]\n"
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
	"    topology file (topology.conf(5), see DESIGN.md). Links, addresses and routes are made\n"
	"    through rtnetlink. With 'datapath bpf' (the default) eBPF programs carry traffic\n"
	"    between namespaces, SNAT and DNAT, and, from the root of the cgroup v2 hierarchy,\n"
	"    point the host's own connections to a forwarded port at its namespace; with\n"
	"    'datapath kernel' the Linux bridge and iptables rules in fwd's own chains do, as in\n"
	"    the classic recipe.\n"
	"\n"
	"COMMANDS\n"
	"    check FILE\n"
	"        Parse and validate FILE only; print the normalised topology (-j: as JSON).\n"
	"    up FILE\n"
	"        Build the topology, or converge a running one to FILE: what was added is created,\n"
	"        what was removed is deleted, the rest is left alone. Running it twice changes\n"
	"        nothing. The veths and the bridge take the uplink's gso_ipv4_max_size when it\n"
	"        is above 65536 (BIG TCP on the uplink), 65536 otherwise.\n"
	"    down FILE|NAME\n"
	"        Remove everything the topology created, also after a failed or killed 'up', and\n"
	"        nothing else. A topology that is not up is not an error.\n"
	"    status [NAME]\n"
	"        Namespaces, links (state, gso_ipv4_max_size), addresses, datapath, attached\n"
	"        programs (per link, and on the cgroup v2 root) and rules of NAME, or a line per\n"
	"        topology that is up.\n"
	"    stats [NAME]\n"
	"        BPF counters: packets and bytes per path, drops by reason (datapath bpf),\n"
	"        and events outside the frame total: host_dnat, the host's own connections and\n"
	"        datagrams sent to a forward; ct_early_drop, unanswered connections evicted\n"
	"        from a full connection table to admit new ones; fib_lookup, route lookups for\n"
	"        frames leaving by the uplink (the rest took the per-CPU route cache's answer,\n"
	"        trusted for 100 ms). Refuses counters loaded by another fwd version (exit 1):\n"
	"        'up' again reloads the datapath.\n"
	"    ct [NAME] [flush]\n"
	"        Connection-tracking entries, or remove them all with 'flush' (datapath bpf).\n"
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
	"FILES\n"
	"    /run/netns/NAME          namespaces, created exactly as 'ip netns add' does\n"
	"    /run/fwd/NAME.journal    what 'up' created, written before creating it\n"
	"    /run/fwd/NAME.conf       the normalised topology that is up\n"
	"    /sys/fs/bpf/fwd/NAME/    pinned BPF maps, programs and cgroup links (datapath bpf)\n"
	"\n"
	"EXIT STATUS\n"
	"    0  success\n"
	"    1  runtime failure (netlink, BPF load, iptables, missing privilege); the reason is\n"
	"       printed\n"
	"    2  usage or configuration error, reported as FILE:LINE: message; nothing was changed\n"
	"\n"
	"EXAMPLES\n"
	"    fwdctl check lab.conf\n"
	"    fwdctl up lab.conf && fwdctl status lab\n"
	"    ip netns add sandbox && fwdctl -n sandbox up lab.conf   # keep off the real network\n"
	"    fwdctl -j stats lab\n"
	"    fwdctl down lab\n"
	"\n"
	"SEE ALSO\n"
	"    ip-netns(8), bridge(8), iptables(8), bpftool(8)\n";

static const struct option long_options[] = {
	{ "netns", required_argument, NULL, 'n' }, { "json", no_argument, NULL, 'j' },
	{ "verbose", no_argument, NULL, 'v' },	   { "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },	   { "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

void fwd_info(const struct fwd_opts *o, const char *fmt, ...)
{
	va_list ap;

	if (o->quiet)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

void fwd_debug(const struct fwd_opts *o, const char *fmt, ...)
{
	va_list ap;

	if (o->verbose < 1)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "fwdctl: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage_text);
	return FWD_EXIT_USAGE;
}

/* Parse FILE; configuration errors are exit 2, an unreadable file too (a usage error). */
static int load_topology(const char *path, struct fwd_topology *t)
{
	int ret = topo_parse_file(t, path, stderr);

	if (ret == -ENOMEM) {
		fprintf(stderr, "fwdctl: %s: out of memory\n", path);
		return FWD_EXIT_FAILURE;
	}
	return ret ? FWD_EXIT_USAGE : FWD_EXIT_OK;
}

static int cmd_check(const char *path, const struct fwd_opts *o)
{
	struct fwd_topology t;
	int ret = load_topology(path, &t);

	if (ret)
		return ret;
	if (o->json) {
		struct fwd_json j;

		json_init(&j, stdout);
		topo_print_json(&t, &j);
		json_finish(&j);
	} else {
		topo_print(&t, stdout);
	}
	topo_free(&t);
	return FWD_EXIT_OK;
}

/* "down FILE|NAME": an existing file names its topology; otherwise the word is the name. */
static int resolve_name(const char *arg, char name[16])
{
	struct stat st;

	if (!stat(arg, &st) && S_ISREG(st.st_mode)) {
		struct fwd_topology t;
		int ret = load_topology(arg, &t);

		if (ret)
			return ret;
		snprintf(name, 16, "%s", t.name);
		topo_free(&t);
		return FWD_EXIT_OK;
	}
	if (strchr(arg, '/') || strstr(arg, ".conf")) {
		fprintf(stderr, "fwdctl: %s: no such file\n", arg);
		return FWD_EXIT_USAGE;
	}
	if (!topo_name_valid(arg)) {
		fprintf(stderr, "fwdctl: '%s' is neither a file nor a topology name "
				"(1-12 characters of [a-z0-9-])\n", arg);
		return FWD_EXIT_USAGE;
	}
	snprintf(name, 16, "%s", arg);
	return FWD_EXIT_OK;
}

/* The optional NAME of status/stats/ct: validated, or "" for all. */
static int optional_name(int argc, char **argv, int *i, char name[16])
{
	name[0] = '\0';
	if (*i < argc && strcmp(argv[*i], "flush")) {
		if (!topo_name_valid(argv[*i]))
			return usage_error("'%s' is not a topology name (1-12 characters of [a-z0-9-])",
					   argv[*i]);
		snprintf(name, 16, "%s", argv[(*i)++]);
	}
	return FWD_EXIT_OK;
}

static bool needs_root(const char *cmd)
{
	return strcmp(cmd, "check") != 0;
}

int main(int argc, char **argv)
{
	struct fwd_opts o = { 0 };
	char name[16];
	int c, ret;

	/* '+': stop at the command, so its arguments are never taken for options. */
	while ((c = getopt_long(argc, argv, "+n:jvqhV", long_options, NULL)) != -1) {
		switch (c) {
		case 'n': o.hostns = optarg; break;
		case 'j': o.json = true; break;
		case 'v': o.verbose++; break;
		case 'q': o.quiet = true; break;
		case 'h': fputs(help_text, stdout); return FWD_EXIT_OK;
		case 'V': printf("fwdctl %s\n", FWD_VERSION); return FWD_EXIT_OK;
		default: fputs(usage_text, stderr); return FWD_EXIT_USAGE;
		}
	}
	if (o.verbose && o.quiet)
		return usage_error("%s", "-v and -q exclude each other");
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return FWD_EXIT_USAGE;
	}
	const char *cmd = argv[optind++];
	int nargs = argc - optind;
	char **args = argv + optind;

	if (!strcmp(cmd, "help")) {
		fputs(help_text, stdout);
		return FWD_EXIT_OK;
	}
	/* "fwdctl up --help" asks for help; any other option after the command is misplaced,
	 * and would otherwise be taken for a file or topology name. */
	for (int i = 0; i < nargs; i++) {
		if (!strcmp(args[i], "-h") || !strcmp(args[i], "--help")) {
			fputs(help_text, stdout);
			return FWD_EXIT_OK;
		}
		if (args[i][0] == '-' && args[i][1])
			return usage_error("option '%s' goes before the command: fwdctl [OPTIONS] COMMAND ...",
					   args[i]);
	}
	/* Validate the whole command line before touching anything. */
	bool flush = false;
	if (!strcmp(cmd, "check") || !strcmp(cmd, "up") || !strcmp(cmd, "down")) {
		if (nargs != 1)
			return usage_error("%s takes exactly one argument", cmd);
	} else if (!strcmp(cmd, "status") || !strcmp(cmd, "stats") || !strcmp(cmd, "ct")) {
		int i = 0;

		ret = optional_name(nargs, args, &i, name);
		if (ret)
			return ret;
		if (!strcmp(cmd, "ct") && i < nargs && !strcmp(args[i], "flush")) {
			flush = true;
			i++;
		}
		if (i < nargs)
			return usage_error("unexpected argument '%s'", args[i]);
	} else {
		return usage_error("unknown command '%s'", cmd);
	}

	if (!strcmp(cmd, "check"))
		return cmd_check(args[0], &o);
	loader_set_verbosity(o.verbose);

	struct fwd_topology t = { 0 };
	if (!strcmp(cmd, "up") && (ret = load_topology(args[0], &t)))
		return ret;
	if (!strcmp(cmd, "down") && (ret = resolve_name(args[0], name)))
		return ret;

	if (needs_root(cmd) && geteuid() != 0) {
		fprintf(stderr, "fwdctl: %s: needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN)\n", cmd);
		topo_free(&t);
		return FWD_EXIT_FAILURE;
	}
	if (o.hostns && (ret = netns_enter(o.hostns))) {
		fprintf(stderr, "fwdctl: -n %s: cannot enter network namespace: %s\n", o.hostns,
			strerror(-ret));
		topo_free(&t);
		return FWD_EXIT_FAILURE;
	}

	if (!strcmp(cmd, "up"))
		ret = fwd_cmd_up(&t, &o);
	else if (!strcmp(cmd, "down"))
		ret = fwd_cmd_down(name, &o);
	else if (!strcmp(cmd, "status"))
		ret = fwd_cmd_status(name[0] ? name : NULL, &o);
	else if (!strcmp(cmd, "stats"))
		ret = fwd_cmd_stats(name[0] ? name : NULL, &o);
	else
		ret = fwd_cmd_ct(name[0] ? name : NULL, flush, &o);
	topo_free(&t);
	return ret;
}

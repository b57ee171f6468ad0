// SPDX-License-Identifier: GPL-2.0
/*
 * Parser unit tests: a table of topology texts, each with the verdict and the exact
 * "FILE:LINE: message" fragment expected. No root, no side effects (the parser has none).
 */
#include "topo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BASE "bridge vnet0 192.168.15.5/24\nnamespace red 192.168.15.1\n"
/* Dual stack: the bridge and red with IPv6 too, an uplink for masquerade. */
#define BASE6                                                                                      \
	"bridge vnet0 192.168.15.5/24 fd00:15::5/64\nuplink eth0\n"                                \
	"namespace red 192.168.15.1 fd00:15::1\n"
#define LAB                                                                                        \
	"topology lab\nbridge vnet0 192.168.15.5/24\nuplink eth0\nmasquerade 192.168.15.0/24\n"    \
	"namespace red 192.168.15.1\nnamespace blue 192.168.15.2\n"

struct parse_case {
	const char *name;
	const char *text;
	size_t len;	    /* 0: strlen(text); set for texts with NUL bytes */
	const char *path;   /* NULL: "t.conf" */
	const char *expect; /* NULL: must parse; else a fragment of stderr */
};

static const struct parse_case cases[] = {
	/* good input */
	{ "the seed lab",
	  "# The tutorial's lab\ntopology lab\ndatapath bpf\n\n"
	  "bridge     vnet0 192.168.15.5/24   # gateway\nuplink eth0\n"
	  "masquerade 192.168.15.0/24\nnamespace red    192.168.15.1\n"
	  "namespace blue 192.168.15.2\nnamespace green 192.168.15.3\n"
	  "namespace yellow 192.168.15.4\nforward tcp 80 blue:80\n"
	  "forward udp 5353 green:53\nforward tcp 8000-8009 yellow\n",
	  0, NULL, NULL },
	{ "minimal: bridge and one namespace", BASE, 0, NULL, NULL },
	{ "tabs separate tokens", "bridge\tvnet0\t192.168.15.5/24\nnamespace\tred\t192.168.15.1\n",
	  0, NULL, NULL },
	{ "no trailing newline", "bridge vnet0 192.168.15.5/24\nnamespace red 192.168.15.1", 0,
	  NULL, NULL },
	{ "lines in any order",
	  "forward tcp 80 red\nnamespace red 192.168.15.1\nuplink eth0\n"
	  "bridge vnet0 192.168.15.5/24\n",
	  0, NULL, NULL },
	{ "datapath kernel", "datapath kernel\n" BASE, 0, NULL, NULL },
	{ "forward range with target start", LAB "forward tcp 8000-8009 red:9000\n", 0, NULL,
	  NULL },
	{ "tcp and udp may share a port", LAB "forward tcp 53 red\nforward udp 53 blue\n", 0, NULL,
	  NULL },
	{ "a /16 bridge", "bridge br0 10.1.0.1/16\nnamespace a 10.1.200.3\n", 0, NULL, NULL },
	{ "forward on a chosen address", LAB "forward tcp 192.0.2.9:80 red\n", 0, NULL, NULL },
	{ "one port on two addresses",
	  LAB "forward tcp 80 red\nforward tcp 192.0.2.9:80 blue\nforward tcp 192.0.2.10:80 red\n",
	  0, NULL, NULL },
	{ "a range on a chosen address", LAB "forward udp 10.0.0.7:5000-5009 blue:6000\n", 0, NULL,
	  NULL },
	{ "namespace name with . _ -", BASE "namespace my_ns.v2-a 192.168.15.9\n", 0, NULL, NULL },
	{ "masquerade of a smaller subnet", LAB "masquerade 192.168.15.128/25\n", 0, NULL,
	  "overlaps" },

	/* IPv6 beside IPv4 (issue 21): checked as strictly as IPv4 */
	{ "dual stack",
	  BASE6 "namespace blue 192.168.15.2 fd00:15::2\nmasquerade fd00:15::/64\n"
		"masquerade 192.168.15.0/24\nnamespace ipv4-only 192.168.15.3\n",
	  0, NULL, NULL },
	{ "a /126 bridge prefix",
	  "bridge b 10.0.0.1/24 2001:db8:1::1/126\nnamespace a 10.0.0.2 2001:db8:1::2\n", 0, NULL,
	  NULL },
	{ "IPv6 masquerade of a part of the prefix", BASE6 "masquerade fd00:15:0:0:8000::/65\n", 0,
	  NULL, NULL },
	{ "bridge IPv6 not canonical",
	  "bridge vnet0 192.168.15.5/24 FD00:15::5/64\n"
	  "namespace red 192.168.15.1 fd00:15::1\n",
	  0, NULL,
	  "t.conf:1: bridge address 'FD00:15::5/64' is not in canonical form (RFC 5952): write "
	  "fd00:15::5" },
	{ "bridge IPv6 zeros not compressed",
	  "bridge vnet0 192.168.15.5/24 fd00:15:0:0:0:0:0:5/64\n"
	  "namespace red 192.168.15.1\n",
	  0, NULL, "write fd00:15::5" },
	{ "bridge IPv6 without prefix",
	  "bridge vnet0 192.168.15.5/24 fd00:15::5\nnamespace red 192.168.15.1\n", 0, NULL,
	  "t.conf:1: bridge address 'fd00:15::5' is not ADDR/PREFIX (e.g. fd00:15::5/64)" },
	{ "bridge IPv6 prefix too long",
	  "bridge vnet0 192.168.15.5/24 fd00:15::5/127\nnamespace red 192.168.15.1\n", 0, NULL,
	  "t.conf:1: bridge prefix /127 must be between /48 and /126" },
	{ "bridge IPv6 prefix too short",
	  "bridge vnet0 192.168.15.5/24 fd00:15::5/32\nnamespace red 192.168.15.1\n", 0, NULL,
	  "t.conf:1: bridge prefix /32 must be between /48 and /126" },
	{ "bridge IPv6 anycast address",
	  "bridge vnet0 192.168.15.5/24 fd00:15::/64\nnamespace red 192.168.15.1\n", 0, NULL,
	  "t.conf:1: bridge address fd00:15::/64 is its prefix's subnet-router anycast address" },
	{ "bridge IPv6 link-local",
	  "bridge vnet0 192.168.15.5/24 fe80::5/64\nnamespace red 192.168.15.1\n", 0, NULL,
	  "t.conf:1: bridge address fe80::5/64 is link-local" },
	{ "bridge IPv6 multicast",
	  "bridge vnet0 192.168.15.5/24 ff05::5/64\nnamespace red 192.168.15.1\n", 0, NULL,
	  "t.conf:1: bridge address ff05::5/64 is a multicast address" },
	{ "bridge IPv6 mapped IPv4",
	  "bridge vnet0 192.168.15.5/24 ::ffff:10.0.0.5/120\nnamespace red 192.168.15.1\n", 0, NULL,
	  "embeds an IPv4 address" },
	{ "bridge IPv6 alone, a namespace with IPv4",
	  "bridge vnet0 fd00:15::5/64\nnamespace red 192.168.15.1\n", 0, NULL,
	  "t.conf:2: namespace 'red' has an IPv4 address, the bridge none (bridge line 1)" },
	{ "bridge IPv6 then IPv4",
	  "bridge vnet0 fd00:15::5/64 192.168.15.5/24\nnamespace red fd00:15::1\n", 0, NULL,
	  "t.conf:1: bridge address 'fd00:15::5/64' is IPv6: with two addresses the IPv4 one "
	  "comes first" },
	{ "bridge in 0.0.0.0/8", "bridge vnet0 0.0.15.5/24\nnamespace red 0.0.15.1\n", 0, NULL,
	  "t.conf:1: bridge address 0.0.15.5/24 is in 0.0.0.0/8" },
	{ "bridge two IPv4 addresses",
	  "bridge vnet0 192.168.15.5/24 10.0.0.1/24\nnamespace red 192.168.15.1\n", 0, NULL,
	  "t.conf:1: bridge's second address '10.0.0.1/24' is not IPv6" },
	{ "bridge IPv6 refused: no follow-on error for the namespace",
	  "bridge vnet0 192.168.15.5/24 fd00:15::5/200\nnamespace red 192.168.15.1 fd00:15::1\n", 0,
	  NULL, "t.conf:1: bridge address 'fd00:15::5/200' is not ADDR/PREFIX" },
	{ "namespace IPv6 without a bridge IPv6", BASE "namespace blue 192.168.15.2 fd00:15::2\n",
	  0, NULL,
	  "t.conf:3: namespace 'blue' has an IPv6 address, the bridge none (bridge line 1)" },
	{ "namespace IPv6 outside the prefix", BASE6 "namespace blue 192.168.15.2 fd00:16::2\n", 0,
	  NULL,
	  "t.conf:4: address fd00:16::2 of namespace 'blue' is outside the bridge prefix "
	  "fd00:15::/64" },
	{ "namespace IPv6 is the gateway's", BASE6 "namespace blue 192.168.15.2 fd00:15::5\n", 0,
	  NULL,
	  "t.conf:4: address fd00:15::5 of namespace 'blue' is the gateway's (bridge line 1)" },
	{ "namespace IPv6 anycast", BASE6 "namespace blue 192.168.15.2 fd00:15::\n", 0, NULL,
	  "t.conf:4: address fd00:15:: of namespace 'blue' is the prefix's subnet-router anycast "
	  "address" },
	{ "namespace IPv6 duplicate", BASE6 "namespace blue 192.168.15.2 fd00:15::1\n", 0, NULL,
	  "t.conf:4: address fd00:15::1 already used by namespace 'red' (line 3)" },
	{ "namespace IPv6 with a prefix", BASE6 "namespace blue 192.168.15.2 fd00:15::2/64\n", 0,
	  NULL, "t.conf:4: namespace address 'fd00:15::2/64' takes no /PREFIX" },
	{ "namespace IPv6 not canonical", BASE6 "namespace blue 192.168.15.2 fd00:15::0002\n", 0,
	  NULL,
	  "t.conf:4: namespace address 'fd00:15::0002' is not in canonical form (RFC 5952): write "
	  "fd00:15::2" },
	{ "namespace IPv6 garbage", BASE6 "namespace blue 192.168.15.2 fd00:15:::2\n", 0, NULL,
	  "t.conf:4: namespace address 'fd00:15:::2' is not an IPv6 address" },
	{ "namespace IPv6 loopback", BASE6 "namespace blue 192.168.15.2 ::1\n", 0, NULL,
	  "t.conf:4: namespace address ::1 is the loopback address" },
	{ "namespace IPv6 alone beside dual stack", BASE6 "namespace blue fd00:15::2\n", 0, NULL,
	  NULL },
	{ "namespace IPv6 then IPv4", BASE6 "namespace blue fd00:15::2 192.168.15.2\n", 0, NULL,
	  "t.conf:4: namespace address 'fd00:15::2' is IPv6: with two addresses the IPv4 one "
	  "comes first" },
	{ "namespace IPv6 alone, the bridge has none", BASE "namespace blue fd00:15::2\n", 0, NULL,
	  "t.conf:3: namespace 'blue' has an IPv6 address, the bridge none (bridge line 1)" },
	{ "namespace IPv6 alone, not canonical", BASE6 "namespace blue fd00:15::02\n", 0, NULL,
	  "t.conf:4: namespace address 'fd00:15::02' is not in canonical form" },
	{ "namespace IPv6 alone, twice",
	  BASE6 "namespace blue fd00:15::2\nnamespace green fd00:15::2\n", 0, NULL,
	  "t.conf:5: address fd00:15::2 already used by namespace 'blue' (line 4)" },
	/* IPv6 alone: the lab without IPv4 */
	{ "IPv6 only lab",
	  "bridge vnet0 fd00:15::5/64\nuplink eth0\nmasquerade fd00:15::/64\n"
	  "namespace red fd00:15::1\nnamespace blue fd00:15::2\nforward tcp 8080 blue:80\n"
	  "isolate\nallow red -> blue tcp 80\n",
	  0, NULL, NULL },
	{ "IPv6 only: an IPv4 masquerade",
	  "bridge vnet0 fd00:15::5/64\nuplink eth0\nmasquerade 192.168.15.0/24\n"
	  "namespace red fd00:15::1\n",
	  0, NULL,
	  "t.conf:3: masquerade 192.168.15.0/24 is IPv4, the bridge has no IPv4 address (bridge "
	  "line 1)" },
	{ "IPv6 only target: a forward on an IPv4 address",
	  BASE6 "namespace blue fd00:15::2\nforward tcp 10.0.0.1:8080 blue:80\n", 0, NULL,
	  "t.conf:5: forward on an IPv4 address: namespace blue has no IPv4 address" },
	{ "IPv6 only target: a forward from IPv4 sources",
	  BASE6 "namespace blue fd00:15::2\nforward tcp 8080 blue:80 from 10.0.0.0/8\n", 0, NULL,
	  "t.conf:5: forward from IPv4 sources: namespace blue has no IPv4 address" },
	{ "namespace two IPv4 addresses", BASE6 "namespace blue 192.168.15.2 192.168.15.3\n", 0,
	  NULL, "t.conf:4: namespace's second address '192.168.15.3' is not IPv6" },
	{ "masquerade IPv6 host bits", BASE6 "masquerade fd00:15::1/64\n", 0, NULL,
	  "t.conf:4: masquerade fd00:15::1/64 has host bits set (did you mean fd00:15::/64?)" },
	{ "masquerade IPv6 outside the prefix", BASE6 "masquerade fd00:16::/64\n", 0, NULL,
	  "t.conf:4: masquerade fd00:16::/64 is not inside the bridge prefix fd00:15::/64" },
	{ "masquerade IPv6 wider than the prefix", BASE6 "masquerade fd00::/48\n", 0, NULL,
	  "t.conf:4: masquerade fd00::/48 is not inside the bridge prefix fd00:15::/64" },
	{ "forward on an IPv6 address", BASE6 "forward tcp [2001:db8::9]:8080 red:80\n", 0, NULL,
	  NULL },
	{ "one port on IPv4 and on two IPv6 addresses",
	  BASE6 "forward tcp 8080 red:80\nforward tcp [2001:db8::9]:8080 red:81\n"
		"forward tcp [2001:db8::a]:8080-8081 red\n",
	  0, NULL, NULL },
	{ "forward IPv6 address overlap",
	  BASE6 "forward udp [2001:db8::9]:53 red\nforward udp [2001:db8::9]:50-60 red\n", 0, NULL,
	  "t.conf:5: udp ports 50-60 overlap the forward at line 4" },
	{ "forward IPv6 address not canonical", BASE6 "forward tcp [2001:DB8::9]:80 red\n", 0, NULL,
	  "t.conf:4: forward address 2001:DB8::9 is not in canonical form (RFC 5952): write "
	  "2001:db8::9" },
	{ "forward IPv6 address without brackets", BASE6 "forward tcp 2001:db8::9:80 red\n", 0,
	  NULL, "t.conf:4: '2001' is not an IPv4 address (ADDR:PORT)" },
	{ "forward IPv6 address unclosed", BASE6 "forward tcp [2001:db8::9:80 red\n", 0, NULL,
	  "t.conf:4: '[2001:db8::9:80' is not [ADDR6]:PORT[-PORT]" },
	{ "forward IPv6 address link-local", BASE6 "forward tcp [fe80::1]:80 red\n", 0, NULL,
	  "t.conf:4: forward address fe80::1 is link-local" },
	{ "forward IPv6 address with from",
	  BASE6 "forward tcp [2001:db8::9]:80 red from 10.0.0.0/8\n", 0, NULL,
	  "t.conf:4: forward on an IPv6 address: 'from' takes IPv4 sources only" },
	{ "forward IPv6 address to a namespace without IPv6",
	  BASE6 "namespace blue 192.168.15.2\nforward tcp [2001:db8::9]:80 blue\n", 0, NULL,
	  "t.conf:5: forward on an IPv6 address: namespace blue has no IPv6 address" },
	{ "masquerade IPv6 overlap", BASE6 "masquerade fd00:15::/64\nmasquerade fd00:15::/80\n", 0,
	  NULL, "t.conf:5: masquerade fd00:15::/80 overlaps the one at line 4" },
	{ "masquerade IPv6 without a bridge IPv6", BASE "uplink eth0\nmasquerade fd00:15::/64\n", 0,
	  NULL,
	  "t.conf:4: masquerade fd00:15::/64 is IPv6, the bridge has no IPv6 address (bridge line "
	  "1)" },
	{ "masquerade IPv6 not canonical", BASE6 "masquerade fd00:0015::/64\n", 0, NULL,
	  "t.conf:4: masquerade 'fd00:0015::/64' is not in canonical form (RFC 5952): write "
	  "fd00:15::" },
	{ "masquerade IPv6 without an uplink",
	  "bridge vnet0 192.168.15.5/24 fd00:15::5/64\nnamespace red 192.168.15.1\nmasquerade "
	  "fd00:15::/64\n",
	  0, NULL, "t.conf:3: masquerade needs an 'uplink' line" },

	/* default name from the file */
	{ "default name is the file name", BASE, 0, "dir/my-lab.conf", NULL },
	{ "file name not a valid topology name", BASE, 0, "My_Lab.conf",
	  "My_Lab.conf:1: no 'topology' line, and the file name 'My_Lab'" },

	/* byte-level */
	{ "CRLF line endings", "bridge vnet0 192.168.15.5/24\r\nnamespace red 192.168.15.1\r\n", 0,
	  NULL, "t.conf:1: carriage return" },
	{ "NUL byte", "bridge vnet0 192.168.15.5/24\nnamespace red\0 192.168.15.1\n", 53, NULL,
	  "t.conf:2: NUL byte" },
	{ "over-long line", NULL, 0, NULL, "t.conf:3: line is 2000 bytes long" },
	{ "control character", BASE "namespace b\x01lue 192.168.15.2\n", 0, NULL,
	  "t.conf:3: control character 0x01" },
	{ "non-ASCII", BASE "namespace bl\xc3\xa9 192.168.15.2\n", 0, NULL, "t.conf:3: non-ASCII" },

	/* keywords and arity */
	{ "unknown keyword", BASE "gateway 192.168.15.5\n", 0, NULL,
	  "t.conf:3: unknown keyword 'gateway'" },
	{ "keywords are lower case", "Bridge vnet0 192.168.15.5/24\nnamespace red 192.168.15.1\n",
	  0, NULL, "t.conf:1: unknown keyword 'Bridge'" },
	{ "missing argument", "bridge vnet0\nnamespace red 192.168.15.1\n", 0, NULL,
	  "t.conf:1: 'bridge' takes 2 to 3 arguments, got 1" },
	{ "extra argument", BASE "uplink eth0 eth1\n", 0, NULL,
	  "t.conf:3: 'uplink' takes 1 argument, got 2" },
	{ "too many words", BASE "namespace a b c d e f g h i j\n", 0, NULL,
	  "t.conf:3: too many words" },

	/* topology */
	{ "topology twice", "topology a\ntopology b\n" BASE, 0, NULL,
	  "t.conf:2: duplicate 'topology' (first at line 1)" },
	{ "topology name too long", "topology abcdefghijklm\n" BASE, 0, NULL,
	  "t.conf:1: topology name 'abcdefghijklm' must be 1-12" },
	{ "topology name upper case", "topology Lab\n" BASE, 0, NULL,
	  "t.conf:1: topology name 'Lab'" },
	{ "topology name with underscore", "topology my_lab\n" BASE, 0, NULL,
	  "t.conf:1: topology name" },

	/* datapath */
	{ "unknown datapath", "datapath xdp\n" BASE, 0, NULL, "t.conf:1: unknown datapath 'xdp'" },
	{ "datapath twice", "datapath bpf\ndatapath kernel\n" BASE, 0, NULL,
	  "t.conf:2: duplicate 'datapath'" },

	/* bridge */
	{ "no bridge", "namespace red 192.168.15.1\n", 0, NULL,
	  "t.conf:1: no 'bridge' line (exactly one is required)" },
	{ "two bridges", BASE "bridge vnet1 192.168.16.5/24\n", 0, NULL,
	  "t.conf:3: duplicate 'bridge' (first at line 1)" },
	{ "bridge name of 16 characters",
	  "bridge abcdefghijklmnop 192.168.15.5/24\n"
	  "namespace red 192.168.15.1\n",
	  0, NULL, "t.conf:1: bridge name 'abcdefghijklmnop' is longer than 15" },
	{ "bridge name with a slash", "bridge a/b 192.168.15.5/24\nnamespace red 192.168.15.1\n", 0,
	  NULL, "t.conf:1: bridge name 'a/b' contains a character" },
	{ "bridge address without prefix",
	  "bridge vnet0 192.168.15.5\nnamespace red 192.168.15.1\n", 0, NULL,
	  "t.conf:1: bridge address '192.168.15.5' is not ADDR/PREFIX" },
	{ "bridge address octet > 255",
	  "bridge vnet0 192.168.256.5/24\n"
	  "namespace red 192.168.15.1\n",
	  0, NULL, "t.conf:1: bridge address" },
	{ "bridge address with leading zero",
	  "bridge vnet0 192.168.015.5/24\n"
	  "namespace red 192.168.15.1\n",
	  0, NULL, "t.conf:1: bridge address" },
	{ "bridge prefix /31", "bridge vnet0 192.168.15.5/31\nnamespace red 192.168.15.4\n", 0,
	  NULL, "t.conf:1: bridge prefix /31 must be between /8 and /30" },
	{ "bridge prefix /33", "bridge vnet0 192.168.15.5/33\nnamespace red 192.168.15.1\n", 0,
	  NULL, "t.conf:1: bridge address" },
	{ "bridge address is the network",
	  "bridge vnet0 192.168.15.0/24\n"
	  "namespace red 192.168.15.1\n",
	  0, NULL, "t.conf:1: bridge address 192.168.15.0/24 is the network address" },
	{ "bridge address is broadcast",
	  "bridge vnet0 192.168.15.255/24\n"
	  "namespace red 192.168.15.1\n",
	  0, NULL, "t.conf:1: bridge address 192.168.15.255/24 is the broadcast address" },

	/* uplink */
	{ "uplink twice", BASE "uplink eth0\nuplink eth1\n", 0, NULL,
	  "t.conf:4: duplicate 'uplink' (first at line 3)" },
	{ "uplink name too long", BASE "uplink abcdefghijklmnop\n", 0, NULL,
	  "t.conf:3: uplink name 'abcdefghijklmnop' is longer than 15" },
	{ "uplink is the bridge", BASE "uplink vnet0\n", 0, NULL,
	  "t.conf:3: uplink 'vnet0' is the bridge itself" },

	/* masquerade */
	{ "masquerade without uplink", BASE "masquerade 192.168.15.0/24\n", 0, NULL,
	  "t.conf:3: masquerade needs an 'uplink' line" },
	{ "masquerade outside the subnet", LAB "masquerade 10.0.0.0/8\n", 0, NULL,
	  "t.conf:7: masquerade 10.0.0.0/8 is not inside the bridge subnet 192.168.15.0/24" },
	{ "masquerade larger than the subnet", LAB "masquerade 192.168.0.0/16\n", 0, NULL,
	  "t.conf:7: masquerade 192.168.0.0/16 is not inside" },
	{ "masquerade with host bits",
	  "bridge vnet0 192.168.15.5/24\nuplink eth0\n"
	  "masquerade 192.168.15.1/24\nnamespace red 192.168.15.1\n",
	  0, NULL,
	  "t.conf:3: masquerade 192.168.15.1/24 has host bits set (did you mean "
	  "192.168.15.0/24?)" },
	{ "masquerade not a CIDR", LAB "masquerade 192.168.15.0\n", 0, NULL,
	  "t.conf:7: masquerade '192.168.15.0' is not a CIDR" },
	{ "masquerade twice", LAB "masquerade 192.168.15.0/24\n", 0, NULL,
	  "t.conf:7: masquerade 192.168.15.0/24 overlaps the one at line 4" },

	/* namespace */
	{ "no namespace", "bridge vnet0 192.168.15.5/24\n", 0, NULL,
	  "t.conf:1: no 'namespace' line (at least one is required)" },
	{ "duplicate namespace", BASE "namespace red 192.168.15.2\n", 0, NULL,
	  "t.conf:3: duplicate namespace 'red' (first at line 2)" },
	{ "duplicate address", BASE "namespace blue 192.168.15.1\n", 0, NULL,
	  "t.conf:3: address 192.168.15.1 already used by namespace 'red' (line 2)" },
	/* Found by sorting: still the first in the file that is named. */
	{ "a name a third time", BASE "namespace red 192.168.15.2\nnamespace red 192.168.15.3\n", 0,
	  NULL, "t.conf:4: duplicate namespace 'red' (first at line 2)" },
	{ "an address again, by a name that sorts first",
	  BASE "namespace zeta 192.168.15.7\nnamespace alpha 192.168.15.7\n", 0, NULL,
	  "t.conf:4: address 192.168.15.7 already used by namespace 'zeta' (line 3)" },
	{ "namespace outside the subnet", BASE "namespace blue 192.168.16.2\n", 0, NULL,
	  "t.conf:3: address 192.168.16.2 of namespace 'blue' is outside the bridge subnet" },
	{ "namespace is the gateway", BASE "namespace blue 192.168.15.5\n", 0, NULL,
	  "t.conf:3: address 192.168.15.5 of namespace 'blue' is the gateway's (bridge line 1)" },
	{ "namespace is the network address", BASE "namespace blue 192.168.15.0\n", 0, NULL,
	  "t.conf:3: address 192.168.15.0 of namespace 'blue' is the subnet's network address" },
	{ "namespace is broadcast", BASE "namespace blue 192.168.15.255\n", 0, NULL,
	  "is the subnet's broadcast address" },
	{ "namespace address with prefix", BASE "namespace blue 192.168.15.2/24\n", 0, NULL,
	  "t.conf:3: namespace address '192.168.15.2/24' takes no /PREFIX" },
	{ "namespace address garbage", BASE "namespace blue 192.168.15\n", 0, NULL,
	  "t.conf:3: namespace address '192.168.15' is not an IPv4 address" },
	{ "namespace name with a slash", BASE "namespace a/b 192.168.15.2\n", 0, NULL,
	  "t.conf:3: namespace name 'a/b' may contain only" },
	{ "namespace name starting with a dot", BASE "namespace .hidden 192.168.15.2\n", 0, NULL,
	  "t.conf:3: namespace name '.hidden' must not start" },
	{ "namespace name too long",
	  BASE "namespace "
	       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	       " 192.168.15.2\n",
	  0, NULL, "is longer than 64 characters" },

	/* forward */
	{ "forward without uplink", BASE "forward tcp 80 red\n", 0, NULL,
	  "t.conf:3: forward needs an 'uplink' line" },
	{ "forward to an undeclared namespace", LAB "forward tcp 80 green:80\n", 0, NULL,
	  "t.conf:7: forward target 'green' is not a declared namespace" },
	{ "forward unknown protocol", LAB "forward sctp 80 red\n", 0, NULL,
	  "t.conf:7: unknown protocol 'sctp'" },
	{ "forward port 0", LAB "forward tcp 0 red\n", 0, NULL,
	  "t.conf:7: port '0' is not [ADDR:]PORT" },
	{ "forward port 65536", LAB "forward tcp 65536 red\n", 0, NULL,
	  "t.conf:7: port '65536' is not [ADDR:]PORT" },
	{ "forward port with sign", LAB "forward tcp +80 red\n", 0, NULL, "t.conf:7: port '+80'" },
	{ "forward port with leading zero", LAB "forward tcp 080 red\n", 0, NULL,
	  "t.conf:7: port '080'" },
	{ "forward reversed range", LAB "forward tcp 90-80 red\n", 0, NULL,
	  "t.conf:7: port range '90-80' is reversed" },
	{ "forward overlapping single", LAB "forward tcp 80 red\nforward tcp 80 blue\n", 0, NULL,
	  "t.conf:8: tcp ports 80-80 overlap the forward at line 7" },
	{ "forward overlapping ranges",
	  LAB "forward udp 1000-2000 red\n"
	      "forward udp 1500-2500 blue\n",
	  0, NULL, "t.conf:8: udp ports 1500-2500 overlap the forward at line 7" },
	{ "forward target port 0", LAB "forward tcp 80 red:0\n", 0, NULL,
	  "t.conf:7: target port '0' is not a port" },
	{ "forward target range past 65535", LAB "forward tcp 100-200 red:65500\n", 0, NULL,
	  "t.conf:7: target ports 65500-65600 run past 65535" },
	{ "forward empty target", LAB "forward tcp 80 :80\n", 0, NULL,
	  "t.conf:7: forward target ':80' is not NAMESPACE[:PORT]" },
	{ "forward address not IPv4", LAB "forward tcp 192.0.2:80 red\n", 0, NULL,
	  "t.conf:7: '192.0.2' is not an IPv4 address (ADDR:PORT)" },
	{ "forward address empty", LAB "forward tcp :80 red\n", 0, NULL,
	  "t.conf:7: '' is not an IPv4 address (ADDR:PORT)" },
	{ "forward address without a port", LAB "forward tcp 192.0.2.9: red\n", 0, NULL,
	  "t.conf:7: port '192.0.2.9:' is not [ADDR:]PORT" },
	{ "forward on a multicast address", LAB "forward udp 239.1.1.1:53 red\n", 0, NULL,
	  "t.conf:7: forward address 239.1.1.1 is not a unicast address a LAN reaches" },
	{ "forward on loopback", LAB "forward tcp 127.0.0.1:80 red\n", 0, NULL,
	  "t.conf:7: forward address 127.0.0.1 is not a unicast address a LAN reaches" },
	{ "forward overlapping on one address",
	  LAB "forward tcp 192.0.2.9:80-90 red\nforward tcp 192.0.2.9:85 blue\n", 0, NULL,
	  "t.conf:8: tcp ports 85-85 overlap the forward at line 7" },

	/* conntrack and snat-ports */
	{ "conntrack max, timeouts and snat-ports",
	  LAB "conntrack max 2048\nconntrack timeout tcp-established 600\n"
	      "conntrack timeout udp 5\nconntrack  timeout\ticmp 1\nsnat-ports 40000-40099\n",
	  0, NULL, NULL },
	{ "conntrack max at its bounds", BASE "conntrack max 1024\n", 0, NULL, NULL },
	{ "conntrack max at its upper bound", BASE "conntrack max 16777216\n", 0, NULL, NULL },
	{ "every conntrack state",
	  BASE "conntrack timeout tcp-syn-sent 1\nconntrack timeout tcp-syn-recv 2\n"
	       "conntrack timeout tcp-established 3\nconntrack timeout tcp-fin-wait 4\n"
	       "conntrack timeout tcp-time-wait 5\nconntrack timeout tcp-close 6\n"
	       "conntrack timeout udp 7\nconntrack timeout udp-assured 8\n"
	       "conntrack timeout icmp 31536000\n",
	  0, NULL, NULL },
	{ "snat-ports of one port", LAB "snat-ports 1024-1024\n", 0, NULL, NULL },
	{ "conntrack settings under datapath kernel are accepted",
	  "datapath kernel\n" BASE "conntrack max 4096\n", 0, NULL, NULL },
	{ "conntrack max below 1024", BASE "conntrack max 1023\n", 0, NULL,
	  "t.conf:3: conntrack max '1023' is not a number of connections 1024-16777216" },
	{ "conntrack max above 16777216", BASE "conntrack max 16777217\n", 0, NULL,
	  "t.conf:3: conntrack max '16777217' is not" },
	{ "conntrack max with leading zero", BASE "conntrack max 02048\n", 0, NULL,
	  "t.conf:3: conntrack max '02048'" },
	{ "conntrack max not a number", BASE "conntrack max lots\n", 0, NULL,
	  "t.conf:3: conntrack max 'lots'" },
	{ "conntrack max twice", BASE "conntrack max 2048\nconntrack max 4096\n", 0, NULL,
	  "t.conf:4: duplicate 'conntrack max' (first at line 3)" },
	{ "conntrack max without a number", BASE "conntrack max\n", 0, NULL,
	  "t.conf:3: 'conntrack' takes 2 to 3 arguments, got 1" },
	{ "conntrack max with two numbers", BASE "conntrack max 2048 4096\n", 0, NULL,
	  "t.conf:3: 'conntrack max' takes 1 argument" },
	{ "conntrack alone", BASE "conntrack\n", 0, NULL,
	  "t.conf:3: 'conntrack' takes 2 to 3 arguments, got 0" },
	{ "conntrack unknown setting", BASE "conntrack size 2048\n", 0, NULL,
	  "t.conf:3: unknown conntrack setting 'size' (expected 'max', 'per-namespace' or "
	  "'timeout')" },
	{ "conntrack per-namespace", BASE "conntrack per-namespace 1\n", 0, NULL, NULL },
	{ "conntrack per-namespace at its upper bound", BASE "conntrack per-namespace 16777216\n",
	  0, NULL, NULL },
	{ "conntrack per-namespace 0", BASE "conntrack per-namespace 0\n", 0, NULL,
	  "t.conf:3: conntrack per-namespace '0' is not a number of connections 1-16777216" },
	{ "conntrack per-namespace not a number", BASE "conntrack per-namespace all\n", 0, NULL,
	  "t.conf:3: conntrack per-namespace 'all' is not" },
	{ "conntrack per-namespace twice",
	  BASE "conntrack per-namespace 10\nconntrack per-namespace 20\n", 0, NULL,
	  "t.conf:4: duplicate 'conntrack per-namespace' (first at line 3)" },
	{ "conntrack per-namespace without a number", BASE "conntrack per-namespace\n", 0, NULL,
	  "t.conf:3: 'conntrack' takes 2 to 3 arguments, got 1" },
	{ "conntrack per-namespace with two numbers", BASE "conntrack per-namespace 1 2\n", 0, NULL,
	  "t.conf:3: 'conntrack per-namespace' takes 1 argument" },
	{ "conntrack timeout without seconds", BASE "conntrack timeout udp\n", 0, NULL,
	  "t.conf:3: 'conntrack timeout' takes 2 arguments" },
	{ "conntrack timeout unknown state", BASE "conntrack timeout tcp-listen 10\n", 0, NULL,
	  "t.conf:3: unknown conntrack state 'tcp-listen'" },
	{ "conntrack timeout state as fwdctl ct names it", BASE "conntrack timeout syn_sent 10\n",
	  0, NULL, "t.conf:3: unknown conntrack state 'syn_sent'" },
	{ "conntrack timeout 0", BASE "conntrack timeout udp 0\n", 0, NULL,
	  "t.conf:3: conntrack timeout '0' is not a number of seconds 1-31536000" },
	{ "conntrack timeout over a year", BASE "conntrack timeout udp 31536001\n", 0, NULL,
	  "t.conf:3: conntrack timeout '31536001'" },
	{ "conntrack timeout with a unit", BASE "conntrack timeout udp 30s\n", 0, NULL,
	  "t.conf:3: conntrack timeout '30s'" },
	{ "conntrack timeout of one state twice",
	  BASE "conntrack timeout udp 10\nconntrack timeout icmp 5\nconntrack timeout udp 20\n", 0,
	  NULL, "t.conf:5: duplicate 'conntrack timeout udp' (first at line 3)" },
	{ "snat-ports twice", LAB "snat-ports 40000-40099\nsnat-ports 40000-40099\n", 0, NULL,
	  "t.conf:8: duplicate 'snat-ports' (first at line 7)" },
	{ "snat-ports of one number", LAB "snat-ports 40000\n", 0, NULL,
	  "t.conf:7: snat-ports '40000' is not LO-HI" },
	{ "snat-ports reversed", LAB "snat-ports 40099-40000\n", 0, NULL,
	  "t.conf:7: snat-ports range '40099-40000' is reversed" },
	{ "snat-ports below 1024", LAB "snat-ports 1023-2000\n", 0, NULL,
	  "t.conf:7: snat-ports '1023-2000' starts below 1024" },
	{ "snat-ports past 65535", LAB "snat-ports 60000-65536\n", 0, NULL,
	  "t.conf:7: snat-ports '60000-65536' is not LO-HI" },
	{ "snat-ports without an argument", LAB "snat-ports\n", 0, NULL,
	  "t.conf:7: 'snat-ports' takes 1 argument, got 0" },
	{ "tuning rfs", LAB "tuning rfs\n", 0, NULL, NULL },
	{ "tuning of something else", LAB "tuning rps\n", 0, NULL,
	  "t.conf:7: unknown tuning 'rps' (there is: rfs)" },
	{ "tuning rfs twice", LAB "tuning rfs\ntuning rfs\n", 0, NULL,
	  "t.conf:8: duplicate 'tuning rfs' (first at line 7)" },
	{ "tuning without an argument", LAB "tuning\n", 0, NULL,
	  "t.conf:7: 'tuning' takes 1 argument, got 0" },

	/* several errors are all reported */
	{ "every error reported",
	  "bridge vnet0 192.168.15.5/24\nfoo\nbar\n"
	  "namespace red 192.168.15.1\n",
	  0, NULL, "t.conf:3: unknown keyword 'bar'" },
	/* policy: isolate, allow, forward ... from */
	{ "isolate with allows",
	  LAB "isolate\nallow red -> blue tcp 80\nallow blue -> red\n"
	      "allow red -> blue udp 5000-5009\n",
	  0, NULL, NULL },
	{ "isolate alone", LAB "isolate\n", 0, NULL, NULL },
	{ "allow before the namespaces it names", "isolate\nallow red -> blue\n" LAB, 0, NULL,
	  NULL },
	{ "forward from two CIDRs", LAB "forward tcp 80 blue from 10.0.0.0/8,192.0.2.0/24\n", 0,
	  NULL, NULL },
	{ "allow without isolate", LAB "allow red -> blue\n", 0, NULL,
	  "t.conf:7: allow has no effect without an 'isolate' line" },
	{ "isolate twice", LAB "isolate\nisolate\n", 0, NULL, "t.conf:8: " },
	{ "isolate with an argument", LAB "isolate all\n", 0, NULL,
	  "t.conf:7: 'isolate' takes 0 arguments, got 1" },
	{ "allow without an arrow", LAB "isolate\nallow red blue tcp\n", 0, NULL,
	  "t.conf:8: expected 'SRC -> DST'" },
	{ "allow to itself", LAB "isolate\nallow red -> red\n", 0, NULL,
	  "t.conf:8: allow: 'red' to itself" },
	{ "allow of an unknown namespace", LAB "isolate\nallow red -> green\n", 0, NULL,
	  "t.conf:8: allow: 'green' is not a declared namespace" },
	{ "allow with a protocol and no port", LAB "isolate\nallow red -> blue tcp\n", 0, NULL,
	  "t.conf:8: allow: 'tcp' needs a PORT" },
	{ "allow of another protocol", LAB "isolate\nallow red -> blue icmp 1\n", 0, NULL,
	  "t.conf:8: allow: unknown protocol 'icmp'" },
	{ "allow with a reversed range", LAB "isolate\nallow red -> blue tcp 90-80\n", 0, NULL,
	  "t.conf:8: allow: port range '90-80' is reversed" },
	{ "allow twice the same",
	  LAB "isolate\nallow red -> blue tcp 80\nallow red -> blue tcp 80\n", 0, NULL,
	  "t.conf:9: allow: the same as the one at line 8" },
	/* route NET via ADDR, and allow from a routed subnet */
	{ "routes, and allow from them",
	  LAB "route 192.168.16.0/24 via 10.77.0.3\nroute 10.20.0.0/16 via 10.77.0.4\n"
	      "isolate\nallow 192.168.16.0/24 -> blue tcp 80\nallow 10.20.3.4 -> red\n"
	      "allow 192.168.16.128/25 -> red\n",
	  0, NULL, NULL },
	{ "route without uplink", BASE "route 192.168.16.0/24 via 10.77.0.3\n", 0, NULL,
	  "t.conf:3: route needs an 'uplink' line" },
	{ "route without via", LAB "route 192.168.16.0/24 to 10.77.0.3\n", 0, NULL,
	  "t.conf:7: expected 'route NET via ADDR'" },
	{ "route with host bits", LAB "route 192.168.16.1/24 via 10.77.0.3\n", 0, NULL,
	  "t.conf:7: route 192.168.16.1/24 has host bits set (did you mean 192.168.16.0/24?)" },
	{ "route of everything", LAB "route 0.0.0.0/0 via 10.77.0.3\n", 0, NULL,
	  "t.conf:7: route 0.0.0.0/0 would route everything" },
	{ "route of multicast", LAB "route 224.0.0.0/4 via 10.77.0.3\n", 0, NULL,
	  "t.conf:7: route 224.0.0.0/4 is multicast, reserved or broadcast" },
	{ "route of IPv6", LAB "route fd00:16::/64 via fd77::3\n", 0, NULL,
	  "t.conf:7: route: IPv6 subnets are not routed (yet)" },
	{ "route via a loopback address", LAB "route 192.168.16.0/24 via 127.0.0.1\n", 0, NULL,
	  "t.conf:7: route: via 127.0.0.1 is a loopback address" },
	{ "route via inside itself", LAB "route 192.168.16.0/24 via 192.168.16.1\n", 0, NULL,
	  "t.conf:7: route: via 192.168.16.1 is inside 192.168.16.0/24 itself" },
	{ "route over the bridge's subnet", LAB "route 192.168.0.0/16 via 10.77.0.3\n", 0, NULL,
	  "t.conf:7: route 192.168.0.0/16 overlaps the bridge subnet 192.168.15.0/24 (bridge "
	  "line 2)" },
	{ "route via the bridge's subnet", LAB "route 192.168.16.0/24 via 192.168.15.9\n", 0, NULL,
	  "t.conf:7: route: via 192.168.15.9 is inside the bridge subnet" },
	{ "routes overlapping",
	  LAB "route 192.168.16.0/24 via 10.77.0.3\nroute 192.168.16.0/23 via 10.77.0.4\n", 0, NULL,
	  "t.conf:8: route 192.168.16.0/23 overlaps the one at line 7" },
	{ "route via another routed subnet",
	  LAB "route 10.0.0.0/8 via 192.168.1.3\nroute 192.168.1.0/24 via 10.77.0.4\n", 0, NULL,
	  "t.conf:7: route: via 192.168.1.3 is inside the routed 192.168.1.0/24 (line 8)" },
	{ "allow from outside every route",
	  LAB "route 192.168.16.0/24 via 10.77.0.3\nisolate\nallow 172.16.0.0/12 -> red\n", 0, NULL,
	  "t.conf:9: allow: 172.16.0.0/12 is neither a declared namespace nor inside a route "
	  "line's subnet" },
	{ "allow from a wider subnet than the route's",
	  LAB "route 192.168.16.0/24 via 10.77.0.3\nisolate\nallow 192.168.0.0/16 -> red\n", 0,
	  NULL, "t.conf:9: allow: 192.168.0.0/16 is neither" },
	{ "allow from a routed subnet to one",
	  LAB "route 192.168.16.0/24 via 10.77.0.3\nisolate\nallow red -> 192.168.16.1\n", 0, NULL,
	  "t.conf:9: allow: '192.168.16.1' is not a declared namespace" },
	{ "17 routes",
	  LAB "route 10.1.0.0/16 via 10.77.0.3\nroute 10.2.0.0/16 via 10.77.0.3\n"
	      "route 10.3.0.0/16 via 10.77.0.3\nroute 10.4.0.0/16 via 10.77.0.3\n"
	      "route 10.5.0.0/16 via 10.77.0.3\nroute 10.6.0.0/16 via 10.77.0.3\n"
	      "route 10.7.0.0/16 via 10.77.0.3\nroute 10.8.0.0/16 via 10.77.0.3\n"
	      "route 10.9.0.0/16 via 10.77.0.3\nroute 10.10.0.0/16 via 10.77.0.3\n"
	      "route 10.11.0.0/16 via 10.77.0.3\nroute 10.12.0.0/16 via 10.77.0.3\n"
	      "route 10.13.0.0/16 via 10.77.0.3\nroute 10.14.0.0/16 via 10.77.0.3\n"
	      "route 10.15.0.0/16 via 10.77.0.3\nroute 10.16.0.0/16 via 10.77.0.3\n"
	      "route 10.17.0.0/16 via 10.77.0.3\n",
	  0, NULL, "t.conf:23: too many route lines (at most 16)" },
	{ "forward from without a list", LAB "forward tcp 80 blue from\n", 0, NULL,
	  "t.conf:7: after the target, expected 'from CIDR[,CIDR...]', got 'from'" },
	{ "forward with another word", LAB "forward tcp 80 blue to 10.0.0.0/8\n", 0, NULL,
	  "t.conf:7: after the target, expected 'from CIDR[,CIDR...]'" },
	{ "forward from with host bits", LAB "forward tcp 80 blue from 10.0.0.1/8\n", 0, NULL,
	  "t.conf:7: forward from 10.0.0.1/8 has host bits set (did you mean 10.0.0.0/8?)" },
	{ "forward from with an empty item", LAB "forward tcp 80 blue from 10.0.0.0/8,\n", 0, NULL,
	  "t.conf:7: forward from '10.0.0.0/8,' is not CIDR[,CIDR...]" },
	{ "forward from listing a CIDR twice", LAB "forward tcp 80 blue from 1.0.0.0/8,1.0.0.0/8\n",
	  0, NULL, "t.conf:7: forward from: 1.0.0.0/8 is listed twice" },
	/* xdp: the XDP fast path, udp on IPv4 */
	{ "an xdp forward", LAB "forward udp 53 blue xdp\n", 0, NULL, NULL },
	{ "an xdp forward with from", LAB "forward udp 53 blue from 10.0.0.0/8 xdp\n", 0, NULL,
	  NULL },
	{ "an xdp forward on a chosen address, a range",
	  LAB "forward udp 10.0.0.7:5000-5009 blue:6000 xdp\n", 0, NULL, NULL },
	{ "xdp on a tcp forward", LAB "forward tcp 80 blue xdp\n", 0, NULL,
	  "t.conf:7: forward tcp ... xdp: the XDP fast path takes UDP only" },
	{ "xdp twice", LAB "forward udp 53 blue xdp xdp\n", 0, NULL,
	  "t.conf:7: after the target, expected 'from CIDR[,CIDR...]', got 'xdp'" },
	{ "xdp before from", LAB "forward udp 53 blue xdp from 10.0.0.0/8\n", 0, NULL,
	  "t.conf:7: after the target, expected 'from CIDR[,CIDR...]', got 'xdp from'" },
	{ "xdp in place of the from list", LAB "forward udp 53 blue from xdp\n", 0, NULL,
	  "t.conf:7: after the target, expected 'from CIDR[,CIDR...]', got 'from'" },
	{ "xdp on an IPv6 address", BASE6 "forward udp [2001:db8::9]:53 red xdp\n", 0, NULL,
	  "forward on an IPv6 address: the XDP fast path is IPv4's" },
	{ "forward from with 9 CIDRs",
	  LAB "forward tcp 80 blue from 1.0.0.0/8,2.0.0.0/8,3.0.0.0/8,4.0.0.0/8,5.0.0.0/8,"
	      "6.0.0.0/8,7.0.0.0/8,8.0.0.0/8,9.0.0.0/8\n",
	  0, NULL, "t.conf:7: forward from: more than 8 CIDRs" },
};

static char *long_line_text(void)
{
	char *s = malloc(4096);

	strcpy(s, BASE);
	size_t n = strlen(s);
	memset(s + n, 'x', 2000);
	strcpy(s + n + 2000, "\n");
	return s;
}

static int run_case(const struct parse_case *c)
{
	char *text = c->text ? (char *)c->text : long_line_text();
	size_t len = c->len ? c->len : strlen(text);
	char *errs = NULL;
	size_t errlen = 0;
	FILE *err = open_memstream(&errs, &errlen);
	struct fwd_topology t;
	int ret = topo_parse_buf(&t, c->path ? c->path : "t.conf", text, len, err);
	int ok;

	fclose(err);
	if (!c->expect) {
		ok = ret == 0 && errlen == 0;
		if (!ok)
			printf("FAIL: %s: expected success, got %d: %s", c->name, ret, errs);
	} else {
		ok = ret == -EINVAL && strstr(errs, c->expect) != NULL;
		if (!ok)
			printf("FAIL: %s: expected error '%s', got %d: %s\n", c->name, c->expect,
			       ret, errlen ? errs : "(nothing)");
	}
	if (ok)
		printf("PASS: parse: %s\n", c->name);
	if (ret == 0)
		topo_free(&t);
	free(errs);
	if (!c->text)
		free(text);
	return ok;
}

/* What the seed lab normalises to: defaults filled, canonical order, target ports explicit. */
static int check_normalised(void)
{
	const char *in = "forward tcp 8000-8009 yellow\nnamespace yellow 192.168.15.4\n"
			 "namespace red 192.168.15.1\nforward tcp 80 red:8080\nuplink eth0\n"
			 "bridge vnet0 192.168.15.5/24\nforward udp 5353 red:53\n"
			 "forward tcp 192.0.2.9:80 yellow\n";
	const char *want = "topology lab\ndatapath bpf\nbridge vnet0 192.168.15.5/24\nuplink eth0\n"
			   "namespace red 192.168.15.1\nnamespace yellow 192.168.15.4\n"
			   "forward tcp 80 red:8080\nforward tcp 8000-8009 yellow:8000\n"
			   "forward tcp 192.0.2.9:80 yellow:80\nforward udp 5353 red:53\n";
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	struct fwd_topology t;
	int ok = topo_parse_buf(&t, "x/lab.conf", in, strlen(in), stderr) == 0;

	if (ok) {
		topo_print(&t, f);
		fclose(f);
		ok = !strcmp(out, want);
		if (!ok)
			printf("FAIL: normalised text:\n%s---want---\n%s", out, want);
		/* and it parses back to the same text */
		struct fwd_topology t2;
		ok = ok && topo_parse_buf(&t2, "lab.conf", out, len, stderr) == 0;
		if (ok)
			topo_free(&t2);
		topo_free(&t);
	} else {
		fclose(f);
		printf("FAIL: normalised text: did not parse\n");
	}
	free(out);
	if (ok)
		printf("PASS: parse: normalised text is canonical and parses back\n");
	return ok;
}

/* @in parsed as file @path, in its compact JSON form (malloc'd); NULL when it does not parse. */
static char *json_of(const char *path, const char *in)
{
	struct fwd_topology t;
	char *out = NULL;
	json_t *doc;

	if (topo_parse_buf(&t, path, in, strlen(in), stderr))
		return NULL;
	doc = topo_to_json(&t);
	if (doc)
		out = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	topo_free(&t);
	return out;
}

static int check_json(void)
{
	const char *in = "topology lab\nbridge vnet0 192.168.15.5/24\nuplink eth0\n"
			 "namespace red 192.168.15.1\nforward tcp 8000-8001 red:9000\n";
	const char *want =
	    "{\"topology\":\"lab\",\"datapath\":\"bpf\",\"bridge\":{\"name\":\"vnet0\","
	    "\"address\":\"192.168.15.5/24\"},\"uplink\":\"eth0\",\"masquerade\":[],"
	    "\"namespaces\":[{\"name\":\"red\",\"address\":\"192.168.15.1\"}],"
	    "\"forwards\":[{\"proto\":\"tcp\",\"port\":8000,\"port_end\":8001,"
	    "\"namespace\":\"red\",\"to_port\":9000,\"to_port_end\":9001}]}";
	char *out = json_of("lab.conf", in);
	int ok = out && !strcmp(out, want);
	printf(ok ? "PASS: parse: JSON form\n" : "FAIL: parse: JSON form: %s\n", out ? out : "");
	free(out);
	return ok;
}

/* Settings print only where they differ from the defaults, in a fixed order, and parse back. */
static int check_normalised_settings(void)
{
	/* tcp-established 432000 is the default: not printed. */
	const char *in = BASE "tuning  rfs\nsnat-ports 40000-40099\nconntrack timeout udp 5\n"
			      "conntrack timeout tcp-established 432000\n"
			      "conntrack timeout tcp-syn-sent 2\nconntrack per-namespace 300\n"
			      "conntrack max 2048\n";
	const char *want = "topology t\ndatapath bpf\nbridge vnet0 192.168.15.5/24\n"
			   "namespace red 192.168.15.1\nconntrack max 2048\n"
			   "conntrack per-namespace 300\n"
			   "conntrack timeout tcp-syn-sent 2\nconntrack timeout udp 5\n"
			   "snat-ports 40000-40099\ntuning rfs\n";
	char *out = NULL, *out2 = NULL;
	size_t len = 0, len2 = 0;
	struct fwd_topology t, t2;
	FILE *f;
	int ok;

	ok = topo_parse_buf(&t, "t.conf", in, strlen(in), stderr) == 0;
	if (ok) {
		f = open_memstream(&out, &len);
		topo_print(&t, f);
		fclose(f);
		ok = !strcmp(out, want);
		if (!ok)
			printf("FAIL: normalised settings:\n%s---want---\n%s", out, want);
		if (ok && topo_parse_buf(&t2, "t.conf", out, len, stderr) == 0) {
			f = open_memstream(&out2, &len2);
			topo_print(&t2, f);
			fclose(f);
			ok = !strcmp(out, out2) && t2.ct_max == 2048 && t2.ct_per_ns == 300 &&
			     t2.ct_timeouts.tcp_syn_sent == 2 && t2.ct_timeouts.udp == 5 &&
			     t2.ct_timeouts.tcp_established == 432000 && t2.snat_port_lo == 40000 &&
			     t2.snat_port_hi == 40099 && t2.tuning_rfs;
			topo_free(&t2);
		} else {
			ok = false;
		}
		topo_free(&t);
	}
	free(out);
	free(out2);
	printf(ok ? "PASS: parse: settings in the normalised text, only where not default\n"
		  : "FAIL: parse: settings in the normalised text\n");
	return ok;
}

static int check_json_settings(void)
{
	const char *in = BASE "conntrack max 4096\nconntrack timeout icmp 3\n"
			      "snat-ports 20000-20010\nconntrack per-namespace 99\n";
	const char *want =
	    "\"conntrack\":{\"max\":4096,\"per_namespace\":99,\"timeout\":{\"icmp\":3}},"
	    "\"snat_ports\":{\"port\":20000,\"port_end\":20010}}";
	char *out = json_of("t.conf", in);
	int ok =
	    out && strlen(out) > strlen(want) && !strcmp(out + strlen(out) - strlen(want), want);
	printf(ok ? "PASS: parse: JSON form of the settings\n"
		  : "FAIL: parse: JSON form of the settings: %s\n",
	       out ? out : "");
	free(out);
	return ok;
}

/* Without the lines: the defaults of include/fwd_kern_user.h. */
static int check_settings_default(void)
{
	const struct fwd_ct_timeouts def = FWD_CT_TIMEOUTS_DEFAULT;
	struct fwd_topology t;
	int ok = topo_parse_buf(&t, "t.conf", BASE, strlen(BASE), stderr) == 0;

	if (ok) {
		ok = t.ct_max == 262144 && !memcmp(&t.ct_timeouts, &def, sizeof(def)) &&
		     t.snat_port_lo == 32768 && t.snat_port_hi == 60999 && t.ct_per_ns == 0 &&
		     topo_ct_per_ns(&t) == 14116;
		/* A small table: a quarter of it. */
		t.ct_max = 2048;
		ok = ok && topo_ct_per_ns(&t) == 512;
		topo_free(&t);
	}
	printf(ok ? "PASS: parse: settings default to 262144 connections, 14116 per namespace "
		    "(512 of 2048), nf_conntrack's timeouts, ports 32768-60999\n"
		  : "FAIL: parse: settings defaults\n");
	return ok;
}

/* IPv6 beside IPv4: the model, the normalised text (which parses back to itself) and JSON. */
static int check_ipv6(void)
{
	const char *in = "masquerade fd00:15::/64\nnamespace blue 192.168.15.2\n"
			 "namespace red 192.168.15.1 fd00:15::1\nuplink eth0\n"
			 "bridge vnet0 192.168.15.5/24 fd00:15::5/64\nmasquerade 192.168.15.0/24\n";
	const char *want =
	    "topology lab\ndatapath bpf\nbridge vnet0 192.168.15.5/24 fd00:15::5/64\n"
	    "uplink eth0\nmasquerade 192.168.15.0/24\nmasquerade fd00:15::/64\n"
	    "namespace red 192.168.15.1 fd00:15::1\nnamespace blue 192.168.15.2\n";
	const char *want_json =
	    "{\"topology\":\"lab\",\"datapath\":\"bpf\",\"bridge\":{\"name\":\"vnet0\","
	    "\"address\":\"192.168.15.5/24\",\"address6\":\"fd00:15::5/64\"},\"uplink\":\"eth0\","
	    "\"masquerade\":[\"192.168.15.0/24\",\"fd00:15::/64\"],\"namespaces\":[{\"name\":"
	    "\"red\",\"address\":\"192.168.15.1\",\"address6\":\"fd00:15::1\"},{\"name\":"
	    "\"blue\",\"address\":\"192.168.15.2\"}],\"forwards\":[]}";
	struct in6_addr gw, red;
	struct fwd_topology t, t2;
	char *out = NULL, *out2 = NULL, *js = NULL;
	size_t len = 0, len2 = 0;
	FILE *f;
	int ok = topo_parse_buf(&t, "x/lab.conf", in, strlen(in), stderr) == 0;

	inet_pton(AF_INET6, "fd00:15::5", &gw);
	inet_pton(AF_INET6, "fd00:15::1", &red);
	if (ok) {
		ok = t.has6 && !memcmp(&t.gateway6.addr, &gw, sizeof(gw)) &&
		     t.gateway6.prefix == 64 && t.n_masquerades == 1 && t.n_masquerades6 == 1 &&
		     t.masquerades6[0].net.prefix == 64 && t.masquerades6[0].line == 1 &&
		     t.namespaces[0].has6 && !memcmp(&t.namespaces[0].addr6, &red, sizeof(red)) &&
		     !t.namespaces[1].has6;
		f = open_memstream(&out, &len);
		topo_print(&t, f);
		fclose(f);
		if (strcmp(out, want)) {
			printf("FAIL: parse: IPv6 normalised text:\n%s---want---\n%s", out, want);
			ok = 0;
		}
		if (topo_parse_buf(&t2, "lab.conf", out, len, stderr) == 0) {
			f = open_memstream(&out2, &len2);
			topo_print(&t2, f);
			fclose(f);
			ok = ok && !strcmp(out, out2);
			topo_free(&t2);
		} else {
			ok = 0;
		}
		topo_free(&t);
	}
	js = json_of("lab.conf", in);
	if (!js || strcmp(js, want_json)) {
		printf("FAIL: parse: IPv6 JSON: %s\n", js ? js : "(none)");
		ok = 0;
	}
	/* IPv4 only: no IPv6 */
	ok = ok && topo_parse_buf(&t, "t.conf", BASE, strlen(BASE), stderr) == 0 && !t.has6;
	if (ok)
		topo_free(&t);
	free(out);
	free(out2);
	free(js);
	printf(ok ? "PASS: parse: IPv6 beside IPv4: model, normalised text, JSON\n"
		  : "FAIL: parse: IPv6 beside IPv4\n");
	return ok;
}

/* The parsed model itself, not just the absence of errors. */
static int check_model(void)
{
	const char *in = LAB "forward tcp 8000-8009 blue:9000\n";
	struct fwd_topology t;
	int ok = topo_parse_buf(&t, "t.conf", in, strlen(in), stderr) == 0;

	if (ok) {
		ok = !strcmp(t.name, "lab") && t.datapath == FWD_DATAPATH_BPF &&
		     !strcmp(t.bridge, "vnet0") && t.gateway.addr == inet_addr("192.168.15.5") &&
		     t.gateway.prefix == 24 && !strcmp(t.uplink, "eth0") && t.n_namespaces == 2 &&
		     t.n_masquerades == 1 &&
		     t.masquerades[0].net.addr == inet_addr("192.168.15.0") && t.n_forwards == 1 &&
		     t.forwards[0].proto == IPPROTO_TCP && t.forwards[0].port_lo == 8000 &&
		     t.forwards[0].port_hi == 8009 && t.forwards[0].to_port == 9000 &&
		     !strcmp(t.namespaces[t.forwards[0].ns].name, "blue") &&
		     topo_subnet(&t) == inet_addr("192.168.15.0");
		topo_free(&t);
	}
	printf(ok ? "PASS: parse: model fields\n" : "FAIL: parse: model fields\n");
	return ok;
}

/*
 * A bridge takes at most 1023 ports (the kernel's BR_MAX_PORTS): 1023 namespaces parse, the
 * 1024th is refused at its own line, naming the limit (not late, by `up`, at the 1024th veth).
 */
static int check_namespace_limit(void)
{
	enum { MAX = 1023 };
	size_t cap = 64 + (MAX + 1) * 40, len = 0;
	char *text = malloc(cap), *errs = NULL;
	size_t errlen = 0;
	struct fwd_topology t;
	int ok = 1;

	len += (size_t)snprintf(text + len, cap - len, "bridge b0 10.1.0.1/16\n");
	for (int i = 1; i <= MAX + 1; i++) {
		len += (size_t)snprintf(text + len, cap - len, "namespace n%d 10.1.%d.%d\n", i,
					i / 200, i % 200 + 10);
		if (i == MAX) { /* exactly the limit: accepted */
			FILE *err = open_memstream(&errs, &errlen);

			if (topo_parse_buf(&t, "t.conf", text, len, err)) {
				fclose(err);
				printf("FAIL: parse: %d namespaces refused: %s", MAX, errs);
				ok = 0;
			} else {
				fclose(err);
				topo_free(&t);
			}
			free(errs);
			errs = NULL;
		}
	}
	FILE *err = open_memstream(&errs, &errlen);
	int ret = topo_parse_buf(&t, "t.conf", text, len, err);

	fclose(err);
	/* line 1 is the bridge: the 1024th namespace is on line 1025 */
	if (ret != -EINVAL || !strstr(errs, "t.conf:1025: too many namespaces") ||
	    !strstr(errs, "1023")) {
		printf("FAIL: parse: 1024 namespaces: expected t.conf:1025 and the limit, got %d: "
		       "%s\n",
		       ret, errlen ? errs : "(nothing)");
		ok = 0;
	}
	if (!ret)
		topo_free(&t);
	if (ok)
		printf("PASS: parse: %d namespaces, not one more (a bridge's ports)\n", MAX);
	free(errs);
	free(text);
	return ok;
}

/* IPv6 alone: the namespaces' stand-ins (0.0.0.0/8, distinct, derived from the IPv6 address:
 * the same whatever else the file holds), their order (after those with IPv4), the text form. */
static int check_ipv6_only(void)
{
	const char *in = "bridge vnet0 fd00:15::5/64\nnamespace b fd00:15::2\n"
			 "namespace a fd00:15::1\nnamespace c fd00:15::1:0:0:1\n";
	const char *more = "bridge vnet0 fd00:15::5/64\nnamespace a fd00:15::1\n"
			   "namespace z fd00:15::9\n";
	const char *want = "topology lab\ndatapath bpf\nbridge vnet0 fd00:15::5/64\n"
			   "namespace a fd00:15::1\nnamespace b fd00:15::2\n"
			   "namespace c fd00:15::1:0:0:1\n";
	struct fwd_topology t, t2;
	char *out = NULL;
	size_t len = 0;
	FILE *f;
	int ok = topo_parse_buf(&t, "x/lab.conf", in, strlen(in), stderr) == 0;

	if (ok) {
		ok = t.v6only && t.n_namespaces == 3;
		for (size_t i = 0; ok && i < 3; i++)
			ok = t.namespaces[i].v6only && t.namespaces[i].has6 &&
			     fwd_addr_is_standin(t.namespaces[i].addr) && t.namespaces[i].addr &&
			     t.namespaces[i].addr != t.namespaces[(i + 1) % 3].addr;
		f = open_memstream(&out, &len);
		if (ok && f) {
			topo_print(&t, f);
			fclose(f);
			ok = out && !strcmp(out, want);
			if (!ok)
				fprintf(stderr, "got:\n%s", out ? out : "(none)");
		}
		free(out);
		/* a's stand-in stays a's in another file */
		if (ok && topo_parse_buf(&t2, "x/lab.conf", more, strlen(more), stderr) == 0) {
			ok = t2.namespaces[0].addr == t.namespaces[0].addr;
			topo_free(&t2);
		} else {
			ok = 0;
		}
		topo_free(&t);
	}
	printf(ok ? "PASS: parse: IPv6 alone: distinct stand-ins in 0.0.0.0/8, kept across files, "
		    "normalised text\n"
		  : "FAIL: parse: IPv6 alone\n");
	return ok;
}

/* Routes in the model, the normalised text and JSON; allow lines from a routed subnet. */
static int check_routes(void)
{
	const char *in = LAB "route 192.168.16.0/24 via 10.77.0.3\nisolate\n"
			     "allow 192.168.16.0/24 -> blue tcp 80\nallow 192.168.16.7 -> red\n";
	const char *want = "route 192.168.16.0/24 via 10.77.0.3\n";
	struct fwd_topology t;
	char *text = NULL, *json;
	size_t len = 0;
	json_t *doc;
	FILE *out;
	int ok = topo_parse_buf(&t, "t.conf", in, strlen(in), stderr) == 0;

	if (ok) {
		ok = t.n_routes == 1 && t.routes[0].net.addr == inet_addr("192.168.16.0") &&
		     t.routes[0].net.prefix == 24 && t.routes[0].via == inet_addr("10.77.0.3") &&
		     t.n_allows == 2 && t.allows[0].from_route &&
		     t.allows[0].src == inet_addr("192.168.16.0") && t.allows[0].src_prefix == 24 &&
		     t.allows[1].src == inet_addr("192.168.16.7") && t.allows[1].src_prefix == 32 &&
		     topo_route_of(&t, inet_addr("192.168.16.200")) == &t.routes[0] &&
		     !topo_route_of(&t, inet_addr("192.168.17.1"));
		out = open_memstream(&text, &len);
		if (out) {
			topo_print(&t, out);
			fclose(out);
		}
		ok = ok && text && strstr(text, want) &&
		     strstr(text, "allow 192.168.16.0/24 -> blue tcp 80\n") &&
		     strstr(text, "allow 192.168.16.7/32 -> red\n");
		doc = topo_to_json(&t);
		json = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
		json_decref(doc);
		ok = ok && json &&
		     strstr(json,
			    "\"routes\":[{\"net\":\"192.168.16.0/24\",\"via\":\"10.77.0.3\"}]");
		free(json);
		free(text);
		topo_free(&t);
	}
	printf(ok ? "PASS: parse: routes in the model, text and JSON\n"
		  : "FAIL: parse: routes in the model, text and JSON\n");
	return ok;
}

int main(void)
{
	int passed = 0, failed = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]) ? passed++ : failed++;
	check_normalised() ? passed++ : failed++;
	check_json() ? passed++ : failed++;
	check_model() ? passed++ : failed++;
	check_ipv6() ? passed++ : failed++;
	check_ipv6_only() ? passed++ : failed++;
	check_normalised_settings() ? passed++ : failed++;
	check_json_settings() ? passed++ : failed++;
	check_settings_default() ? passed++ : failed++;
	check_namespace_limit() ? passed++ : failed++;
	check_routes() ? passed++ : failed++;
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

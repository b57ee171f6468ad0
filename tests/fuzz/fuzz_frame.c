// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the first bytes of a frame, as `fwdctl monitor` and `fwdctl capture` decode
 * them (loader/frame.c) and print them (ctl/frame.c). Those bytes are whatever a LAN host or a
 * namespace sent. Besides crashes and sanitizer reports it checks that the decoder claims
 * nothing the bytes do not hold (ports only with IPv4, a known ethertype only from 14 bytes
 * on) and that the text forms are terminated within their buffers.
 */
#include <stdint.h>
#include <string.h>

#include "frame.h"

#include "fuzz.h"

static void check_text(const char *buf, size_t size, const char *what)
{
	if (!memchr(buf, '\0', size))
		fuzz_broken(what, buf, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fwd_frame_info f;
	char text[160], flow[96];
	json_t *doc;
	char *dump;

	loader_frame_decode(data, size, &f);
	if (size < 14 && f.ethertype)
		fuzz_broken("an ethertype from fewer than 14 bytes", (const char *)data, size);
	if ((f.has_ports || f.has_icmp) && !f.has_ip)
		fuzz_broken("ports or an ICMP type without an IP header", (const char *)data, size);
	if (f.has_ip && size < 14 + (f.tuple.v6 ? 40 : 20))
		fuzz_broken("an IP header from fewer bytes than it has", (const char *)data, size);
	doc = json_object();
	if (!doc)
		abort();
	frame_json_add(doc, &f);
	frame_text(doc, text, sizeof(text));
	check_text(text, sizeof(text), "frame_text() is not terminated");
	frame_flow_text(doc, flow, sizeof(flow));
	check_text(flow, sizeof(flow), "frame_flow_text() is not terminated");
	dump = json_dumps(doc, JSON_COMPACT);
	if (!dump)
		abort();
	free(dump);
	json_decref(doc);
	return 0;
}

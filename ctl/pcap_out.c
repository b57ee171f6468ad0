// SPDX-License-Identifier: GPL-2.0
/* Frames into a pcap file of link type LINUX_SLL2, with libpcap (see pcap_out.h). */
#include "pcap_out.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>
#include <pcap/sll.h>

#include "fwd_log.h"

#define ETH_HEADER 14

struct pcap_out {
	pcap_t *pcap;
	pcap_dumper_t *dumper;
	uint32_t snaplen;
	uint8_t *rec; /* one record: SLL2 header, then up to snaplen bytes */
};

int pcap_out_open(const char *file, uint32_t snaplen, struct pcap_out **out)
{
	struct pcap_out *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (p)
		p->rec = malloc(SLL2_HDR_LEN + snaplen);
	if (p && p->rec)
		/* Nanosecond time stamps: the programs' clock has them. */
		p->pcap = pcap_open_dead_with_tstamp_precision(
		    DLT_LINUX_SLL2, (int)(SLL2_HDR_LEN + snaplen), PCAP_TSTAMP_PRECISION_NANO);
	if (!p || !p->rec || !p->pcap) {
		pcap_out_close(p);
		return fwd_fail(-ENOMEM, file, "cannot start libpcap");
	}
	p->snaplen = snaplen;
	p->dumper = pcap_dump_open(p->pcap, file);
	if (!p->dumper) {
		fwd_err("%s: cannot write: %s", file, pcap_geterr(p->pcap));
		pcap_out_close(p);
		return -EIO;
	}
	*out = p;
	return 0;
}

int pcap_out_frame(struct pcap_out *p, int64_t wall_ns, int ifindex, bool outgoing,
		   const uint8_t *frame, uint32_t caplen, uint32_t len)
{
	struct pcap_pkthdr h = { 0 };
	uint32_t body;
	uint8_t *r = p->rec;

	if (caplen > p->snaplen)
		caplen = p->snaplen;
	if (caplen < ETH_HEADER || len < caplen)
		return 0;
	body = caplen - ETH_HEADER;
	memset(r, 0, SLL2_HDR_LEN);
	memcpy(r, frame + 12, 2); /* protocol: the ethertype, network order */
	r[4] = (uint8_t)(ifindex >> 24);
	r[5] = (uint8_t)(ifindex >> 16);
	r[6] = (uint8_t)(ifindex >> 8);
	r[7] = (uint8_t)ifindex;
	r[9] = 1;					/* ARPHRD_ETHER, network order */
	r[10] = outgoing ? 4 /* PACKET_OUTGOING */ : 0; /* PACKET_HOST */
	r[11] = 6;					/* the address: a MAC */
	memcpy(r + 12, frame + 6, 6);			/* the source MAC */
	memcpy(r + SLL2_HDR_LEN, frame + ETH_HEADER, body);
	h.ts.tv_sec = (time_t)(wall_ns / 1000000000);
	h.ts.tv_usec = (suseconds_t)(wall_ns % 1000000000); /* nanoseconds: the dump's precision */
	h.caplen = SLL2_HDR_LEN + body;
	h.len = SLL2_HDR_LEN + len - ETH_HEADER;
	pcap_dump((u_char *)p->dumper, &h, r);
	pcap_dump_flush(p->dumper); /* a reader at the other end of a pipe sees it now */
	return 1;
}

int pcap_out_close(struct pcap_out *p)
{
	int err = 0;

	if (!p)
		return 0;
	if (p->dumper) {
		if (pcap_dump_flush(p->dumper))
			err = fwd_fail(-EIO, "capture", "cannot write the pcap file");
		pcap_dump_close(p->dumper);
	}
	if (p->pcap)
		pcap_close(p->pcap);
	free(p->rec);
	free(p);
	return err;
}

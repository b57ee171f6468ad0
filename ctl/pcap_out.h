/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Frames into a pcap file with libpcap, link type LINUX_SLL2: each record carries the
 * interface index and the direction. Apart from the rest of fwdctl: <pcap/bpf.h> and
 * <linux/bpf.h> define the same structs.
 */
#ifndef FWD_PCAP_OUT_H
#define FWD_PCAP_OUT_H

#include <stdbool.h>
#include <stdint.h>

struct pcap_out;
/* Open @file ("-": stdout) for frames of up to @snaplen bytes; 0 or -errno (said). */
int pcap_out_open(const char *file, uint32_t snaplen, struct pcap_out **p);
/*
 * One Ethernet frame: @caplen of its @len bytes at @frame, at @wall_ns (CLOCK_REALTIME), seen
 * on @ifindex, @outgoing or arriving. The SLL2 header takes the Ethernet header's place. 1 when
 * written, 0 for a runt that has no Ethernet header to stand in for.
 */
int pcap_out_frame(struct pcap_out *p, int64_t wall_ns, int ifindex, bool outgoing,
		   const uint8_t *frame, uint32_t caplen, uint32_t len);
/* Flush and close; -EIO (said) when what was written did not all reach the file. */
int pcap_out_close(struct pcap_out *p);

#endif

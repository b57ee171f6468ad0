/* SPDX-License-Identifier: GPL-2.0 */
/* Types shared by bench/ct_design.bpf.c and its driver, bench/ct_design.c. */
#ifndef FWD_BENCH_CT_DESIGN_H
#define FWD_BENCH_CT_DESIGN_H

#include <linux/types.h>

/* fwd_ct_key's layout. */
struct ct_design_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

/* What fwd_ct_entry holds besides its timer and expiry: the peer key, direction, NAT and
 * TCP tracking, as opaque bytes of the same size. */
struct ct_design_entry {
	struct ct_design_key peer;
	__u8 dir;
	__u8 rest[63];
};

/* Cells of a page of the paged design (4 KiB: a lock and 39 cells of 104 bytes). */
#define PAGE_CELLS 39
/* paged_km: pages per inner array (7 of 4,064 bytes: under the 32 KiB kmalloc serves). */
#define PAGES_PER_GROUP 7
/* A page's size, for the driver's inner arrays. */
struct ct_design_page {
	__u8 bytes[8 + PAGE_CELLS *
			   (sizeof(struct ct_design_key) + 8 + sizeof(struct ct_design_entry))];
};

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* What live_frames and its BPF program share: the size of the header template. */
#ifndef FWD_BENCH_LIVE_FRAMES_H
#define FWD_BENCH_LIVE_FRAMES_H

/* Ethernet + IPv4 (no options) + UDP: the bytes a forwarding path may rewrite. */
#define LF_HDR_LEN   42
#define LF_HDR_WORDS 6 /* __u64 words holding them, zero-padded */

#endif

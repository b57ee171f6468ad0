/* SPDX-License-Identifier: GPL-2.0 */
/* Load-time settings: .rodata the loader fills before load (see struct fwd_settings). */
#ifndef FWD_BPF_SETTINGS_H
#define FWD_BPF_SETTINGS_H

#include "fwd_kern_user.h"

const volatile struct fwd_settings fwd_cfg = {};

#endif

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/ct-bound.patch (make bench-ct-bound) still applies to this tree, and the datapath of
# each bound it makes still compiles, with its cell array: a patch left behind by a change to
# fwd_snat() fails here, not in a bench run. bench/ct-bound.sh --check does the work in a
# temporary copy of the tree; no root needed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp /tmp/fwd-test-ct-bound.XXXXXX)
trap 'rm -f "$log"' EXIT

for bound in one-line none; do
	if "$here/../../bench/ct-bound.sh" --check "$bound" >"$log" 2>&1; then
		echo "PASS: ct-bound: the $bound bound applies to this tree and compiles"
	else
		echo "FAIL: ct-bound: the $bound bound applies to this tree and compiles: $(tail -n 3 "$log" | tr '\n' ' ')"
	fi
done

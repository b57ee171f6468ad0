#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/ct-bound/*.patch (make bench-ct-bound) still apply to this tree, and the datapath they
# make still compiles: a patch left behind by a change to fwd_snat() fails here, not in a bench
# run. Needs no root: it copies the sources to a temporary directory.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d /tmp/fwd-test-ct-bound.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
multiarch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)

for patch in "$top"/bench/ct-bound/*.patch; do
	name=$(basename "$patch" .patch)
	rm -rf "$tmp/src" && mkdir -p "$tmp/src" && cp -r "$top/bpf" "$top/include" "$tmp/src/"
	if ! git -C "$tmp/src" apply "$patch" 2>"$tmp/apply.log"; then
		echo "FAIL: ct-bound: $name.patch applies to this tree: $(head -n 3 "$tmp/apply.log" | tr "\n" " ")"
		continue
	fi
	echo "PASS: ct-bound: $name.patch applies to this tree"
	if clang -O2 -g -Wall -Werror -target bpf -I"/usr/include/$multiarch" -I"$tmp/src/include" \
		-I"$tmp/src/bpf" -c -o "$tmp/fwd_tc.bpf.o" "$tmp/src/bpf/fwd_tc.bpf.c" 2>"$tmp/cc.log" &&
		grep -q 'fwd_ct_bound' "$tmp/fwd_tc.bpf.o"; then
		echo "PASS: ct-bound: the $name bound's datapath compiles, with its cell array"
	else
		echo "FAIL: ct-bound: the $name bound's datapath compiles: $(head -n 3 "$tmp/cc.log" | tr "\n" " ")"
	fi
done

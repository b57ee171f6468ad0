#!/bin/bash
# tests/fuzz/run.sh BUILD SECONDS [TARGET...] — `make fuzz`: each libFuzzer target of
# tests/fuzz/ (default: all built in BUILD/fuzz) for SECONDS, starting from its corpus in the
# repository (tests/fuzz/corpus/TARGET) and the inputs it found in earlier runs on this machine
# (BUILD/fuzz/corpus/TARGET, where new ones go). A crash, a sanitizer report, a leak or a broken
# property stops the target; its input is saved as BUILD/fuzz/crash-TARGET-* (make it a
# regression case: tests/fuzz/regressions/TARGET/). Ends with one line per target and a verdict.
# fuzz_packets (tests/bpf/fuzz_packets.c, built by `make` in BUILD/tests/bpf) is one of the
# targets: the BPF programs fed frames through BPF_PROG_TEST_RUN for SECONDS (millions of them;
# needs root). It replays tests/fuzz/corpus/packets first; a frame that breaks an invariant is
# saved in BUILD/fuzz/crash-fuzz_packets/ (a regression: copy it into that corpus).
# Exit status: 0 all clean, 1 a target failed, 2 usage.
set -u
build=${1:-}
seconds=${2:-}
if [ -z "$build" ] || ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
	echo "usage: tests/fuzz/run.sh BUILD SECONDS [TARGET...]" >&2
	exit 2
fi
shift 2
here=$(cd "$(dirname "$0")" && pwd)
targets=("$@")
if [ ${#targets[@]} = 0 ]; then
	for bin in "$build"/fuzz/fuzz_*; do
		[[ -x $bin && -f $bin && $bin != *.[oad] ]] && targets+=("$(basename "$bin")")
	done
	[ -x "$build/tests/bpf/fuzz_packets" ] && targets+=(fuzz_packets)
fi
[ ${#targets[@]} -gt 0 ] || { echo "tests/fuzz/run.sh: no fuzz targets in $build/fuzz (make fuzz-build)" >&2; exit 2; }

failed=0
summary=()
# The packet fuzzer: its own options and report (PASS:/FAIL: lines, a count of frames).
fuzz_packets() {
	local bin=$build/tests/bpf/fuzz_packets log=$build/fuzz/fuzz_packets.log
	local save=$build/fuzz/crash-fuzz_packets rc frames
	[ -x "$bin" ] || { echo "tests/fuzz/run.sh: $bin: not built (make)" >&2; exit 2; }
	mkdir -p "$save"
	echo "fuzz: fuzz_packets for $seconds s (log: $log)"
	"$bin" --seconds "$seconds" --save "$save" >"$log" 2>&1
	rc=$?
	frames=$(awk '/^fuzz_packets: [0-9]+ frames in/ {print $2}' "$log")
	if [ $rc = 0 ] && ! grep -q '^FAIL:' "$log"; then
		summary+=("PASS: fuzz fuzz_packets: ${frames:-?} frames in $seconds s, $(grep -m 1 -o 'translated [0-9]* of [0-9]* frames ([0-9.]* %)' "$log")")
	else
		summary+=("FAIL: fuzz fuzz_packets: exit $rc; $(grep -m 1 '^FAIL:' "$log")")
		find "$save" -type f -printf "  input: %p\n"
		failed=1
	fi
}

for t in "${targets[@]}"; do
	if [ "$t" = fuzz_packets ]; then
		fuzz_packets
		continue
	fi
	bin=$build/fuzz/$t
	[ -x "$bin" ] || { echo "tests/fuzz/run.sh: $bin: not built" >&2; exit 2; }
	work=$build/fuzz/corpus/$t
	mkdir -p "$work"
	seeds=()
	for d in "$here/corpus/$t" "$here/regressions/$t"; do
		[ -d "$d" ] && seeds+=("$d")
	done
	log=$build/fuzz/$t.log
	echo "fuzz: $t for $seconds s (log: $log)"
	# -rss_limit_mb: the parsers allocate their tables up front (tens of MiB); leaks are
	# reported by LeakSanitizer, which libFuzzer runs after each input that allocated.
	"$bin" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=4096 -timeout=10 \
		-artifact_prefix="$build/fuzz/crash-$t-" "$work" "${seeds[@]}" >"$log" 2>&1
	rc=$?
	runs=$(awk '/stat::number_of_executed_units:/ {print $2}' "$log")
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | awk '{print $2}')
	corpus=$(find "$work" -type f | wc -l)
	if [ $rc = 0 ]; then
		summary+=("PASS: fuzz $t: ${runs:-?} inputs in $seconds s, coverage ${cov:-?} edges, corpus $corpus")
	else
		summary+=("FAIL: fuzz $t: exit $rc after ${runs:-?} inputs; $(grep -m 1 -E 'ERROR:|fuzz:|SUMMARY:' "$log")")
		find "$build/fuzz" -maxdepth 1 -name "crash-$t-*" -printf "  input: %p\n"
		failed=1
	fi
done
printf '%s\n' "${summary[@]}"
exit $failed

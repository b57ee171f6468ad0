# fwd — container networking on eBPF. `make help` lists the targets.

BUILD     ?= build
PREFIX    ?= /usr/local
DESTDIR   ?=
CC        ?= gcc
CLANG     ?= clang
BPFTOOL   ?= bpftool
MULTIARCH := $(shell $(CC) -dumpmachine)

# Debian 12 packages, per purpose; `make deps` installs whatever is missing.
BUILD_PKGS := gcc make clang llvm pkg-config libbpf-dev libxdp-dev libmnl-dev libelf-dev zlib1g-dev \
              libjansson-dev libpcap-dev bpftool scdoc
TEST_PKGS  := git iproute2 iptables ebtables iputils-ping socat procps ethtool conntrack \
              python3-prometheus-client tshark \
              podman runc containernetworking-plugins busybox-static
LINT_PKGS  := clang-format shellcheck git
BENCH_PKGS := iperf3 sockperf gnuplot-nox ethtool

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
CPPFLAGS += -MMD -MP -D_GNU_SOURCE

# One direction of dependency: include/ <- loader/ <- ctl/. Each folder is compiled with only
# the include paths it may use (its own headers are found beside its sources), and each library
# links only against what is below it.
LOADER_INC := -Iinclude -I$(BUILD)/skel
CTL_INC    := -Iinclude
LOADER_LIB := $(BUILD)/libfwd-loader.a
CTL_LIB    := $(BUILD)/libfwdctl.a
LOADER_LDLIBS := -lxdp -lbpf -lelf -lz
CTL_LDLIBS    := -lmnl -ljansson -lpcap $(LOADER_LDLIBS)

# Debian's clang does not find <asm/types.h> for -target bpf: point it at the multiarch headers.
BPF_CFLAGS := -O2 -g -Wall -Werror -target bpf -I/usr/include/$(MULTIARCH) -Iinclude -Ibpf -MMD -MP

CTL_SRCS    := $(wildcard ctl/*.c)
LOADER_SRCS := $(wildcard loader/*.c)
BPF_SRCS    := $(wildcard bpf/*.bpf.c)
UNIT_SRCS   := $(wildcard tests/unit/*.c)
BPFT_SRCS   := $(wildcard tests/bpf/*.c)
TOOL_SRCS   := $(wildcard tests/tools/*.c)
CNI_SRCS    := $(wildcard ctl/cni/*.c)

LOADER_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LOADER_SRCS))
CTL_OBJS    := $(patsubst %.c,$(BUILD)/%.o,$(filter-out ctl/main.c,$(CTL_SRCS)))
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst bpf/%.bpf.c,$(BUILD)/skel/%.skel.h,$(BPF_SRCS))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))
BPFT_BINS := $(patsubst tests/bpf/%.c,$(BUILD)/tests/bpf/%,$(BPFT_SRCS))
TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TOOL_SRCS))
FWDCTL    := $(BUILD)/fwdctl
# The CNI plugin sits above ctl/'s library, as the tests' tools do (ctl/cni/cni.h).
FWD_CNI   := $(BUILD)/fwd-cni
CNI_OBJS  := $(patsubst %.c,$(BUILD)/%.o,$(CNI_SRCS))

.PHONY: all help deps deps-bench deps-lint soak bench-compare bench-ct-bound bench-ct-design bench-monitor test test-unit test-bpf test-e2e demo bench install uninstall clean format lint
.DEFAULT_GOAL := all
# Keep the BPF objects: the bench and bpftool read them too.
.SECONDARY: $(BPF_OBJS)

all: $(FWDCTL) $(FWD_CNI) $(UNIT_BINS) $(BPFT_BINS) $(TOOL_BINS) man

help:
	@echo 'fwd make targets:'
	@echo '  all (default)  build $(FWDCTL), the CNI plugin $(FWD_CNI), the BPF objects and the test programs'
	@echo '  deps           install the Debian packages needed to build and test (when missing)'
	@echo '  test           deps + all, then every test; ends with "N passed, N failed"'
	@echo '  test-unit      parser and bench-report unit tests only (no root needed)'
	@echo '  test-bpf       BPF_PROG_TEST_RUN packet fixtures only'
	@echo '  test-e2e       end-to-end tests in throwaway network namespaces only'
	@echo '  fuzz           the libFuzzer targets of tests/fuzz/ with ASan and UBSan, and the BPF packet fuzzer, FUZZ_SECONDS each (default 600)'
	@echo '  soak           DURATION=<seconds> (default 3600): the lab under mixed load for that long, nothing lost (tests/soak/run.sh)'
	@echo '  demo           build the tutorial lab in a sandbox, exercise every path, tear it down'
	@echo '  bench          compare datapath bpf, datapath kernel and a direct veth pair (QUICK=1: short)'
	@echo '  bench-compare  REV=<git revision>: that revision against the working tree, ratio per row'
	@echo '  bench-ct-design  the conntrack expiry designs side by side (CONNS=1000000 ROUNDS=3)'
	@echo '  bench-ct-bound  the best any table can do for UDP through SNAT at 1M flows, beside fwd (ROUNDS=5)'
	@echo '  bench-monitor  what fwdctl monitor costs a flood of dropped frames (ROUNDS=5 RATE=1000)'
	@echo '  man            build the man pages fwdctl(8), topology.conf(5) and fwd-cni(8) into $(BUILD)/man/'
	@echo '  install        install fwdctl into $$(DESTDIR)$$(PREFIX)/sbin, its man pages, bash completion and systemd unit fwd@.service (PREFIX=$(PREFIX)), fwd-cni into $$(DESTDIR)$$(CNI_PATH) (CNI_PATH=$(CNI_PATH))'
	@echo '  uninstall      remove them again'
	@echo '  format         clang-format every C source in place'
	@echo '  lint           clang-format check, shellcheck of every shell script, include direction'
	@echo '  clean          remove $(BUILD)/'

# Installs only what is missing, so it costs nothing on a prepared machine.
define install_missing
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "fwd: installing Debian packages:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	fi
endef

deps:
	$(call install_missing,$(BUILD_PKGS) $(TEST_PKGS))

deps-bench: deps
	$(call install_missing,$(BENCH_PKGS))

$(FWDCTL): $(BUILD)/ctl/main.o $(CTL_LIB) $(LOADER_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(CTL_LDLIBS)

$(FWD_CNI): $(CNI_OBJS) $(CTL_LIB) $(LOADER_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(CTL_LDLIBS)

$(LOADER_LIB): $(LOADER_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(CTL_LIB): $(CTL_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/loader/%.o: loader/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(LOADER_INC) $(CFLAGS) -c -o $@ $<

$(BUILD)/ctl/%.o: ctl/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CTL_INC) $(CFLAGS) -c -o $@ $<

$(BUILD)/ctl/cni/%.o: ctl/cni/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Iinclude -Ictl $(CFLAGS) -c -o $@ $<

# Tests of the parser (unit) and tools that speak netlink sit above ctl/; the BPF tests
# sit above the loader alone.
$(BUILD)/tests/unit/%.o $(BUILD)/tests/tools/%.o: CTL_TEST_INC := -Iinclude -Ictl
$(BUILD)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CTL_TEST_INC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/tools/%.o: tests/tools/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CTL_TEST_INC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/bpf/%.o: tests/bpf/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(LOADER_INC) $(CFLAGS) -c -o $@ $<

# The loader includes the skeletons, so they must exist before it compiles.
$(patsubst %.c,$(BUILD)/%.o,$(LOADER_SRCS) $(BPFT_SRCS)): $(SKELS)

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c -o $@ $<

$(BUILD)/skel/%.skel.h: $(BUILD)/bpf/%.bpf.o
	@mkdir -p $(@D)
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@.tmp && mv $@.tmp $@

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(CTL_LIB) $(LOADER_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(CTL_LDLIBS)

$(BUILD)/tests/bpf/%: $(BUILD)/tests/bpf/%.o $(LOADER_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LOADER_LDLIBS)

# Helpers of the e2e tests and the bench (link_gso: what iproute2 6.1 cannot set).
$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(CTL_LIB) $(LOADER_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(CTL_LDLIBS)

# Tests, demo and bench install what they need first, then build, then run.
test: deps
	@$(MAKE) --no-print-directory all
	@tests/run-all $(BUILD)

test-unit: all
	@tests/run-all $(BUILD) unit

test-bpf: all
	@tests/run-all $(BUILD) bpf

test-e2e: all
	@tests/run-all $(BUILD) e2e

demo: deps
	@$(MAKE) --no-print-directory all
	@tests/demo.sh $(FWDCTL)

soak: deps
	@$(MAKE) --no-print-directory all
	@tests/soak/run.sh $(BUILD) $(or $(DURATION),3600)

bench: deps-bench
	@$(MAKE) --no-print-directory all bench-tools
	@bench/run.sh $(BUILD) $(if $(QUICK),--quick)

# The conntrack expiry designs measured side by side (bench/ct-design.sh; BPF_PROG_TEST_RUN only).
bench-ct-design: $(BUILD)/bench/ct_design
	@bench/ct-design.sh $(BUILD) $(or $(CONNS),1000000) $(or $(ROUNDS),3)

# fwd's ct rows beside two patched copies of it that bound any table: one cold line a datagram,
# and no per-flow memory at all (bench/ct-bound.sh, bench/ct-bound.patch).
bench-ct-bound: deps-bench
	@$(MAKE) --no-print-directory all bench-tools
	@bench/ct-bound.sh $(BUILD) $(or $(ROUNDS),5)

# fwdctl monitor on and off under a flood of dropped frames, paired rounds (bench/monitor-cost.sh).
bench-monitor: deps-bench
	@$(MAKE) --no-print-directory all bench-tools
	@ROUNDS=$(or $(ROUNDS),5) RATE=$(or $(RATE),1000) bench/monitor-cost.sh $(BUILD)

# REV built in a temporary worktree and measured beside the working tree (bench/compare.sh).
bench-compare: deps-bench
	@test -n "$(REV)" || { echo "usage: make bench-compare REV=<git revision> [FULL=1]"; exit 2; }
	@$(MAKE) --no-print-directory all bench-tools
	@bench/compare.sh $(BUILD) $(REV) $(if $(FULL),--full)

# The CNI plugin goes where runtimes look for plugins (podman, containerd: /usr/lib/cni).
CNI_PATH ?= /usr/lib/cni

install: $(FWDCTL) $(FWD_CNI) install-docs
	install -D -m 0755 $(FWDCTL) $(DESTDIR)$(PREFIX)/sbin/fwdctl
	install -D -m 0755 $(FWD_CNI) $(DESTDIR)$(CNI_PATH)/fwd-cni

uninstall: uninstall-docs
	rm -f $(DESTDIR)$(PREFIX)/sbin/fwdctl $(DESTDIR)$(CNI_PATH)/fwd-cni

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

deps-lint:
	$(call install_missing,$(LINT_PKGS))

# What lint reads: every tracked C source, and every shell script (by its shebang; a sourced
# library says "# shellcheck shell=bash" instead). Each *.sh must be one of the two.
LINT_C   = $(shell git ls-files '*.c' '*.h')
LINT_SH  = $(shell git ls-files | xargs grep -lE '^(\#!/bin/(ba)?sh|\# shellcheck shell=)' 2>/dev/null)
LINT_SH_ALL = $(shell git ls-files '*.sh')

lint: deps-lint
	@clang-format --dry-run --Werror $(LINT_C)
	@missing=$$(for f in $(LINT_SH_ALL); do echo " $(LINT_SH) " | grep -q " $$f " || echo $$f; done); \
	if [ -n "$$missing" ]; then echo "lint: no shebang or shellcheck directive:" $$missing; exit 1; fi
	@shellcheck -x $(LINT_SH)
	@# One direction of dependency: headers come from include/ or the file's own folder.
	@if grep -nE '^#include "\.\./' $(LINT_C); then \
		echo "lint: an include reaches into another folder (see Makefile: LOADER_INC, CTL_INC)"; exit 1; fi
	@echo "lint: clean ($(words $(LINT_C)) C files, $(words $(LINT_SH)) shell scripts)"

clean:
	rm -rf $(BUILD)

-include bench/bench.mk
-include tests/fuzz/fuzz.mk
-include ctl/docs.mk
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

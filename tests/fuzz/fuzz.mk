# tests/fuzz/: libFuzzer targets for the parsers of outside input. Included by the top Makefile.
# clang builds them, and ctl/ and the loader again beside them, with the fuzzer's coverage and
# AddressSanitizer and UndefinedBehaviorSanitizer (any report aborts the run).
# Outputs live in $(BUILD)/fuzz/.

FUZZ_BUILD    := $(BUILD)/fuzz
FUZZ_SRCS     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS     := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(FUZZ_SRCS))
FUZZ_CTL_OBJS := $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(filter-out ctl/main.c,$(CTL_SRCS)))
FUZZ_LOADER_OBJS := $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(LOADER_SRCS))
FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS   := -O1 -g -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
                 -Wno-missing-field-initializers $(FUZZ_SAN)

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)
# Keep the targets' objects (make would delete them as intermediates and build them again).
.SECONDARY: $(FUZZ_BINS:=.o)

$(FUZZ_BUILD)/ctl/%.o: ctl/%.c
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) $(CTL_INC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

# fwd-cni's sources sit above ctl/ (ctl/cni/cni.h): its headers too.
$(FUZZ_BUILD)/ctl/cni/%.o: ctl/cni/%.c
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) -Iinclude -Ictl $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/loader/%.o: loader/%.c $(SKELS)
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) $(LOADER_INC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/libfwdctl.a: $(FUZZ_CTL_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BUILD)/libfwd-loader.a: $(FUZZ_LOADER_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

# A target sees ctl's private headers (nl_msg.h), as the unit tests do.
$(FUZZ_BUILD)/%.o: tests/fuzz/%.c
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) -Iinclude -Ictl $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/fuzz_%.o $(FUZZ_BUILD)/libfwdctl.a $(FUZZ_BUILD)/libfwd-loader.a
	$(CLANG) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(CTL_LDLIBS)

# The CNI plugin's network config parser, before the libraries it uses.
$(FUZZ_BUILD)/fuzz_cni: $(FUZZ_BUILD)/fuzz_cni.o $(FUZZ_BUILD)/ctl/cni/netconf.o \
		$(FUZZ_BUILD)/libfwdctl.a $(FUZZ_BUILD)/libfwd-loader.a
	$(CLANG) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(CTL_LDLIBS)

# FUZZ_SECONDS per target (default 600), FUZZ_TARGETS to pick some (default: all, and
# fuzz_packets, the BPF packet fuzzer `make all` builds in $(BUILD)/tests/bpf).
FUZZ_PKGS := libclang-rt-14-dev

fuzz: deps
	$(call install_missing,$(FUZZ_PKGS))
	@$(MAKE) --no-print-directory all fuzz-build
	@tests/fuzz/run.sh $(BUILD) $(or $(FUZZ_SECONDS),600) $(FUZZ_TARGETS)

# bench/: load generators and counters of `make bench`. Included by the top Makefile.
# Outputs live in $(BUILD)/bench/: BPF objects, their skeletons, the tools.

BENCH_BUILD   := $(BUILD)/bench
BENCH_TOOLS := crr udp_blast xdp_count live_frames ct_design
BENCH_BPF   := xdp_count live_frames ct_design
BENCH_BINS  := $(addprefix $(BENCH_BUILD)/,$(BENCH_TOOLS))
BENCH_SKELS := $(patsubst %,$(BENCH_BUILD)/%.skel.h,$(BENCH_BPF))

.PHONY: bench-tools
bench-tools: $(BENCH_BINS)

# More specific than the top Makefile's $(BUILD)/%.o rule (shorter stem), so this one wins.
$(BENCH_BUILD)/%.bpf.o: bench/%.bpf.c
	@mkdir -p $(@D)
	$(CLANG) -O2 -g -Wall -Werror -target bpf -I/usr/include/$(MULTIARCH) -Ibench -MMD -MP \
		-c -o $@ $<

$(BENCH_BUILD)/%.skel.h: $(BENCH_BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@.tmp && mv $@.tmp $@

$(BENCH_BUILD)/%.o: bench/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Ibench -I$(BENCH_BUILD) $(CFLAGS) -c -o $@ $<

# Loaders include their skeletons.
$(BENCH_BUILD)/xdp_count.o: $(BENCH_BUILD)/xdp_count.skel.h
$(BENCH_BUILD)/live_frames.o: $(BENCH_BUILD)/live_frames.skel.h
$(BENCH_BUILD)/ct_design.o: $(BENCH_BUILD)/ct_design.skel.h

$(BENCH_BUILD)/crr $(BENCH_BUILD)/udp_blast: $(BENCH_BUILD)/%: $(BENCH_BUILD)/%.o $(BENCH_BUILD)/util.o
	$(CC) $(LDFLAGS) -o $@ $^ -lm

$(BENCH_BUILD)/xdp_count $(BENCH_BUILD)/live_frames $(BENCH_BUILD)/ct_design: $(BENCH_BUILD)/%: $(BENCH_BUILD)/%.o $(BENCH_BUILD)/util.o
	$(CC) $(LDFLAGS) -o $@ $^ -lbpf -lelf -lz -lm

# Loaded by bench/hook-choice.sh with bpftool: an object, no skeleton.
BENCH_HOOK_OBJ := $(BENCH_BUILD)/redirect_min.bpf.o

# Keep the BPF objects (make would delete them as intermediates and rebuild every time).
.SECONDARY: $(patsubst %,$(BENCH_BUILD)/%.bpf.o,$(BENCH_BPF)) $(BENCH_HOOK_OBJ)

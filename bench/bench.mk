# bench/: load generators and counters of `make bench`. Included by the top Makefile.
# Outputs live in $(BUILD)/bench/: BPF objects, their skeletons, the tools.

BENCH_OUT   := $(BUILD)/bench
BENCH_TOOLS := crr udp_blast xdp_count live_frames
BENCH_BPF   := xdp_count live_frames
BENCH_BINS  := $(addprefix $(BENCH_OUT)/,$(BENCH_TOOLS))
BENCH_SKELS := $(patsubst %,$(BENCH_OUT)/%.skel.h,$(BENCH_BPF))

.PHONY: bench-tools
bench-tools: $(BENCH_BINS)

# More specific than the top Makefile's $(BUILD)/%.o rule (shorter stem), so this one wins.
$(BENCH_OUT)/%.bpf.o: bench/%.bpf.c
	@mkdir -p $(@D)
	$(CLANG) -O2 -g -Wall -Werror -target bpf -I/usr/include/$(MULTIARCH) -Ibench -MMD -MP \
		-c -o $@ $<

$(BENCH_OUT)/%.skel.h: $(BENCH_OUT)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@.tmp && mv $@.tmp $@

$(BENCH_OUT)/%.o: bench/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Ibench -I$(BENCH_OUT) $(CFLAGS) -c -o $@ $<

# Loaders include their skeletons.
$(BENCH_OUT)/xdp_count.o: $(BENCH_OUT)/xdp_count.skel.h
$(BENCH_OUT)/live_frames.o: $(BENCH_OUT)/live_frames.skel.h

$(BENCH_OUT)/crr $(BENCH_OUT)/udp_blast: $(BENCH_OUT)/%: $(BENCH_OUT)/%.o $(BENCH_OUT)/util.o
	$(CC) $(LDFLAGS) -o $@ $^ -lm

$(BENCH_OUT)/xdp_count $(BENCH_OUT)/live_frames: $(BENCH_OUT)/%: $(BENCH_OUT)/%.o $(BENCH_OUT)/util.o
	$(CC) $(LDFLAGS) -o $@ $^ -lbpf -lelf -lz -lm

# Loaded by bench/hook-choice.sh with bpftool: an object, no skeleton.
BENCH_HOOK_OBJ := $(BENCH_OUT)/redirect_min.bpf.o

# Keep the BPF objects (make would delete them as intermediates and rebuild every time).
.SECONDARY: $(patsubst %,$(BENCH_OUT)/%.bpf.o,$(BENCH_BPF)) $(BENCH_HOOK_OBJ)

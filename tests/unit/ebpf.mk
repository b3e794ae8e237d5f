# Host tests of the eBPF runtime (net/ebpf/): loader, verifier, interpreter,
# maps and helpers, with the shipped programs (net/xdp/*.bpf.c) and the bad
# restricted-C programs (tests/unit/bpf/*.bpf.c) compiled by clang -target
# bpf at test-build time; the test reads the objects from EBPF_TEST_OBJDIR.
#
#   make fuzz-ebpf [FUZZ_TIME=30]   libFuzzer over the loader + verifier

EBPF_HOST_SRCS := net/ebpf/elf.c net/ebpf/verifier.c net/ebpf/interp.c \
	net/ebpf/maps.c net/ebpf/helpers.c
EBPF_HOST_HDRS := net/ebpf/ebpf.h kernel/kerrno.h kernel/clock.h \
	net/ebpf/tnum.h net/ebpf/scalar.h net/ebpf/helpers.h
EBPF_TEST_OBJDIR := $(BUILD)/host/bpf
EBPF_BPF_CLANG ?= clang
EBPF_BPF_CFLAGS := -O2 -g -target bpf \
	-I/usr/include/$(shell $(HOSTCC) -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)
EBPF_TEST_BPF := $(patsubst net/xdp/%.bpf.c,$(EBPF_TEST_OBJDIR)/%.o,\
		$(wildcard net/xdp/*.bpf.c)) \
	$(patsubst tests/unit/bpf/%.bpf.c,$(EBPF_TEST_OBJDIR)/%.o,\
		$(wildcard tests/unit/bpf/*.bpf.c))

$(EBPF_TEST_OBJDIR)/%.o: net/xdp/%.bpf.c
	@mkdir -p $(dir $@)
	$(EBPF_BPF_CLANG) $(EBPF_BPF_CFLAGS) -c $< -o $@
$(EBPF_TEST_OBJDIR)/%.o: tests/unit/bpf/%.bpf.c
	@mkdir -p $(dir $@)
	$(EBPF_BPF_CLANG) $(EBPF_BPF_CFLAGS) -c $< -o $@

UNIT_TESTS += ebpf
UNIT_SRCS_ebpf := tests/unit/test_ebpf.c $(EBPF_HOST_SRCS)
UNIT_DEPS_ebpf := $(EBPF_HOST_HDRS) tests/unit/check.h $(EBPF_TEST_BPF)
UNIT_CFLAGS_ebpf := -Inet/ebpf -Wno-missing-field-initializers -DEBPF_TEST_OBJDIR='"$(EBPF_TEST_OBJDIR)"'

# ---- fuzzing ---------------------------------------------------------------
EBPF_FUZZ_BIN := $(BUILD)/fuzz/fuzz_ebpf_elf
EBPF_FUZZ_TIME ?= $(or $(FUZZ_TIME),30)

$(EBPF_FUZZ_BIN): tests/fuzz/fuzz_ebpf_elf.c $(EBPF_HOST_SRCS) $(EBPF_HOST_HDRS)
	@tools/setup.sh fuzz
	@mkdir -p $(dir $@)
	clang -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -DSKIFF_HOST_TEST \
		-I. -Ikernel -Inet -Inet/ebpf \
		tests/fuzz/fuzz_ebpf_elf.c $(EBPF_HOST_SRCS) -o $@

.PHONY: fuzz-ebpf
fuzz-ebpf: $(EBPF_FUZZ_BIN) $(EBPF_TEST_BPF)
	@mkdir -p $(BUILD)/fuzz/ebpf-corpus $(BUILD)/fuzz/ebpf-seeds
	@cp $(EBPF_TEST_BPF) $(BUILD)/fuzz/ebpf-seeds/
	$(EBPF_FUZZ_BIN) -max_total_time=$(EBPF_FUZZ_TIME) -max_len=65536 \
		-artifact_prefix=$(BUILD)/fuzz/ebpf- -print_final_stats=1 \
		$(BUILD)/fuzz/ebpf-corpus $(BUILD)/fuzz/ebpf-seeds

# Host tests of the eBPF runtime (ebpf/, its list in ebpf/ebpf.mk): loader,
# verifier, interpreter, maps and helpers, with the shipped programs
# (xdp/*.bpf.c) and the bad restricted-C programs (tests/unit/bpf/*.bpf.c)
# compiled by clang -target bpf (BPF_CFLAGS of xdp/xdp.mk) at test-build
# time; the test reads the objects from EBPF_TEST_OBJDIR.
#
#   make fuzz-ebpf [FUZZ_TIME=30]   libFuzzer over the loader + verifier

EBPF_HOST_HDRS := $(EBPF_HDRS) kernel/kerrno.h kernel/clock.h
EBPF_TEST_OBJDIR := $(BUILD)/host/bpf
EBPF_TEST_BPF := $(patsubst xdp/%.bpf.c,$(EBPF_TEST_OBJDIR)/%.o,\
		$(XDP_PROG_SRCS)) \
	$(patsubst tests/unit/bpf/%.bpf.c,$(EBPF_TEST_OBJDIR)/%.o,\
		$(wildcard tests/unit/bpf/*.bpf.c))

$(EBPF_TEST_OBJDIR)/%.o: xdp/%.bpf.c
	@mkdir -p $(dir $@)
	$(BPF_CLANG) $(BPF_CFLAGS) -c $< -o $@
$(EBPF_TEST_OBJDIR)/%.o: tests/unit/bpf/%.bpf.c
	@mkdir -p $(dir $@)
	$(BPF_CLANG) $(BPF_CFLAGS) -c $< -o $@

UNIT_TESTS += ebpf
UNIT_SRCS_ebpf := tests/unit/test_ebpf.c tests/unit/bpf_obj.c $(EBPF_SRCS)
UNIT_DEPS_ebpf := $(EBPF_HOST_HDRS) tests/unit/check.h tests/unit/bpf_obj.h \
	$(EBPF_TEST_BPF)
UNIT_CFLAGS_ebpf := -Wno-missing-field-initializers -DEBPF_TEST_OBJDIR='"$(EBPF_TEST_OBJDIR)"'

# ---- fuzzing ---------------------------------------------------------------
EBPF_FUZZ_BIN := $(BUILD)/fuzz/fuzz_ebpf_elf
EBPF_FUZZ_TIME ?= $(or $(FUZZ_TIME),30)

$(EBPF_FUZZ_BIN): tests/fuzz/fuzz_ebpf_elf.c $(EBPF_SRCS) $(EBPF_HOST_HDRS)
	@tools/setup.sh fuzz
	@mkdir -p $(dir $@)
	clang -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -DSKIFF_HOST_TEST -I. \
		tests/fuzz/fuzz_ebpf_elf.c $(EBPF_SRCS) -o $@

.PHONY: fuzz-ebpf
fuzz-ebpf: $(EBPF_FUZZ_BIN) $(EBPF_TEST_BPF)
	@mkdir -p $(BUILD)/fuzz/ebpf-corpus $(BUILD)/fuzz/ebpf-seeds
	@cp $(EBPF_TEST_BPF) $(BUILD)/fuzz/ebpf-seeds/
	$(EBPF_FUZZ_BIN) -max_total_time=$(EBPF_FUZZ_TIME) -max_len=65536 \
		-artifact_prefix=$(BUILD)/fuzz/ebpf- -print_final_stats=1 \
		$(BUILD)/fuzz/ebpf-corpus $(BUILD)/fuzz/ebpf-seeds

# RFC 9669 conformance of the interpreter and the JIT against a reference
# model written from the RFC (tests/unit/test_ebpf_conformance.c).
UNIT_TESTS += ebpf_conformance
UNIT_SRCS_ebpf_conformance := tests/unit/test_ebpf_conformance.c $(EBPF_SRCS)
UNIT_DEPS_ebpf_conformance := $(EBPF_HOST_HDRS) tests/unit/check.h

# ---- the verifier fuzzer ---------------------------------------------------
# tests/fuzz/fuzz_verifier.c: random and mutated instruction-level programs;
# every one the verifier accepts runs in the checked-access interpreter and
# JIT-compiled on guarded pages (see the file). Its own maps replace maps.c.
#   make fuzz-verifier [FUZZ_TIME=30]   libFuzzer (clang)
#   make fuzz-verifier-smoke            the same for 25 s from fixed seeds
#                                       (part of make test's fuzz-smoke)
#   make verifier-regressions           tests/unit/verifier_regressions.h:
#                                       every program must be refused
#   make verifier-fuzz-check [FUZZ_VERIFIER_N=20000]
#                                       N programs from a fixed seed, no
#                                       libFuzzer: "N passed, N failed"
FUZZ_VERIFIER_SRCS := tests/fuzz/fuzz_verifier.c \
	$(filter-out ebpf/maps.c,$(EBPF_SRCS))
FUZZ_VERIFIER_DEPS := $(FUZZ_VERIFIER_SRCS) tests/fuzz/fuzz_verifier_hooks.h \
	tests/unit/verifier_regressions.h $(EBPF_HOST_HDRS)
FUZZ_VERIFIER_CFLAGS := -g -O1 -DSKIFF_HOST_TEST -I. \
	-DEBPF_INTERP_HOOKS='"tests/fuzz/fuzz_verifier_hooks.h"'
FUZZ_VERIFIER_BIN := $(BUILD)/fuzz/fuzz_verifier
FUZZ_VERIFIER_COUNT_BIN := $(BUILD)/host/fuzz_verifier_count
FUZZ_VERIFIER_N ?= 20000

$(FUZZ_VERIFIER_BIN): $(FUZZ_VERIFIER_DEPS)
	@tools/setup.sh fuzz
	@mkdir -p $(dir $@)
	clang $(FUZZ_VERIFIER_CFLAGS) -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined $(FUZZ_VERIFIER_SRCS) -o $@

$(FUZZ_VERIFIER_COUNT_BIN): $(FUZZ_VERIFIER_DEPS)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(FUZZ_VERIFIER_CFLAGS) -DFUZZ_VERIFIER_COUNT \
		-fsanitize=address,undefined -fno-sanitize-recover=all \
		$(FUZZ_VERIFIER_SRCS) -o $@

.PHONY: fuzz-verifier fuzz-verifier-smoke verifier-fuzz-check \
	verifier-regressions
fuzz-verifier: $(FUZZ_VERIFIER_BIN)
	@mkdir -p $(BUILD)/fuzz/verifier-corpus
	$(FUZZ_VERIFIER_BIN) -max_total_time=$(EBPF_FUZZ_TIME) -max_len=1024 \
		-artifact_prefix=$(BUILD)/fuzz/verifier- -print_final_stats=1 \
		$(FUZZ_VERIFIER_ARGS) $(BUILD)/fuzz/verifier-corpus

# Seeds: 32 random inputs from a fixed seed (each decodes to a program of
# a dozen or so templates), so that a short run starts from real programs.
FUZZ_VERIFIER_SEEDS := $(BUILD)/fuzz/verifier-seeds
$(FUZZ_VERIFIER_SEEDS)/.stamp: tests/unit/ebpf.mk
	@mkdir -p $(dir $@)
	@$(PYTHON) -c 'import os, random, sys; random.seed(1); \
		[open(os.path.join(sys.argv[1], "seed%02d" % i), "wb").write( \
		bytes(random.getrandbits(8) for _ in range(64 + \
		random.randrange(448)))) for i in range(32)]' $(dir $@)
	@touch $@

# make test's fuzz-smoke stage: 25 s of libFuzzer from fixed seeds; any
# out-of-object access, fault, trap or interpreter/JIT difference in a
# program the verifier accepted fails it.
fuzz-verifier-smoke: $(FUZZ_VERIFIER_BIN) $(FUZZ_VERIFIER_SEEDS)/.stamp
	@rm -rf $(BUILD)/fuzz/verifier-smoke && \
	mkdir -p $(BUILD)/fuzz/verifier-smoke && \
	cp $(FUZZ_VERIFIER_SEEDS)/seed* $(BUILD)/fuzz/verifier-smoke/ && \
	$(FUZZ_VERIFIER_BIN) -max_total_time=25 -max_len=1024 -seed=1 \
		-artifact_prefix=$(BUILD)/fuzz/verifier- -print_final_stats=1 \
		$(BUILD)/fuzz/verifier-smoke > $(BUILD)/fuzz/verifier-smoke.log \
		2>&1; \
	rc=$$?; grep -v -E '^#[0-9]+' $(BUILD)/fuzz/verifier-smoke.log; \
	exit $$rc
fuzz-smoke: fuzz-verifier-smoke

verifier-fuzz-check: $(FUZZ_VERIFIER_COUNT_BIN)
	$(FUZZ_VERIFIER_COUNT_BIN) $(FUZZ_VERIFIER_N) 1

# tests/unit/verifier_regressions.h: every program must be refused.
verifier-regressions: $(FUZZ_VERIFIER_COUNT_BIN)
	$(FUZZ_VERIFIER_COUNT_BIN) regressions

# The admin endpoint's request machine (services/admin_api.c) with the real
# eBPF runtime and the shipped objects; no lwIP.
UNIT_TESTS += admin
UNIT_SRCS_admin := tests/unit/test_admin.c tests/unit/bpf_obj.c \
	services/admin_api.c \
	$(EBPF_SRCS) kernel/printf.c $(KERNEL_TEXT_SRCS) \
	tests/unit/host_kernel_stubs.c
UNIT_DEPS_admin := services/admin.h $(EBPF_HOST_HDRS) tests/unit/check.h \
	tests/unit/bpf_obj.h \
	$(EBPF_TEST_BPF)
UNIT_CFLAGS_admin := -DEBPF_TEST_OBJDIR='"$(EBPF_TEST_OBJDIR)"'

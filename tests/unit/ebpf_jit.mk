# Host test of the x86-64 eBPF JIT (net/ebpf/jit_x86.c): its output runs
# natively on the host and is compared with an evaluator in the test and,
# when the shared runtime is in the tree, with the interpreter (interp.c,
# with helpers.c and maps.c for helper calls); with the loader and verifier
# too, the shipped XDP programs (net/xdp/*.bpf.c, compiled by the rule in
# tests/unit/ebpf.mk) run both ways on random frames.
EBPF_JIT_RUNTIME := $(wildcard net/ebpf/interp.c net/ebpf/helpers.c \
	net/ebpf/maps.c)
EBPF_JIT_LOADER := $(wildcard net/ebpf/elf.c net/ebpf/verifier.c \
	tests/unit/ebpf.mk)
EBPF_JIT_OBJDIR := $(BUILD)/host/bpf
EBPF_JIT_XDP_OBJS := $(patsubst net/xdp/%.bpf.c,$(EBPF_JIT_OBJDIR)/%.o,\
	$(wildcard net/xdp/*.bpf.c))

UNIT_TESTS += ebpf_jit
UNIT_SRCS_ebpf_jit := tests/unit/test_ebpf_jit.c net/ebpf/jit_x86.c
UNIT_DEPS_ebpf_jit := net/ebpf/ebpf.h net/ebpf/jit_x86.h kernel/kerrno.h \
	tests/unit/check.h
ifeq ($(words $(EBPF_JIT_RUNTIME)),3)
UNIT_SRCS_ebpf_jit += $(EBPF_JIT_RUNTIME)
UNIT_CFLAGS_ebpf_jit := -DEBPF_JIT_TEST_INTERP
ifeq ($(words $(EBPF_JIT_LOADER) $(EBPF_JIT_XDP_OBJS)),6)
UNIT_SRCS_ebpf_jit += net/ebpf/elf.c net/ebpf/verifier.c
UNIT_DEPS_ebpf_jit += $(EBPF_JIT_XDP_OBJS)
UNIT_CFLAGS_ebpf_jit += -DEBPF_JIT_TEST_XDP \
	-DEBPF_JIT_TEST_OBJDIR='"$(EBPF_JIT_OBJDIR)"'
endif
endif

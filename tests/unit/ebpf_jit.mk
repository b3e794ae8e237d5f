# Host test of the x86-64 eBPF JIT (net/ebpf/jit_x86.c): its output runs
# natively on the host and is compared with an evaluator in the test and
# with the interpreter; the shipped XDP programs (net/xdp/*.bpf.c, compiled
# by the rule in tests/unit/ebpf.mk) run both ways on random frames.
EBPF_JIT_OBJDIR := $(BUILD)/host/bpf
EBPF_JIT_XDP_OBJS := $(patsubst net/xdp/%.bpf.c,$(EBPF_JIT_OBJDIR)/%.o,\
	$(wildcard net/xdp/*.bpf.c))

UNIT_TESTS += ebpf_jit
UNIT_SRCS_ebpf_jit := tests/unit/test_ebpf_jit.c $(EBPF_SRCS)
UNIT_DEPS_ebpf_jit := net/ebpf/ebpf.h kernel/kerrno.h tests/unit/check.h \
	$(EBPF_JIT_XDP_OBJS)
UNIT_CFLAGS_ebpf_jit := -DEBPF_JIT_TEST_OBJDIR='"$(EBPF_JIT_OBJDIR)"'

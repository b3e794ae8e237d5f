# Host test of the x86-64 eBPF JIT (ebpf/jit_x86.c): its output runs
# natively on the host and is compared with an evaluator in the test, with
# the interpreter (EBPF_JIT_TEST_INTERP) and, with the loader and verifier,
# on the shipped XDP programs (xdp/*.bpf.c, compiled by the rule in
# tests/unit/ebpf.mk) run both ways on random frames (EBPF_JIT_TEST_XDP).
# Every part is always built: a test must never drop out of the build
# silently (this file used to guard the XDP part on a count of files that
# no longer matched, and compiled it out).
EBPF_JIT_OBJDIR := $(EBPF_TEST_OBJDIR)
EBPF_JIT_XDP_OBJS := $(patsubst xdp/%.bpf.c,$(EBPF_JIT_OBJDIR)/%.o,\
	$(XDP_PROG_SRCS))

UNIT_TESTS += ebpf_jit
UNIT_SRCS_ebpf_jit := tests/unit/test_ebpf_jit.c tests/unit/bpf_obj.c \
	$(EBPF_SRCS)
UNIT_DEPS_ebpf_jit := $(EBPF_HOST_HDRS) tests/unit/check.h \
	tests/unit/bpf_obj.h $(EBPF_JIT_XDP_OBJS)
UNIT_CFLAGS_ebpf_jit := -DEBPF_JIT_TEST_INTERP -DEBPF_JIT_TEST_XDP \
	-DEBPF_TEST_OBJDIR='"$(EBPF_JIT_OBJDIR)"'

# The eBPF runtime's sources (loader, verifier, interpreter, maps, helpers).
# The top-level Makefile compiles net/*.c by wildcard only, so it appends
# these to KERNEL_SRCS after including this fragment:
#   -include net/ebpf/ebpf.mk
#   KERNEL_SRCS += $(EBPF_SRCS)
# jit_x86.c (the JIT) is listed too when present. Host tests and the fuzzer
# are in tests/unit/ebpf.mk.
EBPF_SRCS := net/ebpf/elf.c net/ebpf/verifier.c net/ebpf/interp.c \
	net/ebpf/maps.c net/ebpf/helpers.c \
	$(wildcard net/ebpf/jit_x86.c)

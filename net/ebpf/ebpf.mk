# The eBPF runtime's sources (loader, verifier, interpreter, maps, helpers).
# The top-level Makefile compiles net/*.c by wildcard only, so it appends
# these to KERNEL_SRCS after including this fragment:
#   -include net/ebpf/ebpf.mk
#   KERNEL_SRCS += $(EBPF_SRCS)
# The host tests and the fuzzers (tests/unit/ebpf*.mk, xdp_path.mk) build
# from the same list.
EBPF_SRCS := net/ebpf/elf.c net/ebpf/verifier.c net/ebpf/isa.c \
	net/ebpf/interp.c net/ebpf/jit_x86.c net/ebpf/maps.c net/ebpf/helpers.c

# ebpf/: the eBPF runtime, a library (loader, verifier, instruction-set
# checks, interpreter, maps, helpers, the x86-64 JIT). One list for the
# image, the host tests (tests/unit/ebpf.mk, ebpf_jit.mk, verifier.mk,
# xdp_path.mk) and the fuzzers.
EBPF_SRCS := ebpf/elf.c ebpf/verifier.c ebpf/isa.c ebpf/interp.c \
	ebpf/maps.c ebpf/helpers.c ebpf/skb_helpers.c ebpf/jit_x86.c \
	ebpf/cpus.c
EBPF_HDRS := ebpf/ebpf.h ebpf/helpers.h ebpf/scalar.h ebpf/tnum.h

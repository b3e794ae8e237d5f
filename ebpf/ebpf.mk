# ebpf/: the eBPF runtime, a library (loader, verifier, interpreter, maps,
# helpers, the x86-64 JIT). One list for the image, the host tests
# (tests/unit/ebpf.mk, ebpf_jit.mk, xdp_path.mk) and the fuzzer.
EBPF_SRCS := ebpf/elf.c ebpf/verifier.c ebpf/interp.c ebpf/maps.c \
	ebpf/helpers.c ebpf/jit_x86.c
EBPF_HDRS := ebpf/ebpf.h ebpf/jit_x86.h

/* JIT-only interface beyond ebpf.h: releasing the code ebpf_jit() made.
 * ebpf_jit() itself is declared in ebpf.h. */
#ifndef SKIFF_NET_EBPF_JIT_X86_H
#define SKIFF_NET_EBPF_JIT_X86_H

#include "ebpf/ebpf.h"

/* Makes the program interpreted again and gives the code pages back
 * (ebpf_prog_free should call this before freeing the program). Safe on a
 * program that was never compiled. */
void ebpf_jit_free(struct ebpf_prog *p);

#endif

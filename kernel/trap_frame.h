/* The registers an interrupt or exception saves, as isr_common in isr.S
 * lays them out (last pushed first). Apart from trap.h so that the panic
 * path can read a frame without depending on the trap module. */
#ifndef SKIFF_KERNEL_TRAP_FRAME_H
#define SKIFF_KERNEL_TRAP_FRAME_H

#include <stdint.h>

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

#endif

/* The application processors' way from real mode to kernel_main's world.
 * kernel/smp_trampoline.S holds a position-independent blob that smp.c
 * copies to a page below 1 MiB (a SIPI starts a CPU in real mode at
 * vector << 12); its parameter block, at the end of the blob, is filled in
 * by smp.c before the page is sealed read-only + executable. Offsets below
 * are shared by the assembly and the C. */
#ifndef SKIFF_KERNEL_SMP_TRAMPOLINE_H
#define SKIFF_KERNEL_SMP_TRAMPOLINE_H

#define TP_GDTR	 0  /* lgdt operand: limit (2), 32-bit base (4) */
#define TP_FAR32 8  /* ljmp m16:32 to the 32-bit code: offset, selector */
#define TP_FAR64 16 /* ljmp m16:32 to the 64-bit code */
#define TP_CR3	 24 /* our page tables (below 4 GiB) */
#define TP_CR4	 28
#define TP_ENTRY 32 /* 64-bit address of smp_ap_entry64 */
#define TP_GDT	 40 /* null, 32-bit code, data, 64-bit code */
#define TP_SIZE	 72

#define TRAMP_SEL_CODE32 0x08
#define TRAMP_SEL_DATA	 0x10
#define TRAMP_SEL_CODE64 0x18

#ifndef __ASSEMBLER__
#include <stdint.h>

struct smp_trampoline_params {
	uint16_t gdt_limit;
	uint32_t gdt_base;
	uint16_t pad0;
	uint32_t far32_offset;
	uint16_t far32_selector;
	uint16_t pad1;
	uint32_t far64_offset;
	uint16_t far64_selector;
	uint16_t pad2;
	uint32_t cr3;
	uint32_t cr4;
	uint64_t entry;
	uint64_t gdt[4];
} __attribute__((packed));
_Static_assert(sizeof(struct smp_trampoline_params) == TP_SIZE,
	       "trampoline parameter block");
_Static_assert(__builtin_offsetof(struct smp_trampoline_params, far64_offset) ==
		   TP_FAR64,
	       "trampoline far64 offset");
_Static_assert(__builtin_offsetof(struct smp_trampoline_params, gdt) == TP_GDT,
	       "trampoline GDT offset");
_Static_assert(__builtin_offsetof(struct smp_trampoline_params, entry) ==
		   TP_ENTRY,
	       "trampoline entry offset");

/* The blob and the labels inside it (smp.c turns them into offsets). */
extern const char smp_trampoline_start[], smp_trampoline_end[];
extern const char smp_trampoline_32[], smp_trampoline_64[];
extern const char smp_trampoline_params[];
/* In kernel text: the 64-bit entry the trampoline jumps to. It loads
 * smp_ap_stack_top into %rsp and calls smp_ap_main(). */
extern const char smp_ap_entry64[];
extern uint64_t smp_ap_stack_top;
#endif

#endif

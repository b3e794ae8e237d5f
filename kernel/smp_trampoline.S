/* The AP start-up trampoline (see smp_trampoline.h). A SIPI with vector V
 * starts the CPU in real mode at V:0000, i.e. at the copy of this blob;
 * nothing here may depend on where the copy sits except through %ebx,
 * which holds its linear base from the first instructions on.
 *
 * real mode -> 32-bit protected mode (flat, paging off) -> PAE, our CR3,
 * EFER.LME|NXE, paging -> 64-bit code on the same identity-mapped page ->
 * an absolute jump into kernel text (smp_ap_entry64).
 *
 * The blob lives in .rodata: it is only ever executed from its copy. */
#include "kernel/smp_trampoline.h"

#define CR0_PE	 0x00000001
#define CR0_MP	 0x00000002
#define CR0_EM	 0x00000004
#define CR0_WP	 0x00010000
#define CR0_NW	 0x20000000
#define CR0_CD	 0x40000000
#define CR0_PG	 0x80000000
#define MSR_EFER 0xc0000080
#define EFER_LME 0x00000100
#define EFER_NXE 0x00000800

#define OFF(label) ((label) - smp_trampoline_start)
#define PARAM(field) (OFF(smp_trampoline_params) + (field))

	.section .rodata
	.balign 16
	.globl smp_trampoline_start, smp_trampoline_end
	.globl smp_trampoline_32, smp_trampoline_64, smp_trampoline_params
	.code16
smp_trampoline_start:
	cli
	cld
	xorl %ebx, %ebx
	movw %cs, %bx
	movw %bx, %ds
	shll $4, %ebx			/* linear base of the copy */
	lgdtl PARAM(TP_GDTR)
	movl %cr0, %eax
	/* INIT leaves the caches disabled (CD, NW): turn them on. */
	andl $~(CR0_CD | CR0_NW | CR0_EM), %eax
	orl $(CR0_PE | CR0_MP), %eax
	movl %eax, %cr0
	ljmpl *PARAM(TP_FAR32)

	.code32
smp_trampoline_32:
	movl $TRAMP_SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movl PARAM(TP_CR4)(%ebx), %eax
	movl %eax, %cr4
	movl PARAM(TP_CR3)(%ebx), %eax
	movl %eax, %cr3
	/* NXE before paging: our tables set NX, a reserved bit without it. */
	movl $MSR_EFER, %ecx
	rdmsr
	orl $(EFER_LME | EFER_NXE), %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_WP), %eax
	movl %eax, %cr0
	ljmpl *PARAM(TP_FAR64)(%ebx)

	.code64
smp_trampoline_64:
	movl %ebx, %ebx			/* zero-extend: the upper half is undefined */
	movq PARAM(TP_ENTRY)(%rbx), %rax
	jmpq *%rax

	.balign 8
smp_trampoline_params:
	.skip TP_SIZE
smp_trampoline_end:

	/* In kernel text, reached from the trampoline's 64-bit code with our
	 * page tables, the trampoline's GDT and no stack. */
	.text
	.globl smp_ap_entry64
smp_ap_entry64:
	movq smp_ap_stack_top(%rip), %rsp
	xorl %ebp, %ebp
	call smp_ap_main
1:	cli
	hlt
	jmp 1b

	.section .note.GNU-stack, "", @progbits

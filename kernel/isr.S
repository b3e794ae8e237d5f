/* Interrupt entry stubs. Every vector gets a 16-byte stub at
 * isr_stubs + 16 * vector, so the IDT is filled by arithmetic and needs no
 * relocated pointer table. A stub pushes a dummy error code where the CPU
 * pushes none, then the vector, and joins isr_common, which saves the
 * general registers in the order of struct trap_frame (trap_frame.h). */

/* Exceptions that push an error code: #DF #TS #NP #SS #GP #PF #AC #CP #VC #SX */
#define HAS_ERROR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || \
		      (v) == 21 || (v) == 29 || (v) == 30)

	.text
	.globl isr_stubs
	.balign 16
isr_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	.if HAS_ERROR(vec) == 0
	pushq $0
	.endif
	/* push imm8 sign-extends: trap_dispatch masks the vector to 8 bits */
	.if vec < 128
	pushq $vec
	.else
	pushq $(vec - 256)
	.endif
	jmp isr_common
	.set vec, vec + 1
	.endr

isr_common:
	cld
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	/* Align the stack for the C call whatever the interrupted code had. */
	movq %rsp, %rbx
	andq $-16, %rsp
	call trap_dispatch
	movq %rbx, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp /* vector and error code */
	iretq

	.section .note.GNU-stack,"",@progbits

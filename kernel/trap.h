/* Interrupts and exceptions: the IDT, the saved-register frame, and the
 * table of device-vector handlers. */
#ifndef SKIFF_KERNEL_TRAP_H
#define SKIFF_KERNEL_TRAP_H

#include <stdint.h>

/* Laid out by isr_common in isr.S (last pushed first). */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

#define TRAP_FIRST_DEVICE_VECTOR 32
#define TRAP_TIMER_VECTOR 32
#define TRAP_SPURIOUS_VECTOR 255

typedef void (*irq_handler_fn)(void *ctx);

void idt_init(void);
/* Allocates a free device vector and attaches handler; returns the vector
 * or a negative errno when all are taken. The handler runs with interrupts
 * off; the local APIC EOI is sent after it returns. */
int irq_alloc_vector(irq_handler_fn handler, void *ctx);
/* Attaches a handler to a fixed vector (the timer). */
void irq_set_handler(unsigned vector, irq_handler_fn handler, void *ctx);
/* Interrupts taken per vector since boot. */
uint64_t irq_count(unsigned vector);

void trap_dispatch(struct trap_frame *f);

#endif

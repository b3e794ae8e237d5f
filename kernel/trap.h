/* Interrupts and exceptions: the IDT, the saved-register frame, and the
 * table of device-vector handlers. */
#ifndef SKIFF_KERNEL_TRAP_H
#define SKIFF_KERNEL_TRAP_H

#include <stdint.h>

#include "kernel/trap_frame.h"

#define TRAP_FIRST_DEVICE_VECTOR 32
#define TRAP_TIMER_VECTOR	 32
/* Inter-processor interrupts (kernel/smp.c); device vectors stay below. */
#define TRAP_IPI_WAKE	     0xf0 /* just wake the CPU from hlt */
#define TRAP_IPI_TLB	     0xf1 /* flush the TLB (page tables changed) */
#define TRAP_IPI_STOP	     0xf2 /* stop for good (another CPU panicked) */
#define TRAP_IPI_FIRST	     TRAP_IPI_WAKE
#define TRAP_SPURIOUS_VECTOR 255

typedef void (*irq_handler_fn)(void *ctx);

void idt_init(void);
/* Loads the (shared) IDT on an application processor. */
void idt_load(void);
/* Allocates a free device vector and attaches handler; returns the vector
 * or a negative errno when all are taken. The handler runs with interrupts
 * off; the local APIC EOI is sent after it returns. */
int irq_alloc_vector(irq_handler_fn handler, void *ctx);
/* Attaches a handler to a fixed vector (the timer). */
void irq_set_handler(unsigned vector, irq_handler_fn handler, void *ctx);
/* The interrupt controller's end-of-interrupt, sent after every device
 * vector's handler; the local APIC registers it when it starts (trap.c
 * never calls up into the APIC driver). */
void irq_set_eoi(void (*eoi)(void));

void trap_dispatch(struct trap_frame *f);

#endif

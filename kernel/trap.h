/* Interrupts and exceptions: the IDT, the saved-register frame, and the
 * table of device-vector handlers. */
#ifndef SKIFF_KERNEL_TRAP_H
#define SKIFF_KERNEL_TRAP_H

#include <stdint.h>

#include "kernel/trap_frame.h"

#define TRAP_FIRST_DEVICE_VECTOR 32
#define TRAP_TIMER_VECTOR	 32
#define TRAP_SPURIOUS_VECTOR	 255

typedef void (*irq_handler_fn)(void *ctx);

void idt_init(void);
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

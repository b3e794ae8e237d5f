/* The IDT and the C side of interrupt entry. Exceptions are fatal here: a
 * unikernel has no process to kill, so the only honest answer is a panic
 * dump that says exactly what happened. Device vectors go to registered
 * handlers, then the local APIC gets its EOI. */
#include <stdint.h>

#include "kernel/gdt.h"
#include "kernel/kerrno.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/percpu_counter.h"
#include "kernel/trap.h"

struct idt_entry {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t zero;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_entry) == 16, "IDT entry layout");

struct idt_pointer {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern char isr_stubs[];

static struct idt_entry idt[256] __attribute__((aligned(16)));
/* Shared by every CPU (one IDT): written at bring-up before the vector
 * can fire, read-only after. */
static struct {
	irq_handler_fn fn;
	void *ctx;
} handlers[256];

static void set_gate(unsigned vector, uint8_t ist)
{
	uint64_t addr = (uint64_t)isr_stubs + 16 * vector;

	idt[vector] = (struct idt_entry){
	    .offset_low = addr & 0xffff,
	    .selector = GDT_KERNEL_CODE,
	    .ist = ist,
	    .type_attr = 0x8e, /* present, DPL0, 64-bit interrupt gate */
	    .offset_mid = (addr >> 16) & 0xffff,
	    .offset_high = addr >> 32,
	};
}

void idt_load(void)
{
	struct idt_pointer p = {sizeof(idt) - 1, (uint64_t)idt};
	__asm__ volatile("lidt %0" : : "m"(p) : "memory");
}

void idt_init(void)
{
	for (unsigned v = 0; v < 256; v++)
		set_gate(v, 0);
	/* Faults that may hit with a broken stack run on their own stacks. */
	set_gate(2, IST_NMI);
	set_gate(8, IST_DOUBLE_FAULT);
	set_gate(18, IST_MACHINE_CHECK);
	idt_load();
}

int irq_alloc_vector(irq_handler_fn handler, void *ctx)
{
	/* 0x30 upwards; below stays for fixed vectors like the timer, and
	 * the IPI vectors at the top are fixed too. */
	for (unsigned v = 0x30; v < TRAP_IPI_FIRST; v++) {
		if (!handlers[v].fn) {
			irq_set_handler(v, handler, ctx);
			return (int)v;
		}
	}
	return -ENOSPC;
}

void irq_set_handler(unsigned vector, irq_handler_fn handler, void *ctx)
{
	handlers[vector & 0xff].ctx = ctx;
	handlers[vector & 0xff].fn = handler;
}

static void (*irq_eoi)(void);

void irq_set_eoi(void (*eoi)(void))
{
	irq_eoi = eoi;
}

void trap_dispatch(struct trap_frame *f)
{
	unsigned vector = f->vector & 0xff;

	f->vector = vector;
	if (vector < TRAP_FIRST_DEVICE_VECTOR)
		panic_exception(f);
	if (vector == TRAP_SPURIOUS_VECTOR)
		return; /* spurious interrupts get no EOI */
	percpu_counter_add(&this_cpu()->stats.irqs, 1);
	if (handlers[vector].fn)
		handlers[vector].fn(handlers[vector].ctx);
	if (irq_eoi)
		irq_eoi();
}

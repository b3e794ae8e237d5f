/* GDT and TSS, one pair per CPU (a TSS is busy once loaded: CPUs cannot
 * share one, and each needs its own IST stacks). Long mode ignores base and
 * limit for code/data, so the descriptors only carry type, DPL and the L
 * bit; the TSS descriptor is the 16-byte system kind. */
#include <stdint.h>
#include <string.h>

#include "kernel/gdt.h"
#include "kernel/percpu.h"

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss) == 104, "TSS layout");

struct gdt_pointer {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* Each CPU's pair; a CPU touches only its own (set up before it loads
 * it, never changed after). */
static struct cpu_tables {
	uint64_t gdt[5];
	struct tss tss;
} tables[CPU_MAX] __attribute__((aligned(64)));

void gdt_init(unsigned cpu)
{
	uint64_t *gdt = tables[cpu].gdt;
	struct gdt_pointer p = {sizeof(tables[cpu].gdt) - 1, (uint64_t)gdt};

	gdt[0] = 0;
	gdt[1] = 0x00af9a000000ffffULL; /* 0x08: code, present, DPL0, L=1 */
	gdt[2] = 0x00cf92000000ffffULL; /* 0x10: data, present, writable */
	gdt[3] = 0; /* 0x18: TSS low, filled by gdt_load_tss */
	gdt[4] = 0; /* 0x20: TSS high */

	__asm__ volatile(
	    "lgdt %0\n\t"
	    "mov %1, %%ds\n\t"
	    "mov %1, %%es\n\t"
	    "mov %1, %%ss\n\t"
	    "xor %%eax, %%eax\n\t"
	    "mov %%ax, %%fs\n\t"
	    "mov %%ax, %%gs\n\t"
	    /* A far return is the way to reload CS in long mode. */
	    "lea 1f(%%rip), %%rax\n\t"
	    "pushq %2\n\t"
	    "pushq %%rax\n\t"
	    "lretq\n"
	    "1:"
	    :
	    : "m"(p), "r"((uint64_t)GDT_KERNEL_DATA), "i"(GDT_KERNEL_CODE)
	    : "rax", "memory");
}

void gdt_load_tss(unsigned cpu, uint64_t ist_df, uint64_t ist_nmi,
		  uint64_t ist_mc)
{
	struct tss *t = &tables[cpu].tss;
	uint64_t *gdt = tables[cpu].gdt;
	uint64_t base = (uint64_t)t, limit = sizeof(*t) - 1;

	memset(t, 0, sizeof(*t));
	t->ist[IST_DOUBLE_FAULT - 1] = ist_df;
	t->ist[IST_NMI - 1] = ist_nmi;
	t->ist[IST_MACHINE_CHECK - 1] = ist_mc;
	t->iomap_base = sizeof(*t); /* no I/O bitmap */
	gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
		 (0x89ULL << 40) /* present, available 64-bit TSS */ |
		 (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[4] = base >> 32;
	__asm__ volatile("ltr %w0" : : "r"((uint16_t)GDT_TSS) : "memory");
}

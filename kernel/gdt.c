/* GDT and TSS. Long mode ignores base and limit for code/data, so the
 * descriptors only carry type, DPL and the L bit; the TSS descriptor is the
 * 16-byte system kind. */
#include <stdint.h>
#include <string.h>

#include "kernel/gdt.h"

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

static struct tss tss;
static uint64_t gdt[5] __attribute__((aligned(16))) = {
    0,
    0x00af9a000000ffffULL, /* 0x08: code, present, DPL0, L=1 */
    0x00cf92000000ffffULL, /* 0x10: data, present, writable */
    0,			   /* 0x18: TSS low, filled at run time */
    0,			   /* 0x20: TSS high */
};

void gdt_init(void)
{
	struct gdt_pointer p = {sizeof(gdt) - 1, (uint64_t)gdt};

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

void gdt_load_tss(uint64_t ist_df, uint64_t ist_nmi, uint64_t ist_mc)
{
	uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;

	memset(&tss, 0, sizeof(tss));
	tss.ist[IST_DOUBLE_FAULT - 1] = ist_df;
	tss.ist[IST_NMI - 1] = ist_nmi;
	tss.ist[IST_MACHINE_CHECK - 1] = ist_mc;
	tss.iomap_base = sizeof(tss); /* no I/O bitmap */
	gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
		 (0x89ULL << 40) /* present, available 64-bit TSS */ |
		 (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[4] = base >> 32;
	__asm__ volatile("ltr %w0" : : "r"((uint16_t)GDT_TSS) : "memory");
}

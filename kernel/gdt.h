/* Our GDT and TSS (one of each per CPU): one 64-bit code and data segment, and
 * a TSS whose interrupt-stack table gives double fault, NMI and machine check
 * their own known-good stacks. */
#ifndef SKIFF_KERNEL_GDT_H
#define SKIFF_KERNEL_GDT_H

#include <stdint.h>

#define GDT_KERNEL_CODE 0x08
#define GDT_KERNEL_DATA 0x10
#define GDT_TSS		0x18

#define IST_DOUBLE_FAULT  1
#define IST_NMI		  2
#define IST_MACHINE_CHECK 3

/* Loads CPU cpu's GDT and reloads every segment register (FS and GS get
 * the null selector: set the GS base after this). */
void gdt_init(unsigned cpu);
/* Installs CPU cpu's TSS with the given IST stack tops (each 16-byte
 * aligned). */
void gdt_load_tss(unsigned cpu, uint64_t ist_df, uint64_t ist_nmi,
		  uint64_t ist_mc);

#endif

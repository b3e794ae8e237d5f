/* Physical memory set-up: feeds the page allocator from the memory map,
 * builds the heap on top of it, and hands out guarded stacks. */
#ifndef SKIFF_KERNEL_MEMORY_H
#define SKIFF_KERNEL_MEMORY_H

#include <stdint.h>

struct boot_info;

/* Conventional memory only; boot-services memory comes later. */
void memory_init(const struct boot_info *boot);
/* Adds the firmware's boot-services memory once nothing uses it. */
void memory_reclaim_boot_services(const struct boot_info *boot);
void memory_heap_init(void);
/* npages usable pages with an unmapped guard page below; returns the
 * 16-byte-aligned top of the stack. */
uint64_t memory_alloc_stack(uint64_t npages, const char *name);
uint64_t memory_usable_bytes(void);
/* A reserved, identity-mapped page below 640 KiB for the AP trampoline
 * (smp.c), 0 when the memory map has none. */
uint64_t memory_low_page(void);

#endif

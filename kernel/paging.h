/* Skiff's own page tables: RAM identity-mapped (2 MiB pages where the
 * range allows), the image with per-section rights, MMIO uncached, page 0
 * left unmapped so a NULL dereference faults. */
#ifndef SKIFF_KERNEL_PAGING_H
#define SKIFF_KERNEL_PAGING_H

#include <stdbool.h>
#include <stdint.h>

struct boot_info;

#define PTE_PRESENT (1ULL << 0)
#define PTE_WRITE   (1ULL << 1)
#define PTE_PWT	    (1ULL << 3)
#define PTE_PCD	    (1ULL << 4)
#define PTE_LARGE   (1ULL << 7)
#define PTE_GLOBAL  (1ULL << 8)
#define PTE_NX	    (1ULL << 63)

/* Builds the tables from the memory map and switches CR3 to them. */
void paging_init(const struct boot_info *boot);
/* Maps a device range uncached (identity); returns it as a pointer, or NULL
 * when page tables cannot be allocated. */
void *paging_map_mmio(uint64_t phys, uint64_t size);
/* Maps firmware tables (ACPI) read-only where nothing maps them yet: a
 * PVH loader's memory map may call their pages reserved. 0 or -ENOMEM. */
int paging_map_firmware(uint64_t phys, uint64_t size);
/* Changes the rights of an identity-mapped RAM range (4 KiB granularity):
 * used to seal JIT output read-only+exec (W^X). Returns 0 or -ENOMEM. */
int paging_protect(uint64_t addr, uint64_t size, bool writable, bool exec);
/* Removes the 4 KiB mapping at addr (used for stack guard pages). */
void paging_unmap_page(uint64_t addr);
/* Registers how to make the other CPUs flush their TLBs; called after
 * paging_protect and paging_unmap_page once set. */
void paging_set_shootdown(void (*fn)(void));
/* Counts of mapped pages by size, for the boot log. */
void paging_stats(uint64_t *pages_4k, uint64_t *pages_2m, uint64_t *tables);

#endif

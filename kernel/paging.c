/* Page tables. Four levels, identity-mapped. A 2 MiB mapping is split into
 * 512 small ones on demand when part of it needs other rights (the image,
 * a guard page, an MMIO window). Table pages come from the page allocator. */
#include <stdbool.h>
#include <string.h>

#include "kernel/bootinfo.h"
#include "kernel/cpu.h"
#include "kernel/image.h"
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "kernel/page_alloc.h"
#include "kernel/paging.h"
#include "kernel/panic.h"

#define ADDR_MASK	0x000ffffffffff000ULL
#define LARGE_ADDR_MASK 0x000fffffffe00000ULL
#define RAM_FLAGS	(PTE_PRESENT | PTE_WRITE | PTE_NX)
#define MMIO_FLAGS	(PTE_PRESENT | PTE_WRITE | PTE_NX | PTE_PCD | PTE_PWT)

static uint64_t *pml4;
static bool active;
/* Set once other CPUs run (smp.c): after removing rights from a mapping,
 * their TLBs may still hold the old entry. */
static void (*shootdown)(void);

void paging_set_shootdown(void (*fn)(void))
{
	shootdown = fn;
}

static void flush_others(void)
{
	if (active && shootdown)
		shootdown();
}
static uint64_t n4k, n2m, ntables;

static uint64_t *new_table(void)
{
	uint64_t page = page_alloc(1, PAGE_SIZE);

	if (!page)
		return NULL;
	memset((void *)page, 0, PAGE_SIZE);
	ntables++;
	return (uint64_t *)page;
}

static unsigned idx(uint64_t addr, int level)
{
	return (addr >> (12 + 9 * level)) & 511;
}

/* Returns the entry for addr at level 1 (PT) or 2 (PD), creating tables
 * and splitting a large page on the way down when level is 1. */
static uint64_t *walk(uint64_t addr, int level)
{
	uint64_t *table = pml4;

	for (int l = 3; l > level; l--) {
		uint64_t *e = &table[idx(addr, l)];
		if (!(*e & PTE_PRESENT)) {
			uint64_t *t = new_table();
			if (!t)
				return NULL;
			*e = (uint64_t)t | PTE_PRESENT | PTE_WRITE;
		} else if (*e & PTE_LARGE) {
			/* Only PD entries are large here (we never use 1 GiB
			 * pages): split into a page table with equal rights. */
			uint64_t *t = new_table();
			if (!t)
				return NULL;
			uint64_t base = *e & LARGE_ADDR_MASK;
			uint64_t flags = *e & ~LARGE_ADDR_MASK & ~PTE_LARGE;
			for (int i = 0; i < 512; i++)
				t[i] = (base + i * PAGE_SIZE) | flags;
			*e = (uint64_t)t | PTE_PRESENT | PTE_WRITE;
			n2m--;
			n4k += 512;
			if (active)
				invlpg(addr & ~(LARGE_PAGE_SIZE - 1));
		}
		table = (uint64_t *)(*e & ADDR_MASK);
	}
	return &table[idx(addr, level)];
}

static int map_4k(uint64_t addr, uint64_t flags)
{
	uint64_t *e = walk(addr, 0);

	if (!e)
		return -1;
	if (!(*e & PTE_PRESENT))
		n4k++;
	*e = (addr & ADDR_MASK) | flags;
	if (active)
		invlpg(addr);
	return 0;
}

static int map_range(uint64_t start, uint64_t end, uint64_t flags)
{
	uint64_t a = start & ~(PAGE_SIZE - 1);

	while (a < end) {
		if (!(a & (LARGE_PAGE_SIZE - 1)) &&
		    a + LARGE_PAGE_SIZE <= end) {
			uint64_t *pde = walk(a, 1);
			if (!pde)
				return -1;
			if (!(*pde & PTE_PRESENT)) {
				*pde = a | flags | PTE_LARGE;
				n2m++;
				if (active)
					invlpg(a);
				a += LARGE_PAGE_SIZE;
				continue;
			}
		}
		if (map_4k(a, flags))
			return -1;
		a += PAGE_SIZE;
	}
	return 0;
}

static uint64_t region_flags(uint32_t type)
{
	switch (type) {
	case BOOT_MEM_MMIO:
		return MMIO_FLAGS;
	case BOOT_MEM_RESERVED:
		return 0;
	default:
		return RAM_FLAGS;
	}
}

void paging_init(const struct boot_info *boot)
{
	pml4 = new_table();
	if (!pml4)
		panic("paging: no memory for the top-level table");
	for (uint32_t i = 0; i < boot->nregions; i++) {
		const struct boot_mem_region *r = &boot->regions[i];
		uint64_t flags = region_flags(r->type);
		uint64_t start = r->base, end = r->base + r->npages * PAGE_SIZE;
		if (!flags)
			continue;
		if (start == 0)
			start = PAGE_SIZE; /* page 0 stays unmapped */
		if (map_range(start, end, flags))
			panic("paging: out of memory mapping RAM");
	}
	/* The image, section by section: text RX, rodata R, the rest RW NX. */
	uint64_t ts = (uint64_t)__text_start & ~(PAGE_SIZE - 1);
	uint64_t te = (uint64_t)__text_end, rs = (uint64_t)__rodata_start;
	uint64_t re = (uint64_t)__rodata_end, ie = (uint64_t)__image_end;

	/* Page by page, so any 2 MiB mapping around it is split. */
	for (uint64_t a = image_base(); a < ie; a += PAGE_SIZE) {
		uint64_t f = RAM_FLAGS;
		if (a >= ts && a < te)
			f = PTE_PRESENT;
		else if (a >= rs && a < re)
			f = PTE_PRESENT | PTE_NX;
		if (map_4k(a, f))
			panic("paging: out of memory mapping the image");
	}
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	write_cr0(read_cr0() | CR0_WP); /* read-only holds for the kernel too */
	write_cr3((uint64_t)pml4);
	active = true;
}

/* 2 MiB pages where the range allows (map_range): q35's 256 MiB ECAM
 * window page by page was 65536 entries, 128 fresh tables and as many
 * invlpg, ~6.5 ms of a direct boot under -icount (issue 15). */
void *paging_map_mmio(uint64_t phys, uint64_t size)
{
	uint64_t start = phys & ~(PAGE_SIZE - 1);
	uint64_t end = (phys + size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);

	if (map_range(start, end, MMIO_FLAGS))
		return NULL;
	return (void *)phys;
}

int paging_map_firmware(uint64_t phys, uint64_t size)
{
	uint64_t start = phys & ~(PAGE_SIZE - 1);

	/* Before paging_init the loader's own identity map covers it. */
	if (!active)
		return 0;
	for (uint64_t a = start; a < phys + size; a += PAGE_SIZE) {
		uint64_t *pde = walk(a, 1);
		if (!pde)
			return -ENOMEM;
		if ((*pde & PTE_PRESENT) && (*pde & PTE_LARGE))
			continue;
		uint64_t *pte = walk(a, 0);
		if (!pte)
			return -ENOMEM;
		if (*pte & PTE_PRESENT)
			continue;
		*pte = a | PTE_PRESENT | PTE_NX;
		n4k++;
		invlpg(a);
	}
	return 0;
}

int paging_protect(uint64_t addr, uint64_t size, bool writable, bool exec)
{
	uint64_t flags =
	    PTE_PRESENT | (writable ? PTE_WRITE : 0) | (exec ? 0 : PTE_NX);
	uint64_t start = addr & ~(PAGE_SIZE - 1);

	int rc = 0;
	for (uint64_t a = start; a < addr + size && !rc; a += PAGE_SIZE)
		if (map_4k(a, flags))
			rc = -ENOMEM;
	flush_others();
	return rc;
}

void paging_unmap_page(uint64_t addr)
{
	uint64_t *e = walk(addr, 0);

	if (e && (*e & PTE_PRESENT)) {
		*e = 0;
		n4k--;
		invlpg(addr);
		flush_others();
	}
}

void paging_stats(uint64_t *pages_4k, uint64_t *pages_2m, uint64_t *tables)
{
	*pages_4k = n4k;
	*pages_2m = n2m;
	*tables = ntables;
}

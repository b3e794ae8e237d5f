/* Memory bring-up. The bitmap for the page allocator is placed in the first
 * usable region big enough to hold it, then reserved. */
#include <string.h>

#include "kernel/bootinfo.h"
#include "kernel/heap.h"
#include "kernel/log.h"
#include "kernel/memory.h"
#include "kernel/page_alloc.h"
#include "kernel/paging.h"
#include "kernel/panic.h"

#define HEAP_CHUNK_MIN (64 * 1024)

static uint64_t usable_bytes;
static uint64_t low_page;

#define LOW_PAGE_LIMIT 0xa0000ULL /* conventional memory ends at 640 KiB */

/* The AP trampoline's page: the loader's, else the highest usable page
 * below 640 KiB, taken out of the allocator before anyone can get it. */
static void reserve_low_page(const struct boot_info *boot)
{
	if (boot->low_page) {
		if (boot->low_page < LOW_PAGE_LIMIT &&
		    !(boot->low_page & 0xfff))
			low_page = boot->low_page;
		return;
	}
	for (uint32_t i = 0; i < boot->nregions; i++) {
		const struct boot_mem_region *r = &boot->regions[i];
		uint64_t end = r->base + r->npages * PAGE_SIZE;
		if (r->type != BOOT_MEM_USABLE || r->base >= LOW_PAGE_LIMIT)
			continue;
		if (end > LOW_PAGE_LIMIT)
			end = LOW_PAGE_LIMIT;
		uint64_t page = (end & ~(PAGE_SIZE - 1)) - PAGE_SIZE;
		/* Page 0 stays unmapped (NULL faults). */
		if (page >= r->base && page >= PAGE_SIZE && page > low_page)
			low_page = page;
	}
	if (low_page)
		page_alloc_reserve(low_page, 1);
}

uint64_t memory_low_page(void)
{
	return low_page;
}

static bool is_free_type(uint32_t type)
{
	return type == BOOT_MEM_USABLE || type == BOOT_MEM_BOOT_SERVICES;
}

void memory_init(const struct boot_info *boot)
{
	uint64_t max_phys = 0, bitmap = 0;

	for (uint32_t i = 0; i < boot->nregions; i++) {
		const struct boot_mem_region *r = &boot->regions[i];
		uint64_t end = r->base + r->npages * PAGE_SIZE;
		if (is_free_type(r->type) && end > max_phys)
			max_phys = end;
	}
	uint64_t need = (page_alloc_bitmap_bytes(max_phys) + PAGE_SIZE - 1) &
			~(PAGE_SIZE - 1);
	for (uint32_t i = 0; i < boot->nregions && !bitmap; i++) {
		const struct boot_mem_region *r = &boot->regions[i];
		if (r->type == BOOT_MEM_USABLE && r->base >= 0x100000 &&
		    r->npages * PAGE_SIZE >= need)
			bitmap = r->base;
	}
	if (!bitmap)
		panic("memory: no room for the page bitmap (%llu bytes)",
		      (unsigned long long)need);
	page_alloc_init((void *)bitmap, max_phys);
	for (uint32_t i = 0; i < boot->nregions; i++) {
		const struct boot_mem_region *r = &boot->regions[i];
		if (r->type == BOOT_MEM_USABLE) {
			page_alloc_add_free(r->base, r->npages);
			usable_bytes += r->npages * PAGE_SIZE;
		}
	}
	page_alloc_reserve(bitmap, need / PAGE_SIZE);
	reserve_low_page(boot);
}

void memory_reclaim_boot_services(const struct boot_info *boot)
{
	uint64_t pages = 0;

	for (uint32_t i = 0; i < boot->nregions; i++) {
		const struct boot_mem_region *r = &boot->regions[i];
		if (r->type == BOOT_MEM_BOOT_SERVICES) {
			page_alloc_add_free(r->base, r->npages);
			pages += r->npages;
		}
	}
	usable_bytes += pages * PAGE_SIZE;
	log_info("memory: reclaimed %llu KiB of boot-services memory",
		 (unsigned long long)(pages * 4));
}

static void *heap_grow(size_t *bytes)
{
	size_t want = *bytes < HEAP_CHUNK_MIN ? HEAP_CHUNK_MIN : *bytes;
	uint64_t npages = (want + PAGE_SIZE - 1) / PAGE_SIZE;
	uint64_t addr = page_alloc(npages, PAGE_SIZE);

	if (!addr)
		return NULL;
	*bytes = npages * PAGE_SIZE;
	return (void *)addr;
}

static void heap_corrupted(const char *what, const void *ptr)
{
	panic("heap: %s (block %p)", what, ptr);
}

void memory_heap_init(void)
{
	heap_init(heap_grow, heap_corrupted, 0);
}

uint64_t memory_alloc_stack(uint64_t npages, const char *name)
{
	uint64_t base = page_alloc(npages + 1, PAGE_SIZE);

	if (!base)
		panic("memory: no memory for the %s stack", name);
	paging_unmap_page(base);
	panic_note_guard(base, name);
	return base + (npages + 1) * PAGE_SIZE;
}

uint64_t memory_usable_bytes(void)
{
	return usable_bytes;
}

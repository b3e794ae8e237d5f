/* Physical page allocator: a bitmap over [0, max_phys) where set bits are
 * pages in use. Only regions handed to page_alloc_add_free() can ever be
 * returned, so firmware, ACPI and MMIO ranges are never given out.
 * All counts are in 4 KiB pages; addresses are physical (identity-mapped). */
#ifndef SKIFF_KERNEL_PAGE_ALLOC_H
#define SKIFF_KERNEL_PAGE_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/counters.h"

#define PAGE_SIZE	4096ULL
#define PAGE_SHIFT	12
#define LARGE_PAGE_SIZE (2ULL << 20)

struct page_alloc_stats {
	uint64_t total_pages;	 /* pages ever added as free */
	uint64_t free_pages;	 /* pages free now */
	uint64_t min_free_pages; /* low-water mark of free_pages */
	uint64_t alloc_calls;
	uint64_t free_calls;
	uint64_t failures; /* allocations that found no fitting run */
};

/* bitmap must hold page_alloc_bitmap_bytes(max_phys) bytes; every page starts
 * out "in use" until added. */
size_t page_alloc_bitmap_bytes(uint64_t max_phys);
void page_alloc_init(void *bitmap, uint64_t max_phys);
/* Marks [base, base + npages*4K) free; base is rounded up to a page. */
void page_alloc_add_free(uint64_t base, uint64_t npages);
/* Marks a range in use again (e.g. the range holding the bitmap itself). */
void page_alloc_reserve(uint64_t base, uint64_t npages);
/* Returns the physical address of npages contiguous free pages aligned to
 * align bytes (a power of two >= 4096), or 0 when none; never returns page 0.
 */
uint64_t page_alloc(uint64_t npages, uint64_t align);
/* Frees pages from page_alloc(); freeing a page that is already free is a bug
 * and is reported by returning -1 without touching the bitmap. */
int page_free(uint64_t addr, uint64_t npages);
void page_alloc_get_stats(struct page_alloc_stats *out);
/* The /stats "pages" member: names, order and types (kernel/counters.h). */
extern const struct counter_desc page_alloc_stats_counters[];
extern const unsigned page_alloc_stats_counters_len;

#endif

/* Physical page allocator: two bitmaps with one bit per 4 KiB page, "in
 * use" and "managed" (added and not reserved). Both live in the storage the
 * caller provides, and the allocator never reads or writes the pages it
 * manages, so host tests can hand it fake addresses.
 *
 * Searches are next-fit: they start where the previous allocation ended, so
 * a long-running kernel does not rescan the busy low memory every time, and
 * full 64-page words are skipped with one compare. Not reentrant: callers
 * must not allocate from interrupt handlers. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/page_alloc.h"

#define WORD_BITS 64

static struct {
	/* Bit i of word i/64 covers page i; set = in use. Pages never added
	 * (firmware, MMIO, holes) stay set forever. */
	uint64_t *used;
	/* Set = page was added as free and not reserved since. page_free()
	 * refuses anything outside it, so a bad free can never hand out
	 * firmware memory. */
	uint64_t *managed;
	uint64_t nwords; /* words in each of the two bitmaps */
	uint64_t npages; /* pages covered by the bitmaps */
	uint64_t hint;	 /* page where the next search starts */
	struct page_alloc_stats stats;
} pa;

static uint64_t pages_for(uint64_t max_phys)
{
	/* A partial page at the top of memory cannot be handed out. */
	return max_phys >> PAGE_SHIFT;
}

static uint64_t words_for(uint64_t max_phys)
{
	return (pages_for(max_phys) + WORD_BITS - 1) / WORD_BITS;
}

size_t page_alloc_bitmap_bytes(uint64_t max_phys)
{
	/* Two bitmaps: "used" and "managed". */
	return (size_t)(2 * words_for(max_phys) * sizeof(uint64_t));
}

void page_alloc_init(void *bitmap, uint64_t max_phys)
{
	pa.nwords = words_for(max_phys);
	pa.used = bitmap;
	pa.managed = pa.used + pa.nwords;
	pa.npages = pages_for(max_phys);
	pa.hint = 1;
	/* Everything starts in use and unmanaged; the padding bits past
	 * npages stay that way, so searches need no per-bit end check. */
	for (uint64_t i = 0; i < pa.nwords; i++) {
		pa.used[i] = ~0ULL;
		pa.managed[i] = 0;
	}
	pa.stats = (struct page_alloc_stats){0};
}

/* __builtin_popcountll would need libgcc without -mpopcnt; the kernel
 * links none. */
static unsigned popcount64(uint64_t w)
{
	w = w - ((w >> 1) & 0x5555555555555555ULL);
	w = (w & 0x3333333333333333ULL) + ((w >> 2) & 0x3333333333333333ULL);
	w = (w + (w >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (unsigned)((w * 0x0101010101010101ULL) >> 56);
}

/* The bits of word pg/64 that [pg, end) covers; *n gets their count. */
static uint64_t range_mask(uint64_t pg, uint64_t end, uint64_t *n)
{
	unsigned lo = pg % WORD_BITS;

	*n = end - pg < WORD_BITS - lo ? end - pg : WORD_BITS - lo;
	return (*n == WORD_BITS ? ~0ULL : (1ULL << *n) - 1) << lo;
}

/* First page in [pg, end) whose bit in map equals want, or end. Whole
 * words that cannot match are skipped with a single compare. */
static uint64_t next_bit(const uint64_t *map, bool want, uint64_t pg,
			 uint64_t end)
{
	while (pg < end) {
		uint64_t w = want ? map[pg / WORD_BITS] : ~map[pg / WORD_BITS];

		w &= ~0ULL << (pg % WORD_BITS);
		if (w) {
			pg = pg / WORD_BITS * WORD_BITS + __builtin_ctzll(w);
			return pg < end ? pg : end;
		}
		pg = (pg / WORD_BITS + 1) * WORD_BITS;
	}
	return end;
}

static uint64_t clamp_end(uint64_t first_pg, uint64_t npages)
{
	if (first_pg >= pa.npages)
		return pa.npages;
	if (npages > pa.npages - first_pg)
		return pa.npages;
	return first_pg + npages;
}

static void lower_min_free(void)
{
	if (pa.stats.min_free_pages > pa.stats.free_pages)
		pa.stats.min_free_pages = pa.stats.free_pages;
}

void page_alloc_add_free(uint64_t base, uint64_t npages)
{
	uint64_t first, end, added = 0, n;

	if (!pa.used || base > UINT64_MAX - (PAGE_SIZE - 1))
		return;
	/* Only whole pages inside [base, base + npages*4K) become free. */
	first = (base + PAGE_SIZE - 1) >> PAGE_SHIFT;
	end = clamp_end(base >> PAGE_SHIFT, npages);
	/* Page 0 is never handed out: 0 is the "no memory" return. */
	if (first == 0)
		first = 1;
	for (uint64_t pg = first; pg < end; pg += n) {
		uint64_t w = pg / WORD_BITS;
		/* Pages already managed may be allocated: overlapping map
		 * entries must not free them behind their owner's back. */
		uint64_t fresh = range_mask(pg, end, &n) & ~pa.managed[w];

		pa.managed[w] |= fresh;
		pa.used[w] &= ~fresh;
		added += popcount64(fresh);
	}
	pa.stats.total_pages += added;
	pa.stats.free_pages += added;
	/* The low-water mark is relative to the pool as it is now, so memory
	 * added during boot raises it too. */
	pa.stats.min_free_pages += added;
}

void page_alloc_reserve(uint64_t base, uint64_t npages)
{
	uint64_t first, end, n;

	if (!pa.used)
		return;
	/* Cover every page the range touches, even partly. */
	first = base >> PAGE_SHIFT;
	end = clamp_end(first, npages);
	if ((base & (PAGE_SIZE - 1)) && end < pa.npages)
		end++;
	for (uint64_t pg = first; pg < end; pg += n) {
		uint64_t w = pg / WORD_BITS;
		uint64_t m = range_mask(pg, end, &n) & pa.managed[w];

		/* Reserved pages leave the pool for good, unlike allocated
		 * ones: they no longer count in total_pages. */
		pa.stats.total_pages -= popcount64(m);
		pa.stats.free_pages -= popcount64(m & ~pa.used[w]);
		pa.managed[w] &= ~m;
		pa.used[w] |= m;
	}
	lower_min_free();
}

static uint64_t align_up(uint64_t v, uint64_t align)
{
	return (v + align - 1) & ~(align - 1);
}

static void set_used(uint64_t first, uint64_t end, bool used)
{
	uint64_t n;

	for (uint64_t pg = first; pg < end; pg += n) {
		uint64_t m = range_mask(pg, end, &n);

		if (used)
			pa.used[pg / WORD_BITS] |= m;
		else
			pa.used[pg / WORD_BITS] &= ~m;
	}
}

/* True when every page of [first, end) is managed and in use, i.e. could
 * have come from page_alloc(). */
static bool all_allocated(uint64_t first, uint64_t end)
{
	uint64_t n;

	for (uint64_t pg = first; pg < end; pg += n) {
		uint64_t w = pg / WORD_BITS;
		uint64_t m = range_mask(pg, end, &n);

		if ((pa.used[w] & pa.managed[w] & m) != m)
			return false;
	}
	return true;
}

/* Finds npages free pages starting at a multiple of align_pages within
 * [from, end); returns the first page or 0 (page 0 is never free). */
static uint64_t find_run(uint64_t from, uint64_t end, uint64_t npages,
			 uint64_t align_pages)
{
	uint64_t pg = from;

	for (;;) {
		uint64_t used;

		pg = next_bit(pa.used, false, pg, end);
		if (pg >= end)
			return 0;
		pg = align_up(pg, align_pages);
		if (pg >= end || end - pg < npages)
			return 0;
		used = next_bit(pa.used, true, pg, pg + npages);
		if (used == pg + npages)
			return pg;
		/* Restart past the page that broke the run. */
		pg = used + 1;
	}
}

uint64_t page_alloc(uint64_t npages, uint64_t align)
{
	uint64_t align_pages, pg;

	pa.stats.alloc_calls++;
	if (align < PAGE_SIZE)
		align = PAGE_SIZE;
	if (!pa.used || npages == 0 || npages > pa.npages ||
	    (align & (align - 1)) || (align >> PAGE_SHIFT) >= pa.npages)
		goto fail;
	align_pages = align >> PAGE_SHIFT;
	pg = find_run(pa.hint, pa.npages, npages, align_pages);
	/* Wrap around: runs that start below the hint. */
	if (!pg)
		pg = find_run(1, clamp_end(pa.hint, npages), npages,
			      align_pages);
	if (!pg)
		goto fail;
	set_used(pg, pg + npages, true);
	pa.hint = pg + npages < pa.npages ? pg + npages : 1;
	pa.stats.free_pages -= npages;
	lower_min_free();
	return pg << PAGE_SHIFT;
fail:
	pa.stats.failures++;
	return 0;
}

/* Only successful frees count in free_calls, so alloc_calls - failures -
 * free_calls stays the number of live allocations. */
int page_free(uint64_t addr, uint64_t npages)
{
	uint64_t pg = addr >> PAGE_SHIFT;

	if (!pa.used || npages == 0 || (addr & (PAGE_SIZE - 1)) || pg == 0 ||
	    pg >= pa.npages || npages > pa.npages - pg)
		return -1;
	/* A free page in the range means a double free or a wrong count, an
	 * unmanaged one a wild address: refuse the whole call so the bitmap
	 * stays as it was. */
	if (!all_allocated(pg, pg + npages))
		return -1;
	set_used(pg, pg + npages, false);
	pa.stats.free_pages += npages;
	pa.stats.free_calls++;
	return 0;
}

void page_alloc_get_stats(struct page_alloc_stats *out)
{
	*out = pa.stats;
}

#define PS(field, name) COUNTER(U64, struct page_alloc_stats, field, name)
#define PG(field, name) GAUGE(U64, struct page_alloc_stats, field, name)
const struct counter_desc page_alloc_stats_counters[] = {
    PG(total_pages, "total"),
    PG(free_pages, "free"),
    PG(min_free_pages, "min_free"),
    PS(failures, "failures"),
};
const unsigned page_alloc_stats_counters_len =
    COUNTERS_LEN(page_alloc_stats_counters);

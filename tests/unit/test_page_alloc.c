/* kernel/page_alloc.c over fake physical addresses: the allocator must never
 * touch the memory it manages, so nothing here is backed by real pages
 * (ASan would catch a stray access). */
#include <stdint.h>

#include "kernel/page_alloc.h"
#include "tests/unit/check.h"

#define MiB (1ULL << 20)

static void *bitmap;

/* A fresh allocator covering [0, max_phys). */
static void setup(uint64_t max_phys)
{
	/* Static, so LeakSanitizer sees the last one as still reachable. */
	free(bitmap);
	bitmap = malloc(page_alloc_bitmap_bytes(max_phys));
	page_alloc_init(bitmap, max_phys);
}

static struct page_alloc_stats stats(void)
{
	struct page_alloc_stats s;

	page_alloc_get_stats(&s);
	return s;
}

TEST(page_bitmap_size)
{
	/* Two bits per page ("used" and "managed"), whole 64-bit words. */
	CHECK_EQ(page_alloc_bitmap_bytes(0), 0);
	CHECK_EQ(page_alloc_bitmap_bytes(PAGE_SIZE), 16);
	CHECK_EQ(page_alloc_bitmap_bytes(64 * PAGE_SIZE), 16);
	CHECK_EQ(page_alloc_bitmap_bytes(65 * PAGE_SIZE), 32);
	CHECK_EQ(page_alloc_bitmap_bytes(4096ULL * MiB), 2 * 4096 * 256 / 8);
	/* A partial top page is not covered. */
	CHECK_EQ(page_alloc_bitmap_bytes(64 * PAGE_SIZE + 100), 16);
}

TEST(page_nothing_free_after_init)
{
	struct page_alloc_stats s;

	setup(16 * MiB);
	CHECK_EQ(page_alloc(1, PAGE_SIZE), 0);
	s = stats();
	CHECK_EQ(s.total_pages, 0);
	CHECK_EQ(s.free_pages, 0);
	CHECK_EQ(s.alloc_calls, 1);
	CHECK_EQ(s.failures, 1);
}

TEST(page_single_pages_distinct_and_in_range)
{
	uint64_t got[32];

	setup(16 * MiB);
	page_alloc_add_free(0x100000, 32);
	for (int i = 0; i < 32; i++) {
		got[i] = page_alloc(1, PAGE_SIZE);
		CHECK(got[i] >= 0x100000 && got[i] < 0x100000 + 32 * PAGE_SIZE);
		CHECK_EQ(got[i] % PAGE_SIZE, 0);
		for (int j = 0; j < i; j++)
			CHECK(got[i] != got[j]);
	}
	CHECK_EQ(page_alloc(1, PAGE_SIZE), 0);
	CHECK_EQ(stats().free_pages, 0);
	CHECK_EQ(stats().min_free_pages, 0);
	for (int i = 0; i < 32; i++)
		CHECK_EQ(page_free(got[i], 1), 0);
	CHECK_EQ(stats().free_pages, 32);
	CHECK_EQ(stats().free_calls, 32);
	CHECK_EQ(stats().alloc_calls, 33);
	CHECK_EQ(stats().failures, 1);
}

TEST(page_zero_is_never_returned)
{
	setup(1 * MiB);
	page_alloc_add_free(0, 4);
	CHECK_EQ(stats().total_pages, 3);
	for (int i = 0; i < 3; i++)
		CHECK(page_alloc(1, 0) != 0);
	CHECK_EQ(page_alloc(1, 0), 0);
	CHECK_EQ(page_free(0, 1), -1);
}

TEST(page_large_aligned_runs)
{
	uint64_t a, b, c;

	setup(64 * MiB);
	page_alloc_add_free(0x100000, (32 * MiB) / PAGE_SIZE);
	/* Knock the next-fit hint off alignment first. */
	CHECK(page_alloc(1, PAGE_SIZE) != 0);
	a = page_alloc(512, LARGE_PAGE_SIZE);
	b = page_alloc(512, LARGE_PAGE_SIZE);
	CHECK(a && b && a != b);
	CHECK_EQ(a % LARGE_PAGE_SIZE, 0);
	CHECK_EQ(b % LARGE_PAGE_SIZE, 0);
	c = page_alloc(3, 64 * 1024);
	CHECK_EQ(c % (64 * 1024), 0);
	CHECK(c + 3 * PAGE_SIZE <= a || c >= a + LARGE_PAGE_SIZE);
	CHECK(c + 3 * PAGE_SIZE <= b || c >= b + LARGE_PAGE_SIZE);
	CHECK_EQ(page_free(a, 512), 0);
	CHECK_EQ(page_free(b, 512), 0);
}

TEST(page_exhaustion_counts_failures)
{
	setup(16 * MiB);
	page_alloc_add_free(0x200000, 10);
	CHECK_EQ(page_alloc(11, PAGE_SIZE), 0);
	CHECK_EQ(stats().failures, 1);
	CHECK(page_alloc(10, PAGE_SIZE) == 0x200000);
	CHECK_EQ(page_alloc(1, PAGE_SIZE), 0);
	CHECK_EQ(stats().failures, 2);
	CHECK_EQ(stats().free_pages, 0);
	CHECK_EQ(page_free(0x200000, 10), 0);
	CHECK_EQ(stats().free_pages, 10);
}

TEST(page_bad_arguments)
{
	setup(16 * MiB);
	page_alloc_add_free(0x200000, 64);
	CHECK_EQ(page_alloc(0, PAGE_SIZE), 0);
	CHECK_EQ(page_alloc(1, 3 * PAGE_SIZE), 0); /* not a power of two */
	CHECK_EQ(page_alloc(1, 1ULL << 63), 0);
	CHECK_EQ(page_alloc(UINT64_MAX, PAGE_SIZE), 0);
	CHECK_EQ(stats().failures, 4);
	CHECK_EQ(page_free(0x200000 + 1, 1), -1);
	CHECK_EQ(page_free(0x200000, 0), -1);
	CHECK_EQ(page_free(UINT64_MAX & ~(PAGE_SIZE - 1), 1), -1);
	CHECK_EQ(page_free(0x200000, UINT64_MAX), -1);
	CHECK_EQ(stats().free_pages, 64);
}

TEST(page_fragmentation)
{
	uint64_t p[8];

	setup(16 * MiB);
	page_alloc_add_free(0x300000, 8);
	for (int i = 0; i < 8; i++)
		p[i] = page_alloc(1, PAGE_SIZE);
	for (int i = 0; i < 8; i += 2)
		CHECK_EQ(page_free(p[i], 1), 0);
	/* Four pages free, but no two adjacent. */
	CHECK_EQ(stats().free_pages, 4);
	CHECK_EQ(page_alloc(2, PAGE_SIZE), 0);
	CHECK_EQ(page_free(p[5], 1), 0);
	/* p[4], p[5], p[6] now form the only run of two or more. */
	{
		uint64_t r = page_alloc(3, PAGE_SIZE);

		CHECK(r == 0x300000 + 4 * PAGE_SIZE);
	}
}

TEST(page_run_right_after_a_used_page)
{
	uint64_t p[8];

	setup(16 * MiB);
	page_alloc_add_free(0x300000, 8);
	for (int i = 0; i < 8; i++)
		p[i] = page_alloc(1, PAGE_SIZE);
	/* Free: p0, then p2..p4. The first candidate run breaks at p1; the
	 * search must restart at p2, not beyond it. */
	CHECK_EQ(page_free(p[0], 1), 0);
	for (int i = 2; i < 5; i++)
		CHECK_EQ(page_free(p[i], 1), 0);
	CHECK_EQ(page_alloc(3, PAGE_SIZE), p[2]);
}

TEST(page_double_free_leaves_bitmap_alone)
{
	uint64_t a, b;
	struct page_alloc_stats before;

	setup(16 * MiB);
	page_alloc_add_free(0x400000, 16);
	a = page_alloc(4, PAGE_SIZE);
	CHECK_EQ(page_free(a, 4), 0);
	before = stats();
	CHECK_EQ(page_free(a, 4), -1);
	CHECK_EQ(stats().free_pages, before.free_pages);
	CHECK_EQ(stats().free_calls, before.free_calls);
	/* A range that is only partly allocated is refused as a whole. */
	b = page_alloc(1, PAGE_SIZE);
	CHECK_EQ(page_free(b, 2), -1);
	CHECK_EQ(page_free(b, 1), 0);
}

TEST(page_free_of_unmanaged_memory_is_refused)
{
	setup(16 * MiB);
	page_alloc_add_free(0x400000, 16);
	/* Never added: firmware memory must not enter the pool this way. */
	CHECK_EQ(page_free(0x800000, 1), -1);
	CHECK_EQ(stats().free_pages, 16);
	CHECK_EQ(stats().total_pages, 16);
}

TEST(page_unaligned_add_takes_whole_pages_only)
{
	setup(16 * MiB);
	/* [0x100800, 0x104800) holds only 3 whole pages. */
	page_alloc_add_free(0x100800, 4);
	CHECK_EQ(stats().total_pages, 3);
	CHECK_EQ(page_alloc(3, PAGE_SIZE), 0x101000);
	/* A range beyond max_phys is clipped. */
	page_alloc_add_free(16 * MiB - 2 * PAGE_SIZE, 100);
	CHECK_EQ(stats().total_pages, 5);
	page_alloc_add_free(32 * MiB, 100);
	page_alloc_add_free(UINT64_MAX - 10, 100);
	CHECK_EQ(stats().total_pages, 5);
}

TEST(page_overlapping_add_does_not_double_count)
{
	uint64_t a;

	setup(16 * MiB);
	page_alloc_add_free(0x100000, 16);
	a = page_alloc(16, PAGE_SIZE);
	CHECK_EQ(a, 0x100000);
	/* Re-adding a range that is handed out must not free it. */
	page_alloc_add_free(0x100000, 32);
	CHECK_EQ(stats().total_pages, 32);
	CHECK_EQ(stats().free_pages, 16);
	for (int i = 0; i < 16; i++) {
		uint64_t p = page_alloc(1, PAGE_SIZE);

		CHECK(p >= 0x100000 + 16 * PAGE_SIZE);
	}
	CHECK_EQ(page_alloc(1, PAGE_SIZE), 0);
}

TEST(page_reserve)
{
	setup(16 * MiB);
	page_alloc_add_free(0x100000, 64);
	/* The bitmap's own pages, say; partial pages count as touched. */
	page_alloc_reserve(0x104000, 3);
	page_alloc_reserve(0x110800, 1); /* touches 0x110000 and 0x111000 */
	CHECK_EQ(stats().total_pages, 59);
	CHECK_EQ(stats().free_pages, 59);
	for (int i = 0; i < 59; i++) {
		uint64_t p = page_alloc(1, PAGE_SIZE);

		CHECK(p != 0);
		CHECK(p < 0x104000 || p >= 0x107000);
		CHECK(p != 0x110000 && p != 0x111000);
	}
	CHECK_EQ(page_alloc(1, PAGE_SIZE), 0);
	/* Reserved pages cannot be freed into the pool either. */
	CHECK_EQ(page_free(0x104000, 1), -1);
	/* Reserving outside the map or twice changes nothing. */
	page_alloc_reserve(0x104000, 3);
	page_alloc_reserve(64 * MiB, 3);
	CHECK_EQ(stats().total_pages, 59);
}

TEST(page_min_free_watermark)
{
	uint64_t a;

	setup(16 * MiB);
	page_alloc_add_free(0x100000, 100);
	CHECK_EQ(stats().min_free_pages, 100);
	a = page_alloc(40, PAGE_SIZE);
	CHECK_EQ(stats().min_free_pages, 60);
	CHECK_EQ(page_free(a, 40), 0);
	CHECK_EQ(stats().free_pages, 100);
	CHECK_EQ(stats().min_free_pages, 60);
	page_alloc_add_free(0x200000, 10);
	CHECK_EQ(stats().min_free_pages, 70);
	page_alloc_reserve(0x200000, 10);
	CHECK_EQ(stats().free_pages, 100);
	CHECK_EQ(stats().min_free_pages, 70);
}

TEST(page_next_fit_and_wraparound)
{
	uint64_t a, b, c;

	setup(16 * MiB);
	page_alloc_add_free(0x100000, 8);
	a = page_alloc(1, PAGE_SIZE);
	CHECK_EQ(page_free(a, 1), 0);
	/* The search resumes after the last allocation... */
	b = page_alloc(1, PAGE_SIZE);
	CHECK_EQ(b, a + PAGE_SIZE);
	c = page_alloc(6, PAGE_SIZE);
	CHECK_EQ(c, b + PAGE_SIZE);
	/* ...and wraps around to the freed page at the bottom. */
	CHECK_EQ(page_alloc(1, PAGE_SIZE), a);
	CHECK_EQ(page_alloc(1, PAGE_SIZE), 0);
}

TEST(page_run_straddling_the_hint)
{
	uint64_t p[8];

	setup(16 * MiB);
	page_alloc_add_free(0x100000, 8);
	for (int i = 0; i < 8; i++)
		p[i] = page_alloc(1, PAGE_SIZE);
	/* Free pages 2..5; the hint is now at the end of the region. */
	for (int i = 2; i < 6; i++)
		CHECK_EQ(page_free(p[i], 1), 0);
	CHECK_EQ(page_alloc(4, PAGE_SIZE), p[2]);
}

TEST(page_whole_gigabyte_in_large_pages)
{
	int n = 0;

	setup(1024 * MiB);
	page_alloc_add_free(PAGE_SIZE, (1024 * MiB) / PAGE_SIZE - 1);
	while (page_alloc(512, LARGE_PAGE_SIZE))
		n++;
	/* The first 2 MiB lacks page 0, so one large page is lost. */
	CHECK_EQ(n, 511);
	CHECK_EQ(stats().free_pages, 511);
}

/* ---- randomized stress against a shadow map ------------------------------ */

#define STRESS_PAGES 4096
#define STRESS_LIVE  256

static uint64_t rng = 0x243f6a8885a308d3ULL;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* shadow[i]: 0 = not managed, 1 = free, 2 = allocated. */
static unsigned char shadow[STRESS_PAGES];

static bool shadow_fits(uint64_t npages, uint64_t align_pages)
{
	for (uint64_t pg = align_pages; pg + npages <= STRESS_PAGES;
	     pg += align_pages) {
		uint64_t i = 0;

		while (i < npages && shadow[pg + i] == 1)
			i++;
		if (i == npages)
			return true;
	}
	return false;
}

static int shadow_free_count(void)
{
	int n = 0;

	for (int i = 0; i < STRESS_PAGES; i++)
		n += shadow[i] == 1;
	return n;
}

struct live {
	uint64_t addr, npages;
};

static int stress_alloc(struct live *l)
{
	uint64_t npages = 1 + rnd() % (rnd() % 8 ? 8 : 300);
	uint64_t align_pages = 1ULL << (rnd() % 7);
	uint64_t a = page_alloc(npages, align_pages * PAGE_SIZE);
	uint64_t pg = a / PAGE_SIZE;

	if (!a) {
		/* A failure must mean there really was no room. */
		CHECK(!shadow_fits(npages, align_pages));
		return 0;
	}
	CHECK_EQ(pg % align_pages, 0);
	CHECK(pg + npages <= STRESS_PAGES);
	for (uint64_t i = 0; i < npages; i++) {
		CHECK_EQ(shadow[pg + i], 1);
		shadow[pg + i] = 2;
	}
	l->addr = a;
	l->npages = npages;
	return 1;
}

static void stress_free(struct live *l)
{
	uint64_t pg = l->addr / PAGE_SIZE;

	CHECK_EQ(page_free(l->addr, l->npages), 0);
	for (uint64_t i = 0; i < l->npages; i++)
		shadow[pg + i] = 1;
	if (rnd() % 16 == 0)
		CHECK_EQ(page_free(l->addr, l->npages), -1);
	l->npages = 0;
}

TEST(page_random_stress_against_shadow)
{
	static struct live live[STRESS_LIVE];

	setup(STRESS_PAGES * PAGE_SIZE);
	memset(shadow, 0, sizeof(shadow));
	memset(live, 0, sizeof(live));
	/* Managed memory with holes, like a real firmware map. */
	for (uint64_t pg = 1; pg < STRESS_PAGES; pg += 1000) {
		page_alloc_add_free(pg * PAGE_SIZE, 900);
		for (uint64_t i = pg; i < pg + 900 && i < STRESS_PAGES; i++)
			shadow[i] = 1;
	}
	page_alloc_reserve(0x300000, 17);
	for (uint64_t i = 0x300; i < 0x300 + 17; i++)
		shadow[i] = 0;
	CHECK_EQ(stats().free_pages, shadow_free_count());
	for (int iter = 0; iter < 30000 && !check_failures_in_test; iter++) {
		struct live *l = &live[rnd() % STRESS_LIVE];

		if (l->npages)
			stress_free(l);
		else
			stress_alloc(l);
		if (iter % 1000 == 0)
			CHECK_EQ(stats().free_pages, shadow_free_count());
	}
	for (int i = 0; i < STRESS_LIVE; i++)
		if (live[i].npages)
			stress_free(&live[i]);
	CHECK_EQ(stats().free_pages, stats().total_pages);
	CHECK_EQ(stats().free_pages, shadow_free_count());
	CHECK_EQ(stats().alloc_calls - stats().failures, stats().free_calls);
}

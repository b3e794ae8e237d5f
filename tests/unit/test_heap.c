/* kernel/heap.c on host memory: the grow callback hands out page-aligned
 * host allocations (and frees them between tests), the corruption hook
 * records what it is told instead of panicking. */
#include <stdbool.h>
#include <stdint.h>

#include "kernel/heap.h"
#include "tests/unit/check.h"

#define MAX_REGIONS 4096

static void *regions[MAX_REGIONS];
static int nregions;
static int grow_calls;
static bool grow_refuses;

static void *test_grow(size_t *bytes)
{
	void *p;

	grow_calls++;
	if (grow_refuses || nregions == MAX_REGIONS)
		return NULL;
	*bytes = (*bytes + 4095) & ~(size_t)4095;
	p = aligned_alloc(4096, *bytes);
	if (p)
		regions[nregions++] = p;
	return p;
}

static int corruptions;
static const char *last_what;
static const void *last_ptr;

static void test_corruption(const char *what, const void *ptr)
{
	corruptions++;
	last_what = what;
	last_ptr = ptr;
}

/* Drops the previous heap (its memory goes back to the host) and starts a
 * fresh one. */
static void reset(size_t limit)
{
	for (int i = 0; i < nregions; i++)
		free(regions[i]);
	nregions = 0;
	grow_calls = 0;
	grow_refuses = false;
	corruptions = 0;
	last_what = NULL;
	last_ptr = NULL;
	heap_init(test_grow, test_corruption, limit);
}

static struct heap_stats stats(void)
{
	struct heap_stats s;

	heap_get_stats(&s);
	return s;
}

static void check_empty(void)
{
	struct heap_stats s = stats();

	CHECK_EQ(s.in_use, 0);
	CHECK_EQ(s.live_blocks, 0);
	CHECK_EQ(s.allocs, s.frees);
	CHECK_EQ(corruptions, 0);
}

TEST(heap_alignment_all_sizes)
{
	static void *p[5000];

	reset(0);
	for (size_t n = 0; n < 5000; n++) {
		p[n] = kmalloc(n);
		CHECK(p[n] != NULL);
		CHECK_EQ((uintptr_t)p[n] % 16, 0);
		memset(p[n], 0xa5, n);
	}
	CHECK_EQ(stats().live_blocks, 5000);
	CHECK_EQ(stats().in_use, 4999ULL * 5000 / 2);
	for (size_t n = 0; n < 5000; n++)
		kfree(p[n]);
	check_empty();
}

/* Fills a block with bytes derived from a tag, and checks them back. */
static void fill(void *p, size_t n, unsigned tag)
{
	unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(tag * 31 + i * 7);
}

static bool intact(const void *p, size_t n, unsigned tag)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != (unsigned char)(tag * 31 + i * 7))
			return false;
	return true;
}

TEST(heap_blocks_do_not_overlap)
{
	static void *p[600];
	static size_t sz[600];

	reset(0);
	for (unsigned i = 0; i < 600; i++) {
		sz[i] = (i * 37) % 3000 + (i % 50 == 0 ? 70000 : 0);
		p[i] = kmalloc(sz[i]);
		CHECK(p[i] != NULL);
		fill(p[i], sz[i], i);
	}
	for (unsigned i = 0; i < 600; i++)
		CHECK(intact(p[i], sz[i], i));
	for (unsigned i = 0; i < 600; i += 2)
		kfree(p[i]);
	for (unsigned i = 1; i < 600; i += 2)
		CHECK(intact(p[i], sz[i], i));
	for (unsigned i = 1; i < 600; i += 2)
		kfree(p[i]);
	check_empty();
}

TEST(heap_small_blocks_are_reused)
{
	void *a, *b;
	size_t arena;

	reset(0);
	a = kmalloc(100);
	kfree(a);
	b = kmalloc(120); /* same size class */
	CHECK(a == b);
	kfree(b);
	arena = stats().arena_bytes;
	for (int i = 0; i < 10000; i++)
		kfree(kmalloc(200));
	CHECK_EQ(stats().arena_bytes, arena);
	check_empty();
}

TEST(heap_large_regions_merge_and_are_reused)
{
	void *a, *b, *c, *big;
	size_t arena;

	reset(0);
	a = kmalloc(20000);
	b = kmalloc(20000);
	c = kmalloc(20000);
	CHECK(a && b && c);
	arena = stats().arena_bytes;
	kfree(a);
	kfree(c);
	kfree(b);
	/* The three neighbours merged back into one free region. */
	big = kmalloc(60000);
	CHECK(big != NULL);
	CHECK_EQ(stats().arena_bytes, arena);
	kfree(big);
	for (int i = 0; i < 1000; i++)
		kfree(kmalloc(5000 + i * 50));
	CHECK_EQ(stats().arena_bytes, arena);
	check_empty();
}

TEST(heap_stats_counts)
{
	struct heap_stats s;
	void *a, *b;

	reset(0);
	a = kmalloc(10);
	b = kmalloc(5000);
	s = stats();
	CHECK_EQ(s.in_use, 5010);
	CHECK_EQ(s.peak, 5010);
	CHECK_EQ(s.allocs, 2);
	CHECK_EQ(s.live_blocks, 2);
	CHECK(s.arena_bytes >= 64 * 1024);
	CHECK_EQ(s.arena_bytes % 4096, 0);
	kfree(a);
	s = stats();
	CHECK_EQ(s.in_use, 5000);
	CHECK_EQ(s.peak, 5010);
	CHECK_EQ(s.frees, 1);
	kfree(b);
	kfree(NULL);
	CHECK_EQ(stats().frees, 2);
	CHECK_EQ(stats().failures, 0);
	check_empty();
}

TEST(heap_zero_size)
{
	void *p;

	reset(0);
	p = kmalloc(0);
	CHECK(p != NULL);
	CHECK_EQ(stats().live_blocks, 1);
	kfree(p);
	check_empty();
}

TEST(heap_realloc_keeps_data)
{
	unsigned char *p, *q;

	reset(0);
	p = krealloc(NULL, 10);
	CHECK(p != NULL);
	fill(p, 10, 1);
	/* Within the size class: stays in place. */
	q = krealloc(p, 14);
	CHECK(q == p);
	CHECK(intact(q, 10, 1));
	fill(q, 14, 2);
	/* Small to small, small to large, large to larger, then back. */
	q = krealloc(q, 300);
	CHECK(intact(q, 14, 2));
	fill(q, 300, 3);
	q = krealloc(q, 9000);
	CHECK(intact(q, 300, 3));
	fill(q, 9000, 4);
	q = krealloc(q, 100000);
	CHECK(intact(q, 9000, 4));
	fill(q, 100000, 5);
	q = krealloc(q, 50);
	CHECK(intact(q, 50, 5));
	CHECK_EQ(stats().in_use, 50);
	CHECK_EQ(stats().live_blocks, 1);
	/* Old and new block were both live during the last move. */
	CHECK_EQ(stats().peak, 109000);
	/* realloc to 0 frees. */
	CHECK(krealloc(q, 0) == NULL);
	check_empty();
}

TEST(heap_realloc_failure_keeps_old_block)
{
	unsigned char *p;

	reset(128 * 1024);
	p = kmalloc(1000);
	fill(p, 1000, 9);
	CHECK(krealloc(p, 1 << 20) == NULL);
	CHECK_EQ(stats().failures, 1);
	CHECK(intact(p, 1000, 9));
	CHECK_EQ(stats().in_use, 1000);
	kfree(p);
	check_empty();
}

TEST(heap_calloc_zeroes_and_checks_overflow)
{
	unsigned char *p;
	bool zero = true;

	reset(0);
	/* Dirty a block first so calloc has to clear a reused one. */
	p = kmalloc(100);
	memset(p, 0xab, 100);
	kfree(p);
	p = kcalloc(10, 10);
	CHECK(p != NULL);
	for (int i = 0; i < 100; i++)
		zero = zero && p[i] == 0;
	CHECK(zero);
	kfree(p);
	CHECK(kcalloc(SIZE_MAX / 2, 3) == NULL);
	CHECK(kcalloc(3, SIZE_MAX / 2) == NULL);
	CHECK(kcalloc((size_t)1 << 33, (size_t)1 << 33) == NULL);
	CHECK_EQ(stats().failures, 3);
	p = kcalloc(0, 100);
	CHECK(p != NULL);
	kfree(p);
	check_empty();
}

TEST(heap_huge_requests_fail_cleanly)
{
	reset(0);
	CHECK(kmalloc(SIZE_MAX) == NULL);
	CHECK(kmalloc(SIZE_MAX - 15) == NULL);
	CHECK(kmalloc((size_t)1 << 62) == NULL);
	CHECK_EQ(stats().failures, 3);
	check_empty();
}

TEST(heap_limit_is_respected)
{
	static void *p[1000];
	int n = 0;

	reset(256 * 1024);
	while (n < 1000 && (p[n] = kmalloc(1000)) != NULL)
		n++;
	CHECK(n > 200); /* most of the 256 KiB is usable */
	CHECK(n < 1000);
	CHECK_EQ(stats().failures, 1);
	CHECK(stats().arena_bytes <= 256 * 1024);
	CHECK(kmalloc(100000) == NULL);
	CHECK_EQ(stats().failures, 2);
	for (int i = 0; i < n; i++)
		kfree(p[i]);
	CHECK(stats().arena_bytes <= 256 * 1024);
	check_empty();
}

TEST(heap_limit_below_one_chunk)
{
	void *p, *q;

	/* Less than the usual 64 KiB chunk: smaller grows still work. */
	reset(8192);
	p = kmalloc(100);
	CHECK(p != NULL);
	q = kmalloc(3000);
	CHECK(q != NULL);
	CHECK(stats().arena_bytes <= 8192);
	CHECK(kmalloc(6000) == NULL);
	kfree(p);
	kfree(q);
	check_empty();
}

TEST(heap_grow_refusal)
{
	reset(0);
	grow_refuses = true;
	CHECK(kmalloc(10) == NULL);
	CHECK(kmalloc(10000) == NULL);
	CHECK_EQ(stats().failures, 2);
	CHECK_EQ(stats().arena_bytes, 0);
	heap_init(NULL, NULL, 0);
	CHECK(kmalloc(10) == NULL);
	check_empty();
}

TEST(heap_double_free_small_is_reported)
{
	void *p, *q;
	struct heap_stats before;

	reset(0);
	p = kmalloc(40);
	q = kmalloc(40);
	kfree(p);
	before = stats();
	kfree(p);
	CHECK_EQ(corruptions, 1);
	CHECK(last_ptr == p);
	CHECK(strstr(last_what, "double free") != NULL);
	CHECK_EQ(stats().frees, before.frees);
	CHECK_EQ(stats().in_use, before.in_use);
	/* The free list is intact: p comes back once, then fresh memory. */
	CHECK(kmalloc(40) == p);
	CHECK(kmalloc(40) != p);
	CHECK_EQ(corruptions, 1);
	(void)q;
	reset(0);
}

TEST(heap_double_free_large_is_reported)
{
	void *p, *q;

	reset(0);
	p = kmalloc(10000);
	kfree(p);
	kfree(p);
	CHECK_EQ(corruptions, 1);
	CHECK(strstr(last_what, "double free") != NULL);
	q = kmalloc(30000);
	CHECK(q != NULL);
	kfree(q);
	CHECK_EQ(corruptions, 1);
	CHECK_EQ(stats().live_blocks, 0);
	reset(0);
}

TEST(heap_bad_pointers_are_reported)
{
	unsigned char *p;
	int local;

	reset(0);
	p = kmalloc(256);
	memset(p, 0, 256);
	kfree(p + 1); /* misaligned */
	CHECK_EQ(corruptions, 1);
	CHECK(last_ptr == p + 1);
	kfree(p + 64); /* inside the block: "header" is user data */
	CHECK_EQ(corruptions, 2);
	kfree(&local); /* not heap memory at all */
	CHECK_EQ(corruptions, 3);
	CHECK(krealloc(p + 32, 10) == NULL);
	CHECK_EQ(corruptions, 4);
	/* None of that disturbed the real block. */
	CHECK_EQ(stats().live_blocks, 1);
	kfree(p);
	CHECK_EQ(corruptions, 4);
	CHECK_EQ(stats().live_blocks, 0);
	reset(0);
}

TEST(heap_pointer_before_any_growth_is_reported)
{
	static _Alignas(16) unsigned char fake[64];

	reset(0);
	kfree(fake + 32);
	CHECK_EQ(corruptions, 1);
	reset(0);
}

TEST(heap_header_overwrite_is_detected)
{
	unsigned char *a, *b;

	reset(0);
	a = kmalloc(32);
	b = kmalloc(32);
	CHECK(b == a + 48); /* carved back to back */
	/* A 1-byte overflow of a reaches b's header. */
	a[32] ^= 0x40;
	kfree(b);
	CHECK_EQ(corruptions, 1);
	CHECK(strstr(last_what, "corrupted") != NULL);
	a[32] ^= 0x40;
	kfree(b);
	kfree(a);
	CHECK_EQ(corruptions, 1);
	/* A large block's region words are checked too. */
	a = kmalloc(9000);
	((uint64_t *)a)[-4] += 4096;
	kfree(a);
	CHECK_EQ(corruptions, 2);
	((uint64_t *)a)[-4] -= 4096;
	kfree(a);
	CHECK_EQ(corruptions, 2);
	CHECK_EQ(stats().live_blocks, 0);
	CHECK_EQ(stats().in_use, 0);
	reset(0);
}

TEST(heap_write_after_free_is_detected)
{
	void **p, *q;

	reset(0);
	p = kmalloc(64);
	q = kmalloc(64);
	kfree(q);
	kfree(p);
	/* Scribble over the free-list link stored in the freed block. */
	*p = (void *)0x1234567;
	CHECK(kmalloc(64) == p);
	CHECK_EQ(corruptions, 1);
	CHECK(strstr(last_what, "free list") != NULL);
	/* The poisoned list was dropped; allocation still works. */
	q = kmalloc(64);
	CHECK(q != NULL && q != (void *)0x1234567);
	CHECK_EQ(corruptions, 1);
	reset(0);
}

/* ---- randomized stress -----------------------------------------------------
 */

#define STRESS_SLOTS 1024

static uint64_t rng = 0x13198a2e03707344ULL;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t rnd_size(void)
{
	switch (rnd() % 8) {
	case 0:
		return rnd() % 40000; /* large path */
	case 1:
		return rnd() % 4096;
	default:
		return rnd() % 300; /* what lwIP mostly asks for */
	}
}

struct slot {
	void *p;
	size_t size;
	unsigned tag;
};

static void stress_step(struct slot *s, unsigned tag)
{
	size_t size;
	void *q;

	if (s->p && rnd() % 3 == 0) {
		CHECK(intact(s->p, s->size, s->tag));
		size = rnd_size();
		q = krealloc(s->p, size);
		if (size == 0) {
			s->p = NULL;
			return;
		}
		CHECK(q != NULL);
		CHECK(intact(q, size < s->size ? size : s->size, s->tag));
		s->p = q;
	} else if (s->p) {
		CHECK(intact(s->p, s->size, s->tag));
		kfree(s->p);
		s->p = NULL;
		return;
	} else {
		size = rnd_size();
		s->p = rnd() % 4 ? kmalloc(size) : kcalloc(1, size);
		CHECK(s->p != NULL);
		CHECK_EQ((uintptr_t)s->p % 16, 0);
	}
	s->size = size;
	s->tag = tag;
	fill(s->p, size, tag);
}

TEST(heap_random_stress_with_patterns)
{
	static struct slot slots[STRESS_SLOTS];
	uint64_t live_bytes = 0;

	reset(0);
	memset(slots, 0, sizeof(slots));
	for (unsigned i = 0; i < 100000 && !check_failures_in_test; i++)
		stress_step(&slots[rnd() % STRESS_SLOTS], i);
	for (int i = 0; i < STRESS_SLOTS; i++)
		if (slots[i].p)
			live_bytes += slots[i].size;
	CHECK_EQ(stats().in_use, live_bytes);
	for (int i = 0; i < STRESS_SLOTS; i++) {
		if (!slots[i].p)
			continue;
		CHECK(intact(slots[i].p, slots[i].size, slots[i].tag));
		kfree(slots[i].p);
	}
	check_empty();
	CHECK_EQ(stats().failures, 0);
	/* Reuse works: the arena stays far below what was handed out. */
	CHECK(stats().arena_bytes < 64ULL << 20);
	reset(0);
}

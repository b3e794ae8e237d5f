/* Kernel heap. Two paths share one pool of raw memory:
 *
 *  - small requests (<= 2048 bytes) are rounded up to one of a few size
 *    classes and served from per-class free lists, refilled by carving
 *    64 KiB chunks taken from the pool; small blocks never go back to the
 *    pool, only to their class list;
 *  - large requests take a dedicated region from the pool, which is an
 *    address-ordered first-fit free list that splits regions and merges
 *    neighbours again on free.
 *
 * The pool grows through the grow callback, capped by limit_bytes. Every
 * block starts with a 16-byte header whose check word mixes a magic, the
 * block's own address, its size and its state, so a wild pointer, a header
 * overwritten by an overflow and a double free are all caught and reported
 * through the corruption hook instead of corrupting the lists.
 *
 * Not reentrant: callers must not use the heap from interrupt handlers. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernel/heap.h"

#define HEAP_ALIGN  16
#define HEAP_MAGIC  0x5ea7b10cU
#define LARGE_MAGIC 0x1a76eb10c5ea7f00ULL
/* Small chunks and the minimum pool growth: one grow call per 16 pages. */
#define CHUNK_BYTES  (64 * 1024)
#define GROW_GRANULE 4096
/* A free region smaller than this is not split off; it stays with the
 * block, which only wastes a little of it. */
#define SPLIT_MIN 256
/* Far below SIZE_MAX, so header and rounding arithmetic cannot overflow. */
#define MAX_REQUEST ((size_t)1 << 40)

enum blk_state { BLK_USED = 0x5a5a, BLK_FREE = 0xf7ee };

/* Precedes every payload, so payloads are 16-byte aligned. */
struct blk_hdr {
	uint32_t check; /* see hdr_check() */
	uint8_t cls;	/* size-class index, or CLASS_LARGE */
	uint8_t pad;
	uint16_t state; /* enum blk_state */
	uint64_t size;	/* bytes requested by the caller */
};
_Static_assert(sizeof(struct blk_hdr) == HEAP_ALIGN, "header size");

/* A large block: the region it owns, then the common header. */
struct large_hdr {
	uint64_t region_bytes; /* whole region, this header included */
	uint64_t region_check; /* region_bytes ^ LARGE_MAGIC */
	struct blk_hdr h;
};
_Static_assert(sizeof(struct large_hdr) == 2 * HEAP_ALIGN, "large header");

/* A free region of the pool, kept in address order. */
struct pool_free {
	uint64_t bytes;
	struct pool_free *next;
};

/* Payload of a free small block. */
struct small_free {
	struct small_free *next;
};

static const uint16_t class_size[] = {
    16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048,
};
#define NCLASSES    (sizeof(class_size) / sizeof(class_size[0]))
#define CLASS_LARGE 0xff

static struct {
	heap_grow_fn grow;
	heap_corruption_fn on_corruption;
	size_t limit;
	struct small_free *small[NCLASSES]; /* per-class free lists */
	uintptr_t bump, bump_end;	    /* uncarved part of a chunk */
	struct pool_free *pool;		    /* free regions, by address */
	/* Lowest and highest addresses ever obtained: a pointer outside is
	 * rejected before its header is even read. */
	uintptr_t lo, hi;
	struct heap_stats stats;
} heap;

static void report(const char *what, const void *ptr)
{
	if (heap.on_corruption)
		heap.on_corruption(what, ptr);
}

static uint32_t hdr_check(const struct blk_hdr *h)
{
	uintptr_t a = (uintptr_t)h;

	return HEAP_MAGIC ^ (uint32_t)(a >> 4) ^ (uint32_t)((uint64_t)a >> 36) ^
	       (uint32_t)h->size ^ (uint32_t)(h->size >> 32) ^
	       ((uint32_t)h->cls << 24) ^ ((uint32_t)h->state << 8);
}

static void hdr_set(struct blk_hdr *h, unsigned cls, enum blk_state state,
		    uint64_t size)
{
	h->cls = (uint8_t)cls;
	h->pad = 0;
	h->state = (uint16_t)state;
	h->size = size;
	h->check = hdr_check(h);
}

static bool in_heap(uintptr_t a, size_t len)
{
	return a >= heap.lo && a < heap.hi && heap.hi - a >= len;
}

void heap_init(heap_grow_fn grow, heap_corruption_fn on_corruption,
	       size_t limit_bytes)
{
	memset(&heap, 0, sizeof(heap));
	heap.grow = grow;
	heap.on_corruption = on_corruption;
	heap.limit = limit_bytes;
	heap.lo = UINTPTR_MAX;
}

/* ---- the pool ---------------------------------------------------------- */

/* Inserts a free region in address order, merging it with neighbours that
 * touch it. */
static void pool_insert(uintptr_t start, uint64_t bytes)
{
	struct pool_free **link = &heap.pool, *prev = NULL, *node;

	while (*link && (uintptr_t)*link < start) {
		prev = *link;
		link = &prev->next;
	}
	if ((prev && (uintptr_t)prev + prev->bytes > start) ||
	    (*link && start + bytes > (uintptr_t)*link)) {
		/* Only a corrupted header can make a region overlap. */
		report("heap: freed region overlaps free memory",
		       (void *)start);
		return;
	}
	node = (struct pool_free *)start;
	node->bytes = bytes;
	node->next = *link;
	if (node->next && start + bytes == (uintptr_t)node->next) {
		node->bytes += node->next->bytes;
		node->next = node->next->next;
	}
	if (prev && (uintptr_t)prev + prev->bytes == start) {
		prev->bytes += node->bytes;
		prev->next = node->next;
	} else {
		*link = node;
	}
}

/* Gets at least min_bytes more from the grow callback into the pool. */
static bool pool_grow(uint64_t min_bytes)
{
	size_t want =
	    (min_bytes + GROW_GRANULE - 1) & ~(size_t)(GROW_GRANULE - 1);
	uintptr_t start, end;
	void *p;

	if (!heap.grow)
		return false;
	if (want < CHUNK_BYTES &&
	    (!heap.limit || heap.stats.arena_bytes + CHUNK_BYTES <= heap.limit))
		want = CHUNK_BYTES;
	if (heap.limit && heap.stats.arena_bytes + want > heap.limit)
		return false;
	p = heap.grow(&want);
	if (!p)
		return false;
	heap.stats.arena_bytes += want;
	/* The callback promises pages, but stay aligned whatever it gives. */
	start = ((uintptr_t)p + HEAP_ALIGN - 1) & ~(uintptr_t)(HEAP_ALIGN - 1);
	end = ((uintptr_t)p + want) & ~(uintptr_t)(HEAP_ALIGN - 1);
	if (end <= start)
		return false;
	if (start < heap.lo)
		heap.lo = start;
	if (end > heap.hi)
		heap.hi = end;
	/* Even a short region is kept: it may merge with a neighbour. */
	pool_insert(start, end - start);
	return true;
}

/* First fit from the pool; *bytes (a multiple of 16) may come back a bit
 * larger when the rest of the region would be too small to keep. */
static void *pool_take_fit(uint64_t *bytes)
{
	struct pool_free **link = &heap.pool;

	for (; *link; link = &(*link)->next) {
		struct pool_free *r = *link;
		struct pool_free *rest;

		if (r->bytes < *bytes)
			continue;
		if (r->bytes - *bytes < SPLIT_MIN) {
			*bytes = r->bytes;
			*link = r->next;
			return r;
		}
		/* The tail stays in place in the list: order is kept. */
		rest = (struct pool_free *)((uintptr_t)r + *bytes);
		rest->bytes = r->bytes - *bytes;
		rest->next = r->next;
		*link = rest;
		return r;
	}
	return NULL;
}

static void *pool_take(uint64_t *bytes)
{
	void *p = pool_take_fit(bytes);

	if (!p && pool_grow(*bytes))
		p = pool_take_fit(bytes);
	return p;
}

/* ---- small blocks -------------------------------------------------------- */

/* class_size[] in closed form, without a scan (kmalloc is on every
 * packet's path through lwIP's PBUF_RAM): 16-byte steps up to 64, then
 * 2^k and 1.5 * 2^k for k = 6..11 at indexes 2k - 9 and 2k - 8. */
static unsigned class_of(size_t size)
{
	unsigned k;

	if (size <= 64)
		return size ? (unsigned)(size - 1) / 16 : 0;
	if (size > 2048)
		return CLASS_LARGE;
	k = 63u - (unsigned)__builtin_clzll((unsigned long long)(size - 1));
	/* size is in (2^k, 2^(k+1)]. */
	return size <= ((size_t)3 << (k - 1)) ? 2 * k - 8 : 2 * k - 7;
}
_Static_assert(NCLASSES == 14, "class_of() knows the class sizes");

/* Makes room in the current chunk for one block of the class. */
static bool small_refill(size_t block)
{
	uint64_t bytes = CHUNK_BYTES;
	void *p;

	if (heap.bump_end - heap.bump >= block)
		return true;
	p = pool_take(&bytes);
	if (!p) {
		/* Near the limit a whole chunk may not fit, one block may. */
		bytes = block;
		p = pool_take(&bytes);
	}
	if (!p)
		return false;
	/* The rest of the old chunk is too small for this class; give it
	 * back to the pool (where it may merge) unless it is a crumb. */
	if (heap.bump_end - heap.bump >= SPLIT_MIN)
		pool_insert(heap.bump, heap.bump_end - heap.bump);
	heap.bump = (uintptr_t)p;
	heap.bump_end = heap.bump + bytes;
	return true;
}

/* Pops a block off a class free list, checking it was really free. */
static struct blk_hdr *small_pop(unsigned cls)
{
	struct small_free *f = heap.small[cls];
	struct blk_hdr *h;

	if (!f)
		return NULL;
	h = (struct blk_hdr *)f - 1;
	if (h->check != hdr_check(h) || h->state != BLK_FREE || h->cls != cls) {
		report("heap: free list corrupted (write after free?)", f);
		heap.small[cls] = NULL; /* drop the list, never follow it */
		return NULL;
	}
	heap.small[cls] = f->next;
	if (f->next && (((uintptr_t)f->next & (HEAP_ALIGN - 1)) ||
			!in_heap((uintptr_t)f->next, HEAP_ALIGN))) {
		report("heap: free list link corrupted (write after free?)", f);
		heap.small[cls] = NULL;
	}
	return h;
}

static void *small_alloc(size_t size, unsigned cls)
{
	size_t block = sizeof(struct blk_hdr) + class_size[cls];
	struct blk_hdr *h = small_pop(cls);

	if (!h) {
		if (!small_refill(block))
			return NULL;
		h = (struct blk_hdr *)heap.bump;
		heap.bump += block;
	}
	hdr_set(h, cls, BLK_USED, size);
	return h + 1;
}

static void small_free(struct blk_hdr *h)
{
	struct small_free *f = (struct small_free *)(h + 1);

	hdr_set(h, h->cls, BLK_FREE, 0);
	f->next = heap.small[h->cls];
	heap.small[h->cls] = f;
}

/* ---- large blocks -------------------------------------------------------- */

static void *large_alloc(size_t size)
{
	uint64_t bytes = (sizeof(struct large_hdr) + size + HEAP_ALIGN - 1) &
			 ~(uint64_t)(HEAP_ALIGN - 1);
	struct large_hdr *l = pool_take(&bytes);

	if (!l)
		return NULL;
	l->region_bytes = bytes;
	l->region_check = bytes ^ LARGE_MAGIC;
	hdr_set(&l->h, CLASS_LARGE, BLK_USED, size);
	return &l->h + 1;
}

static struct large_hdr *large_of(struct blk_hdr *h)
{
	return (struct large_hdr *)((uintptr_t)h - 2 * sizeof(uint64_t));
}

static void large_free(struct blk_hdr *h)
{
	struct large_hdr *l = large_of(h);

	/* The state survives in the header (the pool node only overwrites
	 * the region words before it), so a second kfree is still caught. */
	hdr_set(h, CLASS_LARGE, BLK_FREE, 0);
	pool_insert((uintptr_t)l, l->region_bytes);
}

/* Shrinks a large block's region to fit size, if a page or more frees. */
static void large_trim(struct large_hdr *l, size_t size)
{
	uint64_t keep =
	    (sizeof(*l) + size + HEAP_ALIGN - 1) & ~(uint64_t)(HEAP_ALIGN - 1);

	if (l->region_bytes - keep < GROW_GRANULE)
		return;
	pool_insert((uintptr_t)l + keep, l->region_bytes - keep);
	l->region_bytes = keep;
	l->region_check = keep ^ LARGE_MAGIC;
}

/* ---- the API ------------------------------------------------------------- */

/* Checks that ptr is a live block and returns its header; reports and
 * returns NULL otherwise. Nothing is written either way. */
static struct blk_hdr *lookup(const void *ptr)
{
	uintptr_t a = (uintptr_t)ptr;
	struct blk_hdr *h = (struct blk_hdr *)ptr - 1;
	struct large_hdr *l;

	if ((a & (HEAP_ALIGN - 1)) || a < sizeof(struct blk_hdr) ||
	    !in_heap(a - sizeof(struct blk_hdr), sizeof(struct blk_hdr))) {
		report("heap: pointer was never returned by kmalloc", ptr);
		return NULL;
	}
	if (h->check != hdr_check(h) ||
	    (h->cls >= NCLASSES && h->cls != CLASS_LARGE)) {
		report("heap: bad pointer or corrupted block header", ptr);
		return NULL;
	}
	if (h->state == BLK_FREE) {
		report("heap: double free (block is already free)", ptr);
		return NULL;
	}
	if (h->cls != CLASS_LARGE)
		return h;
	l = large_of(h);
	if (!in_heap((uintptr_t)l, sizeof(*l)) ||
	    l->region_check != (l->region_bytes ^ LARGE_MAGIC) ||
	    l->region_bytes < sizeof(*l) + h->size ||
	    !in_heap((uintptr_t)l, l->region_bytes)) {
		report("heap: corrupted large block header", ptr);
		return NULL;
	}
	return h;
}

static size_t capacity_of(const struct blk_hdr *h)
{
	if (h->cls == CLASS_LARGE)
		return large_of((struct blk_hdr *)h)->region_bytes -
		       sizeof(struct large_hdr);
	return class_size[h->cls];
}

static void count_alloc(size_t size)
{
	heap.stats.allocs++;
	heap.stats.live_blocks++;
	heap.stats.in_use += size;
	if (heap.stats.in_use > heap.stats.peak)
		heap.stats.peak = heap.stats.in_use;
}

void *kmalloc(size_t size)
{
	unsigned cls = class_of(size);
	void *p = NULL;

	if (size <= MAX_REQUEST)
		p = cls == CLASS_LARGE ? large_alloc(size)
				       : small_alloc(size, cls);
	if (!p) {
		heap.stats.failures++;
		return NULL;
	}
	count_alloc(size);
	return p;
}

void *kcalloc(size_t n, size_t size)
{
	void *p;

	if (size && n > SIZE_MAX / size) {
		heap.stats.failures++;
		return NULL;
	}
	p = kmalloc(n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

void kfree(void *ptr)
{
	struct blk_hdr *h;

	if (!ptr)
		return;
	h = lookup(ptr);
	if (!h)
		return;
	heap.stats.frees++;
	heap.stats.live_blocks--;
	heap.stats.in_use -= h->size;
	if (h->cls == CLASS_LARGE)
		large_free(h);
	else
		small_free(h);
}

void *krealloc(void *ptr, size_t size)
{
	struct blk_hdr *h;
	void *p;

	if (!ptr)
		return kmalloc(size);
	if (size == 0) {
		kfree(ptr);
		return NULL;
	}
	h = lookup(ptr);
	if (!h)
		return NULL;
	if (size <= capacity_of(h)) {
		/* Fits where it is: only the accounting changes, and a large
		 * block gives back a tail worth having. */
		if (h->cls == CLASS_LARGE)
			large_trim(large_of(h), size);
		heap.stats.in_use = heap.stats.in_use - h->size + size;
		if (heap.stats.in_use > heap.stats.peak)
			heap.stats.peak = heap.stats.in_use;
		hdr_set(h, h->cls, BLK_USED, size);
		return ptr;
	}
	p = kmalloc(size);
	if (!p)
		return NULL; /* the old block stays valid, as in C */
	memcpy(p, ptr, h->size);
	kfree(ptr);
	return p;
}

void heap_get_stats(struct heap_stats *out)
{
	*out = heap.stats;
}

#define HS(field, name) COUNTER(U64, struct heap_stats, field, name)
#define HG(field, name) GAUGE(U64, struct heap_stats, field, name)
const struct counter_desc heap_stats_counters[] = {
    HG(in_use, "in_use"), HG(peak, "peak"),   HG(arena_bytes, "arena"),
    HS(allocs, "allocs"), HS(frees, "frees"), HS(failures, "failures"),
};
const unsigned heap_stats_counters_len = COUNTERS_LEN(heap_stats_counters);

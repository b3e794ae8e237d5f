/* The kernel heap: malloc/free/calloc/realloc for lwIP and the services.
 * Memory comes in chunks from a grow callback (the page allocator in the
 * kernel, the host's allocator in tests). Out of memory returns NULL and
 * counts a failure; a corrupted block header or a double free is detected
 * and reported through heap_corruption_hook (the kernel panics there). */
#ifndef SKIFF_KERNEL_HEAP_H
#define SKIFF_KERNEL_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/counters.h"

struct heap_stats {
	uint64_t in_use;      /* bytes handed out now (requested sizes) */
	uint64_t peak;	      /* high-water mark of in_use */
	uint64_t arena_bytes; /* bytes obtained from the grow callback */
	uint64_t allocs;      /* successful allocations */
	uint64_t frees;
	uint64_t failures;    /* allocations that returned NULL */
	uint64_t live_blocks; /* allocs - frees */
};

/* Returns a region of at least *bytes (a multiple of 4096, updated to what
 * was really given) or NULL. */
typedef void *(*heap_grow_fn)(size_t *bytes);
/* Called with a message when the heap finds itself corrupted. */
typedef void (*heap_corruption_fn)(const char *what, const void *ptr);

/* limit_bytes caps arena_bytes (0 = no cap). */
void heap_init(heap_grow_fn grow, heap_corruption_fn on_corruption,
	       size_t limit_bytes);
void *kmalloc(size_t size);	      /* 16-byte aligned */
void *kcalloc(size_t n, size_t size); /* overflow-checked */
void *krealloc(void *ptr, size_t size);
void kfree(void *ptr); /* kfree(NULL) is a no-op */
void heap_get_stats(struct heap_stats *out);
/* The /stats "heap" member: names, order and types (kernel/counters.h). */
extern const struct counter_desc heap_stats_counters[];
extern const unsigned heap_stats_counters_len;

#endif

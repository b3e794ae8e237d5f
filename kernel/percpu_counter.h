/* Counters with one writer each: every CPU bumps only its own copy, so an
 * increment is a plain load and store (no locked instruction, no shared
 * cache line), and a reader sums the copies. The accesses are atomic
 * (relaxed) so a reader never sees a torn value and the compiler never
 * splits or caches them; a sum taken while CPUs count is a value the total
 * passed through or will pass (each copy only grows). */
#ifndef SKIFF_KERNEL_PERCPU_COUNTER_H
#define SKIFF_KERNEL_PERCPU_COUNTER_H

#include <stdint.h>

/* Adds n to a counter only the calling CPU writes. */
static inline void percpu_counter_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

/* Reads another CPU's counter (or our own). */
static inline uint64_t percpu_counter_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* Sums field `off` bytes into each of n structs of size `stride`. */
static inline uint64_t percpu_counter_sum(const void *base, unsigned n,
					  uint64_t stride, uint64_t off)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < n; i++)
		sum += percpu_counter_read(
		    (const uint64_t *)((const char *)base + i * stride + off));
	return sum;
}

#endif

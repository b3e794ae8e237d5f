/* Accessors for memory-mapped device registers. Each is a single volatile
 * access of exactly the register's width, so the compiler neither merges,
 * splits, elides nor reorders them against other volatile accesses; the
 * "memory" clobber also keeps ordinary memory accesses (e.g. ring contents)
 * on their side of the register access. BARs are mapped uncached, which
 * orders the accesses on the bus. */
#ifndef SKIFF_KERNEL_MMIO_H
#define SKIFF_KERNEL_MMIO_H

#include <stdint.h>

#define MMIO_ACCESSORS(bits)                                                   \
	static inline uint##bits##_t mmio_read##bits(const volatile void *a)   \
	{                                                                      \
		uint##bits##_t v;                                              \
		__asm__ volatile("" : : : "memory");                           \
		v = *(const volatile uint##bits##_t *)a;                       \
		__asm__ volatile("" : : : "memory");                           \
		return v;                                                      \
	}                                                                      \
	static inline void mmio_write##bits(volatile void *a,                  \
					    uint##bits##_t v)                  \
	{                                                                      \
		__asm__ volatile("" : : : "memory");                           \
		*(volatile uint##bits##_t *)a = v;                             \
		__asm__ volatile("" : : : "memory");                           \
	}

MMIO_ACCESSORS(8)
MMIO_ACCESSORS(16)
MMIO_ACCESSORS(32)
MMIO_ACCESSORS(64)

#undef MMIO_ACCESSORS

#endif

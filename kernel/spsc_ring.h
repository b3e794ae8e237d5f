/* A single-producer, single-consumer ring of pointers, lock-free: one CPU
 * only ever puts, one other CPU only ever takes (as Linux's RPS backlog
 * hand-off between cores, here without a lock). The producer owns `tail`,
 * the consumer owns `head`; each reads the other's index with acquire and
 * publishes its own with release, so a slot's contents are visible before
 * the index that hands it over. The two indices sit on their own cache
 * lines so the CPUs do not fight over one line per packet.
 *
 * Capacity is a power of two; indices run freely and wrap as uint32_t. */
#ifndef SKIFF_KERNEL_SPSC_RING_H
#define SKIFF_KERNEL_SPSC_RING_H

#include <stdbool.h>
#include <stdint.h>

struct spsc_ring {
	uint32_t head __attribute__((aligned(64))); /* next slot to take */
	uint32_t tail __attribute__((aligned(64))); /* next slot to fill */
	uint32_t mask __attribute__((aligned(64))); /* capacity - 1 */
	void **slots;
};

/* slots must hold capacity pointers; capacity a power of two >= 2.
 * Returns false for a bad capacity. */
static inline bool spsc_ring_init(struct spsc_ring *r, void **slots,
				  uint32_t capacity)
{
	if (capacity < 2 || (capacity & (capacity - 1)))
		return false;
	r->head = r->tail = 0;
	r->mask = capacity - 1;
	r->slots = slots;
	return true;
}

/* Producer side. False when the ring is full (the caller counts a drop). */
static inline bool spsc_ring_put(struct spsc_ring *r, void *p)
{
	uint32_t tail = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);
	uint32_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);

	if (tail - head > r->mask)
		return false;
	r->slots[tail & r->mask] = p;
	__atomic_store_n(&r->tail, tail + 1, __ATOMIC_RELEASE);
	return true;
}

/* Consumer side. NULL when the ring is empty. */
static inline void *spsc_ring_take(struct spsc_ring *r)
{
	uint32_t head = __atomic_load_n(&r->head, __ATOMIC_RELAXED);
	uint32_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);

	if (head == tail)
		return NULL;
	void *p = r->slots[head & r->mask];
	__atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
	return p;
}

/* Entries waiting; exact for either side, a snapshot for anyone else. */
static inline uint32_t spsc_ring_count(const struct spsc_ring *r)
{
	return __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
}

#endif

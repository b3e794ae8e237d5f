/* A ticket spinlock: CPUs get the lock in the order they asked for it, so
 * none starves. Each lock's definition says what it protects.
 *
 * The _irqsave forms also hold interrupts off on this CPU: a lock that an
 * interrupt handler may take must always be taken that way, or the handler
 * would spin on a lock its own CPU holds. */
#ifndef SKIFF_KERNEL_SPINLOCK_H
#define SKIFF_KERNEL_SPINLOCK_H

#include <stdint.h>

#include "kernel/cpu.h"

struct spinlock {
	uint32_t next;	/* the ticket the next CPU to ask gets */
	uint32_t owner; /* the ticket that holds the lock now */
};

#define SPINLOCK_INIT                                                          \
	{                                                                      \
		0, 0                                                           \
	}

static inline void spin_lock(struct spinlock *l)
{
	uint32_t ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);

	/* Acquire: what the previous holder wrote is visible once its
	 * release of owner is. */
	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != ticket)
		cpu_relax();
}

/* True when the lock was free and is now ours. */
static inline int spin_trylock(struct spinlock *l)
{
	/* Acquire here, not on the exchange: it is the previous holder's
	 * release of owner that publishes its writes (ThreadSanitizer
	 * caught a relaxed load in tests/unit/test_smp_lockfree.c). */
	uint32_t owner = __atomic_load_n(&l->owner, __ATOMIC_ACQUIRE);
	uint32_t expect = owner;

	return __atomic_compare_exchange_n(&l->next, &expect, owner + 1, 0,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static inline void spin_unlock(struct spinlock *l)
{
	/* Only the holder writes owner: a plain read of it is ours. */
	uint32_t owner = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);

	__atomic_store_n(&l->owner, owner + 1, __ATOMIC_RELEASE);
}

#ifndef SKIFF_HOST_TEST
static inline uint64_t spin_lock_irqsave(struct spinlock *l)
{
	uint64_t flags = irq_save();

	spin_lock(l);
	return flags;
}

static inline void spin_unlock_irqrestore(struct spinlock *l, uint64_t flags)
{
	spin_unlock(l);
	irq_restore(flags);
}
#endif

#endif

/* The multi-CPU primitives under real threads, built with ThreadSanitizer
 * (tests/unit/smp.mk): the SPSC ring hands every pointer over once and in
 * order, per-CPU counters sum right while they count, and the ticket
 * spinlock keeps a critical section exclusive. A data race, a lost or
 * duplicated entry, or a wrong sum fails the test (TSan's own report
 * makes the binary exit non-zero). */
#include <pthread.h>
#include <stdint.h>

#include "kernel/percpu_counter.h"
#include "kernel/spinlock.h"
#include "kernel/spsc_ring.h"
#include "tests/unit/check.h"

#define RING_ITEMS 100000
#define THREADS	   4

struct ring_test {
	struct spsc_ring ring;
	void *slots[64];
	uint64_t full_seen, errors, taken;
};

/* Payloads live in an array the consumer reads after taking the pointer:
 * TSan checks the release/acquire pair publishes them. */
static uint64_t payload[RING_ITEMS];

static void *producer(void *arg)
{
	struct ring_test *t = arg;

	for (uint64_t i = 0; i < RING_ITEMS; i++) {
		payload[i] = i * 3 + 1;
		while (!spsc_ring_put(&t->ring, &payload[i]))
			t->full_seen++;
	}
	return NULL;
}

static void *consumer(void *arg)
{
	struct ring_test *t = arg;
	uint64_t next = 0;

	while (next < RING_ITEMS) {
		uint64_t *p = spsc_ring_take(&t->ring);
		if (!p)
			continue;
		if (p != &payload[next] || *p != next * 3 + 1)
			t->errors++;
		next++;
	}
	t->taken = next;
	return NULL;
}

TEST(spsc_ring_in_order_no_loss_under_threads)
{
	static struct ring_test t;
	pthread_t a, b;

	CHECK(spsc_ring_init(&t.ring, t.slots, 64));
	pthread_create(&b, NULL, consumer, &t);
	pthread_create(&a, NULL, producer, &t);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	CHECK_EQ(t.errors, 0);
	CHECK_EQ(t.taken, RING_ITEMS);
	CHECK(spsc_ring_take(&t.ring) == NULL);
	CHECK_EQ(spsc_ring_count(&t.ring), 0);
}

TEST(spsc_ring_full_and_wrap)
{
	struct spsc_ring r;
	void *slots[4];
	int v[8];

	CHECK(!spsc_ring_init(&r, slots, 6)); /* not a power of two */
	CHECK(!spsc_ring_init(&r, slots, 1));
	CHECK(spsc_ring_init(&r, slots, 4));
	/* Start near the wrap of the 32-bit indices. */
	r.head = r.tail = UINT32_MAX - 1;
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 4; i++)
			CHECK(spsc_ring_put(&r, &v[i]));
		CHECK(!spsc_ring_put(&r, &v[4]));
		CHECK_EQ(spsc_ring_count(&r), 4);
		for (int i = 0; i < 4; i++)
			CHECK(spsc_ring_take(&r) == &v[i]);
		CHECK(spsc_ring_take(&r) == NULL);
	}
}

/* One counter per "CPU", each on its own line, as in struct percpu. */
static struct {
	uint64_t n;
	char pad[56];
} counters[THREADS];
static int counting_done;

static void *count_up(void *arg)
{
	uint64_t *c = &counters[(intptr_t)arg].n;

	for (int i = 0; i < 100000; i++)
		percpu_counter_add(c, 1);
	return NULL;
}

static void *sum_while_counting(void *arg)
{
	uint64_t last = 0, *bad = arg;

	while (!__atomic_load_n(&counting_done, __ATOMIC_ACQUIRE)) {
		uint64_t s = percpu_counter_sum(counters, THREADS,
						sizeof(counters[0]), 0);
		if (s < last || s > THREADS * 100000ULL)
			(*bad)++;
		last = s;
	}
	return NULL;
}

TEST(percpu_counters_sum_right_while_counting)
{
	pthread_t w[THREADS], r;
	uint64_t bad = 0;

	pthread_create(&r, NULL, sum_while_counting, &bad);
	for (intptr_t i = 0; i < THREADS; i++)
		pthread_create(&w[i], NULL, count_up, (void *)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(w[i], NULL);
	__atomic_store_n(&counting_done, 1, __ATOMIC_RELEASE);
	pthread_join(r, NULL);
	CHECK_EQ(bad, 0);
	CHECK_EQ(percpu_counter_sum(counters, THREADS, sizeof(counters[0]), 0),
		 THREADS * 100000ULL);
}

static struct spinlock lock = SPINLOCK_INIT;
static uint64_t guarded_a, guarded_b; /* plain: only under the lock */

static void *locked_work(void *arg)
{
	uint64_t *mismatch = arg;

	for (int i = 0; i < 50000; i++) {
		if (i % 7 == 0) {
			while (!spin_trylock(&lock))
				;
		} else {
			spin_lock(&lock);
		}
		if (guarded_a != guarded_b)
			(*mismatch)++;
		guarded_a++;
		guarded_b++;
		spin_unlock(&lock);
	}
	return NULL;
}

TEST(spinlock_excludes_under_threads)
{
	pthread_t w[THREADS];
	uint64_t mismatch[THREADS] = {0};

	for (int i = 0; i < THREADS; i++)
		pthread_create(&w[i], NULL, locked_work, &mismatch[i]);
	for (int i = 0; i < THREADS; i++)
		pthread_join(w[i], NULL);
	for (int i = 0; i < THREADS; i++)
		CHECK_EQ(mismatch[i], 0);
	CHECK_EQ(guarded_a, THREADS * 50000ULL);
	CHECK_EQ(guarded_b, THREADS * 50000ULL);
}

/* The hand-off of netdev/rps.c between a queue's owner CPU and CPU 0, with
 * its exact protocol: the owner writes a frame's descriptor (indexed by
 * buffer handle), puts its address on the to-stack ring; CPU 0 takes it,
 * reads the descriptor, and gives the handle back on the back ring; the
 * owner reuses the handle only after it came back. Every buffer circulates
 * through both rings many times; TSan checks the descriptor writes are
 * published by the ring, the checks below that no handle is lost or
 * doubled. Both sides also sleep with the Dekker flags of rps.c (set the
 * own flag with a full fence, look at the ring once more; the other side
 * puts, fences, reads the flag and "wakes"), so a lost wake-up would hang
 * the sleeper: each sleep is bounded and counted as a failure. */
#define RPS_BUFS   64
#define RPS_ROUNDS 50000

struct rps_desc {
	uint32_t handle, len;
	uint64_t stamp;
};

struct rps_test {
	struct spsc_ring to_stack, back;
	void *to_slots[RPS_BUFS], *back_slots[RPS_BUFS];
	struct rps_desc desc[RPS_BUFS];
	bool owner_sleeping, stack_sleeping;
	uint32_t owner_wakes, stack_wakes; /* the "IPIs" */
	uint64_t errors, lost_wakes;
};

/* Sleeps until *wakes moves or ring has entries; false after ~2 s
 * (a wake-up was lost). */
static bool rps_sleep(bool *flag, uint32_t *wakes, struct spsc_ring *ring)
{
	uint32_t seen = __atomic_load_n(wakes, __ATOMIC_ACQUIRE);

	__atomic_store_n(flag, true, __ATOMIC_SEQ_CST);
	if (spsc_ring_count(ring)) {
		__atomic_store_n(flag, false, __ATOMIC_RELAXED);
		return true;
	}
	for (long spins = 0; spins < 200000000L; spins++)
		if (__atomic_load_n(wakes, __ATOMIC_ACQUIRE) != seen) {
			__atomic_store_n(flag, false, __ATOMIC_RELAXED);
			return true;
		}
	__atomic_store_n(flag, false, __ATOMIC_RELAXED);
	return false;
}

/* The full fence of rps.c: TSan rejects atomic_thread_fence, so a locked
 * read-modify-write (also a full barrier on x86) stands in for it. */
static uint32_t fence_word;

static void rps_wake_if(bool *flag, uint32_t *wakes)
{
	__atomic_fetch_add(&fence_word, 0, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(flag, __ATOMIC_SEQ_CST))
		__atomic_fetch_add(wakes, 1, __ATOMIC_RELEASE);
}

static void *rps_owner(void *arg)
{
	struct rps_test *t = arg;
	uint32_t free_stack[RPS_BUFS], nfree = RPS_BUFS;
	bool owned[RPS_BUFS];

	for (uint32_t i = 0; i < RPS_BUFS; i++) {
		free_stack[i] = i;
		owned[i] = true;
	}
	for (uint64_t sent = 0; sent < RPS_ROUNDS;) {
		void *p;

		while ((p = spsc_ring_take(&t->back)) != NULL) {
			uint32_t h = (uint32_t)((uintptr_t)p - 1);

			if (h >= RPS_BUFS || owned[h])
				t->errors++;
			else
				owned[h] = true, free_stack[nfree++] = h;
		}
		if (!nfree) {
			if (!rps_sleep(&t->owner_sleeping, &t->owner_wakes,
				       &t->back))
				t->lost_wakes++;
			continue;
		}
		uint32_t h = free_stack[--nfree];
		struct rps_desc *d = &t->desc[h];

		owned[h] = false;
		d->handle = h;
		d->len = (uint32_t)(sent % 1500) + 60;
		d->stamp = sent;
		if (!spsc_ring_put(&t->to_stack, d))
			t->errors++; /* cannot be full: RPS_BUFS slots */
		rps_wake_if(&t->stack_sleeping, &t->stack_wakes);
		sent++;
	}
	return NULL;
}

static void *rps_stack(void *arg)
{
	struct rps_test *t = arg;
	uint64_t next = 0;

	while (next < RPS_ROUNDS) {
		struct rps_desc *d = spsc_ring_take(&t->to_stack);

		if (!d) {
			if (!rps_sleep(&t->stack_sleeping, &t->stack_wakes,
				       &t->to_stack))
				t->lost_wakes++;
			continue;
		}
		if (d->stamp != next ||
		    d->len != (uint32_t)(next % 1500) + 60 ||
		    d != &t->desc[d->handle])
			t->errors++;
		next++;
		if (!spsc_ring_put(&t->back,
				   (void *)((uintptr_t)d->handle + 1)))
			t->errors++;
		rps_wake_if(&t->owner_sleeping, &t->owner_wakes);
	}
	return NULL;
}

TEST(rps_handoff_round_trip_under_threads)
{
	static struct rps_test t;
	pthread_t a, b;

	CHECK(spsc_ring_init(&t.to_stack, t.to_slots, RPS_BUFS));
	CHECK(spsc_ring_init(&t.back, t.back_slots, RPS_BUFS));
	pthread_create(&a, NULL, rps_owner, &t);
	pthread_create(&b, NULL, rps_stack, &t);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	CHECK_EQ(t.errors, 0);
	CHECK_EQ(t.lost_wakes, 0);
	/* Every buffer came back but the ones still on the way home. */
	CHECK(spsc_ring_count(&t.to_stack) == 0);
}

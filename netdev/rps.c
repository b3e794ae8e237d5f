/* Receive packet steering between cores: see rps.h. Exercised by
 * tests/qemu/test_mq.py (2 vCPUs, a 2-queue tap) and, for the rings under
 * real threads, by the ThreadSanitizer build of tests/unit/
 * test_smp_lockfree.c. */
#include "netdev/rps.h"

#include <string.h>

#include "kernel/heap.h"
#include "kernel/page_alloc.h"
#include "netdev/tc_hook.h"

/* CPU 0 is halted waiting for work: owners that hand it frames wake it. */
static bool stack_sleeping;

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t c = 2;

	while (c < n)
		c <<= 1;
	return c;
}

static void rps_frame_free(void *ctx, void *frame)
{
	/* Only RX buffers (XDP_TX) go out on an owner's queue: they come
	 * back through rx_returned, never here. */
	(void)ctx;
	(void)frame;
}

static void rps_rx_returned(void *ctx)
{
	(void)ctx; /* netdev_rps_poll refills after every reclaim */
}

struct netdev_rps_queue *netdev_rps_create(struct vnet *vn, unsigned queue,
					   unsigned cpu)
{
	uint64_t pages =
	    (sizeof(struct netdev_rps_queue) + PAGE_SIZE - 1) / PAGE_SIZE;
	uint64_t mem = page_alloc(pages, PAGE_SIZE);
	struct netdev_rps_queue *q = (void *)(uintptr_t)mem;
	uint32_t bufs = vnet_rx_pool_size(vn), cap = pow2_at_least(bufs);

	if (!q)
		return NULL;
	memset(q, 0, sizeof(*q));
	q->vnet = vn;
	q->queue = queue;
	q->cpu = cpu;
	q->ndesc = bufs;
	q->desc = kcalloc(bufs, sizeof(*q->desc));
	q->to_slots = kcalloc(cap, sizeof(void *));
	q->back_slots = kcalloc(cap, sizeof(void *));
	if (!q->desc || !q->to_slots || !q->back_slots ||
	    !spsc_ring_init(&q->to_stack, q->to_slots, cap) ||
	    !spsc_ring_init(&q->back, q->back_slots, cap) ||
	    netdev_tx_init(&q->tx, vn, false, 0,
			   &(struct netdev_tx_ops){
			       .ctx = q,
			       .frame_free = rps_frame_free,
			       .rx_returned = rps_rx_returned,
			   }) != 0) {
		kfree(q->desc);
		kfree(q->to_slots);
		kfree(q->back_slots);
		page_free(mem, pages);
		return NULL;
	}
	netdev_tx_rx_port(&q->tx, &q->port);
	q->port.queue = queue;
	return q;
}

/* ---- the owner CPU ---- */

/* vnet_rx_poll() callback on the owner: the hooks, then off to CPU 0. */
static void rps_rx_frame(void *ctx, void *frame, uint32_t len, uint32_t handle,
			 uint8_t flags)
{
	struct netdev_rps_queue *q = ctx;
	struct netdev_rps_desc *d;

	q->stats.rx_frames++;
	if (netdev_rx_hook_armed() &&
	    netdev_rx_hook_run(&q->port, frame, len, handle, flags)) {
		q->stats.hooked++;
		return;
	}
	if (tc_armed(TC_INGRESS) &&
	    tc_ingress_run(&q->port, frame, len, handle, flags)) {
		q->stats.hooked++;
		return;
	}
	/* The driver hands out handles below its pool size, which is ndesc:
	 * checked anyway, a descriptor is written through it. */
	if (handle >= q->ndesc) {
		q->stats.hand_full++;
		vnet_rx_buf_release(q->vnet, handle);
		return;
	}
	d = &q->desc[handle];
	d->frame = frame;
	d->len = len;
	d->handle = handle;
	d->csum_flags = flags;
	/* The put's release store publishes *d before the index. */
	if (!spsc_ring_put(&q->to_stack, d)) {
		q->stats.hand_full++;
		vnet_rx_buf_release(q->vnet, handle);
		return;
	}
	q->stats.handed++;
}

/* Buffers CPU 0 is done with go back on the free stack. */
static unsigned rps_take_back(struct netdev_rps_queue *q)
{
	unsigned n = 0;
	void *p;

	while ((p = spsc_ring_take(&q->back)) != NULL) {
		uint32_t handle = (uint32_t)((uintptr_t)p - 1);

		if (vnet_rx_buf_release(q->vnet, handle) == 0)
			n++;
	}
	q->stats.returned += n;
	return n;
}

int netdev_rps_poll(struct netdev_rps_queue *q, unsigned budget,
		    bool *wake_stack)
{
	uint64_t handed = q->stats.handed;
	unsigned back;
	int st;

	q->stats.polls++;
	back = rps_take_back(q);
	/* Finished XDP_TX chains give their RX buffers back first. */
	netdev_tx_reclaim(&q->tx);
	st = vnet_rx_poll(q->vnet, budget, rps_rx_frame, q);
	if (st >= 0 && ((st & VNET_RX_REFILL) || back)) {
		vnet_rx_refill(q->vnet);
		st &= ~VNET_RX_REFILL;
	}
	netdev_tx_flush(&q->tx);
	*wake_stack = false;
	if (q->stats.handed != handed) {
		/* Pairs with netdev_rps_stack_sleeping(true)'s fence. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&stack_sleeping, __ATOMIC_RELAXED)) {
			*wake_stack = true;
			q->stats.wakes_sent++;
		}
	}
	return st;
}

bool netdev_rps_owner_may_sleep(struct netdev_rps_queue *q)
{
	__atomic_store_n(&q->owner_sleeping, true, __ATOMIC_SEQ_CST);
	if (spsc_ring_count(&q->back) != 0 || netdev_tx_waiting(&q->tx)) {
		__atomic_store_n(&q->owner_sleeping, false, __ATOMIC_RELAXED);
		return false;
	}
	return true;
}

void netdev_rps_owner_awake(struct netdev_rps_queue *q)
{
	__atomic_store_n(&q->owner_sleeping, false, __ATOMIC_RELAXED);
}

/* ---- CPU 0 ---- */

unsigned netdev_rps_take(struct netdev_rps_queue *q, unsigned budget,
			 netdev_rps_input_fn fn, void *ctx)
{
	unsigned n = 0;
	struct netdev_rps_desc *d;

	while (n < budget && (d = spsc_ring_take(&q->to_stack)) != NULL) {
		n++;
		q->stats.taken++; /* before lwIP runs: /stats may be in it */
		fn(ctx, q->queue, d->frame, d->len, d->handle, d->csum_flags);
	}
	return n;
}

bool netdev_rps_give_back(struct netdev_rps_queue *q, uint32_t handle)
{
	if (!spsc_ring_put(&q->back, (void *)((uintptr_t)handle + 1))) {
		q->stats.back_full++;
		return false;
	}
	q->stats.give_backs++;
	/* Pairs with netdev_rps_owner_may_sleep()'s store and re-check. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&q->owner_sleeping, __ATOMIC_RELAXED);
}

bool netdev_rps_pending(const struct netdev_rps_queue *q)
{
	return spsc_ring_count(&q->to_stack) != 0;
}

void netdev_rps_stack_sleeping(bool asleep)
{
	__atomic_store_n(&stack_sleeping, asleep, __ATOMIC_SEQ_CST);
}

void netdev_rps_get_stats(const struct netdev_rps_queue *q,
			  struct netdev_rps_stats *out)
{
	*out = q->stats;
	out->to_stack_len = spsc_ring_count(&q->to_stack);
	out->back_len = spsc_ring_count(&q->back);
}

#define RS(field, name) COUNTER(U64, struct netdev_rps_stats, field, name)
const struct counter_desc netdev_rps_stats_desc[] = {
    RS(polls, "polls"),
    RS(rx_frames, "rx_frames"),
    RS(handed, "handed"),
    RS(hooked, "hooked"),
    RS(returned, "returned"),
    RS(wakes_sent, "wakes_sent"),
    RS(taken, "taken"),
    RS(give_backs, "give_backs"),
    RS(hand_full, "drops.hand_full"),
    RS(back_full, "drops.back_full"),
    GAUGE(U32, struct netdev_rps_stats, to_stack_len, "to_stack_len"),
    GAUGE(U32, struct netdev_rps_stats, back_len, "back_len"),
};
const unsigned netdev_rps_stats_ndesc = COUNTERS_LEN(netdev_rps_stats_desc);

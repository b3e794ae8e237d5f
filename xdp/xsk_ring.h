/* AF_XDP rings as Linux lays them out (include/uapi/linux/if_xdp.h and
 * net/xdp/xsk_queue.h), and the four operations each end uses, named as
 * libxdp's xsk.h names them.
 *
 * A ring is a header (producer index and consumer index each on its own
 * cache line with a padding line after it, so neither end's writes bounce
 * the other's line; the flags word after the second pad) followed by a
 * power-of-two array of entries: struct xsk_desc for the RX and TX rings, u64
 * UMEM addresses for the fill and completion rings. Indices run free (u32,
 * wrapping); entry i lives in slot i & mask.
 *
 * Each end keeps cached copies of both indices (struct xsk_ring) and reads
 * the other end's shared index only when its cache says the ring is full
 * (producer) or empty (consumer), as in Linux: one shared-line read per
 * batch, not per entry. A producer's cached_cons is kept "size ahead"
 * (consumer + size), so free entries = cached_cons - cached_prod.
 *
 * The kernel side (xdp/xsk.c) produces RX and completion entries and
 * consumes fill and TX entries; the service produces fill and TX and
 * consumes RX and completion. Whatever the other end wrote is checked by
 * the reader: xsk_cons_nb_avail never reports more than the ring holds. */
#ifndef SKIFF_XDP_XSK_RING_H
#define SKIFF_XDP_XSK_RING_H

#include <stddef.h>
#include <stdint.h>

/* struct xdp_desc (linux/if_xdp.h): an RX or TX frame in the UMEM. */
struct xsk_desc {
	uint64_t addr; /* UMEM address of the frame's first byte */
	uint32_t len;
	uint32_t options;
};
_Static_assert(sizeof(struct xsk_desc) == 16, "struct xdp_desc layout");

/* XDP_RING_NEED_WAKEUP (linux/if_xdp.h), in a ring's flags word: the
 * kernel side will not look at this ring again until the service wakes it
 * (xsk_sendto for TX, xsk_recv_wakeup for fill). */
#define XSK_RING_NEED_WAKEUP (1u << 0)

#define XSK_CACHELINE 64

/* The shared header (Linux's struct xdp_ring, member for member: flags
 * shares pad2's line, written only by the kernel side). */
struct xsk_ring_hdr {
	uint32_t producer __attribute__((aligned(XSK_CACHELINE)));
	uint32_t pad1 __attribute__((aligned(XSK_CACHELINE)));
	uint32_t consumer __attribute__((aligned(XSK_CACHELINE)));
	uint32_t pad2 __attribute__((aligned(XSK_CACHELINE)));
	uint32_t flags;
	uint32_t pad3 __attribute__((aligned(XSK_CACHELINE)));
};
/* The entries start on the next line (Linux: desc[] cacheline-aligned),
 * at the offsets XDP_MMAP_OFFSETS reports. */
#define XSK_RING_DESC_OFF sizeof(struct xsk_ring_hdr)
_Static_assert(offsetof(struct xsk_ring_hdr, producer) == 0 &&
		   offsetof(struct xsk_ring_hdr, consumer) ==
		       2 * XSK_CACHELINE &&
		   offsetof(struct xsk_ring_hdr, flags) ==
		       3 * XSK_CACHELINE + 4 &&
		   XSK_RING_DESC_OFF == 5 * XSK_CACHELINE,
	       "struct xdp_ring layout");

/* One end's view of a ring (libxdp's xsk_ring_prod / xsk_ring_cons). */
struct xsk_ring {
	uint32_t cached_prod;
	uint32_t cached_cons;
	uint32_t mask;
	uint32_t size;
	uint32_t *producer;
	uint32_t *consumer;
	uint32_t *flags;
	void *ring; /* the entries */
};

/* Acquire/release on the shared indices: the entries written before a
 * producer index store are visible to whoever loads that index (and the
 * entries read before a consumer index store are done before the slot can
 * be refilled). On x86-64 these are plain moves the compiler keeps in
 * order. */
static inline uint32_t xsk_load_acquire(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void xsk_store_release(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Sets up view r of the ring at hdr with size entries (a power of two). */
static inline void xsk_ring_view(struct xsk_ring *r, struct xsk_ring_hdr *hdr,
				 uint32_t size, int producer_side)
{
	r->size = size;
	r->mask = size - 1;
	r->producer = &hdr->producer;
	r->consumer = &hdr->consumer;
	r->flags = &hdr->flags;
	r->ring = (uint8_t *)hdr + XSK_RING_DESC_OFF;
	r->cached_prod = xsk_load_acquire(r->producer);
	r->cached_cons = xsk_load_acquire(r->consumer);
	if (producer_side)
		r->cached_cons += size;
}

static inline struct xsk_desc *xsk_ring_desc(struct xsk_ring *r, uint32_t idx)
{
	return &((struct xsk_desc *)r->ring)[idx & r->mask];
}

static inline uint64_t *xsk_ring_addr(struct xsk_ring *r, uint32_t idx)
{
	return &((uint64_t *)r->ring)[idx & r->mask];
}

/* ---- producer ---- */

/* Free entries, at least nb if there are (the shared consumer index is
 * read only when the cache says fewer). A consumer index the other end
 * moved past the producer is clamped: never more than size free. */
static inline uint32_t xsk_prod_nb_free(struct xsk_ring *r, uint32_t nb)
{
	uint32_t free = r->cached_cons - r->cached_prod;

	if (free >= nb)
		return free;
	r->cached_cons = xsk_load_acquire(r->consumer) + r->size;
	free = r->cached_cons - r->cached_prod;
	if (free > r->size) { /* a consumer index beyond the producer */
		r->cached_cons = r->cached_prod + r->size;
		free = r->size;
	}
	return free;
}

/* Reserves nb entries from *idx; returns nb, or 0 (nothing reserved). */
static inline uint32_t xsk_ring_prod_reserve(struct xsk_ring *r, uint32_t nb,
					     uint32_t *idx)
{
	if (xsk_prod_nb_free(r, nb) < nb)
		return 0;
	*idx = r->cached_prod;
	r->cached_prod += nb;
	return nb;
}

/* Publishes the nb entries reserved first and filled since. */
static inline void xsk_ring_prod_submit(struct xsk_ring *r, uint32_t nb)
{
	xsk_store_release(r->producer, *r->producer + nb);
}

/* Whether the consumer asked to be woken (XDP_RING_NEED_WAKEUP). */
static inline int xsk_ring_prod_needs_wakeup(const struct xsk_ring *r)
{
	return __atomic_load_n(r->flags, __ATOMIC_RELAXED) &
	       XSK_RING_NEED_WAKEUP;
}

/* ---- consumer ---- */

/* Entries available, at most nb (the shared producer index is read only
 * when the cache is empty). A producer index more than size ahead is
 * clamped to size: the reader never walks past what the ring holds. */
static inline uint32_t xsk_cons_nb_avail(struct xsk_ring *r, uint32_t nb)
{
	uint32_t entries = r->cached_prod - r->cached_cons;

	if (entries == 0) {
		r->cached_prod = xsk_load_acquire(r->producer);
		entries = r->cached_prod - r->cached_cons;
		if (entries > r->size) {
			r->cached_prod = r->cached_cons + r->size;
			entries = r->size;
		}
	}
	return entries > nb ? nb : entries;
}

/* Takes up to nb entries from *idx; returns how many. */
static inline uint32_t xsk_ring_cons_peek(struct xsk_ring *r, uint32_t nb,
					  uint32_t *idx)
{
	uint32_t entries = xsk_cons_nb_avail(r, nb);

	if (entries) {
		*idx = r->cached_cons;
		r->cached_cons += entries;
	}
	return entries;
}

/* Gives back nb of the entries peeked last (not read yet: the producer
 * must not see them consumed). */
static inline void xsk_ring_cons_cancel(struct xsk_ring *r, uint32_t nb)
{
	r->cached_cons -= nb;
}

/* Tells the producer nb peeked entries are done with. */
static inline void xsk_ring_cons_release(struct xsk_ring *r, uint32_t nb)
{
	xsk_store_release(r->consumer, *r->consumer + nb);
}

#endif

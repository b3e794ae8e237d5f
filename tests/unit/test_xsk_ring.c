/* The AF_XDP rings (xdp/xsk_ring.h) on their own: the shared header laid
 * out as Linux's struct xdp_ring, producer/consumer with cached indices,
 * full and empty, wraparound of the free-running u32 indices, batches
 * that straddle the end of the array, a peer that writes nonsense into
 * its index (clamped, never walked past), and the need_wakeup flag. */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/check.h"
#include "xdp/xsk_ring.h"

struct ring_mem {
	struct xsk_ring_hdr hdr;
	uint64_t entries[16];
} __attribute__((aligned(64)));

/* A ring of `size` u64 entries, both ends set up at index `start`. */
static void ring_pair(struct ring_mem *m, uint32_t size, uint32_t start,
		      struct xsk_ring *prod, struct xsk_ring *cons)
{
	memset(m, 0, sizeof(*m));
	m->hdr.producer = m->hdr.consumer = start;
	xsk_ring_view(prod, &m->hdr, size, 1);
	xsk_ring_view(cons, &m->hdr, size, 0);
}

TEST(layout_is_linux_xdp_ring)
{
	struct ring_mem m = {0};
	struct xsk_ring r;

	CHECK_EQ(offsetof(struct xsk_ring_hdr, producer), 0);
	CHECK_EQ(offsetof(struct xsk_ring_hdr, consumer), 128);
	CHECK_EQ(offsetof(struct xsk_ring_hdr, flags), 196);
	CHECK_EQ(XSK_RING_DESC_OFF, 320);
	CHECK_EQ(sizeof(struct xsk_desc), 16);
	CHECK_EQ(offsetof(struct xsk_desc, len), 8);
	CHECK_EQ(offsetof(struct xsk_desc, options), 12);
	xsk_ring_view(&r, &m.hdr, 16, 1);
	CHECK((uint8_t *)r.ring == (uint8_t *)&m + 320);
	CHECK_EQ(r.mask, 15);
}

TEST(produce_consume_full_empty)
{
	struct ring_mem m;
	struct xsk_ring p, c;
	uint32_t idx = 0;

	ring_pair(&m, 8, 0, &p, &c);
	CHECK_EQ(xsk_prod_nb_free(&p, 8), 8);
	CHECK_EQ(xsk_cons_nb_avail(&c, 8), 0);
	CHECK_EQ(xsk_ring_cons_peek(&c, 1, &idx), 0);
	/* Reserved but not submitted: invisible to the consumer. */
	CHECK_EQ(xsk_ring_prod_reserve(&p, 5, &idx), 5);
	CHECK_EQ(idx, 0);
	for (uint32_t i = 0; i < 5; i++)
		*xsk_ring_addr(&p, idx + i) = 100 + i;
	CHECK_EQ(xsk_cons_nb_avail(&c, 8), 0);
	xsk_ring_prod_submit(&p, 5);
	CHECK_EQ(m.hdr.producer, 5);
	/* Full: 3 left, a batch of 4 is refused whole. */
	CHECK_EQ(xsk_ring_prod_reserve(&p, 4, &idx), 0);
	CHECK_EQ(xsk_ring_prod_reserve(&p, 3, &idx), 3);
	for (uint32_t i = 0; i < 3; i++)
		*xsk_ring_addr(&p, idx + i) = 105 + i;
	xsk_ring_prod_submit(&p, 3);
	CHECK_EQ(xsk_prod_nb_free(&p, 1), 0);
	CHECK_EQ(xsk_ring_prod_reserve(&p, 1, &idx), 0);
	/* The consumer takes what was published, at most what it asks. */
	CHECK_EQ(xsk_ring_cons_peek(&c, 3, &idx), 3);
	CHECK_EQ(*xsk_ring_addr(&c, idx), 100);
	/* Not released yet: the producer still sees a full ring. */
	CHECK_EQ(xsk_prod_nb_free(&p, 1), 0);
	xsk_ring_cons_release(&c, 3);
	CHECK_EQ(m.hdr.consumer, 3);
	CHECK_EQ(xsk_prod_nb_free(&p, 1), 3);
	/* Cancel gives entries back to the next peek. */
	CHECK_EQ(xsk_ring_cons_peek(&c, 8, &idx), 5);
	CHECK_EQ(*xsk_ring_addr(&c, idx), 103);
	xsk_ring_cons_cancel(&c, 2);
	xsk_ring_cons_release(&c, 3);
	CHECK_EQ(xsk_ring_cons_peek(&c, 8, &idx), 2);
	CHECK_EQ(*xsk_ring_addr(&c, idx), 106);
	CHECK_EQ(*xsk_ring_addr(&c, idx + 1), 107);
	xsk_ring_cons_release(&c, 2);
	CHECK_EQ(xsk_cons_nb_avail(&c, 8), 0);
	CHECK_EQ(xsk_prod_nb_free(&p, 8), 8);
}

/* Indices start just below 2^32 and run far past it; batches straddle
 * the end of the array; every entry comes out once, in order. */
TEST(wraparound_in_order)
{
	struct ring_mem m;
	struct xsk_ring p, c;
	uint64_t next_in = 0, next_out = 0;
	uint32_t seed = 1;

	ring_pair(&m, 16, 0xfffffff0u, &p, &c);
	for (int step = 0; step < 20000; step++) {
		uint32_t idx = 0, n;

		seed = seed * 1103515245u + 12345u;
		n = 1 + (seed >> 16) % 7;
		if ((seed >> 8) & 1) {
			uint32_t free = xsk_prod_nb_free(&p, n);
			if (free < n)
				n = free;
			if (n && xsk_ring_prod_reserve(&p, n, &idx) == n) {
				for (uint32_t i = 0; i < n; i++)
					*xsk_ring_addr(&p, idx + i) = next_in++;
				xsk_ring_prod_submit(&p, n);
			}
		} else {
			n = xsk_ring_cons_peek(&c, n, &idx);
			for (uint32_t i = 0; i < n; i++)
				CHECK_EQ(*xsk_ring_addr(&c, idx + i),
					 next_out++);
			if (n)
				xsk_ring_cons_release(&c, n);
		}
		CHECK(next_in - next_out <= 16);
	}
	CHECK(next_out > 20000);
	CHECK(m.hdr.producer < 0xfffffff0u); /* it did wrap */
}

/* A peer that writes a producer far ahead, or a consumer beyond the
 * producer: the reader never sees more than the ring holds. */
TEST(nonsense_indices_are_clamped)
{
	struct ring_mem m;
	struct xsk_ring p, c;
	uint32_t idx = 0;

	ring_pair(&m, 8, 0, &p, &c);
	m.hdr.producer = 1000000;
	CHECK_EQ(xsk_cons_nb_avail(&c, 100), 8);
	CHECK_EQ(xsk_ring_cons_peek(&c, 100, &idx), 8);
	CHECK_EQ(idx, 0);
	ring_pair(&m, 8, 0, &p, &c);
	m.hdr.consumer = 0x80000000u;
	CHECK_EQ(xsk_prod_nb_free(&p, 100), 8);
	CHECK_EQ(xsk_ring_prod_reserve(&p, 9, &idx), 0);
	CHECK_EQ(xsk_ring_prod_reserve(&p, 8, &idx), 8);
}

TEST(need_wakeup_flag)
{
	struct ring_mem m;
	struct xsk_ring p, c;

	ring_pair(&m, 8, 0, &p, &c);
	CHECK(!xsk_ring_prod_needs_wakeup(&p));
	*c.flags |= XSK_RING_NEED_WAKEUP; /* what the kernel side sets */
	CHECK(xsk_ring_prod_needs_wakeup(&p));
	CHECK_EQ(m.hdr.flags, XSK_RING_NEED_WAKEUP);
	*c.flags &= ~XSK_RING_NEED_WAKEUP;
	CHECK(!xsk_ring_prod_needs_wakeup(&p));
}

/* RX/TX rings carry struct xdp_desc. */
TEST(descriptor_rings)
{
	static struct {
		struct xsk_ring_hdr hdr;
		struct xsk_desc d[4];
	} __attribute__((aligned(64))) m;
	struct xsk_ring p, c;
	uint32_t idx = 0;

	xsk_ring_view(&p, &m.hdr, 4, 1);
	xsk_ring_view(&c, &m.hdr, 4, 0);
	for (int round = 0; round < 10; round++) {
		CHECK_EQ(xsk_ring_prod_reserve(&p, 3, &idx), 3);
		for (uint32_t i = 0; i < 3; i++)
			*xsk_ring_desc(&p, idx + i) =
			    (struct xsk_desc){.addr = 2048u * i + 12,
					      .len = 60 + (uint32_t)round};
		xsk_ring_prod_submit(&p, 3);
		CHECK_EQ(xsk_ring_cons_peek(&c, 4, &idx), 3);
		for (uint32_t i = 0; i < 3; i++) {
			CHECK_EQ(xsk_ring_desc(&c, idx + i)->addr,
				 2048u * i + 12);
			CHECK_EQ(xsk_ring_desc(&c, idx + i)->len, 60 + round);
		}
		xsk_ring_cons_release(&c, 3);
	}
}

/* AF_XDP sockets on several device queues (xdp/xsk.c), against two fake
 * queue pairs: each socket's UMEM comes from its own queue's pool, a frame
 * reaches a socket only from that socket's queue, a queue's loop wakes
 * only its own sockets, a socket sends on its own queue and its
 * completions come back from there, and closing a socket returns every
 * buffer to the pool it came from. */
#include <stdlib.h>
#include <string.h>

#include "kernel/kerrno.h"
#include "tests/unit/check.h"
#include "xdp/xsk.h"

#define BUFS	 16
#define BUF_SIZE 2048
#define HEADROOM 12

/* One queue pair's RX pool and TX path, as netdev's port describes it. */
struct fake_queue {
	struct netdev_rx_port port;
	uint8_t mem[BUFS][BUF_SIZE] __attribute__((aligned(BUF_SIZE)));
	bool lent[BUFS];
	unsigned released, sent, woken;
	uint64_t last_sent;
};

static struct fake_queue fq[2];

static int fake_borrow(void *ctx, uint32_t *h)
{
	struct fake_queue *q = ctx;

	for (uint32_t i = 0; i < BUFS; i++)
		if (!q->lent[i]) {
			q->lent[i] = true;
			*h = i;
			return 0;
		}
	return -ENOBUFS;
}

static void fake_release(void *ctx, uint32_t h)
{
	struct fake_queue *q = ctx;

	CHECK(h < BUFS && q->lent[h]);
	q->lent[h] = false;
	q->released++;
}

static void *fake_buf(void *ctx, uint32_t h)
{
	return ((struct fake_queue *)ctx)->mem[h];
}

static int fake_tx_umem(void *ctx, void *frame, uint32_t len, uint64_t addr)
{
	struct fake_queue *q = ctx;

	(void)frame, (void)len;
	q->sent++;
	q->last_sent = addr;
	return 0;
}

static void on_rx(void *ctx)
{
	((struct fake_queue *)ctx)->woken++;
}

static unsigned lent(const struct fake_queue *q)
{
	unsigned n = 0;

	for (int i = 0; i < BUFS; i++)
		n += q->lent[i];
	return n;
}

static void queues_up(void)
{
	memset(fq, 0, sizeof(fq));
	for (uint32_t i = 0; i < 2; i++)
		fq[i].port = (struct netdev_rx_port){
		    .ctx = &fq[i],
		    .queue = i,
		    .release = fake_release,
		    .pool_bufs = BUFS,
		    .buf_size = BUF_SIZE,
		    .buf_headroom = HEADROOM,
		    .borrow = fake_borrow,
		    .buf = fake_buf,
		    .tx_umem = fake_tx_umem,
		};
	xsk_attach_port(&fq[0].port);
	xsk_attach_port(&fq[1].port);
}

static struct xsk_socket *sock_on(uint32_t queue, uint32_t frames)
{
	struct xsk_config cfg = {.frames = frames,
				 .queue_id = queue,
				 .on_rx = on_rx,
				 .ctx = &fq[queue]};
	struct xsk_socket *xs = NULL;
	uint32_t idx = 0;

	CHECK_EQ(xsk_socket_create(&cfg, &xs), 0);
	if (!xs)
		return NULL;
	CHECK_EQ(xsk_ring_prod_reserve(&xs->fill, frames, &idx), frames);
	for (uint32_t i = 0; i < frames; i++)
		*xsk_ring_addr(&xs->fill, idx + i) = xsk_umem_frame_addr(xs, i);
	xsk_ring_prod_submit(&xs->fill, frames);
	return xs;
}

/* A frame the driver received into buffer h of queue q. */
static bool deliver(struct xsk_socket *xs, uint32_t q, uint32_t h)
{
	CHECK(!fq[q].lent[h]);
	fq[q].lent[h] = true; /* on the hook's side while it runs */
	bool took = xsk_redirect(xs->id, fq[q].mem[h] + HEADROOM, 60, h, q);
	if (!took)
		fake_release(&fq[q], h); /* the caller drops it */
	return took;
}

TEST(each_socket_borrows_from_its_own_queue)
{
	queues_up();
	struct xsk_socket *a = sock_on(0, 4), *b = sock_on(1, 6);
	struct xsk_config bad = {.frames = 4, .queue_id = XSK_MAX_QUEUES};
	struct xsk_socket *none = NULL;

	CHECK_EQ(lent(&fq[0]), 4);
	CHECK_EQ(lent(&fq[1]), 6);
	CHECK_EQ(xsk_socket_create(&bad, &none), -ENODEV);
	xsk_socket_delete(a);
	xsk_socket_delete(b);
	CHECK_EQ(lent(&fq[0]), 0);
	CHECK_EQ(lent(&fq[1]), 0);
}

TEST(a_frame_reaches_only_a_socket_of_its_queue)
{
	queues_up();
	struct xsk_socket *a = sock_on(0, 4), *b = sock_on(1, 4);
	struct xsk_stats s;

	/* Buffer 10 of queue 1 to queue 1's socket: taken, zero copy. */
	CHECK(deliver(b, 1, 10));
	xsk_get_stats(b, &s);
	CHECK_EQ(s.rx, 1);
	/* The same handle number of queue 0 must not reach it ... */
	CHECK(!deliver(b, 0, 10));
	/* ... nor a queue 1 frame queue 0's socket. */
	CHECK(!deliver(a, 1, 11));
	xsk_get_stats(b, &s);
	CHECK_EQ(s.rx_bad_queue, 1);
	xsk_get_stats(a, &s);
	CHECK_EQ(s.rx_bad_queue, 1);
	CHECK_EQ(s.rx, 0);
	/* Every buffer is where it belongs: b holds its 4 (one swapped for
	 * the frame), a its 4, and nothing leaked between pools. */
	CHECK_EQ(lent(&fq[0]), 4);
	CHECK_EQ(lent(&fq[1]), 4);
	xsk_socket_delete(a);
	xsk_socket_delete(b);
	CHECK_EQ(lent(&fq[0]) + lent(&fq[1]), 0);
}

TEST(a_queue_wakes_and_sends_only_its_own_sockets)
{
	queues_up();
	struct xsk_socket *a = sock_on(0, 4), *b = sock_on(1, 4);
	uint32_t idx = 0;

	CHECK(deliver(b, 1, 12));
	CHECK_EQ(xsk_run_pending(0), 0);
	CHECK_EQ(fq[0].woken, 0);
	CHECK_EQ(xsk_run_pending(1), 1);
	CHECK_EQ(fq[1].woken, 1);

	/* Queue 1's socket echoes the frame: it leaves on queue 1. */
	CHECK_EQ(xsk_ring_cons_peek(&b->rx, 1, &idx), 1);
	struct xsk_desc d = *xsk_ring_desc(&b->rx, idx);
	xsk_ring_cons_release(&b->rx, 1);
	CHECK_EQ(xsk_ring_prod_reserve(&b->tx, 1, &idx), 1);
	*xsk_ring_desc(&b->tx, idx) = d;
	xsk_ring_prod_submit(&b->tx, 1);
	xsk_sendto(b);
	CHECK_EQ(fq[1].sent, 1);
	CHECK_EQ(fq[0].sent, 0);
	CHECK_EQ(fq[1].last_sent, d.addr);

	/* A completion for that address from queue 0 names nothing there;
	 * from queue 1 it reaches b's completion ring. */
	xsk_umem_tx_done(0, d.addr);
	CHECK_EQ(xsk_ring_cons_peek(&b->comp, 1, &idx), 0);
	xsk_umem_tx_done(1, d.addr);
	CHECK_EQ(xsk_ring_cons_peek(&b->comp, 1, &idx), 1);
	CHECK_EQ(*xsk_ring_addr(&b->comp, idx), d.addr);
	CHECK(!xsk_tx_waiting(0) && !xsk_tx_waiting(1));
	xsk_socket_delete(a);
	xsk_socket_delete(b);
	CHECK_EQ(lent(&fq[0]) + lent(&fq[1]), 0);
}

TEST(stale_ids_are_counted_per_queue_and_summed)
{
	queues_up();
	struct xsk_socket *b = sock_on(1, 2);
	uint32_t id = b->id;
	uint64_t before = xsk_no_socket_drops();

	xsk_socket_delete(b);
	fq[1].lent[3] = true;
	CHECK(!xsk_redirect(id, fq[1].mem[3] + HEADROOM, 60, 3, 1));
	CHECK_EQ(xsk_no_socket_drops(), before + 1);
	CHECK_EQ(xsk_run_pending(1), 0);
}

/* AF_XDP sockets over the driver's RX buffers: see xsk.h (the model) and
 * xsk_ring.h (the rings). Exercised by tests/unit/test_xsk.c and, with the
 * UDP echo on top (services/xsk_echo.c), by
 *
 *   make run CMDLINE='xsk.port=7009'
 *
 * Ownership of every pool buffer a socket touches is tracked here, per
 * handle: FREE (the driver's), USER (the socket's: on a ring or in the
 * service's hands), ON_DEVICE (sent from the UMEM, completion pending),
 * ORPHAN (sent by a socket since closed: back to the driver on
 * completion). A fill or TX address is accepted only for a USER buffer of
 * the same socket, so a service that hands an address twice, or one it
 * never had, cannot make two owners of one buffer. */
#include "xdp/xsk.h"

#include <string.h>

#include "drivers/virtio_net.h"
#include "kernel/heap.h"
#include "kernel/kbuf.h"
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "kernel/printf.h"

enum xsk_buf_state { XSK_FREE, XSK_USER, XSK_ON_DEVICE, XSK_ORPHAN };

struct xsk_buf {
	uint8_t owner; /* socket index + 1; 0: none */
	uint8_t state; /* enum xsk_buf_state */
};

/* Ids: index + 1 in the low 4 bits, a generation above, so an XSKMAP
 * entry left behind by a closed socket names nothing. */
#define XSK_ID_INDEX_BITS 4
_Static_assert(XSK_MAX_SOCKETS < (1 << XSK_ID_INDEX_BITS), "socket ids");

/* One device queue (pair): its RX pool, which the UMEMs of the sockets
 * bound to it are carved from, and who owns each buffer. Used only by the
 * CPU that serves the queue, and by CPU 0 while it attaches the queue and
 * creates its sockets at bring-up, before that CPU serves it. */
struct xsk_queue {
	const struct netdev_rx_port *port;
	struct xsk_buf *bufs; /* port->pool_bufs of them */
	uint32_t buf_shift;   /* log2(port->buf_size) */
	uint32_t nsockets;    /* open sockets bound here */
	uint64_t no_socket;   /* redirects to an id no socket has */
};

static struct xsk_queue queues[XSK_MAX_QUEUES];
static struct xsk_socket sockets[XSK_MAX_SOCKETS];
static uint32_t generation;

void xsk_attach_port(const struct netdev_rx_port *p)
{
	struct xsk_queue *q;

	if (!p || p->queue >= XSK_MAX_QUEUES)
		return;
	q = &queues[p->queue];
	kfree(q->bufs);
	*q = (struct xsk_queue){0};
	if (!p->pool_bufs || !p->buf_size || (p->buf_size & (p->buf_size - 1)))
		return;
	q->bufs = kcalloc(p->pool_bufs, sizeof(*q->bufs));
	if (!q->bufs)
		return;
	q->buf_shift = (uint32_t)__builtin_ctz(p->buf_size);
	q->port = p;
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static uint8_t sock_owner(const struct xsk_socket *xs)
{
	return (uint8_t)(xs - sockets + 1);
}

static struct xsk_socket *sock_by_id(uint32_t id)
{
	uint32_t i = (id & ((1u << XSK_ID_INDEX_BITS) - 1)) - 1;

	if (i >= XSK_MAX_SOCKETS || !sockets[i].in_use || sockets[i].id != id)
		return NULL;
	return &sockets[i];
}

/* The handle of a UMEM address of socket xs whose buffer is in state st,
 * or -1. */
static int64_t addr_handle(const struct xsk_socket *xs, uint64_t addr,
			   uint8_t st)
{
	const struct xsk_queue *q = xs->q;
	uint64_t h = addr >> q->buf_shift;

	if (h >= q->port->pool_bufs || q->bufs[h].owner != sock_owner(xs) ||
	    q->bufs[h].state != st)
		return -1;
	return (int64_t)h;
}

static void *ring_alloc(struct xsk_socket *xs, int i, uint32_t size,
			size_t entry)
{
	size_t bytes = XSK_RING_DESC_OFF + (size_t)size * entry;
	uint8_t *raw = kcalloc(1, bytes + XSK_CACHELINE);

	xs->ring_mem[i] = raw;
	if (!raw)
		return NULL;
	return (void *)(((uintptr_t)raw + XSK_CACHELINE - 1) &
			~(uintptr_t)(XSK_CACHELINE - 1));
}

/* Both ends' views of one ring. */
static int ring_setup(struct xsk_socket *xs, int i, uint32_t size, size_t entry,
		      struct xsk_ring *user, struct xsk_ring *k,
		      bool user_produces)
{
	struct xsk_ring_hdr *hdr = ring_alloc(xs, i, size, entry);

	if (!hdr)
		return -ENOMEM;
	xsk_ring_view(user, hdr, size, user_produces);
	xsk_ring_view(k, hdr, size, !user_produces);
	return 0;
}

static void sock_release_buffers(struct xsk_socket *xs)
{
	struct xsk_queue *q = xs->q;
	uint8_t me = sock_owner(xs);

	for (uint32_t h = 0; q && q->port && h < q->port->pool_bufs; h++) {
		if (q->bufs[h].owner != me)
			continue;
		if (q->bufs[h].state == XSK_ON_DEVICE) {
			q->bufs[h] = (struct xsk_buf){0, XSK_ORPHAN};
			continue;
		}
		q->bufs[h] = (struct xsk_buf){0, XSK_FREE};
		q->port->release(q->port->ctx, h);
	}
}

static void sock_free(struct xsk_socket *xs)
{
	sock_release_buffers(xs);
	if (xs->q && xs->id && xs->q->nsockets)
		xs->q->nsockets--; /* 0 already if the queue was re-attached */
	for (int i = 0; i < 4; i++)
		kfree(xs->ring_mem[i]);
	kfree(xs->initial);
	memset(xs, 0, sizeof(*xs));
}

int xsk_socket_create(const struct xsk_config *cfg, struct xsk_socket **out)
{
	struct xsk_socket *xs = NULL;
	struct xsk_queue *q =
	    cfg->queue_id < XSK_MAX_QUEUES ? &queues[cfg->queue_id] : NULL;
	uint32_t n = cfg->frames;
	int err;

	*out = NULL;
	if (!q || !q->port)
		return -ENODEV;
	if (n == 0 || n > XSK_MAX_FRAMES || cfg->fill_size > XSK_MAX_FRAMES ||
	    cfg->comp_size > XSK_MAX_FRAMES || cfg->rx_size > XSK_MAX_FRAMES ||
	    cfg->tx_size > XSK_MAX_FRAMES)
		return -EINVAL;
	for (int i = 0; i < XSK_MAX_SOCKETS; i++)
		if (!sockets[i].in_use) {
			xs = &sockets[i];
			break;
		}
	if (!xs)
		return -EMFILE;
	memset(xs, 0, sizeof(*xs));
	xs->in_use = true;
	xs->q = q;
	xs->queue_id = cfg->queue_id;
	xs->on_rx = cfg->on_rx;
	xs->ctx = cfg->ctx;
	err = ring_setup(xs, 0,
			 pow2_at_least(cfg->fill_size ? cfg->fill_size : n),
			 sizeof(uint64_t), &xs->fill, &xs->k_fill, true);
	if (!err)
		err = ring_setup(
		    xs, 1, pow2_at_least(cfg->comp_size ? cfg->comp_size : n),
		    sizeof(uint64_t), &xs->comp, &xs->k_comp, false);
	if (!err)
		err = ring_setup(
		    xs, 2, pow2_at_least(cfg->rx_size ? cfg->rx_size : n),
		    sizeof(struct xsk_desc), &xs->rx, &xs->k_rx, false);
	if (!err)
		err = ring_setup(
		    xs, 3, pow2_at_least(cfg->tx_size ? cfg->tx_size : n),
		    sizeof(struct xsk_desc), &xs->tx, &xs->k_tx, true);
	if (!err && !(xs->initial = kcalloc(n, sizeof(*xs->initial))))
		err = -ENOMEM;
	if (err)
		goto fail;
	/* The TX ring starts asleep: the kernel looks at it when woken. */
	*xs->k_tx.flags = XSK_RING_NEED_WAKEUP;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t h;

		if (q->port->borrow(q->port->ctx, &h) != 0 ||
		    h >= q->port->pool_bufs) {
			err = -ENOBUFS;
			goto fail;
		}
		q->bufs[h] = (struct xsk_buf){sock_owner(xs), XSK_USER};
		xs->initial[xs->ninitial++] = h;
	}
	xs->stats.frames = n;
	generation++;
	xs->id = (generation << XSK_ID_INDEX_BITS) | sock_owner(xs);
	q->nsockets++;
	*out = xs;
	return 0;
fail:
	sock_free(xs);
	return err;
}

void xsk_socket_delete(struct xsk_socket *xs)
{
	if (xs && xs->in_use)
		sock_free(xs);
}

uint64_t xsk_umem_frame_addr(const struct xsk_socket *xs, uint32_t i)
{
	if (i >= xs->ninitial)
		return UINT64_MAX;
	return ((uint64_t)xs->initial[i] << xs->q->buf_shift) +
	       xs->q->port->buf_headroom;
}

void *xsk_umem_get_data(const struct xsk_socket *xs, uint64_t addr,
			uint32_t len)
{
	const struct netdev_rx_port *port = xs->q->port;
	int64_t h = addr_handle(xs, addr, XSK_USER);
	uint64_t off = addr & (port->buf_size - 1);

	if (h < 0 || off + len > port->buf_size)
		return NULL;
	return (uint8_t *)port->buf(port->ctx, (uint32_t)h) + off;
}

/* One valid fill-ring entry's buffer, or -1 when the ring is empty;
 * invalid entries are counted and skipped. */
static int64_t fill_take(struct xsk_socket *xs)
{
	uint32_t idx = 0;

	while (xsk_ring_cons_peek(&xs->k_fill, 1, &idx)) {
		uint64_t a = *xsk_ring_addr(&xs->k_fill, idx);
		int64_t h;

		xsk_ring_cons_release(&xs->k_fill, 1);
		h = addr_handle(xs, a, XSK_USER);
		if (h >= 0)
			return h;
		xs->stats.fill_invalid++;
	}
	return -1;
}

bool xsk_redirect(uint32_t id, void *frame, uint32_t len, uint32_t handle,
		  uint32_t queue)
{
	struct xsk_socket *xs = sock_by_id(id);
	const struct netdev_rx_port *port;
	struct xsk_queue *q;
	uint8_t *base;
	uint32_t idx = 0;
	int64_t fh;

	if (!xs) {
		if (queue < XSK_MAX_QUEUES)
			queues[queue].no_socket++;
		return false;
	}
	/* A socket takes frames of its own queue only: the buffer must come
	 * from that queue's pool, and only that queue's CPU may touch the
	 * socket's rings. */
	if (queue != xs->queue_id) {
		xs->stats.rx_bad_queue++;
		return false;
	}
	q = xs->q;
	port = q->port;
	if (handle >= port->pool_bufs) {
		xs->stats.rx_bad_queue++; /* not this queue's buffer */
		return false;
	}
	base = port->buf(port->ctx, handle);
	if ((uint8_t *)frame < base ||
	    (uint8_t *)frame + len > base + port->buf_size) {
		xs->stats.rx_bad_queue++; /* not this device's buffer */
		return false;
	}
	if (xsk_prod_nb_free(&xs->k_rx, 1) < 1) {
		xs->stats.rx_ring_full++;
		return false;
	}
	fh = fill_take(xs);
	if (fh < 0) {
		xs->stats.rx_fill_empty++;
		__atomic_or_fetch(xs->k_fill.flags, XSK_RING_NEED_WAKEUP,
				  __ATOMIC_RELAXED);
		return false;
	}
	/* The exchange: the fill entry's buffer goes to the driver's RX
	 * ring, the frame's buffer becomes the socket's. */
	q->bufs[fh] = (struct xsk_buf){0, XSK_FREE};
	port->release(port->ctx, (uint32_t)fh);
	q->bufs[handle] = (struct xsk_buf){sock_owner(xs), XSK_USER};
	xsk_ring_prod_reserve(&xs->k_rx, 1, &idx);
	*xsk_ring_desc(&xs->k_rx, idx) = (struct xsk_desc){
	    .addr = ((uint64_t)handle << q->buf_shift) +
		    (uint64_t)((uint8_t *)frame - base),
	    .len = len,
	};
	xsk_ring_prod_submit(&xs->k_rx, 1);
	xs->stats.rx++;
	xs->stats.rx_bytes += len;
	xs->rx_pending = true;
	return true;
}

/* Sends what the TX ring holds while the completion ring can take it and
 * the device queue has room. Returns whether it stopped for lack of room
 * (then the loop retries; otherwise the ring is empty). */
static bool tx_process(struct xsk_socket *xs)
{
	const struct netdev_rx_port *port = xs->q->port;
	uint32_t idx = 0;

	for (;;) {
		if (xsk_prod_nb_free(&xs->k_comp, xs->comp_reserved + 1) <
		    xs->comp_reserved + 1)
			return true;
		if (!xsk_ring_cons_peek(&xs->k_tx, 1, &idx))
			return false;
		/* One copy of the descriptor: the service may rewrite it. */
		struct xsk_desc d = *xsk_ring_desc(&xs->k_tx, idx);
		uint64_t off = d.addr & (port->buf_size - 1);
		int64_t h = addr_handle(xs, d.addr, XSK_USER);

		if (h < 0 || d.len < VNET_ETH_HLEN || d.len > VNET_MAX_FRAME ||
		    off + d.len > port->buf_size) {
			xsk_ring_cons_release(&xs->k_tx, 1);
			xs->stats.tx_invalid++;
			continue;
		}
		int rc = port->tx_umem(
		    port->ctx,
		    (uint8_t *)port->buf(port->ctx, (uint32_t)h) + off, d.len,
		    d.addr);
		if (rc == -ENOSPC) {
			xsk_ring_cons_cancel(&xs->k_tx, 1);
			xs->stats.tx_busy++;
			return true;
		}
		xsk_ring_cons_release(&xs->k_tx, 1);
		if (rc) {
			xs->stats.tx_invalid++;
			continue;
		}
		xs->q->bufs[h].state = XSK_ON_DEVICE;
		xs->comp_reserved++;
		xs->stats.tx++;
		xs->stats.tx_bytes += d.len;
		xs->stats.tx_inflight++;
	}
}

/* Processes TX; the ring sleeps (NEED_WAKEUP) once found empty. */
static void tx_run(struct xsk_socket *xs)
{
	if (tx_process(xs))
		__atomic_and_fetch(xs->k_tx.flags, ~XSK_RING_NEED_WAKEUP,
				   __ATOMIC_RELAXED);
	else
		__atomic_or_fetch(xs->k_tx.flags, XSK_RING_NEED_WAKEUP,
				  __ATOMIC_RELAXED);
}

void xsk_sendto(struct xsk_socket *xs)
{
	if (!xs->in_use)
		return;
	xs->stats.tx_wakeups++;
	tx_run(xs);
}

void xsk_recv_wakeup(struct xsk_socket *xs)
{
	xs->stats.fill_wakeups++;
	__atomic_and_fetch(xs->k_fill.flags, ~XSK_RING_NEED_WAKEUP,
			   __ATOMIC_RELAXED);
}

void xsk_umem_tx_done(uint32_t queue, uint64_t addr)
{
	struct xsk_queue *q = queue < XSK_MAX_QUEUES ? &queues[queue] : NULL;
	uint64_t h = q && q->port ? addr >> q->buf_shift : UINT64_MAX;
	struct xsk_socket *xs;
	uint32_t idx = 0;

	if (h >= (q && q->port ? q->port->pool_bufs : 0))
		return; /* cannot happen: the address was checked at send */
	if (q->bufs[h].state == XSK_ORPHAN) {
		q->bufs[h] = (struct xsk_buf){0, XSK_FREE};
		q->port->release(q->port->ctx, (uint32_t)h);
		return;
	}
	if (q->bufs[h].state != XSK_ON_DEVICE || !q->bufs[h].owner)
		return;
	xs = &sockets[q->bufs[h].owner - 1];
	q->bufs[h].state = XSK_USER;
	xs->stats.tx_inflight--;
	/* Room was reserved when the frame was sent. */
	if (xs->comp_reserved)
		xs->comp_reserved--;
	if (!xsk_ring_prod_reserve(&xs->k_comp, 1, &idx))
		return;
	*xsk_ring_addr(&xs->k_comp, idx) = addr;
	xsk_ring_prod_submit(&xs->k_comp, 1);
	xs->stats.completions++;
	xs->comp_pending = true;
}

unsigned xsk_run_pending(uint32_t queue)
{
	unsigned woken = 0;

	if (queue >= XSK_MAX_QUEUES || !queues[queue].nsockets)
		return 0;
	for (int i = 0; i < XSK_MAX_SOCKETS; i++) {
		struct xsk_socket *xs = &sockets[i];

		if (!xs->in_use || xs->queue_id != queue)
			continue;
		if (xs->rx_pending || xs->comp_pending) {
			xs->rx_pending = xs->comp_pending = false;
			xs->stats.wakeups++;
			woken++;
			if (xs->on_rx)
				xs->on_rx(xs->ctx);
		}
		if (xs->in_use && !(*xs->k_tx.flags & XSK_RING_NEED_WAKEUP))
			tx_run(xs);
	}
	return woken;
}

bool xsk_tx_waiting(uint32_t queue)
{
	if (queue >= XSK_MAX_QUEUES || !queues[queue].nsockets)
		return false;
	for (int i = 0; i < XSK_MAX_SOCKETS; i++)
		if (sockets[i].in_use && sockets[i].queue_id == queue &&
		    !(*sockets[i].k_tx.flags & XSK_RING_NEED_WAKEUP))
			return true;
	return false;
}

void xsk_get_stats(const struct xsk_socket *xs, struct xsk_stats *out)
{
	const struct xsk_queue *q = xs->q;

	*out = xs->stats;
	out->owned = 0;
	for (uint32_t h = 0; q->port && h < q->port->pool_bufs; h++)
		if (q->bufs[h].owner == sock_owner(xs))
			out->owned++;
}

uint64_t xsk_no_socket_drops(void)
{
	uint64_t n = 0;

	for (int i = 0; i < XSK_MAX_QUEUES; i++)
		n += queues[i].no_socket;
	return n;
}

#define XS(type, f) COUNTER(type, struct xsk_stats, f, #f)
const struct counter_desc xsk_stats_desc[] = {
    XS(U64, rx),	   XS(U64, rx_bytes),	  XS(U64, rx_fill_empty),
    XS(U64, rx_ring_full), XS(U64, rx_bad_queue), XS(U64, fill_invalid),
    XS(U64, tx),	   XS(U64, tx_bytes),	  XS(U64, tx_invalid),
    XS(U64, tx_busy),	   XS(U64, completions),  XS(U64, wakeups),
    XS(U64, tx_wakeups),   XS(U64, fill_wakeups), XS(U32, frames),
    XS(U32, owned),	   XS(U32, tx_inflight),
};
const unsigned xsk_stats_ndesc = COUNTERS_LEN(xsk_stats_desc);

int xsk_stats_json(char *buf, size_t cap)
{
	struct kbuf b = {buf, cap, 0};
	bool first = true;

	kbuf_printf(&b, "{\"no_socket\":%llu,\"sockets\":[",
		    (unsigned long long)xsk_no_socket_drops());
	for (int i = 0; i < XSK_MAX_SOCKETS; i++) {
		if (!sockets[i].in_use)
			continue;
		struct xsk_stats st;

		xsk_get_stats(&sockets[i], &st);
		kbuf_printf(&b, "%s{\"id\":%u,\"queue\":%u", first ? "" : ",",
			    sockets[i].id, sockets[i].queue_id);
		counters_json_members(&b, xsk_stats_desc, xsk_stats_ndesc, &st,
				      0);
		kbuf_printf(&b, "}");
		first = false;
	}
	kbuf_printf(&b, "]}");
	return kbuf_finish(&b);
}

/* The transmit side of the packet path: see tx.h. Exercised by
 * tests/unit/test_netif.c (batching, ring full, retries, TSO merging,
 * XDP_TX) through the lwIP glue, and by every frame of `make run`.
 *
 * TCP segmentation offload (HOST_TSO4 negotiated). lwIP 2.1 builds one
 * MSS-sized segment at a time, so the TX path coalesces: netdev_tx_send
 * holds the stack's frames (referenced) instead of queuing them, and the
 * flush (netdev_tx_flush, or NETDEV_TX_FLUSH_BATCH held frames) queues
 * them in order, turning each run of consecutive held frames that are
 * segments of one connection into a single GSO frame: same MACs, IP header
 * (but length, id, checksum), ports, ack, window and TCP options;
 * contiguous sequence numbers; flags ACK, PSH only on the run's last;
 * every payload the first's size (gso_size) but the last's, which may be
 * shorter. Never SYN/FIN/RST/URG/ECN flags. The GSO frame is an edited copy
 * of the first frame's headers (from a preallocated record, which is also
 * the chain's completion and lists the merged frames, each freed once on
 * completion) followed by every segment's payload in place, at most
 * VNET_TX_MAX_FRAGS descriptors and 64 KiB. The main loop flushes every
 * round before it can sleep, so nothing is held across a sleep. Ring
 * trouble at the flush becomes a counted drop, which TCP repairs by
 * retransmitting. */
#include "netdev/tx.h"

#include <string.h>

#include "kernel/heap.h"
#include "kernel/kerrno.h"
#include "netdev/tc_hook.h"

struct netdev_gso {
	uint8_t hdr[NETDEV_GSO_HDR_MAX];
	uint8_t n; /* frames in frame[] */
	void *frame[NETDEV_GSO_MAX_SEGS];
	struct netdev_gso *next; /* free list */
};

/* ---- typed completions ---------------------------------------------------
 * The driver keeps one pointer per chain; its low two bits say what it is
 * (enum netdev_txc_kind). Frames and GSO records are at least 4-byte
 * aligned; an RX buffer handle is stored shifted. */
#define NETDEV_TXC_MASK 3u

_Static_assert(_Alignof(struct netdev_gso) >= 4, "GSO records hold a tag");

static void *txc_make(enum netdev_txc_kind kind, uintptr_t v)
{
	return (void *)(v | (uintptr_t)kind);
}

static enum netdev_txc_kind txc_kind(const void *c)
{
	return (enum netdev_txc_kind)((uintptr_t)c & NETDEV_TXC_MASK);
}

static uintptr_t txc_value(const void *c)
{
	return (uintptr_t)c & ~(uintptr_t)NETDEV_TXC_MASK;
}

static void *txc_frame(void *frame)
{
	return txc_make(NETDEV_TXC_FRAME, (uintptr_t)frame);
}

/* ---- init -----------------------------------------------------------------
 */

int netdev_tx_init(struct netdev_tx *t, struct vnet *vn, bool tso,
		   uint32_t txqueuelen, const struct netdev_tx_ops *ops)
{
	int err;

	memset(t, 0, sizeof(*t));
	t->vnet = vn;
	t->ops = *ops;
	t->tso = tso;
	err = txq_init(&t->q, vn, txqueuelen, netdev_tx_complete, t);
	if (err)
		return err;
	if (!tso)
		return 0;
	t->gso_pool = kcalloc(NETDEV_GSO_POOL, sizeof(*t->gso_pool));
	if (!t->gso_pool)
		return -ENOMEM;
	for (unsigned i = NETDEV_GSO_POOL; i-- > 0;) {
		t->gso_pool[i].next = t->gso_free;
		t->gso_free = &t->gso_pool[i];
	}
	return 0;
}

void netdev_tx_fini(struct netdev_tx *t)
{
	/* Frames held for coalescing never reached the device. */
	for (unsigned i = 0; i < t->npend; i++)
		t->ops.frame_free(t->ops.ctx, t->pend[i].frame);
	t->npend = 0;
	/* Frames waiting for ring space go back through their completions. */
	txq_destroy(&t->q);
	kfree(t->gso_pool);
	t->gso_pool = t->gso_free = NULL;
}

/* Frees every frame of a GSO record once and returns it to the pool. */
static void gso_put(struct netdev_tx *t, struct netdev_gso *g)
{
	for (unsigned i = 0; i < g->n; i++)
		t->ops.frame_free(t->ops.ctx, g->frame[i]);
	g->n = 0;
	g->next = t->gso_free;
	t->gso_free = g;
}

void netdev_tx_complete(void *ctx, void *cookie)
{
	struct netdev_tx *t = ctx;

	t->stats.inflight--;
	t->stats.done++;
	switch (txc_kind(cookie)) {
	case NETDEV_TXC_GSO:
		gso_put(t, (struct netdev_gso *)txc_value(cookie));
		break;
	case NETDEV_TXC_RX_BUF:
		vnet_rx_buf_release(t->vnet,
				    (uint32_t)(txc_value(cookie) >> 2));
		/* A reclaim may run outside a poll (the TX retry path): the
		 * owner must make its next flush repost the buffer. */
		t->ops.rx_returned(t->ops.ctx);
		break;
	case NETDEV_TXC_UMEM:
		if (netdev_rx_hook && netdev_rx_hook->umem_tx_done)
			netdev_rx_hook->umem_tx_done(
			    vnet_queue_index(t->vnet),
			    (uint64_t)(txc_value(cookie) >> 2));
		break;
	default:
		t->ops.frame_free(t->ops.ctx, (void *)txc_value(cookie));
		break;
	}
}

/* ---- queueing -------------------------------------------------------------
 */

/* Notifies the device of the chains queued since the last notification. */
static void tx_kick(struct netdev_tx *t)
{
	if (!t->unflushed)
		return;
	t->unflushed = 0;
	t->stats.flushes++;
	vnet_tx_flush(t->vnet);
}

void netdev_tx_reclaim(struct netdev_tx *t)
{
	t->unflushed += txq_drain(&t->q);
}

/* Queues a chain under its completion: on the ring, or in the software
 * queue while the ring is full (txq_xmit() first publishes what is there,
 * reclaims and retries). */
static int tx_queue(struct netdev_tx *t, const struct vnet_frag *frags,
		    unsigned nfrags, const struct vnet_tx_offload *csum,
		    void *txc)
{
	int err = txq_xmit(&t->q, frags, nfrags, csum, txc);

	if (err == -ENOBUFS) {
		/* The queue (or, without one, the ring) is full. Not a loss
		 * for TCP: it keeps the segment and sends it again; UDP and
		 * ICMP replies are lost, counted in the queue's drops. */
		if (t->q.stats.cap == 0) {
			vnet_tx_drop(t->vnet);
			t->stats.ring_full++;
		}
		return -ENOSPC;
	}
	if (err) {
		t->stats.error++;
		return -EIO;
	}
	t->stats.frames++;
	t->stats.inflight++;
	if (csum)
		t->stats.csum_offload++;
	if (++t->unflushed >= NETDEV_TX_FLUSH_BATCH)
		tx_kick(t);
	return 0;
}

int netdev_tx_send(struct netdev_tx *t, void *frame, const uint8_t *head,
		   unsigned head_len, unsigned tot_len,
		   const struct vnet_frag *frags, unsigned nfrags,
		   const struct vnet_tx_offload *off)
{
	if (t->tso) {
		/* Held until the flush, which may merge it with its
		 * neighbours; the flush reports ring trouble as drops. */
		struct netdev_tx_pend *e = &t->pend[t->npend++];

		e->frame = frame;
		e->head = head;
		e->head_len = head_len;
		e->tot_len = tot_len;
		e->nfrags = nfrags;
		memcpy(e->frags, frags, nfrags * sizeof(*frags));
		e->csum = off != NULL;
		if (off)
			e->off = *off;
		else
			memset(&e->off, 0, sizeof(e->off));
		if (t->npend == NETDEV_TX_FLUSH_BATCH)
			netdev_tx_flush(t);
		return 0;
	}
	if (tc_armed(TC_EGRESS) &&
	    !tc_egress_run(frags, nfrags, tot_len, off, 1)) {
		/* Dropped by the TC egress program: sent, as far as the
		 * stack can tell (counted by the hook). */
		t->ops.frame_free(t->ops.ctx, frame);
		return 0;
	}
	return tx_queue(t, frags, nfrags, off, txc_frame(frame));
}

int netdev_tx_from_rx(struct netdev_tx *t, void *frame, uint32_t len,
		      uint32_t handle)
{
	struct vnet_frag frag = {frame, len};

	return tx_queue(t, &frag, 1, NULL,
			txc_make(NETDEV_TXC_RX_BUF, (uintptr_t)handle << 2));
}

static int port_tx_from_rx(void *ctx, void *frame, uint32_t len,
			   uint32_t handle)
{
	return netdev_tx_from_rx(ctx, frame, len, handle);
}

static int port_tx_umem(void *ctx, void *frame, uint32_t len, uint64_t addr)
{
	struct vnet_frag frag = {frame, len};

	if (addr > (UINTPTR_MAX >> 2))
		return -EINVAL;
	return tx_queue(ctx, &frag, 1, NULL,
			txc_make(NETDEV_TXC_UMEM, (uintptr_t)addr << 2));
}

static int port_borrow(void *ctx, uint32_t *handle)
{
	struct netdev_tx *t = ctx;

	return vnet_rx_buf_borrow(t->vnet, handle);
}

static void *port_buf(void *ctx, uint32_t handle)
{
	struct netdev_tx *t = ctx;

	return vnet_rx_buf_data(t->vnet, handle);
}

static void port_release(void *ctx, uint32_t handle)
{
	struct netdev_tx *t = ctx;

	vnet_rx_buf_release(t->vnet, handle);
}

void netdev_tx_rx_port(struct netdev_tx *t, struct netdev_rx_port *port)
{
	port->ctx = t;
	port->tx_from_rx = port_tx_from_rx;
	port->release = port_release;
	port->pool_bufs = vnet_rx_pool_size(t->vnet);
	port->buf_size = VNET_RX_BUF_SIZE;
	port->buf_headroom = VNET_HDR_LEN;
	port->borrow = port_borrow;
	port->buf = port_buf;
	port->tx_umem = port_tx_umem;
}

/* ---- TSO: coalescing held TCP segments ------------------------------------
 */

/* Fragments of e's bytes from offset skip to the end, into frags (NULL:
 * only counted); -1 past VNET_TX_MAX_FRAGS. */
static int payload_frags(const struct netdev_tx_pend *e, unsigned skip,
			 struct vnet_frag *frags)
{
	int n = 0;

	for (unsigned i = 0; i < e->nfrags; i++) {
		const struct vnet_frag *q = &e->frags[i];

		if (q->len > skip) {
			if (n == VNET_TX_MAX_FRAGS)
				return -1;
			if (frags) {
				frags[n].data = (uint8_t *)q->data + skip;
				frags[n].len = q->len - skip;
			}
			n++;
		}
		skip = skip > q->len ? skip - q->len : 0;
	}
	return n;
}

/* netdev_seg_parse for a held frame, plus the descriptors its payload
 * takes. */
static bool pend_seg(const struct netdev_tx_pend *e, struct netdev_seg *s,
		     unsigned *nfrags)
{
	int nf;

	if (!e->csum ||
	    !netdev_seg_parse(e->head, e->head_len, e->tot_len, &e->off, s))
		return false;
	nf = payload_frags(e, s->hlen, NULL);
	if (nf <= 0)
		return false;
	*nfrags = (unsigned)nf;
	return true;
}

/* How many held frames from i on make one GSO frame (1: none). */
static unsigned gso_run(struct netdev_tx *t, unsigned i,
			struct netdev_seg *segs)
{
	unsigned n = 1, frags, bytes, nf;

	if (!pend_seg(&t->pend[i], &segs[0], &nf))
		return 1;
	frags = 1 + nf;
	bytes = segs[0].hlen + segs[0].plen;
	while (i + n < t->npend && n < NETDEV_GSO_MAX_SEGS) {
		struct netdev_seg *s = &segs[n];

		if (!pend_seg(&t->pend[i + n], s, &nf) ||
		    !netdev_seg_follows(&segs[0], &segs[n - 1], s) ||
		    frags + nf > VNET_TX_MAX_FRAGS ||
		    bytes + s->plen > VNET_GSO_MAX_FRAME)
			break;
		frags += nf;
		bytes += s->plen;
		n++;
	}
	return n;
}

/* Queues held frames i .. i+n-1 as one GSO frame: an edited copy of the
 * first frame's headers, then every frame's payload in place. Returns
 * false, having done nothing, when no record is free; true when queued or
 * dropped (the frames then freed). */
static bool tx_gso(struct netdev_tx *t, unsigned i, unsigned n,
		   const struct netdev_seg *segs)
{
	struct vnet_frag frags[VNET_TX_MAX_FRAGS];
	struct vnet_tx_offload off;
	struct netdev_gso *g = t->gso_free;
	const struct netdev_seg *s0 = &segs[0];
	unsigned nf = 1, tcp_len = s0->hlen - s0->tcp;

	if (!g)
		return false;
	t->gso_free = g->next;
	g->next = NULL;
	memcpy(g->hdr, s0->f, s0->hlen);
	frags[0].data = g->hdr;
	frags[0].len = s0->hlen;
	for (unsigned k = 0; k < n; k++) {
		const struct netdev_tx_pend *e = &t->pend[i + k];

		nf += (unsigned)payload_frags(e, s0->hlen, frags + nf);
		g->frame[k] = e->frame;
		tcp_len += segs[k].plen;
	}
	g->n = (uint8_t)n;
	netdev_gso_header(g->hdr, s0, tcp_len,
			  segs[n - 1].flags & NETDEV_TCP_PSH, &off);
	/* TC egress sees the GSO frame as the device will. */
	if (tc_armed(TC_EGRESS) &&
	    !tc_egress_run(frags, nf, s0->tcp + tcp_len, &off, n)) {
		gso_put(t, g);
		return true;
	}
	if (tx_queue(t, frags, nf, &off,
		     txc_make(NETDEV_TXC_GSO, (uintptr_t)g)) != 0) {
		gso_put(t, g);
		return true;
	}
	t->stats.gso_frames++;
	t->stats.gso_segments += n;
	return true;
}

/* One held frame as it is. */
static void tx_single(struct netdev_tx *t, struct netdev_tx_pend *e)
{
	if (tc_armed(TC_EGRESS) &&
	    !tc_egress_run(e->frags, e->nfrags, e->tot_len,
			   e->csum ? &e->off : NULL, 1)) {
		t->ops.frame_free(t->ops.ctx, e->frame);
		return;
	}
	if (tx_queue(t, e->frags, e->nfrags, e->csum ? &e->off : NULL,
		     txc_frame(e->frame)) != 0)
		t->ops.frame_free(t->ops.ctx, e->frame);
}

/* Queues every held frame, merging runs of one connection's segments. */
static void tx_drain(struct netdev_tx *t)
{
	struct netdev_seg segs[NETDEV_GSO_MAX_SEGS];
	unsigned i = 0;

	while (i < t->npend) {
		unsigned n = gso_run(t, i, segs);

		if (n > 1 && tx_gso(t, i, n, segs)) {
			i += n;
			continue;
		}
		tx_single(t, &t->pend[i]);
		i++;
	}
	t->npend = 0;
}

void netdev_tx_flush(struct netdev_tx *t)
{
	if (t->npend)
		tx_drain(t);
	tx_kick(t);
}

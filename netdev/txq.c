/* The software TX queue (see txq.h). Frames wait in a ring of slots in
 * offer order; the head is retried whenever completions may have freed
 * ring space. */
#include "netdev/txq.h"

#include <string.h>

#include "kernel/heap.h"
#include "kernel/kerrno.h"

int txq_init(struct txq *q, struct vnet *n, uint32_t cap, vnet_tx_done_fn done,
	     void *done_ctx)
{
	memset(q, 0, sizeof(*q));
	if (!n || !done || cap > TXQ_MAX_LEN)
		return -EINVAL;
	q->vnet = n;
	q->done = done;
	q->done_ctx = done_ctx;
	if (cap) {
		q->slots = kcalloc(cap, sizeof(*q->slots));
		if (!q->slots)
			return -ENOMEM;
	}
	q->stats.cap = cap;
	return 0;
}

static struct txq_slot *txq_at(struct txq *q, uint32_t i)
{
	return &q->slots[(q->head + i) % q->stats.cap];
}

static void txq_pop(struct txq *q)
{
	txq_at(q, 0)->cookie = NULL;
	q->head = (q->head + 1) % q->stats.cap;
	q->stats.len--;
}

void txq_destroy(struct txq *q)
{
	while (q->stats.len) {
		void *cookie = txq_at(q, 0)->cookie;

		txq_pop(q);
		q->done(q->done_ctx, cookie);
	}
	kfree(q->slots);
	q->slots = NULL;
	q->stats.cap = 0;
}

static int txq_send(struct txq *q, const struct txq_slot *s)
{
	return vnet_tx_chain(q->vnet, s->frags, s->nfrags,
			     s->has_off ? &s->off : NULL, s->cookie);
}

unsigned txq_drain(struct txq *q)
{
	unsigned moved = 0;

	vnet_tx_reclaim(q->vnet, q->done, q->done_ctx);
	while (q->stats.len) {
		struct txq_slot *s = txq_at(q, 0);
		void *cookie = s->cookie;
		int err = txq_send(q, s);

		if (err == -ENOSPC)
			break;
		txq_pop(q);
		if (err) {
			/* It was checked when offered, so only a device
			 * that broke meanwhile refuses it: give it back. */
			q->stats.errors++;
			q->done(q->done_ctx, cookie);
			continue;
		}
		moved++;
	}
	return moved;
}

/* Appends a frame the ring cannot take now; -ENOBUFS when full. */
static int txq_enqueue(struct txq *q, const struct vnet_frag *frags,
		       unsigned nfrags, const struct vnet_tx_offload *off,
		       void *cookie)
{
	struct txq_slot *s;

	if (q->stats.len == q->stats.cap) {
		q->stats.drops++;
		return -ENOBUFS;
	}
	if (q->stats.len == 0)
		q->stats.stalls++;
	s = txq_at(q, q->stats.len);
	/* Empty fragments are skipped, so vnet_tx_check() having passed,
	 * at most VNET_TX_MAX_FRAGS remain. */
	s->nfrags = 0;
	for (unsigned i = 0; i < nfrags; i++)
		if (frags[i].len && s->nfrags < VNET_TX_MAX_FRAGS)
			s->frags[s->nfrags++] = frags[i];
	s->has_off = off != NULL;
	if (off)
		s->off = *off;
	s->cookie = cookie;
	q->stats.len++;
	q->stats.queued++;
	if (q->stats.len > q->stats.hiwat)
		q->stats.hiwat = q->stats.len;
	return 0;
}

int txq_xmit(struct txq *q, const struct vnet_frag *frags, unsigned nfrags,
	     const struct vnet_tx_offload *off, void *cookie)
{
	int err;

	/* Frames already waiting go first: order on the wire is the order
	 * of offer. */
	if (q->stats.len)
		txq_drain(q);
	if (q->stats.len == 0) {
		err = vnet_tx_chain(q->vnet, frags, nfrags, off, cookie);
		if (err != -ENOSPC)
			return err;
		/* Ring full: let the device see what is there, take back
		 * what it finished, and try once more before queueing. */
		vnet_tx_flush(q->vnet);
		vnet_tx_reclaim(q->vnet, q->done, q->done_ctx);
		err = vnet_tx_chain(q->vnet, frags, nfrags, off, cookie);
		if (err == 0)
			q->stats.retries++;
		if (err != -ENOSPC)
			return err;
	}
	/* A frame the device could never take must not wait here. */
	err = vnet_tx_check(q->vnet, frags, nfrags, off);
	if (err)
		return err;
	return txq_enqueue(q, frags, nfrags, off, cookie);
}

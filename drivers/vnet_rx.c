/* virtio-net receive, one queue pair: the RX buffer pool, posting, the
 * poll, and checksum completion.
 *
 * Ownership of RX buffers: FREE (on our free stack) -> POSTED (in the ring,
 * the device may write it) -> LENT (delivered; the consumer reads it in
 * place) -> FREE on vnet_rx_buf_release(). Bad frames go POSTED -> FREE.
 * The free list is a stack: the buffer released last (whose lines the CPU
 * touched last, so most likely still cached) is posted first, and at most
 * rx_target buffers are posted at once (fixed, or adaptive: see
 * vnet_rx_adapt()). */
#include "drivers/vnet_var.h"
#include "kernel/heap.h"
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "kernel/page_alloc.h"

int vnet_alloc_pool(struct vnet *n, unsigned want)
{
	unsigned runs;

	if (want == 0)
		want = VNET_DEFAULT_POOL_BUFS;
	if (want > VNET_MAX_POOL_RUNS * VNET_BUFS_PER_RUN) {
		log_warn("%s: RX pool capped at %u buffers", n->dev->name,
			 VNET_MAX_POOL_RUNS * VNET_BUFS_PER_RUN);
		want = VNET_MAX_POOL_RUNS * VNET_BUFS_PER_RUN;
	}
	n->rxbufs = kcalloc(want, sizeof(*n->rxbufs));
	n->rx_free = kcalloc(want, sizeof(*n->rx_free));
	if (!n->rxbufs || !n->rx_free)
		return -ENOMEM;

	runs = (want + VNET_BUFS_PER_RUN - 1) / VNET_BUFS_PER_RUN;
	for (unsigned r = 0; r < runs; r++) {
		uint64_t run = page_alloc(VNET_POOL_RUN_BYTES / PAGE_SIZE,
					  VNET_POOL_RUN_BYTES);

		if (!run) {
			log_error("%s: no 2 MiB run for the RX pool",
				  n->dev->name);
			return -ENOMEM;
		}
		n->pool_runs[n->npool_runs++] = run;
	}

	n->nbufs = want;
	for (uint32_t i = 0; i < want; i++) {
		uint64_t run = n->pool_runs[i / VNET_BUFS_PER_RUN];

		n->rxbufs[i].data =
		    (uint8_t *)(uintptr_t)(run +
					   (uint64_t)(i % VNET_BUFS_PER_RUN) *
					       VNET_RX_BUF_SIZE);
		n->rxbufs[i].state = VNET_BUF_FREE;
		/* Buffer 0 on top: the first frames use the first lines. */
		n->rx_free[i] = want - 1 - i;
	}
	n->rx_nfree = want;
	return 0;
}

/* Caps the target to the ring (vnet_rx_refill_due() says when a refill is
 * worth it). */
void vnet_rx_set_target(struct vnet *n, uint32_t target)
{
	if (target > n->rxq.num)
		target = n->rxq.num;
	if (target == 0)
		target = 1;
	n->rx_target = target;
}

/* ---- receive ---- */

static void vnet_rx_recycle(struct vnet *n, uint32_t handle)
{
	n->rxbufs[handle].state = VNET_BUF_FREE;
	n->rx_free[n->rx_nfree++] = handle;
}

/* Room for more posted buffers: below the target and in the ring. */
static bool vnet_rx_has_room(const struct vnet *n, unsigned posted)
{
	return n->rx_posted + posted < n->rx_target && vq_num_free(&n->rxq);
}

/* Pops the free stack (hottest first) into the ring, up to the target. */
unsigned vnet_rx_post(struct vnet *n)
{
	unsigned posted = 0;

	while (n->rx_nfree && vnet_rx_has_room(n, posted)) {
		uint32_t h = n->rx_free[n->rx_nfree - 1];
		struct vq_buf b = {
		    .addr = (uint64_t)(uintptr_t)n->rxbufs[h].data,
		    .len = VNET_RX_BUF_SIZE,
		};

		if (vq_add_chain(&n->rxq, &b, 0, 1, &n->rxbufs[h]) != 0)
			break;
		n->rx_nfree--;
		n->rxbufs[h].state = VNET_BUF_POSTED;
		vnet_trace(n, h, VNET_TRACE_POSTED, 0);
		posted++;
	}

	/* Count each time the pool runs dry, not each refill while it is. */
	if (n->rx_nfree == 0 && vnet_rx_has_room(n, posted) &&
	    !vq_is_broken(&n->rxq)) {
		if (!n->rx_starved)
			n->stats.drops.no_buffer++;
		n->rx_starved = true;
	} else {
		n->rx_starved = false;
	}
	n->rx_posted += posted;
	return posted;
}

/* A device that steers by our RSS table may hold a frame back on the queue
 * it arrived on when the queue it steered it to was full, and look at it
 * again only when that arrival queue is notified. QEMU's software RSS (used
 * when its eBPF RSS cannot load, as under QEMU 7.2 here) does exactly this:
 * the frame waits on the tap queue of the same number, which stops reading,
 * and the guest never notifies an RX queue that still has buffers. So the
 * tap queue, and every flow the host steers to it, stalls for good (issue
 * 14). A full queue is the only way in, and a full queue asks for the
 * notify that its refill sends; that is when the other RX queues are
 * notified too. Only the notify register is touched: the other pairs' rings
 * belong to their CPUs. */
static void vnet_rx_notify_siblings(struct vnet *n)
{
	const struct vnet_dev *nd = n->nd;

	for (unsigned i = 0; i < nd->npairs; i++) {
		if (i == n->pair)
			continue;
		n->dev->ops->notify(n->dev, nd->qp[i]->rxq.index);
		n->stats.rx_sibling_notifications++;
	}
}

unsigned vnet_rx_refill(struct vnet *n)
{
	unsigned posted = vnet_rx_post(n);

	if (posted && vq_kick(&n->rxq) && n->nd->rss)
		vnet_rx_notify_siblings(n);
	return posted;
}

int vnet_rx_buf_release(struct vnet *n, uint32_t handle)
{
	if (handle >= n->nbufs || n->rxbufs[handle].state != VNET_BUF_LENT) {
		log_warn("%s: release of RX buffer %u that is not lent out",
			 n->dev->name, (unsigned)handle);
		return -EINVAL;
	}
	n->rx_lent--;
	vnet_rx_recycle(n, handle);
	vnet_trace(n, handle, VNET_TRACE_RELEASED, 0);
	return 0;
}

int vnet_rx_buf_borrow(struct vnet *n, uint32_t *handle)
{
	if (!n->rx_nfree)
		return -ENOBUFS;
	uint32_t h = n->rx_free[--n->rx_nfree];

	n->rxbufs[h].state = VNET_BUF_LENT;
	n->rx_lent++;
	*handle = h;
	return 0;
}

void *vnet_rx_buf_data(const struct vnet *n, uint32_t handle)
{
	return handle < n->nbufs ? n->rxbufs[handle].data : NULL;
}

static uint32_t vnet_csum_add(uint32_t sum, const uint8_t *p, uint32_t len)
{
	for (; len > 1; len -= 2, p += 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t vnet_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Finishes a partial checksum as the device would have on the wire: the
 * field already holds the pseudo-header sum, so sum from csum_start to the
 * end, complement, store big-endian. */
static int vnet_csum_complete(uint8_t *frame, uint32_t len, uint32_t start,
			      uint32_t offset)
{
	uint32_t at = start + offset;
	uint16_t csum;

	if (start >= len || at + 2 > len)
		return -EINVAL;
	csum = (uint16_t)~vnet_csum_fold(
	    vnet_csum_add(0, frame + start, len - start));
	/* Zero would mean "no checksum" to UDP; 0xffff is the same sum. */
	if (csum == 0)
		csum = 0xffff;
	frame[at] = (uint8_t)(csum >> 8);
	frame[at + 1] = (uint8_t)csum;
	return 0;
}

/* Returns the flags for the consumer, or a negative errno for a header we
 * cannot honour. */
static int vnet_rx_hdr_flags(const struct vnet *n,
			     const struct virtio_net_hdr *hdr, uint8_t *frame,
			     uint32_t len)
{
	/* We never offer GUEST_TSO/UFO, so a GSO frame is a device bug. */
	if (hdr->gso_type != VIRTIO_NET_HDR_GSO_NONE)
		return -EINVAL;
	if (!n->rx_csum)
		return 0;
	if (hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (vnet_csum_complete(frame, len, hdr->csum_start,
				       hdr->csum_offset))
			return -EINVAL;
		return VIRTIO_NET_HDR_F_DATA_VALID;
	}
	return hdr->flags & VIRTIO_NET_HDR_F_DATA_VALID;
}

/* A bad frame's buffer goes straight back to the free stack. */
static void vnet_rx_drop(struct vnet *n, uint32_t handle)
{
	vnet_rx_recycle(n, handle);
	vnet_trace(n, handle, VNET_TRACE_RELEASED, 0);
}

static void vnet_rx_one(struct vnet *n, const struct vq_used *u, vnet_rx_fn fn,
			void *ctx)
{
	struct vnet_rxbuf *b = u->cookie;
	uint32_t handle = (uint32_t)(b - n->rxbufs);
	uint8_t *frame = b->data + VNET_HDR_LEN;
	uint32_t len;
	int flags;

	n->rx_posted--;
	vnet_trace(n, handle, VNET_TRACE_WRITTEN,
		   u->len > VNET_HDR_LEN ? u->len - VNET_HDR_LEN : 0);
	if (u->bad_len) {
		n->stats.drops.bad_len++;
		vnet_rx_drop(n, handle);
		return;
	}
	if (u->len < VNET_HDR_LEN + VNET_ETH_HLEN) {
		n->stats.drops.too_short++;
		vnet_rx_drop(n, handle);
		return;
	}
	len = u->len - VNET_HDR_LEN;
	flags = vnet_rx_hdr_flags(n, (const struct virtio_net_hdr *)b->data,
				  frame, len);
	if (flags < 0) {
		n->stats.drops.bad_hdr++;
		vnet_rx_drop(n, handle);
		return;
	}
	b->state = VNET_BUF_LENT;
	n->rx_lent++;
	n->stats.rx_packets++;
	n->stats.rx_bytes += len;
	vnet_trace(n, handle, VNET_TRACE_READ, len);
	fn(ctx, frame, len, handle, (uint8_t)flags);
}

static bool vnet_rx_wants_refill(const struct vnet *n)
{
	return n->rx_nfree && vq_num_free(&n->rxq) &&
	       vnet_rx_refill_due(n->rx_posted, n->rx_target);
}

/* Adaptive occupancy, once per poll that found posted buffers: the rule
 * of vnet_rx_adapt_target() (drivers/vnet_rx_policy.h). */
static void vnet_rx_adapt(struct vnet *n, uint32_t posted_before, unsigned done,
			  bool backlog)
{
	enum vnet_rx_adapt_change change;
	uint32_t t =
	    vnet_rx_adapt_target(n->rx_target, n->rxq.num, posted_before, done,
				 backlog, &n->rx_calm_polls, &change);

	if (change == VNET_RX_ADAPT_KEEP)
		return;
	vnet_rx_set_target(n, t);
	if (change == VNET_RX_ADAPT_GROW)
		n->stats.rx_target_grows++;
	else
		n->stats.rx_target_shrinks++;
}

int vnet_rx_poll(struct vnet *n, unsigned budget, vnet_rx_fn fn, void *ctx)
{
	struct vq_used u;
	uint32_t posted_before = n->rx_posted;
	unsigned done = 0;
	int st;

	if (budget > VNET_RX_MAX_BUDGET)
		budget = VNET_RX_MAX_BUDGET;
	n->stats.polls++;
	while (done < budget && vq_get_used(&n->rxq, &u)) {
		done++;
		vnet_rx_one(n, &u, fn, ctx);
	}
	if (done)
		vnet_hist_add(n->stats.rx_batch, done);
	else
		n->stats.empty_polls++;
	if (done == 0 && vq_is_broken(&n->rxq))
		return -EIO;

	st = (int)done;
	if (done == budget && vq_has_used(&n->rxq))
		st |= VNET_RX_MORE;
	if (n->rx_adaptive && posted_before)
		vnet_rx_adapt(n, posted_before, done, st & VNET_RX_MORE);
	if (vnet_rx_wants_refill(n))
		st |= VNET_RX_REFILL;
	return st;
}

/* virtio-net driver: VERSION_1 devices, one RX and one TX split queue, no
 * mergeable buffers (every RX buffer holds a whole 1500-byte-MTU frame).
 *
 * Exercised by:
 *   qemu-system-x86_64 -M q35 -bios OVMF.fd ... \
 *     -netdev user,id=n0 -device virtio-net-pci,netdev=n0,disable-legacy=on
 * (and the same on -M pc), and on the host by tests/unit/test_virtio_net.c
 * against the simulated device in tests/unit/sim_virtio.c.
 *
 * Ownership of RX buffers: FREE (on our free stack) -> POSTED (in the ring,
 * the device may write it) -> LENT (delivered; the consumer reads it in
 * place) -> FREE on vnet_rx_buf_release(). Bad frames go POSTED -> FREE.
 * The free list is a stack: the buffer released last (whose lines the CPU
 * touched last, so most likely still cached) is posted first, and at most
 * rx_target buffers are posted at once (fixed, or adaptive: see
 * vnet_rx_adapt()).
 *
 * TX chains are [our virtio_net_hdr][caller fragment]...; the header lives
 * in tx_hdrs[head], indexed by the chain's head descriptor, which no other
 * chain in flight can share, so transmitting allocates nothing. */
#include "drivers/virtio_net.h"

#include <stdarg.h>
#include <string.h>

#include "drivers/virtqueue.h"
#include "kernel/heap.h"
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "kernel/page_alloc.h"
#include "kernel/printf.h"

enum vnet_buf_state { VNET_BUF_FREE, VNET_BUF_POSTED, VNET_BUF_LENT };

struct vnet_rxbuf {
	uint8_t *data; /* virtio_net_hdr, then the frame */
	uint8_t state; /* enum vnet_buf_state */
};

struct vnet_tx_slot {
	void *cookie; /* the caller's; NULL while the slot is idle */
	uint32_t len; /* frame bytes, counted when the device is done */
};

struct vnet {
	struct virtio_device *dev;
	struct virtqueue rxq;
	struct virtqueue txq;
	char rxq_name[48];
	char txq_name[48];
	void *ring_mem[2]; /* per queue, from page_alloc */
	uint64_t ring_pages[2];

	uint64_t pool_runs[VNET_MAX_POOL_RUNS]; /* 2 MiB runs of RX buffers */
	unsigned npool_runs;
	struct vnet_rxbuf *rxbufs; /* nbufs, indexed by handle */
	uint32_t nbufs;
	uint32_t *rx_free; /* stack of FREE handles, hottest on top */
	uint32_t rx_nfree;
	uint32_t rx_posted;
	uint32_t rx_lent;
	uint32_t rx_target;	/* most buffers posted at once */
	uint32_t rx_calm_polls; /* adaptive: small polls in a row */
	bool rx_adaptive;
	bool rx_starved; /* the pool is dry, below the target */

	/* Optional RX buffer trace (vnet_trace_enable), off when cap is 0. */
	struct vnet_trace_rec *trace;
	uint32_t trace_cap;
	uint32_t trace_count;
	uint64_t trace_dropped;
	uint64_t trace_seq; /* timestamps without a clock */
	uint64_t (*clock)(void);

	struct virtio_net_hdr *tx_hdrs; /* txq.num, indexed by chain head */
	struct vnet_tx_slot *tx_slots;	/* txq.num, indexed by chain head */
	uint32_t tx_inflight;
	uint32_t tx_batch; /* frames queued since the last flush */

	uint16_t vectors[VNET_IRQ_SOURCES]; /* MSI-X entries or NO_VECTOR */
	unsigned work;			    /* VNET_WORK_*, set atomically */
	uint8_t mac[6];
	bool link_up;
	bool tx_csum;		 /* VIRTIO_NET_F_CSUM */
	bool tx_tso;		 /* VIRTIO_NET_F_HOST_TSO4 (with CSUM) */
	bool rx_csum;		 /* VIRTIO_NET_F_GUEST_CSUM */
	struct vnet_stats stats; /* counters; gauges filled in on read */
};

/* Locally administered, used when the device has no VIRTIO_NET_F_MAC. */
static const uint8_t vnet_fallback_mac[6] = {0x02, 'S', 'K', 'I', 'F', 'F'};

static const struct vnet_params vnet_default_params;

/* ---- init ---- */

static void vnet_notify(void *ctx, uint16_t index)
{
	struct virtio_device *dev = ctx;

	dev->ops->notify(dev, index);
}

static int vnet_negotiate(struct vnet *n, const struct vnet_params *p)
{
	uint64_t wanted =
	    1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_RING_EVENT_IDX |
	    1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_STATUS;
	int err;

	if (!p->no_csum_offload)
		wanted |=
		    1ULL << VIRTIO_NET_F_CSUM | 1ULL << VIRTIO_NET_F_GUEST_CSUM;
	/* HOST_TSO4 depends on CSUM (spec 5.1.3.1). */
	if (!p->no_csum_offload && !p->no_tso)
		wanted |= 1ULL << VIRTIO_NET_F_HOST_TSO4;
	/* A TX frame is our header plus the caller's fragments; through an
	 * indirect table it takes one ring slot however many there are. */
	if (!p->no_indirect)
		wanted |= 1ULL << VIRTIO_F_INDIRECT_DESC;
	err = virtio_negotiate(n->dev, wanted, 1ULL << VIRTIO_F_VERSION_1);
	if (err)
		return err;
	n->tx_csum = virtio_has_feature(n->dev, VIRTIO_NET_F_CSUM);
	n->tx_tso =
	    n->tx_csum && virtio_has_feature(n->dev, VIRTIO_NET_F_HOST_TSO4);
	n->rx_csum = virtio_has_feature(n->dev, VIRTIO_NET_F_GUEST_CSUM);
	return 0;
}

static void vnet_read_mac(struct vnet *n)
{
	struct virtio_device *dev = n->dev;

	if (virtio_has_feature(dev, VIRTIO_NET_F_MAC) &&
	    dev->ops->read_config(dev, offsetof(struct virtio_net_config, mac),
				  n->mac, sizeof(n->mac)) == 0)
		return;
	log_warn("%s: no MAC from the device, using a local one", dev->name);
	memcpy(n->mac, vnet_fallback_mac, sizeof(n->mac));
}

/* The spec says a device without VIRTIO_NET_F_STATUS has its link up. */
static bool vnet_read_link(struct vnet *n)
{
	struct virtio_device *dev = n->dev;
	virtio_le16 status;

	if (!virtio_has_feature(dev, VIRTIO_NET_F_STATUS))
		return true;
	if (dev->ops->read_config(dev,
				  offsetof(struct virtio_net_config, status),
				  &status, sizeof(status)) != 0) {
		log_warn("%s: cannot read link status", dev->name);
		return n->link_up;
	}
	return status & VIRTIO_NET_S_LINK_UP;
}

/* The device's maximum, capped, rounded down to a power of two (the split
 * ring's free-running indexes need one). */
static uint16_t vnet_queue_size(uint16_t max, uint16_t cap)
{
	uint16_t size = max < cap ? max : cap;

	while (size & (size - 1))
		size &= (uint16_t)(size - 1);
	return size;
}

static uint16_t vnet_request_vector(struct vnet *n, const struct vnet_params *p,
				    enum vnet_irq_source src)
{
	if (!p->vector || !(n->dev->msix || n->dev->shared_irq))
		return VIRTIO_MSI_NO_VECTOR;
	return p->vector(p->vector_ctx, n, src);
}

/* Hands the rings to the device. A refused vector is not fatal: the queue
 * still works, only polled. */
static int vnet_program_queue(struct vnet *n, struct virtqueue *vq,
			      uint16_t vector, enum vnet_irq_source src)
{
	struct virtio_device *dev = n->dev;
	struct virtio_queue_addrs addrs;
	int err;

	vq_get_addrs(vq, &addrs);
	err = dev->ops->setup_queue(dev, vq->index, vq->num, &addrs, vector);
	if (err == -EIO && vector != VIRTIO_MSI_NO_VECTOR) {
		log_warn("%s: device refused MSI-X entry %u; polling it",
			 vq->name, (unsigned)vector);
		vector = VIRTIO_MSI_NO_VECTOR;
		err = dev->ops->setup_queue(dev, vq->index, vq->num, &addrs,
					    vector);
	}
	if (err) {
		log_error("%s: queue setup failed (%d)", vq->name, err);
		return err;
	}
	n->vectors[src] = vector;
	return 0;
}

static int vnet_setup_queue(struct vnet *n, const struct vnet_params *p,
			    uint16_t index, enum vnet_irq_source src)
{
	struct virtio_device *dev = n->dev;
	bool rx = index == VIRTIO_NET_RXQ;
	struct virtqueue *vq = rx ? &n->rxq : &n->txq;
	char *name = rx ? n->rxq_name : n->txq_name;
	uint16_t cap = rx ? p->rx_ring_max : p->tx_ring_max;
	uint16_t max = dev->ops->queue_max_size(dev, index), size;
	uint64_t mem;
	int err;

	if (max == 0) {
		log_error("%s: device has no queue %u", dev->name,
			  (unsigned)index);
		return -ENODEV;
	}
	size = vnet_queue_size(max, cap ? cap : VNET_DEFAULT_RING);
	n->ring_pages[index] =
	    (vq_ring_bytes(size) + PAGE_SIZE - 1) / PAGE_SIZE;
	mem = page_alloc(n->ring_pages[index], PAGE_SIZE);
	if (!mem)
		return -ENOMEM;
	n->ring_mem[index] = (void *)(uintptr_t)mem;

	ksnprintf(name, sizeof(n->rxq_name), "%s %s", dev->name,
		  rx ? "rx" : "tx");
	err = vq_init(vq, name, index, size, n->ring_mem[index],
		      virtio_has_feature(dev, VIRTIO_F_RING_EVENT_IDX),
		      vnet_notify, dev);
	if (err)
		return err;
	return vnet_program_queue(n, vq, vnet_request_vector(n, p, src), src);
}

static int vnet_setup_config_vector(struct vnet *n, const struct vnet_params *p)
{
	struct virtio_device *dev = n->dev;
	uint16_t vector = vnet_request_vector(n, p, VNET_IRQ_CONFIG);

	if (vector == VIRTIO_MSI_NO_VECTOR)
		return 0;
	if (dev->ops->set_config_vector(dev, vector) != 0) {
		log_warn("%s: device refused config MSI-X entry %u; link "
			 "changes will not interrupt",
			 dev->name, (unsigned)vector);
		return dev->ops->set_config_vector(dev, VIRTIO_MSI_NO_VECTOR);
	}
	n->vectors[VNET_IRQ_CONFIG] = vector;
	return 0;
}

static int vnet_alloc_tx(struct vnet *n)
{
	n->tx_hdrs = kcalloc(n->txq.num, sizeof(*n->tx_hdrs));
	n->tx_slots = kcalloc(n->txq.num, sizeof(*n->tx_slots));
	return n->tx_hdrs && n->tx_slots ? 0 : -ENOMEM;
}

static int vnet_alloc_pool(struct vnet *n, unsigned want)
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

static unsigned vnet_rx_post(struct vnet *n);

/* Caps the target to the ring (vnet_rx_refill_due() says when a refill is
 * worth it). */
static void vnet_rx_set_target(struct vnet *n, uint32_t target)
{
	if (target > n->rxq.num)
		target = n->rxq.num;
	if (target == 0)
		target = 1;
	n->rx_target = target;
}

/* Fills the RX ring and sets DRIVER_OK; the first notification has to wait
 * for DRIVER_OK, so the kick is split around it. */
static void vnet_start(struct vnet *n)
{
	bool kick;

	/* TX completions are reaped by the main loop; an interrupt for each
	 * would only wake it for nothing. */
	vq_disable_cb(&n->txq);
	vnet_rx_post(n);
	kick = vq_kick_prepare(&n->rxq);
	virtio_driver_ok(n->dev);
	if (kick)
		vq_notify(&n->rxq);
	n->link_up = vnet_read_link(n);
}

static void vnet_log_ready(const struct vnet *n)
{
	const uint8_t *m = n->mac;

	log_info("%s: MAC %02x:%02x:%02x:%02x:%02x:%02x, link %s", n->dev->name,
		 m[0], m[1], m[2], m[3], m[4], m[5],
		 n->link_up ? "up" : "down");
	log_info("%s: rx ring %u (%u buffers), tx ring %u, csum offload tx %s "
		 "rx %s, event idx %s, tso %s, indirect %s",
		 n->dev->name, (unsigned)n->rxq.num, (unsigned)n->nbufs,
		 (unsigned)n->txq.num, n->tx_csum ? "on" : "off",
		 n->rx_csum ? "on" : "off", n->rxq.event_idx ? "on" : "off",
		 n->tx_tso ? "on" : "off", n->txq.indirect ? "on" : "off");
	log_info("%s: rx posted %s%u", n->dev->name,
		 n->rx_adaptive ? "adaptive, from " : "at most ",
		 (unsigned)n->rx_target);
	log_info("%s: MSI-X entries rx %u tx %u config %u (65535 = polled)",
		 n->dev->name, (unsigned)n->vectors[VNET_IRQ_RX],
		 (unsigned)n->vectors[VNET_IRQ_TX],
		 (unsigned)n->vectors[VNET_IRQ_CONFIG]);
}

/* Gives back every TX cookie the device still holds (after reset). */
static void vnet_return_tx(struct vnet *n, vnet_tx_done_fn done, void *ctx)
{
	struct vnet_tx_slot *slot;

	while ((slot = vq_detach_unused(&n->txq)) != NULL) {
		if (done)
			done(ctx, slot->cookie);
		slot->cookie = NULL;
		n->tx_inflight--;
	}
}

/* Safe at any point of vnet_probe(): frees whatever exists. */
static void vnet_teardown(struct vnet *n, vnet_tx_done_fn done, void *ctx)
{
	struct virtio_device *dev = n->dev;
	/* Only a reset guarantees the device no longer writes our memory. */
	bool quiet = dev->ops->reset(dev) == 0;

	if (!quiet)
		log_error("%s: device did not reset; leaking its rings and "
			  "buffers rather than freeing memory it may write",
			  dev->name);
	vnet_return_tx(n, done, ctx);
	for (unsigned q = 0; quiet && q < 2; q++)
		if (n->ring_mem[q])
			page_free((uint64_t)(uintptr_t)n->ring_mem[q],
				  n->ring_pages[q]);
	for (unsigned r = 0; quiet && r < n->npool_runs; r++)
		page_free(n->pool_runs[r], VNET_POOL_RUN_BYTES / PAGE_SIZE);
	vq_destroy(&n->rxq);
	vq_destroy(&n->txq);
	kfree(n->rxbufs);
	kfree(n->rx_free);
	kfree(n->tx_hdrs);
	kfree(n->tx_slots);
	kfree(n);
}

int vnet_probe(struct virtio_device *dev, const struct vnet_params *params,
	       struct vnet **out)
{
	struct vnet *n;
	int err;

	if (!params)
		params = &vnet_default_params;
	if (dev->device_id != VIRTIO_ID_NET)
		return -ENODEV;
	n = kcalloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->dev = dev;
	for (unsigned i = 0; i < VNET_IRQ_SOURCES; i++)
		n->vectors[i] = VIRTIO_MSI_NO_VECTOR;

	err = vnet_negotiate(n, params);
	if (err)
		goto fail;
	vnet_read_mac(n);
	err = vnet_setup_queue(n, params, VIRTIO_NET_RXQ, VNET_IRQ_RX);
	if (err)
		goto fail;
	err = vnet_setup_queue(n, params, VIRTIO_NET_TXQ, VNET_IRQ_TX);
	if (err)
		goto fail;
	err = vnet_alloc_tx(n);
	if (err)
		goto fail;
	if (virtio_has_feature(dev, VIRTIO_F_INDIRECT_DESC) &&
	    vq_enable_indirect(&n->txq, VNET_TX_MAX_FRAGS + 1) != 0)
		log_warn("%s: no memory for indirect tables; TX chains stay "
			 "direct",
			 dev->name);
	err = vnet_alloc_pool(n, params->pool_bufs);
	if (err)
		goto fail;
	err = vnet_setup_config_vector(n, params);
	if (err)
		goto fail;

	n->clock = params->clock;
	vnet_trace_enable(n, params->trace, params->trace_cap);
	n->rx_adaptive = params->rx_posted_adaptive;
	if (n->rx_adaptive)
		vnet_rx_set_target(n, VNET_RX_ADAPT_START);
	else
		vnet_rx_set_target(n, params->rx_posted ? params->rx_posted
							: n->rxq.num);
	vnet_start(n);
	vnet_log_ready(n);
	*out = n;
	return 0;

fail:
	log_error("%s: virtio-net probe failed (%d)", dev->name, err);
	vnet_teardown(n, NULL, NULL);
	virtio_fail(dev);
	return err;
}

void vnet_remove(struct vnet *n, vnet_tx_done_fn done, void *ctx)
{
	vnet_teardown(n, done, ctx);
}

void vnet_get_mac(const struct vnet *n, uint8_t mac[6])
{
	memcpy(mac, n->mac, sizeof(n->mac));
}

bool vnet_link_up(struct vnet *n)
{
	n->link_up = vnet_read_link(n);
	return n->link_up;
}

bool vnet_config_changed(struct vnet *n)
{
	bool was = n->link_up;

	if (vnet_link_up(n) != was)
		log_info("%s: link %s", n->dev->name,
			 n->link_up ? "up" : "down");
	return n->link_up;
}

bool vnet_tx_csum_offload(const struct vnet *n)
{
	return n->tx_csum;
}

bool vnet_tx_tso(const struct vnet *n)
{
	return n->tx_tso;
}

bool vnet_rx_csum_offload(const struct vnet *n)
{
	return n->rx_csum;
}

unsigned vnet_rx_pool_size(const struct vnet *n)
{
	return n->nbufs;
}

bool vnet_has_irq(const struct vnet *n, enum vnet_irq_source src)
{
	return src < VNET_IRQ_SOURCES &&
	       n->vectors[src] != VIRTIO_MSI_NO_VECTOR;
}

/* ---- ring helpers ---- */

/* Log2 buckets: 1, 2-3, 4-7, ..., the last one open-ended. */
static void vnet_hist_add(uint64_t *hist, unsigned count)
{
	unsigned b = 0;

	while ((count >>= 1) && b < VNET_HIST_BUCKETS - 1)
		b++;
	hist[b]++;
}

/* ---- transmit ---- */

/* Collects the non-empty fragments behind the header slot bufs[0]. Returns
 * the number of buffers or a negative errno; *total gets the frame length. */
static int vnet_tx_gather(const struct vnet_frag *frags, unsigned nfrags,
			  struct vq_buf *bufs, uint32_t *total, uint32_t max)
{
	unsigned nb = 1;
	uint64_t sum = 0;

	for (unsigned i = 0; i < nfrags; i++) {
		if (frags[i].len == 0)
			continue;
		if (nb > VNET_TX_MAX_FRAGS)
			return -E2BIG;
		bufs[nb].addr = (uint64_t)(uintptr_t)frags[i].data;
		bufs[nb].len = frags[i].len;
		sum += frags[i].len;
		nb++;
	}
	if (sum < VNET_ETH_HLEN || sum > max)
		return -EINVAL;
	*total = (uint32_t)sum;
	return (int)nb;
}

static int vnet_tx_fill_hdr(const struct vnet *n, struct virtio_net_hdr *hdr,
			    const struct vnet_tx_offload *csum, uint32_t total)
{
	memset(hdr, 0, sizeof(*hdr));
	if (!csum)
		return 0;
	if (!n->tx_csum)
		return -ENOTSUP;
	if ((uint32_t)csum->csum_start + csum->csum_offset + 2 > total)
		return -EINVAL;
	hdr->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	hdr->csum_start = csum->csum_start;
	hdr->csum_offset = csum->csum_offset;
	if (csum->gso_type == VIRTIO_NET_HDR_GSO_NONE)
		return 0;
	if (csum->gso_type != VIRTIO_NET_HDR_GSO_TCPV4)
		return -EINVAL;
	if (!n->tx_tso)
		return -ENOTSUP;
	/* The headers hold the checksum field and leave payload behind. */
	if (csum->gso_size == 0 ||
	    csum->hdr_len <
		(uint32_t)csum->csum_start + csum->csum_offset + 2 ||
	    csum->hdr_len >= total)
		return -EINVAL;
	hdr->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	hdr->gso_size = csum->gso_size;
	hdr->hdr_len = csum->hdr_len;
	return 0;
}

int vnet_tx_check(const struct vnet *n, const struct vnet_frag *frags,
		  unsigned nfrags, const struct vnet_tx_offload *csum)
{
	struct vq_buf bufs[VNET_TX_MAX_FRAGS + 1];
	struct virtio_net_hdr hdr;
	uint32_t total = 0;
	int nb;

	if (vq_is_broken(&n->txq))
		return -EIO;
	nb = vnet_tx_gather(frags, nfrags, bufs, &total,
			    csum && csum->gso_type ? VNET_GSO_MAX_FRAME
						   : VNET_MAX_FRAME);
	if (nb < 0)
		return nb;
	return vnet_tx_fill_hdr(n, &hdr, csum, total);
}

int vnet_tx_chain(struct vnet *n, const struct vnet_frag *frags,
		  unsigned nfrags, const struct vnet_tx_offload *csum,
		  void *cookie)
{
	struct vq_buf bufs[VNET_TX_MAX_FRAGS + 1];
	struct vnet_tx_slot *slot;
	uint32_t total = 0;
	int nb, head, err;

	if (vq_is_broken(&n->txq))
		return -EIO;
	if (!cookie)
		return -EINVAL;
	/* Only a GSO frame may exceed the MTU. */
	nb = vnet_tx_gather(frags, nfrags, bufs, &total,
			    csum && csum->gso_type ? VNET_GSO_MAX_FRAME
						   : VNET_MAX_FRAME);
	if (nb < 0)
		return nb;
	head = vq_next_head(&n->txq);
	if (head < 0 ||
	    vq_descs_for(&n->txq, (unsigned)nb) > vq_num_free(&n->txq)) {
		n->stats.tx_ring_full++;
		return -ENOSPC;
	}
	err = vnet_tx_fill_hdr(n, &n->tx_hdrs[head], csum, total);
	if (err)
		return err;
	bufs[0].addr = (uint64_t)(uintptr_t)&n->tx_hdrs[head];
	bufs[0].len = VNET_HDR_LEN;

	slot = &n->tx_slots[head];
	err = vq_add_chain(&n->txq, bufs, (unsigned)nb, 0, slot);
	if (err)
		return err;
	slot->cookie = cookie;
	slot->len = total;
	n->tx_inflight++;
	n->tx_batch++;
	return 0;
}

bool vnet_tx_flush(struct vnet *n)
{
	if (n->tx_batch == 0)
		return false;
	vnet_hist_add(n->stats.tx_batch, n->tx_batch);
	n->tx_batch = 0;
	return vq_kick(&n->txq);
}

unsigned vnet_tx_reclaim(struct vnet *n, vnet_tx_done_fn done, void *ctx)
{
	struct vq_used u;
	unsigned count = 0;

	while (vq_get_used(&n->txq, &u)) {
		struct vnet_tx_slot *slot = u.cookie;
		void *cookie = slot->cookie;

		/* The device read the frame even if it misreported len. */
		n->stats.tx_packets++;
		n->stats.tx_bytes += slot->len;
		slot->cookie = NULL;
		n->tx_inflight--;
		count++;
		if (done)
			done(ctx, cookie);
	}
	return count;
}

void vnet_tx_drop(struct vnet *n)
{
	n->stats.drops.ring_full++;
}

/* ---- RX buffer trace ---- */

static void vnet_trace_add(struct vnet *n, uint32_t handle, uint8_t event,
			   uint32_t len)
{
	struct vnet_trace_rec *r;

	if (n->trace_count == n->trace_cap) {
		n->trace_dropped++;
		return;
	}
	r = &n->trace[n->trace_count++];
	r->ns = n->clock ? n->clock() : n->trace_seq++;
	r->handle = handle;
	r->len = len > 0xffff ? 0xffff : (uint16_t)len;
	r->event = event;
	r->pad = 0;
}

/* One predictable branch when tracing is off. */
static inline void vnet_trace(struct vnet *n, uint32_t handle, uint8_t event,
			      uint32_t len)
{
	if (__builtin_expect(n->trace_cap != 0, 0))
		vnet_trace_add(n, handle, event, len);
}

void vnet_trace_enable(struct vnet *n, struct vnet_trace_rec *buf, uint32_t cap)
{
	n->trace = buf;
	n->trace_cap = buf ? cap : 0;
	n->trace_count = 0;
	n->trace_dropped = 0;
	n->trace_seq = 0;
}

uint32_t vnet_trace_count(const struct vnet *n, uint64_t *dropped)
{
	if (dropped)
		*dropped = n->trace_dropped;
	return n->trace_count;
}

int vnet_trace_format_line(const struct vnet_trace_rec *r, char *buf,
			   size_t size)
{
	return ksnprintf(buf, size, "%llu %u %u %u\n",
			 (unsigned long long)r->ns, (unsigned)r->handle,
			 (unsigned)r->event, (unsigned)r->len);
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
static unsigned vnet_rx_post(struct vnet *n)
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

unsigned vnet_rx_refill(struct vnet *n)
{
	unsigned posted = vnet_rx_post(n);

	if (posted)
		vq_kick(&n->rxq);
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

/* ---- interrupts ---- */

void vnet_irq(struct vnet *n, enum vnet_irq_source src)
{
	if (src >= VNET_IRQ_SOURCES)
		return;
	n->stats.irqs[src]++;
	if (src == VNET_IRQ_RX)
		vq_disable_cb(&n->rxq);
	else if (src == VNET_IRQ_TX)
		vq_disable_cb(&n->txq);
	__atomic_fetch_or(&n->work, 1u << src, __ATOMIC_RELEASE);
}

unsigned vnet_take_work(struct vnet *n)
{
	return __atomic_exchange_n(&n->work, 0, __ATOMIC_ACQUIRE);
}

void vnet_rx_irq_disable(struct vnet *n)
{
	vq_disable_cb(&n->rxq);
}

bool vnet_rx_irq_enable(struct vnet *n)
{
	return vq_enable_cb(&n->rxq);
}

bool vnet_tx_irq_enable(struct vnet *n)
{
	return vq_enable_cb(&n->txq);
}

void vnet_tx_irq_disable(struct vnet *n)
{
	vq_disable_cb(&n->txq);
}

/* ---- counters ---- */

void vnet_get_stats(const struct vnet *n, struct vnet_stats *out)
{
	*out = n->stats;
	out->drops.bad_id = n->rxq.stats.bad_id + n->rxq.stats.bad_idx +
			    n->txq.stats.bad_id + n->txq.stats.bad_idx;
	out->rx_notifications = n->rxq.stats.notifications;
	out->rx_kicks_suppressed = n->rxq.stats.kicks_suppressed;
	out->tx_notifications = n->txq.stats.notifications;
	out->tx_kicks_suppressed = n->txq.stats.kicks_suppressed;
	out->rx_ring_size = n->rxq.num;
	out->rx_posted = n->rx_posted;
	out->rx_lent = n->rx_lent;
	out->rx_pool_free = n->rx_nfree;
	out->rx_pool_size = n->nbufs;
	out->rx_target = n->rx_target;
	out->rx_adaptive = n->rx_adaptive;
	out->tx_ring_size = n->txq.num;
	out->tx_inflight = n->tx_inflight;
	out->tx_indirect = n->txq.stats.indirect;
	out->link_up = n->link_up;
	out->broken = vq_is_broken(&n->rxq) || vq_is_broken(&n->txq);
}

/* Appends a batch-size histogram, as JSON array members or as text. */

#define VS(type, field, name) COUNTER(type, struct vnet_stats, field, name)
#define VG(type, field, name) GAUGE(type, struct vnet_stats, field, name)
const struct counter_desc vnet_stats_counters[] = {
    VS(BOOL, link_up, "link_up"),
    VS(BOOL, broken, "broken"),
    VS(U64, rx_packets, "rx_packets"),
    VS(U64, rx_bytes, "rx_bytes"),
    VS(U64, tx_packets, "tx_packets"),
    VS(U64, tx_bytes, "tx_bytes"),
    VS(U64, drops.ring_full, "drops.ring_full"),
    VS(U64, drops.bad_len, "drops.bad_len"),
    VS(U64, drops.bad_id, "drops.bad_id"),
    VS(U64, drops.no_buffer, "drops.no_buffer"),
    VS(U64, drops.too_short, "drops.too_short"),
    VS(U64, drops.bad_hdr, "drops.bad_hdr"),
    VS(U64, tx_ring_full, "tx_ring_full"),
    VS(U64, irqs[VNET_IRQ_RX], "irqs.rx"),
    VS(U64, irqs[VNET_IRQ_TX], "irqs.tx"),
    VS(U64, irqs[VNET_IRQ_CONFIG], "irqs.config"),
    VS(U64, polls, "polls"),
    VS(U64, empty_polls, "empty_polls"),
    VS(U64, rx_notifications, "notify.rx"),
    VS(U64, rx_kicks_suppressed, "notify.rx_suppressed"),
    VS(U64, tx_notifications, "notify.tx"),
    VS(U64, tx_kicks_suppressed, "notify.tx_suppressed"),
    COUNTER_ARRAY(U64, struct vnet_stats, rx_batch, VNET_HIST_BUCKETS,
		  "rx_batch_log2"),
    COUNTER_ARRAY(U64, struct vnet_stats, tx_batch, VNET_HIST_BUCKETS,
		  "tx_batch_log2"),
    VG(U32, rx_ring_size, "rx_ring.size"),
    VG(U32, rx_posted, "rx_ring.posted"),
    VG(U32, rx_lent, "rx_ring.lent"),
    VG(U32, rx_pool_free, "rx_ring.pool_free"),
    VG(U32, rx_pool_size, "rx_ring.pool_size"),
    VG(U32, rx_target, "rx_ring.target"),
    VS(BOOL, rx_adaptive, "rx_ring.adaptive"),
    VS(U64, rx_target_grows, "rx_ring.grows"),
    VS(U64, rx_target_shrinks, "rx_ring.shrinks"),
    VG(U32, tx_ring_size, "tx_ring.size"),
    VG(U32, tx_inflight, "tx_ring.inflight"),
    VS(U64, tx_indirect, "tx_ring.indirect"),
};
const unsigned vnet_stats_counters_len = COUNTERS_LEN(vnet_stats_counters);

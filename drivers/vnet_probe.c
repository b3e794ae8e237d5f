/* virtio-net driver, bring-up: VERSION_1 devices, one or more queue pairs of
 * split queues, no mergeable buffers (every RX buffer holds a whole
 * 1500-byte-MTU frame). This file brings the device up and down; each
 * queue pair's receive, transmit, interrupt, trace and counter code lives
 * in vnet_rx.c, vnet_tx.c, vnet_irq.c, vnet_trace.c and vnet_stats.c, the
 * control queue in vnet_ctrl.c, the shared state in vnet_var.h.
 *
 * Exercised by:
 *   qemu-system-x86_64 -M q35 -bios OVMF.fd ... \
 *     -netdev user,id=n0 -device virtio-net-pci,netdev=n0,disable-legacy=on
 * (and the same on -M pc); several pairs by
 *   qemu-system-x86_64 -smp 2 -accel tcg,thread=multi ... \
 *     -netdev tap,id=n0,queues=2,... \
 *     -device virtio-net-pci,netdev=n0,mq=on,rss=on,vectors=6
 * and on the host by tests/unit/test_virtio_net.c against the simulated
 * device in tests/unit/sim_virtio.c. */
#include "drivers/virtio_net.h"

#include <string.h>

#include "drivers/vnet_var.h"
#include "kernel/heap.h"
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "kernel/page_alloc.h"
#include "kernel/printf.h"

/* Locally administered, used when the device has no VIRTIO_NET_F_MAC. */
static const uint8_t vnet_fallback_mac[6] = {0x02, 'S', 'K', 'I', 'F', 'F'};

static const struct vnet_params vnet_default_params;

/* ---- init ---- */

static void vnet_notify(void *ctx, uint16_t index)
{
	struct virtio_device *dev = ctx;

	dev->ops->notify(dev, index);
}

static bool vnet_wants_pairs(const struct vnet_params *p)
{
	return p->max_pairs > 1;
}

static int vnet_negotiate(struct vnet_dev *nd, const struct vnet_params *p)
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
	/* Several pairs: MQ and RSS both need the control queue. With one
	 * pair wanted none of them is asked for, so the device behaves
	 * exactly as a single-queue one. */
	if (vnet_wants_pairs(p)) {
		wanted |= 1ULL << VIRTIO_NET_F_CTRL_VQ | 1ULL
							     << VIRTIO_NET_F_MQ;
		if (!p->no_rss)
			wanted |= 1ULL << VIRTIO_NET_F_RSS;
	}
	err = virtio_negotiate(nd->dev, wanted, 1ULL << VIRTIO_F_VERSION_1);
	if (err)
		return err;
	nd->mq = virtio_has_feature(nd->dev, VIRTIO_NET_F_MQ) &&
		 virtio_has_feature(nd->dev, VIRTIO_NET_F_CTRL_VQ);
	return 0;
}

static void vnet_read_mac(struct vnet_dev *nd)
{
	struct virtio_device *dev = nd->dev;

	if (virtio_has_feature(dev, VIRTIO_NET_F_MAC) &&
	    dev->ops->read_config(dev, offsetof(struct virtio_net_config, mac),
				  nd->mac, sizeof(nd->mac)) == 0)
		return;
	log_warn("%s: no MAC from the device, using a local one", dev->name);
	memcpy(nd->mac, vnet_fallback_mac, sizeof(nd->mac));
}

/* The spec says a device without VIRTIO_NET_F_STATUS has its link up. */
static bool vnet_read_link(struct vnet_dev *nd)
{
	struct virtio_device *dev = nd->dev;
	virtio_le16 status;

	if (!virtio_has_feature(dev, VIRTIO_NET_F_STATUS))
		return true;
	if (dev->ops->read_config(dev,
				  offsetof(struct virtio_net_config, status),
				  &status, sizeof(status)) != 0) {
		log_warn("%s: cannot read link status", dev->name);
		return nd->link_up;
	}
	return status & VIRTIO_NET_S_LINK_UP;
}

/* How many pairs to run: what we want, what the device says it has (a
 * value outside the spec's range is the device's bug: one pair), and our
 * own cap. */
static void vnet_choose_pairs(struct vnet_dev *nd, const struct vnet_params *p)
{
	struct virtio_device *dev = nd->dev;
	virtio_le16 max = 1;
	unsigned want = p->max_pairs ? p->max_pairs : 1;

	nd->max_pairs = 1;
	nd->npairs = 1;
	if (!nd->mq)
		return;
	if (dev->ops->read_config(
		dev, offsetof(struct virtio_net_config, max_virtqueue_pairs),
		&max, sizeof(max)) != 0 ||
	    max < VIRTIO_NET_MQ_PAIRS_MIN || max > VIRTIO_NET_MQ_PAIRS_MAX) {
		log_warn("%s: max_virtqueue_pairs %u out of range; one pair",
			 dev->name, (unsigned)max);
		nd->mq = false;
		return;
	}
	nd->max_pairs = max;
	if (want > max)
		want = max;
	if (want > VNET_MAX_PAIRS)
		want = VNET_MAX_PAIRS;
	nd->npairs = want;
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

/* One queue of pair n: which = 0 receive, 1 transmit. */
static int vnet_setup_queue(struct vnet *n, const struct vnet_params *p,
			    unsigned which)
{
	struct virtio_device *dev = n->dev;
	bool rx = which == 0;
	uint16_t index = (uint16_t)(2 * n->pair + which);
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
	n->ring_pages[which] =
	    (vq_ring_bytes(size) + PAGE_SIZE - 1) / PAGE_SIZE;
	mem = page_alloc(n->ring_pages[which], PAGE_SIZE);
	if (!mem)
		return -ENOMEM;
	n->ring_mem[which] = (void *)(uintptr_t)mem;

	/* Pair 0 keeps the names it always had; the others are numbered. */
	if (n->nd->npairs == 1)
		ksnprintf(name, sizeof(n->rxq_name), "%s %s", dev->name,
			  rx ? "rx" : "tx");
	else
		ksnprintf(name, sizeof(n->rxq_name), "%s %s%u", dev->name,
			  rx ? "rx" : "tx", n->pair);
	err = vq_init(vq, name, index, size, n->ring_mem[which],
		      virtio_has_feature(dev, VIRTIO_F_RING_EVENT_IDX),
		      vnet_notify, dev);
	if (err)
		return err;
	return vnet_program_queue(
	    n, vq, vnet_request_vector(n, p, rx ? VNET_IRQ_RX : VNET_IRQ_TX),
	    rx ? VNET_IRQ_RX : VNET_IRQ_TX);
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
	n->nd->config_vector = vector;
	return 0;
}

static int vnet_alloc_tx(struct vnet *n)
{
	n->tx_hdrs = kcalloc(n->txq.num, sizeof(*n->tx_hdrs));
	n->tx_slots = kcalloc(n->txq.num, sizeof(*n->tx_slots));
	return n->tx_hdrs && n->tx_slots ? 0 : -ENOMEM;
}

static struct vnet *vnet_pair_new(struct vnet_dev *nd, unsigned pair)
{
	struct vnet *n = kcalloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->nd = nd;
	n->dev = nd->dev;
	n->pair = pair;
	for (unsigned i = 0; i < VNET_IRQ_SOURCES; i++)
		n->vectors[i] = VIRTIO_MSI_NO_VECTOR;
	n->tx_csum = virtio_has_feature(nd->dev, VIRTIO_NET_F_CSUM);
	n->tx_tso =
	    n->tx_csum && virtio_has_feature(nd->dev, VIRTIO_NET_F_HOST_TSO4);
	n->rx_csum = virtio_has_feature(nd->dev, VIRTIO_NET_F_GUEST_CSUM);
	nd->qp[pair] = n;
	return n;
}

/* Rings, TX slots and RX pool of one pair. */
static int vnet_pair_setup(struct vnet *n, const struct vnet_params *p)
{
	int err;

	err = vnet_setup_queue(n, p, 0);
	if (err)
		return err;
	err = vnet_setup_queue(n, p, 1);
	if (err)
		return err;
	err = vnet_alloc_tx(n);
	if (err)
		return err;
	if (virtio_has_feature(n->dev, VIRTIO_F_INDIRECT_DESC) &&
	    vq_enable_indirect(&n->txq, VNET_TX_MAX_FRAGS + 1) != 0)
		log_warn("%s: no memory for indirect tables; TX chains stay "
			 "direct",
			 n->txq.name);
	err = vnet_alloc_pool(n, p->pool_bufs);
	if (err)
		return err;
	n->clock = p->clock;
	n->rx_adaptive = p->rx_posted_adaptive;
	if (n->rx_adaptive)
		vnet_rx_set_target(n, VNET_RX_ADAPT_START);
	else
		vnet_rx_set_target(n, p->rx_posted ? p->rx_posted : n->rxq.num);
	return 0;
}

/* Fills the RX rings and sets DRIVER_OK; the first notifications have to
 * wait for DRIVER_OK, so the kicks are split around it. Then the control
 * queue tells the device how many pairs to use. */
static void vnet_start(struct vnet_dev *nd, const struct vnet_params *p)
{
	bool kick[VNET_MAX_PAIRS];

	for (unsigned i = 0; i < nd->npairs; i++) {
		struct vnet *n = nd->qp[i];

		/* TX completions are reaped by the bottom half; an interrupt
		 * for each would only wake it for nothing. */
		vq_disable_cb(&n->txq);
		vnet_rx_post(n);
		kick[i] = vq_kick_prepare(&n->rxq);
	}
	virtio_driver_ok(nd->dev);
	for (unsigned i = 0; i < nd->npairs; i++)
		if (kick[i])
			vq_notify(&nd->qp[i]->rxq);
	nd->link_up = vnet_read_link(nd);
	if (nd->npairs > 1 && vnet_ctrl_set_pairs(nd, !p->no_rss) != 0) {
		/* The device still uses pair 0 only: so do we. */
		log_warn("%s: device refused %u queue pairs; using one",
			 nd->dev->name, nd->npairs);
		nd->npairs = 1;
	}
}

static void vnet_log_ready(const struct vnet_dev *nd)
{
	const struct vnet *n = nd->qp[0];
	const uint8_t *m = nd->mac;

	log_info("%s: MAC %02x:%02x:%02x:%02x:%02x:%02x, link %s", n->dev->name,
		 m[0], m[1], m[2], m[3], m[4], m[5],
		 nd->link_up ? "up" : "down");
	log_info("%s: rx ring %u (%u buffers), tx ring %u, csum offload tx %s "
		 "rx %s, event idx %s, tso %s, indirect %s",
		 n->dev->name, (unsigned)n->rxq.num, (unsigned)n->nbufs,
		 (unsigned)n->txq.num, n->tx_csum ? "on" : "off",
		 n->rx_csum ? "on" : "off", n->rxq.event_idx ? "on" : "off",
		 n->tx_tso ? "on" : "off", n->txq.indirect ? "on" : "off");
	log_info("%s: rx posted %s%u", n->dev->name,
		 n->rx_adaptive ? "adaptive, from " : "at most ",
		 (unsigned)n->rx_target);
	if (nd->mq)
		log_info("%s: %u queue pairs of %u the device offers, "
			 "steering by %s",
			 n->dev->name, nd->npairs, (unsigned)nd->max_pairs,
			 nd->rss ? "our RSS table" : "the device");
	for (unsigned i = 0; i < nd->npairs; i++) {
		const struct vnet *q = nd->qp[i];

		if (nd->npairs == 1)
			log_info("%s: MSI-X entries rx %u tx %u config %u "
				 "(65535 = polled)",
				 n->dev->name,
				 (unsigned)q->vectors[VNET_IRQ_RX],
				 (unsigned)q->vectors[VNET_IRQ_TX],
				 (unsigned)nd->config_vector);
		else
			log_info("%s: pair %u MSI-X entries rx %u tx %u "
				 "(65535 = polled)",
				 n->dev->name, i,
				 (unsigned)q->vectors[VNET_IRQ_RX],
				 (unsigned)q->vectors[VNET_IRQ_TX]);
	}
	if (nd->npairs > 1)
		log_info("%s: config MSI-X entry %u", n->dev->name,
			 (unsigned)nd->config_vector);
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

static void vnet_pair_free(struct vnet *n, bool quiet)
{
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

/* Safe at any point of vnet_probe(): frees whatever exists. TX cookies of
 * pair 0 go back through done; those of other pairs are dropped (their
 * owners must have stopped and drained them before a remove). */
static void vnet_teardown(struct vnet_dev *nd, vnet_tx_done_fn done, void *ctx)
{
	struct virtio_device *dev = nd->dev;
	/* Only a reset guarantees the device no longer writes our memory. */
	bool quiet = dev->ops->reset(dev) == 0;

	if (!quiet)
		log_error("%s: device did not reset; leaking its rings and "
			  "buffers rather than freeing memory it may write",
			  dev->name);
	for (unsigned i = 0; i < VNET_MAX_PAIRS; i++) {
		if (!nd->qp[i])
			continue;
		vnet_return_tx(nd->qp[i], i == 0 ? done : NULL, ctx);
		vnet_pair_free(nd->qp[i], quiet);
	}
	vnet_ctrl_teardown(nd, quiet);
	kfree(nd);
}

int vnet_probe(struct virtio_device *dev, const struct vnet_params *params,
	       struct vnet **out)
{
	struct vnet_dev *nd;
	int err;

	if (!params)
		params = &vnet_default_params;
	if (dev->device_id != VIRTIO_ID_NET)
		return -ENODEV;
	nd = kcalloc(1, sizeof(*nd));
	if (!nd)
		return -ENOMEM;
	nd->dev = dev;
	nd->config_vector = VIRTIO_MSI_NO_VECTOR;
	nd->clock = params->clock;

	err = vnet_negotiate(nd, params);
	if (err)
		goto fail;
	vnet_read_mac(nd);
	vnet_choose_pairs(nd, params);
	for (unsigned i = 0; i < nd->npairs; i++) {
		if (!vnet_pair_new(nd, i)) {
			err = -ENOMEM;
			goto fail;
		}
		err = vnet_pair_setup(nd->qp[i], params);
		if (err)
			goto fail;
	}
	if (nd->mq) {
		err = vnet_ctrl_setup(nd, (uint16_t)(2 * nd->max_pairs),
				      params->tx_ring_max);
		if (err)
			goto fail;
	}
	err = vnet_setup_config_vector(nd->qp[0], params);
	if (err)
		goto fail;
	vnet_trace_enable(nd->qp[0], params->trace, params->trace_cap);
	vnet_start(nd, params);
	vnet_log_ready(nd);
	*out = nd->qp[0];
	return 0;

fail:
	log_error("%s: virtio-net probe failed (%d)", dev->name, err);
	vnet_teardown(nd, NULL, NULL);
	virtio_fail(dev);
	return err;
}

void vnet_remove(struct vnet *n, vnet_tx_done_fn done, void *ctx)
{
	vnet_teardown(n->nd, done, ctx);
}

void vnet_get_mac(const struct vnet *n, uint8_t mac[6])
{
	memcpy(mac, n->nd->mac, sizeof(n->nd->mac));
}

bool vnet_link_up(struct vnet *n)
{
	n->nd->link_up = vnet_read_link(n->nd);
	return n->nd->link_up;
}

bool vnet_config_changed(struct vnet *n)
{
	bool was = n->nd->link_up;

	if (vnet_link_up(n) != was)
		log_info("%s: link %s", n->dev->name,
			 n->nd->link_up ? "up" : "down");
	return n->nd->link_up;
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
	if (src == VNET_IRQ_CONFIG)
		return n->nd->config_vector != VIRTIO_MSI_NO_VECTOR;
	return src < VNET_IRQ_SOURCES &&
	       n->vectors[src] != VIRTIO_MSI_NO_VECTOR;
}

unsigned vnet_queue_count(const struct vnet *n)
{
	return n->nd->npairs;
}

unsigned vnet_queue_index(const struct vnet *n)
{
	return n->pair;
}

struct vnet *vnet_queue(const struct vnet *n, unsigned i)
{
	return i < n->nd->npairs ? n->nd->qp[i] : NULL;
}

bool vnet_rss_on(const struct vnet *n)
{
	return n->nd->rss;
}

/* virtio-net driver state, private to the driver's parts: vnet_probe.c
 * (bring-up), vnet_rx.c, vnet_tx.c, vnet_trace.c, vnet_irq.c, vnet_ctrl.c and
 * vnet_stats.c.
 *
 * One struct vnet per queue pair: its RX ring and buffer pool, its TX ring,
 * its counters and trace. Each queue pair has exactly one owner at a time
 * (the CPU that runs its bottom half), so nothing in it is locked. What
 * the queue pairs share - the device, its MAC, link state, the control
 * queue - sits in struct vnet_dev, written only during probe and by the
 * owner of queue pair 0 (link changes) afterwards. */
#ifndef SKIFF_DRIVERS_VNET_VAR_H
#define SKIFF_DRIVERS_VNET_VAR_H

#include "drivers/virtio_net.h"
#include "drivers/virtqueue.h"

enum vnet_buf_state { VNET_BUF_FREE, VNET_BUF_POSTED, VNET_BUF_LENT };

struct vnet_rxbuf {
	uint8_t *data; /* virtio_net_hdr, then the frame */
	uint8_t state; /* enum vnet_buf_state */
};

struct vnet_tx_slot {
	void *cookie; /* the caller's; NULL while the slot is idle */
	uint32_t len; /* frame bytes, counted when the device is done */
};

/* The control virtqueue (VIRTIO_NET_F_CTRL_VQ): commands go out one at a
 * time at probe and are waited for, so no interrupt serves it. */
struct vnet_ctrl {
	struct virtqueue vq;
	char name[48];
	void *ring_mem;
	uint64_t ring_pages;
	uint8_t *buf; /* command header + payload, then the ack byte */
	bool ready;
};

struct vnet_dev {
	struct virtio_device *dev;
	uint8_t mac[6];
	bool link_up;
	uint16_t config_vector; /* MSI-X entry or NO_VECTOR */
	uint16_t max_pairs;	/* config.max_virtqueue_pairs (MQ), else 1 */
	unsigned npairs;	/* queue pairs in use, 1 .. VNET_MAX_PAIRS */
	bool mq;		/* VIRTIO_NET_F_MQ negotiated */
	bool rss;		/* RSS configured (VIRTIO_NET_F_RSS) */
	uint16_t rss_table_len; /* indirection entries sent, 0 without RSS */
	struct vnet *qp[VNET_MAX_PAIRS];
	struct vnet_ctrl ctrl;
	uint64_t (*clock)(void);
};

struct vnet {
	struct vnet_dev *nd;
	struct virtio_device *dev; /* nd->dev, kept close for the hot path */
	unsigned pair;		   /* queue pair index, 0 .. npairs - 1 */
	struct virtqueue rxq;
	struct virtqueue txq;
	char rxq_name[48];
	char txq_name[48];
	void *ring_mem[2]; /* rx, tx; from page_alloc */
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
	/* Copies of device-wide facts, read-only after probe. */
	bool tx_csum;		 /* VIRTIO_NET_F_CSUM */
	bool tx_tso;		 /* VIRTIO_NET_F_HOST_TSO4 (with CSUM) */
	bool rx_csum;		 /* VIRTIO_NET_F_GUEST_CSUM */
	struct vnet_stats stats; /* counters; gauges filled in on read */
};

/* Log2 buckets: 1, 2-3, 4-7, ..., the last one open-ended. */
static inline void vnet_hist_add(uint64_t *hist, unsigned count)
{
	unsigned b = 0;

	while ((count >>= 1) && b < VNET_HIST_BUCKETS - 1)
		b++;
	hist[b]++;
}

void vnet_trace_add(struct vnet *n, uint32_t handle, uint8_t event,
		    uint32_t len);

/* One predictable branch when tracing is off. */
static inline void vnet_trace(struct vnet *n, uint32_t handle, uint8_t event,
			      uint32_t len)
{
	if (__builtin_expect(n->trace_cap != 0, 0))
		vnet_trace_add(n, handle, event, len);
}

/* vnet_rx.c, for bring-up. */
unsigned vnet_rx_post(struct vnet *n);
void vnet_rx_set_target(struct vnet *n, uint32_t target);
int vnet_alloc_pool(struct vnet *n, unsigned want);

/* vnet_ctrl.c: the control queue and the multiqueue commands. */
int vnet_ctrl_setup(struct vnet_dev *nd, uint16_t index, uint16_t size);
void vnet_ctrl_teardown(struct vnet_dev *nd, bool quiet);
/* After DRIVER_OK: VQ_PAIRS_SET for nd->npairs, then the RSS
 * configuration when rss_wanted and the device offers it. Returns 0 or a
 * negative errno (the device then keeps using one pair). */
int vnet_ctrl_set_pairs(struct vnet_dev *nd, bool rss_wanted);

#endif

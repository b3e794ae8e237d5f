/* The transmit side of the stack-neutral packet path, for one virtio-net
 * device: queues frames as descriptor chains (zero copy), publishes them in
 * batches, reclaims them, and with TSO holds the stack's frames until the
 * flush to merge runs of one connection's segments into GSO frames.
 *
 * A frame is the stack's (a pbuf chain for lwIP): the TX path sees its
 * fragments and an opaque owner token, and gives the token back through
 * ops->frame_free exactly once, when the device is done or the frame is
 * dropped. Every chain on the ring carries a typed completion (enum
 * netdev_txc_kind) saying what finishing it releases: the stack's frame,
 * an RX buffer sent back by the receive hook (XDP_TX), or a GSO record.
 *
 * Between netdev_tx_send() and vnet_tx_chain() sits the software TX queue
 * (netdev/txq.h): frames the ring cannot take wait there, in order, and
 * move on as completions free slots; only a full queue drops. */
#ifndef SKIFF_NETDEV_TX_H
#define SKIFF_NETDEV_TX_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/virtio_net.h"
#include "netdev/offload.h"
#include "netdev/rx_hook.h"
#include "netdev/txq.h"

/* Frames queued on the TX ring before a notification goes out even though
 * the round has not ended; with TSO, frames held before the flush. */
#define NETDEV_TX_FLUSH_BATCH 32
/* GSO records: the header a GSO frame repeats, one per frame in flight. */
#define NETDEV_GSO_POOL	    64
#define NETDEV_GSO_MAX_SEGS (VNET_TX_MAX_FRAGS - 1) /* + the header */

/* What finishing a chain releases. */
enum netdev_txc_kind {
	NETDEV_TXC_FRAME = 0,  /* the stack's frame: ops->frame_free */
	NETDEV_TXC_RX_BUF = 1, /* an RX buffer (XDP_TX): back to the driver */
	NETDEV_TXC_GSO = 2,    /* a GSO record: each merged frame, once */
	NETDEV_TXC_UMEM = 3,   /* an AF_XDP frame: its address back to the
				  socket (netdev_rx_hook->umem_tx_done) */
};

struct netdev_tx_ops {
	void *ctx;
	/* The device is done with the frame (or it was dropped). */
	void (*frame_free)(void *ctx, void *frame);
	/* An RX buffer came back from a TX completion (XDP_TX). */
	void (*rx_returned)(void *ctx);
};

struct netdev_tx_stats {
	uint64_t frames;       /* frames queued on the ring */
	uint64_t done;	       /* frames reclaimed */
	uint32_t inflight;     /* frames the device still holds */
	uint64_t csum_offload; /* TCP segments the device checksums */
	uint64_t flushes;      /* batches published */
	uint64_t gso_frames;   /* GSO frames queued (each in frames too) */
	uint64_t gso_segments; /* segments merged into them */
	uint64_t ring_full;    /* drops: ring full and no software queue */
	uint64_t error;	       /* drops: the driver refused the chain */
};

/* A frame held until the flush (TSO), referenced by its owner token. */
struct netdev_tx_pend {
	void *frame;
	const uint8_t *head; /* its first buffer: the headers */
	unsigned head_len;
	unsigned tot_len;
	unsigned nfrags;
	bool csum; /* off describes a device-finished TCP checksum */
	struct vnet_tx_offload off;
	struct vnet_frag frags[VNET_TX_MAX_FRAGS];
};

struct netdev_gso;

struct netdev_tx {
	struct vnet *vnet;
	struct netdev_tx_ops ops;
	bool tso;	    /* coalesce TCP segments into GSO frames */
	unsigned unflushed; /* chains queued since the last notify */
	unsigned npend;	    /* frames held in pend (tso only) */
	struct netdev_tx_pend pend[NETDEV_TX_FLUSH_BATCH];
	struct netdev_gso *gso_pool;
	struct netdev_gso *gso_free;
	struct txq q; /* frames waiting for ring space */
	struct netdev_tx_stats stats;
};

/* Sets t up for the device; with tso, allocates the GSO records; a
 * software queue of txqueuelen frames (0: a full ring drops). 0, -EINVAL
 * or -ENOMEM. */
int netdev_tx_init(struct netdev_tx *t, struct vnet *vn, bool tso,
		   uint32_t txqueuelen, const struct netdev_tx_ops *ops);
/* Frees what netdev_tx_init allocated and the frames still held (call
 * before or after vnet_remove(), which completes what is in flight
 * through netdev_tx_complete). */
void netdev_tx_fini(struct netdev_tx *t);

/* Sends the stack's frame: head/head_len its first buffer, frags its
 * nfrags non-empty fragments (tot_len bytes), off a device-finished
 * checksum (NULL: none). With TSO the frame is held until the flush;
 * otherwise queued now (on the ring, or in the software queue behind
 * frames already waiting). 0, or -ENOSPC (ring and queue full, counted) /
 * -EIO (refused, counted): the frame is then still the caller's. */
int netdev_tx_send(struct netdev_tx *t, void *frame, const uint8_t *head,
		   unsigned head_len, unsigned tot_len,
		   const struct vnet_frag *frags, unsigned nfrags,
		   const struct vnet_tx_offload *off);
/* Sends a received frame back out from its own RX buffer (the receive
 * hook's TX verdict); the buffer returns to the driver when the device is
 * done. 0 or a negative errno (the buffer is then still the caller's). */
int netdev_tx_from_rx(struct netdev_tx *t, void *frame, uint32_t len,
		      uint32_t handle);
/* Fills port for netdev's receive hook: a TX verdict goes out through t
 * (netdev_tx_from_rx), a dropped frame's buffer back to t's device. */
void netdev_tx_rx_port(struct netdev_tx *t, struct netdev_rx_port *port);
/* Queues the held frames (merging) and notifies the device. */
void netdev_tx_flush(struct netdev_tx *t);
/* Reclaims finished chains and moves waiting frames onto the ring (they
 * go out with the next flush). */
void netdev_tx_reclaim(struct netdev_tx *t);
/* Frames wait for ring space: the owner must not sleep without the TX
 * interrupt armed (or must keep polling) until this turns false. */
static inline bool netdev_tx_waiting(const struct netdev_tx *t)
{
	return txq_waiting(&t->q);
}
/* vnet_tx_done_fn: what a finished (or reset) chain releases. */
void netdev_tx_complete(void *ctx, void *cookie);

#endif

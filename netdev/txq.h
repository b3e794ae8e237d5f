/* A bounded software queue in front of the device's TX ring: Linux's
 * qdisc with its txqueuelen, netif_stop_queue() and netif_wake_queue() in
 * one small structure.
 *
 * A burst of replies can outrun the ring (256 slots, and without indirect
 * descriptors every frame takes two or more). Instead of dropping what
 * does not fit, txq_xmit() holds such frames here, in order, until TX
 * completions free ring slots; txq_drain(), run after every reclaim, moves
 * them on. Once anything waits here, later frames queue behind it, so the
 * wire sees frames in the order they were offered. Only when the queue
 * itself is full is a frame refused (counted in drops, apart from device
 * errors).
 *
 * The queue stores each frame's fragment list, offload request and cookie
 * (the frame itself stays where the caller built it), in slots allocated
 * once at init: the hot path allocates nothing. Single-threaded, like the
 * TX side of the driver. */
#ifndef SKIFF_NETDEV_TXQ_H
#define SKIFF_NETDEV_TXQ_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/virtio_net.h"

/* Linux's default txqueuelen. */
#define TXQ_DEFAULT_LEN 1000
#define TXQ_MAX_LEN	65536

struct txq_stats {
	uint64_t queued;  /* frames that waited for ring space */
	uint64_t drops;	  /* frames refused: the queue was full */
	uint64_t errors;  /* queued frames the device refused on drain */
	uint64_t stalls;  /* times the ring filled and the queue started */
	uint64_t retries; /* ring full, then room after a reclaim */
	uint32_t len;	  /* frames waiting now */
	uint32_t hiwat;	  /* most frames ever waiting at once */
	uint32_t cap;	  /* the queue's length limit (0: no queue) */
};

/* One frame waiting for ring space. */
struct txq_slot {
	struct vnet_frag frags[VNET_TX_MAX_FRAGS];
	struct vnet_tx_offload off;
	uint8_t nfrags;
	bool has_off;
	void *cookie;
};

struct txq {
	struct vnet *vnet;
	/* Finished or refused frames go back to their owner here, with the
	 * cookie they were offered under (the same callback the owner
	 * passes to vnet_tx_reclaim()). */
	vnet_tx_done_fn done;
	void *done_ctx;
	struct txq_slot *slots; /* cap entries, a ring */
	uint32_t head;		/* oldest waiting frame */
	struct txq_stats stats;
};

/* Prepares a queue of up to cap frames (0: no queue, a full ring drops as
 * before; at most TXQ_MAX_LEN). Returns 0, -EINVAL or -ENOMEM. */
int txq_init(struct txq *q, struct vnet *n, uint32_t cap, vnet_tx_done_fn done,
	     void *done_ctx);
/* Hands every waiting frame back through done() and frees the slots. */
void txq_destroy(struct txq *q);

/* Sends one frame, or queues it when the ring is full or other frames are
 * already waiting. Returns 0 (on the ring or queued: the cookie now
 * belongs to the queue until done() returns it), -ENOBUFS (queue full:
 * not queued, counted, the caller keeps the cookie) or the driver's error
 * for a frame the device can never take (-E2BIG, -EINVAL, -ENOTSUP, -EIO;
 * the caller keeps the cookie). */
int txq_xmit(struct txq *q, const struct vnet_frag *frags, unsigned nfrags,
	     const struct vnet_tx_offload *off, void *cookie);
/* Reclaims finished frames (through done()) and moves waiting frames onto
 * the ring while it has room, oldest first. Returns the frames moved. The
 * caller flushes (vnet_tx_flush()) afterwards, once for the batch. */
unsigned txq_drain(struct txq *q);

/* Frames waiting for ring space: while true the owner must not sleep
 * without a TX interrupt armed (or must keep polling). */
static inline bool txq_waiting(const struct txq *q)
{
	return q->stats.len != 0;
}

#endif

/* Split virtqueue (virtio 1.x), independent of the device type and of the
 * transport. The caller provides the ring memory (vq_ring_bytes() bytes,
 * VQ_RING_ALIGN-aligned, identity-mapped so its address is its DMA address)
 * and a notify callback; the queue keeps the free-descriptor list, a private
 * shadow of every chain, and the suppression state of both directions.
 *
 * The driver side of one queue is single-threaded: one context adds, kicks
 * and reaps. Only vq_disable_cb() may also run from an interrupt handler
 * (it touches nothing but the suppression field and a flag).
 *
 * Batching: vq_add_chain() fills the avail ring but does not publish;
 * vq_kick_prepare() publishes every chain added since the last call with
 * one index store and decides, once for the whole batch, whether the device
 * needs a notification (EVENT_IDX avail_event, or VIRTQ_USED_F_NO_NOTIFY);
 * vq_notify() then sends it. vq_kick() does both.
 *
 * Nothing the device writes is trusted: a used index that runs ahead by more
 * than num, a used id that is not the head of a chain in flight, or a length
 * beyond what the chain can hold is counted and never dereferenced; after
 * VQ_BAD_RUN_LIMIT bad entries in a row the queue is marked broken and stops
 * returning or accepting anything. */
#ifndef SKIFF_DRIVERS_VIRTQUEUE_H
#define SKIFF_DRIVERS_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/virtio.h"
#include "drivers/virtio_ring_reg.h"

/* Alignment vq_init() requires of the ring memory; the descriptor table
 * starts there. Page-aligned memory (page_alloc) always satisfies it. */
#define VQ_RING_ALIGN VIRTQ_DESC_ALIGN
/* The used ring starts on its own cache line so the device's writes do not
 * bounce the line holding our avail ring. */
#define VQ_USED_OFFSET_ALIGN 64
/* Bad used entries in a row after which the device is considered broken. */
#define VQ_BAD_RUN_LIMIT 8

/* One buffer of a chain: a DMA (= physical = virtual) address and length. */
struct vq_buf {
	uint64_t addr;
	uint32_t len;
};

/* A chain handed back by vq_get_used(). */
struct vq_used {
	void *cookie; /* what the chain was added with */
	uint32_t len; /* bytes the device wrote; 0 when bad_len */
	bool bad_len; /* the device claimed more than the chain can hold:
		       * the contents are untrustworthy, recycle the buffer */
};

struct vq_stats {
	uint64_t chains_added;
	uint64_t chains_used;	   /* good and bad_len chains returned */
	uint64_t kicks;		   /* batches published (vq_kick_prepare) */
	uint64_t notifications;	   /* batches the device was notified of */
	uint64_t kicks_suppressed; /* batches the device asked not to hear of */
	uint64_t ring_full;	   /* adds refused for lack of descriptors */
	uint64_t bad_id;	   /* used entries dropped: id not in flight */
	uint64_t bad_len;	   /* used entries with a length too large */
	uint64_t bad_idx;	   /* used index ran more than num ahead */
	uint64_t enable_pending;   /* vq_enable_cb() found entries waiting */
	uint64_t indirect;	   /* chains added as one indirect descriptor */
};

/* Private shadow of one descriptor: the device can read (and, if it is
 * hostile, write) the real table, so chains are walked only through this. */
struct vq_desc_extra {
	void *cookie;	 /* non-NULL only on the head of a chain in flight */
	uint32_t in_len; /* device-writable bytes of the chain (head only) */
	uint16_t ndesc;	 /* descriptors in the chain (head only) */
	uint16_t next;	 /* next descriptor in the chain or the free list */
};

/* Tells the device that queue `index` has new buffers. */
typedef void (*vq_notify_fn)(void *ctx, uint16_t index);

struct virtqueue {
	const char *name; /* for logs, e.g. "virtio-net@00:02.0 rx" */
	uint16_t index;	  /* queue number on the device */
	uint16_t num;	  /* entries, a power of two */
	bool event_idx;	  /* VIRTIO_F_RING_EVENT_IDX negotiated */
	bool cb_enabled;  /* we want an interrupt for the next used entry */
	bool broken;	  /* the device misbehaved; the queue is dead */
	vq_notify_fn notify;
	void *notify_ctx;

	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	struct vq_desc_extra *extra; /* num entries, kcalloc'ed */

	uint16_t free_head;	  /* first free descriptor, num if none */
	uint16_t num_free;	  /* descriptors on the free list */
	uint16_t avail_next;	  /* avail index of the next chain added */
	uint16_t avail_published; /* avail->idx as we last wrote it */
	uint16_t last_used;	  /* used index of the next entry to reap */
	uint16_t used_seen; /* used->idx as last read, after the barrier */
	unsigned bad_run;   /* bad used entries in a row */
	/* VIRTIO_F_INDIRECT_DESC: one table of indirect_max descriptors per
	 * head slot, preallocated so adding a chain allocates nothing; NULL
	 * when the device lacks the feature (chains are then direct). */
	struct virtq_desc *indirect;
	uint16_t indirect_max;
	struct vq_stats stats;
};

/* Bytes of ring memory for num entries; 0 if num is not a power of two in
 * [1, VIRTQ_MAX_SIZE]. */
size_t vq_ring_bytes(unsigned num);

/* Lays the rings out in ring (zeroing it) and builds the free list. Returns
 * 0, -EINVAL (bad num or misaligned ring) or -ENOMEM. */
int vq_init(struct virtqueue *vq, const char *name, uint16_t index,
	    uint16_t num, void *ring, bool event_idx, vq_notify_fn notify,
	    void *notify_ctx);
/* Frees the private state (not the ring memory, which the caller owns). */
void vq_destroy(struct virtqueue *vq);
/* Physical addresses of the three areas, for the transport's queue setup. */
void vq_get_addrs(const struct virtqueue *vq, struct virtio_queue_addrs *out);

/* Lets chains of 2..max_per_chain buffers take one ring slot each: they
 * are written into a per-slot table the device reads through a single
 * VIRTQ_DESC_F_INDIRECT descriptor. Call only when VIRTIO_F_INDIRECT_DESC
 * was negotiated, before the first vq_add_chain(). Returns 0, -EINVAL or
 * -ENOMEM (the queue then stays direct). */
int vq_enable_indirect(struct virtqueue *vq, unsigned max_per_chain);
/* Ring descriptors a chain of `total` buffers takes. */
unsigned vq_descs_for(const struct virtqueue *vq, unsigned total);

/* Queues one chain: out device-readable buffers followed by in
 * device-writable ones, under a non-NULL cookie. Not visible to the device
 * until the next vq_kick_prepare(). Returns 0, -ENOSPC (not enough free
 * descriptors; counted in ring_full), -EINVAL (no buffers, a zero length,
 * NULL cookie, writable bytes over 4 GiB) or -EIO (queue broken). */
int vq_add_chain(struct virtqueue *vq, const struct vq_buf *bufs, unsigned out,
		 unsigned in, void *cookie);
/* The descriptor the next vq_add_chain() will use as its head, or -ENOSPC.
 * Lets a driver keep per-chain data (e.g. a net header) in an array indexed
 * by head without allocating. */
int vq_next_head(const struct virtqueue *vq);

/* Publishes the chains added since the last call and returns whether the
 * device wants a notification for them (false if there were none). */
bool vq_kick_prepare(struct virtqueue *vq);
/* Notifies the device (counts it). */
void vq_notify(struct virtqueue *vq);
/* vq_kick_prepare() then, if needed, vq_notify(); returns whether it did. */
bool vq_kick(struct virtqueue *vq);

/* Takes the next used chain, skipping (and counting) bad entries. Returns
 * false when there is none or the queue is broken. */
bool vq_get_used(struct virtqueue *vq, struct vq_used *out);
/* Whether a used entry is waiting (a cheap peek; does not consume). */
bool vq_has_used(const struct virtqueue *vq);

/* Asks the device not to interrupt for this queue. A hint only: an
 * interrupt already on its way may still arrive. Interrupt-safe. */
void vq_disable_cb(struct virtqueue *vq);
/* Asks for an interrupt on the next used entry, then checks the ring again.
 * Returns true when used entries are already pending: the caller must poll
 * again (it may or may not get an interrupt for them). Returns false when
 * the ring was empty at re-arm time, so the interrupt will cover the next
 * entry; that is the only state in which it is safe to sleep. */
bool vq_enable_cb(struct virtqueue *vq);

/* After the device was reset: takes back one chain still in flight (or
 * added but unpublished) and returns its cookie, NULL when none is left. */
void *vq_detach_unused(struct virtqueue *vq);

static inline uint16_t vq_num_free(const struct virtqueue *vq)
{
	return vq->num_free;
}

static inline bool vq_is_broken(const struct virtqueue *vq)
{
	return vq->broken;
}

#endif

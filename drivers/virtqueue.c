/* Split virtqueue: descriptor free list, batched publication, used-ring
 * reaping with validation, and notification suppression in both
 * directions (flags, or EVENT_IDX event indexes). See virtqueue.h for the
 * contract; the layout is in virtio_ring_reg.h.
 *
 * All indexes are free-running 16-bit counters; a slot is index & (num - 1),
 * which is why num must be a power of two (65536 must be a multiple of it
 * for the slot sequence to stay continuous when a counter wraps). */
#include "drivers/virtqueue.h"

#include <string.h>

#include "kernel/barrier.h"
#include "kernel/heap.h"
#include "kernel/kerrno.h"
#include "kernel/log.h"

/* ---- shared-memory accessors ----
 * Fields the other side reads or writes concurrently are accessed through
 * volatile so each is exactly one load or store where the code says. */

static inline uint16_t vq_read16(const volatile virtio_le16 *p)
{
	return *p;
}

static inline uint32_t vq_read32(const volatile virtio_le32 *p)
{
	return *p;
}

static inline void vq_write16(volatile virtio_le16 *p, uint16_t v)
{
	*p = v;
}

/* ---- init ---- */

static bool vq_num_valid(unsigned num)
{
	return num >= 1 && num <= VIRTQ_MAX_SIZE && (num & (num - 1)) == 0;
}

static size_t vq_align_up(size_t v, size_t align)
{
	return (v + align - 1) & ~(align - 1);
}

static size_t vq_avail_offset(unsigned num)
{
	return virtq_desc_bytes(num);
}

static size_t vq_used_offset(unsigned num)
{
	return vq_align_up(vq_avail_offset(num) + virtq_avail_bytes(num),
			   VQ_USED_OFFSET_ALIGN);
}

size_t vq_ring_bytes(unsigned num)
{
	if (!vq_num_valid(num))
		return 0;
	return vq_used_offset(num) + virtq_used_bytes(num);
}

int vq_init(struct virtqueue *vq, const char *name, uint16_t index,
	    uint16_t num, void *ring, bool event_idx, vq_notify_fn notify,
	    void *notify_ctx)
{
	uint8_t *base = ring;

	if (!vq_num_valid(num) || !ring || !notify ||
	    ((uintptr_t)ring & (VQ_RING_ALIGN - 1)))
		return -EINVAL;

	memset(vq, 0, sizeof(*vq));
	vq->extra = kcalloc(num, sizeof(*vq->extra));
	if (!vq->extra)
		return -ENOMEM;

	memset(ring, 0, vq_ring_bytes(num));
	vq->name = name;
	vq->index = index;
	vq->num = num;
	vq->event_idx = event_idx;
	vq->notify = notify;
	vq->notify_ctx = notify_ctx;
	vq->desc = (struct virtq_desc *)base;
	vq->avail = (struct virtq_avail *)(base + vq_avail_offset(num));
	vq->used = (struct virtq_used *)(base + vq_used_offset(num));
	/* Interrupts start enabled: avail->flags and used_event are 0 in the
	 * zeroed ring, which asks for an interrupt on the first entry. */
	vq->cb_enabled = true;

	for (unsigned i = 0; i < num; i++)
		vq->extra[i].next = (uint16_t)(i + 1);
	vq->free_head = 0;
	vq->num_free = num;
	return 0;
}

int vq_enable_indirect(struct virtqueue *vq, unsigned max_per_chain)
{
	/* A table longer than the ring is allowed by the spec but would
	 * only waste memory; one entry needs no table. */
	if (max_per_chain < 2 || max_per_chain > VIRTQ_MAX_SIZE || vq->indirect)
		return -EINVAL;
	/* kcalloc returns 16-byte aligned memory, the alignment a
	 * descriptor table needs (spec 2.7.5). */
	vq->indirect =
	    kcalloc((size_t)vq->num * max_per_chain, sizeof(*vq->indirect));
	if (!vq->indirect)
		return -ENOMEM;
	vq->indirect_max = (uint16_t)max_per_chain;
	return 0;
}

static bool vq_use_indirect(const struct virtqueue *vq, unsigned total)
{
	return vq->indirect && total > 1 && total <= vq->indirect_max;
}

unsigned vq_descs_for(const struct virtqueue *vq, unsigned total)
{
	return vq_use_indirect(vq, total) ? 1 : total;
}

void vq_destroy(struct virtqueue *vq)
{
	kfree(vq->indirect);
	vq->indirect = NULL;
	kfree(vq->extra);
	vq->extra = NULL;
	vq->num_free = 0;
	vq->broken = true;
}

void vq_get_addrs(const struct virtqueue *vq, struct virtio_queue_addrs *out)
{
	out->desc = (uint64_t)(uintptr_t)vq->desc;
	out->avail = (uint64_t)(uintptr_t)vq->avail;
	out->used = (uint64_t)(uintptr_t)vq->used;
}

/* ---- adding chains ---- */

/* Checks the buffers and sums the device-writable bytes. */
static int vq_check_bufs(const struct vq_buf *bufs, unsigned out, unsigned in,
			 uint32_t *in_len)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < out + in; i++) {
		if (bufs[i].len == 0)
			return -EINVAL;
		if (i >= out)
			sum += bufs[i].len;
	}
	if (sum > UINT32_MAX)
		return -EINVAL;
	*in_len = (uint32_t)sum;
	return 0;
}

int vq_next_head(const struct virtqueue *vq)
{
	if (vq->broken || vq->num_free == 0)
		return -ENOSPC;
	return vq->free_head;
}

/* Writes one buffer as a descriptor linking to `next` when more follow. */
static void vq_fill_desc(struct virtq_desc *d, const struct vq_buf *b,
			 bool writable, bool more, uint16_t next)
{
	d->addr = b->addr;
	d->len = b->len;
	d->flags = (uint16_t)((writable ? VIRTQ_DESC_F_WRITE : 0) |
			      (more ? VIRTQ_DESC_F_NEXT : 0));
	d->next = more ? next : 0;
}

/* The chain as one descriptor pointing at head's table (spec 2.7.5.3). */
static void vq_add_indirect(struct virtqueue *vq, uint16_t head,
			    const struct vq_buf *bufs, unsigned out,
			    unsigned total)
{
	struct virtq_desc *table =
	    &vq->indirect[(size_t)head * vq->indirect_max];
	struct virtq_desc *d = &vq->desc[head];

	for (unsigned i = 0; i < total; i++)
		vq_fill_desc(&table[i], &bufs[i], i >= out, i + 1 < total,
			     (uint16_t)(i + 1));
	d->addr = (uint64_t)(uintptr_t)table;
	d->len = (uint32_t)(total * sizeof(*table));
	d->flags = VIRTQ_DESC_F_INDIRECT;
	d->next = 0;
	vq->stats.indirect++;
}

/* The chain over `total` descriptors taken from the free list. */
static uint16_t vq_add_direct(struct virtqueue *vq, uint16_t head,
			      const struct vq_buf *bufs, unsigned out,
			      unsigned total)
{
	uint16_t idx = head, last = head;

	for (unsigned i = 0; i < total; i++) {
		vq_fill_desc(&vq->desc[idx], &bufs[i], i >= out, i + 1 < total,
			     vq->extra[idx].next);
		last = idx;
		idx = vq->extra[idx].next;
	}
	return last;
}

int vq_add_chain(struct virtqueue *vq, const struct vq_buf *bufs, unsigned out,
		 unsigned in, void *cookie)
{
	unsigned total = out + in, ndesc;
	uint16_t head, last;
	uint32_t in_len;
	int err;

	if (vq->broken)
		return -EIO;
	if (!cookie || total == 0 ||
	    (total > vq->num && !vq_use_indirect(vq, total)))
		return -EINVAL;
	err = vq_check_bufs(bufs, out, in, &in_len);
	if (err)
		return err;
	ndesc = vq_descs_for(vq, total);
	if (ndesc > vq->num_free) {
		vq->stats.ring_full++;
		return -ENOSPC;
	}

	head = vq->free_head;
	if (ndesc == 1 && total > 1) {
		vq_add_indirect(vq, head, bufs, out, total);
		last = head;
	} else {
		last = vq_add_direct(vq, head, bufs, out, total);
	}
	/* The chain keeps its private links; the free list resumes after it. */
	vq->free_head = vq->extra[last].next;
	vq->num_free -= ndesc;

	vq->extra[head].cookie = cookie;
	vq->extra[head].in_len = in_len;
	vq->extra[head].ndesc = (uint16_t)ndesc;

	vq->avail->ring[vq->avail_next & (vq->num - 1)] = head;
	vq->avail_next++;
	vq->stats.chains_added++;
	return 0;
}

/* ---- publishing and notifying ---- */

bool vq_kick_prepare(struct virtqueue *vq)
{
	uint16_t old = vq->avail_published, new = vq->avail_next;
	bool need;

	if (old == new)
		return false;

	/* Producer: the descriptors and avail slots written by vq_add_chain()
	 * must be visible before the index that hands them to the device. */
	virtio_wmb();
	vq_write16(&vq->avail->idx, new);
	vq->avail_published = new;
	vq->stats.kicks++;

	/* Full: the new index must be visible before we read the device's
	 * suppression state, or we could act on a "don't notify" the device
	 * wrote just before it went idle without seeing our entries. */
	virtio_mb();

	if (vq->event_idx)
		need = virtq_need_event(
		    vq_read16(virtq_avail_event(vq->used, vq->num)), new, old);
	else
		need = !(vq_read16(&vq->used->flags) & VIRTQ_USED_F_NO_NOTIFY);
	if (!need)
		vq->stats.kicks_suppressed++;
	return need;
}

void vq_notify(struct virtqueue *vq)
{
	vq->stats.notifications++;
	vq->notify(vq->notify_ctx, vq->index);
}

bool vq_kick(struct virtqueue *vq)
{
	if (!vq_kick_prepare(vq))
		return false;
	vq_notify(vq);
	return true;
}

/* ---- reaping used chains ---- */

static void vq_mark_broken(struct virtqueue *vq, const char *why)
{
	if (!vq->broken)
		log_error("%s: device broke the ring (%s); queue disabled",
			  vq->name, why);
	vq->broken = true;
}

/* Counts one bad used entry; a long enough run of them kills the queue. */
static void vq_note_bad(struct virtqueue *vq, const char *what, uint32_t id,
			uint32_t len)
{
	vq->bad_run++;
	if (vq->bad_run == 1)
		log_warn("%s: dropped used entry with bad %s (id %u len %u)",
			 vq->name, what, (unsigned)id, (unsigned)len);
	if (vq->bad_run > VQ_BAD_RUN_LIMIT)
		vq_mark_broken(vq, "too many bad used entries");
}

static void vq_free_chain(struct virtqueue *vq, uint16_t head)
{
	struct vq_desc_extra *x = &vq->extra[head];
	uint16_t idx = head;

	for (unsigned i = 1; i < x->ndesc; i++)
		idx = vq->extra[idx].next;
	vq->extra[idx].next = vq->free_head;
	vq->free_head = head;
	vq->num_free += x->ndesc;
	x->cookie = NULL;
	x->ndesc = 0;
	x->in_len = 0;
}

/* Re-reads used->idx; returns whether there are entries to reap. */
static bool vq_refresh_used(struct virtqueue *vq)
{
	uint16_t idx = vq_read16(&vq->used->idx);

	if (idx == vq->last_used)
		return false;
	if ((uint16_t)(idx - vq->last_used) > vq->num) {
		vq->stats.bad_idx++;
		vq_mark_broken(vq, "used index ran ahead of the ring");
		return false;
	}
	/* Consumer: the used entries must be read only after the index that
	 * covers them, or we could see slots the device has not written. */
	virtio_rmb();
	vq->used_seen = idx;
	return true;
}

/* Moves used_event along as we consume, so it always says what we want:
 * "the next entry" while interrupts are on, "not for a long while" (just
 * behind us, reached again only after a full wrap) while they are off. */
static void vq_update_used_event(struct virtqueue *vq)
{
	volatile virtio_le16 *ev = virtq_used_event(vq->avail, vq->num);

	if (!vq->cb_enabled) {
		vq_write16(ev, (uint16_t)(vq->last_used - 1));
		return;
	}
	vq_write16(ev, vq->last_used);
	/* Full: the new event must be visible before our next read of
	 * used->idx, so an entry the device adds in between is either seen
	 * by that read or raises an interrupt. */
	virtio_mb();
}

/* Consumes the entry at last_used; returns false if it was dropped. */
static bool vq_take_used(struct virtqueue *vq, struct vq_used *out)
{
	struct virtq_used_elem *e =
	    &vq->used->ring[vq->last_used & (vq->num - 1)];
	uint32_t id = vq_read32(&e->id);
	uint32_t len = vq_read32(&e->len);
	struct vq_desc_extra *x;

	vq->last_used++;
	if (vq->event_idx)
		vq_update_used_event(vq);

	if (id >= vq->num || !vq->extra[id].cookie) {
		vq->stats.bad_id++;
		vq_note_bad(vq, "id", id, len);
		return false;
	}
	x = &vq->extra[id];
	out->cookie = x->cookie;
	out->len = len;
	out->bad_len = len > x->in_len;
	if (out->bad_len) {
		out->len = 0;
		vq->stats.bad_len++;
		vq_note_bad(vq, "length", id, len);
	} else {
		vq->bad_run = 0;
	}
	vq_free_chain(vq, (uint16_t)id);
	vq->stats.chains_used++;
	return true;
}

bool vq_get_used(struct virtqueue *vq, struct vq_used *out)
{
	while (!vq->broken) {
		if (vq->last_used == vq->used_seen && !vq_refresh_used(vq))
			return false;
		if (vq_take_used(vq, out))
			return true;
	}
	return false;
}

bool vq_has_used(const struct virtqueue *vq)
{
	if (vq->broken)
		return false;
	return vq->last_used != vq->used_seen ||
	       vq_read16(&vq->used->idx) != vq->last_used;
}

/* ---- interrupt suppression ---- */

void vq_disable_cb(struct virtqueue *vq)
{
	if (!vq->cb_enabled)
		return;
	vq->cb_enabled = false;
	/* No barrier: suppression is a hint, and an interrupt that slips
	 * through only makes the top half run once more. */
	if (vq->event_idx)
		vq_write16(virtq_used_event(vq->avail, vq->num),
			   (uint16_t)(vq->last_used - 1));
	else
		vq_write16(&vq->avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
}

bool vq_enable_cb(struct virtqueue *vq)
{
	bool pending;

	if (vq->broken)
		return false;
	vq->cb_enabled = true;
	if (vq->event_idx)
		vq_write16(virtq_used_event(vq->avail, vq->num), vq->last_used);
	else
		vq_write16(&vq->avail->flags, 0);

	/* Full: the re-armed event must be visible before we re-read
	 * used->idx; otherwise an entry the device adds in between would be
	 * missed by this read and, having seen the old event, raise no
	 * interrupt either: the lost wakeup. */
	virtio_mb();

	pending = vq_read16(&vq->used->idx) != vq->last_used;
	if (pending)
		vq->stats.enable_pending++;
	return pending;
}

/* ---- teardown ---- */

void *vq_detach_unused(struct virtqueue *vq)
{
	if (!vq->extra)
		return NULL;
	for (unsigned i = 0; i < vq->num; i++) {
		void *cookie = vq->extra[i].cookie;

		if (cookie) {
			vq_free_chain(vq, (uint16_t)i);
			return cookie;
		}
	}
	return NULL;
}

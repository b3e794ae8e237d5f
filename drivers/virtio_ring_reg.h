/* Split virtqueue layout, field by field from the virtio 1.x specification
 * ("Split Virtqueues"). Everything the device sees is little-endian; the
 * virtio_le* typedefs say so in the declarations, and the build refuses a
 * big-endian target rather than growing byte swaps nobody tests.
 *
 * Memory of one queue of num entries (num a power of two, at most 32768):
 *
 *   descriptor table  16 * num bytes, 16-byte aligned, driver-written
 *   avail ring        flags, idx, ring[num], used_event; 2-byte aligned,
 *                     driver-written
 *   used ring         flags, idx, ring[num] of {id, len}, avail_event;
 *                     4-byte aligned, device-written
 */
#ifndef SKIFF_DRIVERS_VIRTIO_RING_REG_H
#define SKIFF_DRIVERS_VIRTIO_RING_REG_H

#include <stddef.h>
#include <stdint.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "virtio 1.x rings are little-endian; add byte swaps for this target"
#endif

typedef uint16_t virtio_le16;
typedef uint32_t virtio_le32;
typedef uint64_t virtio_le64;

/* The largest queue the split format allows. */
#define VIRTQ_MAX_SIZE 32768

/* virtq_desc.flags */
#define VIRTQ_DESC_F_NEXT     1 /* the chain continues in .next */
#define VIRTQ_DESC_F_WRITE    2 /* device writes (otherwise reads) the buffer */
#define VIRTQ_DESC_F_INDIRECT 4 /* the buffer is a table of descriptors */

/* virtq_avail.flags: without EVENT_IDX, asks the device not to interrupt. */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
/* virtq_used.flags: without EVENT_IDX, tells us not to notify the device. */
#define VIRTQ_USED_F_NO_NOTIFY 1

/* Required alignments of the three areas (split virtqueue, virtio 1.x). */
#define VIRTQ_DESC_ALIGN  16
#define VIRTQ_AVAIL_ALIGN 2
#define VIRTQ_USED_ALIGN  4

struct virtq_desc {
	virtio_le64 addr; /* guest-physical address of the buffer */
	virtio_le32 len;
	virtio_le16 flags;
	virtio_le16 next; /* valid when flags has VIRTQ_DESC_F_NEXT */
};

struct virtq_avail {
	virtio_le16 flags;
	virtio_le16 idx;    /* where we put the next entry, free-running */
	virtio_le16 ring[]; /* heads of chains; then used_event (EVENT_IDX) */
};

struct virtq_used_elem {
	virtio_le32 id;	 /* head of the chain the device finished with */
	virtio_le32 len; /* bytes the device wrote into the chain */
};

struct virtq_used {
	virtio_le16 flags;
	virtio_le16
	    idx; /* where the device puts the next entry, free-running */
	struct virtq_used_elem ring[]; /* then avail_event (EVENT_IDX) */
};

_Static_assert(sizeof(struct virtq_desc) == 16, "virtq_desc layout");
_Static_assert(offsetof(struct virtq_desc, len) == 8, "virtq_desc.len");
_Static_assert(offsetof(struct virtq_desc, flags) == 12, "virtq_desc.flags");
_Static_assert(offsetof(struct virtq_desc, next) == 14, "virtq_desc.next");
_Static_assert(sizeof(struct virtq_avail) == 4, "virtq_avail header");
_Static_assert(offsetof(struct virtq_avail, ring) == 4, "virtq_avail.ring");
_Static_assert(sizeof(struct virtq_used_elem) == 8, "virtq_used_elem layout");
_Static_assert(sizeof(struct virtq_used) == 4, "virtq_used header");
_Static_assert(offsetof(struct virtq_used, ring) == 4, "virtq_used.ring");

/* Bytes of each area for a queue of num entries, event fields included. */
static inline size_t virtq_desc_bytes(unsigned num)
{
	return sizeof(struct virtq_desc) * num;
}

static inline size_t virtq_avail_bytes(unsigned num)
{
	return sizeof(struct virtq_avail) + sizeof(virtio_le16) * (num + 1);
}

static inline size_t virtq_used_bytes(unsigned num)
{
	return sizeof(struct virtq_used) +
	       sizeof(struct virtq_used_elem) * num + sizeof(virtio_le16);
}

/* The event index after the avail ring: "interrupt me when the used index
 * passes this value". */
static inline volatile virtio_le16 *virtq_used_event(struct virtq_avail *avail,
						     unsigned num)
{
	return (volatile virtio_le16 *)&avail->ring[num];
}

/* The event index after the used ring: "notify me when the avail index
 * passes this value". */
static inline volatile virtio_le16 *virtq_avail_event(struct virtq_used *used,
						      unsigned num)
{
	return (volatile virtio_le16 *)&used->ring[num];
}

/* The EVENT_IDX rule, used by both sides: having moved an index from old to
 * new, signal the peer only if its event index lies in [old, new), computed
 * in 16-bit arithmetic so it holds across wrap-around. */
static inline int virtq_need_event(uint16_t event, uint16_t new_idx,
				   uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

#endif

/* The virtio-net control queue (VIRTIO_NET_F_CTRL_VQ) and the two
 * multiqueue commands Skiff sends: VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET (how
 * many pairs the device may use) and, when the device offers
 * VIRTIO_NET_F_RSS, VIRTIO_NET_CTRL_MQ_RSS_CONFIG (Toeplitz key, hash types
 * and an indirection table spreading flows over the pairs).
 *
 * Commands go out at probe, one at a time, and are waited for by polling
 * the used ring (bounded in time): nothing else ever uses the queue, so
 * it needs no interrupt and no lock. Every value read from the device
 * config (key size, table length, hash types) is checked before use. */
#include <string.h>

#include "drivers/vnet_var.h"
#include "kernel/cpu.h"
#include "kernel/heap.h"
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "kernel/page_alloc.h"
#include "kernel/printf.h"

#define VNET_CTRL_RING	   16
#define VNET_CTRL_BUF	   512 /* command + payload; ack at the end */
#define VNET_CTRL_ACK	   (VNET_CTRL_BUF - 1)
#define VNET_RSS_TABLE_MAX 128 /* indirection entries we send at most */
/* How long the device may take to answer: 1 s by the clock, or this many
 * pauses without one. QEMU answers during the notification itself. */
#define VNET_CTRL_WAIT_NS    1000000000ULL
#define VNET_CTRL_WAIT_SPINS 50000000u

_Static_assert(sizeof(struct virtio_net_ctrl_hdr) +
		       sizeof(struct virtio_net_rss_head) +
		       2 * VNET_RSS_TABLE_MAX + 3 + VIRTIO_NET_RSS_KEY_LEN <
		   VNET_CTRL_ACK,
	       "an RSS command fits the control buffer");

static void vnet_ctrl_notify(void *ctx, uint16_t index)
{
	struct virtio_device *dev = ctx;

	dev->ops->notify(dev, index);
}

int vnet_ctrl_setup(struct vnet_dev *nd, uint16_t index, uint16_t size)
{
	struct virtio_device *dev = nd->dev;
	struct vnet_ctrl *c = &nd->ctrl;
	struct virtio_queue_addrs addrs;
	uint16_t max = dev->ops->queue_max_size(dev, index);
	uint64_t mem;
	int err;

	(void)size;
	if (max == 0) {
		log_error("%s: no control queue %u", dev->name,
			  (unsigned)index);
		return -ENODEV;
	}
	size = max < VNET_CTRL_RING ? max : VNET_CTRL_RING;
	while (size & (size - 1))
		size &= (uint16_t)(size - 1);
	c->ring_pages = (vq_ring_bytes(size) + PAGE_SIZE - 1) / PAGE_SIZE;
	mem = page_alloc(c->ring_pages, PAGE_SIZE);
	if (!mem)
		return -ENOMEM;
	c->ring_mem = (void *)(uintptr_t)mem;
	c->buf = kcalloc(1, VNET_CTRL_BUF);
	if (!c->buf)
		return -ENOMEM;
	ksnprintf(c->name, sizeof(c->name), "%s ctrl", dev->name);
	err = vq_init(&c->vq, c->name, index, size, c->ring_mem,
		      virtio_has_feature(dev, VIRTIO_F_RING_EVENT_IDX),
		      vnet_ctrl_notify, dev);
	if (err)
		return err;
	vq_get_addrs(&c->vq, &addrs);
	err = dev->ops->setup_queue(dev, index, size, &addrs,
				    VIRTIO_MSI_NO_VECTOR);
	if (err) {
		log_error("%s: setup failed (%d)", c->name, err);
		return err;
	}
	vq_disable_cb(&c->vq);
	c->ready = true;
	return 0;
}

void vnet_ctrl_teardown(struct vnet_dev *nd, bool quiet)
{
	struct vnet_ctrl *c = &nd->ctrl;

	if (c->ring_mem && quiet)
		page_free((uint64_t)(uintptr_t)c->ring_mem, c->ring_pages);
	if (c->ready)
		vq_destroy(&c->vq);
	/* The device may still write the ack byte if it did not reset. */
	if (quiet)
		kfree(c->buf);
	c->ready = false;
}

static bool vnet_ctrl_wait(struct vnet_dev *nd, struct vq_used *u)
{
	uint64_t start = nd->clock ? nd->clock() : 0;

	for (uint32_t spins = 0;; spins++) {
		if (vq_get_used(&nd->ctrl.vq, u))
			return true;
		if (vq_is_broken(&nd->ctrl.vq))
			return false;
		if (nd->clock ? nd->clock() - start > VNET_CTRL_WAIT_NS
			      : spins > VNET_CTRL_WAIT_SPINS)
			return false;
		cpu_relax();
	}
}

/* Sends the command already in buf (header + len payload bytes) and waits
 * for the device's ack. 0, -EIO (no answer, a foreign chain or an error
 * ack) or the ring's error. */
static int vnet_ctrl_send(struct vnet_dev *nd, uint32_t len)
{
	struct vnet_ctrl *c = &nd->ctrl;
	struct vq_buf bufs[2] = {
	    {(uint64_t)(uintptr_t)c->buf,
	     (uint32_t)sizeof(struct virtio_net_ctrl_hdr) + len},
	    {(uint64_t)(uintptr_t)(c->buf + VNET_CTRL_ACK), 1},
	};
	struct vq_used u;
	int err;

	c->buf[VNET_CTRL_ACK] = VIRTIO_NET_ERR;
	err = vq_add_chain(&c->vq, bufs, 1, 1, c->buf);
	if (err)
		return err;
	vq_kick(&c->vq);
	if (!vnet_ctrl_wait(nd, &u)) {
		log_error("%s: no answer from the device", c->name);
		return -EIO;
	}
	if (u.cookie != c->buf || u.len < 1 ||
	    __atomic_load_n(&c->buf[VNET_CTRL_ACK], __ATOMIC_ACQUIRE) !=
		VIRTIO_NET_OK)
		return -EIO;
	return 0;
}

static uint8_t *vnet_ctrl_cmd(struct vnet_dev *nd, uint8_t class_, uint8_t cmd)
{
	struct virtio_net_ctrl_hdr *h = (void *)nd->ctrl.buf;

	memset(nd->ctrl.buf, 0, VNET_CTRL_ACK);
	h->class_ = class_;
	h->cmd = cmd;
	return nd->ctrl.buf + sizeof(*h);
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* A fixed Toeplitz key: any 40 bytes with enough mixing spread flows;
 * this one comes from a xorshift generator, so the same flow lands on the
 * same pair on every boot (tests and benchmarks repeat). */
static void vnet_rss_key(uint8_t *key)
{
	uint32_t x = 0x5eed5c1fu;

	for (unsigned i = 0; i < VIRTIO_NET_RSS_KEY_LEN; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		key[i] = (uint8_t)(x >> 24);
	}
}

/* The device's RSS limits, checked. Returns the table length (a power of
 * two, at most VNET_RSS_TABLE_MAX) and *types, or 0 when RSS cannot be
 * used the way we need it. */
static uint16_t vnet_rss_limits(struct vnet_dev *nd, uint32_t *types)
{
	struct virtio_device *dev = nd->dev;
	uint8_t key_max = 0;
	virtio_le16 table_max = 0;
	virtio_le32 supported = 0;
	uint16_t len;

	if (dev->ops->read_config(
		dev, offsetof(struct virtio_net_config, rss_max_key_size),
		&key_max, sizeof(key_max)) ||
	    dev->ops->read_config(dev,
				  offsetof(struct virtio_net_config,
					   rss_max_indirection_table_length),
				  &table_max, sizeof(table_max)) ||
	    dev->ops->read_config(
		dev, offsetof(struct virtio_net_config, supported_hash_types),
		&supported, sizeof(supported))) {
		log_warn("%s: RSS limits unreadable", dev->name);
		return 0;
	}
	*types = supported & (VIRTIO_NET_RSS_HASH_TYPE_IPv4 |
			      VIRTIO_NET_RSS_HASH_TYPE_TCPv4 |
			      VIRTIO_NET_RSS_HASH_TYPE_UDPv4);
	if (key_max < VIRTIO_NET_RSS_KEY_LEN || table_max == 0 || !*types) {
		log_warn("%s: RSS key %u B, table %u, hash types %#x: not "
			 "usable; device steering",
			 dev->name, (unsigned)key_max, (unsigned)table_max,
			 (unsigned)supported);
		return 0;
	}
	len = table_max < VNET_RSS_TABLE_MAX ? table_max : VNET_RSS_TABLE_MAX;
	while (len & (len - 1))
		len &= (uint16_t)(len - 1);
	return len;
}

static int vnet_ctrl_rss(struct vnet_dev *nd)
{
	uint32_t types = 0;
	uint16_t len = vnet_rss_limits(nd, &types);
	uint8_t *p, *start;
	struct virtio_net_rss_head head;

	if (!len)
		return -ENOTSUP;
	start = p = vnet_ctrl_cmd(nd, VIRTIO_NET_CTRL_MQ,
				  VIRTIO_NET_CTRL_MQ_RSS_CONFIG);
	head.hash_types = types;
	head.indirection_table_mask = (uint16_t)(len - 1);
	head.unclassified_queue = 0;
	memcpy(p, &head, sizeof(head));
	p += sizeof(head);
	for (uint16_t i = 0; i < len; i++, p += 2)
		put_le16(p, (uint16_t)(i % nd->npairs));
	put_le16(p, (uint16_t)nd->npairs); /* max_tx_vq */
	p += 2;
	*p++ = VIRTIO_NET_RSS_KEY_LEN;
	vnet_rss_key(p);
	p += VIRTIO_NET_RSS_KEY_LEN;
	if (vnet_ctrl_send(nd, (uint32_t)(p - start)) != 0)
		return -EIO;
	nd->rss = true;
	nd->rss_table_len = len;
	return 0;
}

int vnet_ctrl_set_pairs(struct vnet_dev *nd, bool rss_wanted)
{
	uint8_t *p;

	if (!nd->ctrl.ready)
		return -ENODEV;
	p = vnet_ctrl_cmd(nd, VIRTIO_NET_CTRL_MQ,
			  VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET);
	put_le16(p, (uint16_t)nd->npairs);
	if (vnet_ctrl_send(nd, 2) != 0)
		return -EIO;
	/* RSS after the pair count: QEMU turns RSS off on VQ_PAIRS_SET. */
	if (rss_wanted && virtio_has_feature(nd->dev, VIRTIO_NET_F_RSS) &&
	    vnet_ctrl_rss(nd) != 0)
		log_warn("%s: RSS not configured; the device steers flows",
			 nd->dev->name);
	return 0;
}

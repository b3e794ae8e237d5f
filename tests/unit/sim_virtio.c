/* Simulated virtio-net device; see sim_virtio.h. The ring rules follow the
 * virtio 1.x split-virtqueue device requirements and QEMU's behaviour
 * (avail_event written on every pop, one interrupt decision per flush). */
#include "tests/unit/sim_virtio.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kernel/barrier.h"
#include "kernel/kerrno.h"

static void sim_violation(unsigned *counter, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "    [sim] driver violation: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	(*counter)++;
}

static void *sim_ptr(uint64_t addr)
{
	return (void *)(uintptr_t)addr;
}

/* ---- one queue ---- */

void sim_queue_attach(struct sim_queue *q, uint16_t size,
		      const struct virtio_queue_addrs *addrs, bool event_idx)
{
	memset(q, 0, sizeof(*q));
	q->size = size;
	q->enabled = true;
	q->event_idx = event_idx;
	q->desc = sim_ptr(addrs->desc);
	q->avail = sim_ptr(addrs->avail);
	q->used = sim_ptr(addrs->used);
}

static uint16_t sim_read16(const volatile virtio_le16 *p)
{
	return *p;
}

static void sim_write16(volatile virtio_le16 *p, uint16_t v)
{
	*p = v;
}

/* Appends descriptor d to c, checking that readable ones come first. */
static int sim_take_desc(struct sim_queue *q, const struct virtq_desc *d,
			 struct sim_chain *c, bool *seen_write)
{
	if (c->n == SIM_MAX_CHAIN) {
		sim_violation(&q->errors, "chain longer than %u",
			      SIM_MAX_CHAIN);
		return -1;
	}
	if (d->len == 0)
		sim_violation(&q->errors, "zero-length descriptor");
	c->d[c->n].addr = d->addr;
	c->d[c->n].len = d->len;
	c->d[c->n].write = d->flags & VIRTQ_DESC_F_WRITE;
	if (c->d[c->n].write) {
		*seen_write = true;
		c->in_len += d->len;
	} else {
		if (*seen_write) {
			sim_violation(
			    &q->errors,
			    "readable descriptor after a writable one");
			return -1;
		}
		c->out_len += d->len;
	}
	c->n++;
	return 0;
}

/* Walks an indirect table (spec 2.7.5.3): no NEXT on the descriptor that
 * points at it, a length that is a multiple of 16, no nested tables, and
 * links that stay inside the table. */
static int sim_walk_indirect(struct sim_queue *q, const struct virtq_desc *d,
			     struct sim_chain *c, bool *seen_write)
{
	const struct virtq_desc *table = sim_ptr(d->addr);
	unsigned count = d->len / sizeof(*table), idx = 0, steps = 0;

	if (!q->indirect) {
		sim_violation(&q->errors, "INDIRECT not negotiated");
		return -1;
	}
	if ((d->flags & VIRTQ_DESC_F_NEXT) || d->len == 0 ||
	    d->len % sizeof(*table)) {
		sim_violation(&q->errors, "bad indirect descriptor (len %u)",
			      (unsigned)d->len);
		return -1;
	}
	q->indirect_chains++;
	for (;;) {
		const struct virtq_desc *e;

		if (idx >= count || steps++ == count) {
			sim_violation(&q->errors, "indirect link %u of %u", idx,
				      count);
			return -1;
		}
		e = &table[idx];
		if (e->flags & VIRTQ_DESC_F_INDIRECT) {
			sim_violation(&q->errors, "nested indirect table");
			return -1;
		}
		if (sim_take_desc(q, e, c, seen_write))
			return -1;
		if (!(e->flags & VIRTQ_DESC_F_NEXT))
			return 0;
		idx = e->next;
	}
}

/* Walks the chain at head into c, checking what the spec requires of it. */
static int sim_walk_chain(struct sim_queue *q, uint16_t head,
			  struct sim_chain *c)
{
	uint16_t idx = head;
	unsigned steps = 0;
	bool seen_write = false;

	memset(c, 0, sizeof(*c));
	c->head = head;
	for (;;) {
		const struct virtq_desc *d;

		if (idx >= q->size) {
			sim_violation(&q->errors, "descriptor %u >= size %u",
				      idx, q->size);
			return -1;
		}
		if (steps++ == q->size) {
			sim_violation(&q->errors, "chain at %u loops", head);
			return -1;
		}
		d = &q->desc[idx];
		if (d->flags & VIRTQ_DESC_F_INDIRECT) {
			/* A table ends the chain (nothing may follow it). */
			return sim_walk_indirect(q, d, c, &seen_write);
		}
		if (sim_take_desc(q, d, c, &seen_write))
			return -1;
		if (!(d->flags & VIRTQ_DESC_F_NEXT))
			return 0;
		idx = d->next;
	}
}

int sim_queue_pop(struct sim_queue *q, struct sim_chain *c)
{
	uint16_t avail_idx, head;

	if (!q->enabled)
		return 0;
	avail_idx = sim_read16(&q->avail->idx);
	if ((uint16_t)(avail_idx - q->last_avail) > q->size) {
		sim_violation(&q->errors, "avail idx %u runs %u ahead of %u",
			      avail_idx, (uint16_t)(avail_idx - q->last_avail),
			      q->last_avail);
		return -1;
	}
	if (avail_idx == q->last_avail)
		return 0;
	/* Device side of the consumer barrier: entries after the index. */
	virtio_rmb();
	head = q->avail->ring[q->last_avail & (q->size - 1)];
	q->last_avail++;
	q->pops++;
	/* QEMU re-arms the driver's notification at each pop, unless busy. */
	if (q->event_idx && !q->busy)
		sim_write16(virtq_avail_event(q->used, q->size), q->last_avail);
	return sim_walk_chain(q, head, c) == 0 ? 1 : -1;
}

void sim_queue_push(struct sim_queue *q, uint32_t id, uint32_t len)
{
	struct virtq_used_elem *e = &q->used->ring[q->used_idx & (q->size - 1)];

	e->id = id;
	e->len = len;
	q->used_idx++;
}

/* QEMU's rule: with EVENT_IDX, interrupt if used_event lies in the range
 * published since the last decision (or on the very first one). */
static bool sim_queue_wants_irq(struct sim_queue *q)
{
	uint16_t old = q->signalled_used, new = q->used_idx;
	bool valid = q->signalled_valid;
	uint16_t flags = sim_read16(&q->avail->flags);

	if (!q->event_idx)
		return !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
	if (flags != 0)
		sim_violation(&q->errors, "avail flags %#x with EVENT_IDX",
			      flags);
	q->signalled_valid = true;
	q->signalled_used = new;
	return !valid ||
	       virtq_need_event(sim_read16(virtq_used_event(q->avail, q->size)),
				new, old);
}

bool sim_queue_flush(struct sim_queue *q)
{
	if (q->used_idx == q->used_published)
		return false;
	/* Device side of the producer barrier: entries before the index. */
	virtio_wmb();
	sim_write16(&q->used->idx, q->used_idx);
	q->used_published = q->used_idx;
	/* Device side of the full barrier: index out before event read. */
	virtio_mb();
	if (!sim_queue_wants_irq(q))
		return false;
	q->irq_decisions++;
	if (q->vector == VIRTIO_MSI_NO_VECTOR)
		return false;
	q->interrupts++;
	return true;
}

void sim_queue_set_busy(struct sim_queue *q, bool busy)
{
	q->busy = busy;
	if (q->event_idx) {
		if (!busy)
			sim_write16(virtq_avail_event(q->used, q->size),
				    q->last_avail);
		return;
	}
	sim_write16(&q->used->flags, busy ? VIRTQ_USED_F_NO_NOTIFY : 0);
}

void sim_queue_set_avail_event(struct sim_queue *q, uint16_t v)
{
	sim_write16(virtq_avail_event(q->used, q->size), v);
}

/* ---- transport ops ---- */

static struct sim_virtio *sim_of(struct virtio_device *dev)
{
	return (struct sim_virtio *)dev;
}

static int sim_reset(struct virtio_device *dev)
{
	struct sim_virtio *s = sim_of(dev);

	s->resets++;
	if (s->fail_reset)
		return -ETIMEDOUT;
	s->status = 0;
	s->driver_features = 0;
	s->config_vector = VIRTIO_MSI_NO_VECTOR;
	for (unsigned i = 0; i < SIM_NQUEUES; i++) {
		unsigned errors = s->q[i].errors;

		memset(&s->q[i], 0, sizeof(s->q[i]));
		s->q[i].errors = errors;
		s->q[i].vector = VIRTIO_MSI_NO_VECTOR;
	}
	return 0;
}

static uint8_t sim_get_status(struct virtio_device *dev)
{
	return sim_of(dev)->status;
}

static bool sim_features_acceptable(const struct sim_virtio *s)
{
	if (s->refuse_features_ok)
		return false;
	if (s->driver_features & ~s->device_features)
		return false;
	return s->driver_features & 1ULL << VIRTIO_F_VERSION_1;
}

static void sim_set_status(struct virtio_device *dev, uint8_t status)
{
	struct sim_virtio *s = sim_of(dev);
	uint8_t added = status & ~s->status;

	if (s->status & ~status)
		sim_violation(&s->errors,
			      "status bits cleared without reset "
			      "(%#x -> %#x)",
			      s->status, status);
	if ((added & VIRTIO_STATUS_FEATURES_OK) && !sim_features_acceptable(s))
		status &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	if ((added & VIRTIO_STATUS_DRIVER_OK) &&
	    !(status & VIRTIO_STATUS_FEATURES_OK))
		sim_violation(&s->errors, "DRIVER_OK without FEATURES_OK");
	s->status = status;
}

static uint64_t sim_get_features(struct virtio_device *dev)
{
	return sim_of(dev)->device_features;
}

static void sim_set_features(struct virtio_device *dev, uint64_t features)
{
	struct sim_virtio *s = sim_of(dev);

	if (s->status & VIRTIO_STATUS_FEATURES_OK)
		sim_violation(&s->errors, "features written after "
					  "FEATURES_OK");
	s->driver_features = features;
}

static int sim_read_config(struct virtio_device *dev, uint32_t offset,
			   void *buf, uint32_t len)
{
	struct sim_virtio *s = sim_of(dev);

	if (offset > sizeof(s->config) || len > sizeof(s->config) - offset)
		return -EINVAL;
	memcpy(buf, s->config + offset, len);
	return 0;
}

static uint16_t sim_queue_max_size(struct virtio_device *dev, uint16_t idx)
{
	return idx < SIM_NQUEUES ? sim_of(dev)->queue_max[idx] : 0;
}

static bool sim_queue_addrs_ok(struct sim_virtio *s,
			       const struct virtio_queue_addrs *a)
{
	if (a->desc % VIRTQ_DESC_ALIGN || a->avail % VIRTQ_AVAIL_ALIGN ||
	    a->used % VIRTQ_USED_ALIGN) {
		sim_violation(&s->errors, "misaligned ring");
		return false;
	}
	return true;
}

static int sim_setup_queue(struct virtio_device *dev, uint16_t idx,
			   uint16_t size,
			   const struct virtio_queue_addrs *addrs,
			   uint16_t msix_vector)
{
	struct sim_virtio *s = sim_of(dev);

	if (idx >= SIM_NQUEUES)
		return -EINVAL;
	if (!(s->status & VIRTIO_STATUS_FEATURES_OK) ||
	    (s->status & VIRTIO_STATUS_DRIVER_OK))
		sim_violation(&s->errors, "queue %u set up in status %#x", idx,
			      s->status);
	if (size == 0 || size > s->queue_max[idx] || (size & (size - 1))) {
		sim_violation(&s->errors, "queue %u size %u", idx, size);
		return -EINVAL;
	}
	if (!sim_queue_addrs_ok(s, addrs))
		return -EINVAL;
	if (s->refuse_vectors && msix_vector != VIRTIO_MSI_NO_VECTOR)
		return -EIO;
	sim_queue_attach(&s->q[idx], size, addrs,
			 s->driver_features & 1ULL << VIRTIO_F_RING_EVENT_IDX);
	s->q[idx].indirect = s->driver_features & 1ULL
						      << VIRTIO_F_INDIRECT_DESC;
	s->q[idx].vector = msix_vector;
	return 0;
}

static void sim_notify(struct virtio_device *dev, uint16_t idx)
{
	struct sim_virtio *s = sim_of(dev);

	if (!(s->status & VIRTIO_STATUS_DRIVER_OK))
		sim_violation(&s->errors,
			      "notify of queue %u before "
			      "DRIVER_OK",
			      idx);
	if (idx >= SIM_NQUEUES || !s->q[idx].enabled) {
		sim_violation(&s->errors, "notify of absent queue %u", idx);
		return;
	}
	s->q[idx].notifications++;
}

static int sim_set_config_vector(struct virtio_device *dev, uint16_t vector)
{
	struct sim_virtio *s = sim_of(dev);

	if (s->refuse_vectors && vector != VIRTIO_MSI_NO_VECTOR)
		return -EIO;
	s->config_vector = vector;
	return 0;
}

static const struct virtio_transport_ops sim_ops = {
    .reset = sim_reset,
    .get_status = sim_get_status,
    .set_status = sim_set_status,
    .get_features = sim_get_features,
    .set_features = sim_set_features,
    .read_config = sim_read_config,
    .queue_max_size = sim_queue_max_size,
    .setup_queue = sim_setup_queue,
    .notify = sim_notify,
    .set_config_vector = sim_set_config_vector,
};

void sim_virtio_init(struct sim_virtio *s, uint64_t features,
		     uint16_t queue_max)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	virtio_le16 status = VIRTIO_NET_S_LINK_UP;

	memset(s, 0, sizeof(*s));
	s->dev.ops = &sim_ops;
	s->dev.transport = s;
	s->dev.device_id = VIRTIO_ID_NET;
	s->dev.msix = true;
	snprintf(s->dev.name, sizeof(s->dev.name), "sim-net");
	s->device_features = features;
	s->queue_max[VIRTIO_NET_RXQ] = queue_max;
	s->queue_max[VIRTIO_NET_TXQ] = queue_max;
	s->config_vector = VIRTIO_MSI_NO_VECTOR;
	for (unsigned i = 0; i < SIM_NQUEUES; i++)
		s->q[i].vector = VIRTIO_MSI_NO_VECTOR;
	memcpy(s->config + offsetof(struct virtio_net_config, mac), mac, 6);
	memcpy(s->config + offsetof(struct virtio_net_config, status), &status,
	       sizeof(status));
}

unsigned sim_virtio_errors(const struct sim_virtio *s)
{
	unsigned n = s->errors;

	for (unsigned i = 0; i < SIM_NQUEUES; i++)
		n += s->q[i].errors;
	return n;
}

void sim_virtio_set_link(struct sim_virtio *s, bool up)
{
	virtio_le16 status = up ? VIRTIO_NET_S_LINK_UP : 0;

	memcpy(s->config + offsetof(struct virtio_net_config, status), &status,
	       sizeof(status));
	if (s->config_vector != VIRTIO_MSI_NO_VECTOR)
		s->config_interrupts++;
}

/* ---- the network device ---- */

static bool sim_running(struct sim_virtio *s)
{
	if (s->status & VIRTIO_STATUS_DRIVER_OK)
		return true;
	return false;
}

/* Copies the readable part of a chain into out; returns the byte count. */
static uint32_t sim_gather(const struct sim_chain *c, uint8_t *out,
			   uint32_t cap)
{
	uint32_t n = 0;

	for (unsigned i = 0; i < c->n && !c->d[i].write; i++) {
		uint32_t take = c->d[i].len;

		if (take > cap - n)
			take = cap - n;
		memcpy(out + n, sim_ptr(c->d[i].addr), take);
		n += take;
	}
	return n;
}

/* Writes data across the writable part of a chain. */
static void sim_scatter(const struct sim_chain *c, const uint8_t *data,
			uint32_t len)
{
	for (unsigned i = 0; i < c->n && len; i++) {
		uint32_t put = c->d[i].len < len ? c->d[i].len : len;

		if (!c->d[i].write)
			continue;
		memcpy(sim_ptr(c->d[i].addr), data, put);
		data += put;
		len -= put;
	}
}

static void sim_tx_one(struct sim_virtio *s, const struct sim_chain *c)
{
	static uint8_t bytes[SIM_MAX_FRAME + sizeof(struct virtio_net_hdr)];
	uint32_t n = sim_gather(c, bytes, sizeof(bytes));

	s->last_tx = *c;
	s->tx_frames++;
	if (c->in_len)
		sim_violation(&s->q[VIRTIO_NET_TXQ].errors,
			      "writable descriptor on TX");
	if (n < sizeof(struct virtio_net_hdr)) {
		sim_violation(&s->q[VIRTIO_NET_TXQ].errors,
			      "TX chain shorter than the net header");
		s->last_tx_len = 0;
		return;
	}
	memcpy(&s->last_tx_hdr, bytes, sizeof(s->last_tx_hdr));
	s->last_tx_len = n - sizeof(struct virtio_net_hdr);
	memcpy(s->last_tx_frame, bytes + sizeof(struct virtio_net_hdr),
	       s->last_tx_len);
	if (s->on_tx)
		s->on_tx(s->on_tx_ctx, s->last_tx_frame, s->last_tx_len);
}

int sim_net_process_tx(struct sim_virtio *s)
{
	return sim_net_process_tx_max(s, UINT32_MAX);
}

int sim_net_process_tx_max(struct sim_virtio *s, uint32_t max)
{
	struct sim_queue *q = &s->q[VIRTIO_NET_TXQ];
	struct sim_chain c;
	int frames = 0;

	if (!sim_running(s))
		return 0;
	while ((uint32_t)frames < max && sim_queue_pop(q, &c) == 1) {
		sim_tx_one(s, &c);
		/* QEMU reports 0 written bytes for a transmitted chain. */
		sim_queue_push(q, c.head, 0);
		frames++;
		if (s->loopback)
			sim_net_inject(s, s->last_tx_frame, s->last_tx_len);
	}
	sim_queue_flush(q);
	return frames;
}

int sim_net_inject_hdr(struct sim_virtio *s, const struct virtio_net_hdr *hdr,
		       const void *frame, uint32_t len)
{
	static uint8_t bytes[SIM_MAX_FRAME + sizeof(struct virtio_net_hdr)];
	struct sim_queue *q = &s->q[VIRTIO_NET_RXQ];
	uint32_t total = (uint32_t)sizeof(*hdr) + len;
	struct sim_chain c;

	if (!sim_running(s) || len > SIM_MAX_FRAME ||
	    sim_queue_pop(q, &c) != 1) {
		s->rx_no_buffer++;
		return -1;
	}
	if (c.out_len)
		sim_violation(&q->errors, "readable descriptor on RX");
	if (c.in_len < total) {
		/* Without MRG_RXBUF a frame must fit one chain; QEMU drops. */
		sim_queue_push(q, c.head, 0);
		sim_queue_flush(q);
		return -1;
	}
	memcpy(bytes, hdr, sizeof(*hdr));
	memcpy(bytes + sizeof(*hdr), frame, len);
	sim_scatter(&c, bytes, total);
	sim_queue_push(q, c.head, total);
	sim_queue_flush(q);
	s->rx_frames++;
	return 0;
}

int sim_net_inject(struct sim_virtio *s, const void *frame, uint32_t len)
{
	struct virtio_net_hdr hdr = {0};

	return sim_net_inject_hdr(s, &hdr, frame, len);
}

int sim_net_inject_len(struct sim_virtio *s, uint32_t len)
{
	struct sim_queue *q = &s->q[VIRTIO_NET_RXQ];
	struct sim_chain c;

	if (!sim_running(s) || sim_queue_pop(q, &c) != 1)
		return -1;
	sim_queue_push(q, c.head, len);
	sim_queue_flush(q);
	return 0;
}

void sim_net_push_raw(struct sim_virtio *s, unsigned q, uint32_t id,
		      uint32_t len)
{
	sim_queue_push(&s->q[q], id, len);
	sim_queue_flush(&s->q[q]);
}

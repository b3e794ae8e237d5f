/* A simulated virtio 1.x network device for host tests. It implements
 * struct virtio_transport_ops in memory and plays the device side of the
 * split rings the way QEMU does: it pops avail chains, writes used entries,
 * publishes avail_event on every pop (EVENT_IDX), decides interrupts with
 * the used_event / NO_INTERRUPT rules, and counts notifications and
 * interrupts. It also checks the driver: every protocol violation it sees
 * (bad descriptor, notify before DRIVER_OK, flags with EVENT_IDX, ...) is
 * printed and counted in `errors`, which tests expect to stay 0.
 *
 * The device is passive: it acts only when a test calls sim_net_*(), which
 * is how tests place events exactly (e.g. between a poll and a re-enable).
 *
 * struct sim_queue is usable on its own (test_virtqueue.c) as the device
 * end of one ring. */
#ifndef SKIFF_TESTS_SIM_VIRTIO_H
#define SKIFF_TESTS_SIM_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/virtio.h"
#include "drivers/virtio_net_reg.h"
#include "drivers/virtio_ring_reg.h"

#define SIM_MAX_CHAIN 64
#define SIM_NQUEUES   2
#define SIM_MAX_FRAME 4096

/* One chain as the device sees it. */
struct sim_chain {
	uint16_t head;
	unsigned n;
	struct {
		uint64_t addr;
		uint32_t len;
		bool write;
	} d[SIM_MAX_CHAIN];
	uint32_t out_len; /* device-readable bytes */
	uint32_t in_len;  /* device-writable bytes */
};

struct sim_queue {
	uint16_t size;
	bool enabled;
	bool event_idx;
	bool indirect; /* VIRTIO_F_INDIRECT_DESC negotiated */
	uint16_t
	    vector; /* VIRTIO_MSI_NO_VECTOR: interrupts are not delivered */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;

	uint16_t last_avail;	 /* next avail entry to pop */
	uint16_t used_idx;	 /* next used entry to write */
	uint16_t used_published; /* used->idx as last written */
	uint16_t signalled_used; /* used index at the last interrupt decision */
	bool signalled_valid;
	bool busy; /* device polls this queue: asks not to be notified */

	unsigned notifications; /* driver -> device */
	unsigned interrupts;	/* device -> driver, delivered */
	unsigned irq_decisions; /* flushes that wanted an interrupt */
	unsigned pops;
	unsigned indirect_chains; /* chains that came through a table */
	unsigned errors;	  /* driver protocol violations seen */
};

/* Binds q to a ring the driver laid out at addrs (vector 0). */
void sim_queue_attach(struct sim_queue *q, uint16_t size,
		      const struct virtio_queue_addrs *addrs, bool event_idx);
/* Pops the next available chain. Returns 1 (got one), 0 (none) or -1 (the
 * driver published something invalid; counted in errors). */
int sim_queue_pop(struct sim_queue *q, struct sim_chain *c);
/* Writes a used entry (not yet visible to the driver). id is 32-bit so
 * tests can write out-of-range ids. */
void sim_queue_push(struct sim_queue *q, uint32_t id, uint32_t len);
/* Publishes pushed entries and decides, once for the batch, whether to
 * interrupt. Returns whether an interrupt was raised. */
bool sim_queue_flush(struct sim_queue *q);
/* Sets or clears the device's "don't notify me" state (VIRTQ_USED_F_NO_NOTIFY
 * without EVENT_IDX; with it, avail_event stops following pops). */
void sim_queue_set_busy(struct sim_queue *q, bool busy);
/* Sets the avail_event field directly. */
void sim_queue_set_avail_event(struct sim_queue *q, uint16_t v);

/* Features a QEMU virtio-net-pci (disable-legacy=on) offers that matter
 * here; MRG_RXBUF and CTRL_VQ are offered so tests see they are declined. */
#define SIM_NET_FEATURES                                                       \
	(1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_RING_EVENT_IDX |        \
	 1ULL << VIRTIO_F_INDIRECT_DESC | 1ULL << VIRTIO_NET_F_MAC |           \
	 1ULL << VIRTIO_NET_F_STATUS | 1ULL << VIRTIO_NET_F_CSUM |             \
	 1ULL << VIRTIO_NET_F_GUEST_CSUM | 1ULL << VIRTIO_NET_F_MRG_RXBUF |    \
	 1ULL << VIRTIO_NET_F_CTRL_VQ)

struct sim_virtio {
	struct virtio_device dev; /* first, so ops can cast back */
	uint64_t device_features;
	uint64_t driver_features;
	uint8_t status;
	uint8_t config[sizeof(struct virtio_net_config)];
	uint16_t queue_max[SIM_NQUEUES];
	struct sim_queue q[SIM_NQUEUES];
	uint16_t config_vector;

	/* Misbehaviour switches. */
	bool refuse_features_ok; /* clears FEATURES_OK on write */
	bool fail_reset;	 /* reset() times out */
	bool refuse_vectors;	 /* setup_queue() fails for a real vector */

	unsigned resets;
	unsigned config_interrupts;
	unsigned errors; /* device-level driver violations */

	/* What the last transmitted chain looked like. */
	struct sim_chain last_tx;
	struct virtio_net_hdr last_tx_hdr;
	uint8_t last_tx_frame[SIM_MAX_FRAME];
	uint32_t last_tx_len;
	unsigned tx_frames;
	bool loopback; /* deliver every TX frame to RX */
	/* Optional: sees every transmitted frame (after the net header). */
	void (*on_tx)(void *ctx, const uint8_t *frame, uint32_t len);
	void *on_tx_ctx;

	unsigned rx_frames;
	unsigned rx_no_buffer; /* frames dropped: no RX buffer posted */
};

void sim_virtio_init(struct sim_virtio *s, uint64_t features,
		     uint16_t queue_max);
/* Total violations seen by the device and both queues. */
unsigned sim_virtio_errors(const struct sim_virtio *s);
/* Changes config.status and raises the config interrupt. */
void sim_virtio_set_link(struct sim_virtio *s, bool up);

/* Transmits every available TX chain (loopback if enabled); one interrupt
 * decision for the batch. Returns the number of frames. */
int sim_net_process_tx(struct sim_virtio *s);
/* The same for at most max chains: a device that completes late. */
int sim_net_process_tx_max(struct sim_virtio *s, uint32_t max);
/* Receives one frame with a zero header. Returns 0, or -1 when no RX buffer
 * was available (counted in rx_no_buffer) or the frame did not fit. */
int sim_net_inject(struct sim_virtio *s, const void *frame, uint32_t len);
int sim_net_inject_hdr(struct sim_virtio *s, const struct virtio_net_hdr *hdr,
		       const void *frame, uint32_t len);
/* Pops an RX buffer and reports len for it without writing anything
 * (e.g. more than the buffer holds). Returns 0 or -1 (no buffer). */
int sim_net_inject_len(struct sim_virtio *s, uint32_t len);
/* Writes a raw used entry on queue q (e.g. an id out of range). */
void sim_net_push_raw(struct sim_virtio *s, unsigned q, uint32_t id,
		      uint32_t len);

#endif

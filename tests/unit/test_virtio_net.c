/* The virtio-net driver (drivers/vnet_*.c, virtio.c, virtqueue.c)
 * against the simulated device: bring-up and its failures, zero-copy TX
 * chains, RX buffer ownership, untrusted used entries, batching and
 * suppression, the interrupt top half and re-enable race, counters. */
#include <stdlib.h>

#include "app/driver_stats.h"
#include "drivers/virtio_net.h"
#include "drivers/virtqueue.h"
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "tests/unit/check.h"
#include "tests/unit/host_kernel_stubs.h"
#include "tests/unit/sim_virtio.h"

#define FX_MAX_RX 256

struct rx_rec {
	uint8_t *frame;
	uint32_t len;
	uint32_t handle;
	uint8_t flags;
};

struct fixture {
	struct sim_virtio sim;
	struct vnet *n;
	struct vnet_params params;
	struct rx_rec rx[FX_MAX_RX];
	unsigned nrx;
	void *done[1024];
	unsigned ndone;
	unsigned vector_calls;
};

static uint16_t fx_vector(void *ctx, struct vnet *n, enum vnet_irq_source src)
{
	struct fixture *f = ctx;

	CHECK(n != NULL);
	f->vector_calls++;
	return (uint16_t)(10 + src); /* MSI-X entries 10, 11, 12 */
}

static void fx_on_rx(void *ctx, void *frame, uint32_t len, uint32_t handle,
		     uint8_t flags)
{
	struct fixture *f = ctx;

	if (f->nrx == FX_MAX_RX) {
		CHECK(!"rx record overflow");
		return;
	}
	f->rx[f->nrx++] = (struct rx_rec){frame, len, handle, flags};
}

static void fx_on_tx_done(void *ctx, void *cookie)
{
	struct fixture *f = ctx;

	f->done[f->ndone++ % 1024] = cookie;
}

static struct fixture *fx_alloc(uint64_t features, uint16_t queue_max)
{
	struct fixture *f = calloc(1, sizeof(*f));

	sim_virtio_init(&f->sim, features, queue_max);
	f->params.vector = fx_vector;
	f->params.vector_ctx = f;
	return f;
}

static int fx_probe(struct fixture *f)
{
	return vnet_probe(&f->sim.dev, &f->params, &f->n);
}

/* A probed device with the defaults QEMU has (256-entry queues). */
static struct fixture *fx_up(void)
{
	struct fixture *f = fx_alloc(SIM_NET_FEATURES, 256);

	CHECK_EQ(fx_probe(f), 0);
	return f;
}

static void fx_down(struct fixture *f)
{
	if (f->n)
		vnet_remove(f->n, fx_on_tx_done, f);
	CHECK_EQ(sim_virtio_errors(&f->sim), 0);
	CHECK_EQ(host_pages_outstanding, 0);
	free(f);
}

static void fx_release_all(struct fixture *f)
{
	for (unsigned i = 0; i < f->nrx; i++)
		CHECK_EQ(vnet_rx_buf_release(f->n, f->rx[i].handle), 0);
	f->nrx = 0;
}

static void make_frame(uint8_t *buf, uint32_t len, unsigned seed)
{
	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 31 + i * 7);
}

static int send_one(struct fixture *f, const uint8_t *frame, uint32_t len,
		    void *cookie)
{
	struct vnet_frag frag = {frame, len};

	return vnet_tx_chain(f->n, &frag, 1, NULL, cookie);
}

static struct vnet_stats stats_of(struct fixture *f)
{
	struct vnet_stats s;

	vnet_get_stats(f->n, &s);
	return s;
}

/* ---- bring-up ---- */

TEST(net_probe_negotiates_and_fills_rx)
{
	struct fixture *f = fx_up();
	struct vnet_stats s = stats_of(f);
	uint8_t mac[6];
	uint64_t want =
	    1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_RING_EVENT_IDX |
	    1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_STATUS |
	    1ULL << VIRTIO_NET_F_CSUM | 1ULL << VIRTIO_NET_F_GUEST_CSUM |
	    1ULL << VIRTIO_F_INDIRECT_DESC;

	CHECK_EQ(f->sim.status,
		 VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		     VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	/* MRG_RXBUF and CTRL_VQ were offered and declined. */
	CHECK_EQ(f->sim.driver_features, want);
	CHECK_EQ(f->sim.dev.features, want);
	vnet_get_mac(f->n, mac);
	CHECK(memcmp(mac, "\x52\x54\x00\x12\x34\x56", 6) == 0);
	CHECK(vnet_link_up(f->n));
	CHECK(vnet_tx_csum_offload(f->n));
	CHECK(vnet_rx_csum_offload(f->n));

	/* The whole RX ring was posted as one batch, one notification. */
	CHECK_EQ(f->sim.q[VIRTIO_NET_RXQ].size, 256);
	CHECK_EQ(f->sim.q[VIRTIO_NET_RXQ].avail->idx, 256);
	CHECK_EQ(f->sim.q[VIRTIO_NET_RXQ].notifications, 1);
	CHECK_EQ(f->sim.q[VIRTIO_NET_TXQ].notifications, 0);
	CHECK_EQ(s.rx_posted, 256);
	CHECK_EQ(s.rx_pool_size, VNET_DEFAULT_POOL_BUFS);
	CHECK_EQ(s.rx_pool_free, VNET_DEFAULT_POOL_BUFS - 256);
	CHECK_EQ(s.tx_ring_size, 256);

	/* Vectors: one per queue and one for config changes. */
	CHECK_EQ(f->vector_calls, 3);
	CHECK_EQ(f->sim.q[VIRTIO_NET_RXQ].vector, 10);
	CHECK_EQ(f->sim.q[VIRTIO_NET_TXQ].vector, 11);
	CHECK_EQ(f->sim.config_vector, 12);
	CHECK(vnet_has_irq(f->n, VNET_IRQ_RX));
	CHECK(vnet_has_irq(f->n, VNET_IRQ_CONFIG));
	CHECK(host_pages_outstanding > 0);
	fx_down(f);
}

TEST(net_probe_caps_queue_to_power_of_two)
{
	struct fixture *f = fx_alloc(SIM_NET_FEATURES, 1000);

	f->params.rx_ring_max = 4096;
	f->params.tx_ring_max = 64;
	CHECK_EQ(fx_probe(f), 0);
	CHECK_EQ(f->sim.q[VIRTIO_NET_RXQ].size, 512);
	CHECK_EQ(f->sim.q[VIRTIO_NET_TXQ].size, 64);
	fx_down(f);
}

TEST(net_probe_without_version_1_fails_clearly)
{
	struct fixture *f =
	    fx_alloc(SIM_NET_FEATURES & ~(1ULL << VIRTIO_F_VERSION_1), 256);
	unsigned errors = host_log_count[LOG_ERROR];

	host_log_quiet = true;
	CHECK_EQ(fx_probe(f), -ENOTSUP);
	host_log_quiet = false;
	CHECK(f->n == NULL);
	CHECK(f->sim.status & VIRTIO_STATUS_FAILED);
	CHECK(!(f->sim.status & VIRTIO_STATUS_DRIVER_OK));
	CHECK(host_log_count[LOG_ERROR] > errors);
	CHECK_EQ(f->sim.q[VIRTIO_NET_RXQ].notifications, 0);
	fx_down(f);
}

TEST(net_probe_features_ok_refused)
{
	struct fixture *f = fx_alloc(SIM_NET_FEATURES, 256);

	f->sim.refuse_features_ok = true;
	host_log_quiet = true;
	CHECK_EQ(fx_probe(f), -ENOTSUP);
	host_log_quiet = false;
	CHECK(f->sim.status & VIRTIO_STATUS_FAILED);
	CHECK(!(f->sim.status & VIRTIO_STATUS_DRIVER_OK));
	fx_down(f);
}

TEST(net_probe_rejects_other_devices_and_missing_queues)
{
	struct fixture *f = fx_alloc(SIM_NET_FEATURES, 256);

	f->sim.dev.device_id = 2; /* block */
	CHECK_EQ(fx_probe(f), -ENODEV);
	CHECK_EQ(f->sim.resets, 0);
	f->sim.dev.device_id = VIRTIO_ID_NET;
	f->sim.queue_max[VIRTIO_NET_TXQ] = 0;
	host_log_quiet = true;
	CHECK_EQ(fx_probe(f), -ENODEV);
	host_log_quiet = false;
	CHECK(f->sim.status & VIRTIO_STATUS_FAILED);
	fx_down(f);
}

/* Every page allocation of the bring-up (RX ring, TX ring, pool run) may
 * fail; each failure unwinds completely (the leak checker and the page
 * count agree) and leaves the device FAILED. */
TEST(net_probe_unwinds_on_allocation_failure)
{
	for (int ok_allocs = 0; ok_allocs < 3; ok_allocs++) {
		struct fixture *f = fx_alloc(SIM_NET_FEATURES, 256);

		host_page_alloc_fail_after = ok_allocs;
		host_log_quiet = true;
		CHECK_EQ(fx_probe(f), -ENOMEM);
		host_log_quiet = false;
		host_page_alloc_fail_after = -1;
		CHECK(f->sim.status & VIRTIO_STATUS_FAILED);
		CHECK_EQ(host_pages_outstanding, 0);
		fx_down(f);
	}
}

TEST(net_refused_vectors_fall_back_to_polling)
{
	struct fixture *f = fx_alloc(SIM_NET_FEATURES, 256);

	f->sim.refuse_vectors = true;
	CHECK_EQ(fx_probe(f), 0);
	CHECK(!vnet_has_irq(f->n, VNET_IRQ_RX));
	CHECK(!vnet_has_irq(f->n, VNET_IRQ_TX));
	CHECK(!vnet_has_irq(f->n, VNET_IRQ_CONFIG));
	CHECK_EQ(f->sim.q[VIRTIO_NET_RXQ].vector, VIRTIO_MSI_NO_VECTOR);
	fx_down(f);
}

TEST(net_poll_mode_requests_no_vectors)
{
	struct fixture *f = fx_alloc(SIM_NET_FEATURES, 256);

	f->params.vector = NULL;
	CHECK_EQ(fx_probe(f), 0);
	CHECK_EQ(f->vector_calls, 0);
	CHECK(!vnet_has_irq(f->n, VNET_IRQ_RX));
	CHECK_EQ(f->sim.q[VIRTIO_NET_RXQ].vector, VIRTIO_MSI_NO_VECTOR);
	CHECK_EQ(f->sim.config_vector, VIRTIO_MSI_NO_VECTOR);
	fx_down(f);
}

TEST(net_without_mac_or_status_uses_fallbacks)
{
	struct fixture *f =
	    fx_alloc(SIM_NET_FEATURES & ~(1ULL << VIRTIO_NET_F_MAC |
					  1ULL << VIRTIO_NET_F_STATUS),
		     256);
	uint8_t mac[6];

	CHECK_EQ(fx_probe(f), 0);
	vnet_get_mac(f->n, mac);
	CHECK_EQ(mac[0], 0x02); /* locally administered, unicast */
	sim_virtio_set_link(&f->sim, false);
	CHECK(vnet_link_up(f->n)); /* no STATUS: the link counts as up */
	fx_down(f);
}

/* ---- transmit ---- */

TEST(net_tx_chain_of_three_fragments_is_not_copied)
{
	struct fixture *f = fx_up();
	uint8_t eth[14], ip[20], payload[100], expect[134];
	struct vnet_frag frags[3] = {{eth, 14}, {ip, 20}, {payload, 100}};
	int cookie;
	struct sim_chain *c = &f->sim.last_tx;
	struct vnet_stats s;

	make_frame(eth, 14, 1);
	make_frame(ip, 20, 2);
	make_frame(payload, 100, 3);
	memcpy(expect, eth, 14);
	memcpy(expect + 14, ip, 20);
	memcpy(expect + 34, payload, 100);

	CHECK_EQ(vnet_tx_chain(f->n, frags, 3, NULL, &cookie), 0);
	CHECK(vnet_tx_flush(f->n));
	CHECK_EQ(sim_net_process_tx(&f->sim), 1);

	/* Header descriptor, then the caller's own buffers, untouched. */
	CHECK_EQ(c->n, 4);
	CHECK_EQ(c->d[0].len, 12);
	CHECK(c->d[0].addr != (uintptr_t)eth);
	CHECK_EQ(c->d[1].addr, (uintptr_t)eth);
	CHECK_EQ(c->d[2].addr, (uintptr_t)ip);
	CHECK_EQ(c->d[3].addr, (uintptr_t)payload);
	CHECK_EQ(c->d[3].len, 100);
	CHECK_EQ(f->sim.last_tx_len, 134);
	CHECK(memcmp(f->sim.last_tx_frame, expect, 134) == 0);
	CHECK_EQ(f->sim.last_tx_hdr.flags, 0);
	CHECK_EQ(f->sim.last_tx_hdr.num_buffers, 0);

	CHECK_EQ(vnet_tx_reclaim(f->n, fx_on_tx_done, f), 1);
	CHECK_EQ(f->ndone, 1);
	CHECK(f->done[0] == &cookie);
	CHECK_EQ(vnet_tx_reclaim(f->n, fx_on_tx_done, f), 0);
	s = stats_of(f);
	CHECK_EQ(s.tx_packets, 1);
	CHECK_EQ(s.tx_bytes, 134);
	CHECK_EQ(s.tx_inflight, 0);
	fx_down(f);
}

TEST(net_tx_batch_one_notification_and_suppression)
{
	struct fixture *f = fx_up();
	uint8_t frame[60];
	int cookies[20];
	struct vnet_stats s;

	make_frame(frame, sizeof(frame), 4);
	for (unsigned i = 0; i < 10; i++)
		CHECK_EQ(send_one(f, frame, 60, &cookies[i]), 0);
	CHECK_EQ(f->sim.q[VIRTIO_NET_TXQ].notifications, 0);
	CHECK(vnet_tx_flush(f->n));
	CHECK_EQ(f->sim.q[VIRTIO_NET_TXQ].notifications, 1);
	CHECK(!vnet_tx_flush(f->n)); /* nothing new */

	/* The device has not caught up: EVENT_IDX says don't notify. */
	for (unsigned i = 10; i < 15; i++)
		CHECK_EQ(send_one(f, frame, 60, &cookies[i]), 0);
	CHECK(!vnet_tx_flush(f->n));
	CHECK_EQ(f->sim.q[VIRTIO_NET_TXQ].notifications, 1);
	CHECK_EQ(sim_net_process_tx(&f->sim), 15);
	CHECK_EQ(vnet_tx_reclaim(f->n, fx_on_tx_done, f), 15);

	/* Caught up: the next batch notifies again. */
	for (unsigned i = 15; i < 20; i++)
		CHECK_EQ(send_one(f, frame, 60, &cookies[i]), 0);
	CHECK(vnet_tx_flush(f->n));
	CHECK_EQ(sim_net_process_tx(&f->sim), 5);
	CHECK_EQ(vnet_tx_reclaim(f->n, fx_on_tx_done, f), 5);

	s = stats_of(f);
	CHECK_EQ(s.tx_notifications, 2);
	CHECK_EQ(s.tx_kicks_suppressed, 1);
	CHECK_EQ(s.tx_batch[3], 1); /* 10 frames: bucket 8-15 */
	CHECK_EQ(s.tx_batch[2], 2); /* 5 frames, twice: bucket 4-7 */
	/* TX interrupts stay off: reclaim is driven by the main loop. Like
	 * QEMU, the device signals its very first completion regardless of
	 * used_event (it has no previous decision to compare with). */
	CHECK_EQ(f->sim.q[VIRTIO_NET_TXQ].interrupts, 1);
	CHECK_EQ(f->sim.q[VIRTIO_NET_TXQ].irq_decisions, 1);
	fx_down(f);
}

TEST(net_tx_ring_full_is_reported_and_counted)
{
	struct fixture *f = fx_alloc(SIM_NET_FEATURES, 256);
	uint8_t frame[60];
	int cookies[5];
	struct vnet_stats s;

	f->params.tx_ring_max = 8;
	f->params.no_indirect = true;
	CHECK_EQ(fx_probe(f), 0);
	make_frame(frame, sizeof(frame), 5);
	/* Direct chains: each frame takes two descriptors, header and data. */
	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ(send_one(f, frame, 60, &cookies[i]), 0);
	CHECK_EQ(send_one(f, frame, 60, &cookies[4]), -ENOSPC);
	vnet_tx_drop(f->n); /* the caller gives this frame up */
	vnet_tx_flush(f->n);
	s = stats_of(f);
	CHECK_EQ(s.tx_ring_full, 1);
	CHECK_EQ(s.drops.ring_full, 1);
	CHECK_EQ(s.tx_inflight, 4);

	CHECK_EQ(sim_net_process_tx(&f->sim), 4);
	CHECK_EQ(vnet_tx_reclaim(f->n, NULL, NULL), 4);
	CHECK_EQ(send_one(f, frame, 60, &cookies[4]), 0);
	fx_down(f);
	/* vnet_remove() handed back the frame that was never sent. */
}

TEST(net_tx_indirect_frame_takes_one_slot)
{
	struct fixture *f = fx_alloc(SIM_NET_FEATURES, 256);
	uint8_t frame[64 * VNET_TX_MAX_FRAGS];
	struct vnet_frag frags[VNET_TX_MAX_FRAGS];
	int cookies[9];
	struct vnet_stats s;

	f->params.tx_ring_max = 8;
	CHECK_EQ(fx_probe(f), 0);
	make_frame(frame, sizeof(frame), 6);
	for (unsigned i = 0; i < VNET_TX_MAX_FRAGS; i++)
		frags[i] = (struct vnet_frag){frame + 64 * i, 64};
	/* Header plus sixteen fragments: 17 descriptors, one ring slot. */
	for (unsigned i = 0; i < 8; i++)
		CHECK_EQ(vnet_tx_chain(f->n, frags, VNET_TX_MAX_FRAGS, NULL,
				       &cookies[i]),
			 0);
	CHECK_EQ(send_one(f, frame, 60, &cookies[8]), -ENOSPC);
	vnet_tx_flush(f->n);
	s = stats_of(f);
	CHECK_EQ(s.tx_indirect, 8);
	CHECK_EQ(s.tx_inflight, 8);
	CHECK_EQ(sim_net_process_tx(&f->sim), 8);
	CHECK_EQ(f->sim.q[VIRTIO_NET_TXQ].indirect_chains, 8);
	CHECK_EQ(f->sim.last_tx.n, VNET_TX_MAX_FRAGS + 1);
	CHECK_EQ(f->sim.last_tx_len, sizeof(frame));
	CHECK(memcmp(f->sim.last_tx_frame, frame, sizeof(frame)) == 0);
	CHECK_EQ(vnet_tx_reclaim(f->n, NULL, NULL), 8);
	CHECK_EQ(send_one(f, frame, 60, &cookies[8]), 0);
	fx_down(f);
}

TEST(net_tx_checksum_offload)
{
	struct fixture *f = fx_up();
	uint8_t frame[80];
	struct vnet_tx_offload csum = {.csum_start = 34, .csum_offset = 6};
	struct vnet_tx_offload bad = {.csum_start = 70, .csum_offset = 16};
	struct vnet_frag frag = {frame, sizeof(frame)};
	int cookie;

	make_frame(frame, sizeof(frame), 6);
	CHECK_EQ(vnet_tx_chain(f->n, &frag, 1, &bad, &cookie), -EINVAL);
	CHECK_EQ(vnet_tx_chain(f->n, &frag, 1, &csum, &cookie), 0);
	vnet_tx_flush(f->n);
	sim_net_process_tx(&f->sim);
	CHECK_EQ(f->sim.last_tx_hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK_EQ(f->sim.last_tx_hdr.csum_start, 34);
	CHECK_EQ(f->sim.last_tx_hdr.csum_offset, 6);
	fx_down(f);

	f = fx_alloc(SIM_NET_FEATURES, 256);
	f->params.no_csum_offload = true;
	CHECK_EQ(fx_probe(f), 0);
	CHECK(!vnet_tx_csum_offload(f->n));
	CHECK(!vnet_rx_csum_offload(f->n));
	CHECK(!(f->sim.driver_features & 1ULL << VIRTIO_NET_F_CSUM));
	CHECK_EQ(vnet_tx_chain(f->n, &frag, 1, &csum, &cookie), -ENOTSUP);
	fx_down(f);
}

TEST(net_tx_rejects_bad_frames)
{
	struct fixture *f = fx_up();
	static uint8_t big[VNET_MAX_FRAME + 1];
	uint8_t frame[64];
	struct vnet_frag many[VNET_TX_MAX_FRAGS + 1];
	struct vnet_frag gappy[4] = {
	    {frame, 14}, {frame, 0}, {frame + 14, 20}, {frame + 34, 30}};
	int cookie;

	for (unsigned i = 0; i < VNET_TX_MAX_FRAGS + 1; i++)
		many[i] = (struct vnet_frag){frame + i, 1};
	CHECK_EQ(vnet_tx_chain(f->n, gappy, 4, NULL, NULL), -EINVAL);
	CHECK_EQ(
	    vnet_tx_chain(f->n, many, VNET_TX_MAX_FRAGS + 1, NULL, &cookie),
	    -E2BIG);
	CHECK_EQ(vnet_tx_chain(f->n, many, 13, NULL, &cookie), -EINVAL);
	CHECK_EQ(send_one(f, big, sizeof(big), &cookie), -EINVAL);
	CHECK_EQ(send_one(f, big, VNET_MAX_FRAME, &cookie), 0);

	/* Empty fragments take no descriptor. */
	CHECK_EQ(vnet_tx_chain(f->n, gappy, 4, NULL, &cookie), 0);
	vnet_tx_flush(f->n);
	CHECK_EQ(sim_net_process_tx(&f->sim), 2);
	CHECK_EQ(f->sim.last_tx.n, 4);
	CHECK_EQ(f->sim.last_tx_len, 64);
	fx_down(f);
}

/* ---- receive ---- */

TEST(net_loopback_rx_poll_release_refill)
{
	struct fixture *f = fx_up();
	uint8_t frame[98];
	int cookie;
	int st;
	struct vnet_stats s;
	unsigned notes;

	f->sim.loopback = true;
	make_frame(frame, sizeof(frame), 7);
	CHECK_EQ(send_one(f, frame, sizeof(frame), &cookie), 0);
	vnet_tx_flush(f->n);
	CHECK_EQ(sim_net_process_tx(&f->sim), 1);

	st = vnet_rx_poll(f->n, 64, fx_on_rx, f);
	CHECK_EQ(VNET_RX_COUNT(st), 1);
	CHECK(!(st & VNET_RX_MORE));
	CHECK_EQ(f->nrx, 1);
	CHECK_EQ(f->rx[0].len, sizeof(frame));
	CHECK(memcmp(f->rx[0].frame, frame, sizeof(frame)) == 0);
	CHECK(f->rx[0].frame != frame);
	CHECK_EQ(f->rx[0].flags, 0);
	CHECK(f->rx[0].handle < vnet_rx_pool_size(f->n));

	s = stats_of(f);
	CHECK_EQ(s.rx_packets, 1);
	CHECK_EQ(s.rx_bytes, sizeof(frame));
	CHECK_EQ(s.rx_lent, 1);
	CHECK_EQ(s.rx_posted, 255);

	fx_release_all(f);
	notes = f->sim.q[VIRTIO_NET_RXQ].notifications;
	CHECK_EQ(vnet_rx_refill(f->n), 1);
	/* The device still had 255 buffers: EVENT_IDX spares the kick. */
	CHECK_EQ(f->sim.q[VIRTIO_NET_RXQ].notifications, notes);
	s = stats_of(f);
	CHECK_EQ(s.rx_kicks_suppressed, 1);
	CHECK_EQ(s.rx_posted, 256);
	CHECK_EQ(s.rx_lent, 0);
	CHECK_EQ(vnet_tx_reclaim(f->n, fx_on_tx_done, f), 1);
	fx_down(f);
}

TEST(net_rx_buffer_is_returned_exactly_once)
{
	struct fixture *f = fx_up();
	uint8_t frame[60];
	struct vnet_stats s;

	make_frame(frame, sizeof(frame), 8);
	for (unsigned i = 0; i < 3; i++)
		CHECK_EQ(sim_net_inject(&f->sim, frame, sizeof(frame)), 0);
	CHECK_EQ(VNET_RX_COUNT(vnet_rx_poll(f->n, 64, fx_on_rx, f)), 3);
	CHECK_EQ(f->nrx, 3);
	CHECK(f->rx[0].handle != f->rx[1].handle);

	host_log_quiet = true;
	CHECK_EQ(vnet_rx_buf_release(f->n, f->rx[1].handle), 0);
	CHECK_EQ(vnet_rx_buf_release(f->n, f->rx[1].handle), -EINVAL);
	CHECK_EQ(vnet_rx_buf_release(f->n, vnet_rx_pool_size(f->n)), -EINVAL);
	CHECK_EQ(vnet_rx_buf_release(f->n, 0xffffffffu), -EINVAL);
	/* Buffers the device owns (posted) or nobody holds (free) either. */
	CHECK_EQ(vnet_rx_buf_release(f->n, 200), -EINVAL);
	CHECK_EQ(vnet_rx_buf_release(f->n, 1000), -EINVAL);
	host_log_quiet = false;
	CHECK_EQ(vnet_rx_buf_release(f->n, f->rx[0].handle), 0);
	CHECK_EQ(vnet_rx_buf_release(f->n, f->rx[2].handle), 0);

	s = stats_of(f);
	CHECK_EQ(s.rx_lent, 0);
	CHECK_EQ(s.rx_posted + s.rx_pool_free, s.rx_pool_size);
	fx_down(f);
}

TEST(net_rx_bad_lengths_are_dropped_and_recycled)
{
	struct fixture *f = fx_up();
	struct vnet_stats s;
	int st;

	host_log_quiet = true;
	CHECK_EQ(sim_net_inject_len(&f->sim, VNET_RX_BUF_SIZE + 1), 0);
	CHECK_EQ(sim_net_inject_len(&f->sim, 0xffffffffu), 0);
	CHECK_EQ(sim_net_inject_len(&f->sim, VNET_HDR_LEN + 13), 0);
	CHECK_EQ(sim_net_inject_len(&f->sim, 3), 0);
	st = vnet_rx_poll(f->n, 64, fx_on_rx, f);
	host_log_quiet = false;

	CHECK_EQ(VNET_RX_COUNT(st), 4);
	CHECK_EQ(f->nrx, 0);
	s = stats_of(f);
	CHECK_EQ(s.drops.bad_len, 2);
	CHECK_EQ(s.drops.too_short, 2);
	CHECK_EQ(s.rx_packets, 0);
	CHECK_EQ(s.rx_posted, 252);
	CHECK_EQ(s.rx_pool_free, VNET_DEFAULT_POOL_BUFS - 252);
	CHECK(!s.broken);
	CHECK_EQ(vnet_rx_refill(f->n), 4);
	fx_down(f);
}

TEST(net_rx_bad_used_id_is_dropped)
{
	struct fixture *f = fx_up();
	uint8_t frame[60];
	struct vnet_stats s;
	int st;

	make_frame(frame, sizeof(frame), 9);
	host_log_quiet = true;
	sim_net_push_raw(&f->sim, VIRTIO_NET_RXQ, 5000, 72);
	CHECK_EQ(sim_net_inject(&f->sim, frame, sizeof(frame)), 0);
	st = vnet_rx_poll(f->n, 64, fx_on_rx, f);
	host_log_quiet = false;
	CHECK_EQ(VNET_RX_COUNT(st), 1); /* the good one */
	CHECK_EQ(f->nrx, 1);
	s = stats_of(f);
	CHECK_EQ(s.drops.bad_id, 1);
	CHECK_EQ(s.rx_packets, 1);
	fx_release_all(f);
	fx_down(f);
}

TEST(net_rx_device_gone_bad_stops_the_queue)
{
	struct fixture *f = fx_up();
	struct vnet_stats s;

	host_log_quiet = true;
	for (unsigned i = 0; i < 20; i++)
		sim_net_push_raw(&f->sim, VIRTIO_NET_RXQ, 9000 + i, 72);
	CHECK_EQ(vnet_rx_poll(f->n, 64, fx_on_rx, f), -EIO);
	host_log_quiet = false;
	s = stats_of(f);
	CHECK(s.broken);
	CHECK_EQ(s.drops.bad_id, VQ_BAD_RUN_LIMIT + 1);
	fx_down(f);
}

TEST(net_rx_budget_more_and_refill_bits)
{
	struct fixture *f = fx_up();
	uint8_t frame[60];
	unsigned notes;
	int st;

	make_frame(frame, sizeof(frame), 10);
	for (unsigned i = 0; i < 10; i++)
		CHECK_EQ(sim_net_inject(&f->sim, frame, sizeof(frame)), 0);
	st = vnet_rx_poll(f->n, 4, fx_on_rx, f);
	CHECK_EQ(VNET_RX_COUNT(st), 4);
	CHECK(st & VNET_RX_MORE);
	st = vnet_rx_poll(f->n, 4, fx_on_rx, f);
	CHECK_EQ(VNET_RX_COUNT(st), 4);
	CHECK(st & VNET_RX_MORE);
	st = vnet_rx_poll(f->n, 4, fx_on_rx, f);
	CHECK_EQ(VNET_RX_COUNT(st), 2);
	CHECK(!(st & VNET_RX_MORE));
	/* Ten empty slots of 256 are not worth a refill yet. */
	CHECK(!(st & VNET_RX_REFILL));
	st = vnet_rx_poll(f->n, 4, fx_on_rx, f);
	CHECK_EQ(st, 0);
	fx_release_all(f);

	for (unsigned i = 0; i < 70; i++)
		CHECK_EQ(sim_net_inject(&f->sim, frame, sizeof(frame)), 0);
	st = vnet_rx_poll(f->n, 70, fx_on_rx, f);
	CHECK_EQ(VNET_RX_COUNT(st), 70);
	CHECK(!(st & VNET_RX_MORE)); /* budget used up, ring empty */
	CHECK(st & VNET_RX_REFILL);
	fx_release_all(f);

	/* 80 buffers back in one batch: one kick decision (suppressed, the
	 * device still holds 176 buffers); an empty refill decides nothing. */
	notes = f->sim.q[VIRTIO_NET_RXQ].notifications;
	CHECK_EQ(vnet_rx_refill(f->n), 80);
	CHECK_EQ(vnet_rx_refill(f->n), 0);
	CHECK_EQ(f->sim.q[VIRTIO_NET_RXQ].notifications, notes);
	{
		struct vnet_stats s = stats_of(f);

		CHECK_EQ(s.rx_notifications + s.rx_kicks_suppressed, 2);
		CHECK_EQ(s.polls, 5);
		CHECK_EQ(s.empty_polls, 1);
		CHECK_EQ(s.rx_batch[2], 2); /* 4, 4 */
		CHECK_EQ(s.rx_batch[1], 1); /* 2 */
		CHECK_EQ(s.rx_batch[6], 1); /* 70: bucket 64-127 */
	}
	fx_down(f);
}

/* A device that used up every buffer asked (avail_event) to hear of the
 * next one: the refill batch notifies it, once. */
TEST(net_rx_refill_notifies_starved_device_once)
{
	struct fixture *f = fx_alloc(SIM_NET_FEATURES, 256);
	uint8_t frame[60];
	unsigned notes;

	f->params.rx_ring_max = 8;
	f->params.pool_bufs = 64;
	CHECK_EQ(fx_probe(f), 0);
	make_frame(frame, sizeof(frame), 16);
	for (unsigned i = 0; i < 8; i++)
		CHECK_EQ(sim_net_inject(&f->sim, frame, sizeof(frame)), 0);
	CHECK_EQ(sim_net_inject(&f->sim, frame, sizeof(frame)), -1);
	CHECK_EQ(VNET_RX_COUNT(vnet_rx_poll(f->n, 64, fx_on_rx, f)), 8);
	notes = f->sim.q[VIRTIO_NET_RXQ].notifications;
	CHECK_EQ(vnet_rx_refill(f->n), 8);
	CHECK_EQ(f->sim.q[VIRTIO_NET_RXQ].notifications, notes + 1);
	CHECK_EQ(sim_net_inject(&f->sim, frame, sizeof(frame)), 0);
	fx_release_all(f);
	fx_down(f);
}

TEST(net_rx_checksum_flags)
{
	struct fixture *f = fx_up();
	/* Ethernet + IPv4 (10.0.0.1 -> 10.0.0.2) + UDP 1234 -> 7, 6 bytes. */
	uint8_t frame[48] = {
	    0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x02, 0,   0,	0,   0,	   1,
	    0x08, 0x00, 0x45, 0,    0,	  34,	0,    0,   0,	0,   64,   17,
	    0,	  0,	10,   0,    0,	  1,	10,   0,   0,	2,   0x04, 0xd2,
	    0x00, 0x07, 0x00, 14,   0,	  0,	'h',  'e', 'l', 'l', 'o',  '!'};
	struct virtio_net_hdr hdr = {0};
	uint32_t sum = 0;
	struct vnet_stats s;

	/* The pseudo-header sum goes into the UDP checksum field, as a
	 * sender with checksum offload leaves it. */
	sum = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + 14;
	frame[40] = (uint8_t)(sum >> 8);
	frame[41] = (uint8_t)sum;
	hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	hdr.csum_start = 34;
	hdr.csum_offset = 6;
	CHECK_EQ(sim_net_inject_hdr(&f->sim, &hdr, frame, sizeof(frame)), 0);

	hdr.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	CHECK_EQ(sim_net_inject_hdr(&f->sim, &hdr, frame, sizeof(frame)), 0);
	hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	hdr.csum_start = 47; /* field would end past the frame */
	CHECK_EQ(sim_net_inject_hdr(&f->sim, &hdr, frame, sizeof(frame)), 0);
	hdr = (struct virtio_net_hdr){.gso_type = VIRTIO_NET_HDR_GSO_TCPV4};
	CHECK_EQ(sim_net_inject_hdr(&f->sim, &hdr, frame, sizeof(frame)), 0);

	CHECK_EQ(VNET_RX_COUNT(vnet_rx_poll(f->n, 64, fx_on_rx, f)), 4);
	CHECK_EQ(f->nrx, 2);
	CHECK_EQ(f->rx[0].flags, VIRTIO_NET_HDR_F_DATA_VALID);
	CHECK_EQ(f->rx[1].flags, VIRTIO_NET_HDR_F_DATA_VALID);

	/* The completed UDP checksum verifies: pseudo-header plus segment
	 * sums to 0xffff. */
	{
		const uint8_t *udp = f->rx[0].frame + 34;
		uint32_t v = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + 14;

		for (unsigned i = 0; i < 14; i += 2)
			v += (uint32_t)udp[i] << 8 | udp[i + 1];
		while (v >> 16)
			v = (v & 0xffff) + (v >> 16);
		CHECK_EQ(v, 0xffff);
		CHECK(udp[6] != frame[40] || udp[7] != frame[41]);
	}
	s = stats_of(f);
	CHECK_EQ(s.drops.bad_hdr, 2);
	fx_release_all(f);

	/* A sum that completes to 0 goes out as 0xffff: for UDP, 0 would
	 * mean "no checksum". Pick the last payload word to get there. */
	{
		uint32_t v = 0;

		hdr = (struct virtio_net_hdr){.flags =
						  VIRTIO_NET_HDR_F_NEEDS_CSUM,
					      .csum_start = 34,
					      .csum_offset = 6};
		frame[46] = frame[47] = 0;
		for (unsigned i = 34; i < 48; i += 2)
			v += (uint32_t)frame[i] << 8 | frame[i + 1];
		while (v >> 16)
			v = (v & 0xffff) + (v >> 16);
		frame[46] = (uint8_t)((0xffff - v) >> 8);
		frame[47] = (uint8_t)(0xffff - v);
		CHECK_EQ(
		    sim_net_inject_hdr(&f->sim, &hdr, frame, sizeof(frame)), 0);
		f->nrx = 0;
		CHECK_EQ(VNET_RX_COUNT(vnet_rx_poll(f->n, 64, fx_on_rx, f)), 1);
		CHECK_EQ(f->rx[0].frame[40], 0xff);
		CHECK_EQ(f->rx[0].frame[41], 0xff);
		fx_release_all(f);
	}
	fx_down(f);

	/* Without GUEST_CSUM the header flags are not ours to believe. */
	f = fx_alloc(SIM_NET_FEATURES, 256);
	f->params.no_csum_offload = true;
	CHECK_EQ(fx_probe(f), 0);
	hdr = (struct virtio_net_hdr){.flags = VIRTIO_NET_HDR_F_DATA_VALID};
	CHECK_EQ(sim_net_inject_hdr(&f->sim, &hdr, frame, sizeof(frame)), 0);
	CHECK_EQ(VNET_RX_COUNT(vnet_rx_poll(f->n, 64, fx_on_rx, f)), 1);
	CHECK_EQ(f->rx[0].flags, 0);
	fx_release_all(f);
	fx_down(f);
}

TEST(net_rx_pool_exhaustion_counts_no_buffer)
{
	struct fixture *f = fx_alloc(SIM_NET_FEATURES, 256);
	uint8_t frame[60];
	struct vnet_stats s;

	f->params.rx_ring_max = 8;
	f->params.pool_bufs = 12;
	CHECK_EQ(fx_probe(f), 0);
	make_frame(frame, sizeof(frame), 11);
	for (unsigned i = 0; i < 8; i++)
		CHECK_EQ(sim_net_inject(&f->sim, frame, sizeof(frame)), 0);
	CHECK_EQ(sim_net_inject(&f->sim, frame, sizeof(frame)), -1);
	CHECK_EQ(f->sim.rx_no_buffer, 1);
	CHECK_EQ(VNET_RX_COUNT(vnet_rx_poll(f->n, 64, fx_on_rx, f)), 8);

	/* 4 left in the pool for 8 slots: dry, counted once. */
	CHECK_EQ(vnet_rx_refill(f->n), 4);
	CHECK_EQ(vnet_rx_refill(f->n), 0);
	s = stats_of(f);
	CHECK_EQ(s.drops.no_buffer, 1);
	CHECK_EQ(s.rx_lent, 8);
	CHECK_EQ(s.rx_pool_free, 0);

	/* The consumer gives buffers back: the ring fills, the episode ends;
	 * the next one counts again. */
	fx_release_all(f);
	CHECK_EQ(vnet_rx_refill(f->n), 4);
	for (unsigned i = 0; i < 8; i++)
		CHECK_EQ(sim_net_inject(&f->sim, frame, sizeof(frame)), 0);
	CHECK_EQ(VNET_RX_COUNT(vnet_rx_poll(f->n, 64, fx_on_rx, f)), 8);
	CHECK_EQ(vnet_rx_refill(f->n), 4);
	s = stats_of(f);
	CHECK_EQ(s.drops.no_buffer, 2);
	fx_release_all(f);
	fx_down(f);
}

/* ---- RX ring occupancy, LIFO reuse, trace ---- */

/* Injects up to count frames; returns how many found a posted buffer. */
static unsigned inject_n(struct fixture *f, unsigned count)
{
	uint8_t frame[60];
	unsigned ok = 0;

	make_frame(frame, sizeof(frame), 17);
	for (unsigned i = 0; i < count; i++)
		ok += sim_net_inject(&f->sim, frame, sizeof(frame)) == 0;
	return ok;
}

/* Takes everything waiting (budget 256), gives it back, refills. Returns
 * the number of frames. */
static unsigned drain(struct fixture *f)
{
	unsigned got = VNET_RX_COUNT(vnet_rx_poll(f->n, 256, fx_on_rx, f));

	fx_release_all(f);
	vnet_rx_refill(f->n);
	return got;
}

TEST(net_rx_fixed_posted_is_honoured)
{
	struct fixture *f = fx_alloc(SIM_NET_FEATURES, 256);
	struct vnet_stats s;
	int st;

	f->params.rx_posted = 10;
	CHECK_EQ(fx_probe(f), 0);
	s = stats_of(f);
	CHECK_EQ(f->sim.q[VIRTIO_NET_RXQ].avail->idx, 10);
	CHECK_EQ(s.rx_posted, 10);
	CHECK_EQ(s.rx_target, 10);
	CHECK(!s.rx_adaptive);
	CHECK_EQ(s.rx_pool_free, VNET_DEFAULT_POOL_BUFS - 10);

	/* The device has exactly 10 buffers: the 11th frame is lost. */
	CHECK_EQ(inject_n(f, 11), 10);
	CHECK_EQ(f->sim.rx_no_buffer, 1);
	st = vnet_rx_poll(f->n, 64, fx_on_rx, f);
	CHECK_EQ(VNET_RX_COUNT(st), 10);
	CHECK(st & VNET_RX_REFILL);
	fx_release_all(f);
	CHECK_EQ(vnet_rx_refill(f->n), 10);
	CHECK_EQ(vnet_rx_refill(f->n), 0);

	/* One missing is not worth a refill yet; a quarter (2) is. */
	CHECK_EQ(inject_n(f, 1), 1);
	st = vnet_rx_poll(f->n, 64, fx_on_rx, f);
	CHECK(!(st & VNET_RX_REFILL));
	CHECK_EQ(inject_n(f, 1), 1);
	st = vnet_rx_poll(f->n, 64, fx_on_rx, f);
	CHECK(st & VNET_RX_REFILL);
	fx_release_all(f);
	CHECK_EQ(vnet_rx_refill(f->n), 2);
	s = stats_of(f);
	CHECK_EQ(s.rx_posted, 10);
	CHECK_EQ(s.drops.no_buffer, 0); /* the pool never ran dry */
	CHECK_EQ(s.rx_target_grows + s.rx_target_shrinks, 0);
	fx_down(f);

	/* More than the ring holds means the ring. */
	f = fx_alloc(SIM_NET_FEATURES, 256);
	f->params.rx_posted = 1000;
	CHECK_EQ(fx_probe(f), 0);
	s = stats_of(f);
	CHECK_EQ(s.rx_posted, 256);
	CHECK_EQ(s.rx_target, 256);
	fx_down(f);
}

TEST(net_rx_adaptive_grows_on_burst_and_shrinks_when_calm)
{
	struct fixture *f = fx_alloc(SIM_NET_FEATURES, 256);
	struct vnet_stats s;
	unsigned polls;

	f->params.rx_posted_adaptive = true;
	f->params.rx_posted = 5; /* ignored when adaptive */
	CHECK_EQ(fx_probe(f), 0);
	s = stats_of(f);
	CHECK(s.rx_adaptive);
	CHECK_EQ(s.rx_target, VNET_RX_ADAPT_START);
	CHECK_EQ(s.rx_posted, VNET_RX_ADAPT_START);

	/* A trickle (one frame a poll) leaves the target alone. */
	for (unsigned i = 0; i < 10; i++) {
		CHECK_EQ(inject_n(f, 1), 1);
		CHECK_EQ(drain(f), 1);
	}
	s = stats_of(f);
	CHECK_EQ(s.rx_target, 32);
	CHECK_EQ(s.rx_target_grows, 0);

	/* A burst drains the ring: double, and again, up to the ring. */
	CHECK_EQ(inject_n(f, 40), 32);
	CHECK_EQ(drain(f), 32);
	s = stats_of(f);
	CHECK_EQ(s.rx_target, 64);
	CHECK_EQ(s.rx_posted, 64);
	CHECK_EQ(inject_n(f, 50), 50); /* 50 of 64: >= 3/4 */
	CHECK_EQ(drain(f), 50);
	CHECK_EQ(stats_of(f).rx_target, 128);
	CHECK_EQ(inject_n(f, 128), 128);
	CHECK_EQ(drain(f), 128);
	CHECK_EQ(inject_n(f, 256), 256);
	CHECK_EQ(drain(f), 256);
	s = stats_of(f);
	CHECK_EQ(s.rx_target, 256);
	CHECK_EQ(s.rx_target_grows, 3); /* the last drain had no room left */
	CHECK_EQ(s.rx_posted, 256);

	/* Calm: 63 empty polls change nothing, the 64th takes an eighth. */
	for (unsigned i = 0; i < VNET_RX_ADAPT_CALM_POLLS - 1; i++)
		CHECK_EQ(vnet_rx_poll(f->n, 64, fx_on_rx, f), 0);
	CHECK_EQ(stats_of(f).rx_target, 256);
	CHECK_EQ(vnet_rx_poll(f->n, 64, fx_on_rx, f), 0);
	s = stats_of(f);
	CHECK_EQ(s.rx_target, 224);
	CHECK_EQ(s.rx_target_shrinks, 1);
	/* Nothing is taken back from the device; the next refills post
	 * nothing until fewer than the target are out there. */
	CHECK_EQ(s.rx_posted, 256);
	CHECK_EQ(inject_n(f, 20), 20);
	CHECK_EQ(drain(f), 20); /* at most 224 / 8: a calm poll */
	s = stats_of(f);
	CHECK_EQ(s.rx_posted, 236); /* still above the target */
	CHECK_EQ(inject_n(f, 40), 40);
	CHECK_EQ(drain(f), 40); /* moderate: no change */
	s = stats_of(f);
	CHECK_EQ(s.rx_posted, 224);
	CHECK_EQ(s.rx_target, 224);

	/* Long calm: down to the floor, and no further. */
	for (polls = 0;
	     polls < 100000 && stats_of(f).rx_target > VNET_RX_ADAPT_MIN;
	     polls++)
		vnet_rx_poll(f->n, 64, fx_on_rx, f);
	s = stats_of(f);
	CHECK_EQ(s.rx_target, VNET_RX_ADAPT_MIN);
	CHECK(polls < 100000);
	for (unsigned i = 0; i < 4 * VNET_RX_ADAPT_CALM_POLLS; i++)
		vnet_rx_poll(f->n, 64, fx_on_rx, f);
	CHECK_EQ(stats_of(f).rx_target, VNET_RX_ADAPT_MIN);

	/* The posted count follows the target down as frames come in. */
	CHECK_EQ(inject_n(f, 224), 224);
	CHECK_EQ(drain(f), 224); /* all of it: grows again, to 32 */
	s = stats_of(f);
	CHECK_EQ(s.rx_target, 2 * VNET_RX_ADAPT_MIN);
	CHECK_EQ(s.rx_posted, 2 * VNET_RX_ADAPT_MIN);

	/* A backlog beyond the budget grows it too, though the poll took
	 * only 8 of 32: the budget, not the ring, limited it. */
	CHECK_EQ(inject_n(f, 20), 20);
	CHECK(vnet_rx_poll(f->n, 8, fx_on_rx, f) & VNET_RX_MORE);
	CHECK_EQ(stats_of(f).rx_target, 4 * VNET_RX_ADAPT_MIN);
	CHECK_EQ(drain(f), 12);
	s = stats_of(f);
	CHECK_EQ(s.rx_lent, 0);
	CHECK_EQ(s.rx_posted + s.rx_pool_free, s.rx_pool_size);
	fx_down(f);
}

/* The free list is a stack: the buffers given back last are posted (and so
 * written by the device) first. */
TEST(net_rx_free_buffers_are_reused_lifo)
{
	struct fixture *f = fx_alloc(SIM_NET_FEATURES, 256);
	uint32_t order[3];

	f->params.rx_ring_max = 8;
	f->params.pool_bufs = 64;
	CHECK_EQ(fx_probe(f), 0);
	CHECK_EQ(inject_n(f, 8), 8);
	CHECK_EQ(VNET_RX_COUNT(vnet_rx_poll(f->n, 64, fx_on_rx, f)), 8);
	for (unsigned i = 0; i < 8; i++)
		CHECK_EQ(f->rx[i].handle, i); /* buffer 0 was on top */

	/* Give back 3, 1, 6 (in that order), keep the rest lent. */
	CHECK_EQ(vnet_rx_buf_release(f->n, 3), 0);
	CHECK_EQ(vnet_rx_buf_release(f->n, 1), 0);
	CHECK_EQ(vnet_rx_buf_release(f->n, 6), 0);
	CHECK_EQ(vnet_rx_refill(f->n), 8);
	f->nrx = 0;
	CHECK_EQ(inject_n(f, 8), 8);
	CHECK_EQ(VNET_RX_COUNT(vnet_rx_poll(f->n, 64, fx_on_rx, f)), 8);
	for (unsigned i = 0; i < 3; i++)
		order[i] = f->rx[i].handle;
	CHECK_EQ(order[0], 6);
	CHECK_EQ(order[1], 1);
	CHECK_EQ(order[2], 3);
	/* Then the untouched part of the pool, lowest first. */
	CHECK_EQ(f->rx[3].handle, 8);
	CHECK_EQ(f->rx[7].handle, 12);
	fx_release_all(f);
	for (unsigned h = 0; h < 8; h++)
		if (h != 1 && h != 3 && h != 6)
			CHECK_EQ(vnet_rx_buf_release(f->n, h), 0);
	fx_down(f);
}

static uint64_t fx_clock_now;

static uint64_t fx_clock(void)
{
	return fx_clock_now += 10;
}

TEST(net_rx_trace_records_in_order)
{
	struct fixture *f = fx_alloc(SIM_NET_FEATURES, 256);
	struct vnet_trace_rec tr[24], tr2[4];
	uint64_t dropped = 1;
	char line[64];
	unsigned k = 0;

	fx_clock_now = 0;
	f->params.rx_ring_max = 4;
	f->params.pool_bufs = 8;
	f->params.clock = fx_clock;
	f->params.trace = tr;
	f->params.trace_cap = 24;
	CHECK_EQ(fx_probe(f), 0);
	CHECK_EQ(vnet_trace_count(f->n, &dropped), 4);
	CHECK_EQ(dropped, 0);
	/* The first fill: buffers 0..3 posted, in order. */
	for (; k < 4; k++) {
		CHECK_EQ(tr[k].event, VNET_TRACE_POSTED);
		CHECK_EQ(tr[k].handle, k);
		CHECK_EQ(tr[k].ns, 10 * (k + 1));
	}

	/* A good frame and a short one (dropped as bad). */
	CHECK_EQ(inject_n(f, 1), 1);
	CHECK_EQ(sim_net_inject_len(&f->sim, VNET_HDR_LEN + 5), 0);
	host_log_quiet = true;
	CHECK_EQ(VNET_RX_COUNT(vnet_rx_poll(f->n, 64, fx_on_rx, f)), 2);
	host_log_quiet = false;
	CHECK_EQ(vnet_rx_buf_release(f->n, 0), 0);
	f->nrx = 0;
	CHECK_EQ(vnet_rx_refill(f->n), 2);
	CHECK_EQ(vnet_trace_count(f->n, NULL), 4 + 2 + 2 + 1 + 2);
	{
		static const struct {
			uint32_t handle, event, len;
		} want[] = {
		    {0, VNET_TRACE_WRITTEN, 60}, {0, VNET_TRACE_READ, 60},
		    {1, VNET_TRACE_WRITTEN, 5},	 {1, VNET_TRACE_RELEASED, 0},
		    {0, VNET_TRACE_RELEASED, 0}, {0, VNET_TRACE_POSTED, 0},
		    {1, VNET_TRACE_POSTED, 0},
		};

		for (unsigned i = 0; i < 7; i++, k++) {
			CHECK_EQ(tr[k].handle, want[i].handle);
			CHECK_EQ(tr[k].event, want[i].event);
			CHECK_EQ(tr[k].len, want[i].len);
			CHECK(tr[k].ns > tr[k - 1].ns);
		}
	}
	/* Buffer 0 was released after 1 went back: it is posted first. */
	CHECK_EQ(vnet_trace_format_line(&tr[9], line, sizeof(line)),
		 (int)strlen("100 0 0 0\n"));
	CHECK(strcmp(line, "100 0 0 0\n") == 0);

	/* Full: nothing is overwritten, the rest is counted. */
	CHECK_EQ(inject_n(f, 4), 4);
	CHECK_EQ(VNET_RX_COUNT(vnet_rx_poll(f->n, 64, fx_on_rx, f)), 4);
	fx_release_all(f);
	CHECK_EQ(vnet_rx_refill(f->n), 4);
	/* 11 + 8 (written, read) + 4 (released) + 4 (posted) = 27. */
	CHECK_EQ(vnet_trace_count(f->n, &dropped), 24);
	CHECK_EQ(dropped, 3);
	CHECK_EQ(tr[4].event, VNET_TRACE_WRITTEN);
	CHECK_EQ(tr[23].event, VNET_TRACE_POSTED);

	/* Re-enabling starts over in the new array; NULL stops. */
	vnet_trace_enable(f->n, tr2, 4);
	CHECK_EQ(vnet_trace_count(f->n, &dropped), 0);
	CHECK_EQ(dropped, 0);
	CHECK_EQ(inject_n(f, 1), 1);
	CHECK_EQ(drain(f), 1);
	CHECK_EQ(vnet_trace_count(f->n, NULL), 4);
	CHECK_EQ(tr2[0].event, VNET_TRACE_WRITTEN);
	CHECK_EQ(tr2[3].event, VNET_TRACE_POSTED);
	CHECK(tr2[0].ns > tr[23].ns);
	vnet_trace_enable(f->n, NULL, 0);
	CHECK_EQ(inject_n(f, 1), 1);
	CHECK_EQ(VNET_RX_COUNT(vnet_rx_poll(f->n, 64, fx_on_rx, f)), 1);
	CHECK_EQ(vnet_trace_count(f->n, &dropped), 0);
	CHECK_EQ(dropped, 0);
	fx_release_all(f);
	fx_down(f);

	/* Without a clock: a sequence number. */
	f = fx_alloc(SIM_NET_FEATURES, 256);
	f->params.rx_ring_max = 4;
	f->params.pool_bufs = 8;
	f->params.trace = tr;
	f->params.trace_cap = 24;
	CHECK_EQ(fx_probe(f), 0);
	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ(tr[i].ns, i);
	fx_down(f);
}

/* ---- interrupts ---- */

TEST(net_irq_top_half_and_lost_wakeup)
{
	struct fixture *f = fx_up();
	struct sim_queue *rq = &f->sim.q[VIRTIO_NET_RXQ];
	uint8_t frame[60];
	struct vnet_stats s;

	make_frame(frame, sizeof(frame), 12);
	CHECK_EQ(vnet_take_work(f->n), 0);

	/* A frame arrives with interrupts on: the device raises one and the
	 * handler runs the top half. */
	CHECK_EQ(sim_net_inject(&f->sim, frame, sizeof(frame)), 0);
	CHECK_EQ(rq->interrupts, 1);
	vnet_irq(f->n, VNET_IRQ_RX);
	CHECK_EQ(vnet_take_work(f->n), VNET_WORK_RX);
	CHECK_EQ(vnet_take_work(f->n), 0);

	/* Suppressed while the bottom half runs. */
	for (unsigned i = 0; i < 3; i++)
		CHECK_EQ(sim_net_inject(&f->sim, frame, sizeof(frame)), 0);
	CHECK_EQ(rq->interrupts, 1);
	CHECK_EQ(VNET_RX_COUNT(vnet_rx_poll(f->n, 64, fx_on_rx, f)), 4);

	/* Nothing arrived: re-enable says idle, and the next frame
	 * interrupts. */
	CHECK(!vnet_rx_irq_enable(f->n));
	CHECK_EQ(sim_net_inject(&f->sim, frame, sizeof(frame)), 0);
	CHECK_EQ(rq->interrupts, 2);
	vnet_irq(f->n, VNET_IRQ_RX);
	CHECK_EQ(vnet_take_work(f->n), VNET_WORK_RX);
	CHECK_EQ(VNET_RX_COUNT(vnet_rx_poll(f->n, 64, fx_on_rx, f)), 1);

	/* The race: a frame lands after the last poll, before re-enable;
	 * the device raises nothing, so re-enable must report it. */
	CHECK_EQ(sim_net_inject(&f->sim, frame, sizeof(frame)), 0);
	CHECK_EQ(rq->interrupts, 2);
	CHECK(vnet_rx_irq_enable(f->n));
	vnet_rx_irq_disable(f->n);
	CHECK_EQ(VNET_RX_COUNT(vnet_rx_poll(f->n, 64, fx_on_rx, f)), 1);
	CHECK(!vnet_rx_irq_enable(f->n));

	s = stats_of(f);
	CHECK_EQ(s.irqs[VNET_IRQ_RX], 2);
	CHECK_EQ(s.irqs[VNET_IRQ_TX], 0);
	CHECK_EQ(s.rx_packets, 6);
	fx_release_all(f);
	fx_down(f);
}

TEST(net_link_change_through_config_interrupt)
{
	struct fixture *f = fx_up();
	struct vnet_stats s;

	CHECK(vnet_link_up(f->n));
	sim_virtio_set_link(&f->sim, false);
	CHECK_EQ(f->sim.config_interrupts, 1);
	vnet_irq(f->n, VNET_IRQ_CONFIG);
	CHECK_EQ(vnet_take_work(f->n), VNET_WORK_CONFIG);
	CHECK(!vnet_config_changed(f->n));
	s = stats_of(f);
	CHECK(!s.link_up);
	CHECK_EQ(s.irqs[VNET_IRQ_CONFIG], 1);
	sim_virtio_set_link(&f->sim, true);
	CHECK(vnet_config_changed(f->n));
	fx_down(f);
}

/* ---- whole-path runs and counters ---- */

/* Far more frames than 65536 both ways through 16-entry queues: every ring
 * index wraps several times. */
TEST(net_loopback_wraps_indexes)
{
	struct fixture *f = fx_alloc(SIM_NET_FEATURES, 256);
	uint8_t frame[64];
	unsigned sent = 0;
	struct vnet_stats s;
	int cookie;

	f->params.rx_ring_max = 16;
	f->params.tx_ring_max = 16;
	f->params.pool_bufs = 32;
	CHECK_EQ(fx_probe(f), 0);
	f->sim.loopback = true;
	make_frame(frame, sizeof(frame), 13);
	while (sent < 70000) {
		unsigned batch = 1 + sent % 8;

		for (unsigned i = 0; i < batch; i++)
			CHECK_EQ(send_one(f, frame, sizeof(frame), &cookie), 0);
		vnet_tx_flush(f->n);
		CHECK_EQ(sim_net_process_tx(&f->sim), (int)batch);
		CHECK_EQ(vnet_tx_reclaim(f->n, NULL, NULL), batch);
		CHECK_EQ(VNET_RX_COUNT(vnet_rx_poll(f->n, 64, fx_on_rx, f)),
			 batch);
		CHECK_EQ(f->rx[f->nrx - 1].len, sizeof(frame));
		fx_release_all(f);
		CHECK_EQ(vnet_rx_refill(f->n), batch);
		sent += batch;
	}
	s = stats_of(f);
	CHECK_EQ(s.tx_packets, sent);
	CHECK_EQ(s.rx_packets, sent);
	CHECK_EQ(s.rx_bytes, (uint64_t)sent * sizeof(frame));
	CHECK_EQ(s.rx_posted, 16);
	CHECK_EQ(f->sim.rx_no_buffer, 0);
	CHECK((uint16_t)(f->sim.q[VIRTIO_NET_TXQ].last_avail) ==
	      (uint16_t)sent);
	fx_down(f);
}

TEST(net_stats_formatting)
{
	struct fixture *f = fx_up();
	uint8_t frame[100];
	char text[1024], json[2048], tiny[16];
	struct vnet_stats s;
	int len, depth = 0;

	make_frame(frame, sizeof(frame), 14);
	for (unsigned i = 0; i < 3; i++)
		CHECK_EQ(sim_net_inject(&f->sim, frame, sizeof(frame)), 0);
	vnet_rx_poll(f->n, 64, fx_on_rx, f);
	vnet_rx_poll(f->n, 64, fx_on_rx, f);
	s = stats_of(f);

	len = vnet_stats_format_text(&s, text, sizeof(text));
	CHECK(len > 0 && len < (int)sizeof(text));
	CHECK_EQ(strlen(text), len);
	CHECK(strstr(text, "rx 3 pkts 300 bytes, posted 253/256, lent 3"));
	CHECK(strstr(text, "drops ring_full 0 bad_len 0 bad_id 0"));
	CHECK(strstr(text, "polls 2 empty 1"));
	CHECK(strstr(text, "rx batch 1:0 2:1 4:0"));
	CHECK(strstr(text, "128+:0"));

	len = vnet_stats_format_json(&s, json, sizeof(json));
	CHECK(len > 0 && len < (int)sizeof(json));
	CHECK_EQ(json[0], '{');
	CHECK_EQ(json[len - 1], '}');
	for (int i = 0; i < len; i++) {
		depth += json[i] == '{' || json[i] == '[';
		depth -= json[i] == '}' || json[i] == ']';
		CHECK(depth >= 0);
	}
	CHECK_EQ(depth, 0);
	CHECK(strstr(json, "\"rx_packets\":3,\"rx_bytes\":300,"));
	CHECK(strstr(json, "\"link_up\":true"));
	CHECK(strstr(json, "\"rx_batch_log2\":[0,1,0,0,0,0,0,0]"));
	CHECK(strstr(json, "\"rx_ring\":{\"size\":256,\"posted\":253,"));
	CHECK(strstr(json, "\"target\":256,\"adaptive\":false,\"grows\":0,"));
	CHECK(strstr(text, "rx target 256, grows 0 shrinks 0\n"));

	/* Truncation: the full length comes back, the buffer stays a
	 * terminated prefix. */
	CHECK_EQ(vnet_stats_format_json(&s, tiny, sizeof(tiny)), len);
	CHECK_EQ(strlen(tiny), sizeof(tiny) - 1);
	CHECK(strncmp(tiny, json, sizeof(tiny) - 1) == 0);
	CHECK_EQ(vnet_stats_format_text(&s, NULL, 0), strlen(text));
	fx_release_all(f);
	fx_down(f);
}

TEST(net_remove_returns_unfinished_tx_cookies)
{
	struct fixture *f = fx_up();
	uint8_t frame[60];
	int cookies[3];
	struct vnet *n;

	make_frame(frame, sizeof(frame), 15);
	for (unsigned i = 0; i < 3; i++)
		CHECK_EQ(send_one(f, frame, sizeof(frame), &cookies[i]), 0);
	vnet_tx_flush(f->n);
	n = f->n;
	f->n = NULL;
	vnet_remove(n, fx_on_tx_done, f);
	CHECK_EQ(f->ndone, 3);
	for (unsigned i = 0; i < 3; i++) {
		unsigned hits = 0;

		for (unsigned j = 0; j < 3; j++)
			hits += f->done[j] == &cookies[i];
		CHECK_EQ(hits, 1);
	}
	CHECK_EQ(f->sim.status, 0); /* reset: no more DMA */
	fx_down(f);
}

/* Every member of the driver's JSON, by name and in order, with a distinct
 * value per field: pinned byte for byte (written from the descriptor
 * table, app/driver_stats.c). */
TEST(net_stats_json_pinned)
{
	struct vnet_stats s;
	char json[2048], text[1024];
	uint64_t v = 1;

	memset(&s, 0, sizeof(s));
	s.rx_packets = v++, s.rx_bytes = v++, s.tx_packets = v++;
	s.tx_bytes = v++;
	s.drops.ring_full = v++, s.drops.bad_len = v++, s.drops.bad_id = v++;
	s.drops.no_buffer = v++, s.drops.too_short = v++;
	s.drops.bad_hdr = v++;
	s.tx_ring_full = v++;
	for (unsigned i = 0; i < VNET_IRQ_SOURCES; i++)
		s.irqs[i] = v++;
	s.polls = v++, s.empty_polls = v++;
	s.rx_notifications = v++, s.rx_kicks_suppressed = v++;
	s.tx_notifications = v++, s.tx_kicks_suppressed = v++;
	s.rx_sibling_notifications = 1000; /* added later, out of order */
	for (unsigned i = 0; i < VNET_HIST_BUCKETS; i++)
		s.rx_batch[i] = v++;
	for (unsigned i = 0; i < VNET_HIST_BUCKETS; i++)
		s.tx_batch[i] = v++;
	s.rx_target_grows = v++, s.rx_target_shrinks = v++;
	s.rx_ring_size = (uint32_t)v++, s.rx_posted = (uint32_t)v++;
	s.rx_lent = (uint32_t)v++, s.rx_pool_free = (uint32_t)v++;
	s.rx_pool_size = (uint32_t)v++, s.rx_target = (uint32_t)v++;
	s.rx_adaptive = true;
	s.tx_ring_size = (uint32_t)v++, s.tx_inflight = (uint32_t)v++;
	s.tx_indirect = 0x100000000ull + v++;
	s.queue_pair = (uint32_t)v++, s.queue_pairs = (uint32_t)v++;
	s.rss = true;
	s.link_up = true;
	s.broken = false;

	CHECK_EQ(vnet_stats_format_json(&s, json, sizeof(json)), strlen(json));
	CHECK_EQ(
	    strcmp(
		json,
		"{\"link_up\":true,\"broken\":false,\"rx_packets\":1,"
		"\"rx_bytes\":2,\"tx_packets\":3,\"tx_bytes\":4,\"drops\":{"
		"\"ring_full\":5,\"bad_len\":6,\"bad_id\":7,\"no_buffer\":8,"
		"\"too_short\":9,\"bad_hdr\":10},\"tx_ring_full\":11,"
		"\"irqs\":{\"rx\":12,\"tx\":13,\"config\":14},\"polls\":15,"
		"\"empty_polls\":16,\"notify\":{\"rx\":17,\"rx_suppressed\":18,"
		"\"rx_siblings\":1000,\"tx\":19,\"tx_suppressed\":20},\"rx_"
		"batch_log2\":[21,22,23,"
		"24,25,26,27,28],\"tx_batch_log2\":[29,30,31,32,33,34,35,36],"
		"\"rx_ring\":{\"size\":39,\"posted\":40,\"lent\":41,"
		"\"pool_free\":42,\"pool_size\":43,\"target\":44,"
		"\"adaptive\":true,\"grows\":37,\"shrinks\":38},\"tx_ring\":{"
		"\"size\":45,\"inflight\":46,\"indirect\":4294967343},"
		"\"queue\":48,\"queue_pairs\":49,\"rss\":true}"),
	    0);
	/* The console lines, pinned the same way. */
	CHECK_EQ(vnet_stats_format_text(&s, text, sizeof(text)), strlen(text));
	CHECK_EQ(
	    strcmp(
		text,
		"link up\n"
		"rx 1 pkts 2 bytes, posted 40/39, lent 41, pool free 42/43\n"
		"rx target 44 (adaptive), grows 37 shrinks 38\n"
		"tx 3 pkts 4 bytes, in flight 46/45, ring full 11, indirect "
		"4294967343\n"
		"drops ring_full 5 bad_len 6 bad_id 7 no_buffer 8 too_short 9 "
		"bad_hdr 10\n"
		"irqs rx 12 tx 13 config 14, polls 15 empty 16\n"
		"notify rx 17 (suppressed 18, siblings 1000) tx 19 (suppressed "
		"20)\n"
		"rx batch 1:21 2:22 4:23 8:24 16:25 32:26 64:27 128+:28\n"
		"tx batch 1:29 2:30 4:31 8:32 16:33 32:34 64:35 128+:36\n"),
	    0);
}

/* The software TX queue (netdev/txq.c) in front of the real virtio-net
 * driver and rings, against the simulated device: bursts larger than the
 * ring arrive complete and in order, with indirect descriptors and
 * without, with a device that completes late; the queue-full drop path;
 * frames the device can never take are refused up front. */
#include <stdlib.h>

#include "kernel/kerrno.h"
#include "netdev/txq.h"
#include "tests/unit/check.h"
#include "tests/unit/host_kernel_stubs.h"
#include "tests/unit/sim_virtio.h"

#define FRAME_LEN 64

struct fixture {
	struct sim_virtio sim;
	struct vnet *n;
	struct txq q;
	/* Frame i is frames[i]: its first four bytes hold i. */
	uint8_t (*frames)[FRAME_LEN];
	unsigned nframes;
	unsigned next_expected; /* the wire's order check */
	unsigned out_of_order;
	unsigned done;	      /* cookies returned */
	unsigned *done_count; /* per frame: times returned */
};

static void fx_on_wire(void *ctx, const uint8_t *frame, uint32_t len)
{
	struct fixture *f = ctx;
	uint32_t id;

	CHECK_EQ(len, FRAME_LEN);
	memcpy(&id, frame, sizeof(id));
	/* Refused frames leave gaps; nothing may come back in time. */
	if (id < f->next_expected)
		f->out_of_order++;
	CHECK(memcmp(frame, f->frames[id % f->nframes], FRAME_LEN) == 0);
	f->next_expected = id + 1;
}

static void fx_done(void *ctx, void *cookie)
{
	struct fixture *f = ctx;
	unsigned i = (unsigned)((uint8_t(*)[FRAME_LEN])cookie - f->frames);

	CHECK(i < f->nframes);
	f->done_count[i]++;
	f->done++;
}

static struct fixture *fx_new(bool indirect, uint16_t ring, uint32_t cap,
			      unsigned nframes)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vnet_params p = {.tx_ring_max = ring, .no_indirect = !indirect};

	sim_virtio_init(&f->sim, SIM_NET_FEATURES, 256);
	f->sim.on_tx = fx_on_wire;
	f->sim.on_tx_ctx = f;
	CHECK_EQ(vnet_probe(&f->sim.dev, &p, &f->n), 0);
	CHECK_EQ(txq_init(&f->q, f->n, cap, fx_done, f), 0);
	f->nframes = nframes;
	f->frames = calloc(nframes, FRAME_LEN);
	f->done_count = calloc(nframes, sizeof(unsigned));
	for (unsigned i = 0; i < nframes; i++) {
		for (unsigned b = 0; b < FRAME_LEN; b++)
			f->frames[i][b] = (uint8_t)(i * 13 + b);
		memcpy(f->frames[i], &i, sizeof(i));
	}
	return f;
}

static void fx_free(struct fixture *f)
{
	txq_destroy(&f->q);
	vnet_remove(f->n, fx_done, f);
	CHECK_EQ(sim_virtio_errors(&f->sim), 0);
	/* Every frame offered and accepted came back exactly once. */
	for (unsigned i = 0; i < f->nframes; i++)
		CHECK(f->done_count[i] <= 1);
	free(f->done_count);
	free(f->frames);
	free(f);
}

/* Offers frame i as three fragments (two with indirect off, so a frame
 * takes three descriptors: header and two fragments). */
static int fx_offer(struct fixture *f, unsigned i)
{
	struct vnet_frag frags[2] = {{f->frames[i], 14},
				     {f->frames[i] + 14, FRAME_LEN - 14}};

	return txq_xmit(&f->q, frags, 2, NULL, f->frames[i]);
}

/* Offers every frame while a late device finishes `per_round` chains
 * between offers, then lets it finish; returns the frames refused. */
static unsigned fx_burst(struct fixture *f, unsigned per_round)
{
	unsigned refused = 0;

	for (unsigned i = 0; i < f->nframes; i++) {
		int err = fx_offer(f, i);

		if (err == -ENOBUFS)
			refused++;
		else
			CHECK_EQ(err, 0);
		if (per_round && i % 8 == 7) {
			vnet_tx_flush(f->n);
			sim_net_process_tx_max(&f->sim, per_round);
		}
	}
	/* Completions arrive; each pass reaps, drains and flushes. */
	for (unsigned round = 0;
	     round < 10000 && f->done < f->nframes - refused; round++) {
		txq_drain(&f->q);
		vnet_tx_flush(f->n);
		sim_net_process_tx_max(&f->sim, 37);
	}
	txq_drain(&f->q);
	return refused;
}

static void check_burst(bool indirect)
{
	struct fixture *f = fx_new(indirect, 256, TXQ_DEFAULT_LEN, 1000);

	CHECK_EQ(fx_burst(f, 0), 0);
	CHECK_EQ(f->sim.tx_frames, 1000);
	CHECK_EQ(f->out_of_order, 0);
	CHECK_EQ(f->next_expected, 1000);
	CHECK_EQ(f->done, 1000);
	CHECK_EQ(f->q.stats.drops, 0);
	CHECK(f->q.stats.queued > 0);
	CHECK(f->q.stats.hiwat > 0);
	CHECK_EQ(f->q.stats.len, 0);
	CHECK(!txq_waiting(&f->q));
	if (indirect) {
		/* One slot a frame: 256 fit, the other 744 waited. */
		CHECK_EQ(f->q.stats.queued, 744);
		CHECK_EQ(f->sim.q[VIRTIO_NET_TXQ].indirect_chains, 1000);
	} else {
		/* Three descriptors a frame: 85 fit. */
		CHECK_EQ(f->q.stats.queued, 915);
		CHECK_EQ(f->sim.q[VIRTIO_NET_TXQ].indirect_chains, 0);
	}
	fx_free(f);
}

TEST(txq_thousand_frames_256_ring_indirect_in_order)
{
	check_burst(true);
}

TEST(txq_thousand_frames_256_ring_direct_in_order)
{
	check_burst(false);
}

TEST(txq_late_device_keeps_order)
{
	struct fixture *f = fx_new(false, 64, 500, 3000);

	/* The device finishes 7 chains per 8 offered: the backlog grows to
	 * about 400 and frames offered while it is non-empty go behind. */
	CHECK_EQ(fx_burst(f, 7), 0);
	CHECK_EQ(f->out_of_order, 0);
	CHECK_EQ(f->next_expected, 3000);
	CHECK_EQ(f->sim.tx_frames, 3000);
	CHECK_EQ(f->done, 3000);
	CHECK(f->q.stats.hiwat > 300 && f->q.stats.hiwat <= 500);
	fx_free(f);
}

TEST(txq_overrun_drops_only_what_does_not_fit)
{
	struct fixture *f = fx_new(false, 64, 200, 3000);
	unsigned refused = fx_burst(f, 5);

	/* 5 of 8 completing: the queue overflows; what it accepted still
	 * goes out once, in order, and every refusal is counted. */
	CHECK(refused > 0);
	CHECK_EQ(f->q.stats.drops, refused);
	CHECK_EQ(f->out_of_order, 0);
	CHECK_EQ(f->sim.tx_frames, 3000 - refused);
	CHECK_EQ(f->done, 3000 - refused);
	CHECK_EQ(f->q.stats.hiwat, 200);
	fx_free(f);
}

TEST(txq_full_queue_drops_and_counts)
{
	struct fixture *f = fx_new(true, 16, 10, 40);
	unsigned refused = 0;

	/* 16 on the ring, 10 waiting, 14 refused; nothing completes. */
	for (unsigned i = 0; i < 40; i++) {
		int err = fx_offer(f, i);

		if (err == -ENOBUFS)
			refused++;
		else
			CHECK_EQ(err, 0);
	}
	CHECK_EQ(refused, 14);
	CHECK_EQ(f->q.stats.drops, 14);
	CHECK_EQ(f->q.stats.len, 10);
	CHECK_EQ(f->q.stats.hiwat, 10);
	CHECK_EQ(f->q.stats.stalls, 1);
	CHECK(txq_waiting(&f->q));
	/* The drain moves the waiting frames once the device has run. */
	vnet_tx_flush(f->n);
	CHECK_EQ(sim_net_process_tx(&f->sim), 16);
	CHECK_EQ(txq_drain(&f->q), 10);
	vnet_tx_flush(f->n);
	CHECK_EQ(sim_net_process_tx(&f->sim), 10);
	txq_drain(&f->q);
	CHECK_EQ(f->done, 26);
	/* The wire saw 0..25 in order: the refused ones never went out. */
	CHECK_EQ(f->next_expected, 26);
	CHECK_EQ(f->out_of_order, 0);
	fx_free(f);
}

TEST(txq_refuses_impossible_frames_up_front)
{
	struct fixture *f = fx_new(true, 16, 10, 40);
	uint8_t tiny[4] = {0};
	struct vnet_frag bad = {tiny, sizeof(tiny)};
	struct vnet_frag many[VNET_TX_MAX_FRAGS + 1];
	int cookie;

	for (unsigned i = 0; i < VNET_TX_MAX_FRAGS + 1; i++)
		many[i] = (struct vnet_frag){f->frames[0] + i, 1};
	/* Fill the ring so the next frames would have to wait. */
	for (unsigned i = 0; i < 16; i++)
		CHECK_EQ(fx_offer(f, i), 0);
	CHECK_EQ(txq_xmit(&f->q, &bad, 1, NULL, &cookie), -EINVAL);
	CHECK_EQ(txq_xmit(&f->q, many, VNET_TX_MAX_FRAGS + 1, NULL, &cookie),
		 -E2BIG);
	CHECK_EQ(f->q.stats.len, 0);
	/* Empty fragments take no slot in the queue's copy either. */
	{
		struct vnet_frag gappy[VNET_TX_MAX_FRAGS + 4];

		for (unsigned i = 0; i < VNET_TX_MAX_FRAGS + 4; i++)
			gappy[i] = (struct vnet_frag){f->frames[16] + i,
						      i % 5 == 0 ? 0u : 4u};
		CHECK_EQ(txq_xmit(&f->q, gappy, VNET_TX_MAX_FRAGS + 4, NULL,
				  f->frames[16]),
			 0);
		CHECK_EQ(f->q.slots[f->q.head].nfrags, VNET_TX_MAX_FRAGS);
	}
	fx_free(f);
}

TEST(txq_zero_length_queue_drops_at_full_ring)
{
	struct fixture *f = fx_new(true, 16, 0, 20);

	for (unsigned i = 0; i < 16; i++)
		CHECK_EQ(fx_offer(f, i), 0);
	CHECK_EQ(fx_offer(f, 16), -ENOBUFS);
	CHECK_EQ(f->q.stats.drops, 1);
	fx_free(f);
}

TEST(txq_destroy_returns_waiting_frames)
{
	struct fixture *f = fx_new(true, 16, 10, 26);

	for (unsigned i = 0; i < 26; i++)
		CHECK_EQ(fx_offer(f, i), 0);
	CHECK_EQ(f->q.stats.len, 10);
	txq_destroy(&f->q);
	CHECK_EQ(f->done, 10);
	vnet_remove(f->n, fx_done, f);
	f->n = NULL;
	CHECK_EQ(f->done, 26);
	for (unsigned i = 0; i < 26; i++)
		CHECK_EQ(f->done_count[i], 1);
	CHECK_EQ(sim_virtio_errors(&f->sim), 0);
	free(f->done_count);
	free(f->frames);
	free(f);
}

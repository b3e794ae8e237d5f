/* The split virtqueue (drivers/virtqueue.c) against the device end of a ring
 * from sim_virtio.c: chains, ring full, 16-bit wrap-around, untrusted used
 * entries, notification and interrupt suppression, the re-enable race. */
#include <stdlib.h>

#include "drivers/virtqueue.h"
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "tests/unit/check.h"
#include "tests/unit/host_kernel_stubs.h"
#include "tests/unit/sim_virtio.h"

struct fixture {
	struct virtqueue vq;
	struct sim_queue dev;
	void *ring;
	unsigned notifies;
	int cookies[1024]; /* cookie i is &cookies[i] */
};

static void fx_notify(void *ctx, uint16_t index)
{
	struct fixture *f = ctx;

	CHECK_EQ(index, 3);
	f->notifies++;
	f->dev.notifications++;
}

static struct fixture *fx_new(uint16_t num, bool event_idx)
{
	struct fixture *f = calloc(1, sizeof(*f));
	size_t bytes = (vq_ring_bytes(num) + 4095) & ~(size_t)4095;
	struct virtio_queue_addrs a;

	f->ring = aligned_alloc(4096, bytes);
	memset(f->ring, 0xa5, bytes); /* vq_init must not rely on zeroes */
	CHECK_EQ(vq_init(&f->vq, "test-vq", 3, num, f->ring, event_idx,
			 fx_notify, f),
		 0);
	vq_get_addrs(&f->vq, &a);
	sim_queue_attach(&f->dev, num, &a, event_idx);
	return f;
}

static void fx_free(struct fixture *f)
{
	CHECK_EQ(f->dev.errors, 0);
	vq_destroy(&f->vq);
	free(f->ring);
	free(f);
}

/* Adds one single-buffer writable chain under cookie i. */
static int fx_add_in(struct fixture *f, unsigned i, uint32_t len)
{
	struct vq_buf b = {.addr = 0x100000 + i * 0x1000ULL, .len = len};

	return vq_add_chain(&f->vq, &b, 0, 1, &f->cookies[i]);
}

static unsigned fx_cookie_index(struct fixture *f, void *cookie)
{
	return (unsigned)((int *)cookie - f->cookies);
}

/* Device: pops every available chain and completes it with len. */
static unsigned fx_device_complete_all(struct fixture *f, uint32_t len)
{
	struct sim_chain c;
	unsigned n = 0;

	while (sim_queue_pop(&f->dev, &c) == 1) {
		sim_queue_push(&f->dev, c.head, len);
		n++;
	}
	sim_queue_flush(&f->dev);
	return n;
}

TEST(vq_ring_bytes_and_layout)
{
	struct fixture *f;
	uintptr_t base, used;

	CHECK_EQ(vq_ring_bytes(0), 0);
	CHECK_EQ(vq_ring_bytes(3), 0);
	CHECK_EQ(vq_ring_bytes(65536), 0);
	CHECK(vq_ring_bytes(32768) > 0);
	/* 256 entries: 4096 descriptor bytes, 518 avail bytes, used at the
	 * next 64-byte boundary, 2054 used bytes. */
	CHECK_EQ(vq_ring_bytes(256), 4096 + 576 + 2054);

	f = fx_new(256, true);
	base = (uintptr_t)f->ring;
	used = (uintptr_t)f->vq.used;
	CHECK_EQ((uintptr_t)f->vq.desc, base);
	CHECK_EQ((uintptr_t)f->vq.avail, base + 4096);
	CHECK_EQ(used % 64, 0);
	CHECK(used >= (uintptr_t)f->vq.avail + virtq_avail_bytes(256));
	CHECK_EQ(used + virtq_used_bytes(256) - base, vq_ring_bytes(256));
	/* vq_init zeroed the ring even though the memory was dirty. */
	CHECK_EQ(f->vq.avail->idx, 0);
	CHECK_EQ(f->vq.used->idx, 0);
	CHECK_EQ(*virtq_avail_event(f->vq.used, 256), 0);
	fx_free(f);
}

TEST(vq_init_rejects_bad_arguments)
{
	struct virtqueue vq;
	void *ring = aligned_alloc(4096, 8192);

	CHECK_EQ(vq_init(&vq, "x", 0, 6, ring, false, fx_notify, NULL),
		 -EINVAL);
	CHECK_EQ(vq_init(&vq, "x", 0, 0, ring, false, fx_notify, NULL),
		 -EINVAL);
	CHECK_EQ(
	    vq_init(&vq, "x", 0, 8, (char *)ring + 8, false, fx_notify, NULL),
	    -EINVAL);
	CHECK_EQ(vq_init(&vq, "x", 0, 8, ring, false, NULL, NULL), -EINVAL);
	free(ring);
}

TEST(vq_chain_out_in_round_trip)
{
	struct fixture *f = fx_new(8, false);
	struct vq_buf bufs[3] = {
	    {.addr = 0x1000, .len = 12},
	    {.addr = 0x2000, .len = 100},
	    {.addr = 0x3000, .len = 1500},
	};
	struct sim_chain c;
	struct vq_used u;
	int head = vq_next_head(&f->vq);

	CHECK_EQ(vq_add_chain(&f->vq, bufs, 2, 1, &f->cookies[7]), 0);
	CHECK_EQ(vq_num_free(&f->vq), 5);
	/* Nothing is visible to the device before the kick. */
	CHECK_EQ(sim_queue_pop(&f->dev, &c), 0);
	CHECK(vq_kick(&f->vq));

	CHECK_EQ(sim_queue_pop(&f->dev, &c), 1);
	CHECK_EQ(c.head, head);
	CHECK_EQ(c.n, 3);
	CHECK_EQ(c.d[0].addr, 0x1000);
	CHECK(!c.d[0].write && !c.d[1].write && c.d[2].write);
	CHECK_EQ(c.out_len, 112);
	CHECK_EQ(c.in_len, 1500);

	CHECK(!vq_get_used(&f->vq, &u));
	sim_queue_push(&f->dev, c.head, 60);
	sim_queue_flush(&f->dev);
	CHECK(vq_has_used(&f->vq));
	CHECK(vq_get_used(&f->vq, &u));
	CHECK(u.cookie == &f->cookies[7]);
	CHECK_EQ(u.len, 60);
	CHECK(!u.bad_len);
	CHECK_EQ(vq_num_free(&f->vq), 8);
	CHECK(!vq_get_used(&f->vq, &u));
	CHECK_EQ(f->vq.stats.chains_added, 1);
	CHECK_EQ(f->vq.stats.chains_used, 1);
	fx_free(f);
}

TEST(vq_add_rejects_bad_chains)
{
	struct fixture *f = fx_new(8, false);
	struct vq_buf b[9] = {{.addr = 0x1000, .len = 0}};

	CHECK_EQ(vq_add_chain(&f->vq, b, 1, 0, &f->cookies[0]), -EINVAL);
	b[0].len = 10;
	CHECK_EQ(vq_add_chain(&f->vq, b, 1, 0, NULL), -EINVAL);
	CHECK_EQ(vq_add_chain(&f->vq, b, 0, 0, &f->cookies[0]), -EINVAL);
	CHECK_EQ(vq_add_chain(&f->vq, b, 9, 0, &f->cookies[0]), -EINVAL);
	CHECK_EQ(vq_num_free(&f->vq), 8);
	CHECK_EQ(f->vq.stats.chains_added, 0);
	fx_free(f);
}

TEST(vq_ring_full)
{
	struct fixture *f = fx_new(8, true);
	struct vq_buf three[3] = {{0x1000, 1}, {0x2000, 1}, {0x3000, 1}};
	struct vq_used u;

	for (unsigned i = 0; i < 8; i++)
		CHECK_EQ(fx_add_in(f, i, 2048), 0);
	CHECK_EQ(vq_num_free(&f->vq), 0);
	CHECK_EQ(vq_next_head(&f->vq), -ENOSPC);
	CHECK_EQ(fx_add_in(f, 8, 2048), -ENOSPC);
	CHECK_EQ(f->vq.stats.ring_full, 1);
	CHECK(vq_kick(&f->vq));

	/* Two descriptors back: a three-descriptor chain still does not fit. */
	sim_queue_set_busy(&f->dev, false);
	for (unsigned i = 0; i < 2; i++) {
		struct sim_chain c;

		CHECK_EQ(sim_queue_pop(&f->dev, &c), 1);
		sim_queue_push(&f->dev, c.head, 10);
	}
	sim_queue_flush(&f->dev);
	CHECK(vq_get_used(&f->vq, &u));
	CHECK(vq_get_used(&f->vq, &u));
	CHECK_EQ(vq_num_free(&f->vq), 2);
	CHECK_EQ(vq_add_chain(&f->vq, three, 3, 0, &f->cookies[9]), -ENOSPC);
	CHECK_EQ(f->vq.stats.ring_full, 2);
	CHECK_EQ(vq_add_chain(&f->vq, three, 2, 0, &f->cookies[9]), 0);
	CHECK_EQ(vq_num_free(&f->vq), 0);
	fx_free(f);
}

/* More than 65536 chains through a small ring, in batches of varying size
 * completed out of order, with interrupts off all along: every 16-bit
 * index wraps and nothing is lost, duplicated or interrupted. */
static void wrap_run(bool event_idx)
{
	struct fixture *f = fx_new(16, event_idx);
	unsigned total = 0, batches = 0, seen[16], first_irqs = 0;
	struct vq_used u;

	vq_disable_cb(&f->vq);
	while (total < 70000) {
		unsigned batch = 1 + batches % 16, got = 0, heads = 0;
		struct sim_chain c[16];

		for (unsigned i = 0; i < batch; i++)
			CHECK_EQ(fx_add_in(f, i, 64 + i), 0);
		CHECK(vq_kick(&f->vq));
		while (sim_queue_pop(&f->dev, &c[heads]) == 1)
			heads++;
		CHECK_EQ(heads, batch);
		/* Complete in reverse order; each writes its own length. */
		for (unsigned i = heads; i-- > 0;)
			sim_queue_push(&f->dev, c[i].head, c[i].in_len - 1);
		sim_queue_flush(&f->dev);

		memset(seen, 0, sizeof(seen));
		while (vq_get_used(&f->vq, &u)) {
			unsigned i = fx_cookie_index(f, u.cookie);

			CHECK(i < batch);
			CHECK_EQ(u.len, 64 + i - 1);
			seen[i]++;
			got++;
		}
		CHECK_EQ(got, batch);
		for (unsigned i = 0; i < batch; i++)
			CHECK_EQ(seen[i], 1);
		CHECK_EQ(vq_num_free(&f->vq), 16);
		total += batch;
		/* Like QEMU, the sim interrupts unconditionally on its first
		 * decision after setup; from then on suppression must hold. */
		if (batches++ == 0)
			first_irqs = f->dev.interrupts;
	}
	CHECK_EQ(f->vq.avail->idx, (uint16_t)total);
	CHECK_EQ(f->vq.used->idx, (uint16_t)total);
	CHECK_EQ(f->vq.last_used, (uint16_t)total);
	CHECK_EQ(f->vq.stats.chains_used, total);
	CHECK_EQ(f->vq.stats.notifications, batches);
	CHECK(first_irqs <= 1);
	CHECK_EQ(f->dev.interrupts, first_irqs);
	CHECK_EQ(f->vq.stats.bad_id + f->vq.stats.bad_len, 0);
	fx_free(f);
}

TEST(vq_index_wrap_past_65535_event_idx)
{
	wrap_run(true);
}

TEST(vq_index_wrap_past_65535_flags)
{
	wrap_run(false);
}

TEST(vq_used_id_out_of_range_is_dropped)
{
	struct fixture *f = fx_new(8, true);
	struct sim_chain c;
	struct vq_used u;

	CHECK_EQ(fx_add_in(f, 1, 100), 0);
	vq_kick(&f->vq);
	CHECK_EQ(sim_queue_pop(&f->dev, &c), 1);
	sim_queue_push(&f->dev, 8, 10);
	sim_queue_push(&f->dev, 0xffffffffu, 10);
	sim_queue_push(&f->dev, c.head, 10);
	sim_queue_flush(&f->dev);

	CHECK(vq_get_used(&f->vq, &u));
	CHECK(u.cookie == &f->cookies[1]);
	CHECK_EQ(u.len, 10);
	CHECK_EQ(f->vq.stats.bad_id, 2);
	CHECK(!vq_is_broken(&f->vq));
	CHECK_EQ(f->vq.bad_run, 0);
	CHECK(!vq_get_used(&f->vq, &u));
	CHECK_EQ(vq_num_free(&f->vq), 8);
	fx_free(f);
}

TEST(vq_used_id_not_in_flight_is_dropped)
{
	struct fixture *f = fx_new(8, false);
	struct vq_buf three[3] = {{0x1000, 10}, {0x2000, 10}, {0x3000, 10}};
	struct sim_chain c;
	struct vq_used u;

	CHECK_EQ(vq_add_chain(&f->vq, three, 1, 2, &f->cookies[0]), 0);
	vq_kick(&f->vq);
	CHECK_EQ(sim_queue_pop(&f->dev, &c), 1);
	/* A descriptor inside the chain, a free one, then the head twice. */
	sim_queue_push(&f->dev, (uint16_t)(c.head + 1), 5);
	sim_queue_push(&f->dev, 7, 5);
	sim_queue_push(&f->dev, c.head, 5);
	sim_queue_push(&f->dev, c.head, 5);
	sim_queue_flush(&f->dev);

	CHECK(vq_get_used(&f->vq, &u));
	CHECK(u.cookie == &f->cookies[0]);
	CHECK(!vq_get_used(&f->vq, &u));
	CHECK_EQ(f->vq.stats.bad_id, 3);
	CHECK_EQ(f->vq.stats.chains_used, 1);
	/* The duplicate did not free the chain a second time. */
	CHECK_EQ(vq_num_free(&f->vq), 8);
	fx_free(f);
}

TEST(vq_length_beyond_chain_is_flagged)
{
	struct fixture *f = fx_new(8, true);
	struct vq_buf two[2] = {{0x1000, 100}, {0x2000, 100}};
	struct vq_buf out = {0x3000, 60};
	struct sim_chain c[3];
	struct vq_used u;

	CHECK_EQ(vq_add_chain(&f->vq, two, 0, 2, &f->cookies[0]), 0);
	CHECK_EQ(vq_add_chain(&f->vq, two, 0, 2, &f->cookies[1]), 0);
	CHECK_EQ(vq_add_chain(&f->vq, &out, 1, 0, &f->cookies[2]), 0);
	vq_kick(&f->vq);
	for (unsigned i = 0; i < 3; i++)
		CHECK_EQ(sim_queue_pop(&f->dev, &c[i]), 1);
	sim_queue_push(&f->dev, c[0].head, 201); /* one past the end */
	sim_queue_push(&f->dev, c[1].head, 200); /* exactly full */
	sim_queue_push(&f->dev, c[2].head, 1);	 /* nothing was writable */
	sim_queue_flush(&f->dev);

	CHECK(vq_get_used(&f->vq, &u));
	CHECK(u.cookie == &f->cookies[0]);
	CHECK(u.bad_len);
	CHECK_EQ(u.len, 0);
	CHECK(vq_get_used(&f->vq, &u));
	CHECK(u.cookie == &f->cookies[1]);
	CHECK(!u.bad_len);
	CHECK_EQ(u.len, 200);
	CHECK(vq_get_used(&f->vq, &u));
	CHECK(u.cookie == &f->cookies[2]);
	CHECK(u.bad_len);
	CHECK_EQ(f->vq.stats.bad_len, 2);
	/* The flagged chains were freed: the caller just recycles them. */
	CHECK_EQ(vq_num_free(&f->vq), 8);
	fx_free(f);
}

TEST(vq_persistent_bad_entries_mark_broken)
{
	struct fixture *f = fx_new(16, true);
	struct sim_chain c;
	struct vq_used u;

	CHECK_EQ(fx_add_in(f, 0, 100), 0);
	vq_kick(&f->vq);
	CHECK_EQ(sim_queue_pop(&f->dev, &c), 1);
	/* A run of exactly the limit, broken by a good entry, is tolerated. */
	for (unsigned i = 0; i < VQ_BAD_RUN_LIMIT; i++)
		sim_queue_push(&f->dev, 1000 + i, 0);
	sim_queue_push(&f->dev, c.head, 10);
	sim_queue_flush(&f->dev);
	CHECK(vq_get_used(&f->vq, &u));
	CHECK(!vq_is_broken(&f->vq));

	/* One more than the limit in a row is not. */
	CHECK_EQ(fx_add_in(f, 1, 100), 0);
	vq_kick(&f->vq);
	CHECK_EQ(sim_queue_pop(&f->dev, &c), 1);
	for (unsigned i = 0; i <= VQ_BAD_RUN_LIMIT; i++)
		sim_queue_push(&f->dev, 1000 + i, 0);
	sim_queue_push(&f->dev, c.head, 10);
	sim_queue_flush(&f->dev);
	host_log_quiet = true;
	CHECK(!vq_get_used(&f->vq, &u));
	host_log_quiet = false;
	CHECK(vq_is_broken(&f->vq));
	CHECK_EQ(f->vq.stats.bad_id, 2 * VQ_BAD_RUN_LIMIT + 1);
	CHECK_EQ(fx_add_in(f, 2, 100), -EIO);
	CHECK(!vq_has_used(&f->vq));
	CHECK(!vq_enable_cb(&f->vq));
	CHECK(host_log_count[LOG_ERROR] > 0);
	fx_free(f);
}

TEST(vq_used_index_running_ahead_marks_broken)
{
	struct fixture *f = fx_new(8, false);
	struct vq_used u;

	f->vq.used->idx = 9; /* 9 entries in an 8-entry ring */
	host_log_quiet = true;
	CHECK(!vq_get_used(&f->vq, &u));
	host_log_quiet = false;
	CHECK(vq_is_broken(&f->vq));
	CHECK_EQ(f->vq.stats.bad_idx, 1);
	fx_free(f);
}

TEST(vq_batch_gets_one_notification)
{
	struct fixture *f = fx_new(64, true);

	for (unsigned i = 0; i < 32; i++)
		CHECK_EQ(fx_add_in(f, i, 2048), 0);
	CHECK_EQ(f->notifies, 0);
	CHECK(vq_kick(&f->vq));
	CHECK_EQ(f->notifies, 1);
	CHECK_EQ(f->vq.stats.kicks, 1);
	CHECK_EQ(f->vq.avail->idx, 32);
	/* An empty batch publishes nothing and notifies nobody. */
	CHECK(!vq_kick(&f->vq));
	CHECK_EQ(f->notifies, 1);
	CHECK_EQ(f->vq.stats.kicks, 1);
	CHECK_EQ(fx_device_complete_all(f, 1), 32);
	fx_free(f);
}

TEST(vq_event_idx_suppresses_notifications)
{
	struct fixture *f = fx_new(64, true);
	struct sim_chain c;

	for (unsigned i = 0; i < 8; i++)
		fx_add_in(f, i, 2048);
	CHECK(vq_kick(&f->vq)); /* avail_event 0 is in [0, 8) */

	/* The device has not looked yet: it will see these anyway. */
	for (unsigned i = 8; i < 16; i++)
		fx_add_in(f, i, 2048);
	CHECK(!vq_kick(&f->vq));

	/* It took one and is still working through the rest. */
	CHECK_EQ(sim_queue_pop(&f->dev, &c), 1);
	for (unsigned i = 16; i < 24; i++)
		fx_add_in(f, i, 2048);
	CHECK(!vq_kick(&f->vq));

	/* Caught up: the next batch needs a notification again. */
	while (sim_queue_pop(&f->dev, &c) == 1)
		;
	CHECK_EQ(f->dev.pops, 24);
	for (unsigned i = 24; i < 32; i++)
		fx_add_in(f, i, 2048);
	CHECK(vq_kick(&f->vq));

	/* A device polling the ring moves avail_event out of the way. */
	sim_queue_set_busy(&f->dev, true);
	while (sim_queue_pop(&f->dev, &c) == 1)
		;
	for (unsigned i = 32; i < 40; i++)
		fx_add_in(f, i, 2048);
	CHECK(!vq_kick(&f->vq));

	CHECK_EQ(f->notifies, 2);
	CHECK_EQ(f->vq.stats.kicks, 5);
	CHECK_EQ(f->vq.stats.kicks_suppressed, 3);
	fx_free(f);
}

TEST(vq_no_notify_flag_suppresses_without_event_idx)
{
	struct fixture *f = fx_new(64, false);

	sim_queue_set_busy(&f->dev, true);
	fx_add_in(f, 0, 2048);
	CHECK(!vq_kick(&f->vq));
	sim_queue_set_busy(&f->dev, false);
	fx_add_in(f, 1, 2048);
	CHECK(vq_kick(&f->vq));
	CHECK_EQ(f->notifies, 1);
	CHECK_EQ(f->vq.stats.kicks_suppressed, 1);
	fx_free(f);
}

/* Interrupt suppression, as the device decides it. */
static void interrupt_suppression_run(bool event_idx)
{
	struct fixture *f = fx_new(64, event_idx);
	struct vq_used u;
	unsigned irqs;

	for (unsigned i = 0; i < 16; i++)
		fx_add_in(f, i, 2048);
	vq_kick(&f->vq);

	/* Enabled: the first completion interrupts. */
	{
		struct sim_chain c;

		CHECK_EQ(sim_queue_pop(&f->dev, &c), 1);
		sim_queue_push(&f->dev, c.head, 100);
		CHECK(sim_queue_flush(&f->dev));
	}
	irqs = f->dev.interrupts;
	CHECK_EQ(irqs, 1);

	/* Disabled (what the top half does): five completions, no
	 * interrupt, all reaped. */
	vq_disable_cb(&f->vq);
	if (!event_idx)
		CHECK_EQ(f->vq.avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
	for (unsigned i = 0; i < 5; i++) {
		struct sim_chain c;

		CHECK_EQ(sim_queue_pop(&f->dev, &c), 1);
		sim_queue_push(&f->dev, c.head, 100);
		CHECK(!sim_queue_flush(&f->dev));
	}
	CHECK_EQ(f->dev.interrupts, irqs);
	for (unsigned i = 0; i < 6; i++)
		CHECK(vq_get_used(&f->vq, &u));

	/* Re-enabled with nothing pending: the next completion interrupts. */
	CHECK(!vq_enable_cb(&f->vq));
	CHECK_EQ(f->vq.avail->flags, 0);
	if (event_idx)
		CHECK_EQ(*virtq_used_event(f->vq.avail, 64), 6);
	{
		struct sim_chain c;

		CHECK_EQ(sim_queue_pop(&f->dev, &c), 1);
		sim_queue_push(&f->dev, c.head, 100);
		CHECK(sim_queue_flush(&f->dev));
	}
	CHECK_EQ(f->dev.interrupts, irqs + 1);
	fx_free(f);
}

TEST(vq_interrupt_suppression_event_idx)
{
	interrupt_suppression_run(true);
}

TEST(vq_interrupt_suppression_flags)
{
	interrupt_suppression_run(false);
}

/* The lost wakeup: the device completes a chain after the driver's last
 * poll found the ring empty but before it re-armed. The device saw
 * interrupts suppressed and raised none, so vq_enable_cb() must report the
 * entry or the driver would sleep on it forever. */
static void lost_wakeup_run(bool event_idx)
{
	struct fixture *f = fx_new(32, event_idx);
	struct sim_chain c;
	struct vq_used u;
	unsigned irqs;

	for (unsigned i = 0; i < 4; i++)
		fx_add_in(f, i, 2048);
	vq_kick(&f->vq);
	/* A first completion with interrupts on, as after bring-up. */
	CHECK_EQ(sim_queue_pop(&f->dev, &c), 1);
	sim_queue_push(&f->dev, c.head, 1);
	CHECK(sim_queue_flush(&f->dev));
	vq_disable_cb(&f->vq); /* the top half */
	CHECK(vq_get_used(&f->vq, &u));
	CHECK(!vq_get_used(&f->vq, &u)); /* the last poll: empty */
	irqs = f->dev.interrupts;

	CHECK_EQ(sim_queue_pop(&f->dev, &c), 1);
	sim_queue_push(&f->dev, c.head, 42);
	CHECK(!sim_queue_flush(&f->dev));
	CHECK_EQ(f->dev.interrupts, irqs); /* no interrupt is coming */

	CHECK(vq_enable_cb(&f->vq)); /* so enable must say "pending" */
	CHECK_EQ(f->vq.stats.enable_pending, 1);
	CHECK(vq_get_used(&f->vq, &u));
	CHECK_EQ(u.len, 42);

	/* Entries seen but left for budget reasons also count as pending. */
	for (unsigned i = 0; i < 2; i++) {
		CHECK_EQ(sim_queue_pop(&f->dev, &c), 1);
		sim_queue_push(&f->dev, c.head, 7);
	}
	sim_queue_flush(&f->dev);
	vq_disable_cb(&f->vq);
	CHECK(vq_get_used(&f->vq, &u));
	CHECK(vq_enable_cb(&f->vq));
	CHECK(vq_get_used(&f->vq, &u));
	CHECK(!vq_enable_cb(&f->vq));
	CHECK_EQ(f->vq.stats.enable_pending, 2);
	fx_free(f);
}

TEST(vq_lost_wakeup_race_event_idx)
{
	lost_wakeup_run(true);
}

TEST(vq_lost_wakeup_race_flags)
{
	lost_wakeup_run(false);
}

TEST(vq_next_head_names_the_chain_head)
{
	struct fixture *f = fx_new(8, false);
	struct sim_chain c;

	for (unsigned i = 0; i < 5; i++) {
		int head = vq_next_head(&f->vq);

		CHECK(head >= 0 && head < 8);
		CHECK_EQ(fx_add_in(f, i, 10), 0);
		vq_kick(&f->vq);
		CHECK_EQ(sim_queue_pop(&f->dev, &c), 1);
		CHECK_EQ(c.head, head);
	}
	fx_free(f);
}

TEST(vq_detach_unused_returns_each_cookie_once)
{
	struct fixture *f = fx_new(8, false);
	struct vq_buf two[2] = {{0x1000, 10}, {0x2000, 10}};
	unsigned seen[3] = {0};
	void *cookie;

	CHECK_EQ(fx_add_in(f, 0, 10), 0);
	CHECK_EQ(vq_add_chain(&f->vq, two, 1, 1, &f->cookies[1]), 0);
	vq_kick(&f->vq);
	CHECK_EQ(fx_add_in(f, 2, 10), 0); /* added, never published */
	while ((cookie = vq_detach_unused(&f->vq)) != NULL)
		seen[fx_cookie_index(f, cookie)]++;
	CHECK(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
	CHECK_EQ(vq_num_free(&f->vq), 8);
	fx_free(f);
}

/* ---- indirect descriptors ---- */

static struct fixture *fx_new_indirect(uint16_t num, unsigned max)
{
	struct fixture *f = fx_new(num, true);

	CHECK_EQ(vq_enable_indirect(&f->vq, max), 0);
	f->dev.indirect = true;
	return f;
}

TEST(vq_indirect_chain_takes_one_slot)
{
	struct fixture *f = fx_new_indirect(8, 6);
	struct vq_buf b[5] = {{0x1000, 12},
			      {0x2000, 100},
			      {0x3000, 7},
			      {0x4000, 64},
			      {0x5000, 32}};
	struct sim_chain c;
	struct vq_used u;

	CHECK_EQ(vq_descs_for(&f->vq, 5), 1);
	CHECK_EQ(vq_descs_for(&f->vq, 1), 1);
	CHECK_EQ(vq_descs_for(&f->vq, 7), 7); /* over the table: direct */
	CHECK_EQ(vq_add_chain(&f->vq, b, 3, 2, &f->cookies[4]), 0);
	CHECK_EQ(vq_num_free(&f->vq), 7);
	CHECK_EQ(f->vq.stats.indirect, 1);
	vq_kick(&f->vq);
	CHECK_EQ(sim_queue_pop(&f->dev, &c), 1);
	CHECK_EQ(f->dev.indirect_chains, 1);
	CHECK_EQ(c.n, 5);
	for (unsigned i = 0; i < 5; i++) {
		CHECK_EQ(c.d[i].addr, b[i].addr);
		CHECK_EQ(c.d[i].len, b[i].len);
		CHECK_EQ(c.d[i].write, i >= 3);
	}
	CHECK_EQ(c.out_len, 119);
	CHECK_EQ(c.in_len, 96);
	/* The writable bytes still bound what the device may claim. */
	sim_queue_push(&f->dev, c.head, 97);
	sim_queue_flush(&f->dev);
	CHECK(vq_get_used(&f->vq, &u));
	CHECK(u.bad_len);
	CHECK_EQ(vq_num_free(&f->vq), 8);
	fx_free(f);
}

TEST(vq_indirect_fills_every_slot)
{
	struct fixture *f = fx_new_indirect(8, 17);
	struct vq_buf b[17];
	struct vq_used u;
	unsigned got = 0;

	for (unsigned i = 0; i < 17; i++)
		b[i] = (struct vq_buf){0x10000 + i * 0x100ULL, 60 + i};
	/* Eight 17-buffer chains on an 8-entry ring: impossible directly. */
	for (unsigned i = 0; i < 8; i++)
		CHECK_EQ(vq_add_chain(&f->vq, b, 17, 0, &f->cookies[i]), 0);
	CHECK_EQ(vq_add_chain(&f->vq, b, 2, 0, &f->cookies[8]), -ENOSPC);
	/* A single buffer needs no table but still one slot. */
	CHECK_EQ(vq_add_chain(&f->vq, b, 1, 0, &f->cookies[8]), -ENOSPC);
	vq_kick(&f->vq);
	for (;;) {
		struct sim_chain c;

		if (sim_queue_pop(&f->dev, &c) != 1)
			break;
		CHECK_EQ(c.n, 17);
		CHECK_EQ(c.d[16].addr, b[16].addr);
		sim_queue_push(&f->dev, c.head, 0);
	}
	sim_queue_flush(&f->dev);
	while (vq_get_used(&f->vq, &u))
		got++;
	CHECK_EQ(got, 8);
	CHECK_EQ(vq_num_free(&f->vq), 8);
	/* Tables are reused: a second round sees the new buffers. */
	b[0].addr = 0x99000;
	CHECK_EQ(vq_add_chain(&f->vq, b, 3, 0, &f->cookies[9]), 0);
	vq_kick(&f->vq);
	{
		struct sim_chain c;

		CHECK_EQ(sim_queue_pop(&f->dev, &c), 1);
		CHECK_EQ(c.n, 3);
		CHECK_EQ(c.d[0].addr, 0x99000);
	}
	fx_free(f);
}

TEST(vq_indirect_rejects_bad_setup)
{
	struct fixture *f = fx_new(8, false);
	struct vq_buf b[9];

	for (unsigned i = 0; i < 9; i++)
		b[i] = (struct vq_buf){0x1000 + i * 0x100ULL, 10};
	CHECK_EQ(vq_enable_indirect(&f->vq, 1), -EINVAL);
	CHECK_EQ(vq_enable_indirect(&f->vq, VIRTQ_MAX_SIZE + 1), -EINVAL);
	/* Still direct: a 9-buffer chain cannot fit an 8-entry ring. */
	CHECK_EQ(vq_add_chain(&f->vq, b, 9, 0, &f->cookies[0]), -EINVAL);
	CHECK_EQ(vq_enable_indirect(&f->vq, 9), 0);
	CHECK_EQ(vq_enable_indirect(&f->vq, 9), -EINVAL); /* only once */
	f->dev.indirect = true;
	CHECK_EQ(vq_add_chain(&f->vq, b, 9, 0, &f->cookies[0]), 0);
	CHECK_EQ(vq_num_free(&f->vq), 7);
	fx_free(f);
}

TEST(vq_indirect_detach_unused_after_reset)
{
	struct fixture *f = fx_new_indirect(8, 4);
	struct vq_buf b[4] = {
	    {0x1000, 1}, {0x2000, 2}, {0x3000, 3}, {0x4000, 4}};
	unsigned n = 0;

	for (unsigned i = 0; i < 8; i++)
		CHECK_EQ(vq_add_chain(&f->vq, b, 4, 0, &f->cookies[i]), 0);
	while (vq_detach_unused(&f->vq))
		n++;
	CHECK_EQ(n, 8);
	CHECK_EQ(vq_num_free(&f->vq), 8);
	fx_free(f);
}

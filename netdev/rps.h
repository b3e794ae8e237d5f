/* Receive packet steering between cores (after Linux RPS, without its
 * lock): a queue pair served by CPU k > 0 runs its whole bottom half on
 * CPU k - RX poll, the XDP and TC-ingress hooks, XDP_TX on its own TX
 * queue, refills - and hands the frames that pass to CPU 0, which alone
 * runs lwIP, through a single-producer single-consumer ring (kernel/
 * spsc_ring.h). When lwIP frees such a frame, CPU 0 gives the RX buffer
 * back through a second SPSC ring going the other way; CPU k puts it back
 * on its own free stack. So every ring and every driver structure has
 * exactly one writer per side, and nothing on the per-packet path takes a
 * lock:
 *
 *   CPU k (owner of pair k)                 CPU 0 (lwIP)
 *   vnet_rx_poll(pair k)
 *     XDP / TC ingress, XDP_TX on txq k
 *     PASS: desc[handle] = {frame, len}
 *           to_stack.put(&desc[handle]) --> netdev_rps_take(): lwIP input
 *                                              ... pbuf_free()
 *   back.take(handle) <------------------- netdev_rps_give_back(handle)
 *   vnet_rx_buf_release(pair k), refill
 *
 * Both rings hold at least as many entries as pair k has RX buffers, and
 * a buffer is in at most one of them, so neither can overflow; a failed
 * put is still counted (and the buffer dropped or kept) rather than
 * trusted away.
 *
 * Wake-ups: each side sets its `sleeping` flag, then looks at its rings
 * once more before halting; the other side puts, then reads the flag and
 * asks the caller to wake the sleeper (netdev_rps_*_needs_wake). Both
 * orders are full fences (Dekker), so no wake is lost. */
#ifndef SKIFF_NETDEV_RPS_H
#define SKIFF_NETDEV_RPS_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/virtio_net.h"
#include "kernel/counters.h"
#include "kernel/spsc_ring.h"
#include "netdev/rx_hook.h"
#include "netdev/tx.h"

/* One frame on its way to CPU 0: lives in desc[handle] of its queue. */
struct netdev_rps_desc {
	void *frame;
	uint32_t len;
	uint32_t handle;
	uint8_t csum_flags;
};

/* Per queue, each counter written by one CPU only (named for it). */
struct netdev_rps_stats {
	uint64_t polls;	       /* owner: bottom-half rounds */
	uint64_t rx_frames;    /* owner: frames polled from the ring */
	uint64_t handed;       /* owner: frames put on the ring to CPU 0 */
	uint64_t hand_full;    /* owner: ring to CPU 0 full: dropped */
	uint64_t hooked;       /* owner: frames XDP/TC kept (drop, tx) */
	uint64_t returned;     /* owner: buffers CPU 0 gave back */
	uint64_t wakes_sent;   /* owner: IPIs asked for to wake CPU 0 */
	uint64_t taken;	       /* CPU 0: frames taken into lwIP */
	uint64_t give_backs;   /* CPU 0: buffers put on the back ring */
	uint64_t back_full;    /* CPU 0: back ring full (buffer lost) */
	uint32_t to_stack_len; /* gauge: frames waiting for CPU 0 */
	uint32_t back_len;     /* gauge: buffers waiting for the owner */
};

struct netdev_rps_queue {
	struct vnet *vnet; /* the queue pair this CPU owns */
	unsigned queue;
	unsigned cpu;
	struct spsc_ring to_stack; /* owner -> CPU 0: desc pointers */
	struct spsc_ring back;	   /* CPU 0 -> owner: handle + 1 */
	void **to_slots;
	void **back_slots;
	struct netdev_rps_desc *desc; /* one per RX buffer, by handle */
	uint32_t ndesc;
	struct netdev_tx tx;	    /* XDP_TX on this queue */
	struct netdev_rx_port port; /* what the hooks see */
	bool owner_sleeping;	    /* set by the owner before hlt */
	struct netdev_rps_stats stats;
};

/* CPU 0, at bring-up: the queue (page-aligned, so the rings' indexes
 * get their own cache lines), its rings, descriptors and its own TX path.
 * NULL when memory runs out. Lives as long as the device. */
struct netdev_rps_queue *netdev_rps_create(struct vnet *vn, unsigned queue,
					   unsigned cpu);

/* ---- the owner CPU ---- */

/* One bottom-half round: buffers given back, TX completions, up to budget
 * frames through the hooks (passing ones to CPU 0), refill, TX flush.
 * Returns vnet_rx_poll()'s status (VNET_RX_COUNT, VNET_RX_MORE), or -EIO.
 * *wake_stack is set when CPU 0 sleeps and frames now wait for it. */
int netdev_rps_poll(struct netdev_rps_queue *q, unsigned budget,
		    bool *wake_stack);
/* Before the owner halts: marks it asleep and says whether it must poll
 * again instead (buffers came back meanwhile). Call with interrupts off;
 * netdev_rps_owner_awake() after the halt. */
bool netdev_rps_owner_may_sleep(struct netdev_rps_queue *q);
void netdev_rps_owner_awake(struct netdev_rps_queue *q);

/* ---- CPU 0 ---- */

typedef void (*netdev_rps_input_fn)(void *ctx, unsigned queue, void *frame,
				    uint32_t len, uint32_t handle,
				    uint8_t csum_flags);
/* Takes up to budget frames the owner handed over; returns how many. */
unsigned netdev_rps_take(struct netdev_rps_queue *q, unsigned budget,
			 netdev_rps_input_fn fn, void *ctx);
/* Gives an RX buffer of this queue back to its owner. Returns true when
 * the owner sleeps and should be woken (the caller sends the IPI). */
bool netdev_rps_give_back(struct netdev_rps_queue *q, uint32_t handle);
/* Whether frames wait for CPU 0 (checked before CPU 0 sleeps). */
bool netdev_rps_pending(const struct netdev_rps_queue *q);

/* CPU 0's sleeping flag, shared by every queue: set before CPU 0 halts,
 * read by owners after they hand frames over. */
void netdev_rps_stack_sleeping(bool asleep);

void netdev_rps_get_stats(const struct netdev_rps_queue *q,
			  struct netdev_rps_stats *out);
extern const struct counter_desc netdev_rps_stats_desc[];
extern const unsigned netdev_rps_stats_ndesc;

#endif

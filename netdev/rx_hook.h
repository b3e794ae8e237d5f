/* The receive hook point of the stack-neutral packet path. Every received
 * frame, before the stack sees it, may go through one hook (the XDP hook
 * registers itself here at bring-up) that answers with a verdict; the
 * frame's buffer is then settled right here for every verdict: PASS leaves
 * it to the caller (the stack glue), DROP gives it back, TX sends it out
 * again from its own buffer, REDIRECT hands it to the hook's consumer.
 *
 * netdev sits below the hook's owner: it never includes xdp/ or ebpf/
 * headers, it only calls the pointers registered with it. */
#ifndef SKIFF_NETDEV_RX_HOOK_H
#define SKIFF_NETDEV_RX_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The verdicts, numbered as XDP's actions (XDP_ABORTED .. XDP_REDIRECT). */
enum netdev_rx_verdict {
	NETDEV_RX_ABORTED = 0,
	NETDEV_RX_DROP = 1,
	NETDEV_RX_PASS = 2,
	NETDEV_RX_TX = 3,
	NETDEV_RX_REDIRECT = 4,
};

/* What a hook registers. */
struct netdev_rx_hook {
	/* The hook runs while *armed is not NULL (its attached program):
	 * with nothing attached the receive path tests one pointer. */
	void *const *armed;
	/* One frame; returns an enum netdev_rx_verdict. */
	int (*run)(void *frame, uint32_t len, uint8_t csum_flags,
		   uint32_t queue);
	/* REDIRECT: takes the frame, zero copy, until its consumer gives the
	 * buffer back; false when it cannot (its ring is full). */
	bool (*redirect)(void *frame, uint32_t len, uint32_t handle);
	/* A TX verdict whose frame could not be queued (dropped). */
	void (*tx_failed)(void);
	/* The device finished a frame an AF_XDP socket sent from its UMEM
	 * on queue (port->tx_umem): addr is the TX descriptor's address,
	 * back for the socket's completion ring. */
	void (*umem_tx_done)(uint32_t queue, uint64_t addr);
};

/* What the receive path needs of the device a frame came from. */
struct netdev_rx_port {
	void *ctx;
	/* The device queue (pair) the frames come from: the hook's
	 * rx_queue_index, and the queue an AF_XDP socket must be bound to
	 * for REDIRECT to reach it. */
	uint32_t queue;
	/* Queues the frame for transmission from its own RX buffer; the
	 * buffer comes back through the TX completion. 0 or negative errno. */
	int (*tx_from_rx)(void *ctx, void *frame, uint32_t len,
			  uint32_t handle);
	/* Gives the RX buffer back to the driver. */
	void (*release)(void *ctx, uint32_t handle);

	/* For an AF_XDP UMEM over the driver's RX buffers (xdp/xsk.h). */
	uint32_t pool_bufs;    /* handles are 0 .. pool_bufs - 1 */
	uint32_t buf_size;     /* bytes per buffer, a power of two */
	uint32_t buf_headroom; /* where a received frame starts */
	/* Lends a free buffer that holds no frame: 0 or -ENOBUFS. */
	int (*borrow)(void *ctx, uint32_t *handle);
	/* The start of buffer handle. */
	void *(*buf)(void *ctx, uint32_t handle);
	/* Queues len bytes at frame (inside a lent buffer) for transmission;
	 * when the device is done, netdev_rx_hook->umem_tx_done(queue, addr). 0
	 * or a negative errno (-ENOSPC: no room now, try again later). */
	int (*tx_umem)(void *ctx, void *frame, uint32_t len, uint64_t addr);
};

extern const struct netdev_rx_hook *netdev_rx_hook;

/* Registers the hook (NULL: none). Called at bring-up. */
void netdev_rx_hook_register(const struct netdev_rx_hook *hook);

/* Whether a frame must go through the hook: one predictable branch when
 * nothing is attached. */
static inline bool netdev_rx_hook_armed(void)
{
	const struct netdev_rx_hook *h = netdev_rx_hook;

	return __builtin_expect(h != NULL && *h->armed != NULL, 0);
}

/* Runs the hook on a frame and settles its buffer for every verdict but
 * PASS. Returns true when the hook consumed the frame, false for PASS (the
 * frame and its buffer are still the caller's). */
bool netdev_rx_hook_run(const struct netdev_rx_port *port, void *frame,
			uint32_t len, uint32_t handle, uint8_t csum_flags);

#endif

/* AF_XDP sockets for code in the image: an XDP program sends frames to a
 * socket with bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS) on an
 * XSKMAP, and the socket's service reads them from its RX ring without
 * lwIP, in place.
 *
 * UMEM: a socket's frames are RX buffers of the driver's 2 MiB pool
 * (netdev_rx_port), addressed as handle * buf_size + offset. Creating the
 * socket borrows `frames` free buffers; the service puts their addresses
 * (xsk_umem_frame_addr) on the fill ring. From then on a socket owns
 * exactly that many buffers:
 *
 *   redirect:   the frame's buffer passes to the socket (its address goes
 *               on the RX ring, zero copy) and, in exchange, the buffer
 *               named by one fill-ring entry goes back to the driver's RX
 *               ring. Fill ring empty: the frame is dropped (counted),
 *               XSK_RING_NEED_WAKEUP set on the fill ring.
 *   TX:         the service puts {addr, len} on the TX ring and, when the
 *               TX ring says NEED_WAKEUP, calls xsk_sendto(); the frame
 *               goes out from its UMEM buffer and its address comes back
 *               on the completion ring (space reserved at send time, so a
 *               completion is never lost).
 *
 * Every address the service hands over (fill, TX) is checked: inside a
 * buffer this socket owns, in the right state (its own, not on the device
 * or back at the driver), the frame inside the buffer; a bad one is
 * counted and skipped, never followed.
 *
 * Queues and CPUs: a socket is bound to one device queue (pair) and its
 * UMEM is carved from that queue's RX pool. Everything about it - the
 * redirect, its rings' kernel ends, its TX on that queue, the completions,
 * the service's on_rx callback - runs on the CPU that serves the queue
 * (CPU i for pair i, app/netstack.c), so no lock is needed: it is as
 * single-threaded as that queue's bottom half. Sockets are created (and
 * deleted) at bring-up, before that CPU starts serving the queue.
 *
 * Wake-up: the redirect path sets the socket's rx_pending flag; the
 * queue's loop runs xsk_run_pending(queue) after each receive poll, which
 * calls the socket's on_rx callback (counted as a wakeup) and services TX
 * rings that do not need a wakeup. See xsk_ring.h for the ring layout. */
#ifndef SKIFF_XDP_XSK_H
#define SKIFF_XDP_XSK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/counters.h"
#include "netdev/rx_hook.h"
#include "xdp/xsk_ring.h"

#define XSK_MAX_QUEUES	   8 /* device queue pairs (VNET_MAX_PAIRS) */
#define XSK_MAX_SOCKETS	   8
#define XSK_MAX_FRAMES	   4096
#define XSK_DEFAULT_FRAMES 256

struct xsk_config {
	uint32_t frames;    /* UMEM frames to borrow, 1 .. XSK_MAX_FRAMES */
	uint32_t fill_size; /* ring entries, powers of two; 0 = frames */
	uint32_t comp_size; /* rounded up */
	uint32_t rx_size;
	uint32_t tx_size;
	uint32_t queue_id; /* the device queue this socket is bound to */
	/* The service's receive wakeup (may be NULL: it polls). */
	void (*on_rx)(void *ctx);
	void *ctx;
};

struct xsk_stats {
	uint64_t rx; /* frames put on the RX ring */
	uint64_t rx_bytes;
	uint64_t rx_fill_empty; /* dropped: no fill-ring entry */
	uint64_t rx_ring_full;	/* dropped: RX ring full */
	uint64_t rx_bad_queue;	/* dropped: frame from another queue */
	uint64_t fill_invalid;	/* fill entries naming no free frame */
	uint64_t tx;		/* frames handed to the device */
	uint64_t tx_bytes;
	uint64_t tx_invalid;  /* TX descriptors refused (address, length) */
	uint64_t tx_busy;     /* TX attempts the device queue had no room for */
	uint64_t completions; /* addresses put on the completion ring */
	uint64_t wakeups;     /* on_rx calls from the receive path */
	uint64_t tx_wakeups;  /* xsk_sendto calls */
	uint64_t fill_wakeups; /* xsk_recv_wakeup calls */
	uint32_t frames;       /* UMEM size */
	uint32_t owned;	       /* buffers it holds now: always frames */
	uint32_t tx_inflight;  /* frames on the device */
};

struct xsk_queue;

struct xsk_socket {
	uint32_t id; /* the value an XSKMAP holds for this socket */
	/* The service's ends of the four rings. */
	struct xsk_ring fill, comp, rx, tx;
	/* private below */
	struct xsk_ring k_fill, k_comp, k_rx, k_tx; /* the kernel's ends */
	void *ring_mem[4];
	struct xsk_queue *q; /* its queue's pool and buffer owners */
	uint32_t queue_id;
	uint32_t comp_reserved; /* completion entries promised to TX */
	bool rx_pending;	/* set by the redirect, cleared by the loop */
	bool comp_pending;	/* set by a TX completion, the same way */
	bool in_use;
	void (*on_rx)(void *ctx);
	void *ctx;
	uint32_t *initial; /* handles borrowed at creation */
	uint32_t ninitial;
	struct xsk_stats stats;
};

/* Makes port->queue's RX pool available to sockets bound to that queue
 * (once per queue pair at bring-up, after netdev's port exists; again
 * only with no socket open on the queue). */
void xsk_attach_port(const struct netdev_rx_port *port);

/* Creates a socket bound to cfg->queue_id with a UMEM of cfg->frames
 * buffers borrowed from that queue's pool. 0 and *out, -EINVAL (sizes),
 * -ENODEV (no such queue attached),
 * -EMFILE (XSK_MAX_SOCKETS open), -ENOBUFS (the pool cannot lend that
 * many), -ENOMEM. */
int xsk_socket_create(const struct xsk_config *cfg, struct xsk_socket **out);
/* Closes it: every buffer it owns goes back to the driver (those still on
 * the device when their TX completes); XSKMAP entries holding its id stop
 * matching (ids are never reused). */
void xsk_socket_delete(struct xsk_socket *xs);

/* The UMEM address of the i-th frame borrowed at creation (i < frames),
 * for the service's first fill-ring entries. */
uint64_t xsk_umem_frame_addr(const struct xsk_socket *xs, uint32_t i);
/* The bytes at UMEM address addr, len of them inside one frame of this
 * socket; NULL when that is not so. */
void *xsk_umem_get_data(const struct xsk_socket *xs, uint64_t addr,
			uint32_t len);

/* sendto(): processes the TX ring now and clears its NEED_WAKEUP. */
void xsk_sendto(struct xsk_socket *xs);
/* recvfrom()/poll() after refilling: clears the fill ring's NEED_WAKEUP. */
void xsk_recv_wakeup(struct xsk_socket *xs);

/* Kernel side. The redirect of a frame to the socket with id `id` (from
 * the XSKMAP): true when the socket took the buffer (zero copy), false
 * when the frame must be dropped (the caller releases the buffer). */
bool xsk_redirect(uint32_t id, void *frame, uint32_t len, uint32_t handle,
		  uint32_t queue);
/* The device finished a UMEM frame sent on queue (netdev_rx_hook
 * .umem_tx_done). */
void xsk_umem_tx_done(uint32_t queue, uint64_t addr);
/* The queue's loop, on its CPU: wakes that queue's sockets flagged by the
 * receive path or a TX completion (on_rx) and sends what waits on TX rings
 * that need no wakeup. Returns the sockets woken. */
unsigned xsk_run_pending(uint32_t queue);
/* Whether a socket of the queue has frames waiting for device room (its
 * TX ring awake): the queue's CPU must poll again rather than sleep. */
bool xsk_tx_waiting(uint32_t queue);

void xsk_get_stats(const struct xsk_socket *xs, struct xsk_stats *out);
/* Frames redirected to an id no open socket has (stale XSKMAP entry),
 * summed over queues. */
uint64_t xsk_no_socket_drops(void);
extern const struct counter_desc xsk_stats_desc[];
extern const unsigned xsk_stats_ndesc;
/* /stats "xsk": {"no_socket":N,"sockets":[{"id":..,counters},...]}. */
int xsk_stats_json(char *buf, size_t cap);

#endif

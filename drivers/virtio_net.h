/* virtio-net driver: one or more queue pairs (RX + TX queue) over any
 * virtio transport (struct virtio_device), a zero-copy interface for the
 * lwIP glue, and the mode-independent pieces of the irq/poll/hybrid main
 * loop.
 *
 * Queue pairs: vnet_probe() returns pair 0. With vnet_params.max_pairs > 1
 * and a device offering VIRTIO_NET_F_MQ (with the control queue) it sets
 * up min(max_pairs, config.max_virtqueue_pairs, VNET_MAX_PAIRS) pairs,
 * tells the device with VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, and, when the
 * device offers VIRTIO_NET_F_RSS, hands it a Toeplitz key and an
 * indirection table spreading flows over the pairs (otherwise the device
 * steers as it likes). vnet_queue(n, i) names pair i; every function below
 * that takes a struct vnet acts on that one pair, and each pair must be
 * driven by one CPU at a time (its owner): pairs share nothing mutable.
 * Without MQ (or with max_pairs <= 1) there is only pair 0, as before.
 *
 * Receive: frames land in 2 KiB buffers of a packet pool (2 MiB page runs).
 * vnet_rx_poll() hands each good frame to a callback in place; the consumer
 * owns the buffer until vnet_rx_buf_release(); vnet_rx_refill() posts free
 * buffers back to the ring with one notification per batch.
 *
 * RX ring occupancy: by default every free buffer the ring has room for is
 * posted. vnet_params.rx_posted caps that (fewer buffers in flight, so fewer
 * DMA writes waiting in the LLC's DDIO ways: see docs/leaky-dma.md), and
 * rx_posted_adaptive keeps few posted, doubling on bursts and shrinking by
 * an eighth when calm. Free buffers are reused last-in-first-out, so the
 * device writes the most recently read (cache-hot) ones first.
 *
 * Tracing (optional, off by default): vnet_trace_enable() records every RX
 * buffer event (posted, written, read, released) with a timestamp into a
 * caller's array, the input of tools/ddio_model.c.
 *
 * Transmit: vnet_tx_chain() queues the caller's fragments behind a driver-
 * owned virtio_net_hdr as one descriptor chain, without copying; the
 * fragments must stay untouched until vnet_tx_reclaim() returns the
 * caller's cookie. vnet_tx_flush() publishes the batch with one notification.
 *
 * Interrupts: the transport routes each MSI-X vector to vnet_irq() (the top
 * half: suppress, flag work). The main loop collects the flags with
 * vnet_take_work(), polls, and re-arms with vnet_rx_irq_enable(), which
 * reports whether work arrived meanwhile (then poll again, don't sleep).
 *
 * Per pair single-threaded: everything except vnet_irq() runs on the pair's
 * owner CPU. */
#ifndef SKIFF_DRIVERS_VIRTIO_NET_H
#define SKIFF_DRIVERS_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/virtio.h"
#include "drivers/virtio_net_reg.h"
#include "drivers/vnet_rx_policy.h"
#include "kernel/counters.h"

#define VNET_HDR_LEN  sizeof(struct virtio_net_hdr) /* 12 with VERSION_1 */
#define VNET_ETH_HLEN 14
#define VNET_MTU      1500
/* Largest frame either way: Ethernet header, one VLAN tag, MTU. */
#define VNET_MAX_FRAME (VNET_ETH_HLEN + 4 + VNET_MTU)
/* One RX buffer: the virtio_net_hdr, then the frame. */
#define VNET_RX_BUF_SIZE 2048
/* The pool is carved from 2 MiB-aligned 2 MiB runs of pages. */
#define VNET_POOL_RUN_BYTES    (2u << 20)
#define VNET_BUFS_PER_RUN      (VNET_POOL_RUN_BYTES / VNET_RX_BUF_SIZE)
#define VNET_MAX_POOL_RUNS     8
#define VNET_DEFAULT_POOL_BUFS VNET_BUFS_PER_RUN
#define VNET_DEFAULT_RING      256
/* Fragments of one TX frame (the header descriptor not counted). */
#define VNET_TX_MAX_FRAGS 16
/* Largest GSO (TSO) frame: the IPv4 total length is 16 bits. */
#define VNET_GSO_MAX_FRAME (VNET_ETH_HLEN + 0xffff)
/* Most queue pairs driven (the PCI transport has 2 * this + 1 queues). */
#define VNET_MAX_PAIRS 8
/* Batch-size histogram buckets: [1], [2,3], [4,7], ... , [128, inf). */
#define VNET_HIST_BUCKETS 8
/* Adaptive RX occupancy (VNET_RX_ADAPT_*): drivers/vnet_rx_policy.h. */

_Static_assert(VNET_HDR_LEN + VNET_MAX_FRAME <= VNET_RX_BUF_SIZE,
	       "an RX buffer must hold a whole frame: no mergeable buffers");
_Static_assert(VNET_POOL_RUN_BYTES % VNET_RX_BUF_SIZE == 0,
	       "RX buffers must tile a pool run");

struct vnet;
struct vnet_trace_rec;

/* Interrupt sources, each with its own MSI-X vector when available. */
enum vnet_irq_source {
	VNET_IRQ_RX,
	VNET_IRQ_TX,
	VNET_IRQ_CONFIG,
	VNET_IRQ_SOURCES
};

/* Work flags set by vnet_irq() and collected by vnet_take_work(). */
#define VNET_WORK_RX	 (1u << VNET_IRQ_RX)
#define VNET_WORK_TX	 (1u << VNET_IRQ_TX)
#define VNET_WORK_CONFIG (1u << VNET_IRQ_CONFIG)

/* Asked by vnet_probe() once per source and queue pair: returns the MSI-X
 * table entry the transport has set up to deliver that source's interrupt
 * to vnet_irq(n, src), or VIRTIO_MSI_NO_VECTOR for none. n is the queue
 * pair (vnet_queue_index(n), vnet_queue_count(n)); for VNET_IRQ_CONFIG it
 * is pair 0. */
typedef uint16_t (*vnet_vector_fn)(void *ctx, struct vnet *n,
				   enum vnet_irq_source src);

struct vnet_params {
	unsigned pool_bufs;   /* RX pool size, 0 = VNET_DEFAULT_POOL_BUFS;
			       * carved from ceil(n / VNET_BUFS_PER_RUN)
			       * 2 MiB runs, at most VNET_MAX_POOL_RUNS */
	uint16_t rx_ring_max; /* queue size caps, 0 = VNET_DEFAULT_RING */
	uint16_t tx_ring_max;
	bool no_csum_offload; /* don't negotiate CSUM / GUEST_CSUM */
	/* Don't negotiate HOST_TSO4 (TCP segmentation offload for IPv4
	 * transmit; QEMU offers it over tap with vnet_hdr, not over user
	 * networking). It needs CSUM: no_csum_offload turns it off too. */
	bool no_tso;
	/* Don't negotiate VIRTIO_F_INDIRECT_DESC: every TX frame then takes
	 * one ring descriptor per fragment plus one for the header. */
	bool no_indirect;
	vnet_vector_fn vector; /* NULL: no interrupts (poll mode only) */
	void *vector_ctx;
	/* Most RX buffers posted at once: 0 = as many as the ring holds;
	 * larger than the ring means the ring. Ignored when adaptive. */
	uint16_t rx_posted;
	bool rx_posted_adaptive; /* grow/shrink the posted target (above) */
	/* Timestamps of trace records; the kernel passes clock_ns. NULL:
	 * records carry a sequence number (0, 1, 2, ...) instead. */
	uint64_t (*clock)(void);
	/* Queue pairs wanted (0 or 1: one, no control queue, as without MQ).
	 * More need VIRTIO_NET_F_MQ and CTRL_VQ from the device. */
	unsigned max_pairs;
	bool no_rss; /* don't negotiate VIRTIO_NET_F_RSS: device steering */
	/* Optional: trace from the start, including the first ring fill, as
	 * vnet_trace_enable(n, trace, trace_cap) would. */
	struct vnet_trace_rec *trace;
	uint32_t trace_cap;
};

/* ---- bring-up ---- */

/* Initializes the device (VERSION_1 required; MAC, STATUS, EVENT_IDX and the
 * checksum offloads if offered), sets up both queues, fills the RX ring and
 * sets DRIVER_OK. params may be NULL for defaults. Returns 0 and *out, or
 * -ENODEV (not a net device / missing queue), -ENOTSUP (features refused,
 * e.g. a legacy-only device), -ENOMEM, or the transport's error. On failure
 * the device is left reset (or FAILED) and the transport should release
 * any vectors it handed out. */
int vnet_probe(struct virtio_device *dev, const struct vnet_params *params,
	       struct vnet **out);

typedef void (*vnet_tx_done_fn)(void *ctx, void *cookie);

/* Resets the device, returns the cookies of unfinished TX chains through
 * done (may be NULL) and frees everything. RX buffers still lent out become
 * invalid. */
void vnet_remove(struct vnet *n, vnet_tx_done_fn done, void *ctx);

void vnet_get_mac(const struct vnet *n, uint8_t mac[6]);
/* Link state from the config space (always up without VIRTIO_NET_F_STATUS). */
bool vnet_link_up(struct vnet *n);
/* For VNET_WORK_CONFIG: re-reads the link state, logs a change, returns it. */
bool vnet_config_changed(struct vnet *n);
/* Whether the device completes checksums we leave partial (CSUM), so
 * vnet_tx_chain() accepts an offload request. */
bool vnet_tx_csum_offload(const struct vnet *n);
/* Whether the device segments TCP/IPv4 GSO frames (HOST_TSO4 and CSUM
 * negotiated), so vnet_tx_chain() accepts gso_type TCPV4. */
bool vnet_tx_tso(const struct vnet *n);
/* Whether received frames may carry DATA_VALID (GUEST_CSUM). */
bool vnet_rx_csum_offload(const struct vnet *n);
/* Number of RX buffers in the pool; handles are 0 .. this - 1. */
unsigned vnet_rx_pool_size(const struct vnet *n);
/* Queue pairs the device runs (1 without MQ), pair n's index, and pair i
 * (NULL beyond the count); any pair finds the others. */
unsigned vnet_queue_count(const struct vnet *n);
unsigned vnet_queue_index(const struct vnet *n);
struct vnet *vnet_queue(const struct vnet *n, unsigned i);
/* Whether the device steers received flows by our RSS table. */
bool vnet_rss_on(const struct vnet *n);
/* Whether an MSI-X vector serves src (false: that source must be polled). */
bool vnet_has_irq(const struct vnet *n, enum vnet_irq_source src);

/* ---- transmit ---- */

struct vnet_frag {
	const void *data; /* identity-mapped, so also the DMA address */
	uint32_t len;	  /* zero-length fragments are skipped */
};

/* Asks the device to finish a partial checksum: the 16-bit ones' complement
 * sum from csum_start (frame offset) to the end, stored at
 * csum_start + csum_offset, where the caller has put the pseudo-header sum.
 *
 * With gso_type VIRTIO_NET_HDR_GSO_TCPV4 (only if vnet_tx_tso()) the frame
 * is one large TCP/IPv4 segment the device cuts into gso_size-byte payloads,
 * each behind a copy of the first hdr_len bytes (Ethernet + IP + TCP
 * headers), fixing IP length/id/checksum and TCP seq/flags/checksum per
 * segment as Linux's GSO does. The IP header then carries the whole length
 * and the TCP checksum field the pseudo-header sum over the whole TCP
 * length (what Linux's tcp_v4_send_check writes for a GSO skb). The frame
 * may then be up to VNET_GSO_MAX_FRAME bytes. Zero gso_type: none. */
struct vnet_tx_offload {
	uint16_t csum_start;
	uint16_t csum_offset;
	uint8_t gso_type;  /* VIRTIO_NET_HDR_GSO_NONE or _TCPV4 */
	uint16_t gso_size; /* payload bytes per segment */
	uint16_t hdr_len;  /* headers repeated in every segment */
};

/* Queues one frame (header + fragments) under a non-NULL cookie. Returns 0,
 * -ENOSPC when the ring lacks descriptors (counted in tx_ring_full; the
 * caller may vnet_tx_reclaim() and retry, or give up and report it with
 * vnet_tx_drop() so it shows as a ring_full drop), -E2BIG (more than
 * VNET_TX_MAX_FRAGS non-empty fragments: linearize first), -EINVAL (bad
 * length or offload range, NULL cookie, bad GSO fields), -ENOTSUP (offload
 * or GSO requested but not negotiated) or -EIO (device broken). */
int vnet_tx_chain(struct vnet *n, const struct vnet_frag *frags,
		  unsigned nfrags, const struct vnet_tx_offload *csum,
		  void *cookie);
/* The checks vnet_tx_chain() makes of a frame, without queueing it: 0 or
 * the error it would return, other than -ENOSPC. For a caller that holds
 * the frame back for later (a software queue). */
int vnet_tx_check(const struct vnet *n, const struct vnet_frag *frags,
		  unsigned nfrags, const struct vnet_tx_offload *csum);
/* Publishes the frames queued since the last flush; one notification for
 * the batch unless the device suppressed it. Returns whether it notified. */
bool vnet_tx_flush(struct vnet *n);
/* Calls done(ctx, cookie) for every frame the device has finished with and
 * returns how many there were. */
unsigned vnet_tx_reclaim(struct vnet *n, vnet_tx_done_fn done, void *ctx);
/* Counts a frame the caller dropped after -ENOSPC. */
void vnet_tx_drop(struct vnet *n);

/* ---- receive ---- */

/* Called for each good frame: frame points past the virtio_net_hdr, len is
 * the frame length, handle names the buffer for vnet_rx_buf_release(), and
 * flags is VIRTIO_NET_HDR_F_DATA_VALID when the checksums are known good
 * (only with GUEST_CSUM; partial checksums are completed here first). */
typedef void (*vnet_rx_fn)(void *ctx, void *frame, uint32_t len,
			   uint32_t handle, uint8_t flags);

/* vnet_rx_poll() status: the number of used entries consumed (delivered or
 * dropped) in the low 16 bits, plus flags. Negative: -EIO, device broken. */
#define VNET_RX_COUNT(st)  ((unsigned)(st)&0xffffu)
#define VNET_RX_MORE	   (1 << 16) /* budget ran out with entries left */
#define VNET_RX_REFILL	   (1 << 17) /* free buffers wait to be posted */
#define VNET_RX_MAX_BUDGET 0xffffu

/* Takes up to budget (at most VNET_RX_MAX_BUDGET) used RX entries. Bad ones
 * (too short, length beyond the buffer, bad header) are counted by reason
 * and their buffers recycled at once. */
int vnet_rx_poll(struct vnet *n, unsigned budget, vnet_rx_fn fn, void *ctx);
/* Gives a delivered buffer back. Returns 0, or -EINVAL for a handle that is
 * out of range or not currently lent out (e.g. released twice). */
int vnet_rx_buf_release(struct vnet *n, uint32_t handle);
/* Lends a free (not posted) buffer without a frame in it, for a consumer
 * that keeps its own frames (an AF_XDP UMEM): 0 and *handle, or -ENOBUFS.
 * It comes back through vnet_rx_buf_release() like a delivered one. */
int vnet_rx_buf_borrow(struct vnet *n, uint32_t *handle);
/* The start of buffer handle (its virtio_net_hdr; the frame follows at
 * VNET_HDR_LEN), or NULL for a handle beyond the pool. */
void *vnet_rx_buf_data(const struct vnet *n, uint32_t handle);
/* Posts every free buffer the ring has room for, one notification for the
 * batch; returns how many were posted. */
unsigned vnet_rx_refill(struct vnet *n);

/* ---- RX buffer trace ---- */

/* What happened to an RX buffer. WRITTEN is recorded when the driver takes
 * the used entry (the earliest it knows the device wrote the buffer), READ
 * right before the frame goes to the vnet_rx_fn callback. Frames dropped
 * as bad go WRITTEN -> RELEASED without READ. */
enum vnet_trace_event {
	VNET_TRACE_POSTED = 0,
	VNET_TRACE_WRITTEN = 1,
	VNET_TRACE_READ = 2,
	VNET_TRACE_RELEASED = 3,
};

struct vnet_trace_rec {
	uint64_t ns;	 /* vnet_params.clock, or a sequence number */
	uint32_t handle; /* buffer index, 0 .. vnet_rx_pool_size() - 1 */
	uint16_t len;	 /* WRITTEN/READ: frame bytes (no virtio header) */
	uint8_t event;	 /* enum vnet_trace_event */
	uint8_t pad;
};
_Static_assert(sizeof(struct vnet_trace_rec) == 16, "trace record layout");

/* Starts recording into buf[0 .. cap-1] from record 0; once full, further
 * events are only counted (nothing is overwritten). buf NULL or cap 0 stops
 * recording; so does vnet_remove(). The array stays the caller's. */
void vnet_trace_enable(struct vnet *n, struct vnet_trace_rec *buf,
		       uint32_t cap);
/* Records stored so far; *dropped (may be NULL) gets the events that did
 * not fit. */
uint32_t vnet_trace_count(const struct vnet *n, uint64_t *dropped);
/* One record as a line of the text format tools/ddio_model.c reads:
 * "<ns> <handle> <event> <len>\n". Returns what ksnprintf returns. */
int vnet_trace_format_line(const struct vnet_trace_rec *r, char *buf,
			   size_t size);

/* ---- interrupts ---- */

/* Top half, called by the interrupt handler of src's vector (after or
 * before its EOI): suppresses further interrupts of that queue and flags
 * the work. MSI-X needs no ISR-register read. */
void vnet_irq(struct vnet *n, enum vnet_irq_source src);
/* Takes and clears the work flags (VNET_WORK_*). */
unsigned vnet_take_work(struct vnet *n);
void vnet_rx_irq_disable(struct vnet *n);
/* Re-arms the RX interrupt; true if frames are already waiting (poll again
 * before sleeping). */
bool vnet_rx_irq_enable(struct vnet *n);
/* TX interrupts start disabled (vnet_start): finished chains are reclaimed
 * from the main loop. The loop arms them only while frames wait for ring
 * space (the software TX queue), so a completion wakes it; same return
 * rule as vnet_rx_irq_enable(). The top half disables them again. */
bool vnet_tx_irq_enable(struct vnet *n);
void vnet_tx_irq_disable(struct vnet *n);

/* ---- counters ---- */

struct vnet_drops {
	uint64_t ring_full; /* TX frames the caller gave up (vnet_tx_drop) */
	uint64_t bad_len;   /* RX entries longer than their buffer */
	uint64_t bad_id;    /* used entries naming no chain in flight */
	uint64_t no_buffer; /* times the pool ran dry with RX slots empty */
	uint64_t too_short; /* RX entries shorter than header + Ethernet */
	uint64_t bad_hdr;   /* RX headers with an impossible checksum/GSO */
};

struct vnet_stats {
	uint64_t rx_packets, rx_bytes;
	uint64_t tx_packets, tx_bytes;
	struct vnet_drops drops;
	uint64_t tx_ring_full; /* -ENOSPC returns, retried or not */
	uint64_t irqs[VNET_IRQ_SOURCES];
	uint64_t polls, empty_polls;
	uint64_t rx_notifications, rx_kicks_suppressed;
	/* Other pairs' RX queues notified after this one ran dry (RSS). */
	uint64_t rx_sibling_notifications;
	uint64_t tx_notifications, tx_kicks_suppressed;
	uint64_t rx_batch[VNET_HIST_BUCKETS]; /* non-empty polls by size */
	uint64_t tx_batch[VNET_HIST_BUCKETS]; /* non-empty flushes by size */
	uint64_t rx_target_grows;   /* adaptive: times the target doubled */
	uint64_t rx_target_shrinks; /* adaptive: times it lost an eighth */
	/* Ring occupancy, sampled by vnet_get_stats(). */
	uint32_t rx_ring_size, rx_posted, rx_lent, rx_pool_free, rx_pool_size;
	uint32_t rx_target; /* most buffers posted at once, now */
	bool rx_adaptive;
	uint32_t tx_ring_size, tx_inflight;
	uint64_t tx_indirect; /* frames that took one slot via a table */
	bool link_up;
	bool broken;
	uint32_t queue_pair;  /* which pair these counters are (0 ..) */
	uint32_t queue_pairs; /* pairs the device runs */
	bool rss;	      /* the device steers by our RSS table */
};

void vnet_get_stats(const struct vnet *n, struct vnet_stats *out);
/* The /stats "driver" member: the names, order and types of struct
 * vnet_stats (kernel/counters.h). Written out by app/driver_stats.c: the
 * driver never formats. */
extern const struct counter_desc vnet_stats_counters[];
extern const unsigned vnet_stats_counters_len;

#endif

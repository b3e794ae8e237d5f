/* skiffif: the lwIP network interface over a virtio-net device (struct
 * vnet), after lwIP's contrib ethernetif.c skeleton.
 *
 * Receive is zero-copy: each frame becomes a custom pbuf (PBUF_REF) that
 * points into the RX buffer where the device wrote it; lwIP's last
 * pbuf_free() hands the buffer back to the driver, and skiffif_poll()
 * posts freed buffers to the ring in batches. Transmit is zero-copy too:
 * the pbuf chain becomes one descriptor chain, referenced until the device
 * is done with it.
 *
 * Set-up (after vnet_probe() and lwip_init()):
 *
 *	netif_add(&netif, &ip, &mask, &gw, vnet, skiffif_init, netif_input);
 *	netif_set_default(&netif);
 *	netif_set_up(&netif);
 *
 * The netif owns the vnet from then on (skiffif_remove() removes both).
 * Main loop, one round (NO_SYS: all of this runs in the main loop only):
 *
 *	work = vnet_take_work(vnet);
 *	if (work & VNET_WORK_CONFIG)
 *		skiffif_link_update(&netif);
 *	st = skiffif_poll(&netif, budget);     RX -> lwIP, TX reclaim, refill
 *	sys_check_timeouts();
 *	...services...
 *	skiffif_flush(&netif);                 publish what they sent
 *	if (!(st & VNET_RX_MORE) && !vnet_rx_irq_enable(vnet))
 *		sleep until an interrupt;
 *
 * Without a config-change MSI-X vector the glue polls the link state from
 * an lwIP timer once a second instead. */
#ifndef SKIFF_LWIP_PORT_SKIFFIF_H
#define SKIFF_LWIP_PORT_SKIFFIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwip/err.h"
#include "lwip/netif.h"

#include "drivers/virtio_net.h"
#include "kernel/counters.h"
#include "netdev/rx_hook.h"
#include "netdev/txq.h"

#define SKIFFIF_MTU 1500
/* Frames queued on the TX ring before a notification goes out even though
 * the round has not ended: long bursts reach the device without waiting
 * for skiffif_flush(). With TSO (the device negotiated HOST_TSO4:
 * vnet_params.no_tso unset) lwIP's frames are instead held, up to this many,
 * until skiffif_flush()/skiffif_poll() or a full batch, and runs of consecutive
 * segments of one TCP connection go out as one GSO frame (netdev/tx.c, whose
 * NETDEV_TX_FLUSH_BATCH this is). */
#define SKIFFIF_TX_FLUSH_BATCH 32
/* How often the link state is read when no interrupt reports changes. */
#define SKIFFIF_LINK_POLL_MS 1000

struct skiffif_drops {
	uint64_t rx_no_pbuf;   /* no free custom pbuf (cannot happen: one per
				* RX buffer; counted should it ever) */
	uint64_t rx_input;     /* netif->input refused the frame */
	uint64_t tx_ring_full; /* ring still full after reclaim and retry */
	uint64_t tx_no_mem;    /* no PBUF_RAM for linearizing a long chain */
	uint64_t tx_csum;      /* TCP checksum left to the device, but the
				* frame is an IP fragment it cannot finish */
	uint64_t tx_error;     /* the driver refused the chain (length,
				* broken device) */
};

struct skiffif_stats {
	uint64_t rx_frames;	  /* frames handed to lwIP */
	uint64_t rx_csum_trusted; /* of those, DATA_VALID: no TCP/UDP check */
	uint64_t rx_released;	  /* RX buffers given back by pbuf frees */
	uint32_t rx_pbufs_in_use; /* custom pbufs lwIP holds now */
	uint32_t rx_pbufs_peak;	  /* high-water mark of rx_pbufs_in_use */
	uint32_t rx_pbufs_total;  /* pool size = RX buffers of the device */
	uint32_t tx_inflight;	  /* frames the device still holds */
	uint64_t tx_frames;	  /* frames queued on the ring */
	uint64_t tx_done; /* frames reclaimed (pbuf reference dropped) */
	uint64_t tx_csum_offload; /* TCP segments the device checksums */
	uint64_t tx_linearized;	  /* chains copied into one pbuf */
	uint64_t tx_retries;	  /* ring full, then room after a reclaim
				   * (the software queue's retries) */
	uint64_t tx_flushes;	  /* batches published (skiffif_flush or full
				   * batch) */
	uint64_t tx_gso_frames;	  /* GSO (TSO) frames queued: each counts
				   * once in tx_frames too */
	uint64_t tx_gso_segments; /* TCP segments merged into them */
	uint64_t link_changes;	  /* link up/down transitions seen */
	bool link_up;
	bool tx_csum_offload_on; /* TCP TX checksums are the device's */
	bool rx_csum_offload_on; /* frames may arrive with DATA_VALID */
	bool tso_on;		 /* TCP segments coalesced into GSO frames */
	struct skiffif_drops drops;
	struct txq_stats txq; /* frames that waited for ring space */
};

/* netif_init_fn for netif_add(), whose state argument must be the struct
 * vnet (it is replaced by the glue's own state). Sets the MAC, MTU, flags
 * and name "en", the link state, checksum control, and allocates the RX
 * pbuf pool. Returns ERR_OK, ERR_ARG (no vnet) or ERR_MEM. */
err_t skiffif_init(struct netif *netif);

/* Detaches the glue after netif_remove(): resets and frees the device
 * (vnet_remove), frees the pbufs it still held for TX and the glue's state.
 * Returns ERR_INPROGRESS, changing nothing, while lwIP still holds received
 * pbufs (they point into the device's buffers); ERR_OK when done. */
err_t skiffif_remove(struct netif *netif);

/* One poll round: up to budget received frames go through netif->input,
 * finished TX frames are reclaimed, free RX buffers reposted when the
 * driver asks for it (VNET_RX_REFILL), and queued TX published. Returns
 * vnet_rx_poll()'s status: VNET_RX_COUNT(st) frames taken, VNET_RX_MORE
 * when the budget ran out with frames left (poll again, don't sleep);
 * VNET_RX_REFILL is consumed here. Negative: -EIO, the device is broken. */
int skiffif_poll(struct netif *netif, unsigned budget);

/* Publishes the TX frames queued since the last flush (one notification
 * for the batch). Call at the end of every main-loop round: timers and
 * services transmit outside skiffif_poll(). */
void skiffif_flush(struct netif *netif);
/* Gives back an RX buffer held outside lwIP (an XDP redirect consumer);
 * the next skiffif_flush() posts it to the ring again. */
void skiffif_rx_release(struct netif *netif, uint32_t handle);

/* Re-reads the link state (vnet_config_changed) and reports a change to
 * lwIP (netif_set_link_up/down). For VNET_WORK_CONFIG; returns the state. */
bool skiffif_link_update(struct netif *netif);

struct vnet *skiffif_vnet(const struct netif *netif);
/* The device as netdev's receive hook and AF_XDP sockets see it
 * (xsk_attach_port), or NULL before skiffif_init. */
const struct netdev_rx_port *skiffif_rx_port(const struct netif *netif);

/* Several queue pairs (netdev/rps.h): qs[1 .. npairs-1] are the pairs
 * other CPUs serve ([0] unused: pair 0 is this netif's own). From then on
 * skiffif_poll() also takes the frames they pass, and lwIP's frees return
 * their buffers through each pair's back ring. lwIP's own transmissions
 * all go out on pair 0 (CPU 0 is its TX ring's only producer). Call once,
 * before traffic; 0, -EINVAL or -ENOMEM. */
struct netdev_rps_queue;
int skiffif_set_rps(struct netif *netif, struct netdev_rps_queue *const *qs,
		    unsigned npairs);
/* Pairs (bit i = pair i) whose owner CPU sleeps with buffers given back
 * since the last call: the caller wakes them (smp_wake). */
uint32_t skiffif_rps_take_wakes(struct netif *netif);
/* Frames from other pairs wait for skiffif_poll(). */
bool skiffif_rps_pending(const struct netif *netif);

/* Length of the software TX queue of netifs initialised from now on
 * (default TXQ_DEFAULT_LEN, Linux's txqueuelen; 0: a full ring drops). */
void skiffif_set_txqueuelen(uint32_t len);
/* Frames wait for TX ring space: the main loop must not sleep without the
 * TX interrupt armed (or must keep polling) until this turns false. */
bool skiffif_tx_waiting(const struct netif *netif);

void skiffif_get_stats(const struct netif *netif, struct skiffif_stats *out);
/* The {name, offset} table of struct skiffif_stats (kernel/counters.h). */
extern const struct counter_desc skiffif_stats_desc[];
extern const unsigned skiffif_stats_ndesc;
/* Returns what ksnprintf returns: the length the whole text needs (output
 * truncated, NUL-terminated, when size is smaller). */
/* lwIP's own stats structs, which lwIP cannot carry a table for: one
 * pool's (struct stats_mem: used, max, avail, err), and the pbuf pools' two
 * members each under /stats "pbuf" (pool_used/pool_max from the PBUF_POOL
 * pool, ref_used/ref_max from the PBUF pool). */
extern const struct counter_desc lwip_mem_counters[];
extern const unsigned lwip_mem_counters_len;
extern const struct counter_desc lwip_pbuf_pool_counters[];
extern const unsigned lwip_pbuf_pool_counters_len;
extern const struct counter_desc lwip_pbuf_ref_counters[];
extern const unsigned lwip_pbuf_ref_counters_len;

int skiffif_stats_format_json(const struct skiffif_stats *s, char *buf,
			      size_t size);

#endif

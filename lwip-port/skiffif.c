/* skiffif: lwIP's netif over the virtio-net driver (see skiffif.h), named
 * after lwIP's contrib/examples/ethernetif/ethernetif.c: skiffif_init is
 * the netif init function, low_level_init/output/input do the device work.
 *
 * Exercised by `make run` (every frame of the appliance goes through here)
 * and on the host by tests/unit/test_netif.c, which runs the real driver
 * and lwIP against the simulated device of tests/unit/sim_virtio.c.
 *
 * Checksums.
 *  Receive: a frame with VIRTIO_NET_HDR_F_DATA_VALID (GUEST_CSUM; the
 *  driver also turns completed partial checksums into DATA_VALID) skips
 *  lwIP's TCP and UDP checksum checks, through per-netif checksum control
 *  switched around netif->input, which with NO_SYS runs the whole frame
 *  through IP and TCP/UDP before it returns. DATA_VALID vouches for one
 *  level of checksums, the transport one, so the 20-byte IP header sum is
 *  still checked (as Linux does for CHECKSUM_UNNECESSARY), and so is ICMP,
 *  which is off the fast path. IP fragments are never trusted: lwIP checks
 *  a reassembled datagram's checksum when its last fragment arrives, over
 *  fragments no device validated as a whole.
 *  Transmit: with VIRTIO_NET_F_CSUM the device finishes TCP checksums:
 *  NETIF_CHECKSUM_GEN_TCP is off, so lwIP leaves the field 0 (it zeroes it
 *  again before every retransmission), and low_level_output writes the
 *  pseudo-header sum there and asks for NEEDS_CSUM from the TCP header on,
 *  which is exactly the partial checksum virtio defines (the device sums
 *  from csum_start to the end, field included, and stores the complement).
 *  That is correct because lwIP's TCP frames carry the whole segment in one
 *  unfragmented IPv4 packet with no padding after it; a frame that breaks
 *  this is dropped and counted (drops.tx_csum) rather than sent with a
 *  wrong sum. UDP, ICMP and IP header checksums stay in software: a UDP
 *  datagram larger than the MTU is fragmented after its checksum is due,
 *  which no device can finish, and the others are small. Without CSUM lwIP
 *  computes everything.
 *
 * Transmit queueing, batching, TSO coalescing and the typed TX completions
 * are netdev's (netdev/tx.c), the checksum and segmentation helpers too
 * (netdev/offload.c): this file only converts between pbufs and netdev's
 * frames, sets lwIP's checksum flags and follows the link state. With TSO
 * lwIP's frames are held until the flush (skiffif_flush, the end of
 * skiffif_poll, or a full batch) so runs of one connection's segments can
 * leave as one GSO frame. The main loop flushes every round before it can
 * sleep, so nothing is held across a sleep. Ring trouble at the flush
 * becomes a counted drop, which TCP repairs by retransmitting. */
#include "lwip-port/skiffif.h"

#include <string.h>

#include "lwip/etharp.h"
#include "lwip/opt.h"
#include "lwip/pbuf.h"
#include "lwip/prot/ethernet.h"
#include "lwip/stats.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "kernel/counters.h"
#include "kernel/heap.h"
#include "kernel/kerrno.h"
#include "kernel/printf.h"
#include "netdev/offload.h"
#include "netdev/rps.h"
#include "netdev/rx_hook.h"
#include "netdev/tc_hook.h"
#include "netdev/tx.h"

#if !LWIP_SUPPORT_CUSTOM_PBUF
#error "zero-copy receive needs LWIP_SUPPORT_CUSTOM_PBUF"
#endif
#if !LWIP_CHECKSUM_CTRL_PER_NETIF
#error "checksum offload needs LWIP_CHECKSUM_CTRL_PER_NETIF"
#endif
#if ETH_PAD_SIZE != 0
#error "received frames start at the Ethernet header: no ETH_PAD_SIZE"
#endif
_Static_assert(VNET_RX_BUF_SIZE <= 0xffff, "frame lengths fit a pbuf's u16");
_Static_assert(SKIFFIF_TX_FLUSH_BATCH == NETDEV_TX_FLUSH_BATCH,
	       "the glue's batch is netdev's");

/* One received frame lent to lwIP. */
struct skiffif_rx_pbuf {
	struct pbuf_custom pc; /* what lwIP sees; its free fn finds us */
	struct skiffif *sif;
	uint32_t handle;	      /* the RX buffer the pbuf points into */
	uint32_t queue;		      /* of queue pair (0: ours) */
	struct skiffif_rx_pbuf *next; /* free list link while not lent */
};

struct skiffif {
	struct netif *netif;
	struct vnet *vnet;
	struct skiffif_rx_pbuf *rx_pool; /* one per RX buffer of the device */
	struct skiffif_rx_pbuf *rx_free;
	uint16_t csum_flags;	     /* the netif's checksum control */
	uint16_t csum_flags_trusted; /* the same for a DATA_VALID frame */
	bool tx_csum;		     /* TCP checksums finished by the device */
	bool link_timer;	     /* polling the link from an lwIP timer */
	bool in_poll;		     /* inside skiffif_poll() */
	bool rx_freed_outside;	     /* RX buffers freed outside a poll */
	struct netdev_tx tx;	     /* queueing, batching, TSO */
	struct netdev_rx_port rx_port; /* for the receive hook */
	/* Queue pairs served by other CPUs (netdev/rps.h), by pair index;
	 * [0] stays NULL: pair 0 is polled right here. */
	struct netdev_rps_queue *rps[VNET_MAX_PAIRS];
	unsigned nrps;			  /* pairs in use, 1 without others */
	struct skiffif_rx_pbuf *rps_pool; /* pbufs for their frames */
	uint32_t rps_wake;		  /* pairs whose owner needs a wake */
	struct skiffif_stats stats;
};

/* ---- init ---------------------------------------------------------------- */

static void skiffif_link_timer(void *arg)
{
	struct netif *netif = arg;

	skiffif_link_update(netif);
	sys_timeout(SKIFFIF_LINK_POLL_MS, skiffif_link_timer, netif);
}

static void skiffif_rx_pbuf_free(struct pbuf *p);

/* One custom pbuf per RX buffer: the pool cannot run dry while the driver
 * has buffers to deliver, and receiving allocates nothing. */
static int skiffif_rx_pool_init(struct skiffif *sif)
{
	unsigned n = vnet_rx_pool_size(sif->vnet);

	sif->rx_pool = kcalloc(n, sizeof(*sif->rx_pool));
	if (!sif->rx_pool)
		return -ENOMEM;
	for (unsigned i = n; i-- > 0;) {
		struct skiffif_rx_pbuf *rp = &sif->rx_pool[i];

		rp->pc.custom_free_function = skiffif_rx_pbuf_free;
		rp->sif = sif;
		rp->next = sif->rx_free;
		sif->rx_free = rp;
	}
	sif->stats.rx_pbufs_total = n;
	return 0;
}

/* netdev's TX path is done with one of lwIP's frames. */
static void skiffif_tx_frame_free(void *ctx, void *frame)
{
	pbuf_free(frame);
}

/* A TX completion gave an RX buffer back (XDP_TX): a reclaim may run
 * outside a poll (the TX retry path), so the next flush reposts it. */
static void skiffif_tx_rx_returned(void *ctx)
{
	struct skiffif *sif = ctx;

	sif->rx_freed_outside = true;
}

static uint32_t skiffif_txqueuelen = TXQ_DEFAULT_LEN;

void skiffif_set_txqueuelen(uint32_t len)
{
	skiffif_txqueuelen = len > TXQ_MAX_LEN ? TXQ_MAX_LEN : len;
}

static int low_level_init(struct netif *netif, struct skiffif *sif)
{
	struct vnet *n = sif->vnet;
	int err;

	err = skiffif_rx_pool_init(sif);
	if (err)
		return err;

	netif->hwaddr_len = ETH_HWADDR_LEN;
	vnet_get_mac(n, netif->hwaddr);
	netif->mtu = SKIFFIF_MTU;
	/* No igmp_mac_filter: without a control queue the device delivers
	 * every multicast frame, so joining a group needs nothing of it. */
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP |
		       NETIF_FLAG_ETHERNET | NETIF_FLAG_IGMP;
	/* Set directly, as ethernetif.c does: netif_add() reports nothing
	 * for a netif that is not up yet. */
	if (vnet_link_up(n))
		netif->flags |= NETIF_FLAG_LINK_UP;
	sif->stats.link_up = netif->flags & NETIF_FLAG_LINK_UP;

	sif->tx_csum = vnet_tx_csum_offload(n);
	sif->csum_flags = NETIF_CHECKSUM_ENABLE_ALL;
	if (sif->tx_csum)
		sif->csum_flags &= (uint16_t)~NETIF_CHECKSUM_GEN_TCP;
	sif->csum_flags_trusted =
	    sif->csum_flags &
	    (uint16_t) ~(NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_UDP);
	NETIF_SET_CHECKSUM_CTRL(netif, sif->csum_flags);
	sif->stats.tx_csum_offload_on = sif->tx_csum;
	err = netdev_tx_init(&sif->tx, n, sif->tx_csum && vnet_tx_tso(n),
			     skiffif_txqueuelen,
			     &(struct netdev_tx_ops){
				 .ctx = sif,
				 .frame_free = skiffif_tx_frame_free,
				 .rx_returned = skiffif_tx_rx_returned,
			     });
	if (err)
		return err;
	sif->stats.tso_on = sif->tx.tso;
	netdev_tx_rx_port(&sif->tx, &sif->rx_port);
	sif->stats.rx_csum_offload_on = vnet_rx_csum_offload(n);

	/* Link changes arrive as VNET_WORK_CONFIG only with an interrupt. */
	if (!vnet_has_irq(n, VNET_IRQ_CONFIG)) {
		sif->link_timer = true;
		sys_timeout(SKIFFIF_LINK_POLL_MS, skiffif_link_timer, netif);
	}
	return 0;
}

static err_t low_level_output(struct netif *netif, struct pbuf *p);

err_t skiffif_init(struct netif *netif)
{
	struct vnet *n = netif->state;
	struct skiffif *sif;

	if (!n)
		return ERR_ARG;
	sif = kcalloc(1, sizeof(*sif));
	if (!sif)
		return ERR_MEM;
	sif->netif = netif;
	sif->vnet = n;
	if (low_level_init(netif, sif) != 0) {
		netdev_tx_fini(&sif->tx);
		kfree(sif->rx_pool);
		kfree(sif);
		return ERR_MEM;
	}
	netif->state = sif;
	netif->name[0] = 'e';
	netif->name[1] = 'n';
	netif->output = etharp_output;
	netif->linkoutput = low_level_output;
	return ERR_OK;
}

err_t skiffif_remove(struct netif *netif)
{
	struct skiffif *sif = netif->state;

	if (sif->stats.rx_pbufs_in_use)
		return ERR_INPROGRESS;
	if (sif->link_timer)
		sys_untimeout(skiffif_link_timer, netif);
	/* The reset completes the chains of unfinished frames. */
	vnet_remove(sif->vnet, netdev_tx_complete, &sif->tx);
	netdev_tx_fini(&sif->tx);
	netif->state = NULL;
	kfree(sif->rx_pool);
	kfree(sif);
	return ERR_OK;
}

const struct netdev_rx_port *skiffif_rx_port(const struct netif *netif)
{
	const struct skiffif *sif = netif->state;

	return sif ? &sif->rx_port : NULL;
}

struct vnet *skiffif_vnet(const struct netif *netif)
{
	const struct skiffif *sif = netif->state;

	return sif->vnet;
}

/* An RX buffer goes back to the pair it came from: ours directly, another
 * CPU's through its back ring (never a lock). */
static void skiffif_buf_release(struct skiffif *sif, uint32_t queue,
				uint32_t handle)
{
	if (queue == 0 || queue >= VNET_MAX_PAIRS || !sif->rps[queue]) {
		vnet_rx_buf_release(sif->vnet, handle);
		return;
	}
	if (netdev_rps_give_back(sif->rps[queue], handle))
		sif->rps_wake |= 1u << queue;
}

int skiffif_set_rps(struct netif *netif, struct netdev_rps_queue *const *qs,
		    unsigned npairs)
{
	struct skiffif *sif = netif->state;
	unsigned total = 0;

	if (npairs > VNET_MAX_PAIRS || sif->rps_pool)
		return -EINVAL;
	for (unsigned i = 1; i < npairs; i++)
		total += qs[i]->ndesc;
	if (!total)
		return 0;
	/* One more custom pbuf per buffer of every other pair: receiving
	 * their frames allocates nothing either. */
	sif->rps_pool = kcalloc(total, sizeof(*sif->rps_pool));
	if (!sif->rps_pool)
		return -ENOMEM;
	for (unsigned i = total; i-- > 0;) {
		struct skiffif_rx_pbuf *rp = &sif->rps_pool[i];

		rp->pc.custom_free_function = skiffif_rx_pbuf_free;
		rp->sif = sif;
		rp->next = sif->rx_free;
		sif->rx_free = rp;
	}
	sif->stats.rx_pbufs_total += total;
	for (unsigned i = 1; i < npairs; i++)
		sif->rps[i] = qs[i];
	sif->nrps = npairs;
	return 0;
}

uint32_t skiffif_rps_take_wakes(struct netif *netif)
{
	struct skiffif *sif = netif->state;
	uint32_t w = sif->rps_wake;

	sif->rps_wake = 0;
	return w;
}

bool skiffif_rps_pending(const struct netif *netif)
{
	const struct skiffif *sif = netif->state;

	for (unsigned i = 1; i < sif->nrps; i++)
		if (netdev_rps_pending(sif->rps[i]))
			return true;
	return false;
}

/* ---- transmit ------------------------------------------------------------ */

void skiffif_rx_release(struct netif *netif, uint32_t handle)
{
	struct skiffif *sif = netif->state;

	vnet_rx_buf_release(sif->vnet, handle);
	sif->rx_freed_outside = true;
}

void skiffif_flush(struct netif *netif)
{
	struct skiffif *sif = netif->state;

	/* Completions may have freed ring space for waiting frames. */
	if (netdev_tx_waiting(&sif->tx))
		netdev_tx_reclaim(&sif->tx);
	netdev_tx_flush(&sif->tx);
	/* skiffif_poll() reposts buffers freed before or during it; these
	 * were freed later (a service done with held data, a TX reclaim).
	 * Posting them now keeps the ring from sitting empty while the main
	 * loop sleeps. Rare: most pbufs die inside netif->input. */
	if (sif->rx_freed_outside) {
		sif->rx_freed_outside = false;
		vnet_rx_refill(sif->vnet);
	}
}

/* Fragments for the packet p; -1 when it has more non-empty pbufs than a
 * chain takes. */
static int skiffif_tx_frags(struct pbuf *p, struct vnet_frag *frags)
{
	int n = 0;

	for (struct pbuf *q = p; q; q = q->next) {
		if (q->len) {
			if (n == VNET_TX_MAX_FRAGS)
				return -1;
			frags[n].data = q->payload;
			frags[n].len = q->len;
			n++;
		}
		if (q->len == q->tot_len) /* the packet ends here */
			break;
	}
	return n;
}

/* netif->linkoutput: the pbuf chain becomes the descriptor chain, no copy,
 * and p is referenced until the device is done (skiffif_tx_done). A chain
 * with more pbufs than a TX chain takes (rare: lwIP's own chains are a
 * header pbuf plus one or two data pbufs) is copied into one pbuf. */
static err_t low_level_output(struct netif *netif, struct pbuf *p)
{
	struct skiffif *sif = netif->state;
	struct vnet_frag frags[VNET_TX_MAX_FRAGS];
	struct vnet_tx_offload off;
	enum netdev_tx_csum csum = NETDEV_CSUM_NONE;
	struct pbuf *frame = p;
	int nfrags = -1;
	int rc;

	memset(&off, 0, sizeof(off));
	if (sif->tx_csum)
		csum = netdev_tx_csum_prepare(p->payload, p->len, p->tot_len,
					      &off);
	if (csum != NETDEV_CSUM_SPLIT)
		nfrags = skiffif_tx_frags(p, frags);
	if (nfrags < 0) {
		frame = pbuf_clone(PBUF_RAW, PBUF_RAM, p);
		if (!frame) {
			sif->stats.drops.tx_no_mem++;
			return ERR_MEM;
		}
		sif->stats.tx_linearized++;
		frags[0].data = frame->payload;
		frags[0].len = frame->len;
		nfrags = 1;
		if (sif->tx_csum)
			csum = netdev_tx_csum_prepare(
			    frame->payload, frame->len, frame->tot_len, &off);
	}
	if (csum == NETDEV_CSUM_CANNOT || csum == NETDEV_CSUM_SPLIT) {
		sif->stats.drops.tx_csum++;
		if (frame != p)
			pbuf_free(frame);
		return ERR_VAL;
	}

	/* Our reference first: the completion must own one when the device
	 * is done, whoever else still holds p. */
	if (frame == p)
		pbuf_ref(p);
	rc = netdev_tx_send(&sif->tx, frame, frame->payload, frame->len,
			    frame->tot_len, frags, (unsigned)nfrags,
			    csum == NETDEV_CSUM_DEVICE ? &off : NULL);
	if (rc == 0)
		return ERR_OK;
	/* The reference taken above, or our copy. */
	pbuf_free(frame);
	return rc == -ENOSPC ? ERR_MEM : ERR_IF;
}

/* ---- receive ------------------------------------------------------------- */

/* lwIP's last reference to a received frame is gone: the RX buffer goes
 * back to the driver exactly once (pbuf reference counts decide when). */
static void skiffif_rx_pbuf_free(struct pbuf *p)
{
	struct skiffif_rx_pbuf *rp =
	    (struct skiffif_rx_pbuf *)((char *)p -
				       offsetof(struct skiffif_rx_pbuf,
						pc.pbuf));
	struct skiffif *sif = rp->sif;

	skiffif_buf_release(sif, rp->queue, rp->handle);
	rp->next = sif->rx_free;
	sif->rx_free = rp;
	sif->stats.rx_pbufs_in_use--;
	sif->stats.rx_released++;
	if (!sif->in_poll)
		sif->rx_freed_outside = true;
}

/* Wraps the frame, in place, in a custom pbuf. NULL (buffer released,
 * drop counted) if there is none left. */
static struct pbuf *low_level_input(struct skiffif *sif, uint32_t queue,
				    void *frame, uint32_t len, uint32_t handle)
{
	struct skiffif_rx_pbuf *rp = sif->rx_free;
	struct pbuf *p;

	if (!rp) {
		sif->stats.drops.rx_no_pbuf++;
		skiffif_buf_release(sif, queue, handle);
		return NULL;
	}
	/* PBUF_REF, not PBUF_RAM: lwIP must not grow headers into the bytes
	 * before the frame (our virtio_net_hdr), so an ICMP echo reply, for
	 * one, is built in a fresh pbuf rather than in the RX buffer. */
	p = pbuf_alloced_custom(PBUF_RAW, (u16_t)len, PBUF_REF, &rp->pc, frame,
				(u16_t)len);
	if (!p) { /* cannot happen: the length is the buffer's */
		sif->stats.drops.rx_input++;
		skiffif_buf_release(sif, queue, handle);
		return NULL;
	}
	sif->rx_free = rp->next;
	rp->next = NULL;
	rp->handle = handle;
	rp->queue = queue;
	if (++sif->stats.rx_pbufs_in_use > sif->stats.rx_pbufs_peak)
		sif->stats.rx_pbufs_peak = sif->stats.rx_pbufs_in_use;
	return p;
}

static void skiffif_stack_input(struct skiffif *sif, uint32_t queue,
				void *frame, uint32_t len, uint32_t handle,
				uint8_t flags);

/* vnet_rx_poll() callback: one frame into lwIP. */
static void skiffif_rx_frame(void *ctx, void *frame, uint32_t len,
			     uint32_t handle, uint8_t flags)
{
	struct skiffif *sif = ctx;

	/* The hook: with no program attached, this branch is all it costs. */
	if (netdev_rx_hook_armed() &&
	    netdev_rx_hook_run(&sif->rx_port, frame, len, handle, flags))
		return;
	/* TC ingress: after XDP passed the frame, before lwIP. */
	if (tc_armed(TC_INGRESS) &&
	    tc_ingress_run(&sif->rx_port, frame, len, handle, flags))
		return;
	skiffif_stack_input(sif, 0, frame, len, handle, flags);
}

/* netdev_rps_input_fn: a frame another CPU's pair received and its hooks
 * passed; it enters lwIP here like one of ours. */
static void skiffif_rps_input(void *ctx, unsigned queue, void *frame,
			      uint32_t len, uint32_t handle, uint8_t flags)
{
	skiffif_stack_input(ctx, queue, frame, len, handle, flags);
}

static void skiffif_stack_input(struct skiffif *sif, uint32_t queue,
				void *frame, uint32_t len, uint32_t handle,
				uint8_t flags)
{
	struct netif *netif = sif->netif;
	struct pbuf *p;
	bool trusted;

	p = low_level_input(sif, queue, frame, len, handle);
	if (!p)
		return;
	sif->stats.rx_frames++;
	trusted = (flags & VIRTIO_NET_HDR_F_DATA_VALID) &&
		  netdev_rx_csum_trusted(frame, len);
	if (trusted) {
		sif->stats.rx_csum_trusted++;
		NETIF_SET_CHECKSUM_CTRL(netif, sif->csum_flags_trusted);
	}
	/* On error the pbuf is still ours (lwIP's input contract). */
	if (netif->input(p, netif) != ERR_OK) {
		sif->stats.drops.rx_input++;
		pbuf_free(p);
	}
	if (trusted)
		NETIF_SET_CHECKSUM_CTRL(netif, sif->csum_flags);
}

int skiffif_poll(struct netif *netif, unsigned budget)
{
	struct skiffif *sif = netif->state;
	struct vnet *n = sif->vnet;
	int st;

	sif->in_poll = true;
	/* Reclaim first: a finished frame may hold RX buffers (a received
	 * pbuf sent back), and vnet_rx_poll() then counts them as free when
	 * it decides whether a refill is due. */
	netdev_tx_reclaim(&sif->tx);
	st = vnet_rx_poll(n, budget, skiffif_rx_frame, sif);
	/* Then what the other CPUs' pairs passed, each up to the budget. */
	for (unsigned i = 1; st >= 0 && i < sif->nrps; i++) {
		unsigned got = netdev_rps_take(sif->rps[i], budget,
					       skiffif_rps_input, sif);
		unsigned sum = VNET_RX_COUNT(st) + got;

		if (got == budget)
			st |= VNET_RX_MORE;
		st = (st & ~0xffff) | (int)(sum > 0xffff ? 0xffff : sum);
	}
	sif->rx_freed_outside = false;
	if (st >= 0 && (st & VNET_RX_REFILL)) {
		vnet_rx_refill(n);
		st &= ~VNET_RX_REFILL;
	}
	sif->in_poll = false;
	netdev_tx_flush(&sif->tx);
	return st;
}

/* ---- link ---------------------------------------------------------------- */

bool skiffif_link_update(struct netif *netif)
{
	struct skiffif *sif = netif->state;
	bool up = vnet_config_changed(sif->vnet);

	if (up == (bool)netif_is_link_up(netif))
		return up;
	sif->stats.link_changes++;
	sif->stats.link_up = up;
	if (up)
		netif_set_link_up(netif);
	else
		netif_set_link_down(netif);
	return up;
}

/* ---- counters ------------------------------------------------------------ */

bool skiffif_tx_waiting(const struct netif *netif)
{
	const struct skiffif *sif = netif->state;

	return netdev_tx_waiting(&sif->tx);
}

void skiffif_get_stats(const struct netif *netif, struct skiffif_stats *out)
{
	const struct skiffif *sif = netif->state;
	const struct netdev_tx_stats *t = &sif->tx.stats;

	*out = sif->stats;
	out->tx_frames = t->frames;
	out->tx_done = t->done;
	out->tx_inflight = t->inflight;
	out->tx_csum_offload = t->csum_offload;
	out->tx_retries = sif->tx.q.stats.retries;
	out->txq = sif->tx.q.stats;
	out->tx_flushes = t->flushes;
	out->tx_gso_frames = t->gso_frames;
	out->tx_gso_segments = t->gso_segments;
	out->drops.tx_ring_full = t->ring_full;
	out->drops.tx_error = t->error;
}

/* The counters, declared once: /stats writes them from this table. */
const struct counter_desc skiffif_stats_desc[] = {
    COUNTER(BOOL, struct skiffif_stats, link_up, "link_up"),
    COUNTER(U64, struct skiffif_stats, link_changes, "link_changes"),
    COUNTER(BOOL, struct skiffif_stats, tx_csum_offload_on,
	    "csum_offload.tx_tcp"),
    COUNTER(BOOL, struct skiffif_stats, rx_csum_offload_on, "csum_offload.rx"),
    COUNTER(BOOL, struct skiffif_stats, tso_on, "tso"),
    COUNTER(U64, struct skiffif_stats, rx_frames, "rx.frames"),
    COUNTER(U64, struct skiffif_stats, rx_csum_trusted, "rx.csum_trusted"),
    COUNTER(U64, struct skiffif_stats, rx_released, "rx.released"),
    GAUGE(U32, struct skiffif_stats, rx_pbufs_in_use, "rx.pbufs_in_use"),
    GAUGE(U32, struct skiffif_stats, rx_pbufs_peak, "rx.pbufs_peak"),
    GAUGE(U32, struct skiffif_stats, rx_pbufs_total, "rx.pbufs_total"),
    COUNTER(U64, struct skiffif_stats, tx_frames, "tx.frames"),
    COUNTER(U64, struct skiffif_stats, tx_done, "tx.done"),
    GAUGE(U32, struct skiffif_stats, tx_inflight, "tx.inflight"),
    COUNTER(U64, struct skiffif_stats, tx_csum_offload, "tx.csum_offload"),
    COUNTER(U64, struct skiffif_stats, tx_linearized, "tx.linearized"),
    COUNTER(U64, struct skiffif_stats, tx_retries, "tx.retries"),
    COUNTER(U64, struct skiffif_stats, tx_flushes, "tx.flushes"),
    COUNTER(U64, struct skiffif_stats, tx_gso_frames, "tx.gso_frames"),
    COUNTER(U64, struct skiffif_stats, tx_gso_segments, "tx.gso_segments"),
    COUNTER(U64, struct skiffif_stats, drops.rx_no_pbuf, "drops.rx_no_pbuf"),
    COUNTER(U64, struct skiffif_stats, drops.rx_input, "drops.rx_input"),
    COUNTER(U64, struct skiffif_stats, drops.tx_ring_full,
	    "drops.tx_ring_full"),
    COUNTER(U64, struct skiffif_stats, drops.tx_no_mem, "drops.tx_no_mem"),
    COUNTER(U64, struct skiffif_stats, drops.tx_csum, "drops.tx_csum"),
    COUNTER(U64, struct skiffif_stats, drops.tx_error, "drops.tx_error"),
    GAUGE(U32, struct skiffif_stats, txq.len, "txq.len"),
    GAUGE(U32, struct skiffif_stats, txq.hiwat, "txq.hiwat"),
    GAUGE(U32, struct skiffif_stats, txq.cap, "txq.cap"),
    COUNTER(U64, struct skiffif_stats, txq.queued, "txq.queued"),
    COUNTER(U64, struct skiffif_stats, txq.drops, "txq.drops"),
    COUNTER(U64, struct skiffif_stats, txq.errors, "txq.errors"),
    COUNTER(U64, struct skiffif_stats, txq.stalls, "txq.stalls"),
};
const unsigned skiffif_stats_ndesc = COUNTERS_LEN(skiffif_stats_desc);

int skiffif_stats_format_json(const struct skiffif_stats *s, char *buf,
			      size_t size)
{
	return counters_json(buf, size, skiffif_stats_desc, skiffif_stats_ndesc,
			     s);
}

#define LM(field, name)	 COUNTER_UINT(struct stats_mem, field, name)
#define LMG(field, name) GAUGE_UINT(struct stats_mem, field, name)
const struct counter_desc lwip_mem_counters[] = {
    LMG(used, "used"),
    LMG(max, "max"),
    LMG(avail, "avail"),
    LM(err, "err"),
};
const unsigned lwip_mem_counters_len = COUNTERS_LEN(lwip_mem_counters);
const struct counter_desc lwip_pbuf_pool_counters[] = {
    LMG(used, "pool_used"),
    LMG(max, "pool_max"),
};
const unsigned lwip_pbuf_pool_counters_len =
    COUNTERS_LEN(lwip_pbuf_pool_counters);
const struct counter_desc lwip_pbuf_ref_counters[] = {
    LMG(used, "ref_used"),
    LMG(max, "ref_max"),
};
const unsigned lwip_pbuf_ref_counters_len =
    COUNTERS_LEN(lwip_pbuf_ref_counters);

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
 * TCP segmentation offload (HOST_TSO4 negotiated). lwIP 2.1 builds one
 * MSS-sized segment at a time, so the glue coalesces: low_level_output
 * holds lwIP's frames (referenced) instead of queuing them, and the flush
 * (skiffif_flush, the end of skiffif_poll, or SKIFFIF_TX_FLUSH_BATCH held
 * frames) queues them in order, turning each run of consecutive held
 * frames that are segments of one connection into a single GSO frame:
 * same MACs, IP header (but length, id, checksum), ports, ack, window and
 * TCP options; contiguous sequence numbers; flags ACK, PSH only on the
 * run's last; every payload the first's size (gso_size) but the last's,
 * which may be shorter. Never SYN/FIN/RST/URG/ECN flags. The GSO frame is
 * an edited copy of the first frame's headers (from a preallocated record,
 * which is also the chain's TX cookie and lists the merged pbufs, each
 * freed once on completion) followed by every segment's payload in place,
 * at most VNET_TX_MAX_FRAGS descriptors and 64 KiB. The main loop flushes
 * every round before it can sleep, so nothing is held across a sleep; the
 * hold only lasts while the current round runs. Ring trouble at the flush
 * becomes a counted drop, which TCP repairs by retransmitting. */
#include "skiffif.h"

#include <string.h>

#include "lwip/etharp.h"
#include "lwip/opt.h"
#include "lwip/pbuf.h"
#include "lwip/prot/ethernet.h"
#include "lwip/prot/ip.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "heap.h"
#include "kerrno.h"
#include "printf.h"
#include "xdp_hook.h"

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

/* One received frame lent to lwIP. */
struct skiffif_rx_pbuf {
	struct pbuf_custom pc; /* what lwIP sees; its free fn finds us */
	struct skiffif *sif;
	uint32_t handle;	      /* the RX buffer the pbuf points into */
	struct skiffif_rx_pbuf *next; /* free list link while not lent */
};

/* TSO by coalescing (see the top of the file). A GSO frame's TX cookie:
 * the header the device repeats in every segment (a copy of the first
 * frame's, edited), and the frames whose payloads follow it. */
#define SKIFFIF_GSO_MAX_SEGS (VNET_TX_MAX_FRAGS - 1) /* + the header */
#define SKIFFIF_GSO_HDR_MAX  (SIZEOF_ETH_HDR + 60 + 60)
#define SKIFFIF_GSO_POOL     64

struct skiffif_gso {
	uint8_t hdr[SKIFFIF_GSO_HDR_MAX];
	uint8_t n; /* frames in p[] */
	struct pbuf *p[SKIFFIF_GSO_MAX_SEGS];
	struct skiffif_gso *next; /* free list */
};

/* A frame held until the flush, referenced (p itself or our copy). */
struct skiffif_tx_pend {
	struct pbuf *frame;
	struct vnet_tx_offload off;
	bool csum; /* off describes a device-finished TCP checksum */
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
	unsigned tx_unflushed;	     /* frames queued since the last flush */
	bool tso;		     /* coalesce TCP segments into GSO */
	unsigned tx_npend;	     /* frames held in tx_pend (tso only) */
	struct skiffif_tx_pend tx_pend[SKIFFIF_TX_FLUSH_BATCH];
	struct skiffif_gso *gso_pool; /* SKIFFIF_GSO_POOL records */
	struct skiffif_gso *gso_free;
	/* Frames waiting for TX ring space, in order (netdev/txq.h). */
	struct txq txq;
	struct skiffif_stats stats;
};

static uint32_t skiffif_txqueuelen = TXQ_DEFAULT_LEN;

void skiffif_set_txqueuelen(uint32_t len)
{
	skiffif_txqueuelen = len > TXQ_MAX_LEN ? TXQ_MAX_LEN : len;
}

static uint16_t skiffif_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void skiffif_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Frames are parsed as bytes: a received IP header sits 2 bytes off
 * alignment (ETH_PAD_SIZE 0). */
#define SKIFFIF_ETH_TYPE 12
#define SKIFFIF_IP	 (SIZEOF_ETH_HDR)
#define SKIFFIF_IP_LEN	 (SKIFFIF_IP + 2)
#define SKIFFIF_IP_FRAG	 (SKIFFIF_IP + 6)
#define SKIFFIF_IP_PROTO (SKIFFIF_IP + 9)
#define SKIFFIF_IP_SRC	 (SKIFFIF_IP + 12) /* then the destination */
#define SKIFFIF_TCP_CSUM 16		   /* offset in the TCP header */

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
	sif->tso = sif->tx_csum && vnet_tx_tso(n);
	if (sif->tso) {
		sif->gso_pool =
		    kcalloc(SKIFFIF_GSO_POOL, sizeof(*sif->gso_pool));
		if (!sif->gso_pool)
			return -ENOMEM;
		for (unsigned i = SKIFFIF_GSO_POOL; i-- > 0;) {
			sif->gso_pool[i].next = sif->gso_free;
			sif->gso_free = &sif->gso_pool[i];
		}
	}
	sif->stats.tso_on = sif->tso;
	sif->stats.rx_csum_offload_on = vnet_rx_csum_offload(n);

	/* Link changes arrive as VNET_WORK_CONFIG only with an interrupt. */
	if (!vnet_has_irq(n, VNET_IRQ_CONFIG)) {
		sif->link_timer = true;
		sys_timeout(SKIFFIF_LINK_POLL_MS, skiffif_link_timer, netif);
	}
	return 0;
}

static err_t low_level_output(struct netif *netif, struct pbuf *p);
static void skiffif_tx_done(void *ctx, void *cookie);

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
	if (low_level_init(netif, sif) != 0 ||
	    txq_init(&sif->txq, n, skiffif_txqueuelen, skiffif_tx_done,
		     sif) != 0) {
		kfree(sif->txq.slots);
		kfree(sif->gso_pool);
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

/* A TX cookie is either a pbuf (lwIP's frames) or, with the low bit set,
 * the RX buffer handle of a frame the XDP hook sent back out (XDP_TX):
 * pbufs are at least 4-byte aligned, so the bit is free. */
#define XDP_TX_COOKIE(handle) ((void *)(((uintptr_t)(handle) << 1) | 1))
#define IS_XDP_TX_COOKIE(c) (((uintptr_t)(c)) & 1)
#define XDP_TX_HANDLE(c) ((uint32_t)((uintptr_t)(c) >> 1))

static bool skiffif_is_gso(const struct skiffif *sif, const void *cookie)
{
	const struct skiffif_gso *g = cookie;

	return sif->gso_pool && g >= sif->gso_pool &&
	       g < sif->gso_pool + SKIFFIF_GSO_POOL;
}

/* Frees every frame of a GSO record once and returns it to the pool. */
static void skiffif_gso_put(struct skiffif *sif, struct skiffif_gso *g)
{
	for (unsigned i = 0; i < g->n; i++)
		pbuf_free(g->p[i]);
	g->n = 0;
	g->next = sif->gso_free;
	sif->gso_free = g;
}

static void skiffif_tx_done(void *ctx, void *cookie)
{
	struct skiffif *sif = ctx;

	sif->stats.tx_inflight--;
	sif->stats.tx_done++;
	if (skiffif_is_gso(sif, cookie)) {
		skiffif_gso_put(sif, cookie);
	} else if (IS_XDP_TX_COOKIE(cookie)) {
		vnet_rx_buf_release(sif->vnet, XDP_TX_HANDLE(cookie));
		/* A reclaim may run outside a poll (the TX retry path):
		 * make the next flush repost the buffer. */
		sif->rx_freed_outside = true;
	} else {
		pbuf_free(cookie);
	}
}

err_t skiffif_remove(struct netif *netif)
{
	struct skiffif *sif = netif->state;

	if (sif->stats.rx_pbufs_in_use)
		return ERR_INPROGRESS;
	if (sif->link_timer)
		sys_untimeout(skiffif_link_timer, netif);
	/* Frames held for coalescing never reached the device. */
	for (unsigned i = 0; i < sif->tx_npend; i++)
		pbuf_free(sif->tx_pend[i].frame);
	sif->tx_npend = 0;
	/* Frames waiting for ring space, then (the reset hands them back)
	 * the cookies of unfinished frames on the ring. */
	txq_destroy(&sif->txq);
	vnet_remove(sif->vnet, skiffif_tx_done, sif);
	netif->state = NULL;
	kfree(sif->gso_pool);
	kfree(sif->rx_pool);
	kfree(sif);
	return ERR_OK;
}

struct vnet *skiffif_vnet(const struct netif *netif)
{
	const struct skiffif *sif = netif->state;

	return sif->vnet;
}

/* ---- transmit ------------------------------------------------------------ */

/* Notifies the device of the chains queued since the last notification. */
static void skiffif_kick(struct skiffif *sif)
{
	if (!sif->tx_unflushed)
		return;
	sif->tx_unflushed = 0;
	sif->stats.tx_flushes++;
	vnet_tx_flush(sif->vnet);
}

static void skiffif_tx_drain(struct skiffif *sif);

/* Reclaims finished frames and moves frames waiting in the software queue
 * onto the ring; they go out with the next flush. */
static void skiffif_tx_reap(struct skiffif *sif)
{
	sif->tx_unflushed += txq_drain(&sif->txq);
}

/* Queues the frames held for coalescing, then notifies. */
static void skiffif_flush_now(struct skiffif *sif)
{
	if (sif->tx_npend)
		skiffif_tx_drain(sif);
	skiffif_kick(sif);
}

void skiffif_rx_release(struct netif *netif, uint32_t handle)
{
	struct skiffif *sif = netif->state;

	vnet_rx_buf_release(sif->vnet, handle);
	sif->rx_freed_outside = true;
}

void skiffif_flush(struct netif *netif)
{
	struct skiffif *sif = netif->state;

	/* Completions may have freed ring space since the poll. */
	if (txq_waiting(&sif->txq))
		skiffif_tx_reap(sif);
	skiffif_flush_now(sif);
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

enum skiffif_tx_csum {
	SKIFFIF_CSUM_NONE,   /* not TCP over IPv4: lwIP did the checksums */
	SKIFFIF_CSUM_DEVICE, /* pseudo-header sum written, offload set */
	SKIFFIF_CSUM_SPLIT,  /* headers span pbufs: linearize, then retry */
	SKIFFIF_CSUM_CANNOT, /* TCP the device cannot finish: drop */
};

/* For a device finishing TCP checksums: finds the TCP header in the first
 * pbuf, stores the pseudo-header sum (uncomplemented, as NEEDS_CSUM wants)
 * in its checksum field and describes the partial checksum in *off. */
static enum skiffif_tx_csum skiffif_tx_csum_prepare(struct pbuf *p,
						    struct vnet_tx_offload *off)
{
	uint8_t *f = p->payload;
	unsigned have = p->len, ihl, tcp;
	uint32_t sum;
	uint16_t ip_len;

	if (have < SIZEOF_ETH_HDR)
		return p->tot_len < SIZEOF_ETH_HDR ? SKIFFIF_CSUM_NONE
						   : SKIFFIF_CSUM_SPLIT;
	if (skiffif_get16(f + SKIFFIF_ETH_TYPE) != ETHTYPE_IP)
		return SKIFFIF_CSUM_NONE;
	if (have < SKIFFIF_IP + IP_HLEN)
		return SKIFFIF_CSUM_SPLIT;
	if (f[SKIFFIF_IP] >> 4 != 4 || f[SKIFFIF_IP_PROTO] != IP_PROTO_TCP)
		return SKIFFIF_CSUM_NONE;

	/* From here the segment's checksum is ours to arrange. */
	ihl = (f[SKIFFIF_IP] & 0xfu) * 4;
	ip_len = skiffif_get16(f + SKIFFIF_IP_LEN);
	if (ihl < IP_HLEN ||
	    (skiffif_get16(f + SKIFFIF_IP_FRAG) & (IP_MF | IP_OFFMASK)))
		return SKIFFIF_CSUM_CANNOT;
	tcp = SKIFFIF_IP + ihl;
	if (have < tcp + TCP_HLEN)
		return SKIFFIF_CSUM_SPLIT;
	/* The device sums to the end of the frame: no padding allowed. */
	if (ip_len < ihl + TCP_HLEN || SKIFFIF_IP + ip_len != p->tot_len)
		return SKIFFIF_CSUM_CANNOT;

	sum = IP_PROTO_TCP + (uint32_t)(ip_len - ihl);
	for (unsigned i = 0; i < 8; i += 2) /* source, destination */
		sum += skiffif_get16(f + SKIFFIF_IP_SRC + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	skiffif_put16(f + tcp + SKIFFIF_TCP_CSUM, (uint16_t)sum);
	off->csum_start = (uint16_t)tcp;
	off->csum_offset = SKIFFIF_TCP_CSUM;
	return SKIFFIF_CSUM_DEVICE;
}

/* Queues a frame under cookie (p itself, our copy of it, or an XDP_TX
 * RX-buffer cookie) on the ring, or behind earlier frames in the software
 * queue while the ring is full (txq_xmit() reclaims and retries first).
 * Only a full queue drops: TCP sends the segment again, UDP and ICMP
 * replies are lost and counted. */
static err_t skiffif_tx_queue(struct skiffif *sif,
			      const struct vnet_frag *frags, unsigned nfrags,
			      const struct vnet_tx_offload *csum, void *frame)
{
	int err;

	err = txq_xmit(&sif->txq, frags, nfrags, csum, frame);
	if (err == -ENOBUFS) {
		if (sif->txq.stats.cap == 0) {
			/* No queue configured: the ring was the limit. */
			vnet_tx_drop(sif->vnet);
			sif->stats.drops.tx_ring_full++;
		}
		return ERR_MEM;
	}
	if (err) {
		sif->stats.drops.tx_error++;
		return ERR_IF;
	}
	sif->stats.tx_frames++;
	sif->stats.tx_inflight++;
	if (csum)
		sif->stats.tx_csum_offload++;
	if (++sif->tx_unflushed >= SKIFFIF_TX_FLUSH_BATCH)
		skiffif_kick(sif);
	return ERR_OK;
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
	enum skiffif_tx_csum csum = SKIFFIF_CSUM_NONE;
	struct pbuf *frame = p;
	int nfrags = -1;
	err_t err;

	memset(&off, 0, sizeof(off));
	if (sif->tx_csum)
		csum = skiffif_tx_csum_prepare(p, &off);
	if (csum != SKIFFIF_CSUM_SPLIT)
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
			csum = skiffif_tx_csum_prepare(frame, &off);
	}
	if (csum == SKIFFIF_CSUM_CANNOT || csum == SKIFFIF_CSUM_SPLIT) {
		sif->stats.drops.tx_csum++;
		err = ERR_VAL;
		goto out_free_copy;
	}

	/* Our reference first: the cookie must own one when the device is
	 * done, whoever else still holds p. */
	if (frame == p)
		pbuf_ref(p);
	if (sif->tso) {
		/* Held until the flush, which may merge it with its
		 * neighbours; the flush reports ring trouble as drops (TCP
		 * retransmits, as it does for any loss). */
		struct skiffif_tx_pend *e = &sif->tx_pend[sif->tx_npend++];

		e->frame = frame;
		e->off = off;
		e->csum = csum == SKIFFIF_CSUM_DEVICE;
		if (sif->tx_npend == SKIFFIF_TX_FLUSH_BATCH)
			skiffif_flush_now(sif);
		return ERR_OK;
	}
	err =
	    skiffif_tx_queue(sif, frags, (unsigned)nfrags,
			     csum == SKIFFIF_CSUM_DEVICE ? &off : NULL, frame);
	if (err == ERR_OK)
		return ERR_OK;
	if (frame == p)
		pbuf_free(p); /* the reference taken above */
out_free_copy:
	if (frame != p)
		pbuf_free(frame);
	return err;
}

/* ---- TSO: coalescing held TCP segments ----------------------------------- */

/* What merging needs to know of a held TCP/IPv4 frame. */
struct skiffif_seg {
	const uint8_t *f; /* the frame's first pbuf: all headers are in it */
	unsigned tcp;	  /* offset of the TCP header */
	unsigned hlen;	  /* Ethernet + IP + TCP headers */
	unsigned plen;	  /* payload bytes */
	unsigned nfrags;  /* descriptors its payload takes */
	uint32_t seq;
	uint8_t flags;
};

static uint32_t skiffif_get32(const uint8_t *p)
{
	return (uint32_t)skiffif_get16(p) << 16 | skiffif_get16(p + 2);
}

/* Fragments of p's bytes from offset skip to the end of the packet, into
 * frags (NULL: only counted); -1 past VNET_TX_MAX_FRAGS. */
static int skiffif_payload_frags(struct pbuf *p, unsigned skip,
				 struct vnet_frag *frags)
{
	int n = 0;

	for (struct pbuf *q = p; q; q = q->next) {
		if (q->len > skip) {
			if (n == VNET_TX_MAX_FRAGS)
				return -1;
			if (frags) {
				frags[n].data = (uint8_t *)q->payload + skip;
				frags[n].len = q->len - skip;
			}
			n++;
		}
		skip = skip > q->len ? skip - q->len : 0;
		if (q->len == q->tot_len)
			break;
	}
	return n;
}

/* Whether e can take part in a GSO frame: a TCP/IPv4 data segment with
 * the device finishing its checksum (skiffif_tx_csum_prepare vouched for
 * an unfragmented IPv4 packet that ends the frame), its headers in the first
 * pbuf, and flags no merge changes the meaning of: ACK, maybe PSH. */
static bool skiffif_seg_parse(const struct skiffif_tx_pend *e,
			      struct skiffif_seg *s)
{
	const struct pbuf *p = e->frame;
	const uint8_t *f = p->payload;
	unsigned thl;
	int nf;

	if (!e->csum || e->off.csum_offset != SKIFFIF_TCP_CSUM)
		return false;
	s->f = f;
	s->tcp = e->off.csum_start;
	if (p->len < s->tcp + TCP_HLEN)
		return false;
	thl = (f[s->tcp + 12] >> 4) * 4u;
	s->hlen = s->tcp + thl;
	if (thl < TCP_HLEN || s->hlen > SKIFFIF_GSO_HDR_MAX ||
	    p->len < s->hlen || p->tot_len <= s->hlen)
		return false;
	s->plen = p->tot_len - s->hlen;
	s->flags = f[s->tcp + 13];
	if ((s->flags & (uint8_t) ~(TCP_ACK | TCP_PSH)) ||
	    !(s->flags & TCP_ACK))
		return false;
	nf = skiffif_payload_frags((struct pbuf *)p, s->hlen, NULL);
	if (nf <= 0)
		return false;
	s->nfrags = (unsigned)nf;
	s->seq = skiffif_get32(f + s->tcp + 4);
	return true;
}

/* Whether s continues the run that starts with s0 and ends with prev:
 * the same headers byte for byte except the IP length, id and checksum and
 * the TCP sequence number, flags and checksum; the next sequence number;
 * prev a full segment without PSH, s no larger. */
static bool skiffif_seg_follows(const struct skiffif_seg *s0,
				const struct skiffif_seg *prev,
				const struct skiffif_seg *s)
{
	const uint8_t *a = s0->f, *b = s->f;
	unsigned t = s0->tcp;

	if (s->tcp != t || s->hlen != s0->hlen)
		return false;
	if (prev->plen != s0->plen || (prev->flags & TCP_PSH) ||
	    s->plen > s0->plen || s->seq != prev->seq + prev->plen)
		return false;
	if (memcmp(a, b, SKIFFIF_IP_LEN) != 0 || /* MACs, type, tos */
	    memcmp(a + SKIFFIF_IP_FRAG, b + SKIFFIF_IP_FRAG, 4) != 0 ||
	    memcmp(a + SKIFFIF_IP_SRC, b + SKIFFIF_IP_SRC,
		   t - SKIFFIF_IP_SRC) != 0 ||	      /* addresses, options */
	    memcmp(a + t, b + t, 4) != 0 ||	      /* ports */
	    memcmp(a + t + 8, b + t + 8, 5) != 0 ||   /* ack, offset */
	    memcmp(a + t + 14, b + t + 14, 2) != 0 || /* window */
	    memcmp(a + t + 18, b + t + 18, s0->hlen - t - 18) != 0)
		return false; /* urgent pointer, options */
	return true;
}

/* How many held frames from i on make one GSO frame (1: none). */
static unsigned skiffif_gso_run(struct skiffif *sif, unsigned i,
				struct skiffif_seg *segs)
{
	unsigned n = 1, frags, bytes;

	if (!skiffif_seg_parse(&sif->tx_pend[i], &segs[0]))
		return 1;
	frags = 1 + segs[0].nfrags;
	bytes = segs[0].hlen + segs[0].plen;
	while (i + n < sif->tx_npend && n < SKIFFIF_GSO_MAX_SEGS) {
		struct skiffif_seg *s = &segs[n];

		if (!skiffif_seg_parse(&sif->tx_pend[i + n], s) ||
		    !skiffif_seg_follows(&segs[0], &segs[n - 1], s) ||
		    frags + s->nfrags > VNET_TX_MAX_FRAGS ||
		    bytes + s->plen > VNET_GSO_MAX_FRAME)
			break;
		frags += s->nfrags;
		bytes += s->plen;
		n++;
	}
	return n;
}

/* Queues held frames i .. i+n-1 as one GSO frame: an edited copy of the
 * first frame's headers (as Linux builds a TSO packet: IP total length of
 * the whole, the first id, the header checksum recomputed; PSH if the
 * last segment had it; the TCP field holds the pseudo-header sum over the
 * whole TCP length, which segmentation adjusts per segment), then every
 * frame's payload in place. Returns false, having done nothing, when no
 * record is free; true when queued or dropped (the frames then freed). */
static bool skiffif_tx_gso(struct skiffif *sif, unsigned i, unsigned n,
			   const struct skiffif_seg *segs)
{
	struct vnet_frag frags[VNET_TX_MAX_FRAGS];
	struct vnet_tx_offload off;
	struct skiffif_gso *g = sif->gso_free;
	const struct skiffif_seg *s0 = &segs[0];
	unsigned nf = 1, tcp_len = s0->hlen - s0->tcp, ihl;
	uint8_t *h;
	uint32_t sum = 0;

	if (!g)
		return false;
	sif->gso_free = g->next;
	g->next = NULL;
	h = g->hdr;
	memcpy(h, s0->f, s0->hlen);
	frags[0].data = h;
	frags[0].len = s0->hlen;
	for (unsigned k = 0; k < n; k++) {
		struct pbuf *p = sif->tx_pend[i + k].frame;

		nf += (unsigned)skiffif_payload_frags(p, s0->hlen, frags + nf);
		g->p[k] = p;
		tcp_len += segs[k].plen;
	}
	g->n = (uint8_t)n;
	if (segs[n - 1].flags & TCP_PSH)
		h[s0->tcp + 13] |= TCP_PSH;

	ihl = s0->tcp - SKIFFIF_IP;
	skiffif_put16(h + SKIFFIF_IP_LEN, (uint16_t)(ihl + tcp_len));
	skiffif_put16(h + SKIFFIF_IP + 10, 0);
	for (unsigned k = 0; k < ihl; k += 2)
		sum += skiffif_get16(h + SKIFFIF_IP + k);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	skiffif_put16(h + SKIFFIF_IP + 10, (uint16_t)~sum);

	sum = IP_PROTO_TCP + tcp_len;
	for (unsigned k = 0; k < 8; k += 2)
		sum += skiffif_get16(h + SKIFFIF_IP_SRC + k);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	skiffif_put16(h + s0->tcp + SKIFFIF_TCP_CSUM, (uint16_t)sum);

	memset(&off, 0, sizeof(off));
	off.csum_start = (uint16_t)s0->tcp;
	off.csum_offset = SKIFFIF_TCP_CSUM;
	off.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	off.gso_size = (uint16_t)s0->plen;
	off.hdr_len = (uint16_t)s0->hlen;
	if (skiffif_tx_queue(sif, frags, nf, &off, g) != ERR_OK) {
		skiffif_gso_put(sif, g);
		return true;
	}
	sif->stats.tx_gso_frames++;
	sif->stats.tx_gso_segments += n;
	return true;
}

/* One held frame as it is. */
static void skiffif_tx_single(struct skiffif *sif, struct skiffif_tx_pend *e)
{
	struct vnet_frag frags[VNET_TX_MAX_FRAGS];
	int nf = skiffif_tx_frags(e->frame, frags);

	/* Cannot fail: longer chains were linearized before being held. */
	if (nf < 0 ||
	    skiffif_tx_queue(sif, frags, (unsigned)nf, e->csum ? &e->off : NULL,
			     e->frame) != ERR_OK)
		pbuf_free(e->frame);
}

/* Queues every held frame, merging runs of one connection's segments. */
static void skiffif_tx_drain(struct skiffif *sif)
{
	struct skiffif_seg segs[SKIFFIF_GSO_MAX_SEGS];
	unsigned i = 0;

	while (i < sif->tx_npend) {
		unsigned n = skiffif_gso_run(sif, i, segs);

		if (n > 1 && skiffif_tx_gso(sif, i, n, segs)) {
			i += n;
			continue;
		}
		skiffif_tx_single(sif, &sif->tx_pend[i]);
		i++;
	}
	sif->tx_npend = 0;
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

	vnet_rx_buf_release(sif->vnet, rp->handle);
	rp->next = sif->rx_free;
	sif->rx_free = rp;
	sif->stats.rx_pbufs_in_use--;
	sif->stats.rx_released++;
	if (!sif->in_poll)
		sif->rx_freed_outside = true;
}

/* Wraps the frame, in place, in a custom pbuf. NULL (buffer released,
 * drop counted) if there is none left. */
static struct pbuf *low_level_input(struct skiffif *sif, void *frame,
				    uint32_t len, uint32_t handle)
{
	struct skiffif_rx_pbuf *rp = sif->rx_free;
	struct pbuf *p;

	if (!rp) {
		sif->stats.drops.rx_no_pbuf++;
		vnet_rx_buf_release(sif->vnet, handle);
		return NULL;
	}
	/* PBUF_REF, not PBUF_RAM: lwIP must not grow headers into the bytes
	 * before the frame (our virtio_net_hdr), so an ICMP echo reply, for
	 * one, is built in a fresh pbuf rather than in the RX buffer. */
	p = pbuf_alloced_custom(PBUF_RAW, (u16_t)len, PBUF_REF, &rp->pc, frame,
				(u16_t)len);
	if (!p) { /* cannot happen: the length is the buffer's */
		sif->stats.drops.rx_input++;
		vnet_rx_buf_release(sif->vnet, handle);
		return NULL;
	}
	sif->rx_free = rp->next;
	rp->next = NULL;
	rp->handle = handle;
	if (++sif->stats.rx_pbufs_in_use > sif->stats.rx_pbufs_peak)
		sif->stats.rx_pbufs_peak = sif->stats.rx_pbufs_in_use;
	return p;
}

/* Whether DATA_VALID lets lwIP skip the transport checksum (see the top
 * of the file): unfragmented IPv4 only. */
static bool skiffif_rx_csum_trusted(const uint8_t *f, uint32_t len)
{
	if (len < SKIFFIF_IP + IP_HLEN ||
	    skiffif_get16(f + SKIFFIF_ETH_TYPE) != ETHTYPE_IP ||
	    f[SKIFFIF_IP] >> 4 != 4)
		return false;
	return !(skiffif_get16(f + SKIFFIF_IP_FRAG) & (IP_MF | IP_OFFMASK));
}

/* vnet_rx_poll() callback: one frame into lwIP. */
/* XDP_TX: the frame goes back out from its own RX buffer, no copy; the
 * buffer returns to the pool when the device is done sending it. */
static void skiffif_xdp_tx(struct skiffif *sif, void *frame, uint32_t len,
			   uint32_t handle)
{
	struct vnet_frag frag = {frame, len};

	if (skiffif_tx_queue(sif, &frag, 1, NULL, XDP_TX_COOKIE(handle)) !=
	    ERR_OK) {
		xdp_hook_count_tx_failed();
		vnet_rx_buf_release(sif->vnet, handle);
	}
}

/* Runs the attached program; true when it consumed the frame. */
static bool skiffif_xdp(struct skiffif *sif, void *frame, uint32_t len,
			uint32_t handle, uint8_t flags)
{
	switch (xdp_hook_run(frame, len, flags, 0)) {
	case EBPF_XDP_PASS:
		return false;
	case EBPF_XDP_TX:
		skiffif_xdp_tx(sif, frame, len, handle);
		return true;
	case EBPF_XDP_REDIRECT:
		if (!xsk_push(frame, len, handle))
			vnet_rx_buf_release(sif->vnet, handle);
		return true;
	default: /* DROP */
		vnet_rx_buf_release(sif->vnet, handle);
		return true;
	}
}

static void skiffif_rx_frame(void *ctx, void *frame, uint32_t len,
			     uint32_t handle, uint8_t flags)
{
	struct skiffif *sif = ctx;
	struct netif *netif = sif->netif;
	struct pbuf *p;
	bool trusted;

	/* The hook: with no program attached, this branch is all it costs. */
	if (__builtin_expect(xdp_hook_prog != NULL, 0) &&
	    skiffif_xdp(sif, frame, len, handle, flags))
		return;
	p = low_level_input(sif, frame, len, handle);
	if (!p)
		return;
	sif->stats.rx_frames++;
	trusted = (flags & VIRTIO_NET_HDR_F_DATA_VALID) &&
		  skiffif_rx_csum_trusted(frame, len);
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
	skiffif_tx_reap(sif);
	st = vnet_rx_poll(n, budget, skiffif_rx_frame, sif);
	sif->rx_freed_outside = false;
	if (st >= 0 && (st & VNET_RX_REFILL)) {
		vnet_rx_refill(n);
		st &= ~VNET_RX_REFILL;
	}
	sif->in_poll = false;
	skiffif_flush_now(sif);
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

	return txq_waiting(&sif->txq);
}

void skiffif_get_stats(const struct netif *netif, struct skiffif_stats *out)
{
	const struct skiffif *sif = netif->state;

	*out = sif->stats;
	out->tx_retries = sif->txq.stats.retries;
	out->txq = sif->txq.stats;
}

static unsigned long long skiffif_u(uint64_t v)
{
	return (unsigned long long)v;
}

int skiffif_stats_format_json(const struct skiffif_stats *s, char *buf,
			      size_t size)
{
	const struct skiffif_drops *d = &s->drops;

	return ksnprintf(
	    buf, size,
	    "{\"link_up\":%s,\"link_changes\":%llu,"
	    "\"csum_offload\":{\"tx_tcp\":%s,\"rx\":%s},\"tso\":%s,"
	    "\"rx\":{\"frames\":%llu,\"csum_trusted\":%llu,"
	    "\"released\":%llu,\"pbufs_in_use\":%u,\"pbufs_peak\":%u,"
	    "\"pbufs_total\":%u},"
	    "\"tx\":{\"frames\":%llu,\"done\":%llu,\"inflight\":%u,"
	    "\"csum_offload\":%llu,\"linearized\":%llu,\"retries\":%llu,"
	    "\"flushes\":%llu,\"gso_frames\":%llu,\"gso_segments\":%llu},"
	    "\"drops\":{\"rx_no_pbuf\":%llu,\"rx_input\":%llu,"
	    "\"tx_ring_full\":%llu,\"tx_no_mem\":%llu,\"tx_csum\":%llu,"
	    "\"tx_error\":%llu},"
	    "\"txq\":{\"len\":%u,\"hiwat\":%u,\"cap\":%u,\"queued\":%llu,"
	    "\"drops\":%llu,\"errors\":%llu,\"stalls\":%llu}}",
	    s->link_up ? "true" : "false", skiffif_u(s->link_changes),
	    s->tx_csum_offload_on ? "true" : "false",
	    s->rx_csum_offload_on ? "true" : "false",
	    s->tso_on ? "true" : "false", skiffif_u(s->rx_frames),
	    skiffif_u(s->rx_csum_trusted), skiffif_u(s->rx_released),
	    s->rx_pbufs_in_use, s->rx_pbufs_peak, s->rx_pbufs_total,
	    skiffif_u(s->tx_frames), skiffif_u(s->tx_done), s->tx_inflight,
	    skiffif_u(s->tx_csum_offload), skiffif_u(s->tx_linearized),
	    skiffif_u(s->tx_retries), skiffif_u(s->tx_flushes),
	    skiffif_u(s->tx_gso_frames), skiffif_u(s->tx_gso_segments),
	    skiffif_u(d->rx_no_pbuf), skiffif_u(d->rx_input),
	    skiffif_u(d->tx_ring_full), skiffif_u(d->tx_no_mem),
	    skiffif_u(d->tx_csum), skiffif_u(d->tx_error), s->txq.len,
	    s->txq.hiwat, s->txq.cap, skiffif_u(s->txq.queued),
	    skiffif_u(s->txq.drops), skiffif_u(s->txq.errors),
	    skiffif_u(s->txq.stalls));
}

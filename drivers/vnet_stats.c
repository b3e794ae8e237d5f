/* virtio-net counters of one queue pair, and their /stats table. */
#include "drivers/vnet_var.h"

void vnet_get_stats(const struct vnet *n, struct vnet_stats *out)
{
	*out = n->stats;
	out->drops.bad_id = n->rxq.stats.bad_id + n->rxq.stats.bad_idx +
			    n->txq.stats.bad_id + n->txq.stats.bad_idx;
	out->rx_notifications = n->rxq.stats.notifications;
	out->rx_kicks_suppressed = n->rxq.stats.kicks_suppressed;
	out->tx_notifications = n->txq.stats.notifications;
	out->tx_kicks_suppressed = n->txq.stats.kicks_suppressed;
	out->rx_ring_size = n->rxq.num;
	out->rx_posted = n->rx_posted;
	out->rx_lent = n->rx_lent;
	out->rx_pool_free = n->rx_nfree;
	out->rx_pool_size = n->nbufs;
	out->rx_target = n->rx_target;
	out->rx_adaptive = n->rx_adaptive;
	out->tx_ring_size = n->txq.num;
	out->tx_inflight = n->tx_inflight;
	out->tx_indirect = n->txq.stats.indirect;
	out->link_up = n->nd->link_up;
	out->queue_pair = n->pair;
	out->queue_pairs = n->nd->npairs;
	out->rss = n->nd->rss;
	out->broken = vq_is_broken(&n->rxq) || vq_is_broken(&n->txq);
}

/* Appends a batch-size histogram, as JSON array members or as text. */

#define VS(type, field, name) COUNTER(type, struct vnet_stats, field, name)
#define VG(type, field, name) GAUGE(type, struct vnet_stats, field, name)
const struct counter_desc vnet_stats_counters[] = {
    VS(BOOL, link_up, "link_up"),
    VS(BOOL, broken, "broken"),
    VS(U64, rx_packets, "rx_packets"),
    VS(U64, rx_bytes, "rx_bytes"),
    VS(U64, tx_packets, "tx_packets"),
    VS(U64, tx_bytes, "tx_bytes"),
    VS(U64, drops.ring_full, "drops.ring_full"),
    VS(U64, drops.bad_len, "drops.bad_len"),
    VS(U64, drops.bad_id, "drops.bad_id"),
    VS(U64, drops.no_buffer, "drops.no_buffer"),
    VS(U64, drops.too_short, "drops.too_short"),
    VS(U64, drops.bad_hdr, "drops.bad_hdr"),
    VS(U64, tx_ring_full, "tx_ring_full"),
    VS(U64, irqs[VNET_IRQ_RX], "irqs.rx"),
    VS(U64, irqs[VNET_IRQ_TX], "irqs.tx"),
    VS(U64, irqs[VNET_IRQ_CONFIG], "irqs.config"),
    VS(U64, polls, "polls"),
    VS(U64, empty_polls, "empty_polls"),
    VS(U64, rx_notifications, "notify.rx"),
    VS(U64, rx_kicks_suppressed, "notify.rx_suppressed"),
    VS(U64, rx_sibling_notifications, "notify.rx_siblings"),
    VS(U64, tx_notifications, "notify.tx"),
    VS(U64, tx_kicks_suppressed, "notify.tx_suppressed"),
    COUNTER_ARRAY(U64, struct vnet_stats, rx_batch, VNET_HIST_BUCKETS,
		  "rx_batch_log2"),
    COUNTER_ARRAY(U64, struct vnet_stats, tx_batch, VNET_HIST_BUCKETS,
		  "tx_batch_log2"),
    VG(U32, rx_ring_size, "rx_ring.size"),
    VG(U32, rx_posted, "rx_ring.posted"),
    VG(U32, rx_lent, "rx_ring.lent"),
    VG(U32, rx_pool_free, "rx_ring.pool_free"),
    VG(U32, rx_pool_size, "rx_ring.pool_size"),
    VG(U32, rx_target, "rx_ring.target"),
    VS(BOOL, rx_adaptive, "rx_ring.adaptive"),
    VS(U64, rx_target_grows, "rx_ring.grows"),
    VS(U64, rx_target_shrinks, "rx_ring.shrinks"),
    VG(U32, tx_ring_size, "tx_ring.size"),
    VG(U32, tx_inflight, "tx_ring.inflight"),
    VS(U64, tx_indirect, "tx_ring.indirect"),
    VG(U32, queue_pair, "queue"),
    VG(U32, queue_pairs, "queue_pairs"),
    VS(BOOL, rss, "rss"),
};
const unsigned vnet_stats_counters_len = COUNTERS_LEN(vnet_stats_counters);

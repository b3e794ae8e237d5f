/* The virtio-net driver's counters as text (the console's `stats: driver`
 * lines) and as JSON (the "driver" member of /stats). The driver exports
 * struct vnet_stats (vnet_get_stats) and its table (vnet_stats_counters)
 * and never formats; the application does, here: the JSON and the console's
 * name-value lines (drops, irqs) from the table, the other console lines,
 * whose layout is not name-value pairs, by hand. Exercised by
 * tests/unit/test_virtio_net.c and by `make run CMDLINE=net.stats=1`. */
#include "app/driver_stats.h"

#include <stdbool.h>

#include "kernel/counters.h"
#include "kernel/kbuf.h"

static void vnet_fmt_hist(struct kbuf *f, const uint64_t *hist)
{
	for (unsigned b = 0; b < VNET_HIST_BUCKETS; b++)
		kbuf_printf(f, " %u%s:%llu", 1u << b,
			    b == VNET_HIST_BUCKETS - 1 ? "+" : "",
			    (unsigned long long)hist[b]);
}

static unsigned long long vnet_u(uint64_t v)
{
	return (unsigned long long)v;
}

int vnet_stats_format_text(const struct vnet_stats *s, char *buf, size_t size)
{
	struct kbuf f = {buf, size, 0};

	if (size)
		buf[0] = '\0';
	kbuf_printf(&f, "link %s%s\n", s->link_up ? "up" : "down",
		    s->broken ? " BROKEN" : "");
	kbuf_printf(&f,
		    "rx %llu pkts %llu bytes, posted %u/%u, lent %u, "
		    "pool free %u/%u\n",
		    vnet_u(s->rx_packets), vnet_u(s->rx_bytes), s->rx_posted,
		    s->rx_ring_size, s->rx_lent, s->rx_pool_free,
		    s->rx_pool_size);
	kbuf_printf(&f, "rx target %u%s, grows %llu shrinks %llu\n",
		    s->rx_target, s->rx_adaptive ? " (adaptive)" : "",
		    vnet_u(s->rx_target_grows), vnet_u(s->rx_target_shrinks));
	kbuf_printf(&f,
		    "tx %llu pkts %llu bytes, in flight %u/%u, ring full "
		    "%llu, indirect %llu\n",
		    vnet_u(s->tx_packets), vnet_u(s->tx_bytes), s->tx_inflight,
		    s->tx_ring_size, vnet_u(s->tx_ring_full),
		    vnet_u(s->tx_indirect));
	/* The two lines that are name-value pairs come from the table. */
	kbuf_printf(&f, "drops");
	counters_text_members(&f, vnet_stats_counters, vnet_stats_counters_len,
			      s, "drops.");
	kbuf_printf(&f, "\nirqs");
	counters_text_members(&f, vnet_stats_counters, vnet_stats_counters_len,
			      s, "irqs.");
	kbuf_printf(&f, ", polls %llu empty %llu\n", vnet_u(s->polls),
		    vnet_u(s->empty_polls));
	kbuf_printf(&f,
		    "notify rx %llu (suppressed %llu, siblings %llu) tx %llu "
		    "(suppressed %llu)\n",
		    vnet_u(s->rx_notifications), vnet_u(s->rx_kicks_suppressed),
		    vnet_u(s->rx_sibling_notifications),
		    vnet_u(s->tx_notifications),
		    vnet_u(s->tx_kicks_suppressed));
	kbuf_printf(&f, "rx batch");
	vnet_fmt_hist(&f, s->rx_batch);
	kbuf_printf(&f, "\ntx batch");
	vnet_fmt_hist(&f, s->tx_batch);
	kbuf_printf(&f, "\n");
	return (int)f.len;
}

int vnet_stats_format_json(const struct vnet_stats *s, char *buf, size_t size)
{
	return counters_json(buf, size, vnet_stats_counters,
			     vnet_stats_counters_len, s);
}

void vnet_stats_add(struct vnet_stats *sum, const struct vnet_stats *s)
{
	for (unsigned i = 0; i < vnet_stats_counters_len; i++) {
		const struct counter_desc *d = &vnet_stats_counters[i];
		unsigned n = d->count ? d->count : 1;

		for (unsigned k = 0; k < n; k++) {
			if (d->type == COUNTER_U64) {
				uint64_t *a =
				    (uint64_t *)((char *)sum + d->offset) + k;
				*a += *((const uint64_t *)((const char *)s +
							   d->offset) +
					k);
			} else if (d->type == COUNTER_U32) {
				uint32_t *a =
				    (uint32_t *)((char *)sum + d->offset) + k;
				*a += *((const uint32_t *)((const char *)s +
							   d->offset) +
					k);
			}
		}
	}
	sum->broken = sum->broken || s->broken;
}

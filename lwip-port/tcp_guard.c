/* See tcp_guard.h. The half-open connections are found by walking lwIP's
 * active list (at most MEMP_NUM_TCP_PCB entries) on each SYN to a
 * listener: no bookkeeping of our own that could drift from lwIP's. */
#include "lwip-port/tcp_guard.h"

#include "lwip/memp.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"

#include <stdbool.h>
#include <string.h>

static struct tcp_guard_stats guard = {
    .max_half_open = TCP_GUARD_DEFAULT_HALF_OPEN,
};

void tcp_guard_set_max_half_open(uint32_t n)
{
	guard.max_half_open = n ? n : TCP_GUARD_DEFAULT_HALF_OPEN;
}

/* The half-open connections of one listener and of all, with the oldest
 * of each (NULL when there is none). */
struct guard_census {
	uint32_t mine, all;
	struct tcp_pcb *oldest_mine, *oldest_all;
};

static bool guard_older(const struct tcp_pcb *a, const struct tcp_pcb *b)
{
	/* tmr is the tcp_ticks of the PCB's last activity. */
	return !b || (u32_t)(tcp_ticks - a->tmr) > (u32_t)(tcp_ticks - b->tmr);
}

static void guard_scan(const struct tcp_pcb_listen *listener,
		       struct guard_census *c)
{
	memset(c, 0, sizeof(*c));
	for (struct tcp_pcb *p = tcp_active_pcbs; p; p = p->next) {
		if (p->state != SYN_RCVD)
			continue;
		c->all++;
		if (guard_older(p, c->oldest_all))
			c->oldest_all = p;
		if (p->listener != listener)
			continue;
		c->mine++;
		if (guard_older(p, c->oldest_mine))
			c->oldest_mine = p;
	}
	if (c->all > guard.half_open_peak)
		guard.half_open_peak = c->all;
}

static uint32_t guard_free_pcbs(void)
{
	const struct stats_mem *m = lwip_stats.memp[MEMP_TCP_PCB];

	return m->avail > m->used ? (uint32_t)(m->avail - m->used) : 0;
}

err_t tcp_guard_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr, u16_t optlen,
			 u16_t opt1len, u8_t *opt2, struct pbuf *p)
{
	u16_t flags = TCPH_FLAGS(hdr);
	struct guard_census c;

	if (pcb->state != LISTEN ||
	    (flags & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN)
		return ERR_OK;
	guard.syns++;
	guard_scan((const struct tcp_pcb_listen *)pcb, &c);
	/* No RST for an evicted connection: its peer never answered. */
	if (c.oldest_mine && c.mine >= guard.max_half_open) {
		tcp_abandon(c.oldest_mine, 0);
		guard.evicted_listener++;
	} else if (c.oldest_all && guard_free_pcbs() < TCP_GUARD_PCB_RESERVE) {
		tcp_abandon(c.oldest_all, 0);
		guard.evicted_pressure++;
	}
	return ERR_OK;
}

void tcp_guard_get_stats(struct tcp_guard_stats *out)
{
	struct guard_census c;

	guard_scan(NULL, &c);
	guard.half_open = c.all;
	*out = guard;
}

/* See tcp_reaper.h. Ages come from lwIP's own pcb->tmr: the tcp_ticks of
 * the last segment received, frozen once the service closed the receive
 * side (tcp_in.c stops updating it under TF_RXCLOSED), so for an orphan it
 * is "silent since at least the close". */
#include "lwip-port/tcp_reaper.h"

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#include <stdbool.h>

#define TCP_REAPER_PERIOD_MS 1000

static struct tcp_reaper_stats reaper = {
    .fin_timeout_s = TCP_REAPER_DEFAULT_FIN_TIMEOUT_S,
    .giveup_s = TCP_REAPER_DEFAULT_GIVEUP_S,
};

void tcp_reaper_set_limits(uint32_t fin_timeout_s, uint32_t giveup_s)
{
	reaper.fin_timeout_s =
	    fin_timeout_s ? fin_timeout_s : TCP_REAPER_DEFAULT_FIN_TIMEOUT_S;
	reaper.giveup_s = giveup_s ? giveup_s : TCP_REAPER_DEFAULT_GIVEUP_S;
}

static u32_t ticks_of(uint32_t seconds)
{
	return (u32_t)(seconds * (1000 / TCP_SLOW_INTERVAL));
}

static bool is_orphan(const struct tcp_pcb *p)
{
	return (p->flags & TF_RXCLOSED) &&
	       (p->state == FIN_WAIT_1 || p->state == FIN_WAIT_2 ||
		p->state == CLOSING || p->state == LAST_ACK);
}

/* Stalled: our data is not getting through. */
static bool is_stalled(const struct tcp_pcb *p)
{
	return p->nrtx > 0 || p->persist_backoff > 0 ||
	       (!p->unsent && !p->unacked) || p->state != FIN_WAIT_1;
}

static bool should_reap(const struct tcp_pcb *p, bool *orphan)
{
	u32_t silent = (u32_t)(tcp_ticks - p->tmr);

	*orphan = is_orphan(p);
	if (*orphan)
		return (silent > ticks_of(reaper.fin_timeout_s) &&
			is_stalled(p)) ||
		       silent > ticks_of(reaper.fin_timeout_s *
					 TCP_REAPER_ORPHAN_MAX_FACTOR);
	if (p->state != ESTABLISHED && p->state != CLOSE_WAIT &&
	    p->state != FIN_WAIT_1 && p->state != CLOSING &&
	    p->state != LAST_ACK)
		return false;
	return (p->unsent || p->unacked) && silent > ticks_of(reaper.giveup_s);
}

static void count_states(void)
{
	struct tcp_reaper_stats *r = &reaper;

	r->syn_rcvd = r->established = r->fin_wait_1 = r->fin_wait_2 = 0;
	r->close_wait = r->closing = r->last_ack = r->time_wait = 0;
	r->orphans = 0;
	for (struct tcp_pcb *p = tcp_active_pcbs; p; p = p->next) {
		switch (p->state) {
		case SYN_RCVD:
			r->syn_rcvd++;
			break;
		case ESTABLISHED:
			r->established++;
			break;
		case FIN_WAIT_1:
			r->fin_wait_1++;
			break;
		case FIN_WAIT_2:
			r->fin_wait_2++;
			break;
		case CLOSE_WAIT:
			r->close_wait++;
			break;
		case CLOSING:
			r->closing++;
			break;
		case LAST_ACK:
			r->last_ack++;
			break;
		default:
			break;
		}
		if (is_orphan(p))
			r->orphans++;
	}
	for (struct tcp_pcb *p = tcp_tw_pcbs; p; p = p->next)
		r->time_wait++;
}

void tcp_reaper_sweep(void)
{
	struct tcp_pcb *p = tcp_active_pcbs;

	reaper.sweeps++;
	while (p) {
		struct tcp_pcb *next = p->next;
		bool orphan;

		if (should_reap(p, &orphan)) {
			/* tcp_abort() frees p (a RST goes out, in case the
			 * peer is still there) and calls the service's err
			 * callback, which may free other PCBs: start over,
			 * the list is short and the reaped PCB is gone. */
			if (orphan)
				reaper.orphans_reaped++;
			else
				reaper.stalled_reaped++;
			tcp_abort(p);
			next = tcp_active_pcbs;
		}
		p = next;
	}
	count_states();
}

static void reaper_tick(void *arg)
{
	(void)arg;
	tcp_reaper_sweep();
	sys_timeout(TCP_REAPER_PERIOD_MS, reaper_tick, NULL);
}

void tcp_reaper_start(void)
{
	sys_timeout(TCP_REAPER_PERIOD_MS, reaper_tick, NULL);
}

#define TR(type, field) COUNTER(type, struct tcp_reaper_stats, field, #field)
const struct counter_desc tcp_reaper_counters[] = {
    TR(U64, sweeps),
    TR(U64, orphans_reaped),
    TR(U64, stalled_reaped),
    GAUGE(U32, struct tcp_reaper_stats, fin_timeout_s, "fin_timeout_s"),
    GAUGE(U32, struct tcp_reaper_stats, giveup_s, "giveup_s"),
    GAUGE(U32, struct tcp_reaper_stats, syn_rcvd, "pcbs.syn_rcvd"),
    GAUGE(U32, struct tcp_reaper_stats, established, "pcbs.established"),
    GAUGE(U32, struct tcp_reaper_stats, fin_wait_1, "pcbs.fin_wait_1"),
    GAUGE(U32, struct tcp_reaper_stats, fin_wait_2, "pcbs.fin_wait_2"),
    GAUGE(U32, struct tcp_reaper_stats, close_wait, "pcbs.close_wait"),
    GAUGE(U32, struct tcp_reaper_stats, closing, "pcbs.closing"),
    GAUGE(U32, struct tcp_reaper_stats, last_ack, "pcbs.last_ack"),
    GAUGE(U32, struct tcp_reaper_stats, time_wait, "pcbs.time_wait"),
    GAUGE(U32, struct tcp_reaper_stats, orphans, "pcbs.orphans"),
};
const unsigned tcp_reaper_counters_len = COUNTERS_LEN(tcp_reaper_counters);

void tcp_reaper_get_stats(struct tcp_reaper_stats *out)
{
	count_states();
	*out = reaper;
}

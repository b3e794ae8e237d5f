/* See tcp_budget.h. */
#include "lwip-port/tcp_budget.h"

#include "lwip/memp.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"

#include "kernel/kbuf.h"

#include <string.h>

struct budget {
	char name[TCP_BUDGET_NAME_MAX];
	struct tcp_budget_stats s;
};

static struct budget budgets[TCP_BUDGET_MAX_SERVICES];
static unsigned nbudgets;
/* The sum of every service's segs_min: tcp_budget_may_queue() runs on
 * every write, and its fast path needs only this. */
static uint32_t segs_min_all;
/* The census: PCBs in TIME_WAIT (free for our purpose), and when it was
 * taken (sys_now() + 1, 0 = never). */
static uint32_t census_tw;
static u32_t census_stamp;

int tcp_budget_add(const char *name, uint16_t port, uint32_t min_pcbs,
		   uint32_t min_segs)
{
	struct budget *b;

	if (nbudgets == TCP_BUDGET_MAX_SERVICES)
		return -1;
	b = &budgets[nbudgets++];
	memset(b, 0, sizeof(*b));
	for (size_t i = 0; i + 1 < sizeof(b->name) && name[i]; i++)
		b->name[i] = name[i];
	b->s.port = port;
	b->s.pcbs_min = min_pcbs;
	b->s.segs_min = min_segs;
	segs_min_all += min_segs;
	return 0;
}

static struct budget *budget_of(uint16_t port)
{
	for (unsigned i = 0; i < nbudgets; i++)
		if (budgets[i].s.port == port)
			return &budgets[i];
	return NULL;
}

static uint32_t seg_count(const struct tcp_seg *s)
{
	uint32_t n = 0;

	for (; s; s = s->next)
		n++;
	return n;
}

static void census(void)
{
	for (unsigned i = 0; i < nbudgets; i++)
		budgets[i].s.pcbs = budgets[i].s.segs = 0;
	for (struct tcp_pcb *p = tcp_active_pcbs; p; p = p->next) {
		struct budget *b = budget_of(p->local_port);

		if (!b)
			continue;
		b->s.pcbs++;
		b->s.segs += seg_count(p->unsent) + seg_count(p->unacked);
#if TCP_QUEUE_OOSEQ
		b->s.segs += seg_count(p->ooseq);
#endif
	}
	census_tw = 0;
	for (struct tcp_pcb *p = tcp_tw_pcbs; p; p = p->next)
		census_tw++;
	for (unsigned i = 0; i < nbudgets; i++) {
		struct tcp_budget_stats *s = &budgets[i].s;

		if (s->pcbs > s->pcbs_peak)
			s->pcbs_peak = s->pcbs;
		if (s->segs > s->segs_peak)
			s->segs_peak = s->segs;
	}
	census_stamp = sys_now() + 1;
}

static uint32_t pool_free(memp_t pool)
{
	const struct stats_mem *m = lwip_stats.memp[pool];

	return m->avail > m->used ? (uint32_t)(m->avail - m->used) : 0;
}

/* The unused guarantees of every service but mine. */
static uint32_t others_reserved(const struct budget *mine, bool segs)
{
	uint32_t r = 0;

	for (unsigned i = 0; i < nbudgets; i++) {
		const struct tcp_budget_stats *s = &budgets[i].s;
		uint32_t min = segs ? s->segs_min : s->pcbs_min;
		uint32_t used = segs ? s->segs : s->pcbs;

		if (&budgets[i] != mine && used < min)
			r += min - used;
	}
	return r;
}

bool tcp_budget_admit_pcb(uint16_t local_port)
{
	struct budget *b = budget_of(local_port);
	uint32_t free;

	if (!b)
		return true;
	census();
	if (b->s.pcbs < b->s.pcbs_min)
		return true;
	free = pool_free(MEMP_TCP_PCB) + census_tw;
	if (free > others_reserved(b, false))
		return true;
	b->s.syns_refused++;
	return false;
}

uint32_t tcp_budget_segs_for(size_t len)
{
	/* Full segments, plus the partly filled last one lwIP may extend
	 * and a new partial one. */
	return (uint32_t)(len / TCP_MSS) + 2;
}

uint32_t tcp_budget_free_pcbs(void)
{
	uint32_t n = pool_free(MEMP_TCP_PCB);

	for (struct tcp_pcb *p = tcp_tw_pcbs; p; p = p->next)
		n++;
	return n;
}

uint32_t tcp_budget_may_queue(uint16_t local_port, const struct tcp_pcb *pcb,
			      uint32_t nsegs)
{
	uint32_t free = pool_free(MEMP_TCP_SEG), may, reserved;
	struct budget *b;

	/* Plenty left even if every guarantee were claimed now. */
	if (free >= segs_min_all + nsegs)
		return nsegs;
	b = budget_of(local_port);
	if (!b)
		return nsegs;
	if (census_stamp != sys_now() + 1)
		census();
	may = nsegs;
	if (pcb) {
		uint32_t held = pcb->snd_queuelen;

		if (may > TCP_BUDGET_CONN_SEGS_SHORT - held)
			may = held >= TCP_BUDGET_CONN_SEGS_SHORT
				  ? 0
				  : TCP_BUDGET_CONN_SEGS_SHORT - held;
	}
	/* What is left of my guarantee, or of the pool beyond the others'
	 * unused guarantees, whichever is more. */
	reserved = others_reserved(b, true);
	{
		uint32_t mine = b->s.segs < b->s.segs_min
				    ? b->s.segs_min - b->s.segs
				    : 0,
			 shared = free > reserved ? free - reserved : 0;

		if (may > mine && may > shared)
			may = mine > shared ? mine : shared;
	}
	if (may < nsegs)
		b->s.writes_deferred++;
	/* The census stays valid for this millisecond. */
	b->s.segs += may;
	return may;
}

#define TB(type, field)	 COUNTER(type, struct tcp_budget_stats, field, #field)
#define TBG(type, field) GAUGE(type, struct tcp_budget_stats, field, #field)
const struct counter_desc tcp_budget_counters[] = {
    TBG(U32, port),	 TBG(U32, pcbs),	TBG(U32, pcbs_min),
    TBG(U32, pcbs_peak), TBG(U32, segs),	TBG(U32, segs_min),
    TBG(U32, segs_peak), TB(U64, syns_refused), TB(U64, writes_deferred),
};
const unsigned tcp_budget_counters_len = COUNTERS_LEN(tcp_budget_counters);

bool tcp_budget_get(unsigned i, const char **name, struct tcp_budget_stats *out)
{
	if (i >= nbudgets)
		return false;
	if (i == 0)
		census();
	*name = budgets[i].name;
	*out = budgets[i].s;
	return true;
}

int tcp_budget_json(char *buf, size_t cap)
{
	struct kbuf b = {buf, cap, 0};

	if (cap)
		buf[0] = '\0';
	census();
	kbuf_printf(&b, "{");
	for (unsigned i = 0; i < nbudgets; i++) {
		kbuf_printf(&b, "%s\"%s\":{", i ? "," : "", budgets[i].name);
		counters_json_members(&b, tcp_budget_counters,
				      tcp_budget_counters_len, &budgets[i].s,
				      1);
		kbuf_printf(&b, "}");
	}
	kbuf_printf(&b, "}");
	return kbuf_finish(&b);
}

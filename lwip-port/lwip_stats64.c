/* See lwip_stats64.h. */
#include "lwip-port/lwip_stats64.h"

#include "lwip/stats.h"
#include "lwip/timeouts.h"

#include <stddef.h>

#define FOLD_PERIOD_MS 1000

static struct lwip_proto64 totals[LWIP64_PROTOS];
static struct stats_proto last[LWIP64_PROTOS];

static const struct stats_proto *source(enum lwip_stats64_proto which)
{
	switch (which) {
	case LWIP64_LINK:
		return &lwip_stats.link;
	case LWIP64_ETHARP:
		return &lwip_stats.etharp;
	case LWIP64_IP:
		return &lwip_stats.ip;
	case LWIP64_ICMP:
		return &lwip_stats.icmp;
	case LWIP64_UDP:
		return &lwip_stats.udp;
	default:
		return &lwip_stats.tcp;
	}
}

/* Progress modulo the counter's width, which survives one wrap. */
#define FOLD(f)                                                                \
	do {                                                                   \
		t->f += (STAT_COUNTER)(now->f - l->f);                         \
		l->f = now->f;                                                 \
	} while (0)

static void fold(void)
{
	for (int i = 0; i < LWIP64_PROTOS; i++) {
		const struct stats_proto *now = source(i);
		struct stats_proto *l = &last[i];
		struct lwip_proto64 *t = &totals[i];

		FOLD(xmit);
		FOLD(recv);
		FOLD(drop);
		FOLD(chkerr);
		FOLD(lenerr);
		FOLD(memerr);
		FOLD(rterr);
		FOLD(proterr);
		FOLD(err);
	}
}

static void fold_tick(void *arg)
{
	(void)arg;
	fold();
	sys_timeout(FOLD_PERIOD_MS, fold_tick, NULL);
}

void lwip_stats64_start(void)
{
	sys_timeout(FOLD_PERIOD_MS, fold_tick, NULL);
}

const struct lwip_proto64 *lwip_stats64_get(enum lwip_stats64_proto which)
{
	fold();
	return &totals[which < LWIP64_PROTOS ? which : LWIP64_TCP];
}

#define LP64(field) COUNTER(U64, struct lwip_proto64, field, #field)
const struct counter_desc lwip_proto64_counters[] = {
    LP64(xmit),	  LP64(recv),  LP64(drop),    LP64(chkerr), LP64(lenerr),
    LP64(memerr), LP64(rterr), LP64(proterr), LP64(err),
};
const unsigned lwip_proto64_counters_len = COUNTERS_LEN(lwip_proto64_counters);

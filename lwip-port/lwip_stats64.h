/* lwIP's protocol counters widened to 64 bits for /stats. lwIP's own are
 * STAT_COUNTER, 32 bits with LWIP_STATS_LARGE (its widest): at 100,000
 * packets a second one wraps in 12 hours. Once a second (and whenever
 * /stats is read) the progress of each since the last look, taken modulo
 * 2^32, is added to a 64-bit total, so nothing is lost unless a counter
 * moves by 2^32 within one second. */
#ifndef SKIFF_LWIP_PORT_LWIP_STATS64_H
#define SKIFF_LWIP_PORT_LWIP_STATS64_H

#include <stdint.h>

#include "kernel/counters.h"

/* The members of lwIP's struct stats_proto that /stats shows. */
struct lwip_proto64 {
	uint64_t xmit, recv, drop, chkerr, lenerr, memerr, rterr, proterr, err;
};

enum lwip_stats64_proto {
	LWIP64_LINK,
	LWIP64_ETHARP,
	LWIP64_IP,
	LWIP64_ICMP,
	LWIP64_UDP,
	LWIP64_TCP,
	LWIP64_PROTOS
};

/* Starts the once-a-second fold (lwIP must be initialised). */
void lwip_stats64_start(void);
/* Folds now and returns the totals of one protocol. */
const struct lwip_proto64 *lwip_stats64_get(enum lwip_stats64_proto which);
extern const struct counter_desc lwip_proto64_counters[];
extern const unsigned lwip_proto64_counters_len;

#endif

/* Per-service shares of lwIP's TCP pools: PCBs (MEMP_NUM_TCP_PCB) and
 * queued segments (MEMP_NUM_TCP_SEG), which every service draws from.
 *
 * Each service (identified by its listening port) is guaranteed a minimum
 * of each; the rest of a pool is shared first come, first served. A
 * service may take one more only while it is below its minimum or while
 * what stays free covers every other service's unused guarantee. So a
 * flood of one service (slowloris on HTTP, slow readers pinning segments)
 * can take the shared part and its own share, never what keeps the other
 * services answering, and an idle appliance lets one service use nearly
 * everything. TIME_WAIT PCBs count as free: lwIP recycles them.
 *
 * PCBs are checked when a SYN would create one (the SYN guard asks, in
 * lwIP's input path), segments before a service's tcp_write. The census of
 * who holds what walks lwIP's lists; writes look at it only when the
 * segment pool is short (the fast path reads one counter), and reuse it
 * within the same millisecond.
 *
 * Single-threaded, like the rest of lwIP (NO_SYS). */
#ifndef SKIFF_LWIP_PORT_TCP_BUDGET_H
#define SKIFF_LWIP_PORT_TCP_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/counters.h"

struct tcp_pcb;

#define TCP_BUDGET_MAX_SERVICES 4
#define TCP_BUDGET_NAME_MAX	8

struct tcp_budget_stats {
	uint32_t port;
	uint32_t pcbs_min, segs_min; /* the guarantees */
	uint32_t pcbs, segs;	     /* held at the last census */
	uint32_t pcbs_peak, segs_peak;
	uint64_t syns_refused;	  /* SYNs dropped: beyond its share */
	uint64_t writes_deferred; /* writes held back: beyond its share */
};

/* Registers a service; 0 for a minimum means none. Returns 0, or -1 when
 * the table is full. Call at bring-up, before traffic. */
int tcp_budget_add(const char *name, uint16_t port, uint32_t min_pcbs,
		   uint32_t min_segs);
/* Whether a new PCB for a connection to local_port fits its service's
 * share (ports of no service always fit). Counts a refusal. */
bool tcp_budget_admit_pcb(uint16_t local_port);
/* How many of nsegs more segments pcb's service may queue on it now
 * (nsegs when the pool is far from short). When it is short, one
 * connection may hold at most TCP_BUDGET_CONN_SEGS_SHORT, so that a few
 * slow readers cannot take all of their service's share from its other
 * clients. pcb NULL asks for a new connection of the service of
 * local_port. Counts a deferral when it gives less. */
uint32_t tcp_budget_may_queue(uint16_t local_port, const struct tcp_pcb *pcb,
			      uint32_t nsegs);
#define TCP_BUDGET_CONN_SEGS_SHORT 32
/* Free PCBs, those in TIME_WAIT included (tcp_alloc() recycles them). */
uint32_t tcp_budget_free_pcbs(void);
/* Segments one tcp_write of len bytes may take at most. */
uint32_t tcp_budget_segs_for(size_t len);

/* Service i's name and counters (after a census); false past the last. */
bool tcp_budget_get(unsigned i, const char **name,
		    struct tcp_budget_stats *out);
/* "name":{...} for each service, as one JSON object (the /stats member). */
int tcp_budget_json(char *buf, size_t cap);
extern const struct counter_desc tcp_budget_counters[];
extern const unsigned tcp_budget_counters_len;

#endif

/* Vanished peers: bounds on how long lwIP keeps a connection whose peer
 * has gone silent, like Linux's tcp_fin_timeout and tcp_orphan_retries.
 *
 * lwIP alone keeps a closed connection (an "orphan": the service called
 * tcp_close and let go) retransmitting its FIN or its last data to a peer
 * that vanished for TCP_MAXRTX backed-off retransmissions, minutes; an
 * HTTP keep-alive connection closed on a dead peer held its PCB 240 s and
 * more. A sweep once a second aborts:
 *   - an orphan (FIN_WAIT_1/2, CLOSING, LAST_ACK after tcp_close) that has
 *     heard nothing for fin_timeout_s and is stalled: retransmitting, its
 *     peer's window shut, or nothing but the FIN to deliver; and any
 *     orphan after 6 x fin_timeout_s, however it is doing;
 *   - a connection a service still holds (ESTABLISHED, CLOSE_WAIT, or
 *     shut for sending only) with data outstanding and a peer silent for
 *     giveup_s: the service's err callback frees its state.
 * Idle connections with nothing outstanding are the services' to bound
 * (their idle timeouts and TCP keepalive). The sweep also counts PCBs by
 * state for /stats.
 *
 * Runs from lwIP's timers (sys_timeout), single-threaded like the rest of
 * lwIP (NO_SYS). */
#ifndef SKIFF_LWIP_PORT_TCP_REAPER_H
#define SKIFF_LWIP_PORT_TCP_REAPER_H

#include <stdint.h>

#include "kernel/counters.h"

#define TCP_REAPER_DEFAULT_FIN_TIMEOUT_S 10
#define TCP_REAPER_DEFAULT_GIVEUP_S	 30
/* An orphan that still makes progress lives at most this many times
 * fin_timeout_s. */
#define TCP_REAPER_ORPHAN_MAX_FACTOR 6

struct tcp_reaper_stats {
	uint64_t sweeps;
	uint64_t orphans_reaped; /* orphans aborted (fin_timeout) */
	uint64_t stalled_reaped; /* held connections given up (giveup) */
	/* PCBs by state at the last sweep (or /stats read). */
	uint32_t syn_rcvd, established, fin_wait_1, fin_wait_2, close_wait,
	    closing, last_ack, time_wait;
	uint32_t orphans; /* of those, closed by their service */
	uint32_t fin_timeout_s, giveup_s;
};

/* 0 keeps a default. Applies from the next sweep. */
void tcp_reaper_set_limits(uint32_t fin_timeout_s, uint32_t giveup_s);
/* Starts the once-a-second sweep (lwIP must be initialised). */
void tcp_reaper_start(void);
/* One sweep now (the timer's work; host tests call it directly). */
void tcp_reaper_sweep(void);
/* Counts PCBs by state into the stats, then copies them out. */
void tcp_reaper_get_stats(struct tcp_reaper_stats *out);
extern const struct counter_desc tcp_reaper_counters[];
extern const unsigned tcp_reaper_counters_len;

#endif

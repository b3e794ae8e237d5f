/* SYN-flood defence for lwIP's listeners, the way Linux bounds its SYN
 * queue: each listener may hold at most `max_half_open` connections in
 * SYN_RCVD; a SYN beyond that evicts the listener's oldest half-open one
 * (silently: its peer never answered, or it would be established), and
 * when the PCB pool itself runs low the oldest half-open connection of any
 * listener goes first. A flood of SYNs from sources that never answer thus
 * holds a bounded, constantly renewed set of PCBs, and a real client's
 * handshake, which completes within a round trip, gets through; without
 * this, 100 SYN/s filled all 256 PCBs for ~20 s each (their SYN-ACK
 * retransmissions) and denied every TCP service.
 *
 * Runs inside lwIP's input path through LWIP_HOOK_TCP_INPACKET_PCB
 * (lwipopts.h), single-threaded like the rest of lwIP (NO_SYS). */
#ifndef SKIFF_LWIP_PORT_TCP_GUARD_H
#define SKIFF_LWIP_PORT_TCP_GUARD_H

#include <stdint.h>

#include "lwip/err.h"
#include "lwip/pbuf.h"
#include "lwip/prot/tcp.h"
#include "lwip/tcp.h"

/* Linux's tcp_max_syn_backlog is 128 per listener on small machines; with
 * a pool of 256 PCBs shared by three listeners, 32 each leaves most of it
 * to established connections. */
#define TCP_GUARD_DEFAULT_HALF_OPEN 32
/* Free PCBs below which a SYN first evicts the oldest half-open
 * connection of any listener. */
#define TCP_GUARD_PCB_RESERVE 16

struct tcp_guard_stats {
	uint64_t syns;		   /* SYNs that reached a listener */
	uint64_t evicted_listener; /* half-open dropped: listener at its cap */
	uint64_t evicted_pressure; /* half-open dropped: PCB pool low */
	uint32_t half_open;	   /* SYN_RCVD connections now, all listeners */
	uint32_t half_open_peak;   /* the most at once */
	uint32_t max_half_open;	   /* the per-listener cap */
};

/* Per-listener cap (0 keeps the default); applies from the next SYN. */
void tcp_guard_set_max_half_open(uint32_t n);
void tcp_guard_get_stats(struct tcp_guard_stats *out);

/* LWIP_HOOK_TCP_INPACKET_PCB: sees every segment lwIP has matched to a
 * PCB (listening or not) before it is processed. Always ERR_OK: the
 * segment is processed; the guard only makes room. */
err_t tcp_guard_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr, u16_t optlen,
			 u16_t opt1len, u8_t *opt2, struct pbuf *p);

#endif

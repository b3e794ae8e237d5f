/* SYN-flood defence for lwIP's listeners, the way Linux bounds its SYN
 * queue: each listener may hold at most `max_half_open` connections in
 * SYN_RCVD. A SYN beyond that is answered with a SYN cookie (RFC 4987):
 * a SYN-ACK whose sequence number encodes the connection, its MSS and the
 * time under a keyed hash, with no PCB kept; the client's ACK proves it
 * and only then is a PCB built. Without a key (tcp_guard_init() not
 * called) such a SYN evicts the listener's oldest half-open connection
 * instead. When the PCB pool itself runs low, a SYN first evicts the
 * oldest half-open connection of any listener (silently: its peer never
 * answered, or it would be established). A flood from sources that never
 * answer thus holds a bounded set of PCBs and real clients get through;
 * without this, 100 SYN/s filled all 256 PCBs for ~20 s each (their
 * SYN-ACK retransmissions) and denied every TCP service.
 *
 * TIME_WAIT: a SYN for a 4-tuple lwIP holds in TIME_WAIT, with a sequence
 * number beyond the old connection's, ends the old one and opens a new
 * connection at once (RFC 1122 4.2.2.13; Linux does the same), instead of
 * the RST or 1-3 s stall a client that reuses ports saw.
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

#include "kernel/counters.h"
#include "kernel/siphash.h"

/* Linux's tcp_max_syn_backlog is 128 per listener on small machines; with
 * a pool of 256 PCBs shared by three listeners, 32 each leaves most of it
 * to established connections. */
#define TCP_GUARD_DEFAULT_HALF_OPEN 32
/* Free PCBs below which a SYN first evicts the oldest half-open
 * connection of any listener. */
#define TCP_GUARD_PCB_RESERVE 16

struct tcp_guard_stats {
	uint64_t syns;		   /* SYNs that reached a listener */
	uint64_t cookies_sent;	   /* SYN-ACKs with a cookie, no PCB */
	uint64_t cookies_ok;	   /* ACKs whose cookie opened a connection */
	uint64_t cookies_bad;	   /* ACKs to a listener with a bad cookie */
	uint64_t timewait_reused;  /* SYNs that ended a TIME_WAIT early */
	uint64_t evicted_listener; /* half-open dropped: listener at its cap */
	uint64_t evicted_pressure; /* half-open dropped: PCB pool low */
	uint32_t half_open;	   /* SYN_RCVD connections now, all listeners */
	uint32_t half_open_peak;   /* the most at once */
	uint32_t max_half_open;	   /* the per-listener cap */
};

/* Enables SYN cookies under a secret key (drawn at boot); NULL turns
 * them off (a full listener then evicts its oldest half-open). */
void tcp_guard_init(const struct siphash_key *key);
/* Per-listener cap (0 keeps the default); applies from the next SYN. */
void tcp_guard_set_max_half_open(uint32_t n);
void tcp_guard_get_stats(struct tcp_guard_stats *out);
/* The descriptors of struct tcp_guard_stats (kernel/counters.h). */
extern const struct counter_desc tcp_guard_counters[];
extern const unsigned tcp_guard_counters_len;

/* LWIP_HOOK_TCP_INPACKET_PCB: sees every segment lwIP has matched to a
 * PCB (listening, active or TIME_WAIT) before it is processed. ERR_OK:
 * lwIP processes it; anything else: lwIP drops it (the guard answered it
 * with a cookie, or will deliver it again, to the PCB it just built,
 * from the next sys_check_timeouts()). */
err_t tcp_guard_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr, u16_t optlen,
			 u16_t opt1len, u8_t *opt2, struct pbuf *p);

#endif

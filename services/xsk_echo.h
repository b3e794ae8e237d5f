/* UDP echo over an AF_XDP socket (xdp/xsk.h), without lwIP: datagrams to
 * its port (xsk.port=) are sent to the socket by the xsk_udp XDP program,
 * answered in place in their UMEM frame (Ethernet and IP addresses and UDP
 * ports swapped: both checksums stay valid, the payload is untouched) and
 * sent back from the same frame through the TX ring; the completion ring
 * gives the frame back, and it goes on the fill ring again.
 *
 * One socket per device queue, each served by the CPU of its queue (with
 * 2 queue pairs, CPU 1 answers the flows RSS puts on pair 1 itself).
 * Woken by the receive path (the socket's rx_pending flag, run from the
 * queue's loop by xsk_run_pending), never by a timer. */
#ifndef SKIFF_SERVICES_XSK_ECHO_H
#define SKIFF_SERVICES_XSK_ECHO_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/counters.h"

struct xsk_echo_stats {
	uint64_t answered;   /* datagrams put on the TX ring */
	uint64_t not_for_us; /* frames the program should not have sent */
	uint64_t tx_full;    /* dropped: TX ring full */
	uint64_t recycled;   /* completions put back on the fill ring */
	uint64_t runs;	     /* wakeups that found work */
};

/* Creates a socket on each of queues 0 .. nqueues - 1 (frames UMEM frames
 * each, from that queue's pool), fills their fill rings, attaches the
 * xsk_udp program (JIT when jit) and points its maps at the sockets and
 * port. 0 or a negative errno (logged; the appliance goes on without it).
 * Call at bring-up, before the queues' CPUs serve them. */
int xsk_echo_start(uint16_t port, uint32_t frames, int jit, unsigned nqueues);
/* One service pass of one queue's socket (ctx: what xsk_echo_start gave
 * the socket; also what the receive wakeup runs). */
void xsk_echo_run(void *ctx);

extern const struct counter_desc xsk_echo_stats_desc[];
extern const unsigned xsk_echo_stats_ndesc;
/* /stats "xsk_echo": null while off. */
int xsk_echo_stats_json(char *buf, size_t cap);

#endif

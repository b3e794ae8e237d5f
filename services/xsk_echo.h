/* UDP echo over an AF_XDP socket (xdp/xsk.h), without lwIP: datagrams to
 * its port (xsk.port=) are sent to the socket by the xsk_udp XDP program,
 * answered in place in their UMEM frame (Ethernet and IP addresses and UDP
 * ports swapped: both checksums stay valid, the payload is untouched) and
 * sent back from the same frame through the TX ring; the completion ring
 * gives the frame back, and it goes on the fill ring again.
 *
 * Woken by the receive path (the socket's rx_pending flag, run from the
 * main loop by xsk_run_pending), never by a timer. */
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

/* Creates the socket (frames UMEM frames on queue 0), fills its fill ring,
 * attaches the xsk_udp program (JIT when jit) and points its maps at the
 * socket and port. 0 or a negative errno (logged; the appliance goes on
 * without it). */
int xsk_echo_start(uint16_t port, uint32_t frames, int jit);
/* One service pass (also what the receive wakeup runs). */
void xsk_echo_run(void *ctx);

extern const struct counter_desc xsk_echo_stats_desc[];
extern const unsigned xsk_echo_stats_ndesc;
/* /stats "xsk_echo": null while off. */
int xsk_echo_stats_json(char *buf, size_t cap);

#endif

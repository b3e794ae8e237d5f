/* Socket filters per service: Linux SEC("socket") programs (struct
 * __sk_buff, read-only but for cb[], packet read with bpf_skb_load_bytes
 * only) attached to a service by name, run on each TCP segment and UDP
 * datagram lwIP delivers to that service's sockets (the service's ports),
 * as Linux's sk_filter runs at socket selection. The packet the program
 * sees starts at the transport header (offset 0 is the TCP or UDP
 * header, len covers header and payload), as a Linux TCP/UDP socket's
 * filter sees it.
 *
 * The return value is the number of bytes to keep, as in Linux:
 *  - 0: the segment/datagram is dropped (TCP: as if lost on the wire; the
 *    peer retransmits it, into the same filter);
 *  - len or more: delivered whole;
 *  - in between: UDP is cut to that many bytes (never below its 8-byte
 *    header, as Linux's cap); a TCP segment is dropped whole (counted in
 *    trunc_dropped). Linux trims a TCP segment and accepts only the kept
 *    bytes, so the peer must resend the rest, which meets the same filter
 *    again: a truncating filter stalls a TCP stream in both; Skiff drops
 *    instead of trimming because lwIP has already sized the segment in its
 *    sequence space when the hook runs.
 *
 * Where: TCP from lwIP's LWIP_HOOK_TCP_INPACKET_PCB (after the socket is
 * chosen: listener, connection or TIME_WAIT; before the SYN-flood guard);
 * UDP from the service's receive callback (sockfilter_udp_input, first
 * thing). Runs in lwIP's single thread (NO_SYS). */
#ifndef SKIFF_LWIP_PORT_SOCKFILTER_H
#define SKIFF_LWIP_PORT_SOCKFILTER_H

#include <stddef.h>
#include <stdint.h>

#include "lwip/err.h"
#include "lwip/pbuf.h"
#include "lwip/prot/tcp.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#include "ebpf/ebpf.h"
#include "kernel/counters.h"

#define SOCKFILTER_MAX_SERVICES 8
#define SOCKFILTER_MAX_PORTS	4 /* per service */

enum sockfilter_proto { SOCKFILTER_TCP = 6, SOCKFILTER_UDP = 17 };

struct sockfilter_stats {
	uint64_t runs;
	uint64_t kept;		 /* delivered whole */
	uint64_t truncated;	 /* UDP delivered cut short */
	uint64_t dropped;	 /* the program returned 0 */
	uint64_t trunc_dropped;	 /* TCP the program would cut: dropped */
	uint64_t too_fragmented; /* more pbufs than a context holds: dropped */
	uint64_t cycles;	 /* TSC cycles spent in the program */
};

/* Declares that service `name` listens on proto/port (each service at
 * start-up, once per socket). 0, -EINVAL, -ENOSPC. */
int sockfilter_service_add(const char *name, enum sockfilter_proto proto,
			   uint16_t port);
/* Attaches prog (a prepared EBPF_PROG_SOCKET_FILTER program, or NULL to
 * detach) to service `name`, atomically for packets in flight; *old (may
 * be NULL) gets the program attached before, which the caller frees. 0,
 * -ENOENT (no such service) or -EINVAL (a program of another type or not
 * prepared): nothing changes. */
int sockfilter_attach(const char *name, struct ebpf_prog *prog,
		      struct ebpf_prog **old);

/* The program attached to service `name` now, or NULL (none, or no such
 * service). */
struct ebpf_prog *sockfilter_current(const char *name);

/* LWIP_HOOK_TCP_INPACKET_PCB's first step: ERR_OK lets lwIP go on with
 * the segment, anything else makes lwIP drop it. */
err_t sockfilter_tcp_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr,
			      u16_t optlen, u16_t opt1len, u8_t *opt2,
			      struct pbuf *p);
/* For a UDP receive callback, first thing: returns p (maybe cut short)
 * to process, or NULL when the filter dropped it (p freed). p's payload
 * is the datagram's, its UDP header just before it (as udp_input hands
 * it to the callback). */
struct pbuf *sockfilter_udp_input(struct udp_pcb *pcb, struct pbuf *p);

/* The {name, offset} table of struct sockfilter_stats. */
extern const struct counter_desc sockfilter_stats_desc[];
extern const unsigned sockfilter_stats_ndesc;
/* {"echo":{counters...,"prog":{"name":..,"jit":..,counters...}|null},...} */
int sockfilter_stats_json(char *buf, size_t cap);
/* A service's counters: the service's and its current program's. -ENOENT
 * for an unknown name. */
int sockfilter_get_stats(const char *name, struct sockfilter_stats *svc,
			 struct sockfilter_stats *prog);
/* Forgets every service and detaches (without freeing) every program
 * (tests). */
void sockfilter_reset(void);

#endif

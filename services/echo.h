/* RFC 862 echo on port 7, TCP and UDP, on lwIP's raw API.
 *
 * TCP: every byte a client sends comes back in order, none dropped. Data
 * goes into lwIP's send buffer as fast as it drains; what does not fit is
 * kept by the connection and the receive window is only reopened
 * (tcp_recved) for bytes handed to tcp_write, so a client that stops
 * reading is throttled by TCP itself. A client's FIN is answered with ours
 * once everything before it has been echoed. Connections beyond the limit,
 * or arriving while memory is short, are refused with a RST.
 *
 * UDP: each datagram (payload up to 1472 bytes, one Ethernet frame) goes
 * back to its sender in the same pbuf.
 *
 * Runs from the main loop only, like the rest of lwIP (NO_SYS=1). */
#ifndef SKIFF_SERVICES_ECHO_H
#define SKIFF_SERVICES_ECHO_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/counters.h"

#define ECHO_PORT 7
/* Largest UDP payload echoed: 1500 - 20 (IPv4) - 8 (UDP). */
#define ECHO_UDP_MAX_PAYLOAD 1472

#define ECHO_DEFAULT_MAX_CONNS	    200
#define ECHO_DEFAULT_MAX_HELD_BYTES (8u * 1024 * 1024)
/* Like an HTTP keep-alive timeout, only longer: a connection with no
 * progress either way for 5 minutes is aborted. */
#define ECHO_DEFAULT_IDLE_TIMEOUT_S 300

struct echo_stats {
	/* TCP connections. */
	uint64_t tcp_accepted;	  /* handed to us by lwIP and kept */
	uint64_t tcp_refused;	  /* reset at accept: pool full or memory */
	uint64_t tcp_refused_mem; /* of those, because memory was short */
	uint64_t tcp_closed;	  /* ended by our FIN after the peer's */
	uint64_t tcp_reset;	  /* ended by a RST or an lwIP error */
	uint64_t tcp_idle;	  /* aborted by the idle timeout */
	uint32_t tcp_active;	  /* connections holding a state slot now */
	uint32_t tcp_active_peak;
	/* TCP data. */
	uint64_t tcp_bytes;	    /* bytes echoed (accepted by tcp_write) */
	uint64_t tcp_held_bytes;    /* heap bytes holding data lwIP could not
				       take yet (whole chunks), now */
	uint64_t tcp_held_peak;	    /* high-water mark of tcp_held_bytes */
	uint64_t tcp_pinned;	    /* times data stayed in receive buffers
				       because no chunk could be had */
	uint64_t tcp_deferred;	    /* segments handed back to lwIP (ERR_MEM
				       from recv) while data was pinned */
	uint64_t tcp_write_retries; /* tcp_write ERR_MEM, retried later */
	uint64_t tcp_close_retries; /* tcp_close failures, retried from poll */
	/* UDP. */
	uint64_t udp_datagrams; /* datagrams echoed */
	uint64_t udp_bytes;	/* payload bytes echoed */
	uint64_t udp_oversize;	/* dropped: payload above the limit */
	uint64_t udp_errors;	/* udp_sendto failed */
	/* Anything unexpected from lwIP (accept errors, tcp_write errors
	 * other than ERR_MEM). */
	uint64_t errors;
};

/* Limits; call before echo_init(). max_conns is the size of the
 * per-connection pool (0 keeps the default; at most MEMP_NUM_TCP_PCB).
 * max_held_bytes caps the heap used for data waiting for send-buffer
 * space, summed over all connections (0 keeps the default); above it new
 * connections are refused and existing ones fall back to TCP flow control
 * alone. idle_timeout_s aborts a connection with no progress in either
 * direction for that long (0 = never). Returns 0, -EBUSY after
 * echo_init() or -EINVAL. */
int echo_set_limits(unsigned max_conns, size_t max_held_bytes,
		    unsigned idle_timeout_s);

/* Starts TCP and UDP echo on port 7. Call once lwIP is initialised (the
 * interface need not be up). Returns 0 or a negative errno. */
int echo_init(void);

void echo_get_stats(struct echo_stats *out);
/* The {name, offset} table of struct echo_stats (kernel/counters.h). */
extern const struct counter_desc echo_stats_desc[];
extern const unsigned echo_stats_ndesc;

/* Returns the length the full text would have (like snprintf) and always
 * NUL-terminates when cap > 0. One JSON object,
 * {"tcp":{...},"udp":{...},"limits":{...}}. */
int echo_stats_json(char *buf, size_t cap);

#endif

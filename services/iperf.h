/* iperf 2 server on TCP port 5001: lwIP's own apps/lwiperf, started here,
 * with each finished test logged and the last result kept for /stats.
 *
 * Try it: make run, then `iperf -c 127.0.0.1 -p 5001` (Debian's iperf,
 * version 2). Runs from the main loop only (NO_SYS=1). */
#ifndef SKIFF_SERVICES_IPERF_H
#define SKIFF_SERVICES_IPERF_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/counters.h"

#define IPERF_PORT 5001

struct iperf_report {
	int type;	 /* enum lwiperf_report_type */
	char remote[16]; /* client address, dotted quad */
	uint16_t remote_port;
	uint32_t bytes;	     /* bytes transferred (lwiperf counts in u32) */
	uint32_t ms;	     /* test duration */
	uint32_t kbit_per_s; /* bandwidth as lwiperf computed it */
};

struct iperf_stats {
	uint64_t reports;   /* tests finished, whatever the outcome */
	uint64_t completed; /* of those, LWIPERF_TCP_DONE_SERVER/CLIENT */
	uint64_t aborted;   /* the others: local or remote abort */
	uint64_t bytes;	    /* sum over all reports */
	int have_last;	    /* last is valid */
	struct iperf_report last;
};

/* Starts the server. Call once lwIP is initialised. Returns 0 or a
 * negative errno. */
int iperf_init(void);

void iperf_get_stats(struct iperf_stats *out);

/* The names, order and types of the counters in struct iperf_stats and
 * struct iperf_report (kernel/counters.h). */
extern const struct counter_desc iperf_stats_counters[];
extern const unsigned iperf_stats_counters_len;
extern const struct counter_desc iperf_report_counters[];
extern const unsigned iperf_report_counters_len;

/* {"reports":N,"completed":N,"aborted":N,"bytes":N,"last":{...}|null};
 * returns the length the full text would have (like snprintf). */
int iperf_stats_json(char *buf, size_t cap);

#endif

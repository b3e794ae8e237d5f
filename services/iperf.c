/* iperf 2 server (TCP port 5001) from lwIP's apps/lwiperf; lwiperf.c is
 * compiled in by lwip-port/lwip.mk. lwiperf accepts any number of
 * sessions, counts the bytes and calls our report function when a session
 * ends; this file only starts it and keeps the results. */
#include <stdint.h>
#include <string.h>

#include "lwip-port/sockfilter.h"
#include "lwip/apps/lwiperf.h"
#include "lwip/ip_addr.h"

#include "kernel/counters.h"
#include "kernel/kbuf.h"
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "kernel/printf.h"
#include "services/iperf.h"

static struct {
	void *session; /* lwiperf's listener handle */
	struct iperf_stats stats;
} iperf;

static const char *iperf_report_name(enum lwiperf_report_type type)
{
	switch (type) {
	case LWIPERF_TCP_DONE_SERVER:
		return "done (server)";
	case LWIPERF_TCP_DONE_CLIENT:
		return "done (client)";
	case LWIPERF_TCP_ABORTED_LOCAL:
		return "aborted locally";
	case LWIPERF_TCP_ABORTED_LOCAL_DATAERROR:
		return "aborted: data error";
	case LWIPERF_TCP_ABORTED_LOCAL_TXERROR:
		return "aborted: transmit error";
	case LWIPERF_TCP_ABORTED_REMOTE:
		return "aborted by the client";
	}
	return "unknown";
}

static void iperf_report(void *arg, enum lwiperf_report_type type,
			 const ip_addr_t *local_addr, u16_t local_port,
			 const ip_addr_t *remote_addr, u16_t remote_port,
			 u32_t bytes, u32_t ms, u32_t kbit_per_s)
{
	struct iperf_report *r = &iperf.stats.last;

	memset(r, 0, sizeof(*r));
	r->type = type;
	if (remote_addr)
		ipaddr_ntoa_r(remote_addr, r->remote, sizeof(r->remote));
	r->remote_port = remote_port;
	r->bytes = bytes;
	r->ms = ms;
	r->kbit_per_s = kbit_per_s;
	iperf.stats.have_last = 1;
	iperf.stats.reports++;
	iperf.stats.bytes += bytes;
	if (type == LWIPERF_TCP_DONE_SERVER || type == LWIPERF_TCP_DONE_CLIENT)
		iperf.stats.completed++;
	else
		iperf.stats.aborted++;
	log_info("iperf: %s:%u %s: %u bytes in %u ms, %u kbit/s", r->remote,
		 remote_port, iperf_report_name(type), bytes, ms, kbit_per_s);
}

int iperf_init(void)
{
	if (iperf.session)
		return -EBUSY;
	/* Listens on LWIPERF_TCP_PORT_DEFAULT (5001) on every address. */
	iperf.session = lwiperf_start_tcp_server_default(iperf_report, NULL);
	if (!iperf.session) {
		log_error("iperf: cannot listen on port %d", IPERF_PORT);
		return -ENOMEM;
	}
	/* Socket filters (iperf.filter=) find the service by its port. */
	sockfilter_service_add("iperf", SOCKFILTER_TCP, IPERF_PORT);
	log_info("iperf: iperf 2 server on TCP port %d", IPERF_PORT);
	return 0;
}

void iperf_get_stats(struct iperf_stats *out)
{
	*out = iperf.stats;
}

#define IS(field) COUNTER(U64, struct iperf_stats, field, #field)
const struct counter_desc iperf_stats_counters[] = {
    IS(reports),
    IS(completed),
    IS(aborted),
    IS(bytes),
};
const unsigned iperf_stats_counters_len = COUNTERS_LEN(iperf_stats_counters);

#define IR(field) GAUGE(U32, struct iperf_report, field, #field)
const struct counter_desc iperf_report_counters[] = {
    IR(bytes),
    IR(ms),
    IR(kbit_per_s),
};
const unsigned iperf_report_counters_len = COUNTERS_LEN(iperf_report_counters);

int iperf_stats_json(char *buf, size_t cap)
{
	const struct iperf_stats *s = &iperf.stats;
	const struct iperf_report *r = &s->last;
	struct kbuf j = {buf, cap, 0};

	if (cap)
		buf[0] = '\0';
	kbuf_printf(&j, "{");
	counters_json_members(&j, iperf_stats_counters,
			      iperf_stats_counters_len, s, 1);
	/* The last report's outcome and peer are text, not counters. */
	if (s->have_last) {
		kbuf_printf(
		    &j, ",\"last\":{\"result\":\"%s\",\"remote\":\"%s:%u\"",
		    iperf_report_name(r->type), r->remote, r->remote_port);
		counters_json_members(&j, iperf_report_counters,
				      iperf_report_counters_len, r, 0);
		kbuf_printf(&j, "}}");
	} else {
		kbuf_printf(&j, ",\"last\":null}");
	}
	return kbuf_finish(&j);
}

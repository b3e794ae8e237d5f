/* Starts every service on lwIP's raw API: echo (TCP and UDP port 7), the
 * iperf 2 server (lwiperf, port 5001) and HTTP (port 80). */
#include "app/services.h"
#include "kernel/config.h"
#include "kernel/log.h"
#include "lwip-port/sockfilter.h"
#include "lwip-port/tcp_budget.h"
#include "services/echo.h"
#include "services/http.h"
#include "services/iperf.h"
#include "xdp/xdp_progs.h"

/* NAME.filter=PROG: a built-in socket filter on a service's sockets. */
static void attach_filter(const char *service, const char *prog,
			  const char *who)
{
	struct ebpf_prog *p;

	if (!prog[0] || xdp_builtin_load(prog, EBPF_PROG_SOCKET_FILTER,
					 config.xdp_jit, who, &p) != 0)
		return;
	if (sockfilter_attach(service, p, NULL) != 0) {
		log_error("%s: no service '%s' to attach %s to", who, service,
			  prog);
		ebpf_prog_free(p);
	}
}

void services_start(void)
{
	/* Each service's guaranteed share of the TCP pools. */
	tcp_budget_add("echo", ECHO_PORT, config.echo_pcbs, config.echo_segs);
	tcp_budget_add("http", HTTP_PORT, config.http_pcbs, config.http_segs);
	tcp_budget_add("iperf", IPERF_PORT, config.iperf_pcbs,
		       config.iperf_segs);
	echo_set_limits(config.echo_max_conns,
			(size_t)config.echo_max_held_kb * 1024,
			config.echo_idle_s);
	echo_init();
	iperf_init();

	struct http_limits limits = {
	    .max_conns = config.http_max_conns,
	    .max_header_bytes = config.http_max_header,
	    .max_uri = config.http_max_uri,
	    .max_body = config.http_max_body,
	    .idle_timeout_ms = config.http_idle_ms,
	    .header_timeout_ms = config.http_header_ms,
	    .max_conns_per_ip = config.http_max_conns_per_ip,
	    .log = config.http_log,
	};
	http_set_limits(&limits);
	http_init();
	log_info(
	    "services: echo on tcp/udp 7, iperf on tcp 5001, http on tcp 80");
	attach_filter("echo", config.echo_filter, "echo.filter");
	attach_filter("http", config.http_filter, "http.filter");
	attach_filter("iperf", config.iperf_filter, "iperf.filter");
}

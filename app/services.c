/* Starts every service on lwIP's raw API: echo (TCP and UDP port 7), the
 * iperf 2 server (lwiperf, port 5001) and HTTP (port 80). */
#include <string.h>

#include "app/services.h"
#include "kernel/config.h"
#include "kernel/log.h"
#include "lwip-port/sockfilter.h"
#include "lwip-port/tcp_budget.h"
#include "netdev/tc_hook.h"
#include "services/admin.h"
#include "services/echo.h"
#include "services/http.h"
#include "services/iperf.h"
#include "xdp/xdp_hook.h"
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

/* ---- the admin endpoint's hooks ------------------------------------------
 * Each entry swaps one pointer and hands back the program it replaced; the
 * type check is the admin's (admin_hook.prog_type), so these cannot fail. */
static struct ebpf_prog *xdp_current(void)
{
	return xdp_hook_prog;
}

static struct ebpf_prog *tc_swap(enum tc_dir dir, struct ebpf_prog *p)
{
	struct ebpf_prog *old = NULL;

	if (tc_attach(dir, p, &old) != 0)
		log_error("admin: tc attach refused a checked program");
	return old;
}
static struct ebpf_prog *tc_ingress_swap(struct ebpf_prog *p)
{
	return tc_swap(TC_INGRESS, p);
}
static struct ebpf_prog *tc_egress_swap(struct ebpf_prog *p)
{
	return tc_swap(TC_EGRESS, p);
}
static struct ebpf_prog *tc_ingress_current(void)
{
	return tc_prog[TC_INGRESS];
}
static struct ebpf_prog *tc_egress_current(void)
{
	return tc_prog[TC_EGRESS];
}

/* A socket filter: swapping in the current program again reads it. */
#define SOCKET_HOOK(svc)                                                       \
	static struct ebpf_prog *svc##_filter_swap(struct ebpf_prog *p)        \
	{                                                                      \
		struct ebpf_prog *old = NULL;                                  \
		if (sockfilter_attach(#svc, p, &old) != 0)                     \
			log_error("admin: " #svc " filter refused a program"); \
		return old;                                                    \
	}                                                                      \
	static struct ebpf_prog *svc##_filter_current(void)                    \
	{                                                                      \
		return sockfilter_current(#svc);                               \
	}
SOCKET_HOOK(echo)
SOCKET_HOOK(http)
SOCKET_HOOK(iperf)

/* The hooks programs can be attached to at run time. */
static const struct admin_hook admin_hooks[] = {
    {"xdp", EBPF_PROG_XDP, NULL, xdp_hook_swap, xdp_current},
    {"tc-ingress", EBPF_PROG_SCHED_CLS, NULL, tc_ingress_swap,
     tc_ingress_current},
    {"tc-egress", EBPF_PROG_SCHED_CLS, NULL, tc_egress_swap, tc_egress_current},
    {"socket-echo", EBPF_PROG_SOCKET_FILTER, NULL, echo_filter_swap,
     echo_filter_current},
    {"socket-http", EBPF_PROG_SOCKET_FILTER, NULL, http_filter_swap,
     http_filter_current},
    {"socket-iperf", EBPF_PROG_SOCKET_FILTER, NULL, iperf_filter_swap,
     iperf_filter_current},
};

static void admin_bring_up(void)
{
	struct admin_config c = {
	    .max_body = config.admin_max_body,
	    .jit = config.xdp_jit,
	    .hooks = admin_hooks,
	    .nhooks = sizeof(admin_hooks) / sizeof(admin_hooks[0]),
	};

	if (!config.admin_token[0])
		return; /* off: nothing listens */
	memcpy(c.token, config.admin_token, sizeof(c.token));
	admin_configure(&c);
	if (admin_start((uint16_t)config.admin_port))
		log_error("admin: cannot listen on tcp %u", config.admin_port);
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
	admin_bring_up();
	log_info(
	    "services: echo on tcp/udp 7, iperf on tcp 5001, http on tcp 80");
	attach_filter("echo", config.echo_filter, "echo.filter");
	attach_filter("http", config.http_filter, "http.filter");
	attach_filter("iperf", config.iperf_filter, "iperf.filter");
}

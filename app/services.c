/* Starts every service on lwIP's raw API: echo (TCP and UDP port 7), the
 * iperf 2 server (lwiperf, port 5001) and HTTP (port 80). */
#include <string.h>

#include "app/services.h"
#include "kernel/config.h"
#include "kernel/log.h"
#include "services/admin.h"
#include "services/echo.h"
#include "services/http.h"
#include "services/iperf.h"
#include "xdp/xdp_hook.h"

static struct ebpf_prog *xdp_current(void)
{
	return xdp_hook_prog;
}

/* The hooks programs can be attached to at run time; TC ingress/egress
 * and socket filters are entries here too. */
static const struct admin_hook admin_hooks[] = {
    {"xdp", NULL, xdp_hook_swap, xdp_current},
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
	    .log = config.http_log,
	};
	http_set_limits(&limits);
	http_init();
	admin_bring_up();
	log_info(
	    "services: echo on tcp/udp 7, iperf on tcp 5001, http on tcp 80");
}

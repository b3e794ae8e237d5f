/* Starts every service on lwIP's raw API: echo (TCP and UDP port 7) and
 * the iperf 2 server (lwiperf, port 5001). */
#include "config.h"
#include "echo.h"
#include "iperf.h"
#include "log.h"
#include "services.h"

void services_start(void)
{
	echo_set_limits(config.echo_max_conns,
			(size_t)config.echo_max_held_kb * 1024,
			config.echo_idle_s);
	echo_init();
	iperf_init();
	log_info("services: echo on tcp/udp 7, iperf on tcp 5001");
}

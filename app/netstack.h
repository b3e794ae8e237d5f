/* The network side of the main loop: finds the NIC, brings up the driver,
 * lwIP and the services, and runs the receive path in the mode the command
 * line chose (irq, poll, hybrid). */
#ifndef SKIFF_APP_NETSTACK_H
#define SKIFF_APP_NETSTACK_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/counters.h"

/* Returns 0 when a NIC is up (the address may still be coming by DHCP), or
 * a negative errno after logging why there is no network. */
int netstack_init(const char *cmdline);
/* Runs forever: bottom halves, lwIP timers, stats lines, idling. */
__attribute__((noreturn)) void netstack_run(void);
/* Runs forever with no NIC: timers only, hlt when idle. */
__attribute__((noreturn)) void netstack_idle_forever(void);

/* The AP work hook (smp_set_ap_work): CPU cpu runs the bottom half of
 * queue pair cpu, once the network is up; nothing otherwise. */
void netstack_ap_work(unsigned cpu);

const char *netstack_mode_name(void);
/* Bottom-half loop counters kept by the main loop itself. */
struct netstack_loop_stats {
	uint64_t loops;
	uint64_t sleeps;	/* times the CPU halted waiting for work */
	uint64_t mode_switches; /* hybrid: poll -> interrupt transitions */
	uint64_t wakeups;	/* sleeps ended by NIC work */
};
void netstack_loop_stats(struct netstack_loop_stats *out);
/* The /stats "loop" member: names, order and types (kernel/counters.h). */
extern const struct counter_desc netstack_loop_counters[];
extern const unsigned netstack_loop_counters_len;
/* JSON object of the driver and glue counters ("{...}"), or -1 when the
 * NIC is absent. */
int netstack_driver_json(char *buf, unsigned cap);
int netstack_netif_json(char *buf, unsigned cap);
/* The same counters as structs, for /metrics; false when the NIC is
 * absent. */
struct vnet_stats;
struct skiffif_stats;
bool netstack_driver_stats(struct vnet_stats *out);
/* Queue pairs in use (0 without a NIC), and pair i's own driver counters
 * and, for pairs served by another CPU, its hand-off counters (zero for
 * pair 0). Pair i runs on CPU i. */
struct netdev_rps_stats;
unsigned netstack_queue_count(void);
bool netstack_queue_stats(unsigned i, struct vnet_stats *drv,
			  struct netdev_rps_stats *rps);
bool netstack_netif_stats(struct skiffif_stats *out);

#endif

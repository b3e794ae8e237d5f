/* /stats: one JSON document assembled from every subsystem's counters.
 * When the buffer is too small the result is truncated, but the returned
 * length says how much was needed (kbuf). */
#include <string.h>

#include "app/netstack.h"
#include "app/stats.h"
#include "kernel/clock.h"
#include "kernel/counters.h"
#include "kernel/heap.h"
#include "kernel/kbuf.h"
#include "kernel/page_alloc.h"
#include "kernel/percpu.h"
#include "kernel/printf.h"
#include "lwip-port/lwip_stats64.h"
#include "lwip-port/skiffif.h"
#include "lwip-port/sockfilter.h"
#include "lwip-port/tcp_budget.h"
#include "lwip-port/tcp_guard.h"
#include "lwip-port/tcp_reaper.h"
#include "lwip/memp.h"
#include "lwip/stats.h"
#include "netdev/rps.h"
#include "netdev/tc_hook.h"
#include "services/echo.h"
#include "services/http.h"
#include "services/iperf.h"
#include "services/xsk_echo.h"
#include "xdp/xdp_hook.h"
#include "xdp/xsk.h"

/* Appends "name": <object from fn>, or null when fn has nothing. */
static void put_member(struct kbuf *o, const char *name,
		       int (*fn)(char *, size_t))
{
	kbuf_printf(o, ",\"%s\":", name);
	size_t room = o->len < o->cap ? o->cap - o->len : 0;
	int n = fn(room ? o->buf + o->len : NULL, room);
	if (n < 0)
		kbuf_printf(o, "null");
	else
		o->len += (size_t)n;
}

static int driver_json(char *buf, size_t cap)
{
	return netstack_driver_json(buf, (unsigned)cap);
}

static int netif_json(char *buf, size_t cap)
{
	return netstack_netif_json(buf, (unsigned)cap);
}

static int tcp_guard_json(char *buf, size_t cap)
{
	struct tcp_guard_stats g;

	tcp_guard_get_stats(&g);
	return counters_json(buf, cap, tcp_guard_counters,
			     tcp_guard_counters_len, &g);
}

static int tcp_reaper_json(char *buf, size_t cap)
{
	struct tcp_reaper_stats r;

	tcp_reaper_get_stats(&r);
	return counters_json(buf, cap, tcp_reaper_counters,
			     tcp_reaper_counters_len, &r);
}

/* Appends ,"name":{members of base from its table}. */
static void put_object(struct kbuf *o, const char *name,
		       const struct counter_desc *d, unsigned n,
		       const void *base, bool first)
{
	kbuf_printf(o, "%s\"%s\":{", first ? "" : ",", name);
	counters_json_members(o, d, n, base, 1);
	kbuf_printf(o, "}");
}

/* lwIP's protocol counters, widened to 64 bits (lwip_stats64.h). */
static void put_proto(struct kbuf *o, const char *name,
		      enum lwip_stats64_proto which, bool first)
{
	put_object(o, name, lwip_proto64_counters, lwip_proto64_counters_len,
		   lwip_stats64_get(which), first);
}

/* Pool names, in memp_t order, from lwIP's own list. */
static const char *const memp_names[] = {
#define LWIP_MEMPOOL(name, num, size, desc) #name,
#include "lwip/priv/memp_std.h"
};

static void put_lwip(struct kbuf *o)
{
	kbuf_printf(o, ",\"lwip\":{");
	put_proto(o, "link", LWIP64_LINK, true);
	put_proto(o, "etharp", LWIP64_ETHARP, false);
	put_proto(o, "ip", LWIP64_IP, false);
	put_proto(o, "icmp", LWIP64_ICMP, false);
	put_proto(o, "udp", LWIP64_UDP, false);
	put_proto(o, "tcp", LWIP64_TCP, false);
	kbuf_printf(o, ",\"memp\":{");
	for (int i = 0; i < MEMP_MAX; i++)
		put_object(o, memp_names[i], lwip_mem_counters,
			   lwip_mem_counters_len, lwip_stats.memp[i], i == 0);
	kbuf_printf(o, "}}");
}

static void put_memory(struct kbuf *o)
{
	struct heap_stats h;
	struct page_alloc_stats p;

	heap_get_stats(&h);
	page_alloc_get_stats(&p);
	put_object(o, "heap", heap_stats_counters, heap_stats_counters_len, &h,
		   false);
	put_object(o, "pages", page_alloc_stats_counters,
		   page_alloc_stats_counters_len, &p, false);
	kbuf_printf(o, ",\"pbuf\":{");
	counters_json_members(o, lwip_pbuf_pool_counters,
			      lwip_pbuf_pool_counters_len,
			      lwip_stats.memp[MEMP_PBUF_POOL], 1);
	counters_json_members(o, lwip_pbuf_ref_counters,
			      lwip_pbuf_ref_counters_len,
			      lwip_stats.memp[MEMP_PBUF], 0);
	kbuf_printf(o, "}");
}

/* "cpus": the total over the online CPUs, then each CPU's own. */
static void put_cpus(struct kbuf *o)
{
	struct cpu_stats st;
	unsigned n = cpu_count();

	cpu_stats_total(&st);
	kbuf_printf(o, ",\"cpus\":{\"online\":%u", n);
	put_object(o, "total", cpu_stats_counters, cpu_stats_counters_len, &st,
		   false);
	kbuf_printf(o, ",\"per_cpu\":[");
	for (unsigned i = 0; i < n; i++) {
		cpu_stats_snapshot(i, &st);
		kbuf_printf(o, "%s{\"cpu\":%u,\"apic_id\":%u", i ? "," : "", i,
			    percpu[i].apic_id);
		counters_json_members(o, cpu_stats_counters,
				      cpu_stats_counters_len, &st, 0);
		kbuf_printf(o, "}");
	}
	kbuf_printf(o, "]}");
}

/* "queues": each queue pair's own counters (pair i on CPU i), whose sum
 * is "driver"; "rps" is the hand-off to CPU 0 (netdev/rps.h). */
static void put_queues(struct kbuf *o)
{
	unsigned n = netstack_queue_count();

	kbuf_printf(o, ",\"queues\":[");
	for (unsigned i = 0; i < n; i++) {
		struct vnet_stats vs;
		struct netdev_rps_stats rs;

		if (!netstack_queue_stats(i, &vs, &rs))
			break;
		kbuf_printf(o, "%s{\"queue\":%u,\"cpu\":%u", i ? "," : "", i,
			    i);
		put_object(o, "driver", vnet_stats_counters,
			   vnet_stats_counters_len, &vs, false);
		put_object(o, "rps", netdev_rps_stats_desc,
			   netdev_rps_stats_ndesc, &rs, false);
		kbuf_printf(o, "}");
	}
	kbuf_printf(o, "]");
}

int stats_json(char *buf, size_t cap)
{
	struct kbuf o = {buf, cap, 0};
	struct netstack_loop_stats ls;

	netstack_loop_stats(&ls);
	/* The uptime and the mode's name are not counters of a struct. */
	kbuf_printf(&o, "{\"uptime_ms\":%llu,\"mode\":\"%s\"",
		    (unsigned long long)clock_ms(), netstack_mode_name());
	/* Where the TSC rate came from (CPUID, the hypervisor leaf, or a
	 * timer it was measured against), next to the rate. */
	kbuf_printf(&o, ",\"clock\":{\"source\":\"%s\",\"tsc_khz\":%llu}",
		    clock_source_key(),
		    (unsigned long long)(clock_tsc_hz() / 1000));
	put_object(&o, "loop", netstack_loop_counters,
		   netstack_loop_counters_len, &ls, false);
	put_cpus(&o);
	put_member(&o, "driver", driver_json);
	put_queues(&o);
	put_member(&o, "netif", netif_json);
	put_lwip(&o);
	put_member(&o, "tcp_guard", tcp_guard_json);
	put_member(&o, "tcp_reaper", tcp_reaper_json);
	put_member(&o, "tcp_budget", tcp_budget_json);
	put_memory(&o);
	put_member(&o, "echo", echo_stats_json);
	put_member(&o, "iperf", iperf_stats_json);
	put_member(&o, "http", http_stats_json);
	put_member(&o, "xdp", xdp_hook_stats_json);
	put_member(&o, "tc", tc_stats_json);
	put_member(&o, "sockfilter", sockfilter_stats_json);
	put_member(&o, "xsk", xsk_stats_json);
	put_member(&o, "xsk_echo", xsk_echo_stats_json);
	kbuf_printf(&o, "}");
	return kbuf_finish(&o);
}

/* /metrics: the counters of /stats in the Prometheus text exposition format
 * (version 0.0.4), written by the same tables through the third emitter
 * (counters_prom, kernel/counters.h). Each subsystem's families share a
 * prefix named after its /stats member (skiff_driver_..., skiff_http_...);
 * where a table has a dimension (drops by reason, interrupts by queue,
 * responses by status, lwIP by protocol and pool, the XDP hook by program)
 * it becomes a label. Exercised by tests/unit/test_counters.c (the
 * emitter) and tests/qemu/test_metrics.py (promtool, Prometheus). */
#include "app/metrics.h"

#include "app/netstack.h"
#include "drivers/virtio_net.h"
#include "gen/version.h"
#include "kernel/clock.h"
#include "kernel/counters.h"
#include "kernel/heap.h"
#include "kernel/kbuf.h"
#include "kernel/page_alloc.h"
#include "kernel/percpu.h"
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
#include "xdp/xdp_hook.h"

/* Writes one struct's table under prefix, labelled as dims say. */
static void one(struct kbuf *b, const char *prefix, const char *path,
		const struct counter_desc *d, unsigned n, const void *base,
		const struct counter_dim *dims, unsigned ndims,
		const char *labels)
{
	const void *bases[1] = {base};
	struct counters_prom p = {
	    .prefix = prefix,
	    .json_path = path,
	    .dims = dims,
	    .ndims = ndims,
	    .labels = labels,
	    .bases = bases,
	    .ninst = 1,
	};

	counters_prom(b, d, n, &p);
}

static const struct counter_dim driver_dims[] = {
    {"drops.", "reason"},
    {"irqs.", "queue"},
    {"rx_batch_log2.", "log2_frames"},
    {"tx_batch_log2.", "log2_frames"},
};

static const struct counter_dim netif_dims[] = {
    {"drops.", "reason"},
    {"csum_offload.", "direction"},
};

static const struct counter_dim http_dims[] = {
    {"by_class.", "class"},
    {"by_status.", "status"},
};

static void put_nic(struct kbuf *b)
{
	struct vnet_stats vs;
	struct skiffif_stats ss;

	if (netstack_driver_stats(&vs))
		one(b, "skiff_driver", "driver", vnet_stats_counters,
		    vnet_stats_counters_len, &vs, driver_dims,
		    COUNTERS_LEN(driver_dims), NULL);
	if (netstack_netif_stats(&ss))
		one(b, "skiff_netif", "netif", skiffif_stats_desc,
		    skiffif_stats_ndesc, &ss, netif_dims,
		    COUNTERS_LEN(netif_dims), NULL);
}

/* Pool names, in memp_t order, from lwIP's own list (as in app/stats.c). */
static const char *const memp_names[] = {
#define LWIP_MEMPOOL(name, num, size, desc) #name,
#include "lwip/priv/memp_std.h"
};

static void put_lwip(struct kbuf *b)
{
	static const char *const protos[] = {"link", "etharp", "ip",
					     "icmp", "udp",    "tcp"};
	/* The 64-bit totals /stats shows (lwip_stats64.h), in protos order. */
	const void *proto_bases[LWIP64_PROTOS];
	const void *pool_bases[MEMP_MAX];

	for (int i = 0; i < LWIP64_PROTOS; i++)
		proto_bases[i] = lwip_stats64_get((enum lwip_stats64_proto)i);
	for (int i = 0; i < MEMP_MAX; i++)
		pool_bases[i] = lwip_stats.memp[i];
	struct counters_prom pr = {
	    .prefix = "skiff_lwip",
	    .json_path = "lwip.<proto>",
	    .bases = proto_bases,
	    .inst_names = protos,
	    .inst_label = "proto",
	    .ninst = COUNTERS_LEN(protos),
	};
	counters_prom(b, lwip_proto64_counters, lwip_proto64_counters_len, &pr);
	struct counters_prom pm = {
	    .prefix = "skiff_lwip_memp",
	    .json_path = "lwip.memp.<pool>",
	    .bases = pool_bases,
	    .inst_names = memp_names,
	    .inst_label = "pool",
	    .ninst = MEMP_MAX,
	};
	counters_prom(b, lwip_mem_counters, lwip_mem_counters_len, &pm);
}

static void put_memory(struct kbuf *b)
{
	struct heap_stats h;
	struct page_alloc_stats p;
	struct tcp_guard_stats g;

	heap_get_stats(&h);
	page_alloc_get_stats(&p);
	tcp_guard_get_stats(&g);
	one(b, "skiff_tcp_guard", "tcp_guard", tcp_guard_counters,
	    tcp_guard_counters_len, &g, NULL, 0, NULL);
	one(b, "skiff_heap", "heap", heap_stats_counters,
	    heap_stats_counters_len, &h, NULL, 0, NULL);
	one(b, "skiff_pages", "pages", page_alloc_stats_counters,
	    page_alloc_stats_counters_len, &p, NULL, 0, NULL);
	one(b, "skiff_pbuf", "pbuf", lwip_pbuf_pool_counters,
	    lwip_pbuf_pool_counters_len, lwip_stats.memp[MEMP_PBUF_POOL], NULL,
	    0, NULL);
	one(b, "skiff_pbuf", "pbuf", lwip_pbuf_ref_counters,
	    lwip_pbuf_ref_counters_len, lwip_stats.memp[MEMP_PBUF], NULL, 0,
	    NULL);
}

static void put_services(struct kbuf *b)
{
	struct echo_stats e;
	struct iperf_stats i;
	struct http_limits l;

	echo_get_stats(&e);
	iperf_get_stats(&i);
	http_get_limits(&l);
	one(b, "skiff_echo", "echo", echo_stats_desc, echo_stats_ndesc, &e,
	    NULL, 0, NULL);
	one(b, "skiff_iperf", "iperf", iperf_stats_counters,
	    iperf_stats_counters_len, &i, NULL, 0, NULL);
	one(b, "skiff_http", "http", http_counters_desc, http_counters_desc_len,
	    &http_counters, http_dims, COUNTERS_LEN(http_dims), NULL);
	one(b, "skiff_http", "http", http_limits_desc, http_limits_desc_len, &l,
	    NULL, 0, NULL);
}

/* Instances of one table under one label: lwIP's protocols, the services'
 * budgets, the CPUs. */
static void many(struct kbuf *b, const char *prefix, const char *path,
		 const struct counter_desc *d, unsigned n,
		 const void *const *bases, const char *const *names,
		 const char *label, unsigned ninst)
{
	struct counters_prom p = {
	    .prefix = prefix,
	    .json_path = path,
	    .bases = bases,
	    .inst_names = names,
	    .inst_label = label,
	    .ninst = ninst,
	};

	if (ninst)
		counters_prom(b, d, n, &p);
}

/* The TCP defences: the reaper, each service's budget, HTTP's. */
static void put_tcp_defences(struct kbuf *b)
{
	struct tcp_reaper_stats r;
	struct tcp_budget_stats bs[TCP_BUDGET_MAX_SERVICES];
	const void *bases[TCP_BUDGET_MAX_SERVICES];
	const char *names[TCP_BUDGET_MAX_SERVICES];
	unsigned nb = 0;

	tcp_reaper_get_stats(&r);
	one(b, "skiff_tcp_reaper", "tcp_reaper", tcp_reaper_counters,
	    tcp_reaper_counters_len, &r, NULL, 0, NULL);
	while (nb < TCP_BUDGET_MAX_SERVICES &&
	       tcp_budget_get(nb, &names[nb], &bs[nb])) {
		bases[nb] = &bs[nb];
		nb++;
	}
	many(b, "skiff_tcp_budget", "tcp_budget.<service>", tcp_budget_counters,
	     tcp_budget_counters_len, bases, names, "service", nb);
	one(b, "skiff_http", "http", http_defence_desc, http_defence_desc_len,
	    &http_defence, NULL, 0, NULL);
}

/* The TC hook per direction, the socket filters per service (the hook's
 * own counters; the program's are in /stats). */
static void put_tc_sockfilter(struct kbuf *b)
{
	static const char *const dirs[TC_NDIRS] = {"ingress", "egress"};
	static const char *const svcs[] = {"echo", "http", "iperf"};
	struct tc_stats t[TC_NDIRS], tp;
	struct sockfilter_stats f[COUNTERS_LEN(svcs)], fp;
	const void *tb[TC_NDIRS], *fb[COUNTERS_LEN(svcs)];
	const char *fnames[COUNTERS_LEN(svcs)];
	unsigned nf = 0;

	for (unsigned d = 0; d < TC_NDIRS; d++) {
		tc_get_stats((enum tc_dir)d, &t[d], &tp);
		tb[d] = &t[d];
	}
	many(b, "skiff_tc", "tc.<direction>", tc_stats_desc, tc_stats_ndesc, tb,
	     dirs, "direction", TC_NDIRS);
	for (unsigned i = 0; i < COUNTERS_LEN(svcs); i++)
		if (sockfilter_get_stats(svcs[i], &f[nf], &fp) == 0) {
			fb[nf] = &f[nf];
			fnames[nf++] = svcs[i];
		}
	many(b, "skiff_sockfilter", "sockfilter.<service>",
	     sockfilter_stats_desc, sockfilter_stats_ndesc, fb, fnames,
	     "service", nf);
}

/* Each queue pair's driver and hand-off counters, labelled queue="N"
 * (pair N runs on CPU N). */
static void put_queues(struct kbuf *b)
{
	static const char *const names[VNET_MAX_PAIRS] = {"0", "1", "2", "3",
							  "4", "5", "6", "7"};
	static struct vnet_stats vs[VNET_MAX_PAIRS];
	static struct netdev_rps_stats rs[VNET_MAX_PAIRS];
	const void *vb[VNET_MAX_PAIRS], *rb[VNET_MAX_PAIRS];
	unsigned n = netstack_queue_count();

	if (n > VNET_MAX_PAIRS)
		n = VNET_MAX_PAIRS;
	for (unsigned i = 0; i < n; i++) {
		if (!netstack_queue_stats(i, &vs[i], &rs[i])) {
			n = i;
			break;
		}
		vb[i] = &vs[i];
		rb[i] = &rs[i];
	}
	many(b, "skiff_queue", "queues[].driver", vnet_stats_counters,
	     vnet_stats_counters_len, vb, names, "queue", n);
	many(b, "skiff_queue_rps", "queues[].rps", netdev_rps_stats_desc,
	     netdev_rps_stats_ndesc, rb, names, "queue", n);
}

/* Each online CPU's counters, labelled cpu="N" (sum them in a query). */
static void put_cpus(struct kbuf *b)
{
	static const char *const cpu_names[] = {
	    "0",  "1",	"2",  "3",  "4",  "5",	"6",  "7",  "8",  "9",	"10",
	    "11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "21",
	    "22", "23", "24", "25", "26", "27", "28", "29", "30", "31"};
	static struct cpu_stats st[COUNTERS_LEN(cpu_names)];
	const void *bases[COUNTERS_LEN(cpu_names)];
	unsigned n = cpu_count();

	if (n > COUNTERS_LEN(cpu_names))
		n = COUNTERS_LEN(cpu_names);
	for (unsigned i = 0; i < n; i++) {
		cpu_stats_snapshot(i, &st[i]);
		bases[i] = &st[i];
	}
	many(b, "skiff_cpu", "cpus.per_cpu[]", cpu_stats_counters,
	     cpu_stats_counters_len, bases, cpu_names, "cpu", n);
}

/* The hook's counters carry the attached program's name (none: no
 * program, and the counters stay 0). */
static void put_xdp(struct kbuf *b)
{
	struct xdp_hook_stats x;
	struct xdp_prog_stats xp;
	char labels[96]; /* prog="<name>", a 31-char name escaped at worst */
	struct kbuf lb = {labels, sizeof(labels), 0};
	const struct ebpf_prog *p = xdp_hook_prog;

	xdp_hook_get_stats(&x);
	xdp_hook_get_prog_stats(&xp);
	counters_prom_label(&lb, "prog", p ? p->name : "", 1);
	kbuf_finish(&lb);
	one(b, "skiff_xdp", "xdp", xdp_hook_stats_desc, xdp_hook_stats_ndesc,
	    &x, NULL, 0, labels);
	one(b, "skiff_xdp_prog", "xdp.prog", xdp_prog_stats_desc,
	    xdp_prog_stats_ndesc, &xp, NULL, 0, labels);
}

int metrics_prom(char *buf, size_t cap)
{
	struct kbuf b = {buf, cap, 0};
	struct netstack_loop_stats ls;
	unsigned long long ms = clock_ms();
	const struct ebpf_prog *p = xdp_hook_prog;

	if (cap)
		buf[0] = '\0';
	/* What is not a counter of a struct: the uptime, and the version,
	 * mode and program as labels of a constant (the usual _info). */
	kbuf_printf(&b,
		    "# HELP skiff_uptime_seconds /stats uptime_ms, in seconds\n"
		    "# TYPE skiff_uptime_seconds gauge\n"
		    "skiff_uptime_seconds %llu.%03llu\n"
		    "# HELP skiff_info Version, receive mode (/stats mode) and "
		    "attached XDP program (/stats xdp.attached)\n"
		    "# TYPE skiff_info gauge\nskiff_info{",
		    ms / 1000, ms % 1000);
	counters_prom_label(&b, "version", SKIFF_VERSION, 1);
	counters_prom_label(&b, "mode", netstack_mode_name(), 0);
	counters_prom_label(&b, "xdp_prog", p ? p->name : "", 0);
	kbuf_printf(&b, "} 1\n");
	netstack_loop_stats(&ls);
	one(&b, "skiff_loop", "loop", netstack_loop_counters,
	    netstack_loop_counters_len, &ls, NULL, 0, NULL);
	put_nic(&b);
	put_lwip(&b);
	put_memory(&b);
	put_services(&b);
	put_xdp(&b);
	put_tcp_defences(&b);
	put_tc_sockfilter(&b);
	put_cpus(&b);
	put_queues(&b);
	return kbuf_finish(&b);
}

/* Network bring-up and the receive-path main loop.
 *
 *   irq:    MSI-X vector per queue -> top half (vnet_irq: EOI, suppress the
 *           queue's interrupts, flag work) -> the loop runs the bottom half,
 *           at most net.budget frames; when a run ends under budget it
 *           re-arms the interrupt and checks the ring once more (a frame
 *           that landed in between would otherwise wait for the next one),
 *           then halts until an interrupt.
 *   poll:   no NIC interrupts at all; the loop polls RX and TX forever, like
 *           a DPDK poll-mode driver.
 *   hybrid: polls while frames flow; after net.hybrid_polls empty polls in
 *           a row it re-arms interrupts and halts, like NAPI busy polling.
 *
 * The APIC timer ticks in every mode, so lwIP's timers run when idle. */
#include <stdlib.h>
#include <string.h>

#include "app/driver_stats.h"
#include "app/netstack.h"
#include "app/services.h"
#include "drivers/pci.h"
#include "drivers/virtio_mmio.h"
#include "drivers/virtio_mmio_reg.h"
#include "drivers/virtio_net.h"
#include "drivers/virtio_pci.h"
#include "kernel/acpi.h"
#include "kernel/apic.h"
#include "kernel/boot_steps.h"
#include "kernel/clock.h"
#include "kernel/config.h"
#include "kernel/cpu.h"
#include "kernel/entropy.h"
#include "kernel/heap.h"
#include "kernel/ioapic.h"
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "kernel/paging.h"
#include "kernel/percpu.h"
#include "kernel/printf.h"
#include "kernel/smp.h"
#include "kernel/trap.h"
#include "lwip-port/lwip_stats64.h"
#include "lwip-port/skiffif.h"
#include "lwip-port/tcp_guard.h"
#include "lwip-port/tcp_reaper.h"
#include "lwip/dhcp.h"
#include "lwip/dns.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/memp.h"
#include "lwip/netif.h"
#include "lwip/stats.h"
#include "lwip/timeouts.h"
#include "netdev/rps.h"
#include "netdev/tc_hook.h"
#include "netif/ethernet.h"
#include "services/xsk_echo.h"
#include "xdp/xdp_hook.h"
#include "xdp/xdp_progs.h"
#include "xdp/xsk.h"

#define MMIO_CANDIDATES 32

static struct virtio_pci vpci;
static struct virtio_mmio vmmio;
static bool mmio_line_routed;
static struct vnet *vnet;
static struct netif netif;
static bool have_nic, announced;
static struct netstack_loop_stats loop_stats;

static struct vnet_trace_rec *trace;
static bool trace_dumped;
/* Work flags taken while deciding to sleep, handed to the next pass. */
static unsigned carried_work;

/* One per interrupt source of each queue pair: what the vector's handler
 * needs. Pair 0's config entry serves the device's config changes. */
static struct irq_source {
	struct vnet *n;
	enum vnet_irq_source src;
} irq_sources[VNET_MAX_PAIRS][VNET_IRQ_SOURCES];

/* Pairs 1.. each run on their own CPU (pair i on CPU i): published with a
 * release store once everything they need exists; the AP work hook reads
 * it with acquire. */
static struct netdev_rps_queue *rps_queues[VNET_MAX_PAIRS];
static bool rps_published;

const char *netstack_mode_name(void)
{
	return config_net_mode_names[config.net_mode];
}

/* Top half: runs with interrupts off; vnet_irq suppresses the queue's
 * interrupts and flags the work; trap_dispatch sends the EOI after. */
static void nic_irq(void *ctx)
{
	struct irq_source *s = ctx;

	if (s->n)
		vnet_irq(s->n, s->src);
}

/* Called by vnet_probe once per source: a CPU vector, and the MSI-X table
 * entry (one per source, entry index = source) routed to it. */
/* MSI-X table entries: pair p's RX at 2p, its TX at 2p + 1, the config
 * change after every pair's (with one pair: rx 0, tx 1, config 2, as
 * always). Each pair's entries go to the pair's CPU. */
static uint16_t assign_vector(void *ctx, struct vnet *n,
			      enum vnet_irq_source src)
{
	struct virtio_pci *vp = ctx;
	unsigned pair = vnet_queue_index(n), pairs = vnet_queue_count(n);
	unsigned entry = src == VNET_IRQ_CONFIG
			     ? 2 * pairs
			     : 2 * pair + (src == VNET_IRQ_TX);
	unsigned cpu = src == VNET_IRQ_CONFIG ? 0 : pair;

	if (!vp->vdev.msix || entry >= vp->pci->msix_entries ||
	    pair >= VNET_MAX_PAIRS || src >= VNET_IRQ_SOURCES ||
	    cpu >= cpu_count())
		return VIRTIO_MSI_NO_VECTOR;
	irq_sources[pair][src].n = n;
	irq_sources[pair][src].src = src;
	int vector = irq_alloc_vector(nic_irq, &irq_sources[pair][src]);
	if (vector < 0)
		return VIRTIO_MSI_NO_VECTOR;
	if (cpu == 0
		? virtio_pci_route_vector(vp, (uint16_t)entry, (uint8_t)vector)
		: virtio_pci_route_vector_to(vp, (uint16_t)entry,
					     (uint8_t)vector,
					     percpu[cpu].apic_id))
		return VIRTIO_MSI_NO_VECTOR;
	if (pairs == 1)
		log_info("net: MSI-X entry %u -> vector %#x (%s)", entry,
			 vector,
			 src == VNET_IRQ_RX   ? "rx"
			 : src == VNET_IRQ_TX ? "tx"
					      : "config");
	else
		log_info("net: MSI-X entry %u -> vector %#x on cpu %u (%s%u)",
			 entry, vector, cpu,
			 src == VNET_IRQ_RX   ? "rx"
			 : src == VNET_IRQ_TX ? "tx"
					      : "config",
			 src == VNET_IRQ_CONFIG ? 0 : pair);
	return (uint16_t)entry;
}

/* virtio-mmio: one level-triggered line for every source. Acknowledging
 * the causes drops the line before trap_dispatch's EOI, which the local
 * APIC forwards to the I/O APIC for a level-triggered vector. */
static void mmio_irq(void *ctx)
{
	uint32_t why = virtio_mmio_ack_irq(&vmmio);
	struct vnet *n = irq_sources[0][VNET_IRQ_RX].n;

	if (!n)
		return;
	if (why & VIRTIO_MMIO_INT_VRING)
		vnet_irq(n, VNET_IRQ_RX);
	if (why & VIRTIO_MMIO_INT_CONFIG)
		vnet_irq(n, VNET_IRQ_CONFIG);
}

/* vnet_probe's callback for virtio-mmio: the first source routes the
 * device's GSI through the I/O APIC; every source then answers with its
 * own index (the transport ignores it: there is only the line). */
static uint16_t assign_line(void *ctx, struct vnet *n, enum vnet_irq_source src)
{
	struct virtio_mmio *vm = ctx;

	irq_sources[0][src].n = n;
	irq_sources[0][src].src = src;
	if (!mmio_line_routed) {
		int vector = irq_alloc_vector(mmio_irq, NULL);
		if (vector < 0)
			return VIRTIO_MSI_NO_VECTOR;
		if (ioapic_route(vm->irq, (uint8_t)vector, IOAPIC_LEVEL,
				 IOAPIC_ACTIVE_HIGH, false)) {
			log_warn("net: no I/O APIC serves GSI %u; polling",
				 vm->irq);
			return VIRTIO_MSI_NO_VECTOR;
		}
		mmio_line_routed = true;
		log_info("net: GSI %u (level) -> vector %#x, shared by rx, tx "
			 "and config",
			 vm->irq, vector);
	}
	return (uint16_t)src;
}

/* The virtio-mmio windows the loader announced: the command line first
 * (QEMU microvm without ACPI, Firecracker), then the DSDT (microvm with
 * ACPI). Each is checked, mapped and probed; the first network device
 * wins. */
static struct virtio_device *find_mmio_net(const char *cmdline)
{
	struct virtio_mmio_desc d[MMIO_CANDIDATES];
	int bad,
	    n = virtio_mmio_parse_cmdline(cmdline, d, MMIO_CANDIDATES, &bad);

	if (bad)
		log_warn("net: %d malformed virtio_mmio.device= ignored "
			 "(SIZE@ADDR:IRQ)",
			 bad);
	struct acpi_mmio_dev a[MMIO_CANDIDATES];
	int na = acpi_find_mmio_devices("LNRO0005", a, MMIO_CANDIDATES);
	for (int i = 0; i < na && n < MMIO_CANDIDATES; i++) {
		if (a[i].size < VIRTIO_MMIO_MIN_SIZE ||
		    a[i].size > VIRTIO_MMIO_MAX_SIZE || (a[i].base & 0xff) ||
		    !a[i].base || a[i].base + a[i].size > (1ULL << 32) ||
		    a[i].irq == 0 || a[i].irq > 255) {
			log_warn("net: ACPI virtio-mmio %#llx+%#llx irq %u "
				 "makes no sense; skipped",
				 (unsigned long long)a[i].base,
				 (unsigned long long)a[i].size, a[i].irq);
			continue;
		}
		d[n++] =
		    (struct virtio_mmio_desc){a[i].base, a[i].size, a[i].irq};
	}
	for (int i = 0; i < n; i++) {
		volatile void *regs = paging_map_mmio(d[i].base, d[i].size);
		if (regs && virtio_mmio_attach(&vmmio, regs, &d[i], 1) == 0)
			return &vmmio.vdev;
	}
	return NULL;
}

static void format_ip(uint32_t host_order, char *buf, size_t cap)
{
	ksnprintf(buf, cap, "%u.%u.%u.%u", host_order >> 24,
		  (host_order >> 16) & 255, (host_order >> 8) & 255,
		  host_order & 255);
}

static void status_changed(struct netif *nif)
{
	if (!netif_is_up(nif) || ip4_addr_isany_val(*netif_ip4_addr(nif)))
		return;
	char ip[16], gw[16];
	uint32_t mask = lwip_ntohl(ip4_addr_get_u32(netif_ip4_netmask(nif)));
	int prefix = 0;
	while (prefix < 32 && (mask & (0x80000000u >> prefix)))
		prefix++;
	format_ip(lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(nif))), ip,
		  sizeof(ip));
	format_ip(lwip_ntohl(ip4_addr_get_u32(netif_ip4_gw(nif))), gw,
		  sizeof(gw));
	log_info("net: %c%c%u up, address %s/%d gateway %s (%s)", nif->name[0],
		 nif->name[1], nif->num, ip, prefix, gw,
		 config.ip.addr ? "static" : "DHCP");
	if (!announced) {
		announced = true;
		services_start();
	}
}

static void link_changed(struct netif *nif)
{
	log_info("net: link %s", netif_is_link_up(nif) ? "up" : "down");
}

static void configure_address(void)
{
	ip4_addr_t ip, mask, gw;

	if (!config.ip.addr) {
		dhcp_start(&netif);
		log_info("net: asking for an address by DHCP");
		return;
	}
	uint32_t m = config.ip.prefix ? ~0u << (32 - config.ip.prefix) : 0;
	ip4_addr_set_u32(&ip, lwip_htonl(config.ip.addr));
	ip4_addr_set_u32(&mask, lwip_htonl(m));
	ip4_addr_set_u32(&gw, lwip_htonl(config.gw));
	netif_set_addr(&netif, &ip, &mask, &gw);
	if (config.dns) {
		ip_addr_t d;
		ip_addr_set_ip4_u32(&d, lwip_htonl(config.dns));
		dns_setserver(0, &d);
	}
	status_changed(&netif);
}

/* net.rx_posted: empty = the whole ring, "adaptive", or a count. */
static void parse_rx_posted(struct vnet_params *p)
{
	const char *v = config.net_rx_posted;
	char *end;

	if (!v[0])
		return;
	if (!strcmp(v, "adaptive")) {
		p->rx_posted_adaptive = true;
		return;
	}
	unsigned long n = strtoul(v, &end, 10);
	if (*end || n < 1 || n > 65535) {
		log_warn("cmdline: bad value '%s' for net.rx_posted: expected "
			 "1..65535 or 'adaptive'; filling the ring",
			 v);
		return;
	}
	p->rx_posted = (uint16_t)n;
}

static void setup_trace(struct vnet_params *p)
{
	if (!config.net_trace)
		return;
	trace = kcalloc(config.net_trace, sizeof(*trace));
	if (!trace) {
		log_warn("net: no memory for %u trace records; tracing off",
			 config.net_trace);
		return;
	}
	p->trace = trace;
	p->trace_cap = config.net_trace;
	log_info("net: recording %u RX buffer events", config.net_trace);
}

/* Once the trace is full, print it for tools/ddio_model (--trace). */
static void maybe_dump_trace(void)
{
	uint64_t dropped;
	char line[64];

	if (!trace || trace_dumped ||
	    vnet_trace_count(vnet, &dropped) < config.net_trace)
		return;
	trace_dumped = true;
	log_info("trace: begin %u records (ns buffer event len)",
		 config.net_trace);
	for (uint32_t i = 0; i < config.net_trace; i++) {
		vnet_trace_format_line(&trace[i], line, sizeof(line));
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		log_info("trace: %s", line);
	}
	log_info("trace: end");
}

/* tc.ingress= / tc.egress=: a built-in tc program at the TC hook. */
static void attach_tc(enum tc_dir dir, const char *name, const char *who)
{
	struct ebpf_prog *p;

	if (!name[0] || xdp_builtin_load(name, EBPF_PROG_SCHED_CLS,
					 config.xdp_jit, who, &p) != 0)
		return;
	if (tc_attach(dir, p, NULL) != 0) {
		log_error("%s: cannot attach %s", who, name);
		ebpf_prog_free(p);
	}
}

static unsigned wanted_pairs(void)
{
	unsigned n = cpu_count();

	if (config.net_queues && config.net_queues < n)
		n = config.net_queues;
	return n > VNET_MAX_PAIRS ? VNET_MAX_PAIRS : n;
}

/* Pairs 1.. get their receive path on their own CPU (netdev/rps.h). The
 * device already steers flows to every pair, so a pair that cannot be set
 * up is an error for the whole network (it fails only without memory). */
static int setup_rps(void)
{
	unsigned pairs = vnet_queue_count(vnet);

	for (unsigned i = 1; i < pairs; i++) {
		rps_queues[i] = netdev_rps_create(vnet_queue(vnet, i), i, i);
		if (!rps_queues[i]) {
			log_error("net: no memory for queue pair %u", i);
			return -ENOMEM;
		}
	}
	if (pairs > 1) {
		int err = skiffif_set_rps(&netif, rps_queues, pairs);
		if (err)
			return err;
		log_info("net: %u queue pairs: pair i on cpu i; lwIP and "
			 "every reply on cpu 0, pair 0",
			 pairs);
	}
	return 0;
}

int netstack_init(const char *cmdline)
{
	struct virtio_device *dev = NULL;
	vnet_vector_fn vector_fn = assign_vector;
	void *vector_ctx = &vpci;
	int err;

	pci_init();
	boot_step("net.pci");
	struct pci_device *pd = virtio_pci_find(1);
	if (pd) {
		err = virtio_pci_attach(pd, 1, &vpci);
		if (err)
			return err;
		dev = &vpci.vdev;
	} else if ((dev = find_mmio_net(cmdline))) {
		vector_fn = assign_line;
		vector_ctx = &vmmio;
	} else {
		log_error("net: no virtio-net device found (QEMU: -device "
			  "virtio-net-pci,disable-legacy=on, or on microvm "
			  "-device virtio-net-device); no network");
		return -ENODEV;
	}

	struct vnet_params params = {
	    .pool_bufs = config.net_rx_bufs,
	    .no_csum_offload = !config.net_csum_offload,
	    .no_tso = !config.net_tso,
	    .no_indirect = !config.net_indirect,
	    .tx_ring_max = (uint16_t)config.net_tx_ring,
	    /* Poll mode takes no NIC interrupts at all. */
	    .vector = config.net_mode == NET_MODE_POLL ? NULL : vector_fn,
	    .vector_ctx = vector_ctx,
	    .clock = clock_ns,
	    /* One pair per CPU over PCI (MSI-X routes each pair's entries
	     * to its CPU); virtio-mmio has one line, so one pair. */
	    .max_pairs = vector_fn == assign_vector ? wanted_pairs() : 1,
	};
	boot_step("net.find");
	parse_rx_posted(&params);
	setup_trace(&params);
	err = vnet_probe(dev, &params, &vnet);
	if (err) {
		log_error("net: virtio-net probe failed (%d); no network", err);
		return err;
	}
	boot_step("net.probe");
	if (config.net_mode != NET_MODE_POLL &&
	    !vnet_has_irq(vnet, VNET_IRQ_RX)) {
		log_warn("net: no RX interrupt available; using poll mode");
		config.net_mode = NET_MODE_POLL;
	}
	xdp_hook_register();
	if (config.xdp_prog[0] &&
	    xdp_hook_attach(config.xdp_prog, config.xdp_jit) == 0 &&
	    config.xdp_blocklist[0])
		xdp_hook_blocklist(config.xdp_blocklist);
	attach_tc(TC_INGRESS, config.tc_ingress, "tc.ingress");
	attach_tc(TC_EGRESS, config.tc_egress, "tc.egress");

	boot_step("net.hooks");
	lwip_init();
	skiffif_set_txqueuelen(config.net_txqueuelen);
	tcp_guard_set_max_half_open(config.tcp_max_half_open);
	tcp_reaper_set_limits(config.tcp_fin_timeout_s, config.tcp_giveup_s);
	tcp_reaper_start();
	lwip_stats64_start();
	{
		struct siphash_key cookie_key;

		entropy_key(&cookie_key);
		tcp_guard_init(&cookie_key);
	}
	boot_step("net.lwip");
	if (!netif_add(&netif, NULL, NULL, NULL, vnet, skiffif_init,
		       ethernet_input)) {
		log_error("net: lwIP refused the interface");
		return -EIO;
	}
	err = setup_rps();
	if (err)
		return err;
	/* AF_XDP sockets may bind to any pair: each pair's pool is a UMEM
	 * source, its CPU serves the sockets bound to it. */
	xsk_attach_port(skiffif_rx_port(&netif));
	for (unsigned i = 1; i < vnet_queue_count(vnet); i++)
		xsk_attach_port(&rps_queues[i]->port);
	if (config.xsk_port)
		xsk_echo_start((uint16_t)config.xsk_port, config.xsk_frames,
			       config.xdp_jit, vnet_queue_count(vnet));
	netif_set_default(&netif);
	netif_set_status_callback(&netif, status_changed);
	netif_set_link_callback(&netif, link_changed);
	netif_set_up(&netif);
	have_nic = true;
	/* The other CPUs may start on their pairs now. */
	__atomic_store_n(&rps_published, true, __ATOMIC_RELEASE);
	boot_step("net.netif");
	configure_address();
	log_info("net: receive mode %s, budget %u", netstack_mode_name(),
		 config.net_budget);
	return 0;
}

static void print_stats_line(void)
{
	struct heap_stats hs;
	char buf[1024];

	heap_get_stats(&hs);
	ksnprintf(buf, sizeof(buf),
		  "stats: heap_in_use=%llu heap_peak=%llu pbuf_in_use=%u "
		  "tcp_active=%u",
		  (unsigned long long)hs.in_use, (unsigned long long)hs.peak,
		  (unsigned)(lwip_stats.memp[MEMP_PBUF_POOL]->used +
			     lwip_stats.memp[MEMP_PBUF]->used),
		  (unsigned)lwip_stats.memp[MEMP_TCP_PCB]->used);
	log_info("%s", buf);
	if (vnet) {
		struct vnet_stats vs;
		vnet_get_stats(vnet, &vs);
		vnet_stats_format_text(&vs, buf, sizeof(buf));
		/* One log line per text line, each findable by its prefix. */
		for (char *line = buf, *nl; *line; line = nl + 1) {
			nl = strchr(line, '\n');
			if (!nl) {
				log_info("stats: driver %s", line);
				break;
			}
			*nl = '\0';
			log_info("stats: driver %s", line);
		}
	}
}

/* Timers and periodic output: cheap enough for every pass. */
static void housekeeping(uint64_t *next_stats_ms)
{
	sys_check_timeouts();
	if (trace)
		maybe_dump_trace();
	if (config.net_stats) {
		uint64_t now = clock_ms();
		if (now >= *next_stats_ms) {
			print_stats_line();
			*next_stats_ms = now + config.net_stats * 1000ULL;
		}
	}
}

/* Halts until an interrupt (NIC or timer). Checked with interrupts off so
 * a NIC interrupt between the check and hlt cannot be slept through. */
static void sleep_until_work(void)
{
	irq_disable();
	/* Owners of other pairs wake us when they hand frames over: say we
	 * sleep, then look at their rings once more (netdev/rps.h). */
	netdev_rps_stack_sleeping(true);
	unsigned work = vnet ? vnet_take_work(vnet) : 0;
	if (!work && have_nic && skiffif_rps_pending(&netif))
		work = VNET_WORK_RX;
	if (!work) {
		loop_stats.sleeps++;
		cpu_idle(); /* sti; hlt */
		work = vnet ? vnet_take_work(vnet) : 0;
		if (work)
			loop_stats.wakeups++;
	} else {
		irq_enable();
	}
	netdev_rps_stack_sleeping(false);
	carried_work |= work;
}

/* Owners of other pairs that sleep while we gave their buffers back. */
static void wake_pair_owners(void)
{
	uint32_t w = skiffif_rps_take_wakes(&netif);

	for (unsigned i = 1; w && i < VNET_MAX_PAIRS; i++)
		if (w & (1u << i))
			smp_wake(rps_queues[i]->cpu);
}

/* tests: test.busy_cpu spins once, interrupts off, after its pair is up. */
static void maybe_spin_for_test(unsigned cpu)
{
	static bool spun;

	if (cpu != config.test_busy_cpu || !config.test_busy_ms || spun)
		return;
	spun = true;
	log_info("test.busy_cpu: cpu %u spins %u ms with interrupts off", cpu,
		 config.test_busy_ms);
	irq_disable();
	uint64_t end = clock_ms() + config.test_busy_ms;
	while (clock_ms() < end)
		cpu_relax();
	irq_enable();
	log_info("test.busy_cpu: cpu %u back", cpu);
}

/* The bottom half of pair `cpu`, on that CPU: the AP's work hook
 * (smp_set_ap_work, registered by app/main.c), called each time the CPU
 * wakes. In poll mode it never returns; in irq and hybrid mode it returns
 * with interrupts off once the pair is idle and its interrupt re-armed,
 * and the AP's idle loop halts (sti; hlt) until the next one. */
void netstack_ap_work(unsigned cpu)
{
	struct netdev_rps_queue *q;
	uint32_t empty_run = 0;

	if (!__atomic_load_n(&rps_published, __ATOMIC_ACQUIRE) ||
	    cpu >= VNET_MAX_PAIRS || !(q = rps_queues[cpu]))
		return;
	maybe_spin_for_test(cpu);
	struct vnet *n = q->vnet;
	bool irq =
	    config.net_mode != NET_MODE_POLL && vnet_has_irq(n, VNET_IRQ_RX);

	netdev_rps_owner_awake(q);
	if (irq)
		vnet_rx_irq_disable(n);
	for (;;) {
		bool wake_stack;

		vnet_take_work(n);
		int st = netdev_rps_poll(q, config.net_budget, &wake_stack);
		if (wake_stack)
			smp_wake(0);
		/* This pair's AF_XDP sockets, woken by the poll: served here,
		 * their replies out on this pair with one notify. */
		xsk_run_pending(cpu);
		netdev_tx_flush(&q->tx);
		if (st < 0) {
			log_error("net: pair %u broken (%d); cpu %u stops "
				  "serving it",
				  cpu, st, cpu);
			rps_queues[cpu] = NULL;
			return;
		}
		if (VNET_RX_COUNT(st) || (st & VNET_RX_MORE)) {
			empty_run = 0;
			continue;
		}
		/* Frames of a socket wait for device room: poll, not sleep. */
		if (!irq || xsk_tx_waiting(cpu) ||
		    (config.net_mode == NET_MODE_HYBRID &&
		     ++empty_run < config.net_hybrid_polls)) {
			cpu_relax();
			continue;
		}
		if (vnet_rx_irq_enable(n)) {
			vnet_rx_irq_disable(n);
			continue;
		}
		/* An interrupt between the re-arm and here flagged work:
		 * poll again rather than sleep through it. */
		irq_disable();
		if (vnet_take_work(n) || !netdev_rps_owner_may_sleep(q)) {
			irq_enable();
			vnet_rx_irq_disable(n);
			empty_run = 0;
			continue;
		}
		return;
	}
}

/* Re-arms the RX interrupt after a run under budget, and the TX one while
 * frames wait for ring space (their completions must wake us); returns
 * true when the loop must poll again first: frames arrived or completed
 * meanwhile, or frames wait and no TX interrupt exists to report room. */
static bool rearm_or_continue(void)
{
	if (skiffif_tx_waiting(&netif)) {
		if (!vnet_has_irq(vnet, VNET_IRQ_TX)) {
			cpu_relax();
			return true;
		}
		if (vnet_tx_irq_enable(vnet)) {
			vnet_tx_irq_disable(vnet);
			return true;
		}
	}
	if (vnet_rx_irq_enable(vnet)) {
		vnet_rx_irq_disable(vnet);
		vnet_tx_irq_disable(vnet);
		return true;
	}
	return false;
}

void netstack_run(void)
{
	uint64_t next_stats_ms = 0;
	uint32_t empty_run = 0;
	bool polling = config.net_mode != NET_MODE_IRQ;

	if (config.net_mode != NET_MODE_POLL)
		vnet_rx_irq_disable(vnet); /* start in the bottom half */
	for (;;) {
		loop_stats.loops++;
		housekeeping(&next_stats_ms);
		unsigned work = vnet_take_work(vnet) | carried_work;
		carried_work = 0;
		/* Only a config interrupt says the link may have changed; with
		 * no config vector the glue polls the link on a timer. */
		if (work & VNET_WORK_CONFIG)
			skiffif_link_update(&netif);
		int st = skiffif_poll(&netif, config.net_budget);
		wake_pair_owners();
		/* AF_XDP services the receive path (or a TX completion)
		 * flagged: their replies go out with this round's flush. */
		xsk_run_pending(0);
		/* One notification for everything this round queued: replies
		 * made during RX processing and by timers alike. */
		skiffif_flush(&netif);
		if (st < 0) {
			/* The driver marked the device broken: stop polling
			 * it, keep the timers and the console alive. */
			log_error(
			    "net: device broken (%d); receive path stopped",
			    st);
			netstack_idle_forever();
		}
		bool more = st & VNET_RX_MORE;
		unsigned got = VNET_RX_COUNT(st);

		switch (config.net_mode) {
		case NET_MODE_POLL:
			if (!got)
				cpu_relax();
			continue;
		case NET_MODE_HYBRID:
			if (got || more) {
				empty_run = 0;
				polling = true;
				continue;
			}
			if (++empty_run < config.net_hybrid_polls) {
				cpu_relax();
				continue;
			}
			if (polling)
				loop_stats.mode_switches++;
			polling = false;
			empty_run = 0;
			break;
		default:
			if (more)
				continue;
			break;
		}
		if (rearm_or_continue())
			continue;
		sleep_until_work();
		/* The top half left the RX interrupt suppressed; if the timer
		 * woke us instead, suppress it ourselves for the bottom half.
		 * TX completions are reaped by the poll again. */
		vnet_rx_irq_disable(vnet);
		vnet_tx_irq_disable(vnet);
	}
}

void netstack_idle_forever(void)
{
	uint64_t next_stats_ms = 0;

	for (;;) {
		housekeeping(&next_stats_ms);
		sleep_until_work();
	}
}

void netstack_loop_stats(struct netstack_loop_stats *out)
{
	*out = loop_stats;
}

#define LS(field) COUNTER(U64, struct netstack_loop_stats, field, #field)
const struct counter_desc netstack_loop_counters[] = {
    LS(loops),
    LS(sleeps),
    LS(wakeups),
    LS(mode_switches),
};
const unsigned netstack_loop_counters_len =
    COUNTERS_LEN(netstack_loop_counters);

/* The device's counters: pair 0's, plus every other pair's (each a
 * snapshot of counters its owner CPU writes; per-pair values below). */
static void driver_stats_total(struct vnet_stats *out)
{
	unsigned pairs = vnet_queue_count(vnet);

	vnet_get_stats(vnet, out);
	for (unsigned i = 1; i < pairs; i++) {
		struct vnet_stats q;

		vnet_get_stats(vnet_queue(vnet, i), &q);
		vnet_stats_add(out, &q);
	}
	out->queue_pair = 0;
	out->queue_pairs = pairs;
	/* The target and the pool are per pair: pair 0's stands for all. */
	out->rx_target = out->rx_target / pairs;
}

int netstack_driver_json(char *buf, unsigned cap)
{
	struct vnet_stats vs;

	if (!vnet)
		return -1;
	driver_stats_total(&vs);
	return vnet_stats_format_json(&vs, buf, cap);
}

bool netstack_driver_stats(struct vnet_stats *out)
{
	if (!vnet)
		return false;
	driver_stats_total(out);
	return true;
}

unsigned netstack_queue_count(void)
{
	return vnet ? vnet_queue_count(vnet) : 0;
}

bool netstack_queue_stats(unsigned i, struct vnet_stats *drv,
			  struct netdev_rps_stats *rps)
{
	struct vnet *q = vnet ? vnet_queue(vnet, i) : NULL;

	if (!q)
		return false;
	vnet_get_stats(q, drv);
	if (i > 0 && i < VNET_MAX_PAIRS && rps_queues[i])
		netdev_rps_get_stats(rps_queues[i], rps);
	else
		memset(rps, 0, sizeof(*rps));
	return true;
}

bool netstack_netif_stats(struct skiffif_stats *out)
{
	if (!have_nic)
		return false;
	skiffif_get_stats(&netif, out);
	return true;
}

int netstack_netif_json(char *buf, unsigned cap)
{
	struct skiffif_stats s;

	if (!have_nic)
		return -1;
	skiffif_get_stats(&netif, &s);
	return skiffif_stats_format_json(&s, buf, cap);
}

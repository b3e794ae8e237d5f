/* The command-line keys. To add one: a field in struct config, a default
 * here, and a row in the table. */
#include <stddef.h>

#include "kernel/cmdline.h"
#include "kernel/config.h"
#include "kernel/console.h"
#include "kernel/log.h"

struct config config = {
    .log_level = LOG_INFO,
    .timer_hz = 100,
    .test_fault = FAULT_NONE,
    .test_shutdown = false,
    .net_mode = NET_MODE_HYBRID,
    .net_budget = 64,
    .net_hybrid_polls = 256,
    .net_stats = 0,
    .net_rx_bufs = 1024,
    .net_csum_offload = true,
    .net_tso = true,
    .net_indirect = true,
    .net_txqueuelen = 1000,  /* TXQ_DEFAULT_LEN, Linux's txqueuelen */
    .tcp_fin_timeout_s = 10, /* TCP_REAPER_DEFAULT_FIN_TIMEOUT_S */
    .tcp_giveup_s = 30,	     /* TCP_REAPER_DEFAULT_GIVEUP_S */
    .echo_idle_s = 300,
    /* Of 256 PCBs and 1,024 segments (lwipopts.h); the rest is shared. */
    .echo_pcbs = 48,
    .echo_segs = 192,
    .http_pcbs = 64,
    .http_segs = 320,
    .iperf_pcbs = 8,
    .iperf_segs = 64,
    /* The same values as HTTP_LIMITS_DEFAULT in services/http.h. */
    .http_max_conns = 128,
    .http_max_header = 8192,
    .http_max_uri = 2048,
    .http_max_body = 64 * 1024,
    .http_idle_ms = 15000,
    .http_header_ms = 10000,
    .http_max_conns_per_ip = 32,
    .http_log = false,
    .xdp_jit = true,
    .xsk_frames = 256,		  /* XSK_DEFAULT_FRAMES */
    .admin_port = 9090,		  /* ADMIN_DEFAULT_PORT */
    .admin_max_body = 256 * 1024, /* ADMIN_DEFAULT_MAX_BODY */
};

const char *const config_net_mode_names[] = {"irq", "poll", "hybrid", NULL};
static const char *const faults[] = {"none", "pf",    "ud",    "gp",
				     "de",   "stack", "panic", NULL};

static const struct cmdline_option options[] = {
    {.key = "log.level",
     .kind = CMDLINE_CHOICE,
     .target = &config.log_level,
     .choices = log_level_names,
     .help = "most verbose level printed"},
    {.key = "timer.hz",
     .kind = CMDLINE_U32,
     .target = &config.timer_hz,
     .min = 10,
     .max = 1000,
     .help = "periodic timer tick rate"},
    {.key = "smp",
     .kind = CMDLINE_U32,
     .target = &config.smp,
     .min = 0,
     .max = 1024,
     .help = "CPUs to use, counting the boot CPU (0 = all the ACPI MADT "
	     "lists)"},
    {.key = "loader",
     .kind = CMDLINE_STRING,
     .target = config.loader,
     .string_cap = sizeof(config.loader),
     .help = "name of the boot loader, shown in the banner (GRUB's menu "
	     "sets it)"},
    {.key = "net.mode",
     .kind = CMDLINE_CHOICE,
     .target = &config.net_mode,
     .choices = config_net_mode_names,
     .help = "receive path: interrupts (NAPI-style), busy polling, or "
	     "polling that falls back to interrupts when idle"},
    {.key = "net.budget",
     .kind = CMDLINE_U32,
     .target = &config.net_budget,
     .min = 1,
     .max = 4096,
     .help = "frames per bottom-half run"},
    {.key = "net.hybrid_polls",
     .kind = CMDLINE_U32,
     .target = &config.net_hybrid_polls,
     .min = 1,
     .max = 10000000,
     .help = "hybrid: empty polls in a row before sleeping on interrupts"},
    {.key = "net.queues",
     .kind = CMDLINE_U32,
     .target = &config.net_queues,
     .min = 0,
     .max = 8,
     .help = "virtio-net queue pairs, one per CPU (0 = as many as CPUs "
	     "and the device allow; needs VIRTIO_NET_F_MQ)"},
    {.key = "net.stats",
     .kind = CMDLINE_U32,
     .target = &config.net_stats,
     .min = 0,
     .max = 86400,
     .help = "print counters on the console every N seconds (0 = off)"},
    {.key = "net.rx_bufs",
     .kind = CMDLINE_U32,
     .target = &config.net_rx_bufs,
     .min = 64,
     .max = 8192,
     .help = "receive packet buffers (2 KiB each, in 2 MiB pages)"},
    {.key = "net.rx_posted",
     .kind = CMDLINE_STRING,
     .target = config.net_rx_posted,
     .string_cap = sizeof(config.net_rx_posted),
     .help = "RX buffers kept posted: N, or 'adaptive' (few, LIFO, grows "
	     "on bursts); default: the whole ring"},
    {.key = "net.trace",
     .kind = CMDLINE_U32,
     .target = &config.net_trace,
     .min = 0,
     .max = 1000000,
     .help = "record N RX buffer events (posted/written/read/released) "
	     "and dump them on the console when full (leaky-DMA model)"},
    {.key = "net.csum_offload",
     .kind = CMDLINE_BOOL,
     .target = &config.net_csum_offload,
     .help = "negotiate virtio checksum offloads"},
    {.key = "net.tso",
     .kind = CMDLINE_BOOL,
     .target = &config.net_tso,
     .help = "coalesce TCP segments into TSO frames when the device "
	     "offers it (tap does; user networking does not)"},
    {.key = "net.indirect",
     .kind = CMDLINE_BOOL,
     .target = &config.net_indirect,
     .help = "send multi-fragment TX frames through indirect descriptor "
	     "tables (one ring slot a frame) when the device offers it"},
    {.key = "net.txqueuelen",
     .kind = CMDLINE_U32,
     .target = &config.net_txqueuelen,
     .min = 0,
     .max = 65536,
     .help = "frames that wait for TX ring space before one is dropped "
	     "(0 = drop when the ring is full)"},
    {.key = "net.tx_ring",
     .kind = CMDLINE_U32,
     .target = &config.net_tx_ring,
     .min = 0,
     .max = 1024,
     .help = "TX ring entries, at most (rounded down to a power of two; "
	     "0 = 256 or what the device offers)"},
    {.key = "tcp.max_half_open",
     .kind = CMDLINE_U32,
     .target = &config.tcp_max_half_open,
     .min = 0,
     .max = 4096,
     .help = "half-open (SYN_RCVD) connections per listener; a SYN beyond "
	     "gets a SYN cookie (0 = 32)"},
    {.key = "tcp.fin_timeout",
     .kind = CMDLINE_U32,
     .target = &config.tcp_fin_timeout_s,
     .min = 1,
     .max = 3600,
     .help = "seconds a closed connection whose peer stopped answering "
	     "keeps its PCB (FIN_WAIT, CLOSING, LAST_ACK)"},
    {.key = "tcp.giveup",
     .kind = CMDLINE_U32,
     .target = &config.tcp_giveup_s,
     .min = 1,
     .max = 3600,
     .help = "seconds of silence from a peer with our data outstanding "
	     "before the connection is aborted"},
    {.key = "ip",
     .kind = CMDLINE_IPV4_CIDR,
     .target = &config.ip,
     .help = "static address A.B.C.D/N (default: DHCP)"},
    {.key = "gw",
     .kind = CMDLINE_IPV4,
     .target = &config.gw,
     .help = "default gateway with a static address"},
    {.key = "dns",
     .kind = CMDLINE_IPV4,
     .target = &config.dns,
     .help = "DNS server with a static address"},
    {.key = "echo.max_conns",
     .kind = CMDLINE_U32,
     .target = &config.echo_max_conns,
     .min = 0,
     .max = 256,
     .help = "concurrent TCP echo connections (0 = default 200)"},
    {.key = "echo.max_held_kb",
     .kind = CMDLINE_U32,
     .target = &config.echo_max_held_kb,
     .min = 0,
     .max = 1048576,
     .help = "KiB of heap for echo data waiting for send room (0 = "
	     "default)"},
    {.key = "echo.idle_timeout",
     .kind = CMDLINE_U32,
     .target = &config.echo_idle_s,
     .min = 0,
     .max = 86400,
     .help = "seconds before an idle echo connection is dropped (0 = "
	     "never)"},
#define BUDGET_KEY(svc, what, field, hi, text)                                 \
	{                                                                      \
		.key = svc "." what, .kind = CMDLINE_U32,                      \
		.target = &config.field, .min = 0, .max = hi, .help = text     \
	}
    BUDGET_KEY("echo", "pcbs", echo_pcbs, 256,
	       "TCP PCBs guaranteed to echo (others may not take them)"),
    BUDGET_KEY("echo", "segs", echo_segs, 1024,
	       "TCP segments guaranteed to echo's send queues"),
    BUDGET_KEY("http", "pcbs", http_pcbs, 256, "TCP PCBs guaranteed to HTTP"),
    BUDGET_KEY("http", "segs", http_segs, 1024,
	       "TCP segments guaranteed to HTTP's send queues"),
    BUDGET_KEY("iperf", "pcbs", iperf_pcbs, 256,
	       "TCP PCBs guaranteed to iperf"),
    BUDGET_KEY("iperf", "segs", iperf_segs, 1024,
	       "TCP segments guaranteed to iperf"),
#undef BUDGET_KEY
    {.key = "http.max_conns",
     .kind = CMDLINE_U32,
     .target = &config.http_max_conns,
     .min = 1,
     .max = 4096,
     .help = "open HTTP connections; the next one gets 503"},
    {.key = "http.max_conns_per_ip",
     .kind = CMDLINE_U32,
     .target = &config.http_max_conns_per_ip,
     .min = 0,
     .max = 4096,
     .help = "open HTTP connections from one address; more are reset "
	     "(0 = no limit)"},
    {.key = "http.max_header",
     .kind = CMDLINE_U32,
     .target = &config.http_max_header,
     .min = 256,
     .max = 1024 * 1024,
     .help = "bytes of request line + headers (431 beyond)"},
    {.key = "http.max_uri",
     .kind = CMDLINE_U32,
     .target = &config.http_max_uri,
     .min = 16,
     .max = 64 * 1024,
     .help = "bytes of request target (414 beyond)"},
    {.key = "http.max_body",
     .kind = CMDLINE_U32,
     .target = &config.http_max_body,
     .min = 0,
     .max = 64 * 1024 * 1024,
     .help = "bytes of request body (413 beyond)"},
    {.key = "http.idle_timeout",
     .kind = CMDLINE_U32,
     .target = &config.http_idle_ms,
     .min = 100,
     .max = 86400000,
     .help = "ms a keep-alive connection may sit idle"},
    {.key = "http.header_timeout",
     .kind = CMDLINE_U32,
     .target = &config.http_header_ms,
     .min = 100,
     .max = 86400000,
     .help = "ms from a request's first byte to the end of its headers "
	     "(slow clients are cut off)"},
    {.key = "http.log",
     .kind = CMDLINE_BOOL,
     .target = &config.http_log,
     .help = "one access-log line per request on the console"},
    {.key = "xdp.prog",
     .kind = CMDLINE_STRING,
     .target = config.xdp_prog,
     .string_cap = sizeof(config.xdp_prog),
     .help = "attach a built-in eBPF program at the receive hook "
	     "(udp_reflect, blocklist, count, ...)"},
    {.key = "xdp.jit",
     .kind = CMDLINE_BOOL,
     .target = &config.xdp_jit,
     .help = "JIT-compile eBPF programs (every hook) to x86-64 (off: "
	     "interpreter)"},
    {.key = "tc.ingress",
     .kind = CMDLINE_STRING,
     .target = config.tc_ingress,
     .string_cap = sizeof(config.tc_ingress),
     .help = "attach a built-in tc program (SEC(\"tc\")) at TC ingress: "
	     "after XDP, before lwIP (tc_port_rewrite, ...)"},
    {.key = "tc.egress",
     .kind = CMDLINE_STRING,
     .target = config.tc_egress,
     .string_cap = sizeof(config.tc_egress),
     .help = "attach a built-in tc program at TC egress: every frame "
	     "lwIP sends, as the device sees it (tc_mark, ...)"},
    {.key = "echo.filter",
     .kind = CMDLINE_STRING,
     .target = config.echo_filter,
     .string_cap = sizeof(config.echo_filter),
     .help = "attach a built-in socket filter (SEC(\"socket\")) to the "
	     "echo service's sockets (sock_trunc, ...)"},
    {.key = "http.filter",
     .kind = CMDLINE_STRING,
     .target = config.http_filter,
     .string_cap = sizeof(config.http_filter),
     .help = "attach a built-in socket filter to the HTTP service"},
    {.key = "iperf.filter",
     .kind = CMDLINE_STRING,
     .target = config.iperf_filter,
     .string_cap = sizeof(config.iperf_filter),
     .help = "attach a built-in socket filter to the iperf service"},
    {.key = "xdp.blocklist",
     .kind = CMDLINE_STRING,
     .target = config.xdp_blocklist,
     .string_cap = sizeof(config.xdp_blocklist),
     .help = "sources the blocklist program drops: A.B.C.D[:port],..."},
    {.key = "xsk.port",
     .kind = CMDLINE_U32,
     .target = &config.xsk_port,
     .min = 0,
     .max = 65535,
     .help = "UDP port the AF_XDP echo answers, without lwIP (0: off)"},
    {.key = "xsk.frames",
     .kind = CMDLINE_U32,
     .target = &config.xsk_frames,
     .min = 8,
     .max = 4096,
     .help = "UMEM frames (RX buffers) the AF_XDP echo socket holds"},
    {.key = "admin.token",
     .kind = CMDLINE_STRING,
     .target = config.admin_token,
     .string_cap = sizeof(config.admin_token),
     .secret = true,
     .help = "turn the admin endpoint on with this bearer token "
	     "(tools/skiffctl); off without one"},
    {.key = "admin.port",
     .kind = CMDLINE_U32,
     .target = &config.admin_port,
     .min = 1,
     .max = 65535,
     .help = "TCP port of the admin endpoint"},
    {.key = "admin.max_body",
     .kind = CMDLINE_U32,
     .target = &config.admin_max_body,
     .min = 1024,
     .max = 4 * 1024 * 1024,
     .help = "largest BPF object the admin endpoint accepts (bytes; "
	     "413 beyond)"},
    {.key = "test.fault",
     .kind = CMDLINE_CHOICE,
     .target = &config.test_fault,
     .choices = faults,
     .help = "provoke a crash after boot (tests the panic path)"},
    {.key = "test.no_sipi",
     .kind = CMDLINE_U32,
     .target = &config.test_no_sipi,
     .min = 0,
     .max = 0xffffffffu,
     .help = "never send STARTUP IPIs to the CPU with this APIC ID (tests "
	     "a CPU that fails to start; 0 = none)"},
    {.key = "test.fault_cpu",
     .kind = CMDLINE_U32,
     .target = &config.test_fault_cpu,
     .min = 0,
     .max = 1024,
     .help = "the CPU that provokes test.fault (an AP tests its own "
	     "stacks and guard pages)"},
    {.key = "test.busy_cpu",
     .kind = CMDLINE_U32,
     .target = &config.test_busy_cpu,
     .min = 0,
     .max = 1024,
     .help = "tests: this AP (1..) spins test.busy_ms with interrupts off "
	     "once its queue is up, to show the others keep serving"},
    {.key = "test.busy_ms",
     .kind = CMDLINE_U32,
     .target = &config.test_busy_ms,
     .min = 0,
     .max = 60000,
     .help = "tests: how long test.busy_cpu spins (ms)"},
    {.key = "virtio_mmio.device",
     .kind = CMDLINE_STRING,
     .target = config.virtio_mmio_device,
     .string_cap = sizeof(config.virtio_mmio_device),
     .help = "SIZE@ADDR:IRQ of a virtio-mmio device (QEMU microvm, "
	     "Firecracker pass it; each one counts)"},
    {.key = "clock.check",
     .kind = CMDLINE_BOOL,
     .target = &config.clock_check,
     .help = "measure the TSC against the PIT too and log both"},
    {.key = "test.shutdown",
     .kind = CMDLINE_BOOL,
     .target = &config.test_shutdown,
     .help = "power off right after the ready banner"},
};

static void report(const char *msg)
{
	log_warn("%s", msg);
}

static void help_line(const char *msg)
{
	console_puts("  ");
	console_puts(msg);
	console_puts("\n");
}

void config_print_help(void)
{
	console_puts("Skiff command-line keys (key=value, space separated):\n");
	cmdline_print_help(options, sizeof(options) / sizeof(options[0]),
			   help_line);
}

size_t config_redact_cmdline(const char *cmdline, char *out, size_t cap)
{
	return cmdline_redact(cmdline, options,
			      sizeof(options) / sizeof(options[0]), out, cap);
}

int config_parse(const char *cmdline)
{
	bool help = false;
	int problems =
	    cmdline_parse(cmdline, options,
			  sizeof(options) / sizeof(options[0]), report, &help);
	log_set_level((enum log_level)config.log_level);
	if (help)
		config_print_help();
	return problems;
}

/* Skiff's run-time settings: every command-line key lands in this struct.
 * The table of keys (with help text) is in config.c. */
#ifndef SKIFF_KERNEL_CONFIG_H
#define SKIFF_KERNEL_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/cmdline.h"

enum test_fault {
	FAULT_NONE,
	FAULT_PF,
	FAULT_UD,
	FAULT_GP,
	FAULT_DE,
	FAULT_STACK,
	FAULT_PANIC
};

enum net_mode { NET_MODE_IRQ, NET_MODE_POLL, NET_MODE_HYBRID };
/* Their names, indexed by enum net_mode, NULL-terminated. */
extern const char *const config_net_mode_names[];

struct config {
	int log_level;	   /* enum log_level */
	uint32_t timer_hz; /* periodic tick */
	uint32_t smp;	   /* CPUs to use, counting the boot CPU; 0 = all */
	int test_fault;	   /* enum test_fault: provoke a crash after boot */
	uint32_t test_fault_cpu; /* the CPU that provokes it (0 = boot CPU) */
	uint32_t test_busy_cpu;	 /* tests: this AP spins test_busy_ms ... */
	uint32_t test_busy_ms;	 /* ... ms with interrupts off, once */
	uint32_t test_no_sipi;	 /* an APIC ID left without SIPIs, 0 = none */
	bool test_shutdown;	 /* power off right after the ready banner */
	bool clock_check;	 /* clock.check: PIT cross-check of the TSC */
	/* The last virtio_mmio.device=; app/netstack.c reads every one from
	 * the raw command line. */
	char virtio_mmio_device[64];
	char loader[16]; /* who started us, if it says so (GRUB does) */

	int net_mode;		    /* enum net_mode */
	uint32_t net_budget;	    /* frames per bottom-half run */
	uint32_t net_hybrid_polls;  /* empty polls before hybrid sleeps */
	uint32_t net_queues;	    /* queue pairs wanted, 0 = one per CPU */
	uint32_t net_stats;	    /* seconds between stats lines, 0 = off */
	uint32_t net_rx_bufs;	    /* RX packet-buffer pool size */
	char net_rx_posted[12];	    /* "" = fill the ring, N, or "adaptive" */
	uint32_t net_trace;	    /* RX buffer trace records, 0 = off */
	bool net_csum_offload;	    /* negotiate virtio checksum offloads */
	bool net_tso;		    /* TCP segmentation offload (needs csum) */
	bool net_indirect;	    /* TX frames through indirect descriptors */
	uint32_t net_txqueuelen;    /* frames that may wait for TX ring space */
	uint32_t net_tx_ring;	    /* TX ring size cap, 0 = the driver's */
	uint32_t tcp_max_half_open; /* SYN_RCVD per listener, 0 = default */
	uint32_t tcp_fin_timeout_s; /* stalled orphans aborted after this */
	uint32_t tcp_giveup_s;	    /* data to a silent peer given up after */
	struct cmdline_ipv4_cidr ip; /* static address; 0.0.0.0/0 = DHCP */
	uint32_t gw, dns;	     /* host order */

	uint32_t echo_max_conns;   /* 0 = the service's default */
	uint32_t echo_max_held_kb; /* heap for data awaiting send room */
	uint32_t echo_idle_s;	   /* idle connection timeout, 0 = never */

	/* Guaranteed shares of the TCP PCB and segment pools per service
	 * (lwip-port/tcp_budget.h). */
	uint32_t echo_pcbs, echo_segs, http_pcbs, http_segs, iperf_pcbs,
	    iperf_segs;

	uint32_t http_max_conns, http_max_header, http_max_uri, http_max_body;
	uint32_t http_idle_ms, http_header_ms;
	uint32_t http_max_conns_per_ip; /* 0 = no limit */
	bool http_log;

	char xdp_prog[32];	 /* built-in program to attach, "" = none */
	bool xdp_jit;		 /* compile it to x86-64 (else interpret) */
	char xdp_blocklist[256]; /* "A.B.C.D[:port],..." for blocklist */

	/* Built-in programs for the other hooks, "" = none. */
	char tc_ingress[32], tc_egress[32];
	char echo_filter[32], http_filter[32], iperf_filter[32];

	uint32_t xsk_port;   /* the AF_XDP UDP echo's port, 0 = off */
	uint32_t xsk_frames; /* its UMEM frames */

	char admin_token[128];	 /* the admin endpoint's token; "" = off */
	uint32_t admin_port;	 /* its TCP port */
	uint32_t admin_max_body; /* bytes of an uploaded object at most */
};

extern struct config config;

/* Parses the command line into config, logging every problem. Returns the
 * number of problems; prints the key list when "help" was given. */
int config_parse(const char *cmdline);
/* The command line with every secret's value (admin.token) replaced by
 * "***": what may be printed or logged. */
size_t config_redact_cmdline(const char *cmdline, char *out, size_t cap);
/* Logs the key list. */
void config_print_help(void);

#endif

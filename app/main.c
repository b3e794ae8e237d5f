/* kernel_main: from the firmware's hand-off to the ready banner.
 *
 * Order matters: the console and clock first (so everything after can
 * log), our own CPU tables, the command line (so log.level applies early),
 * memory and page tables, then a stack of our own, and only then is the
 * firmware's boot-services memory (which held its stack) given to the page
 * allocator. */
#include <stddef.h>
#include <string.h>

#include "app/metrics.h"
#include "app/netstack.h"
#include "app/stats.h"
#include "ebpf/ebpf.h"
#include "gen/version.h"
#include "kernel/acpi.h"
#include "kernel/apic.h"
#include "kernel/boot_steps.h"
#include "kernel/bootinfo.h"
#include "kernel/clock.h"
#include "kernel/config.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/entropy.h"
#include "kernel/fw_cfg.h"
#include "kernel/gdt.h"
#include "kernel/heap.h"
#include "kernel/ioapic.h"
#include "kernel/log.h"
#include "kernel/memory.h"
#include "kernel/page_alloc.h"
#include "kernel/paging.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/printf.h"
#include "kernel/shutdown.h"
#include "kernel/smp.h"
#include "kernel/trap.h"
#include "services/http.h"

#define MAIN_STACK_PAGES 32 /* 128 KiB */
#define IST_STACK_PAGES	 4

static struct boot_info *boot;

/* Load options (GRUB, the UEFI shell) and PVH's start info are the most
 * explicit and win. A disk image's EFI/skiff/cmdline (read by the UEFI
 * loader) is that image's default, which the hypervisor's fw_cfg file
 * overrides per machine: every appliance of a fleet boots an overlay of
 * one image and gets its own address from libvirt's <sysinfo
 * type='fwcfg'>. */
static void load_cmdline(void)
{
	static char fw[sizeof(boot->cmdline)];

	if (boot->cmdline_from_options)
		return;
	int n = fw_cfg_read_file("opt/skiff/cmdline", fw, sizeof(fw));
	if (n <= 0)
		return; /* none: the file's, if there was one */
	if (n >= (int)sizeof(fw))
		log_warn("cmdline: fw_cfg command line truncated to %zu bytes",
			 sizeof(fw) - 1);
	memcpy(boot->cmdline, fw, sizeof(fw));
}

/* Unbounded recursion (through a pointer the compiler cannot see
 * through), to run into the stack guard page. */
static uint64_t recurse(uint64_t depth);
static uint64_t (*volatile recurse_ptr)(uint64_t) = recurse;
static __attribute__((noinline)) uint64_t recurse(uint64_t depth)
{
	volatile char pad[512];

	pad[0] = (char)depth;
	return recurse_ptr(depth + 1) + pad[0];
}

static void provoke_fault(int fault)
{
	volatile uint64_t zero = 0;

	log_info("test.fault: provoking '%s'",
		 (const char *[]){"none", "pf", "ud", "gp", "de", "stack",
				  "panic"}[fault]);
	switch (fault) {
	case FAULT_PF:
		(void)*(volatile uint64_t *)zero; /* page 0 is unmapped */
		break;
	case FAULT_UD:
		__asm__ volatile("ud2");
		break;
	case FAULT_GP:
		/* A non-canonical address raises #GP, not #PF. */
		(void)*(volatile uint64_t *)0x8000000000000000ULL;
		break;
	case FAULT_DE:
		__asm__ volatile("divq %1" : : "a"(1ULL), "r"(zero) : "rdx");
		break;
	case FAULT_STACK:
		recurse(0);
		break;
	case FAULT_PANIC:
		panic("test.fault=panic requested");
	}
}

/* test.fault_cpu=N: the AP provokes the fault when it next wakes. */
static void fault_on_ap(unsigned cpu)
{
	if (cpu == config.test_fault_cpu)
		provoke_fault(config.test_fault);
}

/* clock.check=1: the PIT's view of the TSC beside the source's. */
static void check_clock(void)
{
	uint64_t pit = clock_pit_tsc_hz(), hz = clock_tsc_hz();

	if (!pit) {
		log_info("clock: check: no PIT to compare against");
		return;
	}
	int64_t ppm = (int64_t)((pit - hz) * 1000000 / hz);
	if (pit < hz)
		ppm = -(int64_t)((hz - pit) * 1000000 / hz);
	log_info("clock: check: PIT says %llu kHz, %lld ppm from the %s",
		 (unsigned long long)(pit / 1000), (long long)ppm,
		 clock_source_name());
}

static void print_banner(void)
{
	char line[BOOT_CMDLINE_MAX + 256];
	static char shown[BOOT_CMDLINE_MAX + 16]; /* secrets as "***" */
	uint64_t tsc_hz = clock_tsc_hz();

	config_redact_cmdline(boot->cmdline, shown, sizeof(shown));
	ksnprintf(
	    line, sizeof(line),
	    "Skiff %s ready: %llu MiB usable memory, TSC %llu.%03llu MHz, "
	    "loader %s, boot %llu ms, cmdline \"%s\"\n",
	    SKIFF_VERSION, (unsigned long long)(memory_usable_bytes() >> 20),
	    (unsigned long long)(tsc_hz / 1000000),
	    (unsigned long long)(tsc_hz / 1000 % 1000),
	    config.loader[0] ? config.loader : boot->loader,
	    (unsigned long long)(clock_tsc_to_ns(rdtsc() - boot->tsc_at_entry) /
				 1000000),
	    shown);
	console_puts(line);
}

static __attribute__((noreturn)) void kernel_run(void)
{
	memory_reclaim_boot_services(boot);
	boot_step("reclaim");
	pic_disable();
	apic_init();
	boot_step("apic");
	ioapic_init();
	boot_step("ioapic");
	apic_timer_start(config.timer_hz);
	irq_enable();
	boot_step("apic.timer");
	/* Each AP runs its queue pair's bottom half once the network is up
	 * (app/netstack.c; test.fault_cpu provokes its fault instead). */
	if (config.test_fault != FAULT_NONE && config.test_fault_cpu)
		smp_set_ap_work(fault_on_ap);
	else
		smp_set_ap_work(netstack_ap_work);
	smp_set_test_no_sipi(config.test_no_sipi);
	smp_init(memory_low_page(), config.smp);
	boot_step("smp");
	/* Per-CPU eBPF maps get one copy per CPU that came up. */
	ebpf_set_cpus(cpu_count(), percpu_current_or_boot);

	struct page_alloc_stats ps;
	uint64_t p4k, p2m, tables;
	page_alloc_get_stats(&ps);
	paging_stats(&p4k, &p2m, &tables);
	log_info(
	    "memory: %llu MiB free of %llu MiB; page tables: %llu x 2 MiB, "
	    "%llu x 4 KiB, %llu tables",
	    (unsigned long long)(ps.free_pages >> 8),
	    (unsigned long long)(ps.total_pages >> 8), (unsigned long long)p2m,
	    (unsigned long long)p4k, (unsigned long long)tables);

	/* The HTTP server's /stats route comes from here (it sits below). */
	http_set_stats_provider(stats_json);
	http_set_metrics_provider(metrics_prom);
	int net = netstack_init(boot->cmdline);
	boot_step("net");
	boot_steps_log();
	print_banner();
	if (config.test_fault != FAULT_NONE) {
		if (!config.test_fault_cpu)
			provoke_fault(config.test_fault);
		else if (!smp_wake(config.test_fault_cpu))
			log_warn("test.fault_cpu=%u: no such CPU online",
				 config.test_fault_cpu);
	}
	if (config.test_shutdown) {
		log_info("test.shutdown: powering off");
		machine_poweroff();
	}
	if (net == 0)
		netstack_run();
	netstack_idle_forever();
}

void kernel_main(struct boot_info *b)
{
	boot = b;
	irq_disable();
	boot_steps_start(b->tsc_at_entry);
	boot_step("entry");
	console_init();
	boot_step("console");
	acpi_init(b->rsdp);
	boot_step("acpi");
	uint16_t pm_timer = 0;
	bool pm_timer_32bit = false;
	acpi_pm_timer(&pm_timer, &pm_timer_32bit);
	clock_init(pm_timer, pm_timer_32bit);
	boot_step("clock");
	gdt_init(0);
	percpu_init(0, 0); /* APIC ID filled in by smp_init */
	idt_init();
	log_info("Skiff %s starting: image at %#llx (%llu KiB), loader %s",
		 SKIFF_VERSION, (unsigned long long)b->image_base,
		 (unsigned long long)(b->image_size >> 10), b->loader);
	load_cmdline();
	config_parse(b->cmdline);
	log_info("clock: TSC %llu kHz (from the %s)",
		 (unsigned long long)(clock_tsc_hz() / 1000),
		 clock_source_name());
	if (config.clock_check)
		check_clock();
	boot_step("cmdline");
	entropy_init();
	boot_step("entropy");
	if (b->regions_dropped)
		log_warn("memory: %u map entries did not fit and were ignored",
			 b->regions_dropped);

	memory_init(b);
	boot_step("memory");
	paging_init(b);
	boot_step("paging");
	acpi_set_map_fn(paging_map_firmware);
	shutdown_init(paging_map_mmio);
	boot_step("shutdown");
	memory_heap_init();
	boot_step("heap");

	uint64_t df = memory_alloc_stack(IST_STACK_PAGES, "double-fault");
	uint64_t nmi = memory_alloc_stack(IST_STACK_PAGES, "NMI");
	uint64_t mc = memory_alloc_stack(IST_STACK_PAGES, "machine-check");
	gdt_load_tss(0, df, nmi, mc);
	uint64_t top = memory_alloc_stack(MAIN_STACK_PAGES, "main");

	/* Leave the firmware's stack for good: it lives in boot-services
	 * memory that kernel_run hands to the page allocator. */
	__asm__ volatile("mov %0, %%rsp\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "call *%1"
			 :
			 : "r"(top), "r"(kernel_run)
			 : "memory");
	__builtin_unreachable();
}

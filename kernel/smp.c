/* AP start-up (Intel SDM vol. 3, 9.4 "Multiple-processor initialization"
 * and the MP spec's universal start-up algorithm), IPIs, TLB shoot-downs.
 * The rules are in smp.h. */
#include <string.h>

#include "kernel/acpi.h"
#include "kernel/apic.h"
#include "kernel/clock.h"
#include "kernel/cpu.h"
#include "kernel/gdt.h"
#include "kernel/log.h"
#include "kernel/madt_cpus.h"
#include "kernel/memory.h"
#include "kernel/page_alloc.h"
#include "kernel/paging.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/percpu_counter.h"
#include "kernel/printf.h"
#include "kernel/smp.h"
#include "kernel/smp_trampoline.h"
#include "kernel/trap.h"

#define AP_STACK_PAGES	  16 /* 64 KiB */
#define AP_IST_PAGES	  4
#define MADT_MAX_CPUS	  (2 * CPU_MAX)
#define INIT_DELAY_US	  10000		/* INIT to first SIPI */
#define SIPI_DELAY_US	  200		/* between the two SIPIs */
#define AP_START_TIMEOUT  2000000000ULL /* ns: TCG on a loaded host is slow */
#define SHOOTDOWN_TIMEOUT 1000000000ULL
#define LOW_MEMORY_LIMIT  (1ULL << 20)

/* The AP being started: written by CPU 0 before the SIPI, read by that AP
 * on its way in. APs start one at a time, so one slot is enough. */
uint64_t smp_ap_stack_top;
static struct {
	uint32_t cpu;
	uint64_t ist_df, ist_nmi, ist_mc;
	uint32_t alive; /* set by the AP as soon as it runs C code */
} boot_slot;

/* Names for the guard-page notes (panic names the stack that overflowed). */
static char stack_names[CPU_MAX][4][20];

/* Written by CPU 0 before smp_init, read-only after. */
static void (*ap_work)(unsigned cpu);
static uint32_t test_no_sipi;

void smp_set_test_no_sipi(uint32_t apic_id)
{
	test_no_sipi = apic_id;
}

/* TLB shoot-down generation: CPU 0 bumps it; each CPU answers by storing
 * the generation it flushed for in tlb_seen[its number]. */
static uint64_t tlb_gen;
static uint64_t tlb_seen[CPU_MAX];

void smp_set_ap_work(void (*fn)(unsigned cpu))
{
	ap_work = fn;
}

static void ipi_wake(void *ctx)
{
	percpu_counter_add(&this_cpu()->stats.ipis, 1);
}

static void ipi_tlb(void *ctx)
{
	struct percpu *me = this_cpu();
	/* Read the generation first: a change made after this read comes
	 * with a new IPI. */
	uint64_t gen = __atomic_load_n(&tlb_gen, __ATOMIC_ACQUIRE);

	write_cr3(read_cr3()); /* Skiff uses no global pages */
	percpu_counter_add(&me->stats.ipis, 1);
	percpu_counter_add(&me->stats.tlb_flushes, 1);
	__atomic_store_n(&tlb_seen[me->cpu], gen, __ATOMIC_RELEASE);
}

static void ipi_stop(void *ctx)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* C entry of an AP (from smp_ap_entry64, on its own stack). */
__attribute__((noreturn)) void smp_ap_main(void);
void smp_ap_main(void)
{
	uint32_t cpu = __atomic_load_n(&boot_slot.cpu, __ATOMIC_ACQUIRE);

	__atomic_store_n(&boot_slot.alive, 1, __ATOMIC_RELEASE);
	gdt_init(cpu);
	gdt_load_tss(cpu, boot_slot.ist_df, boot_slot.ist_nmi,
		     boot_slot.ist_mc);
	idt_load();
	/* The APIC first: in x2APIC mode its ID is an MSR that faults
	 * until this CPU's APIC is switched to x2APIC too. */
	apic_init_ap();
	percpu_init(cpu, apic_id());
	apic_timer_start_ap();
	log_info("cpu %u up (APIC id %u)", cpu, apic_id());
	__atomic_store_n(&percpu[cpu].online, true, __ATOMIC_RELEASE);
	for (;;) {
		cpu_idle(); /* sti; hlt: an interrupt or smp_wake ends it */
		percpu_counter_add(&percpu[cpu].stats.idle_wakeups, 1);
		if (ap_work)
			ap_work(cpu);
	}
}

/* Copies the trampoline to page, fills its parameters and seals it
 * read-only + executable (it is never writable and executable at once). */
static bool trampoline_setup(uint64_t page)
{
	uint64_t size = (uint64_t)(smp_trampoline_end - smp_trampoline_start);
	uint64_t cr3 = read_cr3();

	if (size > PAGE_SIZE || page >= LOW_MEMORY_LIMIT || (page & 0xfff) ||
	    page == 0) {
		log_warn("smp: trampoline page %#llx unusable",
			 (unsigned long long)page);
		return false;
	}
	if (cr3 >> 32) {
		log_warn("smp: page tables above 4 GiB (%#llx): a 32-bit "
			 "trampoline cannot load them",
			 (unsigned long long)cr3);
		return false;
	}
	if (paging_protect(page, PAGE_SIZE, true, false))
		return false;
	memcpy((void *)page, smp_trampoline_start, size);
	struct smp_trampoline_params *p =
	    (void *)(page + (smp_trampoline_params - smp_trampoline_start));
	p->gdt[0] = 0;
	p->gdt[1] = 0x00cf9a000000ffffULL; /* 32-bit code, flat */
	p->gdt[2] = 0x00cf92000000ffffULL; /* data, flat */
	p->gdt[3] = 0x00af9a000000ffffULL; /* 64-bit code */
	p->gdt_limit = sizeof(p->gdt) - 1;
	p->gdt_base = (uint32_t)((uint64_t)p->gdt);
	p->far32_offset =
	    (uint32_t)(page + (smp_trampoline_32 - smp_trampoline_start));
	p->far32_selector = TRAMP_SEL_CODE32;
	p->far64_offset =
	    (uint32_t)(page + (smp_trampoline_64 - smp_trampoline_start));
	p->far64_selector = TRAMP_SEL_CODE64;
	p->cr3 = (uint32_t)cr3;
	/* PAE and the FPU/SSE bits as CPU 0 has them; nothing that needs
	 * long mode first (PCIDE) or more set-up (OSXSAVE). */
	p->cr4 = (uint32_t)(read_cr4() & (0x20 | 0x80 | 0x200 | 0x400));
	p->entry = (uint64_t)smp_ap_entry64;
	return paging_protect(page, PAGE_SIZE, false, true) == 0;
}

static bool wait_until(const uint32_t *flag, const bool *bflag, uint64_t ns)
{
	uint64_t end = clock_ns() + ns;

	while (clock_ns() < end) {
		if (flag && __atomic_load_n(flag, __ATOMIC_ACQUIRE))
			return true;
		if (bflag && __atomic_load_n(bflag, __ATOMIC_ACQUIRE))
			return true;
		cpu_relax();
	}
	return false;
}

static void name_stack(unsigned cpu, int i, const char *what)
{
	ksnprintf(stack_names[cpu][i], sizeof(stack_names[cpu][i]), "cpu%u %s",
		  cpu, what);
}

static bool start_ap(unsigned cpu, uint32_t apic, uint64_t page)
{
	name_stack(cpu, 0, "main");
	name_stack(cpu, 1, "double-fault");
	name_stack(cpu, 2, "NMI");
	name_stack(cpu, 3, "machine-check");
	/* Allocated once per CPU number: a CPU that fails to start leaves
	 * them for the next one to use under the same number. */
	static uint64_t tops[CPU_MAX][4];
	if (!tops[cpu][0]) {
		tops[cpu][0] =
		    memory_alloc_stack(AP_STACK_PAGES, stack_names[cpu][0]);
		for (int i = 1; i < 4; i++)
			tops[cpu][i] = memory_alloc_stack(AP_IST_PAGES,
							  stack_names[cpu][i]);
	}
	smp_ap_stack_top = tops[cpu][0];
	boot_slot.ist_df = tops[cpu][1];
	boot_slot.ist_nmi = tops[cpu][2];
	boot_slot.ist_mc = tops[cpu][3];
	__atomic_store_n(&boot_slot.alive, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&boot_slot.cpu, cpu, __ATOMIC_RELEASE);

	/* INIT, wait, SIPI; a second SIPI if the first was lost (one sent
	 * to a CPU that already runs is ignored). */
	if (!apic_send_init(apic))
		log_warn("smp: INIT to APIC id %u not delivered", apic);
	clock_delay_us(INIT_DELAY_US);
	for (int sipi = 0; sipi < 2 && (!test_no_sipi || apic != test_no_sipi);
	     sipi++) {
		apic_send_startup(apic, page);
		if (wait_until(&boot_slot.alive, NULL, SIPI_DELAY_US * 1000ULL))
			break;
	}
	if (!wait_until(NULL, &percpu[cpu].online, AP_START_TIMEOUT)) {
		/* Back to wait-for-SIPI, so it cannot wake up later on the
		 * next CPU's stack. */
		apic_send_init(apic);
		clock_delay_us(INIT_DELAY_US);
		/* It may have got this far just after the deadline. */
		__atomic_store_n(&percpu[cpu].online, false, __ATOMIC_RELEASE);
		log_warn("smp: cpu %u (APIC id %u) did not come up (%s): going "
			 "on without it",
			 cpu, apic,
			 __atomic_load_n(&boot_slot.alive, __ATOMIC_ACQUIRE)
			     ? "stuck in its set-up"
			     : "never reached 64-bit code");
		return false;
	}
	return true;
}

static void park_trampoline(uint64_t page)
{
	/* Not executable any more (W^X: only while APs start). The APs have
	 * run on it, so they flush their TLBs too. */
	if (paging_protect(page, PAGE_SIZE, false, false))
		log_warn("smp: cannot restrict the trampoline page");
	smp_tlb_shootdown();
}

/* QEMU's maxcpus= slots are listed but not enabled; "online capable"
 * ones could be hot-added, which Skiff does not do. */
static void report_skipped(const struct madt_cpu *cpus, unsigned n, uint32_t me)
{
	for (unsigned i = 0; i < n; i++)
		if (cpus[i].apic_id != me && !cpus[i].enabled)
			log_info("smp: APIC id %u is listed but not enabled%s: "
				 "skipped",
				 cpus[i].apic_id,
				 cpus[i].online_capable ? " (hot-plug slot)"
							: "");
}

void smp_init(uint64_t page, unsigned limit)
{
	static struct madt_cpu cpus[MADT_MAX_CPUS];
	struct madt_cpu_list info;
	uint32_t me = apic_id();
	unsigned want = limit && limit < CPU_MAX ? limit : CPU_MAX;
	unsigned next = 1, failed = 0, left_off = 0;

	irq_set_handler(TRAP_IPI_WAKE, ipi_wake, NULL);
	irq_set_handler(TRAP_IPI_TLB, ipi_tlb, NULL);
	irq_set_handler(TRAP_IPI_STOP, ipi_stop, NULL);
	panic_set_stop_others(smp_stop_others);
	percpu[0].apic_id = me;
	percpu[0].online = true;
	log_info("cpu 0 up (APIC id %u, the boot CPU)", me);

	const struct acpi_header *madt = acpi_find_table("APIC");
	if (!madt) {
		log_info("smp: no MADT: running on the boot CPU only");
		goto summary;
	}
	unsigned n =
	    madt_cpus_parse(madt, madt->length, cpus, MADT_MAX_CPUS, &info);
	log_info("smp: MADT lists %u CPUs (%u not present or disabled, %u "
		 "malformed entries)",
		 n, info.disabled, info.bad);
	unsigned startable = 0;
	for (unsigned i = 0; i < n; i++)
		if (cpus[i].apic_id != me && cpus[i].enabled)
			startable++;
	if (want == 1 || startable == 0) {
		log_info("smp: %s: running on the boot CPU only",
			 want == 1 ? "smp=1" : "no other enabled CPU");
		report_skipped(cpus, n, me);
		goto summary;
	}
	if (!page || !trampoline_setup(page)) {
		log_warn("smp: no AP trampoline page below 1 MiB: running on "
			 "the boot CPU only");
		goto summary;
	}
	log_info("smp: AP trampoline at %#llx", (unsigned long long)page);
	/* From now on a page-table change reaches every CPU already up (the
	 * next AP's guard pages split 2 MiB mappings the earlier ones may
	 * hold in their TLBs). */
	paging_set_shootdown(smp_tlb_shootdown);
	for (unsigned i = 0; i < n; i++) {
		const struct madt_cpu *c = &cpus[i];
		if (c->apic_id == me)
			continue;
		if (!c->enabled)
			continue; /* reported by report_skipped */
		if (next >= want) {
			left_off++;
			continue;
		}
		if (!start_ap(next, c->apic_id, page)) {
			failed++;
			continue;
		}
		next++;
		cpu_set_count(next);
	}
	if (info.dropped)
		log_warn("smp: %u more CPUs than Skiff handles (%u)",
			 info.dropped, CPU_MAX);
	if (left_off)
		log_info("smp: smp=%u: %u CPUs left off", want, left_off);
	park_trampoline(page);
	report_skipped(cpus, n, me);
summary:
	log_info("smp: %u CPU%s up%s", next, next == 1 ? "" : "s",
		 failed ? " (some failed to start: see above)" : "");
}

bool smp_wake(unsigned cpu)
{
	if (cpu >= cpu_count() || !percpu[cpu].online)
		return false;
	return apic_send_ipi(percpu[cpu].apic_id, TRAP_IPI_WAKE);
}

void smp_tlb_shootdown(void)
{
	unsigned n = cpu_count();

	if (n <= 1)
		return;
	uint64_t gen = __atomic_add_fetch(&tlb_gen, 1, __ATOMIC_RELEASE);
	uint32_t me = percpu_current_or_boot();
	for (unsigned i = 0; i < n; i++)
		if (i != me && percpu[i].online)
			apic_send_ipi(percpu[i].apic_id, TRAP_IPI_TLB);
	uint64_t end = clock_ns() + SHOOTDOWN_TIMEOUT;
	for (unsigned i = 0; i < n; i++) {
		if (i == me || !percpu[i].online)
			continue;
		while (__atomic_load_n(&tlb_seen[i], __ATOMIC_ACQUIRE) < gen) {
			if (clock_ns() > end) {
				log_warn("smp: cpu %u did not flush its TLB",
					 i);
				break;
			}
			cpu_relax();
		}
	}
}

void smp_stop_others(void)
{
	unsigned n = cpu_count();
	uint32_t me = percpu_current_or_boot();

	for (unsigned i = 0; i < n; i++)
		if (i != me && percpu[i].online)
			apic_send_ipi(percpu[i].apic_id, TRAP_IPI_STOP);
}

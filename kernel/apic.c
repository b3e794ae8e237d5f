/* Local APIC. Registers are the same in both modes; x2APIC reaches them
 * through MSRs at 0x800 + offset/16, xAPIC through the MMIO page. The timer
 * is calibrated against the TSC clock. */
#include "kernel/apic.h"
#include "kernel/clock.h"
#include "kernel/cpu.h"
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "kernel/paging.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/percpu_counter.h"
#include "kernel/trap.h"

#define APIC_ID		 0x20
#define APIC_TPR	 0x80
#define APIC_ICR_LOW	 0x300
#define APIC_ICR_HIGH	 0x310
#define APIC_EOI	 0xb0
#define APIC_SVR	 0xf0
#define APIC_LVT_TIMER	 0x320
#define APIC_TIMER_INIT	 0x380
#define APIC_TIMER_CUR	 0x390
#define APIC_TIMER_DIV	 0x3e0
#define APIC_BASE_ENABLE (1ULL << 11)
#define APIC_BASE_X2	 (1ULL << 10)
#define LVT_MASKED	 (1u << 16)
#define LVT_PERIODIC	 (1u << 17)
#define SVR_ENABLE	 (1u << 8)
#define CALIBRATE_US	 100  /* APIC timer rate measurement */
#define BRACKET_MAX_NS	 2000 /* see timer_run() */
#define ICR_PENDING	 (1u << 12)
#define ICR_ASSERT	 (1u << 14)
#define ICR_INIT	 (5u << 8)
#define ICR_STARTUP	 (6u << 8)
#define ICR_NMI		 (4u << 8)

/* Set once by the boot CPU in apic_init, read-only after: every CPU's
 * local APIC is in the same mode at the same address. */
static bool x2apic;
static volatile uint32_t *mmio;
/* The timer's initial count for config's rate, learned once on the boot
 * CPU; the APs' timers run at the same rate (one crystal for all). */
static uint32_t timer_count;
static unsigned timer_hz;

static uint32_t rd(uint32_t reg)
{
	if (x2apic)
		return (uint32_t)rdmsr(0x800 + (reg >> 4));
	return mmio[reg / 4];
}

static void wr(uint32_t reg, uint32_t v)
{
	if (x2apic)
		wrmsr(0x800 + (reg >> 4), v);
	else
		mmio[reg / 4] = v;
}

void pic_disable(void)
{
	/* Remap both PICs above the exception vectors first, so a spurious
	 * IRQ 7/15 they may still raise cannot look like a CPU exception. */
	outb(0x20, 0x11);
	outb(0xa0, 0x11);
	outb(0x21, 0xe0);
	outb(0xa1, 0xe8);
	outb(0x21, 0x04);
	outb(0xa1, 0x02);
	outb(0x21, 0x01);
	outb(0xa1, 0x01);
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

void apic_init(void)
{
	uint32_t a, b, c, d;
	uint64_t base = rdmsr(MSR_APIC_BASE);

	cpuid(1, 0, &a, &b, &c, &d);
	x2apic = c & (1u << 21);
	if (x2apic) {
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE | APIC_BASE_X2);
	} else {
		uint64_t phys = base & 0xffffff000ULL;
		mmio = paging_map_mmio(phys, 4096);
		if (!mmio)
			panic("apic: cannot map the local APIC at %#llx",
			      (unsigned long long)phys);
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
	}
	wr(APIC_TPR, 0);
	wr(APIC_SVR, SVR_ENABLE | TRAP_SPURIOUS_VECTOR);
	irq_set_eoi(apic_eoi);
	log_info("apic: %s, id %u", x2apic ? "x2APIC" : "xAPIC", apic_id());
}

void apic_init_ap(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	/* Each CPU has its own APIC_BASE MSR: put it in the boot CPU's mode
	 * (the MMIO page is the same address on every CPU). */
	base |= APIC_BASE_ENABLE;
	if (x2apic)
		base |= APIC_BASE_X2;
	wrmsr(MSR_APIC_BASE, base);
	wr(APIC_TPR, 0);
	wr(APIC_SVR, SVR_ENABLE | TRAP_SPURIOUS_VECTOR);
}

/* The tick only has to wake the CPU from hlt: the main loop then runs
 * lwIP's timers. */
static void timer_tick(void *ctx)
{
	percpu_counter_add(&this_cpu()->stats.timer_ticks, 1);
}

/* One run: counts over TSC time, each end bracketed by two TSC reads
 * (the write or read lands somewhere between them; the midpoints are
 * taken). False when a bracket is wider than BRACKET_MAX_NS: the host or
 * the emulator stepped in right there, so the run is not believed. */
static bool timer_run(uint64_t *counts, uint64_t *ns)
{
	wr(APIC_TIMER_INIT, 0); /* stopped, so the write below starts it */
	uint64_t a0 = rdtsc();
	wr(APIC_TIMER_INIT, 0xffffffff);
	uint64_t a1 = rdtsc();
	clock_delay_us(CALIBRATE_US);
	uint64_t b0 = rdtsc();
	uint32_t cur = rd(APIC_TIMER_CUR);
	uint64_t b1 = rdtsc();

	*counts = 0xffffffffu - cur;
	*ns = clock_tsc_to_ns((b0 + b1) / 2 - (a0 + a1) / 2);
	return clock_tsc_to_ns(a1 - a0) <= BRACKET_MAX_NS &&
	       clock_tsc_to_ns(b1 - b0) <= BRACKET_MAX_NS;
}

/* The timer's rate divided by 16 (the tick's divider). Measured
 * undivided over ~100 us: as many counts as 1.6 ms divided by 16, and
 * the tick, which only wakes the CPU (lwIP's timers read the TSC clock),
 * needs no more precision; a 500 us wait was a sixth of a direct boot's
 * guest time (issue 15). Up to three runs, until one is believed. */
static uint64_t timer_rate_div16(void)
{
	uint64_t counts = 0, ns = 0;

	wr(APIC_TIMER_DIV, 0xb); /* divide by 1 */
	wr(APIC_LVT_TIMER, LVT_MASKED);
	for (int run = 0; run < 3 && !timer_run(&counts, &ns); run++)
		;
	wr(APIC_TIMER_INIT, 0);
	wr(APIC_TIMER_DIV, 0x3); /* divide by 16 */
	if (!ns)
		ns = CALIBRATE_US * 1000ULL;
	return counts * 1000000000ULL / ns / 16;
}

void apic_timer_start(unsigned hz)
{
	uint64_t per_second = timer_rate_div16();
	uint32_t count = (uint32_t)(per_second / hz);
	if (count == 0)
		count = 1;
	timer_count = count;
	timer_hz = hz;
	irq_set_handler(TRAP_TIMER_VECTOR, timer_tick, 0);
	wr(APIC_LVT_TIMER, LVT_PERIODIC | TRAP_TIMER_VECTOR);
	wr(APIC_TIMER_INIT, count);
	log_info("apic: timer %llu kHz (after /16), tick %u Hz",
		 (unsigned long long)(per_second / 1000), hz);
}

void apic_timer_start_ap(void)
{
	if (!timer_count)
		return;
	wr(APIC_TIMER_DIV, 0x3);
	wr(APIC_LVT_TIMER, LVT_PERIODIC | TRAP_TIMER_VECTOR);
	wr(APIC_TIMER_INIT, timer_count);
}

unsigned apic_timer_hz(void)
{
	return timer_hz;
}

/* Writes the interrupt command register and waits (bounded) until the
 * APIC has sent the message. Interrupts stay off meanwhile: a handler
 * sending its own IPI between the two xAPIC writes would change the
 * destination under us. Returns false when delivery never finished. */
static bool send_icr(uint32_t dest, uint32_t low)
{
	uint64_t flags = irq_save();
	bool ok = true;

	if (x2apic) {
		/* One MSR write; no delivery-status bit to wait for. */
		wrmsr(0x800 + (APIC_ICR_LOW >> 4),
		      ((uint64_t)dest << 32) | low);
	} else {
		wr(APIC_ICR_HIGH, dest << 24);
		wr(APIC_ICR_LOW, low);
		ok = false;
		for (int spin = 0; spin < 1000000; spin++) {
			if (!(rd(APIC_ICR_LOW) & ICR_PENDING)) {
				ok = true;
				break;
			}
			cpu_relax();
		}
	}
	irq_restore(flags);
	return ok;
}

bool apic_send_ipi(uint32_t dest, uint8_t vector)
{
	return send_icr(dest, vector); /* fixed delivery, physical, edge */
}

bool apic_send_nmi(uint32_t dest)
{
	return send_icr(dest, ICR_NMI | ICR_ASSERT);
}

bool apic_send_init(uint32_t dest)
{
	return send_icr(dest, ICR_INIT | ICR_ASSERT);
}

bool apic_send_startup(uint32_t dest, uint64_t page)
{
	return send_icr(dest, ICR_STARTUP | (uint32_t)(page >> 12));
}

void apic_eoi(void)
{
	wr(APIC_EOI, 0);
}

uint32_t apic_id(void)
{
	uint32_t id = rd(APIC_ID);
	return x2apic ? id : id >> 24;
}

int apic_msi_message_to(uint32_t dest, uint8_t vector, uint64_t *address,
			uint32_t *data)
{
	/* Physical destination mode: the ID in address bits 19:12. */
	if (dest > 0xff)
		return -EINVAL;
	*address = 0xfee00000ULL | ((uint64_t)dest << 12);
	*data = vector; /* fixed delivery, edge-triggered */
	return 0;
}

void apic_msi_message(uint8_t vector, uint64_t *address, uint32_t *data)
{
	/* Physical destination mode, this CPU; the ID field holds 8 bits
	 * (xAPIC IDs; with x2APIC, IDs above 255 would need interrupt
	 * remapping, which QEMU's q35 gives only with an IOMMU). */
	*address = 0xfee00000ULL | ((uint64_t)(apic_id() & 0xff) << 12);
	*data = vector; /* fixed delivery, edge-triggered */
}

/* Local APIC. Registers are the same in both modes; x2APIC reaches them
 * through MSRs at 0x800 + offset/16, xAPIC through the MMIO page. The timer
 * is calibrated against the TSC clock. */
#include "kernel/apic.h"
#include "kernel/clock.h"
#include "kernel/cpu.h"
#include "kernel/log.h"
#include "kernel/paging.h"
#include "kernel/panic.h"
#include "kernel/trap.h"

#define APIC_ID		 0x20
#define APIC_TPR	 0x80
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

static bool x2apic;
static volatile uint32_t *mmio;

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

/* The tick only has to wake the CPU from hlt: the main loop then runs
 * lwIP's timers. */
static void timer_tick(void *ctx)
{
}

void apic_timer_start(unsigned hz)
{
	/* Count down from the maximum for 2 ms to learn the timer rate (the
	 * tick needs no more precision; boot time does). */
	wr(APIC_TIMER_DIV, 0x3); /* divide by 16 */
	wr(APIC_LVT_TIMER, LVT_MASKED);
	wr(APIC_TIMER_INIT, 0xffffffff);
	clock_delay_us(2000);
	uint32_t elapsed = 0xffffffff - rd(APIC_TIMER_CUR);
	wr(APIC_TIMER_INIT, 0);
	uint64_t per_second = (uint64_t)elapsed * 500;
	uint32_t count = (uint32_t)(per_second / hz);
	if (count == 0)
		count = 1;
	irq_set_handler(TRAP_TIMER_VECTOR, timer_tick, 0);
	wr(APIC_LVT_TIMER, LVT_PERIODIC | TRAP_TIMER_VECTOR);
	wr(APIC_TIMER_INIT, count);
	log_info("apic: timer %llu kHz (after /16), tick %u Hz",
		 (unsigned long long)(per_second / 1000), hz);
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

void apic_msi_message(uint8_t vector, uint64_t *address, uint32_t *data)
{
	/* Physical destination mode, this CPU; the ID field holds 8 bits,
	 * enough for the single CPU Skiff runs on. */
	*address = 0xfee00000ULL | ((uint64_t)(apic_id() & 0xff) << 12);
	*data = vector; /* fixed delivery, edge-triggered */
}

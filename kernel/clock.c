/* TSC calibration and the monotonic clock.
 *
 * The TSC rate comes from the first source that can give it, in order:
 *   1. CPUID 0x15 (TSC/crystal ratio and crystal rate; 0x16's base MHz
 *      stands in for a missing crystal rate and cross-checks a given one),
 *   2. the hypervisor's frequency leaf 0x40000010 (TSC kHz; KVM and
 *      VMware-style hypervisors, e.g. under Firecracker),
 *      both read by kernel/tsc_cpuid.c, which distrusts malformed leaves
 *      (QEMU 7.2 under TCG offers neither);
 *   3. the ACPI PM timer (3.579545 MHz; kernel_main passes its port from
 *      the FADT; absent on hardware-reduced ACPI such as microvm's);
 *   4. the PIT (1.193182 MHz), when there is one.
 * A timer is read in a loop until ~1 ms of its ticks have passed, and the
 * TSC delta over the ticks counted gives the rate. Two runs that agree
 * within 0.1% give their mean; otherwise a third is run and the median of
 * three taken (a run the emulator stretched moves both ends alike).
 * Conversion uses a 32.32 fixed-point multiplier, so clock_ns() needs no
 * division. */
#include <stddef.h>

#include "kernel/clock.h"
#include "kernel/cpu.h"
#include "kernel/tsc_cpuid.h"

#define PIT_HZ			1193182ULL
#define PIT_CH0			0x40
#define PIT_READBACK_STATUS_CH0 0xe2 /* read-back: status only, channel 0 */
#define PIT_CMD			0x43
#define PM_TIMER_HZ		3579545ULL
/* Per run. 1 ms is ~1193 PIT or ~3580 PM timer ticks, so a tick of
 * error is under 0.1%; 4 ms runs cost 9 ms more boot (issue 15). */
#define CALIBRATE_US 1000

static uint64_t tsc_hz, tsc_base, ns_mult; /* ns = delta * ns_mult >> 32 */
static enum clock_source source = CLOCK_SOURCE_NONE;

static const char *const source_names[] = {
    [CLOCK_SOURCE_CPUID] = "CPUID 0x15/0x16",
    [CLOCK_SOURCE_HYPERVISOR] = "hypervisor CPUID 0x40000010",
    [CLOCK_SOURCE_PM_TIMER] = "ACPI PM timer",
    [CLOCK_SOURCE_PIT] = "PIT",
    [CLOCK_SOURCE_NONE] = "nothing (assumed 1 GHz)",
};
/* The same, as /stats names them. */
static const char *const source_keys[] = {
    [CLOCK_SOURCE_CPUID] = "cpuid",
    [CLOCK_SOURCE_HYPERVISOR] = "hypervisor",
    [CLOCK_SOURCE_PM_TIMER] = "pm_timer",
    [CLOCK_SOURCE_PIT] = "pit",
    [CLOCK_SOURCE_NONE] = "none",
};

static void cpu_cpuid(uint32_t leaf, struct cpuid_regs *r, void *ctx)
{
	(void)ctx;
	cpuid(leaf, 0, &r->a, &r->b, &r->c, &r->d);
}

/* TSC ticks per second over ~1 ms of the PM timer. */
static uint64_t pm_timer_run(uint16_t port, uint32_t mask)
{
	uint64_t want = PM_TIMER_HZ * CALIBRATE_US / 1000000;
	uint32_t t0 = inl(port) & mask, t = t0;

	/* Start on a tick edge. Bounded: 1e7 reads is far beyond a tick. */
	for (uint32_t spin = 0; spin < 10000000 && t == t0; spin++)
		t = inl(port) & mask;
	uint64_t start = rdtsc();
	t0 = t;
	uint32_t elapsed = 0;
	for (uint64_t spin = 0; spin < 1000000000ULL; spin++) {
		elapsed = ((inl(port) & mask) - t0) & mask;
		if (elapsed >= want)
			break;
	}
	uint64_t end = rdtsc();
	if (elapsed == 0)
		return 0;
	return (end - start) * PM_TIMER_HZ / elapsed;
}

/* PIT channel 0 as a free-running rate generator whose latched count is
 * read like the PM timer. Channel 0 rather than the speaker-gated channel
 * 2, because microvm and Firecracker have a PIT but no port 0x61. */
static uint16_t pit_ch0_count(void)
{
	outb(PIT_CMD, 0x00); /* latch channel 0's count */
	uint8_t lo = inb(PIT_CH0);
	return (uint16_t)(lo | inb(PIT_CH0) << 8);
}

/* TSC ticks per second over ~1 ms of the PIT; 0 without a PIT. */
static uint64_t pit_run(void)
{
	uint64_t want = PIT_HZ * CALIBRATE_US / 1000000, elapsed = 0;

	outb(PIT_CMD, 0x34); /* channel 0, lo/hi byte, mode 2, binary */
	outb(PIT_CH0, 0);    /* reload 0 = 65536: wraps every 55 ms */
	outb(PIT_CH0, 0);
	/* The read-back status echoes the mode just programmed; a floating
	 * bus (0xff) or anything else means no PIT. */
	outb(PIT_CMD, PIT_READBACK_STATUS_CH0);
	if ((inb(PIT_CH0) & 0x3f) != 0x34)
		return 0;
	uint16_t prev = pit_ch0_count(), now = prev;
	for (uint32_t spin = 0; spin < 10000000 && now == prev; spin++)
		now = pit_ch0_count();
	uint64_t start = rdtsc();
	prev = now;
	for (uint64_t spin = 0; spin < 100000000ULL && elapsed < want; spin++) {
		now = pit_ch0_count();
		elapsed += (uint16_t)(prev - now); /* counts down, mod 2^16 */
		prev = now;
	}
	uint64_t end = rdtsc();
	return elapsed ? (end - start) * PIT_HZ / elapsed : 0;
}

static uint64_t median3(uint64_t a, uint64_t b, uint64_t c)
{
	if (a > b) {
		uint64_t t = a;
		a = b;
		b = t;
	}
	if (b > c)
		b = c;
	return a > b ? a : b;
}

/* Two runs within 0.1% of each other: the third would change nothing
 * a tick of the timer could not. */
static bool runs_agree(uint64_t a, uint64_t b)
{
	uint64_t diff = a > b ? a - b : b - a;

	return a && b && diff <= a / 1000;
}

static uint64_t pm_timer_tsc_hz(uint16_t port, bool ext32)
{
	if (!port)
		return 0;
	uint32_t mask = ext32 ? 0xffffffffu : 0xffffffu;
	uint64_t a = pm_timer_run(port, mask), b = pm_timer_run(port, mask);

	if (runs_agree(a, b))
		return (a + b) / 2;
	return median3(a, b, pm_timer_run(port, mask));
}

uint64_t clock_pit_tsc_hz(void)
{
	uint64_t a = pit_run(), b = pit_run();
	uint64_t hz = runs_agree(a, b) ? (a + b) / 2 : median3(a, b, pit_run());

	/* A PIT whose output never rises (none there) spins out the bound
	 * and gives nonsense; under 1 MHz is not a TSC. */
	return hz < 1000000 ? 0 : hz;
}

static void set_rate(uint64_t hz, enum clock_source src)
{
	tsc_hz = hz;
	source = src;
}

void clock_init(uint16_t pm_timer_port, bool pm_timer_32bit)
{
	uint64_t hz;

	/* Stated rates need no wait; 0 means not stated (or not believed). */
	if ((hz = tsc_cpuid_hz(cpu_cpuid, NULL)) != 0)
		set_rate(hz, CLOCK_SOURCE_CPUID);
	else if ((hz = tsc_hypervisor_hz(cpu_cpuid, NULL)) != 0)
		set_rate(hz, CLOCK_SOURCE_HYPERVISOR);
	else if ((hz = pm_timer_tsc_hz(pm_timer_port, pm_timer_32bit)) >=
		 1000000)
		set_rate(hz, CLOCK_SOURCE_PM_TIMER);
	else if ((hz = clock_pit_tsc_hz()) >= 1000000)
		set_rate(hz, CLOCK_SOURCE_PIT);
	else /* nothing to measure with: assume 1 GHz rather than divide by 0 */
		set_rate(1000000000ULL, CLOCK_SOURCE_NONE);
	ns_mult = (1000000000ULL << 32) / tsc_hz;
	tsc_base = rdtsc();
}

const char *clock_source_name(void)
{
	return source_names[source];
}

const char *clock_source_key(void)
{
	return source_keys[source];
}

uint64_t clock_tsc_to_ns(uint64_t delta)
{
	return (uint64_t)(((unsigned __int128)delta * ns_mult) >> 32);
}

uint64_t clock_ns(void)
{
	if (!tsc_hz)
		return 0;
	return clock_tsc_to_ns(rdtsc() - tsc_base);
}

uint64_t clock_ms(void)
{
	return clock_ns() / 1000000ULL;
}

uint64_t clock_tsc_hz(void)
{
	return tsc_hz;
}

void clock_delay_us(uint64_t us)
{
	uint64_t end = clock_ns() + us * 1000;

	while (clock_ns() < end)
		cpu_relax();
}

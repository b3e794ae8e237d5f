/* TSC calibration and the monotonic clock.
 *
 * The PIT runs at a fixed 1.193182 MHz; channel 2 can count down once with
 * its gate under software control (port 0x61) and its output readable in
 * bit 5 of the same port, so we can time a known interval without
 * interrupts. The TSC delta over that interval gives its frequency; the best
 * (shortest) of a few runs wins, because an emulator can only make a run
 * longer. Conversion uses a 32.32 fixed-point multiplier, so clock_ns()
 * needs no division. */
#include "kernel/clock.h"
#include "kernel/cpu.h"

#define PIT_HZ	     1193182ULL
#define PIT_CH2	     0x42
#define PIT_CMD	     0x43
#define PIT_GATE     0x61
#define CALIBRATE_MS 10

static uint64_t tsc_hz, tsc_base, ns_mult; /* ns = delta * ns_mult >> 32 */

static uint64_t pit_measure_tsc(void)
{
	uint16_t count = (uint16_t)(PIT_HZ * CALIBRATE_MS / 1000);
	uint8_t gate = inb(PIT_GATE);

	/* Gate off and speaker off while programming mode 0 on channel 2. */
	outb(PIT_GATE, (gate & ~0x03));
	outb(PIT_CMD, 0xb0); /* channel 2, lo/hi byte, mode 0, binary */
	outb(PIT_CH2, count & 0xff);
	outb(PIT_CH2, count >> 8);
	uint64_t start = rdtsc();
	outb(PIT_GATE, (gate & ~0x02) | 0x01); /* gate on: count starts */
	/* Bounded: ~1e9 reads is far beyond 10 ms on any machine. */
	for (uint64_t spin = 0; spin < 1000000000ULL; spin++)
		if (inb(PIT_GATE) & 0x20)
			break;
	uint64_t end = rdtsc();
	outb(PIT_GATE, gate);
	return end - start;
}

void clock_init(void)
{
	uint64_t best = ~0ULL;

	for (int i = 0; i < 3; i++) {
		uint64_t d = pit_measure_tsc();
		if (d < best)
			best = d;
	}
	tsc_hz = best * 1000 / CALIBRATE_MS;
	if (tsc_hz <
	    1000000) /* a broken PIT: assume 1 GHz rather than divide by 0 */
		tsc_hz = 1000000000ULL;
	ns_mult = (1000000000ULL << 32) / tsc_hz;
	tsc_base = rdtsc();
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

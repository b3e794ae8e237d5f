/* Time: the TSC, its rate from CPUID or measured at boot against a timer
 * (kernel/clock.c lists the order), gives a monotonic nanosecond clock;
 * the local APIC timer gives the periodic tick. */
#ifndef SKIFF_KERNEL_CLOCK_H
#define SKIFF_KERNEL_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

enum clock_source {
	CLOCK_SOURCE_CPUID,
	CLOCK_SOURCE_HYPERVISOR,
	CLOCK_SOURCE_PM_TIMER,
	CLOCK_SOURCE_PIT,
	CLOCK_SOURCE_NONE,
};

/* Learns the TSC frequency and starts the clock at 0. The ACPI PM timer's
 * port (0: none) and width come from the FADT (acpi_pm_timer()). */
void clock_init(uint16_t pm_timer_port, bool pm_timer_32bit);
/* Where the TSC rate came from, for the log. */
const char *clock_source_name(void);
/* The same as a short key ("cpuid", "hypervisor", "pm_timer", "pit",
 * "none"), for /stats. */
const char *clock_source_key(void);
/* Measures the TSC against the PIT now (~12 ms); 0 when there is no PIT.
 * For cross-checking another source (clock.check=1). */
uint64_t clock_pit_tsc_hz(void);
uint64_t clock_ns(void); /* 0 until clock_init() ran */
uint64_t clock_ms(void);
uint64_t clock_tsc_hz(void);
uint64_t clock_tsc_to_ns(uint64_t tsc_delta);
/* Busy-waits (for device resets and calibration only). */
void clock_delay_us(uint64_t us);

#endif

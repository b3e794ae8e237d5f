/* Time: the TSC, calibrated at boot against the PIT, gives a monotonic
 * nanosecond clock; the local APIC timer gives the periodic tick. */
#ifndef SKIFF_KERNEL_CLOCK_H
#define SKIFF_KERNEL_CLOCK_H

#include <stdint.h>

/* Measures the TSC frequency (PIT channel 2) and starts the clock at 0. */
void clock_init(void);
uint64_t clock_ns(void); /* 0 until clock_init() ran */
uint64_t clock_ms(void);
uint64_t clock_tsc_hz(void);
uint64_t clock_tsc_to_ns(uint64_t tsc_delta);
/* Busy-waits (for device resets and calibration only). */
void clock_delay_us(uint64_t us);

#endif

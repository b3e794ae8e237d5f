/* Bring-up step timestamps: kernel_main marks the end of each step with
 * the TSC, and the ready line is preceded by one "boot: steps" log line
 * giving each step's cost in microseconds, so a slow boot shows where its
 * time went without a profiler. Fixed table, no allocation. */
#ifndef KERNEL_BOOT_STEPS_H
#define KERNEL_BOOT_STEPS_H

#include <stdint.h>

/* Starts the trace at tsc (the loader's entry TSC). */
void boot_steps_start(uint64_t tsc);
/* Marks the end of step `name` (a string literal) now. */
void boot_step(const char *name);
/* Logs every step's cost since the previous mark (needs the clock), and
 * the TSC at entry: the time since reset the firmware and loader took. */
void boot_steps_log(void);

#endif

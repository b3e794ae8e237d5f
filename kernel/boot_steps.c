/* See kernel/boot_steps.h. */
#include "kernel/boot_steps.h"

#include "kernel/clock.h"
#include "kernel/cpu.h"
#include "kernel/log.h"
#include "kernel/printf.h"

#define BOOT_STEPS_MAX 32
#define LINE_MAX       768

static uint64_t start_tsc;
static uint64_t step_tsc[BOOT_STEPS_MAX];
static const char *step_name[BOOT_STEPS_MAX];
static unsigned steps;

void boot_steps_start(uint64_t tsc)
{
	start_tsc = tsc;
	steps = 0;
}

void boot_step(const char *name)
{
	if (steps >= BOOT_STEPS_MAX)
		return; /* the table is sized for kernel_main's steps */
	step_tsc[steps] = rdtsc();
	step_name[steps++] = name;
}

void boot_steps_log(void)
{
	char line[LINE_MAX] = "";
	size_t len = 0;
	uint64_t prev = start_tsc;

	for (unsigned i = 0; i < steps && len < sizeof(line); i++) {
		uint64_t us = clock_tsc_to_ns(step_tsc[i] - prev) / 1000;

		len += (size_t)ksnprintf(line + len, sizeof(line) - len,
					 " %s=%llu", step_name[i],
					 (unsigned long long)us);
		prev = step_tsc[i];
	}
	/* The TSC counts from the CPU's reset (QEMU: from the VM's start),
	 * so its value at entry is what the firmware and loader took. Its
	 * own line: the steps fill most of a log line (320 bytes). */
	log_info("boot: entry %llu us after reset",
		 (unsigned long long)(clock_tsc_to_ns(start_tsc) / 1000));
	log_info("boot: steps (us):%s", line);
}

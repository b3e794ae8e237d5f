/* Per-CPU data: one struct percpu for each CPU, reached through the GS
 * base (gs:0 holds the struct's own address, so this_cpu() is one load and
 * needs no lookup of the APIC ID). Fields a CPU changes are changed only
 * by that CPU; other CPUs read them (counters through percpu_counter_read).
 *
 * CPU numbers are dense: 0 is the boot CPU, 1.. the application processors
 * in MADT order, as far as they started. */
#ifndef SKIFF_KERNEL_PERCPU_H
#define SKIFF_KERNEL_PERCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/counters.h"

#define CPU_MAX 32

/* Per-CPU counters (written by their own CPU only; summed in /stats). */
struct cpu_stats {
	uint64_t irqs;	       /* device and IPI vectors handled */
	uint64_t timer_ticks;  /* local APIC timer interrupts */
	uint64_t ipis;	       /* inter-processor interrupts received */
	uint64_t tlb_flushes;  /* shoot-downs answered */
	uint64_t idle_wakeups; /* returns from hlt in the idle loop */
};

struct percpu {
	struct percpu *self; /* must stay first: this_cpu() reads gs:0 */
	uint32_t cpu;	     /* dense number, 0 = boot CPU */
	uint32_t apic_id;
	bool online;
	struct cpu_stats stats;
} __attribute__((aligned(64))); /* one cache line each, no false sharing */

extern struct percpu percpu[CPU_MAX];

/* The /stats "cpus" entries: names, order and types (kernel/counters.h). */
extern const struct counter_desc cpu_stats_counters[];
extern const unsigned cpu_stats_counters_len;

/* A consistent-per-counter copy of one CPU's counters, and the sum over
 * the online CPUs (/stats). */
void cpu_stats_snapshot(unsigned cpu, struct cpu_stats *out);
void cpu_stats_total(struct cpu_stats *out);

/* Points the GS base of the calling CPU at percpu[cpu]. */
void percpu_init(uint32_t cpu, uint32_t apic_id);

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;

	__asm__ volatile("mov %%gs:0, %0" : "=r"(p));
	return p;
}

/* this_cpu()->cpu, or 0 before the boot CPU's GS base is set (panic
 * may run that early). */
uint32_t percpu_current_or_boot(void);

/* How many CPUs are online (percpu[0 .. n-1]); 1 until the others start. */
unsigned cpu_count(void);
void cpu_set_count(unsigned n);

#endif

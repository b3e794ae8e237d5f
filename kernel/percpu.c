/* The per-CPU structs and the GS base that points at them. */
#include "kernel/percpu.h"
#include "kernel/cpu.h"
#include "kernel/percpu_counter.h"

#define MSR_GS_BASE 0xc0000101

struct percpu percpu[CPU_MAX];

/* Written by the boot CPU only, once each AP is up. */
static unsigned ncpus = 1;
/* Set once the boot CPU's GS base points at percpu[0]. */
static bool gs_ready;

const struct counter_desc cpu_stats_counters[] = {
    COUNTER(U64, struct cpu_stats, irqs, "irqs"),
    COUNTER(U64, struct cpu_stats, timer_ticks, "timer_ticks"),
    COUNTER(U64, struct cpu_stats, ipis, "ipis"),
    COUNTER(U64, struct cpu_stats, tlb_flushes, "tlb_flushes"),
    COUNTER(U64, struct cpu_stats, idle_wakeups, "idle_wakeups"),
};
const unsigned cpu_stats_counters_len = COUNTERS_LEN(cpu_stats_counters);

void percpu_init(uint32_t cpu, uint32_t apic_id)
{
	struct percpu *p = &percpu[cpu];

	p->self = p;
	p->cpu = cpu;
	p->apic_id = apic_id;
	wrmsr(MSR_GS_BASE, (uint64_t)p);
	gs_ready = true;
}

uint32_t percpu_current_or_boot(void)
{
	return gs_ready ? this_cpu()->cpu : 0;
}

unsigned cpu_count(void)
{
	return __atomic_load_n(&ncpus, __ATOMIC_ACQUIRE);
}

void cpu_set_count(unsigned n)
{
	__atomic_store_n(&ncpus, n, __ATOMIC_RELEASE);
}

/* struct cpu_stats is all uint64_t counters: copy them one by one with
 * single-copy-atomic reads. */
#define CPU_STATS_WORDS (sizeof(struct cpu_stats) / sizeof(uint64_t))
_Static_assert(sizeof(struct cpu_stats) % sizeof(uint64_t) == 0,
	       "cpu_stats holds only uint64_t counters");

void cpu_stats_snapshot(unsigned cpu, struct cpu_stats *out)
{
	const uint64_t *src = (const uint64_t *)&percpu[cpu].stats;
	uint64_t *dst = (uint64_t *)out;

	for (unsigned i = 0; i < CPU_STATS_WORDS; i++)
		dst[i] = percpu_counter_read(&src[i]);
}

void cpu_stats_total(struct cpu_stats *out)
{
	uint64_t *dst = (uint64_t *)out;
	unsigned n = cpu_count();

	for (unsigned i = 0; i < CPU_STATS_WORDS; i++)
		dst[i] = percpu_counter_sum(percpu, n, sizeof(percpu[0]),
					    offsetof(struct percpu, stats) +
						i * sizeof(uint64_t));
}

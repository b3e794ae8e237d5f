/* The eBPF runtime's view of the CPUs: which one runs (for per-CPU maps,
 * counters and redirect state) and when a replaced program may be freed.
 *
 * Freeing: programs run on every CPU that serves a queue, so the control
 * side (CPU 0) must not free the old one while another CPU is still
 * inside it. Each CPU marks itself inside before it loads the program
 * pointer and outside after the run; after swapping the pointer the
 * control side waits until no other CPU is inside. Both sides order their
 * store before their load with a full barrier (the mark is a sequentially
 * consistent store, the swap an exchange), so a CPU either saw the new
 * pointer or is seen inside - a grace period as RCU's, for runs the
 * verifier bounds. */
#include "ebpf/ebpf.h"
#include "kernel/cpu.h"

/* Set at bring-up before programs load, read-only after. */
static unsigned cpus_possible = 1;
static unsigned (*cpu_current)(void);

void ebpf_set_cpus(unsigned possible, unsigned (*current)(void))
{
	if (possible < 1)
		possible = 1;
	cpus_possible = possible > EBPF_MAX_CPUS ? EBPF_MAX_CPUS : possible;
	cpu_current = current;
}

static unsigned this_cpu_index(void)
{
	return cpu_current ? cpu_current() : 0;
}

unsigned ebpf_cpu_index(void)
{
	unsigned cpu = this_cpu_index();

	return cpu < EBPF_MAX_CPUS ? cpu : 0;
}

unsigned ebpf_cpu_count(void)
{
	return cpus_possible;
}

static struct ebpf_redirect_state redirect_infos[EBPF_MAX_CPUS];

struct ebpf_redirect_state *ebpf_redirect_info_of(unsigned cpu)
{
	return &redirect_infos[cpu < EBPF_MAX_CPUS ? cpu : 0];
}

struct ebpf_redirect_state *ebpf_redirect_info_self(void)
{
	return &redirect_infos[ebpf_cpu_index()];
}

/* One line per CPU: the mark is written on every run. */
static struct {
	uint32_t inside;
	uint32_t pad[15];
} run_mark[EBPF_MAX_CPUS];

unsigned ebpf_run_enter(void)
{
	unsigned cpu = ebpf_cpu_index();

	__atomic_store_n(&run_mark[cpu].inside, 1, __ATOMIC_SEQ_CST);
	return cpu;
}

void ebpf_run_exit(unsigned cpu)
{
	if (cpu >= EBPF_MAX_CPUS)
		cpu = 0;
	__atomic_store_n(&run_mark[cpu].inside, 0, __ATOMIC_RELEASE);
}

bool ebpf_run_wait_others(void)
{
	unsigned me = ebpf_cpu_index();
	/* A run is bounded (the verifier): 2^30 pauses are seconds of margin
	 * even under TCG. */
	uint64_t spins = 0;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (unsigned c = 0; c < ebpf_cpu_count(); c++) {
		if (c == me)
			continue;
		while (__atomic_load_n(&run_mark[c].inside, __ATOMIC_ACQUIRE)) {
			if (++spins > (1ull << 30))
				return false;
			cpu_relax();
		}
	}
	return true;
}

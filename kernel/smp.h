/* Several CPUs: the application processors (APs) the ACPI MADT lists are
 * started with INIT-SIPI-SIPI through a real-mode trampoline below 1 MiB
 * (kernel/smp_trampoline.S), each with its own GDT, TSS, IST and main
 * stacks (guard pages below each), per-CPU data through GS and its own
 * local APIC timer.
 *
 * Rules that keep this simple:
 *  - Only CPU 0 changes page tables, allocates pages or heap, and runs
 *    lwIP and the services. An AP gets everything it needs allocated for
 *    it before it starts. After a page-table change that removes rights
 *    (paging_protect, paging_unmap_page) CPU 0 makes every online CPU
 *    flush its TLB (smp_tlb_shootdown) before going on.
 *  - APs start one at a time; percpu[] entries are dense (cpu 1, 2, ... as
 *    they came up). A CPU that does not start in time is reported, put
 *    back in wait-for-SIPI with an INIT, and left out; the rest run on.
 *  - smp=N (config) limits the CPUs used, counting the boot CPU. */
#ifndef SKIFF_KERNEL_SMP_H
#define SKIFF_KERNEL_SMP_H

#include <stdbool.h>
#include <stdint.h>

/* Starts up to limit - 1 APs (limit 0: all the MADT lists). low_page is a
 * reserved, identity-mapped 4 KiB page below 1 MiB (memory.c), 0 if none.
 * Runs on CPU 0 with its local APIC and timer started. */
void smp_init(uint64_t low_page, unsigned limit);

/* Tests: the CPU with this APIC ID gets INIT but no SIPI, so it never
 * starts (0: none; the boot CPU is never started anyway). */
void smp_set_test_no_sipi(uint32_t apic_id);

/* What an AP runs once it is up, with interrupts on, each time it wakes
 * (an interrupt or smp_wake); NULL: just sleep. Set before smp_init. */
void smp_set_ap_work(void (*fn)(unsigned cpu));

/* Wakes CPU cpu from hlt (an IPI with no other effect). */
bool smp_wake(unsigned cpu);

/* Makes every other online CPU flush its TLB and waits (bounded) until
 * each has. CPU 0 only (it alone changes page tables). */
void smp_tlb_shootdown(void);

/* Halts every other online CPU (panic). */
void smp_stop_others(void);

#endif

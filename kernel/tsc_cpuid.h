/* The TSC rate as CPUID states it, read through a function the caller
 * passes, so the rules can be checked on the host with made-up leaves
 * (tests/unit/test_tsc_cpuid.c). Every leaf is treated as untrusted: a
 * leaf beyond the reported maximum, a zero field or a rate outside what a
 * TSC can be gives 0 ("not stated"), and the clock measures instead. */
#ifndef SKIFF_KERNEL_TSC_CPUID_H
#define SKIFF_KERNEL_TSC_CPUID_H

#include <stdint.h>

struct cpuid_regs {
	uint32_t a, b, c, d;
};

/* Fills *out with CPUID(leaf, subleaf 0). */
typedef void (*cpuid_fn)(uint32_t leaf, struct cpuid_regs *out, void *ctx);

/* Plausible TSC rates; anything else is a malformed leaf. */
#define TSC_CPUID_MIN_HZ 100000000ULL	/* 100 MHz */
#define TSC_CPUID_MAX_HZ 20000000000ULL /* 20 GHz */

/* Leaf 0x15 (TSC/crystal ratio, crystal Hz), with leaf 0x16 (base MHz)
 * standing in for a crystal rate of 0 and cross-checking one that is
 * given: more than 5% apart, neither is believed. Hz, or 0. */
uint64_t tsc_cpuid_hz(cpuid_fn cpuid, void *ctx);
/* The hypervisor leaf 0x40000010 (EAX: TSC kHz; VMware's layout, which
 * KVM and Firecracker's hosts may offer), when CPUID.1:ECX[31] says a
 * hypervisor is there and 0x40000000 lists the leaf. Hz, or 0. */
uint64_t tsc_hypervisor_hz(cpuid_fn cpuid, void *ctx);

#endif

/* See kernel/tsc_cpuid.h. QEMU 7.2 under TCG states neither rate: its
 * maximum basic leaf is 0xd on -cpu max and qemu64 (0x15 and 0x16 then
 * echo leaf 0xd, as CPUs do beyond the maximum), leaves 0x15/0x16 read 0
 * even with level=0x16,tsc-frequency=..., and its hypervisor leaves
 * ("TCGTCGTCGTCG") stop at 0x40000001. */
#include "kernel/tsc_cpuid.h"

#define LEAF_MAX_BASIC	  0x0
#define LEAF_FEATURES	  0x1
#define LEAF_TSC	  0x15
#define LEAF_FREQ	  0x16
#define LEAF_HV_BASE	  0x40000000u
#define LEAF_HV_TSC	  0x40000010u
#define LEAF_HV_LAST	  0x400000ffu /* the range hypervisors use */
#define FEAT_HYPERVISOR	  (1u << 31)  /* CPUID.1:ECX */
#define CROSS_CHECK_SHARE 20	      /* 1/20: 5% */

static uint64_t plausible(uint64_t hz)
{
	return hz >= TSC_CPUID_MIN_HZ && hz <= TSC_CPUID_MAX_HZ ? hz : 0;
}

uint64_t tsc_cpuid_hz(cpuid_fn cpuid, void *ctx)
{
	struct cpuid_regs r;
	uint64_t base = 0;

	cpuid(LEAF_MAX_BASIC, &r, ctx);
	uint32_t max = r.a;
	if (max < LEAF_TSC)
		return 0; /* what a CPU answers beyond its maximum is junk */
	if (max >= LEAF_FREQ) {
		cpuid(LEAF_FREQ, &r, ctx);
		base = plausible((uint64_t)(r.a & 0xffff) * 1000000ULL);
	}
	cpuid(LEAF_TSC, &r, ctx);
	uint32_t den = r.a, num = r.b, crystal = r.c;
	if (!den || !num)
		return 0; /* the ratio is not enumerated */
	if (!crystal)
		/* Crystal not stated: derived from the base frequency, the TSC
		 * runs at it (crystal = base * den / num, as Linux does). */
		return base;
	/* Two 32-bit factors: the product fits in 64 bits. */
	uint64_t hz = plausible((uint64_t)crystal * num / den);
	if (hz && base) {
		uint64_t diff = hz > base ? hz - base : base - hz;
		if (diff > base / CROSS_CHECK_SHARE)
			return 0;
	}
	return hz;
}

uint64_t tsc_hypervisor_hz(cpuid_fn cpuid, void *ctx)
{
	struct cpuid_regs r;

	cpuid(LEAF_FEATURES, &r, ctx);
	if (!(r.c & FEAT_HYPERVISOR))
		return 0;
	cpuid(LEAF_HV_BASE, &r, ctx);
	if (r.a < LEAF_HV_TSC || r.a > LEAF_HV_LAST)
		return 0; /* no such leaf (TCG: 0x40000001), or garbage */
	cpuid(LEAF_HV_TSC, &r, ctx);
	return plausible((uint64_t)r.a * 1000);
}

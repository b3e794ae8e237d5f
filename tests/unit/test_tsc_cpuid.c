/* The TSC rate from CPUID (kernel/tsc_cpuid.c) on made-up leaves: Intel's
 * shapes (0x15 with a crystal, 0x15 without one and 0x16 standing in),
 * the cross-check between 0x15 and 0x16, the hypervisor leaf as KVM and
 * VMware give it, and what QEMU 7.2's TCG answers (none of them). Every
 * malformed or zero leaf must give 0, so the clock measures instead. */
#include <stdint.h>
#include <string.h>

#include "kernel/tsc_cpuid.h"
#include "tests/unit/check.h"

#define HV_BIT (1u << 31)

/* A fake CPU: the leaves it answers; anything else reads 0. A leaf at or
 * beyond max_basic answers like leaf max_basic when echo_max is set, as
 * real CPUs (and TCG) do. */
struct fake_cpu {
	uint32_t leaf[8];
	struct cpuid_regs regs[8];
	unsigned n;
	int echo_max;
	unsigned calls;
};

static void set(struct fake_cpu *f, uint32_t leaf, uint32_t a, uint32_t b,
		uint32_t c, uint32_t d)
{
	f->leaf[f->n] = leaf;
	f->regs[f->n++] = (struct cpuid_regs){a, b, c, d};
}

static int find(const struct fake_cpu *f, uint32_t leaf)
{
	for (unsigned i = 0; i < f->n; i++)
		if (f->leaf[i] == leaf)
			return (int)i;
	return -1;
}

static void fake_cpuid(uint32_t leaf, struct cpuid_regs *out, void *ctx)
{
	struct fake_cpu *f = ctx;
	int i = find(f, leaf);

	f->calls++;
	if (i < 0 && f->echo_max && leaf < 0x40000000u && find(f, 0) >= 0)
		i = find(f, f->regs[find(f, 0)].a);
	memset(out, 0, sizeof(*out));
	if (i >= 0)
		*out = f->regs[i];
}

static uint64_t cpuid_hz(struct fake_cpu *f)
{
	return tsc_cpuid_hz(fake_cpuid, f);
}

static uint64_t hv_hz(struct fake_cpu *f)
{
	return tsc_hypervisor_hz(fake_cpuid, f);
}

/* Intel with the crystal stated: 24 MHz * 176 / 2 = 2.112 GHz. */
TEST(leaf15_with_crystal)
{
	struct fake_cpu f = {0};

	set(&f, 0, 0x15, 0, 0, 0);
	set(&f, 0x15, 2, 176, 24000000, 0);
	CHECK_EQ(cpuid_hz(&f), 2112000000ULL);
}

/* Crystal rate 0 (Skylake client): the base frequency from 0x16. */
TEST(leaf15_without_crystal_uses_16)
{
	struct fake_cpu f = {0};

	set(&f, 0, 0x16, 0, 0, 0);
	set(&f, 0x15, 2, 200, 0, 0);
	set(&f, 0x16, 2600, 3900, 100, 0);
	CHECK_EQ(cpuid_hz(&f), 2600000000ULL);

	/* ... and without 0x16 the ratio alone gives no rate. */
	struct fake_cpu g = {0};
	set(&g, 0, 0x15, 0, 0, 0);
	set(&g, 0x15, 2, 200, 0, 0);
	CHECK_EQ(cpuid_hz(&g), 0);
}

/* 0x16 cross-checks a stated crystal: close enough passes, far fails. */
TEST(leaf16_cross_check)
{
	struct fake_cpu f = {0};

	set(&f, 0, 0x16, 0, 0, 0);
	set(&f, 0x15, 2, 176, 24000000, 0); /* 2.112 GHz */
	set(&f, 0x16, 2100, 0, 0, 0);	    /* 0.6% apart */
	CHECK_EQ(cpuid_hz(&f), 2112000000ULL);

	f.regs[2].a = 3000; /* 30% apart: neither is believed */
	CHECK_EQ(cpuid_hz(&f), 0);

	f.regs[2].a = 0; /* 0x16 listed but empty: 0x15 alone */
	CHECK_EQ(cpuid_hz(&f), 2112000000ULL);
}

/* The leaves beyond the maximum are never believed, whatever they hold
 * (QEMU TCG: maximum 0xd, and 0x15 then echoes leaf 0xd's XSAVE sizes). */
TEST(beyond_max_leaf_ignored)
{
	struct fake_cpu f = {.echo_max = 1};

	set(&f, 0, 0xd, 0x68747541, 0x444d4163, 0x69746e65);
	set(&f, 0xd, 0x21f, 0x240, 0xa88, 0);
	CHECK_EQ(cpuid_hz(&f), 0);
	/* Even when the echoed leaf would read as a fine 0x15. */
	f.regs[1] = (struct cpuid_regs){2, 176, 24000000, 0};
	CHECK_EQ(cpuid_hz(&f), 0);
	f.regs[0].a = 0x15; /* listed: now it counts */
	f.leaf[1] = 0x15;
	CHECK_EQ(cpuid_hz(&f), 2112000000ULL);

	/* The same values under a maximum that lists them would be a rate
	 * (0xa88 * 0x240 / 0x21f = ~6.6 kHz): implausible, refused. */
	struct fake_cpu g = {0};
	set(&g, 0, 0x15, 0, 0, 0);
	set(&g, 0x15, 0x21f, 0x240, 0xa88, 0);
	CHECK_EQ(cpuid_hz(&g), 0);
}

/* Zero fields: no ratio, no rate. */
TEST(zero_leaves_ignored)
{
	struct fake_cpu f = {0};

	set(&f, 0, 0x16, 0, 0, 0); /* QEMU -cpu max,level=0x16: all zero */
	CHECK_EQ(cpuid_hz(&f), 0);

	set(&f, 0x15, 0, 176, 24000000, 0); /* denominator 0 */
	CHECK_EQ(cpuid_hz(&f), 0);
	f.regs[1] = (struct cpuid_regs){2, 0, 24000000, 0}; /* numerator 0 */
	CHECK_EQ(cpuid_hz(&f), 0);

	struct fake_cpu g = {0}; /* no leaf 0 at all */
	CHECK_EQ(cpuid_hz(&g), 0);
}

/* Values that give an absurd rate are refused. */
TEST(absurd_rates_refused)
{
	struct fake_cpu f = {0};

	set(&f, 0, 0x15, 0, 0, 0);
	set(&f, 0x15, 1, 0xffffffffu, 0xffffffffu, 0); /* ~1.8e19 Hz */
	CHECK_EQ(cpuid_hz(&f), 0);
	f.regs[1] = (struct cpuid_regs){1000, 1, 1000, 0}; /* 1 Hz */
	CHECK_EQ(cpuid_hz(&f), 0);
	/* 2.5 GHz * 4 = 10 GHz: the product needs more than 32 bits. */
	f.regs[1] = (struct cpuid_regs){1, 4, 2500000000u, 0};
	CHECK_EQ(cpuid_hz(&f), 10000000000ULL);

	/* 0x16 as a stand-in must be plausible too (0 MHz, 65535 MHz ok). */
	struct fake_cpu g = {0};
	set(&g, 0, 0x16, 0, 0, 0);
	set(&g, 0x15, 2, 200, 0, 0);
	set(&g, 0x16, 50, 0, 0, 0); /* 50 MHz: below a TSC */
	CHECK_EQ(cpuid_hz(&g), 0);
	g.regs[2].a = 0xffff0000u | 2400; /* reserved high bits ignored */
	CHECK_EQ(cpuid_hz(&g), 2400000000ULL);
}

/* KVM with invtsc (or VMware): 0x40000010.EAX is the TSC in kHz. */
TEST(hypervisor_leaf)
{
	struct fake_cpu f = {0};

	set(&f, 1, 0, 0, HV_BIT, 0);
	set(&f, 0x40000000u, 0x40000010u, 0x4b4d564b, 0x564b4d56, 0x4d);
	set(&f, 0x40000010u, 2095000, 1000000, 0, 0);
	CHECK_EQ(hv_hz(&f), 2095000000ULL);

	f.regs[0].c = 0; /* no hypervisor bit: not read at all */
	f.calls = 0;
	CHECK_EQ(hv_hz(&f), 0);
	CHECK_EQ(f.calls, 1);
}

/* QEMU 7.2 TCG: "TCGTCGTCGTCG" with leaves up to 0x40000001 only; 0x40000010
 * then echoes the last basic leaf. Junk maxima and a zero rate too. */
TEST(hypervisor_leaf_malformed)
{
	struct fake_cpu f = {.echo_max = 0};

	set(&f, 1, 0, 0, HV_BIT, 0);
	set(&f, 0x40000000u, 0x40000001u, 0x54474354, 0x43544743, 0x47435447);
	set(&f, 0x40000010u, 0x21f, 0x240, 0xa88, 0);
	CHECK_EQ(hv_hz(&f), 0);

	f.regs[1].a = 0xffffffffu; /* a maximum outside the range */
	CHECK_EQ(hv_hz(&f), 0);
	f.regs[1].a = 0x40000010u;
	f.regs[2].a = 0; /* listed, but no rate */
	CHECK_EQ(hv_hz(&f), 0);
	f.regs[2].a = 5; /* 5 kHz */
	CHECK_EQ(hv_hz(&f), 0);
	f.regs[2].a = 0xffffffffu; /* ~4.3 THz */
	CHECK_EQ(hv_hz(&f), 0);
}

/* Known bits ("tristate numbers") for the eBPF verifier: a 64-bit value of
 * which each bit is known 0, known 1 or unknown. `mask` has a 1 for every
 * unknown bit; `value` holds the known bits (and 0 where mask is 1). Every
 * operation is sound: the concrete result of the operation on any members
 * of the operands is a member of the result. The idea is Linux's
 * (kernel/bpf/tnum.c); the code here is Skiff's own. */
#ifndef SKIFF_NET_EBPF_TNUM_H
#define SKIFF_NET_EBPF_TNUM_H

#include <stdbool.h>
#include <stdint.h>

struct tnum {
	uint64_t value;
	uint64_t mask;
};

static inline struct tnum tnum_const(uint64_t v)
{
	return (struct tnum){v, 0};
}

static inline struct tnum tnum_unknown(void)
{
	return (struct tnum){0, ~0ull};
}

static inline bool tnum_is_const(struct tnum a)
{
	return a.mask == 0;
}

/* The smallest tnum holding every value of [min, max] (unsigned). */
static inline struct tnum tnum_range(uint64_t min, uint64_t max)
{
	uint64_t diff = min ^ max, low;

	if (min > max)
		return tnum_unknown();
	if (!diff)
		return tnum_const(min);
	low = ~0ull >> __builtin_clzll(diff); /* every bit up to the top one */
	return (struct tnum){min & ~low, low};
}

static inline bool tnum_contains(struct tnum a, uint64_t x)
{
	return (x & ~a.mask) == a.value;
}

/* b is a subset of a. */
static inline bool tnum_in(struct tnum a, struct tnum b)
{
	if (b.mask & ~a.mask)
		return false;
	return (b.value & ~a.mask) == a.value;
}

static inline struct tnum tnum_lshift(struct tnum a, unsigned s)
{
	return (struct tnum){a.value << s, a.mask << s};
}

static inline struct tnum tnum_rshift(struct tnum a, unsigned s)
{
	return (struct tnum){a.value >> s, a.mask >> s};
}

/* Arithmetic shift of a `bits`-wide value (32 or 64); the result is
 * zero-extended from `bits`. */
static inline struct tnum tnum_arshift(struct tnum a, unsigned s, int bits)
{
	if (bits == 32)
		return (struct tnum){
		    (uint32_t)((int32_t)(uint32_t)a.value >> s),
		    (uint32_t)((int32_t)(uint32_t)a.mask >> s)};
	return (struct tnum){(uint64_t)((int64_t)a.value >> s),
			     (uint64_t)((int64_t)a.mask >> s)};
}

static inline struct tnum tnum_add(struct tnum a, struct tnum b)
{
	uint64_t sv = a.value + b.value;
	uint64_t carries = (sv + a.mask + b.mask) ^ sv; /* bits a carry hit */
	uint64_t unk = carries | a.mask | b.mask;

	return (struct tnum){sv & ~unk, unk};
}

static inline struct tnum tnum_sub(struct tnum a, struct tnum b)
{
	uint64_t dv = a.value - b.value;
	uint64_t hi = dv + a.mask, lo = dv - b.mask; /* extremes */
	uint64_t unk = (hi ^ lo) | a.mask | b.mask;

	return (struct tnum){dv & ~unk, unk};
}

static inline struct tnum tnum_neg(struct tnum a)
{
	return tnum_sub(tnum_const(0), a);
}

static inline struct tnum tnum_and(struct tnum a, struct tnum b)
{
	uint64_t maybe_a = a.value | a.mask, maybe_b = b.value | b.mask;
	uint64_t v = a.value & b.value;

	return (struct tnum){v, maybe_a & maybe_b & ~v};
}

static inline struct tnum tnum_or(struct tnum a, struct tnum b)
{
	uint64_t v = a.value | b.value;

	return (struct tnum){v, (a.mask | b.mask) & ~v};
}

static inline struct tnum tnum_xor(struct tnum a, struct tnum b)
{
	uint64_t unk = a.mask | b.mask;

	return (struct tnum){(a.value ^ b.value) & ~unk, unk};
}

/* Shift-and-add over the bits of a: a known 1 adds b, an unknown bit adds
 * either 0 or b (so b's possible bits become unknown). */
static inline struct tnum tnum_mul(struct tnum a, struct tnum b)
{
	struct tnum known = tnum_const(a.value * b.value);
	struct tnum unk = tnum_const(0);

	while (a.value || a.mask) {
		if (a.value & 1)
			unk = tnum_add(unk, (struct tnum){0, b.mask});
		else if (a.mask & 1)
			unk = tnum_add(unk, (struct tnum){0, b.value | b.mask});
		a = tnum_rshift(a, 1);
		b = tnum_lshift(b, 1);
	}
	return tnum_add(known, unk);
}

/* Values in both a and b; *ok = false when there are none. */
static inline struct tnum tnum_intersect(struct tnum a, struct tnum b, bool *ok)
{
	uint64_t both = ~a.mask & ~b.mask;
	uint64_t v = a.value | b.value, m = a.mask & b.mask;

	if ((a.value ^ b.value) & both)
		*ok = false;
	return (struct tnum){v & ~m, m};
}

/* The low `bytes` bytes (zero-extended). */
static inline struct tnum tnum_cast(struct tnum a, int bytes)
{
	uint64_t keep = bytes >= 8 ? ~0ull : (1ull << (bytes * 8)) - 1;

	return (struct tnum){a.value & keep, a.mask & keep};
}

static inline struct tnum tnum_subreg(struct tnum a)
{
	return tnum_cast(a, 4);
}

/* a with its low 32 bits replaced by those of lo. */
static inline struct tnum tnum_with_subreg(struct tnum a, struct tnum lo)
{
	uint64_t hi = 0xffffffff00000000ull;

	return (struct tnum){(a.value & hi) | (uint32_t)lo.value,
			     (a.mask & hi) | (uint32_t)lo.mask};
}

/* The low `bits` bits sign-extended to 64. */
static inline struct tnum tnum_sext(struct tnum a, int bits)
{
	unsigned s = 64 - bits;

	return (struct tnum){(uint64_t)((int64_t)(a.value << s) >> s),
			     (uint64_t)((int64_t)(a.mask << s) >> s)};
}

/* Byte swap of the low `bits` bits (16, 32 or 64), zero-extended: exact. */
static inline struct tnum tnum_bswap(struct tnum a, int bits)
{
	if (bits == 16)
		return (struct tnum){__builtin_bswap16((uint16_t)a.value),
				     __builtin_bswap16((uint16_t)a.mask)};
	if (bits == 32)
		return (struct tnum){__builtin_bswap32((uint32_t)a.value),
				     __builtin_bswap32((uint32_t)a.mask)};
	return (struct tnum){__builtin_bswap64(a.value),
			     __builtin_bswap64(a.mask)};
}

#endif

/* The eBPF verifier: proves, before anything runs, that a program only
 * touches memory it may touch, leaks no pointer, and terminates. In Skiff
 * there is no kernel/user boundary, so this is the security boundary: every
 * program is treated as an attacker's (Linux's rules for unprivileged
 * programs).
 *
 * Two passes, as in Linux:
 *  1. check_cfg: every opcode is one RFC 9669 defines for CPU v1-v4 with
 *     its unused fields zero, registers exist, jumps land inside the
 *     program (not in the middle of an ld_imm64), every instruction is
 *     reachable and none falls off the end. Back-edges are allowed.
 *  2. do_check: a depth-first walk over every path with an abstract state
 *     per instruction. A scalar is known bits plus signed/unsigned 64- and
 *     32-bit bounds (struct scalar, scalar.h), kept consistent after every
 *     step; a pointer is a type (ctx, packet, packet meta, packet end,
 *     stack, map, map value, map value or NULL) with a constant offset and,
 *     for packet and map value pointers, a variable offset in the same
 *     domain. The stack is tracked per byte (uninitialised, scalar data,
 *     part of a spilled register) with the spilled register per 8-byte
 *     slot. Branches refine both successors and dead ones are not
 *     followed. At jump targets a state already explored to the end and
 *     at least as general prunes the new one; a state equal to one still
 *     being explored on the same path is a loop that cannot terminate. The
 *     walk is capped at EBPF_COMPLEXITY_LIMIT instructions.
 *
 * Every rejection is "insn N: reason", with the registers involved. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ebpf/ebpf.h"
#include "ebpf/helpers.h"
#include "ebpf/scalar.h"
#include "kernel/kerrno.h"

#define EBPF_COMPLEXITY_LIMIT 1000000 /* instructions processed */
#define MAX_PENDING	      2048    /* undecided branches on the DFS stack */
#define MAX_SEEN	      1024    /* explored states kept for pruning */
#define MAX_SEEN_PER_INSN     24
#define MAX_PKT_OFF	      0xffff	/* largest packet offset or range */
#define MAX_VAR_OFF	      (1 << 29) /* |pointer offset|, variable offsets */
#define MAX_MEM_SIZE	      (1 << 29) /* helper memory sizes */
/* ---- the scalar domain (scalar.h) ------------------------------------------
 */

#define U32_MAX	 0xffffffffull
#define S32_MIN_ (-2147483647 - 1)
#define S32_MAX_ 2147483647
#define HI32	 0xffffffff00000000ull

static uint64_t umax_(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}
static uint64_t umin_(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}
static int64_t smax_(int64_t a, int64_t b)
{
	return a > b ? a : b;
}
static int64_t smin_(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

void scalar_unknown(struct scalar *s)
{
	s->var = tnum_unknown();
	s->smin = INT64_MIN;
	s->smax = INT64_MAX;
	s->umin = 0;
	s->umax = UINT64_MAX;
	s->s32min = S32_MIN_;
	s->s32max = S32_MAX_;
	s->u32min = 0;
	s->u32max = (uint32_t)U32_MAX;
}

void scalar_const(struct scalar *s, uint64_t c)
{
	s->var = tnum_const(c);
	s->smin = s->smax = (int64_t)c;
	s->umin = s->umax = c;
	s->s32min = s->s32max = (int32_t)(uint32_t)c;
	s->u32min = s->u32max = (uint32_t)c;
}

bool scalar_is_const(const struct scalar *s)
{
	return tnum_is_const(s->var);
}

bool scalar_contains(const struct scalar *s, uint64_t x)
{
	return tnum_contains(s->var, x) && x >= s->umin && x <= s->umax &&
	       (int64_t)x >= s->smin && (int64_t)x <= s->smax &&
	       (uint32_t)x >= s->u32min && (uint32_t)x <= s->u32max &&
	       (int32_t)(uint32_t)x >= s->s32min &&
	       (int32_t)(uint32_t)x <= s->s32max;
}

bool scalar_subsumes(const struct scalar *a, const struct scalar *b)
{
	return a->umin <= b->umin && a->umax >= b->umax && a->smin <= b->smin &&
	       a->smax >= b->smax && a->u32min <= b->u32min &&
	       a->u32max >= b->u32max && a->s32min <= b->s32min &&
	       a->s32max >= b->s32max && tnum_in(a->var, b->var);
}

static bool scalar_ordered(const struct scalar *s)
{
	return s->umin <= s->umax && s->smin <= s->smax &&
	       s->u32min <= s->u32max && s->s32min <= s->s32max &&
	       !(s->var.value & s->var.mask);
}

/* One round of tightening: known bits -> bounds, signed <-> unsigned,
 * 64 <-> 32, bounds -> known bits. Each step intersects with a superset
 * of the concrete set, so it never drops a value. */
static bool sync_once(struct scalar *s)
{
	uint64_t v = s->var.value, m = s->var.mask;
	uint32_t v32 = (uint32_t)v, m32 = (uint32_t)m;
	bool ok = true;
	struct tnum t;

	/* known bits -> bounds */
	s->umin = umax_(s->umin, v);
	s->umax = umin_(s->umax, v | m);
	s->smin = smax_(s->smin, (int64_t)(v | (m & (1ull << 63))));
	s->smax = smin_(s->smax, (int64_t)(v | (m & ~(1ull << 63))));
	s->u32min = (uint32_t)umax_(s->u32min, v32);
	s->u32max = (uint32_t)umin_(s->u32max, v32 | m32);
	s->s32min =
	    (int32_t)smax_(s->s32min, (int32_t)(v32 | (m32 & 0x80000000u)));
	s->s32max =
	    (int32_t)smin_(s->s32max, (int32_t)(v32 | (m32 & 0x7fffffffu)));

	/* 64-bit range with one upper half: the low halves are ordered */
	if ((s->umin >> 32) == (s->umax >> 32)) {
		uint32_t lo = (uint32_t)s->umin, hi = (uint32_t)s->umax;
		s->u32min = (uint32_t)umax_(s->u32min, lo);
		s->u32max = (uint32_t)umin_(s->u32max, hi);
		if ((int32_t)lo <= (int32_t)hi) {
			s->s32min = (int32_t)smax_(s->s32min, (int32_t)lo);
			s->s32max = (int32_t)smin_(s->s32max, (int32_t)hi);
		}
	}
	if ((s->smin >> 32) == (s->smax >> 32)) {
		uint32_t lo = (uint32_t)s->smin, hi = (uint32_t)s->smax;
		if (lo <= hi) {
			s->u32min = (uint32_t)umax_(s->u32min, lo);
			s->u32max = (uint32_t)umin_(s->u32max, hi);
		}
		if ((int32_t)lo <= (int32_t)hi) {
			s->s32min = (int32_t)smax_(s->s32min, (int32_t)lo);
			s->s32max = (int32_t)smin_(s->s32max, (int32_t)hi);
		}
	}
	/* 32-bit signed <-> unsigned */
	if ((int32_t)s->u32min <= (int32_t)s->u32max) {
		s->s32min = (int32_t)smax_(s->s32min, (int32_t)s->u32min);
		s->s32max = (int32_t)smin_(s->s32max, (int32_t)s->u32max);
	}
	if ((uint32_t)s->s32min <= (uint32_t)s->s32max) {
		s->u32min = (uint32_t)umax_(s->u32min, (uint32_t)s->s32min);
		s->u32max = (uint32_t)umin_(s->u32max, (uint32_t)s->s32max);
	}
	/* 32 -> 64: the low half of any value lies in the 32-bit bounds */
	s->umin = umax_(s->umin, (s->umin & HI32) | s->u32min);
	s->umax = umin_(s->umax, (s->umax & HI32) | s->u32max);
	s->smin =
	    smax_(s->smin, (int64_t)(((uint64_t)s->smin & HI32) | s->u32min));
	s->smax =
	    smin_(s->smax, (int64_t)(((uint64_t)s->smax & HI32) | s->u32max));
	if (s->smin >= S32_MIN_ && s->smax <= S32_MAX_) {
		/* the value is its sign-extended low half */
		s->smin = smax_(s->smin, s->s32min);
		s->smax = smin_(s->smax, s->s32max);
	}
	/* 64-bit signed <-> unsigned */
	if ((int64_t)s->umin <= (int64_t)s->umax) {
		s->smin = smax_(s->smin, (int64_t)s->umin);
		s->smax = smin_(s->smax, (int64_t)s->umax);
	}
	if ((uint64_t)s->smin <= (uint64_t)s->smax) {
		s->umin = umax_(s->umin, (uint64_t)s->smin);
		s->umax = umin_(s->umax, (uint64_t)s->smax);
	}
	if (!scalar_ordered(s))
		return false;
	/* bounds -> known bits */
	s->var = tnum_intersect(s->var, tnum_range(s->umin, s->umax), &ok);
	t = tnum_intersect(tnum_subreg(s->var),
			   tnum_range(s->u32min, s->u32max), &ok);
	s->var = tnum_with_subreg(s->var, t);
	return ok && scalar_ordered(s);
}

bool scalar_sync(struct scalar *s)
{
	for (int i = 0; i < 3; i++)
		if (!sync_once(s))
			return false;
	/* Any value left? A bound may be tight on a value the known bits
	 * exclude; the bounds and bits then still describe a superset. */
	return scalar_ordered(s);
}

/* A 32-bit result: the upper half is zero. */
static void from_sub32(struct scalar *s, struct tnum t, uint64_t umin,
		       uint64_t umax, int64_t smin, int64_t smax)
{
	scalar_unknown(s);
	s->var = tnum_subreg(t);
	s->u32min = (uint32_t)umin;
	s->u32max = (uint32_t)umax;
	s->s32min = (int32_t)smin;
	s->s32max = (int32_t)smax;
	s->umin = 0;
	s->umax = U32_MAX;
	s->smin = 0;
	s->smax = (int64_t)U32_MAX;
	if (!scalar_sync(s)) {
		/* cannot happen for sound inputs; widen */
		scalar_unknown(s);
		scalar_zext(s, 4);
	}
}

void scalar_zext(struct scalar *s, int bytes)
{
	uint64_t lim = bytes >= 8 ? UINT64_MAX : (1ull << (bytes * 8)) - 1;
	struct scalar r;

	if (bytes >= 8)
		return;
	if (s->umax <= lim)
		return; /* already fits: unchanged */
	scalar_unknown(&r);
	r.var = tnum_cast(s->var, bytes);
	r.umax = lim;
	r.smin = 0;
	r.smax = (int64_t)lim;
	if (bytes == 4) {
		r.u32min = s->u32min;
		r.u32max = s->u32max;
		r.s32min = s->s32min;
		r.s32max = s->s32max;
	}
	if (!scalar_sync(&r)) {
		scalar_unknown(&r);
		r.var = tnum_cast(r.var, bytes);
		scalar_sync(&r);
	}
	*s = r;
}

void scalar_sext(struct scalar *s, int bytes)
{
	int bits = bytes * 8;
	int64_t lo, hi;
	struct scalar r;

	if (bytes >= 8)
		return;
	lo = -(1ll << (bits - 1));
	hi = (1ll << (bits - 1)) - 1;
	if (s->smin >= lo && s->smax <= hi)
		return; /* the value is its own sign extension */
	scalar_unknown(&r);
	r.var = tnum_sext(s->var, bits);
	r.smin = lo;
	r.smax = hi;
	if (!scalar_sync(&r)) {
		scalar_unknown(&r);
		r.smin = lo;
		r.smax = hi;
		scalar_sync(&r);
	}
	*s = r;
}

static unsigned width_mask(bool is64)
{
	return is64 ? 63 : 31;
}

uint64_t scalar_eval(uint8_t op, bool is64, int16_t off, int32_t imm,
		     bool to_be, uint64_t a, uint64_t b)
{
	unsigned sh = (unsigned)b & width_mask(is64);

	if (op == EBPF_END) {
		if (!to_be && !is64) /* to little endian: truncate */
			return imm == 64 ? a : a & ((1ull << imm) - 1);
		if (imm == 16)
			return __builtin_bswap16((uint16_t)a);
		if (imm == 32)
			return __builtin_bswap32((uint32_t)a);
		return __builtin_bswap64(a);
	}
	if (op == EBPF_MOV && off) {
		uint64_t r = off == 8	 ? (uint64_t)(int64_t)(int8_t)b
			     : off == 16 ? (uint64_t)(int64_t)(int16_t)b
					 : (uint64_t)(int64_t)(int32_t)b;
		return is64 ? r : (uint32_t)r;
	}
	if (!is64) {
		a = (uint32_t)a;
		b = (uint32_t)b;
	}
	if ((op == EBPF_DIV || op == EBPF_MOD) && off == 1) {
		int64_t sa = is64 ? (int64_t)a : (int32_t)a;
		int64_t sb = is64 ? (int64_t)b : (int32_t)b;
		int64_t r;
		if (op == EBPF_DIV)
			r = sb == 0	 ? 0
			    : (sb == -1) ? (int64_t)(0 - (uint64_t)sa)
					 : sa / sb;
		else
			r = sb == 0 ? sa : sb == -1 ? 0 : sa % sb;
		return is64 ? (uint64_t)r : (uint32_t)r;
	}
	switch (op) {
	case EBPF_ADD:
		a = a + b;
		break;
	case EBPF_SUB:
		a = a - b;
		break;
	case EBPF_MUL:
		a = a * b;
		break;
	case EBPF_DIV:
		a = b ? a / b : 0;
		break;
	case EBPF_MOD:
		a = b ? a % b : a;
		break;
	case EBPF_OR:
		a = a | b;
		break;
	case EBPF_AND:
		a = a & b;
		break;
	case EBPF_XOR:
		a = a ^ b;
		break;
	case EBPF_LSH:
		a = a << sh;
		break;
	case EBPF_RSH:
		a = a >> sh;
		break;
	case EBPF_ARSH:
		a = is64 ? (uint64_t)((int64_t)a >> sh)
			 : (uint32_t)((int32_t)(uint32_t)a >> sh);
		break;
	case EBPF_NEG:
		a = 0 - a;
		break;
	case EBPF_MOV:
		a = b;
		break;
	}
	return is64 ? a : (uint32_t)a;
}

/* Bounds of one width: 64-bit, or 32-bit values held zero-/sign-extended. */
struct bnd {
	uint64_t umin, umax;
	int64_t smin, smax;
};

static struct bnd bnd_full(int w)
{
	if (w == 64)
		return (struct bnd){0, UINT64_MAX, INT64_MIN, INT64_MAX};
	return (struct bnd){0, U32_MAX, S32_MIN_, S32_MAX_};
}

static struct bnd bnd_of(const struct scalar *s, int w)
{
	if (w == 64)
		return (struct bnd){s->umin, s->umax, s->smin, s->smax};
	return (struct bnd){s->u32min, s->u32max, s->s32min, s->s32max};
}

static bool fits_s(__int128 x, int w)
{
	return w == 64 ? x >= INT64_MIN && x <= INT64_MAX
		       : x >= S32_MIN_ && x <= S32_MAX_;
}

static bool fits_u(unsigned __int128 x, int w)
{
	return w == 64 ? x <= UINT64_MAX : x <= U32_MAX;
}

/* Sign-extends a w-bit result held in 64 bits. */
static int64_t sx(int64_t x, int w)
{
	return w == 64 ? x : (int32_t)(uint32_t)x;
}

/* Bounds of `a op b` at width w; `shift` >= 0 is a constant shift amount
 * (already reduced modulo w). Anything not handled is the full range;
 * scalar_sync then narrows it with the known bits. */
static struct bnd bnd_op(uint8_t op, int16_t off, struct bnd a, struct bnd b,
			 int w)
{
	struct bnd r = bnd_full(w);
	unsigned __int128 u;
	__int128 s1, s2;

	switch (op) {
	case EBPF_ADD:
		u = (unsigned __int128)a.umax + b.umax;
		if (fits_u(u, w)) {
			r.umin = a.umin + b.umin;
			r.umax = (uint64_t)u;
		}
		s1 = (__int128)a.smin + b.smin;
		s2 = (__int128)a.smax + b.smax;
		if (fits_s(s1, w) && fits_s(s2, w)) {
			r.smin = (int64_t)s1;
			r.smax = (int64_t)s2;
		}
		break;
	case EBPF_SUB:
		if (a.umin >= b.umax) {
			r.umin = a.umin - b.umax;
			r.umax = a.umax - b.umin;
		}
		s1 = (__int128)a.smin - b.smax;
		s2 = (__int128)a.smax - b.smin;
		if (fits_s(s1, w) && fits_s(s2, w)) {
			r.smin = (int64_t)s1;
			r.smax = (int64_t)s2;
		}
		break;
	case EBPF_MUL: {
		__int128 c[4];
		u = (unsigned __int128)a.umax * b.umax;
		if (fits_u(u, w)) {
			r.umin = a.umin * b.umin;
			r.umax = (uint64_t)u;
		}
		c[0] = (__int128)a.smin * b.smin;
		c[1] = (__int128)a.smin * b.smax;
		c[2] = (__int128)a.smax * b.smin;
		c[3] = (__int128)a.smax * b.smax;
		s1 = s2 = c[0];
		for (int i = 1; i < 4; i++) {
			s1 = c[i] < s1 ? c[i] : s1;
			s2 = c[i] > s2 ? c[i] : s2;
		}
		if (fits_s(s1, w) && fits_s(s2, w)) {
			r.smin = (int64_t)s1;
			r.smax = (int64_t)s2;
		}
		break;
	}
	case EBPF_DIV:
		if (off == 1) { /* |a / b| <= |a|; a / 0 = 0 */
			int64_t lim = w == 64 ? INT64_MIN : S32_MIN_;
			if (a.smin > lim) {
				int64_t m = smax_(-a.smin, a.smax);
				m = smax_(m, 0);
				r.smin = -m;
				r.smax = m;
			}
			break;
		}
		r.umin = b.umin ? a.umin / b.umax : 0;
		r.umax = b.umin ? a.umax / b.umin : a.umax;
		break;
	case EBPF_MOD:
		if (off == 1) { /* the sign of a, |a % b| <= |a| */
			r.smin = smin_(a.smin, 0);
			r.smax = smax_(a.smax, 0);
			break;
		}
		r.umin = 0;
		r.umax = b.umin ? umin_(a.umax, b.umax - 1) : a.umax;
		break;
	case EBPF_AND:
		r.umax = umin_(a.umax, b.umax);
		if (a.smin >= 0 && b.smin >= 0) {
			r.smin = 0;
			r.smax = smin_(a.smax, b.smax);
		}
		break;
	case EBPF_OR:
		r.umin = umax_(a.umin, b.umin);
		if (a.smin < 0 && b.smin >= 0 && a.smax < 0)
			r.smax = -1; /* a negative value keeps its sign bit */
		break;
	case EBPF_LSH:
		if (b.umax < (uint64_t)w) {
			u = (unsigned __int128)a.umax << b.umax;
			if (fits_u(u, w)) {
				r.umin = a.umin << b.umin;
				r.umax = (uint64_t)u;
			}
		}
		break;
	case EBPF_RSH:
		if (b.umax < (uint64_t)w) {
			r.umin = a.umin >> b.umax;
			r.umax = a.umax >> b.umin;
		} else {
			r.umin = 0;
			r.umax = a.umax;
		}
		break;
	case EBPF_ARSH: {
		uint64_t kmin = b.umin, kmax = b.umax;
		if (kmax >= (uint64_t)w) {
			kmin = 0;
			kmax = (uint64_t)w - 1;
		}
		r.smin = a.smin < 0 ? a.smin >> kmin : a.smin >> kmax;
		r.smax = a.smax < 0 ? a.smax >> kmax : a.smax >> kmin;
		break;
	}
	case EBPF_NEG: {
		int64_t lim = w == 64 ? INT64_MIN : S32_MIN_;
		if (a.smin > lim) {
			r.smin = -a.smax;
			r.smax = -a.smin;
		}
		if (a.umax == 0) {
			r.umin = r.umax = 0;
		} else if (a.umin > 0) {
			uint64_t top = w == 64 ? 0 : U32_MAX + 1;
			r.umin = top - a.umax;
			r.umax = top - a.umin;
			if (w == 32) {
				r.umin &= U32_MAX;
				r.umax &= U32_MAX;
			}
		}
		break;
	}
	case EBPF_MOV:
		r = b;
		break;
	default:
		break;
	}
	return r;
}

static struct tnum tnum_op(uint8_t op, int16_t off, struct tnum a,
			   struct tnum b, struct bnd bb, int w)
{
	unsigned sh;

	switch (op) {
	case EBPF_ADD:
		return tnum_add(a, b);
	case EBPF_SUB:
		return tnum_sub(a, b);
	case EBPF_MUL:
		return tnum_mul(a, b);
	case EBPF_AND:
		return tnum_and(a, b);
	case EBPF_OR:
		return tnum_or(a, b);
	case EBPF_XOR:
		return tnum_xor(a, b);
	case EBPF_NEG:
		return tnum_neg(a);
	case EBPF_MOV:
		return b;
	case EBPF_LSH:
	case EBPF_RSH:
	case EBPF_ARSH:
		if (!tnum_is_const(b)) {
			/* right shifts of a value with a known-zero top */
			return tnum_unknown();
		}
		sh = (unsigned)b.value & (unsigned)(w - 1);
		if (op == EBPF_LSH)
			return tnum_lshift(a, sh);
		if (op == EBPF_RSH)
			return tnum_rshift(w == 32 ? tnum_subreg(a) : a, sh);
		return tnum_arshift(a, sh, w);
	default:
		(void)off;
		(void)bb;
		return tnum_unknown();
	}
}

void scalar_alu(struct scalar *dst, const struct scalar *src, uint8_t op,
		bool is64, int16_t off, int32_t imm, bool to_be)
{
	struct scalar r, b = *src;
	int w = is64 ? 64 : 32;
	struct bnd ab, bb;
	struct tnum t;

	if (op == EBPF_END) {
		int bits = imm;
		r = *dst;
		if (!to_be && !is64) {
			scalar_zext(&r, bits / 8);
		} else {
			scalar_unknown(&r);
			r.var = tnum_bswap(dst->var, bits);
			if (!scalar_sync(&r))
				scalar_unknown(&r);
		}
		*dst = r;
		return;
	}
	if (op == EBPF_MOV) {
		r = b;
		if (off)
			scalar_sext(&r, off / 8);
		if (!is64)
			scalar_zext(&r, 4);
		*dst = r;
		return;
	}
	if (scalar_is_const(dst) && scalar_is_const(&b)) {
		scalar_const(dst, scalar_eval(op, is64, off, imm, to_be,
					      dst->var.value, b.var.value));
		return;
	}
	/* Shift amounts are taken modulo the width. */
	if (op == EBPF_LSH || op == EBPF_RSH || op == EBPF_ARSH) {
		if (scalar_is_const(&b))
			scalar_const(&b, b.var.value & (uint64_t)(w - 1));
		else if (b.umax >= (uint64_t)w || (!is64 && b.u32max >= 32)) {
			scalar_unknown(&b);
			b.umax = (uint64_t)w - 1;
			scalar_sync(&b);
		}
	}
	if (is64) {
		ab = bnd_of(dst, 64);
		bb = bnd_of(&b, 64);
		scalar_unknown(&r);
		struct bnd o = bnd_op(op, off, ab, bb, 64);
		r.umin = o.umin;
		r.umax = o.umax;
		r.smin = o.smin;
		r.smax = o.smax;
		r.var = off ? tnum_unknown()
			    : tnum_op(op, off, dst->var, b.var, bb, 64);
		/* The low half of these depends on the low halves only. */
		if (off == 0 &&
		    (op == EBPF_ADD || op == EBPF_SUB || op == EBPF_MUL ||
		     op == EBPF_AND || op == EBPF_OR || op == EBPF_XOR ||
		     op == EBPF_NEG)) {
			struct bnd o32 =
			    bnd_op(op, 0, bnd_of(dst, 32), bnd_of(&b, 32), 32);
			r.u32min = (uint32_t)o32.umin;
			r.u32max = (uint32_t)o32.umax;
			r.s32min = (int32_t)o32.smin;
			r.s32max = (int32_t)o32.smax;
		}
		if (!scalar_sync(&r)) {
			scalar_unknown(&r);
		}
		*dst = r;
		return;
	}
	ab = bnd_of(dst, 32);
	bb = bnd_of(&b, 32);
	{
		struct bnd o = bnd_op(op, off, ab, bb, 32);
		t = off ? tnum_unknown()
			: tnum_op(op, off, tnum_subreg(dst->var),
				  tnum_subreg(b.var), bb, 32);
		from_sub32(&r, t, o.umin, o.umax, sx(o.smin, 32),
			   sx(o.smax, 32));
	}
	*dst = r;
}

/* ---- branch refinement ------------------------------------------------------
 */

#define JSET_NOT (EBPF_JSET | 1) /* "a & b == 0" */

uint8_t scalar_cond_negate(uint8_t op)
{
	switch (op) {
	case EBPF_JEQ:
		return EBPF_JNE;
	case EBPF_JNE:
		return EBPF_JEQ;
	case EBPF_JGT:
		return EBPF_JLE;
	case EBPF_JLE:
		return EBPF_JGT;
	case EBPF_JGE:
		return EBPF_JLT;
	case EBPF_JLT:
		return EBPF_JGE;
	case EBPF_JSGT:
		return EBPF_JSLE;
	case EBPF_JSLE:
		return EBPF_JSGT;
	case EBPF_JSGE:
		return EBPF_JSLT;
	case EBPF_JSLT:
		return EBPF_JSGE;
	case EBPF_JSET:
		return JSET_NOT;
	default:
		return EBPF_JSET;
	}
}

bool scalar_cond_eval(uint8_t op, bool is64, uint64_t a, uint64_t b)
{
	int64_t sa = is64 ? (int64_t)a : (int32_t)(uint32_t)a;
	int64_t sb = is64 ? (int64_t)b : (int32_t)(uint32_t)b;

	if (!is64) {
		a = (uint32_t)a;
		b = (uint32_t)b;
	}
	switch (op) {
	case EBPF_JEQ:
		return a == b;
	case EBPF_JNE:
		return a != b;
	case EBPF_JGT:
		return a > b;
	case EBPF_JGE:
		return a >= b;
	case EBPF_JLT:
		return a < b;
	case EBPF_JLE:
		return a <= b;
	case EBPF_JSGT:
		return sa > sb;
	case EBPF_JSGE:
		return sa >= sb;
	case EBPF_JSLT:
		return sa < sb;
	case EBPF_JSLE:
		return sa <= sb;
	case EBPF_JSET:
		return (a & b) != 0;
	default:
		return (a & b) == 0;
	}
}

static bool bnd_ordered(const struct bnd *a)
{
	return a->umin <= a->umax && a->smin <= a->smax;
}

/* Bounds of a and b given `a op b` at width w (not JSET). */
static bool cond_bnd(struct bnd *a, struct bnd *b, uint8_t op, int w)
{
	uint64_t um = w == 64 ? UINT64_MAX : U32_MAX;
	int64_t sm = w == 64 ? INT64_MIN : S32_MIN_;
	int64_t sM = w == 64 ? INT64_MAX : S32_MAX_;

	switch (op) {
	case EBPF_JEQ:
		a->umin = b->umin = umax_(a->umin, b->umin);
		a->umax = b->umax = umin_(a->umax, b->umax);
		a->smin = b->smin = smax_(a->smin, b->smin);
		a->smax = b->smax = smin_(a->smax, b->smax);
		break;
	case EBPF_JNE:
		if (a->umin == a->umax && b->umin == b->umax &&
		    a->umin == b->umin)
			return false;
		for (int k = 0; k < 2; k++) {
			struct bnd *x = k ? b : a, *c = k ? a : b;
			if (c->umin == c->umax) {
				if (x->umin == c->umin && x->umin < um)
					x->umin++;
				else if (x->umax == c->umin && x->umax > 0)
					x->umax--;
			}
			if (c->smin == c->smax) {
				if (x->smin == c->smin && x->smin < sM)
					x->smin++;
				else if (x->smax == c->smin && x->smax > sm)
					x->smax--;
			}
		}
		break;
	case EBPF_JGT:
		if (b->umin == um || a->umax == 0)
			return false;
		a->umin = umax_(a->umin, b->umin + 1);
		b->umax = umin_(b->umax, a->umax - 1);
		break;
	case EBPF_JGE:
		a->umin = umax_(a->umin, b->umin);
		b->umax = umin_(b->umax, a->umax);
		break;
	case EBPF_JLT:
		return cond_bnd(b, a, EBPF_JGT, w);
	case EBPF_JLE:
		return cond_bnd(b, a, EBPF_JGE, w);
	case EBPF_JSGT:
		if (b->smin == sM || a->smax == sm)
			return false;
		a->smin = smax_(a->smin, b->smin + 1);
		b->smax = smin_(b->smax, a->smax - 1);
		break;
	case EBPF_JSGE:
		a->smin = smax_(a->smin, b->smin);
		b->smax = smin_(b->smax, a->smax);
		break;
	case EBPF_JSLT:
		return cond_bnd(b, a, EBPF_JSGT, w);
	case EBPF_JSLE:
		return cond_bnd(b, a, EBPF_JSGE, w);
	}
	return bnd_ordered(a) && bnd_ordered(b);
}

static void bnd_store(struct scalar *s, const struct bnd *b, int w)
{
	if (w == 64) {
		s->umin = b->umin;
		s->umax = b->umax;
		s->smin = b->smin;
		s->smax = b->smax;
	} else {
		s->u32min = (uint32_t)b->umin;
		s->u32max = (uint32_t)b->umax;
		s->s32min = (int32_t)b->smin;
		s->s32max = (int32_t)b->smax;
	}
}

/* JSET / not JSET on known bits: x against y. */
static bool cond_jset(struct scalar *x, const struct scalar *y, bool set,
		      uint64_t width)
{
	uint64_t xv = x->var.value & width, xm = x->var.mask & width;
	uint64_t yv = y->var.value & width, ym = y->var.mask & width;

	if (set) {
		if (!((xv | xm) & (yv | ym)))
			return false; /* no bit can be in both */
		if (!ym && yv && !(yv & (yv - 1)) && !(xv & yv)) {
			/* one bit tested: it is set */
			x->var.value |= yv;
			x->var.mask &= ~yv;
		}
		return true;
	}
	if (xv & yv)
		return false; /* a bit known set in both */
	if (!ym)	      /* bits of the constant are clear in x */
		x->var.mask &= ~yv;
	return true;
}

bool scalar_cond(struct scalar *a, struct scalar *b, uint8_t op, bool is64)
{
	int w = is64 ? 64 : 32;

	if (op == EBPF_JSET || op == JSET_NOT) {
		uint64_t width = is64 ? UINT64_MAX : U32_MAX;
		if (!cond_jset(a, b, op == EBPF_JSET, width) ||
		    !cond_jset(b, a, op == EBPF_JSET, width))
			return false;
	} else {
		struct bnd ab = bnd_of(a, w), bb = bnd_of(b, w);
		if (!cond_bnd(&ab, &bb, op, w))
			return false;
		bnd_store(a, &ab, w);
		bnd_store(b, &bb, w);
		if (op == EBPF_JEQ) {
			bool ok = true;
			if (is64) {
				a->var = b->var =
				    tnum_intersect(a->var, b->var, &ok);
			} else {
				struct tnum t =
				    tnum_intersect(tnum_subreg(a->var),
						   tnum_subreg(b->var), &ok);
				a->var = tnum_with_subreg(a->var, t);
				b->var = tnum_with_subreg(b->var, t);
			}
			if (!ok)
				return false;
		}
	}
	return scalar_sync(a) && scalar_sync(b);
}

/* ---- verifier state ---------------------------------------------------------
 */

enum rtype {
	T_NOINIT,
	T_SCALAR,
	T_CTX,
	T_PKT,
	T_PKT_META,
	T_PKT_END,
	T_STACK,
	T_MAP,
	T_MAPVAL,
	T_MAPVAL_NULL,
};

static const char *const type_names[] = {
    "uninitialised", "scalar", "ctx",	  "pkt",       "pkt_meta",
    "pkt_end",	     "stack",  "map_ptr", "map_value", "map_value_or_null",
};

struct reg {
	uint8_t type;
	uint8_t map; /* T_MAP, T_MAPVAL, T_MAPVAL_NULL: index in maps */
	uint16_t pad;
	uint32_t id;	 /* T_PKT*: variable-offset group; _NULL: null id */
	int32_t off;	 /* pointers: constant offset */
	uint32_t range;	 /* T_PKT*: bytes [0, range) from the group's base
			    are inside the packet */
	struct scalar s; /* the scalar, or a pointer's variable offset */
};

enum { S_INVALID, S_MISC, S_SPILL }; /* per stack byte */
#define NSLOTS (EBPF_STACK_SIZE / 8)

struct vstate {
	struct reg r[11];
	struct reg spill[NSLOTS];
	uint8_t stype[EBPF_STACK_SIZE]; /* byte b: r10 - 512 + b */
	uint32_t id_gen;
};

struct pending {
	uint32_t pc;
	int32_t parent;
	struct vstate st;
};

/* An explored state kept for pruning. `branches` counts the paths and
 * kept states below it still being explored: 0 means every path from it
 * ended (safely), so an equal or narrower state can stop there. */
struct seen {
	int32_t next; /* next kept state at the same pc, -1 ends */
	int32_t parent;
	uint32_t branches;
	uint32_t hits, misses; /* prunes it made, comparisons it failed */
	struct vstate st;
};

enum { AUX_NONE, AUX_CTX, AUX_OTHER };

struct verifier {
	const struct ebpf_prog *p;
	const struct ebpf_insn *in;
	uint32_t n;
	char *err;
	size_t errlen;
	uint8_t *flags;
	uint8_t *aux;
	int32_t *seen_head;
	uint16_t *seen_count;
	struct seen **seen;
	uint32_t nseen;
	struct pending *pend;
	uint32_t npend, pend_cap;
	int32_t parent; /* kept state the current path descends from */
	uint32_t insns_processed;
	bool xdp_ret; /* r0 at exit must be an XDP action, [0, 4] */
	struct vstate scratch;
};

#define F_JUMP_TARGET 1
#define F_IMM64_HI    2
#define F_VISITED     4
#define F_ON_STACK    8

static bool is_ptr(const struct reg *r)
{
	return r->type != T_NOINIT && r->type != T_SCALAR;
}

static bool is_pkt(const struct reg *r)
{
	return r->type == T_PKT || r->type == T_PKT_META;
}

static bool reg_is_const(const struct reg *r, uint64_t c)
{
	return r->type == T_SCALAR && scalar_is_const(&r->s) &&
	       r->s.var.value == c;
}

static void mark_scalar(struct reg *r, const struct scalar *s)
{
	memset(r, 0, sizeof(*r));
	r->type = T_SCALAR;
	r->s = *s;
}

static void mark_unknown(struct reg *r)
{
	struct scalar s;

	scalar_unknown(&s);
	mark_scalar(r, &s);
}

static void mark_const(struct reg *r, uint64_t c)
{
	struct scalar s;

	scalar_const(&s, c);
	mark_scalar(r, &s);
}

static void mark_ptr(struct reg *r, uint8_t type)
{
	memset(r, 0, sizeof(*r));
	r->type = type;
	scalar_const(&r->s, 0);
}

static void mark_noinit(struct reg *r)
{
	memset(r, 0, sizeof(*r));
}

/* ---- messages
 * ----------------------------------------------------------------- */

static int reg_str(char *b, size_t n, int regno, const struct reg *r)
{
	const struct scalar *s = &r->s;

	if (r->type == T_SCALAR && scalar_is_const(s))
		return snprintf(b, n, "r%d=%lld", regno,
				(long long)s->var.value);
	if (r->type == T_SCALAR)
		return snprintf(b, n,
				"r%d type=scalar smin=%lld smax=%lld umin=%llu "
				"umax=%llu var_off=(%#llx; %#llx)",
				regno, (long long)s->smin, (long long)s->smax,
				(unsigned long long)s->umin,
				(unsigned long long)s->umax,
				(unsigned long long)s->var.value,
				(unsigned long long)s->var.mask);
	if (r->type == T_NOINIT)
		return snprintf(b, n, "r%d uninitialised", regno);
	if (scalar_is_const(s))
		return snprintf(b, n, "r%d type=%s off=%d%s", regno,
				type_names[r->type], r->off + (int)s->var.value,
				is_pkt(r) ? (r->range ? " checked" : "") : "");
	return snprintf(
	    b, n, "r%d type=%s off=%d var umin=%llu umax=%llu range=%u", regno,
	    type_names[r->type], r->off, (unsigned long long)s->umin,
	    (unsigned long long)s->umax, r->range);
}

static int vfail(struct verifier *v, uint32_t insn, const struct vstate *st,
		 unsigned regmask, const char *fmt, va_list ap)
{
	size_t k;
	int w;

	if (!v->err || !v->errlen)
		return -EINVAL;
	w = snprintf(v->err, v->errlen, "insn %u: ", insn);
	if (w < 0 || (size_t)w >= v->errlen)
		return -EINVAL;
	k = (size_t)w;
	w = vsnprintf(v->err + k, v->errlen - k, fmt, ap);
	if (w < 0)
		return -EINVAL;
	k += (size_t)w;
	for (int i = 0; st && i < 11 && k + 4 < v->errlen; i++) {
		if (!(regmask & (1u << i)))
			continue;
		w = snprintf(v->err + k, v->errlen - k, " (");
		k += (size_t)w;
		if (k >= v->errlen)
			break;
		w = reg_str(v->err + k, v->errlen - k, i, &st->r[i]);
		if (w < 0)
			break;
		k += (size_t)w;
		if (k + 1 >= v->errlen)
			break;
		v->err[k++] = ')';
		v->err[k] = 0;
	}
	return -EINVAL;
}

static int fail(struct verifier *v, uint32_t insn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct verifier *v, uint32_t insn, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(v, insn, NULL, 0, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A refusal that shows the registers in regmask. */
static int failr(struct verifier *v, uint32_t insn, const struct vstate *st,
		 unsigned regmask, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int failr(struct verifier *v, uint32_t insn, const struct vstate *st,
		 unsigned regmask, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(v, insn, st, regmask, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

#define RM(r) (1u << (r))

/* ---- pass 1: opcodes and the control-flow graph
 * ------------------------------- */

static bool is_imm64(const struct ebpf_insn *i)
{
	return i->code == (EBPF_LD | EBPF_DW | EBPF_IMM);
}

static int reserved(struct verifier *v, uint32_t i, const char *field)
{
	return fail(v, i, "reserved field %s not zero (opcode 0x%02x)", field,
		    v->in[i].code);
}

/* A known opcode (RFC 9669, CPU v1-v4) with its unused fields zero and
 * registers in range; 0 or an error. */
static int check_opcode(struct verifier *v, uint32_t i)
{
	const struct ebpf_insn *in = &v->in[i];
	uint8_t c = in->code, cls = EBPF_CLASS(c), op = EBPF_OP(c);
	bool x = EBPF_SRC(c) == EBPF_X;

	if (in->dst > 10 || in->src > 10)
		return fail(v, i, "invalid register r%u",
			    in->dst > 10 ? in->dst : in->src);
	switch (cls) {
	case EBPF_ALU:
	case EBPF_ALU64:
		if (op > EBPF_END)
			return fail(v, i, "unknown opcode 0x%02x", c);
		if (op == EBPF_END) {
			if (cls == EBPF_ALU64 && x)
				return fail(v, i, "unknown opcode 0x%02x", c);
			if (in->imm != 16 && in->imm != 32 && in->imm != 64)
				return fail(v, i, "invalid byte swap width %d",
					    in->imm);
			if (in->src)
				return reserved(v, i, "src");
			if (in->off)
				return reserved(v, i, "off");
			return 0;
		}
		if (op == EBPF_NEG) {
			if (x)
				return fail(v, i, "unknown opcode 0x%02x", c);
			if (in->src)
				return reserved(v, i, "src");
			if (in->imm)
				return reserved(v, i, "imm");
			if (in->off)
				return reserved(v, i, "off");
			return 0;
		}
		if (op == EBPF_DIV || op == EBPF_MOD) {
			if (in->off != 0 && in->off != 1)
				return fail(v, i,
					    "invalid ALU variant (off=%d)",
					    in->off);
		} else if (op == EBPF_MOV) {
			bool sx_ok = in->off == 8 || in->off == 16 ||
				     (cls == EBPF_ALU64 && in->off == 32);
			if (in->off != 0 && (!sx_ok || !x))
				return fail(v, i,
					    "invalid ALU variant (off=%d)",
					    in->off);
		} else if (in->off) {
			return fail(v, i, "invalid ALU variant (off=%d)",
				    in->off);
		}
		if (x && in->imm)
			return reserved(v, i, "imm");
		if (!x && in->src)
			return reserved(v, i, "src");
		return 0;
	case EBPF_JMP:
	case EBPF_JMP32:
		if (op > EBPF_JSLE)
			return fail(v, i, "unknown opcode 0x%02x", c);
		if (op == EBPF_CALL) {
			if (cls != EBPF_JMP || x)
				return fail(v, i, "unknown opcode 0x%02x", c);
			if (in->src == 1)
				return fail(v, i,
					    "bpf-to-bpf calls are not "
					    "supported");
			if (in->src != 0)
				return fail(v, i,
					    "unsupported call kind (src=%u)",
					    in->src);
			if (in->dst)
				return reserved(v, i, "dst");
			if (in->off)
				return reserved(v, i, "off");
			return 0;
		}
		if (op == EBPF_EXIT) {
			if (cls != EBPF_JMP || x)
				return fail(v, i, "unknown opcode 0x%02x", c);
			if (in->dst || in->src || in->off || in->imm)
				return reserved(v, i, "dst/src/off/imm");
			return 0;
		}
		if (op == EBPF_JA) {
			if (x)
				return fail(v, i, "unknown opcode 0x%02x", c);
			if (in->dst || in->src)
				return reserved(v, i, "dst/src");
			if (cls == EBPF_JMP && in->imm)
				return reserved(v, i, "imm");
			if (cls == EBPF_JMP32 && in->off)
				return reserved(v, i, "off");
			return 0;
		}
		if (x && in->imm)
			return reserved(v, i, "imm");
		if (!x && in->src)
			return reserved(v, i, "src");
		return 0;
	case EBPF_LD:
		if (!is_imm64(in))
			return fail(v, i,
				    "unsupported instruction 0x%02x (legacy "
				    "packet loads are not supported)",
				    c);
		if (i + 1 >= v->n)
			return fail(v, i,
				    "ld_imm64 is missing its second half");
		if (v->in[i + 1].code || v->in[i + 1].dst || v->in[i + 1].src ||
		    v->in[i + 1].off)
			return fail(v, i, "invalid ld_imm64 second half");
		if (in->src != 0 && in->src != EBPF_PSEUDO_MAP_FD)
			return fail(v, i, "unsupported ld_imm64 pseudo src %u",
				    in->src);
		if (in->off)
			return reserved(v, i, "off");
		if (in->src == EBPF_PSEUDO_MAP_FD && v->in[i + 1].imm)
			return fail(v, i, "invalid ld_imm64 second half");
		return 0;
	case EBPF_LDX:
		if (EBPF_MODE(c) == EBPF_MEMSX) {
			if (EBPF_SIZE(c) == EBPF_DW)
				return fail(v, i, "unknown opcode 0x%02x", c);
		} else if (EBPF_MODE(c) != EBPF_MEM) {
			return fail(v, i, "unsupported load mode 0x%02x", c);
		}
		if (in->imm)
			return reserved(v, i, "imm");
		return 0;
	case EBPF_ST:
		if (EBPF_MODE(c) != EBPF_MEM)
			return fail(v, i, "unsupported store mode 0x%02x", c);
		if (in->src)
			return reserved(v, i, "src");
		return 0;
	case EBPF_STX:
		if (EBPF_MODE(c) == EBPF_MEM) {
			if (in->imm)
				return reserved(v, i, "imm");
			return 0;
		}
		if (EBPF_MODE(c) != EBPF_ATOMIC)
			return fail(v, i, "unsupported store mode 0x%02x", c);
		if (EBPF_SIZE(c) != EBPF_W && EBPF_SIZE(c) != EBPF_DW)
			return fail(v, i, "atomic operation on 1 or 2 bytes");
		switch (in->imm) {
		case EBPF_ADD:
		case EBPF_OR:
		case EBPF_AND:
		case EBPF_XOR:
		case EBPF_ADD | EBPF_FETCH:
		case EBPF_OR | EBPF_FETCH:
		case EBPF_AND | EBPF_FETCH:
		case EBPF_XOR | EBPF_FETCH:
		case EBPF_XCHG:
		case EBPF_CMPXCHG:
			return 0;
		default:
			return fail(v, i, "unknown atomic operation 0x%x",
				    in->imm);
		}
	}
	return fail(v, i, "unknown opcode 0x%02x", c);
}

static bool is_cond_jump(const struct ebpf_insn *in)
{
	uint8_t cls = EBPF_CLASS(in->code), op = EBPF_OP(in->code);

	return (cls == EBPF_JMP || cls == EBPF_JMP32) && op != EBPF_CALL &&
	       op != EBPF_EXIT && op != EBPF_JA;
}

static bool is_ja(const struct ebpf_insn *in)
{
	return (in->code == (EBPF_JMP | EBPF_JA)) ||
	       (in->code == (EBPF_JMP32 | EBPF_JA));
}

static int64_t jump_target(uint32_t i, const struct ebpf_insn *in)
{
	if (in->code == (EBPF_JMP32 | EBPF_JA)) /* gotol */
		return (int64_t)i + 1 + in->imm;
	return (int64_t)i + 1 + in->off;
}

static bool is_exit(const struct ebpf_insn *in)
{
	return in->code == (EBPF_JMP | EBPF_EXIT);
}

static int successors(struct verifier *v, uint32_t i, int64_t succ[2])
{
	const struct ebpf_insn *in = &v->in[i];
	int k = 0;

	if (is_exit(in))
		return 0;
	if (is_ja(in) || is_cond_jump(in))
		succ[k++] = jump_target(i, in);
	if (!is_ja(in))
		succ[k++] = i + (is_imm64(in) ? 2 : 1);
	return k;
}

static int check_cfg(struct verifier *v)
{
	uint32_t *stack, *next_edge;
	uint32_t sp = 0;
	int rc = 0;

	for (uint32_t i = 0; i < v->n; i++) {
		const char *why;

		rc = check_opcode(v, i);
		if (rc)
			return rc;
		/* The interpreter and the JIT refuse exactly what isa.c
		 * refuses: no instruction they would trap on may pass here,
		 * reachable or not. */
		why = ebpf_insn_invalid(&v->in[i],
					i + 1 < v->n ? &v->in[i + 1] : NULL);
		if (why)
			return fail(v, i, "%s", why);
		if (is_imm64(&v->in[i]))
			v->flags[++i] |= F_IMM64_HI;
	}
	for (uint32_t i = 0; i < v->n; i++) {
		const struct ebpf_insn *in = &v->in[i];
		int64_t t;

		if (v->flags[i] & F_IMM64_HI)
			continue;
		if (!is_ja(in) && !is_cond_jump(in))
			continue;
		t = jump_target(i, in);
		if (t < 0 || t >= v->n)
			return fail(v, i, "jump out of range (to %lld)",
				    (long long)t);
		if (v->flags[t] & F_IMM64_HI)
			return fail(v, i,
				    "jump into the middle of ld_imm64 (insn "
				    "%lld)",
				    (long long)t);
		v->flags[t] |= F_JUMP_TARGET;
	}

	/* Iterative DFS for reachability and falling off the end. */
	stack = malloc(sizeof(uint32_t) * v->n);
	next_edge = calloc(v->n, sizeof(uint32_t));
	if (!stack || !next_edge) {
		free(stack);
		free(next_edge);
		return -ENOMEM;
	}
	stack[sp++] = 0;
	v->flags[0] |= F_VISITED | F_ON_STACK;
	while (sp) {
		uint32_t i = stack[sp - 1];
		int64_t succ[2];
		int ns = successors(v, i, succ);

		if (next_edge[i] >= (uint32_t)ns) {
			v->flags[i] &= ~F_ON_STACK;
			sp--;
			continue;
		}
		int64_t t = succ[next_edge[i]++];
		if (t >= v->n) {
			rc = fail(v, i, "falls off the end of the program");
			break;
		}
		if (!(v->flags[t] & F_VISITED)) {
			v->flags[t] |= F_VISITED | F_ON_STACK;
			stack[sp++] = (uint32_t)t;
		}
	}
	free(stack);
	free(next_edge);
	if (rc)
		return rc;
	for (uint32_t i = 0; i < v->n; i++)
		if (!(v->flags[i] & (F_VISITED | F_IMM64_HI)))
			return fail(v, i, "unreachable instruction");
	return 0;
}

/* ---- context
 * ------------------------------------------------------------------- */

static int size_bytes(uint8_t size)
{
	switch (size) {
	case EBPF_B:
		return 1;
	case EBPF_H:
		return 2;
	case EBPF_W:
		return 4;
	default:
		return 8;
	}
}

struct ctx_field {
	int16_t off;	   /* in the program's struct (xdp_md, __sk_buff) */
	int16_t skiff_off; /* in Skiff's (ebpf_xdp_ctx, ebpf_skb_ctx) */
	uint8_t size;	   /* EBPF_W / EBPF_DW in the program's struct */
	uint8_t skiff_size;
	uint8_t type; /* T_PKT, T_PKT_END, T_PKT_META or T_SCALAR (32-bit) */
	uint8_t flags;
};

/* ctx_field.flags: which program types may read (R_) and write (W_) it. */
#define R_TC   1
#define R_SOCK 2
#define W_TC   4
#define W_SOCK 8
#define R_SKB  (R_TC | R_SOCK)

#define XDP_F(o, f, sz, t)                                                     \
	{                                                                      \
		o, offsetof(struct ebpf_xdp_ctx, f), EBPF_W, sz, t, 0          \
	}
/* struct xdp_md (linux/bpf.h offsets) and where each field lives in
 * struct ebpf_xdp_ctx. */
static const struct ctx_field xdp_md_fields[] = {
    XDP_F(0, data, EBPF_DW, T_PKT),
    XDP_F(4, data_end, EBPF_DW, T_PKT_END),
    XDP_F(8, data_meta, EBPF_DW, T_PKT_META),
    XDP_F(12, ingress_ifindex, EBPF_W, T_SCALAR),
    XDP_F(16, rx_queue_index, EBPF_W, T_SCALAR),
    XDP_F(20, egress_ifindex, EBPF_W, T_SCALAR),
    /* not in xdp_md: Skiff's own programs' checksum flags (rewritten
     * programs only, at this offset) */
    {-1, offsetof(struct ebpf_xdp_ctx, csum_flags), EBPF_W, EBPF_W, T_SCALAR,
     0},
};

#define SKB_F(o, f, t, fl)                                                     \
	{                                                                      \
		o, offsetof(struct ebpf_skb_ctx, f), EBPF_W,                   \
		    (t) == T_SCALAR ? EBPF_W : EBPF_DW, t, fl                  \
	}
/* struct __sk_buff (linux/bpf.h offsets) as Linux's tc_cls_act and
 * sk_filter is_valid_access allow them, for the fields Skiff fills: TC
 * programs write mark, queue_mapping, priority, tc_index, cb[] and
 * tc_classid; socket filters only cb[] and see no packet pointers (they
 * read the packet with bpf_skb_load_bytes). */
static const struct ctx_field skb_fields[] = {
    SKB_F(0, len, T_SCALAR, R_SKB),
    SKB_F(4, pkt_type, T_SCALAR, R_SKB),
    SKB_F(8, mark, T_SCALAR, R_SKB | W_TC),
    SKB_F(12, queue_mapping, T_SCALAR, R_SKB | W_TC),
    SKB_F(16, protocol, T_SCALAR, R_SKB),
    SKB_F(20, vlan_present, T_SCALAR, R_SKB),
    SKB_F(24, vlan_tci, T_SCALAR, R_SKB),
    SKB_F(28, vlan_proto, T_SCALAR, R_SKB),
    SKB_F(32, priority, T_SCALAR, R_SKB | W_TC),
    SKB_F(36, ingress_ifindex, T_SCALAR, R_SKB),
    SKB_F(40, ifindex, T_SCALAR, R_SKB),
    SKB_F(44, tc_index, T_SCALAR, R_SKB | W_TC),
    SKB_F(48, cb[0], T_SCALAR, R_SKB | W_TC | W_SOCK),
    SKB_F(52, cb[1], T_SCALAR, R_SKB | W_TC | W_SOCK),
    SKB_F(56, cb[2], T_SCALAR, R_SKB | W_TC | W_SOCK),
    SKB_F(60, cb[3], T_SCALAR, R_SKB | W_TC | W_SOCK),
    SKB_F(64, cb[4], T_SCALAR, R_SKB | W_TC | W_SOCK),
    SKB_F(68, hash, T_SCALAR, R_SKB),
    SKB_F(72, tc_classid, T_SCALAR, R_TC | W_TC),
    SKB_F(76, data, T_PKT, R_TC),
    SKB_F(80, data_end, T_PKT_END, R_TC),
    SKB_F(84, napi_id, T_SCALAR, R_SKB),
    SKB_F(140, data_meta, T_PKT_META, R_TC),
    SKB_F(160, wire_len, T_SCALAR, R_TC),
    SKB_F(164, gso_segs, T_SCALAR, R_SKB),
    SKB_F(176, gso_size, T_SCALAR, R_SKB),
};
#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

static const struct ctx_field *ctx_fields(const struct ebpf_prog *p, size_t *n)
{
	if (p->type == EBPF_PROG_XDP) {
		*n = NFIELDS(xdp_md_fields);
		return xdp_md_fields;
	}
	*n = NFIELDS(skb_fields);
	return skb_fields;
}

/* The field an access of `size` bytes at `off` of the context touches, or
 * NULL when the program's type may not make it: a whole field, or (for a
 * read of a scalar field) a naturally aligned part of it, as Linux allows
 * narrow loads; before the rewrite offsets are the program's struct's,
 * after it Skiff's. *narrow gets the byte offset inside the field. */
static const struct ctx_field *ctx_access(const struct ebpf_prog *p, int off,
					  int size, bool write, int *narrow)
{
	size_t n;
	const struct ctx_field *f = ctx_fields(p, &n);
	uint8_t need;

	if (p->type == EBPF_PROG_SCHED_CLS)
		need = write ? W_TC : R_TC;
	else if (p->type == EBPF_PROG_SOCKET_FILTER)
		need = write ? W_SOCK : R_SOCK;
	else
		need = 0; /* XDP: every field read, none written */
	if (p->type == EBPF_PROG_XDP && write)
		return NULL;
	for (size_t k = 0; k < n; k++) {
		int fo = p->ctx_rewritten ? f[k].skiff_off : f[k].off;
		int fsz =
		    size_bytes(p->ctx_rewritten ? f[k].skiff_size : f[k].size);

		if (fo < 0 || off < fo || off >= fo + fsz)
			continue;
		if (need && !(f[k].flags & need))
			return NULL;
		*narrow = off - fo;
		if (*narrow == 0 && size == fsz)
			return &f[k];
		/* narrow: __sk_buff scalars (XDP allows none, as Linux),
		 * reads, inside the field, aligned */
		if (p->type == EBPF_PROG_XDP || f[k].type != T_SCALAR ||
		    write || size > fsz || *narrow + size > fsz ||
		    (*narrow & (size - 1)))
			return NULL;
		return &f[k];
	}
	return NULL;
}

/* ---- memory
 * --------------------------------------------------------------------- */

enum access { A_READ, A_WRITE, A_HELPER, A_ATOMIC };

static const char *const access_names[] = {"read", "write", "helper access",
					   "atomic access"};

/* Checks that [reg + off, + size) lies inside the object reg points to
 * (stack contents are checked by the callers). */
static int check_mem(struct verifier *v, uint32_t pc, struct vstate *s,
		     int regno, int64_t off, int64_t size, enum access a)
{
	const struct reg *r = &s->r[regno];
	const struct scalar *var = &r->s;
	int64_t lo = (int64_t)r->off + off;
	int64_t hi = lo + size; /* var offset added below */

	switch (r->type) {
	case T_NOINIT:
		return fail(v, pc, "read of uninitialised register r%d", regno);
	case T_SCALAR:
		return failr(v, pc, s, RM(regno),
			     "invalid %s through scalar r%d", access_names[a],
			     regno);
	case T_PKT:
	case T_PKT_META:
		if (a == A_ATOMIC)
			return failr(v, pc, s, RM(regno),
				     "atomic operation on %s memory not "
				     "allowed",
				     type_names[r->type]);
		if (var->smin < 0 || var->umax > MAX_PKT_OFF)
			return failr(v, pc, s, RM(regno),
				     "packet pointer r%d with an unbounded "
				     "variable offset",
				     regno);
		if (lo < 0 || hi > (int64_t)r->range)
			return failr(v, pc, s, RM(regno),
				     "invalid packet access off=%lld size=%lld "
				     "(bounds checked against data_end: %u "
				     "bytes)",
				     (long long)lo, (long long)size, r->range);
		return 0;
	case T_STACK:
		if (!scalar_is_const(var))
			return failr(v, pc, s, RM(regno),
				     "variable stack access");
		if (lo < -EBPF_STACK_SIZE || hi > 0 || size < 0)
			return failr(v, pc, s, RM(regno),
				     "stack access out of bounds (r10%+lld "
				     "size %lld)",
				     (long long)lo, (long long)size);
		if (a == A_ATOMIC && (lo & (size - 1)))
			return failr(v, pc, s, RM(regno),
				     "misaligned atomic stack access (r10%+lld "
				     "size %lld)",
				     (long long)lo, (long long)size);
		return 0;
	case T_MAPVAL: {
		uint32_t vs = v->p->maps[r->map]->value_size;
		/* An XSKMAP value is a socket id: read-only, as Linux's
		 * PTR_TO_XDP_SOCK. */
		if (v->p->maps[r->map]->type == EBPF_MAP_XSKMAP &&
		    (a == A_WRITE || a == A_ATOMIC))
			return failr(v, pc, s, RM(regno),
				     "%s into an XSKMAP value (read-only) r%d",
				     access_names[a], regno);
		if (var->smin < 0 || var->umax > MAX_VAR_OFF)
			return failr(v, pc, s, RM(regno),
				     "map value pointer r%d with an unbounded "
				     "variable offset",
				     regno);
		if (lo + var->smin < 0 || hi + (int64_t)var->umax > (int64_t)vs)
			return failr(v, pc, s, RM(regno),
				     "map value access out of bounds "
				     "(off=%lld size=%lld, value_size=%u)",
				     (long long)lo, (long long)size, vs);
		if (a == A_ATOMIC &&
		    ((lo & (size - 1)) || !scalar_is_const(var) ||
		     (var->var.value & (uint64_t)(size - 1))))
			return failr(v, pc, s, RM(regno),
				     "misaligned atomic map value access");
		return 0;
	}
	case T_MAPVAL_NULL:
		return failr(v, pc, s, RM(regno),
			     "possible NULL pointer dereference (r%d is "
			     "map_value_or_null: compare it with 0 first)",
			     regno);
	case T_CTX:
		if (a == A_WRITE)
			return fail(v, pc, "ctx write not allowed");
		return failr(v, pc, s, RM(regno), "invalid %s of ctx r%d",
			     access_names[a], regno);
	default:
		return failr(v, pc, s, RM(regno), "invalid %s through %s r%d",
			     access_names[a], type_names[r->type], regno);
	}
}

static int stack_byte(int64_t off)
{
	return (int)(off + EBPF_STACK_SIZE);
}

/* The stack bytes [off, off+size) are read as data (a load or a helper):
 * each must be initialised and none may belong to a spilled pointer. */
static int check_stack_read(struct verifier *v, uint32_t pc, struct vstate *s,
			    int64_t off, int64_t size)
{
	for (int64_t o = off; o < off + size; o++) {
		int b = stack_byte(o);
		const struct reg *sp = &s->spill[b / 8];

		if (s->stype[b] == S_INVALID)
			return fail(v, pc,
				    "read of uninitialised stack (r10%+lld "
				    "size %lld)",
				    (long long)off, (long long)size);
		if (s->stype[b] == S_SPILL && sp->type != T_SCALAR)
			return fail(v, pc,
				    "partial read of a spilled pointer (%s) "
				    "at r10%+lld",
				    type_names[sp->type], (long long)o);
	}
	return 0;
}

/* A store of size bytes at off that is not a whole-slot spill: every slot
 * it touches forgets its spilled register; the untouched bytes of a
 * spilled pointer become uninitialised, those of a spilled scalar plain
 * data. */
static void stack_scribble(struct vstate *s, int64_t off, int64_t size)
{
	int first = stack_byte(off), last = stack_byte(off + size - 1);

	for (int slot = first / 8; slot <= last / 8; slot++) {
		bool ptr = s->spill[slot].type != T_SCALAR &&
			   s->spill[slot].type != T_NOINIT;
		for (int b = slot * 8; b < slot * 8 + 8; b++)
			if (s->stype[b] == S_SPILL)
				s->stype[b] = ptr ? S_INVALID : S_MISC;
		mark_noinit(&s->spill[slot]);
	}
	for (int b = first; b <= last; b++)
		s->stype[b] = S_MISC;
}

static void stack_spill(struct vstate *s, int64_t off, const struct reg *val)
{
	int b = stack_byte(off);

	s->spill[b / 8] = *val;
	memset(&s->stype[b], S_SPILL, 8);
}

static int note_aux(struct verifier *v, uint32_t pc, uint8_t kind)
{
	if (v->aux[pc] != AUX_NONE && v->aux[pc] != kind)
		return fail(v, pc,
			    "same instruction used with ctx and other "
			    "pointers");
	v->aux[pc] = kind;
	return 0;
}

static int do_load(struct verifier *v, uint32_t pc, struct vstate *s)
{
	const struct ebpf_insn *in = &v->in[pc];
	const struct reg *r = &s->r[in->src];
	uint8_t sz = EBPF_SIZE(in->code);
	bool sext = EBPF_MODE(in->code) == EBPF_MEMSX;
	int size = size_bytes(sz), rc;
	struct reg res;

	if (in->dst == 10)
		return fail(v, pc, "r10 is read-only");
	if (r->type == T_NOINIT)
		return fail(v, pc, "read of uninitialised register r%u",
			    in->src);
	if (r->type == T_CTX) {
		const struct ctx_field *f;
		int narrow;

		if (r->off != 0)
			return fail(v, pc,
				    "dereference of modified ctx pointer");
		f = ctx_access(v->p, in->off, size, false, &narrow);
		if (!f || sext)
			return fail(
			    v, pc, "invalid ctx access off=%d size=%d%s",
			    in->off, size, sext ? " (sign-extending)" : "");
		rc = note_aux(v, pc, AUX_CTX);
		if (rc)
			return rc;
		if (f->type == T_SCALAR) {
			mark_unknown(&res);
			scalar_zext(&res.s, size < 4 ? size : 4);
		} else {
			mark_ptr(&res, f->type);
		}
		s->r[in->dst] = res;
		return 0;
	}
	rc = note_aux(v, pc, AUX_OTHER);
	if (rc)
		return rc;
	rc = check_mem(v, pc, s, in->src, in->off, size, A_READ);
	if (rc)
		return rc;
	mark_unknown(&res);
	if (r->type == T_STACK) {
		int64_t t = r->off + (int64_t)r->s.var.value + in->off;
		int b = stack_byte(t);
		const struct reg *sp = &s->spill[b / 8];
		bool whole = (t & 7) == 0 && s->stype[b] == S_SPILL &&
			     (size == 1 || s->stype[b + size - 1] == S_SPILL);

		if (size == 8 && whole && !sext) {
			s->r[in->dst] = *sp; /* fill */
			return 0;
		}
		rc = check_stack_read(v, pc, s, t, size);
		if (rc)
			return rc;
		if (whole && sp->type == T_SCALAR) {
			/* the low bytes of a spilled scalar (little endian) */
			struct scalar x = sp->s;
			if (!sext &&
			    x.umax <= (size == 8 ? UINT64_MAX
						 : (1ull << (size * 8)) - 1)) {
				mark_scalar(&s->r[in->dst], &x);
				return 0;
			}
			if (sext && size < 8 &&
			    x.smin >= -(1ll << (size * 8 - 1)) &&
			    x.smax < (1ll << (size * 8 - 1))) {
				mark_scalar(&s->r[in->dst], &x);
				return 0;
			}
		}
	}
	if (sext)
		scalar_sext(&res.s, size);
	else
		scalar_zext(&res.s, size);
	s->r[in->dst] = res;
	return 0;
}

static int do_store(struct verifier *v, uint32_t pc, struct vstate *s)
{
	const struct ebpf_insn *in = &v->in[pc];
	const struct reg *d = &s->r[in->dst];
	uint8_t sz = EBPF_SIZE(in->code);
	int size = size_bytes(sz), rc;
	struct reg val;

	if (EBPF_CLASS(in->code) == EBPF_STX) {
		if (s->r[in->src].type == T_NOINIT)
			return fail(v, pc, "read of uninitialised register r%u",
				    in->src);
		val = s->r[in->src];
	} else {
		mark_const(&val, (uint64_t)(int64_t)in->imm);
	}
	if (d->type == T_NOINIT)
		return fail(v, pc, "read of uninitialised register r%u",
			    in->dst);
	if (d->type == T_CTX) {
		int narrow;

		if (d->off != 0)
			return fail(v, pc,
				    "dereference of modified ctx pointer");
		if (v->p->type == EBPF_PROG_XDP)
			return fail(v, pc, "ctx write not allowed");
		if (!ctx_access(v->p, in->off, size, true, &narrow))
			return fail(v, pc,
				    "invalid ctx write off=%d size=%d (not a "
				    "writable field)",
				    in->off, size);
		if (val.type != T_SCALAR)
			return failr(v, pc, s, RM(in->src),
				     "pointer leak: storing a pointer (%s) "
				     "into ctx",
				     type_names[val.type]);
		return note_aux(v, pc, AUX_CTX);
	}
	rc = note_aux(v, pc, AUX_OTHER);
	if (rc)
		return rc;
	rc = check_mem(v, pc, s, in->dst, in->off, size, A_WRITE);
	if (rc)
		return rc;
	if (is_ptr(&val) && d->type != T_STACK)
		return failr(v, pc, s, RM(in->src),
			     "pointer leak: storing a pointer (%s) into %s "
			     "memory",
			     type_names[val.type], type_names[d->type]);
	if (d->type == T_STACK) {
		int64_t t = d->off + (int64_t)d->s.var.value + in->off;

		if (size == 8 && (t & 7) == 0) {
			stack_spill(s, t, &val);
		} else {
			if (is_ptr(&val))
				return failr(v, pc, s, RM(in->src),
					     "partial or misaligned spill of a "
					     "pointer (r10%+lld size %d)",
					     (long long)t, size);
			stack_scribble(s, t, size);
		}
	}
	return 0;
}

static int do_atomic(struct verifier *v, uint32_t pc, struct vstate *s)
{
	const struct ebpf_insn *in = &v->in[pc];
	const struct reg *d = &s->r[in->dst];
	int size = size_bytes(EBPF_SIZE(in->code)), rc;
	bool fetch = in->imm & EBPF_FETCH;
	struct reg res;

	if (s->r[in->src].type == T_NOINIT)
		return fail(v, pc, "read of uninitialised register r%u",
			    in->src);
	if (d->type == T_NOINIT)
		return fail(v, pc, "read of uninitialised register r%u",
			    in->dst);
	if (is_ptr(&s->r[in->src]))
		return failr(v, pc, s, RM(in->src),
			     "atomic operation with a pointer operand (pointer "
			     "leak)");
	if (in->imm == EBPF_CMPXCHG) {
		if (s->r[0].type == T_NOINIT)
			return fail(v, pc, "read of uninitialised register r0");
		if (is_ptr(&s->r[0]))
			return failr(v, pc, s, RM(0),
				     "atomic compare-exchange with a pointer "
				     "in r0 (pointer leak)");
	}
	if (fetch && in->imm != EBPF_CMPXCHG && in->src == 10)
		return fail(v, pc, "r10 is read-only");
	if (d->type != T_STACK && d->type != T_MAPVAL)
		return failr(v, pc, s, RM(in->dst),
			     "atomic operation on %s memory not allowed",
			     type_names[d->type]);
	rc = note_aux(v, pc, AUX_OTHER);
	if (rc)
		return rc;
	rc = check_mem(v, pc, s, in->dst, in->off, size, A_ATOMIC);
	if (rc)
		return rc;
	if (d->type == T_STACK) {
		int64_t t = d->off + (int64_t)d->s.var.value + in->off;
		int b = stack_byte(t);
		if (s->stype[b] == S_SPILL && s->spill[b / 8].type != T_SCALAR)
			return fail(v, pc,
				    "atomic operation on a spilled pointer "
				    "(%s) at r10%+lld",
				    type_names[s->spill[b / 8].type],
				    (long long)t);
		rc = check_stack_read(v, pc, s, t, size);
		if (rc)
			return rc;
		stack_scribble(s, t, size);
	}
	mark_unknown(&res);
	scalar_zext(&res.s, size);
	if (in->imm == EBPF_CMPXCHG)
		s->r[0] = res;
	else if (fetch)
		s->r[in->src] = res;
	return 0;
}

/* ---- ALU
 * ------------------------------------------------------------------------ */

static int ptr_alu(struct verifier *v, uint32_t pc, struct vstate *s,
		   const struct ebpf_insn *in, struct reg *b)
{
	uint8_t op = EBPF_OP(in->code);
	bool is64 = EBPF_CLASS(in->code) == EBPF_ALU64;
	bool x = EBPF_SRC(in->code) == EBPF_X;
	struct reg *d = &s->r[in->dst];
	unsigned rm = RM(in->dst) | (x ? RM(in->src) : 0);

	if (!is64 || (op != EBPF_ADD && op != EBPF_SUB) || in->off)
		return failr(v, pc, s, rm,
			     "pointer arithmetic with %s%s prohibited "
			     "(pointer leak)",
			     is64 ? "" : "32-bit ",
			     op == EBPF_NEG   ? "neg"
			     : op == EBPF_END ? "byte swap"
					      : "this operator");
	if (is_ptr(d) && is_ptr(b)) {
		bool dp = is_pkt(d) || d->type == T_PKT_END;
		bool bp = is_pkt(b) || b->type == T_PKT_END;
		if (op == EBPF_SUB && dp && bp) {
			if (d->type == b->type && is_pkt(d) && d->id == b->id &&
			    scalar_subsumes(&d->s, &b->s) &&
			    scalar_subsumes(&b->s, &d->s) &&
			    (d->id != 0 || scalar_is_const(&d->s)))
				mark_const(
				    d, (uint64_t)((int64_t)d->off - b->off));
			else
				mark_unknown(d);
			return 0;
		}
		return failr(v, pc, s, rm,
			     "pointer arithmetic on two pointers (%s %s %s) "
			     "prohibited",
			     type_names[d->type], op == EBPF_SUB ? "-" : "+",
			     type_names[b->type]);
	}
	if (!is_ptr(d)) { /* scalar + pointer */
		struct reg sc = *d;
		if (op == EBPF_SUB)
			return failr(v, pc, s, rm,
				     "pointer arithmetic: subtracting a "
				     "pointer from a scalar prohibited");
		*d = *b;
		*b = sc;
	}
	if (d->type == T_MAPVAL_NULL || d->type == T_PKT_END ||
	    d->type == T_MAP)
		return failr(v, pc, s, rm,
			     "pointer arithmetic on %s prohibited",
			     type_names[d->type]);
	if (scalar_is_const(&b->s)) {
		int64_t c = (int64_t)b->s.var.value;
		int64_t no =
		    op == EBPF_ADD ? (int64_t)d->off + c : (int64_t)d->off - c;
		if (c > MAX_VAR_OFF || c < -MAX_VAR_OFF || no > MAX_VAR_OFF ||
		    no < -MAX_VAR_OFF)
			return failr(v, pc, s, rm,
				     "pointer arithmetic: offset out of range");
		d->off = (int32_t)no;
		return 0;
	}
	if (op != EBPF_ADD || (!is_pkt(d) && d->type != T_MAPVAL))
		return failr(v, pc, s, rm,
			     "variable offset arithmetic on %s pointer not "
			     "allowed%s",
			     type_names[d->type],
			     op == EBPF_SUB ? " (subtraction)" : "");
	scalar_alu(&d->s, &b->s, EBPF_ADD, true, 0, 0, false);
	if (is_pkt(d)) {
		if (d->s.smin < 0 || d->s.umax > MAX_PKT_OFF ||
		    d->off < -MAX_PKT_OFF || d->off > MAX_PKT_OFF)
			return failr(v, pc, s, rm,
				     "unbounded variable added to a packet "
				     "pointer (max %llu)",
				     (unsigned long long)b->s.umax);
		d->id = ++s->id_gen;
		d->range = 0;
	} else if (d->s.smin < 0 || d->s.umax > MAX_VAR_OFF) {
		return failr(v, pc, s, rm,
			     "unbounded variable added to a map value "
			     "pointer");
	}
	return 0;
}

static int do_alu(struct verifier *v, uint32_t pc, struct vstate *s)
{
	const struct ebpf_insn *in = &v->in[pc];
	uint8_t op = EBPF_OP(in->code);
	bool is64 = EBPF_CLASS(in->code) == EBPF_ALU64;
	bool x = EBPF_SRC(in->code) == EBPF_X && op != EBPF_END;
	struct reg *d = &s->r[in->dst], b;

	if (in->dst == 10)
		return fail(v, pc, "r10 is read-only");
	if (x) {
		if (s->r[in->src].type == T_NOINIT)
			return fail(v, pc, "read of uninitialised register r%u",
				    in->src);
		b = s->r[in->src];
	} else {
		mark_const(&b, is64 ? (uint64_t)(int64_t)in->imm
				    : (uint32_t)in->imm);
	}
	if (op == EBPF_MOV) {
		if (is_ptr(&b)) {
			if (!is64 || in->off)
				return failr(v, pc, s, RM(in->src),
					     "pointer arithmetic: partial copy "
					     "of a pointer prohibited (pointer "
					     "leak)");
			*d = b;
			return 0;
		}
		mark_unknown(d);
		scalar_alu(&d->s, &b.s, EBPF_MOV, is64, in->off, 0, false);
		return 0;
	}
	if (d->type == T_NOINIT)
		return fail(v, pc, "read of uninitialised register r%u",
			    in->dst);
	if (op == EBPF_DIV || op == EBPF_MOD) {
		if (!x && (is64 ? in->imm == 0 : (uint32_t)in->imm == 0))
			return fail(v, pc, "division by zero");
	}
	if ((op == EBPF_LSH || op == EBPF_RSH || op == EBPF_ARSH) && !x &&
	    (uint32_t)in->imm >= (is64 ? 64u : 32u))
		return fail(v, pc, "invalid shift %d", in->imm);
	if (is_ptr(d) || is_ptr(&b))
		return ptr_alu(v, pc, s, in, &b);
	scalar_alu(&d->s, &b.s, op, is64, in->off, op == EBPF_END ? in->imm : 0,
		   op == EBPF_END && EBPF_SRC(in->code) == EBPF_X);
	return 0;
}

/* ---- branches
 * ------------------------------------------------------------------- */

static uint8_t flip_op(uint8_t op)
{
	switch (op) {
	case EBPF_JGT:
		return EBPF_JLT;
	case EBPF_JLT:
		return EBPF_JGT;
	case EBPF_JGE:
		return EBPF_JLE;
	case EBPF_JLE:
		return EBPF_JGE;
	case EBPF_JSGT:
		return EBPF_JSLT;
	case EBPF_JSLT:
		return EBPF_JSGT;
	case EBPF_JSGE:
		return EBPF_JSLE;
	case EBPF_JSLE:
		return EBPF_JSGE;
	default:
		return op;
	}
}

static void for_each_reg(struct vstate *s, void (*fn)(struct reg *, void *),
			 void *arg)
{
	for (int i = 0; i < 11; i++)
		fn(&s->r[i], arg);
	for (int i = 0; i < NSLOTS; i++)
		if (s->spill[i].type != T_NOINIT)
			fn(&s->spill[i], arg);
}

struct null_mark {
	uint32_t id;
	bool is_null;
};

static void mark_null_fn(struct reg *r, void *arg)
{
	const struct null_mark *m = arg;

	if (r->type != T_MAPVAL_NULL || r->id != m->id)
		return;
	if (m->is_null) {
		mark_const(r, 0);
	} else {
		r->type = T_MAPVAL;
		r->id = 0;
	}
}

struct range_mark {
	uint8_t type;
	uint32_t id;
	uint32_t range;
};

static void mark_range_fn(struct reg *r, void *arg)
{
	const struct range_mark *m = arg;

	if (r->type == m->type && r->id == m->id && r->range < m->range)
		r->range = m->range;
}

/* "p op e" holds, p a packet (meta) pointer and e its end: when it means
 * p <= e, the bytes before p are inside. */
static void pkt_compare(struct vstate *s, const struct reg *p, uint8_t op,
			bool p_is_dst)
{
	uint8_t o = p_is_dst ? op : flip_op(op);
	struct range_mark m = {p->type, p->id, 0};

	if (o != EBPF_JLT && o != EBPF_JLE)
		return; /* p > e or p >= e: nothing learnt */
	if (p->off <= 0)
		return;
	m.range = p->off > MAX_PKT_OFF ? MAX_PKT_OFF : (uint32_t)p->off;
	for_each_reg(s, mark_range_fn, &m);
}

/* data itself: the end a packet meta pointer is checked against. */
static bool init_pkt(const struct reg *r)
{
	return r->type == T_PKT && r->off == 0 && r->id == 0 &&
	       scalar_is_const(&r->s) && r->s.var.value == 0;
}

static bool pkt_order_op(uint8_t op)
{
	return op == EBPF_JGT || op == EBPF_JGE || op == EBPF_JLT ||
	       op == EBPF_JLE;
}

/* Refines state s assuming `dst op src` holds (op may be JSET_NOT).
 * Returns 1 when feasible, 0 when not, or a negative error. */
static int assume(struct verifier *v, uint32_t pc, struct vstate *s,
		  const struct ebpf_insn *in, uint8_t op)
{
	bool is64 = EBPF_CLASS(in->code) == EBPF_JMP;
	bool x = EBPF_SRC(in->code) == EBPF_X;
	struct reg *d = &s->r[in->dst];
	struct reg kb, *b;
	unsigned rm = RM(in->dst) | (x ? RM(in->src) : 0);

	if (x) {
		b = &s->r[in->src];
	} else {
		mark_const(&kb, is64 ? (uint64_t)(int64_t)in->imm
				     : (uint32_t)in->imm);
		b = &kb;
	}
	if (is_ptr(d) || is_ptr(b)) {
		struct reg *p = is_ptr(d) ? d : b, *o = p == d ? b : d;

		if (is64 && (op == EBPF_JEQ || op == EBPF_JNE) &&
		    reg_is_const(o, 0)) {
			/* NULL checks */
			if (p->type == T_MAPVAL_NULL) {
				struct null_mark m = {p->id, op == EBPF_JEQ};
				for_each_reg(s, mark_null_fn, &m);
				return 1;
			}
			return op == EBPF_JNE; /* never NULL */
		}
		if (is64 && pkt_order_op(op)) {
			if (is_pkt(d) && b->type == T_PKT_END &&
			    d->type == T_PKT) {
				pkt_compare(s, d, op, true);
				return 1;
			}
			if (d->type == T_PKT_END && b->type == T_PKT) {
				pkt_compare(s, b, op, false);
				return 1;
			}
			if (d->type == T_PKT_META && init_pkt(b)) {
				pkt_compare(s, d, op, true);
				return 1;
			}
			if (init_pkt(d) && b->type == T_PKT_META) {
				pkt_compare(s, b, op, false);
				return 1;
			}
		}
		return failr(v, pc, s, rm,
			     "pointer comparison prohibited (%s with %s)",
			     type_names[d->type], type_names[b->type]);
	}
	if (x && in->src == in->dst) {
		/* one register on both sides: refine a copy as the other */
		struct scalar c = d->s;
		return scalar_cond(&d->s, &c, op, is64) ? 1 : 0;
	}
	return scalar_cond(&d->s, &b->s, op, is64) ? 1 : 0;
}

/* ---- helper calls
 * ----------------------------------------------------------------- */

/* Argument `arg` points to `size` readable, initialised bytes with no
 * pointer in them. */
static int check_mem_arg(struct verifier *v, uint32_t pc, struct vstate *s,
			 int arg, int64_t size, const char *what)
{
	const struct reg *r = &s->r[arg];
	int32_t id = v->in[pc].imm;
	int rc;

	if (r->type == T_NOINIT)
		return fail(v, pc, "helper %d arg%d (%s): uninitialised r%d",
			    id, arg, what, arg);
	if (r->type != T_STACK && r->type != T_MAPVAL && !is_pkt(r))
		return failr(v, pc, s, RM(arg),
			     "helper %d arg%d (%s): expected a pointer to "
			     "stack, map value or packet, got %s",
			     id, arg, what, type_names[r->type]);
	if (size == 0)
		return 0;
	rc = check_mem(v, pc, s, arg, 0, size, A_HELPER);
	if (rc)
		return rc;
	if (r->type == T_STACK)
		return check_stack_read(v, pc, s,
					r->off + (int64_t)r->s.var.value, size);
	return 0;
}

static const char *const prog_type_names[] = {"xdp", "tc", "socket filter"};

/* After a helper that may move or resize the packet: every packet pointer,
 * in a register or spilled, becomes unreadable (Linux's
 * clear_all_pkt_pointers for an unprivileged program). */
static void invalidate_pkt_ptrs(struct vstate *s)
{
	for (int i = 0; i < 10; i++)
		if (is_pkt(&s->r[i]) || s->r[i].type == T_PKT_END)
			mark_noinit(&s->r[i]);
	for (int k = 0; k < NSLOTS; k++) {
		struct reg *sp = &s->spill[k];

		if (!is_pkt(sp) && sp->type != T_PKT_END)
			continue;
		mark_noinit(sp);
		for (int b = k * 8; b < k * 8 + 8; b++)
			if (s->stype[b] == S_SPILL)
				s->stype[b] = S_INVALID;
	}
}

static int do_call(struct verifier *v, uint32_t pc, struct vstate *s)
{
	int32_t id = v->in[pc].imm;
	const struct ebpf_helper_proto *h = ebpf_helper_proto(id);
	struct reg *r = s->r;
	const struct ebpf_map *m = NULL;
	uint8_t mapidx = 0;
	int rc;

	if (!h || !h->fn)
		return fail(v, pc, "unknown helper %d", id);
	if (h->prog_types && !(h->prog_types & (1u << v->p->type)))
		return fail(v, pc,
			    "helper %d (%s) is not available to %s programs",
			    id, h->name, prog_type_names[v->p->type]);
	for (int a = 1; a <= 5; a++) {
		uint8_t kind = h->args[a - 1];
		const struct reg *x = &r[a];

		if (kind == EBPF_ARG_NONE)
			continue;
		if (x->type == T_NOINIT)
			return fail(v, pc,
				    "helper %d (%s) arg%d: uninitialised r%d",
				    id, h->name, a, a);
		switch (kind) {
		case EBPF_ARG_SCALAR:
		case EBPF_ARG_SIZE:
			if (x->type != T_SCALAR)
				return failr(v, pc, s, RM(a),
					     "helper %d arg%d: expected a "
					     "scalar, got %s (pointer leak)",
					     id, a, type_names[x->type]);
			if (kind == EBPF_ARG_SIZE &&
			    (x->s.smin < 0 || x->s.umax > MAX_MEM_SIZE))
				return failr(v, pc, s, RM(a),
					     "helper %d arg%d (size): needs "
					     "known bounds in [0, %d]",
					     id, a, MAX_MEM_SIZE);
			break;
		case EBPF_ARG_CTX:
			if (x->type != T_CTX || x->off != 0 ||
			    !scalar_is_const(&x->s) || x->s.var.value != 0)
				return failr(v, pc, s, RM(a),
					     "helper %d (%s) arg%d: expected "
					     "the unmodified ctx pointer, got "
					     "%s",
					     id, h->name, a,
					     type_names[x->type]);
			break;
		case EBPF_ARG_MEM_UNINIT: {
			const struct reg *sz = &r[a + 1];
			if (a == 5 || h->args[a] != EBPF_ARG_CONST_SIZE)
				return fail(v, pc, "helper %d: bad contract",
					    id);
			if (sz->type != T_SCALAR || !scalar_is_const(&sz->s) ||
			    sz->s.var.value == 0 ||
			    sz->s.var.value > MAX_MEM_SIZE)
				return failr(v, pc, s, RM(a + 1),
					     "helper %d (%s) arg%d (size): "
					     "needs a constant in [1, %d]",
					     id, h->name, a + 1, MAX_MEM_SIZE);
			if (x->type != T_STACK && x->type != T_MAPVAL)
				return failr(v, pc, s, RM(a),
					     "helper %d (%s) arg%d: expected "
					     "a pointer to stack or map value "
					     "to fill, got %s",
					     id, h->name, a,
					     type_names[x->type]);
			rc = check_mem(v, pc, s, a, 0, (int64_t)sz->s.var.value,
				       A_HELPER);
			if (rc)
				return rc;
			if (x->type == T_STACK)
				stack_scribble(s,
					       x->off + (int64_t)x->s.var.value,
					       (int64_t)sz->s.var.value);
			break;
		}
		case EBPF_ARG_CONST_SIZE:
			break; /* checked with its buffer */
		case EBPF_ARG_MAP:
			if (x->type != T_MAP)
				return failr(v, pc, s, RM(a),
					     "helper %d arg%d: expected a map "
					     "pointer, got %s",
					     id, a, type_names[x->type]);
			mapidx = x->map;
			m = v->p->maps[mapidx];
			const char *why = ebpf_helper_map_refused(id, m->type);
			if (why)
				return fail(v, pc,
					    "cannot pass map_type %u into func "
					    "bpf_%s#%d: %s",
					    m->type, h->name, id, why);
			break;
		case EBPF_ARG_MAP_KEY:
		case EBPF_ARG_MAP_VALUE:
			if (!m)
				return fail(v, pc,
					    "helper %d: contract without a map",
					    id);
			rc = check_mem_arg(
			    v, pc, s, a,
			    kind == EBPF_ARG_MAP_KEY ? m->key_size
						     : m->value_size,
			    kind == EBPF_ARG_MAP_KEY ? "key" : "value");
			if (rc)
				return rc;
			break;
		case EBPF_ARG_MEM_OR_NULL: {
			const struct reg *sz = &r[a + 1];
			if (a == 5 || h->args[a] != EBPF_ARG_SIZE)
				return fail(v, pc, "helper %d: bad contract",
					    id);
			if (sz->type != T_SCALAR)
				return failr(v, pc, s, RM(a + 1),
					     "helper %d arg%d (size): expected "
					     "a scalar, got %s",
					     id, a + 1, type_names[sz->type]);
			if (sz->s.smin < 0 || sz->s.umax > MAX_MEM_SIZE)
				return failr(v, pc, s, RM(a + 1),
					     "helper %d arg%d (size): needs "
					     "known bounds in [0, %d]",
					     id, a + 1, MAX_MEM_SIZE);
			if (reg_is_const(x, 0)) {
				if (sz->s.umax != 0)
					return fail(v, pc,
						    "helper %d arg%d: NULL "
						    "buffer with nonzero size",
						    id, a);
				break;
			}
			rc = check_mem_arg(v, pc, s, a, (int64_t)sz->s.umax,
					   "buffer");
			if (rc)
				return rc;
			break;
		}
		default:
			return fail(v, pc, "helper %d: bad contract", id);
		}
	}
	for (int i = 1; i <= 5; i++)
		mark_noinit(&r[i]);
	if (h->pkt_changing)
		invalidate_pkt_ptrs(s);
	if (h->ret == EBPF_RET_MAP_VALUE_OR_NULL) {
		mark_ptr(&r[0], T_MAPVAL_NULL);
		r[0].map = mapidx;
		r[0].id = ++s->id_gen;
	} else {
		mark_unknown(&r[0]);
		r[0].s.smin = h->ret_smin;
		r[0].s.smax = h->ret_smax;
		if (!scalar_sync(&r[0].s))
			mark_unknown(&r[0]);
	}
	return 0;
}

/* ---- pruning
 * -------------------------------------------------------------------- */

/* Everything the old register allows covers the new one. */
static bool reg_subsumes(const struct reg *o, const struct reg *n)
{
	if (o->type == T_NOINIT)
		return true; /* never read on the old path's way on */
	if (o->type != n->type)
		return false;
	if (o->type == T_SCALAR)
		return scalar_subsumes(&o->s, &n->s);
	return o->map == n->map && o->id == n->id && o->off == n->off &&
	       o->range <= n->range && scalar_subsumes(&o->s, &n->s);
}

static bool state_subsumes(const struct vstate *o, const struct vstate *n)
{
	for (int i = 0; i < 11; i++)
		if (!reg_subsumes(&o->r[i], &n->r[i]))
			return false;
	for (int b = 0; b < EBPF_STACK_SIZE; b++) {
		uint8_t ot = o->stype[b], nt = n->stype[b];
		const struct reg *ns = &n->spill[b / 8];

		if ((b & 7) == 0) { /* whole slots first: cheap common cases */
			uint64_t ow, nw;
			memcpy(&ow, &o->stype[b], 8);
			memcpy(&nw, &n->stype[b], 8);
			if (ow == 0 /* S_INVALID x 8: never read */ ||
			    (ow == nw && ow == 0x0101010101010101ull)) {
				b += 7; /* S_MISC x 8 both */
				continue;
			}
			if (ow == nw && ow == 0x0202020202020202ull) {
				/* a spilled register in both */
				if (!reg_subsumes(&o->spill[b / 8], ns))
					return false;
				b += 7;
				continue;
			}
		}
		if (ot == S_INVALID)
			continue;
		if (ot == S_MISC) {
			if (nt == S_MISC ||
			    (nt == S_SPILL && ns->type == T_SCALAR))
				continue;
			return false;
		}
		if (nt != S_SPILL)
			return false;
		if ((b & 7) == 0 && !reg_subsumes(&o->spill[b / 8], ns))
			return false;
	}
	return true;
}

/* The current path ended (exit, pruned, dead branch): its kept ancestors
 * lose one live descendant. */
static void path_done(struct verifier *v)
{
	int32_t k = v->parent;

	while (k >= 0) {
		struct seen *e = v->seen[k];
		if (--e->branches > 0)
			break;
		k = e->parent;
	}
	v->parent = -1;
}

/* At a jump target: 1 when an explored state covers s (prune), 0 to go
 * on, or an error for a loop that may not terminate. */
static int check_seen(struct verifier *v, uint32_t pc, const struct vstate *s)
{
	struct seen *e;
	int32_t *link = &v->seen_head[pc];

	for (int32_t k = *link; k >= 0; k = *link) {
		e = v->seen[k];
		if (e->branches > 0) {
			/* An ancestor on this path (a loop): never a reason to
			 * prune. The same state again cannot make progress;
			 * a different one may (a counter that started from a
			 * range), so walk on. Compared as bytes: cheap, and a
			 * state equal in meaning but not in bytes only walks
			 * on to the complexity limit. */
			if (!memcmp(&e->st, s, offsetof(struct vstate, id_gen)))
				return fail(v, pc,
					    "infinite loop detected (the state "
					    "at this back-edge target "
					    "repeats)");
		} else if (state_subsumes(&e->st, s)) {
			e->hits++;
			return 1; /* explored to the end: covers s */
		}
		/* A kept state that keeps missing costs a comparison (up to
		 * 11 registers and 512 stack bytes) at every visit: a loop
		 * whose states differ only in the last stack slot made that
		 * ~20 s within the instruction limit. As Linux does, drop it
		 * from the list (it stays allocated: paths below it still
		 * count on it) and let a newer state take its place. Only
		 * pruning and loop detection get less: both are sound
		 * without it. */
		if (++e->misses > 3 * e->hits + 16) {
			*link = e->next;
			v->seen_count[pc]--;
			continue;
		}
		link = &e->next;
	}
	if (v->nseen >= MAX_SEEN || v->seen_count[pc] >= MAX_SEEN_PER_INSN)
		return 0;
	e = malloc(sizeof(*e));
	if (!e)
		return 0; /* pruning is an optimisation */
	memcpy(&e->st, s, sizeof(*s));
	e->next = v->seen_head[pc];
	e->parent = v->parent;
	e->branches = 1;
	e->hits = e->misses = 0;
	v->seen[v->nseen] = e;
	v->seen_head[pc] = (int32_t)v->nseen;
	v->parent = (int32_t)v->nseen++;
	v->seen_count[pc]++;
	return 0;
}

/* ---- the walk
 * ------------------------------------------------------------------- */

static int push(struct verifier *v, uint32_t pc, const struct vstate *st)
{
	if (v->npend == v->pend_cap) {
		uint32_t cap = v->pend_cap ? v->pend_cap * 2 : 16;
		struct pending *np;
		if (cap > MAX_PENDING)
			return fail(v, pc,
				    "program too complex (more than %d pending "
				    "branches)",
				    MAX_PENDING);
		np = realloc(v->pend, sizeof(*np) * cap);
		if (!np)
			return -ENOMEM;
		v->pend = np;
		v->pend_cap = cap;
	}
	v->pend[v->npend].pc = pc;
	v->pend[v->npend].parent = v->parent;
	memcpy(&v->pend[v->npend].st, st, sizeof(*st));
	v->npend++;
	if (v->parent >= 0)
		v->seen[v->parent]->branches++;
	return 0;
}

static int do_exit(struct verifier *v, uint32_t pc, struct vstate *s)
{
	if (s->r[0].type == T_NOINIT)
		return fail(v, pc, "exit with uninitialised r0");
	if (s->r[0].type != T_SCALAR)
		return failr(v, pc, s, RM(0),
			     "exit with a pointer in r0 (%s): pointer leak",
			     type_names[s->r[0].type]);
	if (v->xdp_ret && s->r[0].s.umax > EBPF_XDP_REDIRECT)
		return failr(v, pc, s, RM(0),
			     "XDP program may return a value outside [0, %d] "
			     "(XDP_ABORTED..XDP_REDIRECT)",
			     EBPF_XDP_REDIRECT);
	return 0;
}

/* Runs one instruction; *next gets the following pc, or -1 when the path
 * ends. */
static int step(struct verifier *v, uint32_t pc, struct vstate *s,
		int64_t *next)
{
	const struct ebpf_insn *in = &v->in[pc];
	uint8_t cls = EBPF_CLASS(in->code), op = EBPF_OP(in->code);
	int rc;

	*next = pc + 1;
	switch (cls) {
	case EBPF_ALU:
	case EBPF_ALU64:
		return do_alu(v, pc, s);
	case EBPF_LD:
		if (in->dst == 10)
			return fail(v, pc, "r10 is read-only");
		if (in->src == EBPF_PSEUDO_MAP_FD) {
			if ((uint32_t)in->imm >= v->p->nmaps)
				return fail(v, pc, "invalid map index %d",
					    in->imm);
			mark_ptr(&s->r[in->dst], T_MAP);
			s->r[in->dst].map = (uint8_t)in->imm;
		} else {
			mark_const(
			    &s->r[in->dst],
			    (uint32_t)in->imm |
				((uint64_t)(uint32_t)v->in[pc + 1].imm << 32));
		}
		*next = pc + 2;
		return 0;
	case EBPF_LDX:
		return do_load(v, pc, s);
	case EBPF_ST:
		return do_store(v, pc, s);
	case EBPF_STX:
		if (EBPF_MODE(in->code) == EBPF_ATOMIC)
			return do_atomic(v, pc, s);
		return do_store(v, pc, s);
	}
	if (op == EBPF_EXIT) {
		*next = -1;
		return do_exit(v, pc, s);
	}
	if (op == EBPF_CALL)
		return do_call(v, pc, s);
	if (op == EBPF_JA) {
		*next = jump_target(pc, in);
		return 0;
	}
	if (s->r[in->dst].type == T_NOINIT)
		return fail(v, pc, "read of uninitialised register r%u",
			    in->dst);
	if (EBPF_SRC(in->code) == EBPF_X && s->r[in->src].type == T_NOINIT)
		return fail(v, pc, "read of uninitialised register r%u",
			    in->src);
	{
		struct vstate *taken = &v->scratch;
		int can_take, can_fall;

		memcpy(taken, s, sizeof(*s));
		can_take = assume(v, pc, taken, in, op);
		if (can_take < 0)
			return can_take;
		can_fall = assume(v, pc, s, in, scalar_cond_negate(op));
		if (can_fall < 0)
			return can_fall;
		if (can_take && !can_fall) {
			memcpy(s, taken, sizeof(*s));
			*next = jump_target(pc, in);
		} else if (can_take) {
			rc = push(v, (uint32_t)jump_target(pc, in), taken);
			if (rc)
				return rc;
		} else if (!can_fall) {
			*next = -1; /* neither: this path is itself dead */
		}
	}
	return 0;
}

static int do_check(struct verifier *v)
{
	struct vstate *s = malloc(sizeof(*s));
	int rc = 0;

	if (!s)
		return -ENOMEM;
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 11; i++)
		mark_noinit(&s->r[i]);
	for (int i = 0; i < NSLOTS; i++)
		mark_noinit(&s->spill[i]);
	mark_ptr(&s->r[1], T_CTX);
	mark_ptr(&s->r[10], T_STACK);
	v->parent = -1;
	rc = push(v, 0, s);
	while (!rc && v->npend) {
		uint32_t pc;

		v->npend--;
		pc = v->pend[v->npend].pc;
		v->parent = v->pend[v->npend].parent;
		memcpy(s, &v->pend[v->npend].st, sizeof(*s));
		for (;;) {
			int64_t next;

			if (++v->insns_processed > EBPF_COMPLEXITY_LIMIT) {
				rc =
				    fail(v, pc,
					 "program too complex: %u instructions "
					 "processed (limit %d)",
					 v->insns_processed - 1,
					 EBPF_COMPLEXITY_LIMIT);
				break;
			}
			if (v->flags[pc] & F_JUMP_TARGET) {
				rc = check_seen(v, pc, s);
				if (rc < 0)
					break;
				if (rc == 1) {
					rc = 0;
					path_done(v);
					break;
				}
			}
			rc = step(v, pc, s, &next);
			if (rc)
				break;
			if (next < 0) {
				path_done(v);
				break;
			}
			pc = (uint32_t)next;
		}
	}
	free(s);
	return rc;
}

static int verify(const struct ebpf_prog *p, char *err, size_t errlen,
		  uint8_t *aux, bool xdp_ret)
{
	struct verifier *v;
	int rc;

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->p = p;
	v->in = p->insns;
	v->n = p->ninsns;
	v->err = err;
	v->errlen = errlen;
	v->xdp_ret = xdp_ret;
	if (err && errlen)
		err[0] = 0;
	if (!p->insns || p->ninsns == 0) {
		rc = fail(v, 0, "empty program");
		goto out;
	}
	if (p->ninsns > EBPF_MAX_INSNS) {
		rc = fail(v, 0, "program too large (%u instructions, max %d)",
			  p->ninsns, EBPF_MAX_INSNS);
		goto out;
	}
	if (p->nmaps > EBPF_MAX_MAPS) {
		rc = fail(v, 0, "too many maps");
		goto out;
	}
	for (uint32_t i = 0; i < p->nmaps; i++)
		if (!p->maps[i]) {
			rc = fail(v, 0, "map %u missing", i);
			goto out;
		}
	v->flags = calloc(v->n, 1);
	v->aux = aux;
	v->seen_head = malloc(sizeof(int32_t) * v->n);
	v->seen_count = calloc(v->n, sizeof(uint16_t));
	v->seen = calloc(MAX_SEEN, sizeof(struct seen *));
	if (!v->flags || !v->seen_head || !v->seen_count || !v->seen) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < v->n; i++)
		v->seen_head[i] = -1;
	rc = check_cfg(v);
	if (!rc)
		rc = do_check(v);
out:
	for (uint32_t i = 0; v->seen && i < v->nseen; i++)
		free(v->seen[i]);
	free(v->flags);
	free(v->seen_head);
	free(v->seen_count);
	free(v->seen);
	free(v->pend);
	free(v);
	return rc;
}

int ebpf_verify(const struct ebpf_prog *p, char *err, size_t errlen)
{
	uint8_t *aux;
	int rc;

	if (!p || !p->insns || !p->ninsns || p->ninsns > EBPF_MAX_INSNS)
		return verify(p ? p : &(struct ebpf_prog){0}, err, errlen, NULL,
			      false);
	aux = calloc(p->ninsns, 1);
	if (!aux)
		return -ENOMEM;
	rc = verify(p, err, errlen, aux, false);
	free(aux);
	return rc;
}

static int prepare(struct ebpf_prog *p, char *err, size_t errlen, bool xdp)
{
	uint8_t *aux;
	int rc;

	if (!p || !p->insns || !p->ninsns || p->ninsns > EBPF_MAX_INSNS)
		return ebpf_verify(p, err, errlen);
	aux = calloc(p->ninsns, 1);
	if (!aux)
		return -ENOMEM;
	rc = verify(p, err, errlen, aux, xdp);
	if (rc == 0 && !p->ctx_rewritten) {
		/* Every context access goes to Skiff's structure: the
		 * offset moves, and a whole pointer field becomes a 64-bit
		 * load (a narrow read keeps its size). */
		for (uint32_t i = 0; i < p->ninsns; i++) {
			struct ebpf_insn *in = &p->insns[i];
			const struct ctx_field *f;
			bool write = EBPF_CLASS(in->code) != EBPF_LDX;
			int narrow;

			if (aux[i] != AUX_CTX)
				continue;
			f = ctx_access(p, in->off,
				       size_bytes(EBPF_SIZE(in->code)), write,
				       &narrow);
			if (!f)
				continue; /* cannot happen: verified */
			in->off = (int16_t)(f->skiff_off + narrow);
			if (!narrow && f->size == EBPF_SIZE(in->code))
				in->code = (uint8_t)((in->code & ~0x18) |
						     f->skiff_size);
		}
		p->ctx_rewritten = true;
	}
	free(aux);
	return rc;
}

int ebpf_prog_prepare(struct ebpf_prog *p, char *err, size_t errlen)
{
	return prepare(p, err, errlen, false);
}

int ebpf_prog_prepare_xdp(struct ebpf_prog *p, char *err, size_t errlen)
{
	return prepare(p, err, errlen, true);
}

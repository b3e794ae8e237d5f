/* The verifier's abstract domain for a 64-bit scalar (verifier.c): known
 * bits plus signed and unsigned 64-bit bounds plus signed and unsigned
 * bounds of the low 32 bits, kept consistent with each other after every
 * step (scalar_sync). Exposed for the verifier's unit tests, which check
 * the transfer functions against concrete arithmetic. */
#ifndef SKIFF_NET_EBPF_SCALAR_H
#define SKIFF_NET_EBPF_SCALAR_H

#include <stdbool.h>
#include <stdint.h>

#include "ebpf/tnum.h"

struct scalar {
	struct tnum var;
	int64_t smin, smax;
	uint64_t umin, umax;
	int32_t s32min, s32max;
	uint32_t u32min, u32max;
};

void scalar_unknown(struct scalar *s);
void scalar_const(struct scalar *s, uint64_t c);
bool scalar_is_const(const struct scalar *s);
/* Tightens every component from the others; false when s holds no value. */
bool scalar_sync(struct scalar *s);
bool scalar_contains(const struct scalar *s, uint64_t x);
/* a is at least as general as b (every value of b is in a). */
bool scalar_subsumes(const struct scalar *a, const struct scalar *b);

/* The concrete semantics (RFC 9669) of ALU op `op` (EBPF_ADD...EBPF_END,
 * EBPF_MOV) with instruction offset `off` (1: signed div/mod; 8/16/32:
 * movsx) and, for EBPF_END, `imm` the width and `to_be`. */
uint64_t scalar_eval(uint8_t op, bool is64, int16_t off, int32_t imm,
		     bool to_be, uint64_t a, uint64_t b);
/* dst = dst op src over the domain (same parameters). Shift amounts are
 * taken modulo the width, division by zero gives 0 and modulo by zero
 * leaves the dividend, as the interpreter does. */
void scalar_alu(struct scalar *dst, const struct scalar *src, uint8_t op,
		bool is64, int16_t off, int32_t imm, bool to_be);
/* Sign-extends the low `bytes` bytes (1, 2, 4) of s into 64 bits. */
void scalar_sext(struct scalar *s, int bytes);
/* Zero-extends the low `bytes` bytes of s (a load, a 32-bit result). */
void scalar_zext(struct scalar *s, int bytes);

/* Narrows a and b knowing that `a op b` holds for jump op `op` (EBPF_JEQ
 * ... EBPF_JSLE; EBPF_JSET; or EBPF_JSET | 1 for "a & b == 0"), comparing
 * 64-bit values or, when !is64, the low 32 bits only. False when the
 * comparison cannot hold for any values of a and b. */
bool scalar_cond(struct scalar *a, struct scalar *b, uint8_t op, bool is64);
/* The jump op that holds when `op` does not (EBPF_JSET <-> EBPF_JSET|1). */
uint8_t scalar_cond_negate(uint8_t op);
/* The concrete comparison. */
bool scalar_cond_eval(uint8_t op, bool is64, uint64_t a, uint64_t b);

#endif

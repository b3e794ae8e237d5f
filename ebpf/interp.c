/* The reference interpreter: the whole RFC 9669 instruction set as Skiff
 * runs it (cpu v1-v4: ALU/ALU64 with sdiv/smod, movsx and bswap,
 * JMP/JMP32 with gotol, ld_imm64 with map pseudo-loads, LDX of every size
 * plain and sign-extending, ST/STX, atomics with and without fetch, xchg,
 * cmpxchg, helper calls), with a 512-byte stack.
 *
 * The program must have been through ebpf_prog_prepare(): memory accesses
 * are not checked here, and the context loads use struct ebpf_xdp_ctx
 * offsets. What is checked is the encoding: every instruction is decoded
 * by ebpf_insn_invalid() (isa.c) before it runs, and anything that is not
 * a valid instruction (or a helper that does not exist, a map index with
 * no map, a jump out of the program) stops the run with a trap instead of
 * being given some meaning the verifier never checked.
 *
 * Arithmetic follows RFC 9669: shift counts are masked to 63 (31 for
 * 32-bit operations); division by zero gives 0, modulo by zero leaves the
 * dividend (zero-extended for 32-bit); signed INT_MIN / -1 wraps to
 * INT_MIN and INT_MIN % -1 is 0; 32-bit operations zero-extend.
 *
 * Test builds can define three hooks, in the header EBPF_INTERP_HOOKS names
 * (they compile to nothing otherwise):
 *   EBPF_INTERP_CHECK_ACCESS(fp, addr, size, write)  nonzero if the access
 *       is allowed; fp is the frame pointer (the stack is [fp-512, fp));
 *   EBPF_INTERP_CHECK_CALL(fp, id, regs)  nonzero if the helper's memory
 *       arguments (regs[1..5]) are allowed;
 *   EBPF_INTERP_MAX_STEPS  an instruction budget (the verifier promises
 *       termination; a fuzzer checks that promise). */
#include <string.h>

#include "ebpf/ebpf.h"
#include "kernel/kerrno.h"

#ifdef EBPF_INTERP_HOOKS
#include EBPF_INTERP_HOOKS
#endif
#ifndef EBPF_INTERP_CHECK_ACCESS
#define EBPF_INTERP_CHECK_ACCESS(fp, addr, size, write) 1
#endif
#ifndef EBPF_INTERP_CHECK_CALL
#define EBPF_INTERP_CHECK_CALL(fp, id, regs) 1
#endif

static uint64_t sext(uint64_t v, unsigned bits)
{
	uint64_t m = 1ull << (bits - 1);

	if (bits < 64)
		v &= (1ull << bits) - 1;
	return (v ^ m) - m;
}

/* Unsigned and signed division and modulo of width 32 or 64; a and b are
 * already truncated to the width. */
static uint64_t divmod(bool mod, bool is_signed, uint64_t a, uint64_t b,
		       bool is64)
{
	unsigned bits = is64 ? 64 : 32;
	int64_t sa, sb;

	if (b == 0)
		return mod ? a : 0;
	if (!is_signed)
		return mod ? a % b : a / b;
	sa = (int64_t)sext(a, bits);
	sb = (int64_t)sext(b, bits);
	if (sb == -1) /* INT_MIN / -1 overflows in C: wrap it. */
		return mod ? 0 : 0 - (uint64_t)sa;
	return (uint64_t)(mod ? sa % sb : sa / sb);
}

/* An ALU or ALU64 operation other than END (valid, checked by isa.c). */
static uint64_t alu(const struct ebpf_insn *in, uint64_t a, uint64_t b)
{
	bool is64 = EBPF_CLASS(in->code) == EBPF_ALU64;
	unsigned sh = (unsigned)(b & (is64 ? 63 : 31));
	uint64_t v;

	if (!is64) {
		a = (uint32_t)a;
		b = (uint32_t)b;
	}
	switch (EBPF_OP(in->code)) {
	case EBPF_ADD:
		v = a + b;
		break;
	case EBPF_SUB:
		v = a - b;
		break;
	case EBPF_MUL:
		v = a * b;
		break;
	case EBPF_DIV:
	case EBPF_MOD:
		v = divmod(EBPF_OP(in->code) == EBPF_MOD, in->off == 1, a, b,
			   is64);
		break;
	case EBPF_OR:
		v = a | b;
		break;
	case EBPF_AND:
		v = a & b;
		break;
	case EBPF_XOR:
		v = a ^ b;
		break;
	case EBPF_LSH:
		v = a << sh;
		break;
	case EBPF_RSH:
		v = a >> sh;
		break;
	case EBPF_ARSH:
		v = (uint64_t)((int64_t)sext(a, is64 ? 64 : 32) >> sh);
		break;
	case EBPF_NEG:
		v = 0 - a;
		break;
	default: /* EBPF_MOV, EBPF_MOVSX */
		v = in->off ? sext(b, (unsigned)in->off) : b;
		break;
	}
	return is64 ? v : (uint32_t)v;
}

/* END: to little endian truncates (x86 is little endian), to big endian
 * and the ALU64 bswap swap; both zero-extend. */
static uint64_t byteswap(const struct ebpf_insn *in, uint64_t v)
{
	bool swap =
	    EBPF_CLASS(in->code) == EBPF_ALU64 || EBPF_SRC(in->code) == EBPF_X;

	switch (in->imm) {
	case 16:
		return swap ? __builtin_bswap16((uint16_t)v) : (uint16_t)v;
	case 32:
		return swap ? __builtin_bswap32((uint32_t)v) : (uint32_t)v;
	default:
		return swap ? __builtin_bswap64(v) : v;
	}
}

static bool cond(uint8_t op, uint64_t a, uint64_t b, bool is64)
{
	int64_t sa = (int64_t)a, sb = (int64_t)b;

	if (!is64) {
		a = (uint32_t)a;
		b = (uint32_t)b;
		sa = (int32_t)(uint32_t)a;
		sb = (int32_t)(uint32_t)b;
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
	case EBPF_JSET:
		return (a & b) != 0;
	case EBPF_JSGT:
		return sa > sb;
	case EBPF_JSGE:
		return sa >= sb;
	case EBPF_JSLT:
		return sa < sb;
	default:
		return sa <= sb; /* EBPF_JSLE */
	}
}

static unsigned size_bytes(uint8_t size)
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

static uint64_t load(uintptr_t addr, unsigned n)
{
	switch (n) {
	case 1:
		return *(const uint8_t *)addr;
	case 2: {
		uint16_t v;
		memcpy(&v, (void *)addr, 2);
		return v;
	}
	case 4: {
		uint32_t v;
		memcpy(&v, (void *)addr, 4);
		return v;
	}
	default: {
		uint64_t v;
		memcpy(&v, (void *)addr, 8);
		return v;
	}
	}
}

static void store(uintptr_t addr, unsigned n, uint64_t v)
{
	switch (n) {
	case 1:
		*(uint8_t *)addr = (uint8_t)v;
		break;
	case 2: {
		uint16_t x = (uint16_t)v;
		memcpy((void *)addr, &x, 2);
		break;
	}
	case 4: {
		uint32_t x = (uint32_t)v;
		memcpy((void *)addr, &x, 4);
		break;
	}
	default:
		memcpy((void *)addr, &v, 8);
		break;
	}
}

/* Atomic read-modify-write (one CPU runs a program at a time, so plain
 * loads and stores are atomic here). Fetched values are zero-extended for
 * 32-bit operations; cmpxchg compares with r0 (its low half for 32-bit)
 * and always loads the old value into r0. */
static void atomic_op(uint64_t *r, const struct ebpf_insn *in, uintptr_t addr)
{
	unsigned n = size_bytes(EBPF_SIZE(in->code));
	uint64_t old = load(addr, n), v = r[in->src], nv;

	if (n == 4)
		v = (uint32_t)v;
	switch (in->imm & ~EBPF_FETCH) {
	case EBPF_ADD:
		nv = old + v;
		break;
	case EBPF_OR:
		nv = old | v;
		break;
	case EBPF_AND:
		nv = old & v;
		break;
	case EBPF_XOR:
		nv = old ^ v;
		break;
	case EBPF_XCHG & ~EBPF_FETCH:
		nv = v;
		break;
	default: /* EBPF_CMPXCHG */
		nv = (n == 4 ? (uint32_t)r[0] : r[0]) == old ? v : old;
		store(addr, n, nv);
		r[0] = old;
		return;
	}
	store(addr, n, nv);
	if (in->imm & EBPF_FETCH)
		r[in->src] = old;
}

int ebpf_interp_exec(const struct ebpf_prog *p, void *ctx, uint64_t *ret,
		     uint32_t *trap_pc)
{
	uint64_t stack[EBPF_STACK_SIZE / 8];
	uint64_t r[11] = {0};
	uint32_t pc = 0, at = 0;
	int err = -EINVAL;
#ifdef EBPF_INTERP_MAX_STEPS
	uint64_t steps = 0;
#endif

	r[1] = (uint64_t)(uintptr_t)ctx;
	r[10] = (uint64_t)(uintptr_t)stack + sizeof(stack);
	*ret = 0;

	for (;;) {
		const struct ebpf_insn *in;
		uint8_t c, cls;
		uint64_t src, imm;

		at = pc;
		if (pc >= p->ninsns) /* fell off the end, or jumped out */
			goto trap;
#ifdef EBPF_INTERP_MAX_STEPS
		if (++steps > (EBPF_INTERP_MAX_STEPS)) {
			err = -E2BIG;
			goto trap;
		}
#endif
		in = &p->insns[pc++];
		if (ebpf_insn_invalid(in,
				      pc < p->ninsns ? &p->insns[pc] : NULL))
			goto trap;
		c = in->code;
		cls = EBPF_CLASS(c);
		src = r[in->src];
		imm = (uint64_t)(int64_t)in->imm;

		switch (cls) {
		case EBPF_ALU:
		case EBPF_ALU64:
			if (EBPF_OP(c) == EBPF_END)
				r[in->dst] = byteswap(in, r[in->dst]);
			else
				r[in->dst] =
				    alu(in, r[in->dst],
					EBPF_SRC(c) == EBPF_X ? src : imm);
			break;
		case EBPF_JMP:
		case EBPF_JMP32: {
			uint8_t op = EBPF_OP(c);
			bool is64 = cls == EBPF_JMP;

			if (op == EBPF_EXIT) {
				*ret = r[0];
				return 0;
			}
			if (op == EBPF_CALL) {
				ebpf_helper_fn fn = ebpf_helper(in->imm);

				if (!fn)
					goto trap;
				if (!EBPF_INTERP_CHECK_CALL(r[10], in->imm,
							    r)) {
					err = -EFAULT;
					goto trap;
				}
				r[0] = fn(r[1], r[2], r[3], r[4], r[5]);
				break;
			}
			if (op == EBPF_JA)
				pc += is64 ? (int32_t)in->off : in->imm;
			else if (cond(op, r[in->dst],
				      EBPF_SRC(c) == EBPF_X ? src : imm, is64))
				pc += (int32_t)in->off;
			break;
		}
		case EBPF_LD: /* ld_imm64 */
			if (in->src == EBPF_PSEUDO_MAP_FD) {
				uint32_t m = (uint32_t)in->imm;

				if (m >= p->nmaps || !p->maps[m])
					goto trap;
				r[in->dst] = (uint64_t)(uintptr_t)p->maps[m];
			} else {
				r[in->dst] =
				    (uint32_t)in->imm |
				    (uint64_t)(uint32_t)p->insns[pc].imm << 32;
			}
			pc++;
			break;
		case EBPF_LDX: {
			uintptr_t a = (uintptr_t)(src + (int64_t)in->off);
			unsigned n = size_bytes(EBPF_SIZE(c));

			if (!EBPF_INTERP_CHECK_ACCESS(r[10], a, n, false)) {
				err = -EFAULT;
				goto trap;
			}
			r[in->dst] = load(a, n);
			if (EBPF_MODE(c) == EBPF_MEMSX)
				r[in->dst] = sext(r[in->dst], 8 * n);
			break;
		}
		default: { /* EBPF_ST, EBPF_STX */
			uintptr_t a =
			    (uintptr_t)(r[in->dst] + (int64_t)in->off);
			unsigned n = size_bytes(EBPF_SIZE(c));

			if (!EBPF_INTERP_CHECK_ACCESS(r[10], a, n, true)) {
				err = -EFAULT;
				goto trap;
			}
			if (cls == EBPF_ST)
				store(a, n, imm);
			else if (EBPF_MODE(c) == EBPF_ATOMIC)
				atomic_op(r, in, a);
			else
				store(a, n, src);
			break;
		}
		}
	}
trap:
	if (trap_pc)
		*trap_pc = at;
	return err;
}

uint64_t ebpf_run_interp(const struct ebpf_prog *p, void *ctx)
{
	uint64_t ret;

	if (ebpf_interp_exec(p, ctx, &ret, NULL))
		return EBPF_XDP_ABORTED;
	return ret;
}

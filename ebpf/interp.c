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
#include "ebpf/scalar.h"
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

/* ALU, END and jump semantics are the verifier's own (scalar_eval,
 * scalar_cond_eval in verifier.c): the interpreter runs exactly what the
 * verifier's transfer functions are proven against, one definition for
 * both. */
static uint64_t alu(const struct ebpf_insn *in, uint64_t a, uint64_t b)
{
	uint8_t op = EBPF_OP(in->code);
	bool end = op == EBPF_END;

	return scalar_eval(op, EBPF_CLASS(in->code) == EBPF_ALU64, in->off,
			   end ? in->imm : 0,
			   end && EBPF_SRC(in->code) == EBPF_X, a, b);
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
			r[in->dst] =
			    alu(in, r[in->dst],
				EBPF_SRC(c) == EBPF_X && EBPF_OP(c) != EBPF_END
				    ? src
				    : imm);
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
			else if (scalar_cond_eval(op, is64, r[in->dst],
						  EBPF_SRC(c) == EBPF_X ? src
									: imm))
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

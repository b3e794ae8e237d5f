/* The reference interpreter: every instruction the verifier accepts (the
 * eBPF ISA clang emits for -mcpu=v1..v3: ALU/ALU64, JMP/JMP32, ld_imm64
 * with map pseudo-loads, LDX/ST/STX of every size, atomics, helper calls),
 * with a 512-byte stack. The program must have been through
 * ebpf_prog_prepare(): memory accesses are not checked here, and the
 * context loads use struct ebpf_xdp_ctx offsets. Division by zero gives 0
 * and modulo by zero leaves the dividend, as in Linux. */
#include <string.h>

#include "ebpf/ebpf.h"

static uint64_t bswap64(uint64_t x)
{
	return __builtin_bswap64(x);
}

/* Result of an ALU operation on 64-bit (or, for ALU, 32-bit) operands. */
static uint64_t alu(uint8_t op, uint64_t a, uint64_t b, bool is64, int imm)
{
	unsigned sh = is64 ? (b & 63) : (b & 31);

	if (!is64) {
		a = (uint32_t)a;
		b = (uint32_t)b;
	}
	switch (op) {
	case EBPF_ADD:
		return a + b;
	case EBPF_SUB:
		return a - b;
	case EBPF_MUL:
		return a * b;
	case EBPF_DIV:
		return b ? a / b : 0;
	case EBPF_MOD:
		return b ? a % b : a;
	case EBPF_OR:
		return a | b;
	case EBPF_AND:
		return a & b;
	case EBPF_XOR:
		return a ^ b;
	case EBPF_LSH:
		return a << sh;
	case EBPF_RSH:
		return a >> sh;
	case EBPF_ARSH:
		if (is64)
			return (uint64_t)((int64_t)a >> sh);
		return (uint32_t)((int32_t)(uint32_t)a >> sh);
	case EBPF_NEG:
		return -a;
	case EBPF_MOV:
		return b;
	default:
		return 0;
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
	case EBPF_JSLE:
		return sa <= sb;
	default:
		return false;
	}
}

static uint64_t load(uintptr_t addr, uint8_t size)
{
	switch (size) {
	case EBPF_B:
		return *(const uint8_t *)addr;
	case EBPF_H: {
		uint16_t v;
		memcpy(&v, (void *)addr, 2);
		return v;
	}
	case EBPF_W: {
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

static void store(uintptr_t addr, uint8_t size, uint64_t v)
{
	switch (size) {
	case EBPF_B:
		*(uint8_t *)addr = (uint8_t)v;
		break;
	case EBPF_H: {
		uint16_t x = (uint16_t)v;
		memcpy((void *)addr, &x, 2);
		break;
	}
	case EBPF_W: {
		uint32_t x = (uint32_t)v;
		memcpy((void *)addr, &x, 4);
		break;
	}
	default:
		memcpy((void *)addr, &v, 8);
		break;
	}
}

static void atomic_op(uint64_t *reg, uint64_t *r0, uintptr_t addr, uint8_t size,
		      int32_t imm)
{
	bool is64 = size == EBPF_DW;
	uint64_t old = load(addr, size), v = *reg, nv;

	switch (imm & ~EBPF_FETCH) {
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
	case EBPF_CMPXCHG & ~EBPF_FETCH:
		nv = (is64 ? *r0 : (uint32_t)*r0) == old ? v : old;
		store(addr, size, nv);
		*r0 = old;
		return;
	default:
		return;
	}
	store(addr, size, nv);
	if (imm & EBPF_FETCH)
		*reg = old;
}

uint64_t ebpf_run_interp(const struct ebpf_prog *p, void *ctx)
{
	uint64_t stack[EBPF_STACK_SIZE / 8];
	uint64_t r[11] = {0};
	uint32_t pc = 0;

	r[1] = (uint64_t)(uintptr_t)ctx;
	r[10] = (uint64_t)(uintptr_t)stack + sizeof(stack);

	while (pc < p->ninsns) {
		const struct ebpf_insn *in = &p->insns[pc++];
		uint8_t c = in->code, cls = EBPF_CLASS(c);
		uint64_t *dst = &r[in->dst < 11 ? in->dst : 0];
		uint64_t src = r[in->src < 11 ? in->src : 0];
		uint64_t imm = (uint64_t)(int64_t)in->imm;

		switch (cls) {
		case EBPF_ALU:
		case EBPF_ALU64: {
			bool is64 = cls == EBPF_ALU64;
			uint8_t op = EBPF_OP(c);

			if (op == EBPF_END) {
				uint64_t v = *dst;
				bool be = EBPF_SRC(c) == EBPF_X || is64;
				switch (in->imm) {
				case 16:
					v = be ? __builtin_bswap16((uint16_t)v)
					       : (uint16_t)v;
					break;
				case 32:
					v = be ? __builtin_bswap32((uint32_t)v)
					       : (uint32_t)v;
					break;
				default:
					v = be ? bswap64(v) : v;
					break;
				}
				*dst = v;
				break;
			}
			uint64_t b = EBPF_SRC(c) == EBPF_X ? src : imm;
			uint64_t v = alu(op, *dst, b, is64, in->imm);
			*dst = is64 ? v : (uint32_t)v;
			break;
		}
		case EBPF_JMP:
		case EBPF_JMP32: {
			uint8_t op = EBPF_OP(c);

			if (op == EBPF_EXIT)
				return r[0];
			if (op == EBPF_CALL) {
				ebpf_helper_fn fn = ebpf_helper(in->imm);
				r[0] =
				    fn ? fn(r[1], r[2], r[3], r[4], r[5]) : 0;
				break;
			}
			if (op == EBPF_JA) {
				pc += in->off;
				break;
			}
			uint64_t b = EBPF_SRC(c) == EBPF_X ? src : imm;
			if (cond(op, *dst, b, cls == EBPF_JMP))
				pc += in->off;
			break;
		}
		case EBPF_LD:
			/* ld_imm64 (the only LD the verifier accepts). */
			if (pc >= p->ninsns)
				return 0;
			if (in->src == EBPF_PSEUDO_MAP_FD)
				*dst = (uint64_t)(uintptr_t)
					   p->maps[(uint32_t)in->imm %
						   EBPF_MAX_MAPS];
			else
				*dst = (uint32_t)in->imm |
				       ((uint64_t)(uint32_t)p->insns[pc].imm
					<< 32);
			pc++;
			break;
		case EBPF_LDX:
			*dst = load((uintptr_t)(src + in->off), EBPF_SIZE(c));
			break;
		case EBPF_ST:
			store((uintptr_t)(*dst + in->off), EBPF_SIZE(c), imm);
			break;
		case EBPF_STX:
			if (EBPF_MODE(c) == EBPF_ATOMIC)
				atomic_op(&r[in->src < 11 ? in->src : 0], &r[0],
					  (uintptr_t)(*dst + in->off),
					  EBPF_SIZE(c), in->imm);
			else
				store((uintptr_t)(*dst + in->off), EBPF_SIZE(c),
				      src);
			break;
		}
	}
	return r[0];
}

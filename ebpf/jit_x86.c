/* x86-64 JIT for verified eBPF programs.
 *
 * The compiled program is a System V function uint64_t fn(void *ctx). The
 * eBPF registers live in fixed x86 registers, chosen so that r1-r5 already
 * are the System V argument registers (a helper call needs no shuffling),
 * r0 is the return register, and r6-r9 sit in callee-saved registers that
 * survive helper calls:
 *
 *   r0 rax   r1 rdi   r2 rsi   r3 rdx   r4 rcx   r5 r8
 *   r6 rbx   r7 r13   r8 r14   r9 r15   r10 rbp (frame pointer)
 *
 * r9, r10 and r11 of x86 are scratch for the JIT's own sequences (division,
 * shifts by a register, helper address); rsp and r12 are never used as a
 * memory base, so no SIB byte is ever needed.
 *
 * Frame: push rbp; rbp = rsp; 512 bytes of eBPF stack at [rbp-512, rbp);
 * then rbx, r13, r14, r15 are saved below it. The entry rsp is 8 mod 16,
 * so after the five pushes and the 512 bytes rsp is 16-byte aligned at
 * every helper call, as the ABI requires.
 *
 * Jumps are sized by repeated passes: every instruction is first assumed
 * to take the largest size, and each pass emits jumps with the offsets of
 * the previous one, choosing rel8 where it fits. Sizes only ever shrink,
 * so the distances do too and the passes converge; the image is written by
 * one more pass with the converged offsets.
 *
 * The code buffer comes from the page allocator, is written while it is
 * writable and then sealed read-only + executable (W^X). Anything the JIT
 * does not cover returns -ENOTSUP and the interpreter runs the program. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ebpf/ebpf.h"
#include "kernel/kerrno.h"

#ifdef SKIFF_HOST_TEST
#include <sys/mman.h>
#else
#include "kernel/page_alloc.h"
#include "kernel/paging.h"
#endif

/* ---- eBPF encodings ebpf.h does not name ---------------------------- */
#define EBPF_LD_IMM64	    (EBPF_LD | EBPF_IMM | EBPF_DW)
#define EBPF_FUNC_tail_call 12

/* ---- x86 registers ----------------------------------------------------- */
enum {
	RAX,
	RCX,
	RDX,
	RBX,
	RSP,
	RBP,
	RSI,
	RDI,
	R8,
	R9,
	R10,
	R11,
	R12,
	R13,
	R14,
	R15,
};

static const uint8_t jit_reg[11] = {
    RAX, RDI, RSI, RDX, RCX, R8, RBX, R13, R14, R15, RBP,
};

/* x86 condition codes (the low nibble of Jcc). */
enum {
	CC_B = 0x2,
	CC_AE = 0x3,
	CC_E = 0x4,
	CC_NE = 0x5,
	CC_BE = 0x6,
	CC_A = 0x7,
	CC_L = 0xc,
	CC_GE = 0xd,
	CC_LE = 0xe,
	CC_G = 0xf,
};

/* The longest sequence one eBPF instruction becomes (signed division with
 * every check is about 50 bytes); the first pass assumes it everywhere. */
#define JIT_MAX_INSN   96
#define JIT_MAX_PASSES 32

struct jit_state {
	const struct ebpf_prog *prog;
	const struct ebpf_insn *insns;
	uint32_t n;
	uint32_t *prev;	  /* start offset of each slot in the previous pass */
	uint32_t *cur;	  /* ... in the pass being run; [n] is the epilogue */
	bool force_rel32; /* fallback that cannot oscillate */
	/* The instruction being emitted. */
	uint8_t buf[JIT_MAX_INSN];
	uint32_t len;
	bool overflow;
};

/* ---- code buffer: page allocator + W^X in the kernel, mmap on the host - */
#ifdef SKIFF_HOST_TEST
static void *jit_alloc(size_t npages)
{
	void *p = mmap(NULL, npages * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static int jit_seal(void *addr, size_t npages)
{
	return mprotect(addr, npages * 4096, PROT_READ | PROT_EXEC);
}

static void jit_release(void *addr, size_t npages, bool sealed)
{
	(void)sealed;
	munmap(addr, npages * 4096);
}
#else
static void *jit_alloc(size_t npages)
{
	return (void *)(uintptr_t)page_alloc(npages, PAGE_SIZE);
}

static int jit_seal(void *addr, size_t npages)
{
	return paging_protect((uint64_t)(uintptr_t)addr, npages * PAGE_SIZE,
			      false, true);
}

static void jit_release(void *addr, size_t npages, bool sealed)
{
	/* Give the pages back writable and non-executable, as the rest of
	 * RAM is mapped; if that fails, leak them rather than hand out
	 * read-only pages. */
	if (sealed && paging_protect((uint64_t)(uintptr_t)addr,
				     npages * PAGE_SIZE, true, false))
		return;
	page_free((uint64_t)(uintptr_t)addr, npages);
}
#endif

static size_t jit_pages(size_t bytes)
{
	return (bytes + 4095) / 4096;
}

/* ---- byte emitters ----------------------------------------------------- */
static void emit1(struct jit_state *s, uint8_t b)
{
	if (s->len < JIT_MAX_INSN)
		s->buf[s->len++] = b;
	else
		s->overflow = true;
}

static void emit2(struct jit_state *s, uint16_t v)
{
	emit1(s, (uint8_t)v);
	emit1(s, (uint8_t)(v >> 8));
}

static void emit4(struct jit_state *s, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		emit1(s, (uint8_t)(v >> (8 * i)));
}

static void emit8(struct jit_state *s, uint64_t v)
{
	emit4(s, (uint32_t)v);
	emit4(s, (uint32_t)(v >> 32));
}

static bool is_imm8(int64_t v)
{
	return v >= -128 && v <= 127;
}

/* REX prefix for a ModRM reg field `reg` and r/m or base field `rm`.
 * `byte_regs` forces the prefix when an 8-bit operand is one of spl, bpl,
 * sil, dil (without REX those encodings mean ah, ch, dh, bh). */
static void emit_rex(struct jit_state *s, bool w, uint8_t reg, uint8_t rm,
		     bool byte_regs)
{
	uint8_t rex =
	    0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((rm & 8) ? 1 : 0);
	bool force =
	    byte_regs && ((reg >= 4 && reg <= 7) || (rm >= 4 && rm <= 7));

	if (rex != 0x40 || force)
		emit1(s, rex);
}

static void emit_modrm_reg(struct jit_state *s, uint8_t reg, uint8_t rm)
{
	emit1(s, 0xc0 | (reg & 7) << 3 | (rm & 7));
}

/* ModRM (+ displacement) for [base + off]. The base is never rsp or r12,
 * which would need a SIB byte; mod 00 is never used, so rbp and r13 as a
 * base are plain. */
static void emit_modrm_mem(struct jit_state *s, uint8_t reg, uint8_t base,
			   int32_t off)
{
	if (is_imm8(off)) {
		emit1(s, 0x40 | (reg & 7) << 3 | (base & 7));
		emit1(s, (uint8_t)off);
	} else {
		emit1(s, 0x80 | (reg & 7) << 3 | (base & 7));
		emit4(s, (uint32_t)off);
	}
}

/* "op r/m, reg" with two registers (add, or, and, sub, xor, cmp, test,
 * mov: opcodes 01, 09, 21, 29, 31, 39, 85, 89). */
static void emit_rr(struct jit_state *s, uint8_t op, bool w, uint8_t reg,
		    uint8_t rm)
{
	emit_rex(s, w, reg, rm, false);
	emit1(s, op);
	emit_modrm_reg(s, reg, rm);
}

static void emit_mov_rr(struct jit_state *s, bool w, uint8_t dst, uint8_t src)
{
	emit_rr(s, 0x89, w, src, dst);
}

/* Group-1 arithmetic with an immediate: /0 add, /1 or, /4 and, /5 sub,
 * /6 xor, /7 cmp. The 64-bit forms sign-extend imm32, as eBPF does. */
static void emit_alu_imm(struct jit_state *s, uint8_t ext, bool w, uint8_t dst,
			 int32_t imm)
{
	emit_rex(s, w, 0, dst, false);
	if (is_imm8(imm)) {
		emit1(s, 0x83);
		emit_modrm_reg(s, ext, dst);
		emit1(s, (uint8_t)imm);
	} else {
		emit1(s, 0x81);
		emit_modrm_reg(s, ext, dst);
		emit4(s, (uint32_t)imm);
	}
}

/* dst = imm (64-bit: sign-extended imm32; 32-bit: zero-extended). */
static void emit_mov_imm(struct jit_state *s, bool w, uint8_t dst, int32_t imm)
{
	if (imm == 0) {
		emit_rr(s, 0x31, false, dst, dst); /* xor r32, r32 */
	} else if (!w || imm > 0) {
		emit_rex(s, false, 0, dst, false);
		emit1(s, 0xb8 + (dst & 7)); /* mov r32, imm32 */
		emit4(s, (uint32_t)imm);
	} else {
		emit_rex(s, true, 0, dst, false);
		emit1(s, 0xc7); /* mov r/m64, simm32 */
		emit_modrm_reg(s, 0, dst);
		emit4(s, (uint32_t)imm);
	}
}

static void emit_mov_imm64(struct jit_state *s, uint8_t dst, uint64_t v)
{
	if (v <= UINT32_MAX) {
		emit_mov_imm(s, false, dst, (int32_t)(uint32_t)v);
	} else if ((int64_t)v >= INT32_MIN && (int64_t)v <= INT32_MAX) {
		emit_mov_imm(s, true, dst, (int32_t)v);
	} else {
		emit_rex(s, true, 0, dst, false);
		emit1(s, 0xb8 + (dst & 7)); /* movabs r64, imm64 */
		emit8(s, v);
	}
}

/* Short forward jump inside one instruction's sequence: returns where its
 * displacement byte is, for emit_patch8 once the target is reached. */
static uint32_t emit_jcc8(struct jit_state *s, uint8_t op)
{
	emit1(s, op);
	emit1(s, 0);
	return s->len - 1;
}

static void emit_patch8(struct jit_state *s, uint32_t at)
{
	if (at < JIT_MAX_INSN)
		s->buf[at] = (uint8_t)(s->len - (at + 1));
}

/* ---- instruction classes ----------------------------------------------- */

/* div, mod, sdiv, smod (off == 1 selects the signed forms, cpu v4).
 * x86 divides rdx:rax, which hold r3 and r0, so both are parked in r9/r10
 * and the divisor in r11. Division by zero gives 0 and modulo by zero
 * leaves dst (zero-extended for ALU32); signed INT_MIN / -1, which traps
 * on x86, gives INT_MIN and modulo 0, as eBPF defines. */
static int jit_divmod(struct jit_state *s, const struct ebpf_insn *in, bool w)
{
	uint8_t dst = jit_reg[in->dst];
	bool is_mod = EBPF_OP(in->code) == EBPF_MOD;
	bool is_signed = in->off == 1;
	uint32_t to_nonzero, to_done1, to_done2 = 0, to_normal = 0;

	if (in->off != 0 && in->off != 1)
		return -ENOTSUP;
	if (EBPF_SRC(in->code) == EBPF_K)
		emit_mov_imm(s, w, R11, in->imm);
	else
		emit_mov_rr(s, w, R11, jit_reg[in->src]);
	emit_rr(s, 0x85, w, R11, R11); /* test r11, r11 */
	to_nonzero = emit_jcc8(s, 0x70 + CC_NE);
	if (!is_mod)
		emit_rr(s, 0x31, false, dst, dst);
	else if (!w)
		emit_mov_rr(s, false, dst, dst);
	to_done1 = emit_jcc8(s, 0xeb);
	emit_patch8(s, to_nonzero);

	if (is_signed) {
		emit_alu_imm(s, 7, w, R11, -1); /* cmp r11, -1 */
		to_normal = emit_jcc8(s, 0x70 + CC_NE);
		if (!is_mod) {
			emit_rex(s, w, 0, dst, false);
			emit1(s, 0xf7); /* neg dst */
			emit_modrm_reg(s, 3, dst);
		} else {
			emit_rr(s, 0x31, false, dst, dst);
		}
		to_done2 = emit_jcc8(s, 0xeb);
		emit_patch8(s, to_normal);
	}

	emit_mov_rr(s, true, R9, RAX);
	emit_mov_rr(s, true, R10, RDX);
	if (dst != RAX)
		emit_mov_rr(s, true, RAX, dst);
	if (is_signed) {
		if (w)
			emit1(s, 0x48);
		emit1(s, 0x99); /* cqo / cdq */
	} else {
		emit_rr(s, 0x31, false, RDX, RDX);
	}
	emit_rex(s, w, 0, R11, false);
	emit1(s, 0xf7);
	emit_modrm_reg(s, is_signed ? 7 : 6, R11); /* idiv / div r11 */
	emit_mov_rr(s, w, R11, is_mod ? RDX : RAX);
	emit_mov_rr(s, true, RAX, R9);
	emit_mov_rr(s, true, RDX, R10);
	emit_mov_rr(s, true, dst, R11);

	emit_patch8(s, to_done1);
	if (is_signed)
		emit_patch8(s, to_done2);
	return 0;
}

/* lsh, rsh, arsh. x86 shifts by a register only by cl, and rcx is r4:
 * rcx is parked in r11; when r4 is also the destination, the shift is
 * done on the parked copy. Counts are masked to 63 / 31, as x86 does. */
static int jit_shift(struct jit_state *s, const struct ebpf_insn *in, bool w)
{
	uint8_t dst = jit_reg[in->dst];
	uint8_t ext = EBPF_OP(in->code) == EBPF_LSH   ? 4
		      : EBPF_OP(in->code) == EBPF_RSH ? 5
						      : 7;

	if (EBPF_SRC(in->code) == EBPF_K) {
		uint8_t count = (uint8_t)in->imm & (w ? 63 : 31);

		if (count == 0) {
			if (!w)
				emit_mov_rr(s, false, dst, dst);
			return 0;
		}
		emit_rex(s, w, 0, dst, false);
		if (count == 1) {
			emit1(s, 0xd1);
			emit_modrm_reg(s, ext, dst);
		} else {
			emit1(s, 0xc1);
			emit_modrm_reg(s, ext, dst);
			emit1(s, count);
		}
		return 0;
	}

	uint8_t src = jit_reg[in->src];
	uint8_t target = dst == RCX ? R11 : dst;

	emit_mov_rr(s, true, R11, RCX);
	if (src != RCX)
		emit_mov_rr(s, true, RCX, src);
	emit_rex(s, w, 0, target, false);
	emit1(s, 0xd3);
	emit_modrm_reg(s, ext, target);
	/* The upper half must be clear even for a count of 0 (which leaves
	 * flags alone); do not rely on the CPU writing the register then. */
	if (!w)
		emit_mov_rr(s, false, target, target);
	emit_mov_rr(s, true, RCX, R11);
	return 0;
}

/* EBPF_END: to big endian swaps (x86 is little endian), to little endian
 * only truncates; ALU64 | END (cpu v4 bswap) always swaps. */
static int jit_end(struct jit_state *s, const struct ebpf_insn *in, bool w)
{
	uint8_t dst = jit_reg[in->dst];
	bool swap = w || EBPF_SRC(in->code) == EBPF_TO_BE;

	switch (in->imm) {
	case 16:
		if (swap) {
			emit1(s, 0x66);
			emit_rex(s, false, 0, dst, false);
			emit1(s, 0xc1); /* ror r16, 8 */
			emit_modrm_reg(s, 1, dst);
			emit1(s, 8);
		}
		emit_rex(s, false, dst, dst, false);
		emit1(s, 0x0f); /* movzx r32, r16 */
		emit1(s, 0xb7);
		emit_modrm_reg(s, dst, dst);
		return 0;
	case 32:
		if (swap) {
			emit_rex(s, false, 0, dst, false);
			emit1(s, 0x0f);
			emit1(s, 0xc8 + (dst & 7)); /* bswap r32 */
		} else {
			emit_mov_rr(s, false, dst, dst);
		}
		return 0;
	case 64:
		if (swap) {
			emit_rex(s, true, 0, dst, false);
			emit1(s, 0x0f);
			emit1(s, 0xc8 + (dst & 7)); /* bswap r64 */
		}
		return 0;
	default:
		return -ENOTSUP;
	}
}

static int jit_alu(struct jit_state *s, const struct ebpf_insn *in)
{
	bool w = EBPF_CLASS(in->code) == EBPF_ALU64;
	bool k = EBPF_SRC(in->code) == EBPF_K;
	uint8_t dst = jit_reg[in->dst];
	uint8_t src = jit_reg[in->src];
	uint8_t op = EBPF_OP(in->code);

	/* Only the signed division forms and movsx use off. */
	if (in->off != 0 && op != EBPF_DIV && op != EBPF_MOD && op != EBPF_MOV)
		return -ENOTSUP;

	switch (op) {
	case EBPF_ADD:
	case EBPF_SUB:
	case EBPF_OR:
	case EBPF_AND:
	case EBPF_XOR: {
		static const uint8_t rr_op[] = {
		    [EBPF_ADD >> 4] = 0x01, [EBPF_SUB >> 4] = 0x29,
		    [EBPF_OR >> 4] = 0x09,  [EBPF_AND >> 4] = 0x21,
		    [EBPF_XOR >> 4] = 0x31,
		};
		static const uint8_t imm_ext[] = {
		    [EBPF_ADD >> 4] = 0, [EBPF_SUB >> 4] = 5,
		    [EBPF_OR >> 4] = 1,	 [EBPF_AND >> 4] = 4,
		    [EBPF_XOR >> 4] = 6,
		};
		if (k)
			emit_alu_imm(s, imm_ext[op >> 4], w, dst, in->imm);
		else
			emit_rr(s, rr_op[op >> 4], w, src, dst);
		return 0;
	}
	case EBPF_MUL:
		/* The low half of a product is the same signed or unsigned,
		 * and two/three-operand imul leaves rdx alone. */
		emit_rex(s, w, dst, k ? dst : src, false);
		if (k) {
			emit1(s, is_imm8(in->imm) ? 0x6b : 0x69);
			emit_modrm_reg(s, dst, dst);
			if (is_imm8(in->imm))
				emit1(s, (uint8_t)in->imm);
			else
				emit4(s, (uint32_t)in->imm);
		} else {
			emit1(s, 0x0f);
			emit1(s, 0xaf);
			emit_modrm_reg(s, dst, src);
		}
		return 0;
	case EBPF_DIV:
	case EBPF_MOD:
		return jit_divmod(s, in, w);
	case EBPF_LSH:
	case EBPF_RSH:
	case EBPF_ARSH:
		return jit_shift(s, in, w);
	case EBPF_NEG:
		if (!k || in->imm != 0)
			return -ENOTSUP;
		emit_rex(s, w, 0, dst, false);
		emit1(s, 0xf7);
		emit_modrm_reg(s, 3, dst);
		return 0;
	case EBPF_MOV:
		if (k) {
			if (in->off != 0)
				return -ENOTSUP;
			emit_mov_imm(s, w, dst, in->imm);
			return 0;
		}
		switch (in->off) {
		case 0:
			/* mov r32, r32 even onto itself: it zero-extends. */
			if (w && dst == src)
				return 0;
			emit_mov_rr(s, w, dst, src);
			return 0;
		case 8:
		case 16: /* movsx r32/r64, r8/r16 (cpu v4) */
			emit_rex(s, w, dst, src, in->off == 8);
			emit1(s, 0x0f);
			emit1(s, in->off == 8 ? 0xbe : 0xbf);
			emit_modrm_reg(s, dst, src);
			return 0;
		case 32: /* movsxd r64, r32 */
			if (!w)
				return -ENOTSUP;
			emit_rex(s, true, dst, src, false);
			emit1(s, 0x63);
			emit_modrm_reg(s, dst, src);
			return 0;
		default:
			return -ENOTSUP;
		}
	case EBPF_END:
		return jit_end(s, in, w);
	default:
		return -ENOTSUP;
	}
}

static int jit_ldx(struct jit_state *s, const struct ebpf_insn *in)
{
	uint8_t dst = jit_reg[in->dst];
	uint8_t src = jit_reg[in->src];
	bool sx = EBPF_MODE(in->code) == EBPF_MEMSX;

	switch (EBPF_SIZE(in->code)) {
	case EBPF_B: /* movzx r32, m8 / movsx r64, m8 */
	case EBPF_H: /* movzx r32, m16 / movsx r64, m16 */
		emit_rex(s, sx, dst, src, false);
		emit1(s, 0x0f);
		if (EBPF_SIZE(in->code) == EBPF_B)
			emit1(s, sx ? 0xbe : 0xb6);
		else
			emit1(s, sx ? 0xbf : 0xb7);
		break;
	case EBPF_W: /* mov r32, m32 / movsxd r64, m32 */
		emit_rex(s, sx, dst, src, false);
		emit1(s, sx ? 0x63 : 0x8b);
		break;
	case EBPF_DW:
		if (sx)
			return -ENOTSUP;
		emit_rex(s, true, dst, src, false);
		emit1(s, 0x8b);
		break;
	}
	emit_modrm_mem(s, dst, src, in->off);
	return 0;
}

static int jit_stx(struct jit_state *s, const struct ebpf_insn *in)
{
	uint8_t dst = jit_reg[in->dst];
	uint8_t src = jit_reg[in->src];
	uint8_t size = EBPF_SIZE(in->code);

	if (size == EBPF_H)
		emit1(s, 0x66);
	emit_rex(s, size == EBPF_DW, src, dst, size == EBPF_B);
	emit1(s, size == EBPF_B ? 0x88 : 0x89);
	emit_modrm_mem(s, src, dst, in->off);
	return 0;
}

static int jit_st(struct jit_state *s, const struct ebpf_insn *in)
{
	uint8_t dst = jit_reg[in->dst];
	uint8_t size = EBPF_SIZE(in->code);

	if (size == EBPF_H)
		emit1(s, 0x66);
	emit_rex(s, size == EBPF_DW, 0, dst, false);
	emit1(s, size == EBPF_B ? 0xc6 : 0xc7);
	emit_modrm_mem(s, 0, dst, in->off);
	if (size == EBPF_B)
		emit1(s, (uint8_t)in->imm);
	else if (size == EBPF_H)
		emit2(s, (uint16_t)in->imm);
	else
		emit4(s, (uint32_t)in->imm); /* DW: sign-extended, as eBPF */
	return 0;
}

/* Fetching and, or, xor: x86 has no instruction that returns the old
 * value, so a cmpxchg loop. cmpxchg works on rax, which is r0: r0 is
 * parked in r9 (and r9 serves as the base when the base register is r0),
 * the operand is copied to r10 and the new value built in r11. */
static void jit_atomic_fetch_loop(struct jit_state *s,
				  const struct ebpf_insn *in, bool w)
{
	static const uint8_t rr_op[] = {
	    [EBPF_OR >> 4] = 0x09,
	    [EBPF_AND >> 4] = 0x21,
	    [EBPF_XOR >> 4] = 0x31,
	};
	uint8_t dst = jit_reg[in->dst], src = jit_reg[in->src];
	uint8_t base = dst == RAX ? R9 : dst;
	uint32_t loop;

	emit_mov_rr(s, true, R9, RAX);
	emit_mov_rr(s, true, R10, src);
	emit_rex(s, w, RAX, base, false);
	emit1(s, 0x8b); /* mov rax, [base + off] */
	emit_modrm_mem(s, RAX, base, in->off);
	loop = s->len;
	emit_mov_rr(s, w, R11, RAX);
	emit_rr(s, rr_op[(in->imm & ~EBPF_FETCH) >> 4], w, R10, R11);
	emit1(s, 0xf0); /* lock cmpxchg [base + off], r11 */
	emit_rex(s, w, R11, base, false);
	emit1(s, 0x0f);
	emit1(s, 0xb1);
	emit_modrm_mem(s, R11, base, in->off);
	emit1(s, 0x70 + CC_NE); /* another CPU got there first: again */
	emit1(s, (uint8_t)(loop - (s->len + 1)));
	/* rax holds the old value (zero-extended for 32 bits). */
	if (src != RAX) {
		emit_mov_rr(s, w, src, RAX);
		emit_mov_rr(s, true, RAX, R9);
	}
}

/* Atomic read-modify-write on 4 or 8 bytes: add/or/and/xor without fetch,
 * add with fetch (xadd), xchg and cmpxchg (which compares with r0 = rax,
 * as x86's does); the fetching and/or/xor run a cmpxchg loop. */
static int jit_atomic(struct jit_state *s, const struct ebpf_insn *in)
{
	uint8_t dst = jit_reg[in->dst];
	uint8_t src = jit_reg[in->src];
	bool w = EBPF_SIZE(in->code) == EBPF_DW;
	uint8_t op1, op2 = 0;

	if (EBPF_SIZE(in->code) != EBPF_W && !w)
		return -ENOTSUP;
	switch (in->imm) {
	case EBPF_OR | EBPF_FETCH:
	case EBPF_AND | EBPF_FETCH:
	case EBPF_XOR | EBPF_FETCH:
		jit_atomic_fetch_loop(s, in, w);
		return 0;
	case EBPF_ADD:
		op1 = 0x01;
		break;
	case EBPF_OR:
		op1 = 0x09;
		break;
	case EBPF_AND:
		op1 = 0x21;
		break;
	case EBPF_XOR:
		op1 = 0x31;
		break;
	case EBPF_ADD | EBPF_FETCH:
		op1 = 0x0f, op2 = 0xc1; /* xadd */
		break;
	case EBPF_XCHG:
		op1 = 0x87; /* xchg with memory is always locked */
		break;
	case EBPF_CMPXCHG:
		op1 = 0x0f, op2 = 0xb1;
		break;
	default:
		return -ENOTSUP;
	}
	if (in->imm != EBPF_XCHG)
		emit1(s, 0xf0); /* lock */
	emit_rex(s, w, src, dst, false);
	emit1(s, op1);
	if (op2)
		emit1(s, op2);
	emit_modrm_mem(s, src, dst, in->off);
	/* cmpxchg r/m32 leaves rax's upper half alone when it succeeds. */
	if (in->imm == EBPF_CMPXCHG && !w)
		emit_mov_rr(s, false, RAX, RAX);
	return 0;
}

/* Unconditional jump by disp bytes from the end of this instruction. */
static void emit_jmp(struct jit_state *s, int32_t disp)
{
	if (disp == 0 && !s->force_rel32)
		return;
	if (is_imm8(disp) && !s->force_rel32) {
		emit1(s, 0xeb);
		emit1(s, (uint8_t)disp);
	} else {
		emit1(s, 0xe9);
		emit4(s, (uint32_t)disp);
	}
}

/* Jump offsets come from the previous pass: displacement from the end of
 * this instruction (the Jcc is always its last bytes) to the target. */
static int32_t jump_disp(const struct jit_state *s, uint32_t i, uint32_t t)
{
	return (int32_t)(s->prev[t] - s->prev[i + 1]);
}

static int jit_jmp(struct jit_state *s, uint32_t i)
{
	const struct ebpf_insn *in = &s->insns[i];
	bool w = EBPF_CLASS(in->code) == EBPF_JMP;
	uint8_t op = EBPF_OP(in->code);
	uint8_t dst = jit_reg[in->dst];
	uint8_t cc;

	switch (op) {
	case EBPF_JA: {
		/* JMP32 | JA is gotol, with a 32-bit offset in imm. */
		int64_t off = w ? in->off : in->imm;
		int32_t disp = jump_disp(s, i, (uint32_t)(i + 1 + off));

		if (w ? in->imm != 0 : in->off != 0)
			return -ENOTSUP;
		emit_jmp(s, disp);
		return 0;
	}
	case EBPF_EXIT:
		if (!w)
			return -ENOTSUP;
		emit_jmp(s, jump_disp(s, i, s->n));
		return 0;
	case EBPF_CALL: {
		ebpf_helper_fn fn;

		/* src 1 is a call to another BPF function, 2 a kfunc. */
		if (!w || in->src != 0 || in->imm == EBPF_FUNC_tail_call)
			return -ENOTSUP;
		fn = ebpf_helper(in->imm);
		if (!fn)
			return -ENOTSUP;
		/* r1-r5 already are rdi, rsi, rdx, rcx, r8. rax is about to
		 * receive the result, so it can carry the address. */
		emit_rex(s, true, 0, RAX, false);
		emit1(s, 0xb8);
		emit8(s, (uint64_t)(uintptr_t)fn);
		emit1(s, 0xff); /* call rax */
		emit_modrm_reg(s, 2, RAX);
		return 0;
	}
	case EBPF_JEQ:
		cc = CC_E;
		break;
	case EBPF_JNE:
	case EBPF_JSET:
		cc = CC_NE;
		break;
	case EBPF_JGT:
		cc = CC_A;
		break;
	case EBPF_JGE:
		cc = CC_AE;
		break;
	case EBPF_JLT:
		cc = CC_B;
		break;
	case EBPF_JLE:
		cc = CC_BE;
		break;
	case EBPF_JSGT:
		cc = CC_G;
		break;
	case EBPF_JSGE:
		cc = CC_GE;
		break;
	case EBPF_JSLT:
		cc = CC_L;
		break;
	case EBPF_JSLE:
		cc = CC_LE;
		break;
	default:
		return -ENOTSUP;
	}

	if (EBPF_SRC(in->code) == EBPF_X) {
		/* cmp dst, src (flags of dst - src) or test dst, src */
		emit_rr(s, op == EBPF_JSET ? 0x85 : 0x39, w, jit_reg[in->src],
			dst);
	} else if (op == EBPF_JSET) {
		emit_rex(s, w, 0, dst, false);
		emit1(s, 0xf7); /* test r/m, simm32 */
		emit_modrm_reg(s, 0, dst);
		emit4(s, (uint32_t)in->imm);
	} else {
		emit_alu_imm(s, 7, w, dst, in->imm);
	}

	int32_t disp = jump_disp(s, i, (uint32_t)(i + 1 + in->off));

	if (disp == 0 && !s->force_rel32) {
		/* Both ways lead to the next instruction. */
	} else if (is_imm8(disp) && !s->force_rel32) {
		emit1(s, 0x70 + cc);
		emit1(s, (uint8_t)disp);
	} else {
		emit1(s, 0x0f);
		emit1(s, 0x80 + cc);
		emit4(s, (uint32_t)disp);
	}
	return 0;
}

static int jit_insn(struct jit_state *s, uint32_t i)
{
	const struct ebpf_insn *in = &s->insns[i];

	switch (EBPF_CLASS(in->code)) {
	case EBPF_ALU:
	case EBPF_ALU64:
		return jit_alu(s, in);
	case EBPF_LDX:
		if (EBPF_MODE(in->code) != EBPF_MEM &&
		    EBPF_MODE(in->code) != EBPF_MEMSX)
			return -ENOTSUP;
		return jit_ldx(s, in);
	case EBPF_STX:
		if (EBPF_MODE(in->code) == EBPF_ATOMIC)
			return jit_atomic(s, in);
		if (EBPF_MODE(in->code) != EBPF_MEM)
			return -ENOTSUP;
		return jit_stx(s, in);
	case EBPF_ST:
		if (EBPF_MODE(in->code) != EBPF_MEM)
			return -ENOTSUP;
		return jit_st(s, in);
	case EBPF_LD: {
		/* Only ld_imm64. With src EBPF_PSEUDO_MAP_FD the loader left
		 * an index into prog->maps in imm (ebpf.h): the map's address
		 * is baked in, as the interpreter loads the same pointer.
		 * LD_ABS/LD_IND (classic-BPF packet loads): not covered. */
		uint64_t v;

		if (in->code != EBPF_LD_IMM64)
			return -ENOTSUP;
		if (in->src == EBPF_PSEUDO_MAP_FD) {
			if ((uint32_t)in->imm >= s->prog->nmaps ||
			    !s->prog->maps[(uint32_t)in->imm])
				return -EINVAL;
			v = (uint64_t)(uintptr_t)
				s->prog->maps[(uint32_t)in->imm];
		} else if (in->src == 0) {
			v = (uint32_t)in->imm | (uint64_t)(uint32_t)in[1].imm
						    << 32;
		} else {
			return -ENOTSUP;
		}
		emit_mov_imm64(s, jit_reg[in->dst], v);
		return 0;
	}
	case EBPF_JMP:
	case EBPF_JMP32:
		return jit_jmp(s, i);
	default:
		return -ENOTSUP;
	}
}

/* ---- prologue, epilogue, passes --------------------------------------- */
static void emit_prologue(struct jit_state *s)
{
	emit1(s, 0x55); /* push rbp */
	emit_mov_rr(s, true, RBP, RSP);
	emit_rex(s, true, 0, RSP, false);
	emit1(s, 0x81); /* sub rsp, 512 */
	emit_modrm_reg(s, 5, RSP);
	emit4(s, EBPF_STACK_SIZE);
	emit1(s, 0x53);	  /* push rbx */
	emit2(s, 0x5541); /* push r13 */
	emit2(s, 0x5641); /* push r14 */
	emit2(s, 0x5741); /* push r15 */
	/* r0 starts at 0, as in the interpreter. */
	emit_rr(s, 0x31, false, RAX, RAX);
}

static void emit_epilogue(struct jit_state *s)
{
	emit2(s, 0x5f41); /* pop r15 */
	emit2(s, 0x5e41); /* pop r14 */
	emit2(s, 0x5d41); /* pop r13 */
	emit1(s, 0x5b);	  /* pop rbx */
	emit1(s, 0xc9);	  /* leave */
	emit1(s, 0xc3);	  /* ret */
}

/* One pass over the program; writes into image when it is not NULL.
 * Returns the code size or a negative errno. */
static int jit_pass(struct jit_state *s, uint8_t *image)
{
	uint32_t off = 0;

	s->len = 0;
	s->overflow = false;
	emit_prologue(s);
	if (image)
		memcpy(image, s->buf, s->len);
	off = s->len;
	for (uint32_t i = 0; i < s->n; i++) {
		int err;

		s->cur[i] = off;
		s->len = 0;
		err = jit_insn(s, i);
		if (err)
			return err;
		if (s->overflow)
			return -ENOTSUP;
		if (image)
			memcpy(image + off, s->buf, s->len);
		off += s->len;
		if (s->insns[i].code == EBPF_LD_IMM64)
			s->cur[++i] = off; /* second half: no code */
	}
	s->cur[s->n] = off;
	s->len = 0;
	emit_epilogue(s);
	if (image)
		memcpy(image + off, s->buf, s->len);
	return (int)(off + s->len);
}

/* Structural checks the passes rely on (the verifier has done them
 * already; the JIT must not write out of bounds if it has not). */
static int jit_check(const struct ebpf_prog *p)
{
	const struct ebpf_insn *in = p->insns;
	uint32_t n = p->ninsns;

	for (uint32_t i = 0; i < n; i++) {
		uint8_t cls = EBPF_CLASS(in[i].code);

		/* Only instructions of the ISA, as the interpreter. */
		if (ebpf_insn_invalid(&in[i], i + 1 < n ? &in[i + 1] : NULL))
			return -EINVAL;
		if (in[i].code == EBPF_LD_IMM64) {
			if (i + 1 >= n || in[i + 1].code != 0)
				return -EINVAL;
			if (in[i].dst == 10)
				return -EINVAL;
			i++;
			continue;
		}
		/* r10 is the frame pointer: nothing may write it. */
		if (in[i].dst == 10 &&
		    (cls == EBPF_ALU || cls == EBPF_ALU64 || cls == EBPF_LDX))
			return -EINVAL;
		if ((cls == EBPF_JMP || cls == EBPF_JMP32) &&
		    EBPF_OP(in[i].code) != EBPF_CALL &&
		    EBPF_OP(in[i].code) != EBPF_EXIT) {
			int64_t off =
			    cls == EBPF_JMP32 && EBPF_OP(in[i].code) == EBPF_JA
				? in[i].imm
				: in[i].off;
			int64_t t = (int64_t)i + 1 + off;

			if (t < 0 || t >= n)
				return -EINVAL;
			/* Not into the middle of an ld_imm64. */
			if (t > 0 && in[t - 1].code == EBPF_LD_IMM64)
				return -EINVAL;
		}
	}
	return 0;
}

int ebpf_jit(struct ebpf_prog *p)
{
	struct jit_state s;
	size_t offs_pages, code_pages;
	uint32_t *offs;
	uint8_t *image;
	int size = -EINVAL, err;

	if (!p || !p->insns || p->ninsns == 0 || p->ninsns > EBPF_MAX_INSNS)
		return -EINVAL;
	if (p->jitted)
		return 0;
	err = jit_check(p);
	if (err)
		return err;

	memset(&s, 0, sizeof(s));
	s.prog = p;
	s.insns = p->insns;
	s.n = p->ninsns;
	offs_pages = jit_pages(2 * (s.n + 1) * sizeof(uint32_t));
	offs = jit_alloc(offs_pages);
	if (!offs)
		return -ENOMEM;
	s.prev = offs;
	s.cur = offs + s.n + 1;
	for (uint32_t i = 0; i <= s.n; i++)
		s.prev[i] = i * JIT_MAX_INSN;

	for (int pass = 0;; pass++) {
		if (pass == JIT_MAX_PASSES)
			s.force_rel32 = true;
		if (pass > JIT_MAX_PASSES + 2) {
			size = -ENOTSUP;
			break;
		}
		size = jit_pass(&s, NULL);
		if (size < 0)
			break;
		bool same =
		    memcmp(s.prev, s.cur, (s.n + 1) * sizeof(uint32_t)) == 0;
		memcpy(s.prev, s.cur, (s.n + 1) * sizeof(uint32_t));
		if (same)
			break;
	}
	if (size < 0) {
		jit_release(offs, offs_pages, false);
		return size;
	}

	code_pages = jit_pages((size_t)size);
	image = jit_alloc(code_pages);
	if (!image) {
		jit_release(offs, offs_pages, false);
		return -ENOMEM;
	}
	memset(image, 0xcc, code_pages * 4096); /* int3 after the code */
	err = jit_pass(&s, image);
	jit_release(offs, offs_pages, false);
	if (err != size) {
		jit_release(image, code_pages, false);
		return err < 0 ? err : -EINVAL;
	}
	if (jit_seal(image, code_pages)) {
		jit_release(image, code_pages, false);
		return -ENOMEM;
	}
	p->jitted = (uint64_t(*)(void *))(void *)image;
	p->jit_size = (size_t)size;
	return 0;
}

void ebpf_jit_free(struct ebpf_prog *p)
{
	if (!p || !p->jitted)
		return;
	jit_release((void *)p->jitted, jit_pages(p->jit_size), true);
	p->jitted = NULL;
	p->jit_size = 0;
}

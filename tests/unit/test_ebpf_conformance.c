/* Conformance of the interpreter (net/ebpf/interp.c) and the JIT
 * (net/ebpf/jit_x86.c) to RFC 9669, the BPF instruction set: every opcode
 * of the base32/base64, divmul32/divmul64 and atomic32/atomic64 groups,
 * over edge operands (0, 1, -1, INT32_MIN/MAX, INT64_MIN/MAX, shift counts
 * at and beyond the width, division and modulo by zero, signed overflow),
 * each one a tiny program built here (ld_imm64 the operands, the
 * instruction, exit) and run both ways with the verifier bypassed; both
 * must give what a reference model says.
 *
 * The model below is written from the RFC's text, not from interp.c: one
 * function per instruction group, plain C on fixed-width types. The
 * opcode table at the end is the RFC's list of valid opcodes; every other
 * encoding must trap in the interpreter and be refused by the JIT. */
#include <stdint.h>
#include <string.h>

#include "ebpf/ebpf.h"
#include "kernel/kerrno.h"
#include "tests/unit/check.h"

/* ---- the reference model ------------------------------------------------ */

static uint64_t m_bswap(uint64_t v, int bytes)
{
	uint64_t r = 0;

	for (int i = 0; i < bytes; i++)
		r |= ((v >> (8 * i)) & 0xff) << (8 * (bytes - 1 - i));
	return r;
}

/* ALU64: dst op src, src already the 64-bit operand (an imm is sign
 * extended to 64 bits first, RFC 9669 section 4.1). */
static uint64_t m_alu64(uint8_t op, int16_t off, uint64_t d, uint64_t s)
{
	int64_t sd = (int64_t)d, ss = (int64_t)s;

	switch (op) {
	case 0x00:
		return d + s;
	case 0x10:
		return d - s;
	case 0x20:
		return d * s;
	case 0x30:
		if (s == 0)
			return 0;
		if (off == 0)
			return d / s;
		if (ss == -1) /* LLONG_MIN / -1 = LLONG_MIN */
			return (uint64_t)0 - d;
		return (uint64_t)(sd / ss);
	case 0x40:
		return d | s;
	case 0x50:
		return d & s;
	case 0x60:
		return d << (s & 0x3f);
	case 0x70:
		return d >> (s & 0x3f);
	case 0x80:
		return (uint64_t)0 - d;
	case 0x90:
		if (s == 0)
			return d; /* ALU64: unchanged */
		if (off == 0)
			return d % s;
		if (ss == -1)
			return 0;
		return (uint64_t)(sd % ss); /* truncated: sign of d */
	case 0xa0:
		return d ^ s;
	case 0xb0:
		if (off == 8)
			return (uint64_t)(int64_t)(int8_t)s;
		if (off == 16)
			return (uint64_t)(int64_t)(int16_t)s;
		if (off == 32)
			return (uint64_t)(int64_t)(int32_t)s;
		return s;
	case 0xc0: {
		/* Arithmetic shift without relying on >> of a negative. */
		unsigned n = (unsigned)(s & 0x3f);
		uint64_t r = d >> n;

		if (n && (d >> 63))
			r |= ~(uint64_t)0 << (64 - n);
		return r;
	}
	}
	abort();
}

/* ALU: 32-bit operands (the low halves), the result zero-extended. */
static uint64_t m_alu32(uint8_t op, int16_t off, uint64_t d64, uint64_t s64)
{
	uint32_t d = (uint32_t)d64, s = (uint32_t)s64, r;
	int32_t sd = (int32_t)d, ss = (int32_t)s;

	switch (op) {
	case 0x00:
		r = d + s;
		break;
	case 0x10:
		r = d - s;
		break;
	case 0x20:
		r = d * s;
		break;
	case 0x30:
		if (s == 0)
			r = 0;
		else if (off == 0)
			r = d / s;
		else if (ss == -1) /* INT_MIN / -1 = INT_MIN */
			r = 0u - d;
		else
			r = (uint32_t)(sd / ss);
		break;
	case 0x40:
		r = d | s;
		break;
	case 0x50:
		r = d & s;
		break;
	case 0x60:
		r = d << (s & 0x1f);
		break;
	case 0x70:
		r = d >> (s & 0x1f);
		break;
	case 0x80:
		r = 0u - d;
		break;
	case 0x90:
		if (s == 0)
			r = d; /* ALU: the upper half is zeroed */
		else if (off == 0)
			r = d % s;
		else if (ss == -1)
			r = 0;
		else
			r = (uint32_t)(sd % ss);
		break;
	case 0xa0:
		r = d ^ s;
		break;
	case 0xb0:
		if (off == 8)
			r = (uint32_t)(int32_t)(int8_t)s;
		else if (off == 16)
			r = (uint32_t)(int32_t)(int16_t)s;
		else
			r = s;
		break;
	case 0xc0: {
		unsigned n = s & 0x1f;

		r = d >> n;
		if (n && (d >> 31))
			r |= ~0u << (32 - n);
		break;
	}
	default:
		abort();
	}
	return r;
}

/* END: on a little-endian machine "to little endian" only truncates,
 * "to big endian" and the ALU64 bswap swap; all zero-extend. */
static uint64_t m_end(bool alu64, bool to_be, int width, uint64_t d)
{
	uint64_t low = width == 64 ? d : d & ((1ull << width) - 1);

	if (alu64 || to_be)
		return m_bswap(low, width / 8);
	return low;
}

static bool m_jmp(bool j64, uint8_t op, uint64_t a, uint64_t b)
{
	uint64_t ua = j64 ? a : (uint32_t)a, ub = j64 ? b : (uint32_t)b;
	int64_t sa = j64 ? (int64_t)a : (int32_t)(uint32_t)a;
	int64_t sb = j64 ? (int64_t)b : (int32_t)(uint32_t)b;

	switch (op) {
	case 0x10:
		return ua == ub;
	case 0x20:
		return ua > ub;
	case 0x30:
		return ua >= ub;
	case 0x40:
		return (ua & ub) != 0;
	case 0x50:
		return ua != ub;
	case 0x60:
		return sa > sb;
	case 0x70:
		return sa >= sb;
	case 0xa0:
		return ua < ub;
	case 0xb0:
		return ua <= ub;
	case 0xc0:
		return sa < sb;
	case 0xd0:
		return sa <= sb;
	}
	abort();
}

static uint64_t m_load(const uint8_t *p, int bytes, bool sx)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	if (sx && bytes < 8 && (v >> (8 * bytes - 1)) & 1)
		v |= ~(uint64_t)0 << (8 * bytes);
	return v;
}

static void m_store(uint8_t *p, int bytes, uint64_t v)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- running a program both ways ---------------------------------------- */
#define MEM_BYTES 64
static uint8_t mem[MEM_BYTES] __attribute__((aligned(8)));
static int ncases, nfail;

struct prog {
	struct ebpf_insn in[16];
	uint32_t n;
};

static void emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src,
		 int16_t off, int32_t imm)
{
	p->in[p->n++] = (struct ebpf_insn){
	    .code = code, .dst = dst, .src = src, .off = off, .imm = imm};
}

static void ld64(struct prog *p, uint8_t dst, uint64_t v)
{
	emit(p, EBPF_LD | EBPF_IMM | EBPF_DW, dst, 0, 0, (int32_t)v);
	emit(p, 0, 0, 0, 0, (int32_t)(v >> 32));
}

static void ret_reg(struct prog *p, uint8_t r)
{
	emit(p, EBPF_ALU64 | EBPF_MOV | EBPF_X, 0, r, 0, 0);
	emit(p, EBPF_JMP | EBPF_EXIT, 0, 0, 0, 0);
}

/* Runs p through the interpreter and the JIT with r1 = mem (starting from
 * mem_init each time); r0 and mem must be want and mem_want. */
static void check_prog(const struct prog *pr, const uint8_t *mem_init,
		       uint64_t want, const uint8_t *mem_want, const char *what)
{
	struct ebpf_prog p;
	uint64_t got = 0;
	int rc;
	char how[32] = "";

	memset(&p, 0, sizeof(p));
	p.insns = (struct ebpf_insn *)pr->in;
	p.ninsns = pr->n;
	ncases++;

	memcpy(mem, mem_init, MEM_BYTES);
	rc = ebpf_interp_exec(&p, mem, &got, NULL);
	if (rc || got != want || memcmp(mem, mem_want, MEM_BYTES))
		snprintf(how, sizeof(how), "interpreter rc %d", rc);
	if (!how[0]) {
		rc = ebpf_jit(&p);
		if (rc) {
			snprintf(how, sizeof(how), "jit refused %d", rc);
		} else {
			memcpy(mem, mem_init, MEM_BYTES);
			got = p.jitted(mem);
			if (got != want || memcmp(mem, mem_want, MEM_BYTES))
				snprintf(how, sizeof(how), "jit");
		}
		ebpf_jit_free(&p);
	}
	if (how[0]) {
		if (nfail++ < 20)
			fprintf(stderr, "  %s: %s: r0 %#llx, model %#llx%s\n",
				what, how, (unsigned long long)got,
				(unsigned long long)want,
				memcmp(mem, mem_want, MEM_BYTES)
				    ? " (memory differs)"
				    : "");
		check_failures_in_test++;
	}
}

static uint8_t mem_zero[MEM_BYTES];

static void check_ret(const struct prog *pr, uint64_t want, const char *what)
{
	check_prog(pr, mem_zero, want, mem_zero, what);
}

static const uint64_t edge[] = {
    0,
    1,
    2,
    7,
    31,
    32,
    33,
    63,
    64,
    65,
    0x80,
    0x7fffffff,
    0x80000000,
    0xffffffff,
    0x100000000ull,
    0x7fffffffffffffffull,
    0x8000000000000000ull,
    0xffffffffffffffffull, /* -1 */
    0xfffffffffffffffeull, /* -2 */
    0xffffffff80000000ull, /* INT32_MIN sign-extended */
    0x8000000000000001ull,
    0xdeadbeefcafebabeull,
};
#define NEDGE (sizeof(edge) / sizeof(edge[0]))

static void report(const char *group, int before)
{
	printf("  %s: %d cases\n", group, ncases - before);
}

/* ---- arithmetic ------------------------------------------------------- */
struct alu_op {
	uint8_t op;
	int16_t off;
	bool x_only; /* movsx */
	bool k_only; /* neg */
	bool alu64_only;
	const char *name;
};

static const struct alu_op alu_ops[] = {
    {0x00, 0, false, false, false, "add"},
    {0x10, 0, false, false, false, "sub"},
    {0x20, 0, false, false, false, "mul"},
    {0x30, 0, false, false, false, "div"},
    {0x30, 1, false, false, false, "sdiv"},
    {0x40, 0, false, false, false, "or"},
    {0x50, 0, false, false, false, "and"},
    {0x60, 0, false, false, false, "lsh"},
    {0x70, 0, false, false, false, "rsh"},
    {0x80, 0, false, true, false, "neg"},
    {0x90, 0, false, false, false, "mod"},
    {0x90, 1, false, false, false, "smod"},
    {0xa0, 0, false, false, false, "xor"},
    {0xb0, 0, false, false, false, "mov"},
    {0xb0, 8, true, false, false, "movsx8"},
    {0xb0, 16, true, false, false, "movsx16"},
    {0xb0, 32, true, false, true, "movsx32"},
    {0xc0, 0, false, false, false, "arsh"},
};

TEST(rfc9669_alu_alu64_every_op_edge_operands)
{
	int before = ncases;

	for (size_t oi = 0; oi < sizeof(alu_ops) / sizeof(alu_ops[0]); oi++) {
		const struct alu_op *o = &alu_ops[oi];

		for (int is64 = 0; is64 < 2; is64++) {
			if (o->alu64_only && !is64)
				continue;
			for (int x = 0; x < 2; x++) {
				if ((x && o->k_only) || (!x && o->x_only))
					continue;
				for (size_t a = 0; a < NEDGE; a++)
					for (size_t b = 0; b < NEDGE; b++) {
						struct prog p = {.n = 0};
						uint64_t s;
						char what[64];
						uint8_t code =
						    (is64 ? EBPF_ALU64
							  : EBPF_ALU) |
						    o->op | (x ? EBPF_X : 0);

						/* neg has no source operand */
						if (o->k_only && b > 0)
							break;
						ld64(&p, 2, edge[a]);
						if (x) {
							ld64(&p, 3, edge[b]);
							emit(&p, code, 2, 3,
							     o->off, 0);
							s = edge[b];
						} else {
							int32_t imm =
							    o->k_only
								? 0
								: (int32_t)
								      edge[b];
							emit(&p, code, 2, 0,
							     o->off, imm);
							/* sign-extended */
							s = (uint64_t)(int64_t)
							    imm;
						}
						ret_reg(&p, 2);
						snprintf(
						    what, sizeof(what),
						    "%s%s %s %#llx, "
						    "%#llx",
						    o->name, is64 ? "64" : "32",
						    x ? "x" : "k",
						    (unsigned long long)edge[a],
						    (unsigned long long)s);
						check_ret(
						    &p,
						    is64
							? m_alu64(o->op, o->off,
								  edge[a], s)
							: m_alu32(o->op, o->off,
								  edge[a], s),
						    what);
					}
			}
		}
	}
	report("alu", before);
}

TEST(rfc9669_byte_swaps)
{
	static const int widths[] = {16, 32, 64};
	int before = ncases;

	for (size_t a = 0; a < NEDGE; a++)
		for (int wi = 0; wi < 3; wi++)
			for (int kind = 0; kind < 3; kind++) {
				/* le, be, ALU64 bswap */
				struct prog p = {.n = 0};
				uint64_t v = edge[a] ^ 0x0102030405060708ull;
				uint8_t code =
				    kind == 2 ? EBPF_ALU64 : EBPF_ALU;

				code |= EBPF_END | (kind == 1 ? EBPF_X : 0);
				ld64(&p, 4, v);
				emit(&p, code, 4, 0, 0, widths[wi]);
				ret_reg(&p, 4);
				check_ret(
				    &p,
				    m_end(kind == 2, kind == 1, widths[wi], v),
				    kind == 0	? "le"
				    : kind == 1 ? "be"
						: "bswap");
			}
	report("byte swap", before);
}

/* ---- jumps -------------------------------------------------------------- */
static const uint8_t jmp_ops[] = {0x10, 0x20, 0x30, 0x40, 0x50, 0x60,
				  0x70, 0xa0, 0xb0, 0xc0, 0xd0};

TEST(rfc9669_jmp_jmp32_every_condition_edge_operands)
{
	int before = ncases;

	for (size_t oi = 0; oi < sizeof(jmp_ops); oi++)
		for (int j64 = 0; j64 < 2; j64++)
			for (int x = 0; x < 2; x++)
				for (size_t a = 0; a < NEDGE; a++)
					for (size_t b = 0; b < NEDGE; b++) {
						struct prog p = {.n = 0};
						uint8_t code =
						    (j64 ? EBPF_JMP
							 : EBPF_JMP32) |
						    jmp_ops[oi] |
						    (x ? EBPF_X : 0);
						uint64_t s =
						    x ? edge[b]
						      : (uint64_t)(int64_t)(int32_t)
							    edge[b];
						char what[64];

						ld64(&p, 5, edge[a]);
						ld64(&p, 6, edge[b]);
						emit(&p, EBPF_ALU64 | EBPF_MOV,
						     0, 0, 0, 0);
						emit(&p, code, 5, x ? 6 : 0, 1,
						     x ? 0 : (int32_t)edge[b]);
						emit(&p, EBPF_JMP | EBPF_EXIT,
						     0, 0, 0, 0);
						emit(&p, EBPF_ALU64 | EBPF_MOV,
						     0, 0, 0, 1);
						emit(&p, EBPF_JMP | EBPF_EXIT,
						     0, 0, 0, 0);
						snprintf(
						    what, sizeof(what),
						    "jmp%s 0x%02x%s "
						    "%#llx, %#llx",
						    j64 ? "" : "32",
						    jmp_ops[oi], x ? "x" : "k",
						    (unsigned long long)edge[a],
						    (unsigned long long)s);
						check_ret(&p,
							  m_jmp(j64,
								jmp_ops[oi],
								edge[a], s),
							  what);
					}
	report("jmp", before);
}

TEST(rfc9669_ja_and_gotol)
{
	int before = ncases;

	for (int l = 0; l < 2; l++) {
		/* forward over one instruction; then backward:
		 * r0 = 0; ja L2; L1: r0 += 1; exit; L2: r0 += 10; ja L1 */
		struct prog p = {.n = 0};
		uint8_t code = l ? EBPF_JMP32 | EBPF_JA : EBPF_JMP | EBPF_JA;

		emit(&p, EBPF_ALU64 | EBPF_MOV, 0, 0, 0, 7);
		emit(&p, code, 0, 0, l ? 0 : 1, l ? 1 : 0);
		emit(&p, EBPF_ALU64 | EBPF_MOV, 0, 0, 0, 8);
		emit(&p, EBPF_JMP | EBPF_EXIT, 0, 0, 0, 0);
		check_ret(&p, 7, l ? "gotol forward" : "ja forward");

		p.n = 0;
		emit(&p, EBPF_ALU64 | EBPF_MOV, 0, 0, 0, 0);
		emit(&p, code, 0, 0, l ? 0 : 2, l ? 2 : 0);
		emit(&p, EBPF_ALU64 | EBPF_ADD, 0, 0, 0, 1);
		emit(&p, EBPF_JMP | EBPF_EXIT, 0, 0, 0, 0);
		emit(&p, EBPF_ALU64 | EBPF_ADD, 0, 0, 0, 10);
		emit(&p, code, 0, 0, l ? 0 : -4, l ? -4 : 0);
		check_ret(&p, 11, l ? "gotol backward" : "ja backward");
	}
	report("ja", before);
}

/* ---- loads, stores, atomics ------------------------------------------- */
static uint8_t mem_pattern[MEM_BYTES];

__attribute__((constructor)) static void pattern_fill(void)
{
	for (int i = 0; i < MEM_BYTES; i++)
		mem_pattern[i] = (uint8_t)(i * 37 + 0x85);
}

static const uint8_t sizes[] = {EBPF_B, EBPF_H, EBPF_W, EBPF_DW};
static const int size_bytes[] = {1, 2, 4, 8};

TEST(rfc9669_ldx_mem_and_memsx_every_size)
{
	int before = ncases;

	for (int si = 0; si < 4; si++)
		for (int sx = 0; sx < 2; sx++) {
			if (sx && sizes[si] == EBPF_DW)
				continue;
			for (int off = 0; off + size_bytes[si] <= MEM_BYTES;
			     off += 3) {
				struct prog p = {.n = 0};

				emit(&p,
				     EBPF_LDX | (sx ? EBPF_MEMSX : EBPF_MEM) |
					 sizes[si],
				     7, 1, (int16_t)off, 0);
				ret_reg(&p, 7);
				check_prog(&p, mem_pattern,
					   m_load(mem_pattern + off,
						  size_bytes[si], sx),
					   mem_pattern, sx ? "ldxs" : "ldx");
			}
		}
	report("ldx", before);
}

TEST(rfc9669_st_stx_every_size)
{
	int before = ncases;

	for (int si = 0; si < 4; si++)
		for (size_t e = 0; e < NEDGE; e++)
			for (int stx = 0; stx < 2; stx++) {
				struct prog p = {.n = 0};
				uint8_t want[MEM_BYTES];
				int off = (int)(e * 5 % (MEM_BYTES - 8));
				uint64_t v =
				    stx ? edge[e]
					: (uint64_t)(int64_t)(int32_t)edge[e];

				if (stx) {
					ld64(&p, 8, edge[e]);
					emit(&p,
					     EBPF_STX | EBPF_MEM | sizes[si], 1,
					     8, (int16_t)off, 0);
				} else {
					emit(&p, EBPF_ST | EBPF_MEM | sizes[si],
					     1, 0, (int16_t)off,
					     (int32_t)edge[e]);
				}
				emit(&p, EBPF_ALU64 | EBPF_MOV, 0, 0, 0, 3);
				emit(&p, EBPF_JMP | EBPF_EXIT, 0, 0, 0, 0);
				memcpy(want, mem_pattern, MEM_BYTES);
				m_store(want + off, size_bytes[si], v);
				check_prog(&p, mem_pattern, 3, want,
					   stx ? "stx" : "st");
			}
	report("st/stx", before);
}

static const int32_t atomic_ops[] = {
    0x00,      0x40,	     0x50, 0xa0, /* add, or, and, xor */
    0x01,      0x41,	     0x51, 0xa1, /* the same with fetch */
    EBPF_XCHG, EBPF_CMPXCHG,
};

TEST(rfc9669_atomics_w_and_dw)
{
	static const uint64_t vals[] = {0,
					1,
					0xffffffffffffffffull,
					0x80000000,
					0x00000001ffffffffull,
					0x8000000000000000ull,
					0xdeadbeefcafebabeull};
	const size_t nv = sizeof(vals) / sizeof(vals[0]);
	int before = ncases;

	for (size_t oi = 0; oi < sizeof(atomic_ops) / sizeof(atomic_ops[0]);
	     oi++)
		for (int dw = 0; dw < 2; dw++)
			for (size_t m = 0; m < nv; m++)
				for (size_t v = 0; v < nv; v++)
					for (int eq = 0; eq < 2; eq++) {
						/* r0 = m (cmpxchg matches) or
						 * not; r2 = v; atomic [r1+8];
						 * mem[16] = r2, mem[24] = r0 */
						struct prog p = {.n = 0};
						uint8_t init[MEM_BYTES],
						    want[MEM_BYTES];
						int n = dw ? 8 : 4;
						int32_t op = atomic_ops[oi];
						uint64_t old, nv64, r0, r2, src;
						uint64_t r0init =
						    eq ? vals[m] |
							     (dw ? 0
								 : 0x5500000000ull)
						       : vals[m] ^ 0x10;

						memcpy(init, mem_pattern,
						       MEM_BYTES);
						m_store(init + 8, n, vals[m]);
						ld64(&p, 0, r0init);
						ld64(&p, 2, vals[v]);
						emit(
						    &p,
						    EBPF_STX | EBPF_ATOMIC |
							(dw ? EBPF_DW : EBPF_W),
						    1, 2, 8, op);
						emit(&p,
						     EBPF_STX | EBPF_MEM |
							 EBPF_DW,
						     1, 2, 16, 0);
						emit(&p,
						     EBPF_STX | EBPF_MEM |
							 EBPF_DW,
						     1, 0, 24, 0);
						emit(&p, EBPF_JMP | EBPF_EXIT,
						     0, 0, 0, 0);

						/* the model, RFC 9669 5.3 */
						old =
						    m_load(init + 8, n, false);
						src = dw ? vals[v]
							 : (uint32_t)vals[v];
						r0 = r0init;
						r2 = vals[v];
						switch (op & ~EBPF_FETCH) {
						case 0x00:
							nv64 = old + src;
							break;
						case 0x40:
							nv64 = old | src;
							break;
						case 0x50:
							nv64 = old & src;
							break;
						case 0xa0:
							nv64 = old ^ src;
							break;
						case 0xe0:
							nv64 = src;
							break;
						default: /* cmpxchg */
							nv64 =
							    (dw ? r0
								: (uint32_t)
								      r0) == old
								? src
								: old;
							break;
						}
						if (op == EBPF_CMPXCHG)
							r0 = old;
						else if (op & EBPF_FETCH)
							r2 = old;
						memcpy(want, init, MEM_BYTES);
						m_store(want + 8, n, nv64);
						m_store(want + 16, 8, r2);
						m_store(want + 24, 8, r0);
						check_prog(&p, init, r0, want,
							   "atomic");
					}
	report("atomic", before);
}

/* ---- what is not an instruction ------------------------------------- */

/* RFC 9669's opcode list (appendix A) for the groups Skiff implements,
 * by opcode byte: 1 when the byte names an instruction. */
static bool rfc_opcode(uint8_t c)
{
	uint8_t cls = c & 7, op = c & 0xf0, x = c & 8;

	switch (cls) {
	case 4: /* ALU */
	case 7: /* ALU64 */
		if (op == 0x80)
			return !x; /* neg */
		if (op == 0xd0)
			return cls == 4 || !x; /* le/be, bswap */
		return op <= 0xc0;
	case 5: /* JMP */
	case 6: /* JMP32 */
		if (op == 0x00)
			return !x; /* ja, gotol */
		if (op == 0x80 || op == 0x90)
			return cls == 5 && !x; /* call, exit */
		return op <= 0xd0;
	case 0: /* LD */
		return c == 0x18;
	case 1: /* LDX */
		return c == 0x61 || c == 0x69 || c == 0x71 || c == 0x79 ||
		       c == 0x81 || c == 0x89 || c == 0x91;
	case 2: /* ST */
		return c == 0x62 || c == 0x6a || c == 0x72 || c == 0x7a;
	default: /* STX */
		return c == 0x63 || c == 0x6b || c == 0x73 || c == 0x7b ||
		       c == 0xc3 || c == 0xdb;
	}
}

/* The instruction with opcode c and the fields a valid one would have. */
static struct ebpf_insn canonical(uint8_t c)
{
	struct ebpf_insn in = {.code = c, .dst = 2};
	uint8_t cls = c & 7, op = c & 0xf0;

	if (cls >= 4 && (c & 8) && (op != 0xd0 || cls == 5 || cls == 6))
		in.src = 3; /* register form */
	else if (cls >= 4)
		in.imm = op == 0xd0 ? 32 : 5; /* immediate form, swap width */
	if ((cls == 4 || cls == 7) && op == 0x80)
		in.imm = 0;
	if ((cls == 5 || cls == 6) &&
	    (op == 0x00 || op == 0x80 || op == 0x90)) {
		in.dst = 0;
		in.imm = op == 0x80 ? EBPF_FUNC_ktime_get_ns : 0;
	}
	if (cls == 1 || cls == 3)
		in.src = 3;
	if (cls == 3 && (c & 0xe0) == EBPF_ATOMIC)
		in.imm = EBPF_ADD;
	return in;
}

/* in must trap in the interpreter and be refused by the JIT. */
static void check_refused(struct ebpf_insn in, const char *what)
{
	struct prog pr = {.n = 0};
	struct ebpf_prog p;
	uint64_t r0 = 0;
	uint32_t at = 99;
	int rc;

	pr.in[pr.n++] = in;
	pr.in[pr.n++] = (struct ebpf_insn){0};
	emit(&pr, EBPF_JMP | EBPF_EXIT, 0, 0, 0, 0);
	memset(&p, 0, sizeof(p));
	p.insns = pr.in;
	p.ninsns = pr.n;
	ncases++;
	rc = ebpf_interp_exec(&p, mem, &r0, &at);
	if (rc != -EINVAL || at != 0) {
		fprintf(stderr, "  %s (%02x): interpreter rc %d at %u\n", what,
			in.code, rc, at);
		check_failures_in_test++;
	}
	rc = ebpf_jit(&p);
	if (rc != -EINVAL) {
		fprintf(stderr, "  %s (%02x): jit rc %d\n", what, in.code, rc);
		check_failures_in_test++;
	}
	ebpf_jit_free(&p);
}

TEST(rfc9669_opcode_table_and_reserved_fields)
{
	int before = ncases, valid = 0;

	for (int c = 0; c < 256; c++) {
		struct ebpf_insn in = canonical((uint8_t)c);
		struct ebpf_insn next = {0};
		bool isa_ok = ebpf_insn_invalid(&in, &next) == NULL;

		ncases++;
		if (isa_ok != rfc_opcode((uint8_t)c)) {
			fprintf(stderr, "  opcode %02x: isa.c says %s\n", c,
				isa_ok ? "valid" : "invalid");
			check_failures_in_test++;
		}
		valid += rfc_opcode((uint8_t)c);
		if (!rfc_opcode((uint8_t)c))
			check_refused(in, "not an opcode");
	}
	printf("  %d valid opcodes\n", valid);

	/* Valid opcodes with a field the RFC says must be zero. */
	static const struct {
		struct ebpf_insn in;
		const char *what;
	} bad[] = {
	    {{EBPF_ALU64 | EBPF_ADD, 2, 0, 1, 5}, "add with off"},
	    {{EBPF_ALU64 | EBPF_ADD | EBPF_X, 2, 3, 0, 5}, "add x with imm"},
	    {{EBPF_ALU64 | EBPF_ADD, 2, 3, 0, 5}, "add k with src"},
	    {{EBPF_ALU64 | EBPF_MOV, 2, 0, 8, 5}, "movsx with imm"},
	    {{EBPF_ALU | EBPF_MOV | EBPF_X, 2, 3, 32, 0}, "movsx32 in ALU"},
	    {{EBPF_ALU64 | EBPF_MOV | EBPF_X, 2, 3, 24, 0}, "movsx24"},
	    {{EBPF_ALU64 | EBPF_DIV, 2, 0, 2, 5}, "div off 2"},
	    {{EBPF_ALU64 | EBPF_MOD | EBPF_X, 2, 3, -1, 0}, "mod off -1"},
	    {{EBPF_ALU64 | EBPF_NEG, 2, 0, 0, 1}, "neg with imm"},
	    {{EBPF_ALU | EBPF_END, 2, 0, 0, 8}, "le8"},
	    {{EBPF_ALU | EBPF_END, 2, 0, 1, 16}, "le16 with off"},
	    {{EBPF_ALU64 | EBPF_ADD, 10, 0, 0, 5}, "write r10"},
	    {{EBPF_ALU64 | EBPF_ADD, 11, 0, 0, 5}, "r11"},
	    {{EBPF_LDX | EBPF_MEM | EBPF_W, 10, 1, 0, 0}, "load into r10"},
	    {{EBPF_LDX | EBPF_MEM | EBPF_W, 2, 1, 0, 1}, "ldx with imm"},
	    {{EBPF_ST | EBPF_MEM | EBPF_W, 1, 2, 0, 1}, "st with src"},
	    {{EBPF_STX | EBPF_MEM | EBPF_W, 1, 2, 0, 1}, "stx with imm"},
	    {{EBPF_STX | EBPF_ATOMIC | EBPF_W, 1, 2, 0, 0x02}, "atomic 0x02"},
	    {{EBPF_STX | EBPF_ATOMIC | EBPF_W, 1, 2, 0, 0xe0},
	     "xchg, no fetch"},
	    {{EBPF_STX | EBPF_ATOMIC | EBPF_DW, 1, 10, 0, 0x01},
	     "fetch into r10"},
	    {{EBPF_JMP | EBPF_JA, 0, 0, 0, 1}, "ja with imm"},
	    {{EBPF_JMP32 | EBPF_JA, 0, 0, 1, 0}, "gotol with off"},
	    {{EBPF_JMP | EBPF_JEQ, 2, 3, 0, 0}, "jeq k with src"},
	    {{EBPF_JMP | EBPF_JEQ | EBPF_X, 2, 3, 0, 1}, "jeq x with imm"},
	    {{EBPF_JMP | EBPF_CALL, 0, 1, 0, 1}, "program-local call"},
	    {{EBPF_JMP | EBPF_CALL, 0, 2, 0, 1}, "call by BTF id"},
	    {{EBPF_JMP | EBPF_CALL, 0, 0, 0, 9999}, "unknown helper"},
	    {{EBPF_JMP | EBPF_EXIT, 0, 0, 0, 1}, "exit with imm"},
	    {{EBPF_LD | EBPF_IMM | EBPF_DW, 2, 3, 0, 0}, "ld_imm64 src 3"},
	    {{EBPF_LD | EBPF_IMM | EBPF_DW, 2, 1, 0, 0}, "map index, no map"},
	    {{EBPF_LD | EBPF_IMM | EBPF_DW, 10, 0, 0, 0}, "ld_imm64 r10"},
	    {{EBPF_LD | 0x20 | EBPF_W, 0, 0, 0, 12}, "ld abs"},
	    {{EBPF_LD | 0x40 | EBPF_W, 0, 2, 0, 12}, "ld ind"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* The unknown helper and the missing map are well formed:
		 * the interpreter traps on them at run time, the JIT leaves
		 * the helper to the interpreter. */
		if (bad[i].in.imm == 9999) {
			struct prog pr = {.n = 0};
			struct ebpf_prog p;
			uint64_t r0;

			pr.in[pr.n++] = bad[i].in;
			emit(&pr, EBPF_JMP | EBPF_EXIT, 0, 0, 0, 0);
			memset(&p, 0, sizeof(p));
			p.insns = pr.in;
			p.ninsns = pr.n;
			ncases++;
			CHECK_EQ(ebpf_interp_exec(&p, mem, &r0, NULL), -EINVAL);
			CHECK_EQ(ebpf_jit(&p), -ENOTSUP);
			continue;
		}
		if (bad[i].in.src == 1 && bad[i].in.code == 0x18) {
			struct prog pr = {.n = 0};
			struct ebpf_prog p;
			uint64_t r0;

			pr.in[pr.n++] = bad[i].in;
			pr.in[pr.n++] = (struct ebpf_insn){0};
			emit(&pr, EBPF_JMP | EBPF_EXIT, 0, 0, 0, 0);
			memset(&p, 0, sizeof(p));
			p.insns = pr.in;
			p.ninsns = pr.n;
			ncases++;
			CHECK_EQ(ebpf_interp_exec(&p, mem, &r0, NULL), -EINVAL);
			CHECK_EQ(ebpf_jit(&p), -EINVAL);
			continue;
		}
		check_refused(bad[i].in, bad[i].what);
	}

	/* Falling off the end and jumping out of the program trap too. */
	{
		struct prog pr = {.n = 0};
		struct ebpf_prog p;
		uint64_t r0;

		emit(&pr, EBPF_ALU64 | EBPF_MOV, 0, 0, 0, 1);
		memset(&p, 0, sizeof(p));
		p.insns = pr.in;
		p.ninsns = pr.n;
		CHECK_EQ(ebpf_interp_exec(&p, mem, &r0, NULL), -EINVAL);
		emit(&pr, EBPF_JMP | EBPF_JA, 0, 0, 5, 0);
		p.ninsns = pr.n;
		CHECK_EQ(ebpf_interp_exec(&p, mem, &r0, NULL), -EINVAL);
		CHECK_EQ(ebpf_run_interp(&p, mem), EBPF_XDP_ABORTED);
		ncases += 3;
	}
	report("encodings", before);
}

/* Last by name order of registration: the totals. */
TEST(rfc9669_zz_summary)
{
	printf("  conformance: %d cases, %d failed\n", ncases, nfail);
}

/* helpers.c's bpf_ktime_get_ns */
uint64_t clock_ns(void)
{
	return 0;
}

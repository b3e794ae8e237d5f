/* The x86-64 eBPF JIT (net/ebpf/jit_x86.c), executed natively on the host,
 * against two references: a small evaluator written here (independent of
 * the shared one, cpu v4 forms included: sdiv/smod, movsx, sign-extending
 * loads, bswap, gotol) and the shared interpreter net/ebpf/interp.c.
 *
 * Every opcode class is covered by hand-assembled programs over edge
 * values and every register pair (the ones the JIT treats specially are
 * rax, rdx and rcx: r0, r3, r4), each ending in a hash of all registers so
 * that a clobbered bystander shows up; memory effects are compared byte
 * for byte; random programs (straight-line ALU, then with forward jumps
 * and stack traffic) are compared by the thousand. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ebpf/ebpf.h"
#include "kernel/kerrno.h"
#include "tests/unit/bpf_obj.h"
#include "tests/unit/check.h"

#define MEMSX	     0x80
#define BPF_LD_IMM64 (EBPF_LD | EBPF_IMM | EBPF_DW)

/* ---- a program builder -------------------------------------------------- */
struct pb {
	struct ebpf_insn in[EBPF_MAX_INSNS + 64];
	uint32_t n;
};

static void put(struct pb *b, uint8_t code, uint8_t dst, uint8_t src,
		int16_t off, int32_t imm)
{
	if (b->n >= sizeof(b->in) / sizeof(b->in[0])) {
		fprintf(stderr, "program too long\n");
		exit(2);
	}
	b->in[b->n++] = (struct ebpf_insn){
	    .code = code, .dst = dst, .src = src, .off = off, .imm = imm};
}

static void ld64(struct pb *b, uint8_t dst, uint64_t v)
{
	put(b, BPF_LD_IMM64, dst, 0, 0, (int32_t)(uint32_t)v);
	put(b, 0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32));
}

static void alu64_k(struct pb *b, uint8_t op, uint8_t d, int32_t imm)
{
	put(b, EBPF_ALU64 | op | EBPF_K, d, 0, 0, imm);
}

static void alu64_x(struct pb *b, uint8_t op, uint8_t d, uint8_t s)
{
	put(b, EBPF_ALU64 | op | EBPF_X, d, s, 0, 0);
}

static void exit_insn(struct pb *b)
{
	put(b, EBPF_JMP | EBPF_EXIT, 0, 0, 0, 0);
}

/* Distinct, awkward starting values for r0 and r2..r9. */
static const uint64_t init_val[10] = {
    0x0123456789abcdefULL, 0,
    0xfedcba9876543210ULL, 0x8000000000000001ULL,
    0x00000000ffffffffULL, 0x7fffffff80000000ULL,
    0xdeadbeefcafebabeULL, 0x1111111122222222ULL,
    0xffffffff00000007ULL, 0x0000000100000003ULL,
};

static void init_regs(struct pb *b)
{
	for (int r = 0; r < 10; r++)
		if (r != 1)
			ld64(b, (uint8_t)r, init_val[r]);
}

/* r0 = a hash of r0..r9 (r1 is the context pointer, the same for every
 * runner), then exit. */
static void hash_exit(struct pb *b)
{
	for (int r = 1; r < 10; r++) {
		alu64_k(b, EBPF_MUL, 0, 1000003);
		alu64_x(b, EBPF_XOR, 0, (uint8_t)r);
	}
	exit_insn(b);
}

/* ---- the reference evaluator -------------------------------------------- */
static uint64_t ref_load(uintptr_t a, int size)
{
	uint8_t b8;
	uint16_t b16;
	uint32_t b32;
	uint64_t b64;

	switch (size) {
	case EBPF_B:
		memcpy(&b8, (void *)a, 1);
		return b8;
	case EBPF_H:
		memcpy(&b16, (void *)a, 2);
		return b16;
	case EBPF_W:
		memcpy(&b32, (void *)a, 4);
		return b32;
	default:
		memcpy(&b64, (void *)a, 8);
		return b64;
	}
}

static void ref_store(uintptr_t a, int size, uint64_t v)
{
	memcpy((void *)a, &v,
	       size == EBPF_B	? 1
	       : size == EBPF_H ? 2
	       : size == EBPF_W ? 4
				: 8);
}

static uint64_t sext(uint64_t v, int bits)
{
	uint64_t m = 1ULL << (bits - 1);

	v &= bits == 64 ? ~0ULL : (1ULL << bits) - 1;
	return (v ^ m) - m;
}

static uint64_t ref_alu(const struct ebpf_insn *in, uint64_t d, uint64_t s,
			bool w)
{
	unsigned sh = (unsigned)(s & (w ? 63 : 31));
	int bits = w ? 64 : 32;

	if (!w) {
		d = (uint32_t)d;
		s = (uint32_t)s;
	}
	switch (EBPF_OP(in->code)) {
	case EBPF_ADD:
		return d + s;
	case EBPF_SUB:
		return d - s;
	case EBPF_MUL:
		return d * s;
	case EBPF_OR:
		return d | s;
	case EBPF_AND:
		return d & s;
	case EBPF_XOR:
		return d ^ s;
	case EBPF_LSH:
		return d << sh;
	case EBPF_RSH:
		return d >> sh;
	case EBPF_ARSH:
		return (uint64_t)((int64_t)sext(d, bits) >> sh);
	case EBPF_NEG:
		return -d;
	case EBPF_MOV:
		return in->off ? sext(s, in->off) : s;
	case EBPF_DIV:
	case EBPF_MOD: {
		bool mod = EBPF_OP(in->code) == EBPF_MOD;

		if (s == 0)
			return mod ? d : 0;
		if (in->off == 0)
			return mod ? d % s : d / s;
		int64_t sd = (int64_t)sext(d, bits),
			ss = (int64_t)sext(s, bits);
		if (ss == -1)
			return mod ? 0 : -(uint64_t)sd;
		return (uint64_t)(mod ? sd % ss : sd / ss);
	}
	default:
		abort();
	}
}

static bool ref_cond(uint8_t op, uint64_t a, uint64_t b, bool w)
{
	int bits = w ? 64 : 32;
	int64_t sa = (int64_t)sext(a, bits), sb = (int64_t)sext(b, bits);

	if (!w) {
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
		abort();
	}
}

static uint64_t ref_run(const struct ebpf_prog *p, void *ctx)
{
	uint64_t stack[EBPF_STACK_SIZE / 8], r[11] = {0};
	uint32_t pc = 0, steps = 0;

	r[1] = (uintptr_t)ctx;
	r[10] = (uintptr_t)(stack + EBPF_STACK_SIZE / 8);
	while (pc < p->ninsns && steps++ < 1000000) {
		const struct ebpf_insn *in = &p->insns[pc++];
		uint8_t cls = EBPF_CLASS(in->code), op = EBPF_OP(in->code);
		uint64_t imm = (uint64_t)(int64_t)in->imm;
		uint64_t s = EBPF_SRC(in->code) == EBPF_X ? r[in->src] : imm;
		bool w;

		switch (cls) {
		case EBPF_ALU:
		case EBPF_ALU64:
			w = cls == EBPF_ALU64;
			if (op == EBPF_END) {
				bool swap = w || EBPF_SRC(in->code) == EBPF_X;
				uint64_t v = r[in->dst];

				if (in->imm == 16)
					v = swap
						? __builtin_bswap16((uint16_t)v)
						: (uint16_t)v;
				else if (in->imm == 32)
					v = swap
						? __builtin_bswap32((uint32_t)v)
						: (uint32_t)v;
				else if (swap)
					v = __builtin_bswap64(v);
				r[in->dst] = v;
				break;
			}
			r[in->dst] = ref_alu(in, r[in->dst], s, w);
			if (!w)
				r[in->dst] = (uint32_t)r[in->dst];
			break;
		case EBPF_LD:
			r[in->dst] =
			    (in->src == EBPF_PSEUDO_MAP_FD)
				? (uintptr_t)p->maps[in->imm]
				: ((uint32_t)in->imm |
				   (uint64_t)(uint32_t)in[1].imm << 32);
			pc++;
			break;
		case EBPF_LDX:
			r[in->dst] =
			    ref_load(r[in->src] + in->off, EBPF_SIZE(in->code));
			if (EBPF_MODE(in->code) == MEMSX)
				r[in->dst] = sext(
				    r[in->dst],
				    8 << (EBPF_SIZE(in->code) == EBPF_B	  ? 0
					  : EBPF_SIZE(in->code) == EBPF_H ? 1
									  : 2));
			break;
		case EBPF_ST:
			ref_store(r[in->dst] + in->off, EBPF_SIZE(in->code),
				  imm);
			break;
		case EBPF_STX:
			if (EBPF_MODE(in->code) == EBPF_ATOMIC) {
				int size = EBPF_SIZE(in->code);
				uintptr_t a = r[in->dst] + in->off;
				uint64_t old = ref_load(a, size),
					 v = r[in->src];
				uint64_t nv = old;

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
				case 0xe0:
					nv = v;
					break;
				case 0xf0:
					if ((size == EBPF_DW
						 ? r[0]
						 : (uint32_t)r[0]) == old)
						nv = v;
					r[0] = old;
					break;
				}
				ref_store(a, size, nv);
				if ((in->imm & EBPF_FETCH) &&
				    in->imm != EBPF_CMPXCHG)
					r[in->src] = old;
			} else {
				ref_store(r[in->dst] + in->off,
					  EBPF_SIZE(in->code), r[in->src]);
			}
			break;
		case EBPF_JMP:
		case EBPF_JMP32:
			w = cls == EBPF_JMP;
			if (op == EBPF_EXIT)
				return r[0];
			if (op == EBPF_CALL) {
				r[0] = ebpf_helper(in->imm)(r[1], r[2], r[3],
							    r[4], r[5]);
				for (int i = 1; i <= 5; i++)
					r[i] = 0xbad; /* clobbered */
				break;
			}
			if (op == EBPF_JA)
				pc += w ? in->off : in->imm;
			else if (ref_cond(op, r[in->dst], s, w))
				pc += in->off;
			break;
		}
	}
	return r[0];
}

/* ---- running one program three ways ------------------------------------- */

/* The context: a buffer at a fixed address, reset before every run so the
 * memory effects can be compared (and r1 is the same pointer for all). */
#define CTX_BYTES 1024
static uint8_t ctx_mem[CTX_BYTES] __attribute__((aligned(16)));
static uint8_t ctx_init[CTX_BYTES];

__attribute__((constructor)) static void ctx_fill(void)
{
	uint32_t seed = 12345;

	for (int i = 0; i < CTX_BYTES; i++) {
		seed = seed * 1103515245u + 12345u;
		ctx_init[i] = (uint8_t)(seed >> 16);
	}
}

static struct ebpf_map *test_maps[EBPF_MAX_MAPS];

static void prog_init(struct ebpf_prog *p, const struct pb *b)
{
	memset(p, 0, sizeof(*p));
	strcpy(p->name, "test");
	p->insns = (struct ebpf_insn *)b->in;
	p->ninsns = b->n;
	for (int i = 0; i < EBPF_MAX_MAPS; i++)
		p->maps[i] = test_maps[i];
	p->nmaps = EBPF_MAX_MAPS;
}

/* Runs b through the JIT, the reference and (when linked) the interpreter
 * and compares r0 and the context memory. Returns 1 on a mismatch. */
static int run_cmp(const struct pb *b, const char *what)
{
	struct ebpf_prog p;
	uint8_t mem_ref[CTX_BYTES], mem_jit[CTX_BYTES];
	uint64_t want, got;
	int err;

	prog_init(&p, b);
	err = ebpf_jit(&p);
	if (err || !p.jitted) {
		fprintf(stderr, "  %s: ebpf_jit = %d\n", what, err);
		check_failures_in_test++;
		return 1;
	}
	memcpy(ctx_mem, ctx_init, CTX_BYTES);
	want = ref_run(&p, ctx_mem);
	memcpy(mem_ref, ctx_mem, CTX_BYTES);
	memcpy(ctx_mem, ctx_init, CTX_BYTES);
	got = p.jitted(ctx_mem);
	memcpy(mem_jit, ctx_mem, CTX_BYTES);
	ebpf_jit_free(&p);
	if (got != want || memcmp(mem_ref, mem_jit, CTX_BYTES)) {
		fprintf(stderr, "  %s: jit %#llx, reference %#llx%s\n", what,
			(unsigned long long)got, (unsigned long long)want,
			memcmp(mem_ref, mem_jit, CTX_BYTES)
			    ? " (memory differs)"
			    : "");
		check_failures_in_test++;
		return 1;
	}
	memcpy(ctx_mem, ctx_init, CTX_BYTES);
	if (ebpf_interp_exec(&p, ctx_mem, &got, NULL) || got != want ||
	    memcmp(mem_ref, ctx_mem, CTX_BYTES)) {
		fprintf(stderr, "  %s: interpreter %#llx, reference %#llx\n",
			what, (unsigned long long)got,
			(unsigned long long)want);
		check_failures_in_test++;
		return 1;
	}
	return 0;
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
    0xffff,
    0x12345678,
    0x7fffffff,
    0x80000000,
    0xffffffff,
    0x100000000ULL,
    0x7fffffffffffffffULL,
    0x8000000000000000ULL,
    0xffffffffffffffffULL,
    0xfffffffffffffffeULL,
    0xffffffff80000000ULL,
    0xdeadbeefcafebabeULL,
    0x00000001fffffffeULL,
};
#define NEDGE (sizeof(edge) / sizeof(edge[0]))

/* ---- ALU ---------------------------------------------------------------- */
struct alu_case {
	uint8_t op;
	int16_t off; /* sdiv/smod (1), movsx (8/16/32) */
	bool v4;     /* cpu v4 */
	const char *name;
};

static const struct alu_case alu_cases[] = {
    {EBPF_ADD, 0, false, "add"},     {EBPF_SUB, 0, false, "sub"},
    {EBPF_MUL, 0, false, "mul"},     {EBPF_DIV, 0, false, "div"},
    {EBPF_MOD, 0, false, "mod"},     {EBPF_OR, 0, false, "or"},
    {EBPF_AND, 0, false, "and"},     {EBPF_XOR, 0, false, "xor"},
    {EBPF_LSH, 0, false, "lsh"},     {EBPF_RSH, 0, false, "rsh"},
    {EBPF_ARSH, 0, false, "arsh"},   {EBPF_MOV, 0, false, "mov"},
    {EBPF_DIV, 1, true, "sdiv"},     {EBPF_MOD, 1, true, "smod"},
    {EBPF_MOV, 8, true, "movsx8"},   {EBPF_MOV, 16, true, "movsx16"},
    {EBPF_MOV, 32, true, "movsx32"},
};

static int alu_one(const struct alu_case *c, bool w, bool x, uint8_t dst,
		   uint8_t src, uint64_t a, uint64_t bv)
{
	struct pb b = {.n = 0};
	char what[96];

	init_regs(&b);
	ld64(&b, dst, a);
	if (x && src != dst)
		ld64(&b, src, bv);
	put(&b, (w ? EBPF_ALU64 : EBPF_ALU) | c->op | (x ? EBPF_X : EBPF_K),
	    dst, x ? src : 0, c->off, x ? 0 : (int32_t)bv);
	hash_exit(&b);
	snprintf(what, sizeof(what), "%s%s %s r%u, %s%u (%#llx, %#llx)",
		 c->name, w ? "64" : "32", x ? "reg" : "imm", dst, x ? "r" : "",
		 x ? src : (unsigned)(int32_t)bv, (unsigned long long)a,
		 (unsigned long long)bv);
	return run_cmp(&b, what);
}

TEST(alu_edge_values_every_register_pair)
{
	int fails = 0, runs = 0;

	for (size_t ci = 0; ci < sizeof(alu_cases) / sizeof(alu_cases[0]);
	     ci++) {
		const struct alu_case *c = &alu_cases[ci];

		for (int w = 0; w < 2; w++)
			for (int x = 0; x < 2; x++) {
				if (c->off && c->op == EBPF_MOV && !x)
					continue;
				if (c->off == 32 && !w)
					continue;
				for (size_t ia = 0; ia < NEDGE; ia++)
					for (size_t ib = 0; ib < NEDGE; ib++) {
						/* Rotate through every pair of
						 * r0..r9 (dst != r1 would keep
						 * ctx; r1 is a fine dst too).
						 */
						size_t k =
						    ia * NEDGE + ib + ci * 7;
						uint8_t dst = (uint8_t)(k % 10);
						uint8_t src =
						    (uint8_t)(k / 10 % 10);

						runs++;
						fails +=
						    alu_one(c, w, x, dst, src,
							    edge[ia], edge[ib]);
						if (fails > 10)
							goto out;
					}
			}
	}
out:
	printf("  alu: %d programs\n", runs);
	CHECK_EQ(fails, 0);
}

/* The registers the JIT treats specially (rax, rdx, rcx = r0, r3, r4) in
 * every role, for the ops that use them. */
TEST(alu_div_shift_special_registers)
{
	static const uint8_t ops[] = {EBPF_DIV, EBPF_MOD,  EBPF_LSH,
				      EBPF_RSH, EBPF_ARSH, EBPF_MUL};
	static const uint64_t vals[] = {0,
					1,
					3,
					31,
					32,
					63,
					0xffffffffULL,
					0x8000000000000000ULL,
					0xfffffffffffffff9ULL};
	int fails = 0;

	for (size_t oi = 0; oi < sizeof(ops); oi++)
		for (uint8_t dst = 0; dst < 10; dst++)
			for (uint8_t src = 0; src < 10; src++)
				for (int w = 0; w < 2; w++)
					for (size_t v = 0; v < 9; v++) {
						struct alu_case c = {
						    ops[oi], 0, false, "op"};

						fails += alu_one(
						    &c, w, true, dst, src,
						    0xf0f0f0f0deadbeefULL,
						    vals[v]);
					}
	CHECK_EQ(fails, 0);
}

TEST(alu_neg_and_end)
{
	int fails = 0;

	for (size_t i = 0; i < NEDGE; i++)
		for (uint8_t dst = 0; dst < 10; dst++) {
			for (int w = 0; w < 2; w++) {
				struct pb b = {.n = 0};

				init_regs(&b);
				ld64(&b, dst, edge[i]);
				put(&b, (w ? EBPF_ALU64 : EBPF_ALU) | EBPF_NEG,
				    dst, 0, 0, 0);
				hash_exit(&b);
				fails += run_cmp(&b, "neg");
			}
			static const int widths[] = {16, 32, 64};
			for (int wi = 0; wi < 3; wi++)
				for (int kind = 0; kind < 3; kind++) {
					/* le, be, ALU64 bswap (cpu v4) */
					struct pb b = {.n = 0};
					uint8_t code =
					    kind == 2 ? EBPF_ALU64 : EBPF_ALU;

					code |= EBPF_END |
						(kind == 1 ? EBPF_X : EBPF_K);
					init_regs(&b);
					ld64(&b, dst,
					     edge[i] ^ 0x0102030405060708ULL);
					put(&b, code, dst, 0, 0, widths[wi]);
					hash_exit(&b);
					fails += run_cmp(&b, "end");
				}
		}
	CHECK_EQ(fails, 0);
}

TEST(alu_imm_mov_forms)
{
	/* mov imm picks among xor, mov r32 and mov r/m64 simm32; ld_imm64
	 * among mov r32, simm32 and movabs. */
	static const int32_t imms[] = {
	    0, 1, -1, 127, 128, -128, -129, INT32_MAX, INT32_MIN, 0x12345678};
	int fails = 0;

	for (uint8_t dst = 0; dst < 10; dst++)
		for (size_t i = 0; i < 10; i++)
			for (int w = 0; w < 2; w++) {
				struct pb b = {.n = 0};

				init_regs(&b);
				put(&b,
				    (w ? EBPF_ALU64 : EBPF_ALU) | EBPF_MOV |
					EBPF_K,
				    dst, 0, 0, imms[i]);
				hash_exit(&b);
				fails += run_cmp(&b, "mov imm");
			}
	for (uint8_t dst = 0; dst < 10; dst++)
		for (size_t i = 0; i < NEDGE; i++) {
			struct pb b = {.n = 0};

			init_regs(&b);
			ld64(&b, dst, edge[i]);
			ld64(&b, dst == 9 ? 8 : 9,
			     (uint64_t)(int64_t)(int32_t)edge[i]);
			hash_exit(&b);
			fails += run_cmp(&b, "ld_imm64");
		}
	CHECK_EQ(fails, 0);
}

/* ---- jumps -------------------------------------------------------------- */
static const uint8_t jmp_ops[] = {
    EBPF_JEQ,  EBPF_JNE,  EBPF_JGT,  EBPF_JGE,	EBPF_JLT,  EBPF_JLE,
    EBPF_JSET, EBPF_JSGT, EBPF_JSGE, EBPF_JSLT, EBPF_JSLE,
};

/* if (dst op src) skip `pad` instructions: pad 0 is a jump to the next
 * instruction, 1 a rel8 and 60 (240 bytes) a rel32 jump. */
static int jmp_one(uint8_t op, bool w, bool x, uint8_t dst, uint8_t src,
		   uint64_t a, uint64_t bv, int pad)
{
	struct pb b = {.n = 0};
	char what[96];

	init_regs(&b);
	ld64(&b, dst, a);
	if (x && src != dst)
		ld64(&b, src, bv);
	put(&b, (w ? EBPF_JMP : EBPF_JMP32) | op | (x ? EBPF_X : EBPF_K), dst,
	    x ? src : 0, (int16_t)pad, x ? 0 : (int32_t)bv);
	for (int i = 0; i < pad; i++)
		alu64_k(&b, EBPF_ADD, (uint8_t)(i % 10 == 1 ? 2 : i % 10),
			0x1000 + i);
	hash_exit(&b);
	snprintf(what, sizeof(what),
		 "jmp%s op %#x %s r%u r%u (%#llx, %#llx) pad %d", w ? "" : "32",
		 op, x ? "reg" : "imm", dst, src, (unsigned long long)a,
		 (unsigned long long)bv, pad);
	return run_cmp(&b, what);
}

TEST(jmp_conditions_edge_values)
{
	static const int pads[] = {0, 1, 60};
	int fails = 0, runs = 0;

	for (size_t oi = 0; oi < sizeof(jmp_ops); oi++)
		for (int w = 0; w < 2; w++)
			for (int x = 0; x < 2; x++)
				for (size_t ia = 0; ia < NEDGE; ia++)
					for (size_t ib = 0; ib < NEDGE; ib++) {
						size_t k = ia * NEDGE + ib + oi;
						uint8_t dst = (uint8_t)(k % 10);
						uint8_t src =
						    (uint8_t)(k / 10 % 10);

						runs++;
						fails += jmp_one(
						    jmp_ops[oi], w, x, dst, src,
						    edge[ia], edge[ib],
						    pads[k % 3]);
						if (fails > 10)
							goto out;
					}
out:
	printf("  jmp: %d programs\n", runs);
	CHECK_EQ(fails, 0);
}

/* Backward jumps (a counted loop), short and long, and JA/gotol. */
TEST(jmp_backward_loops_and_ja)
{
	int fails = 0;

	for (int pad = 0; pad < 70; pad += 7)
		for (int w = 0; w < 2; w++) {
			struct pb b = {.n = 0};
			uint32_t top;

			init_regs(&b);
			put(&b, EBPF_ALU64 | EBPF_MOV | EBPF_K, 2, 0, 0, 100);
			top = b.n;
			alu64_x(&b, EBPF_ADD, 0, 2);
			for (int i = 0; i < pad; i++)
				alu64_k(&b, EBPF_XOR, 3, i * 77);
			alu64_k(&b, EBPF_SUB, 2, 1);
			put(&b, (w ? EBPF_JMP : EBPF_JMP32) | EBPF_JNE | EBPF_K,
			    2, 0, (int16_t)(top - (b.n + 1)), 0);
			/* ja over a poison instruction, then gotol (v4). */
			put(&b, EBPF_JMP | EBPF_JA, 0, 0, 1, 0);
			alu64_k(&b, EBPF_MOV, 0, 0x666);
			put(&b, EBPF_JMP32 | EBPF_JA, 0, 0, 0, 1);
			alu64_k(&b, EBPF_MOV, 0, 0x667);
			hash_exit(&b);
			fails += run_cmp(&b, "loop");
		}
	CHECK_EQ(fails, 0);
}

/* Many jumps whose sizes depend on each other: every instruction is a
 * conditional jump to the far end or to its neighbour, around the rel8
 * boundary. */
TEST(jmp_size_convergence)
{
	int fails = 0;

	for (int n = 20; n < 80; n += 3) {
		struct pb b = {.n = 0};
		uint32_t start;

		init_regs(&b);
		start = b.n;
		for (int i = 0; i < n; i++) {
			int16_t to_end = (int16_t)((n - i - 1) * 2);

			put(&b, EBPF_JMP | EBPF_JEQ | EBPF_K,
			    (uint8_t)(i % 10 == 1 ? 0 : i % 10), 0,
			    i % 3 ? to_end : 1, i);
			alu64_k(&b, EBPF_ADD, 0, i);
		}
		(void)start;
		hash_exit(&b);
		fails += run_cmp(&b, "convergence");
	}
	CHECK_EQ(fails, 0);
}

/* ---- memory ------------------------------------------------------------- */
static const uint8_t sizes[] = {EBPF_B, EBPF_H, EBPF_W, EBPF_DW};

TEST(mem_ldx_stx_st_every_size)
{
	static const int16_t offs[] = {0, 1, 7, 127, 128, 200, 511, 1008};
	static const int16_t stack_offs[] = {-8, -1, -128, -129, -256, -512};
	int fails = 0;

	for (size_t si = 0; si < 4; si++)
		for (size_t oi = 0; oi < 8; oi++)
			for (uint8_t r = 0; r < 10; r++) {
				/* Base in r1 (ctx, rdi) or a copy in r; value
				 * in every register, so the byte stores from
				 * sil, dil, bpl get their REX prefix. */
				uint8_t base =
				    r == 5 ? 1 : (uint8_t)((r + 3) % 10);
				uint8_t val = r;
				struct pb b = {.n = 0};

				/* r0 accumulates the loads: not a base. */
				if (base == 0)
					base = 3;
				if (base == val)
					base = base == 1 ? 6 : 1;
				init_regs(&b);
				if (base != 1)
					alu64_x(&b, EBPF_MOV, base, 1);
				ld64(&b, val == 1 ? 2 : val,
				     edge[(r * 3 + oi) % NEDGE]);
				put(&b, EBPF_STX | EBPF_MEM | sizes[si], base,
				    val == 1 ? 2 : val, offs[oi], 0);
				put(&b, EBPF_ST | EBPF_MEM | sizes[si], base, 0,
				    (int16_t)(offs[oi] ^ 4),
				    (int32_t)edge[r] - 3);
				/* Load into registers other than the base. */
				static const uint8_t targets[] = {6, 7, 8, 9,
								  2, 3, 4, 5};
				uint8_t tg[4], nt = 0;

				for (size_t ti = 0; nt < 4; ti++)
					if (targets[ti] != base)
						tg[nt++] = targets[ti];
				for (size_t li = 0; li < 4; li++)
					for (int sx = 0; sx < 2; sx++) {
						if (sx && sizes[li] == EBPF_DW)
							continue;
						put(&b,
						    EBPF_LDX |
							(sx ? MEMSX
							    : EBPF_MEM) |
							sizes[li],
						    tg[li], base, offs[oi], 0);
						alu64_x(&b, EBPF_XOR, 0,
							tg[li]);
						alu64_k(&b, EBPF_MUL, 0, 3);
					}
				if (base == 1)
					alu64_k(&b, EBPF_MOV, 9, 0);
				hash_exit(&b);
				fails += run_cmp(&b, "ctx memory");
				/* The interpreter on the forms it knows. */
			}
	for (size_t si = 0; si < 4; si++)
		for (size_t oi = 0; oi < 6; oi++)
			for (uint8_t val = 0; val < 10; val++) {
				struct pb b = {.n = 0};

				init_regs(&b);
				put(&b, EBPF_ST | EBPF_MEM | EBPF_DW, 10, 0,
				    (int16_t)(stack_offs[oi] & ~7), -1);
				/* Aligned down to the access size, inside. */
				int16_t off =
				    (int16_t)(stack_offs[oi] & -(1 << si));

				put(&b, EBPF_STX | EBPF_MEM | sizes[si], 10,
				    val, off, 0);
				put(&b, EBPF_LDX | EBPF_MEM | EBPF_DW, 0, 10,
				    (int16_t)(stack_offs[oi] & ~7), 0);
				put(&b, EBPF_LDX | EBPF_MEM | sizes[si], 7, 10,
				    off, 0);
				alu64_k(&b, EBPF_MOV, 1, 0);
				hash_exit(&b);
				fails += run_cmp(&b, "stack memory");
			}
	CHECK_EQ(fails, 0);
}

TEST(mem_interp_plain_loads)
{
	int fails = 0;

	for (size_t si = 0; si < 4; si++)
		for (int16_t off = 0; off < 300; off += 37) {
			struct pb b = {.n = 0};

			init_regs(&b);
			put(&b, EBPF_LDX | EBPF_MEM | sizes[si], 4, 1, off, 0);
			put(&b, EBPF_STX | EBPF_MEM | sizes[si], 1, 2,
			    (int16_t)(off + 500), 0);
			put(&b, EBPF_ST | EBPF_MEM | sizes[si], 1, 0,
			    (int16_t)(off + 8), -5);
			alu64_k(&b, EBPF_MOV, 1, 0);
			hash_exit(&b);
			fails += run_cmp(&b, "plain loads");
		}
	CHECK_EQ(fails, 0);
}

TEST(mem_atomics)
{
	static const int32_t ops[] = {
	    EBPF_ADD,
	    EBPF_OR,
	    EBPF_AND,
	    EBPF_XOR,
	    EBPF_ADD | EBPF_FETCH,
	    EBPF_XCHG,
	    EBPF_CMPXCHG,
	    EBPF_OR | EBPF_FETCH,
	    EBPF_AND | EBPF_FETCH,
	    EBPF_XOR | EBPF_FETCH,
	};
	int fails = 0;

	for (size_t oi = 0; oi < sizeof(ops) / sizeof(ops[0]); oi++)
		for (int dw = 0; dw < 2; dw++)
			for (uint8_t src = 0; src < 10; src++)
				for (int match = 0; match < 3; match++) {
					struct pb b = {.n = 0};
					/* match 2: the base register is r0,
					 * which cmpxchg loops use */
					uint8_t base = match == 2 ? 0
						       : src == 6 ? 7
								  : 6;

					if (src == 1)
						continue;
					init_regs(&b);
					alu64_x(&b, EBPF_MOV, base, 1);
					/* For cmpxchg: r0 equal to memory or
					 * not. */
					if (match == 1)
						put(&b,
						    EBPF_LDX | EBPF_MEM |
							(dw ? EBPF_DW : EBPF_W),
						    0, 1, 64, 0);
					if (match == 1 && src == 0)
						continue;
					/* 32-bit cmpxchg compares only the low
					 * half of r0 and zero-extends it. */
					if (match == 1 && !dw) {
						ld64(&b, 9, 0xabcd00000000ULL);
						alu64_x(&b, EBPF_OR, 0, 9);
					}
					put(&b,
					    EBPF_STX | EBPF_ATOMIC |
						(dw ? EBPF_DW : EBPF_W),
					    base, src, 64, ops[oi]);
					alu64_k(&b, EBPF_MOV, 1, 0);
					alu64_k(&b, EBPF_MOV, base, 0);
					hash_exit(&b);
					fails += run_cmp(&b, "atomic");
				}
	CHECK_EQ(fails, 0);
}

/* ---- helper calls ------------------------------------------------------- */

/* r1..r5 are clobbered by a call: the tail hashes r0 and r6..r9 only. */
static void call_exit(struct pb *b)
{
	for (int r = 6; r < 10; r++) {
		alu64_k(b, EBPF_MUL, 0, 1000003);
		alu64_x(b, EBPF_XOR, 0, (uint8_t)r);
	}
	exit_insn(b);
}

TEST(call_csum_diff_five_arguments)
{
	int fails = 0;

	/* bpf_csum_diff(from = ctx, 8..64, to = ctx + 256, 4..32, seed):
	 * every argument register, r4 (rcx) and r5 (r8) included. */
	for (int fs = 0; fs <= 64; fs += 8)
		for (int ts = 0; ts <= 32; ts += 4) {
			struct pb b = {.n = 0};

			init_regs(&b);
			alu64_x(&b, EBPF_MOV, 3, 1);
			alu64_k(&b, EBPF_ADD, 3, 256);
			put(&b, EBPF_ALU64 | EBPF_MOV | EBPF_K, 2, 0, 0, fs);
			put(&b, EBPF_ALU64 | EBPF_MOV | EBPF_K, 4, 0, 0, ts);
			ld64(&b, 5, 0x12345678ULL + (uint64_t)fs * ts);
			put(&b, EBPF_JMP | EBPF_CALL, 0, 0, 0,
			    EBPF_FUNC_csum_diff);
			call_exit(&b);
			fails += run_cmp(&b, "csum_diff");
		}
	CHECK_EQ(fails, 0);
}

/* Keys 0..9 hold key * 1000; everything else is absent. */
static void map_reset(struct ebpf_map *m)
{
	for (uint32_t key = 0; key < 24; key++) {
		uint64_t v = key * 1000ULL;

		ebpf_map_delete(m, &key);
		if (key < 10)
			CHECK_EQ(ebpf_map_update(m, &key, &v, EBPF_ANY), 0);
	}
}

TEST(call_map_lookup_update)
{
	struct ebpf_map *m;
	int fails = 0;

	CHECK_EQ(ebpf_map_create("h", EBPF_MAP_HASH, 4, 8, 16, &m), 0);
	test_maps[2] = m;
	for (uint32_t k = 0; k < 20; k++) {
		struct pb b = {.n = 0};
		struct ebpf_prog p;
		uint32_t key = k * 7 % 23;
		uint64_t res[3], val[3];

		/* key on the stack; lookup; if found, value += 1 (lock add)
		 * and return it, else -7 */
		init_regs(&b);
		put(&b, EBPF_ST | EBPF_MEM | EBPF_W, 10, 0, -4, (int32_t)key);
		alu64_x(&b, EBPF_MOV, 2, 10);
		alu64_k(&b, EBPF_ADD, 2, -4);
		put(&b, BPF_LD_IMM64, 1, EBPF_PSEUDO_MAP_FD, 0, 2);
		put(&b, 0, 0, 0, 0, 0);
		put(&b, EBPF_JMP | EBPF_CALL, 0, 0, 0,
		    EBPF_FUNC_map_lookup_elem);
		put(&b, EBPF_JMP | EBPF_JEQ | EBPF_K, 0, 0, 4, 0);
		put(&b, EBPF_ALU64 | EBPF_MOV | EBPF_K, 1, 0, 0, 1);
		put(&b, EBPF_STX | EBPF_ATOMIC | EBPF_DW, 0, 1, 0, EBPF_ADD);
		put(&b, EBPF_LDX | EBPF_MEM | EBPF_DW, 0, 0, 0, 0);
		put(&b, EBPF_JMP | EBPF_JA, 0, 0, 1, 0);
		put(&b, EBPF_ALU64 | EBPF_MOV | EBPF_K, 0, 0, 0, -7);
		call_exit(&b);

		prog_init(&p, &b);
		CHECK_EQ(ebpf_jit(&p), 0);
		if (!p.jitted)
			break;
		for (int run = 0; run < 3; run++) {
			uint64_t *v;

			map_reset(m);
			res[run] = run == 0   ? ref_run(&p, ctx_mem)
				   : run == 1 ? p.jitted(ctx_mem)
					      : ebpf_run_interp(&p, ctx_mem);
			v = ebpf_map_lookup(m, &key);
			val[run] = v ? *v : 0;
		}
		ebpf_jit_free(&p);
		if (res[0] != res[1] || res[1] != res[2] || val[0] != val[1] ||
		    val[1] != val[2] ||
		    val[1] != (key < 10 ? key * 1000 + 1 : 0)) {
			fprintf(stderr, "  key %u: %#llx %#llx %#llx\n", key,
				(unsigned long long)res[0],
				(unsigned long long)res[1],
				(unsigned long long)res[2]);
			fails++;
		}
	}
	test_maps[2] = NULL;
	ebpf_map_free(m);
	CHECK_EQ(fails, 0);
}

/* ---- random programs ---------------------------------------------------- */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	/* xorshift64*: deterministic, so a failure reproduces. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint64_t rnd_value(void)
{
	switch (rnd() % 4) {
	case 0:
		return edge[rnd() % NEDGE];
	case 1:
		return rnd() % 70;
	case 2:
		return (uint64_t)(int64_t)(int32_t)rnd();
	default:
		return rnd();
	}
}

/* One random ALU instruction over r0..r9 (never r10, whose value differs
 * between runners). v4 adds the forms only the reference knows. */
static void rnd_alu(struct pb *b, bool v4)
{
	static const uint8_t ops[] = {
	    EBPF_ADD, EBPF_SUB, EBPF_MUL,  EBPF_DIV, EBPF_OR,
	    EBPF_AND, EBPF_LSH, EBPF_RSH,  EBPF_NEG, EBPF_MOD,
	    EBPF_XOR, EBPF_MOV, EBPF_ARSH, EBPF_END,
	};
	uint8_t op = ops[rnd() % sizeof(ops)];
	bool w = rnd() & 1, x = rnd() & 1;
	uint8_t dst = (uint8_t)(rnd() % 10), src = (uint8_t)(rnd() % 10);
	int32_t imm = (int32_t)rnd_value();
	int16_t off = 0;

	if (op == EBPF_NEG) {
		x = false;
		imm = 0;
	}
	if (op == EBPF_END) {
		static const int widths[] = {16, 32, 64};

		imm = widths[rnd() % 3];
		src = 0;
		if (w && !v4)
			w = false;
		if (w) /* ALU64 bswap has no source bit */
			x = false;
	}
	if (v4 && (op == EBPF_DIV || op == EBPF_MOD))
		off = (int16_t)(rnd() & 1);
	if (v4 && op == EBPF_MOV && x) {
		static const int16_t offs[] = {0, 8, 16, 32};

		off = offs[rnd() % (w ? 4 : 3)];
	}
	put(b, (w ? EBPF_ALU64 : EBPF_ALU) | op | (x ? EBPF_X : EBPF_K), dst,
	    x ? src : 0, off, x && op != EBPF_END ? 0 : imm);
}

static void rnd_init(struct pb *b)
{
	for (int r = 0; r < 10; r++)
		if (r != 1)
			ld64(b, (uint8_t)r, rnd_value());
}

TEST(fuzz_straight_line_alu)
{
	int fails = 0, iters = 4000;

	for (int it = 0; it < iters && fails < 5; it++) {
		struct pb b = {.n = 0};
		int len = 1 + (int)(rnd() % 40);
		bool v4 = it % 4 == 3;

		rnd_init(&b);
		for (int i = 0; i < len; i++)
			rnd_alu(&b, v4);
		hash_exit(&b);
		fails += run_cmp(&b, "fuzz alu");
	}
	printf("  fuzz alu: %d programs\n", iters);
	CHECK_EQ(fails, 0);
}

/* ALU mixed with forward conditional jumps (so every program ends), stack
 * stores and loads, and ld_imm64. */
TEST(fuzz_branches_and_stack)
{
	int fails = 0, iters = 3000;

	for (int it = 0; it < iters && fails < 5; it++) {
		struct pb b = {.n = 0};
		int len = 5 + (int)(rnd() % 120);

		rnd_init(&b);
		for (int i = 0; i < len; i++) {
			uint64_t kind = rnd() % 10;
			uint8_t dst = (uint8_t)(rnd() % 10);
			uint8_t src = (uint8_t)(rnd() % 10);

			if (kind < 5) {
				rnd_alu(&b, false);
			} else if (kind < 7 && i + 1 < len) {
				bool x = rnd() & 1;
				int16_t off =
				    (int16_t)(rnd() % (uint64_t)(len - i));

				put(&b,
				    (rnd() & 1 ? EBPF_JMP : EBPF_JMP32) |
					jmp_ops[rnd() % sizeof(jmp_ops)] |
					(x ? EBPF_X : EBPF_K),
				    dst, x ? src : 0, off,
				    x ? 0 : (int32_t)rnd_value());
				/* off counts instructions; keep the jump
				 * inside by padding the tail below. */
			} else if (kind == 7) {
				put(&b, EBPF_STX | EBPF_MEM | sizes[rnd() % 4],
				    10, src,
				    (int16_t) - (int)(8 + rnd() % 64 * 8), 0);
			} else if (kind == 8) {
				/* Stack slots start at a known value. */
				put(&b, EBPF_LDX | EBPF_MEM | sizes[rnd() % 4],
				    dst, 10,
				    (int16_t) - (int)(8 + rnd() % 64 * 8), 0);
			} else {
				ld64(&b, dst, rnd_value());
			}
		}
		/* Jumps reach at most `len` instructions past themselves;
		 * ld_imm64 adds slots, so pad generously with harmless ALU
		 * instructions and make sure no jump lands in an ld_imm64. */
		for (int i = 0; i < len + 2; i++)
			alu64_k(&b, EBPF_ADD, 0, i);
		for (uint32_t i = 0; i < b.n; i++) {
			uint8_t cls = EBPF_CLASS(b.in[i].code);
			if ((cls == EBPF_JMP || cls == EBPF_JMP32) &&
			    b.in[i].code != (EBPF_JMP | EBPF_EXIT)) {
				uint32_t t = i + 1 + (uint32_t)b.in[i].off;
				if (t > 0 && b.in[t - 1].code == BPF_LD_IMM64)
					b.in[i].off++;
			}
		}
		hash_exit(&b);
		/* Stack contents start undefined: define them first. */
		struct pb full = {.n = 0};
		for (int s = 1; s <= 64; s++)
			put(&full, EBPF_ST | EBPF_MEM | EBPF_DW, 10, 0,
			    (int16_t)(-8 * s), s * 0x01010101);
		memcpy(&full.in[full.n], b.in, b.n * sizeof(b.in[0]));
		full.n += b.n;
		fails += run_cmp(&full, "fuzz branches");
	}
	printf("  fuzz branches: %d programs\n", iters);
	CHECK_EQ(fails, 0);
}

/* ---- what the JIT refuses ----------------------------------------------- */
static int jit_of(const struct pb *b)
{
	struct ebpf_prog p;
	int err;

	prog_init(&p, b);
	err = ebpf_jit(&p);
	if (err)
		CHECK(p.jitted == NULL);
	ebpf_jit_free(&p);
	return err;
}

TEST(refuses_what_it_does_not_cover)
{
	struct pb b;

	/* LD_ABS (classic packet load): not an instruction Skiff runs */
	b.n = 0;
	put(&b, EBPF_LD | 0x20 | EBPF_W, 0, 0, 0, 12);
	exit_insn(&b);
	CHECK_EQ(jit_of(&b), -EINVAL);
	/* unknown helper, tail call: left to the interpreter (which traps
	 * on the unknown one); bpf-to-bpf call: not supported */
	b.n = 0;
	put(&b, EBPF_JMP | EBPF_CALL, 0, 0, 0, 9999);
	exit_insn(&b);
	CHECK_EQ(jit_of(&b), -ENOTSUP);
	b.in[0].imm = 12;
	CHECK_EQ(jit_of(&b), -ENOTSUP);
	b.in[0].imm = 1;
	b.in[0].src = 1;
	CHECK_EQ(jit_of(&b), -EINVAL);
	/* atomic on a byte */
	b.n = 0;
	put(&b, EBPF_STX | EBPF_ATOMIC | EBPF_B, 10, 1, -8, EBPF_ADD);
	exit_insn(&b);
	CHECK_EQ(jit_of(&b), -EINVAL);
	/* bad END width */
	b.n = 0;
	put(&b, EBPF_ALU | EBPF_END | EBPF_X, 0, 0, 0, 8);
	exit_insn(&b);
	CHECK_EQ(jit_of(&b), -EINVAL);
}

TEST(refuses_malformed_programs)
{
	struct pb b;

	/* jump out of range, backwards before 0, into an ld_imm64 */
	b.n = 0;
	put(&b, EBPF_JMP | EBPF_JA, 0, 0, 5, 0);
	exit_insn(&b);
	CHECK_EQ(jit_of(&b), -EINVAL);
	b.in[0].off = -2;
	CHECK_EQ(jit_of(&b), -EINVAL);
	b.n = 0;
	put(&b, EBPF_JMP | EBPF_JA, 0, 0, 1, 0);
	ld64(&b, 0, 1);
	exit_insn(&b);
	CHECK_EQ(jit_of(&b), -EINVAL);
	/* truncated ld_imm64 */
	b.n = 0;
	exit_insn(&b);
	put(&b, BPF_LD_IMM64, 0, 0, 0, 1);
	CHECK_EQ(jit_of(&b), -EINVAL);
	/* writing r10, register 11 */
	b.n = 0;
	alu64_k(&b, EBPF_ADD, 10, 8);
	exit_insn(&b);
	CHECK_EQ(jit_of(&b), -EINVAL);
	b.in[0].dst = 11;
	CHECK_EQ(jit_of(&b), -EINVAL);
	/* empty */
	b.n = 0;
	CHECK_EQ(jit_of(&b), -EINVAL);
}

/* The biggest program: 4096 instructions with long jumps across it. */
TEST(largest_program)
{
	static struct pb b;
	int fails;

	b.n = 0;
	init_regs(&b);
	put(&b, EBPF_JMP | EBPF_JGT | EBPF_X, 2, 3, 4000, 0);
	while (b.n < EBPF_MAX_INSNS - 20)
		alu64_k(&b, EBPF_ADD, (uint8_t)(b.n % 9 == 1 ? 0 : b.n % 9),
			(int32_t)b.n);
	b.in[18].off = (int16_t)(b.n - 19 - 5);
	hash_exit(&b);
	fails = run_cmp(&b, "largest");
	CHECK_EQ(fails, 0);
}

/* ---- the shipped XDP programs ------------------------------------------ */
static const uint8_t xdp_addrs[][4] = {
    {10, 0, 0, 1},
    {10, 0, 0, 2},
    {10, 0, 0, 3},
    {192, 168, 1, 7},
};
static const uint16_t xdp_ports[] = {53, 7, 1234, 65535};

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A random frame: mostly Ethernet + IPv4 + UDP/TCP/ICMP with addresses and
 * ports from small sets (so the blocklist hits), sometimes other
 * ethertypes, IP options, bad versions or a frame cut short anywhere. */
static size_t xdp_frame(uint8_t *f, size_t cap)
{
	static const uint8_t protos[] = {17, 17, 6, 1, 47};
	size_t len = 14 + 20 + 8 + rnd() % 64;
	uint8_t ihl = rnd() % 8 ? 5 : (uint8_t)(5 + rnd() % 3);

	for (size_t i = 0; i < cap; i++)
		f[i] = (uint8_t)rnd();
	put_be16(f + 12, rnd() % 8 ? 0x0800 : (rnd() % 2 ? 0x86dd : 0x0806));
	f[14] = (uint8_t)((rnd() % 16 ? 4 : 6) << 4 | ihl);
	put_be16(f + 16, (uint16_t)(len - 14));
	f[14 + 8] = 64;
	f[14 + 9] = protos[rnd() % sizeof(protos)];
	memcpy(f + 14 + 12, xdp_addrs[rnd() % 4], 4);
	memcpy(f + 14 + 16, xdp_addrs[rnd() % 4], 4);
	uint8_t *l4 = f + 14 + ihl * 4;
	put_be16(l4, xdp_ports[rnd() % 4]);
	put_be16(l4 + 2, xdp_ports[rnd() % 4]);
	put_be16(l4 + 4, (uint16_t)(len - 14 - ihl * 4));
	if (rnd() % 4 == 0)
		put_be16(l4 + 6, 0); /* no UDP checksum */
	len += ihl * 4 - 20;
	if (rnd() % 6 == 0)
		len = rnd() % len; /* truncated */
	return len < cap ? len : cap;
}

/* Array maps compared value by value (hash maps are only read). */
static int xdp_maps_differ(const struct ebpf_prog *a, const struct ebpf_prog *b)
{
	for (uint32_t m = 0; m < a->nmaps; m++) {
		if (a->maps[m]->type != EBPF_MAP_ARRAY)
			continue;
		for (uint32_t k = 0; k < a->maps[m]->max_entries; k++) {
			void *va = ebpf_map_lookup(a->maps[m], &k);
			void *vb = ebpf_map_lookup(b->maps[m], &k);

			if (!va || !vb ||
			    memcmp(va, vb, a->maps[m]->value_size) != 0)
				return 1;
		}
	}
	return 0;
}

TEST(xdp_shipped_programs_jit_vs_interpreter)
{
	static const char *const names[] = {"udp_reflect", "blocklist",
					    "count"};
	int total = 0;

	for (size_t ni = 0; ni < 3; ni++) {
		char err[160];
		struct ebpf_prog *pi = NULL, *pj = NULL;
		size_t len = 0;
		uint8_t *elf;
		int fails = 0;

		elf = bpf_obj_read(names[ni], &len);
		CHECK(elf != NULL);
		if (!elf)
			continue;
		/* Every shipped program must load: one that does not fails
		 * here too (test_ebpf says why in detail). */
		err[0] = 0;
		if (ebpf_load_elf(elf, len, NULL, &pi, err, sizeof(err)) == 0)
			ebpf_load_elf(elf, len, NULL, &pj, err, sizeof(err));
		free(elf);
		if (!pi || !pj) {
			fprintf(stderr, "  %s: does not load: %s\n", names[ni],
				err);
			check_failures_in_test++;
			ebpf_prog_free(pi);
			ebpf_prog_free(pj);
			continue;
		}
		CHECK_EQ(ebpf_jit(pj), 0);
		CHECK(pj->jitted != NULL);
		CHECK(pi->jitted == NULL);
		printf("  %s: %u insns, %zu bytes of x86\n", names[ni],
		       pj->ninsns, pj->jit_size);
		/* blocklist: 10.0.0.2 on any port, 10.0.0.3 from port 53 */
		struct ebpf_map *bl[2] = {ebpf_prog_map(pi, "blocklist"),
					  ebpf_prog_map(pj, "blocklist")};
		for (int i = 0; i < 2 && bl[0] && bl[1]; i++) {
			uint8_t key[8] = {10, 0, 0, 2, 0, 0, 0, 0}, one = 1;
			uint16_t port = 53;

			CHECK_EQ(ebpf_map_update(bl[i], key, &one, EBPF_ANY),
				 0);
			key[3] = 3;
			memcpy(key + 4, &port, 2);
			CHECK_EQ(ebpf_map_update(bl[i], key, &one, EBPF_ANY),
				 0);
		}
		for (int it = 0; it < 3000 && fails < 5; it++) {
			uint8_t frame[160];
			size_t flen = xdp_frame(frame, sizeof(frame));
			uint8_t *fa = malloc(flen + 1), *fb = malloc(flen + 1);
			struct ebpf_xdp_ctx ca = {0}, cb = {0};
			uint64_t ra, rb;

			memcpy(fa, frame, flen);
			memcpy(fb, frame, flen);
			ca.data = ca.data_meta = fa;
			ca.data_end = fa + flen;
			cb.data = cb.data_meta = fb;
			cb.data_end = fb + flen;
			ca.ingress_ifindex = cb.ingress_ifindex = 1;
			ca.rx_queue_index = cb.rx_queue_index =
			    (uint32_t)(it & 1);
			ra = ebpf_run(pi, &ca);
			rb = ebpf_run(pj, &cb);
			if (ra != rb || memcmp(fa, fb, flen) ||
			    xdp_maps_differ(pi, pj)) {
				fprintf(stderr,
					"  %s frame %d (%zu bytes): "
					"interpreter %llu, jit %llu%s\n",
					names[ni], it, flen,
					(unsigned long long)ra,
					(unsigned long long)rb,
					memcmp(fa, fb, flen) ? ", frames differ"
							     : "");
				fails++;
			}
			free(fa);
			free(fb);
			total++;
		}
		CHECK_EQ(fails, 0);
		ebpf_prog_free(pi);
		ebpf_prog_free(pj); /* releases the code (ebpf_jit_free) */
	}
	printf("  xdp: %d frames\n", total);
}

/* ---- host stand-ins ----------------------------------------------------- */
/* helpers.c's bpf_ktime_get_ns */
uint64_t clock_ns(void)
{
	return 0;
}

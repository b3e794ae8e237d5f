/* Host tests of the eBPF runtime: the real loader, verifier, interpreter,
 * maps and helpers (net/ebpf/) with
 *  - the shipped programs (net/xdp/NAME.bpf.c) compiled by clang, loaded from
 *    their ELF objects and run on random frames against a C reference;
 *  - bad restricted-C programs (tests/unit/bpf/) and hand-assembled
 *    instruction arrays, good ones that must pass and bad ones that must be
 *    rejected with their stated reason;
 *  - malformed ELF objects (every truncation, corrupted headers), which
 *    must be refused cleanly (ASan/UBSan watch);
 *  - map semantics (BPF_ANY/NOEXIST/EXIST, full, delete). */
#include <stdint.h>

#include "ebpf/ebpf.h"
#include "kernel/kerrno.h"
#include "tests/unit/bpf_obj.h"
#include "tests/unit/check.h"

uint64_t clock_ns(void)
{
	return 12345;
}

/* ---- helpers --------------------------------------------------------------
 */

static struct ebpf_prog *load_obj(const char *name)
{
	size_t len;
	uint8_t *b = bpf_obj_read(name, &len);
	struct ebpf_prog *p = NULL;
	char err[200];
	int rc;

	if (!b)
		return NULL;
	rc = ebpf_load_elf(b, len, NULL, &p, err, sizeof(err));
	if (rc)
		fprintf(stderr, "  %s: %s\n", name, err);
	free(b);
	return p;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)rng_state;
}

static uint64_t run(struct ebpf_prog *p, uint8_t *frame, size_t len)
{
	struct ebpf_xdp_ctx ctx = {0};

	ctx.data = frame;
	ctx.data_end = frame + len;
	ctx.data_meta = frame;
	ctx.ingress_ifindex = 1;
	return ebpf_run(p, &ctx);
}

/* ---- instruction builders -------------------------------------------------
 */

#define I(c, d, s, o, i)                                                       \
	((struct ebpf_insn){                                                   \
	    .code = (c), .dst = (d), .src = (s), .off = (o), .imm = (i)})
#define MOV64_IMM(d, i)	       I(EBPF_ALU64 | EBPF_MOV | EBPF_K, d, 0, 0, i)
#define MOV64_REG(d, s)	       I(EBPF_ALU64 | EBPF_MOV | EBPF_X, d, s, 0, 0)
#define ALU64_IMM(op, d, i)    I(EBPF_ALU64 | (op) | EBPF_K, d, 0, 0, i)
#define ALU64_REG(op, d, s)    I(EBPF_ALU64 | (op) | EBPF_X, d, s, 0, 0)
#define ALU32_IMM(op, d, i)    I(EBPF_ALU | (op) | EBPF_K, d, 0, 0, i)
#define ALU32_REG(op, d, s)    I(EBPF_ALU | (op) | EBPF_X, d, s, 0, 0)
#define LDX(sz, d, s, o)       I(EBPF_LDX | EBPF_MEM | (sz), d, s, o, 0)
#define STX(sz, d, s, o)       I(EBPF_STX | EBPF_MEM | (sz), d, s, o, 0)
#define ST(sz, d, o, i)	       I(EBPF_ST | EBPF_MEM | (sz), d, 0, o, i)
#define XADD(sz, d, s, o)      I(EBPF_STX | EBPF_ATOMIC | (sz), d, s, o, EBPF_ADD)
#define JMP_IMM(op, d, i, o)   I(EBPF_JMP | (op) | EBPF_K, d, 0, o, i)
#define JMP_REG(op, d, s, o)   I(EBPF_JMP | (op) | EBPF_X, d, s, o, 0)
#define JMP32_IMM(op, d, i, o) I(EBPF_JMP32 | (op) | EBPF_K, d, 0, o, i)
#define JA(o)		       I(EBPF_JMP | EBPF_JA, 0, 0, o, 0)
#define CALL(n)		       I(EBPF_JMP | EBPF_CALL, 0, 0, 0, n)
#define EXIT		       I(EBPF_JMP | EBPF_EXIT, 0, 0, 0, 0)
#define LD_MAP(d, idx)                                                         \
	I(EBPF_LD | EBPF_DW | EBPF_IMM, d, EBPF_PSEUDO_MAP_FD, 0, idx),        \
	    I(0, 0, 0, 0, 0)
#define LD_IMM64(d, v)                                                         \
	I(EBPF_LD | EBPF_DW | EBPF_IMM, d, 0, 0, (int32_t)(uint64_t)(v)),      \
	    I(0, 0, 0, 0, (int32_t)((uint64_t)(v) >> 32))
/* xdp_md loads */
#define LD_DATA(d)    LDX(EBPF_W, d, 1, 0)
#define LD_END(d)     LDX(EBPF_W, d, 1, 4)
#define LD_IFINDEX(d) LDX(EBPF_W, d, 1, 12)

struct case_ {
	const char *name;
	struct ebpf_insn insns[64];
	const char *reason; /* NULL: must verify */
	int map; /* 1: attach a hash map (key 8, value 8), 2: array, 3: an
		    XSKMAP of 4 entries */
};
#define N(...)                                                                 \
	{                                                                      \
		__VA_ARGS__                                                    \
	}

static struct ebpf_prog *make_prog(const struct case_ *c)
{
	uint32_t n = 64;
	struct ebpf_prog *p;

	while (n > 0 && !c->insns[n - 1].code && !c->insns[n - 1].imm &&
	       !c->insns[n - 1].dst && !c->insns[n - 1].src &&
	       !c->insns[n - 1].off)
		n--;
	if (ebpf_prog_from_insns(c->name, c->insns, n, &p))
		return NULL;
	if (c->map == 1)
		ebpf_map_create("h", EBPF_MAP_HASH, 8, 8, 16, &p->maps[0]);
	if (c->map == 2)
		ebpf_map_create("a", EBPF_MAP_ARRAY, 4, 8, 4, &p->maps[0]);
	if (c->map == 3)
		ebpf_map_create("x", EBPF_MAP_XSKMAP, 4, 4, 4, &p->maps[0]);
	if (c->map)
		p->nmaps = 1;
	return p;
}

/* Good hand-assembled programs. */
static const struct case_ good[] = {
    {"pass", N(MOV64_IMM(0, 2), EXIT)},
    {"pkt_check_gt",
     N(LD_DATA(2), LD_END(3), MOV64_REG(4, 2), ALU64_IMM(EBPF_ADD, 4, 14),
       MOV64_IMM(0, 2), JMP_REG(EBPF_JGT, 4, 3, 2), LDX(EBPF_H, 0, 2, 12),
       LDX(EBPF_B, 0, 2, 13), EXIT)},
    {"pkt_check_end_ge",
     N(LD_DATA(2), LD_END(3), MOV64_REG(4, 2), ALU64_IMM(EBPF_ADD, 4, 8),
       MOV64_IMM(0, 1), JMP_REG(EBPF_JGE, 3, 4, 1), EXIT, LDX(EBPF_DW, 0, 2, 0),
       EXIT)},
    {"stack_rw",
     N(ST(EBPF_DW, 10, -8, 7), LDX(EBPF_DW, 0, 10, -8), ST(EBPF_B, 10, -512, 1),
       LDX(EBPF_B, 1, 10, -512), ALU64_REG(EBPF_ADD, 0, 1), EXIT)},
    {"spill_ptr", N(LD_DATA(2), STX(EBPF_DW, 10, 2, -16), LD_END(3),
		    LDX(EBPF_DW, 4, 10, -16), ALU64_IMM(EBPF_ADD, 4, 1),
		    MOV64_IMM(0, 0), JMP_REG(EBPF_JGT, 4, 3, 2),
		    LDX(EBPF_DW, 4, 10, -16), LDX(EBPF_B, 0, 4, 0), EXIT)},
    {"div_const_reg",
     N(LD_IFINDEX(0), MOV64_IMM(2, 3), ALU64_REG(EBPF_DIV, 0, 2),
       ALU64_REG(EBPF_MOD, 0, 2), EXIT)},
    {"div_after_check",
     N(LD_IFINDEX(2), MOV64_IMM(0, 0), JMP_IMM(EBPF_JEQ, 2, 0, 2),
       MOV64_IMM(0, 100), ALU64_REG(EBPF_DIV, 0, 2), EXIT)},
    {"map_lookup_update",
     N(ST(EBPF_DW, 10, -8, 5), ST(EBPF_DW, 10, -16, 9), LD_MAP(1, 0),
       MOV64_REG(2, 10), ALU64_IMM(EBPF_ADD, 2, -8), MOV64_REG(3, 10),
       ALU64_IMM(EBPF_ADD, 3, -16), MOV64_IMM(4, 0), CALL(2), LD_MAP(1, 0),
       MOV64_REG(2, 10), ALU64_IMM(EBPF_ADD, 2, -8), CALL(1), MOV64_REG(6, 0),
       MOV64_IMM(0, 0), JMP_IMM(EBPF_JEQ, 6, 0, 3), MOV64_IMM(1, 1),
       XADD(EBPF_DW, 6, 1, 0), LDX(EBPF_DW, 0, 6, 0), EXIT),
     NULL, 1},
    {"alu32_jmp32_bswap",
     N(LD_IFINDEX(0), ALU32_IMM(EBPF_ADD, 0, -1),
       I(EBPF_ALU | EBPF_END | EBPF_X, 0, 0, 0, 16),
       JMP32_IMM(EBPF_JGT, 0, 5, 1), ALU32_IMM(EBPF_MOV, 0, 9),
       ALU64_IMM(EBPF_ARSH, 0, 1), ALU64_IMM(EBPF_NEG, 0, 0), EXIT)},
    {"var_pkt_offset",
     N(LD_DATA(2), LD_END(3), MOV64_REG(4, 2), ALU64_IMM(EBPF_ADD, 4, 1),
       MOV64_IMM(0, 0), JMP_REG(EBPF_JGT, 4, 3, 8), LDX(EBPF_B, 5, 2, 0),
       ALU64_IMM(EBPF_AND, 5, 15), ALU64_IMM(EBPF_LSH, 5, 2),
       ALU64_REG(EBPF_ADD, 2, 5), MOV64_REG(4, 2), ALU64_IMM(EBPF_ADD, 4, 4),
       JMP_REG(EBPF_JGT, 4, 3, 1), LDX(EBPF_W, 0, 2, 0), EXIT)},
    {"csum_diff",
     N(ST(EBPF_DW, 10, -8, 0x1234), MOV64_IMM(1, 0), MOV64_IMM(2, 0),
       MOV64_REG(3, 10), ALU64_IMM(EBPF_ADD, 3, -8), MOV64_IMM(4, 8),
       MOV64_IMM(5, 0), CALL(28), EXIT)},
    {"ktime", N(CALL(5), EXIT)},
    {"array_map",
     N(ST(EBPF_W, 10, -4, 3), LD_MAP(1, 0), MOV64_REG(2, 10),
       ALU64_IMM(EBPF_ADD, 2, -4), CALL(1), JMP_IMM(EBPF_JNE, 0, 0, 2),
       MOV64_IMM(0, 0), EXIT, LDX(EBPF_W, 0, 0, 4), EXIT),
     NULL, 2},
    {"const_branch_prunes", N(MOV64_IMM(2, 0), JMP_IMM(EBPF_JEQ, 2, 0, 1),
			      LDX(EBPF_DW, 0, 10, -8), MOV64_IMM(0, 1), EXIT)},
    /* Bounded loops are walked iteration by iteration. */
    {"bounded_loop", N(MOV64_IMM(0, 0), ALU64_IMM(EBPF_ADD, 0, 1),
		       JMP_IMM(EBPF_JLT, 0, 10, -2), EXIT)},
    /* Division and modulo by a register that may be zero: BPF semantics
     * (x / 0 = 0, x % 0 = x), as in Linux. */
    {"div_by_maybe_zero",
     N(LD_IFINDEX(2), MOV64_IMM(0, 10), ALU64_REG(EBPF_DIV, 0, 2), EXIT)},
    {"mod32_by_maybe_zero",
     N(LD_IFINDEX(2), MOV64_IMM(0, 10), ALU32_REG(EBPF_MOD, 0, 2), EXIT)},
    /* XSKMAP: the libxdp default program's calls; the looked-up value
     * (the socket id) may be read after the NULL check. */
    {"xskmap_lookup_then_redirect",
     N(ST(EBPF_W, 10, -4, 0), LD_MAP(1, 0), MOV64_REG(2, 10),
       ALU64_IMM(EBPF_ADD, 2, -4), CALL(1), MOV64_IMM(6, 2),
       JMP_IMM(EBPF_JEQ, 0, 0, 1), LDX(EBPF_W, 6, 0, 0), LD_MAP(1, 0),
       MOV64_IMM(2, 0), MOV64_IMM(3, 2), CALL(51), EXIT),
     NULL, 3},
};

/* Bad ones, each with its reason. */
static const struct case_ bad[] = {
    {"unreachable", N(MOV64_IMM(0, 0), EXIT, MOV64_IMM(0, 1), EXIT),
     "insn 2: unreachable instruction"},
    {"jump_out_of_range", N(MOV64_IMM(0, 0), JA(5), EXIT),
     "insn 1: jump out of range"},
    {"jump_into_imm64", N(MOV64_IMM(0, 0), JA(1), LD_IMM64(2, 1), EXIT),
     "jump into the middle of ld_imm64"},
    /* Bounded loops are verified (see good[]); this one never ends. */
    {"back_edge",
     N(LD_IFINDEX(0), ALU64_IMM(EBPF_ADD, 0, 0), JMP_IMM(EBPF_JLT, 0, 10, -2),
       EXIT),
     "insn 1: infinite loop detected"},
    {"falls_off_end", N(MOV64_IMM(0, 0), MOV64_IMM(0, 1)), "falls off the end"},
    {"uninit_reg", N(MOV64_REG(0, 2), EXIT),
     "insn 0: read of uninitialised register r2"},
    {"uninit_stack", N(LDX(EBPF_DW, 0, 10, -8), EXIT),
     "insn 0: read of uninitialised stack"},
    {"uninit_stack_partial",
     N(ST(EBPF_W, 10, -8, 1), LDX(EBPF_DW, 0, 10, -8), EXIT),
     "insn 1: read of uninitialised stack"},
    {"pkt_no_check", N(LD_DATA(2), LDX(EBPF_B, 0, 2, 0), EXIT),
     "insn 1: invalid packet access"},
    {"pkt_check_too_short",
     N(LD_DATA(2), LD_END(3), MOV64_REG(4, 2), ALU64_IMM(EBPF_ADD, 4, 4),
       MOV64_IMM(0, 2), JMP_REG(EBPF_JGT, 4, 3, 1), LDX(EBPF_W, 0, 2, 2), EXIT),
     "insn 6: invalid packet access off=2 size=4"},
    {"pkt_check_wrong_branch",
     N(LD_DATA(2), LD_END(3), MOV64_REG(4, 2), ALU64_IMM(EBPF_ADD, 4, 4),
       MOV64_IMM(0, 2), JMP_REG(EBPF_JLE, 4, 3, 1), LDX(EBPF_W, 0, 2, 0), EXIT),
     "insn 6: invalid packet access"},
    {"pkt_var_unbounded",
     N(LD_DATA(2), LD_IFINDEX(5), ALU64_REG(EBPF_ADD, 2, 5), MOV64_IMM(0, 0),
       EXIT),
     "insn 2: unbounded variable added to a packet pointer"},
    {"div_by_zero_imm", N(MOV64_IMM(0, 10), ALU64_IMM(EBPF_DIV, 0, 0), EXIT),
     "insn 1: division by zero"},
    {"unknown_helper", N(CALL(999), EXIT), "insn 0: unknown helper 999"},
    {"helper_bad_map_arg", N(MOV64_IMM(1, 0), MOV64_REG(2, 10), CALL(1), EXIT),
     "insn 2: helper 1 arg1: expected a map pointer"},
    {"helper_key_uninit",
     N(LD_MAP(1, 0), MOV64_REG(2, 10), ALU64_IMM(EBPF_ADD, 2, -8), CALL(1),
       MOV64_IMM(0, 0), EXIT),
     "insn 4: read of uninitialised stack", 1},
    {"helper_key_too_small",
     N(ST(EBPF_W, 10, -4, 0), LD_MAP(1, 0), MOV64_REG(2, 10),
       ALU64_IMM(EBPF_ADD, 2, -4), CALL(1), MOV64_IMM(0, 0), EXIT),
     "insn 5: stack access out of bounds", 1},
    {"helper_key_scalar",
     N(LD_MAP(1, 0), MOV64_IMM(2, 64), CALL(1), MOV64_IMM(0, 0), EXIT),
     "insn 3: helper 1 arg2 (key): expected a pointer", 1},
    {"null_deref",
     N(ST(EBPF_DW, 10, -8, 0), LD_MAP(1, 0), MOV64_REG(2, 10),
       ALU64_IMM(EBPF_ADD, 2, -8), CALL(1), LDX(EBPF_DW, 0, 0, 0), EXIT),
     "insn 6: possible NULL pointer dereference", 1},
    {"map_value_oob",
     N(ST(EBPF_DW, 10, -8, 0), LD_MAP(1, 0), MOV64_REG(2, 10),
       ALU64_IMM(EBPF_ADD, 2, -8), CALL(1), JMP_IMM(EBPF_JEQ, 0, 0, 1),
       LDX(EBPF_DW, 0, 0, 8), EXIT),
     "insn 7: map value access out of bounds", 1},
    {"stack_oob_low", N(ST(EBPF_DW, 10, -520, 0), MOV64_IMM(0, 0), EXIT),
     "insn 0: stack access out of bounds"},
    {"stack_oob_high", N(ST(EBPF_W, 10, -2, 0), MOV64_IMM(0, 0), EXIT),
     "insn 0: stack access out of bounds"},
    {"write_r10", N(MOV64_IMM(10, 0), MOV64_IMM(0, 0), EXIT),
     "insn 0: r10 is read-only"},
    {"exit_uninit_r0", N(EXIT), "insn 0: exit with uninitialised r0"},
    {"exit_pointer", N(MOV64_REG(0, 10), EXIT), "insn 1: exit with a pointer"},
    {"ctx_write", N(ST(EBPF_W, 1, 0, 0), MOV64_IMM(0, 0), EXIT),
     "insn 0: ctx write not allowed"},
    {"ctx_bad_off", N(LDX(EBPF_W, 0, 1, 24), EXIT),
     "insn 0: invalid ctx access off=24"},
    {"ctx_modified", N(ALU64_IMM(EBPF_ADD, 1, 4), LDX(EBPF_W, 0, 1, 0), EXIT),
     "insn 1: dereference of modified ctx pointer"},
    {"ptr_mul",
     N(MOV64_REG(2, 10), ALU64_IMM(EBPF_MUL, 2, 2), MOV64_IMM(0, 0), EXIT),
     "insn 1: pointer arithmetic"},
    {"scalar_deref", N(MOV64_IMM(2, 4096), LDX(EBPF_DW, 0, 2, 0), EXIT),
     "insn 1: invalid read through scalar r2"},
    {"bad_opcode", N(I(0xff, 0, 0, 0, 0), EXIT), "insn 0: unknown opcode"},
    {"bad_register", N(MOV64_IMM(11, 0), EXIT), "insn 0: invalid register r11"},
    {"imm64_truncated",
     N(MOV64_IMM(0, 0), EXIT, I(EBPF_LD | EBPF_DW | EBPF_IMM, 0, 0, 0, 0)),
     "ld_imm64 is missing its second half"},
    {"bpf2bpf_call", N(I(EBPF_JMP | EBPF_CALL, 0, 1, 0, 1), EXIT),
     "bpf-to-bpf calls are not supported"},
    {"bad_map_index", N(LD_MAP(1, 3), MOV64_IMM(0, 0), EXIT),
     "insn 0: invalid map index 3", 1},
    {"atomic_on_packet",
     N(LD_DATA(2), LD_END(3), MOV64_REG(4, 2), ALU64_IMM(EBPF_ADD, 4, 8),
       MOV64_IMM(0, 0), JMP_REG(EBPF_JGT, 4, 3, 2), MOV64_IMM(5, 1),
       XADD(EBPF_DW, 2, 5, 0), EXIT),
     "insn 7: atomic operation on pkt memory not allowed"},
    {"invalid_shift", N(MOV64_IMM(0, 1), ALU64_IMM(EBPF_LSH, 0, 64), EXIT),
     "insn 1: invalid shift 64"},
    /* XSKMAP contracts (Linux's check_map_func_compatibility and
     * PTR_TO_XDP_SOCK being read-only). */
    {"redirect_map_on_array",
     N(LD_MAP(1, 0), MOV64_IMM(2, 0), MOV64_IMM(3, 2), CALL(51), EXIT),
     "insn 4: cannot pass map_type 2 into func bpf_redirect_map#51", 2},
    {"xskmap_update_from_program",
     N(ST(EBPF_W, 10, -4, 0), ST(EBPF_W, 10, -8, 1), LD_MAP(1, 0),
       MOV64_REG(2, 10), ALU64_IMM(EBPF_ADD, 2, -4), MOV64_REG(3, 10),
       ALU64_IMM(EBPF_ADD, 3, -8), MOV64_IMM(4, 0), CALL(2), EXIT),
     "cannot pass map_type 17 into func bpf_map_update_elem#2", 3},
    {"xskmap_delete_from_program",
     N(ST(EBPF_W, 10, -4, 0), LD_MAP(1, 0), MOV64_REG(2, 10),
       ALU64_IMM(EBPF_ADD, 2, -4), CALL(3), EXIT),
     "cannot pass map_type 17 into func bpf_map_delete_elem#3", 3},
    {"xskmap_value_write",
     N(ST(EBPF_W, 10, -4, 0), LD_MAP(1, 0), MOV64_REG(2, 10),
       ALU64_IMM(EBPF_ADD, 2, -4), CALL(1), JMP_IMM(EBPF_JEQ, 0, 0, 1),
       ST(EBPF_W, 0, 0, 7), MOV64_IMM(0, 2), EXIT),
     "insn 7: write into an XSKMAP value (read-only) r0", 3},
    {"xskmap_value_atomic",
     N(ST(EBPF_W, 10, -4, 0), LD_MAP(1, 0), MOV64_REG(2, 10),
       ALU64_IMM(EBPF_ADD, 2, -4), CALL(1), JMP_IMM(EBPF_JEQ, 0, 0, 2),
       MOV64_IMM(1, 1), XADD(EBPF_W, 0, 1, 0), MOV64_IMM(0, 2), EXIT),
     "atomic access into an XSKMAP value (read-only) r0", 3},
    {"redirect_map_key_pointer",
     N(LD_MAP(1, 0), MOV64_REG(2, 10), MOV64_IMM(3, 2), CALL(51), EXIT),
     "helper 51 arg2: expected a scalar, got", 3},
};

/* 40 independent branches, each changing r3: 2^40 distinct paths. */
static struct ebpf_prog *make_complex(void)
{
	struct ebpf_insn in[4 + 3 * 40];
	struct ebpf_prog *p;
	uint32_t n = 0;

	in[n++] = LD_IFINDEX(2);
	in[n++] = MOV64_IMM(3, 0);
	for (int i = 0; i < 40; i++) {
		in[n++] = MOV64_REG(4, 2);
		in[n++] =
		    I(EBPF_JMP | EBPF_JSET | EBPF_K, 4, 0, 1, 1 << (i % 31));
		in[n++] = ALU64_IMM(EBPF_ADD, 3, 1 << (i % 31));
		(void)0;
	}
	in[n++] = MOV64_REG(0, 3);
	in[n++] = EXIT;
	ebpf_prog_from_insns("complex", in, n, &p);
	return p;
}

TEST(good_programs_verify)
{
	char err[200];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct ebpf_prog *p = make_prog(&good[i]);
		int rc = ebpf_prog_prepare(p, err, sizeof(err));
		if (rc)
			fprintf(stderr, "  %s: %s\n", good[i].name, err);
		CHECK_EQ(rc, 0);
		ebpf_prog_free(p);
	}
}

TEST(bad_programs_rejected_with_reason)
{
	char err[200];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ebpf_prog *p = make_prog(&bad[i]);
		int rc = ebpf_verify(p, err, sizeof(err));
		if (rc != -EINVAL || !strstr(err, bad[i].reason))
			fprintf(stderr,
				"  %s: rc %d, got \"%s\", want \"%s\"\n",
				bad[i].name, rc, err, bad[i].reason);
		CHECK_EQ(rc, -EINVAL);
		CHECK(strstr(err, bad[i].reason) != NULL);
		ebpf_prog_free(p);
	}
}

TEST(complexity_cap)
{
	char err[200];
	struct ebpf_prog *p = make_complex();

	CHECK_EQ(ebpf_verify(p, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "program too complex") != NULL);
	ebpf_prog_free(p);
}

TEST(good_programs_run)
{
	uint8_t frame[64];
	char err[200];

	for (size_t i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)i;
	/* pkt_check_gt returns byte 13; var_pkt_offset reads at (b0&15)*4. */
	struct ebpf_prog *p = make_prog(&good[1]);
	CHECK_EQ(ebpf_prog_prepare(p, err, sizeof(err)), 0);
	CHECK_EQ(run(p, frame, 64), 13);
	CHECK_EQ(run(p, frame, 13), 2);
	ebpf_prog_free(p);

	p = make_prog(&good[9]);
	CHECK_EQ(ebpf_prog_prepare(p, err, sizeof(err)), 0);
	frame[0] = 3;
	CHECK_EQ(run(p, frame, 64), 12u | 13u << 8 | 14u << 16 | 15u << 24);
	CHECK_EQ(run(p, frame, 15), 0);
	ebpf_prog_free(p);

	p = make_prog(&good[7]); /* update 5->9, lookup, +1 */
	CHECK_EQ(ebpf_prog_prepare(p, err, sizeof(err)), 0);
	CHECK_EQ(run(p, frame, 64), 10);
	CHECK_EQ(ebpf_map_count(p->maps[0]), 1);
	ebpf_prog_free(p);

	p = make_prog(&good[11]);
	CHECK_EQ(ebpf_prog_prepare(p, err, sizeof(err)), 0);
	CHECK_EQ(run(p, frame, 64), 12345);
	ebpf_prog_free(p);
}

/* ALU and JMP semantics of the interpreter against C. */
TEST(interp_alu_matches_c)
{
	static const uint8_t ops[] = {EBPF_ADD, EBPF_SUB, EBPF_MUL, EBPF_DIV,
				      EBPF_OR,	EBPF_AND, EBPF_LSH, EBPF_RSH,
				      EBPF_MOD, EBPF_XOR, EBPF_ARSH};
	char err[200];

	for (int t = 0; t < 400; t++) {
		uint64_t a = ((uint64_t)rnd() << 32) | rnd();
		uint64_t b =
		    t & 1 ? rnd() % 70 : ((uint64_t)rnd() << 32) | rnd();
		uint8_t op = ops[t % (sizeof(ops))];
		bool is64 = (t / 11) & 1;
		uint64_t want;

		if (!b)
			b = 1;
		{
			uint64_t x = is64 ? a : (uint32_t)a,
				 y = is64 ? b : (uint32_t)b;
			unsigned sh = is64 ? y & 63 : y & 31;
			switch (op) {
			case EBPF_ADD:
				want = x + y;
				break;
			case EBPF_SUB:
				want = x - y;
				break;
			case EBPF_MUL:
				want = x * y;
				break;
			case EBPF_DIV:
				want = y ? x / y : 0;
				break;
			case EBPF_OR:
				want = x | y;
				break;
			case EBPF_AND:
				want = x & y;
				break;
			case EBPF_LSH:
				want = x << sh;
				break;
			case EBPF_RSH:
				want = x >> sh;
				break;
			case EBPF_MOD:
				want = y ? x % y : x;
				break;
			case EBPF_XOR:
				want = x ^ y;
				break;
			default:
				want = is64 ? (uint64_t)((int64_t)x >> sh)
					    : (uint32_t)((int32_t)x >> sh);
			}
			if (!is64)
				want = (uint32_t)want;
			if (is64 ? y == 0 : (uint32_t)y == 0)
				continue; /* rejected by the verifier */
		}
		struct ebpf_insn in[] = {
		    LD_IMM64(0, a), LD_IMM64(2, b),
		    I((is64 ? EBPF_ALU64 : EBPF_ALU) | op | EBPF_X, 0, 2, 0, 0),
		    EXIT};
		struct ebpf_prog *p;
		ebpf_prog_from_insns("alu", in, 6, &p);
		CHECK_EQ(ebpf_prog_prepare(p, err, sizeof(err)), 0);
		uint64_t got = run(p, (uint8_t *)err, 1);
		if (got != want)
			fprintf(stderr,
				"  op %#x is64 %d a %#llx b %#llx: %#llx != "
				"%#llx\n",
				op, is64, (unsigned long long)a,
				(unsigned long long)b, (unsigned long long)got,
				(unsigned long long)want);
		CHECK(got == want);
		ebpf_prog_free(p);
	}
}

TEST(interp_jumps_match_c)
{
	static const uint8_t ops[] = {
	    EBPF_JEQ,  EBPF_JNE,  EBPF_JGT,  EBPF_JGE,	EBPF_JLT, EBPF_JLE,
	    EBPF_JSET, EBPF_JSGT, EBPF_JSGE, EBPF_JSLT, EBPF_JSLE};
	static const uint64_t vals[] = {0,
					1,
					2,
					0x7fffffff,
					0x80000000,
					0xffffffff,
					0x100000000ull,
					0xffffffffffffffffull,
					0x8000000000000000ull};
	char err[200];

	for (size_t o = 0; o < sizeof(ops); o++)
		for (int w = 0; w < 2; w++)
			for (size_t i = 0; i < 9; i++)
				for (size_t j = 0; j < 9; j++) {
					uint64_t a = vals[i], b = vals[j];
					uint64_t x = w ? a : (uint32_t)a,
						 y = w ? b : (uint32_t)b;
					int64_t sx =
					    w ? (int64_t)x : (int32_t)x;
					int64_t sy =
					    w ? (int64_t)y : (int32_t)y;
					bool want;
					switch (ops[o]) {
					case EBPF_JEQ:
						want = x == y;
						break;
					case EBPF_JNE:
						want = x != y;
						break;
					case EBPF_JGT:
						want = x > y;
						break;
					case EBPF_JGE:
						want = x >= y;
						break;
					case EBPF_JLT:
						want = x < y;
						break;
					case EBPF_JLE:
						want = x <= y;
						break;
					case EBPF_JSET:
						want = (x & y) != 0;
						break;
					case EBPF_JSGT:
						want = sx > sy;
						break;
					case EBPF_JSGE:
						want = sx >= sy;
						break;
					case EBPF_JSLT:
						want = sx < sy;
						break;
					default:
						want = sx <= sy;
						break;
					}
					/* Load from ctx so the verifier cannot
					 * decide the branch: r2 = a via ifindex
					 * ^ ifindex ^ a. */
					struct ebpf_insn in[] = {
					    LD_IMM64(2, a),
					    LD_IMM64(3, b),
					    LD_IFINDEX(4),
					    ALU64_REG(EBPF_XOR, 2, 4),
					    ALU64_REG(EBPF_XOR, 2, 4),
					    MOV64_IMM(0, 0),
					    I((w ? EBPF_JMP : EBPF_JMP32) |
						  ops[o] | EBPF_X,
					      2, 3, 1, 0),
					    EXIT,
					    MOV64_IMM(0, 1),
					    EXIT};
					struct ebpf_prog *p;
					ebpf_prog_from_insns("jmp", in, 12, &p);
					CHECK_EQ(ebpf_prog_prepare(p, err,
								   sizeof(err)),
						 0);
					CHECK_EQ(run(p, (uint8_t *)err, 1),
						 want);
					ebpf_prog_free(p);
				}
}

/* ---- maps -----------------------------------------------------------------
 */

TEST(hash_map_flags)
{
	struct ebpf_map *m;
	uint64_t k, v;

	CHECK_EQ(ebpf_map_create("h", EBPF_MAP_HASH, 8, 8, 4, &m), 0);
	k = 1, v = 10;
	CHECK_EQ(ebpf_map_update(m, &k, &v, EBPF_EXIST), -ENOENT);
	CHECK_EQ(ebpf_map_update(m, &k, &v, EBPF_NOEXIST), 0);
	CHECK_EQ(ebpf_map_update(m, &k, &v, EBPF_NOEXIST), -EEXIST);
	v = 11;
	CHECK_EQ(ebpf_map_update(m, &k, &v, EBPF_EXIST), 0);
	CHECK_EQ(*(uint64_t *)ebpf_map_lookup(m, &k), 11);
	CHECK_EQ(ebpf_map_update(m, &k, &v, 7), -EINVAL);
	for (k = 2; k <= 4; k++)
		CHECK_EQ(ebpf_map_update(m, &k, &v, EBPF_ANY), 0);
	CHECK_EQ(ebpf_map_update(m, &k, &v, EBPF_ANY), -E2BIG); /* full */
	CHECK_EQ(ebpf_map_count(m), 4);
	k = 2;
	CHECK_EQ(ebpf_map_delete(m, &k), 0);
	CHECK_EQ(ebpf_map_delete(m, &k), -ENOENT);
	CHECK(ebpf_map_lookup(m, &k) == NULL);
	k = 99;
	CHECK_EQ(ebpf_map_update(m, &k, &v, EBPF_ANY), 0);
	CHECK_EQ(ebpf_map_count(m), 4);
	/* Many inserts/deletes keep working (free list, chains). */
	for (int r = 0; r < 1000; r++) {
		k = 1000 + r;
		uint64_t d = 99 + (r ? 1000 + r - 1 - 99 : 0);
		if (r)
			CHECK_EQ(ebpf_map_delete(m, &d), 0);
		else
			CHECK_EQ(ebpf_map_delete(m, &d), 0);
		CHECK_EQ(ebpf_map_update(m, &k, &v, EBPF_NOEXIST), 0);
	}
	CHECK_EQ(ebpf_map_count(m), 4);
	ebpf_map_free(m);
}

TEST(array_map_semantics)
{
	struct ebpf_map *m;
	uint32_t k = 1;
	uint64_t v = 5;

	CHECK_EQ(ebpf_map_create("a", EBPF_MAP_ARRAY, 8, 8, 4, &m), -EINVAL);
	CHECK_EQ(ebpf_map_create("a", 7, 4, 8, 4, &m), -EINVAL);
	CHECK_EQ(ebpf_map_create("a", EBPF_MAP_ARRAY, 4, 8, 1u << 30, &m),
		 -E2BIG);
	CHECK_EQ(ebpf_map_create("a", EBPF_MAP_ARRAY, 4, 8, 4, &m), 0);
	CHECK_EQ(*(uint64_t *)ebpf_map_lookup(m, &k), 0);
	CHECK_EQ(ebpf_map_update(m, &k, &v, EBPF_NOEXIST), -EEXIST);
	CHECK_EQ(ebpf_map_update(m, &k, &v, EBPF_ANY), 0);
	CHECK_EQ(*(uint64_t *)ebpf_map_lookup(m, &k), 5);
	CHECK_EQ(ebpf_map_delete(m, &k), -EINVAL);
	k = 4;
	CHECK(ebpf_map_lookup(m, &k) == NULL);
	CHECK_EQ(ebpf_map_update(m, &k, &v, EBPF_ANY), -E2BIG);
	struct ebpf_map_counts mc;
	ebpf_map_get_counts(m, &mc);
	CHECK_EQ(mc.lookups, 3);
	CHECK_EQ(mc.misses, 1);
	ebpf_map_free(m);
}

/* ---- shipped programs: load, and interpreter vs C reference ------------- */

TEST(shipped_programs_load)
{
	static const char *names[] = {"count", "blocklist", "udp_reflect",
				      "legacy_maps"};
	for (int i = 0; i < 4; i++) {
		struct ebpf_prog *p = load_obj(names[i]);
		char err[200];
		CHECK(p != NULL);
		if (!p)
			continue;
		CHECK(p->ctx_rewritten);
		CHECK_EQ(ebpf_verify(p, err, sizeof(err)), 0);
		ebpf_prog_free(p);
	}
	struct ebpf_prog *p = load_obj("count");
	if (p) {
		CHECK_STR(p->name, "count");
		CHECK_EQ(p->nmaps, 1);
		CHECK_STR(p->maps[0]->name, "counts");
		CHECK_EQ(p->maps[0]->type, EBPF_MAP_ARRAY);
		CHECK_EQ(p->maps[0]->max_entries, 5);
		CHECK_EQ(p->maps[0]->key_size, 4);
		CHECK_EQ(p->maps[0]->value_size, 8);
		ebpf_prog_free(p);
	}
	p = load_obj("blocklist");
	if (p) {
		struct ebpf_map *m = ebpf_prog_map(p, "blocklist");
		CHECK(m != NULL);
		CHECK(m && m->type == EBPF_MAP_HASH && m->key_size == 8 &&
		      m->value_size == 1 && m->max_entries == 1024);
		CHECK(ebpf_prog_map(p, "stats") != NULL);
		ebpf_prog_free(p);
	}
}

/* bpf_redirect_map on an XSKMAP, as Linux's __bpf_xdp_redirect_map: a
 * set entry redirects (and records the target), an empty or out-of-range
 * one answers the flags' action bits, unknown flags abort; control-plane
 * updates obey NOEXIST/EXIST and never store id 0. */
TEST(xskmap_redirect_semantics)
{
	static const struct ebpf_insn prog[] = {
	    LDX(EBPF_W, 2, 1, 16), /* r2 = ctx->rx_queue_index */
	    LDX(EBPF_W, 3, 1, 12), /* r3 = ctx->ingress_ifindex: the flags */
	    LD_MAP(1, 0),	   CALL(51), EXIT,
	};
	struct ebpf_prog *p;
	struct ebpf_map *m;
	char err[200];
	uint32_t k, id;
	uint8_t frame[64] = {0};

	CHECK_EQ(ebpf_prog_from_insns("redir", prog, 6, &p), 0);
	CHECK_EQ(ebpf_map_create("xsks", EBPF_MAP_XSKMAP, 4, 4, 4, &m), 0);
	p->maps[0] = m;
	p->nmaps = 1;
	CHECK_EQ(ebpf_prog_prepare_xdp(p, err, sizeof(err)), 0);
	for (int jit = 0; jit < 2; jit++) {
		if (jit)
			CHECK_EQ(ebpf_jit(p), 0);
		for (uint32_t q = 0; q < 6; q++) {
			for (uint32_t flags = 0; flags < 4; flags++) {
				struct ebpf_xdp_ctx ctx = {
				    .data = frame,
				    .data_end = frame + sizeof(frame),
				    .data_meta = frame,
				    .ingress_ifindex = flags,
				    .rx_queue_index = q,
				};
				ebpf_redirect_info.target = 0;
				uint64_t v = ebpf_run(p, &ctx);
				uint32_t want = ebpf_xskmap_get(m, q);
				CHECK_EQ(v, want ? EBPF_XDP_REDIRECT : flags);
				CHECK_EQ(ebpf_redirect_info.target, want);
			}
			/* Fill slot q for the next round (4 and 5 do not
			 * exist: out of range stays the fallback). */
			id = 0x100 + q;
			k = q;
			CHECK_EQ(ebpf_map_update(m, &k, &id, EBPF_ANY),
				 q < 4 ? 0 : -E2BIG);
		}
		/* BROADCAST, EXCLUDE_INGRESS or anything unknown: aborted. */
		for (uint32_t flags = 4; flags < 64; flags <<= 1) {
			struct ebpf_xdp_ctx ctx = {
			    .data = frame,
			    .data_end = frame + sizeof(frame),
			    .ingress_ifindex = flags | 2,
			    .rx_queue_index = 0,
			};
			CHECK_EQ(ebpf_run(p, &ctx), EBPF_XDP_ABORTED);
		}
		for (k = 0; k < 4; k++)
			CHECK_EQ(ebpf_map_delete(m, &k), 0);
	}
	CHECK_EQ(ebpf_map_count(m), 0);
	k = 1;
	id = 0;
	CHECK_EQ(ebpf_map_update(m, &k, &id, EBPF_ANY), -EINVAL);
	id = 9;
	CHECK_EQ(ebpf_map_update(m, &k, &id, EBPF_EXIST), -ENOENT);
	CHECK_EQ(ebpf_map_update(m, &k, &id, EBPF_NOEXIST), 0);
	CHECK_EQ(ebpf_map_update(m, &k, &id, EBPF_NOEXIST), -EEXIST);
	CHECK(ebpf_map_lookup(m, &k) != NULL);
	CHECK_EQ(*(uint32_t *)ebpf_map_lookup(m, &k), 9);
	k = 2;
	CHECK(ebpf_map_lookup(m, &k) == NULL);
	k = 4;
	CHECK_EQ(ebpf_map_delete(m, &k), -EINVAL);
	CHECK_EQ(ebpf_map_count(m), 1);
	/* An XSKMAP is u32 -> u32 only. */
	struct ebpf_map *bad;
	CHECK_EQ(ebpf_map_create("x", EBPF_MAP_XSKMAP, 8, 4, 4, &bad), -EINVAL);
	CHECK_EQ(ebpf_map_create("x", EBPF_MAP_XSKMAP, 4, 8, 4, &bad), -EINVAL);
	ebpf_prog_free(p);
}

/* The AF_XDP programs built unchanged with clang against libbpf-dev's
 * headers: libxdp's default program (xsk_default) and the echo's filter
 * (xsk_udp) load, verify, and keep their XSKMAP. */
TEST(af_xdp_programs_load)
{
	static const char *names[] = {"xsk_default", "xsk_udp"};

	for (int i = 0; i < 2; i++) {
		struct ebpf_prog *p = load_obj(names[i]);
		CHECK(p != NULL);
		if (!p)
			continue;
		struct ebpf_map *m = ebpf_prog_map(p, "xsks_map");
		CHECK(m && m->type == EBPF_MAP_XSKMAP && m->key_size == 4 &&
		      m->value_size == 4);
		ebpf_prog_free(p);
	}
}

TEST(bad_c_programs_rejected)
{
	static const struct {
		const char *name, *reason;
	} cases[] = {
	    {"bad_no_bounds", "invalid packet access"},
	    {"bad_null_deref", "possible NULL pointer dereference"},
	    {"bad_loop", "program too complex"}, /* bound from ctx */
	};
	for (size_t i = 0; i < 3; i++) {
		size_t len;
		uint8_t *b = bpf_obj_read(cases[i].name, &len);
		struct ebpf_prog *p = NULL;
		char err[200];

		CHECK(b != NULL);
		if (!b)
			continue;
		CHECK_EQ(ebpf_load_elf(b, len, NULL, &p, err, sizeof(err)),
			 -EINVAL);
		CHECK(p == NULL);
		if (!strstr(err, cases[i].reason))
			fprintf(stderr, "  %s: \"%s\"\n", cases[i].name, err);
		CHECK(strstr(err, cases[i].reason) != NULL);
		CHECK(strncmp(err, "insn ", 5) == 0);
		free(b);
	}
}

/* Random frames: Ethernet + IPv4/ARP/IPv6 + TCP/UDP/ICMP with random
 * lengths (including truncated ones), ports from a small set. */
static size_t random_frame(uint8_t *f, size_t cap)
{
	size_t len = 14 + rnd() % 80;
	static const uint16_t ports[] = {7, 7, 9, 53, 80, 1234, 0};

	if (rnd() % 8 == 0)
		len = rnd() % 50;
	if (len > cap)
		len = cap;
	for (size_t i = 0; i < cap; i++)
		f[i] = (uint8_t)rnd();
	uint32_t kind = rnd() % 8;
	f[12] = 0x08;
	f[13] = kind == 0 ? 0x06 : 0x00;
	if (kind == 1)
		f[12] = 0x86, f[13] = 0xdd;
	f[14] = rnd() % 6 ? 0x45 : (0x40 | (rnd() % 16));
	f[20] = rnd() % 4 ? 0 : (uint8_t)rnd();
	f[21] = rnd() % 4 ? 0 : (uint8_t)rnd();
	static const uint8_t protos[] = {1, 6, 17, 17, 17, 47};
	f[23] = protos[rnd() % 6];
	f[26] = 10, f[27] = 0, f[28] = 0, f[29] = rnd() % 4;
	size_t l4 = 14 + (f[14] & 15) * 4;
	uint16_t sp = ports[rnd() % 7], dp = ports[rnd() % 7];
	if (l4 + 4 <= cap) {
		f[l4] = sp >> 8, f[l4 + 1] = (uint8_t)sp;
		f[l4 + 2] = dp >> 8, f[l4 + 3] = (uint8_t)dp;
	}
	return len;
}

static int ref_count_index(const uint8_t *f, size_t len)
{
	if (len < 14)
		return 0;
	if (f[12] == 0x08 && f[13] == 0x06)
		return 1;
	if (f[12] != 0x08 || f[13] != 0x00 || len < 34)
		return 0;
	switch (f[23]) {
	case 1:
		return 2;
	case 6:
		return 3;
	case 17:
		return 4;
	default:
		return 0;
	}
}

TEST(count_interp_vs_reference)
{
	struct ebpf_prog *p = load_obj("count");
	uint64_t want[5] = {0};
	uint8_t f[128];

	CHECK(p != NULL);
	if (!p)
		return;
	for (int i = 0; i < 3000; i++) {
		size_t len = random_frame(f, sizeof(f));
		want[ref_count_index(f, len)]++;
		CHECK_EQ(run(p, f, len), EBPF_XDP_PASS);
	}
	for (uint32_t k = 0; k < 5; k++)
		CHECK_EQ(*(uint64_t *)ebpf_map_lookup(p->maps[0], &k), want[k]);
	CHECK(want[0] && want[1] && want[2] && want[3] && want[4]);
	ebpf_prog_free(p);
}

struct block_key {
	uint32_t saddr;
	uint16_t port;
	uint16_t pad;
};

static bool ref_blocked(struct ebpf_map *m, const uint8_t *f, size_t len)
{
	struct block_key k = {0};

	if (len < 34 || f[12] != 0x08 || f[13] != 0)
		return false;
	memcpy(&k.saddr, f + 26, 4);
	size_t ihl = (f[14] & 15) * 4;
	if ((f[23] == 6 || f[23] == 17) && ihl >= 20 && 14 + ihl + 8 <= len) {
		k.port = (uint16_t)(f[14 + ihl] << 8 | f[14 + ihl + 1]);
		/* Look the entry up without touching the map's counters. */
		struct ebpf_map_counts saved = *ebpf_map_counts_self(m);
		bool hit = ebpf_map_lookup(m, &k) != NULL;
		*ebpf_map_counts_self(m) = saved;
		if (hit)
			return true;
	}
	k.port = 0;
	struct ebpf_map_counts saved = *ebpf_map_counts_self(m);
	bool hit = ebpf_map_lookup(m, &k) != NULL;
	*ebpf_map_counts_self(m) = saved;
	return hit;
}

TEST(blocklist_interp_vs_reference)
{
	struct ebpf_prog *p = load_obj("blocklist");
	struct ebpf_map *m, *st;
	uint8_t f[128], one = 1;
	uint64_t drops = 0, passes = 0;

	CHECK(p != NULL);
	if (!p)
		return;
	m = ebpf_prog_map(p, "blocklist");
	st = ebpf_prog_map(p, "stats");
	struct block_key k1 = {0x0100000a, 0, 0};    /* 10.0.0.1 any port */
	struct block_key k2 = {0x0200000a, 53, 0};   /* 10.0.0.2 port 53 */
	struct block_key k3 = {0x0300000a, 1234, 0}; /* 10.0.0.3 port 1234 */
	CHECK_EQ(ebpf_map_update(m, &k1, &one, EBPF_ANY), 0);
	CHECK_EQ(ebpf_map_update(m, &k2, &one, EBPF_ANY), 0);
	CHECK_EQ(ebpf_map_update(m, &k3, &one, EBPF_ANY), 0);
	for (int i = 0; i < 3000; i++) {
		size_t len = random_frame(f, sizeof(f));
		bool b = ref_blocked(m, f, len);
		uint64_t got = run(p, f, len);
		CHECK_EQ(got, b ? EBPF_XDP_DROP : EBPF_XDP_PASS);
		if (got != (b ? EBPF_XDP_DROP : EBPF_XDP_PASS))
			break;
		bool counted = len >= 34 && f[12] == 8 && f[13] == 0;
		if (b)
			drops++;
		else if (counted)
			passes++;
	}
	uint32_t k = 0;
	CHECK_EQ(*(uint64_t *)ebpf_map_lookup(st, &k), drops);
	k = 1;
	CHECK_EQ(*(uint64_t *)ebpf_map_lookup(st, &k), passes);
	CHECK(drops > 50);
	ebpf_prog_free(p);
}

static uint16_t ip_csum(const uint8_t *h)
{
	uint32_t s = 0;
	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Returns the verdict and rewrites f as udp_reflect should: echo (port 7)
 * reflected, discard (port 9) dropped, the rest passed. */
static uint64_t ref_reflect(uint8_t *f, size_t len)
{
	uint8_t t[6];

	if (len < 42 || f[12] != 0x08 || f[13] != 0 || f[14] != 0x45 ||
	    f[23] != 17 || ((f[20] << 8 | f[21]) & 0x3fff) || f[36] != 0)
		return EBPF_XDP_PASS;
	if (f[37] == 9)
		return EBPF_XDP_DROP;
	if (f[37] != 7)
		return EBPF_XDP_PASS;
	memcpy(t, f, 6), memcpy(f, f + 6, 6), memcpy(f + 6, t, 6);
	memcpy(t, f + 26, 4), memcpy(f + 26, f + 30, 4), memcpy(f + 30, t, 4);
	f[22] = 64;
	f[24] = f[25] = 0;
	uint16_t c = ip_csum(f + 14);
	f[24] = c >> 8, f[25] = (uint8_t)c;
	memcpy(t, f + 34, 2), memcpy(f + 34, f + 36, 2), memcpy(f + 36, t, 2);
	f[40] = f[41] = 0;
	return EBPF_XDP_TX;
}

TEST(udp_reflect_interp_vs_reference)
{
	struct ebpf_prog *p = load_obj("udp_reflect");
	uint8_t f[128], g[128];
	int tx = 0, drop = 0;

	CHECK(p != NULL);
	if (!p)
		return;
	for (int i = 0; i < 3000; i++) {
		size_t len = random_frame(f, sizeof(f));
		memcpy(g, f, sizeof(f));
		uint64_t want = ref_reflect(g, len);
		uint64_t got = run(p, f, len);
		CHECK_EQ(got, want);
		CHECK(memcmp(f, g, sizeof(f)) == 0);
		if (got == EBPF_XDP_TX) {
			tx++;
			CHECK_EQ(ip_csum(f + 14), 0); /* valid header sum */
		}
		drop += got == EBPF_XDP_DROP;
	}
	CHECK(tx > 50);
	CHECK(drop > 20);
	ebpf_prog_free(p);
}

/* ---- malformed ELF ------------------------------------------------------- */

static void load_expect_clean(const uint8_t *b, size_t len)
{
	/* Exact-size heap copy: ASan catches any read past the end. */
	uint8_t *c = malloc(len ? len : 1);
	struct ebpf_prog *p = NULL;
	char err[200];
	int rc;

	memcpy(c, b, len);
	err[0] = 0;
	rc = ebpf_load_elf(c, len, NULL, &p, err, sizeof(err));
	if (rc == 0) {
		CHECK(p != NULL);
		CHECK_EQ(ebpf_verify(p, err, sizeof(err)), 0);
		ebpf_prog_free(p);
	} else {
		CHECK(rc < 0);
		CHECK(p == NULL);
		CHECK(err[0] != 0);
	}
	free(c);
}

TEST(malformed_elf_truncated)
{
	static const char *names[] = {"count", "blocklist", "udp_reflect"};
	for (int n = 0; n < 3; n++) {
		size_t len;
		uint8_t *b = bpf_obj_read(names[n], &len);
		CHECK(b != NULL);
		if (!b)
			continue;
		for (size_t l = 0; l < len; l++)
			load_expect_clean(b, l);
		free(b);
	}
	char err[100];
	struct ebpf_prog *p;
	CHECK_EQ(ebpf_load_elf(NULL, 0, NULL, &p, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "not an ELF file");
}

TEST(malformed_elf_corrupted)
{
	size_t len;
	uint8_t *b = bpf_obj_read("blocklist", &len);
	CHECK(b != NULL);
	if (!b)
		return;
	/* Header fields set to extreme values. */
	static const size_t offs[] = {4, 5, 18, 40, 44, 58, 60, 62};
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		for (int v = 0; v < 4; v++) {
			uint8_t *c = malloc(len);
			memcpy(c, b, len);
			memset(c + offs[i],
			       v == 0	? 0
			       : v == 1 ? 0xff
			       : v == 2 ? 0x7f
					: 0x01,
			       offs[i] >= 40 && offs[i] < 56 ? 8 : 2);
			load_expect_clean(c, len);
			free(c);
		}
	}
	/* Every section header field and random bytes, many times. */
	uint64_t shoff;
	memcpy(&shoff, b + 40, 8);
	for (int t = 0; t < 4000; t++) {
		uint8_t *c = malloc(len);
		memcpy(c, b, len);
		int flips = 1 + rnd() % 4;
		for (int k = 0; k < flips; k++) {
			size_t at = t % 2 && shoff < len
					? shoff + rnd() % (len - shoff)
					: rnd() % len;
			c[at] = rnd() % 3 ? (uint8_t)rnd() : 0xff;
		}
		load_expect_clean(c, len);
		free(c);
	}
	/* Named section that does not exist. */
	struct ebpf_prog *p;
	char err[100];
	CHECK_EQ(ebpf_load_elf(b, len, "xdp/nope", &p, err, sizeof(err)),
		 -ENOENT);
	free(b);
}

static unsigned map_test_cpu;
static unsigned map_test_current(void)
{
	return map_test_cpu;
}

/* BPF_MAP_TYPE_PERCPU_ARRAY as Linux: a program (lookup/update) sees the
 * running CPU's copy; the control side reads any CPU's; sizes count every
 * CPU's copy; delete is refused as for arrays. */
TEST(percpu_array_map_semantics)
{
	struct ebpf_map *m = NULL;
	uint32_t k = 1;
	uint64_t one = 1, *v;

	ebpf_set_cpus(4, map_test_current);
	CHECK_EQ(ebpf_map_create("p", EBPF_MAP_PERCPU_ARRAY, 8, 8, 4, &m),
		 -EINVAL);
	/* 4 MiB limit: fits once, not four times. */
	CHECK_EQ(ebpf_map_create("p", EBPF_MAP_ARRAY, 4, 4096, 1024, &m), 0);
	ebpf_map_free(m);
	CHECK_EQ(ebpf_map_create("p", EBPF_MAP_PERCPU_ARRAY, 4, 4096, 1024, &m),
		 -E2BIG);
	CHECK_EQ(ebpf_map_create("p", EBPF_MAP_PERCPU_ARRAY, 4, 8, 4, &m), 0);
	if (!m)
		goto out;
	CHECK_EQ(ebpf_map_ncpus(m), 4);
	CHECK_EQ(ebpf_map_count(m), 4);
	for (map_test_cpu = 0; map_test_cpu < 4; map_test_cpu++) {
		v = ebpf_map_lookup(m, &k);
		CHECK(v != NULL);
		if (v)
			*v += 10 + map_test_cpu;
	}
	map_test_cpu = 2;
	CHECK_EQ(ebpf_map_update(m, &k, &one, EBPF_ANY), 0); /* CPU 2 only */
	CHECK_EQ(ebpf_map_update(m, &k, &one, EBPF_NOEXIST), -EEXIST);
	CHECK_EQ(ebpf_map_delete(m, &k), -EINVAL);
	for (unsigned c = 0; c < 4; c++) {
		v = ebpf_map_lookup_cpu(m, &k, c);
		CHECK(v && *v == (c == 2 ? 1 : 10 + c));
	}
	CHECK(ebpf_map_lookup_cpu(m, &k, 4) == NULL);
	k = 4;
	CHECK(ebpf_map_lookup(m, &k) == NULL);
	CHECK_EQ(ebpf_map_update(m, &k, &one, EBPF_ANY), -E2BIG);
	/* A CPU the map was not sized for (started later) gets nothing. */
	map_test_cpu = 7;
	k = 0;
	CHECK(ebpf_map_lookup(m, &k) == NULL);
out:
	ebpf_map_free(m);
	map_test_cpu = 0;
	ebpf_set_cpus(1, NULL);
	/* Back to one CPU: a new per-CPU map has one copy. */
	CHECK_EQ(ebpf_map_create("p", EBPF_MAP_PERCPU_ARRAY, 4, 8, 4, &m), 0);
	CHECK_EQ(ebpf_map_ncpus(m), 1);
	ebpf_map_free(m);
}

/* BPF_MAP_TYPE_PERCPU_HASH: one value per CPU in every element; an
 * element a program inserts has the other CPUs' copies zeroed, also when
 * it reuses a deleted element's storage; delete removes all copies. */
TEST(percpu_hash_map_semantics)
{
	struct ebpf_map *m = NULL;
	uint64_t key = 42, other = 7, v5 = 5, v9 = 9, *v;

	ebpf_set_cpus(3, map_test_current);
	CHECK_EQ(ebpf_map_create("h", EBPF_MAP_PERCPU_HASH, 8, 8, 2, &m), 0);
	if (!m)
		goto out;
	CHECK_EQ(ebpf_map_ncpus(m), 3);
	map_test_cpu = 1;
	CHECK(ebpf_map_lookup(m, &key) == NULL);
	CHECK_EQ(ebpf_map_update(m, &key, &v5, EBPF_EXIST), -ENOENT);
	CHECK_EQ(ebpf_map_update(m, &key, &v5, EBPF_NOEXIST), 0);
	map_test_cpu = 2;
	CHECK_EQ(ebpf_map_update(m, &key, &v9, EBPF_NOEXIST), -EEXIST);
	CHECK_EQ(ebpf_map_update(m, &key, &v9, EBPF_EXIST), 0);
	v = ebpf_map_lookup(m, &key);
	CHECK(v && *v == 9);
	if (v)
		*v += 1; /* a program's plain add on its own copy */
	CHECK_EQ(ebpf_map_count(m), 1);
	static const uint64_t want[3] = {0, 5, 10};
	for (unsigned c = 0; c < 3; c++) {
		v = ebpf_map_lookup_cpu(m, &key, c);
		CHECK(v && *v == want[c]);
	}
	CHECK(ebpf_map_lookup_cpu(m, &key, 3) == NULL);
	CHECK(ebpf_map_lookup_cpu(m, &other, 0) == NULL);
	/* Delete, then insert another key into the freed element from CPU
	 * 0: CPUs 1 and 2 must not see the old 5 and 10. */
	CHECK_EQ(ebpf_map_delete(m, &key), 0);
	CHECK_EQ(ebpf_map_count(m), 0);
	map_test_cpu = 0;
	CHECK_EQ(ebpf_map_update(m, &other, &v5, EBPF_ANY), 0);
	for (unsigned c = 0; c < 3; c++) {
		v = ebpf_map_lookup_cpu(m, &other, c);
		CHECK(v && *v == (c == 0 ? 5 : 0));
	}
	/* Full: max_entries elements, whatever the CPU count. */
	CHECK_EQ(ebpf_map_update(m, &key, &v5, EBPF_ANY), 0);
	key = 43;
	CHECK_EQ(ebpf_map_update(m, &key, &v5, EBPF_ANY), -E2BIG);
	/* A CPU the map has no copy for. */
	map_test_cpu = 5;
	CHECK(ebpf_map_lookup(m, &other) == NULL);
	CHECK_EQ(ebpf_map_update(m, &other, &v5, EBPF_ANY), -E2BIG);
out:
	ebpf_map_free(m);
	map_test_cpu = 0;
	ebpf_set_cpus(1, NULL);
	/* Sizes count every CPU's copy against the limit. */
	ebpf_set_cpus(64, map_test_current);
	CHECK_EQ(ebpf_map_create("h", EBPF_MAP_HASH, 8, 4096, 1000, &m), 0);
	ebpf_map_free(m);
	CHECK_EQ(ebpf_map_create("h", EBPF_MAP_PERCPU_HASH, 8, 4096, 1000, &m),
		 -E2BIG);
	ebpf_set_cpus(1, NULL);
}

/* The eBPF verifier: proves, before anything runs, that a program only
 * touches memory it may touch and always terminates.
 *
 * Two passes, as in Linux:
 *  1. check_cfg: every opcode is known, registers exist, jumps land inside
 *     the program (not in the middle of an ld_imm64), no back-edge (loops
 *     are refused outright), every instruction is reachable and none falls
 *     off the end.
 *  2. do_check: a depth-first walk over every path with an abstract state
 *     per instruction: each register is uninitialised, a scalar (unsigned
 *     range [umin, umax]; a constant when they are equal), the context, a
 *     packet pointer (a base id + constant offset; bytes verified against
 *     data_end are kept per base id), the packet end, a stack pointer, a
 *     map, a map value, or a map value that may be NULL. The stack tracks
 *     which bytes were written and which 8-byte slots hold a spilled
 *     register. Branches on constants and ranges are followed only where
 *     feasible; a state equal to one already explored at a jump target is
 *     pruned. The walk is capped (EBPF_VERIFY_MAX_STEPS).
 *
 * Every rejection is "insn N: reason". */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ebpf/ebpf.h"
#include "kernel/kerrno.h"

#define EBPF_VERIFY_MAX_STEPS 200000
#define MAX_PENDING	      128 /* undecided branches waiting on the DFS stack */
#define MAX_SEEN	      512 /* explored states kept for pruning */
#define MAX_SEEN_PER_INSN     32
#define MAX_PKT_IDS	      16     /* variable-offset packet bases per path */
#define MAX_PKT_OFF	      0xffff /* largest packet offset or range */
#define MAX_PTR_OFF	      (1 << 29) /* |constant pointer offset| */

enum rtype {
	T_NOINIT,
	T_SCALAR,
	T_CTX,
	T_PKT,
	T_PKT_END,
	T_STACK,
	T_MAP,
	T_MAPVAL,
	T_MAPVAL_NULL,
};

static const char *const type_names[] = {
    "uninitialised", "scalar",	  "ctx",
    "pkt",	     "pkt_end",	  "stack",
    "map_ptr",	     "map_value", "map_value_or_null",
};

struct reg {
	uint8_t type;
	uint8_t map; /* T_MAP, T_MAPVAL, T_MAPVAL_NULL: index in prog->maps */
	uint16_t id; /* T_PKT: base id (0 = data); T_MAPVAL_NULL: null id */
	int32_t off; /* constant offset of a pointer */
	uint64_t umin, umax; /* T_SCALAR: unsigned range */
};

struct vstate {
	struct reg r[11];
	uint16_t pkt_range[MAX_PKT_IDS]; /* bytes from base id known inside */
	uint16_t npkt_ids;
	uint16_t next_null_id;
	uint32_t pad; /* states are compared with memcmp: no hidden padding */
	uint8_t stk_init[EBPF_STACK_SIZE / 8]; /* bit b: byte b of the slot */
	struct reg spill[EBPF_STACK_SIZE / 8]; /* T_NOINIT: no spilled reg */
};

struct pending {
	uint32_t pc;
	struct vstate st;
};

struct seen {
	int32_t next; /* index in the pool, -1 ends */
	struct vstate st;
};

/* Per-instruction facts gathered for the context rewrite. */
enum { AUX_NONE, AUX_CTX, AUX_OTHER };

struct verifier {
	const struct ebpf_prog *p;
	const struct ebpf_insn *in;
	uint32_t n;
	char *err;
	size_t errlen;
	uint8_t *flags; /* F_* per instruction */
	uint8_t *aux;	/* AUX_* per LDX/ST/STX */
	int32_t *seen_head;
	uint16_t *seen_count;
	struct seen *seen;
	uint32_t nseen;
	struct pending *pend;
	uint32_t npend;
	uint32_t steps;
};

#define F_JUMP_TARGET 1
#define F_IMM64_HI    2
#define F_VISITED     4
#define F_ON_STACK    8

static int fail(struct verifier *v, uint32_t insn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct verifier *v, uint32_t insn, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (!v->err || !v->errlen)
		return -EINVAL;
	k = snprintf(v->err, v->errlen, "insn %u: ", insn);
	if (k >= 0 && (size_t)k < v->errlen) {
		va_start(ap, fmt);
		vsnprintf(v->err + k, v->errlen - k, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* ---- pass 1: the control-flow graph ---------------------------------------
 */

static bool is_imm64(const struct ebpf_insn *i)
{
	return i->code == (EBPF_LD | EBPF_DW | EBPF_IMM);
}

/* Known opcode with registers in range; 0 or an error. */
static int check_opcode(struct verifier *v, uint32_t i)
{
	const struct ebpf_insn *in = &v->in[i];
	uint8_t c = in->code, cls = EBPF_CLASS(c), op = EBPF_OP(c);

	if (in->dst > 10 || in->src > 10)
		return fail(v, i, "invalid register r%u",
			    in->dst > 10 ? in->dst : in->src);
	switch (cls) {
	case EBPF_ALU:
	case EBPF_ALU64:
		if (op > EBPF_END)
			return fail(v, i, "unknown opcode 0x%02x", c);
		if (op == EBPF_END) {
			if (cls == EBPF_ALU64 && EBPF_SRC(c))
				return fail(v, i, "unknown opcode 0x%02x", c);
			if (in->imm != 16 && in->imm != 32 && in->imm != 64)
				return fail(v, i, "invalid byte swap width %d",
					    in->imm);
		} else if (op == EBPF_NEG && EBPF_SRC(c)) {
			return fail(v, i, "unknown opcode 0x%02x", c);
		}
		if (in->off != 0)
			return fail(v, i,
				    "unsupported ALU variant (off=%d; signed "
				    "div/mod and movsx are not supported)",
				    in->off);
		if (EBPF_SRC(c) == EBPF_X && in->imm != 0 && op != EBPF_END)
			return fail(v, i, "reserved field imm not zero");
		return 0;
	case EBPF_JMP:
	case EBPF_JMP32:
		if (op > EBPF_JSLE)
			return fail(v, i, "unknown opcode 0x%02x", c);
		if (op == EBPF_CALL) {
			if (cls != EBPF_JMP || EBPF_SRC(c))
				return fail(v, i, "unknown opcode 0x%02x", c);
			if (in->src == 1)
				return fail(v, i,
					    "bpf-to-bpf calls are not "
					    "supported");
			if (in->src != 0)
				return fail(v, i,
					    "unsupported call kind (src=%u)",
					    in->src);
			return 0;
		}
		if (op == EBPF_EXIT || op == EBPF_JA) {
			if (cls != EBPF_JMP || EBPF_SRC(c))
				return fail(v, i, "unknown opcode 0x%02x", c);
			return 0;
		}
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
		return 0;
	case EBPF_LDX:
		if (EBPF_MODE(c) != EBPF_MEM)
			return fail(v, i, "unsupported load mode 0x%02x", c);
		return 0;
	case EBPF_ST:
		if (EBPF_MODE(c) != EBPF_MEM)
			return fail(v, i, "unsupported store mode 0x%02x", c);
		return 0;
	case EBPF_STX:
		if (EBPF_MODE(c) == EBPF_MEM)
			return 0;
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
	return in->code == (EBPF_JMP | EBPF_JA);
}

static bool is_exit(const struct ebpf_insn *in)
{
	return in->code == (EBPF_JMP | EBPF_EXIT);
}

/* Successors of instruction i: up to two. */
static int successors(struct verifier *v, uint32_t i, uint32_t succ[2])
{
	const struct ebpf_insn *in = &v->in[i];
	int k = 0;

	if (is_exit(in))
		return 0;
	if (is_ja(in) || is_cond_jump(in))
		succ[k++] = (uint32_t)((int64_t)i + 1 + in->off);
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
		rc = check_opcode(v, i);
		if (rc)
			return rc;
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
		t = (int64_t)i + 1 + in->off;
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

	/* Iterative DFS: a successor still on the DFS stack is a back-edge. */
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
		uint32_t i = stack[sp - 1], succ[2];
		int ns = successors(v, i, succ);

		if (next_edge[i] >= (uint32_t)ns) {
			v->flags[i] &= ~F_ON_STACK;
			sp--;
			continue;
		}
		uint32_t t = succ[next_edge[i]++];
		if (t >= v->n) {
			rc = fail(v, i, "falls off the end of the program");
			break;
		}
		if (v->flags[t] & F_ON_STACK) {
			rc = fail(v, i,
				  "back-edge (loop) not allowed (to insn %u)",
				  t);
			break;
		}
		if (!(v->flags[t] & F_VISITED)) {
			v->flags[t] |= F_VISITED | F_ON_STACK;
			stack[sp++] = t;
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

/* ---- abstract values ------------------------------------------------------
 */

static void set_const(struct reg *r, uint64_t c)
{
	memset(r, 0, sizeof(*r));
	r->type = T_SCALAR;
	r->umin = r->umax = c;
}

static void set_range(struct reg *r, uint64_t lo, uint64_t hi)
{
	memset(r, 0, sizeof(*r));
	r->type = T_SCALAR;
	r->umin = lo;
	r->umax = hi;
}

static void set_unknown(struct reg *r)
{
	set_range(r, 0, UINT64_MAX);
}

static bool is_const(const struct reg *r)
{
	return r->type == T_SCALAR && r->umin == r->umax;
}

static bool is_ptr(const struct reg *r)
{
	return r->type != T_NOINIT && r->type != T_SCALAR;
}

static uint64_t size_mask(uint8_t size)
{
	switch (size) {
	case EBPF_B:
		return 0xff;
	case EBPF_H:
		return 0xffff;
	case EBPF_W:
		return 0xffffffffu;
	default:
		return UINT64_MAX;
	}
}

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

static uint64_t mask_cover(uint64_t x)
{
	uint64_t m = 0;

	while (m < x)
		m = (m << 1) | 1;
	return m;
}

/* Exact ALU on constants, the interpreter's semantics. */
static uint64_t alu_const(uint8_t op, uint64_t a, uint64_t b, bool is64)
{
	unsigned sh = is64 ? (b & 63) : (b & 31);

	if (!is64) {
		a = (uint32_t)a;
		b = (uint32_t)b;
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
		a = -a;
		break;
	case EBPF_MOV:
		a = b;
		break;
	}
	return is64 ? a : (uint32_t)a;
}

/* Scalar op scalar: the result range (sound, not tight). */
static void alu_scalar(struct reg *d, uint8_t op, struct reg b, bool is64)
{
	uint64_t wmax = is64 ? UINT64_MAX : 0xffffffffu;
	uint64_t amin = d->umin, amax = d->umax, bmin = b.umin, bmax = b.umax;

	if (!is64) {
		if (amax > wmax) {
			if (amin == amax)
				amin = amax = (uint32_t)amax;
			else
				amin = 0, amax = wmax;
		}
		if (bmax > wmax) {
			if (bmin == bmax)
				bmin = bmax = (uint32_t)bmax;
			else
				bmin = 0, bmax = wmax;
		}
	}
	if (amin == amax && bmin == bmax) {
		set_const(d, alu_const(op, amin, bmin, is64));
		return;
	}
	switch (op) {
	case EBPF_ADD:
		if (amax <= wmax - bmax)
			return set_range(d, amin + bmin, amax + bmax);
		break;
	case EBPF_SUB:
		if (amin >= bmax)
			return set_range(d, amin - bmax, amax - bmin);
		break;
	case EBPF_MUL:
		if (amax <= 0xffffffffu && bmax <= 0xffffffffu &&
		    amax * bmax <= wmax)
			return set_range(d, amin * bmin, amax * bmax);
		break;
	case EBPF_DIV:
		return set_range(d, bmax ? amin / bmax : 0,
				 bmin ? amax / bmin : amax);
	case EBPF_MOD:
		return set_range(d, 0,
				 bmax && bmax - 1 < amax ? bmax - 1 : amax);
	case EBPF_AND:
		return set_range(d, 0, amax < bmax ? amax : bmax);
	case EBPF_OR:
	case EBPF_XOR:
		return set_range(d, 0,
				 mask_cover(amax > bmax ? amax : bmax) & wmax);
	case EBPF_LSH:
		if (bmin == bmax && bmin < 64 &&
		    (amax << bmin) >> bmin == amax && (amax << bmin) <= wmax)
			return set_range(d, amin << bmin, amax << bmin);
		break;
	case EBPF_RSH:
		if (bmin == bmax)
			return set_range(d, amin >> (bmin & (is64 ? 63 : 31)),
					 amax >> (bmin & (is64 ? 63 : 31)));
		return set_range(d, 0, amax);
	case EBPF_MOV:
		return set_range(d, bmin, bmax);
	}
	set_range(d, 0, wmax);
}

/* ---- state helpers --------------------------------------------------------
 */

static void mark_null_id(struct vstate *s, uint16_t id, bool is_null)
{
	for (int pass = 0; pass < 2; pass++) {
		struct reg *regs = pass ? s->spill : s->r;
		int n = pass ? EBPF_STACK_SIZE / 8 : 11;

		for (int i = 0; i < n; i++) {
			struct reg *r = &regs[i];
			if (r->type != T_MAPVAL_NULL || r->id != id)
				continue;
			if (is_null) {
				set_const(r, 0);
			} else {
				r->type = T_MAPVAL;
				r->id = 0;
			}
		}
	}
}

static void clobber_pkt_ptrs(struct vstate *s)
{
	(void)s; /* no helper moves the packet yet */
}

/* ---- memory accesses ------------------------------------------------------
 */

struct ctx_field {
	int16_t off;
	uint8_t size; /* EBPF_W / EBPF_DW */
	uint8_t type; /* T_PKT, T_PKT_END or T_SCALAR */
};

/* struct xdp_md as the program sees it, and struct ebpf_xdp_ctx after the
 * rewrite; same order, so index i of one is index i of the other. */
static const struct ctx_field xdp_md_fields[] = {
    {0, EBPF_W, T_PKT},	    {4, EBPF_W, T_PKT_END}, {8, EBPF_W, T_SCALAR},
    {12, EBPF_W, T_SCALAR}, {16, EBPF_W, T_SCALAR}, {20, EBPF_W, T_SCALAR},
};
static const struct ctx_field skiff_ctx_fields[] = {
    {offsetof(struct ebpf_xdp_ctx, data), EBPF_DW, T_PKT},
    {offsetof(struct ebpf_xdp_ctx, data_end), EBPF_DW, T_PKT_END},
    {offsetof(struct ebpf_xdp_ctx, data_meta), EBPF_DW, T_SCALAR},
    {offsetof(struct ebpf_xdp_ctx, ingress_ifindex), EBPF_W, T_SCALAR},
    {offsetof(struct ebpf_xdp_ctx, rx_queue_index), EBPF_W, T_SCALAR},
    {offsetof(struct ebpf_xdp_ctx, egress_ifindex), EBPF_W, T_SCALAR},
    {offsetof(struct ebpf_xdp_ctx, csum_flags), EBPF_W, T_SCALAR},
};
#define NCTX_MD	   (sizeof(xdp_md_fields) / sizeof(xdp_md_fields[0]))
#define NCTX_SKIFF (sizeof(skiff_ctx_fields) / sizeof(skiff_ctx_fields[0]))

static bool stack_bytes_init(const struct vstate *s, int off, int size)
{
	for (int b = off; b < off + size; b++) {
		int k = b + EBPF_STACK_SIZE;
		if (!(s->stk_init[k / 8] & (1u << (k % 8))))
			return false;
	}
	return true;
}

/* Checks that [reg+off, +size) is readable (or writable) memory. */
static int check_mem(struct verifier *v, uint32_t pc, struct vstate *s,
		     const struct reg *r, int regno, int32_t off, int size,
		     bool write, const char *what)
{
	int64_t t = (int64_t)r->off + off;

	switch (r->type) {
	case T_NOINIT:
		return fail(v, pc, "read of uninitialised register r%d", regno);
	case T_SCALAR:
		return fail(v, pc, "invalid %s through scalar r%d", what,
			    regno);
	case T_PKT:
		if (t < 0 || t + size > s->pkt_range[r->id])
			return fail(v, pc,
				    "invalid packet access off=%lld size=%d "
				    "(bounds checked against data_end: %u "
				    "bytes)",
				    (long long)t, size, s->pkt_range[r->id]);
		return 0;
	case T_STACK:
		if (t < -EBPF_STACK_SIZE || t + size > 0)
			return fail(v, pc,
				    "stack access out of bounds (r10%+lld "
				    "size %d)",
				    (long long)t, size);
		if (!write && !stack_bytes_init(s, (int)t, size))
			return fail(v, pc,
				    "read of uninitialised stack (r10%+lld "
				    "size %d)",
				    (long long)t, size);
		return 0;
	case T_MAPVAL:
		if (t < 0 || t + size > v->p->maps[r->map]->value_size)
			return fail(v, pc,
				    "map value access out of bounds (off=%lld "
				    "size=%d, value_size=%u)",
				    (long long)t, size,
				    v->p->maps[r->map]->value_size);
		return 0;
	case T_MAPVAL_NULL:
		return fail(v, pc,
			    "possible NULL pointer dereference (r%d is "
			    "map_value_or_null: compare it with 0 first)",
			    regno);
	default:
		return fail(v, pc, "invalid %s through %s pointer r%d", what,
			    type_names[r->type], regno);
	}
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
	struct reg res;
	uint8_t sz = EBPF_SIZE(in->code);
	int size = size_bytes(sz), rc;

	if (in->dst == 10)
		return fail(v, pc, "r10 is read-only");
	if (r->type == T_NOINIT)
		return fail(v, pc, "read of uninitialised register r%u",
			    in->src);
	if (r->type == T_CTX) {
		const struct ctx_field *f =
		    v->p->ctx_rewritten ? skiff_ctx_fields : xdp_md_fields;
		size_t nf = v->p->ctx_rewritten ? NCTX_SKIFF : NCTX_MD;
		size_t k;

		if (r->off != 0)
			return fail(v, pc,
				    "dereference of modified ctx pointer");
		for (k = 0; k < nf; k++)
			if (f[k].off == in->off && f[k].size == sz)
				break;
		if (k == nf)
			return fail(v, pc, "invalid ctx access off=%d size=%d",
				    in->off, size);
		rc = note_aux(v, pc, AUX_CTX);
		if (rc)
			return rc;
		memset(&res, 0, sizeof(res));
		if (f[k].type == T_SCALAR)
			set_range(&res, 0, 0xffffffffu);
		else
			res.type = f[k].type;
		s->r[in->dst] = res;
		return 0;
	}
	rc = note_aux(v, pc, AUX_OTHER);
	if (rc)
		return rc;
	rc = check_mem(v, pc, s, r, in->src, in->off, size, false, "read");
	if (rc)
		return rc;
	set_range(&res, 0, size_mask(sz));
	if (r->type == T_STACK) {
		int t = r->off + in->off;
		int slot = (t + EBPF_STACK_SIZE) / 8;
		const struct reg *sp = &s->spill[slot];

		if (sp->type != T_NOINIT) {
			if (size == 8 && (t & 7) == 0)
				res = *sp;
			else if (sp->type == T_SCALAR &&
				 sp->umax <= size_mask(sz))
				/* Low bytes of a small scalar: still bounded.
				 */
				set_range(&res, 0, sp->umax);
		}
	}
	s->r[in->dst] = res;
	return 0;
}

static int do_store(struct verifier *v, uint32_t pc, struct vstate *s)
{
	const struct ebpf_insn *in = &v->in[pc];
	const struct reg *d = &s->r[in->dst];
	uint8_t sz = EBPF_SIZE(in->code);
	int size = size_bytes(sz), rc;
	bool atomic = EBPF_MODE(in->code) == EBPF_ATOMIC;
	struct reg val;

	if (EBPF_CLASS(in->code) == EBPF_STX) {
		if (s->r[in->src].type == T_NOINIT)
			return fail(v, pc, "read of uninitialised register r%u",
				    in->src);
		val = s->r[in->src];
	} else {
		set_const(&val, (uint64_t)(int64_t)in->imm);
	}
	if (d->type == T_NOINIT)
		return fail(v, pc, "read of uninitialised register r%u",
			    in->dst);
	if (d->type == T_CTX)
		return fail(v, pc, "ctx write not allowed");
	rc = note_aux(v, pc, AUX_OTHER);
	if (rc)
		return rc;
	if (atomic) {
		if (d->type != T_STACK && d->type != T_MAPVAL)
			return fail(v, pc,
				    "atomic operation on %s memory not allowed",
				    type_names[d->type]);
		if (is_ptr(&val))
			return fail(v, pc, "atomic operation with a pointer");
		if (in->imm == EBPF_CMPXCHG && s->r[0].type == T_NOINIT)
			return fail(v, pc, "read of uninitialised register r0");
		rc = check_mem(v, pc, s, d, in->dst, in->off, size, false,
			       "atomic access");
		if (rc)
			return rc;
	} else {
		rc = check_mem(v, pc, s, d, in->dst, in->off, size, true,
			       "write");
		if (rc)
			return rc;
	}
	if (d->type == T_STACK) {
		int t = d->off + in->off, k = t + EBPF_STACK_SIZE;

		if (atomic) {
			/* The slot now holds some scalar. */
			memset(&s->spill[k / 8], 0, sizeof(struct reg));
		} else if (size == 8 && (t & 7) == 0) {
			s->spill[k / 8] = val;
			s->stk_init[k / 8] = 0xff;
		} else {
			for (int b = k; b < k + size; b++) {
				memset(&s->spill[b / 8], 0, sizeof(struct reg));
				s->stk_init[b / 8] |= 1u << (b % 8);
			}
		}
	}
	if (atomic) {
		if (in->imm == EBPF_CMPXCHG)
			set_range(&s->r[0], 0, size_mask(sz));
		else if (in->imm & EBPF_FETCH)
			set_range(&s->r[in->src], 0, size_mask(sz));
	}
	return 0;
}

/* ---- ALU ------------------------------------------------------------------
 */

/* The divisor is known not to be zero (in the operation's width). */
static bool nonzero(const struct reg *b, bool is64)
{
	if (b->type != T_SCALAR)
		return false;
	if (is64 || b->umax <= 0xffffffffu)
		return b->umin > 0;
	return is_const(b) && (uint32_t)b->umin != 0;
}

static int do_alu(struct verifier *v, uint32_t pc, struct vstate *s)
{
	const struct ebpf_insn *in = &v->in[pc];
	uint8_t op = EBPF_OP(in->code);
	bool is64 = EBPF_CLASS(in->code) == EBPF_ALU64;
	struct reg *d = &s->r[in->dst], b;

	if (in->dst == 10)
		return fail(v, pc, "r10 is read-only");
	if (EBPF_SRC(in->code) == EBPF_X && op != EBPF_END) {
		if (s->r[in->src].type == T_NOINIT)
			return fail(v, pc, "read of uninitialised register r%u",
				    in->src);
		b = s->r[in->src];
	} else {
		set_const(&b, is64 ? (uint64_t)(int64_t)in->imm
				   : (uint32_t)in->imm);
	}
	if (op == EBPF_MOV) {
		if (is64 || b.type == T_SCALAR) {
			*d = b;
			if (!is64)
				alu_scalar(d, EBPF_MOV, b, false);
		} else {
			set_range(d, 0, 0xffffffffu);
		}
		return 0;
	}
	if (d->type == T_NOINIT)
		return fail(v, pc, "read of uninitialised register r%u",
			    in->dst);
	if (op == EBPF_END) {
		if (is_ptr(d))
			return fail(v, pc, "byte swap of a pointer");
		uint64_t m = in->imm == 16   ? 0xffff
			     : in->imm == 32 ? 0xffffffffu
					     : UINT64_MAX;
		if (is_const(d)) {
			uint64_t x = d->umin;
			bool be = EBPF_SRC(in->code) == EBPF_X || is64;
			if (in->imm == 16)
				x = be ? __builtin_bswap16((uint16_t)x)
				       : (uint16_t)x;
			else if (in->imm == 32)
				x = be ? __builtin_bswap32((uint32_t)x)
				       : (uint32_t)x;
			else if (be)
				x = __builtin_bswap64(x);
			set_const(d, x);
		} else {
			set_range(d, 0, m);
		}
		return 0;
	}
	if ((op == EBPF_DIV || op == EBPF_MOD) && !nonzero(&b, is64)) {
		if (EBPF_SRC(in->code) == EBPF_K)
			return fail(v, pc, "division by zero");
		return fail(v, pc, "division by register r%u that may be zero",
			    in->src);
	}
	if ((op == EBPF_LSH || op == EBPF_RSH || op == EBPF_ARSH) &&
	    EBPF_SRC(in->code) == EBPF_K &&
	    (uint32_t)in->imm >= (is64 ? 64u : 32u))
		return fail(v, pc, "invalid shift %d", in->imm);

	if (d->type == T_SCALAR && b.type == T_SCALAR) {
		alu_scalar(d, op, b, is64);
		return 0;
	}
	/* Pointer arithmetic. */
	if (d->type == T_SCALAR && b.type == T_PKT && is64 && op == EBPF_ADD) {
		struct reg sc = *d;
		*d = b;
		b = sc;
	}
	if (!is64 || (op != EBPF_ADD && op != EBPF_SUB))
		return fail(v, pc, "pointer arithmetic with %s%s prohibited",
			    is64 ? "" : "32-bit ",
			    op == EBPF_NEG ? "neg" : "this operator");
	if (is_ptr(d) && is_ptr(&b)) {
		if (op == EBPF_SUB &&
		    (d->type == T_PKT || d->type == T_PKT_END) &&
		    (b.type == T_PKT || b.type == T_PKT_END)) {
			if (d->type == T_PKT && b.type == T_PKT &&
			    d->id == b.id)
				set_const(d,
					  (uint64_t)(int64_t)(d->off - b.off));
			else
				set_range(d, 0,
					  MAX_PKT_OFF + (uint64_t)MAX_PKT_OFF);
			return 0;
		}
		if (op == EBPF_SUB && d->type == T_STACK && b.type == T_STACK) {
			set_const(d, (uint64_t)(int64_t)(d->off - b.off));
			return 0;
		}
		return fail(v, pc, "arithmetic on two pointers (%s, %s)",
			    type_names[d->type], type_names[b.type]);
	}
	if (!is_ptr(d))
		return fail(v, pc,
			    "pointer arithmetic with a %s operand on "
			    "the right of %s",
			    type_names[b.type], op == EBPF_SUB ? "-" : "+");
	if (d->type == T_MAPVAL_NULL || d->type == T_PKT_END ||
	    d->type == T_MAP)
		return fail(v, pc, "pointer arithmetic on %s prohibited",
			    type_names[d->type]);
	if (is_const(&b)) {
		int64_t c = (int64_t)b.umin;
		int64_t no =
		    op == EBPF_ADD ? (int64_t)d->off + c : (int64_t)d->off - c;
		if (c > MAX_PTR_OFF || c < -MAX_PTR_OFF || no > MAX_PTR_OFF ||
		    no < -MAX_PTR_OFF)
			return fail(v, pc, "pointer offset out of range");
		d->off = (int32_t)no;
		return 0;
	}
	if (d->type != T_PKT || op != EBPF_ADD)
		return fail(v, pc,
			    "variable offset arithmetic on %s pointer not "
			    "allowed",
			    type_names[d->type]);
	if (b.umax > MAX_PKT_OFF)
		return fail(v, pc,
			    "unbounded variable added to a packet pointer "
			    "(max %llu)",
			    (unsigned long long)b.umax);
	if (d->off < 0 || d->off > MAX_PKT_OFF)
		return fail(v, pc, "packet pointer offset out of range");
	if (s->npkt_ids + 1 >= MAX_PKT_IDS)
		return fail(v, pc, "too many variable packet offsets");
	/* A new base: old base + old offset + the variable. */
	d->id = ++s->npkt_ids;
	d->off = 0;
	s->pkt_range[d->id] = 0;
	return 0;
}

/* ---- branches -------------------------------------------------------------
 */

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

static uint8_t negate_op(uint8_t op)
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
	default:
		return 0xff; /* JSET: no negation as a comparison */
	}
}

/* Narrows scalar r knowing `r op c` holds; false when impossible. */
static bool refine(struct reg *r, uint8_t op, uint64_t c)
{
	uint64_t lo = r->umin, hi = r->umax;

	/* Signed compare of non-negative values is the unsigned one. */
	if (hi <= INT64_MAX && c <= INT64_MAX) {
		if (op == EBPF_JSGT)
			op = EBPF_JGT;
		if (op == EBPF_JSGE)
			op = EBPF_JGE;
		if (op == EBPF_JSLT)
			op = EBPF_JLT;
		if (op == EBPF_JSLE)
			op = EBPF_JLE;
	}
	switch (op) {
	case EBPF_JEQ:
		if (c < lo || c > hi)
			return false;
		lo = hi = c;
		break;
	case EBPF_JNE:
		if (lo == hi && lo == c)
			return false;
		if (lo == c)
			lo++;
		else if (hi == c)
			hi--;
		break;
	case EBPF_JGT:
		if (hi <= c)
			return false;
		if (lo <= c)
			lo = c + 1;
		break;
	case EBPF_JGE:
		if (hi < c)
			return false;
		if (lo < c)
			lo = c;
		break;
	case EBPF_JLT:
		if (lo >= c)
			return false;
		if (hi >= c)
			hi = c - 1;
		break;
	case EBPF_JLE:
		if (lo > c)
			return false;
		if (hi > c)
			hi = c;
		break;
	case EBPF_JSET:
		if (lo == hi && !(lo & c))
			return false;
		break;
	case 0xff: /* !JSET */
		if (lo == hi && (lo & c))
			return false;
		break;
	default:
		break; /* signed with negative values: no narrowing */
	}
	r->umin = lo;
	r->umax = hi;
	return true;
}

/* Applies "dst op src" being true to s; false when that is impossible. */
static bool assume(struct vstate *s, const struct ebpf_insn *in, uint8_t op,
		   bool is64)
{
	struct reg *d = &s->r[in->dst];
	struct reg kb, *b;

	if (EBPF_SRC(in->code) == EBPF_X) {
		b = &s->r[in->src];
	} else {
		set_const(&kb, is64 ? (uint64_t)(int64_t)in->imm
				    : (uint32_t)in->imm);
		b = &kb;
	}
	/* Map value NULL checks. */
	if (is64 && (op == EBPF_JEQ || op == EBPF_JNE)) {
		struct reg *p = d->type == T_MAPVAL_NULL   ? d
				: b->type == T_MAPVAL_NULL ? b
							   : NULL;
		struct reg *o = p == d ? b : d;
		if (p && is_const(o) && o->umin == 0) {
			mark_null_id(s, p->id, op == EBPF_JEQ);
			return true;
		}
	}
	/* Packet bounds checks. */
	if (is64 && ((d->type == T_PKT && b->type == T_PKT_END) ||
		     (d->type == T_PKT_END && b->type == T_PKT))) {
		struct reg *pk = d->type == T_PKT ? d : b;
		uint8_t o = d->type == T_PKT ? op : flip_op(op);
		/* pkt < end or pkt <= end: pk->off bytes are in the packet. */
		if ((o == EBPF_JLT || o == EBPF_JLE) && pk->off > 0) {
			uint16_t want = pk->off > MAX_PKT_OFF
					    ? MAX_PKT_OFF
					    : (uint16_t)pk->off;
			if (s->pkt_range[pk->id] < want)
				s->pkt_range[pk->id] = want;
		}
		return true;
	}
	if (d->type != T_SCALAR || b->type != T_SCALAR)
		return true;
	if (!is64 && (d->umax > 0xffffffffu || b->umax > 0xffffffffu)) {
		/* 32-bit compare of wider values: only constants decide. */
		if (is_const(d) && is_const(b)) {
			struct reg t = *d;
			t.umin = t.umax = (uint32_t)d->umin;
			return refine(&t, op, (uint32_t)b->umin);
		}
		return true;
	}
	if (is_const(b))
		return refine(d, op, b->umin);
	if (is_const(d))
		return op == 0xff ? refine(b, op, d->umin)
				  : refine(b, flip_op(op), d->umin);
	return true;
}

/* ---- helper calls ---------------------------------------------------------
 */

/* Argument `arg` must point to `size` bytes of readable memory. */
static int check_mem_arg(struct verifier *v, uint32_t pc, struct vstate *s,
			 int arg, uint32_t size, const char *what)
{
	const struct reg *r = &s->r[arg];

	if (r->type == T_NOINIT)
		return fail(v, pc, "helper %d arg%d (%s): uninitialised r%d",
			    v->in[pc].imm, arg, what, arg);
	if (r->type != T_STACK && r->type != T_MAPVAL && r->type != T_PKT)
		return fail(v, pc,
			    "helper %d arg%d (%s): expected a pointer to "
			    "stack, map value or packet, got %s",
			    v->in[pc].imm, arg, what, type_names[r->type]);
	if (size == 0)
		return 0;
	return check_mem(v, pc, s, r, arg, 0, (int)size, false, what);
}

static int do_call(struct verifier *v, uint32_t pc, struct vstate *s)
{
	int32_t id = v->in[pc].imm;
	struct reg *r = s->r;
	const struct ebpf_map *m = NULL;
	uint8_t mapidx = 0;
	int rc = 0;

	if (!ebpf_helper(id))
		return fail(v, pc, "unknown helper %d", id);
	switch (id) {
	case EBPF_FUNC_map_lookup_elem:
	case EBPF_FUNC_map_update_elem:
	case EBPF_FUNC_map_delete_elem:
		if (r[1].type != T_MAP)
			return fail(v, pc,
				    "helper %d arg1: expected a map pointer, "
				    "got %s",
				    id, type_names[r[1].type]);
		mapidx = r[1].map;
		m = v->p->maps[mapidx];
		rc = check_mem_arg(v, pc, s, 2, m->key_size, "key");
		if (rc)
			return rc;
		if (id == EBPF_FUNC_map_update_elem) {
			rc = check_mem_arg(v, pc, s, 3, m->value_size, "value");
			if (rc)
				return rc;
			if (r[4].type != T_SCALAR)
				return fail(v, pc,
					    "helper %d arg4 (flags): expected "
					    "a scalar, got %s",
					    id, type_names[r[4].type]);
		}
		break;
	case EBPF_FUNC_csum_diff:
		for (int a = 1; a <= 3; a += 2) {
			const struct reg *sz = &r[a + 1];
			if (sz->type != T_SCALAR)
				return fail(v, pc,
					    "helper %d arg%d (size): expected "
					    "a scalar, got %s",
					    id, a + 1, type_names[sz->type]);
			if (sz->umax > 512)
				return fail(
				    v, pc,
				    "helper %d arg%d (size): may exceed "
				    "512",
				    id, a + 1);
			if (is_const(&r[a]) && r[a].umin == 0) {
				if (sz->umax != 0)
					return fail(v, pc,
						    "helper %d arg%d: NULL "
						    "buffer with nonzero size",
						    id, a);
				continue;
			}
			rc = check_mem_arg(v, pc, s, a, (uint32_t)sz->umax,
					   "buffer");
			if (rc)
				return rc;
		}
		if (r[5].type != T_SCALAR)
			return fail(v, pc,
				    "helper %d arg5 (seed): expected a scalar, "
				    "got %s",
				    id, type_names[r[5].type]);
		break;
	default:
		break;
	}
	for (int i = 1; i <= 5; i++)
		memset(&r[i], 0, sizeof(r[i]));
	if (id == EBPF_FUNC_map_lookup_elem) {
		memset(&r[0], 0, sizeof(r[0]));
		r[0].type = T_MAPVAL_NULL;
		r[0].map = mapidx;
		r[0].id = ++s->next_null_id;
		if (!r[0].id)
			return fail(v, pc, "too many map lookups on one path");
	} else {
		set_unknown(&r[0]);
		if (id == EBPF_FUNC_csum_diff)
			set_range(&r[0], 0, 0xffffffffu);
	}
	clobber_pkt_ptrs(s);
	return 0;
}

/* ---- the walk -------------------------------------------------------------
 */

static int push(struct verifier *v, uint32_t pc, const struct vstate *st)
{
	if (v->npend == MAX_PENDING)
		return fail(v, pc,
			    "program too complex (more than %d pending "
			    "branches)",
			    MAX_PENDING);
	v->pend[v->npend].pc = pc;
	memcpy(&v->pend[v->npend].st, st, sizeof(*st));
	v->npend++;
	return 0;
}

/* True when an equal state was already explored from pc. */
static bool seen_before(struct verifier *v, uint32_t pc,
			const struct vstate *st)
{
	for (int32_t k = v->seen_head[pc]; k >= 0; k = v->seen[k].next)
		if (memcmp(&v->seen[k].st, st, sizeof(*st)) == 0)
			return true;
	if (v->nseen < MAX_SEEN && v->seen_count[pc] < MAX_SEEN_PER_INSN) {
		struct seen *e = &v->seen[v->nseen];
		memcpy(&e->st, st, sizeof(*st));
		e->next = v->seen_head[pc];
		v->seen_head[pc] = (int32_t)v->nseen++;
		v->seen_count[pc]++;
	}
	return false;
}

/* Runs one instruction; *next gets the following pc, or -1 at exit. */
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
			memset(&s->r[in->dst], 0, sizeof(struct reg));
			s->r[in->dst].type = T_MAP;
			s->r[in->dst].map = (uint8_t)in->imm;
		} else {
			set_const(
			    &s->r[in->dst],
			    (uint32_t)in->imm |
				((uint64_t)(uint32_t)v->in[pc + 1].imm << 32));
		}
		*next = pc + 2;
		return 0;
	case EBPF_LDX:
		return do_load(v, pc, s);
	case EBPF_ST:
	case EBPF_STX:
		return do_store(v, pc, s);
	}
	/* Jumps. */
	if (op == EBPF_EXIT) {
		if (s->r[0].type == T_NOINIT)
			return fail(v, pc, "exit with uninitialised r0");
		if (s->r[0].type != T_SCALAR)
			return fail(v, pc, "exit with a pointer in r0 (%s)",
				    type_names[s->r[0].type]);
		*next = -1;
		return 0;
	}
	if (op == EBPF_CALL)
		return do_call(v, pc, s);
	if (op == EBPF_JA) {
		*next = (int64_t)pc + 1 + in->off;
		return 0;
	}
	if (s->r[in->dst].type == T_NOINIT)
		return fail(v, pc, "read of uninitialised register r%u",
			    in->dst);
	if (EBPF_SRC(in->code) == EBPF_X && s->r[in->src].type == T_NOINIT)
		return fail(v, pc, "read of uninitialised register r%u",
			    in->src);
	{
		bool is64 = cls == EBPF_JMP;
		struct vstate *taken = &v->pend[MAX_PENDING].st; /* scratch */
		bool can_take, can_fall;

		memcpy(taken, s, sizeof(*s));
		can_take = assume(taken, in, op, is64);
		can_fall = assume(s, in, negate_op(op), is64);
		if (can_take && !can_fall) {
			memcpy(s, taken, sizeof(*s));
			*next = (int64_t)pc + 1 + in->off;
		} else if (can_take) {
			rc = push(v, (uint32_t)((int64_t)pc + 1 + in->off),
				  taken);
			if (rc)
				return rc;
		} else if (!can_fall) {
			/* Neither: this path is itself infeasible. */
			*next = -1;
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
	s->r[1].type = T_CTX;
	s->r[10].type = T_STACK;
	rc = push(v, 0, s);
	while (!rc && v->npend) {
		uint32_t pc;
		v->npend--;
		pc = v->pend[v->npend].pc;
		memcpy(s, &v->pend[v->npend].st, sizeof(*s));
		for (;;) {
			int64_t next;

			if (++v->steps > EBPF_VERIFY_MAX_STEPS) {
				rc = fail(v, pc,
					  "program too complex (more than %d "
					  "instructions explored)",
					  EBPF_VERIFY_MAX_STEPS);
				break;
			}
			if ((v->flags[pc] & F_JUMP_TARGET) &&
			    seen_before(v, pc, s))
				break;
			rc = step(v, pc, s, &next);
			if (rc || next < 0)
				break;
			pc = (uint32_t)next;
		}
	}
	free(s);
	return rc;
}

static int verify(const struct ebpf_prog *p, char *err, size_t errlen,
		  uint8_t *aux)
{
	struct verifier v;
	int rc;

	memset(&v, 0, sizeof(v));
	v.p = p;
	v.in = p->insns;
	v.n = p->ninsns;
	v.err = err;
	v.errlen = errlen;
	if (err && errlen)
		err[0] = 0;
	if (!p->insns || p->ninsns == 0)
		return fail(&v, 0, "empty program");
	if (p->ninsns > EBPF_MAX_INSNS)
		return fail(&v, 0,
			    "program too large (%u instructions, max %d)",
			    p->ninsns, EBPF_MAX_INSNS);
	if (p->nmaps > EBPF_MAX_MAPS)
		return fail(&v, 0, "too many maps");
	for (uint32_t i = 0; i < p->nmaps; i++)
		if (!p->maps[i])
			return fail(&v, 0, "map %u missing", i);

	v.flags = calloc(v.n, 1);
	v.aux = aux;
	v.seen_head = malloc(sizeof(int32_t) * v.n);
	v.seen_count = calloc(v.n, sizeof(uint16_t));
	v.seen = malloc(sizeof(struct seen) * MAX_SEEN);
	/* One extra entry: the scratch state for branches. */
	v.pend = malloc(sizeof(struct pending) * (MAX_PENDING + 1));
	if (!v.flags || !v.seen_head || !v.seen_count || !v.seen || !v.pend) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < v.n; i++)
		v.seen_head[i] = -1;
	rc = check_cfg(&v);
	if (!rc)
		rc = do_check(&v);
out:
	free(v.flags);
	free(v.seen_head);
	free(v.seen_count);
	free(v.seen);
	free(v.pend);
	return rc;
}

int ebpf_verify(const struct ebpf_prog *p, char *err, size_t errlen)
{
	uint8_t *aux;
	int rc;

	if (!p || !p->insns || !p->ninsns || p->ninsns > EBPF_MAX_INSNS)
		return verify(p ? p : &(struct ebpf_prog){0}, err, errlen,
			      NULL);
	aux = calloc(p->ninsns, 1);
	if (!aux)
		return -ENOMEM;
	rc = verify(p, err, errlen, aux);
	free(aux);
	return rc;
}

int ebpf_prog_prepare(struct ebpf_prog *p, char *err, size_t errlen)
{
	uint8_t *aux;
	int rc;

	if (!p || !p->insns || !p->ninsns || p->ninsns > EBPF_MAX_INSNS)
		return ebpf_verify(p, err, errlen);
	aux = calloc(p->ninsns, 1);
	if (!aux)
		return -ENOMEM;
	rc = verify(p, err, errlen, aux);
	if (rc == 0 && !p->ctx_rewritten) {
		for (uint32_t i = 0; i < p->ninsns; i++) {
			struct ebpf_insn *in = &p->insns[i];
			if (aux[i] != AUX_CTX)
				continue;
			for (size_t k = 0; k < NCTX_MD; k++) {
				if (xdp_md_fields[k].off != in->off)
					continue;
				in->off = skiff_ctx_fields[k].off;
				in->code = EBPF_LDX | EBPF_MEM |
					   skiff_ctx_fields[k].size;
				break;
			}
		}
		p->ctx_rewritten = true;
	}
	free(aux);
	return rc;
}

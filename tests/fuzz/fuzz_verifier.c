/* The verifier fuzzer: soundness tested, not argued. Each input is decoded
 * into an instruction-level program (structure-aware: mostly valid
 * opcodes, registers that hold the context, packet, stack and map value
 * pointers, offsets near the packet, stack and map value sizes, bounds
 * checks, map lookups, helper calls, jumps and exits, plus some raw
 * random instructions), with one array map and one hash map attached.
 * Every program the verifier accepts is then run
 *  - in the interpreter built with checked accesses (fuzz_verifier_hooks.h):
 *    every load, store, atomic and helper memory argument must fall inside
 *    one region it may touch (packet, stack, map value, or the read-only
 *    context), and an instruction budget turns an endless loop into a
 *    report instead of a hang;
 *  - JIT-compiled, twice: with the packet, the context and every map value
 *    on guarded pages (PROT_NONE around them, the context read-only),
 *    once ending at the guard page after them and once starting right
 *    after the guard page before them, so that an access outside them
 *    faults.
 * r0, the packet bytes and the map values must agree between the three
 * runs. Any out-of-object access, fault, trap or difference is a verifier
 * bug: the libFuzzer build aborts (make fuzz-verifier), the counting build
 * (FUZZ_VERIFIER_COUNT: make verifier-fuzz-check) prints the program as an
 * instruction array and goes on.
 *
 * The maps are this file's own (same API as net/ebpf/maps.c), so that
 * every value slot sits on its own guarded pages. */
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ebpf/ebpf.h"
#include "kernel/kerrno.h"
#include "tests/fuzz/fuzz_verifier_hooks.h"

#define PAGE	       4096
#define FZ_MAX_INSNS   192
#define FZ_MAX_PKT     160
#define FZ_META	       8 /* data_meta bytes before the packet */
#define FZ_ENTRIES     4
#define FZ_ARRAY_VALUE 24
#define FZ_HASH_KEY    8
#define FZ_HASH_VALUE  16

uint64_t clock_ns(void)
{
	return 12345;
}

/* ---- guarded memory ------------------------------------------------------ */

/* size bytes with a PROT_NONE page on each side: at_end puts them against
 * the guard after them, otherwise against the guard before them. */
static uint8_t *guarded(size_t size, bool at_end)
{
	size_t pages = (size + PAGE - 1) / PAGE;
	uint8_t *base;

	if (pages == 0)
		pages = 1;
	base = mmap(NULL, (pages + 2) * PAGE, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED ||
	    mprotect(base + PAGE, pages * PAGE, PROT_READ | PROT_WRITE)) {
		perror("fuzz_verifier: mmap");
		abort();
	}
	return at_end ? base + PAGE + pages * PAGE - size : base + PAGE;
}

/* ---- maps ------------------------------------------------------------------
 * Placement 0 and 1 of every value slot: ending at a guard page, and
 * starting after one. Each run uses one placement (fz_place). */
static int fz_place;

struct fz_map {
	uint8_t *slot[2][FZ_ENTRIES];
	uint8_t key[FZ_ENTRIES][FZ_HASH_KEY];
	bool used[FZ_ENTRIES];
};

int ebpf_map_create(const char *name, uint32_t type, uint32_t key_size,
		    uint32_t value_size, uint32_t max_entries,
		    struct ebpf_map **out)
{
	struct ebpf_map *m = calloc(1, sizeof(*m));
	struct fz_map *f = calloc(1, sizeof(*f));

	if (!m || !f || max_entries > FZ_ENTRIES || key_size > FZ_HASH_KEY)
		abort();
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->type = type;
	m->key_size = key_size;
	m->value_size = value_size;
	m->max_entries = max_entries;
	m->impl = f;
	for (int p = 0; p < 2; p++)
		for (uint32_t i = 0; i < max_entries; i++)
			f->slot[p][i] = guarded(value_size, p == 0);
	*out = m;
	return 0;
}

void ebpf_map_free(struct ebpf_map *m)
{
	(void)m; /* the two maps live as long as the process */
}

uint32_t ebpf_map_count(const struct ebpf_map *m)
{
	const struct fz_map *f = m->impl;
	uint32_t n = 0;

	if (m->type == EBPF_MAP_ARRAY)
		return m->max_entries;
	for (uint32_t i = 0; i < m->max_entries; i++)
		n += f->used[i];
	return n;
}

static struct ebpf_map *fz_maps[2]; /* 0: array, 1: hash */
static sigjmp_buf fz_jmp;
static volatile sig_atomic_t fz_in_jit;

static int fz_find(struct ebpf_map *m, const void *key)
{
	struct fz_map *f;
	uint32_t idx;

	/* A helper called from JIT code with something else than one of
	 * the maps: a finding (the interpreter's hook checks it itself). */
	if (m != fz_maps[0] && m != fz_maps[1]) {
		if (!fz_in_jit)
			abort();
		fz_in_jit = 0;
		siglongjmp(fz_jmp, 1);
	}
	f = m->impl;

	if (m->type == EBPF_MAP_ARRAY) {
		memcpy(&idx, key, 4);
		return idx < m->max_entries ? (int)idx : -1;
	}
	for (uint32_t i = 0; i < m->max_entries; i++)
		if (f->used[i] && !memcmp(f->key[i], key, m->key_size))
			return (int)i;
	return -1;
}

void *ebpf_map_lookup(struct ebpf_map *m, const void *key)
{
	int i = fz_find(m, key);

	return i < 0 ? NULL : ((struct fz_map *)m->impl)->slot[fz_place][i];
}

int ebpf_map_update(struct ebpf_map *m, const void *key, const void *value,
		    uint64_t flags)
{
	int i = fz_find(m, key);
	struct fz_map *f = m->impl;

	if (flags > EBPF_EXIST)
		return -EINVAL;
	if (m->type == EBPF_MAP_ARRAY && i < 0)
		return -E2BIG;
	if (i >= 0 && flags == EBPF_NOEXIST)
		return -EEXIST;
	if (i < 0) {
		if (flags == EBPF_EXIST)
			return -ENOENT;
		for (uint32_t k = 0; k < m->max_entries && i < 0; k++)
			if (!f->used[k])
				i = (int)k;
		if (i < 0)
			return -E2BIG;
		f->used[i] = true;
		memcpy(f->key[i], key, m->key_size);
	}
	memmove(f->slot[fz_place][i], value, m->value_size);
	return 0;
}

/* The fuzzer's maps are arrays and hashes: the verifier refuses
 * bpf_redirect_map on them, so no XSKMAP slot is ever read. */
uint32_t ebpf_xskmap_get(struct ebpf_map *m, uint32_t idx)
{
	(void)m;
	(void)idx;
	return 0;
}

int ebpf_map_delete(struct ebpf_map *m, const void *key)
{
	int i = fz_find(m, key);
	struct fz_map *f = m->impl;

	if (m->type == EBPF_MAP_ARRAY)
		return -EINVAL;
	if (i < 0)
		return -ENOENT;
	f->used[i] = false;
	return 0;
}

/* ---- the world a program runs in ----------------------------------------- */
static uint8_t *fz_pkt_buf[2]; /* FZ_MAX_PKT bytes, each placement */
static struct ebpf_xdp_ctx *fz_ctx[2];

struct fz_region {
	uint64_t lo, hi;
	bool write;
};
static struct fz_region fz_regions[3 + 2 * FZ_ENTRIES];
static int fz_nregions;

/* The state every run starts from, and what a run left behind. */
struct fz_state {
	uint8_t pkt[FZ_MAX_PKT];
	uint32_t pkt_len;
	uint8_t values[2][FZ_ENTRIES][FZ_ARRAY_VALUE];
	bool used[FZ_ENTRIES];
	uint8_t keys[FZ_ENTRIES][FZ_HASH_KEY];
	uint64_t r0;
};

static void fz_init_world(void)
{
	if (fz_maps[0])
		return;
	ebpf_map_create("arr", EBPF_MAP_ARRAY, 4, FZ_ARRAY_VALUE, FZ_ENTRIES,
			&fz_maps[0]);
	ebpf_map_create("hash", EBPF_MAP_HASH, FZ_HASH_KEY, FZ_HASH_VALUE,
			FZ_ENTRIES, &fz_maps[1]);
	for (int p = 0; p < 2; p++) {
		fz_pkt_buf[p] = guarded(FZ_META + FZ_MAX_PKT, p == 0);
		fz_ctx[p] = (struct ebpf_xdp_ctx *)guarded(
		    sizeof(struct ebpf_xdp_ctx), true);
	}
}

/* Puts state s into the world at placement p and lists the regions. */
static void fz_load(const struct fz_state *s, int p)
{
	uint8_t *pkt;
	struct ebpf_xdp_ctx *c = fz_ctx[p];

	fz_place = p;
	/* Placement 0: the packet ends at the guard page; 1: its FZ_META
	 * bytes of metadata (data_meta to data) start right after the one
	 * before it. */
	pkt = p == 0 ? fz_pkt_buf[0] + FZ_META + FZ_MAX_PKT - s->pkt_len
		     : fz_pkt_buf[1] + FZ_META;
	memcpy(pkt, s->pkt, s->pkt_len);
	memset(pkt - FZ_META, 0x5a, FZ_META);
	if (mprotect((void *)((uintptr_t)c & ~(uintptr_t)(PAGE - 1)), PAGE,
		     PROT_READ | PROT_WRITE))
		abort();
	memset(c, 0, sizeof(*c));
	c->data = pkt;
	c->data_meta = pkt - FZ_META;
	c->data_end = pkt + s->pkt_len;
	c->ingress_ifindex = 1;
	c->rx_queue_index = 2;
	c->csum_flags = 1;
	if (mprotect((void *)((uintptr_t)c & ~(uintptr_t)(PAGE - 1)), PAGE,
		     PROT_READ))
		abort();
	fz_nregions = 0;
	fz_regions[fz_nregions++] =
	    (struct fz_region){(uintptr_t)pkt, (uintptr_t)pkt + s->pkt_len, 1};
	fz_regions[fz_nregions++] =
	    (struct fz_region){(uintptr_t)pkt - FZ_META, (uintptr_t)pkt, 1};
	fz_regions[fz_nregions++] =
	    (struct fz_region){(uintptr_t)c, (uintptr_t)c + sizeof(*c), false};
	for (int m = 0; m < 2; m++) {
		struct fz_map *f = fz_maps[m]->impl;

		for (int i = 0; i < FZ_ENTRIES; i++) {
			memcpy(f->slot[p][i], s->values[m][i],
			       fz_maps[m]->value_size);
			fz_regions[fz_nregions++] = (struct fz_region){
			    (uintptr_t)f->slot[p][i],
			    (uintptr_t)f->slot[p][i] + fz_maps[m]->value_size,
			    true};
		}
		if (m == 1) {
			memcpy(f->used, s->used, sizeof(f->used));
			memcpy(f->key, s->keys, sizeof(f->key));
		}
	}
}

/* What the run left behind at placement p. */
static void fz_save(struct fz_state *s, int p, uint64_t r0)
{
	const struct ebpf_xdp_ctx *c = fz_ctx[p];
	struct fz_map *h = fz_maps[1]->impl;

	memcpy(s->pkt, c->data, s->pkt_len);
	for (int m = 0; m < 2; m++) {
		struct fz_map *f = fz_maps[m]->impl;

		for (int i = 0; i < FZ_ENTRIES; i++)
			memcpy(s->values[m][i], f->slot[p][i],
			       fz_maps[m]->value_size);
	}
	memcpy(s->used, h->used, sizeof(s->used));
	memcpy(s->keys, h->key, sizeof(s->keys));
	s->r0 = r0;
}

/* The interpreter's hooks. */
static const char *fz_fault;
static uint64_t fz_fault_addr, fz_fault_size;
static uint32_t fz_trap_pc;

int fz_access_ok(uint64_t fp, uint64_t addr, uint64_t size, bool write)
{
	if (addr >= fp - EBPF_STACK_SIZE && addr + size <= fp &&
	    addr + size >= addr)
		return 1;
	for (int i = 0; i < fz_nregions; i++)
		if (addr >= fz_regions[i].lo &&
		    addr + size <= fz_regions[i].hi && addr + size >= addr) {
			if (write && !fz_regions[i].write)
				break;
			return 1;
		}
	fz_fault =
	    write ? "write outside every object" : "read outside every object";
	fz_fault_addr = addr;
	fz_fault_size = size;
	return 0;
}

static struct ebpf_map *fz_map_of(uint64_t v)
{
	for (int m = 0; m < 2; m++)
		if (v == (uintptr_t)fz_maps[m])
			return fz_maps[m];
	return NULL;
}

int fz_call_ok(uint64_t fp, int32_t id, const uint64_t *r)
{
	struct ebpf_map *m;

	switch (id) {
	case EBPF_FUNC_map_lookup_elem:
	case EBPF_FUNC_map_delete_elem:
	case EBPF_FUNC_map_update_elem:
		m = fz_map_of(r[1]);
		if (!m) {
			fz_fault = "map helper without a map";
			return 0;
		}
		if (!fz_access_ok(fp, r[2], m->key_size, false))
			return 0;
		if (id == EBPF_FUNC_map_update_elem)
			return fz_access_ok(fp, r[3], m->value_size, false);
		return 1;
	case EBPF_FUNC_csum_diff:
		/* The helper reads nothing when the sizes are bad. */
		if ((r[2] | r[4]) & 3 || r[2] > 512 || r[4] > 512)
			return 1;
		return (!r[2] || fz_access_ok(fp, r[1], r[2], false)) &&
		       (!r[4] || fz_access_ok(fp, r[3], r[4], false));
	default:
		return 1;
	}
}

/* ---- the program generator ------------------------------------------------
 */
struct fz_in {
	const uint8_t *d;
	size_t n, i;
};

static uint32_t u8(struct fz_in *in)
{
	return in->i < in->n ? in->d[in->i++] : 0;
}

static uint32_t u32(struct fz_in *in)
{
	uint32_t v = u8(in);

	v |= u8(in) << 8;
	v |= u8(in) << 16;
	return v | u8(in) << 24;
}

struct fz_prog {
	bool v4;    /* may use the cpu v4 forms */
	bool loops; /* may jump backwards */
	struct ebpf_insn in[FZ_MAX_INSNS + 8];
	bool to_end[FZ_MAX_INSNS + 8]; /* a jump to the final exit */
	uint32_t n;
};

static void put(struct fz_prog *p, uint8_t code, uint8_t dst, uint8_t src,
		int16_t off, int32_t imm)
{
	if (p->n < FZ_MAX_INSNS + 8)
		p->in[p->n++] = (struct ebpf_insn){.code = code,
						   .dst = dst,
						   .src = src,
						   .off = off,
						   .imm = imm};
}

/* Registers, biased to where the generator keeps pointers: r6 context,
 * r2/r4 packet, r3 packet end, r7/r8 map values, r10 stack. */
static uint8_t reg(struct fz_in *in)
{
	static const uint8_t bias[] = {0, 1, 2, 3, 4, 5, 6,  7, 8,
				       9, 2, 3, 4, 7, 8, 10, 0, 5};
	return bias[u8(in) % sizeof(bias)];
}

static uint8_t ptr_reg(struct fz_in *in) /* mostly one holding a pointer */
{
	static const uint8_t bias[] = {2, 4, 7, 8, 10, 10, 6, 2, 7, 10, 3, 0};
	return bias[u8(in) % sizeof(bias)];
}

static uint8_t reg_w(struct fz_in *in) /* a register that may be written */
{
	uint8_t r = reg(in);

	return r == 10 ? 9 : r;
}

static int32_t imm(struct fz_in *in)
{
	static const int32_t v[] = {
	    0,	1,  -1, 2,  4,	7,  8,	 14,  16,	  20,	     24,
	    31, 32, 33, 63, 64, -4, -8,	 -16, -512,	  512,	     0xff,
	    40, 41, 54, 60, 23, 25, 160, 161, 0x7fffffff, INT32_MIN, 0xffff,
	};
	uint32_t b = u8(in);

	if (b < 224)
		return v[b % (sizeof(v) / sizeof(v[0]))];
	return (int32_t)u32(in);
}

static int16_t offset(struct fz_in *in)
{
	static const int16_t v[] = {
	    0,	 1,   2,   4,	 8,    12,   14,   16,	 20,  22,  23,
	    24,	 32,  34,  36,	 40,   -1,   -2,   -4,	 -8,  -16, -24,
	    -32, -64, -96, -512, -513, -511, -508, -504, 508, 160};
	uint32_t b = u8(in);

	if (b < 240)
		return v[b % (sizeof(v) / sizeof(v[0]))];
	return (int16_t)(u8(in) | u8(in) << 8);
}

static uint8_t size_code(struct fz_in *in)
{
	static const uint8_t s[] = {EBPF_B,  EBPF_H,  EBPF_W,
				    EBPF_DW, EBPF_DW, EBPF_W};
	return s[u8(in) % sizeof(s)];
}

static void ld_map(struct fz_prog *p, uint8_t dst, int m)
{
	put(p, EBPF_LD | EBPF_IMM | EBPF_DW, dst, EBPF_PSEUDO_MAP_FD, 0, m);
	put(p, 0, 0, 0, 0, 0);
}

/* After a call r1-r5 are gone: the packet pointers again. */
static void reload_pkt(struct fz_prog *p)
{
	put(p, EBPF_LDX | EBPF_MEM | EBPF_W, 2, 6, 0, 0);
	put(p, EBPF_LDX | EBPF_MEM | EBPF_W, 3, 6, 4, 0);
}

static void gen_alu(struct fz_prog *p, struct fz_in *in)
{
	static const uint8_t ops[] = {
	    EBPF_ADD,  EBPF_SUB, EBPF_MUL, EBPF_DIV, EBPF_OR,  EBPF_AND,
	    EBPF_LSH,  EBPF_RSH, EBPF_NEG, EBPF_MOD, EBPF_XOR, EBPF_MOV,
	    EBPF_ARSH, EBPF_END, EBPF_ADD, EBPF_SUB, EBPF_AND, EBPF_MOV,
	};
	uint8_t op = ops[u8(in) % sizeof(ops)];
	uint32_t b = u8(in);
	bool is64 = b & 1, x = b & 2;
	uint8_t dst = reg_w(in), src = reg(in);
	int16_t off = 0;
	int32_t k = imm(in);

	if (op == EBPF_NEG) {
		x = false;
		k = 0;
	} else if (op == EBPF_END) {
		static const int32_t w[] = {16, 32, 64};

		k = w[(b >> 2) % 3];
		if (is64)
			x = false;
		src = 0;
	} else if ((b & 0x30) == 0x30 && p->v4) {
		/* cpu v4: sdiv/smod, movsx */
		if (op == EBPF_DIV || op == EBPF_MOD)
			off = 1;
		if (op == EBPF_MOV && x)
			off = (int16_t)(8 << ((b >> 6) % (is64 ? 3 : 2)));
	}
	put(p, (is64 ? EBPF_ALU64 : EBPF_ALU) | op | (x ? EBPF_X : EBPF_K), dst,
	    x ? src : 0, off, x && op != EBPF_END ? 0 : k);
}

static void gen_jump(struct fz_prog *p, struct fz_in *in, bool backward)
{
	static const uint8_t ops[] = {EBPF_JEQ, EBPF_JGT,  EBPF_JGE,  EBPF_JSET,
				      EBPF_JNE, EBPF_JSGT, EBPF_JSGE, EBPF_JLT,
				      EBPF_JLE, EBPF_JSLT, EBPF_JSLE, EBPF_JA};
	uint8_t op = ops[u8(in) % sizeof(ops)];
	uint32_t b = u8(in);
	bool j32 = b & 1, x = b & 2;
	int16_t off =
	    backward ? -(int16_t)(1 + (b >> 2) % 6) : (int16_t)((b >> 2) % 6);

	if (op == EBPF_JA && !backward && (b & 0x1c)) {
		/* mostly not: it leaves code unreachable */
		op = EBPF_JNE;
	}
	if (op == EBPF_JA) {
		if (j32 && p->v4)
			put(p, EBPF_JMP32 | EBPF_JA, 0, 0, 0, off);
		else
			put(p, EBPF_JMP | EBPF_JA, 0, 0, off, 0);
	} else {
		put(p, (j32 ? EBPF_JMP32 : EBPF_JMP) | op | (x ? EBPF_X : 0),
		    reg(in), x ? reg(in) : 0, off, x ? 0 : imm(in));
	}
	if (!backward && (b & 0xe0) == 0xe0)
		p->to_end[p->n - 1] = true;
}

static void gen_one(struct fz_prog *p, struct fz_in *in)
{
	uint32_t t = u8(in) % 26;

	switch (t) {
	case 0: /* packet pointers from the context */
		put(p, EBPF_LDX | EBPF_MEM | EBPF_W, 2, 6, 0, 0);
		put(p, EBPF_LDX | EBPF_MEM | EBPF_W, 3, 6, 4, 0);
		break;
	case 1: { /* a context field, sometimes a wrong one */
		uint32_t b = u8(in);
		int16_t off = b < 200 ? (int16_t)(4 * (b % 6)) : offset(in);

		put(p, EBPF_LDX | EBPF_MEM | (b & 1 ? size_code(in) : EBPF_W),
		    reg_w(in), 6, off, 0);
		break;
	}
	case 2: { /* bounds check: r4 = r2 + k; if r4 > r3 goto end */
		uint8_t a = u8(in) & 1 ? 4 : reg_w(in);
		uint32_t b = u8(in);

		put(p, EBPF_ALU64 | EBPF_MOV | EBPF_X, a, 2, 0, 0);
		put(p, EBPF_ALU64 | EBPF_ADD | EBPF_K, a, 0, 0,
		    (int32_t)(u8(in) % 72));
		if (b & 1)
			put(p, EBPF_JMP | EBPF_JGT | EBPF_X, a, 3, 0, 0);
		else
			put(p, EBPF_JMP | EBPF_JLT | EBPF_X, 3, a, 0, 0);
		p->to_end[p->n - 1] = true;
		break;
	}
	case 3: { /* map lookup; r7 or r8 = the value, if any */
		int m = (int)(u8(in) & 1);
		uint8_t keep = u8(in) & 1 ? 8 : 7;
		int32_t key = (int32_t)(u8(in) % 6);

		put(p, EBPF_ST | EBPF_MEM | (m ? EBPF_DW : EBPF_W), 10, 0,
		    m ? -8 : -4, key);
		ld_map(p, 1, m);
		put(p, EBPF_ALU64 | EBPF_MOV | EBPF_X, 2, 10, 0, 0);
		put(p, EBPF_ALU64 | EBPF_ADD | EBPF_K, 2, 0, 0, m ? -8 : -4);
		put(p, EBPF_JMP | EBPF_CALL, 0, 0, 0,
		    EBPF_FUNC_map_lookup_elem);
		reload_pkt(p);
		if (u8(in) % 8) { /* the NULL check, usually */
			put(p, EBPF_JMP | EBPF_JEQ | EBPF_K, 0, 0, 0, 0);
			p->to_end[p->n - 1] = true;
		}
		put(p, EBPF_ALU64 | EBPF_MOV | EBPF_X, keep, 0, 0, 0);
		break;
	}
	case 4: /* hash map update from the stack */
		put(p, EBPF_STX | EBPF_MEM | EBPF_DW, 10, reg(in), -8, 0);
		put(p, EBPF_STX | EBPF_MEM | EBPF_DW, 10, reg(in), -24, 0);
		put(p, EBPF_STX | EBPF_MEM | EBPF_DW, 10, reg(in), -16, 0);
		ld_map(p, 1, (int)(u8(in) & 1));
		put(p, EBPF_ALU64 | EBPF_MOV | EBPF_X, 2, 10, 0, 0);
		put(p, EBPF_ALU64 | EBPF_ADD | EBPF_K, 2, 0, 0, -8);
		put(p, EBPF_ALU64 | EBPF_MOV | EBPF_X, 3, 10, 0, 0);
		put(p, EBPF_ALU64 | EBPF_ADD | EBPF_K, 3, 0, 0, -24);
		put(p, EBPF_ALU64 | EBPF_MOV | EBPF_K, 4, 0, 0,
		    (int32_t)(u8(in) % 3));
		put(p, EBPF_JMP | EBPF_CALL, 0, 0, 0,
		    u8(in) & 1 ? EBPF_FUNC_map_update_elem
			       : EBPF_FUNC_map_delete_elem);
		reload_pkt(p);
		break;
	case 5:
	case 6:
	case 7:
	case 8:
	alu:
		gen_alu(p, in);
		break;
	case 9:
	case 10: { /* load */
		uint32_t b = u8(in);

		put(p,
		    EBPF_LDX | ((b & 7) == 7 && p->v4 ? EBPF_MEMSX : EBPF_MEM) |
			size_code(in),
		    reg_w(in), ptr_reg(in), offset(in), 0);
		break;
	}
	case 11:
	case 12: { /* store */
		uint32_t b = u8(in);

		if (b & 1)
			put(p, EBPF_ST | EBPF_MEM | size_code(in), ptr_reg(in),
			    0, offset(in), imm(in));
		else
			put(p, EBPF_STX | EBPF_MEM | size_code(in), ptr_reg(in),
			    reg(in), offset(in), 0);
		break;
	}
	case 13:
	case 14:
		gen_jump(p, in, false);
		break;
	case 15: { /* atomic */
		static const int32_t ops[] = {
		    EBPF_ADD,
		    EBPF_OR,
		    EBPF_AND,
		    EBPF_XOR,
		    EBPF_ADD | EBPF_FETCH,
		    EBPF_OR | EBPF_FETCH,
		    EBPF_AND | EBPF_FETCH,
		    EBPF_XOR | EBPF_FETCH,
		    EBPF_XCHG,
		    EBPF_CMPXCHG,
		};
		uint32_t b = u8(in);

		put(p, EBPF_STX | EBPF_ATOMIC | (b & 1 ? EBPF_DW : EBPF_W),
		    ptr_reg(in), reg(in), offset(in), ops[(b >> 1) % 10]);
		break;
	}
	case 16: { /* helper call */
		uint32_t b = u8(in);

		if (b % 3 == 0) {
			put(p, EBPF_JMP | EBPF_CALL, 0, 0, 0,
			    EBPF_FUNC_ktime_get_ns);
			reload_pkt(p);
			break;
		}
		/* csum_diff(r1 ptr, r2 size, r3 ptr, r4 size, r5 seed) */
		put(p, EBPF_ALU64 | EBPF_MOV | EBPF_X, 1, reg(in), 0, 0);
		put(p, EBPF_ALU64 | EBPF_MOV | EBPF_K, 2, 0, 0,
		    (int32_t)(4 * (u8(in) % 10)));
		put(p, EBPF_ALU64 | EBPF_MOV | EBPF_X, 3, reg(in), 0, 0);
		put(p, EBPF_ALU64 | EBPF_MOV | EBPF_K, 4, 0, 0,
		    b & 4 ? imm(in) : (int32_t)(4 * (u8(in) % 10)));
		put(p, EBPF_JMP | EBPF_CALL, 0, 0, 0, EBPF_FUNC_csum_diff);
		reload_pkt(p);
		break;
	}
	case 17: /* a conditional exit: if rX op k goto +2; r0 = k; exit */
		gen_jump(p, in, false);
		p->in[p->n - 1].off = 2;
		p->to_end[p->n - 1] = false;
		put(p, EBPF_ALU64 | EBPF_MOV | EBPF_K, 0, 0, 0,
		    (int32_t)(u8(in) % 5));
		put(p, EBPF_JMP | EBPF_EXIT, 0, 0, 0, 0);
		break;
	case 18: { /* spill and fill, sometimes at another offset or size */
		int16_t o = (int16_t)(-8 * (1 + u8(in) % 8));
		uint32_t b = u8(in);

		put(p, EBPF_STX | EBPF_MEM | (b & 1 ? size_code(in) : EBPF_DW),
		    10, reg(in), o, 0);
		put(p, EBPF_LDX | EBPF_MEM | (b & 2 ? size_code(in) : EBPF_DW),
		    reg_w(in), 10,
		    (int16_t)(o + (b & 4 ? (int16_t)(u8(in) % 9) - 4 : 0)), 0);
		break;
	}
	case 20: { /* a counted loop: r9 = k; L: body; r9 -= 1; if r9 op 0 goto
		      L */
		uint32_t b = u8(in);
		uint32_t top;
		static const uint8_t lops[] = {EBPF_JNE, EBPF_JSGT, EBPF_JGT,
					       EBPF_JNE};

		if (!p->loops)
			goto alu;
		put(p, EBPF_ALU64 | EBPF_MOV | EBPF_K, 9, 0, 0,
		    (int32_t)(1 + u8(in) % 8));
		top = p->n;
		if (b & 1)
			gen_alu(p, in);
		else /* a store or load through a pointer the loop moves */
			put(p,
			    (b & 2 ? EBPF_LDX : EBPF_STX) | EBPF_MEM |
				size_code(in),
			    b & 2 ? reg_w(in) : ptr_reg(in),
			    b & 2 ? ptr_reg(in) : reg(in), offset(in), 0);
		if (b & 4)
			put(p, EBPF_ALU64 | EBPF_ADD | EBPF_K, ptr_reg(in), 0,
			    0, (int32_t)(u8(in) % 3) - 1);
		put(p, (b & 8 ? EBPF_ALU : EBPF_ALU64) | EBPF_SUB | EBPF_K, 9,
		    0, 0, 1);
		put(p,
		    (b & 16 ? EBPF_JMP32 : EBPF_JMP) | lops[(b >> 5) % 4] |
			EBPF_K,
		    9, 0, (int16_t)((int32_t)top - (int32_t)p->n - 1), 0);
		break;
	}
	case 21:   /* a variable offset into the packet, bounded by a mask */
	case 22: { /* or by a chain of JMP32 / JMP comparisons */
		static const int32_t masks[] = {7, 15, 0x3f, 0xff, -1, 0x7fff};
		uint32_t b = u8(in);
		uint8_t x = b & 1 ? 0 : 5, base = b & 2 ? 4 : 2;

		put(p, EBPF_LDX | EBPF_MEM | size_code(in), x, ptr_reg(in),
		    offset(in), 0);
		if (t == 21) {
			put(p,
			    (b & 4 ? EBPF_ALU : EBPF_ALU64) | EBPF_AND | EBPF_K,
			    x, 0, 0, masks[(b >> 3) % 6]);
		} else {
			gen_jump(p, in, false);
			p->in[p->n - 1].dst = x;
			p->to_end[p->n - 1] = true;
			gen_jump(p, in, false);
			p->in[p->n - 1].dst = x;
			p->to_end[p->n - 1] = true;
		}
		if (b & 0x40) { /* into a map value instead */
			put(p, EBPF_ALU64 | EBPF_ADD | EBPF_X, b & 0x80 ? 7 : 8,
			    x, 0, 0);
			put(p, EBPF_LDX | EBPF_MEM | size_code(in), reg_w(in),
			    b & 0x80 ? 7 : 8, offset(in), 0);
			break;
		}
		put(p, EBPF_ALU64 | EBPF_ADD | EBPF_X, base, x, 0, 0);
		put(p, EBPF_ALU64 | EBPF_MOV | EBPF_X, 9, base, 0, 0);
		put(p, EBPF_ALU64 | EBPF_ADD | EBPF_K, 9, 0, 0,
		    (int32_t)(u8(in) % 16));
		put(p, EBPF_JMP | (b & 0x20 ? EBPF_JGT : EBPF_JGE) | EBPF_X, 9,
		    3, 0, 0);
		p->to_end[p->n - 1] = true;
		put(p,
		    (b & 0x10 ? EBPF_STX : EBPF_LDX) | EBPF_MEM | size_code(in),
		    b & 0x10 ? base : reg_w(in), b & 0x10 ? reg(in) : base,
		    (int16_t)(u8(in) % 16) - 2, 0);
		break;
	}
	case 23: { /* a lookup whose result is spilled, checked, filled */
		int m = (int)(u8(in) & 1);
		uint32_t b = u8(in);
		int16_t slot = (int16_t)(-8 * (3 + b % 4));

		put(p, EBPF_ST | EBPF_MEM | (m ? EBPF_DW : EBPF_W), 10, 0,
		    m ? -8 : -4, (int32_t)(u8(in) % 6));
		ld_map(p, 1, m);
		put(p, EBPF_ALU64 | EBPF_MOV | EBPF_X, 2, 10, 0, 0);
		put(p, EBPF_ALU64 | EBPF_ADD | EBPF_K, 2, 0, 0, m ? -8 : -4);
		put(p, EBPF_JMP | EBPF_CALL, 0, 0, 0,
		    EBPF_FUNC_map_lookup_elem);
		reload_pkt(p);
		put(p, EBPF_STX | EBPF_MEM | EBPF_DW, 10, 0, slot, 0);
		put(p, EBPF_ALU64 | EBPF_MOV | EBPF_X, 5, 0, 0, 0);
		if (u8(in) % 8) {
			put(p,
			    EBPF_JMP | (b & 16 ? EBPF_JEQ : EBPF_JNE) | EBPF_K,
			    b & 32 ? 5 : 0, 0, b & 16 ? 0 : 1, 0);
			p->to_end[p->n - 1] = !!(b & 16);
			if (!(b & 16))
				put(p, EBPF_JMP | EBPF_JA, 0, 0, 0, 0),
				    p->to_end[p->n - 1] = true;
		}
		put(p, EBPF_LDX | EBPF_MEM | (b & 64 ? EBPF_DW : size_code(in)),
		    b & 128 ? 7 : 8, 10, slot, 0);
		break;
	}
	case 24: { /* data_meta: if meta + k > data goto end; access meta */
		uint32_t b = u8(in);

		put(p, EBPF_LDX | EBPF_MEM | EBPF_W, 8, 6, 8, 0);
		put(p, EBPF_LDX | EBPF_MEM | EBPF_W, 5, 6, 0, 0);
		put(p, EBPF_ALU64 | EBPF_MOV | EBPF_X, 9, 8, 0, 0);
		put(p, EBPF_ALU64 | EBPF_ADD | EBPF_K, 9, 0, 0,
		    (int32_t)(u8(in) % 12));
		if (b & 1)
			put(p, EBPF_JMP | EBPF_JGT | EBPF_X, 9, 5, 0, 0);
		else
			put(p, EBPF_JMP | EBPF_JLT | EBPF_X, 5, 9, 0, 0);
		p->to_end[p->n - 1] = true;
		put(p, (b & 2 ? EBPF_STX : EBPF_LDX) | EBPF_MEM | size_code(in),
		    b & 2 ? 8 : reg_w(in), b & 2 ? reg(in) : 8,
		    (int16_t)(u8(in) % 12) - 2, 0);
		break;
	}
	case 25: /* a jump to a shared join point (pruning), then more */
		gen_jump(p, in, false);
		gen_alu(p, in);
		break;
	default: /* a backward jump, or a raw instruction */
		if (p->loops) {
			gen_jump(p, in, true);
		} else if (u8(in) % 8 == 0) {
			struct ebpf_insn r;
			uint32_t w = u32(in);

			memcpy(&r, &w, 4);
			r.imm = imm(in);
			r.dst %= 11;
			r.src %= 11;
			put(p, r.code, r.dst, r.src, r.off, r.imm);
		} else {
			gen_alu(p, in);
		}
		break;
	}
}

/* Decodes a whole program (the packet is decoded from what follows). */
static void gen_prog(struct fz_prog *p, struct fz_in *in)
{
	uint32_t flags = u8(in), count = 1 + u8(in) % 12;

	memset(p, 0, sizeof(*p));
	p->v4 = (flags & 3) == 0;
	p->loops = (flags & 28) == 0;
	/* r6 = ctx, r2/r3 = data/data_end, r4 = data, r0, r5, r7-r9
	 * scalars, r1 the context still */
	put(p, EBPF_ALU64 | EBPF_MOV | EBPF_X, 6, 1, 0, 0);
	reload_pkt(p);
	put(p, EBPF_ALU64 | EBPF_MOV | EBPF_X, 4, 2, 0, 0);
	put(p, EBPF_ALU64 | EBPF_MOV | EBPF_K, 0, 0, 0, 0);
	put(p, EBPF_ALU64 | EBPF_MOV | EBPF_K, 5, 0, 0, (int32_t)(flags >> 4));
	put(p, EBPF_ALU64 | EBPF_MOV | EBPF_K, 7, 0, 0, 1);
	put(p, EBPF_ALU64 | EBPF_MOV | EBPF_K, 8, 0, 0, -1);
	put(p, EBPF_ALU64 | EBPF_MOV | EBPF_K, 9, 0, 0, 14);
	if (flags & 32) {
		/* Usually some packet bytes are known to be there. */
		put(p, EBPF_ALU64 | EBPF_ADD | EBPF_K, 4, 0, 0,
		    (int32_t)(u8(in) % 72));
		put(p, EBPF_JMP | EBPF_JGT | EBPF_X, 4, 3, 0, 0);
		p->to_end[p->n - 1] = true;
	}
	for (uint32_t i = 0; i < count && p->n < FZ_MAX_INSNS; i++)
		gen_one(p, in);
	put(p, EBPF_ALU64 | EBPF_MOV | EBPF_K, 0, 0, 0, 2);
	put(p, EBPF_JMP | EBPF_EXIT, 0, 0, 0, 0);
	/* Jumps past the end, and those meant for it, go to the final
	 * exit (the "r0 = 2" before it, so r0 is set). */
	for (uint32_t i = 0; i < p->n; i++) {
		struct ebpf_insn *j = &p->in[i];
		uint8_t cls = EBPF_CLASS(j->code), op = EBPF_OP(j->code);
		bool gotol = cls == EBPF_JMP32 && op == EBPF_JA;
		int64_t t;

		if ((cls != EBPF_JMP && cls != EBPF_JMP32) || op == EBPF_CALL ||
		    op == EBPF_EXIT)
			continue;
		t = (int64_t)i + 1 + (gotol ? j->imm : j->off);
		if (p->to_end[i] || t > (int64_t)p->n - 2)
			t = p->n - 2;
		if (t > 0 &&
		    p->in[t - 1].code == (EBPF_LD | EBPF_IMM | EBPF_DW))
			t++;
		if (gotol)
			j->imm = (int32_t)(t - i - 1);
		else
			j->off = (int16_t)(t - i - 1);
	}
}

/* ---- running and comparing ------------------------------------------- */
uint64_t fz_generated, fz_accepted, fz_rejected, fz_bugs, fz_jitted;

static struct sigaction fz_old_segv, fz_old_bus;
static void fz_setup(void);

/* A fault in JIT code is a finding: back to fz_run_jit. Any other goes to
 * whoever handled it before (the sanitizers, libFuzzer). */
static void fz_segv(int sig, siginfo_t *si, void *uc)
{
	const struct sigaction *old =
	    sig == SIGSEGV ? &fz_old_segv : &fz_old_bus;

	if (fz_in_jit) {
		fz_in_jit = 0;
		fz_fault_addr = (uintptr_t)si->si_addr;
		siglongjmp(fz_jmp, sig);
	}
	if (old->sa_flags & SA_SIGINFO) {
		old->sa_sigaction(sig, si, uc);
	} else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
		old->sa_handler(sig);
	} else {
		signal(sig, SIG_DFL); /* the fault repeats and kills us */
	}
}

static void fz_dump(const struct ebpf_insn *in, uint32_t n, const char *why)
{
	fprintf(stderr, "verifier bug: %s\n", why);
	if (fz_fault && !strncmp(why, "interp", 6))
		fprintf(stderr, "  (at insn %u)\n", fz_trap_pc);
	if (fz_fault)
		fprintf(stderr, "  (%s: %#llx, %llu bytes)\n", fz_fault,
			(unsigned long long)fz_fault_addr,
			(unsigned long long)fz_fault_size);
	fprintf(stderr, "  /* code, dst, src, off, imm */\n");
	for (uint32_t i = 0; i < n; i++)
		fprintf(stderr, "  {0x%02x, %u, %u, %d, %d}, /* %u */\n",
			in[i].code, in[i].dst, in[i].src, in[i].off, in[i].imm,
			i);
}

static int fz_states_differ(const struct fz_state *a, const struct fz_state *b)
{
	return a->r0 != b->r0 || memcmp(a->pkt, b->pkt, a->pkt_len) ||
	       memcmp(a->values, b->values, sizeof(a->values)) ||
	       memcmp(a->used, b->used, sizeof(a->used)) ||
	       memcmp(a->keys, b->keys, sizeof(a->keys));
}

/* One JIT run at placement p. 0, or nonzero after a fault. */
static int fz_run_jit(struct ebpf_prog *prog, const struct fz_state *init,
		      struct fz_state *out, int p)
{
	volatile uint64_t r0 = 0;

	*out = *init;
	fz_load(init, p);
	if (sigsetjmp(fz_jmp, 1))
		return 1;
	fz_in_jit = 1;
	r0 = prog->jitted(fz_ctx[p]);
	fz_in_jit = 0;
	fz_save(out, p, r0);
	return 0;
}

/* Verifies insns and, when accepted, runs them three ways from init.
 * NULL when nothing is wrong (*accepted says whether it ran), else what
 * is wrong. */
static const char *fz_check(const struct ebpf_insn *insns, uint32_t n,
			    const struct fz_state *init, bool *accepted)
{
	static struct ebpf_insn copy[FZ_MAX_INSNS + 8];
	struct ebpf_prog prog;
	struct fz_state si, sj;
	char err[200];
	uint64_t r0 = 0;
	const char *bug = NULL;
	int rc;

	memcpy(copy, insns, n * sizeof(copy[0]));
	memset(&prog, 0, sizeof(prog));
	snprintf(prog.name, sizeof(prog.name), "fuzz");
	prog.insns = copy;
	prog.ninsns = n;
	prog.maps[0] = fz_maps[0];
	prog.maps[1] = fz_maps[1];
	prog.nmaps = 2;
	*accepted = false;
	if (ebpf_prog_prepare(&prog, err, sizeof(err))) {
		if (getenv("FUZZ_VERIFIER_REASONS"))
			fprintf(stderr, "refused: %s\n", err);
		return NULL;
	}
	*accepted = true;

	fz_fault = NULL;
	si = *init;
	fz_load(init, 0);
	rc = ebpf_interp_exec(&prog, fz_ctx[0], &r0, &fz_trap_pc);
	if (rc == -EFAULT)
		return "interpreter: access outside every object";
	if (rc == -E2BIG)
		return "interpreter: instruction budget exhausted (endless "
		       "loop)";
	if (rc)
		return "interpreter trapped on an accepted program";
	fz_save(&si, 0, r0);

	rc = ebpf_jit(&prog);
	if (rc == 0) {
		fz_jitted++;
		for (int p = 0; p < 2 && !bug; p++) {
			if (fz_run_jit(&prog, init, &sj, p))
				bug = "JIT code faulted (outside the guarded "
				      "objects)";
			else if (fz_states_differ(&si, &sj))
				bug = p == 0 ? "interpreter and JIT differ"
					     : "JIT result depends on where "
					       "the objects are";
		}
	} else if (rc != -ENOTSUP) {
		bug = "the JIT refused it (an invalid instruction the "
		      "verifier let through)";
	}
	ebpf_jit_free(&prog);
	return bug;
}

/* Shrinks a failing program for the report: each instruction in turn
 * becomes a no-op (ja +0) when the program still fails the same way, and
 * the no-ops are then removed (jumps across them adjusted). */
static uint32_t fz_minimize(struct ebpf_insn *in, uint32_t n,
			    const struct fz_state *init, const char *bug)
{
	static const struct ebpf_insn nop = {.code = EBPF_JMP | EBPF_JA};
	uint32_t map[FZ_MAX_INSNS + 9], m = 0;
	bool acc;

	for (uint32_t i = 0; i + 1 < n; i++) {
		struct ebpf_insn keep = in[i];
		const char *b;

		if (i > 0 && in[i - 1].code == (EBPF_LD | EBPF_IMM | EBPF_DW))
			continue; /* second half: goes with the first */
		in[i] = nop;
		if (keep.code == (EBPF_LD | EBPF_IMM | EBPF_DW)) {
			struct ebpf_insn hi = in[i + 1];

			in[i + 1] = nop;
			b = fz_check(in, n, init, &acc);
			if (!b || strcmp(b, bug)) {
				in[i] = keep;
				in[i + 1] = hi;
			}
			continue;
		}
		b = fz_check(in, n, init, &acc);
		if (!b || strcmp(b, bug))
			in[i] = keep;
	}
	/* Remove the no-ops: map[i] is the new index of old instruction i
	 * (of the next kept one, for a removed one). */
	for (uint32_t i = 0; i <= n; i++) {
		map[i] = m;
		if (i < n && memcmp(&in[i], &nop, sizeof(nop)))
			m++;
	}
	m = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct ebpf_insn j = in[i];
		uint8_t cls = EBPF_CLASS(j.code), op = EBPF_OP(j.code);

		if (!memcmp(&j, &nop, sizeof(nop)))
			continue;
		if ((cls == EBPF_JMP || cls == EBPF_JMP32) && op != EBPF_CALL &&
		    op != EBPF_EXIT) {
			bool gotol = cls == EBPF_JMP32 && op == EBPF_JA;
			int64_t t = (int64_t)i + 1 + (gotol ? j.imm : j.off);

			if (t >= 0 && t <= (int64_t)n) {
				int64_t d = (int64_t)map[t] - map[i] - 1;

				if (gotol)
					j.imm = (int32_t)d;
				else
					j.off = (int16_t)d;
			}
		}
		in[m++] = j;
	}
	return m;
}

/* Runs one generated program; returns 1 if it exposed a verifier bug. */
static int fz_one(const uint8_t *data, size_t size)
{
	static struct fz_prog gp;
	static struct ebpf_insn small[FZ_MAX_INSNS + 8];
	struct fz_in in = {data, size, 0};
	struct fz_state init;
	const char *bug;
	bool accepted;

	fz_setup(); /* after libFuzzer installed its handlers */
	fz_init_world();
	gen_prog(&gp, &in);

	/* The starting state: packet from the rest of the input, map
	 * values a pattern, two hash keys present. */
	memset(&init, 0, sizeof(init));
	init.pkt_len = u8(&in) % (FZ_MAX_PKT + 1);
	for (uint32_t i = 0; i < init.pkt_len; i++)
		init.pkt[i] = (uint8_t)(u8(&in) ^ (i * 13));
	for (int m = 0; m < 2; m++)
		for (int i = 0; i < FZ_ENTRIES; i++)
			for (int b = 0; b < FZ_ARRAY_VALUE; b++)
				init.values[m][i][b] =
				    (uint8_t)(m * 64 + i * 16 + b);
	for (int i = 0; i < 2; i++) {
		init.used[i] = true;
		init.keys[i][0] = (uint8_t)i;
	}

	fz_generated++;
	if (getenv("FUZZ_VERIFIER_PRINT")) /* what an input decodes to */
		fz_dump(gp.in, gp.n, "generated");
	bug = fz_check(gp.in, gp.n, &init, &accepted);
	if (accepted)
		fz_accepted++;
	else
		fz_rejected++;
	if (!bug)
		return 0;
	fz_bugs++;
	if (fz_bugs <= 5 || getenv("FUZZ_VERIFIER_VERBOSE")) {
		char why[300];
		uint32_t n;

		uint64_t jitted = fz_jitted;

		memcpy(small, gp.in, gp.n * sizeof(gp.in[0]));
		n = fz_minimize(small, gp.n, &init, bug);
		snprintf(why, sizeof(why), "%s (packet %u bytes)", bug,
			 init.pkt_len);
		fz_check(small, n, &init, &accepted); /* for fz_fault */
		fz_jitted = jitted; /* count the generated programs only */
		fz_dump(small, n, why);
	}
	return 1;
}

static void fz_stats(void)
{
	fprintf(stderr,
		"fuzz-verifier: %llu programs generated, %llu accepted, %llu "
		"refused, %llu jitted, %llu verifier bugs\n",
		(unsigned long long)fz_generated,
		(unsigned long long)fz_accepted,
		(unsigned long long)fz_rejected, (unsigned long long)fz_jitted,
		(unsigned long long)fz_bugs);
}

static void fz_setup(void)
{
	static bool done;
	struct sigaction sa;

	if (done)
		return;
	done = true;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fz_segv;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, &fz_old_segv);
	sigaction(SIGBUS, &sa, &fz_old_bus);
}

#ifndef FUZZ_VERIFIER_COUNT
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	atexit(fz_stats);
	return 0;
}

/* FUZZ_VERIFIER_KEEP_GOING=1: report and go on (to survey a verifier
 * known to be unsound) instead of stopping at the first finding. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int keep_going = -1;

	if (keep_going < 0)
		keep_going = getenv("FUZZ_VERIFIER_KEEP_GOING") != NULL;
	if (fz_one(data, size) && !keep_going) {
		fz_stats();
		abort();
	}
	if (fz_generated % 100000 == 0)
		fz_stats();
	return 0;
}
#else
#include "tests/unit/verifier_regressions.h"

/* make verifier-regressions: every program of verifier_regressions.h
 * must be refused; one that is not is run to show what goes wrong. */
static int fz_regressions(void)
{
	struct fz_state init;
	int refused = 0, accepted = 0;

	memset(&init, 0, sizeof(init));
	init.pkt_len = 64;
	for (uint32_t i = 0; i < init.pkt_len; i++)
		init.pkt[i] = (uint8_t)(i * 7);
	for (size_t k = 0; k < VERIFIER_NREGRESSIONS; k++) {
		const struct verifier_regression *r = &verifier_regressions[k];
		const char *bug;
		bool acc;

		fz_init_world();
		bug = fz_check(r->in, r->n, &init, &acc);
		if (!acc) {
			printf("ok   %s: refused\n", r->name);
			refused++;
			continue;
		}
		accepted++;
		printf("FAIL %s: accepted; %s\n     (%s)\n", r->name,
		       bug ? bug : "ran clean here", r->what);
	}
	printf("%d passed, %d failed\n", refused, accepted);
	return accepted ? 1 : 0;
}

/* make verifier-fuzz-check: N programs from a seed, no libFuzzer. */
int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 20000;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
	uint8_t buf[512];

	fz_setup();
	if (argc > 1 && !strcmp(argv[1], "regressions"))
		return fz_regressions();
	for (unsigned long i = 0; i < n; i++) {
		size_t len = 64 + (size_t)(seed >> 33) % (sizeof(buf) - 64);

		for (size_t k = 0; k < sizeof(buf); k++) {
			seed = seed * 6364136223846793005ull +
			       1442695040888963407ull;
			buf[k] = (uint8_t)(seed >> 56);
		}
		fz_one(buf, len);
	}
	fz_stats();
	/* One test: the batch (the line above has the program counts). */
	printf("%d passed, %d failed\n", fz_bugs ? 0 : 1, fz_bugs ? 1 : 0);
	return fz_bugs ? 1 : 0;
}
#endif

/* Skiff's eBPF runtime: load a BPF ELF object (clang -target bpf, Linux
 * XDP conventions), verify it, and run it in the interpreter or as x86-64
 * code from the JIT. The program's view is Linux's: struct xdp_md context,
 * enum xdp_action results, helper numbers from linux/bpf.h, maps declared
 * in a ".maps" section (BTF-style, libbpf's bpf_helpers.h). */
#ifndef SKIFF_NET_EBPF_H
#define SKIFF_NET_EBPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One eBPF instruction, as in the ELF and in linux/bpf.h. */
struct ebpf_insn {
	uint8_t code;
	uint8_t dst : 4;
	uint8_t src : 4;
	int16_t off;
	int32_t imm;
};
_Static_assert(sizeof(struct ebpf_insn) == 8, "eBPF instruction layout");

#define EBPF_MAX_INSNS	4096
#define EBPF_MAX_MAPS	8
#define EBPF_STACK_SIZE 512

/* What Skiff's hook hands a program. Programs see struct xdp_md (32-bit
 * data/data_end/...); the loader rewrites those context loads into loads
 * from this structure, the way Linux's verifier does. */
struct ebpf_xdp_ctx {
	uint8_t *data;
	uint8_t *data_end;
	uint8_t *data_meta;
	uint32_t ingress_ifindex;
	uint32_t rx_queue_index;
	uint32_t egress_ifindex;
	uint32_t csum_flags; /* virtio DATA_VALID etc., for Skiff's programs */
};

/* Numbers from linux/bpf.h. */
enum ebpf_map_type {
	EBPF_MAP_HASH = 1,
	EBPF_MAP_ARRAY = 2,
	EBPF_MAP_PERCPU_HASH = 5,
	EBPF_MAP_PERCPU_ARRAY = 6,
};

struct ebpf_map {
	char name[32];
	uint32_t type; /* enum ebpf_map_type */
	uint32_t key_size, value_size, max_entries;
	void *impl; /* maps.c private storage */
	uint64_t lookups, updates, misses;
};

struct ebpf_prog {
	char name[32];
	struct ebpf_insn *insns; /* after relocation and ctx rewriting */
	uint32_t ninsns;
	struct ebpf_map *maps[EBPF_MAX_MAPS];
	uint32_t nmaps;
	/* Set by the JIT; NULL when the program runs interpreted. */
	uint64_t (*jitted)(void *ctx);
	size_t jit_size;
	uint64_t runs;
	/* Set once ebpf_prog_prepare() rewrote the xdp_md context loads into
	 * struct ebpf_xdp_ctx loads (ebpf_load_elf does it); the verifier
	 * checks context accesses against whichever layout is in force. */
	bool ctx_rewritten;
};

/* Loads the first program in section `section` ("xdp" if NULL) of a BPF
 * ELF object, creates its maps, applies map relocations. On error returns
 * a negative errno and writes a one-line reason to err.
 * It also runs ebpf_prog_prepare() (verification + context rewriting), so
 * a program that fails the verifier fails here with "insn N: reason". */
int ebpf_load_elf(const void *elf, size_t len, const char *section,
		  struct ebpf_prog **out, char *err, size_t errlen);
void ebpf_prog_free(struct ebpf_prog *p);
/* Walks every path; on rejection returns -EINVAL and writes
 * "insn N: reason" to err. */
int ebpf_verify(const struct ebpf_prog *p, char *err, size_t errlen);
/* The reference interpreter. Runs p and returns 0 with the program's r0
 * in *ret, or traps: -EINVAL on an instruction that is not a valid RFC
 * 9669 instruction as Skiff runs it (ebpf_insn_invalid), a call to a
 * helper that does not exist, a map index without a map or a jump out of
 * the program; test builds also trap with -EFAULT (a memory access their
 * hook refused) and -E2BIG (their instruction budget ran out). *trap_pc
 * (may be NULL) gets the trapping instruction's index. */
int ebpf_interp_exec(const struct ebpf_prog *p, void *ctx, uint64_t *ret,
		     uint32_t *trap_pc);
/* ebpf_interp_exec's r0, or EBPF_XDP_ABORTED on a trap. */
uint64_t ebpf_run_interp(const struct ebpf_prog *p, void *ctx);
/* Compiles to x86-64 (W^X: sealed read-only+exec). 0, -ENOTSUP for an
 * instruction the JIT does not cover (then the interpreter runs it) or
 * -EINVAL for a program that is not well formed. */
int ebpf_jit(struct ebpf_prog *p);
/* Makes the program interpreted again and gives the code pages back
 * (ebpf_prog_free calls it). Safe on a program that was never compiled. */
void ebpf_jit_free(struct ebpf_prog *p);
static inline uint64_t ebpf_run(struct ebpf_prog *p, void *ctx)
{
	p->runs++;
	return p->jitted ? p->jitted(ctx) : ebpf_run_interp(p, ctx);
}

/* Maps (maps.c): value pointer or NULL. */
void *ebpf_map_lookup(struct ebpf_map *m, const void *key);
int ebpf_map_update(struct ebpf_map *m, const void *key, const void *value,
		    uint64_t flags);
int ebpf_map_delete(struct ebpf_map *m, const void *key);
struct ebpf_map *ebpf_prog_map(const struct ebpf_prog *p, const char *name);

/* Helper functions callable from programs, by linux/bpf.h number. */
typedef uint64_t (*ebpf_helper_fn)(uint64_t, uint64_t, uint64_t, uint64_t,
				   uint64_t);
ebpf_helper_fn ebpf_helper(int32_t id);

/* ---- additions (loader/verifier/interpreter/maps helper) ---------------- */

/* ld_imm64 with src == EBPF_PSEUDO_MAP_FD: imm is an index into
 * prog->maps; the interpreter and the JIT load that struct ebpf_map *. */
#define EBPF_PSEUDO_MAP_FD 1

/* Instruction encoding (linux/bpf_common.h, linux/bpf.h). */
#define EBPF_CLASS(c) ((c)&0x07)
#define EBPF_LD	      0x00
#define EBPF_LDX      0x01
#define EBPF_ST	      0x02
#define EBPF_STX      0x03
#define EBPF_ALU      0x04
#define EBPF_JMP      0x05
#define EBPF_JMP32    0x06
#define EBPF_ALU64    0x07
#define EBPF_SIZE(c)  ((c)&0x18)
#define EBPF_W	      0x00
#define EBPF_H	      0x08
#define EBPF_B	      0x10
#define EBPF_DW	      0x18
#define EBPF_MODE(c)  ((c)&0xe0)
#define EBPF_IMM      0x00
#define EBPF_MEM      0x60
#define EBPF_MEMSX    0x80 /* LDX only: sign-extending load (cpu v4) */
#define EBPF_ATOMIC   0xc0
#define EBPF_OP(c)    ((c)&0xf0)
#define EBPF_SRC(c)   ((c)&0x08)
#define EBPF_K	      0x00
#define EBPF_X	      0x08
/* ALU ops */
#define EBPF_ADD  0x00
#define EBPF_SUB  0x10
#define EBPF_MUL  0x20
#define EBPF_DIV  0x30
#define EBPF_OR	  0x40
#define EBPF_AND  0x50
#define EBPF_LSH  0x60
#define EBPF_RSH  0x70
#define EBPF_NEG  0x80
#define EBPF_MOD  0x90
#define EBPF_XOR  0xa0
#define EBPF_MOV  0xb0
#define EBPF_ARSH 0xc0
#define EBPF_END  0xd0 /* EBPF_K: to little endian, EBPF_X: to big endian */
/* JMP ops */
#define EBPF_JA	  0x00
#define EBPF_JEQ  0x10
#define EBPF_JGT  0x20
#define EBPF_JGE  0x30
#define EBPF_JSET 0x40
#define EBPF_JNE  0x50
#define EBPF_JSGT 0x60
#define EBPF_JSGE 0x70
#define EBPF_CALL 0x80
#define EBPF_EXIT 0x90
#define EBPF_JLT  0xa0
#define EBPF_JLE  0xb0
#define EBPF_JSLT 0xc0
#define EBPF_JSLE 0xd0
/* off of EBPF_DIV / EBPF_MOD: 1 selects sdiv / smod; off of an
 * EBPF_MOV | EBPF_X: 8, 16 or 32 selects movsx (cpu v4). */
#define EBPF_OFF_SIGNED 1

/* NULL when in is a valid RFC 9669 instruction (cpu v1-v4) that Skiff
 * runs, with every unused field zero; otherwise why not (isa.c). next is
 * the following slot (the second half of an ld_imm64), NULL at the end. */
const char *ebpf_insn_invalid(const struct ebpf_insn *in,
			      const struct ebpf_insn *next);

/* Atomic operations (imm of an EBPF_STX | EBPF_ATOMIC). */
#define EBPF_FETCH   0x01
#define EBPF_XCHG    (0xe0 | EBPF_FETCH)
#define EBPF_CMPXCHG (0xf0 | EBPF_FETCH)
/* Byte-swap encodings (linux/bpf.h names; EBPF_MEMSX is above). */
#define EBPF_TO_LE 0x00 /* EBPF_END source bit: to little endian */
#define EBPF_TO_BE 0x08 /* EBPF_END source bit: to big endian */

/* enum xdp_action, as in linux/bpf.h. */
enum ebpf_xdp_action {
	EBPF_XDP_ABORTED = 0,
	EBPF_XDP_DROP = 1,
	EBPF_XDP_PASS = 2,
	EBPF_XDP_TX = 3,
	EBPF_XDP_REDIRECT = 4,
};

/* Map update flags, as in linux/bpf.h. */
#define EBPF_ANY     0
#define EBPF_NOEXIST 1
#define EBPF_EXIST   2

/* Helper numbers (linux/bpf.h) that ebpf_helper() knows. */
#define EBPF_FUNC_map_lookup_elem 1
#define EBPF_FUNC_map_update_elem 2
#define EBPF_FUNC_map_delete_elem 3
#define EBPF_FUNC_ktime_get_ns	  5
#define EBPF_FUNC_csum_diff	  28

/* Limits the loader enforces on maps from an (untrusted) object. */
#define EBPF_MAP_MAX_KEY     256
#define EBPF_MAP_MAX_VALUE   4096
#define EBPF_MAP_MAX_ENTRIES 65536
#define EBPF_MAP_MAX_BYTES   (4u << 20)

/* Creates an empty map (array maps start zero-filled). Returns 0 or a
 * negative errno (-EINVAL for bad sizes/type, -E2BIG over the limits,
 * -ENOMEM). */
int ebpf_map_create(const char *name, uint32_t type, uint32_t key_size,
		    uint32_t value_size, uint32_t max_entries,
		    struct ebpf_map **out);
void ebpf_map_free(struct ebpf_map *m);
/* Elements present (array: max_entries). */
uint32_t ebpf_map_count(const struct ebpf_map *m);

/* Per-CPU maps (BPF_MAP_TYPE_PERCPU_ARRAY and _PERCPU_HASH, as Linux):
 * each CPU has its own copy of every element's value. From a program
 * (ebpf_map_lookup/update, i.e. the helpers) the calling CPU's copy is
 * seen, so a counter needs no atomic; an element a program inserts starts
 * with the other CPUs' copies zeroed; delete removes every copy. The
 * control side reads any CPU's copy with ebpf_map_lookup_cpu and sums.
 * The CPU count is taken when a map is created: set it first (the kernel
 * does after starting its CPUs). Default: one CPU, always CPU 0. */
#define EBPF_MAX_CPUS 64
void ebpf_set_cpus(unsigned possible, unsigned (*current)(void));
/* CPUs a map holds copies for (1 for shared maps). */
unsigned ebpf_map_ncpus(const struct ebpf_map *m);
/* The control side's view: CPU cpu's copy of key's value (shared maps:
 * the one value, cpu must be 0), NULL when absent. Counts nothing. */
void *ebpf_map_lookup_cpu(struct ebpf_map *m, const void *key, unsigned cpu);

/* A program from an instruction array (tests, hand-assembled programs):
 * copies the instructions; maps are attached by the caller through
 * p->maps/p->nmaps and are freed with the program. */
int ebpf_prog_from_insns(const char *name, const struct ebpf_insn *insns,
			 uint32_t ninsns, struct ebpf_prog **out);
/* Verifies and then rewrites the struct xdp_md context loads into struct
 * ebpf_xdp_ctx loads (pointers become 64-bit loads). ebpf_load_elf calls
 * it, so a loaded program is verified and ready for the interpreter and
 * the JIT. Returns 0 or -EINVAL with "insn N: reason" in err. */
int ebpf_prog_prepare(struct ebpf_prog *p, char *err, size_t errlen);
/* The same for an XDP program (what ebpf_load_elf does for an "xdp"
 * section, as libbpf types programs by section): r0 at every exit must
 * also be an XDP action, [XDP_ABORTED, XDP_REDIRECT], as in Linux. */
int ebpf_prog_prepare_xdp(struct ebpf_prog *p, char *err, size_t errlen);

#endif

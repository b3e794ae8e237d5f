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

#define EBPF_MAX_INSNS 4096
#define EBPF_MAX_MAPS 8
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

enum ebpf_map_type { EBPF_MAP_ARRAY = 2, EBPF_MAP_HASH = 1 }; /* linux/bpf.h */

struct ebpf_map {
	char name[32];
	uint32_t type;	      /* enum ebpf_map_type */
	uint32_t key_size, value_size, max_entries;
	void *impl;	      /* maps.c private storage */
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
};

/* Loads the first program in section `section` ("xdp" if NULL) of a BPF
 * ELF object, creates its maps, applies map relocations. On error returns
 * a negative errno and writes a one-line reason to err. */
int ebpf_load_elf(const void *elf, size_t len, const char *section,
		  struct ebpf_prog **out, char *err, size_t errlen);
void ebpf_prog_free(struct ebpf_prog *p);
/* Walks every path; on rejection returns -EINVAL and writes
 * "insn N: reason" to err. */
int ebpf_verify(const struct ebpf_prog *p, char *err, size_t errlen);
/* The reference interpreter. */
uint64_t ebpf_run_interp(const struct ebpf_prog *p, void *ctx);
/* Compiles to x86-64 (W^X: sealed read-only+exec). 0 or -ENOTSUP for an
 * instruction the JIT does not cover (then the interpreter runs it). */
int ebpf_jit(struct ebpf_prog *p);
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

#endif

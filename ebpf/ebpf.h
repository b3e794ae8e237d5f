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

/* linux/bpf.h numbers. An XSKMAP (key: u32 index, value: u32 socket id)
 * holds AF_XDP sockets for bpf_redirect_map(); programs may look an entry
 * up (NULL or not) but never write one: the verifier refuses stores into
 * its values and map_update/map_delete on it (xdp/xsk.h owns the ids). */
enum ebpf_map_type {
	EBPF_MAP_HASH = 1,
	EBPF_MAP_ARRAY = 2,
	EBPF_MAP_PERCPU_HASH = 5,
	EBPF_MAP_PERCPU_ARRAY = 6,
	EBPF_MAP_XSKMAP = 17,
};

/* Program types: which context the program gets, which context fields it
 * may read and write, which helpers it may call. The loader takes the type
 * from the ELF section name, as libbpf does ("xdp", "tc"/"classifier",
 * "socket"); a hand-assembled program sets p->type before preparing. */
enum ebpf_prog_type {
	EBPF_PROG_XDP = 0,	     /* struct xdp_md -> struct ebpf_xdp_ctx */
	EBPF_PROG_SCHED_CLS = 1,     /* TC: struct __sk_buff -> ebpf_skb_ctx */
	EBPF_PROG_SOCKET_FILTER = 2, /* struct __sk_buff, no packet pointers */
};

/* One piece of a packet that is not contiguous (an lwIP pbuf chain, a GSO
 * frame's header copy and its payloads). */
struct ebpf_frag {
	uint8_t *data;
	uint32_t len;
};

/* What the TC and socket-filter hooks hand a program. Programs see struct
 * __sk_buff; the loader rewrites its field accesses into accesses of this
 * structure (data/data_end/data_meta become 64-bit pointer loads), as
 * Linux's verifier rewrites them into struct sk_buff accesses. The first
 * block is what a program may name; the rest is the helpers' and never
 * reachable from a program (the verifier refuses any offset not in the
 * __sk_buff table). */
struct ebpf_skb_ctx {
	uint8_t *data;	    /* the first fragment: direct packet access */
	uint8_t *data_end;  /* end of the first fragment */
	uint8_t *data_meta; /* == data: Skiff keeps no metadata in front */
	uint32_t len;	    /* bytes of the whole packet, every fragment */
	uint32_t pkt_type;  /* PACKET_HOST/BROADCAST/MULTICAST/OUTGOING */
	uint32_t mark;
	uint32_t queue_mapping;
	uint32_t protocol; /* EtherType, network byte order (TC) */
	uint32_t vlan_present, vlan_tci, vlan_proto;
	uint32_t priority;
	uint32_t ingress_ifindex; /* 1 on ingress, 0 on egress */
	uint32_t ifindex;	  /* always 1: Skiff has one NIC */
	uint32_t tc_index;
	uint32_t cb[5];
	uint32_t hash;
	uint32_t tc_classid;
	uint32_t napi_id;
	uint32_t wire_len;
	uint32_t gso_segs; /* egress GSO frame: segments it carries, else 1 */
	uint32_t gso_size; /* egress GSO frame: the MSS, else 0 */
	/* ---- Skiff's own, for the helpers ---- */
	const struct ebpf_frag *frags; /* the packet; frags[0] is data.. */
	uint32_t nfrags;
	uint32_t flags; /* EBPF_SKB_* */
	/* Helper calls refused because their bytes lie beyond the writable
	 * head (bpf_skb_store_bytes, bpf_l3/l4_csum_replace: -EFAULT;
	 * bpf_skb_pull_data: -ENOMEM): the hook counts them after the run. */
	uint32_t write_refused;
};

/* ebpf_skb_ctx.flags */
#define EBPF_SKB_HEAD_WRITABLE 1 /* frags[0] may be written (TC) */
#define EBPF_SKB_CSUM_PARTIAL                                                  \
	2 /* the device finishes the L4 checksum: its                          \
	     field holds the pseudo-header sum */

/* Where the running program's last bpf_redirect() or bpf_redirect_map()
 * pointed, as Linux's per-CPU bpf_redirect_info: the hook clears it before
 * each run and reads it after TC_ACT_REDIRECT (ifindex, flags) or
 * XDP_REDIRECT (map_type, target: the XSKMAP entry's value, a socket id,
 * see xdp/xsk.h; 0 = none). */
struct ebpf_redirect_state {
	uint32_t ifindex;
	uint32_t flags; /* EBPF_F_INGRESS */
	uint32_t map_type;
	uint32_t target;
};
/* One per CPU, as Linux's: programs run on every CPU that serves a
 * queue, each reads back what its own helper call left. The name stands
 * for the running CPU's copy. */
struct ebpf_redirect_state *ebpf_redirect_info_self(void);
/* The copy of a CPU index a hook already holds (from ebpf_run_enter):
 * finding the running CPU is an indirect call, so a hook asks once per
 * frame, not once per counter. */
struct ebpf_redirect_state *ebpf_redirect_info_of(unsigned cpu);
/* The running CPU's index (0 before ebpf_set_cpus) and how many CPUs
 * have copies, for per-CPU state of the hooks above. */
unsigned ebpf_cpu_index(void);
unsigned ebpf_cpu_count(void);
/* A hook brackets each run with these (enter before it loads the program
 * pointer, exit after the run); the control side, after swapping the
 * pointer, calls ebpf_run_wait_others() before it frees the old program:
 * no other CPU is then inside it (ebpf/cpus.c). */
unsigned ebpf_run_enter(void);	  /* returns the running CPU's index */
void ebpf_run_exit(unsigned cpu); /* the index ebpf_run_enter returned */
/* false: a CPU stayed inside for seconds; the caller must then not free
 * the old program (it logs and keeps it). */
bool ebpf_run_wait_others(void);
#define ebpf_redirect_info (*ebpf_redirect_info_self())

/* A map's use counters: one copy per CPU, each written only by its CPU
 * (programs run on every CPU that serves a queue), a cache line each so
 * the CPUs do not fight over one; ebpf_map_get_counts() sums them. */
struct ebpf_map_counts {
	uint64_t lookups, updates, misses;
	uint64_t pad[5];
};
_Static_assert(sizeof(struct ebpf_map_counts) == 64, "one line per CPU");

struct ebpf_map {
	char name[32];
	uint32_t type; /* enum ebpf_map_type */
	uint32_t key_size, value_size, max_entries;
	void *impl;			/* maps.c private storage */
	struct ebpf_map_counts *counts; /* ncounts copies, by CPU */
	uint32_t ncounts;
};

/* The counters summed over the CPUs (a snapshot while they count). */
void ebpf_map_get_counts(const struct ebpf_map *m, struct ebpf_map_counts *out);
/* The calling CPU's own copy: the control side saves and restores it
 * around lookups that are not the program's (a dump). */
struct ebpf_map_counts *ebpf_map_counts_self(struct ebpf_map *m);

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
	uint8_t type; /* enum ebpf_prog_type */
};

/* Loads the first program in section `section` (if NULL: the first
 * section named "xdp*", "tc*", "classifier*" or "socket*") of a BPF
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
/* TC and socket-filter helpers (struct __sk_buff programs). */
#define EBPF_FUNC_skb_store_bytes 9
#define EBPF_FUNC_l3_csum_replace 10
#define EBPF_FUNC_l4_csum_replace 11
#define EBPF_FUNC_redirect	  23
#define EBPF_FUNC_skb_load_bytes  26
#define EBPF_FUNC_get_hash_recalc 34
#define EBPF_FUNC_skb_pull_data	  39

/* TC verdicts (linux/pkt_cls.h) and helper flags (linux/bpf.h). */
#define EBPF_TC_ACT_UNSPEC     (-1)
#define EBPF_TC_ACT_OK	       0
#define EBPF_TC_ACT_SHOT       2
#define EBPF_TC_ACT_PIPE       3
#define EBPF_TC_ACT_STOLEN     4
#define EBPF_TC_ACT_REDIRECT   7
#define EBPF_TC_ACT_TRAP       8
#define EBPF_F_RECOMPUTE_CSUM  1
#define EBPF_F_INVALIDATE_HASH 2
#define EBPF_F_HDR_FIELD_MASK  0xf
#define EBPF_F_PSEUDO_HDR      0x10
#define EBPF_F_MARK_MANGLED_0  0x20
#define EBPF_F_MARK_ENFORCE    0x40
#define EBPF_F_INGRESS	       1
#define EBPF_FUNC_redirect_map 51

/* bpf_redirect_map() flags (linux/bpf.h): the low bits are the action
 * returned when the entry is empty; BROADCAST and EXCLUDE_INGRESS are
 * devmap features Skiff refuses at run time (XDP_ABORTED, as Linux does
 * for flags it does not know). */
#define EBPF_F_ACTION_MASK     3u
#define EBPF_F_BROADCAST       (1u << 3)
#define EBPF_F_EXCLUDE_INGRESS (1u << 4)

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
/* Elements present (array: max_entries; XSKMAP: sockets in it). */
uint32_t ebpf_map_count(const struct ebpf_map *m);
/* Linux's BPF_MAP_GET_NEXT_KEY: the key after key (NULL: the first) into
 * next; -ENOENT after the last. For dumping a map from the control plane. */
int ebpf_map_next_key(struct ebpf_map *m, const void *key, void *next);
/* The socket id in XSKMAP slot idx; 0 when empty or beyond the map. */
uint32_t ebpf_xskmap_get(struct ebpf_map *m, uint32_t idx);

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
/* Verifies and rewrites against p->type's context (struct xdp_md or
 * struct __sk_buff); ebpf_prog_prepare is this for whatever p->type is.
 * The same for an XDP program (what ebpf_load_elf does for an "xdp"
 * section, as libbpf types programs by section): r0 at every exit must
 * also be an XDP action, [XDP_ABORTED, XDP_REDIRECT], as in Linux. */
int ebpf_prog_prepare_xdp(struct ebpf_prog *p, char *err, size_t errlen);

#endif

/* Programs today's verifier accepted although they break memory safety,
 * leak pointers or hold instructions that are not instructions: found by
 * the verifier fuzzer (tests/fuzz/fuzz_verifier.c) and by hand from the
 * classes of issue 11, each cut down to a few instructions. A sound
 * verifier refuses every one of them.
 *
 * The programs expect what the fuzzer attaches: maps[0] an array map (key
 * 4 bytes, value 24 bytes, 4 entries), maps[1] a hash map (key 8 bytes,
 * value 16 bytes, 4 entries); context loads use struct xdp_md offsets (as
 * before ebpf_prog_prepare). `make verifier-regressions` runs every one
 * through the verifier and, if it is accepted, through the fuzzer's
 * checked interpreter and guarded JIT to show what goes wrong. */
#ifndef SKIFF_TESTS_VERIFIER_REGRESSIONS_H
#define SKIFF_TESTS_VERIFIER_REGRESSIONS_H

#include "ebpf/ebpf.h"

struct verifier_regression {
	const char *name;
	const char *what; /* what goes wrong when it runs */
	uint32_t n;
	struct ebpf_insn in[24];
};

/* {code, dst, src, off, imm} */
static const struct verifier_regression verifier_regressions[] = {
    {"jmp32_signed_refined_as_unsigned",
     "w5 = 12 > -16 signed, so the branch the verifier takes for dead is "
     "taken: an 8-byte store at r10-4 crosses the top of the stack",
     6,
     {
	 {0xb7, 0, 0, 0, 0},	/* r0 = 0 */
	 {0xb7, 5, 0, 0, 12},	/* r5 = 12 */
	 {0x66, 5, 0, 1, -16},	/* if w5 s> -16 goto +1 */
	 {0x95, 0, 0, 0, 0},	/* exit */
	 {0x7a, 10, 0, -4, 33}, /* *(u64 *)(r10 - 4) = 33 */
	 {0x95, 0, 0, 0, 0},	/* exit */
     }},
    {"jmp32_signed_x_refined_as_unsigned",
     "w8 = -1 < 5 signed: the register form of the same bug, a store just "
     "above the stack",
     7,
     {
	 {0xb7, 0, 0, 0, 0},  /* r0 = 0 */
	 {0xb7, 5, 0, 0, 5},  /* r5 = 5 */
	 {0xb7, 8, 0, 0, -1}, /* r8 = -1 */
	 {0xce, 8, 5, 1, 0},  /* if w8 s< w5 goto +1 */
	 {0x95, 0, 0, 0, 0},  /* exit */
	 {0x72, 10, 0, 0, 1}, /* *(u8 *)(r10 + 0) = 1 */
	 {0x95, 0, 0, 0, 0},  /* exit */
     }},
    {"ptr_minus_ptr_negative",
     "data - data_end is negative, not in [0, 0x1fffe]: shifted right it "
     "is huge where the verifier has 0, and moves the stack pointer",
     9,
     {
	 {0x61, 2, 1, 0, 0},  /* r2 = data */
	 {0x61, 3, 1, 4, 0},  /* r3 = data_end */
	 {0x1f, 2, 3, 0, 0},  /* r2 -= r3 */
	 {0x77, 2, 0, 0, 17}, /* r2 >>= 17 */
	 {0xbf, 5, 10, 0, 0}, /* r5 = r10 */
	 {0x0f, 5, 2, 0, 0},  /* r5 += r2 */
	 {0x72, 5, 0, -8, 1}, /* *(u8 *)(r5 - 8) = 1 */
	 {0xb7, 0, 0, 0, 0},  /* r0 = 0 */
	 {0x95, 0, 0, 0, 0},  /* exit */
     }},
    {"stack_read_spanning_two_slots",
     "an 8-byte read at r10-12 takes the spilled 0 of the slot at r10-16 "
     "although half of it comes from the -1 at r10-8",
     10,
     {
	 {0xb7, 2, 0, 0, 0},	/* r2 = 0 */
	 {0x7b, 10, 2, -16, 0}, /* *(u64 *)(r10 - 16) = r2 */
	 {0xb7, 3, 0, 0, -1},	/* r3 = -1 */
	 {0x7b, 10, 3, -8, 0},	/* *(u64 *)(r10 - 8) = r3 */
	 {0x79, 4, 10, -12, 0}, /* r4 = *(u64 *)(r10 - 12) */
	 {0xbf, 5, 10, 0, 0},	/* r5 = r10 */
	 {0x0f, 5, 4, 0, 0},	/* r5 += r4 */
	 {0x72, 5, 0, -1, 1},	/* *(u8 *)(r5 - 1) = 1 */
	 {0xb7, 0, 0, 0, 0},	/* r0 = 0 */
	 {0x95, 0, 0, 0, 0},	/* exit */
     }},
    {"atomic_spanning_two_slots_keeps_spilled_pointer",
     "an atomic add at r10-12 changes half of the pointer spilled at "
     "r10-8, which the verifier still takes for r10",
     9,
     {
	 {0x7b, 10, 10, -8, 0}, /* *(u64 *)(r10 - 8) = r10 */
	 {0x7a, 10, 0, -16, 0}, /* *(u64 *)(r10 - 16) = 0 */
	 {0x18, 7, 0, 0, 0},	/* r7 = 0x1000000000000000 ll */
	 {0x00, 0, 0, 0, 0x10000000},
	 {0xdb, 10, 7, -12, 0x00}, /* lock *(u64 *)(r10 - 12) += r7 */
	 {0x79, 6, 10, -8, 0},	   /* r6 = *(u64 *)(r10 - 8) */
	 {0x7a, 6, 0, -16, 1},	   /* *(u64 *)(r6 - 16) = 1 */
	 {0xb7, 0, 0, 0, 0},	   /* r0 = 0 */
	 {0x95, 0, 0, 0, 0},	   /* exit */
     }},
    {"ctx_data_meta_is_a_pointer",
     "data_meta is a 64-bit pointer after the context rewrite, not a "
     "32-bit scalar: its upper half moves the stack pointer",
     7,
     {
	 {0x61, 2, 1, 8, 0},  /* r2 = data_meta */
	 {0x77, 2, 0, 0, 32}, /* r2 >>= 32 */
	 {0xbf, 5, 10, 0, 0}, /* r5 = r10 */
	 {0x0f, 5, 2, 0, 0},  /* r5 += r2 */
	 {0x72, 5, 0, -1, 1}, /* *(u8 *)(r5 - 1) = 1 */
	 {0xb7, 0, 0, 0, 0},  /* r0 = 0 */
	 {0x95, 0, 0, 0, 0},  /* exit */
     }},
    {"csum_diff_error_return",
     "bpf_csum_diff with a size that is not a multiple of 4 returns "
     "-EINVAL, not a value in [0, 0xffffffff]",
     15,
     {
	 {0x7a, 10, 0, -8, 0}, /* *(u64 *)(r10 - 8) = 0 */
	 {0xbf, 1, 10, 0, 0},  /* r1 = r10 */
	 {0x07, 1, 0, 0, -8},  /* r1 += -8 */
	 {0xb7, 2, 0, 0, 3},   /* r2 = 3 */
	 {0xbf, 3, 10, 0, 0},  /* r3 = r10 */
	 {0x07, 3, 0, 0, -8},  /* r3 += -8 */
	 {0xb7, 4, 0, 0, 4},   /* r4 = 4 */
	 {0xb7, 5, 0, 0, 0},   /* r5 = 0 */
	 {0x85, 0, 0, 0, 28},  /* call bpf_csum_diff */
	 {0x77, 0, 0, 0, 32},  /* r0 >>= 32 */
	 {0xbf, 5, 10, 0, 0},  /* r5 = r10 */
	 {0x0f, 5, 0, 0, 0},   /* r5 += r0 */
	 {0x72, 5, 0, -1, 1},  /* *(u8 *)(r5 - 1) = 1 */
	 {0xb7, 0, 0, 0, 0},   /* r0 = 0 */
	 {0x95, 0, 0, 0, 0},   /* exit */
     }},
    {"stack_pointer_stored_into_packet",
     "the frame pointer written into the packet (a pointer leak)",
     8,
     {
	 {0x61, 2, 1, 0, 0},  /* r2 = data */
	 {0x61, 3, 1, 4, 0},  /* r3 = data_end */
	 {0xbf, 4, 2, 0, 0},  /* r4 = r2 */
	 {0x07, 4, 0, 0, 14}, /* r4 += 14 */
	 {0x2d, 4, 3, 1, 0},  /* if r4 > r3 goto +1 */
	 {0x7b, 2, 10, 4, 0}, /* *(u64 *)(r2 + 4) = r10 */
	 {0xb7, 0, 0, 0, 2},  /* r0 = XDP_PASS */
	 {0x95, 0, 0, 0, 0},  /* exit */
     }},
    {"packet_pointer_stored_into_map_value",
     "a packet pointer written into an array map value (a pointer leak)",
     12,
     {
	 {0xbf, 6, 1, 0, 0},   /* r6 = r1 */
	 {0x62, 10, 0, -4, 0}, /* *(u32 *)(r10 - 4) = 0 */
	 {0x18, 1, 1, 0, 0},   /* r1 = map[0] (array) */
	 {0x00, 0, 0, 0, 0},
	 {0xbf, 2, 10, 0, 0}, /* r2 = r10 */
	 {0x07, 2, 0, 0, -4}, /* r2 += -4 */
	 {0x85, 0, 0, 0, 1},  /* call bpf_map_lookup_elem */
	 {0x15, 0, 0, 2, 0},  /* if r0 == 0 goto +2 */
	 {0x61, 2, 6, 0, 0},  /* r2 = data */
	 {0x7b, 0, 2, 0, 0},  /* *(u64 *)(r0 + 0) = r2 */
	 {0xb7, 0, 0, 0, 2},  /* r0 = XDP_PASS */
	 {0x95, 0, 0, 0, 0},  /* exit */
     }},
    {"stack_pointer_stored_into_map_by_helper",
     "bpf_map_update_elem copies a spilled frame pointer into a hash map "
     "value (a pointer leak)",
     12,
     {
	 {0x7a, 10, 0, -8, 1},	 /* *(u64 *)(r10 - 8) = 1 */
	 {0x7b, 10, 10, -24, 0}, /* *(u64 *)(r10 - 24) = r10 */
	 {0x7b, 10, 10, -16, 0}, /* *(u64 *)(r10 - 16) = r10 */
	 {0x18, 1, 1, 0, 1},	 /* r1 = map[1] (hash) */
	 {0x00, 0, 0, 0, 0},
	 {0xbf, 2, 10, 0, 0},  /* r2 = r10 */
	 {0x07, 2, 0, 0, -8},  /* r2 += -8 */
	 {0xbf, 3, 10, 0, 0},  /* r3 = r10 */
	 {0x07, 3, 0, 0, -24}, /* r3 += -24 */
	 {0xb7, 4, 0, 0, 0},   /* r4 = BPF_ANY */
	 {0x85, 0, 0, 0, 2},   /* call bpf_map_update_elem */
	 {0x95, 0, 0, 0, 0},   /* exit */
     }},
    {"spilled_pointer_read_back_partially",
     "the low half of a spilled frame pointer returned in r0 (a pointer "
     "leak)",
     3,
     {
	 {0x7b, 10, 10, -8, 0}, /* *(u64 *)(r10 - 8) = r10 */
	 {0x61, 0, 10, -8, 0},	/* r0 = *(u32 *)(r10 - 8) */
	 {0x95, 0, 0, 0, 0},	/* exit */
     }},
    {"packet_pointer_bits_tested_by_jset",
     "a branch on the low bits of the packet pointer: r0 tells where the "
     "packet is (a pointer compared with a scalar)",
     6,
     {
	 {0x61, 2, 1, 0, 0},	 /* r2 = data */
	 {0xb7, 0, 0, 0, 0},	 /* r0 = 0 */
	 {0x46, 2, 0, 1, 0xfff}, /* if w2 & 0xfff goto +1 */
	 {0x95, 0, 0, 0, 0},	 /* exit */
	 {0xb7, 0, 0, 0, 1},	 /* r0 = 1 */
	 {0x95, 0, 0, 0, 0},	 /* exit */
     }},
    {"jmp_x_with_imm_set",
     "not an instruction (RFC 9669: unused fields are zero); the "
     "interpreter traps on it",
     3,
     {
	 {0xb7, 0, 0, 0, 0},   /* r0 = 0 */
	 {0x2d, 0, 0, 0, 160}, /* if r0 > r0 goto +0, imm 160 */
	 {0x95, 0, 0, 0, 0},   /* exit */
     }},
    {"jmp_k_with_src_set",
     "not an instruction (RFC 9669: unused fields are zero); the "
     "interpreter traps on it",
     3,
     {
	 {0xb7, 0, 0, 0, 0},  /* r0 = 0 */
	 {0x65, 0, 1, 0, -1}, /* if r0 s> -1 goto +0, src r1 */
	 {0x95, 0, 0, 0, 0},  /* exit */
     }},
    {"atomic_fetch_into_r10",
     "not an instruction (r10 is read-only) in a branch the verifier "
     "prunes: the JIT refuses the whole program",
     4,
     {
	 {0xb7, 0, 0, 0, 0},	   /* r0 = 0 */
	 {0x15, 0, 0, 1, 0},	   /* if r0 == 0 goto +1 */
	 {0xdb, 10, 10, -8, 0x41}, /* r10 = atomic_fetch_or(r10 - 8) */
	 {0x95, 0, 0, 0, 0},	   /* exit */
     }},
};

#define VERIFIER_NREGRESSIONS                                                  \
	(sizeof(verifier_regressions) / sizeof(verifier_regressions[0]))

#endif

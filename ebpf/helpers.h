/* The helper functions' contracts: what each argument must be and what the
 * helper can return, declared next to the helpers themselves (helpers.c)
 * so the verifier (verifier.c) and the implementations cannot drift. */
#ifndef SKIFF_NET_EBPF_HELPERS_H
#define SKIFF_NET_EBPF_HELPERS_H

#include <stdint.h>

#include "ebpf/ebpf.h"

enum ebpf_arg {
	EBPF_ARG_NONE,	      /* not passed: not read */
	EBPF_ARG_SCALAR,      /* any initialised scalar, never a pointer */
	EBPF_ARG_MAP,	      /* a map pointer (ld_imm64 of a map) */
	EBPF_ARG_MAP_KEY,     /* key_size initialised bytes of that map */
	EBPF_ARG_MAP_VALUE,   /* value_size initialised bytes of that map */
	EBPF_ARG_MEM_OR_NULL, /* initialised stack, map value or packet
				 memory of the size in the next argument, or
				 NULL (0) when that size is 0 */
	EBPF_ARG_SIZE,	      /* that size: a scalar with known bounds */
	EBPF_ARG_CTX,	      /* the context pointer, unmodified (r1 as the
				 program got it) */
	EBPF_ARG_MEM_UNINIT,  /* stack or map value memory the helper fills
				 (even on error), of the size in the next
				 argument; the stack bytes count as written */
	EBPF_ARG_CONST_SIZE,  /* that size: a known constant, 1 or more */
};

enum ebpf_ret {
	EBPF_RET_SCALAR,	    /* a scalar in [ret_smin, ret_smax] */
	EBPF_RET_MAP_VALUE_OR_NULL, /* a value of the map in arg1, or NULL */
};

struct ebpf_helper_proto {
	int32_t id;
	const char *name;
	ebpf_helper_fn fn;
	uint8_t args[5];	    /* enum ebpf_arg for r1..r5 */
	uint8_t ret;		    /* enum ebpf_ret */
	int64_t ret_smin, ret_smax; /* covers every error return */
	/* 1 << enum ebpf_prog_type of the programs that may call it; 0:
	 * every type. */
	uint8_t prog_types;
	/* It may change the packet's bytes or extent: as in Linux, every
	 * packet pointer the program holds is invalid after the call (it
	 * must load data/data_end again and check bounds again). */
	bool pkt_changing;
};

/* The struct __sk_buff helpers (skb_helpers.c). */
uint64_t ebpf_h_skb_load_bytes(uint64_t ctx, uint64_t off, uint64_t to,
			       uint64_t len, uint64_t a5);
uint64_t ebpf_h_skb_store_bytes(uint64_t ctx, uint64_t off, uint64_t from,
				uint64_t len, uint64_t flags);
uint64_t ebpf_h_l3_csum_replace(uint64_t ctx, uint64_t off, uint64_t from,
				uint64_t to, uint64_t flags);
uint64_t ebpf_h_l4_csum_replace(uint64_t ctx, uint64_t off, uint64_t from,
				uint64_t to, uint64_t flags);
uint64_t ebpf_h_redirect(uint64_t ifindex, uint64_t flags, uint64_t a3,
			 uint64_t a4, uint64_t a5);
uint64_t ebpf_h_skb_pull_data(uint64_t ctx, uint64_t len, uint64_t a3,
			      uint64_t a4, uint64_t a5);

/* NULL when helper id may take a map of map_type (its EBPF_ARG_MAP),
 * otherwise why not. The verifier refuses the call with
 * "cannot pass map_type T into func NAME: why". */
const char *ebpf_helper_map_refused(int32_t id, uint32_t map_type);

/* The contract of helper `id`, or NULL when there is no such helper. */
const struct ebpf_helper_proto *ebpf_helper_proto(int32_t id);

#endif

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
};

/* NULL when helper id may take a map of map_type (its EBPF_ARG_MAP),
 * otherwise why not. The verifier refuses the call with
 * "cannot pass map_type T into func NAME: why". */
const char *ebpf_helper_map_refused(int32_t id, uint32_t map_type);

/* The contract of helper `id`, or NULL when there is no such helper. */
const struct ebpf_helper_proto *ebpf_helper_proto(int32_t id);

#endif

/* Helper functions a program may call, numbered as in linux/bpf.h. The
 * verifier has already checked every argument (map pointer, key and value
 * memory of the map's sizes, csum_diff buffers and lengths), so these do no
 * checking of their own beyond what Linux's do at run time. */
#include <string.h>

#include "ebpf/ebpf.h"
#include "ebpf/helpers.h"
#include "kernel/clock.h"
#include "kernel/kerrno.h"

static uint64_t h_map_lookup(uint64_t map, uint64_t key, uint64_t a3,
			     uint64_t a4, uint64_t a5)
{
	return (uint64_t)(uintptr_t)ebpf_map_lookup(
	    (struct ebpf_map *)(uintptr_t)map, (const void *)(uintptr_t)key);
}

static uint64_t h_map_update(uint64_t map, uint64_t key, uint64_t value,
			     uint64_t flags, uint64_t a5)
{
	return (uint64_t)(int64_t)ebpf_map_update(
	    (struct ebpf_map *)(uintptr_t)map, (const void *)(uintptr_t)key,
	    (const void *)(uintptr_t)value, flags);
}

static uint64_t h_map_delete(uint64_t map, uint64_t key, uint64_t a3,
			     uint64_t a4, uint64_t a5)
{
	return (uint64_t)(int64_t)ebpf_map_delete(
	    (struct ebpf_map *)(uintptr_t)map, (const void *)(uintptr_t)key);
}

static uint64_t h_ktime_get_ns(uint64_t a1, uint64_t a2, uint64_t a3,
			       uint64_t a4, uint64_t a5)
{
	return clock_ns();
}

/* bpf_csum_diff: the one's-complement sum of seed, the complement of each
 * 32-bit word of `from` and each word of `to`, folded to 32 bits (an
 * unfolded __wsum, as Linux's csum_partial returns; programs fold it to 16
 * bits themselves). Sizes are multiples of 4 and at most 512 (checked). */
static uint64_t h_csum_diff(uint64_t from, uint64_t from_size, uint64_t to,
			    uint64_t to_size, uint64_t seed)
{
	const uint8_t *f = (const uint8_t *)(uintptr_t)from;
	const uint8_t *t = (const uint8_t *)(uintptr_t)to;
	uint64_t sum = (uint32_t)seed;
	uint32_t w;

	if ((from_size | to_size) & 3 || from_size > 512 || to_size > 512)
		return (uint64_t)(int64_t)-EINVAL;
	for (uint64_t i = 0; i < from_size; i += 4) {
		memcpy(&w, f + i, 4);
		sum += (uint32_t)~w;
	}
	for (uint64_t i = 0; i < to_size; i += 4) {
		memcpy(&w, t + i, 4);
		sum += w;
	}
	while (sum >> 32)
		sum = (sum & 0xffffffffu) + (sum >> 32);
	return sum;
}

#define TC_TYPE	  (1u << EBPF_PROG_SCHED_CLS)
#define SKB_TYPES (TC_TYPE | 1u << EBPF_PROG_SOCKET_FILTER)

/* bpf_redirect_map on an XSKMAP (the verifier admits no other map): the
 * entry's socket id becomes the redirect target and the verdict is
 * XDP_REDIRECT; an empty or out-of-range entry answers the action in the
 * flags' low bits (Linux: flags & BPF_F_ACTION_MASK), unknown flags
 * XDP_ABORTED. BROADCAST is a devmap feature: aborted here too. */
static uint64_t h_redirect_map(uint64_t map, uint64_t key, uint64_t flags,
			       uint64_t a4, uint64_t a5)
{
	struct ebpf_map *m = (struct ebpf_map *)(uintptr_t)map;
	uint32_t id;

	if (flags & ~(uint64_t)EBPF_F_ACTION_MASK)
		return EBPF_XDP_ABORTED;
	id = key > UINT32_MAX ? 0 : ebpf_xskmap_get(m, (uint32_t)key);
	if (!id)
		return flags & EBPF_F_ACTION_MASK;
	ebpf_redirect_info.map_type = m->type;
	ebpf_redirect_info.target = id;
	return EBPF_XDP_REDIRECT;
}

/* Negative errno values a helper can return (Linux's MAX_ERRNO). */
#define ERRNO_MIN (-4095)

static const struct ebpf_helper_proto protos[] = {
    {EBPF_FUNC_map_lookup_elem,
     "map_lookup_elem",
     h_map_lookup,
     {EBPF_ARG_MAP, EBPF_ARG_MAP_KEY},
     EBPF_RET_MAP_VALUE_OR_NULL,
     0,
     0,
     0,
     false},
    {EBPF_FUNC_map_update_elem,
     "map_update_elem",
     h_map_update,
     {EBPF_ARG_MAP, EBPF_ARG_MAP_KEY, EBPF_ARG_MAP_VALUE, EBPF_ARG_SCALAR},
     EBPF_RET_SCALAR,
     ERRNO_MIN,
     0,
     0,
     false},
    {EBPF_FUNC_map_delete_elem,
     "map_delete_elem",
     h_map_delete,
     {EBPF_ARG_MAP, EBPF_ARG_MAP_KEY},
     EBPF_RET_SCALAR,
     ERRNO_MIN,
     0,
     0,
     false},
    {EBPF_FUNC_ktime_get_ns,
     "ktime_get_ns",
     h_ktime_get_ns,
     {0},
     EBPF_RET_SCALAR,
     INT64_MIN,
     INT64_MAX,
     0,
     false},
    /* a 32-bit sum, or -EINVAL for sizes that are not multiples of 4 or
     * exceed 512 */
    {EBPF_FUNC_csum_diff,
     "csum_diff",
     h_csum_diff,
     {EBPF_ARG_MEM_OR_NULL, EBPF_ARG_SIZE, EBPF_ARG_MEM_OR_NULL, EBPF_ARG_SIZE,
      EBPF_ARG_SCALAR},
     EBPF_RET_SCALAR,
     ERRNO_MIN,
     0xffffffffll,
     0,
     false},
    /* ---- struct __sk_buff programs (skb_helpers.c) ---- */
    /* 0 or -EFAULT (to zeroed); TC and socket filters */
    {EBPF_FUNC_skb_load_bytes,
     "skb_load_bytes",
     ebpf_h_skb_load_bytes,
     {EBPF_ARG_CTX, EBPF_ARG_SCALAR, EBPF_ARG_MEM_UNINIT, EBPF_ARG_CONST_SIZE},
     EBPF_RET_SCALAR,
     ERRNO_MIN,
     0,
     SKB_TYPES,
     false},
    /* 0, -EINVAL or -EFAULT; writes the packet: TC only */
    {EBPF_FUNC_skb_store_bytes,
     "skb_store_bytes",
     ebpf_h_skb_store_bytes,
     {EBPF_ARG_CTX, EBPF_ARG_SCALAR, EBPF_ARG_MEM_OR_NULL, EBPF_ARG_SIZE,
      EBPF_ARG_SCALAR},
     EBPF_RET_SCALAR,
     ERRNO_MIN,
     0,
     TC_TYPE,
     true},
    {EBPF_FUNC_l3_csum_replace,
     "l3_csum_replace",
     ebpf_h_l3_csum_replace,
     {EBPF_ARG_CTX, EBPF_ARG_SCALAR, EBPF_ARG_SCALAR, EBPF_ARG_SCALAR,
      EBPF_ARG_SCALAR},
     EBPF_RET_SCALAR,
     ERRNO_MIN,
     0,
     TC_TYPE,
     true},
    {EBPF_FUNC_l4_csum_replace,
     "l4_csum_replace",
     ebpf_h_l4_csum_replace,
     {EBPF_ARG_CTX, EBPF_ARG_SCALAR, EBPF_ARG_SCALAR, EBPF_ARG_SCALAR,
      EBPF_ARG_SCALAR},
     EBPF_RET_SCALAR,
     ERRNO_MIN,
     0,
     TC_TYPE,
     true},
    /* 0, or -ENOMEM when the bytes cannot be made direct-access and
     * writable (beyond the packet, or beyond the writable head) */
    {EBPF_FUNC_skb_pull_data,
     "skb_pull_data",
     ebpf_h_skb_pull_data,
     {EBPF_ARG_CTX, EBPF_ARG_SCALAR},
     EBPF_RET_SCALAR,
     ERRNO_MIN,
     0,
     TC_TYPE,
     true},
    /* TC_ACT_REDIRECT, or TC_ACT_SHOT for unknown flags */
    {EBPF_FUNC_redirect,
     "redirect",
     ebpf_h_redirect,
     {EBPF_ARG_SCALAR, EBPF_ARG_SCALAR},
     EBPF_RET_SCALAR,
     EBPF_TC_ACT_SHOT,
     EBPF_TC_ACT_REDIRECT,
     TC_TYPE,
     false},
    /* an XDP action: REDIRECT, or the flags' fallback, or ABORTED */
    {EBPF_FUNC_redirect_map,
     "redirect_map",
     h_redirect_map,
     {EBPF_ARG_MAP, EBPF_ARG_SCALAR, EBPF_ARG_SCALAR},
     EBPF_RET_SCALAR,
     EBPF_XDP_ABORTED,
     EBPF_XDP_REDIRECT,
     1u << EBPF_PROG_XDP,
     false},
};

const char *ebpf_helper_map_refused(int32_t id, uint32_t map_type)
{
	/* Linux's check_map_func_compatibility, both directions, for the
	 * map types Skiff has. */
	if (id == EBPF_FUNC_redirect_map && map_type != EBPF_MAP_XSKMAP)
		return "bpf_redirect_map needs an XSKMAP";
	if (map_type == EBPF_MAP_XSKMAP && id != EBPF_FUNC_redirect_map &&
	    id != EBPF_FUNC_map_lookup_elem)
		return "an XSKMAP is written only by the control plane";
	return NULL;
}

const struct ebpf_helper_proto *ebpf_helper_proto(int32_t id)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].id == id)
			return &protos[i];
	return NULL;
}

ebpf_helper_fn ebpf_helper(int32_t id)
{
	const struct ebpf_helper_proto *p = ebpf_helper_proto(id);

	return p ? p->fn : NULL;
}

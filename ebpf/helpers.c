/* Helper functions a program may call, numbered as in linux/bpf.h. The
 * verifier has already checked every argument (map pointer, key and value
 * memory of the map's sizes, csum_diff buffers and lengths), so these do no
 * checking of their own beyond what Linux's do at run time. */
#include <string.h>

#include "ebpf/ebpf.h"
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

ebpf_helper_fn ebpf_helper(int32_t id)
{
	switch (id) {
	case EBPF_FUNC_map_lookup_elem:
		return h_map_lookup;
	case EBPF_FUNC_map_update_elem:
		return h_map_update;
	case EBPF_FUNC_map_delete_elem:
		return h_map_delete;
	case EBPF_FUNC_ktime_get_ns:
		return h_ktime_get_ns;
	case EBPF_FUNC_csum_diff:
		return h_csum_diff;
	default:
		return NULL;
	}
}

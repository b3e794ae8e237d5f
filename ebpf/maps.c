/* eBPF maps: array, per-CPU array and hash, all memory allocated when the map
 * is created so that lookups and updates from the packet path never allocate.
 *
 * Array: max_entries values of value_size bytes (rounded up to 8), keyed by
 * a u32 index; elements always exist, so BPF_NOEXIST fails with -EEXIST and
 * delete with -EINVAL (Linux's semantics).
 * Hash: chaining over a power-of-two bucket array, with a pool of
 * max_entries preallocated elements kept on a free list. A value pointer
 * returned by lookup stays inside the pool even if the element is deleted
 * (as with Linux's preallocated hash maps).
 * Per-CPU array: an array per CPU, one block after the other (a CPU's
 * elements are contiguous, away from the other CPUs' lines); programs see
 * the running CPU's block. Per-CPU hash: the hash above whose elements
 * hold one value per CPU after the key. */
#include <stdlib.h>
#include <string.h>

#include "ebpf/ebpf.h"
#include "kernel/kerrno.h"
#include "kernel/spinlock.h"

#define HASH_NIL 0xffffffffu

struct array_impl {
	uint32_t stride; /* value_size rounded up to 8 */
	uint32_t ncpus;	 /* 1, or the CPUs of a per-CPU array */
	uint8_t *values; /* ncpus blocks of max_entries values */
};

static bool is_array(const struct ebpf_map *m)
{
	return m->type == EBPF_MAP_ARRAY || m->type == EBPF_MAP_PERCPU_ARRAY;
}

/* Kept in struct array_impl: the arrays and the XSKMAP's socket ids. */
static bool in_array_impl(const struct ebpf_map *m)
{
	return is_array(m) || m->type == EBPF_MAP_XSKMAP;
}

static bool is_percpu(const struct ebpf_map *m)
{
	return m->type == EBPF_MAP_PERCPU_ARRAY ||
	       m->type == EBPF_MAP_PERCPU_HASH;
}

/* The copy a program sees: its CPU's in a per-CPU map. */
static unsigned prog_cpu(const struct ebpf_map *m)
{
	return is_percpu(m) ? ebpf_cpu_index() : 0;
}

/* CPU cpu's copy of element idx, or NULL (index or CPU out of range). */
static uint8_t *array_elem(struct ebpf_map *m, uint32_t idx, unsigned cpu)
{
	struct array_impl *a = m->impl;

	if (idx >= m->max_entries || cpu >= a->ncpus)
		return NULL;
	return a->values +
	       ((size_t)cpu * m->max_entries + idx) * (size_t)a->stride;
}

struct hash_impl {
	uint32_t nbuckets; /* power of two */
	/* bytes per element: next + key + ncpus values, each 8-aligned */
	uint32_t stride;
	uint32_t ncpus; /* 1, or the CPUs of a per-CPU hash */
	uint32_t count;
	uint32_t free_head;
	uint32_t *buckets;
	uint8_t *elems;
	/* Serialises inserts and deletes (chains, free list, count): programs
	 * on several CPUs and the control side may change one map at once.
	 * Lookups take no lock: like Linux's RCU readers they may see an
	 * element that is being replaced, never memory outside the map. */
	struct spinlock lock;
};

static uint32_t round8(uint32_t n)
{
	return (n + 7u) & ~7u;
}

static uint32_t hash_key_off(void)
{
	return 8; /* after the u32 next link, keeping keys 8-aligned */
}

static uint8_t *hash_elem(struct hash_impl *h, uint32_t i)
{
	return h->elems + (size_t)i * h->stride;
}

static uint32_t *hash_next(struct hash_impl *h, uint32_t i)
{
	return (uint32_t *)hash_elem(h, i);
}

/* FNV-1a: short keys, no allocation, good enough spread for a bucket. */
static uint32_t hash_bytes(const uint8_t *k, uint32_t n)
{
	uint32_t x = 2166136261u;

	for (uint32_t i = 0; i < n; i++) {
		x ^= k[i];
		x *= 16777619u;
	}
	return x;
}

int ebpf_map_create(const char *name, uint32_t type, uint32_t key_size,
		    uint32_t value_size, uint32_t max_entries,
		    struct ebpf_map **out)
{
	struct ebpf_map *m;
	uint64_t bytes;

	*out = NULL;
	if (value_size == 0 || max_entries == 0 || key_size == 0)
		return -EINVAL;
	bool array = type == EBPF_MAP_ARRAY || type == EBPF_MAP_PERCPU_ARRAY;
	bool percpu =
	    type == EBPF_MAP_PERCPU_ARRAY || type == EBPF_MAP_PERCPU_HASH;
	unsigned ncpus = percpu ? ebpf_cpu_count() : 1;
	if (array && key_size != 4)
		return -EINVAL;
	if (type == EBPF_MAP_XSKMAP && (key_size != 4 || value_size != 4))
		return -EINVAL;
	if (!array && type != EBPF_MAP_HASH && type != EBPF_MAP_PERCPU_HASH &&
	    type != EBPF_MAP_XSKMAP)
		return -EINVAL;
	if (key_size > EBPF_MAP_MAX_KEY || value_size > EBPF_MAP_MAX_VALUE ||
	    max_entries > EBPF_MAP_MAX_ENTRIES)
		return -E2BIG;
	if (array || type == EBPF_MAP_XSKMAP)
		bytes = (uint64_t)round8(value_size) * max_entries * ncpus;
	else
		bytes = (uint64_t)(8 + round8(key_size) +
				   (uint64_t)round8(value_size) * ncpus) *
			    max_entries +
			4ull * 2 * max_entries;
	if (bytes > EBPF_MAP_MAX_BYTES)
		return -E2BIG;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->ncounts = ebpf_cpu_count();
	m->counts = calloc(m->ncounts, sizeof(*m->counts));
	if (!m->counts) {
		free(m);
		return -ENOMEM;
	}
	if (name) {
		size_t n = strnlen(name, sizeof(m->name) - 1);
		memcpy(m->name, name, n);
	}
	m->type = type;
	m->key_size = key_size;
	m->value_size = value_size;
	m->max_entries = max_entries;

	if (array || type == EBPF_MAP_XSKMAP) {
		struct array_impl *a = calloc(1, sizeof(*a));
		if (!a)
			goto fail;
		a->stride = round8(value_size);
		a->ncpus = ncpus;
		a->values = calloc((size_t)max_entries * ncpus, a->stride);
		m->impl = a;
		if (!a->values)
			goto fail;
	} else {
		struct hash_impl *h = calloc(1, sizeof(*h));
		uint32_t nb = 1;

		if (!h)
			goto fail;
		m->impl = h;
		while (nb < max_entries)
			nb <<= 1;
		h->nbuckets = nb;
		h->ncpus = ncpus;
		h->stride = hash_key_off() + round8(key_size) +
			    round8(value_size) * ncpus;
		h->buckets = malloc((size_t)nb * sizeof(uint32_t));
		h->elems = calloc(max_entries, h->stride);
		if (!h->buckets || !h->elems)
			goto fail;
		for (uint32_t i = 0; i < nb; i++)
			h->buckets[i] = HASH_NIL;
		for (uint32_t i = 0; i < max_entries; i++)
			*hash_next(h, i) =
			    i + 1 < max_entries ? i + 1 : HASH_NIL;
		h->free_head = 0;
	}
	*out = m;
	return 0;
fail:
	ebpf_map_free(m);
	return -ENOMEM;
}

void ebpf_map_free(struct ebpf_map *m)
{
	if (!m)
		return;
	if (m->impl && in_array_impl(m)) {
		struct array_impl *a = m->impl;
		free(a->values);
	} else if (m->impl) {
		struct hash_impl *h = m->impl;
		free(h->buckets);
		free(h->elems);
	}
	free(m->impl);
	free(m->counts);
	free(m);
}

uint32_t ebpf_map_count(const struct ebpf_map *m)
{
	if (is_array(m))
		return m->max_entries;
	if (m->type == EBPF_MAP_XSKMAP) {
		const struct array_impl *a = m->impl;
		uint32_t n = 0;

		for (uint32_t i = 0; i < m->max_entries; i++)
			n += *(const uint32_t *)(a->values +
						 (size_t)i * a->stride) != 0;
		return n;
	}
	return ((const struct hash_impl *)m->impl)->count;
}

struct ebpf_map_counts *ebpf_map_counts_self(struct ebpf_map *m)
{
	unsigned cpu = ebpf_cpu_index();

	/* Maps are made after ebpf_set_cpus(): every CPU has its copy. */
	return &m->counts[cpu < m->ncounts ? cpu : 0];
}

void ebpf_map_get_counts(const struct ebpf_map *m, struct ebpf_map_counts *out)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < m->ncounts; i++) {
		out->lookups +=
		    __atomic_load_n(&m->counts[i].lookups, __ATOMIC_RELAXED);
		out->updates +=
		    __atomic_load_n(&m->counts[i].updates, __ATOMIC_RELAXED);
		out->misses +=
		    __atomic_load_n(&m->counts[i].misses, __ATOMIC_RELAXED);
	}
}

/* CPU cpu's value in element i, or NULL for a CPU the map has no copy
 * for. */
static uint8_t *hash_value(struct ebpf_map *m, uint32_t i, unsigned cpu)
{
	struct hash_impl *h = m->impl;

	if (cpu >= h->ncpus)
		return NULL;
	return hash_elem(h, i) + hash_key_off() + round8(m->key_size) +
	       (size_t)cpu * round8(m->value_size);
}

/* Finds key's element; *prevp gets the link that points at it. */
static uint32_t hash_find(struct ebpf_map *m, const void *key, uint32_t **prevp)
{
	struct hash_impl *h = m->impl;
	uint32_t b = hash_bytes(key, m->key_size) & (h->nbuckets - 1);
	uint32_t *link = &h->buckets[b];
	uint32_t guard = 0;

	while (*link != HASH_NIL && guard++ <= m->max_entries) {
		uint32_t i = *link;
		if (memcmp(hash_elem(h, i) + hash_key_off(), key,
			   m->key_size) == 0) {
			if (prevp)
				*prevp = link;
			return i;
		}
		link = hash_next(h, i);
	}
	if (prevp)
		*prevp = link;
	return HASH_NIL;
}

/* The socket id slot of an XSKMAP, or NULL for an index beyond it. */
static uint32_t *xskmap_slot(struct ebpf_map *m, uint32_t idx)
{
	struct array_impl *a = m->impl;

	if (idx >= m->max_entries)
		return NULL;
	return (uint32_t *)(a->values + (size_t)idx * a->stride);
}

uint32_t ebpf_xskmap_get(struct ebpf_map *m, uint32_t idx)
{
	uint32_t *slot = xskmap_slot(m, idx);

	return slot ? *slot : 0;
}

void *ebpf_map_lookup(struct ebpf_map *m, const void *key)
{
	ebpf_map_counts_self(m)->lookups++;
	if (m->type == EBPF_MAP_XSKMAP) {
		uint32_t idx, *slot;

		memcpy(&idx, key, 4);
		slot = xskmap_slot(m, idx);
		if (!slot || !*slot) {
			ebpf_map_counts_self(m)->misses++;
			return NULL;
		}
		return slot;
	}
	if (is_array(m)) {
		uint32_t idx;

		memcpy(&idx, key, 4);
		uint8_t *v = array_elem(m, idx, prog_cpu(m));
		if (!v)
			ebpf_map_counts_self(m)->misses++;
		return v;
	} else {
		uint32_t i = hash_find(m, key, NULL);
		uint8_t *v =
		    i == HASH_NIL ? NULL : hash_value(m, i, prog_cpu(m));

		if (!v)
			ebpf_map_counts_self(m)->misses++;
		return v;
	}
}

static int map_update(struct ebpf_map *m, const void *key, const void *value,
		      uint64_t flags);
static int map_delete(struct ebpf_map *m, const void *key);

int ebpf_map_update(struct ebpf_map *m, const void *key, const void *value,
		    uint64_t flags)
{
	struct hash_impl *h = m->impl;
	int err;

	if (in_array_impl(m))
		return map_update(m, key, value, flags);
	spin_lock(&h->lock);
	err = map_update(m, key, value, flags);
	spin_unlock(&h->lock);
	return err;
}

int ebpf_map_delete(struct ebpf_map *m, const void *key)
{
	struct hash_impl *h = m->impl;
	int err;

	if (in_array_impl(m))
		return map_delete(m, key);
	spin_lock(&h->lock);
	err = map_delete(m, key);
	spin_unlock(&h->lock);
	return err;
}

static int map_update(struct ebpf_map *m, const void *key, const void *value,
		      uint64_t flags)
{
	if (flags > EBPF_EXIST)
		return -EINVAL;
	if (m->type == EBPF_MAP_XSKMAP) {
		uint32_t idx, id, *slot;

		memcpy(&idx, key, 4);
		memcpy(&id, value, 4);
		if (!(slot = xskmap_slot(m, idx)))
			return -E2BIG;
		if (id == 0)
			return -EINVAL; /* no socket has id 0 */
		if (flags == EBPF_NOEXIST && *slot)
			return -EEXIST;
		if (flags == EBPF_EXIST && !*slot)
			return -ENOENT;
		*slot = id;
		ebpf_map_counts_self(m)->updates++;
		return 0;
	}
	if (is_array(m)) {
		uint32_t idx;

		memcpy(&idx, key, 4);
		if (idx >= m->max_entries)
			return -E2BIG;
		if (flags == EBPF_NOEXIST)
			return -EEXIST;
		/* A program updates its own CPU's copy (Linux's helper). */
		uint8_t *v = array_elem(m, idx, prog_cpu(m));
		if (!v)
			return -E2BIG;
		memmove(v, value, m->value_size);
		ebpf_map_counts_self(m)->updates++;
		return 0;
	} else {
		struct hash_impl *h = m->impl;
		uint32_t *link;
		uint32_t i = hash_find(m, key, &link);
		unsigned cpu = prog_cpu(m);

		if (cpu >= h->ncpus)
			return -E2BIG;
		if (i != HASH_NIL) {
			if (flags == EBPF_NOEXIST)
				return -EEXIST;
		} else {
			if (flags == EBPF_EXIST)
				return -ENOENT;
			if (h->free_head == HASH_NIL)
				return -E2BIG;
			i = h->free_head;
			uint8_t *e = hash_elem(h, i);
			h->free_head = *hash_next(h, i);
			memcpy(e + hash_key_off(), key, m->key_size);
			/* A new element: every other CPU's copy starts at 0
			 * (a freed element still holds old values). */
			memset(e + hash_key_off() + round8(m->key_size), 0,
			       (size_t)round8(m->value_size) * h->ncpus);
			*hash_next(h, i) = HASH_NIL;
			*link = i;
			h->count++;
		}
		memmove(hash_value(m, i, cpu), value, m->value_size);
		ebpf_map_counts_self(m)->updates++;
		return 0;
	}
}

static int map_delete(struct ebpf_map *m, const void *key)
{
	struct hash_impl *h;
	uint32_t *link, i;

	if (m->type == EBPF_MAP_XSKMAP) {
		uint32_t idx, *slot;

		memcpy(&idx, key, 4);
		if (!(slot = xskmap_slot(m, idx)))
			return -EINVAL;
		*slot = 0;
		return 0;
	}
	if (is_array(m))
		return -EINVAL;
	h = m->impl;
	i = hash_find(m, key, &link);
	if (i == HASH_NIL)
		return -ENOENT;
	*link = *hash_next(h, i);
	*hash_next(h, i) = h->free_head;
	h->free_head = i;
	h->count--;
	return 0;
}

int ebpf_map_next_key(struct ebpf_map *m, const void *key, void *next)
{
	if (in_array_impl(m)) {
		uint32_t idx = 0;

		if (key) {
			memcpy(&idx, key, 4);
			idx = idx >= m->max_entries ? 0 : idx + 1;
		}
		if (idx >= m->max_entries)
			return -ENOENT;
		memcpy(next, &idx, 4);
		return 0;
	}
	struct hash_impl *h = m->impl;
	uint32_t b = 0, i = HASH_NIL;

	/* After key in its chain, else the next bucket's head (a key not in
	 * the map starts from the first, as in Linux). */
	if (key && (i = hash_find(m, key, NULL)) != HASH_NIL) {
		b = (hash_bytes(key, m->key_size) & (h->nbuckets - 1)) + 1;
		i = *hash_next(h, i);
	}
	for (; i == HASH_NIL && b < h->nbuckets; b++)
		i = h->buckets[b];
	if (i == HASH_NIL)
		return -ENOENT;
	memcpy(next, hash_elem(h, i) + hash_key_off(), m->key_size);
	return 0;
}

unsigned ebpf_map_ncpus(const struct ebpf_map *m)
{
	if (in_array_impl(m))
		return ((const struct array_impl *)m->impl)->ncpus;
	return ((const struct hash_impl *)m->impl)->ncpus;
}

void *ebpf_map_lookup_cpu(struct ebpf_map *m, const void *key, unsigned cpu)
{
	if (in_array_impl(m)) {
		uint32_t idx;

		memcpy(&idx, key, 4);
		return array_elem(m, idx, cpu);
	}
	uint32_t i = hash_find(m, key, NULL);
	return i == HASH_NIL ? NULL : hash_value(m, i, cpu);
}

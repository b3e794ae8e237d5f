/* Counters declared once: each stats struct gets a table of {name, offset,
 * type} descriptors next to its definition (as Linux's virtio_net
 * virtnet_rq_stats_desc[] and DPDK's xstats name tables), and one emitter
 * writes any such struct from its table. The owner of a struct exports the
 * struct and its table; it never writes a format string per field.
 *
 * A name with dots nests: consecutive entries "rx.frames", "rx.bytes" are
 * written as "rx":{"frames":N,"bytes":N}. */
#ifndef SKIFF_KERNEL_COUNTERS_H
#define SKIFF_KERNEL_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/kbuf.h"

enum counter_type {
	COUNTER_U64,
	COUNTER_U32,
	COUNTER_BOOL,
	COUNTER_U16,
	COUNTER_U8,
};

struct counter_desc {
	const char *name; /* JSON member name, dots for nesting */
	uint16_t offset;  /* of the field in its struct */
	uint8_t type;	  /* enum counter_type */
	uint8_t count;	  /* 0: one value; n: an array of n, as [v,...] */
};

/* One table entry: COUNTER(U64, struct foo_stats, rx.frames, "rx.frames"). */
#define COUNTER(type, st, field, name)                                         \
	{                                                                      \
		name, (uint16_t)offsetof(st, field), COUNTER_##type, 0         \
	}
/* A fixed-length array field written as a JSON array of count values:
 * COUNTER_ARRAY(U64, struct foo_stats, hist, 8, "hist"). */
#define COUNTER_ARRAY(type, st, field, n, name)                                \
	{                                                                      \
		name, (uint16_t)offsetof(st, field), COUNTER_##type, n         \
	}
/* An unsigned field whose width depends on someone else's configuration
 * (lwIP's STAT_COUNTER, mem_size_t): the type follows its size. */
#define COUNTER_TYPE_OF(st, field)                                             \
	(sizeof(((st *)0)->field) == 8	 ? COUNTER_U64                         \
	 : sizeof(((st *)0)->field) == 4 ? COUNTER_U32                         \
	 : sizeof(((st *)0)->field) == 2 ? COUNTER_U16                         \
					 : COUNTER_U8)
#define COUNTER_UINT(st, field, name)                                          \
	{                                                                      \
		name, (uint16_t)offsetof(st, field),                           \
		    COUNTER_TYPE_OF(st, field), 0                              \
	}
#define COUNTERS_LEN(table) ((unsigned)(sizeof(table) / sizeof((table)[0])))

/* Writes the members of base described by the table, comma-separated,
 * without the enclosing braces (so a caller can add its own members
 * around them); first says whether nothing precedes them in the object. */
void counters_json_members(struct kbuf *b, const struct counter_desc *d,
			   unsigned n, const void *base, int first);
/* Writes base as one JSON object into buf (NUL-terminated when cap > 0);
 * returns the length of the whole object, like snprintf. */
int counters_json(char *buf, size_t cap, const struct counter_desc *d,
		  unsigned n, const void *base);

/* The console's form: for each scalar entry whose name starts with prefix
 * (e.g. "drops."), writes " rest value" ("drops." + "ring_full" gives
 * " ring_full 5"); booleans as true/false, arrays are skipped. */
void counters_text_members(struct kbuf *b, const struct counter_desc *d,
			   unsigned n, const void *base, const char *prefix);

#endif

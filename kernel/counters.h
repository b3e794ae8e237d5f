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
};

struct counter_desc {
	const char *name; /* JSON member name, dots for nesting */
	uint16_t offset;  /* of the field in its struct */
	uint8_t type;	  /* enum counter_type */
};

/* One table entry: COUNTER(U64, struct foo_stats, rx.frames, "rx.frames"). */
#define COUNTER(type, st, field, name)                                         \
	{                                                                      \
		name, (uint16_t)offsetof(st, field), COUNTER_##type            \
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

#endif

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

/* What a value means to a monitoring system: a counter only grows (until
 * the appliance restarts), a gauge goes up and down (in use now, a peak, a
 * limit in force). Booleans are always gauges. */
enum counter_kind {
	COUNTER_KIND_COUNTER,
	COUNTER_KIND_GAUGE,
};

struct counter_desc {
	const char *name; /* JSON member name, dots for nesting */
	uint16_t offset;  /* of the field in its struct */
	uint8_t type;	  /* enum counter_type */
	uint8_t count;	  /* 0: one value; n: an array of n, as [v,...] */
	uint8_t kind;	  /* enum counter_kind */
};

/* One table entry: COUNTER(U64, struct foo_stats, rx.frames, "rx.frames"). */
#define COUNTER(type, st, field, name)                                         \
	{                                                                      \
		name, (uint16_t)offsetof(st, field), COUNTER_##type, 0,        \
		    COUNTER_KIND_COUNTER                                       \
	}
/* A fixed-length array field written as a JSON array of count values:
 * COUNTER_ARRAY(U64, struct foo_stats, hist, 8, "hist"). */
#define COUNTER_ARRAY(type, st, field, n, name)                                \
	{                                                                      \
		name, (uint16_t)offsetof(st, field), COUNTER_##type, n,        \
		    COUNTER_KIND_COUNTER                                       \
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
		    COUNTER_TYPE_OF(st, field), 0, COUNTER_KIND_COUNTER        \
	}
/* The same three for gauges: GAUGE(U32, struct foo_stats, in_use, "in_use"). */
#define GAUGE(type, st, field, name)                                           \
	{                                                                      \
		name, (uint16_t)offsetof(st, field), COUNTER_##type, 0,        \
		    COUNTER_KIND_GAUGE                                         \
	}
#define GAUGE_UINT(st, field, name)                                            \
	{                                                                      \
		name, (uint16_t)offsetof(st, field),                           \
		    COUNTER_TYPE_OF(st, field), 0, COUNTER_KIND_GAUGE          \
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

/* The Prometheus form (text exposition format 0.0.4). Each table entry
 * becomes one metric family named prefix_name (dots become underscores): a
 * counter gets the suffix _total, a gauge none, each with its # HELP (where
 * in /stats the value is) and # TYPE lines. A name ending in _ms is given
 * in seconds (_seconds, value / 1000), _s as _seconds and _per_s as
 * _per_second, as Prometheus wants base units; a gauge whose name ends in
 * total ends in _all instead (the suffix _total is the counters'). */
struct counter_dim {
	/* Entries whose name starts with group ("drops.") form one family,
	 * prefix_drops, with the rest of the name as the value of label
	 * ({reason="ring_full"}). An array entry whose name is group without
	 * its dot ("rx_batch_log2") gets its index under label. */
	const char *group;
	const char *label;
};

struct counters_prom {
	const char *prefix;    /* the families' prefix: "skiff_driver" */
	const char *json_path; /* where in /stats, for # HELP: "driver" */
	const struct counter_dim *dims; /* may be NULL */
	unsigned ndims;
	/* Extra labels on every sample, written as they are (the caller
	 * escapes values with counters_prom_label): prog="count"; or NULL. */
	const char *labels;
	/* ninst structs described by the same table (lwIP's protocols, its
	 * memory pools), each sample labelled inst_label="inst_names[i]";
	 * with ninst 1 and inst_label NULL, one struct and no such label. */
	const void *const *bases;
	const char *const *inst_names;
	const char *inst_label;
	unsigned ninst;
};

/* Writes every family of the table, each family's samples together (as
 * the format requires), for every instance. */
void counters_prom(struct kbuf *b, const struct counter_desc *d, unsigned n,
		   const struct counters_prom *p);
/* Appends name="value" with value escaped as the format requires
 * (backslash, double quote, newline), preceded by a comma unless first. */
void counters_prom_label(struct kbuf *b, const char *name, const char *value,
			 int first);

#endif

/* The one counter emitter: see counters.h. Exercised through every /stats
 * member written from a table (tests/unit/test_netif.c, test_xdp_path.c;
 * byte for byte, arrays and bools included, by test_virtio_net.c's
 * net_stats_json_pinned and test_http.c's stats_json_pinned;
 * tests/qemu/test_http.py). */
#include "kernel/counters.h"

#include <string.h>

#define COUNTERS_MAX_DEPTH 4

static size_t counter_size(const struct counter_desc *d)
{
	switch (d->type) {
	case COUNTER_U32:
		return 4;
	case COUNTER_U16:
		return 2;
	case COUNTER_BOOL:
		return sizeof(_Bool);
	case COUNTER_U8:
		return 1;
	default:
		return 8;
	}
}

/* The i-th value of the field (i is 0 for a scalar). */
static unsigned long long counter_value(const struct counter_desc *d,
					const void *base, unsigned i)
{
	const char *p = (const char *)base + d->offset + i * counter_size(d);

	switch (d->type) {
	case COUNTER_U32: {
		uint32_t v;

		memcpy(&v, p, sizeof(v));
		return v;
	}
	case COUNTER_U16: {
		uint16_t v;

		memcpy(&v, p, sizeof(v));
		return v;
	}
	case COUNTER_BOOL:
		return *(const _Bool *)p;
	case COUNTER_U8:
		return *(const uint8_t *)p;
	default: {
		uint64_t v;

		memcpy(&v, p, sizeof(v));
		return v;
	}
	}
}

/* The length of the i-th dot-separated component of name, and where it
 * starts; 0 past the last one. */
static size_t component(const char *name, unsigned i, const char **start)
{
	const char *s = name;

	for (; i > 0; i--) {
		s = strchr(s, '.');
		if (!s)
			return 0;
		s++;
	}
	*start = s;
	const char *dot = strchr(s, '.');
	return dot ? (size_t)(dot - s) : strlen(s);
}

static unsigned depth_of(const char *name)
{
	unsigned n = 0;

	for (; *name; name++)
		n += *name == '.';
	return n;
}

void counters_json_members(struct kbuf *b, const struct counter_desc *d,
			   unsigned n, const void *base, int first)
{
	const char *open = NULL; /* the name whose objects are open */
	unsigned depth = 0;	 /* objects open */
	int empty = first;	 /* nothing written in the innermost yet */

	for (unsigned i = 0; i < n; i++) {
		const char *name = d[i].name;
		unsigned want = depth_of(name), same = 0;

		/* How many of the open objects this entry shares. */
		while (same < depth && same < want) {
			const char *a, *c;
			size_t la = component(open, same, &a);
			size_t lc = component(name, same, &c);

			if (la != lc || memcmp(a, c, la) != 0)
				break;
			same++;
		}
		for (; depth > same; depth--) {
			kbuf_printf(b, "}");
			empty = 0;
		}
		for (; depth < want && depth < COUNTERS_MAX_DEPTH; depth++) {
			const char *c;
			size_t lc = component(name, depth, &c);

			kbuf_printf(b, "%s\"%.*s\":{", empty ? "" : ",",
				    (int)lc, c);
			empty = 1;
		}
		const char *leaf;
		size_t ll = component(name, want, &leaf);

		if (d[i].count) {
			kbuf_printf(b, "%s\"%.*s\":[", empty ? "" : ",",
				    (int)ll, leaf);
			for (unsigned k = 0; k < d[i].count; k++)
				kbuf_printf(b, "%s%llu", k ? "," : "",
					    counter_value(&d[i], base, k));
			kbuf_printf(b, "]");
		} else if (d[i].type == COUNTER_BOOL)
			kbuf_printf(
			    b, "%s\"%.*s\":%s", empty ? "" : ",", (int)ll, leaf,
			    counter_value(&d[i], base, 0) ? "true" : "false");
		else
			kbuf_printf(b, "%s\"%.*s\":%llu", empty ? "" : ",",
				    (int)ll, leaf,
				    counter_value(&d[i], base, 0));
		empty = 0;
		open = name;
	}
	for (; depth > 0; depth--)
		kbuf_printf(b, "}");
}

int counters_json(char *buf, size_t cap, const struct counter_desc *d,
		  unsigned n, const void *base)
{
	struct kbuf b = {buf, cap, 0};

	if (cap)
		buf[0] = '\0';
	kbuf_printf(&b, "{");
	counters_json_members(&b, d, n, base, 1);
	kbuf_printf(&b, "}");
	return kbuf_finish(&b);
}

void counters_text_members(struct kbuf *b, const struct counter_desc *d,
			   unsigned n, const void *base, const char *prefix)
{
	size_t lp = strlen(prefix);

	for (unsigned i = 0; i < n; i++) {
		if (d[i].count || strncmp(d[i].name, prefix, lp) != 0)
			continue;
		unsigned long long v = counter_value(&d[i], base, 0);

		if (d[i].type == COUNTER_BOOL)
			kbuf_printf(b, " %s %s", d[i].name + lp,
				    v ? "true" : "false");
		else
			kbuf_printf(b, " %s %llu", d[i].name + lp, v);
	}
}

/* ---- Prometheus text exposition format 0.0.4 ---------------------------- */

void counters_prom_label(struct kbuf *b, const char *name, const char *value,
			 int first)
{
	kbuf_printf(b, "%s%s=\"", first ? "" : ",", name);
	for (const char *c = value; *c; c++) {
		if (*c == '\\' || *c == '"')
			kbuf_printf(b, "\\%c", *c);
		else if (*c == '\n')
			kbuf_printf(b, "\\n");
		else
			kbuf_printf(b, "%c", *c);
	}
	kbuf_printf(b, "\"");
}

/* The dimension an entry belongs to, or NULL. */
static const struct counter_dim *prom_dim(const struct counters_prom *p,
					  const struct counter_desc *d)
{
	for (unsigned i = 0; i < p->ndims; i++) {
		const char *g = p->dims[i].group;
		size_t lg = strlen(g);

		if (d->count) {
			/* An array names its group without the dot. */
			if (lg > 1 && strlen(d->name) == lg - 1 &&
			    memcmp(d->name, g, lg - 1) == 0)
				return &p->dims[i];
		} else if (strncmp(d->name, g, lg) == 0 && d->name[lg]) {
			return &p->dims[i];
		}
	}
	return NULL;
}

/* The part of an entry's name that names its family: the group (without
 * its dot) for an entry of a dimension, else the whole name. */
static size_t prom_key(const struct counters_prom *p,
		       const struct counter_desc *d)
{
	const struct counter_dim *dim = prom_dim(p, d);

	if (dim && !d->count)
		return strlen(dim->group) - 1;
	return strlen(d->name);
}

static int prom_gauge(const struct counter_desc *d)
{
	return d->kind == COUNTER_KIND_GAUGE || d->type == COUNTER_BOOL;
}

static int ends_with(const char *s, size_t len, const char *suffix)
{
	size_t ls = strlen(suffix);

	return len >= ls && memcmp(s + len - ls, suffix, ls) == 0;
}

/* Writes the family's name: prefix_key with dots as underscores, in base
 * units, _total for a counter. Returns 1 when values are milliseconds to
 * be written as seconds. */
static int prom_name(struct kbuf *b, const struct counters_prom *p,
		     const char *key, size_t len, int gauge)
{
	const char *unit = "";
	int ms = 0;

	if (ends_with(key, len, "_per_s")) {
		len -= 2;
		unit = "_second";
	} else if (ends_with(key, len, "_ms")) {
		len -= 3;
		unit = "_seconds";
		ms = 1;
	} else if (ends_with(key, len, "_s")) {
		len -= 2;
		unit = "_seconds";
	} else if (gauge && ends_with(key, len, "total") &&
		   (len == 5 || key[len - 6] == '_' || key[len - 6] == '.')) {
		/* _total is reserved for counters ("pages.total": all the
		 * pages there are). */
		len -= 5;
		unit = "all";
	}
	kbuf_printf(b, "%s_", p->prefix);
	for (size_t i = 0; i < len; i++)
		kbuf_printf(b, "%c", key[i] == '.' ? '_' : key[i]);
	kbuf_printf(b, "%s%s", unit, gauge ? "" : "_total");
	return ms;
}

/* One sample: name{labels} value. */
static void prom_sample(struct kbuf *b, const struct counters_prom *p,
			const struct counter_desc *d, unsigned inst,
			unsigned idx, const char *name, size_t name_len, int ms)
{
	const struct counter_dim *dim = prom_dim(p, d);
	int first = 1;

	kbuf_printf(b, "%.*s", (int)name_len, name);
	if (p->labels || p->inst_label || dim || d->count) {
		kbuf_printf(b, "{");
		if (p->labels) {
			kbuf_printf(b, "%s", p->labels);
			first = 0;
		}
		if (p->inst_label) {
			counters_prom_label(b, p->inst_label,
					    p->inst_names[inst], first);
			first = 0;
		}
		if (d->count) {
			kbuf_printf(b, "%s%s=\"%u\"", first ? "" : ",",
				    dim ? dim->label : "index", idx);
		} else if (dim) {
			counters_prom_label(
			    b, dim->label, d->name + strlen(dim->group), first);
		}
		kbuf_printf(b, "}");
	}
	unsigned long long v = counter_value(d, p->bases[inst], idx);

	if (ms)
		kbuf_printf(b, " %llu.%03llu\n", v / 1000, v % 1000);
	else
		kbuf_printf(b, " %llu\n", v);
}

void counters_prom(struct kbuf *b, const struct counter_desc *d, unsigned n,
		   const struct counters_prom *p)
{
	char name[128];

	for (unsigned i = 0; i < n; i++) {
		size_t key = prom_key(p, &d[i]);
		unsigned j;

		/* A family is written where its first entry is. */
		for (j = 0; j < i; j++)
			if (prom_key(p, &d[j]) == key &&
			    memcmp(d[j].name, d[i].name, key) == 0)
				break;
		if (j < i)
			continue;

		int gauge = prom_gauge(&d[i]);
		struct kbuf nb = {name, sizeof(name), 0};
		int ms = prom_name(&nb, p, d[i].name, key, gauge);
		size_t nl = nb.len < sizeof(name) ? nb.len : sizeof(name) - 1;
		const struct counter_dim *dim = prom_dim(p, &d[i]);

		kbuf_printf(b, "# HELP %.*s /stats %s%s%.*s", (int)nl, name,
			    p->json_path, *p->json_path ? "." : "", (int)key,
			    d[i].name);
		if (d[i].count)
			kbuf_printf(b, "[<%s>]", dim ? dim->label : "index");
		else if (dim)
			kbuf_printf(b, ".<%s>", dim->label);
		kbuf_printf(b, "%s\n", ms ? " (milliseconds there)" : "");
		kbuf_printf(b, "# TYPE %.*s %s\n", (int)nl, name,
			    gauge ? "gauge" : "counter");
		for (unsigned inst = 0; inst < p->ninst; inst++)
			for (j = i; j < n; j++) {
				if (prom_key(p, &d[j]) != key ||
				    memcmp(d[j].name, d[i].name, key) != 0)
					continue;
				unsigned values = d[j].count ? d[j].count : 1;

				for (unsigned k = 0; k < values; k++)
					prom_sample(b, p, &d[j], inst, k, name,
						    nl, ms);
			}
	}
}

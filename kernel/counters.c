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

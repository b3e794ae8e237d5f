/* The request target's path, percent-decoded and normalised so that it can
 * never leave the site: "." and ".." segments and repeated slashes resolved,
 * a climb above the root, an encoded NUL or a malformed escape refused.
 * Pure code; exercised by tests/unit/test_http.c (normalize_path,
 * path_traversal_is_refused) and the HTTP fuzzer. */
#include <stdbool.h>
#include <stddef.h>

#include "services/http.h"
#include "services/http_text.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = http_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Ends the segment out[seg..*o): drops "" and ".", resolves "..", and puts
 * a '/' after a kept segment unless it is the last one. Returns false when
 * ".." would climb above the root. */
static bool end_segment(char *out, size_t seg, size_t *o, bool last, size_t cap)
{
	size_t n = *o - seg;

	if (n == 0 || (n == 1 && out[seg] == '.')) {
		*o = seg;
		return true;
	}
	if (n == 2 && out[seg] == '.' && out[seg + 1] == '.') {
		if (seg <= 1)
			return false;
		/* out[seg - 1] is the '/' that ended the previous segment. */
		size_t prev = seg - 1;
		while (prev > 0 && out[prev - 1] != '/')
			prev--;
		*o = prev;
		return true;
	}
	if (!last) {
		if (*o + 1 >= cap)
			return false;
		out[(*o)++] = '/';
	}
	return true;
}

int http_normalize_path(const char *t, size_t len, char *out, size_t cap)
{
	size_t i = 0, o = 0, seg;

	if (cap < 2)
		return -1;
	/* Absolute form: skip the scheme and the authority. */
	if (len >= 7 && http_ieq(t, 7, "http://"))
		i = 7;
	else if (len >= 8 && http_ieq(t, 8, "https://"))
		i = 8;
	if (i) {
		while (i < len && t[i] != '/' && t[i] != '?' && t[i] != '#')
			i++;
		if (i == len || t[i] != '/') {
			out[0] = '/';
			out[1] = '\0';
			return 1;
		}
	}
	if (i >= len || t[i] != '/')
		return -1;
	i++;
	/* out may be t itself: every write lands at or before the byte just
	 * read (o <= i throughout). */
	out[o++] = '/';
	seg = o;
	while (i < len && t[i] != '?' && t[i] != '#') {
		int c = (unsigned char)t[i++];

		if (c == '%') {
			int hi = i < len ? hexval((unsigned char)t[i]) : -1;
			int lo =
			    i + 1 < len ? hexval((unsigned char)t[i + 1]) : -1;
			if (hi < 0 || lo < 0)
				return -1;
			c = hi << 4 | lo;
			i += 2;
		}
		if (c == 0)
			return -1; /* raw or encoded: no name holds a NUL */
		if (c == '/') {
			if (!end_segment(out, seg, &o, false, cap))
				return -1;
			seg = o;
			continue;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = (char)c;
	}
	if (!end_segment(out, seg, &o, true, cap))
		return -1;
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return (int)o;
}

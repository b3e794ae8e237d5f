/* Small text helpers of the HTTP server's request code (http_parser.c,
 * http_path.c): ASCII case folding and case-insensitive comparison. */
#ifndef SKIFF_SERVICES_HTTP_TEXT_H
#define SKIFF_SERVICES_HTTP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

static inline int http_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Whether a[0..alen) equals the string b, ignoring ASCII case. */
static inline bool http_ieq(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);

	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (http_lower((unsigned char)a[i]) !=
		    http_lower((unsigned char)b[i]))
			return false;
	return true;
}

#endif

/* HTTP routing (http_route.c): what a normalised request path names and
 * which methods it takes. Used by the request machine (http_parser.c);
 * pure code, no lwIP, like it. */
#ifndef SKIFF_SERVICES_HTTP_ROUTE_H
#define SKIFF_SERVICES_HTTP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "services/http.h"
#include "services/www.h"

enum http_route {
	ROUTE_NONE,
	ROUTE_FILE,
	ROUTE_REDIRECT, /* a directory named without its trailing slash */
	ROUTE_STATS,
	ROUTE_METRICS,
	ROUTE_HEALTHZ,
	ROUTE_ECHO,
};

/* "/dir/" serves "/dir/index.html". */
#define HTTP_INDEX_NAME "index.html"
/* Room the caller leaves after a path for http_route_lookup() to try
 * "/" HTTP_INDEX_NAME and its NUL behind it. */
#define HTTP_ROUTE_PATH_EXTRA (sizeof(HTTP_INDEX_NAME) + 1)

/* The route of path[0..len) (len >= 1, NUL-terminated, with
 * HTTP_ROUTE_PATH_EXTRA bytes of room after the NUL, which are used as
 * scratch and restored). Dynamic routes shadow files of the same name;
 * *file is set for ROUTE_FILE and ROUTE_REDIRECT (the index it names). */
enum http_route http_route_lookup(char *path, size_t len,
				  const struct www_file **file);
/* Whether the route takes this llhttp method, and the Allow field of its
 * 405 otherwise. */
bool http_route_allows(enum http_route r, int method);
const char *http_route_allow(enum http_route r);
/* The provider registered for ROUTE_STATS or ROUTE_METRICS. */
http_doc_fn http_route_provider(enum http_route r);

#endif

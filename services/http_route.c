/* HTTP routing: what a normalised request path names (see http_route.h).
 * The dynamic routes are a table compared by length first, so a request
 * for a file pays one length test per route, not a string compare each;
 * the files are the site's sorted table (www_lookup, http_site.c). */
#include <string.h>

#include "llhttp.h"
#include "services/http_route.h"

static http_doc_fn stats_provider, metrics_provider;

void http_set_stats_provider(http_doc_fn fn)
{
	stats_provider = fn;
}

void http_set_metrics_provider(http_doc_fn fn)
{
	metrics_provider = fn;
}

http_doc_fn http_route_provider(enum http_route r)
{
	return r == ROUTE_STATS	    ? stats_provider
	       : r == ROUTE_METRICS ? metrics_provider
				    : NULL;
}

#define DYNAMIC(p, r)                                                          \
	{                                                                      \
		p, sizeof(p) - 1, r                                            \
	}
static const struct {
	const char *path;
	size_t len;
	enum http_route route;
} dynamic_routes[] = {
    DYNAMIC("/stats", ROUTE_STATS),
    DYNAMIC("/metrics", ROUTE_METRICS),
    DYNAMIC("/healthz", ROUTE_HEALTHZ),
    DYNAMIC("/echo", ROUTE_ECHO),
};

enum http_route http_route_lookup(char *path, size_t len,
				  const struct www_file **file)
{
	const struct www_file *f;

	*file = NULL;
	for (size_t i = 0;
	     i < sizeof(dynamic_routes) / sizeof(dynamic_routes[0]); i++) {
		enum http_route r = dynamic_routes[i].route;
		if (dynamic_routes[i].len != len ||
		    memcmp(path, dynamic_routes[i].path, len) != 0)
			continue;
		/* /stats and /metrics exist once the application gave us
		 * their document. */
		if ((r == ROUTE_STATS || r == ROUTE_METRICS) &&
		    !http_route_provider(r))
			break;
		return r;
	}
	if (path[len - 1] == '/') {
		memcpy(path + len, HTTP_INDEX_NAME, sizeof(HTTP_INDEX_NAME));
		f = www_lookup(path, len + sizeof(HTTP_INDEX_NAME) - 1);
		path[len] = '\0';
	} else {
		f = www_lookup(path, len);
		if (!f) {
			/* "/dir" when "/dir/index.html" exists. */
			memcpy(path + len, "/" HTTP_INDEX_NAME,
			       sizeof(HTTP_INDEX_NAME) + 1);
			f = www_lookup(path, len + sizeof(HTTP_INDEX_NAME));
			path[len] = '\0';
			if (f) {
				*file = f;
				return ROUTE_REDIRECT;
			}
		}
	}
	*file = f;
	return f ? ROUTE_FILE : ROUTE_NONE;
}

const char *http_route_allow(enum http_route r)
{
	return r == ROUTE_ECHO ? "POST" : "GET, HEAD";
}

bool http_route_allows(enum http_route r, int method)
{
	if (r == ROUTE_ECHO)
		return method == HTTP_POST;
	return method == HTTP_GET || method == HTTP_HEAD;
}

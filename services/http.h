/* Skiff's HTTP/1.1 server.
 *
 * Two layers:
 *   http_parser.c  the request state machine around llhttp: limits,
 *                  responses, counters. Pure code (no lwIP), so the
 *                  host tests and the fuzzer drive it directly, with
 *                  http_route.c (what a path names), http_path.c (path
 *                  normalisation) and http_site.c (the site table's
 *                  lookup).
 *   http_conn.c    lwIP raw-API connections: accept, receive, paced sending
 *                  (tcp_sent/tcp_sndbuf; static content written from .rodata
 *                  without copying), timeouts from tcp_poll, lingering close.
 *
 * What the server does:
 *   GET and HEAD of the files compiled in from www/ (www.h), with a strong
 *   ETag and If-None-Match -> 304; "/dir/" serves "/dir/index.html" and
 *   "/dir" redirects (301) to "/dir/". The request target is
 *   percent-decoded, then "." and ".." segments and repeated slashes are
 *   resolved; a path that would climb above the root, an encoded NUL or a
 *   malformed escape is a 400. An absolute-form target
 *   ("http://host/path") is accepted; the query string is ignored.
 *   GET /stats: the document of the provider the application registers
 *   (http_set_stats_provider), application/json, no-store.
 *   GET /metrics: likewise (http_set_metrics_provider), text/plain;
 *   version=0.0.4 (Prometheus), no-store.
 *   GET /healthz: 200 "ok". POST /echo: the request body back (at most
 *   max_body bytes; 413 beyond). Dynamic routes shadow files of the same
 *   name.
 *
 *   Keep-alive is the default for HTTP/1.1; "Connection: close" is
 *   honoured. HTTP/1.0 is answered and closed, unless the request says
 *   "Connection: keep-alive" (every response has a Content-Length, so that
 *   is safe); the response then says so too. Pipelined requests are
 *   answered in order, one at a time: the next request is parsed only once
 *   the previous response is handed to TCP, so a connection never holds
 *   more than one response. Request bodies (Content-Length or chunked) are
 *   read and discarded when the route does not want them; "Expect:
 *   100-continue" gets its interim response.
 *
 *   Errors: 400 malformed (also a missing Host in 1.1), 404, 405 with
 *   Allow, 408 (request headers or body too slow), 413 (body above
 *   max_body), 414 (target above max_uri), 431 (request line and headers
 *   above max_header_bytes), 500, 501 (a method we do not know), 503 (out
 *   of connections or memory), 505 (not HTTP/1.x). Every response carries
 *   Content-Length (304 and 1xx aside); after a parse error, a timeout, 413
 *   or 503 the connection is closed ("Connection: close"), because its
 *   byte stream can no longer be trusted.
 */
#ifndef SKIFF_SERVICES_HTTP_H
#define SKIFF_SERVICES_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/counters.h"
#include "llhttp.h"

/* ---- Configuration ------------------------------------------------------- */

#define HTTP_PORT 80

struct http_limits {
	uint32_t max_conns;	    /* open connections; the next gets 503 */
	uint32_t max_header_bytes;  /* request line + headers (431) */
	uint32_t max_uri;	    /* request target (414) */
	uint32_t max_body;	    /* request body, any route (413) */
	uint32_t idle_timeout_ms;   /* keep-alive idle, body or send stall */
	uint32_t header_timeout_ms; /* first byte to end of headers (408) */
	bool log;		    /* one access-log line per request */
	uint32_t max_conns_per_ip;  /* open connections per address, 0 = any */
};

/* The defaults; http_set_limits() clamps each field to these ranges. */
#define HTTP_LIMITS_DEFAULT                                                    \
	{                                                                      \
		.max_conns = 128, .max_header_bytes = 8192, .max_uri = 2048,   \
		.max_body = 64 * 1024, .idle_timeout_ms = 15000,               \
		.header_timeout_ms = 10000, .log = false,                      \
		.max_conns_per_ip = 32,                                        \
	}
#define HTTP_MAX_CONNS_RANGE  1, 4096
#define HTTP_MAX_HEADER_RANGE 256, 1024 * 1024
#define HTTP_MAX_URI_RANGE    16, 64 * 1024 /* and at most max_header */
#define HTTP_MAX_BODY_RANGE   0, 64 * 1024 * 1024
#define HTTP_TIMEOUT_MS_RANGE 100, 24 * 3600 * 1000

/* Takes effect for connections accepted afterwards (a connection keeps the
 * limits it started with); may be called before or after http_init().
 * Out-of-range values are clamped, with a warning. */
void http_set_limits(const struct http_limits *limits);
void http_get_limits(struct http_limits *out);

/* Listens on HTTP_PORT. Call once, after the interface is up (lwIP
 * initialised). Returns 0 or a negative errno (-ENOMEM, -EADDRINUSE). */
int http_init(void);

/* A dynamic document: writes the body into buf (NUL-terminated when
 * cap > 0) and returns the length the whole body has, like snprintf, or a
 * negative errno. */
typedef int (*http_doc_fn)(char *buf, size_t cap);
/* The provider of GET /stats, registered by the application at bring-up
 * (the server sits below the application and never includes its headers).
 * With none registered, /stats is not a route. */
void http_set_stats_provider(http_doc_fn fn);
/* The provider of GET /metrics (the Prometheus text format), the same way. */
void http_set_metrics_provider(http_doc_fn fn);

/* Writes the server's counters as one JSON object (the "http" member of
 * /stats) into buf, always NUL-terminated when cap > 0. Returns the length
 * the whole object has (>= cap means it was truncated), like snprintf. */
int http_stats_json(char *buf, size_t cap);

/* ---- Counters ------------------------------------------------------------ */

/* Status codes counted one by one; the others only by class. */
/* clang-format off */
#define HTTP_COUNTED_CODES                                                     \
	X(200) X(301) X(304) X(400) X(404) X(405) X(408) X(413) X(414)         \
	X(431) X(500) X(501) X(503) X(505)
enum http_code_index {
#define X(code) HTTP_CODE_IDX_##code,
	HTTP_COUNTED_CODES
#undef X
	HTTP_CODE_IDX_COUNT
};
/* clang-format on */

struct http_counters {
	uint64_t requests;    /* final responses (one per request) */
	uint64_t by_class[6]; /* [status / 100], 1..5 used */
	uint64_t by_code[HTTP_CODE_IDX_COUNT];
	uint64_t accepted;	 /* connections accepted */
	uint64_t refused;	 /* connections answered 503 and closed */
	uint64_t timeouts;	 /* connections cut by a timeout */
	uint64_t resets;	 /* connections lost to RST or an lwIP error */
	uint64_t bytes_received; /* request bytes, headers and bodies */
	uint64_t bytes_sent;	 /* response bytes acknowledged by peers */
	uint32_t active;	 /* connections open now */
	uint32_t active_peak;
};

extern struct http_counters http_counters;

/* What the connection layer did to keep serving under attack
 * (http_conn.c): the "defence" object of the "http" member of /stats. */
struct http_defence_counters {
	uint64_t refused_per_ip;  /* reset at accept: address at its limit */
	uint64_t refused_reset;	  /* reset at accept: full, and PCBs short */
	uint64_t evicted_idle;	  /* idle keep-alive connections reset to
				     make room for a new one */
	uint64_t pressure_resets; /* timeouts ended by a RST, not 408/FIN */
	uint64_t pressure_ticks;  /* polls that found the server under
				     pressure (shortened timeouts) */
};

extern struct http_defence_counters http_defence;
extern const struct counter_desc http_defence_desc[];
extern const unsigned http_defence_desc_len;

/* The /stats "http" member's counters and limits (kernel/counters.h):
 * names, order and types of struct http_counters and struct http_limits. */
extern const struct counter_desc http_counters_desc[];
extern const unsigned http_counters_desc_len;
extern const struct counter_desc http_limits_desc[];
extern const unsigned http_limits_desc_len;

/* Counts one final response with this status. */
void http_count_status(int status);

/* ---- Request handling (http_parser.c) ---------------------------------
 * One http_session per connection. The connection layer feeds it received
 * bytes; when a response is ready it sends resp.head and then resp.body,
 * and calls http_session_next(). */

enum http_phase {
	HTTP_PHASE_IDLE,    /* between requests: no byte of the next one */
	HTTP_PHASE_HEAD,    /* reading the request line and headers */
	HTTP_PHASE_BODY,    /* headers done, reading (maybe discarding) body */
	HTTP_PHASE_RESPOND, /* resp is ready; nothing more is parsed */
	HTTP_PHASE_CLOSED,  /* the last response (resp.close) was taken */
};

/* Status line and headers of one response; 512 bytes hold every header
 * set we send except a very long redirect target, which then falls back
 * to serving the index directly. */
#define HTTP_HEAD_MAX 512

struct http_response {
	int status;
	/* The head to send: head_buf, or a file's cached head. */
	const char *head;
	size_t head_len;
	/* head lives for as long as the system runs (a cached head, see
	 * http_parser.c), so it may be handed to TCP without a copy. */
	bool head_static;
	char head_buf[HTTP_HEAD_MAX];
	const unsigned char *body; /* NULL or body_len bytes to send */
	size_t body_len;
	/* The body lives in the image (.rodata) for as long as the system
	 * runs, so it may be handed to TCP without a copy. */
	bool body_static;
	/* Close the connection after this response. */
	bool close;
};

/* The interim response sent for "Expect: 100-continue". */
extern const char http_continue_response[];
extern const size_t http_continue_len;
/* The whole response a connection refused by the limit (or for lack of
 * memory) gets before it is closed. */
extern const char http_refused_response[];
extern const size_t http_refused_len;

/* Request targets up to this long are kept in the session itself. */
#define HTTP_URL_INLINE_MAX 95
/* The raw target and its NUL, the normalised path and "index.html". */
#define HTTP_URL_INLINE_BUF (2 * (HTTP_URL_INLINE_MAX + 1) + 12)

#define HTTP_INM_MAX   256 /* longer If-None-Match lists never match */
#define HTTP_FIELD_MAX 16  /* longest header name we look at */
#define HTTP_PEER_MAX  48

struct http_session {
	llhttp_t parser;
	enum http_phase phase;
	/* Limits captured when the session started. */
	struct http_limits limits;

	/* The current request. */
	uint32_t head_bytes; /* bytes of request line and headers so far */
	/* Raw target (url_cap + 1 bytes), then room for its normalised
	 * form: url_inline while it fits, else a heap block for max_uri. */
	char *url;
	uint32_t url_len;
	uint32_t url_cap;
	int error_status;    /* set by a callback that failed the parse */
	uint8_t method_scan; /* classifies a bad method: 501 or 400 */
	bool method_seen;    /* parser.method is this request's */
	bool version_seen;   /* parser.http_major/minor are this request's */
	char field[HTTP_FIELD_MAX];
	uint8_t field_len; /* > HTTP_FIELD_MAX: a name we ignore */
	uint8_t field_id;  /* which header the value belongs to */
	char inm[HTTP_INM_MAX];
	uint16_t inm_len;
	bool inm_overflow;
	bool has_inm;
	bool has_host;
	bool expect_continue;
	char expect[16];
	uint8_t expect_len;

	/* Decided when the headers are complete. */
	int route;		/* enum http_route (http_route.h) */
	const void *route_file; /* struct www_file * */
	int decided_status;	/* non-zero: answer this status */
	bool collect_body;	/* /echo keeps the body */
	unsigned char *body;	/* collected body, heap */
	size_t body_len, body_cap;
	uint64_t body_seen; /* body bytes received, kept or not */

	/* Output. */
	bool want_continue; /* send http_continue_response, then feed on */
	struct http_response resp;
	void *resp_owned; /* heap block behind resp.body, freed by next() */

	/* For the access log, set by the connection layer. */
	char peer[HTTP_PEER_MAX];

	/* Most targets are short: kept here rather than in a heap block
	 * allocated and freed per request. */
	char url_inline[HTTP_URL_INLINE_BUF];
};

/* Sets up a session with the current limits. */
void http_session_init(struct http_session *s);
/* Frees what the session holds (the session itself is the caller's). */
void http_session_free(struct http_session *s);
/* Parses up to len bytes and returns how many it consumed. It stops early
 * when a response is ready (phase RESPOND) or an interim 100 Continue is
 * wanted (want_continue); feed the rest after acting on that. In phase
 * RESPOND or CLOSED it consumes nothing. */
size_t http_session_feed(struct http_session *s, const char *data, size_t len);
/* The caller wrote http_continue_response. */
void http_session_continue_sent(struct http_session *s);
/* The caller handed the whole response to TCP: frees its body and gets
 * ready for the next request (phase IDLE), or moves to CLOSED when
 * resp.close was set. */
void http_session_next(struct http_session *s);
/* True once any byte of a request that is not finished has been read. */
bool http_session_busy(const struct http_session *s);
/* The peer took too long: turns a partly read request into a 408 response
 * that closes the connection and returns true; returns false (nothing to
 * answer) when the session is idle or already responding. */
bool http_session_timeout(struct http_session *s);

/* Builds the response head of every file of the site (www.h) for the
 * common case, a 200 to an HTTP/1.1 keep-alive GET or HEAD, once; those
 * responses then send it from there, neither formatted nor copied per
 * request. http_init() calls it; without it (or without memory for it,
 * -ENOMEM) every head is built per request. Returns 0 or -ENOMEM. */
int http_file_heads_init(void);
/* Frees them (host tests; responses already handed out must be gone). */
void http_file_heads_free(void);

/* Percent-decodes and normalises a request target (origin or absolute
 * form) into an absolute path in out (NUL-terminated). Returns its length,
 * or -1 when the target is malformed, climbs above the root, decodes to a
 * NUL, or does not fit in cap. A trailing slash is kept. */
int http_normalize_path(const char *target, size_t len, char *out, size_t cap);

#endif

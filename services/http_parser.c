/* The HTTP request state machine around llhttp: limits, routing, responses
 * and counters (the protocol is described in http.h).
 *
 * llhttp does the parsing; this file decides. Two of llhttp's callbacks
 * pause it (return HPE_PAUSED), which is what makes the rest simple:
 *   on_headers_complete  the position where it paused is the exact size of
 *                        the request head, and the route, the status and
 *                        the fate of the body are decided there, before any
 *                        body byte is read;
 *   on_message_complete  one request, one response: feeding stops until the
 *                        connection has sent it (http_session_next), which
 *                        answers pipelined requests in order and keeps at
 *                        most one response per connection.
 * While the head is incomplete llhttp is fed at most the bytes the header
 * limit still allows, so an endless head costs max_header_bytes, not
 * memory: only the request target (max_uri) and a few header values are
 * kept.
 *
 * No lwIP here: the host tests and the fuzzer run this file as it is. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernel/counters.h"
#include "kernel/heap.h"
#include "kernel/kbuf.h"
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "kernel/printf.h"
#include "services/http.h"
#include "services/http_route.h"
#include "services/http_text.h"
#include "services/www.h"

/* ---- Limits and counters ------------------------------------------------- */

static struct http_limits http_limits = HTTP_LIMITS_DEFAULT;
struct http_counters http_counters;

static uint32_t clamp_u32(const char *what, uint32_t v, uint32_t lo,
			  uint32_t hi)
{
	uint32_t c = v < lo ? lo : v > hi ? hi : v;

	if (c != v)
		log_warn("http: %s %u out of range, using %u", what, v, c);
	return c;
}

#define CLAMP(what, v, range) clamp_u32(what, v, range)

void http_set_limits(const struct http_limits *l)
{
	struct http_limits n = *l;

	n.max_conns = CLAMP("max_conns", n.max_conns, HTTP_MAX_CONNS_RANGE);
	n.max_header_bytes = CLAMP("max_header_bytes", n.max_header_bytes,
				   HTTP_MAX_HEADER_RANGE);
	n.max_uri = CLAMP("max_uri", n.max_uri, HTTP_MAX_URI_RANGE);
	/* A target longer than the whole head could never be reached: the
	 * header limit (431) would always fire first. */
	if (n.max_uri > n.max_header_bytes)
		n.max_uri =
		    clamp_u32("max_uri", n.max_uri, 16, n.max_header_bytes);
	n.max_body = CLAMP("max_body", n.max_body, HTTP_MAX_BODY_RANGE);
	n.idle_timeout_ms =
	    CLAMP("idle_timeout_ms", n.idle_timeout_ms, HTTP_TIMEOUT_MS_RANGE);
	n.header_timeout_ms = CLAMP("header_timeout_ms", n.header_timeout_ms,
				    HTTP_TIMEOUT_MS_RANGE);
	http_limits = n;
}

void http_get_limits(struct http_limits *out)
{
	*out = http_limits;
}

static int code_index(int status)
{
	switch (status) {
#define X(code)                                                                \
	case code:                                                             \
		return HTTP_CODE_IDX_##code;
		HTTP_COUNTED_CODES
#undef X
	}
	return -1;
}

void http_count_status(int status)
{
	int idx = code_index(status);

	http_counters.requests++;
	if (status >= 100 && status < 600)
		http_counters.by_class[status / 100]++;
	if (idx >= 0)
		http_counters.by_code[idx]++;
}

/* clang-format off */
#define HC(type, field, name) COUNTER(type, struct http_counters, field, name)
const struct counter_desc http_counters_desc[] = {
	HC(U64, requests, "requests"),
	GAUGE(U32, struct http_counters, active, "active"),
	GAUGE(U32, struct http_counters, active_peak, "active_peak"),
	HC(U64, accepted, "accepted"),
	HC(U64, refused, "refused"),
	HC(U64, timeouts, "timeouts"),
	HC(U64, resets, "resets"),
	HC(U64, bytes_received, "bytes_received"),
	HC(U64, bytes_sent, "bytes_sent"),
	HC(U64, by_class[1], "by_class.1xx"),
	HC(U64, by_class[2], "by_class.2xx"),
	HC(U64, by_class[3], "by_class.3xx"),
	HC(U64, by_class[4], "by_class.4xx"),
	HC(U64, by_class[5], "by_class.5xx"),
#define X(code) HC(U64, by_code[HTTP_CODE_IDX_##code], "by_status." #code),
	HTTP_COUNTED_CODES
#undef X
};
/* clang-format on */
const unsigned http_counters_desc_len = COUNTERS_LEN(http_counters_desc);

#define HL(type, field) GAUGE(type, struct http_limits, field, "limits." #field)
const struct counter_desc http_limits_desc[] = {
    HL(U32, max_conns), HL(U32, max_header_bytes), HL(U32, max_uri),
    HL(U32, max_body),	HL(U32, idle_timeout_ms),  HL(U32, header_timeout_ms),
    HL(BOOL, log),	HL(U32, max_conns_per_ip),
};
const unsigned http_limits_desc_len = COUNTERS_LEN(http_limits_desc);

struct http_defence_counters http_defence;

#define HD(field)                                                              \
	COUNTER(U64, struct http_defence_counters, field, "defence." #field)
const struct counter_desc http_defence_desc[] = {
    HD(refused_per_ip),	 HD(refused_reset),  HD(evicted_idle),
    HD(pressure_resets), HD(pressure_ticks),
};
const unsigned http_defence_desc_len = COUNTERS_LEN(http_defence_desc);

int http_stats_json(char *buf, size_t cap)
{
	struct kbuf j = {buf, cap, 0};

	if (cap)
		buf[0] = '\0';
	kbuf_printf(&j, "{");
	counters_json_members(&j, http_counters_desc, http_counters_desc_len,
			      &http_counters, 1);
	counters_json_members(&j, http_limits_desc, http_limits_desc_len,
			      &http_limits, 0);
	counters_json_members(&j, http_defence_desc, http_defence_desc_len,
			      &http_defence, 0);
	/* The site is the generated table's two sizes, not a stats struct. */
	kbuf_printf(&j, ",\"site\":{\"files\":%zu,\"bytes\":%zu}}",
		    www_file_count, www_total_bytes);
	return kbuf_finish(&j);
}

/* ---- Fixed responses ----------------------------------------------------- */

const char http_continue_response[] = "HTTP/1.1 100 Continue\r\n\r\n";
const size_t http_continue_len = sizeof(http_continue_response) - 1;

#define REFUSED_BODY "503 Service Unavailable\n"
const char http_refused_response[] =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Server: Skiff\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 24\r\n"
    "Retry-After: 1\r\n"
    "Connection: close\r\n"
    "\r\n" REFUSED_BODY;
const size_t http_refused_len = sizeof(http_refused_response) - 1;
_Static_assert(sizeof(REFUSED_BODY) - 1 == 24, "refused Content-Length");

struct status_text {
	int status;
	/* What every head with this status starts with: the status line
	 * and our Server field, with its length known at compile time. */
	const char *line;
	size_t line_len;
	const char *body; /* for errors: a one-line text/plain body */
	size_t body_len;
};

#define STATUS_LINE(code, reason)                                              \
	"HTTP/1.1 " #code " " reason "\r\nServer: Skiff\r\n"
/* A status answered with a body of its own: "404 Not Found\n". */
#define ST_ERR(code, reason)                                                   \
	{                                                                      \
		code, STATUS_LINE(code, reason),                               \
		    sizeof(STATUS_LINE(code, reason)) - 1,                     \
		    #code " " reason "\n", sizeof(#code " " reason "\n") - 1   \
	}
#define ST_OK(code, reason)                                                    \
	{                                                                      \
		code, STATUS_LINE(code, reason),                               \
		    sizeof(STATUS_LINE(code, reason)) - 1, NULL, 0             \
	}

static const struct status_text status_texts[] = {
    ST_OK(200, "OK"),
    ST_ERR(301, "Moved Permanently"),
    ST_OK(304, "Not Modified"),
    ST_ERR(400, "Bad Request"),
    ST_ERR(404, "Not Found"),
    ST_ERR(405, "Method Not Allowed"),
    ST_ERR(408, "Request Timeout"),
    ST_ERR(413, "Content Too Large"),
    ST_ERR(414, "URI Too Long"),
    ST_ERR(431, "Request Header Fields Too Large"),
    ST_ERR(500, "Internal Server Error"),
    ST_ERR(501, "Not Implemented"),
    ST_ERR(503, "Service Unavailable"),
    ST_ERR(505, "HTTP Version Not Supported"),
};

static const struct status_text *status_text(int status)
{
	for (size_t i = 0; i < sizeof(status_texts) / sizeof(status_texts[0]);
	     i++)
		if (status_texts[i].status == status)
			return &status_texts[i];
	return &status_texts[0]; /* not reached: every status we send is here */
}

/* ---- Small helpers ------------------------------------------------------- */

/* RFC 9110 tchar: what a method name may be made of. */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;
	switch (c) {
	case '!':
	case '#':
	case '$':
	case '%':
	case '&':
	case '\'':
	case '*':
	case '+':
	case '-':
	case '.':
	case '^':
	case '_':
	case '`':
	case '|':
	case '~':
		return true;
	}
	return false;
}

/* ---- Request state --------------------------------------------------------
 */

enum field_id { FIELD_OTHER, FIELD_HOST, FIELD_INM, FIELD_EXPECT };

enum method_scan {
	SCAN_START, /* skipping the empty lines before a request */
	SCAN_TOKEN, /* only token characters so far */
	SCAN_SPACE, /* a token and a space: a method, just not one we know */
	SCAN_JUNK,  /* not a request line at all */
};

static bool method_is_standard(int m)
{
	switch (m) {
	case HTTP_GET:
	case HTTP_HEAD:
	case HTTP_POST:
	case HTTP_PUT:
	case HTTP_DELETE:
	case HTTP_CONNECT:
	case HTTP_OPTIONS:
	case HTTP_TRACE:
	case HTTP_PATCH:
		return true;
	}
	return false;
}

/* The URL buffer: the raw target (max_uri + 1) followed by room for the
 * normalised path plus "index.html". */
#define URL_EXTRA	HTTP_ROUTE_PATH_EXTRA
#define URL_BUF_SIZE(s) (2 * ((size_t)(s)->limits.max_uri + 1) + URL_EXTRA)
#define NORM_BUF(s)	((s)->url + (s)->url_cap + 1)
_Static_assert(HTTP_URL_INLINE_BUF == 2 * (HTTP_URL_INLINE_MAX + 1) + URL_EXTRA,
	       "url_inline holds a raw target, its normalised form, index");

static struct http_session *session_of(llhttp_t *p)
{
	return p->data;
}

/* Which response an early (pre-body) decision stands for. */
static void respond_status(struct http_session *s, int status, bool close,
			   const char *allow);
static void respond_route(struct http_session *s);

/* Copies the percent-encoded form of a decoded path into dst. Returns its
 * length, or -1 when it does not fit. */
static int encode_path(const char *path, char *dst, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *path; path++) {
		unsigned char c = (unsigned char)*path;
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') ||
			     (c && strchr("-._~/!$&'()*+,;=:@", c));
		if (o + (plain ? 1 : 3) >= cap)
			return -1;
		if (plain) {
			dst[o++] = (char)c;
		} else {
			dst[o++] = '%';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
	return (int)o;
}

/* Finds what the normalised path names. */
static void route(struct http_session *s, char *path, size_t len)
{
	const struct www_file *f;

	s->route = http_route_lookup(path, len, &f);
	s->route_file = f;
}

/* ---- llhttp callbacks ---------------------------------------------------- */

static int on_message_begin(llhttp_t *p)
{
	struct http_session *s = session_of(p);

	s->phase = HTTP_PHASE_HEAD;
	return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t n)
{
	struct http_session *s = session_of(p);

	if (n > s->limits.max_uri - s->url_len) {
		s->error_status = 414;
		return -1;
	}
	if (!s->url) {
		s->url = s->url_inline;
		s->url_cap = s->limits.max_uri < HTTP_URL_INLINE_MAX
				 ? s->limits.max_uri
				 : HTTP_URL_INLINE_MAX;
	}
	if (n > s->url_cap - s->url_len) {
		/* Longer than the session's own buffer: a heap block for the
		 * longest target allowed. */
		char *big = kmalloc(URL_BUF_SIZE(s));
		if (!big) {
			s->error_status = 503;
			return -1;
		}
		memcpy(big, s->url, s->url_len);
		s->url = big;
		s->url_cap = s->limits.max_uri;
	}
	memcpy(s->url + s->url_len, at, n);
	s->url_len += (uint32_t)n;
	s->url[s->url_len] = '\0';
	return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
	struct http_session *s = session_of(p);

	if (s->field_len + n > HTTP_FIELD_MAX) {
		s->field_len = HTTP_FIELD_MAX + 1;
		return 0;
	}
	memcpy(s->field + s->field_len, at, n);
	s->field_len += (uint8_t)n;
	return 0;
}

static int on_header_field_complete(llhttp_t *p)
{
	struct http_session *s = session_of(p);
	size_t n = s->field_len;

	s->field_id = FIELD_OTHER;
	if (n <= HTTP_FIELD_MAX) {
		if (http_ieq(s->field, n, "host"))
			s->field_id = FIELD_HOST;
		else if (http_ieq(s->field, n, "if-none-match"))
			s->field_id = FIELD_INM;
		else if (http_ieq(s->field, n, "expect"))
			s->field_id = FIELD_EXPECT;
	}
	s->field_len = 0;
	if (s->field_id == FIELD_HOST)
		s->has_host = true;
	if (s->field_id == FIELD_INM) {
		/* Several If-None-Match lines make one list. */
		if (s->has_inm && !s->inm_overflow) {
			if (s->inm_len + 1 > HTTP_INM_MAX)
				s->inm_overflow = true;
			else
				s->inm[s->inm_len++] = ',';
		}
		s->has_inm = true;
	}
	if (s->field_id == FIELD_EXPECT)
		s->expect_len = 0;
	return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
	struct http_session *s = session_of(p);

	if (s->field_id == FIELD_INM && !s->inm_overflow) {
		if (s->inm_len + n > HTTP_INM_MAX) {
			s->inm_overflow = true;
			return 0;
		}
		memcpy(s->inm + s->inm_len, at, n);
		s->inm_len += (uint16_t)n;
	} else if (s->field_id == FIELD_EXPECT) {
		if (s->expect_len + n > sizeof(s->expect)) {
			s->expect_len = sizeof(s->expect); /* not ours */
			return 0;
		}
		memcpy(s->expect + s->expect_len, at, n);
		s->expect_len += (uint8_t)n;
	}
	return 0;
}

static int on_header_value_complete(llhttp_t *p)
{
	struct http_session *s = session_of(p);

	if (s->field_id == FIELD_EXPECT &&
	    http_ieq(s->expect, s->expect_len, "100-continue"))
		s->expect_continue = true;
	s->field_id = FIELD_OTHER;
	return 0;
}

static int on_method_complete(llhttp_t *p)
{
	session_of(p)->method_seen = true;
	return 0;
}

static int on_version_complete(llhttp_t *p)
{
	session_of(p)->version_seen = true;
	return 0;
}

/* A chunk announces its size first: refuse a body that will not fit
 * before reading it. */
static int on_chunk_header(llhttp_t *p)
{
	struct http_session *s = session_of(p);

	if (p->content_length > s->limits.max_body - s->body_seen) {
		s->error_status = 413;
		return -1;
	}
	return 0;
}

static int on_headers_complete(llhttp_t *p)
{
	session_of(p)->phase = HTTP_PHASE_BODY;
	return HPE_PAUSED;
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
	struct http_session *s = session_of(p);

	s->body_seen += n;
	if (s->body_seen > s->limits.max_body) {
		s->error_status = 413;
		return -1;
	}
	if (!s->collect_body)
		return 0;
	if (s->body_len + n > s->body_cap) {
		/* Chunked: grow by doubling, up to max_body. */
		size_t cap = s->body_cap ? s->body_cap : 4096;
		while (cap < s->body_len + n)
			cap *= 2;
		if (cap > s->limits.max_body)
			cap = s->limits.max_body;
		unsigned char *nb = krealloc(s->body, cap);
		if (!nb) {
			s->error_status = 503;
			return -1;
		}
		s->body = nb;
		s->body_cap = cap;
	}
	memcpy(s->body + s->body_len, at, n);
	s->body_len += n;
	return 0;
}

static int on_message_complete(llhttp_t *p)
{
	struct http_session *s = session_of(p);

	if (s->decided_status)
		respond_status(s, s->decided_status, false,
			       s->decided_status == 405
				   ? http_route_allow(s->route)
				   : NULL);
	else
		respond_route(s);
	return HPE_PAUSED;
}

static const llhttp_settings_t http_settings = {
    .on_message_begin = on_message_begin,
    .on_method_complete = on_method_complete,
    .on_version_complete = on_version_complete,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_chunk_header = on_chunk_header,
    .on_message_complete = on_message_complete,
};

/* ---- Responses ----------------------------------------------------------- */

struct file_head;

struct resp_opts {
	const char *ctype;
	const void *body;
	size_t len;
	bool body_static;
	void *owned; /* heap block behind body */
	const char *etag;
	const char *allow;
	const char *location;
	/* A file's cached head (http_file_heads_init), for a 200. */
	const struct file_head *cached;
	bool no_store;
	bool no_length; /* 304 */
	bool close;
};

/* Printable form of the raw target for the access log: bytes that could
 * forge or break a log line are %-escaped, and it is cut at cap. */
static void log_target(const struct http_session *s, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	uint32_t i;

	if (!s->url || !s->url_len) {
		ksnprintf(out, cap, "-");
		return;
	}
	for (i = 0; i < s->url_len && o + 3 + 4 < cap; i++) {
		unsigned char c = (unsigned char)s->url[i];
		if (c > 0x20 && c < 0x7f && c != '"' && c != '\\') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (i < s->url_len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static void access_log(const struct http_session *s)
{
	char target[128], version[16];

	log_target(s, target, sizeof(target));
	if (s->version_seen)
		ksnprintf(version, sizeof(version), "HTTP/%u.%u",
			  s->parser.http_major, s->parser.http_minor);
	else
		ksnprintf(version, sizeof(version), "-");
	log_info("http: %s \"%s %s %s\" %d %zu%s", s->peer[0] ? s->peer : "-",
		 s->method_seen ? llhttp_method_name(s->parser.method) : "-",
		 target, version, s->resp.status, s->resp.body_len,
		 s->resp.close ? " close" : "");
}

/* The response head is built on every request: plain appends instead of
 * kbuf_printf, whose format parsing cost a keep-alive GET / about a sixth
 * of its instructions (tests/bench, instructions per operation). Same
 * kbuf contract: len counts past cap, so an overflow stays visible. */
static void head_putn(struct kbuf *j, const char *text, size_t n)
{
	if (j->len < j->cap)
		memcpy(j->buf + j->len, text,
		       n < j->cap - j->len ? n : j->cap - j->len);
	j->len += n;
}

static void head_put(struct kbuf *j, const char *text)
{
	head_putn(j, text, strlen(text));
}

/* A string literal: its length is known at compile time. */
#define head_lit(j, lit) head_putn((j), (lit), sizeof(lit) - 1)

static void head_put_uint(struct kbuf *j, size_t v)
{
	char digits[24];
	size_t i = sizeof(digits);

	digits[--i] = '\0';
	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	head_put(j, digits + i);
}

/* "Name: value\r\n", the name a literal. */
#define head_field(j, name, value)                                             \
	do {                                                                   \
		head_lit((j), name);                                           \
		head_put((j), (value));                                        \
		head_lit((j), "\r\n");                                         \
	} while (0)

/* Status line and header fields into j (kbuf contract: j->len counts
 * past the end on overflow). keep_alive and http10 pick the Connection
 * field: none for HTTP/1.1 keep-alive. */
static void head_build(struct kbuf *j, int status, const struct resp_opts *o,
		       bool keep_alive, bool http10)
{
	const struct status_text *st = status_text(status);

	head_putn(j, st->line, st->line_len);
	if (o->ctype)
		head_field(j, "Content-Type: ", o->ctype);
	if (!o->no_length) {
		head_lit(j, "Content-Length: ");
		head_put_uint(j, o->len);
		head_lit(j, "\r\n");
	}
	if (o->etag)
		head_field(j, "ETag: ", o->etag);
	if (o->allow)
		head_field(j, "Allow: ", o->allow);
	if (o->location)
		head_field(j, "Location: ", o->location);
	if (o->no_store)
		head_lit(j, "Cache-Control: no-store\r\n");
	if (!keep_alive)
		head_lit(j, "Connection: close\r\n");
	else if (http10)
		head_lit(j, "Connection: keep-alive\r\n");
	if (status == 503)
		head_lit(j, "Retry-After: 1\r\n");
	head_lit(j, "\r\n");
}

/* ---- Cached heads of file responses ----------------------------------------
 * The head of a 200 for a file depends on the file alone (type, length,
 * ETag) and on the Connection field, one of three: none (HTTP/1.1
 * keep-alive), "close", or "keep-alive" (HTTP/1.0). http_file_heads_init()
 * builds the three once per file, with the same head_build() as every
 * other response, into one block kept for as long as the system runs;
 * such a response then costs no formatting and is handed to TCP without a
 * copy (resp.head_static). Files beyond FILE_HEADS_MAX_BYTES of heads get
 * theirs built per request. */

#define FILE_HEADS_MAX_BYTES (64 * 1024)

enum head_conn { HEAD_KEEP, HEAD_CLOSE, HEAD_KEEP10, HEAD_CONN_COUNT };

static const struct {
	bool keep_alive, http10;
} head_conn_args[HEAD_CONN_COUNT] = {
    [HEAD_KEEP] = {true, false},
    [HEAD_CLOSE] = {false, false},
    [HEAD_KEEP10] = {true, true},
};

struct file_head {
	const char *text[HEAD_CONN_COUNT]; /* NULL: not cached */
	uint16_t len[HEAD_CONN_COUNT];
};

static struct file_head *file_heads; /* www_file_count entries */

static struct resp_opts file_opts(const struct www_file *f)
{
	struct resp_opts o = {
	    .ctype = f->content_type,
	    .body = f->data,
	    .len = f->len,
	    .body_static = true,
	    .etag = f->etag,
	};
	return o;
}

int http_file_heads_init(void)
{
	char buf[HTTP_HEAD_MAX];
	size_t total = 0, n = 0, size;
	char *text;

	if (file_heads)
		return 0;
	/* First pass: how many files' heads fit the budget, and their
	 * bytes. */
	for (; n < www_file_count; n++) {
		struct resp_opts o = file_opts(&www_files[n]);
		size_t bytes = 0;
		for (int v = 0; v < HEAD_CONN_COUNT; v++) {
			struct kbuf j = {buf, sizeof(buf), 0};
			head_build(&j, 200, &o, head_conn_args[v].keep_alive,
				   head_conn_args[v].http10);
			if (j.len >= sizeof(buf))
				bytes = FILE_HEADS_MAX_BYTES + 1;
			bytes += j.len;
		}
		if (total + bytes > FILE_HEADS_MAX_BYTES)
			break;
		total += bytes;
	}
	size = www_file_count * sizeof(*file_heads) + total;
	file_heads = kcalloc(1, size ? size : 1);
	if (!file_heads)
		return -ENOMEM;
	text = (char *)(file_heads + www_file_count);
	for (size_t i = 0; i < n; i++) {
		struct resp_opts o = file_opts(&www_files[i]);
		for (int v = 0; v < HEAD_CONN_COUNT; v++) {
			struct kbuf j = {text, total, 0};
			head_build(&j, 200, &o, head_conn_args[v].keep_alive,
				   head_conn_args[v].http10);
			file_heads[i].text[v] = text;
			file_heads[i].len[v] = (uint16_t)j.len;
			text += j.len;
			total -= j.len;
		}
	}
	return 0;
}

void http_file_heads_free(void)
{
	kfree(file_heads);
	file_heads = NULL;
}

static const struct file_head *file_head_of(const struct www_file *f)
{
	size_t i = (size_t)(f - www_files);

	if (!file_heads || i >= www_file_count || !file_heads[i].text[0])
		return NULL;
	return &file_heads[i];
}

static void respond(struct http_session *s, int status,
		    const struct resp_opts *o)
{
	struct http_response *r = &s->resp;
	/* Also when a HEAD request failed later on (llhttp keeps the method
	 * of the previous request until it has read a new one whole). */
	bool head_only = s->method_seen && s->parser.method == HTTP_HEAD;
	bool keep_alive = !o->close && llhttp_should_keep_alive(&s->parser) &&
			  !s->parser.upgrade;
	bool http10 = s->parser.http_major == 1 && s->parser.http_minor == 0;
	struct kbuf j = {r->head_buf, sizeof(r->head_buf), 0};

	if (o->cached && status == 200) {
		/* Exactly what head_build() gives for this case. */
		enum head_conn v = !keep_alive ? HEAD_CLOSE
				   : http10    ? HEAD_KEEP10
					       : HEAD_KEEP;
		r->head = o->cached->text[v];
		r->head_len = o->cached->len[v];
		r->head_static = true;
		goto done;
	}
	head_build(&j, status, o, keep_alive, http10);
	if (j.len >= sizeof(r->head_buf)) {
		/* Not reached (callers keep variable parts short); a
		 * truncated head would desynchronise the client. */
		log_error("http: response head overflow (%zu bytes)", j.len);
		kfree(o->owned);
		respond_status(s, 500, true, NULL);
		return;
	}
	r->head = r->head_buf;
	r->head_len = j.len;
	r->head_static = false;
done:
	r->status = status;
	r->body = head_only ? NULL : o->body;
	r->body_len = head_only ? 0 : o->len;
	r->body_static = o->body_static;
	r->close = !keep_alive;
	s->resp_owned = o->owned;
	s->phase = HTTP_PHASE_RESPOND;
	http_count_status(status);
	if (s->limits.log)
		access_log(s);
}

/* A status with its one-line text/plain body. */
static void respond_status(struct http_session *s, int status, bool close,
			   const char *allow)
{
	const struct status_text *st = status_text(status);
	struct resp_opts o = {
	    .ctype = "text/plain; charset=utf-8",
	    .body = st->body,
	    .len = st->body_len,
	    .body_static = true,
	    .allow = allow,
	    .close = close,
	};

	respond(s, status, &o);
}

/* Does If-None-Match list this ETag (or "*")? Weak comparison, as RFC
 * 9110 13.1.2 asks for If-None-Match. */
static bool inm_matches(const struct http_session *s, const char *etag)
{
	size_t elen = strlen(etag);
	size_t i = 0, n = s->inm_len;
	const char *v = s->inm;

	if (!s->has_inm || s->inm_overflow)
		return false;
	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		if (i >= n)
			break;
		if (v[i] == '*')
			return true;
		if (i + 2 <= n && v[i] == 'W' && v[i + 1] == '/')
			i += 2;
		size_t start = i;
		if (i < n && v[i] == '"') {
			i++;
			while (i < n && v[i] != '"')
				i++;
			if (i < n)
				i++;
		}
		if (i - start == elen && memcmp(v + start, etag, elen) == 0)
			return true;
		while (i < n && v[i] != ',')
			i++;
	}
	return false;
}

static void respond_file(struct http_session *s, const struct www_file *f)
{
	struct resp_opts o = file_opts(f);

	o.cached = file_head_of(f);
	if (inm_matches(s, f->etag)) {
		struct resp_opts nm = {.etag = f->etag, .no_length = true};
		respond(s, 304, &nm);
		return;
	}
	respond(s, 200, &o);
}

#define STATS_FIRST_TRY 8192
#define STATS_SLACK	256
#define STATS_MAX	(256 * 1024)

/* A dynamic document from a provider (/stats, /metrics), no-store. */
static void respond_doc(struct http_session *s, http_doc_fn provider,
			const char *ctype)
{
	size_t cap = STATS_FIRST_TRY;

	for (int attempt = 0; attempt < 2; attempt++) {
		char *buf = kmalloc(cap);
		if (!buf) {
			respond_status(s, 503, true, NULL);
			return;
		}
		int n = provider(buf, cap);
		if (n >= 0 && (size_t)n < cap) {
			struct resp_opts o = {
			    .ctype = ctype,
			    .body = buf,
			    .len = (size_t)n,
			    .owned = buf,
			    .no_store = true,
			};
			respond(s, 200, &o);
			return;
		}
		kfree(buf);
		if (n < 0 || (size_t)n + 1 + STATS_SLACK > STATS_MAX)
			break;
		/* Some slack: allocating the larger buffer changes the heap's
		 * own counters, which can make the document a digit longer. */
		cap = (size_t)n + 1 + STATS_SLACK;
	}
	respond_status(s, 500, false, NULL);
}

static void respond_route(struct http_session *s)
{
	static const char ok[] = "ok\n";

	switch (s->route) {
	case ROUTE_FILE:
		respond_file(s, s->route_file);
		return;
	case ROUTE_REDIRECT: {
		/* Location: the path with its slash, re-encoded. The status
		 * body and head must fit HTTP_HEAD_MAX; a longer name is
		 * served directly (relative links in it may then break). */
		char loc[160];
		int n = encode_path(NORM_BUF(s), loc, sizeof(loc) - 1);
		if (n < 0) {
			respond_file(s, s->route_file);
			return;
		}
		loc[n] = '/';
		loc[n + 1] = '\0';
		const struct status_text *st = status_text(301);
		struct resp_opts o = {
		    .ctype = "text/plain; charset=utf-8",
		    .body = st->body,
		    .len = st->body_len,
		    .body_static = true,
		    .location = loc,
		};
		respond(s, 301, &o);
		return;
	}
	case ROUTE_STATS:
		respond_doc(s, http_route_provider(ROUTE_STATS),
			    "application/json");
		return;
	case ROUTE_METRICS:
		/* The Prometheus text exposition format's media type. */
		respond_doc(s, http_route_provider(ROUTE_METRICS),
			    "text/plain; version=0.0.4; charset=utf-8");
		return;
	case ROUTE_HEALTHZ: {
		struct resp_opts o = {
		    .ctype = "text/plain; charset=utf-8",
		    .body = ok,
		    .len = sizeof(ok) - 1,
		    .body_static = true,
		    .no_store = true,
		};
		respond(s, 200, &o);
		return;
	}
	case ROUTE_ECHO: {
		struct resp_opts o = {
		    .ctype = "application/octet-stream",
		    .body = s->body,
		    .len = s->body_len,
		    .owned = s->body,
		    .no_store = true,
		};
		/* The response owns the buffer now. */
		s->body = NULL;
		s->body_len = s->body_cap = 0;
		respond(s, 200, &o);
		return;
	}
	default:
		respond_status(s, 404, false, NULL);
		return;
	}
}

/* ---- Decisions at the end of the head ------------------------------------ */

static bool has_body(const llhttp_t *p)
{
	return (p->flags & F_CHUNKED) ||
	       ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0);
}

/* Runs when the head is complete (llhttp paused in on_headers_complete):
 * either answers at once (the body will not be read, the connection
 * closes), or records what to answer once the message is complete. */
static void headers_done(struct http_session *s)
{
	llhttp_t *p = &s->parser;
	int m = p->method;

	if (p->http_major != 1) {
		respond_status(s, 505, true, NULL);
		return;
	}
	/* Too large to read: answer now and close rather than swallow it. */
	if ((p->flags & F_CONTENT_LENGTH) &&
	    p->content_length > s->limits.max_body) {
		respond_status(s, 413, true, NULL);
		return;
	}
	if (m == HTTP_CONNECT) {
		/* llhttp treats what follows as another protocol. */
		respond_status(s, 405, true, "GET, HEAD, POST");
		return;
	}
	if (!method_is_standard(m)) {
		s->decided_status = 501;
	} else if (p->http_minor >= 1 && !s->has_host) {
		/* RFC 9112 3.2: a 1.1 request without Host is a 400. */
		s->decided_status = 400;
	} else {
		int n = -1;
		if (s->url)
			n = http_normalize_path(s->url, s->url_len, NORM_BUF(s),
						s->url_cap + 1);
		if (n < 0) {
			s->decided_status = 400;
		} else {
			route(s, NORM_BUF(s), (size_t)n);
			if (s->route == ROUTE_NONE)
				s->decided_status = 404;
			else if (!http_route_allows(s->route, m))
				s->decided_status = 405;
		}
	}
	if (!has_body(p))
		return;
	if (s->expect_continue && s->decided_status) {
		/* The client waits for our word before sending a body we
		 * would only discard: give the answer now and close, since
		 * it may send the body anyway. */
		respond_status(s, s->decided_status, true,
			       s->decided_status == 405
				   ? http_route_allow(s->route)
				   : NULL);
		return;
	}
	if (!s->decided_status && s->route == ROUTE_ECHO) {
		s->collect_body = true;
		if (p->flags & F_CONTENT_LENGTH) {
			s->body = kmalloc(p->content_length);
			if (!s->body) {
				respond_status(s, 503, true, NULL);
				return;
			}
			s->body_cap = p->content_length;
		}
	}
	if (s->expect_continue)
		s->want_continue = true;
}

/* llhttp refused the input: answer and close. */
static void parse_error(struct http_session *s, llhttp_errno_t err)
{
	int status = 400;

	if (s->error_status)
		status = s->error_status;
	else if (err == HPE_INVALID_METHOD)
		status =
		    s->method_scan == SCAN_TOKEN || s->method_scan == SCAN_SPACE
			? 501
			: 400;
	else if (err == HPE_INVALID_VERSION || err == HPE_PAUSED_H2_UPGRADE)
		status = 505;
	respond_status(s, status, true, NULL);
}

/* Classifies the first word of a request, in case llhttp does not know it
 * as a method: "FOO / HTTP/1.1" is a 501, binary junk a 400. */
static void scan_method(struct http_session *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n && s->method_scan < SCAN_SPACE; i++) {
		unsigned char c = (unsigned char)p[i];
		if (s->method_scan == SCAN_START && (c == '\r' || c == '\n'))
			continue;
		if (is_tchar(c))
			s->method_scan = SCAN_TOKEN;
		else if (c == ' ' && s->method_scan == SCAN_TOKEN)
			s->method_scan = SCAN_SPACE;
		else
			s->method_scan = SCAN_JUNK;
	}
}

/* ---- Session ------------------------------------------------------------- */

static void reset_request(struct http_session *s)
{
	if (s->url != s->url_inline)
		kfree(s->url);
	kfree(s->body);
	s->url = NULL;
	s->url_len = 0;
	s->url_cap = 0;
	s->body = NULL;
	s->body_len = s->body_cap = 0;
	s->body_seen = 0;
	s->head_bytes = 0;
	s->error_status = 0;
	s->method_scan = SCAN_START;
	s->method_seen = false;
	s->version_seen = false;
	s->field_len = 0;
	s->field_id = FIELD_OTHER;
	s->inm_len = 0;
	s->inm_overflow = false;
	s->has_inm = false;
	s->has_host = false;
	s->expect_continue = false;
	s->expect_len = 0;
	s->route = ROUTE_NONE;
	s->route_file = NULL;
	s->decided_status = 0;
	s->collect_body = false;
	s->want_continue = false;
}

void http_session_init(struct http_session *s)
{
	memset(s, 0, sizeof(*s));
	s->limits = http_limits;
	llhttp_init(&s->parser, HTTP_REQUEST, &http_settings);
	s->parser.data = s;
	s->phase = HTTP_PHASE_IDLE;
	reset_request(s);
}

void http_session_free(struct http_session *s)
{
	reset_request(s);
	kfree(s->resp_owned);
	s->resp_owned = NULL;
	s->phase = HTTP_PHASE_CLOSED;
}

size_t http_session_feed(struct http_session *s, const char *data, size_t len)
{
	size_t used = 0;
	bool kick = false;

	while ((used < len || kick) && s->phase < HTTP_PHASE_RESPOND &&
	       !s->want_continue) {
		const char *p = data + used;
		size_t n = len - used;
		bool in_head = s->phase <= HTTP_PHASE_HEAD;

		kick = false;
		if (in_head) {
			size_t room =
			    s->limits.max_header_bytes - s->head_bytes;
			if (n > room)
				n = room;
			scan_method(s, p, n);
		}
		llhttp_errno_t err = llhttp_execute(&s->parser, p, n);
		size_t done = n;
		if (err != HPE_OK) {
			const char *pos = llhttp_get_error_pos(&s->parser);
			if (pos >= p && pos <= p + n)
				done = (size_t)(pos - p);
		}
		used += done;
		if (in_head)
			s->head_bytes += (uint32_t)done;
		if (err == HPE_PAUSED) {
			llhttp_resume(&s->parser);
			if (in_head && s->phase == HTTP_PHASE_BODY) {
				headers_done(s);
				/* llhttp still has to look at the framing,
				 * even with no byte left (a GET ends here). */
				kick = true;
			}
			continue;
		}
		if (err != HPE_OK) {
			parse_error(s, err);
			return len;
		}
		if (s->phase <= HTTP_PHASE_HEAD &&
		    s->head_bytes >= s->limits.max_header_bytes) {
			/* The head used its whole allowance and is not
			 * complete. */
			respond_status(s, 431, true, NULL);
			return len;
		}
	}
	return used;
}

void http_session_continue_sent(struct http_session *s)
{
	s->want_continue = false;
}

void http_session_next(struct http_session *s)
{
	kfree(s->resp_owned);
	s->resp_owned = NULL;
	if (s->resp.close) {
		reset_request(s);
		s->phase = HTTP_PHASE_CLOSED;
		return;
	}
	reset_request(s);
	/* Field by field: head_buf is rewritten by the next response. */
	s->resp.status = 0;
	s->resp.head = NULL;
	s->resp.head_len = 0;
	s->resp.head_static = false;
	s->resp.body = NULL;
	s->resp.body_len = 0;
	s->resp.body_static = false;
	s->resp.close = false;
	s->phase = HTTP_PHASE_IDLE;
}

bool http_session_busy(const struct http_session *s)
{
	return s->phase == HTTP_PHASE_HEAD || s->phase == HTTP_PHASE_BODY ||
	       (s->phase == HTTP_PHASE_IDLE && s->head_bytes > 0);
}

bool http_session_timeout(struct http_session *s)
{
	if (!http_session_busy(s))
		return false;
	s->want_continue = false;
	respond_status(s, 408, true, NULL);
	return true;
}

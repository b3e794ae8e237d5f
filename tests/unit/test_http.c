/* Host tests of the HTTP request handling: the real services/http_parser.c and
 * llhttp, driven the way services/http_conn.c drives them, against a small
 * fixture site (or, built with TEST_REAL_SITE, the table generated from
 * www/). The kernel's heap and logger are replaced here by counting
 * versions with failure injection; ksnprintf is the kernel's own. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/heap.h"
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "services/http.h"
#include "services/www.h"
#include "tests/unit/check.h"

/* ---- Kernel stand-ins ---------------------------------------------------- */

static long allocs_live;	  /* blocks handed out and not freed */
static int alloc_fail_after = -1; /* >= 0: that many succeed, then fail */
static char last_log[512];
static int log_lines;

static bool alloc_may(void)
{
	if (alloc_fail_after == 0)
		return false;
	if (alloc_fail_after > 0)
		alloc_fail_after--;
	return true;
}

void *kmalloc(size_t size)
{
	void *p;

	if (!alloc_may())
		return NULL;
	p = malloc(size ? size : 1);
	if (p)
		allocs_live++;
	return p;
}

void *kcalloc(size_t n, size_t size)
{
	void *p;

	if (!alloc_may())
		return NULL;
	p = calloc(n ? n : 1, size ? size : 1);
	if (p)
		allocs_live++;
	return p;
}

void *krealloc(void *ptr, size_t size)
{
	void *p;

	if (!alloc_may())
		return NULL;
	p = realloc(ptr, size ? size : 1);
	if (p && !ptr)
		allocs_live++;
	return p;
}

void kfree(void *ptr)
{
	if (ptr)
		allocs_live--;
	free(ptr);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	va_end(ap);
	log_lines++;
	if (getenv("SKIFF_TEST_LOG"))
		fprintf(stderr, "    [log %d] %s\n", level, last_log);
}

void log_set_level(enum log_level level)
{
	(void)level;
}

/* /stats: a fixed document around the real "http" member. */
static int stats_mode; /* 0 normal, 1 huge, 2 error, 3 huge and growing */
static int stats_calls;

static int fixture_stats_json(char *buf, size_t cap)
{
	char http[2048];

	if (stats_mode == 2)
		return -5;
	if (stats_mode == 1 || stats_mode == 3) {
		/* 10000 bytes of JSON: more than the first buffer holds; in
		 * mode 3 one byte more at every call, as /stats grows when
		 * the first try's allocation moves the heap counters. */
		int pad = 9990 + (stats_mode == 3 ? stats_calls++ : 0);
		int n = snprintf(buf, cap, "{\"pad\":\"");
		for (int i = 0; i < pad; i++)
			if ((size_t)n + 1 < cap)
				buf[n++] = 'x', buf[n] = '\0';
			else
				n++;
		return n + snprintf(cap > (size_t)n ? buf + n : NULL,
				    cap > (size_t)n ? cap - n : 0, "\"}");
	}
	http_stats_json(http, sizeof(http));
	return snprintf(buf, cap, "{\"uptime_ms\":1,\"http\":%s}", http);
}

/* ---- The fixture site ---------------------------------------------------- */

#ifndef TEST_REAL_SITE
static unsigned char big[100000];
static const char idx[] = "<h1>home</h1>\n";
static const char docs_idx[] = "<h1>docs</h1>\n";
static const char page[] = "page\n";
static const char spaced[] = "spaced\n";

/* Sorted bytewise, as the generator sorts. */
const struct www_file www_files[] = {
    {"/a b.txt", "text/plain; charset=utf-8", "\"0000000000000001\"",
     (const unsigned char *)spaced, sizeof(spaced) - 1},
    {"/big.bin", "application/octet-stream", "\"0000000000000002\"", big,
     sizeof(big)},
    {"/docs/index.html", "text/html; charset=utf-8", "\"0000000000000003\"",
     (const unsigned char *)docs_idx, sizeof(docs_idx) - 1},
    {"/docs/page.html", "text/html; charset=utf-8", "\"0000000000000004\"",
     (const unsigned char *)page, sizeof(page) - 1},
    {"/empty.txt", "text/plain; charset=utf-8", "\"0000000000000005\"",
     (const unsigned char *)"", 0},
    {"/index.html", "text/html; charset=utf-8", "\"0000000000000006\"",
     (const unsigned char *)idx, sizeof(idx) - 1},
};
const size_t www_file_count = sizeof(www_files) / sizeof(www_files[0]);
const size_t www_total_bytes = 100000 + 7 + 14 + 14 + 5;
#define IDX_ETAG "\"0000000000000006\""
#endif

/* ---- Driving a session like the connection layer ------------------------- */

#define MAX_RESP 64

struct resp {
	int status;
	char head[HTTP_HEAD_MAX + 1];
	unsigned char *body;
	size_t body_len;
	bool close;
};

struct conv {
	struct resp r[MAX_RESP];
	int n;
	int continues;	 /* interim 100 responses seen */
	bool closed;	 /* a response closed the connection */
	size_t consumed; /* input bytes the session took */
	/* Everything sent, as one byte stream (heads, bodies, interims). */
	unsigned char *wire;
	size_t wire_len;
};

static void wire_add(struct conv *c, const void *p, size_t n)
{
	c->wire = realloc(c->wire, c->wire_len + n + 1);
	memcpy(c->wire + c->wire_len, p, n);
	c->wire_len += n;
}

static void conv_free(struct conv *c)
{
	for (int i = 0; i < c->n && i < MAX_RESP; i++)
		free(c->r[i].body);
	free(c->wire);
	memset(c, 0, sizeof(*c));
}

/* Takes whatever the session has to send, as http_pump does. */
static void drain(struct http_session *s, struct conv *c)
{
	for (;;) {
		if (s->want_continue) {
			wire_add(c, http_continue_response, http_continue_len);
			c->continues++;
			http_session_continue_sent(s);
			continue;
		}
		if (s->phase != HTTP_PHASE_RESPOND)
			return;
		if (c->n < MAX_RESP) {
			struct resp *r = &c->r[c->n];
			r->status = s->resp.status;
			memcpy(r->head, s->resp.head, s->resp.head_len);
			r->head[s->resp.head_len] = '\0';
			r->body_len = s->resp.body_len;
			r->body = malloc(r->body_len + 1);
			if (r->body_len)
				memcpy(r->body, s->resp.body, r->body_len);
			r->body[r->body_len] = '\0';
			r->close = s->resp.close;
		}
		c->n++;
		wire_add(c, s->resp.head, s->resp.head_len);
		if (s->resp.body_len)
			wire_add(c, s->resp.body, s->resp.body_len);
		bool close = s->resp.close;
		http_session_next(s);
		if (close) {
			c->closed = true;
			CHECK_EQ(s->phase, HTTP_PHASE_CLOSED);
			return;
		}
	}
}

/* Delivers in[0..len) in pieces of `chunk` bytes (0: all at once), with an
 * extra split at `split` when it is non-zero, feeding each piece until the
 * session has taken all it will. */
static void run_split(struct http_session *s, const void *in, size_t len,
		      size_t chunk, size_t split, struct conv *c)
{
	const char *p = in;
	size_t arrived = 0, off = 0;

	while (!c->closed) {
		size_t next = chunk ? arrived + chunk : len;
		if (split && arrived < split && next > split)
			next = split;
		if (next > len)
			next = len;
		arrived = next;
		for (int guard = 0; guard < 1000000; guard++) {
			drain(s, c);
			if (c->closed || off == arrived)
				break;
			size_t n = http_session_feed(s, p + off, arrived - off);
			if (n == 0 && s->phase != HTTP_PHASE_RESPOND &&
			    !s->want_continue) {
				CHECK(!"feed made no progress");
				return;
			}
			off += n;
		}
		drain(s, c);
		if (arrived == len)
			break;
	}
	c->consumed = off;
}

/* One fresh session over the whole input, freed afterwards. */
static void run_once(const char *in, size_t len, size_t chunk, struct conv *c)
{
	struct http_session s;

	http_session_init(&s);
	run_split(&s, in, len, chunk, 0, c);
	http_session_free(&s);
}

static void run_str(const char *in, struct conv *c)
{
	run_once(in, strlen(in), 0, c);
}

/* The value of a header in a response head ("" when absent). */
static const char *hdr(const struct resp *r, const char *name)
{
	static char val[256];
	size_t nl = strlen(name);
	const char *p = strstr(r->head, "\r\n");

	val[0] = '\0';
	while (p && p[2] != '\r') {
		p += 2;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1, *e = strstr(v, "\r\n");
			while (*v == ' ')
				v++;
			snprintf(val, sizeof(val), "%.*s", (int)(e - v), v);
			return val;
		}
		p = strstr(p, "\r\n");
	}
	return val;
}

static bool has_hdr(const struct resp *r, const char *name)
{
	char pat[64];

	snprintf(pat, sizeof(pat), "\r\n%s:", name);
	return strstr(r->head, pat) != NULL;
}

/* Every response must be well-formed: status line, CRLF-terminated head,
 * Content-Length equal to the body sent (HEAD and 304 aside), and
 * "Connection: close" exactly when the session closes. */
static void check_well_formed(const struct resp *r, bool head_request)
{
	char line[32];

	snprintf(line, sizeof(line), "HTTP/1.1 %d ", r->status);
	CHECK(strncmp(r->head, line, strlen(line)) == 0);
	size_t hl = strlen(r->head);
	CHECK(hl >= 4 && strcmp(r->head + hl - 4, "\r\n\r\n") == 0);
	if (r->status == 304) {
		CHECK(!has_hdr(r, "Content-Length"));
		CHECK_EQ(r->body_len, 0);
	} else {
		CHECK(has_hdr(r, "Content-Length"));
		if (!head_request)
			CHECK_EQ(strtoul(hdr(r, "Content-Length"), NULL, 10),
				 r->body_len);
		else
			CHECK_EQ(r->body_len, 0);
	}
	CHECK_EQ(strcmp(hdr(r, "Connection"), "close") == 0, r->close);
}

static struct http_limits default_limits(void)
{
	struct http_limits l = HTTP_LIMITS_DEFAULT;
	return l;
}

/* Each test starts from the defaults, and must end with nothing allocated. */
static void setup(void)
{
	struct http_limits l = default_limits();

	http_set_limits(&l);
	memset(&http_counters, 0, sizeof(http_counters));
	alloc_fail_after = -1;
	stats_mode = 0;
	http_set_stats_provider(fixture_stats_json);
	allocs_live = 0;
}

static void teardown(void)
{
	CHECK_EQ(allocs_live, 0);
	alloc_fail_after = -1;
}

static __attribute__((unused)) int expect_one(const char *req, int status)
{
	struct conv c = {0};
	int got;

	run_str(req, &c);
	CHECK_EQ(c.n, 1);
	got = c.n ? c.r[0].status : 0;
	if (got != status)
		fprintf(stderr, "  request %.60s... -> %d, want %d\n", req, got,
			status);
	CHECK_EQ(got, status);
	if (c.n)
		check_well_formed(&c.r[0], strncmp(req, "HEAD ", 5) == 0);
	conv_free(&c);
	return got;
}

static __attribute__((unused)) char *repeat(char ch, size_t n)
{
	char *s = malloc(n + 1);
	memset(s, ch, n);
	s[n] = '\0';
	return s;
}

#ifndef TEST_REAL_SITE

/* ---- Static files -------------------------------------------------------- */

TEST(get_index)
{
	struct conv c = {0};

	setup();
	run_str("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &c);
	CHECK_EQ(c.n, 1);
	CHECK_EQ(c.r[0].status, 200);
	check_well_formed(&c.r[0], false);
	CHECK_STR(hdr(&c.r[0], "Content-Type"), "text/html; charset=utf-8");
	CHECK_STR(hdr(&c.r[0], "ETag"), IDX_ETAG);
	CHECK_STR((char *)c.r[0].body, "<h1>home</h1>\n");
	CHECK(!c.r[0].close);
	CHECK(!has_hdr(&c.r[0], "Connection"));
	CHECK(!c.closed);
	CHECK_EQ(http_counters.by_code[HTTP_CODE_IDX_200], 1);
	CHECK_EQ(http_counters.by_class[2], 1);
	conv_free(&c);
	teardown();
}

TEST(static_body_is_not_copied)
{
	struct http_session s;

	setup();
	http_session_init(&s);
	const char *req = "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n";
	CHECK_EQ(http_session_feed(&s, req, strlen(req)), strlen(req));
	CHECK_EQ(s.phase, HTTP_PHASE_RESPOND);
	/* The connection layer may hand this pointer to TCP as it is. */
	CHECK(s.resp.body == big);
	CHECK_EQ(s.resp.body_len, sizeof(big));
	CHECK(s.resp.body_static);
	http_session_next(&s);
	http_session_free(&s);
	teardown();
}

TEST(head_has_length_but_no_body)
{
	struct conv c = {0};

	setup();
	run_str("HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n", &c);
	CHECK_EQ(c.n, 1);
	CHECK_EQ(c.r[0].status, 200);
	check_well_formed(&c.r[0], true);
	CHECK_STR(hdr(&c.r[0], "Content-Length"), "100000");
	CHECK_EQ(c.r[0].body_len, 0);
	conv_free(&c);
	/* HEAD of an error: no body either. */
	run_str("HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n", &c);
	CHECK_EQ(c.r[0].status, 404);
	check_well_formed(&c.r[0], true);
	conv_free(&c);
	teardown();
}

TEST(empty_file)
{
	struct conv c = {0};

	setup();
	run_str("GET /empty.txt HTTP/1.1\r\nHost: x\r\n\r\n", &c);
	CHECK_EQ(c.r[0].status, 200);
	check_well_formed(&c.r[0], false);
	CHECK_STR(hdr(&c.r[0], "Content-Length"), "0");
	conv_free(&c);
	teardown();
}

TEST(if_none_match)
{
	setup();
	expect_one("GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: " IDX_ETAG
		   "\r\n\r\n",
		   304);
	expect_one(
	    "GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"a\", W/" IDX_ETAG
	    "\r\n\r\n",
	    304);
	expect_one("GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: *\r\n\r\n",
		   304);
	expect_one("HEAD / HTTP/1.1\r\nHost: x\r\nIf-None-Match: " IDX_ETAG
		   "\r\n\r\n",
		   304);
	/* Two header lines make one list. */
	expect_one("GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"a\"\r\n"
		   "If-None-Match: " IDX_ETAG "\r\n\r\n",
		   304);
	expect_one(
	    "GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"nope\"\r\n\r\n",
	    200);
	/* A prefix or an unquoted tag is not the tag. */
	expect_one("GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: "
		   "\"000000000000000\"\r\n\r\n",
		   200);
	expect_one("GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: "
		   "0000000000000006\r\n\r\n",
		   200);
	/* A list longer than we keep never matches. */
	char *pad = repeat('a', HTTP_INM_MAX);
	char req[1024];
	snprintf(
	    req, sizeof(req),
	    "GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"%s\", %s\r\n\r\n",
	    pad, IDX_ETAG);
	expect_one(req, 200);
	free(pad);

	struct conv c = {0};
	run_str("GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: " IDX_ETAG
		"\r\n\r\n",
		&c);
	CHECK_STR(hdr(&c.r[0], "ETag"), IDX_ETAG);
	CHECK(!has_hdr(&c.r[0], "Content-Type"));
	conv_free(&c);
	CHECK(http_counters.by_code[HTTP_CODE_IDX_304] >= 5);
	teardown();
}

TEST(directories_and_paths)
{
	struct conv c = {0};

	setup();
	run_str("GET /docs/ HTTP/1.1\r\nHost: x\r\n\r\n", &c);
	CHECK_EQ(c.r[0].status, 200);
	CHECK_STR((char *)c.r[0].body, "<h1>docs</h1>\n");
	conv_free(&c);

	run_str("GET /docs HTTP/1.1\r\nHost: x\r\n\r\n", &c);
	CHECK_EQ(c.r[0].status, 301);
	check_well_formed(&c.r[0], false);
	CHECK_STR(hdr(&c.r[0], "Location"), "/docs/");
	conv_free(&c);

	run_str("GET /docs?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", &c);
	CHECK_EQ(c.r[0].status, 301);
	CHECK_STR(hdr(&c.r[0], "Location"), "/docs/");
	conv_free(&c);

	expect_one("GET /docs/page.html HTTP/1.1\r\nHost: x\r\n\r\n", 200);
	expect_one("GET /a%20b.txt HTTP/1.1\r\nHost: x\r\n\r\n", 200);
	expect_one("GET //index.html HTTP/1.1\r\nHost: x\r\n\r\n", 200);
	expect_one("GET /./index.html HTTP/1.1\r\nHost: x\r\n\r\n", 200);
	expect_one("GET /docs/../index.html HTTP/1.1\r\nHost: x\r\n\r\n", 200);
	expect_one("GET /docs/%2e%2E/index.html HTTP/1.1\r\nHost: x\r\n\r\n",
		   200);
	expect_one("GET /%69ndex.html?q=/../.. HTTP/1.1\r\nHost: x\r\n\r\n",
		   200);
	expect_one("GET http://example.org/docs/page.html HTTP/1.1\r\n"
		   "Host: example.org\r\n\r\n",
		   200);
	expect_one("GET /index.html/ HTTP/1.1\r\nHost: x\r\n\r\n", 404);
	expect_one("GET /nothing/ HTTP/1.1\r\nHost: x\r\n\r\n", 404);
	expect_one("GET /INDEX.HTML HTTP/1.1\r\nHost: x\r\n\r\n", 404);
	teardown();
}

TEST(path_traversal_is_refused)
{
	static const char *const bad[] = {
	    "/../index.html",
	    "/..",
	    "/%2e%2e/index.html",
	    "/%2E%2e",
	    "/docs/../../index.html",
	    "/docs/..%2f..%2findex.html",
	    "/%2e%2e%2findex.html",
	    "/./../index.html",
	    "//../index.html",
	    "/a/b/../../../index.html",
	    "/index.html%00",
	    "/%00",
	    "/%",
	    "/%2",
	    "/%zz",
	    "/%g0/",
	    "*",
	};
	char req[256];

	setup();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
			 bad[i]);
		expect_one(req, 400);
	}
	teardown();
}

TEST(normalize_path)
{
	static const struct {
		const char *in, *out; /* out NULL: refused */
	} cases[] = {
	    {"/", "/"},
	    {"/a/b", "/a/b"},
	    {"/a/b/", "/a/b/"},
	    {"//a///b", "/a/b"},
	    {"/a/./b/.", "/a/b/"},
	    {"/a/../b", "/b"},
	    {"/a/b/..", "/a/"},
	    {"/a/b/../..", "/"},
	    {"/a/b/../../..", NULL},
	    {"/..", NULL},
	    {"/../", NULL},
	    {"/.../x", "/.../x"},
	    {"/..a/x", "/..a/x"},
	    {"/%41%42", "/AB"},
	    {"/a%2Fb", "/a/b"},
	    {"/a%2f..%2f..%2fb", NULL},
	    {"/%2e", "/"},
	    {"/%2e%2e", NULL},
	    {"/a?x=/../..", "/a"},
	    {"/a#frag", "/a"},
	    {"/%00", NULL},
	    {"/%0", NULL},
	    {"/%", NULL},
	    {"/%+1", NULL},
	    {"a/b", NULL},
	    {"", NULL},
	    {"http://h", "/"},
	    {"http://h?q", "/"},
	    {"HTTP://h/x/../y", "/y"},
	    {"https://h:443/a/", "/a/"},
	    {"http://h/..", NULL},
	    {"/a b", "/a b"},
	};
	char out[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = http_normalize_path(cases[i].in, strlen(cases[i].in),
					    out, sizeof(out));
		if (!cases[i].out) {
			if (n >= 0)
				fprintf(stderr, "  %s -> %s, want refusal\n",
					cases[i].in, out);
			CHECK(n < 0);
		} else {
			CHECK(n >= 0);
			if (n >= 0) {
				CHECK_STR(out, cases[i].out);
				CHECK_EQ(n, strlen(cases[i].out));
			}
		}
	}
	/* A raw NUL is refused like an encoded one. */
	CHECK(http_normalize_path("/a\0b", 4, out, sizeof(out)) < 0);
	/* In place, as the session may use it. */
	char inplace[] = "/a/./b/../c%2Fd";
	CHECK_EQ(http_normalize_path(inplace, strlen(inplace), inplace,
				     sizeof(inplace)),
		 6);
	CHECK_STR(inplace, "/a/c/d");
	/* Too small an output is a refusal, not an overflow. */
	CHECK(http_normalize_path("/abcdef", 7, out, 4) < 0);
	CHECK(http_normalize_path("/abc", 4, out, 5) == 4);
}

TEST(www_lookup_finds_every_entry)
{
	for (size_t i = 0; i < www_file_count; i++) {
		const char *p = www_files[i].path;
		CHECK(www_lookup(p, strlen(p)) == &www_files[i]);
		if (i)
			CHECK(strcmp(www_files[i - 1].path, p) < 0);
	}
	CHECK(www_lookup("/", 1) == NULL);
	CHECK(www_lookup("/docs", 5) == NULL);
	CHECK(www_lookup("/index.htm", 10) == NULL);
	CHECK(www_lookup("/index.htmlx", 12) == NULL);
	CHECK(www_lookup("/index.html", 11) != NULL);
}

/* ---- Dynamic routes ------------------------------------------------------ */

TEST(healthz)
{
	struct conv c = {0};

	setup();
	run_str("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", &c);
	CHECK_EQ(c.r[0].status, 200);
	check_well_formed(&c.r[0], false);
	CHECK_STR((char *)c.r[0].body, "ok\n");
	CHECK_STR(hdr(&c.r[0], "Cache-Control"), "no-store");
	conv_free(&c);
	expect_one("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 200);
	teardown();
}

TEST(stats)
{
	struct conv c = {0};

	setup();
	run_str("GET /stats HTTP/1.1\r\nHost: x\r\n\r\n", &c);
	CHECK_EQ(c.r[0].status, 200);
	check_well_formed(&c.r[0], false);
	CHECK_STR(hdr(&c.r[0], "Content-Type"), "application/json");
	CHECK_STR(hdr(&c.r[0], "Cache-Control"), "no-store");
	CHECK(strncmp((char *)c.r[0].body, "{\"uptime_ms\":1,\"http\":{", 23) ==
	      0);
	CHECK(strstr((char *)c.r[0].body, "\"by_status\":{\"200\":") != NULL);
	conv_free(&c);

	/* Larger than the first buffer: retried with the size it asked. */
	stats_mode = 1;
	run_str("GET /stats HTTP/1.1\r\nHost: x\r\n\r\n", &c);
	CHECK_EQ(c.r[0].status, 200);
	CHECK_EQ(c.r[0].body_len, 10000);
	check_well_formed(&c.r[0], false);
	conv_free(&c);

	/* ... and one that grew between the two tries still fits */
	stats_mode = 3;
	stats_calls = 0;
	run_str("GET /stats HTTP/1.1\r\nHost: x\r\n\r\n", &c);
	CHECK_EQ(c.r[0].status, 200);
	CHECK_EQ(c.r[0].body_len, 10001);
	CHECK_EQ(stats_calls, 2);
	conv_free(&c);

	stats_mode = 2;
	expect_one("GET /stats HTTP/1.1\r\nHost: x\r\n\r\n", 500);
	stats_mode = 0;
	expect_one("HEAD /stats HTTP/1.1\r\nHost: x\r\n\r\n", 200);
	expect_one(
	    "POST /stats HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
	    405);
	teardown();
}

TEST(stats_json_shape_and_truncation)
{
	char buf[2048], small[40];
	int n, depth = 0;

	setup();
	expect_one("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404);
	http_counters.active = 3;
	n = http_stats_json(buf, sizeof(buf));
	CHECK(n > 0 && (size_t)n < sizeof(buf));
	CHECK_EQ(strlen(buf), n);
	for (int i = 0; i < n; i++) {
		depth += buf[i] == '{';
		depth -= buf[i] == '}';
		CHECK(depth >= 0);
	}
	CHECK_EQ(depth, 0);
	CHECK(strstr(buf, "\"requests\":1,") != NULL);
	CHECK(strstr(buf, "\"active\":3,") != NULL);
	CHECK(strstr(buf, "\"4xx\":1") != NULL);
	CHECK(strstr(buf, "\"404\":1") != NULL);
	CHECK(strstr(buf, "\"max_conns\":128") != NULL);
	CHECK(strstr(buf, "\"header_timeout_ms\":10000") != NULL);
	CHECK(strstr(buf, "\"log\":false") != NULL);
	/* Truncated: NUL-terminated, and the full length is reported. */
	CHECK_EQ(http_stats_json(small, sizeof(small)), n);
	CHECK_EQ(strlen(small), sizeof(small) - 1);
	CHECK_EQ(http_stats_json(NULL, 0), n);
	http_counters.active = 0;
	teardown();
}

/* Every member of HTTP's /stats object, by name and in order, with a
 * distinct value per counter: pinned byte for byte (written from the
 * descriptor tables in services/http_parser.c). */
TEST(stats_json_pinned)
{
	struct http_limits l = {.max_conns = 77,
				.max_header_bytes = 4000,
				.max_uri = 1000,
				.max_body = 5000,
				.idle_timeout_ms = 1234,
				.header_timeout_ms = 2345,
				.log = true,
				.max_conns_per_ip = 9};
	uint64_t *u = (uint64_t *)&http_counters;
	char buf[2048];

	setup();
	for (size_t i = 0; i < offsetof(struct http_counters, active) / 8; i++)
		u[i] = 100 + i;
	http_counters.active = 7;
	http_counters.active_peak = 0x80000001u;
	http_set_limits(&l);
	CHECK_EQ(http_stats_json(buf, sizeof(buf)), strlen(buf));
	CHECK_EQ(
	    strcmp(
		buf,
		"{\"requests\":100,\"active\":7,\"active_peak\":2147483649,"
		"\"accepted\":121,\"refused\":122,\"timeouts\":123,\"resets\":"
		"124,"
		"\"bytes_received\":125,\"bytes_sent\":126,\"by_class\":{"
		"\"1xx\":102,\"2xx\":103,\"3xx\":104,\"4xx\":105,\"5xx\":106},"
		"\"by_status\":{\"200\":107,\"301\":108,\"304\":109,\"400\":"
		"110,"
		"\"404\":111,\"405\":112,\"408\":113,\"413\":114,\"414\":115,"
		"\"431\":116,\"500\":117,\"501\":118,\"503\":119,\"505\":120},"
		"\"limits\":{\"max_conns\":77,\"max_header_bytes\":4000,"
		"\"max_uri\":1000,\"max_body\":5000,\"idle_timeout_ms\":1234,"
		"\"header_timeout_ms\":2345,\"log\":true,"
		"\"max_conns_per_ip\":9},\"defence\":{\"refused_per_ip\":0,"
		"\"refused_reset\":0,\"evicted_idle\":0,\"pressure_resets\":"
		"0,\"pressure_ticks\":0},\"site\":{"
		"\"files\":6,\"bytes\":100040}}"),
	    0);
	memset(&http_counters, 0, sizeof(http_counters));
	l = default_limits();
	http_set_limits(&l);
	teardown();
}

TEST(echo)
{
	struct conv c = {0};

	setup();
	run_str(
	    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
	    &c);
	CHECK_EQ(c.r[0].status, 200);
	check_well_formed(&c.r[0], false);
	CHECK_STR((char *)c.r[0].body, "hello");
	CHECK_STR(hdr(&c.r[0], "Content-Type"), "application/octet-stream");
	conv_free(&c);

	run_str("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
		"chunked\r\n\r\n"
		"3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nTrailer: x\r\n\r\n",
		&c);
	CHECK_EQ(c.r[0].status, 200);
	CHECK_STR((char *)c.r[0].body, "abcdefg");
	conv_free(&c);

	run_str("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
		&c);
	CHECK_EQ(c.r[0].status, 200);
	CHECK_STR(hdr(&c.r[0], "Content-Length"), "0");
	conv_free(&c);

	/* A body of exactly max_body, in both framings. */
	struct http_limits l = default_limits();
	l.max_body = 10000;
	http_set_limits(&l);
	char *body = repeat('b', 10000);
	char *req = malloc(20000 + 200);
	sprintf(
	    req,
	    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n%s",
	    body);
	run_str(req, &c);
	CHECK_EQ(c.r[0].status, 200);
	CHECK_EQ(c.r[0].body_len, 10000);
	CHECK(memcmp(c.r[0].body, body, 10000) == 0);
	conv_free(&c);
	sprintf(req,
		"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
		"chunked\r\n\r\n"
		"1388\r\n%.5000s\r\n1388\r\n%.5000s\r\n0\r\n\r\n",
		body, body);
	run_str(req, &c);
	CHECK_EQ(c.r[0].status, 200);
	CHECK_EQ(c.r[0].body_len, 10000);
	conv_free(&c);
	free(body);
	free(req);
	teardown();
}

TEST(expect_continue)
{
	struct conv c = {0};

	setup();
	run_str("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
		"Expect: 100-continue\r\n\r\nhi",
		&c);
	CHECK_EQ(c.continues, 1);
	CHECK_EQ(c.n, 1);
	CHECK_EQ(c.r[0].status, 200);
	CHECK_STR((char *)c.r[0].body, "hi");
	CHECK(memcmp(c.wire, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 ",
		     38) == 0);
	conv_free(&c);
	/* Refused anyway: answer at once and close, no 100. */
	run_str("POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
		"Expect: 100-continue\r\n\r\nhi",
		&c);
	CHECK_EQ(c.continues, 0);
	CHECK_EQ(c.r[0].status, 404);
	CHECK(c.closed);
	conv_free(&c);
	/* An unknown expectation is ignored. */
	run_str("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
		"Expect: 100-continue-ish\r\n\r\nhi",
		&c);
	CHECK_EQ(c.continues, 0);
	CHECK_EQ(c.r[0].status, 200);
	conv_free(&c);
	teardown();
}

/* ---- Errors -------------------------------------------------------------- */

TEST(status_400)
{
	setup();
	expect_one("GET / HTTP/1.1\r\n\r\n", 400); /* no Host */
	expect_one("GET / HTTX/1.1\r\nHost: x\r\n\r\n", 400);
	expect_one("GET / HTTP/1.1\r\nHo st: x\r\n\r\n", 400);
	expect_one("GET / HTTP/1.1\r\nHost: x\x01\r\n\r\n", 400);
	expect_one("GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n", 400);
	expect_one("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
		   "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		   400);
	expect_one("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n",
		   400);
	expect_one("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
		   "Content-Length: 2\r\n\r\n",
		   400);
	expect_one("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
		   "chunked\r\n\r\n"
		   "zz\r\n",
		   400);
	expect_one("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
		   400); /* TLS */
	teardown();
}

TEST(status_400_closes_only_when_needed)
{
	struct conv c = {0};

	setup();
	/* A parse error: the stream cannot be trusted. */
	run_str("GET / HTTX/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: "
		"x\r\n\r\n",
		&c);
	CHECK_EQ(c.n, 1);
	CHECK(c.closed);
	conv_free(&c);
	/* A well-framed request we refuse: the next one is answered. */
	run_str("GET /%zz HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: "
		"x\r\n\r\n",
		&c);
	CHECK_EQ(c.n, 2);
	CHECK_EQ(c.r[0].status, 400);
	CHECK(!c.r[0].close);
	CHECK_EQ(c.r[1].status, 200);
	conv_free(&c);
	teardown();
}

TEST(status_404_keeps_connection)
{
	struct conv c = {0};

	setup();
	run_str("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
		"POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		&c);
	CHECK_EQ(c.n, 3);
	CHECK_EQ(c.r[0].status, 404);
	CHECK_EQ(c.r[1].status, 404);
	CHECK_EQ(c.r[2].status, 200);
	for (int i = 0; i < 3; i++)
		check_well_formed(&c.r[i], false);
	CHECK(!c.closed);
	conv_free(&c);
	teardown();
}

TEST(status_405_with_allow)
{
	struct conv c = {0};

	setup();
	run_str("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab",
		&c);
	CHECK_EQ(c.r[0].status, 405);
	CHECK_STR(hdr(&c.r[0], "Allow"), "GET, HEAD");
	CHECK(!c.r[0].close);
	check_well_formed(&c.r[0], false);
	conv_free(&c);
	run_str("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", &c);
	CHECK_EQ(c.r[0].status, 405);
	CHECK_STR(hdr(&c.r[0], "Allow"), "POST");
	conv_free(&c);
	expect_one("DELETE /index.html HTTP/1.1\r\nHost: x\r\n\r\n", 405);
	expect_one("PUT /docs HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
		   405);
	expect_one("OPTIONS /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 405);
	/* CONNECT switches llhttp to another protocol: answer and close. */
	run_str("CONNECT example.org:443 HTTP/1.1\r\nHost: x\r\n\r\n", &c);
	CHECK_EQ(c.r[0].status, 405);
	CHECK(c.closed);
	conv_free(&c);
	teardown();
}

TEST(status_413)
{
	struct conv c = {0};
	struct http_limits l = default_limits();

	setup();
	l.max_body = 100;
	http_set_limits(&l);
	run_str("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n",
		&c);
	CHECK_EQ(c.r[0].status, 413);
	CHECK(c.closed);
	check_well_formed(&c.r[0], false);
	conv_free(&c);
	/* Any route: the body would have to be read to stay in sync. */
	expect_one(
	    "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n",
	    413);
	expect_one("POST /echo HTTP/1.1\r\nHost: x\r\n"
		   "Content-Length: 18446744073709551615\r\n\r\n",
		   413);
	/* Chunked: found out on the way. */
	char *chunk = repeat('c', 60);
	char req[512];
	snprintf(req, sizeof(req),
		 "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
		 "chunked\r\n\r\n"
		 "3c\r\n%s\r\n3c\r\n%s\r\n0\r\n\r\n",
		 chunk, chunk);
	run_str(req, &c);
	CHECK_EQ(c.n, 1);
	CHECK_EQ(c.r[0].status, 413);
	CHECK(c.closed);
	conv_free(&c);
	free(chunk);
	/* A discarded body counts too. */
	expect_one("POST /nope HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
		   "chunked\r\n\r\n"
		   "ff\r\n",
		   413);
	teardown();
}

TEST(status_414)
{
	struct http_limits l = default_limits();
	char *path, *req;
	struct conv c = {0};

	setup();
	l.max_uri = 100;
	http_set_limits(&l);
	req = malloc(4096);
	path = repeat('p', 99);
	sprintf(req, "GET /%s HTTP/1.1\r\nHost: x\r\n\r\n", path);
	expect_one(req, 404); /* exactly max_uri */
	free(path);
	path = repeat('p', 100);
	sprintf(req, "GET /%s HTTP/1.1\r\nHost: x\r\n\r\n", path);
	run_str(req, &c);
	CHECK_EQ(c.r[0].status, 414);
	CHECK(c.closed);
	check_well_formed(&c.r[0], false);
	conv_free(&c);
	/* Split anywhere, the answer is the same. */
	for (size_t chunk = 1; chunk < 8; chunk++) {
		run_once(req, strlen(req), chunk, &c);
		CHECK_EQ(c.r[0].status, 414);
		conv_free(&c);
	}
	free(path);
	free(req);
	/* The default: 2048. */
	setup();
	path = repeat('q', 5000);
	req = malloc(6000);
	sprintf(req, "GET /%s HTTP/1.1\r\nHost: x\r\n\r\n", path);
	expect_one(req, 414);
	free(path);
	free(req);
	teardown();
}

TEST(status_431)
{
	struct http_limits l = default_limits();
	struct conv c = {0};
	char req[2048];
	size_t base;

	setup();
	l.max_header_bytes = 1024;
	l.max_uri = 256;
	http_set_limits(&l);
	/* Exactly 1024 bytes of head is fine, 1025 is not. */
	snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ");
	base = strlen(req);
	memset(req + base, 'z', 1024 - base - 4);
	memcpy(req + 1024 - 4, "\r\n\r\n", 5);
	CHECK_EQ(strlen(req), 1024);
	expect_one(req, 200);
	memset(req + base, 'z', 1025 - base - 4);
	memcpy(req + 1025 - 4, "\r\n\r\n", 5);
	run_str(req, &c);
	CHECK_EQ(c.r[0].status, 431);
	CHECK(c.closed);
	check_well_formed(&c.r[0], false);
	conv_free(&c);
	/* Many small headers, split into one-byte reads. */
	req[0] = '\0';
	strcat(req, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < 200; i++)
		strcat(req, "A: b\r\n");
	strcat(req, "\r\n");
	run_once(req, strlen(req), 1, &c);
	CHECK_EQ(c.r[0].status, 431);
	conv_free(&c);
	/* Endless empty lines before a request count against it too. */
	char *crlf = malloc(4000);
	for (int i = 0; i < 1999; i++)
		memcpy(crlf + 2 * i, "\r\n", 2);
	crlf[3998] = '\0';
	expect_one(crlf, 431);
	free(crlf);
	teardown();
}

TEST(status_501)
{
	struct conv c = {0};

	setup();
	/* llhttp does not know it: the parse fails, answer and close. */
	run_str("FOO / HTTP/1.1\r\nHost: x\r\n\r\n", &c);
	CHECK_EQ(c.r[0].status, 501);
	CHECK(c.closed);
	check_well_formed(&c.r[0], false);
	conv_free(&c);
	for (size_t chunk = 1; chunk < 5; chunk++) {
		run_once("BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n", 31, chunk,
			 &c);
		CHECK_EQ(c.r[0].status, 501);
		conv_free(&c);
	}
	/* llhttp knows it but we do not implement it: the stream is fine. */
	run_str("PROPFIND / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: "
		"x\r\n\r\n",
		&c);
	CHECK_EQ(c.n, 2);
	CHECK_EQ(c.r[0].status, 501);
	CHECK(!c.r[0].close);
	CHECK_EQ(c.r[1].status, 200);
	conv_free(&c);
	expect_one("M-SEARCH * HTTP/1.1\r\nHost: x\r\n\r\n", 501);
	teardown();
}

TEST(status_505)
{
	setup();
	expect_one("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505);
	expect_one("GET / HTTP/1.9\r\nHost: x\r\n\r\n", 505);
	expect_one("GET / HTTP/0.9\r\n\r\n", 505);
	expect_one("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505);
	teardown();
}

TEST(status_408_on_timeout)
{
	struct http_session s;
	struct conv c = {0};

	setup();
	http_session_init(&s);
	CHECK(!http_session_busy(&s));
	CHECK(!http_session_timeout(&s)); /* idle: nothing to answer */
	CHECK_EQ(http_session_feed(&s, "GET / HT", 8), 8);
	CHECK(http_session_busy(&s));
	CHECK(http_session_timeout(&s));
	drain(&s, &c);
	CHECK_EQ(c.r[0].status, 408);
	CHECK(c.closed);
	check_well_formed(&c.r[0], false);
	conv_free(&c);
	http_session_free(&s);

	/* In the body. */
	http_session_init(&s);
	const char *req =
	    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nabc";
	CHECK_EQ(http_session_feed(&s, req, strlen(req)), strlen(req));
	CHECK_EQ(s.phase, HTTP_PHASE_BODY);
	CHECK(http_session_timeout(&s));
	drain(&s, &c);
	CHECK_EQ(c.r[0].status, 408);
	conv_free(&c);
	http_session_free(&s);
	teardown();
}

/* 120 bytes: past HTTP_URL_INLINE_MAX. */
#define LONG_NAME                                                              \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
_Static_assert(sizeof(LONG_NAME) - 1 > HTTP_URL_INLINE_MAX, "long name");

TEST(short_targets_allocate_nothing)
{
	struct conv c = {0};

	setup();
	alloc_fail_after = 0;
	run_str("GET /docs/page.html HTTP/1.1\r\nHost: x\r\n\r\n", &c);
	CHECK_EQ(c.r[0].status, 200);
	conv_free(&c);
	/* A long one still works, from the heap, and is freed. */
	alloc_fail_after = -1;
	run_str("GET /" LONG_NAME " HTTP/1.1\r\nHost: x\r\n\r\n", &c);
	CHECK_EQ(c.r[0].status, 404);
	conv_free(&c);
	teardown();
}

/* The cached head of a file is byte for byte what would be built, is
 * used only where it applies, and is sent by reference. */
TEST(cached_file_heads_match_built_ones)
{
	static const char *const reqs[] = {
	    "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
	    "HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n",
	    "GET /empty.txt HTTP/1.1\r\nHost: x\r\n\r\n",
	    "GET /docs/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	    "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	    "GET / HTTP/1.0\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: " IDX_ETAG "\r\n\r\n",
	    "GET /docs HTTP/1.1\r\nHost: x\r\n\r\n",
	};
	/* Any 200 of a file; not a 304 nor a redirect. */
	static const bool cached[] = {true, true, true,	 true,
				      true, true, false, false};

	setup();
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		struct conv plain = {0}, fast = {0};
		struct http_session s;

		run_str(reqs[i], &plain);
		CHECK_EQ(http_file_heads_init(), 0);
		run_str(reqs[i], &fast);
		CHECK_EQ(plain.wire_len, fast.wire_len);
		CHECK(plain.wire_len == fast.wire_len &&
		      memcmp(plain.wire, fast.wire, plain.wire_len) == 0);
		http_session_init(&s);
		CHECK_EQ(http_session_feed(&s, reqs[i], strlen(reqs[i])),
			 strlen(reqs[i]));
		CHECK_EQ(s.phase, HTTP_PHASE_RESPOND);
		CHECK_EQ(s.resp.head_static, cached[i]);
		http_session_next(&s);
		http_session_free(&s);
		http_file_heads_free();
		conv_free(&plain);
		conv_free(&fast);
	}
	/* Without memory for them, heads are built per request. */
	alloc_fail_after = 0;
	CHECK_EQ(http_file_heads_init(), -ENOMEM);
	alloc_fail_after = -1;
	{
		struct conv c = {0};
		run_str(reqs[0], &c);
		CHECK_EQ(c.r[0].status, 200);
		conv_free(&c);
	}
	teardown();
}

TEST(status_503_when_memory_is_short)
{
	struct conv c = {0};

	setup();
	/* A target longer than the session's own buffer moves to the heap:
	 * the first allocation of such a request. */
	alloc_fail_after = 0;
	run_str("GET /" LONG_NAME " HTTP/1.1\r\nHost: x\r\n\r\n", &c);
	CHECK_EQ(c.r[0].status, 503);
	CHECK(c.closed);
	CHECK_STR(hdr(&c.r[0], "Retry-After"), "1");
	check_well_formed(&c.r[0], false);
	conv_free(&c);
	/* With a short target, the echo buffer is the first. */
	alloc_fail_after = 0;
	run_str(
	    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
	    &c);
	CHECK_EQ(c.r[0].status, 503);
	conv_free(&c);
	alloc_fail_after = 0;
	run_str("GET /stats HTTP/1.1\r\nHost: x\r\n\r\n", &c);
	CHECK_EQ(c.r[0].status, 503);
	conv_free(&c);
	/* Chunked echo growing. */
	alloc_fail_after = 0;
	run_str("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
		"chunked\r\n\r\n"
		"3\r\nabc\r\n0\r\n\r\n",
		&c);
	CHECK_EQ(c.r[0].status, 503);
	conv_free(&c);
	alloc_fail_after = -1;
	teardown();
}

TEST(refused_response_is_well_formed)
{
	const char *r = http_refused_response;
	const char *end = strstr(r, "\r\n\r\n");
	const char *cl = strstr(r, "Content-Length: ");

	CHECK(strncmp(r, "HTTP/1.1 503 ", 13) == 0);
	CHECK(end && cl && cl < end);
	CHECK_EQ(strtoul(cl + 16, NULL, 10), strlen(end + 4));
	CHECK_EQ(http_refused_len, strlen(r));
	CHECK(strstr(r, "\r\nConnection: close\r\n") != NULL);
	CHECK_EQ(http_continue_len, strlen(http_continue_response));
}

/* ---- Connection semantics ------------------------------------------------ */

TEST(keep_alive_and_close)
{
	struct conv c = {0};

	setup();
	run_str("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		&c);
	CHECK_EQ(c.n, 1);
	CHECK(c.closed);
	CHECK_STR(hdr(&c.r[0], "Connection"), "close");
	CHECK_EQ(
	    c.consumed,
	    strlen("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
	conv_free(&c);

	/* HTTP/1.0: answered and closed... */
	run_str("GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n", &c);
	CHECK_EQ(c.n, 1);
	CHECK(c.closed);
	CHECK_EQ(c.r[0].status, 200);
	conv_free(&c);
	/* ...unless it asks to keep the connection. */
	run_str("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
		"GET /healthz HTTP/1.0\r\n\r\n",
		&c);
	CHECK_EQ(c.n, 2);
	CHECK_STR(hdr(&c.r[0], "Connection"), "keep-alive");
	CHECK(!c.r[0].close);
	CHECK(c.r[1].close);
	conv_free(&c);
	/* An Upgrade is ignored, but what follows may be another protocol. */
	run_str("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
		"Upgrade: websocket\r\n\r\n\x81\x85junk",
		&c);
	CHECK_EQ(c.n, 1);
	CHECK_EQ(c.r[0].status, 200);
	CHECK(c.closed);
	conv_free(&c);
	teardown();
}

TEST(error_after_head_request_has_a_body)
{
	struct conv c = {0};

	setup();
	/* The junk's response must not inherit "HEAD" from the request
	 * before it (llhttp keeps the last method it read). */
	run_str("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n\x01junk\r\n\r\n", &c);
	CHECK_EQ(c.n, 2);
	CHECK_EQ(c.r[0].status, 200);
	CHECK_EQ(c.r[0].body_len, 0);
	CHECK_EQ(c.r[1].status, 400);
	check_well_formed(&c.r[1], false);
	CHECK(c.r[1].body_len > 0);
	conv_free(&c);
	teardown();
}

TEST(leading_empty_lines)
{
	setup();
	expect_one("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 200);
	teardown();
}

TEST(keep_alive_100_requests)
{
	struct http_session s;
	struct conv c = {0};
	const char *req = "GET /docs/page.html HTTP/1.1\r\nHost: x\r\n\r\n";

	setup();
	http_session_init(&s);
	for (int i = 0; i < 100; i++) {
		struct conv one = {0};
		run_split(&s, req, strlen(req), 0, 0, &one);
		CHECK_EQ(one.n, 1);
		CHECK_EQ(one.r[0].status, 200);
		CHECK(!one.closed);
		conv_free(&one);
	}
	http_session_free(&s);
	CHECK_EQ(http_counters.requests, 100);
	conv_free(&c);
	teardown();
}

/* Ten different requests in one buffer come back in order. */
static const char pipeline[] =
    "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    "HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"
    "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nping"
    "GET /docs HTTP/1.1\r\nHost: x\r\n\r\n"
    "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    "2\r\nab\r\n1\r\nc\r\n0\r\n\r\n"
    "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n"
    "GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: " IDX_ETAG "\r\n\r\n"
    "GET /docs/page.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
static const int pipeline_status[] = {200, 200, 404, 200, 301,
				      200, 200, 405, 304, 200};

static void check_pipeline(const struct conv *c)
{
	CHECK_EQ(c->n, 10);
	for (int i = 0; i < 10 && i < c->n; i++) {
		CHECK_EQ(c->r[i].status, pipeline_status[i]);
		check_well_formed(&c->r[i], i == 1);
	}
	if (c->n == 10) {
		CHECK_STR((char *)c->r[3].body, "ping");
		CHECK_STR((char *)c->r[5].body, "abc");
		CHECK_STR((char *)c->r[9].body, "page\n");
	}
	CHECK(c->closed);
	CHECK_EQ(c->consumed, sizeof(pipeline) - 1);
}

TEST(pipelining)
{
	struct conv c = {0};

	setup();
	run_str(pipeline, &c);
	check_pipeline(&c);
	conv_free(&c);
	teardown();
}

/* The same bytes, whatever way TCP cuts them, give the same bytes back. */
TEST(split_reads_at_every_boundary)
{
	struct conv whole = {0};
	size_t len = sizeof(pipeline) - 1;

	setup();
	run_once(pipeline, len, 0, &whole);
	check_pipeline(&whole);
	for (size_t k = 1; k < len; k++) {
		struct conv c = {0};
		struct http_session s;

		http_session_init(&s);
		run_split(&s, pipeline, len, 0, k, &c);
		http_session_free(&s);
		CHECK_EQ(c.wire_len, whole.wire_len);
		if (c.wire_len != whole.wire_len ||
		    memcmp(c.wire, whole.wire, whole.wire_len) != 0) {
			fprintf(stderr, "  split at %zu differs\n", k);
			CHECK(!"same output");
			conv_free(&c);
			break;
		}
		conv_free(&c);
	}
	for (size_t chunk = 1; chunk <= 64; chunk++) {
		struct conv c = {0};

		run_once(pipeline, len, chunk, &c);
		CHECK_EQ(c.wire_len, whole.wire_len);
		CHECK(c.wire_len == whole.wire_len &&
		      memcmp(c.wire, whole.wire, whole.wire_len) == 0);
		conv_free(&c);
	}
	conv_free(&whole);
	teardown();
}

TEST(error_requests_split_every_byte)
{
	static const struct {
		const char *req;
		int status;
	} cases[] = {
	    {"GET /../x HTTP/1.1\r\nHost: x\r\n\r\n", 400},
	    {"GET /%2e%2e/x HTTP/1.1\r\nHost: x\r\n\r\n", 400},
	    {"FOO / HTTP/1.1\r\nHost: x\r\n\r\n", 501},
	    {"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
	    {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx", 405},
	    {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: "
	     "99999999\r\n\r\n",
	     413},
	    {"GET /x HTTP/1.1\r\nHost: x\r\nBad\x7f: 1\r\n\r\n", 400},
	};

	setup();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].req);
		for (size_t chunk = 1; chunk <= len; chunk++) {
			struct conv c = {0};
			run_once(cases[i].req, len, chunk, &c);
			CHECK_EQ(c.n, 1);
			if (c.n && c.r[0].status != cases[i].status)
				fprintf(stderr, "  %s in %zu-byte reads: %d\n",
					cases[i].req, chunk, c.r[0].status);
			CHECK(c.n && c.r[0].status == cases[i].status);
			conv_free(&c);
		}
	}
	teardown();
}

TEST(absurd_lengths)
{
	struct conv c = {0};

	setup();
	expect_one("GET / HTTP/1.1\r\nHost: x\r\n"
		   "Content-Length: 99999999999999999999999999\r\n\r\n",
		   400);
	expect_one("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
		   "chunked\r\n\r\n"
		   "ffffffffffffffffffffffff\r\n",
		   400);
	expect_one("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
		   "chunked\r\n\r\n"
		   "fffffffffffffff\r\n",
		   413);
	expect_one("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
		   400);
	/* A megabyte of junk costs one answer and nothing more. */
	char *junk = malloc(1 << 20);
	for (int i = 0; i < 1 << 20; i++)
		junk[i] = (char)(i * 7 + 1);
	run_once(junk, 1 << 20, 0, &c);
	CHECK_EQ(c.n, 1);
	CHECK(c.closed);
	CHECK(c.r[0].status == 400 || c.r[0].status == 501);
	conv_free(&c);
	/* A megabyte of one endless header line: 431 at the limit. */
	memcpy(junk, "GET / HTTP/1.1\r\nX: ", 19);
	memset(junk + 19, 'a', (1 << 20) - 19);
	run_once(junk, 1 << 20, 4096, &c);
	CHECK_EQ(c.n, 1);
	CHECK_EQ(c.r[0].status, 431);
	conv_free(&c);
	free(junk);
	teardown();
}

TEST(access_log)
{
	struct http_limits l = default_limits();
	struct http_session s;
	struct conv c = {0};
	const char *req =
	    "GET /in\"dex%0a.html?a=\x1b HTTP/1.1\r\nHost: x\r\n\r\n";

	setup();
	int before = log_lines;
	expect_one("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 200);
	CHECK_EQ(log_lines, before); /* off by default */
	l.log = true;
	http_set_limits(&l);
	http_session_init(&s);
	strcpy(s.peer, "10.0.2.2:4242");
	const char *get = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
	run_split(&s, get, strlen(get), 0, 0, &c);
	CHECK_EQ(log_lines, before + 1);
	CHECK_STR(last_log,
		  "http: 10.0.2.2:4242 \"GET /index.html HTTP/1.1\" 200 14");
	conv_free(&c);
	http_session_free(&s);
	/* Quotes and control bytes cannot forge a log line (llhttp
	 * refuses the raw ESC, so use what it lets through). */
	http_session_init(&s);
	run_split(&s, req, strlen(req), 0, 0, &c);
	CHECK(strchr(last_log, '\n') == NULL);
	CHECK(strchr(last_log, 0x1b) == NULL);
	conv_free(&c);
	http_session_free(&s);
	teardown();
}

TEST(limits_are_clamped)
{
	struct http_limits l = {0}, got;

	setup();
	http_set_limits(&l);
	http_get_limits(&got);
	CHECK_EQ(got.max_conns, 1);
	CHECK_EQ(got.max_header_bytes, 256);
	CHECK_EQ(got.max_uri, 16);
	CHECK_EQ(got.idle_timeout_ms, 100);
	l.max_conns = 1000000;
	l.max_header_bytes = 512;
	l.max_uri = 4096; /* more than the head: cut to it */
	l.max_body = 0xffffffff;
	http_set_limits(&l);
	http_get_limits(&got);
	CHECK_EQ(got.max_conns, 4096);
	CHECK_EQ(got.max_uri, 512);
	CHECK_EQ(got.max_body, 64 * 1024 * 1024);
	/* A session keeps the limits it started with. */
	struct http_session s;
	http_session_init(&s);
	struct http_limits d = default_limits();
	http_set_limits(&d);
	CHECK_EQ(s.limits.max_header_bytes, 512);
	http_session_free(&s);
	teardown();
}

TEST(nothing_is_parsed_after_close)
{
	struct http_session s;

	setup();
	http_session_init(&s);
	const char *req =
	    "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	CHECK_EQ(http_session_feed(&s, req, strlen(req)), strlen(req));
	CHECK_EQ(http_session_feed(&s, "GET", 3), 0); /* responding */
	http_session_next(&s);
	CHECK_EQ(s.phase, HTTP_PHASE_CLOSED);
	CHECK_EQ(http_session_feed(&s, "GET", 3), 0);
	CHECK(!http_session_busy(&s));
	CHECK(!http_session_timeout(&s));
	http_session_free(&s);
	teardown();
}

#else /* TEST_REAL_SITE */

/* ---- The table generated from www/ --------------------------------------- */

static bool is_etag(const char *e)
{
	if (strlen(e) != 18 || e[0] != '"' || e[17] != '"')
		return false;
	for (int i = 1; i < 17; i++)
		if (!strchr("0123456789abcdef", e[i]))
			return false;
	return true;
}

TEST(site_table_is_sound)
{
	size_t total = 0;

	CHECK(www_file_count >= 2);
	for (size_t i = 0; i < www_file_count; i++) {
		const struct www_file *f = &www_files[i];
		CHECK(f->path[0] == '/');
		CHECK(is_etag(f->etag));
		CHECK(f->content_type && f->content_type[0]);
		CHECK(f->data != NULL);
		CHECK(www_lookup(f->path, strlen(f->path)) == f);
		if (i) {
			CHECK(strcmp(www_files[i - 1].path, f->path) < 0);
			CHECK(strcmp(www_files[i - 1].etag, f->etag) != 0);
		}
		total += f->len;
	}
	CHECK_EQ(total, www_total_bytes);
}

TEST(site_serves_index_and_big_bin)
{
	struct conv c = {0};
	const struct www_file *big = www_lookup("/big.bin", 8);

	setup();
	CHECK(big && big->len == 1 << 20);
	CHECK(big &&
	      strcmp(big->content_type, "application/octet-stream") == 0);
	run_str("GET / HTTP/1.1\r\nHost: x\r\n\r\n"
		"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n",
		&c);
	CHECK_EQ(c.n, 2);
	CHECK_EQ(c.r[0].status, 200);
	CHECK_STR(hdr(&c.r[0], "Content-Type"), "text/html; charset=utf-8");
	CHECK(strstr((char *)c.r[0].body, "Skiff") != NULL);
	CHECK(strstr((char *)c.r[0].body, "/stats") != NULL);
	CHECK_EQ(c.r[1].body_len, 1 << 20);
	conv_free(&c);
	teardown();
}

#endif /* TEST_REAL_SITE */

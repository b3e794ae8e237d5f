/* libFuzzer target for the HTTP request handling: the real
 * services/http_parser.c, llhttp and the site generated from www/, driven like
 * services/http_conn.c drives them. `make fuzz` (30 s) or `make fuzz-smoke`.
 *
 * Input: byte 0 picks how the stream is cut into reads (1..16 bytes, or
 * all at once), byte 1 the limits (the defaults, or tiny ones so that 413,
 * 414 and 431 are reachable) and whether a timeout strikes mid-way; the
 * rest is what a client sends. Every response must be well-formed, the
 * session must always make progress, and (LeakSanitizer) nothing may be
 * left allocated once the session is freed. Any path the normaliser
 * returns must be clean: absolute, without "." or ".." segments or empty
 * ones, without NUL. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/http.h"

static int fuzz_stats_json(char *buf, size_t cap)
{
	char http[2048];

	http_stats_json(http, sizeof(http));
	return snprintf(buf, cap, "{\"http\":%s}", http);
}

#define REQUIRE(cond)                                                          \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_http: %s (line %d)\n", #cond,    \
				__LINE__);                                     \
			abort();                                               \
		}                                                              \
	} while (0)

static const char *find(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return hay + i;
	return NULL;
}

static void check_response(const struct http_session *s)
{
	const struct http_response *r = &s->resp;
	const char *h = r->head;
	const char *cl;

	REQUIRE(r->head_len > 12 && r->head_len < HTTP_HEAD_MAX);
	REQUIRE(memcmp(h, "HTTP/1.1 ", 9) == 0);
	REQUIRE(r->status >= 200 && r->status <= 599);
	REQUIRE(memcmp(h + r->head_len - 4, "\r\n\r\n", 4) == 0);
	/* The head is one block: no empty line before its end. */
	REQUIRE(find(h, r->head_len, "\r\n\r\n") == h + r->head_len - 4);
	cl = find(h, r->head_len, "\r\nContent-Length: ");
	if (r->status == 304) {
		REQUIRE(!cl && r->body_len == 0);
	} else {
		REQUIRE(cl);
		unsigned long len = strtoul(cl + 18, NULL, 10);
		REQUIRE(r->body_len == 0 || r->body_len == len);
	}
	REQUIRE(!r->body_len || r->body);
	REQUIRE(!!find(h, r->head_len, "\r\nConnection: close\r\n") ==
		r->close);
}

static void check_path(const uint8_t *data, size_t size)
{
	char out[512];
	int n = http_normalize_path((const char *)data, size, out, sizeof(out));

	if (n < 0)
		return;
	REQUIRE((size_t)n < sizeof(out) && strlen(out) == (size_t)n);
	REQUIRE(out[0] == '/');
	REQUIRE(!strstr(out, "//"));
	REQUIRE(!strstr(out, "/./") && !strstr(out, "/../"));
	REQUIRE(strcmp(out + n - (n >= 2 ? 2 : n), "/.") != 0);
	REQUIRE(n < 3 || strcmp(out + n - 3, "/..") != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_limits l = HTTP_LIMITS_DEFAULT;
	struct http_session s;
	size_t chunk, off = 0, arrived = 0, timeout_at = 0;
	bool closed = false;

	if (size < 2)
		return 0;
	chunk = data[0] % 17; /* 0: everything at once */
	if (data[1] & 1) {
		l.max_header_bytes = 256;
		l.max_uri = 64;
		l.max_body = 32;
	}
	if (data[1] & 2)
		timeout_at = (data[1] >> 2) + 1;
	l.log = data[1] & 0x80;
	http_set_limits(&l);
	data += 2;
	size -= 2;
	check_path(data, size);

	http_session_init(&s);
	http_set_stats_provider(fuzz_stats_json);
	strcpy(s.peer, "fuzz");
	for (int rounds = 0; !closed && arrived < size + 1; rounds++) {
		arrived = chunk ? arrived + chunk : size;
		if (arrived > size)
			arrived = size;
		for (;;) {
			if (s.want_continue) {
				REQUIRE(s.phase == HTTP_PHASE_BODY);
				http_session_continue_sent(&s);
			}
			if (s.phase == HTTP_PHASE_RESPOND) {
				check_response(&s);
				bool close = s.resp.close;
				http_session_next(&s);
				REQUIRE(s.phase == (close ? HTTP_PHASE_CLOSED
							  : HTTP_PHASE_IDLE));
				if (close) {
					closed = true;
					break;
				}
				continue;
			}
			if (off == arrived)
				break;
			size_t n = http_session_feed(
			    &s, (const char *)data + off, arrived - off);
			REQUIRE(n <= arrived - off);
			REQUIRE(n > 0 || s.phase == HTTP_PHASE_RESPOND ||
				s.want_continue);
			off += n;
		}
		if (timeout_at && rounds + 1 == (int)timeout_at && !closed) {
			bool busy = http_session_busy(&s);
			REQUIRE(http_session_timeout(&s) == busy);
			if (busy)
				REQUIRE(s.phase == HTTP_PHASE_RESPOND &&
					s.resp.status == 408 && s.resp.close);
		}
		if (arrived == size && s.phase != HTTP_PHASE_RESPOND &&
		    !s.want_continue)
			break;
	}
	http_session_free(&s);
	return 0;
}

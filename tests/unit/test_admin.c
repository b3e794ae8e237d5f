/* The admin endpoint's request machine (services/admin_api.c) on the host:
 * head parsing (complete, incomplete, malformed, too large), the token
 * check (exact match only, constant-time loop), size limits, and requests
 * that must change nothing (bad token, oversized, malformed objects, a
 * program the verifier refuses: its message in the answer) against a
 * fake hook, then load, replace, list, map dump/update and detach. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ebpf/ebpf.h"
#include "kernel/kerrno.h"
#include "services/admin.h"
#include "tests/unit/bpf_obj.h"
#include "tests/unit/check.h"
#include "tests/unit/host_kernel_stubs.h"

uint64_t clock_ns(void)
{
	return 0;
}

static struct ebpf_prog *hooked;
static unsigned swaps;

static struct ebpf_prog *fake_attach(struct ebpf_prog *p)
{
	struct ebpf_prog *old = hooked;

	hooked = p;
	swaps++;
	return old;
}

static struct ebpf_prog *fake_current(void)
{
	return hooked;
}

static const struct admin_hook hooks[] = {
    {"xdp", EBPF_PROG_XDP, NULL, fake_attach, fake_current}};

static void setup(uint32_t max_body)
{
	struct admin_config c = {.token = "s3cret",
				 .max_body = max_body,
				 .jit = true,
				 .hooks = hooks,
				 .nhooks = 1};

	admin_reset();
	hooked = NULL;
	swaps = 0;
	admin_configure(&c);
}

/* An object's bytes; a missing one fails the test. */
static uint8_t *read_obj(const char *name, size_t *len)
{
	uint8_t *b = bpf_obj_read(name, len);

	CHECK(b != NULL);
	return b;
}

/* Runs one request (head text + body); returns the status, JSON in out. */
static int call(const char *head, const uint8_t *body, size_t blen, char *out,
		size_t cap)
{
	struct admin_req r;
	struct kbuf o = {out, cap, 0};
	int rc = admin_parse_head(head, strlen(head), &r);

	out[0] = '\0';
	if (rc < 0)
		return rc;
	CHECK_EQ(rc, strlen(head));
	int st = admin_handle(&r, body, blen, &o);
	kbuf_finish(&o);
	return st;
}

#define AUTH "Authorization: Bearer s3cret\r\n"

TEST(head_parsing)
{
	struct admin_req r;
	const char *ok = "POST /prog?attach=xdp HTTP/1.1\r\nHost: a\r\n"
			 "authorization:   Bearer x  \r\nContent-Length: 42\r\n"
			 "\r\nBODY";

	CHECK_EQ(admin_parse_head(ok, strlen(ok), &r), strlen(ok) - 4);
	CHECK_STR(r.method, "POST");
	CHECK_STR(r.path, "/prog");
	CHECK_STR(r.query, "attach=xdp");
	CHECK_EQ(r.content_length, 42);
	CHECK_EQ(r.auth_len, 8);
	CHECK(memcmp(r.auth, "Bearer x", 8) == 0);
	/* Every proper prefix needs more. */
	for (size_t n = 0; n < strlen(ok) - 4; n++)
		CHECK_EQ(admin_parse_head(ok, n, &r), ADMIN_NEED_MORE);
	static const char *const bad[] = {
	    "GET /prog\r\n\r\n",
	    "GET  /prog HTTP/1.1\r\n\r\n",
	    "GET prog HTTP/1.1\r\n\r\n",
	    "GET /prog HTTP/2.0\r\n\r\n",
	    "GET /prog HTTP/1.1\r\nNoColon\r\n\r\n",
	    "GET /prog HTTP/1.1\r\nA : b\r\n\r\n",
	    "GET /prog HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
	    "GET /prog HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
	    "GET /prog HTTP/1.1\r\nContent-Length: 9999999999999\r\n\r\n",
	    "GET /prog HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
	    "GET /prog HTTP/1.1\nHost: a\r\n\r\n",
	    "VERYLONGMETHOD /prog HTTP/1.1\r\n\r\n",
	    "\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = admin_parse_head(bad[i], strlen(bad[i]), &r);
		if (rc != ADMIN_BAD)
			fprintf(stderr, "  accepted: %s\n", bad[i]);
		CHECK_EQ(rc, ADMIN_BAD);
	}
	/* A head that never ends within the limit. */
	char *big = malloc(ADMIN_MAX_HEAD + 10);
	memcpy(big, "GET /prog HTTP/1.1\r\nX: ", 23);
	memset(big + 23, 'a', ADMIN_MAX_HEAD + 10 - 23);
	CHECK_EQ(admin_parse_head(big, ADMIN_MAX_HEAD - 1, &r),
		 ADMIN_NEED_MORE);
	CHECK_EQ(admin_parse_head(big, ADMIN_MAX_HEAD + 10, &r),
		 ADMIN_TOO_LARGE);
	/* A NUL inside a header line. */
	memcpy(big, "GET /p HTTP/1.1\r\nA: \0b\r\n\r\n", 27);
	CHECK_EQ(admin_parse_head(big, 27, &r), ADMIN_BAD);
	free(big);
}

TEST(token_check)
{
	CHECK(admin_token_ok("s3cret", "Bearer s3cret", 13));
	CHECK(!admin_token_ok("s3cret", "Bearer s3cre", 12));
	CHECK(!admin_token_ok("s3cret", "Bearer s3cretx", 14));
	CHECK(!admin_token_ok("s3cret", "Bearer S3cret", 13));
	CHECK(!admin_token_ok("s3cret", "bearer s3cret", 13));
	CHECK(!admin_token_ok("s3cret", "Basic s3cret", 12));
	CHECK(!admin_token_ok("s3cret", "", 0));
	CHECK(!admin_token_ok("", "Bearer ", 7)); /* no token: always no */
	/* The presented value is read only within its length. */
	CHECK(!admin_token_ok("s3cret", "Bearer s3cret", 12));
}

TEST(refusals_change_nothing)
{
	char out[4096];
	size_t len;
	uint8_t *count = read_obj("count", &len);
	size_t blen;
	uint8_t *bad = read_obj("unchecked_read", &blen);
	char head[256];

	setup(len + 100);
	/* No token, a wrong one: 401 before anything else. */
	snprintf(
	    head, sizeof(head),
	    "POST /prog?attach=xdp HTTP/1.1\r\nContent-Length: %zu\r\n\r\n",
	    len);
	CHECK_EQ(call(head, count, len, out, sizeof(out)), 401);
	snprintf(head, sizeof(head),
		 "POST /prog?attach=xdp HTTP/1.1\r\nAuthorization: Bearer "
		 "s3creT\r\nContent-Length: %zu\r\n\r\n",
		 len);
	CHECK_EQ(call(head, count, len, out, sizeof(out)), 401);
	CHECK(strstr(out, "\"error\"") != NULL);
	CHECK_EQ(call("GET /prog HTTP/1.1\r\n\r\n", NULL, 0, out, sizeof(out)),
		 401);
	/* Over the body limit: 413 (with a good token). */
	snprintf(head, sizeof(head),
		 "POST /prog HTTP/1.1\r\n" AUTH "Content-Length: %zu\r\n\r\n",
		 len + 101);
	CHECK_EQ(call(head, count, len, out, sizeof(out)), 413);
	/* Malformed objects: empty, truncated at every 97th byte, one
	 * byte flipped here and there; the verifier's refusal with its
	 * message. */
	CHECK_EQ(call("POST /prog HTTP/1.1\r\n" AUTH "\r\n", NULL, 0, out,
		      sizeof(out)),
		 400);
	for (size_t cut = 0; cut < len; cut += 97)
		CHECK_EQ(call("POST /prog?attach=xdp HTTP/1.1\r\n" AUTH "\r\n",
			      count, cut, out, sizeof(out)),
			 400);
	CHECK_EQ(call("POST /prog?attach=xdp HTTP/1.1\r\n" AUTH "\r\n", bad,
		      blen, out, sizeof(out)),
		 400);
	CHECK(strstr(out, "{\"error\":\"insn ") != NULL);
	/* Unknown hook, program, endpoint, method. */
	CHECK_EQ(call("POST /prog?attach=tc HTTP/1.1\r\n" AUTH "\r\n", count,
		      len, out, sizeof(out)),
		 400);
	CHECK_EQ(call("POST /attach?hook=xdp&id=7 HTTP/1.1\r\n" AUTH "\r\n",
		      NULL, 0, out, sizeof(out)),
		 400);
	CHECK_EQ(call("POST /attach?hook=xdp&id=99999999999 HTTP/1.1\r\n" AUTH
		      "\r\n",
		      NULL, 0, out, sizeof(out)),
		 400);
	CHECK_EQ(call("DELETE /prog HTTP/1.1\r\n" AUTH "\r\n", NULL, 0, out,
		      sizeof(out)),
		 404);
	CHECK_EQ(call("GET /map/counts HTTP/1.1\r\n" AUTH "\r\n", NULL, 0, out,
		      sizeof(out)),
		 404);
	CHECK_EQ(admin_prog_count(), 0);
	CHECK(hooked == NULL);
	CHECK_EQ(swaps, 0);
	free(count);
	free(bad);
}

TEST(load_replace_list_maps_detach)
{
	char out[8192];
	size_t clen, xlen;
	uint8_t *count = read_obj("count", &clen);
	uint8_t *xsk = read_obj("xsk_default", &xlen);

	setup(0);
	CHECK_EQ(call("POST /prog?attach=xdp HTTP/1.1\r\n" AUTH "\r\n", count,
		      clen, out, sizeof(out)),
		 200);
	CHECK(strstr(out, "\"id\":1,\"name\":\"count\"") != NULL);
	CHECK(strstr(out, "\"jit\":true") != NULL);
	CHECK(strstr(out, "\"hook\":\"xdp\"") != NULL);
	CHECK(hooked != NULL && strcmp(hooked->name, "count") == 0);
	struct ebpf_prog *first = hooked;
	/* Map dump: 5 zero u64 counters; update one; bad sizes refused. */
	CHECK_EQ(call("GET /map/counts HTTP/1.1\r\n" AUTH "\r\n", NULL, 0, out,
		      sizeof(out)),
		 200);
	CHECK(strstr(out, "\"type\":2,\"key_size\":4,\"value_size\":8,"
			  "\"max_entries\":5") != NULL);
	CHECK(strstr(out, "{\"key\":\"04000000\",\"value\":"
			  "\"0000000000000000\"}]") != NULL);
	CHECK_EQ(call("POST /map/counts?key=04000000&value=e803000000000000 "
		      "HTTP/1.1\r\n" AUTH "\r\n",
		      NULL, 0, out, sizeof(out)),
		 200);
	CHECK_EQ(call("GET /map/counts HTTP/1.1\r\n" AUTH "\r\n", NULL, 0, out,
		      sizeof(out)),
		 200);
	CHECK(strstr(out, "{\"key\":\"04000000\",\"value\":"
			  "\"e803000000000000\"}") != NULL);
	static const char *const bad_updates[] = {
	    "key=0400&value=e803000000000000",
	    "key=04000000&value=e8030000",
	    "key=0400000g&value=e803000000000000",
	    "key=05000000&value=e803000000000000", /* beyond the array */
	    "value=e803000000000000",
	};
	for (size_t i = 0; i < 5; i++) {
		char head[256];
		snprintf(head, sizeof(head),
			 "POST /map/counts?%s HTTP/1.1\r\n" AUTH "\r\n",
			 bad_updates[i]);
		CHECK_EQ(call(head, NULL, 0, out, sizeof(out)), 400);
	}
	/* Replace: one swap, the old program stays loaded (ours). */
	CHECK_EQ(call("POST /prog?attach=xdp HTTP/1.1\r\n" AUTH "\r\n", xsk,
		      xlen, out, sizeof(out)),
		 200);
	CHECK(hooked != NULL && strcmp(hooked->name, "xsk_default") == 0);
	CHECK_EQ(swaps, 2);
	CHECK_EQ(admin_prog_count(), 2);
	CHECK_EQ(call("GET /prog HTTP/1.1\r\n" AUTH "\r\n", NULL, 0, out,
		      sizeof(out)),
		 200);
	CHECK(strstr(out, "\"name\":\"count\",\"type\":\"xdp\",\"insns\"") !=
	      NULL);
	CHECK(strstr(out, "\"hook\":null") != NULL);
	CHECK(strstr(out, "\"hooks\":{\"xdp\":\"xsk_default\"}") != NULL);
	/* An empty XSKMAP dumps no entries. */
	CHECK_EQ(call("GET /map/xsks_map HTTP/1.1\r\n" AUTH "\r\n", NULL, 0,
		      out, sizeof(out)),
		 200);
	CHECK(strstr(out, "\"type\":17,") != NULL);
	CHECK(strstr(out, "\"entries\":[]") != NULL);
	/* Back to the first by id. */
	CHECK_EQ(call("POST /attach?hook=xdp&id=1 HTTP/1.1\r\n" AUTH "\r\n",
		      NULL, 0, out, sizeof(out)),
		 200);
	CHECK(hooked == first);
	/* Detach: the hook is empty and what is not attached is unloaded. */
	CHECK_EQ(call("POST /detach?hook=xdp HTTP/1.1\r\n" AUTH "\r\n", NULL, 0,
		      out, sizeof(out)),
		 200);
	CHECK(hooked == NULL);
	CHECK_EQ(admin_prog_count(), 0);
	/* A program the admin did not load (a built-in) is freed when
	 * replaced: the admin owns what it swapped out. */
	struct ebpf_prog *builtin = NULL;
	char err[200];
	CHECK_EQ(ebpf_load_elf(count, clen, NULL, &builtin, err, sizeof(err)),
		 0);
	hooked = builtin;
	CHECK_EQ(call("POST /prog?attach=xdp HTTP/1.1\r\n" AUTH "\r\n", xsk,
		      xlen, out, sizeof(out)),
		 200); /* ASan reports a leak if builtin is not freed */
	admin_reset();
	CHECK(hooked == NULL);
	free(count);
	free(xsk);
}

/* ---- hooks of several program types (xdp, tc-ingress, tc-egress) ---- */

static struct ebpf_prog *tc_hooked[2];

static struct ebpf_prog *tc_swap(int dir, struct ebpf_prog *p)
{
	struct ebpf_prog *old = tc_hooked[dir];

	tc_hooked[dir] = p;
	return old;
}
static struct ebpf_prog *tc_in_attach(struct ebpf_prog *p)
{
	return tc_swap(0, p);
}
static struct ebpf_prog *tc_out_attach(struct ebpf_prog *p)
{
	return tc_swap(1, p);
}
static struct ebpf_prog *tc_in_current(void)
{
	return tc_hooked[0];
}
static struct ebpf_prog *tc_out_current(void)
{
	return tc_hooked[1];
}

static const struct admin_hook typed_hooks[] = {
    {"xdp", EBPF_PROG_XDP, NULL, fake_attach, fake_current},
    {"tc-ingress", EBPF_PROG_SCHED_CLS, NULL, tc_in_attach, tc_in_current},
    {"tc-egress", EBPF_PROG_SCHED_CLS, NULL, tc_out_attach, tc_out_current},
};

/* A program goes only to a hook of its own type, and to one hook at a
 * time; a refusal changes nothing. */
TEST(hooks_take_only_their_program_type)
{
	struct admin_config c = {.token = "s3cret",
				 .max_body = 1 << 20,
				 .jit = false,
				 .hooks = typed_hooks,
				 .nhooks = 3};
	size_t clen = 0, tlen = 0;
	uint8_t *count = read_obj("count", &clen);
	uint8_t *tc = read_obj("tc_mark", &tlen);
	char out[4096], head[128];
	unsigned tc_id = 0, xdp_id = 0;

	admin_reset();
	hooked = tc_hooked[0] = tc_hooked[1] = NULL;
	admin_configure(&c);
	if (!count || !tc)
		goto out;
	/* A TC object on the XDP hook, an XDP object on a TC hook: 400. */
	CHECK_EQ(call("POST /prog?attach=xdp HTTP/1.1\r\n" AUTH "\r\n", tc,
		      tlen, out, sizeof(out)),
		 400);
	CHECK(strstr(out, "cannot attach") != NULL);
	CHECK_EQ(call("POST /prog?attach=tc-egress HTTP/1.1\r\n" AUTH "\r\n",
		      count, clen, out, sizeof(out)),
		 400);
	CHECK(hooked == NULL && !tc_hooked[0] && !tc_hooked[1]);
	CHECK_EQ(admin_prog_count(), 0);
	/* Each on its own hook. */
	CHECK_EQ(call("POST /prog?attach=tc-egress HTTP/1.1\r\n" AUTH "\r\n",
		      tc, tlen, out, sizeof(out)),
		 200);
	CHECK(strstr(out, "\"type\":\"sched_cls\"") != NULL);
	CHECK(tc_hooked[1] && strcmp(tc_hooked[1]->name, "tc_mark") == 0);
	CHECK_EQ(sscanf(out, "{\"id\":%u,", &tc_id), 1);
	CHECK_EQ(call("POST /prog HTTP/1.1\r\n" AUTH "\r\n", count, clen, out,
		      sizeof(out)),
		 200);
	CHECK_EQ(sscanf(out, "{\"id\":%u,", &xdp_id), 1);
	/* By id: the XDP program to a TC hook, the TC one to XDP: 400. */
	snprintf(head, sizeof(head),
		 "POST /attach?hook=tc-ingress&id=%u HTTP/1.1\r\n" AUTH "\r\n",
		 xdp_id);
	CHECK_EQ(call(head, NULL, 0, out, sizeof(out)), 400);
	snprintf(head, sizeof(head),
		 "POST /attach?hook=xdp&id=%u HTTP/1.1\r\n" AUTH "\r\n", tc_id);
	CHECK_EQ(call(head, NULL, 0, out, sizeof(out)), 400);
	/* The TC program on egress cannot also go to ingress (a detach of
	 * one would free what the other still runs). */
	snprintf(head, sizeof(head),
		 "POST /attach?hook=tc-ingress&id=%u HTTP/1.1\r\n" AUTH "\r\n",
		 tc_id);
	CHECK_EQ(call(head, NULL, 0, out, sizeof(out)), 400);
	CHECK(strstr(out, "another hook") != NULL);
	CHECK(!tc_hooked[0] && tc_hooked[1] && !hooked);
	CHECK_EQ(call("GET /prog HTTP/1.1\r\n" AUTH "\r\n", NULL, 0, out,
		      sizeof(out)),
		 200);
	CHECK(strstr(out, "\"hooks\":{\"xdp\":null,\"tc-ingress\":null,"
			  "\"tc-egress\":\"tc_mark\"}") != NULL);
	/* Detaching egress unloads the TC program and the idle XDP one. */
	CHECK_EQ(call("POST /detach?hook=tc-egress HTTP/1.1\r\n" AUTH "\r\n",
		      NULL, 0, out, sizeof(out)),
		 200);
	CHECK(!tc_hooked[1]);
	CHECK_EQ(admin_prog_count(), 0);
out:
	admin_reset();
	free(count);
	free(tc);
}

/* A hash map dumps every element once (get_next_key over the chains). */
TEST(hash_map_next_key_walks_everything)
{
	struct ebpf_map *m;
	uint64_t k, v, seen = 0;
	uint8_t cur[8], next[8];
	int n = 0;

	CHECK_EQ(ebpf_map_create("h", EBPF_MAP_HASH, 8, 8, 64, &m), 0);
	for (k = 0; k < 40; k++) {
		v = k * 3;
		CHECK_EQ(ebpf_map_update(m, &k, &v, EBPF_ANY), 0);
	}
	for (int rc = ebpf_map_next_key(m, NULL, next); rc == 0;
	     rc = ebpf_map_next_key(m, cur, next)) {
		memcpy(cur, next, 8);
		memcpy(&k, cur, 8);
		CHECK(k < 40);
		if (k < 40)
			seen |= 1ull << k;
		n++;
		CHECK(n <= 40);
		if (n > 40)
			break;
	}
	CHECK_EQ(n, 40);
	CHECK_EQ(seen, (1ull << 40) - 1);
	k = 1000; /* not in the map: starts from the first */
	CHECK_EQ(ebpf_map_next_key(m, &k, next), 0);
	ebpf_map_free(m);
}

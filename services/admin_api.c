/* The admin endpoint's request machine: see admin.h. No lwIP here: the
 * host tests (tests/unit/test_admin.c) drive it directly. Everything that
 * arrives is untrusted: the head is parsed within ADMIN_MAX_HEAD bytes,
 * numbers are range-checked, hex strings must fill the map's sizes
 * exactly, and a request changes state only once every check passed. */
#include <stdlib.h>
#include <string.h>

#include "ebpf/ebpf.h"
#include "kernel/heap.h"
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "services/admin.h"

static struct admin_config cfg = {.max_body = ADMIN_DEFAULT_MAX_BODY};

/* Loaded programs; id = index + 1 + ADMIN_MAX_PROGS * generation is not
 * needed: ids count up and are never reused. */
static struct {
	struct ebpf_prog *p;
	uint32_t id;
	const struct admin_hook *hook; /* attached there, or NULL */
} progs[ADMIN_MAX_PROGS];
static uint32_t next_id = 1;

void admin_configure(const struct admin_config *c)
{
	cfg = *c;
	cfg.token[sizeof(cfg.token) - 1] = '\0';
	if (!cfg.max_body)
		cfg.max_body = ADMIN_DEFAULT_MAX_BODY;
}

const struct admin_config *admin_config(void)
{
	return &cfg;
}

/* ---- the head ---- */

static bool ci_prefix(const char *s, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	if (n < l)
		return false;
	for (size_t i = 0; i < l; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != lit[i])
			return false;
	}
	return true;
}

static bool copy_field(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return false;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return true;
}

/* The request line: METHOD SP TARGET SP HTTP/1.x */
static int parse_request_line(const char *s, size_t n, struct admin_req *r)
{
	const char *sp1 = memchr(s, ' ', n), *sp2, *q;

	if (!sp1)
		return ADMIN_BAD;
	sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - s));
	if (!sp2 || sp2 == sp1 + 1 || sp1[1] != '/')
		return ADMIN_BAD;
	if ((size_t)(s + n - (sp2 + 1)) != 8 ||
	    memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    (sp2[8] != '0' && sp2[8] != '1'))
		return ADMIN_BAD;
	if (!copy_field(r->method, sizeof(r->method), s, (size_t)(sp1 - s)))
		return ADMIN_BAD;
	q = memchr(sp1 + 1, '?', (size_t)(sp2 - (sp1 + 1)));
	if (!copy_field(r->path, sizeof(r->path), sp1 + 1,
			(size_t)((q ? q : sp2) - (sp1 + 1))))
		return ADMIN_BAD;
	if (!copy_field(r->query, sizeof(r->query), q ? q + 1 : sp2,
			q ? (size_t)(sp2 - (q + 1)) : 0))
		return ADMIN_BAD;
	for (const char *c = s; c < sp2; c++)
		if ((unsigned char)*c < 0x21 && c != sp1)
			return ADMIN_BAD;
	return 0;
}

static int parse_header(const char *s, size_t n, struct admin_req *r)
{
	const char *colon = memchr(s, ':', n), *v;
	size_t vn;

	if (!colon || colon == s)
		return ADMIN_BAD;
	for (const char *c = s; c < colon; c++)
		if (*c == ' ' || *c == '\t')
			return ADMIN_BAD; /* no space before the colon */
	v = colon + 1;
	vn = n - (size_t)(v - s);
	while (vn && (*v == ' ' || *v == '\t'))
		v++, vn--;
	while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
		vn--;
	if ((size_t)(colon - s) == 13 && ci_prefix(s, 13, "authorization")) {
		r->auth = v;
		r->auth_len = vn;
	} else if ((size_t)(colon - s) == 14 &&
		   ci_prefix(s, 14, "content-length")) {
		uint64_t x = 0;

		if (!vn || vn > 12)
			return ADMIN_BAD;
		for (size_t i = 0; i < vn; i++) {
			if (v[i] < '0' || v[i] > '9')
				return ADMIN_BAD;
			x = x * 10 + (uint64_t)(v[i] - '0');
		}
		r->content_length = x;
	} else if ((size_t)(colon - s) == 17 &&
		   ci_prefix(s, 17, "transfer-encoding")) {
		return ADMIN_BAD; /* bodies have a length here, no chunks */
	}
	return 0;
}

int admin_parse_head(const char *buf, size_t len, struct admin_req *r)
{
	size_t scan = len < ADMIN_MAX_HEAD ? len : ADMIN_MAX_HEAD;
	const char *end = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	for (size_t i = 3; i < scan; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\r' &&
		    buf[i - 2] == '\n' && buf[i - 3] == '\r') {
			end = buf + i + 1;
			break;
		}
	if (!end)
		return len >= ADMIN_MAX_HEAD ? ADMIN_TOO_LARGE
					     : ADMIN_NEED_MORE;
	r->head_len = (size_t)(end - buf);
	bool first = true;
	for (const char *line = buf; line < end - 2;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t n;

		if (!nl || nl == line || nl[-1] != '\r')
			return ADMIN_BAD;
		n = (size_t)(nl - 1 - line);
		for (size_t i = 0; i < n; i++)
			if (line[i] == '\0' || line[i] == '\r' ||
			    line[i] == '\n')
				return ADMIN_BAD;
		rc = first ? parse_request_line(line, n, r)
			   : parse_header(line, n, r);
		if (rc)
			return rc;
		first = false;
		line = nl + 1;
	}
	return first ? ADMIN_BAD : (int)r->head_len;
}

bool admin_token_ok(const char *token, const char *auth, size_t auth_len)
{
	static const char bearer[] = "Bearer ";
	size_t tl = strlen(token), bl = sizeof(bearer) - 1;
	unsigned diff = 0;

	if (tl == 0)
		return false; /* the endpoint is off without a token */
	diff |= auth_len != bl + tl;
	/* Every byte of the expected text is compared, whatever the
	 * presented one holds: the time says nothing about the token. */
	for (size_t i = 0; i < bl + tl; i++) {
		char want = i < bl ? bearer[i] : token[i - bl];
		char got = i < auth_len ? auth[i] : 0;
		diff |= (unsigned)(uint8_t)(want ^ got);
	}
	return diff == 0;
}

/* ---- answers ---- */

static void json_str(struct kbuf *o, const char *s, size_t n)
{
	kbuf_printf(o, "\"");
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			kbuf_printf(o, "\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			kbuf_printf(o, "\\u%04x", c);
		else
			kbuf_printf(o, "%c", c);
	}
	kbuf_printf(o, "\"");
}

static int fail(struct kbuf *o, int status, const char *msg)
{
	kbuf_printf(o, "{\"error\":");
	json_str(o, msg, strlen(msg));
	kbuf_printf(o, "}");
	return status;
}

int admin_check_head(const struct admin_req *r, struct kbuf *out)
{
	if (!r->auth || !admin_token_ok(cfg.token, r->auth, r->auth_len))
		return fail(out, 401, "missing or wrong token");
	if (r->content_length > cfg.max_body)
		return fail(out, 413, "body over the limit");
	return 0;
}

/* ---- the query string ---- */

/* The value of name in the query, copied into v; false if absent/long. */
static bool query_get(const char *q, const char *name, char *v, size_t cap)
{
	size_t nl = strlen(name);

	for (const char *s = q; *s;) {
		const char *amp = strchr(s, '&');
		size_t n = amp ? (size_t)(amp - s) : strlen(s);

		if (n > nl && s[nl] == '=' && memcmp(s, name, nl) == 0)
			return copy_field(v, cap, s + nl + 1, n - nl - 1);
		s += n;
		if (*s == '&')
			s++;
	}
	return false;
}

static bool parse_u32(const char *s, uint32_t *out)
{
	uint64_t x = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' ||
		    (x = x * 10 + (uint64_t)(*s - '0')) > UINT32_MAX)
			return false;
	}
	*out = (uint32_t)x;
	return true;
}

/* Exactly n bytes of hex. */
static bool parse_hex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return false;
	for (size_t i = 0; i < 2 * n; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (d < 0)
			return false;
		if (i % 2 == 0)
			out[i / 2] = (uint8_t)(d << 4);
		else
			out[i / 2] |= (uint8_t)d;
	}
	return true;
}

static void put_hex(struct kbuf *o, const uint8_t *b, size_t n)
{
	kbuf_printf(o, "\"");
	for (size_t i = 0; i < n; i++)
		kbuf_printf(o, "%02x", b[i]);
	kbuf_printf(o, "\"");
}

/* ---- programs and hooks ---- */

static const struct admin_hook *hook_find(const char *name)
{
	for (unsigned i = 0; i < cfg.nhooks; i++)
		if (strcmp(cfg.hooks[i].name, name) == 0)
			return &cfg.hooks[i];
	return NULL;
}

static int prog_slot(uint32_t id)
{
	for (int i = 0; i < ADMIN_MAX_PROGS; i++)
		if (progs[i].p && progs[i].id == id)
			return i;
	return -1;
}

/* Puts p on hook h. The program it replaces is freed right away if it is
 * not one of ours (a built-in from the command line, or a service's):
 * frames run only from this same loop, so none is inside it now (see
 * admin.h for what several CPUs would need). One of ours stays loaded. */
static void hook_set(const struct admin_hook *h, int slot)
{
	struct ebpf_prog *old = h->attach(slot >= 0 ? progs[slot].p : NULL);
	bool ours = false;

	for (int i = 0; i < ADMIN_MAX_PROGS; i++) {
		if (!progs[i].p)
			continue;
		ours |= progs[i].p == old;
		if (progs[i].hook == h)
			progs[i].hook = NULL;
	}
	if (old && !ours)
		ebpf_prog_free(old);
	if (slot >= 0)
		progs[slot].hook = h;
}

static void prog_json(struct kbuf *o, int i)
{
	const struct ebpf_prog *p = progs[i].p;

	kbuf_printf(o, "{\"id\":%u,\"name\":", progs[i].id);
	json_str(o, p->name, sizeof(p->name));
	kbuf_printf(o, ",\"type\":\"%s\"",
		    p->type == EBPF_PROG_SCHED_CLS	 ? "sched_cls"
		    : p->type == EBPF_PROG_SOCKET_FILTER ? "socket_filter"
							 : "xdp");
	kbuf_printf(
	    o, ",\"insns\":%u,\"jit\":%s,\"runs\":%llu,\"hook\":", p->ninsns,
	    p->jitted ? "true" : "false", (unsigned long long)p->runs);
	if (progs[i].hook)
		json_str(o, progs[i].hook->name, 16);
	else
		kbuf_printf(o, "null");
	kbuf_printf(o, ",\"maps\":[");
	for (uint32_t m = 0; m < p->nmaps; m++) {
		kbuf_printf(o, "%s", m ? "," : "");
		json_str(o, p->maps[m]->name, sizeof(p->maps[m]->name));
	}
	kbuf_printf(o, "]}");
}

static int prog_load(const char *query, const uint8_t *body, size_t len,
		     struct kbuf *o)
{
	char hook_name[16] = "";
	const struct admin_hook *h = NULL;
	struct ebpf_prog *p;
	char err[200] = "";
	int slot = -1;

	if (query_get(query, "attach", hook_name, sizeof(hook_name)) &&
	    !(h = hook_find(hook_name)))
		return fail(o, 400, "no such hook");
	for (int i = 0; i < ADMIN_MAX_PROGS && slot < 0; i++)
		if (!progs[i].p)
			slot = i;
	if (slot < 0)
		return fail(o, 400, "program table full: detach one first");
	if (!len)
		return fail(o, 400, "empty body: send a BPF ELF object");
	if (ebpf_load_elf(body, len, h ? h->section : NULL, &p, err,
			  sizeof(err)) != 0)
		return fail(o, 400, err[0] ? err : "refused");
	if (h && (int)p->type != h->prog_type) {
		ebpf_prog_free(p);
		return fail(o, 400,
			    "the object's program type cannot attach "
			    "to that hook");
	}
	if (cfg.jit && ebpf_jit(p) != 0)
		log_warn("admin: %s: JIT unavailable, interpreting", p->name);
	progs[slot].p = p;
	progs[slot].id = next_id++;
	progs[slot].hook = NULL;
	if (h)
		hook_set(h, slot);
	log_info("admin: loaded %s as program %u (%u instructions%s%s)",
		 p->name, progs[slot].id, p->ninsns, h ? ", attached to " : "",
		 h ? h->name : "");
	prog_json(o, slot);
	return 200;
}

static int prog_list(struct kbuf *o)
{
	bool first = true;

	kbuf_printf(o, "{\"programs\":[");
	for (int i = 0; i < ADMIN_MAX_PROGS; i++) {
		if (!progs[i].p)
			continue;
		kbuf_printf(o, "%s", first ? "" : ",");
		prog_json(o, i);
		first = false;
	}
	kbuf_printf(o, "],\"hooks\":{");
	for (unsigned i = 0; i < cfg.nhooks; i++) {
		struct ebpf_prog *p = cfg.hooks[i].current();
		kbuf_printf(o, "%s\"%s\":", i ? "," : "", cfg.hooks[i].name);
		if (p)
			json_str(o, p->name, sizeof(p->name));
		else
			kbuf_printf(o, "null");
	}
	kbuf_printf(o, "}}");
	return 200;
}

static int prog_attach(const char *query, struct kbuf *o)
{
	char hook_name[16], id_s[12];
	const struct admin_hook *h;
	uint32_t id;
	int slot;

	if (!query_get(query, "hook", hook_name, sizeof(hook_name)) ||
	    !(h = hook_find(hook_name)))
		return fail(o, 400, "no such hook");
	if (!query_get(query, "id", id_s, sizeof(id_s)) ||
	    !parse_u32(id_s, &id) || (slot = prog_slot(id)) < 0)
		return fail(o, 400, "no such program");
	if ((int)progs[slot].p->type != h->prog_type)
		return fail(o, 400,
			    "the program's type cannot attach to that hook");
	/* One hook per program: the table tracks one, and a detach frees
	 * what no hook holds. */
	if (progs[slot].hook && progs[slot].hook != h)
		return fail(o, 400,
			    "the program is attached to another hook: "
			    "detach it there first");
	hook_set(h, slot);
	prog_json(o, slot);
	return 200;
}

static int prog_detach(const char *query, struct kbuf *o)
{
	char hook_name[16];
	const struct admin_hook *h;

	if (!query_get(query, "hook", hook_name, sizeof(hook_name)) ||
	    !(h = hook_find(hook_name)))
		return fail(o, 400, "no such hook");
	hook_set(h, -1);
	/* A detached program of ours is unloaded, as Linux frees a program
	 * nothing holds any more. */
	for (int i = 0; i < ADMIN_MAX_PROGS; i++)
		if (progs[i].p && !progs[i].hook) {
			ebpf_prog_free(progs[i].p);
			progs[i].p = NULL;
		}
	kbuf_printf(o, "{\"hook\":\"%s\",\"program\":null}", h->name);
	return 200;
}

/* A map by name: in our programs first, then in what the hooks run. */
static struct ebpf_map *map_find(const char *name)
{
	for (int i = 0; i < ADMIN_MAX_PROGS; i++) {
		struct ebpf_map *m =
		    progs[i].p ? ebpf_prog_map(progs[i].p, name) : NULL;
		if (m)
			return m;
	}
	for (unsigned i = 0; i < cfg.nhooks; i++) {
		struct ebpf_prog *p = cfg.hooks[i].current();
		struct ebpf_map *m = p ? ebpf_prog_map(p, name) : NULL;
		if (m)
			return m;
	}
	return NULL;
}

#define DUMP_MAX_ENTRIES 1024

static int map_dump(struct ebpf_map *m, struct kbuf *o)
{
	uint8_t key[EBPF_MAP_MAX_KEY], next[EBPF_MAP_MAX_KEY];
	struct ebpf_map_counts saved = *ebpf_map_counts_self(m);
	bool have = false;
	unsigned n = 0;

	kbuf_printf(o, "{\"name\":");
	json_str(o, m->name, sizeof(m->name));
	kbuf_printf(o,
		    ",\"type\":%u,\"key_size\":%u,\"value_size\":%u,"
		    "\"max_entries\":%u,\"entries\":[",
		    m->type, m->key_size, m->value_size, m->max_entries);
	while (n < DUMP_MAX_ENTRIES &&
	       ebpf_map_next_key(m, have ? key : NULL, next) == 0) {
		const uint8_t *v = ebpf_map_lookup(m, next);

		memcpy(key, next, m->key_size);
		have = true;
		if (!v)
			continue; /* an empty XSKMAP slot */
		kbuf_printf(o, "%s{\"key\":", n ? "," : "");
		put_hex(o, key, m->key_size);
		kbuf_printf(o, ",\"value\":");
		put_hex(o, v, m->value_size);
		kbuf_printf(o, "}");
		n++;
	}
	/* Reading for the dump is not the program's lookups. */
	*ebpf_map_counts_self(m) = saved;
	kbuf_printf(o, "]}");
	return 200;
}

static int map_update(struct ebpf_map *m, const char *query, struct kbuf *o)
{
	char ks[2 * EBPF_MAP_MAX_KEY + 1], vs[2 * EBPF_MAP_MAX_VALUE + 1];
	uint8_t key[EBPF_MAP_MAX_KEY], val[EBPF_MAP_MAX_VALUE];
	int rc;

	if (m->value_size > 64)
		return fail(o, 400, "value too large for a query string");
	if (!query_get(query, "key", ks, sizeof(ks)) ||
	    !parse_hex(ks, key, m->key_size))
		return fail(o, 400, "key: expected key_size bytes of hex");
	if (!query_get(query, "value", vs, sizeof(vs)) ||
	    !parse_hex(vs, val, m->value_size))
		return fail(o, 400, "value: expected value_size bytes of hex");
	rc = ebpf_map_update(m, key, val, EBPF_ANY);
	if (rc)
		return fail(o, 400, "update refused by the map");
	kbuf_printf(o, "{\"updated\":true}");
	return 200;
}

int admin_handle(const struct admin_req *r, const uint8_t *body,
		 size_t body_len, struct kbuf *out)
{
	int st = admin_check_head(r, out);
	bool get = strcmp(r->method, "GET") == 0;
	bool post = strcmp(r->method, "POST") == 0;

	if (st)
		return st;
	if (strcmp(r->path, "/prog") == 0 && get)
		return prog_list(out);
	if (strcmp(r->path, "/prog") == 0 && post)
		return prog_load(r->query, body, body_len, out);
	if (strcmp(r->path, "/attach") == 0 && post)
		return prog_attach(r->query, out);
	if (strcmp(r->path, "/detach") == 0 && post)
		return prog_detach(r->query, out);
	if (strncmp(r->path, "/map/", 5) == 0 && (get || post)) {
		struct ebpf_map *m = map_find(r->path + 5);
		if (!m)
			return fail(out, 404, "no such map");
		return get ? map_dump(m, out) : map_update(m, r->query, out);
	}
	return fail(out, 404, "no such endpoint");
}

unsigned admin_prog_count(void)
{
	unsigned n = 0;

	for (int i = 0; i < ADMIN_MAX_PROGS; i++)
		n += progs[i].p != NULL;
	return n;
}

void admin_reset(void)
{
	for (unsigned i = 0; i < cfg.nhooks; i++)
		for (int j = 0; j < ADMIN_MAX_PROGS; j++)
			if (progs[j].p && progs[j].hook == &cfg.hooks[i])
				hook_set(&cfg.hooks[i], -1);
	for (int i = 0; i < ADMIN_MAX_PROGS; i++) {
		ebpf_prog_free(progs[i].p);
		progs[i].p = NULL;
		progs[i].hook = NULL;
	}
}

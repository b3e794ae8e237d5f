/* The admin endpoint: load BPF ELF objects, attach them to hooks, detach,
 * list programs, dump and update maps, over HTTP/1.1 on its own TCP port,
 * while the appliance runs. Off unless admin.token= is on the command
 * line; tools/skiffctl speaks to it.
 *
 *   POST /prog[?attach=HOOK]   body: the ELF object; loads (verifies,
 *                              JIT-compiles) and optionally attaches
 *   GET  /prog                 the programs loaded and where attached
 *   POST /attach?hook=H&id=N   attaches loaded program N to hook H
 *   POST /detach?hook=H        detaches H's program and unloads it
 *   GET  /map/NAME             a map's entries (hex keys and values)
 *   POST /map/NAME?key=HEX&value=HEX   updates one entry (BPF_ANY)
 *
 * Every request needs "Authorization: Bearer TOKEN" (compared in constant
 * time). Missing or wrong: 401; a body over the limit: 413; a malformed
 * request, object or argument: 400, with the verifier's message for a
 * refused program. None of these change anything. Answers are JSON and
 * the connection closes after each.
 *
 * Hooks are a table of {name, attach}: attach(prog) puts prog in place of
 * the hook's program with one pointer store and returns the previous one
 * (NULL detaches). Frames run from the single-threaded main loop, and so
 * does this endpoint: when attach returns, no frame can be running the old
 * program, which is then freed at once. With several CPUs running frames,
 * the old program could only be freed after every CPU has passed a point
 * outside the hook (a grace period), never right after the store.
 *
 * admin_api.c is the request machine (no lwIP: host-tested);
 * admin_conn.c the TCP side. */
#ifndef SKIFF_SERVICES_ADMIN_H
#define SKIFF_SERVICES_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ebpf/ebpf.h"
#include "kernel/kbuf.h"

#define ADMIN_DEFAULT_PORT     9090
#define ADMIN_MAX_HEAD	       4096
#define ADMIN_DEFAULT_MAX_BODY (256u * 1024)
#define ADMIN_MAX_PROGS	       8
#define ADMIN_TOKEN_MAX	       128

struct admin_hook {
	const char *name; /* "xdp", "tc-ingress", "socket-echo", ... */
	/* The program type the hook runs (enum ebpf_prog_type): a program of
	 * another type is refused with 400 and nothing changes. */
	int prog_type;
	/* The ELF section its programs come from (ebpf_load_elf's section:
	 * NULL = "xdp"); a load with ?attach=HOOK takes the program there. */
	const char *section;
	/* Puts p (NULL: none) in place; returns the program it replaced. */
	struct ebpf_prog *(*attach)(struct ebpf_prog *p);
	/* The program attached now (also one the admin did not load). */
	struct ebpf_prog *(*current)(void);
};

struct admin_config {
	char token[ADMIN_TOKEN_MAX];
	uint32_t max_body;
	bool jit;
	const struct admin_hook *hooks;
	unsigned nhooks;
};

/* A request's head, parsed in place: strings point into the buffer. */
struct admin_req {
	char method[8];
	char path[128];	  /* without the query */
	char query[256];  /* after '?', "" if none */
	const char *auth; /* the Authorization value, not terminated */
	size_t auth_len;
	uint64_t content_length;
	size_t head_len; /* bytes up to and including the blank line */
};

/* Parse results (>= 0: the head is complete, head_len bytes). */
#define ADMIN_NEED_MORE (-1) /* no blank line yet, under the limit */
#define ADMIN_BAD	(-2) /* malformed: 400 */
#define ADMIN_TOO_LARGE (-3) /* head over ADMIN_MAX_HEAD: 413 */

int admin_parse_head(const char *buf, size_t len, struct admin_req *r);
/* Whether an Authorization value is "Bearer <token>" for the configured
 * token; the time taken does not depend on where they differ. */
bool admin_token_ok(const char *token, const char *auth, size_t auth_len);
/* Sets the configuration (copied). */
void admin_configure(const struct admin_config *cfg);
const struct admin_config *admin_config(void);

/* What a complete head (and, for status 0, its body) gets: the HTTP status
 * and a JSON body in out. Checks the token, then the size, then routes. */
int admin_check_head(const struct admin_req *r, struct kbuf *out);
int admin_handle(const struct admin_req *r, const uint8_t *body,
		 size_t body_len, struct kbuf *out);

/* The program table: loaded programs, for tests and /stats. */
unsigned admin_prog_count(void);
/* Detaches and unloads everything the admin loaded (tests). */
void admin_reset(void);

/* admin_conn.c: listens on port; 0 or a negative errno. */
int admin_start(uint16_t port);

#endif

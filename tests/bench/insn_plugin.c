/*
 * The bench's guest instruction counter: a QEMU TCG plugin.
 *
 *   qemu-system-x86_64 ... -plugin build/bench/insn_plugin.so,sock=PATH
 *
 * Built by tests/bench/insn_count.py against the qemu-plugin.h of Debian's
 * QEMU source package (tools/fetch-qemu-plugin-h.sh). It counts the guest
 * instructions executed, on every vCPU, and answers on the unix socket PATH,
 * one command per connection:
 *
 *   "count\n"    -> "<instructions executed since QEMU started>\n"
 *   "profile\n"  -> "<tb vaddr hex> <insns in the tb> <executions>\n" per
 *                   translated block executed at least once, then "end\n"
 *
 * The bench reads "count" before and after a workload: the difference is
 * the workload's instructions, which host load cannot move. "profile" twice
 * gives per-block execution deltas, which symbolise to functions.
 *
 * Counting is inline (two adds in front of every translated block, no
 * callback), so it costs the guest little. A block counts all its
 * instructions when it starts; one left early (a fault, an interrupt taken
 * inside it) is over-counted by the rest of it, which is rare next to the
 * blocks that run to their end.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

/* One translated block. Translated code adds to exec_count in place, so a
 * record never moves: records live in fixed chunks that are never freed. */
struct tb_record {
	uint64_t vaddr;
	uint64_t n_insns;
	uint64_t exec_count;
};

#define CHUNK_RECORDS 4096
/* A bound on profile memory (~1.5 GiB worth of translations would be a
 * runaway guest): past it blocks are still counted in the total. */
#define MAX_CHUNKS 4096

struct chunk {
	struct chunk *next;
	size_t used;
	struct tb_record rec[CHUNK_RECORDS];
};

static uint64_t total_insns;
static struct chunk *chunks; /* newest first */
static size_t n_chunks;
static pthread_mutex_t chunks_lock = PTHREAD_MUTEX_INITIALIZER;
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

static struct tb_record *new_record(uint64_t vaddr, uint64_t n_insns)
{
	struct tb_record *r = NULL;

	pthread_mutex_lock(&chunks_lock);
	if (!chunks || chunks->used == CHUNK_RECORDS) {
		struct chunk *c =
		    n_chunks < MAX_CHUNKS ? calloc(1, sizeof(*c)) : NULL;
		if (c) {
			c->next = chunks;
			chunks = c;
			n_chunks++;
		}
	}
	if (chunks && chunks->used < CHUNK_RECORDS) {
		r = &chunks->rec[chunks->used];
		r->vaddr = vaddr;
		r->n_insns = n_insns;
		chunks->used++;
	}
	pthread_mutex_unlock(&chunks_lock);
	return r;
}

static void tb_translated(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb);
	struct tb_record *r = new_record(qemu_plugin_tb_vaddr(tb), n);

	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
						 &total_insns, n);
	if (r)
		qemu_plugin_register_vcpu_tb_exec_inline(
		    tb, QEMU_PLUGIN_INLINE_ADD_U64, &r->exec_count, 1);
}

static void reply_profile(FILE *out)
{
	pthread_mutex_lock(&chunks_lock);
	for (struct chunk *c = chunks; c; c = c->next)
		for (size_t i = 0; i < c->used; i++) {
			const struct tb_record *r = &c->rec[i];
			uint64_t execs =
			    __atomic_load_n(&r->exec_count, __ATOMIC_RELAXED);
			if (execs)
				fprintf(out,
					"%" PRIx64 " %" PRIu64 " %" PRIu64 "\n",
					r->vaddr, r->n_insns, execs);
		}
	pthread_mutex_unlock(&chunks_lock);
	fputs("end\n", out);
}

static void serve(int conn)
{
	char cmd[32];
	FILE *io = fdopen(conn, "r+");

	if (!io) {
		close(conn);
		return;
	}
	if (fgets(cmd, sizeof(cmd), io)) {
		if (strcmp(cmd, "count\n") == 0)
			fprintf(
			    io, "%" PRIu64 "\n",
			    __atomic_load_n(&total_insns, __ATOMIC_RELAXED));
		else if (strcmp(cmd, "profile\n") == 0)
			reply_profile(io);
		else
			fputs("error: commands are count, profile\n", io);
	}
	fclose(io);
}

static void *server(void *arg)
{
	int fd = (int)(intptr_t)arg;

	for (;;) {
		int conn = accept(fd, NULL, NULL);
		if (conn >= 0)
			serve(conn);
		else if (errno != EINTR)
			return NULL;
	}
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
	unlink(sock_path);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info, int argc,
					   char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	pthread_t thread;
	int fd;

	for (int i = 0; i < argc; i++)
		if (strncmp(argv[i], "sock=", 5) == 0 &&
		    strlen(argv[i] + 5) < sizeof(sock_path))
			strcpy(sock_path, argv[i] + 5);
	if (!sock_path[0]) {
		fprintf(stderr,
			"insn_plugin: needs sock=PATH (under %zu bytes)\n",
			sizeof(sock_path));
		return -1;
	}
	strcpy(sa.sun_path, sock_path);
	unlink(sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 4) < 0) {
		fprintf(stderr, "insn_plugin: %s: %s\n", sock_path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (pthread_create(&thread, NULL, server, (void *)(intptr_t)fd) != 0) {
		fprintf(stderr, "insn_plugin: no server thread\n");
		close(fd);
		unlink(sock_path);
		return -1;
	}
	pthread_detach(thread);
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_translated);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}

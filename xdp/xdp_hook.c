/* The XDP-style hook and its AF_XDP-style redirect ring. See xdp_hook.h.
 *
 *   CMDLINE='xdp.prog=udp_reflect'      answer UDP echo at the hook
 *   CMDLINE='xdp.prog=blocklist xdp.blocklist=10.77.0.1:4000'
 *   CMDLINE='xdp.prog=count'            count frames per protocol
 */
#include <stdlib.h>
#include <string.h>

#include "kernel/cmdline.h"
#include "kernel/counters.h"
#include "kernel/cpu.h"
#include "kernel/kbuf.h"
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "kernel/printf.h"
#include "netdev/rx_hook.h"
#include "xdp/xdp_hook.h"
#include "xdp/xdp_progs.h"
#include "xdp/xsk.h"

struct ebpf_prog *xdp_hook_prog;

_Static_assert((int)EBPF_XDP_DROP == (int)NETDEV_RX_DROP &&
		   (int)EBPF_XDP_PASS == (int)NETDEV_RX_PASS &&
		   (int)EBPF_XDP_TX == (int)NETDEV_RX_TX &&
		   (int)EBPF_XDP_REDIRECT == (int)NETDEV_RX_REDIRECT,
	       "XDP verdicts are netdev's receive verdicts");

static bool xdp_hook_redirect(void *frame, uint32_t len, uint32_t handle);

/* What netdev's receive path calls: armed while a program is attached. */
static const struct netdev_rx_hook xdp_rx_hook = {
    .armed = (void *const *)&xdp_hook_prog,
    .run = xdp_hook_run,
    .redirect = xdp_hook_redirect,
    .tx_failed = xdp_hook_count_tx_failed,
    .umem_tx_done = xsk_umem_tx_done,
};

void xdp_hook_register(void)
{
	netdev_rx_hook_register(&xdp_rx_hook);
}
/* Counters per CPU: the hook runs on every CPU that serves a queue, and
 * each bumps only its own copy (a cache line apart); readers sum them.
 * A reset on attach clears every copy: counts racing with it may be lost,
 * never torn. */
struct xdp_cpu_stats {
	struct xdp_hook_stats hook;
	struct xdp_prog_stats prog;
	uint32_t last_queue; /* of the frame the program ran on */
} __attribute__((aligned(64)));
static struct xdp_cpu_stats cpu_stats[EBPF_MAX_CPUS];

static struct xdp_cpu_stats *me(void)
{
	return &cpu_stats[ebpf_cpu_index()];
}

static void reset_prog_stats(void)
{
	for (unsigned i = 0; i < EBPF_MAX_CPUS; i++)
		memset(&cpu_stats[i].prog, 0, sizeof(cpu_stats[i].prog));
}
static bool jitted;

/* Frees a program no CPU can reach any more, once no other CPU is still
 * running it (ebpf_run_wait_others); kept, with a word, if one stays. */
static void free_when_unused(struct ebpf_prog *old)
{
	if (!old)
		return;
	if (!ebpf_run_wait_others()) {
		log_error("xdp: a CPU is stuck in %s; not freeing it",
			  old->name);
		return;
	}
	ebpf_prog_free(old);
}

int xdp_hook_attach(const char *name, bool jit)
{
	const struct xdp_builtin *b = xdp_builtin_find(name);
	struct ebpf_prog *p;
	char err[160];

	if (xdp_hook_prog) { /* replacing: the old program goes */
		struct ebpf_prog *old =
		    __atomic_exchange_n(&xdp_hook_prog, NULL, __ATOMIC_SEQ_CST);

		free_when_unused(old);
	}
	if (!b) {
		log_error("xdp: no built-in program '%s'; available:", name);
		for (unsigned i = 0; i < xdp_nbuiltins; i++)
			log_error("xdp:   %s", xdp_builtins[i].name);
		return -ENOENT;
	}
	int rc = ebpf_load_elf(b->elf, b->len, NULL, &p, err, sizeof(err));
	if (rc) {
		log_error("xdp: %s refused: %s; serving without it", name, err);
		return rc;
	}
	if (p->type != EBPF_PROG_XDP) {
		log_error("xdp: %s is not an XDP program (a tc or socket "
			  "one: attach it with tc.ingress=, tc.egress= or "
			  "NAME.filter=)",
			  name);
		ebpf_prog_free(p);
		return -EINVAL;
	}
	if (jit) {
		rc = ebpf_jit(p);
		if (rc)
			log_warn("xdp: %s: JIT unavailable (%d), interpreting",
				 name, rc);
	}
	jitted = p->jitted != NULL;
	log_info("xdp: %s attached: %u instructions, %u maps, %s", name,
		 p->ninsns, p->nmaps, jitted ? "JIT" : "interpreted");
	if (jitted)
		log_info("xdp: %s JIT code %zu bytes (read-only, executable)",
			 name, p->jit_size);
	reset_prog_stats();
	xdp_hook_prog = p;
	return 0;
}

/* One "A.B.C.D[:port]" entry of n bytes; returns 0 and the key parts, or
 * -EINVAL. */
static int parse_entry(const char *s, size_t n, uint32_t *addr_be,
		       uint16_t *port)
{
	const char *end = s + n;
	const char *rest;
	uint32_t addr;

	*port = 0;
	rest = cmdline_parse_quad(s, &addr);
	if (!rest || rest > end || (rest < end && *rest != ':'))
		return -EINVAL;
	if (rest < end) { /* ":port" */
		uint32_t v = 0;

		if (++rest == end)
			return -EINVAL;
		for (; rest < end; rest++) {
			if (*rest < '0' || *rest > '9' ||
			    (v = v * 10 + (uint32_t)(*rest - '0')) > 65535)
				return -EINVAL;
		}
		*port = (uint16_t)v;
	}
	/* Network byte order, as the program compares the IP header. */
	uint8_t b[4] = {(uint8_t)(addr >> 24), (uint8_t)(addr >> 16),
			(uint8_t)(addr >> 8), (uint8_t)addr};
	memcpy(addr_be, b, 4);
	return 0;
}

int xdp_hook_blocklist(const char *list)
{
	struct ebpf_map *m =
	    xdp_hook_prog ? ebpf_prog_map(xdp_hook_prog, "blocklist") : NULL;
	int added = 0;

	if (!m) {
		log_error("xdp: xdp.blocklist needs xdp.prog=blocklist");
		return -ENOENT;
	}
	for (const char *s = list; *s;) {
		const char *end = strchr(s, ',');
		size_t n = end ? (size_t)(end - s) : strlen(s);
		struct {
			uint32_t saddr;
			uint16_t port;
			uint16_t pad;
		} key = {0};
		uint8_t one = 1;
		if (parse_entry(s, n, &key.saddr, &key.port)) {
			log_error("xdp: bad blocklist entry '%.*s' (expected "
				  "A.B.C.D or A.B.C.D:port)",
				  (int)n, s);
		} else if (m->key_size != sizeof(key) || m->value_size < 1 ||
			   ebpf_map_update(m, &key, &one, EBPF_ANY)) {
			log_error("xdp: cannot add '%.*s' to the blocklist map",
				  (int)n, s);
		} else {
			added++;
		}
		s += n;
		if (*s == ',')
			s++;
	}
	log_info("xdp: blocklist holds %d entries", added);
	return added;
}

int xdp_hook_run(void *frame, uint32_t len, uint8_t csum_flags, uint32_t queue)
{
	struct ebpf_xdp_ctx ctx = {
	    .data = frame,
	    .data_end = (uint8_t *)frame + len,
	    .data_meta = frame,
	    .ingress_ifindex = 1,
	    .rx_queue_index = queue,
	    .csum_flags = csum_flags,
	};
	uint64_t v, t0, dt;
	/* Only frames with a program attached come here (the hook is armed
	 * by the pointer), so the two rdtsc cost nothing without one. The
	 * CPU is looked up once per frame: every counter below is its. */
	unsigned cpu = ebpf_run_enter();
	struct xdp_cpu_stats *s = &cpu_stats[cpu];

	/* A REDIRECT goes where this run's bpf_redirect_map pointed, never
	 * where an earlier frame's did. */
	ebpf_redirect_info_of(cpu)->target = 0;
	s->last_queue = queue;
	/* Loaded once, after the mark: detach may have cleared it since the
	 * hook was found armed. */
	struct ebpf_prog *p = __atomic_load_n(&xdp_hook_prog, __ATOMIC_ACQUIRE);
	if (!p) {
		ebpf_run_exit(cpu);
		return EBPF_XDP_PASS;
	}
	t0 = rdtsc();
	v = ebpf_run(p, &ctx);
	dt = rdtsc() - t0;
	ebpf_run_exit(cpu);
	s->hook.runs++;
	s->hook.cycles += dt;
	s->prog.runs++;
	s->prog.cycles += dt;
	switch (v) {
	case EBPF_XDP_PASS:
		s->hook.pass++;
		return EBPF_XDP_PASS;
	case EBPF_XDP_DROP:
		s->hook.drop++;
		return EBPF_XDP_DROP;
	case EBPF_XDP_TX:
		s->hook.tx++;
		return EBPF_XDP_TX;
	case EBPF_XDP_REDIRECT:
		s->hook.redirect++;
		return EBPF_XDP_REDIRECT;
	default: /* ABORTED or a value Linux would not accept either */
		s->hook.aborted++;
		return EBPF_XDP_DROP;
	}
}

struct ebpf_prog *xdp_hook_swap(struct ebpf_prog *p)
{
	/* A frame reads the pointer once (xdp_hook_run): it runs the old
	 * program or the new one, never a mix. */
	struct ebpf_prog *old =
	    __atomic_exchange_n(&xdp_hook_prog, p, __ATOMIC_SEQ_CST);
	/* The caller frees old: no other CPU may still be inside it. */
	if (old && !ebpf_run_wait_others()) {
		log_error("xdp: a CPU is stuck in %s; not freeing it",
			  old->name);
		old = NULL;
	}
	jitted = p && p->jitted;
	reset_prog_stats();
	if (p)
		log_info("xdp: %s attached at run time (%s)", p->name,
			 p->jitted ? "JIT" : "interpreted");
	else
		log_info("xdp: program detached at run time");
	return old;
}

void xdp_hook_detach(void)
{
	struct ebpf_prog *p =
	    __atomic_exchange_n(&xdp_hook_prog, NULL, __ATOMIC_SEQ_CST);

	free_when_unused(p);
	jitted = false;
	for (unsigned i = 0; i < EBPF_MAX_CPUS; i++)
		memset(&cpu_stats[i].hook, 0, sizeof(cpu_stats[i].hook));
	reset_prog_stats();
}

void xdp_hook_count_tx_failed(void)
{
	me()->hook.tx_failed++;
}

/* The REDIRECT verdict: to the socket the program's bpf_redirect_map
 * named (xsk_redirect settles the exchange of buffers); false drops. */
static bool xdp_hook_redirect(void *frame, uint32_t len, uint32_t handle)
{
	uint32_t target = ebpf_redirect_info.target;

	ebpf_redirect_info.target = 0;
	if (!target) {
		me()->hook.redirect_no_target++;
		return false;
	}
	if (!xsk_redirect(target, frame, len, handle, me()->last_queue)) {
		me()->hook.redirect_dropped++;
		return false;
	}
	me()->hook.xsk_frames++;
	me()->hook.xsk_bytes += len;
	return true;
}

/* Sums n uint64_t counters at the start of each CPU's block. */
static void sum_u64(void *out, size_t off, size_t bytes)
{
	uint64_t *o = out;

	memset(out, 0, bytes);
	for (unsigned c = 0; c < ebpf_cpu_count(); c++) {
		const uint64_t *v =
		    (const uint64_t *)((const char *)&cpu_stats[c] + off);

		for (size_t i = 0; i < bytes / sizeof(uint64_t); i++)
			o[i] += __atomic_load_n(&v[i], __ATOMIC_RELAXED);
	}
}

void xdp_hook_get_stats(struct xdp_hook_stats *out)
{
	sum_u64(out, offsetof(struct xdp_cpu_stats, hook), sizeof(*out));
}

void xdp_hook_get_prog_stats(struct xdp_prog_stats *out)
{
	sum_u64(out, offsetof(struct xdp_cpu_stats, prog), sizeof(*out));
}

/* The hook's counters, declared once (kernel/counters.h). */
const struct counter_desc xdp_hook_stats_desc[] = {
    COUNTER(U64, struct xdp_hook_stats, runs, "runs"),
    COUNTER(U64, struct xdp_hook_stats, pass, "pass"),
    COUNTER(U64, struct xdp_hook_stats, drop, "drop"),
    COUNTER(U64, struct xdp_hook_stats, tx, "tx"),
    COUNTER(U64, struct xdp_hook_stats, redirect, "redirect"),
    COUNTER(U64, struct xdp_hook_stats, aborted, "aborted"),
    COUNTER(U64, struct xdp_hook_stats, tx_failed, "tx_failed"),
    COUNTER(U64, struct xdp_hook_stats, redirect_dropped, "redirect_dropped"),
    COUNTER(U64, struct xdp_hook_stats, redirect_no_target,
	    "redirect_no_target"),
    COUNTER(U64, struct xdp_hook_stats, xsk_frames, "xsk_frames"),
    COUNTER(U64, struct xdp_hook_stats, xsk_bytes, "xsk_bytes"),
    COUNTER(U64, struct xdp_hook_stats, cycles, "cycles"),
};
const unsigned xdp_hook_stats_ndesc = COUNTERS_LEN(xdp_hook_stats_desc);

const struct counter_desc xdp_prog_stats_desc[] = {
    COUNTER(U64, struct xdp_prog_stats, runs, "runs"),
    COUNTER(U64, struct xdp_prog_stats, cycles, "cycles"),
};
const unsigned xdp_prog_stats_ndesc = COUNTERS_LEN(xdp_prog_stats_desc);

int xdp_hook_stats_json(char *buf, size_t cap)
{
	struct ebpf_prog *p = xdp_hook_prog;
	struct kbuf b = {buf, cap, 0};
	struct xdp_hook_stats stats;
	struct xdp_prog_stats prog_stats;

	if (!p)
		return ksnprintf(buf, cap, "{\"attached\":null}");
	xdp_hook_get_stats(&stats);
	xdp_hook_get_prog_stats(&prog_stats);
	kbuf_printf(&b, "{\"attached\":\"%s\",\"jit\":%s", p->name,
		    p->jitted ? "true" : "false");
	counters_json_members(&b, xdp_hook_stats_desc, xdp_hook_stats_ndesc,
			      &stats, 0);
	kbuf_printf(&b, ",\"prog\":{");
	counters_json_members(&b, xdp_prog_stats_desc, xdp_prog_stats_ndesc,
			      &prog_stats, 1);
	kbuf_printf(&b, "},\"maps\":{");
	for (uint32_t i = 0; i < p->nmaps; i++) {
		const struct ebpf_map *m = p->maps[i];
		struct ebpf_map_counts mc;

		ebpf_map_get_counts(m, &mc);
		kbuf_printf(&b,
			    "%s\"%s\":{\"lookups\":%llu,\"updates\":%llu,"
			    "\"misses\":%llu",
			    i ? "," : "", m->name,
			    (unsigned long long)mc.lookups,
			    (unsigned long long)mc.updates,
			    (unsigned long long)mc.misses);
		/* Small arrays of counters (count, blocklist stats): values;
		 * a per-CPU array's are summed over the CPUs, and each CPU's
		 * own follow in per_cpu. Read through the control side's
		 * lookup, which counts nothing. */
		if ((m->type == EBPF_MAP_ARRAY ||
		     m->type == EBPF_MAP_PERCPU_ARRAY) &&
		    m->value_size == 8 && m->key_size == 4 &&
		    m->max_entries <= 16) {
			struct ebpf_map *mm = (struct ebpf_map *)m;
			unsigned ncpus = ebpf_map_ncpus(m);
			kbuf_printf(&b, ",\"values\":[");
			for (uint32_t k = 0; k < m->max_entries; k++) {
				uint64_t sum = 0;
				for (unsigned c = 0; c < ncpus; c++) {
					uint64_t *v =
					    ebpf_map_lookup_cpu(mm, &k, c);
					sum += v ? *v : 0;
				}
				kbuf_printf(&b, "%s%llu", k ? "," : "",
					    (unsigned long long)sum);
			}
			kbuf_printf(&b, "]");
			if (m->type == EBPF_MAP_PERCPU_ARRAY) {
				kbuf_printf(&b, ",\"per_cpu\":[");
				for (unsigned c = 0; c < ncpus; c++) {
					kbuf_printf(&b, "%s[", c ? "," : "");
					for (uint32_t k = 0; k < m->max_entries;
					     k++) {
						uint64_t *v =
						    ebpf_map_lookup_cpu(mm, &k,
									c);
						kbuf_printf(
						    &b, "%s%llu", k ? "," : "",
						    (unsigned long long)(v ? *v
									   : 0));
					}
					kbuf_printf(&b, "]");
				}
				kbuf_printf(&b, "]");
			}
		}
		kbuf_printf(&b, "}");
	}
	kbuf_printf(&b, "}}");
	return kbuf_finish(&b);
}

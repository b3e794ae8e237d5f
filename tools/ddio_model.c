/* ddio_model: how many received frames would leave the LLC before the CPU
 * reads them (the "leaky DMA" problem) for a given RX ring policy, by
 * replaying RX buffer traces through a model of an LLC with DDIO.
 *
 * Traces are lines "<ns> <buffer> <event> [len]" with event 0 = posted to
 * the device, 1 = written by the device, 2 = read by the CPU, 3 = released:
 * what the driver records (vnet_trace_enable, drivers/virtio_net.h), or
 * what this tool synthesizes from a traffic model and a simulation of the
 * driver's posting policy. See docs/leaky-dma.md for the model, its
 * assumptions and what it found.
 *
 *   ddio_model --report DIR        all experiments: DIR/leaky_dma.{txt,csv}
 *   ddio_model --trace FILE        replay one recorded trace
 *   ddio_model --synth POLICY TRAFFIC [--dump FILE]
 *                                  one synthetic run (POLICY: fixed:N,
 *                                  fifo:N, adaptive; TRAFFIC: steady, bursty)
 * Options (before the command): --ways W --ddio-ways D --sets S
 *   --bg-rate LINES_PER_US --bg-ws MIB --lines hdr|frame
 *   --write-at event|harvest-lag:NS  (recorded traces: see below)
 *   --ms DURATION --seed N
 *
 * Host tool, plain C11 and libc; built by tools/ddio.mk. */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/vnet_rx_policy.h"

#define LINE	   64u
#define BUF_SIZE   2048u /* VNET_RX_BUF_SIZE */
#define VNET_HDR   12u	 /* virtio_net_hdr in front of every frame */
#define HDR_LINES  2u	 /* "headers": virtio + Ethernet + IP + L4 */
#define POOL_BASE  (1ull << 30)
#define BG_BASE	   (1ull << 34)
#define MAX_WAYS   32
#define BUDGET	   64	      /* net.budget default */
#define POOL_BUFS  2048	      /* net.rx_bufs for the LIFO policies */
#define ADAPT_RING 1024	      /* ring size: the adaptive target's ceiling */
#define MAX_BUFS   (1u << 20) /* buffer indexes a trace may name */

enum ev { EV_POSTED, EV_WRITTEN, EV_READ, EV_RELEASED };

struct rec {
	uint64_t ns;
	uint32_t buf;
	uint16_t len;
	uint8_t ev;
};

struct trace {
	struct rec *r;
	size_t n, cap;
};

/* ---- configuration ---- */

static struct cfg {
	unsigned ways, ddio_ways, sets;
	double bg_rate;	   /* background CPU line accesses per microsecond */
	double bg_ws_mib;  /* background working set, streamed cyclically */
	bool whole_frame;  /* track every line of the frame, not 2 */
	int64_t write_lag; /* recorded traces: DMA this long before harvest */
	bool write_at_event;
	double ms;
	uint64_t seed;
	/* Traffic and CPU. */
	double cpu_ns_per_frame; /* stack + application work per frame */
	double idle_poll_ns;	 /* main-loop turn that finds nothing */
	double steady_mpps;
	double burst_mpps, burst_on_us, burst_off_us;
} C = {
    .ways = 20,
    .ddio_ways = 2,
    .sets = 2048,
    .bg_rate = 50,
    .bg_ws_mib = 8,
    .whole_frame = true,
    .write_lag = 0,
    .write_at_event = true,
    .ms = 200,
    .seed = 1,
    .cpu_ns_per_frame = 1000,
    .idle_poll_ns = 500,
    .steady_mpps = 0.6,
    .burst_mpps = 3.0,
    .burst_on_us = 100,
    .burst_off_us = 400,
};

/* ---- random numbers (xorshift64*, reproducible) ---- */

/* Two streams, arrivals and sizes, each drawn once per arriving frame, so
 * every policy sees the same traffic. */
static uint64_t rng_state, len_state;

static double urand_from(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (double)((*s * 2685821657736338717ull) >> 11) *
	       (1.0 / 9007199254740992.0);
}

static double exp_rand(double mean)
{
	return -mean * log(1.0 - urand_from(&rng_state));
}

/* Frame sizes: 60% full-MTU frames (bulk data), 40% minimum-size ones
 * (ACKs, requests). */
static uint16_t frame_len(void)
{
	return urand_from(&len_state) < 0.6 ? 1514 : 64;
}

/* ---- the LLC ---- */

struct llc {
	unsigned sets, ways, ddio;
	uint64_t *tag; /* line address + 1; 0 = invalid */
	uint64_t *use; /* LRU stamp */
	uint64_t clock;
};

static void llc_init(struct llc *c)
{
	c->sets = C.sets;
	c->ways = C.ways;
	c->ddio = C.ddio_ways;
	c->tag = calloc((size_t)c->sets * c->ways, sizeof(*c->tag));
	c->use = calloc((size_t)c->sets * c->ways, sizeof(*c->use));
	c->clock = 0;
	if (!c->tag || !c->use) {
		fprintf(stderr, "ddio_model: out of memory\n");
		exit(1);
	}
}

static void llc_free(struct llc *c)
{
	free(c->tag);
	free(c->use);
}

/* Real LLCs pick slice and set by a hash of the physical address; plain
 * modulo indexing would put the header lines of 2 KiB-aligned buffers into
 * 1/32 of the sets. */
static unsigned llc_set(const struct llc *c, uint64_t line)
{
	uint64_t h = line * 0x9e3779b97f4a7c15ull;

	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return (unsigned)(h % c->sets);
}

static int llc_find(const struct llc *c, unsigned set, uint64_t line)
{
	const uint64_t *t = &c->tag[(size_t)set * c->ways];

	for (unsigned w = 0; w < c->ways; w++)
		if (t[w] == line + 1)
			return (int)w;
	return -1;
}

/* LRU (or an invalid way) among ways [0, limit). */
static unsigned llc_victim(const struct llc *c, unsigned set, unsigned limit)
{
	const uint64_t *t = &c->tag[(size_t)set * c->ways];
	const uint64_t *u = &c->use[(size_t)set * c->ways];
	unsigned v = 0;

	for (unsigned w = 0; w < limit; w++) {
		if (!t[w])
			return w;
		if (u[w] < u[v])
			v = w;
	}
	return v;
}

/* A CPU access: hit, or fill into any way. Returns whether it hit. */
static bool llc_cpu(struct llc *c, uint64_t line)
{
	unsigned set = llc_set(c, line);
	int w = llc_find(c, set, line);
	size_t base = (size_t)set * c->ways;

	if (w >= 0) {
		c->use[base + (unsigned)w] = ++c->clock;
		return true;
	}
	w = (int)llc_victim(c, set, c->ways);
	c->tag[base + (unsigned)w] = line + 1;
	c->use[base + (unsigned)w] = ++c->clock;
	return false;
}

/* A DDIO write: updates the line in place where it is cached (any way),
 * otherwise allocates it in one of the DDIO ways. Returns whether it was
 * cached already. */
static bool llc_dma(struct llc *c, uint64_t line)
{
	unsigned set = llc_set(c, line);
	int w = llc_find(c, set, line);
	size_t base = (size_t)set * c->ways;
	bool hit = w >= 0;

	if (!hit) {
		w = (int)llc_victim(c, set, c->ddio);
		c->tag[base + (unsigned)w] = line + 1;
	}
	c->use[base + (unsigned)w] = ++c->clock;
	return hit;
}

static bool llc_present(const struct llc *c, uint64_t line)
{
	return llc_find(c, llc_set(c, line), line) >= 0;
}

/* ---- traces ---- */

static void trace_add(struct trace *t, uint64_t ns, uint32_t buf, uint8_t ev,
		      uint16_t len)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 65536;
		t->r = realloc(t->r, t->cap * sizeof(*t->r));
		if (!t->r) {
			fprintf(stderr, "ddio_model: out of memory\n");
			exit(1);
		}
	}
	t->r[t->n++] = (struct rec){ns, buf, len, ev};
}

struct rec_at {
	struct rec r;
	size_t i; /* position in the file: ties keep it */
};

static int rec_cmp(const void *a, const void *b)
{
	const struct rec_at *x = a, *y = b;

	if (x->r.ns != y->r.ns)
		return x->r.ns < y->r.ns ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Stable by time: events of one instant keep their recorded order. */
static void trace_sort(struct trace *t)
{
	size_t i;
	bool sorted = true;

	for (i = 1; i < t->n && sorted; i++)
		sorted = t->r[i - 1].ns <= t->r[i].ns;
	if (sorted)
		return;
	{
		struct rec_at *tmp = malloc(t->n * sizeof(*tmp));

		if (!tmp) {
			fprintf(stderr, "ddio_model: out of memory\n");
			exit(1);
		}
		for (i = 0; i < t->n; i++) {
			tmp[i].r = t->r[i];
			tmp[i].i = i;
		}
		qsort(tmp, t->n, sizeof(*tmp), rec_cmp);
		for (i = 0; i < t->n; i++)
			t->r[i] = tmp[i].r;
		free(tmp);
	}
}

static int trace_write(const struct trace *t, const char *path,
		       const char *comment)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "# %s\n# ns buffer event len\n", comment);
	for (size_t i = 0; i < t->n; i++)
		fprintf(f, "%" PRIu64 " %u %u %u\n", t->r[i].ns,
			(unsigned)t->r[i].buf, (unsigned)t->r[i].ev,
			(unsigned)t->r[i].len);
	return fclose(f);
}

static int trace_read(struct trace *t, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	unsigned long lineno = 0;

	if (!f) {
		perror(path);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long ns;
		unsigned buf, ev, len = 0;
		int k;

		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		k = sscanf(line, "%llu %u %u %u", &ns, &buf, &ev, &len);
		if (k < 3 || ev > EV_RELEASED || len > 0xffff ||
		    buf >= MAX_BUFS) {
			fprintf(stderr,
				"%s:%lu: expected \"ns buffer event "
				"[len]\"\n",
				path, lineno);
			fclose(f);
			return -1;
		}
		trace_add(t, ns, buf, (uint8_t)ev, (uint16_t)len);
	}
	fclose(f);
	return 0;
}

/* ---- replay ---- */

struct result {
	uint64_t frames, dropped; /* arrivals; no buffer posted */
	uint64_t read, leaked;	  /* buffers read; with a line evicted */
	uint64_t lines, lines_gone;
	uint64_t dma_lines, dma_cached; /* DMA writes; found in the LLC */
	uint64_t grows, shrinks;
	double posted_avg;
	uint32_t posted_max;
};

static unsigned buf_lines(uint16_t len)
{
	unsigned n = (VNET_HDR + len + LINE - 1) / LINE;

	if (!C.whole_frame || n < HDR_LINES)
		return HDR_LINES;
	return n;
}

static uint64_t buf_line(uint32_t buf, unsigned i)
{
	return (POOL_BASE + (uint64_t)buf * BUF_SIZE) / LINE + i;
}

/* Background: another core streaming through its working set at bg_rate,
 * issued in time order between trace events. */
struct bg {
	uint64_t lines, next, issued;
};

static void bg_until(struct llc *c, struct bg *b, uint64_t ns, uint64_t t0)
{
	uint64_t due = (uint64_t)((double)(ns - t0) * C.bg_rate / 1000.0);

	for (; b->issued < due; b->issued++) {
		llc_cpu(c, BG_BASE / LINE + b->next);
		if (++b->next == b->lines)
			b->next = 0;
	}
}

/* Per buffer: length written and whether the lines went in. */
struct bufstate {
	uint16_t len;
	bool written;
};

static void replay(struct trace *t, struct result *res)
{
	struct llc c;
	struct bg b = {(uint64_t)(C.bg_ws_mib * 1048576.0) / LINE, 0, 0};
	uint32_t maxbuf = 0;
	struct bufstate *bs;
	uint64_t t0;

	if (!C.write_at_event) {
		/* Recorded traces stamp "written" at harvest; move each DMA
		 * write write_lag earlier, not before its posting. */
		uint64_t *posted_at;

		for (size_t i = 0; i < t->n; i++)
			if (t->r[i].buf > maxbuf)
				maxbuf = t->r[i].buf;
		posted_at = calloc(maxbuf + 1, sizeof(*posted_at));
		for (size_t i = 0; i < t->n; i++) {
			struct rec *r = &t->r[i];

			if (r->ev == EV_POSTED)
				posted_at[r->buf] = r->ns;
			else if (r->ev == EV_WRITTEN) {
				uint64_t w = r->ns > (uint64_t)C.write_lag
						 ? r->ns - (uint64_t)C.write_lag
						 : 0;
				r->ns = w > posted_at[r->buf]
					    ? w
					    : posted_at[r->buf];
			}
		}
		free(posted_at);
		trace_sort(t);
	}
	maxbuf = 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->r[i].buf > maxbuf)
			maxbuf = t->r[i].buf;
	bs = calloc(maxbuf + 1, sizeof(*bs));
	llc_init(&c);
	t0 = t->n ? t->r[0].ns : 0;

	for (size_t i = 0; i < t->n; i++) {
		const struct rec *r = &t->r[i];
		struct bufstate *s = &bs[r->buf];

		bg_until(&c, &b, r->ns, t0);
		switch (r->ev) {
		case EV_WRITTEN:
			s->len = r->len;
			s->written = true;
			for (unsigned k = 0; k < buf_lines(r->len); k++) {
				res->dma_lines++;
				res->dma_cached +=
				    llc_dma(&c, buf_line(r->buf, k));
			}
			break;
		case EV_READ: {
			unsigned gone = 0, n;

			if (!s->written)
				break; /* written before the trace began */
			n = buf_lines(s->len);
			for (unsigned k = 0; k < n; k++)
				gone += !llc_present(&c, buf_line(r->buf, k));
			for (unsigned k = 0; k < n; k++)
				llc_cpu(&c, buf_line(r->buf, k));
			res->read++;
			res->lines += n;
			res->lines_gone += gone;
			res->leaked += gone > 0;
			s->written = false;
			break;
		}
		default:
			break;
		}
	}
	llc_free(&c);
	free(bs);
}

/* ---- synthesis: traffic, device and driver ---- */

enum policy_kind { POL_FIXED_FIFO, POL_FIXED_LIFO, POL_ADAPTIVE };

struct policy {
	const char *name;
	enum policy_kind kind;
	uint32_t posted; /* fixed target */
};

/* The free list: a stack (LIFO, as Skiff's driver) or a queue (FIFO, as a
 * driver whose ring slots own their buffers). */
struct freelist {
	uint32_t *b;
	size_t head, n, cap;
	bool lifo;
};

static void fl_push(struct freelist *f, uint32_t x)
{
	f->b[(f->head + f->n++) % f->cap] = x;
}

static uint32_t fl_pop(struct freelist *f)
{
	uint32_t x;

	if (f->lifo)
		return f->b[(f->head + --f->n) % f->cap];
	x = f->b[f->head];
	f->head = (f->head + 1) % f->cap;
	f->n--;
	return x;
}

/* Arrivals: Poisson at steady_mpps, or on/off bursts (exponential on and
 * off periods, Poisson at burst_mpps while on) with the same mean rate
 * when on/(on+off) * burst = steady. */
struct traffic {
	bool bursty;
	bool on;
	double t, phase_end;
};

static double next_arrival(struct traffic *tr)
{
	if (!tr->bursty) {
		tr->t += exp_rand(1000.0 / C.steady_mpps);
		return tr->t;
	}
	for (;;) {
		if (!tr->on) {
			tr->t = tr->phase_end;
			tr->on = true;
			tr->phase_end = tr->t + exp_rand(C.burst_on_us * 1000);
		}
		tr->t += exp_rand(1000.0 / C.burst_mpps);
		if (tr->t < tr->phase_end)
			return tr->t;
		tr->t = tr->phase_end;
		tr->on = false;
		tr->phase_end = tr->t + exp_rand(C.burst_off_us * 1000);
	}
}

/* Simulates the device filling posted buffers as frames arrive and the
 * main loop polling (budget 64, one frame processed at a time, each
 * released when done), refilling when a quarter of the target is missing,
 * with the adaptive rule of vnet_rx_adapt(). Writes the trace, with
 * "written" at the DMA time (which a driver cannot see). */
static void synthesize(const struct policy *p, bool bursty, struct trace *t,
		       struct result *res)
{
	/* FIFO: a ring whose slots own their buffers, so the pool is the
	 * ring; LIFO: Skiff's pool of POOL_BUFS behind a stack. */
	uint32_t pool = p->kind == POL_FIXED_FIFO ? p->posted : POOL_BUFS;
	struct freelist fl = {calloc(POOL_BUFS, sizeof(uint32_t)), 0, 0,
			      POOL_BUFS, p->kind != POL_FIXED_FIFO};
	/* Posted buffers in device order, with arrival times once written. */
	uint32_t *ring = calloc(POOL_BUFS, sizeof(uint32_t));
	double *wtime = calloc(POOL_BUFS, sizeof(double));
	uint16_t *wlen = calloc(POOL_BUFS, sizeof(uint16_t));
	size_t r_head = 0, r_written = 0, r_posted = 0; /* counts */
	uint32_t target =
	    p->kind == POL_ADAPTIVE ? VNET_RX_ADAPT_START : p->posted;
	uint32_t calm = 0;
	struct traffic tr = {bursty, false, 0, 0};
	double end = C.ms * 1e6, now = 0, next = next_arrival(&tr);
	double posted_area = 0, last = 0;

	for (uint32_t i = 0; i < pool; i++)
		fl_push(&fl, fl.lifo ? pool - 1 - i : i); /* 0 goes first */

#define RING(i) ring[(r_head + (i)) % POOL_BUFS]
		/* The device side: frames that arrived by time `upto`. */
#define DEVICE(upto)                                                           \
	do {                                                                   \
		while (next <= (upto)) {                                       \
			uint16_t len = frame_len();                            \
			res->frames++;                                         \
			if (r_written < r_posted) {                            \
				uint32_t b = RING(r_written);                  \
				wtime[b] = next;                               \
				wlen[b] = len;                                 \
				trace_add(t, (uint64_t)next, b, EV_WRITTEN,    \
					  wlen[b]);                            \
				r_written++;                                   \
			} else {                                               \
				res->dropped++;                                \
			}                                                      \
			next = next_arrival(&tr);                              \
		}                                                              \
	} while (0)

	/* Initial fill. */
	while (r_posted < target && fl.n) {
		uint32_t b = fl_pop(&fl);

		RING(r_posted) = b;
		r_posted++;
		trace_add(t, 0, b, EV_POSTED, 0);
	}
	while (now < end) {
		uint32_t posted_before = (uint32_t)r_posted;
		unsigned done = 0;
		bool more;

		DEVICE(now);
		while (done < BUDGET && r_written > 0) {
			uint32_t b = RING(0);

			r_head = (r_head + 1) % POOL_BUFS;
			r_written--;
			r_posted--;
			trace_add(t, (uint64_t)now, b, EV_READ, wlen[b]);
			now += C.cpu_ns_per_frame;
			DEVICE(now);
			trace_add(t, (uint64_t)now, b, EV_RELEASED, 0);
			fl_push(&fl, b);
			done++;
		}
		more = done == BUDGET && r_written > 0;
		if (!done)
			now += C.idle_poll_ns;
		if (p->kind == POL_ADAPTIVE && posted_before) {
			/* The driver's rule, the same function. */
			enum vnet_rx_adapt_change change;

			target = vnet_rx_adapt_target(target, ADAPT_RING,
						      posted_before, done, more,
						      &calm, &change);
			if (change == VNET_RX_ADAPT_GROW)
				res->grows++;
			else if (change == VNET_RX_ADAPT_SHRINK)
				res->shrinks++;
		}
		/* Refill: the driver's VNET_RX_REFILL rule. */
		if (vnet_rx_refill_due((uint32_t)r_posted, target)) {
			while (r_posted < target && fl.n) {
				uint32_t b = fl_pop(&fl);

				RING(r_posted) = b;
				r_posted++;
				trace_add(t, (uint64_t)now, b, EV_POSTED, 0);
			}
		}
		posted_area += (double)r_posted * (now - last);
		last = now;
		if (r_posted > res->posted_max)
			res->posted_max = (uint32_t)r_posted;
	}
#undef DEVICE
#undef RING
	res->posted_avg = last > 0 ? posted_area / last : 0;
	free(fl.b);
	free(ring);
	free(wtime);
	free(wlen);
	trace_sort(t);
}

/* ---- experiments ---- */

static const struct policy policies[] = {
    {"fixed-1024", POL_FIXED_FIFO, 1024},
    {"fixed-64", POL_FIXED_FIFO, 64},
    {"adaptive", POL_ADAPTIVE, 0},
    {"fixed-1024-lifo", POL_FIXED_LIFO, 1024},
    {"fixed-64-lifo", POL_FIXED_LIFO, 64},
};
#define NPOL (sizeof(policies) / sizeof(policies[0]))

static const struct policy *policy_by_name(const char *s)
{
	static struct policy custom;

	for (size_t i = 0; i < NPOL; i++)
		if (!strcmp(s, policies[i].name))
			return &policies[i];
	if (!strcmp(s, "adaptive"))
		return &policies[2];
	if (!strncmp(s, "fixed:", 6) || !strncmp(s, "fifo:", 5)) {
		custom.kind = s[1] == 'i' && s[2] == 'x' ? POL_FIXED_LIFO
							 : POL_FIXED_FIFO;
		custom.posted = (uint32_t)atoi(strchr(s, ':') + 1);
		custom.name = s;
		if (custom.posted >= 1 && custom.posted <= POOL_BUFS / 2)
			return &custom;
	}
	return NULL;
}

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

static void print_header(FILE *f)
{
	fprintf(f, "%-16s %-7s %-5s %8s %7s %8s %8s %8s %8s %7s %7s\n",
		"policy", "traffic", "lines", "frames", "drop%", "leaked%",
		"lines%", "dmahit%", "posted", "grows", "shrinks");
}

static void print_row(FILE *f, const char *pol, const char *traffic,
		      const struct result *r)
{
	fprintf(f,
		"%-16s %-7s %-5s %8" PRIu64 " %7.2f %8.2f %8.2f %8.1f "
		"%8.1f %7" PRIu64 " %7" PRIu64 "\n",
		pol, traffic, C.whole_frame ? "frame" : "hdr", r->frames,
		pct(r->dropped, r->frames), pct(r->leaked, r->read),
		pct(r->lines_gone, r->lines), pct(r->dma_cached, r->dma_lines),
		r->posted_avg, r->grows, r->shrinks);
}

static void csv_row(FILE *f, const char *pol, const char *traffic,
		    const struct result *r)
{
	fprintf(f,
		"%s,%s,%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
		",%.4f,%.4f,%.4f,%.4f,%.1f,%u,%" PRIu64 ",%" PRIu64 "\n",
		pol, traffic, C.whole_frame ? "frame" : "hdr", r->frames,
		r->dropped, r->read, r->leaked, pct(r->dropped, r->frames),
		pct(r->leaked, r->read), pct(r->lines_gone, r->lines),
		pct(r->dma_cached, r->dma_lines), r->posted_avg, r->posted_max,
		r->grows, r->shrinks);
}

static void run_synth(const struct policy *p, bool bursty, struct result *r,
		      const char *dump)
{
	struct trace t = {0};

	memset(r, 0, sizeof(*r));
	rng_state = C.seed * 0x9e3779b97f4a7c15ull + 1;
	len_state = C.seed * 0xbf58476d1ce4e5b9ull + 7;
	synthesize(p, bursty, &t, r);
	if (dump &&
	    trace_write(&t, dump, "synthetic: event 1 at the DMA time") != 0)
		perror(dump);
	replay(&t, r);
	free(t.r);
}

/* The plot's data (policy rows; leaked and dropped %, both traffic
 * patterns, whole frames and headers) and a gnuplot script for it. */
static int write_plot(const char *dir, struct result res[2][2][NPOL])
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/leaky_dma_plot.dat", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "policy leaked_steady leaked_bursty drop_steady "
		   "drop_bursty hdr_leaked_steady hdr_leaked_bursty\n");
	for (size_t i = 0; i < NPOL; i++)
		fprintf(f, "%s %.3f %.3f %.3f %.3f %.3f %.3f\n",
			policies[i].name,
			pct(res[1][0][i].leaked, res[1][0][i].read),
			pct(res[1][1][i].leaked, res[1][1][i].read),
			pct(res[1][0][i].dropped, res[1][0][i].frames),
			pct(res[1][1][i].dropped, res[1][1][i].frames),
			pct(res[0][0][i].leaked, res[0][0][i].read),
			pct(res[0][1][i].leaked, res[0][1][i].read));
	fclose(f);
	snprintf(path, sizeof(path), "%s/leaky_dma.gp", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f,
		"set terminal pngcairo size 1100,480 font 'sans,10'\n"
		"set output '%s/leaky_dma.png'\n"
		"set multiplot layout 1,2 title 'Leaky DMA model: LLC %u x "
		"%u ways, DDIO %u ways (%.0f KiB), background %.0f lines/us'\n"
		"set style data histograms\n"
		"set style histogram clustered gap 1\n"
		"set style fill solid 0.8 border -1\n"
		"set key top left\n"
		"set yrange [0:100]\n"
		"set grid ytics\n"
		"set xtics rotate by -25\n"
		"set ylabel 'buffers evicted before read (%%)'\n"
		"set title 'leaked (of frames read)'\n"
		"plot '%s/leaky_dma_plot.dat' using 2:xtic(1) title "
		"'steady, frame', '' using 3 title 'bursty, frame', '' using "
		"6 title 'steady, headers', '' using 7 title 'bursty, "
		"headers'\n"
		"set ylabel 'frames dropped, no buffer posted (%%)'\n"
		"set title 'dropped (of frames arrived)'\n"
		"plot '%s/leaky_dma_plot.dat' using 4:xtic(1) title "
		"'steady', '' using 5 title 'bursty'\n"
		"unset multiplot\n",
		dir, C.sets, C.ways, C.ddio_ways,
		(double)C.sets * C.ddio_ways * LINE / 1024.0, C.bg_rate, dir,
		dir);
	return fclose(f);
}

static int report(const char *dir)
{
	char path[512];
	FILE *txt, *csv;
	static const char *traffic[] = {"steady", "bursty"};
	static struct result all[2][2][NPOL]; /* [frame][bursty][policy] */
	struct result r, rt;

	snprintf(path, sizeof(path), "%s/leaky_dma.txt", dir);
	txt = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/leaky_dma.csv", dir);
	csv = fopen(path, "w");
	if (!txt || !csv) {
		perror(path);
		return 1;
	}
	fprintf(txt,
		"LLC %u sets x %u ways x %u B = %.2f MiB, DDIO %u ways = %.0f "
		"KiB; background %.0f lines/us over %.0f MiB; %.0f ms per "
		"run, seed %" PRIu64 "\n",
		C.sets, C.ways, LINE,
		(double)C.sets * C.ways * LINE / 1048576.0, C.ddio_ways,
		(double)C.sets * C.ddio_ways * LINE / 1024.0, C.bg_rate,
		C.bg_ws_mib, C.ms, C.seed);
	fprintf(txt,
		"CPU %.0f ns/frame, idle poll %.0f ns; steady %.2f Mpps; "
		"bursty %.1f Mpps on %.0f us / off %.0f us (mean %.2f "
		"Mpps)\n\n",
		C.cpu_ns_per_frame, C.idle_poll_ns, C.steady_mpps, C.burst_mpps,
		C.burst_on_us, C.burst_off_us,
		C.burst_mpps * C.burst_on_us /
		    (C.burst_on_us + C.burst_off_us));
	print_header(txt);
	fprintf(csv, "policy,traffic,lines,frames,dropped,read,leaked,"
		     "drop_pct,leaked_pct,lines_gone_pct,dma_hit_pct,"
		     "posted_avg,posted_max,grows,shrinks\n");
	for (int mode = 1; mode >= 0; mode--) {
		C.whole_frame = mode;
		for (int tr = 0; tr < 2; tr++)
			for (size_t i = 0; i < NPOL; i++) {
				run_synth(&policies[i], tr, &r, NULL);
				all[mode][tr][i] = r;
				print_row(txt, policies[i].name, traffic[tr],
					  &r);
				print_row(stdout, policies[i].name, traffic[tr],
					  &r);
				csv_row(csv, policies[i].name, traffic[tr], &r);
			}
	}
	C.whole_frame = true;
	if (write_plot(dir, all) != 0) {
		perror("plot files");
		return 1;
	}

	/* The file path: a synthetic trace written out and read back must
	 * replay to the same numbers. */
	snprintf(path, sizeof(path), "%s/trace_adaptive_bursty.txt", dir);
	run_synth(&policies[2], true, &r, path);
	{
		struct trace t = {0};

		memset(&rt, 0, sizeof(rt));
		if (trace_read(&t, path) != 0)
			return 1;
		replay(&t, &rt);
		free(t.r);
	}
	fprintf(txt,
		"\nfile round trip (%s): leaked %" PRIu64 "/%" PRIu64 " %s\n",
		path, rt.leaked, rt.read,
		rt.leaked == r.leaked && rt.read == r.read ? "ok" : "MISMATCH");
	fclose(txt);
	fclose(csv);
	if (rt.leaked != r.leaked || rt.read != r.read) {
		fprintf(stderr, "ddio_model: trace file round trip differs\n");
		return 1;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ddio_model [options] --report DIR\n"
		"       ddio_model [options] --trace FILE\n"
		"       ddio_model [options] --synth POLICY steady|bursty "
		"[--dump FILE]\n"
		"POLICY: fixed-1024 fixed-64 adaptive fixed-1024-lifo "
		"fixed-64-lifo fifo:N fixed:N (LIFO)\n"
		"options: --ways W --ddio-ways D --sets S --bg-rate L/us "
		"--bg-ws MIB --lines hdr|frame --ms MS --seed N\n"
		"         --write-at event|harvest-lag:NS --cpu-ns NS "
		"--steady MPPS --burst MPPS:ON_US:OFF_US\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--report") && v)
			return report(v);
		if (!strcmp(a, "--trace") && v) {
			struct trace t = {0};
			struct result r = {0};

			if (trace_read(&t, v) != 0)
				return 1;
			trace_sort(&t);
			replay(&t, &r);
			print_header(stdout);
			print_row(stdout, "recorded", "-", &r);
			return 0;
		}
		if (!strcmp(a, "--synth") && v && i + 2 < argc) {
			const struct policy *p = policy_by_name(v);
			const char *dump = NULL;
			struct result r;

			if (!p)
				usage();
			if (i + 4 < argc && !strcmp(argv[i + 3], "--dump"))
				dump = argv[i + 4];
			run_synth(p, !strcmp(argv[i + 2], "bursty"), &r, dump);
			print_header(stdout);
			print_row(stdout, p->name, argv[i + 2], &r);
			return 0;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--ways"))
			C.ways = (unsigned)atoi(v);
		else if (!strcmp(a, "--ddio-ways"))
			C.ddio_ways = (unsigned)atoi(v);
		else if (!strcmp(a, "--sets"))
			C.sets = (unsigned)atoi(v);
		else if (!strcmp(a, "--bg-rate"))
			C.bg_rate = atof(v);
		else if (!strcmp(a, "--bg-ws"))
			C.bg_ws_mib = atof(v);
		else if (!strcmp(a, "--lines"))
			C.whole_frame = !strcmp(v, "frame");
		else if (!strcmp(a, "--ms"))
			C.ms = atof(v);
		else if (!strcmp(a, "--seed"))
			C.seed = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--cpu-ns"))
			C.cpu_ns_per_frame = atof(v);
		else if (!strcmp(a, "--steady"))
			C.steady_mpps = atof(v);
		else if (!strcmp(a, "--burst")) {
			if (sscanf(v, "%lf:%lf:%lf", &C.burst_mpps,
				   &C.burst_on_us, &C.burst_off_us) != 3)
				usage();
		} else if (!strcmp(a, "--write-at")) {
			if (!strcmp(v, "event"))
				C.write_at_event = true;
			else if (!strncmp(v, "harvest-lag:", 12)) {
				C.write_at_event = false;
				C.write_lag = atoll(v + 12);
			} else
				usage();
		} else
			usage();
		if (C.ways == 0 || C.ways > MAX_WAYS || C.ddio_ways == 0 ||
		    C.ddio_ways > C.ways || C.sets == 0)
			usage();
	}
	usage();
	return 2;
}

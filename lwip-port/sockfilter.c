/* Socket filters per service: see sockfilter.h. Exercised by
 * tests/unit/test_tc_path.c (TCP through lwIP's real input path, UDP
 * through the callback) and tests/qemu/test_tc.py
 * (CMDLINE='echo.filter=NAME'). */
#include "lwip-port/sockfilter.h"

#include <string.h>

#include "kernel/cpu.h"
#include "kernel/kbuf.h"
#include "kernel/kerrno.h"

#define MAX_FRAGS 32 /* header parts + pbufs a context describes */

/* linux/if_ether.h ETH_P_IP as skb->protocol holds it (__be16 in a u32
 * read on a little-endian CPU). */
#define PROTOCOL_IP_BE 0x0008u

struct service {
	char name[16];
	uint8_t nports;
	uint8_t proto[SOCKFILTER_MAX_PORTS];
	uint16_t port[SOCKFILTER_MAX_PORTS];
	struct ebpf_prog *prog;
	struct sockfilter_stats svc, cur; /* cumulative; this program's */
};

static struct service services[SOCKFILTER_MAX_SERVICES];
static unsigned nservices;
/* Whether any program is attached: the common case costs one branch. */
static unsigned nattached;

static struct service *find_name(const char *name)
{
	for (unsigned i = 0; i < nservices; i++)
		if (strcmp(services[i].name, name) == 0)
			return &services[i];
	return NULL;
}

int sockfilter_service_add(const char *name, enum sockfilter_proto proto,
			   uint16_t port)
{
	struct service *s;

	if (!name || strlen(name) >= sizeof(s->name) ||
	    (proto != SOCKFILTER_TCP && proto != SOCKFILTER_UDP))
		return -EINVAL;
	s = find_name(name);
	if (!s) {
		if (nservices == SOCKFILTER_MAX_SERVICES)
			return -ENOSPC;
		s = &services[nservices++];
		memset(s, 0, sizeof(*s));
		memcpy(s->name, name, strlen(name) + 1);
	}
	if (s->nports == SOCKFILTER_MAX_PORTS)
		return -ENOSPC;
	s->proto[s->nports] = (uint8_t)proto;
	s->port[s->nports] = port;
	s->nports++;
	return 0;
}

int sockfilter_attach(const char *name, struct ebpf_prog *prog,
		      struct ebpf_prog **old)
{
	struct service *s = name ? find_name(name) : NULL;
	struct ebpf_prog *prev;

	if (!s)
		return -ENOENT;
	if (prog &&
	    (prog->type != EBPF_PROG_SOCKET_FILTER || !prog->ctx_rewritten))
		return -EINVAL;
	memset(&s->cur, 0, sizeof(s->cur));
	prev = __atomic_exchange_n(&s->prog, prog, __ATOMIC_ACQ_REL);
	nattached = nattached - (prev != NULL) + (prog != NULL);
	if (old)
		*old = prev;
	return 0;
}

struct ebpf_prog *sockfilter_current(const char *name)
{
	struct service *s = name ? find_name(name) : NULL;

	return s ? s->prog : NULL;
}

/* The service whose socket proto/port is, if a program is attached. */
static struct service *find_attached(uint8_t proto, uint16_t port)
{
	for (unsigned i = 0; i < nservices; i++) {
		struct service *s = &services[i];

		if (!s->prog)
			continue;
		for (unsigned k = 0; k < s->nports; k++)
			if (s->proto[k] == proto && s->port[k] == port)
				return s;
	}
	return NULL;
}

#define COUNT(s, field)                                                        \
	do {                                                                   \
		(s)->svc.field++;                                              \
		(s)->cur.field++;                                              \
	} while (0)

/* Adds p's non-empty pbufs to frags from n on; the new count, or -1 when
 * they do not fit. */
static int add_chain(struct ebpf_frag *frags, int n, struct pbuf *p)
{
	for (struct pbuf *q = p; q; q = q->next) {
		if (q->len) {
			if (n == MAX_FRAGS)
				return -1;
			frags[n].data = q->payload;
			frags[n].len = q->len;
			n++;
		}
		if (q->len == q->tot_len)
			break;
	}
	return n;
}

/* Runs s's program over frags (len bytes); returns the bytes to keep. */
static uint32_t run(struct service *s, struct ebpf_frag *frags, int nfrags,
		    uint32_t len)
{
	struct ebpf_skb_ctx skb;
	uint64_t t0, dt;
	uint32_t keep;

	memset(&skb, 0, sizeof(skb));
	skb.data = skb.data_meta = frags[0].data;
	skb.data_end = frags[0].data + frags[0].len;
	skb.len = skb.wire_len = len;
	skb.protocol = PROTOCOL_IP_BE;
	skb.ifindex = skb.ingress_ifindex = 1;
	skb.gso_segs = 1;
	skb.frags = frags;
	skb.nfrags = (uint32_t)nfrags;
	t0 = rdtsc();
	/* An unsigned int, as Linux's bpf_prog_run_save_cb gives it. */
	keep = (uint32_t)ebpf_run(s->prog, &skb);
	dt = rdtsc() - t0;
	COUNT(s, runs);
	s->svc.cycles += dt;
	s->cur.cycles += dt;
	return keep;
}

err_t sockfilter_tcp_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr,
			      u16_t optlen, u16_t opt1len, u8_t *opt2,
			      struct pbuf *p)
{
	struct ebpf_frag frags[MAX_FRAGS];
	struct service *s;
	uint32_t len, keep;
	int n = 0;

	if (!nattached || !(s = find_attached(SOCKFILTER_TCP, pcb->local_port)))
		return ERR_OK;
	/* The header and the first part of the options sit together in
	 * front of the payload; the rest of the options (opt2), if any, in
	 * the next pbuf; then the payload, from p on. */
	frags[n].data = (uint8_t *)hdr;
	frags[n++].len = (uint32_t)TCP_HLEN + opt1len;
	if (opt2 && optlen > opt1len) {
		frags[n].data = opt2;
		frags[n++].len = (uint32_t)(optlen - opt1len);
	}
	n = add_chain(frags, n, p);
	if (n < 0) {
		COUNT(s, too_fragmented);
		return ERR_ABRT;
	}
	len = (uint32_t)TCP_HLEN + optlen + p->tot_len;
	keep = run(s, frags, n, len);
	if (keep == 0) {
		COUNT(s, dropped);
		return ERR_ABRT;
	}
	if (keep < len) {
		COUNT(s, trunc_dropped);
		return ERR_ABRT;
	}
	COUNT(s, kept);
	return ERR_OK;
}

struct pbuf *sockfilter_udp_input(struct udp_pcb *pcb, struct pbuf *p)
{
	struct ebpf_frag frags[MAX_FRAGS];
	struct service *s;
	uint32_t len, keep;
	int n;

	if (!nattached || !(s = find_attached(SOCKFILTER_UDP, pcb->local_port)))
		return p;
	/* udp_input removed the 8-byte header from the first pbuf: it is
	 * right before the payload. */
	frags[0].data = (uint8_t *)p->payload - UDP_HLEN;
	frags[0].len = UDP_HLEN;
	n = add_chain(frags, 1, p);
	if (n < 0) {
		COUNT(s, too_fragmented);
		pbuf_free(p);
		return NULL;
	}
	len = UDP_HLEN + (uint32_t)p->tot_len;
	keep = run(s, frags, n, len);
	if (keep == 0) {
		COUNT(s, dropped);
		pbuf_free(p);
		return NULL;
	}
	if (keep < len) {
		COUNT(s, truncated);
		pbuf_realloc(p, (u16_t)(keep > UDP_HLEN ? keep - UDP_HLEN : 0));
		return p;
	}
	COUNT(s, kept);
	return p;
}

const struct counter_desc sockfilter_stats_desc[] = {
    COUNTER(U64, struct sockfilter_stats, runs, "runs"),
    COUNTER(U64, struct sockfilter_stats, kept, "kept"),
    COUNTER(U64, struct sockfilter_stats, truncated, "truncated"),
    COUNTER(U64, struct sockfilter_stats, dropped, "dropped"),
    COUNTER(U64, struct sockfilter_stats, trunc_dropped, "trunc_dropped"),
    COUNTER(U64, struct sockfilter_stats, too_fragmented, "too_fragmented"),
    COUNTER(U64, struct sockfilter_stats, cycles, "cycles"),
};
const unsigned sockfilter_stats_ndesc = COUNTERS_LEN(sockfilter_stats_desc);

int sockfilter_stats_json(char *buf, size_t cap)
{
	struct kbuf b = {buf, cap, 0};

	kbuf_printf(&b, "{");
	for (unsigned i = 0; i < nservices; i++) {
		const struct service *s = &services[i];

		kbuf_printf(&b, "%s\"%s\":{", i ? "," : "", s->name);
		counters_json_members(&b, sockfilter_stats_desc,
				      sockfilter_stats_ndesc, &s->svc, 1);
		if (!s->prog) {
			kbuf_printf(&b, ",\"prog\":null}");
			continue;
		}
		kbuf_printf(&b, ",\"prog\":{\"name\":\"%s\",\"jit\":%s",
			    s->prog->name, s->prog->jitted ? "true" : "false");
		counters_json_members(&b, sockfilter_stats_desc,
				      sockfilter_stats_ndesc, &s->cur, 0);
		kbuf_printf(&b, "}}");
	}
	kbuf_printf(&b, "}");
	return kbuf_finish(&b);
}

int sockfilter_get_stats(const char *name, struct sockfilter_stats *svc,
			 struct sockfilter_stats *prog)
{
	const struct service *s = find_name(name);

	if (!s)
		return -ENOENT;
	if (svc)
		*svc = s->svc;
	if (prog)
		*prog = s->cur;
	return 0;
}

void sockfilter_reset(void)
{
	memset(services, 0, sizeof(services));
	nservices = 0;
	nattached = 0;
}

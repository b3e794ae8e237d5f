/* The TC hook: see tc_hook.h. Exercised by tests/unit/test_tc_path.c
 * (every verdict both ways, context fields, rewriting programs built by
 * clang) and tests/qemu/test_tc.py (CMDLINE='tc.ingress=NAME
 * tc.egress=NAME').
 *
 * The context is built on the stack for each run (about 150 bytes, no
 * allocation); the program sees the frame in place. */
#include "netdev/tc_hook.h"

#include <string.h>

#include "kernel/cpu.h"
#include "kernel/kbuf.h"
#include "kernel/kerrno.h"
#include "netdev/offload.h"

#define OUR_IFINDEX 1 /* Skiff has one NIC; XDP's ingress_ifindex too */

/* linux/if_packet.h */
#define PACKET_HOST	 0
#define PACKET_BROADCAST 1
#define PACKET_MULTICAST 2

struct ebpf_prog *tc_prog[TC_NDIRS];

/* Per CPU: ingress runs on every CPU that serves a queue (netdev/rps.h),
 * and each CPU bumps only its own copies; readers sum them. */
struct tc_cpu_stats {
	struct tc_stats hook[TC_NDIRS];
	struct tc_stats prog[TC_NDIRS];
} __attribute__((aligned(64)));
static struct tc_cpu_stats tc_cpu[EBPF_MAX_CPUS];

/* A hook finds its CPU once per frame (ebpf_run_enter or ebpf_cpu_index:
 * an indirect call) and passes the index to everything it counts. */
static struct tc_cpu_stats *tc_cpu_of(unsigned cpu)
{
	return &tc_cpu[cpu < EBPF_MAX_CPUS ? cpu : 0];
}

/* Sums one direction's hook (or program) counters over the CPUs. */
static void tc_sum(enum tc_dir dir, bool prog, struct tc_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned c = 0; c < ebpf_cpu_count(); c++) {
		const uint64_t *v =
		    (const uint64_t *)(prog ? &tc_cpu[c].prog[dir]
					    : &tc_cpu[c].hook[dir]);
		uint64_t *o = (uint64_t *)out;

		for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
			o[i] += __atomic_load_n(&v[i], __ATOMIC_RELAXED);
	}
}

int tc_attach(enum tc_dir dir, struct ebpf_prog *prog, struct ebpf_prog **old)
{
	struct ebpf_prog *prev;

	if ((unsigned)dir >= TC_NDIRS ||
	    (prog &&
	     (prog->type != EBPF_PROG_SCHED_CLS || !prog->ctx_rewritten)))
		return -EINVAL;
	/* Counters of the program attached from now on start at zero
	 * before anything can run it (every CPU's copy). */
	for (unsigned c = 0; c < EBPF_MAX_CPUS; c++)
		memset(&tc_cpu[c].prog[dir], 0, sizeof(tc_cpu[c].prog[dir]));
	prev = __atomic_exchange_n(&tc_prog[dir], prog, __ATOMIC_SEQ_CST);
	/* The caller frees prev: ingress runs on every CPU serving a queue,
	 * so wait until none is inside it; if one stays, hand back nothing
	 * (the old program is kept rather than freed under it). */
	if (prev && !ebpf_run_wait_others())
		prev = NULL;
	if (old)
		*old = prev;
	return 0;
}

/* Fields common to both directions. frags[0] holds at least the
 * Ethernet header or the frame is shorter than one. */
static void skb_init(struct ebpf_skb_ctx *skb, struct ebpf_frag *frags,
		     unsigned nfrags, uint32_t tot_len)
{
	uint8_t *f = frags[0].data;

	memset(skb, 0, sizeof(*skb));
	skb->data = skb->data_meta = f;
	skb->data_end = f + frags[0].len;
	skb->len = skb->wire_len = tot_len;
	skb->ifindex = OUR_IFINDEX;
	skb->gso_segs = 1;
	if (frags[0].len >= NETDEV_ETH_HLEN)
		/* __be16 in a u32, as Linux's skb->protocol reads */
		skb->protocol = (uint32_t)f[NETDEV_ETH_TYPE] |
				(uint32_t)f[NETDEV_ETH_TYPE + 1] << 8;
	skb->frags = frags;
	skb->nfrags = nfrags;
	skb->flags = EBPF_SKB_HEAD_WRITABLE;
}

/* Runs prog and counts its verdict's run and time; returns the verdict
 * folded to one of OK, SHOT, STOLEN, REDIRECT (as cls_bpf does). */
static int tc_run(unsigned cpu, enum tc_dir dir, struct ebpf_prog *prog,
		  struct ebpf_skb_ctx *skb)
{
	struct tc_cpu_stats *c = tc_cpu_of(cpu);
	struct tc_stats *h = &c->hook[dir], *p = &c->prog[dir];
	struct ebpf_redirect_state *ri = ebpf_redirect_info_of(cpu);
	uint64_t t0, dt;
	int v;

	ri->ifindex = 0;
	ri->flags = 0;
	t0 = rdtsc();
	v = (int)(int32_t)ebpf_run(prog, skb);
	dt = rdtsc() - t0;
	h->runs++;
	p->runs++;
	h->cycles += dt;
	p->cycles += dt;
	h->write_refused += skb->write_refused;
	p->write_refused += skb->write_refused;
	switch (v) {
	case EBPF_TC_ACT_SHOT:
		h->shot++;
		p->shot++;
		return EBPF_TC_ACT_SHOT;
	case EBPF_TC_ACT_STOLEN:
	case EBPF_TC_ACT_TRAP:
		h->stolen++;
		p->stolen++;
		return EBPF_TC_ACT_STOLEN;
	case EBPF_TC_ACT_REDIRECT:
		return EBPF_TC_ACT_REDIRECT; /* counted by the caller */
	default: /* OK, UNSPEC, PIPE, RECLASSIFY, unknown: go on */
		h->ok++;
		p->ok++;
		return EBPF_TC_ACT_OK;
	}
}

static void count(unsigned cpu, enum tc_dir dir, size_t field_off)
{
	struct tc_cpu_stats *c = tc_cpu_of(cpu);

	(*(uint64_t *)((char *)&c->hook[dir] + field_off))++;
	(*(uint64_t *)((char *)&c->prog[dir] + field_off))++;
}

#define COUNT(cpu, dir, field) count(cpu, dir, offsetof(struct tc_stats, field))

/* Where bpf_redirect sent the frame: 1 = our egress, 2 = our ingress,
 * 0 = nowhere we know. */
static int redirect_target(unsigned cpu)
{
	const struct ebpf_redirect_state *ri = ebpf_redirect_info_of(cpu);

	if (ri->ifindex != OUR_IFINDEX)
		return 0;
	return ri->flags & EBPF_F_INGRESS ? 2 : 1;
}

static bool tc_ingress_prog(unsigned cpu, struct ebpf_prog *prog,
			    const struct netdev_rx_port *port, void *frame,
			    uint32_t len, uint32_t handle, uint8_t csum_flags);

bool tc_ingress_run(const struct netdev_rx_port *port, void *frame,
		    uint32_t len, uint32_t handle, uint8_t csum_flags)
{
	bool consumed;

	/* Marked inside before the pointer is loaded (ebpf_run_enter). */
	unsigned cpu = ebpf_run_enter();
	consumed = tc_ingress_prog(
	    cpu, __atomic_load_n(&tc_prog[TC_INGRESS], __ATOMIC_ACQUIRE), port,
	    frame, len, handle, csum_flags);
	ebpf_run_exit(cpu);
	return consumed;
}

static bool tc_ingress_prog(unsigned cpu, struct ebpf_prog *prog,
			    const struct netdev_rx_port *port, void *frame,
			    uint32_t len, uint32_t handle, uint8_t csum_flags)
{
	struct ebpf_frag frag = {frame, len};
	struct ebpf_skb_ctx skb;
	const uint8_t *f = frame;

	(void)csum_flags; /* the driver completed any partial sum */
	if (!prog)
		return false;
	skb_init(&skb, &frag, 1, len);
	skb.ingress_ifindex = OUR_IFINDEX;
	if (len >= 6 && (f[0] & 1))
		skb.pkt_type = memcmp(f, "\xff\xff\xff\xff\xff\xff", 6) == 0
				   ? PACKET_BROADCAST
				   : PACKET_MULTICAST;
	else
		skb.pkt_type = PACKET_HOST;
	switch (tc_run(cpu, TC_INGRESS, prog, &skb)) {
	case EBPF_TC_ACT_OK:
		return false;
	case EBPF_TC_ACT_REDIRECT:
		switch (redirect_target(cpu)) {
		case 2: /* our own ingress: on to the stack */
			COUNT(cpu, TC_INGRESS, redirect);
			return false;
		case 1: /* out of the NIC, from its own buffer */
			COUNT(cpu, TC_INGRESS, redirect);
			if (port->tx_from_rx(port->ctx, frame, len, handle)) {
				COUNT(cpu, TC_INGRESS, tx_failed);
				port->release(port->ctx, handle);
			}
			return true;
		default:
			COUNT(cpu, TC_INGRESS, redirect_failed);
			break;
		}
		break;
	default: /* SHOT, STOLEN */
		break;
	}
	port->release(port->ctx, handle);
	return true;
}

bool tc_egress_run(const struct vnet_frag *frags, unsigned nfrags,
		   unsigned tot_len, const struct vnet_tx_offload *off,
		   unsigned gso_segs)
{
	struct ebpf_prog *prog =
	    __atomic_load_n(&tc_prog[TC_EGRESS], __ATOMIC_ACQUIRE);
	struct ebpf_frag ef[VNET_TX_MAX_FRAGS];
	struct ebpf_skb_ctx skb;
	unsigned cpu;

	if (!prog || nfrags == 0 || nfrags > VNET_TX_MAX_FRAGS)
		return true;
	cpu = ebpf_cpu_index();
	/* The first fragment is the stack's header buffer or a GSO header
	 * copy, both writable RAM; later ones may be read-only data. */
	for (unsigned i = 0; i < nfrags; i++) {
		ef[i].data = (uint8_t *)(uintptr_t)frags[i].data;
		ef[i].len = frags[i].len;
	}
	skb_init(&skb, ef, nfrags, tot_len);
	if (off) {
		skb.flags |= EBPF_SKB_CSUM_PARTIAL;
		if (off->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
			skb.gso_segs = gso_segs;
			skb.gso_size = off->gso_size;
		}
	}
	switch (tc_run(cpu, TC_EGRESS, prog, &skb)) {
	case EBPF_TC_ACT_OK:
		return true;
	case EBPF_TC_ACT_REDIRECT:
		if (redirect_target(cpu) == 1) { /* our egress: send it */
			COUNT(cpu, TC_EGRESS, redirect);
			return true;
		}
		/* Into our own ingress would re-enter the stack from inside
		 * its output path; elsewhere there is nowhere to go. */
		COUNT(cpu, TC_EGRESS, redirect_failed);
		return false;
	default:
		return false;
	}
}

void tc_get_stats(enum tc_dir dir, struct tc_stats *hook, struct tc_stats *prog)
{
	if (hook)
		tc_sum(dir, false, hook);
	if (prog)
		tc_sum(dir, true, prog);
}

void tc_stats_reset(void)
{
	memset(tc_cpu, 0, sizeof(tc_cpu));
}

const struct counter_desc tc_stats_desc[] = {
    COUNTER(U64, struct tc_stats, runs, "runs"),
    COUNTER(U64, struct tc_stats, ok, "ok"),
    COUNTER(U64, struct tc_stats, shot, "shot"),
    COUNTER(U64, struct tc_stats, stolen, "stolen"),
    COUNTER(U64, struct tc_stats, redirect, "redirect"),
    COUNTER(U64, struct tc_stats, redirect_failed, "redirect_failed"),
    COUNTER(U64, struct tc_stats, tx_failed, "tx_failed"),
    COUNTER(U64, struct tc_stats, write_refused, "write_refused"),
    COUNTER(U64, struct tc_stats, cycles, "cycles"),
};
const unsigned tc_stats_ndesc = COUNTERS_LEN(tc_stats_desc);

int tc_stats_json(char *buf, size_t cap)
{
	static const char *const names[TC_NDIRS] = {"ingress", "egress"};
	struct kbuf b = {buf, cap, 0};

	kbuf_printf(&b, "{");
	for (int d = 0; d < TC_NDIRS; d++) {
		const struct ebpf_prog *p = tc_prog[d];
		struct tc_stats hs, ps;

		tc_sum(d, false, &hs);
		tc_sum(d, true, &ps);
		kbuf_printf(&b, "%s\"%s\":{", d ? "," : "", names[d]);
		counters_json_members(&b, tc_stats_desc, tc_stats_ndesc, &hs,
				      1);
		if (!p) {
			kbuf_printf(&b, ",\"prog\":null}");
			continue;
		}
		kbuf_printf(&b, ",\"prog\":{\"name\":\"%s\",\"jit\":%s",
			    p->name, p->jitted ? "true" : "false");
		counters_json_members(&b, tc_stats_desc, tc_stats_ndesc, &ps,
				      0);
		kbuf_printf(&b, "}}");
	}
	kbuf_printf(&b, "}");
	return kbuf_finish(&b);
}

/* The XDP receive path end to end on the host: the real hook
 * (xdp/xdp_hook.c) running the shipped programs as the image embeds them
 * (build/xdp/xdp_progs.c) or hand-assembled ones, through the interpreter
 * and the JIT, inside the real netif glue (lwip-port/skiffif.c), virtio-net
 * driver and rings, against the simulated device of sim_virtio.c and with
 * lwIP's core behind it.
 *
 * Covered: no program (lwIP answers, counters stay 0); udp_reflect's XDP_TX
 * (the reflected frame on the wire, lwIP untouched, the RX buffer released
 * once and only after the device completed the send, also at teardown);
 * DROP, ABORTED and out-of-range verdicts (buffers back at once); REDIRECT
 * to AF_XDP sockets through libxdp's unmodified default program (zero copy:
 * the frame's buffer passes to the UMEM and a fill-ring buffer goes back to
 * the driver; fill-ring empty and RX-ring full drops with need_wakeup; TX
 * and completion rings; bad service addresses refused; a socket closed
 * with frames on the device; a REDIRECT with no target); XDP_TX with the
 * TX ring full (dropped, counted, released);
 * blocklist entries and parsing; the /stats JSON. Every test ends with every
 * RX buffer back, lwIP's heap and pools where they started, no warnings. */
/* lwIP first: arch/cc.h defines BYTE_ORDER (see test_netif.c). */
#include "lwip-port/skiffif.h"
#include "lwip/init.h"
#include "lwip/memp.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/virtio_net.h"
#include "ebpf/ebpf.h"
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "tests/unit/check.h"
#include "tests/unit/host_kernel_stubs.h"
#include "tests/unit/lwip_host.h"
#include "tests/unit/sim_virtio.h"
#include "xdp/xdp_hook.h"
#include "xdp/xdp_progs.h"
#include "xdp/xsk.h"

/* A map's counters summed over the CPUs. */
static struct ebpf_map_counts count_of(const struct ebpf_map *m)
{
	struct ebpf_map_counts c;

	ebpf_map_get_counts(m, &c);
	return c;
}

/* The eBPF runtime's clock follows lwIP's fake one (lwip_host.c). */
uint64_t clock_ns(void)
{
	return (uint64_t)fake_now * 1000000u;
}

/* ---- addresses and frames ---- */

#define SINK_PORT 7777
#define ECHO_PORT 7

static void put_ip(uint8_t *f, const uint8_t *src, const uint8_t *dst,
		   uint8_t proto, uint16_t l4_len)
{
	uint8_t *ip = f + ETH_HLEN;

	put_eth(f, our_mac, peer_mac, 0x0800);
	memset(ip, 0, IP_HDR);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(IP_HDR + l4_len));
	put16(ip + 4, 0x1234);
	ip[8] = 17; /* an odd TTL, so udp_reflect's reset to 64 shows */
	ip[9] = proto;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	put16(ip + 10, (uint16_t)~fold(sum16(0, ip, IP_HDR)));
}

/* A UDP datagram from src:sport to our dport, correct checksum. */
static size_t udp_from(uint8_t *f, const uint8_t *src, uint16_t sport,
		       uint16_t dport, const void *data, uint16_t len)
{
	uint8_t *u = f + ETH_HLEN + IP_HDR;
	uint16_t ulen = (uint16_t)(8 + len);

	put_ip(f, src, our_ip, 17, ulen);
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, ulen);
	put16(u + 6, 0);
	memcpy(u + 8, data, len);
	put16(u + 6, (uint16_t)~fold(sum16(0, f + ETH_HLEN + 12, 8) + 17 +
				     ulen + sum16(0, u, ulen)));
	return ETH_HLEN + IP_HDR + ulen;
}

static size_t udp_frame(uint8_t *f, uint16_t dport, const void *data,
			uint16_t len)
{
	return udp_from(f, peer_ip, 40000, dport, data, len);
}

/* A frame carrying sequence number seq (for rings: who came back). */
static size_t seq_frame(uint8_t *f, uint32_t seq)
{
	uint8_t d[8] = {'s',
			'e',
			'q',
			0,
			(uint8_t)(seq >> 24),
			(uint8_t)(seq >> 16),
			(uint8_t)(seq >> 8),
			(uint8_t)seq};

	return udp_frame(f, SINK_PORT, d, sizeof(d));
}

static uint32_t frame_seq(const uint8_t *f)
{
	const uint8_t *d = f + ETH_HLEN + IP_HDR + 8 + 4;

	return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 |
	       (uint32_t)d[2] << 8 | d[3];
}

static size_t icmp_echo_from(uint8_t *f, const uint8_t *src, uint16_t seq)
{
	uint8_t *m = f + ETH_HLEN + IP_HDR;

	put_ip(f, src, our_ip, 1, 8 + 16);
	memset(m, 0, 8 + 16);
	m[0] = 8;
	put16(m + 4, 0xbeef);
	put16(m + 6, seq);
	for (int i = 0; i < 16; i++)
		m[8 + i] = (uint8_t)i;
	put16(m + 2, (uint16_t)~fold(sum16(0, m, 8 + 16)));
	return ETH_HLEN + IP_HDR + 8 + 16;
}

static size_t tcp_syn_from(uint8_t *f, const uint8_t *src, uint16_t sport)
{
	uint8_t *t = f + ETH_HLEN + IP_HDR;

	put_ip(f, src, our_ip, 6, 20);
	memset(t, 0, 20);
	put16(t, sport);
	put16(t + 2, 80);
	t[12] = 5 << 4;
	t[13] = 0x02;
	put16(t + 14, 0xffff);
	put16(t + 16, (uint16_t)~fold(sum16(0, f + ETH_HLEN + 12, 8) + 6 + 20 +
				      sum16(0, t, 20)));
	return ETH_HLEN + IP_HDR + 20;
}

/* ---- fixture ---- */

struct fx {
	struct sim_virtio sim;
	struct vnet *vn;
	struct netif netif;
	struct lwip_counts base;
	unsigned warn_base, err_base;
	struct udp_pcb *sink;
	unsigned sink_count;
	bool removed;
};

static void sink_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p,
		      const ip_addr_t *addr, u16_t port)
{
	struct fx *f = arg;

	f->sink_count++;
	pbuf_free(p);
}

static struct fx *fx_up_with(const struct vnet_params *par)
{
	struct fx *f = calloc(1, sizeof(*f));
	ip4_addr_t ip, mask, gw;

	lwip_once();
	xdp_hook_register(); /* what the app's bring-up does */
	CHECK(xdp_hook_prog == NULL);
	lwip_counts_get(&f->base);
	f->warn_base = host_log_count[LOG_WARN];
	f->err_base = host_log_count[LOG_ERROR];
	sim_virtio_init(&f->sim, SIM_NET_FEATURES, 256);
	CHECK_EQ(vnet_probe(&f->sim.dev, par, &f->vn), 0);
	IP4_ADDR(&ip, 10, 0, 2, 15);
	IP4_ADDR(&mask, 255, 255, 255, 0);
	IP4_ADDR(&gw, 10, 0, 2, 2);
	CHECK(netif_add(&f->netif, &ip, &mask, &gw, f->vn, skiffif_init,
			netif_input) == &f->netif);
	netif_set_up(&f->netif);
	xsk_attach_port(skiffif_rx_port(&f->netif)); /* as app/netstack.c */
	/* A UDP service behind the hook, to see what lwIP delivers. */
	f->sink = udp_new();
	CHECK(f->sink != NULL);
	CHECK_EQ(udp_bind(f->sink, IP4_ADDR_ANY, SINK_PORT), ERR_OK);
	udp_recv(f->sink, sink_recv, f);
	return f;
}

static struct skiffif_stats gstats(struct fx *f)
{
	struct skiffif_stats s;

	skiffif_get_stats(&f->netif, &s);
	return s;
}

static struct vnet_stats vstats(struct fx *f)
{
	struct vnet_stats s;

	vnet_get_stats(f->vn, &s);
	return s;
}

static struct xdp_hook_stats hstats(void)
{
	struct xdp_hook_stats s;

	xdp_hook_get_stats(&s);
	return s;
}

/* Every RX buffer is either free or posted: none is lent out. */
static void check_pool_full(struct fx *f)
{
	struct vnet_stats v = vstats(f);

	CHECK_EQ(v.rx_lent, 0);
	CHECK_EQ(v.rx_pool_free + v.rx_posted, v.rx_pool_size);
}

/* The glue takes everything the device delivered; lwIP's answers and the
 * hook's XDP_TX frames are published but the device does not send them. */
static void fx_poll(struct fx *f)
{
	int st;

	do {
		st = skiffif_poll(&f->netif, 64);
		CHECK(st >= 0);
	} while (st > 0 && (st & VNET_RX_MORE));
	skiffif_flush(&f->netif);
}

/* One main-loop round, the device transmitting what was published. */
static int fx_round(struct fx *f)
{
	fx_poll(f);
	return sim_net_process_tx(&f->sim);
}

static void fx_inject(struct fx *f, const uint8_t *frame, size_t len)
{
	CHECK_EQ(sim_net_inject(&f->sim, frame, (uint32_t)len), 0);
}

/* Brought up with the gratuitous ARP sent and reclaimed: rings empty. */
static struct fx *fx_ready_with(const struct vnet_params *par)
{
	struct fx *f = fx_up_with(par);

	CHECK_EQ(fx_round(f), 1);
	CHECK_EQ(fx_round(f), 0);
	CHECK_EQ(gstats(f).tx_inflight, 0);
	check_pool_full(f);
	return f;
}

static struct fx *fx_ready(void)
{
	return fx_ready_with(NULL);
}

static void fx_down(struct fx *f)
{
	struct lwip_counts now;

	xdp_hook_detach();
	CHECK(xdp_hook_prog == NULL);
	if (f->sink)
		udp_remove(f->sink);
	if (!f->removed) {
		/* Sent frames are reclaimed: nothing of the pool is out. */
		fx_round(f);
		fx_round(f);
		check_pool_full(f);
		netif_remove(&f->netif);
		CHECK_EQ(skiffif_remove(&f->netif), ERR_OK);
	}
	for (int i = 0; i < 4; i++) {
		fake_now += 250;
		sys_check_timeouts();
	}
	CHECK_EQ(sim_virtio_errors(&f->sim), 0);
	CHECK_EQ(host_pages_outstanding, 0);
	CHECK_EQ(host_log_count[LOG_WARN], f->warn_base);
	CHECK_EQ(host_log_count[LOG_ERROR], f->err_base);
	lwip_counts_get(&now);
	CHECK_EQ(now.mem_used, f->base.mem_used);
	for (int i = 0; i < MEMP_MAX; i++) {
		if (now.memp_used[i] != f->base.memp_used[i])
			fprintf(stderr,
				"  memp pool %d: %u in use, %u before\n", i,
				now.memp_used[i], f->base.memp_used[i]);
		CHECK_EQ(now.memp_used[i], f->base.memp_used[i]);
	}
	host_log_quiet = false;
	free(f);
}

/* A program of two instructions: r0 = v; exit. */
static struct ebpf_prog *ret_prog(int32_t v, bool jit)
{
	const struct ebpf_insn insns[2] = {
	    {.code = EBPF_ALU64 | EBPF_MOV | EBPF_K, .dst = 0, .imm = v},
	    {.code = EBPF_JMP | EBPF_EXIT},
	};
	struct ebpf_prog *p = NULL;
	char err[160] = "";

	CHECK_EQ(ebpf_prog_from_insns("ret", insns, 2, &p), 0);
	if (!p)
		return NULL;
	if (ebpf_prog_prepare(p, err, sizeof(err)) != 0) {
		fprintf(stderr, "  prepare: %s\n", err);
		CHECK(!"ret program refused");
	}
	if (jit) {
		CHECK_EQ(ebpf_jit(p), 0);
		CHECK(p->jitted != NULL);
	}
	return p;
}

static void attach(const char *name, bool jit)
{
	CHECK_EQ(xdp_hook_attach(name, jit), 0);
	CHECK(xdp_hook_prog != NULL);
	if (xdp_hook_prog)
		CHECK_EQ(xdp_hook_prog->jitted != NULL, jit);
}

/* A test run twice: through the interpreter and through the JIT. */
#define BOTH(name)                                                             \
	static void name(bool jit);                                            \
	TEST(name##_interp)                                                    \
	{                                                                      \
		name(false);                                                   \
	}                                                                      \
	TEST(name##_jit)                                                       \
	{                                                                      \
		name(true);                                                    \
	}

/* ---- the builtin table ---- */

TEST(builtin_table_has_the_shipped_programs)
{
	static const char *const want[] = {
	    "udp_reflect",    "blocklist", "count",	      "count_percpu",
	    "unchecked_read", "tc_mark",   "tc_port_rewrite", "sock_trunc",
	    "xsk_default",    "xsk_udp",   "xdp_pass",	      "tc_pass",
	    "sock_pass"};
	const unsigned n = sizeof(want) / sizeof(want[0]);

	CHECK_EQ(xdp_nbuiltins, n);
	for (unsigned i = 0; i < n; i++) {
		const struct xdp_builtin *b = xdp_builtin_find(want[i]);

		CHECK(b != NULL);
		if (b) {
			CHECK(b->len > 64);
			CHECK(memcmp(b->elf, "\177ELF", 4) == 0);
		}
	}
	CHECK(xdp_builtin_find("nope") == NULL);
}

TEST(attach_refusals_leave_nothing_attached)
{
	unsigned errs = host_log_count[LOG_ERROR];

	lwip_once();
	host_log_quiet = true;
	CHECK_EQ(xdp_hook_attach("nope", false), -ENOENT);
	CHECK(xdp_hook_prog == NULL);
	/* The verifier refuses the deliberately unsafe one. */
	CHECK(xdp_hook_attach("unchecked_read", true) < 0);
	CHECK(xdp_hook_prog == NULL);
	host_log_quiet = false;
	CHECK(host_log_count[LOG_ERROR] > errs);
	/* No program: the blocklist has nowhere to go. */
	host_log_quiet = true;
	CHECK_EQ(xdp_hook_blocklist("10.0.0.1"), -ENOENT);
	host_log_quiet = false;
	xdp_hook_detach();
}

/* ---- no program ---- */

TEST(no_program_frames_reach_lwip)
{
	struct fx *f = fx_ready();
	uint8_t fr[128];
	const uint8_t *r = f->sim.last_tx_frame;
	struct xdp_hook_stats h;
	char json[64];

	CHECK(xdp_hook_prog == NULL);
	/* ARP request: answered. */
	fx_inject(f, fr, arp_request(fr));
	CHECK_EQ(fx_round(f), 1);
	CHECK_EQ(get16(r + 12), 0x0806);
	CHECK_EQ(get16(r + ETH_HLEN + 6), 2);
	/* ICMP echo: answered. */
	fx_inject(f, fr, icmp_echo_from(fr, peer_ip, 1));
	CHECK_EQ(fx_round(f), 1);
	CHECK_EQ(r[ETH_HLEN + 9], 1);
	CHECK_EQ(r[ETH_HLEN + IP_HDR], 0); /* echo reply */
	/* UDP to the sink and to port 7 (nobody there): both reach lwIP. */
	fx_inject(f, fr, udp_frame(fr, SINK_PORT, "hi", 2));
	fx_poll(f);
	CHECK_EQ(f->sink_count, 1);

	h = hstats();
	CHECK_EQ(h.runs + h.pass + h.drop + h.tx + h.redirect + h.aborted +
		     h.tx_failed + h.redirect_dropped + h.redirect_no_target +
		     h.xsk_frames + h.xsk_bytes + h.cycles,
		 0);
	CHECK_EQ(gstats(f).rx_frames, 3);
	CHECK_EQ(xdp_hook_stats_json(json, sizeof(json)),
		 (int)strlen("{\"attached\":null}"));
	CHECK_STR(json, "{\"attached\":null}");
	fx_down(f);
}

/* ---- udp_reflect: XDP_TX ---- */

BOTH(udp_reflect_answers_at_the_hook)
static void udp_reflect_answers_at_the_hook(bool jit)
{
	struct fx *f = fx_ready();
	static const char msg[] = "reflect me, please";
	uint8_t fr[128], sent[128];
	const uint8_t *r = f->sim.last_tx_frame;
	const uint8_t *ip = r + ETH_HLEN, *u = ip + IP_HDR;
	u32_t udp_recv0 = lwip_stats.udp.recv;
	u32_t link_recv0 = lwip_stats.link.recv;
	struct skiffif_stats s0 = gstats(f), s;
	struct xdp_hook_stats h;
	size_t len;

	attach("udp_reflect", jit);
	len = udp_frame(fr, ECHO_PORT, msg, sizeof(msg) - 1);
	memcpy(sent, fr, len);
	fx_inject(f, fr, len);
	fx_poll(f);

	/* Sent from its own RX buffer: still lent until the device is done. */
	CHECK_EQ(vstats(f).rx_lent, 1);
	CHECK_EQ(gstats(f).tx_inflight, 1);
	CHECK_EQ(sim_net_process_tx(&f->sim), 1);
	CHECK_EQ(f->sim.last_tx_len, len);
	CHECK_EQ(f->sim.last_tx_hdr.flags, 0);
	CHECK(memcmp(r, peer_mac, 6) == 0);
	CHECK(memcmp(r + 6, our_mac, 6) == 0);
	CHECK_EQ(get16(r + 12), 0x0800);
	CHECK(memcmp(ip + 12, our_ip, 4) == 0);
	CHECK(memcmp(ip + 16, peer_ip, 4) == 0);
	CHECK_EQ(ip[8], 64);
	CHECK_EQ(fold(sum16(0, ip, IP_HDR)), 0xffff);
	CHECK_EQ(get16(u), ECHO_PORT);
	CHECK_EQ(get16(u + 2), 40000);
	CHECK_EQ(get16(u + 4), 8 + sizeof(msg) - 1);
	CHECK_EQ(get16(u + 6), 0); /* no UDP checksum */
	CHECK(memcmp(u + 8, msg, sizeof(msg) - 1) == 0);
	/* The sent frame is the received buffer, rewritten in place. */
	CHECK_EQ(f->sim.last_tx.n, 2);
	/* The device completed it but the driver has not reclaimed yet. */
	CHECK_EQ(vstats(f).rx_lent, 1);

	/* lwIP never saw it. */
	CHECK_EQ(lwip_stats.udp.recv, udp_recv0);
	CHECK_EQ(lwip_stats.link.recv, link_recv0);
	s = gstats(f);
	CHECK_EQ(s.rx_frames, s0.rx_frames);
	CHECK_EQ(s.rx_pbufs_in_use, 0);

	/* The next poll reclaims it: the buffer goes back, once. */
	CHECK_EQ(fx_round(f), 0);
	check_pool_full(f);
	s = gstats(f);
	CHECK_EQ(s.tx_done - s0.tx_done, 1);
	CHECK_EQ(s.tx_inflight, 0);
	h = hstats();
	CHECK_EQ(h.runs, 1);
	CHECK_EQ(h.tx, 1);
	CHECK_EQ(h.pass + h.drop + h.aborted + h.tx_failed, 0);

	/* Anything else passes to lwIP. */
	fx_inject(f, fr, udp_frame(fr, SINK_PORT, "x", 1));
	fx_inject(f, fr, arp_request(fr));
	CHECK_EQ(fx_round(f), 1); /* the ARP reply, from lwIP */
	CHECK_EQ(get16(r + 12), 0x0806);
	CHECK_EQ(f->sink_count, 1);
	CHECK_EQ(lwip_stats.udp.recv, udp_recv0 + 1);
	CHECK_EQ(hstats().pass, 2);

	/* Discard (port 9) is dropped at the hook: counted, buffer back. */
	fx_inject(f, fr, udp_frame(fr, 9, "drop me", 7));
	CHECK_EQ(fx_round(f), 0);
	CHECK_EQ(hstats().drop, 1);
	CHECK_EQ(lwip_stats.udp.recv, udp_recv0 + 1);
	check_pool_full(f);
	fx_down(f);
}

BOTH(udp_reflect_batch_releases_every_buffer_once)
static void udp_reflect_batch_releases_every_buffer_once(bool jit)
{
	struct fx *f = fx_ready();
	uint8_t fr[128];
	u32_t udp_recv0 = lwip_stats.udp.recv;
	struct vnet_stats v;

	attach("udp_reflect", jit);
	for (uint32_t i = 0; i < 40; i++) {
		uint8_t d[4] = {(uint8_t)i, 1, 2, 3};
		fx_inject(f, fr, udp_frame(fr, ECHO_PORT, d, sizeof(d)));
	}
	fx_poll(f);
	CHECK_EQ(vstats(f).rx_lent, 40);
	CHECK_EQ(sim_net_process_tx(&f->sim), 40);
	CHECK_EQ(vstats(f).rx_lent, 40);
	fx_poll(f);
	v = vstats(f);
	CHECK_EQ(v.rx_lent, 0);
	check_pool_full(f);
	CHECK_EQ(hstats().tx, 40);
	CHECK_EQ(gstats(f).tx_inflight, 0);
	CHECK_EQ(lwip_stats.udp.recv, udp_recv0);
	fx_down(f);
}

/* Frames sent from RX buffers and still on the ring when the netif goes:
 * the reset returns their cookies, which give the buffers back. */
TEST(udp_reflect_in_flight_at_removal_is_released)
{
	struct fx *f = fx_ready();
	uint8_t fr[128];

	attach("udp_reflect", true);
	for (int i = 0; i < 3; i++)
		fx_inject(f, fr, udp_frame(fr, ECHO_PORT, "abc", 3));
	fx_poll(f);
	CHECK_EQ(vstats(f).rx_lent, 3);
	CHECK_EQ(gstats(f).tx_inflight, 3);
	xdp_hook_detach();
	udp_remove(f->sink);
	f->sink = NULL;
	netif_remove(&f->netif);
	CHECK_EQ(skiffif_remove(&f->netif), ERR_OK);
	f->removed = true;
	fx_down(f); /* no "not lent out" warning, no leak */
}

/* ---- XDP_TX with the TX ring full ---- */

BOTH(xdp_tx_ring_full_drops_and_releases)
static void xdp_tx_ring_full_drops_and_releases(bool jit)
{
	struct vnet_params par = {.tx_ring_max = 8, .no_indirect = true};
	struct fx *f;
	uint8_t fr[128];
	struct xdp_hook_stats h;
	struct skiffif_stats s;

	/* No software queue: the ring is the limit. */
	skiffif_set_txqueuelen(0);
	f = fx_ready_with(&par);
	skiffif_set_txqueuelen(TXQ_DEFAULT_LEN);
	attach("udp_reflect", jit);
	/* 8 descriptors, 2 per frame: 4 fit, the device sends nothing. */
	for (int i = 0; i < 6; i++)
		fx_inject(f, fr, udp_frame(fr, ECHO_PORT, "ring", 4));
	fx_poll(f);
	h = hstats();
	CHECK_EQ(h.tx, 6);
	CHECK_EQ(h.tx_failed, 2);
	s = gstats(f);
	CHECK_EQ(s.drops.tx_ring_full, 2);
	CHECK_EQ(s.tx_inflight, 4);
	/* The two dropped frames' buffers are back already. */
	CHECK_EQ(vstats(f).rx_lent, 4);
	CHECK_EQ(sim_net_process_tx(&f->sim), 4);
	fx_poll(f);
	check_pool_full(f);
	CHECK_EQ(hstats().tx_failed, 2);
	fx_down(f);
}

BOTH(xdp_tx_burst_waits_in_queue)
static void xdp_tx_burst_waits_in_queue(bool jit)
{
	struct vnet_params par = {.tx_ring_max = 8};
	struct fx *f = fx_ready_with(&par);
	uint8_t fr[128];
	struct skiffif_stats s;
	unsigned sent = 0;

	attach("udp_reflect", jit);
	/* 8 slots (indirect: one a frame), 12 replies: 4 wait. */
	for (int i = 0; i < 12; i++)
		fx_inject(f, fr, udp_frame(fr, ECHO_PORT, "wait", 4));
	fx_poll(f);
	CHECK_EQ(hstats().tx, 12);
	CHECK_EQ(hstats().tx_failed, 0);
	s = gstats(f);
	CHECK_EQ(s.txq.len, 4);
	CHECK_EQ(s.drops.tx_ring_full, 0);
	for (int i = 0; i < 5 && sent < 12; i++) {
		sent += (unsigned)sim_net_process_tx(&f->sim);
		fx_poll(f);
	}
	CHECK_EQ(sent, 12);
	CHECK_EQ(gstats(f).txq.len, 0);
	check_pool_full(f);
	fx_down(f);
}

/* ---- DROP ---- */

BOTH(drop_program_releases_at_once)
static void drop_program_releases_at_once(bool jit)
{
	struct fx *f = fx_ready();
	uint8_t fr[128];
	u32_t udp_recv0 = lwip_stats.udp.recv;
	u32_t link_recv0 = lwip_stats.link.recv;
	struct xdp_hook_stats h;

	xdp_hook_prog = ret_prog(EBPF_XDP_DROP, jit);
	for (uint32_t i = 0; i < 50; i++)
		fx_inject(f, fr, seq_frame(fr, i));
	fx_inject(f, fr, arp_request(fr));
	fx_poll(f);
	check_pool_full(f);
	CHECK_EQ(sim_net_process_tx(&f->sim), 0); /* no ARP reply either */
	CHECK_EQ(f->sink_count, 0);
	CHECK_EQ(lwip_stats.udp.recv, udp_recv0);
	CHECK_EQ(lwip_stats.link.recv, link_recv0);
	CHECK_EQ(gstats(f).rx_pbufs_in_use, 0);
	h = hstats();
	CHECK_EQ(h.runs, 51);
	CHECK_EQ(h.drop, 51);
	CHECK_EQ(h.pass + h.tx + h.redirect + h.aborted, 0);
	CHECK_EQ(vstats(f).rx_packets, 51);
	fx_down(f);
}

/* ---- ABORTED and values no XDP program may return ---- */

BOTH(aborted_and_bad_verdicts_drop)
static void aborted_and_bad_verdicts_drop(bool jit)
{
	static const int32_t bad[] = {EBPF_XDP_ABORTED, 5, 7, -1, 0x7fffffff};
	uint8_t fr[128];

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fx *f = fx_ready();
		struct xdp_hook_stats h;

		xdp_hook_prog = ret_prog(bad[i], jit);
		for (uint32_t k = 0; k < 5; k++)
			fx_inject(f, fr, seq_frame(fr, k));
		fx_poll(f);
		check_pool_full(f);
		CHECK_EQ(f->sink_count, 0);
		h = hstats();
		CHECK_EQ(h.runs, 5);
		CHECK_EQ(h.aborted, 5);
		CHECK_EQ(h.drop + h.pass + h.tx + h.redirect, 0);
		fx_down(f);
	}
}

/* ---- REDIRECT to AF_XDP sockets ---- */

static unsigned wakeups_seen;

static void count_wakeup(void *ctx)
{
	(*(unsigned *)ctx)++;
}

static void fill_put(struct xsk_socket *xs, uint64_t addr)
{
	uint32_t idx = 0;

	CHECK_EQ(xsk_ring_prod_reserve(&xs->fill, 1, &idx), 1);
	*xsk_ring_addr(&xs->fill, idx) = addr;
	xsk_ring_prod_submit(&xs->fill, 1);
}

/* A socket with `frames` UMEM frames, the first nfill on its fill ring. */
static struct xsk_socket *sock_up(uint32_t frames, uint32_t rx_size,
				  uint32_t nfill)
{
	struct xsk_config cfg = {.frames = frames,
				 .rx_size = rx_size,
				 .on_rx = count_wakeup,
				 .ctx = &wakeups_seen};
	struct xsk_socket *xs = NULL;

	CHECK_EQ(xsk_socket_create(&cfg, &xs), 0);
	for (uint32_t i = 0; xs && i < nfill; i++)
		fill_put(xs, xsk_umem_frame_addr(xs, i));
	return xs;
}

/* libxdp's default program, as Linux applications load it, with the
 * socket in slot 0 (the only queue). */
static void attach_default(bool jit, struct xsk_socket *xs)
{
	uint32_t zero = 0;

	CHECK_EQ(xdp_hook_attach("xsk_default", jit), 0);
	CHECK_EQ(xdp_hook_prog->jitted != NULL, jit);
	struct ebpf_map *m = ebpf_prog_map(xdp_hook_prog, "xsks_map");
	CHECK(m != NULL);
	if (m && xs)
		CHECK_EQ(ebpf_map_update(m, &zero, &xs->id, EBPF_ANY), 0);
}

static struct xsk_stats sstats(struct xsk_socket *xs)
{
	struct xsk_stats s;

	xsk_get_stats(xs, &s);
	return s;
}

/* Takes n RX descriptors (must be there), checks each carries the next
 * sequence number in its own buffer (zero copy), and returns them. */
static void rx_take(struct fx *f, struct xsk_socket *xs, uint32_t n,
		    uint32_t first_seq, uint64_t *addrs)
{
	uint32_t idx = 0;
	uint8_t want[128];

	CHECK_EQ(xsk_ring_cons_peek(&xs->rx, n, &idx), n);
	for (uint32_t i = 0; i < n; i++) {
		const struct xsk_desc *d = xsk_ring_desc(&xs->rx, idx + i);
		size_t len = seq_frame(want, first_seq + i);
		uint8_t *data = xsk_umem_get_data(xs, d->addr, d->len);

		CHECK(data != NULL);
		CHECK_EQ(d->len, len);
		CHECK_EQ(d->options, 0);
		CHECK_EQ(d->addr % VNET_RX_BUF_SIZE, VNET_HDR_LEN);
		/* The device wrote it there: no copy was made. */
		CHECK(data ==
		      (uint8_t *)vnet_rx_buf_data(
			  f->vn, (uint32_t)(d->addr / VNET_RX_BUF_SIZE)) +
			  VNET_HDR_LEN);
		if (data)
			CHECK_EQ(frame_seq(data), first_seq + i);
		if (addrs)
			addrs[i] = d->addr;
	}
	xsk_ring_cons_release(&xs->rx, n);
}

BOTH(xsk_default_program_redirects_zero_copy)
static void xsk_default_program_redirects_zero_copy(bool jit)
{
	struct fx *f = fx_ready();
	uint8_t fr[128];
	u32_t udp_recv0 = lwip_stats.udp.recv;
	struct xsk_socket *xs = sock_up(64, 0, 64);
	uint64_t addrs[64];
	struct xdp_hook_stats h;

	/* The UMEM's frames are lent out of the pool from the start. */
	CHECK_EQ(vstats(f).rx_lent, 64);
	/* No socket in the map: the program passes to the stack. */
	attach_default(jit, NULL);
	for (uint32_t i = 0; i < 3; i++)
		fx_inject(f, fr, seq_frame(fr, i));
	fx_poll(f);
	CHECK_EQ(f->sink_count, 3);
	CHECK_EQ(sstats(xs).rx, 0);
	xdp_hook_detach();

	attach_default(jit, xs);
	udp_recv0 = lwip_stats.udp.recv;
	wakeups_seen = 0;
	for (uint32_t i = 0; i < 40; i++) {
		fx_inject(f, fr, seq_frame(fr, i));
		if (i % 20 == 19)
			fx_poll(f);
	}
	/* Each frame's buffer went to the socket, one fill buffer back to
	 * the driver for each: the socket still holds exactly 64. */
	CHECK_EQ(vstats(f).rx_lent, 64);
	CHECK_EQ(sstats(xs).owned, 64);
	CHECK_EQ(f->sink_count, 3);
	CHECK_EQ(lwip_stats.udp.recv, udp_recv0);
	CHECK_EQ(gstats(f).rx_pbufs_in_use, 0);
	h = hstats();
	CHECK_EQ(h.redirect, 40);
	CHECK_EQ(h.xsk_frames, 40);
	CHECK_EQ(sstats(xs).rx, 40);
	/* The receive path flagged the socket; the loop wakes it once. */
	CHECK_EQ(xsk_run_pending(0), 1);
	CHECK_EQ(wakeups_seen, 1);
	CHECK_EQ(xsk_run_pending(0), 0);
	rx_take(f, xs, 40, 0, addrs);
	CHECK_EQ(xsk_cons_nb_avail(&xs->rx, 64), 0);
	for (uint32_t i = 0; i < 40; i++)
		fill_put(xs, addrs[i]);
	/* Around the fill ring more than once. */
	for (uint32_t round = 0; round < 4; round++) {
		for (uint32_t i = 0; i < 30; i++)
			fx_inject(f, fr, seq_frame(fr, 100 + i));
		fx_poll(f);
		rx_take(f, xs, 30, 100, addrs);
		for (uint32_t i = 0; i < 30; i++)
			fill_put(xs, addrs[i]);
	}
	CHECK_EQ(sstats(xs).rx, 160);
	CHECK_EQ(sstats(xs).rx_fill_empty + sstats(xs).fill_invalid, 0);
	CHECK_EQ(vstats(f).rx_lent, 64);
	xsk_socket_delete(xs);
	CHECK_EQ(vstats(f).rx_lent, 0);
	fx_down(f);
}

BOTH(xsk_fill_ring_empty_drops_and_asks_for_wakeup)
static void xsk_fill_ring_empty_drops_and_asks_for_wakeup(bool jit)
{
	struct fx *f = fx_ready();
	uint8_t fr[128];
	struct xsk_socket *xs = sock_up(16, 0, 4);
	uint64_t addrs[4];

	attach_default(jit, xs);
	CHECK(!xsk_ring_prod_needs_wakeup(&xs->fill));
	for (uint32_t i = 0; i < 10; i++)
		fx_inject(f, fr, seq_frame(fr, i));
	fx_poll(f);
	CHECK_EQ(sstats(xs).rx, 4);
	CHECK_EQ(sstats(xs).rx_fill_empty, 6);
	CHECK_EQ(hstats().redirect_dropped, 6);
	CHECK(xsk_ring_prod_needs_wakeup(&xs->fill));
	/* The dropped frames' buffers went straight back. */
	CHECK_EQ(vstats(f).rx_lent, 16);
	rx_take(f, xs, 4, 0, addrs);
	for (int i = 0; i < 4; i++)
		fill_put(xs, addrs[i]);
	xsk_recv_wakeup(xs);
	CHECK(!xsk_ring_prod_needs_wakeup(&xs->fill));
	CHECK_EQ(sstats(xs).fill_wakeups, 1);
	fx_inject(f, fr, seq_frame(fr, 50));
	fx_poll(f);
	rx_take(f, xs, 1, 50, NULL);
	CHECK_EQ(sstats(xs).rx, 5);
	xsk_socket_delete(xs);
	fx_down(f);
}

TEST(xsk_rx_ring_full_drops)
{
	struct fx *f = fx_ready();
	uint8_t fr[128];
	struct xsk_socket *xs = sock_up(32, 8, 32);

	attach_default(true, xs);
	for (uint32_t i = 0; i < 12; i++)
		fx_inject(f, fr, seq_frame(fr, i));
	fx_poll(f);
	CHECK_EQ(sstats(xs).rx, 8);
	CHECK_EQ(sstats(xs).rx_ring_full, 4);
	CHECK_EQ(sstats(xs).rx_fill_empty, 0);
	CHECK_EQ(vstats(f).rx_lent, 32);
	rx_take(f, xs, 8, 0, NULL);
	xsk_socket_delete(xs);
	fx_down(f);
}

/* The service answers from the UMEM: TX ring, the device, completion
 * ring; TX needs a wakeup (sendto) once the kernel found it empty. */
BOTH(xsk_tx_and_completion_rings)
static void xsk_tx_and_completion_rings(bool jit)
{
	struct fx *f = fx_ready();
	uint8_t fr[128], want[128];
	struct xsk_socket *xs = sock_up(32, 0, 32);
	uint64_t addrs[10];
	uint32_t idx = 0;
	size_t want_len = 0;

	attach_default(jit, xs);
	for (uint32_t i = 0; i < 10; i++)
		fx_inject(f, fr, seq_frame(fr, i));
	fx_poll(f);
	rx_take(f, xs, 10, 0, addrs);
	CHECK(xsk_ring_prod_needs_wakeup(&xs->tx));
	CHECK_EQ(xsk_ring_prod_reserve(&xs->tx, 10, &idx), 10);
	for (uint32_t i = 0; i < 10; i++) {
		uint8_t *d = xsk_umem_get_data(xs, addrs[i], 60);
		want_len = seq_frame(want, i);
		memcpy(d, want + 6, 6); /* answer: swap the MACs */
		memcpy(d + 6, want, 6);
		*xsk_ring_desc(&xs->tx, idx + i) = (struct xsk_desc){
		    .addr = addrs[i], .len = (uint32_t)want_len};
	}
	xsk_ring_prod_submit(&xs->tx, 10);
	xsk_sendto(xs);
	CHECK_EQ(sstats(xs).tx, 10);
	CHECK_EQ(sstats(xs).tx_inflight, 10);
	CHECK(xsk_ring_prod_needs_wakeup(&xs->tx)); /* found empty again */
	/* Nothing comes back before the device is done. */
	CHECK_EQ(xsk_cons_nb_avail(&xs->comp, 32), 0);
	CHECK_EQ(fx_round(f), 10);
	CHECK_EQ(f->sim.last_tx_len, want_len);
	CHECK(memcmp(f->sim.last_tx_frame, want + 6, 6) == 0);
	CHECK(memcmp(f->sim.last_tx_frame + 12, want + 12, want_len - 12) == 0);
	fx_poll(f); /* reclaims: the completions */
	CHECK_EQ(sstats(xs).completions, 10);
	CHECK_EQ(sstats(xs).tx_inflight, 0);
	CHECK_EQ(xsk_ring_cons_peek(&xs->comp, 32, &idx), 10);
	for (uint32_t i = 0; i < 10; i++)
		CHECK_EQ(*xsk_ring_addr(&xs->comp, idx + i), addrs[i]);
	xsk_ring_cons_release(&xs->comp, 10);
	/* A completion wakes the service too. */
	wakeups_seen = 0;
	CHECK(xsk_run_pending(0) >= 1);
	CHECK(wakeups_seen >= 1);
	CHECK_EQ(vstats(f).rx_lent, 32);
	CHECK_EQ(sstats(xs).owned, 32);
	xsk_socket_delete(xs);
	fx_down(f);
}

/* Addresses the service hands over are checked, never followed: outside
 * the pool, a buffer the socket does not own, one handed twice, lengths
 * beyond the frame. Nothing is double-owned; the pool comes back whole. */
TEST(xsk_refuses_bad_addresses)
{
	struct fx *f = fx_ready();
	uint8_t fr[128];
	struct xsk_socket *xs = sock_up(8, 0, 0);
	uint64_t a = xsk_umem_frame_addr(xs, 0), b = xsk_umem_frame_addr(xs, 1);
	uint64_t foreign = UINT64_MAX, got[2];
	uint32_t idx = 0;

	/* A buffer of the pool that is not in this UMEM. */
	for (uint32_t h = 0; h < 1024 && foreign == UINT64_MAX; h++) {
		uint64_t cand = (uint64_t)h * VNET_RX_BUF_SIZE + VNET_HDR_LEN;
		bool mine = false;
		for (uint32_t i = 0; i < 8; i++)
			mine |= xsk_umem_frame_addr(xs, i) == cand;
		if (!mine)
			foreign = cand;
	}
	CHECK(xsk_umem_get_data(xs, foreign, 1) == NULL);
	CHECK(xsk_umem_get_data(xs, 1ull << 40, 1) == NULL);
	CHECK(xsk_umem_get_data(xs, a, VNET_RX_BUF_SIZE) == NULL);
	CHECK(xsk_umem_frame_addr(xs, 8) == UINT64_MAX);
	fill_put(xs, 1ull << 40);
	fill_put(xs, foreign);
	fill_put(xs, a);
	fill_put(xs, a); /* twice: the second names a buffer gone back */
	fill_put(xs, b);
	attach_default(true, xs);
	for (uint32_t i = 0; i < 3; i++)
		fx_inject(f, fr, seq_frame(fr, i));
	fx_poll(f);
	CHECK_EQ(sstats(xs).rx, 2);
	CHECK_EQ(sstats(xs).fill_invalid, 3);
	CHECK_EQ(sstats(xs).rx_fill_empty, 1);
	CHECK_EQ(vstats(f).rx_lent, 8);
	rx_take(f, xs, 2, 0, got);
	/* The received frames' buffers are the socket's now: find another. */
	for (uint32_t h = 0; h < 1024; h++) {
		foreign = (uint64_t)h * VNET_RX_BUF_SIZE + VNET_HDR_LEN;
		if (!xsk_umem_get_data(xs, foreign, 1))
			break;
	}
	/* TX: foreign, too short, too long, crossing the buffer's end. */
	CHECK_EQ(xsk_ring_prod_reserve(&xs->tx, 4, &idx), 4);
	*xsk_ring_desc(&xs->tx, idx) = (struct xsk_desc){foreign, 60, 0};
	*xsk_ring_desc(&xs->tx, idx + 1) = (struct xsk_desc){got[0], 5, 0};
	*xsk_ring_desc(&xs->tx, idx + 2) = (struct xsk_desc){got[0], 3000, 0};
	*xsk_ring_desc(&xs->tx, idx + 3) =
	    (struct xsk_desc){got[1] - VNET_HDR_LEN + 2000, 100, 0};
	xsk_ring_prod_submit(&xs->tx, 4);
	xsk_sendto(xs);
	CHECK_EQ(sstats(xs).tx_invalid, 4);
	CHECK_EQ(sstats(xs).tx, 0);
	CHECK_EQ(fx_round(f), 0);
	CHECK_EQ(vstats(f).rx_lent, 8);
	CHECK_EQ(sstats(xs).owned, 8);
	xsk_socket_delete(xs);
	fx_down(f);
}

/* A socket closed with frames on the device: they go back to the driver
 * when the device is done; its XSKMAP entry then names nothing. */
TEST(xsk_socket_closed_with_frames_in_flight)
{
	struct fx *f = fx_ready();
	uint8_t fr[128];
	struct xsk_socket *xs = sock_up(16, 0, 16);
	uint64_t addrs[2];
	uint32_t idx = 0;
	uint64_t stale0 = xsk_no_socket_drops();

	attach_default(true, xs);
	for (uint32_t i = 0; i < 2; i++)
		fx_inject(f, fr, seq_frame(fr, i));
	fx_poll(f);
	rx_take(f, xs, 2, 0, addrs);
	CHECK_EQ(xsk_ring_prod_reserve(&xs->tx, 2, &idx), 2);
	for (uint32_t i = 0; i < 2; i++)
		*xsk_ring_desc(&xs->tx, idx + i) =
		    (struct xsk_desc){addrs[i], 60, 0};
	xsk_ring_prod_submit(&xs->tx, 2);
	xsk_sendto(xs);
	skiffif_flush(&f->netif);
	xsk_socket_delete(xs);
	CHECK_EQ(vstats(f).rx_lent, 2); /* still on the device */
	CHECK_EQ(sim_net_process_tx(&f->sim), 2);
	fx_poll(f);
	CHECK_EQ(vstats(f).rx_lent, 0);
	/* The program still finds the old id in its map: dropped, counted. */
	fx_inject(f, fr, seq_frame(fr, 9));
	fx_poll(f);
	CHECK_EQ(xsk_no_socket_drops(), stale0 + 1);
	CHECK_EQ(hstats().redirect_dropped, 1);
	CHECK_EQ(vstats(f).rx_lent, 0);
	fx_down(f);
}

/* XDP_REDIRECT without a bpf_redirect_map first: Linux's xdp_do_redirect
 * fails and the frame is dropped; so here, counted. */
BOTH(redirect_without_target_drops)
static void redirect_without_target_drops(bool jit)
{
	struct fx *f = fx_ready();
	uint8_t fr[128];

	xdp_hook_prog = ret_prog(EBPF_XDP_REDIRECT, jit);
	for (uint32_t i = 0; i < 5; i++)
		fx_inject(f, fr, seq_frame(fr, i));
	fx_poll(f);
	CHECK_EQ(hstats().redirect, 5);
	CHECK_EQ(hstats().redirect_no_target, 5);
	CHECK_EQ(hstats().xsk_frames, 0);
	CHECK_EQ(vstats(f).rx_lent, 0);
	CHECK_EQ(f->sink_count, 0);
	fx_down(f);
}

/* ---- count_percpu: a BPF_MAP_TYPE_PERCPU_ARRAY ---- */

static unsigned fake_cpu;
static unsigned current_fake_cpu(void)
{
	return fake_cpu;
}

/* Frames "received" on three CPUs in turn (the hook asks which CPU runs
 * it): each CPU's copy holds only its own frames, /stats sums them. */
BOTH(count_percpu_counts_per_cpu)
static void count_percpu_counts_per_cpu(bool jit)
{
	static const uint8_t src[4] = {10, 0, 0, 9};
	static const uint64_t want[3][5] = {
	    {0, 0, 0, 0, 2}, /* CPU 0: two UDP */
	    {0, 0, 3, 0, 1}, /* CPU 1: three ICMP, one UDP */
	    {0, 1, 0, 0, 0}, /* CPU 2: one ARP */
	};
	struct fx *f = fx_ready();
	uint8_t fr[128];
	char json[1024];

	ebpf_set_cpus(3, current_fake_cpu); /* before the map is created */
	attach("count_percpu", jit);
	struct ebpf_map *m = ebpf_prog_map(xdp_hook_prog, "counts");
	CHECK(m != NULL);
	if (!m)
		goto out;
	CHECK_EQ(m->type, EBPF_MAP_PERCPU_ARRAY);
	CHECK_EQ(ebpf_map_ncpus(m), 3);
	fake_cpu = 0;
	fx_inject(f, fr, udp_from(fr, src, 4000, SINK_PORT, "a", 1));
	fx_inject(f, fr, udp_from(fr, src, 4001, SINK_PORT, "b", 1));
	fx_poll(f);
	fake_cpu = 1;
	for (int i = 0; i < 3; i++)
		fx_inject(f, fr, icmp_echo_from(fr, src, (uint16_t)i));
	fx_inject(f, fr, udp_from(fr, src, 4002, SINK_PORT, "c", 1));
	fx_poll(f);
	fake_cpu = 2;
	fx_inject(f, fr, arp_request(fr));
	fx_poll(f);
	fake_cpu = 0;
	for (unsigned c = 0; c < 3; c++)
		for (uint32_t k = 0; k < 5; k++) {
			uint64_t *v = ebpf_map_lookup_cpu(m, &k, c);
			CHECK(v != NULL);
			if (v && *v != want[c][k]) {
				fprintf(stderr, "  cpu %u key %u: %llu\n", c, k,
					(unsigned long long)*v);
				CHECK(!"per-CPU count wrong");
			}
		}
	uint32_t k = 0;
	CHECK(ebpf_map_lookup_cpu(m, &k, 3) == NULL); /* no such CPU */
	k = 5;
	CHECK(ebpf_map_lookup_cpu(m, &k, 0) == NULL); /* no such index */
	CHECK(xdp_hook_stats_json(json, sizeof(json)) < (int)sizeof(json));
	CHECK(strstr(json, "\"values\":[0,1,3,0,3]") != NULL);
	CHECK(strstr(json, "\"per_cpu\":[[0,0,0,0,2],[0,0,3,0,1],"
			   "[0,1,0,0,0]]") != NULL);
	fx_round(f); /* the answers to the ICMP echoes and the ARP request */
out:
	fx_down(f);
	ebpf_set_cpus(1, NULL);
}

/* ---- blocklist ---- */

BOTH(blocklist_drops_by_source)
static void blocklist_drops_by_source(bool jit)
{
	struct fx *f = fx_ready();
	static const uint8_t a9[4] = {10, 0, 0, 9}, a7[4] = {10, 0, 0, 7},
			     a8[4] = {10, 0, 0, 8};
	uint8_t fr[128];
	struct ebpf_map *stats_map;
	uint32_t k;
	uint64_t *v;
	struct xdp_hook_stats h;

	attach("blocklist", jit);
	CHECK_EQ(xdp_hook_blocklist("10.0.0.9:4000,10.0.0.7"), 2);
	CHECK_EQ(ebpf_map_count(ebpf_prog_map(xdp_hook_prog, "blocklist")), 2);

	fx_inject(f, fr, udp_from(fr, a9, 4000, SINK_PORT, "a", 1)); /* drop */
	fx_poll(f);
	CHECK_EQ(f->sink_count, 0);
	fx_inject(f, fr, udp_from(fr, a9, 4001, SINK_PORT, "b", 1)); /* pass */
	fx_poll(f);
	CHECK_EQ(f->sink_count, 1);
	fx_inject(f, fr, udp_from(fr, a7, 4000, SINK_PORT, "c", 1));  /* drop */
	fx_inject(f, fr, udp_from(fr, a7, 1, SINK_PORT, "d", 1));     /* drop */
	fx_inject(f, fr, udp_from(fr, a7, 65535, SINK_PORT, "e", 1)); /* drop */
	fx_inject(f, fr, udp_from(fr, a8, 4000, SINK_PORT, "f", 1));  /* pass */
	fx_poll(f);
	CHECK_EQ(f->sink_count, 2);
	/* Other protocols from a blocked host: port 0 means all of them. */
	fx_inject(f, fr, icmp_echo_from(fr, a7, 1));  /* drop */
	fx_inject(f, fr, tcp_syn_from(fr, a7, 1234)); /* drop */
	fx_inject(f, fr, icmp_echo_from(fr, a9, 2));  /* pass: not port 0 */
	fx_inject(f, fr, arp_request(fr));	      /* pass: not IPv4 */
	fx_poll(f);
	check_pool_full(f);

	h = hstats();
	CHECK_EQ(h.runs, 10);
	CHECK_EQ(h.drop, 6);
	CHECK_EQ(h.pass, 4);
	CHECK_EQ(h.aborted, 0);
	stats_map = ebpf_prog_map(xdp_hook_prog, "stats");
	CHECK(stats_map != NULL);
	if (stats_map) {
		k = 0;
		v = ebpf_map_lookup(stats_map, &k);
		CHECK(v && *v == 6);
		k = 1;
		v = ebpf_map_lookup(stats_map, &k);
		CHECK(v && *v == 3); /* the ARP frame is not counted */
	}
	fx_round(f); /* the answers to the ICMP echo, SYN and ARP */
	fx_down(f);
}

TEST(blocklist_bad_entries_are_reported_and_skipped)
{
	unsigned errs;
	struct ebpf_map *m;
	struct {
		uint32_t saddr;
		uint16_t port, pad;
	} key = {0};
	static const uint8_t a[4] = {10, 0, 0, 8};

	lwip_once();
	attach("blocklist", false);
	m = ebpf_prog_map(xdp_hook_prog, "blocklist");
	CHECK(m != NULL);
	host_log_quiet = true;
	errs = host_log_count[LOG_ERROR];
	CHECK_EQ(xdp_hook_blocklist("1.2.3,1.2.3.4:99999,x,10.0.0.8:53"), 1);
	CHECK_EQ(host_log_count[LOG_ERROR] - errs, 3);
	CHECK_EQ(ebpf_map_count(m), 1);
	memcpy(&key.saddr, a, 4);
	key.port = 53;
	CHECK(ebpf_map_lookup(m, &key) != NULL);

	/* More malformed entries, none of which may be half-added. */
	errs = host_log_count[LOG_ERROR];
	CHECK_EQ(xdp_hook_blocklist("256.1.1.1,1.2.3.4:,1.2.3.4.5,1..2.3,"
				    ":80,1.2.3.4:80x,1234.1.1.1,,"
				    "1.2.3.4:65536"),
		 0);
	CHECK_EQ(host_log_count[LOG_ERROR] - errs, 9);
	CHECK_EQ(ebpf_map_count(m), 1);
	/* Edge values that are fine; a trailing comma is no entry. */
	CHECK_EQ(xdp_hook_blocklist("0.0.0.0:65535,255.255.255.255:0,"), 2);
	CHECK_EQ(ebpf_map_count(m), 3);
	host_log_quiet = false;
	xdp_hook_detach();
}

/* ---- /stats ---- */

/* A small strict JSON checker: one value, nothing after it. */
static const char *json_value(const char *s, int depth);

static const char *json_ws(const char *s)
{
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	return s;
}

static const char *json_string(const char *s)
{
	if (*s++ != '"')
		return NULL;
	while (*s && *s != '"') {
		if ((unsigned char)*s < 0x20)
			return NULL;
		if (*s == '\\' && !*++s)
			return NULL;
		s++;
	}
	return *s == '"' ? s + 1 : NULL;
}

static const char *json_value(const char *s, int depth)
{
	s = json_ws(s);
	if (depth > 16)
		return NULL;
	if (*s == '{' || *s == '[') {
		char close = *s == '{' ? '}' : ']';
		bool obj = *s == '{';

		s = json_ws(s + 1);
		if (*s == close)
			return s + 1;
		for (;;) {
			if (obj) {
				s = json_string(json_ws(s));
				if (!s)
					return NULL;
				s = json_ws(s);
				if (*s++ != ':')
					return NULL;
			}
			s = json_value(s, depth + 1);
			if (!s)
				return NULL;
			s = json_ws(s);
			if (*s == close)
				return s + 1;
			if (*s++ != ',')
				return NULL;
		}
	}
	if (*s == '"')
		return json_string(s);
	if (*s == '-' || (*s >= '0' && *s <= '9')) {
		const char *b = s;
		if (*s == '-')
			s++;
		while (*s >= '0' && *s <= '9')
			s++;
		return s > b && s[-1] != '-' ? s : NULL;
	}
	if (!strncmp(s, "true", 4))
		return s + 4;
	if (!strncmp(s, "false", 5))
		return s + 5;
	if (!strncmp(s, "null", 4))
		return s + 4;
	return NULL;
}

static bool json_ok(const char *s)
{
	const char *e = json_value(s, 0);

	return e && *json_ws(e) == '\0';
}

TEST(json_checker_checks)
{
	CHECK(json_ok("{\"a\":[1,2,{\"b\":null}],\"c\":true}"));
	CHECK(!json_ok("{\"a\":[1,2}"));
	CHECK(!json_ok("{\"a\":1,}"));
	CHECK(!json_ok("{\"a\" 1}"));
	CHECK(!json_ok("{\"a\":1}}"));
}

BOTH(stats_json_shows_counters_and_maps)
static void stats_json_shows_counters_and_maps(bool jit)
{
	struct fx *f = fx_ready();
	static const uint8_t a7[4] = {10, 0, 0, 7};
	uint8_t fr[128];
	char buf[2048], again[2048], small[32];
	char want[128];
	struct ebpf_map *bl, *st;
	uint64_t bl_lookups, bl_misses, st_lookups, st_misses;
	int n;

	attach("blocklist", jit);
	CHECK_EQ(xdp_hook_blocklist("10.0.0.7"), 1);
	for (int i = 0; i < 3; i++)
		fx_inject(f, fr, udp_from(fr, a7, 5, SINK_PORT, "z", 1));
	for (int i = 0; i < 2; i++)
		fx_inject(f, fr, udp_frame(fr, SINK_PORT, "y", 1));
	fx_poll(f);
	CHECK_EQ(f->sink_count, 2);

	bl = ebpf_prog_map(xdp_hook_prog, "blocklist");
	st = ebpf_prog_map(xdp_hook_prog, "stats");
	CHECK(bl && st);
	if (!bl || !st) {
		fx_down(f);
		return;
	}
	bl_lookups = count_of(bl).lookups;
	bl_misses = count_of(bl).misses;
	st_lookups = count_of(st).lookups;
	st_misses = count_of(st).misses;
	/* The program looked its maps up: per frame one stats lookup, and
	 * one or two blocklist lookups. */
	CHECK_EQ(st_lookups, 5);
	CHECK_EQ(bl_lookups, 3 * 2 + 2 * 2);

	n = xdp_hook_stats_json(buf, sizeof(buf));
	CHECK_EQ(n, (int)strlen(buf));
	if (!json_ok(buf))
		fprintf(stderr, "  not JSON: %s\n", buf);
	CHECK(json_ok(buf));
	snprintf(want, sizeof(want), "\"attached\":\"%s\"",
		 xdp_hook_prog->name);
	CHECK(strstr(buf, want) != NULL);
	CHECK(strstr(buf, jit ? "\"jit\":true" : "\"jit\":false") != NULL);
	CHECK(strstr(buf, "\"runs\":5,\"pass\":2,\"drop\":3,\"tx\":0,"
			  "\"redirect\":0,\"aborted\":0,\"tx_failed\":0,"
			  "\"redirect_dropped\":0,\"redirect_no_target\":0,"
			  "\"xsk_frames\":0,"
			  "\"xsk_bytes\":0,\"cycles\":") != NULL);
	/* Run time: the hook's and the program's, the same 5 runs. */
	{
		struct xdp_hook_stats h = hstats();
		struct xdp_prog_stats ps;

		xdp_hook_get_prog_stats(&ps);
		CHECK(h.cycles > 0);
		CHECK_EQ(ps.runs, 5);
		CHECK_EQ(ps.cycles, h.cycles);
		snprintf(want, sizeof(want),
			 "\"prog\":{\"runs\":5,\"cycles\":%llu}",
			 (unsigned long long)ps.cycles);
		CHECK(strstr(buf, want) != NULL);
	}
	snprintf(want, sizeof(want),
		 "\"blocklist\":{\"lookups\":%llu,\"updates\":1,"
		 "\"misses\":%llu}",
		 (unsigned long long)bl_lookups, (unsigned long long)bl_misses);
	CHECK(strstr(buf, want) != NULL);
	snprintf(want, sizeof(want),
		 "\"stats\":{\"lookups\":%llu,\"updates\":0,\"misses\":%llu,"
		 "\"values\":[3,2]}",
		 (unsigned long long)st_lookups, (unsigned long long)st_misses);
	if (!strstr(buf, want))
		fprintf(stderr, "  want %s\n  in %s\n", want, buf);
	CHECK(strstr(buf, want) != NULL);

	/* Reading the values did not count as lookups: same text again. */
	CHECK_EQ(count_of(st).lookups, st_lookups);
	CHECK_EQ(count_of(st).misses, st_misses);
	CHECK_EQ(count_of(bl).lookups, bl_lookups);
	CHECK_EQ(xdp_hook_stats_json(again, sizeof(again)), n);
	CHECK_STR(again, buf);

	/* Cut short like snprintf: the full length, a terminated prefix. */
	CHECK_EQ(xdp_hook_stats_json(small, sizeof(small)), n);
	CHECK_EQ(strlen(small), sizeof(small) - 1);
	CHECK(strncmp(small, buf, sizeof(small) - 1) == 0);
	fx_down(f);
}

BOTH(stats_json_after_redirect_and_tx)
static void stats_json_after_redirect_and_tx(bool jit)
{
	struct fx *f = fx_ready();
	uint8_t fr[128];
	char buf[1024];
	struct xsk_socket *xs = sock_up(16, 0, 16);
	uint64_t bytes = 0;

	attach_default(jit, xs);
	for (uint32_t i = 0; i < 4; i++) {
		size_t len = seq_frame(fr, i);
		bytes += len;
		fx_inject(f, fr, len);
	}
	fx_poll(f);
	rx_take(f, xs, 4, 0, NULL);
	CHECK(xdp_hook_stats_json(buf, sizeof(buf)) > 0);
	CHECK(json_ok(buf));
	CHECK(strstr(buf, "\"attached\":\"xsk_default\"") != NULL);
	CHECK(strstr(buf, jit ? "\"jit\":true" : "\"jit\":false") != NULL);
	CHECK(strstr(buf, "\"runs\":4,") != NULL);
	CHECK(strstr(buf, "\"redirect\":4,") != NULL);
	CHECK(strstr(buf, "\"xsk_frames\":4,") != NULL);
	{
		char want[64];
		snprintf(want, sizeof(want), "\"xsk_bytes\":%llu,",
			 (unsigned long long)bytes);
		CHECK(strstr(buf, want) != NULL);
	}
	CHECK(strstr(buf, "\"xsks_map\":{") != NULL);
	CHECK(xsk_stats_json(buf, sizeof(buf)) > 0);
	if (!json_ok(buf))
		fprintf(stderr, "  not JSON: %s\n", buf);
	CHECK(json_ok(buf));
	{
		char want[64];
		snprintf(want, sizeof(want), "{\"id\":%u,\"queue\":0,\"rx\":4,",
			 xs->id);
		CHECK(strstr(buf, want) != NULL);
		snprintf(want, sizeof(want), "\"rx_bytes\":%llu,",
			 (unsigned long long)bytes);
		CHECK(strstr(buf, want) != NULL);
	}
	CHECK(strstr(buf, "\"frames\":16,\"owned\":16,") != NULL);
	xsk_socket_delete(xs);
	CHECK(xsk_stats_json(buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "\"sockets\":[]") != NULL);
	fx_down(f);
}

/* The count program end to end: every frame counted, all passed on. */
BOTH(count_program_counts_and_passes)
static void count_program_counts_and_passes(bool jit)
{
	struct fx *f = fx_ready();
	uint8_t fr[128];
	char buf[2048];

	attach("count", jit);
	fx_inject(f, fr, arp_request(fr)); /* lwIP learns the peer first */
	fx_inject(f, fr, udp_frame(fr, SINK_PORT, "u", 1));
	fx_inject(f, fr, icmp_echo_from(fr, peer_ip, 3));
	CHECK_EQ(fx_round(f), 2); /* echo reply and ARP reply */
	CHECK_EQ(f->sink_count, 1);
	CHECK_EQ(hstats().pass, 3);
	CHECK(xdp_hook_stats_json(buf, sizeof(buf)) > 0);
	if (!json_ok(buf))
		fprintf(stderr, "  not JSON: %s\n", buf);
	CHECK(json_ok(buf));
	CHECK(strstr(buf, "\"values\":[") != NULL);
	fx_down(f);
}

/* The SYN-flood guard in lwIP's real input path: a flood of SYNs from
 * sources that never answer holds at most the per-listener cap of PCBs,
 * evicting the oldest; a real client's handshake still completes; the
 * pool-pressure eviction takes half-open connections of other listeners;
 * established connections are never touched. */
/* lwIP's headers first: its arch.h defines BYTE_ORDER, which the C
 * library's would otherwise define differently. */
#include "lwip-port/tcp_budget.h"
#include "lwip-port/tcp_guard.h"
#include "lwip-port/tcp_reaper.h"
#include "lwip/init.h"
#include "lwip/ip4.h"
#include "lwip/memp.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#include <stdbool.h>
#include <string.h>

#include "tests/unit/check.h"
#include "tests/unit/lwip_host.h"

/* The eBPF runtime (socket filters sit in lwIP's TCP input hook) reads
 * lwIP's fake clock. */
uint64_t clock_ns(void)
{
	return (uint64_t)fake_now * 1000000u;
}

static struct netif nif;
static unsigned sent_synacks, sent_rsts, sent_segments;
static uint32_t last_synack_seq, last_seq;

/* Records lwIP's output (IP packets: no Ethernet, so no ARP wait). */
static err_t cap_output(struct netif *n, struct pbuf *p, const ip4_addr_t *dst)
{
	uint8_t buf[128];
	uint16_t len = pbuf_copy_partial(p, buf, sizeof(buf), 0);

	if (len < 40 || buf[9] != 6)
		return ERR_OK;
	sent_segments++;
	last_seq = (uint32_t)buf[24] << 24 | (uint32_t)buf[25] << 16 |
		   (uint32_t)buf[26] << 8 | buf[27];
	if ((buf[33] & 0x12) == 0x12) {
		sent_synacks++;
		last_synack_seq = last_seq;
	}
	if (buf[33] & 0x04)
		sent_rsts++;
	return ERR_OK;
}

static err_t cap_init(struct netif *n)
{
	n->output = cap_output;
	n->mtu = 1500;
	n->flags = NETIF_FLAG_LINK_UP;
	return ERR_OK;
}

static void setup(void)
{
	static bool done;
	ip4_addr_t a, m, g;

	lwip_once();
	if (done)
		return;
	done = true;
	IP4_ADDR(&a, our_ip[0], our_ip[1], our_ip[2], our_ip[3]);
	IP4_ADDR(&m, 255, 0, 0, 0);
	IP4_ADDR(&g, 0, 0, 0, 0);
	netif_add(&nif, &a, &m, &g, NULL, cap_init, ip4_input);
	netif_set_default(&nif);
	netif_set_up(&nif);
}

/* A TCP segment from src:sport to our port, fed through IP input. */
static void inject(uint32_t src, uint16_t sport, uint16_t dport, uint8_t flags,
		   uint32_t seq, uint32_t ack)
{
	uint8_t f[40];
	uint32_t sum;
	struct pbuf *p;

	memset(f, 0, sizeof(f));
	f[0] = 0x45;
	put16(f + 2, sizeof(f));
	f[8] = 64;
	f[9] = 6;
	f[12] = (uint8_t)(src >> 24);
	f[13] = (uint8_t)(src >> 16);
	f[14] = (uint8_t)(src >> 8);
	f[15] = (uint8_t)src;
	memcpy(f + 16, our_ip, 4);
	put16(f + 10, (uint16_t)~fold(sum16(0, f, 20)));
	put16(f + 20, sport);
	put16(f + 22, dport);
	put16(f + 24, (uint16_t)(seq >> 16));
	put16(f + 26, (uint16_t)seq);
	put16(f + 28, (uint16_t)(ack >> 16));
	put16(f + 30, (uint16_t)ack);
	f[32] = 5 << 4;
	f[33] = flags;
	put16(f + 34, 0xffff);
	sum = sum16(0, f + 12, 8) + 6 + 20 + sum16(0, f + 20, 20);
	put16(f + 36, (uint16_t)~fold(sum));
	p = pbuf_alloc(PBUF_RAW, sizeof(f), PBUF_RAM);
	memcpy(p->payload, f, sizeof(f));
	if (nif.input(p, &nif) != ERR_OK)
		pbuf_free(p);
}

static unsigned accepted;
static struct tcp_pcb *last_accepted;

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	if (err == ERR_OK && pcb) {
		accepted++;
		last_accepted = pcb;
	}
	return ERR_OK;
}

static struct tcp_pcb *listen_on(uint16_t port)
{
	struct tcp_pcb *l = tcp_new();

	CHECK(l != NULL);
	CHECK_EQ(tcp_bind(l, IP_ADDR_ANY, port), ERR_OK);
	l = tcp_listen(l);
	tcp_accept(l, on_accept);
	return l;
}

static uint32_t half_open(void)
{
	struct tcp_guard_stats s;

	tcp_guard_get_stats(&s);
	return s.half_open;
}

static void abort_all(void)
{
	while (tcp_active_pcbs)
		tcp_abort(tcp_active_pcbs);
}

TEST(flood_is_capped_and_a_real_client_gets_through)
{
	struct tcp_pcb *l;
	struct tcp_guard_stats s;
	uint32_t isn;

	setup();
	l = listen_on(7);
	/* 1000 SYNs from 1000 sources that will never answer. */
	for (uint32_t i = 0; i < 1000; i++)
		inject(0x0a010000 + i, 1024, 7, TCP_SYN, i * 7919, 0);
	CHECK_EQ(half_open(), TCP_GUARD_DEFAULT_HALF_OPEN);
	tcp_guard_get_stats(&s);
	CHECK_EQ(s.evicted_listener, 1000 - TCP_GUARD_DEFAULT_HALF_OPEN);
	CHECK(s.half_open_peak <= TCP_GUARD_DEFAULT_HALF_OPEN);
	/* A real client: SYN, our SYN-ACK, its ACK: accepted. */
	sent_synacks = 0;
	inject(0x0a000202, 40000, 7, TCP_SYN, 5000, 0);
	CHECK_EQ(sent_synacks, 1);
	isn = last_synack_seq;
	inject(0x0a000202, 40000, 7, TCP_ACK, 5001, isn + 1);
	CHECK_EQ(accepted, 1);
	/* Its SYN evicted one flood entry and it is no longer half-open. */
	CHECK_EQ(half_open(), TCP_GUARD_DEFAULT_HALF_OPEN - 1);
	/* The established connection survives the next flood. */
	for (uint32_t i = 0; i < 300; i++)
		inject(0x0a020000 + i, 1024, 7, TCP_SYN, i, 0);
	{
		unsigned established = 0;

		for (struct tcp_pcb *p = tcp_active_pcbs; p; p = p->next)
			established += p->state == ESTABLISHED;
		CHECK_EQ(established, 1);
	}
	abort_all();
	tcp_close(l);
}

TEST(cap_is_per_listener_and_configurable)
{
	struct tcp_pcb *a, *b;

	setup();
	tcp_guard_set_max_half_open(5);
	a = listen_on(80);
	b = listen_on(5001);
	for (uint32_t i = 0; i < 50; i++) {
		inject(0x0a030000 + i, 2000, 80, TCP_SYN, i, 0);
		inject(0x0a040000 + i, 2000, 5001, TCP_SYN, i, 0);
	}
	CHECK_EQ(half_open(), 10);
	tcp_guard_set_max_half_open(0); /* back to the default */
	abort_all();
	tcp_close(a);
	tcp_close(b);
}

TEST(pool_pressure_evicts_other_listeners_half_open)
{
	struct tcp_pcb *a, *b;
	struct tcp_guard_stats before, after;
	uint32_t n = MEMP_NUM_TCP_PCB;

	setup();
	/* A cap above the pool: only pressure can evict. */
	tcp_guard_set_max_half_open(n);
	a = listen_on(80);
	b = listen_on(81);
	for (uint32_t i = 0; i < n; i++)
		inject(0x0a050000 + i, 3000, 80, TCP_SYN, i, 0);
	tcp_guard_get_stats(&before);
	/* Port 81's clients still get PCBs: port 80's oldest give way. */
	sent_synacks = 0;
	for (uint32_t i = 0; i < 10; i++)
		inject(0x0a060000 + i, 3000, 81, TCP_SYN, i, 0);
	CHECK_EQ(sent_synacks, 10);
	tcp_guard_get_stats(&after);
	CHECK(after.evicted_pressure >= before.evicted_pressure + 10);
	tcp_guard_set_max_half_open(0);
	abort_all();
	tcp_close(a);
	tcp_close(b);
}

/* ---- SYN cookies ---- */

static struct tcp_guard_stats gstats(void)
{
	struct tcp_guard_stats s;

	tcp_guard_get_stats(&s);
	return s;
}

TEST(full_listener_answers_with_cookies_and_a_cookie_ack_connects)
{
	static const struct siphash_key key = {0x1234, 0x5678};
	struct tcp_pcb *l;
	struct tcp_guard_stats before = gstats(), after;
	uint32_t cookie;
	unsigned acc0;

	setup();
	tcp_guard_init(&key);
	l = listen_on(7);
	for (uint32_t i = 0; i < 100; i++)
		inject(0x0a070000 + i, 1024, 7, TCP_SYN, i * 31, 0);
	after = gstats();
	CHECK_EQ(half_open(), TCP_GUARD_DEFAULT_HALF_OPEN);
	CHECK_EQ(after.cookies_sent - before.cookies_sent,
		 100 - TCP_GUARD_DEFAULT_HALF_OPEN);
	CHECK_EQ(after.evicted_listener, before.evicted_listener);

	/* A real client: its SYN gets a cookie and no PCB ... */
	sent_synacks = 0;
	inject(0x0a000202, 40001, 7, TCP_SYN, 7000, 0);
	CHECK_EQ(sent_synacks, 1);
	cookie = last_synack_seq;
	CHECK_EQ(half_open(), TCP_GUARD_DEFAULT_HALF_OPEN);
	/* ... its ACK proves the cookie: connected once lwIP sees it again. */
	acc0 = accepted;
	inject(0x0a000202, 40001, 7, TCP_ACK, 7001, cookie + 1);
	CHECK_EQ(gstats().cookies_ok, before.cookies_ok + 1);
	sys_check_timeouts();
	CHECK_EQ(accepted, acc0 + 1);
	CHECK(last_accepted && last_accepted->state == ESTABLISHED);
	CHECK_EQ(last_accepted->mss, 536); /* no MSS option in the SYN */
	/* It sends from the cookie's sequence space. */
	sent_segments = 0;
	CHECK_EQ(tcp_write(last_accepted, "hi", 2, TCP_WRITE_FLAG_COPY),
		 ERR_OK);
	CHECK_EQ(tcp_output(last_accepted), ERR_OK);
	CHECK_EQ(sent_segments, 1);
	CHECK_EQ(last_seq, cookie + 1);

	/* A forged or stale cookie is refused with lwIP's RST. */
	sent_rsts = 0;
	inject(0x0a000203, 40002, 7, TCP_ACK, 9001, cookie + 1);
	CHECK_EQ(gstats().cookies_bad, before.cookies_bad + 1);
	CHECK_EQ(sent_rsts, 1);
	tcp_guard_init(NULL);
	abort_all();
	tcp_close(l);
}

/* ---- TIME_WAIT reuse ---- */

TEST(syn_beyond_time_wait_opens_a_new_connection_at_once)
{
	struct tcp_pcb *l, *c;
	uint32_t isn;
	unsigned acc0 = accepted;

	setup();
	l = listen_on(9);
	inject(0x0a000204, 5555, 9, TCP_SYN, 100, 0);
	isn = last_synack_seq;
	inject(0x0a000204, 5555, 9, TCP_ACK, 101, isn + 1);
	CHECK_EQ(accepted, acc0 + 1);
	c = last_accepted;
	/* We close first: FIN, the peer's ACK and FIN, TIME_WAIT. */
	CHECK_EQ(tcp_close(c), ERR_OK);
	inject(0x0a000204, 5555, 9, TCP_ACK, 101, isn + 2);
	inject(0x0a000204, 5555, 9, TCP_FIN | TCP_ACK, 101, isn + 2);
	CHECK(tcp_tw_pcbs != NULL);
	/* The same 4-tuple again, from further on in sequence space. */
	sent_synacks = 0;
	inject(0x0a000204, 5555, 9, TCP_SYN, 90000, 0);
	CHECK_EQ(gstats().timewait_reused, 1);
	CHECK(tcp_tw_pcbs == NULL);
	sys_check_timeouts();
	CHECK_EQ(sent_synacks, 1);
	inject(0x0a000204, 5555, 9, TCP_ACK, 90001, last_synack_seq + 1);
	CHECK_EQ(accepted, acc0 + 2);
	abort_all();
	tcp_close(l);
}

/* ---- per-service budgets (tcp_budget.c) and the reaper (tcp_reaper.c) */

/* A full handshake from src:sport; returns whether it was answered. */
static bool handshake(uint32_t src, uint16_t sport, uint16_t dport)
{
	unsigned before = sent_synacks;

	inject(src, sport, dport, TCP_SYN, 100, 0);
	if (sent_synacks == before)
		return false;
	inject(src, sport, dport, TCP_ACK, 101, last_synack_seq + 1);
	return true;
}

static unsigned count_state(uint16_t port, enum tcp_state st)
{
	unsigned n = 0;

	for (struct tcp_pcb *p = tcp_active_pcbs; p; p = p->next)
		n += p->local_port == port && p->state == st;
	return n;
}

TEST(budget_keeps_a_guaranteed_share_for_another_service)
{
	struct tcp_pcb *a, *b;
	unsigned got = 0, refused = 0;

	setup();
	CHECK_EQ(tcp_budget_add("flooded", 9001, 0, 0), 0);
	CHECK_EQ(tcp_budget_add("other", 9002, 20, 0), 0);
	a = listen_on(9001);
	b = listen_on(9002);
	/* Established connections to 9001 until it is refused: it may take
	 * everything but the 20 PCBs 9002 is guaranteed. */
	for (uint32_t i = 0; i < MEMP_NUM_TCP_PCB + 10; i++) {
		if (handshake(0x0a070000 + i, 4000, 9001))
			got++;
		else
			refused++;
	}
	CHECK_EQ(got, MEMP_NUM_TCP_PCB - 20);
	CHECK_EQ(count_state(9001, ESTABLISHED), MEMP_NUM_TCP_PCB - 20);
	CHECK_EQ(refused, 10 + 20);
	/* 9002's clients all get in. */
	for (uint32_t i = 0; i < 20; i++)
		CHECK(handshake(0x0a080000 + i, 4000, 9002));
	CHECK_EQ(count_state(9002, ESTABLISHED), 20);
	abort_all();
	tcp_close(a);
	tcp_close(b);
}

static unsigned errs_seen;

static void on_err(void *arg, err_t err)
{
	errs_seen++;
}

/* Runs lwIP's timers (and the reaper's sweep) for ms of fake time. */
static void run_for(u32_t ms)
{
	for (u32_t t = 0; t < ms; t += 250) {
		fake_now += 250;
		sys_check_timeouts();
		if (fake_now % 1000 < 250)
			tcp_reaper_sweep();
	}
}

TEST(reaper_frees_connections_whose_peer_vanished)
{
	struct tcp_pcb *l, *orphan, *held;
	struct tcp_reaper_stats r;

	setup();
	tcp_reaper_set_limits(3, 5);
	l = listen_on(9003);
	CHECK(handshake(0x0a090001, 5000, 9003));
	orphan = last_accepted;
	CHECK(handshake(0x0a090002, 5000, 9003));
	held = last_accepted;
	tcp_err(held, on_err);
	/* The service closes one after writing to it, and keeps writing to
	 * the other; neither peer ever answers again. */
	CHECK_EQ(tcp_write(orphan, "bye", 3, TCP_WRITE_FLAG_COPY), ERR_OK);
	CHECK_EQ(tcp_close(orphan), ERR_OK);
	CHECK_EQ(tcp_write(held, "data", 4, TCP_WRITE_FLAG_COPY), ERR_OK);
	tcp_output(held);
	CHECK_EQ(count_state(9003, FIN_WAIT_1), 1);
	run_for(2000);
	tcp_reaper_get_stats(&r);
	CHECK_EQ(r.orphans, 1);
	CHECK_EQ(r.orphans_reaped, 0);
	/* Past fin_timeout (3 s) the retransmitting orphan is gone; past
	 * giveup (5 s) the held one too, through its err callback. */
	run_for(2500);
	tcp_reaper_get_stats(&r);
	CHECK_EQ(r.orphans_reaped, 1);
	CHECK_EQ(count_state(9003, FIN_WAIT_1), 0);
	CHECK_EQ(errs_seen, 0);
	run_for(2000);
	tcp_reaper_get_stats(&r);
	CHECK_EQ(r.stalled_reaped, 1);
	CHECK_EQ(errs_seen, 1);
	CHECK(tcp_active_pcbs == NULL);
	tcp_reaper_set_limits(0, 0);
	tcp_close(l);
}

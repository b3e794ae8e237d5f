/* The lwIP netif glue (lwip-port/skiffif.c) on the host: lwIP's real core,
 * the real virtio-net driver and rings, and the simulated device of
 * sim_virtio.c. Frames go in through the device's RX ring and lwIP's
 * answers are read back off its TX ring, byte for byte.
 *
 * Covered: a round trip (ARP, ICMP echo), zero-copy receive with every RX
 * buffer given back exactly once, checksum flags (DATA_VALID skips the
 * transport check, and only that), TCP checksum offload and its partial
 * sum, zero-copy transmit of pbuf chains, linearized long chains, the
 * ring-full path, batched flushes, link changes, TSO (lwIP segments of
 * one connection coalesced into a GSO chain, checked by cutting it the way
 * Linux's GSO does; what must not merge; pbufs freed once). Every test
 * ends with lwIP's heap and pool counters back where they started. */
/* lwIP first: arch/cc.h defines BYTE_ORDER, which glibc's <endian.h>
 * (pulled in by <stdlib.h>) would otherwise have defined differently. */
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
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "tests/unit/check.h"
#include "tests/unit/host_kernel_stubs.h"
#include "tests/unit/lwip_host.h"
#include "tests/unit/sim_virtio.h"

/* The eBPF runtime (linked for netdev's TC hook) reads lwIP's fake clock. */
uint64_t clock_ns(void)
{
	return (uint64_t)fake_now * 1000000u;
}

/* ---- addresses and frames ---- */

#define UDP_PORT 7777

static uint32_t pseudo_sum(const uint8_t *ip, uint8_t proto, uint16_t len)
{
	return sum16(0, ip + 12, 8) + proto + len;
}

/* Ethernet + IPv4 header from src to dst around an l4_len payload that the
 * caller writes at f + 34. frag is the flags/offset field. */
static void put_ip(uint8_t *f, const uint8_t *dst_mac, const uint8_t *src_mac,
		   const uint8_t *src, const uint8_t *dst, uint8_t proto,
		   uint16_t l4_len, uint16_t frag)
{
	uint8_t *ip = f + ETH_HLEN;

	put_eth(f, dst_mac, src_mac, 0x0800);
	memset(ip, 0, IP_HDR);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(IP_HDR + l4_len));
	put16(ip + 4, 0x1234);
	put16(ip + 6, frag);
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	put16(ip + 10, (uint16_t)~fold(sum16(0, ip, IP_HDR)));
}

/* A UDP datagram from the peer to UDP_PORT; good_csum false corrupts the
 * checksum (still non-zero, so it is checked). */
static size_t udp_frame(uint8_t *f, const void *data, uint16_t len,
			bool good_csum)
{
	uint8_t *u = f + ETH_HLEN + IP_HDR;
	uint16_t ulen = (uint16_t)(8 + len);

	put_ip(f, our_mac, peer_mac, peer_ip, our_ip, 17, ulen, 0);
	put16(u, 40000);
	put16(u + 2, UDP_PORT);
	put16(u + 4, ulen);
	put16(u + 6, 0);
	memcpy(u + 8, data, len);
	put16(u + 6, (uint16_t)~fold(pseudo_sum(f + ETH_HLEN, 17, ulen) +
				     sum16(0, u, ulen)));
	if (!good_csum)
		u[7] ^= 0x5a;
	return ETH_HLEN + IP_HDR + ulen;
}

static size_t icmp_echo(uint8_t *f, uint16_t id, uint16_t seq, uint16_t datalen)
{
	uint8_t *m = f + ETH_HLEN + IP_HDR;
	uint16_t len = (uint16_t)(8 + datalen);

	put_ip(f, our_mac, peer_mac, peer_ip, our_ip, 1, len, 0);
	m[0] = 8;
	m[1] = 0;
	put16(m + 2, 0);
	put16(m + 4, id);
	put16(m + 6, seq);
	for (uint16_t i = 0; i < datalen; i++)
		m[8 + i] = (uint8_t)(i * 3 + 1);
	put16(m + 2, (uint16_t)~fold(sum16(0, m, len)));
	return ETH_HLEN + IP_HDR + len;
}

/* A TCP segment with a correct checksum; from the peer when inbound. */
static size_t tcp_frame(uint8_t *f, bool inbound, uint8_t flags, uint32_t seq,
			uint32_t ack, const void *data, uint16_t len)
{
	uint8_t *t = f + ETH_HLEN + IP_HDR;
	uint16_t tlen = (uint16_t)(20 + len);

	if (inbound)
		put_ip(f, our_mac, peer_mac, peer_ip, our_ip, 6, tlen, 0);
	else
		put_ip(f, peer_mac, our_mac, our_ip, peer_ip, 6, tlen, 0);
	memset(t, 0, 20);
	put16(t, inbound ? 40000 : 7);
	put16(t + 2, inbound ? 7 : 40000);
	t[4] = (uint8_t)(seq >> 24);
	t[5] = (uint8_t)(seq >> 16);
	t[6] = (uint8_t)(seq >> 8);
	t[7] = (uint8_t)seq;
	t[8] = (uint8_t)(ack >> 24);
	t[9] = (uint8_t)(ack >> 16);
	t[10] = (uint8_t)(ack >> 8);
	t[11] = (uint8_t)ack;
	t[12] = 5 << 4;
	t[13] = flags;
	put16(t + 14, 0xffff);
	if (len)
		memcpy(t + 20, data, len);
	put16(t + 16, (uint16_t)~fold(pseudo_sum(f + ETH_HLEN, 6, tlen) +
				      sum16(0, t, tlen)));
	return ETH_HLEN + IP_HDR + tlen;
}

/* Whether a transmitted IPv4 TCP frame carries a valid checksum, after
 * finishing a NEEDS_CSUM partial sum the way a device does. */
static bool tcp_csum_ok(const uint8_t *frame, uint32_t len,
			const struct virtio_net_hdr *hdr)
{
	uint8_t f[SIM_MAX_FRAME];
	const uint8_t *ip = f + ETH_HLEN;
	unsigned ihl;
	uint16_t tlen;

	memcpy(f, frame, len);
	if (hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		uint32_t at = (uint32_t)hdr->csum_start + hdr->csum_offset;

		if (at + 2 > len)
			return false;
		put16(f + at, (uint16_t)~fold(sum16(0, f + hdr->csum_start,
						    len - hdr->csum_start)));
	}
	ihl = (ip[0] & 0xfu) * 4;
	tlen = (uint16_t)(get16(ip + 2) - ihl);
	return fold(pseudo_sum(ip, 6, tlen) + sum16(0, ip + ihl, tlen)) ==
	       0xffff;
}

/* ---- fixture ---- */

/* A UDP service that counts, keeps the last bytes, and holds pbufs when
 * asked (as an application that has not consumed them yet). */
#define SINK_HOLD_MAX 512
struct udp_sink {
	struct udp_pcb *pcb;
	unsigned count;
	uint8_t data[64];
	u16_t len;
	bool hold;
	struct pbuf *held[SINK_HOLD_MAX];
	unsigned nheld;
};

struct fx {
	struct sim_virtio sim;
	struct vnet *vn;
	struct netif netif;
	struct lwip_counts base;
	unsigned warn_base;
	struct udp_sink sink;
	struct tcp_pcb *listener;
	bool removed; /* the test took the netif down itself */
};

static struct fx *fx_up_with(uint64_t features, const struct vnet_params *p)
{
	struct fx *f = calloc(1, sizeof(*f));
	ip4_addr_t ip, mask, gw;

	lwip_once();
	lwip_counts_get(&f->base);
	f->warn_base = host_log_count[LOG_WARN];
	sim_virtio_init(&f->sim, features, 256);
	CHECK_EQ(vnet_probe(&f->sim.dev, p, &f->vn), 0);
	IP4_ADDR(&ip, 10, 0, 2, 15);
	IP4_ADDR(&mask, 255, 255, 255, 0);
	IP4_ADDR(&gw, 10, 0, 2, 2);
	CHECK(netif_add(&f->netif, &ip, &mask, &gw, f->vn, skiffif_init,
			netif_input) == &f->netif);
	netif_set_up(&f->netif);
	return f;
}

static struct fx *fx_up(void)
{
	return fx_up_with(SIM_NET_FEATURES, NULL);
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

/* One main-loop round: the glue takes what the device delivered, lwIP's
 * answers are published, the device transmits them. Returns how many. */
static int fx_round(struct fx *f)
{
	CHECK(skiffif_poll(&f->netif, 64) >= 0);
	skiffif_flush(&f->netif);
	return sim_net_process_tx(&f->sim);
}

static void fx_inject(struct fx *f, const uint8_t *frame, size_t len,
		      uint8_t hdr_flags)
{
	struct virtio_net_hdr hdr = {0};

	hdr.flags = hdr_flags;
	CHECK_EQ(sim_net_inject_hdr(&f->sim, &hdr, frame, (uint32_t)len), 0);
}

/* The peer makes itself known by asking for our MAC, so lwIP can answer
 * it directly afterwards (it would otherwise ARP first). */
static void fx_meet_peer(struct fx *f)
{
	uint8_t fr[64];

	fx_inject(f, fr, arp_request(fr), 0);
	CHECK_EQ(fx_round(f), 1);
}

static void sink_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p,
		      const ip_addr_t *addr, u16_t port)
{
	struct udp_sink *s = arg;

	s->count++;
	s->len = pbuf_copy_partial(p, s->data, sizeof(s->data), 0);
	if (s->hold && s->nheld < SINK_HOLD_MAX)
		s->held[s->nheld++] = p;
	else
		pbuf_free(p);
}

static void sink_open(struct fx *f)
{
	f->sink.pcb = udp_new();
	CHECK(f->sink.pcb != NULL);
	CHECK_EQ(udp_bind(f->sink.pcb, IP4_ADDR_ANY, UDP_PORT), ERR_OK);
	udp_recv(f->sink.pcb, sink_recv, &f->sink);
}

static void sink_release(struct fx *f)
{
	for (unsigned i = 0; i < f->sink.nheld; i++)
		pbuf_free(f->sink.held[i]);
	f->sink.nheld = 0;
}

static err_t accept_ok(void *arg, struct tcp_pcb *pcb, err_t err)
{
	return ERR_OK;
}

/* A TCP service on port 7 that accepts and discards (lwIP's default
 * receive callback frees the data and opens the window). */
static void fx_listen(struct fx *f)
{
	struct tcp_pcb *pcb = tcp_new();

	CHECK(pcb != NULL);
	CHECK_EQ(tcp_bind(pcb, IP4_ADDR_ANY, 7), ERR_OK);
	f->listener = tcp_listen(pcb);
	CHECK(f->listener != NULL);
	tcp_accept(f->listener, accept_ok);
}

static void fx_down(struct fx *f)
{
	struct lwip_counts now;

	sink_release(f);
	if (f->sink.pcb)
		udp_remove(f->sink.pcb);
	if (f->listener)
		tcp_close(f->listener);
	/* Aborts connections on our address (their RSTs go on the ring). */
	if (!f->removed) {
		netif_remove(&f->netif);
		CHECK_EQ(skiffif_remove(&f->netif), ERR_OK);
	}
	/* Let lwIP's TCP timer see there is nothing left and stop. */
	for (int i = 0; i < 4; i++) {
		fake_now += 250;
		sys_check_timeouts();
	}
	CHECK_EQ(sim_virtio_errors(&f->sim), 0);
	CHECK_EQ(host_pages_outstanding, 0);
	CHECK_EQ(host_log_count[LOG_WARN], f->warn_base);
	lwip_counts_get(&now);
	CHECK_EQ(now.mem_used, f->base.mem_used);
	for (int i = 0; i < MEMP_MAX; i++) {
		if (now.memp_used[i] != f->base.memp_used[i])
			fprintf(stderr,
				"  memp pool %d: %u in use, %u "
				"before\n",
				i, now.memp_used[i], f->base.memp_used[i]);
		CHECK_EQ(now.memp_used[i], f->base.memp_used[i]);
	}
	free(f);
}

/* ---- bring-up ---- */

TEST(init_describes_the_device_to_lwip)
{
	struct fx *f = fx_up();
	struct skiffif_stats s = gstats(f);
	const struct netif *n = &f->netif;

	CHECK_EQ(n->mtu, 1500);
	CHECK_EQ(n->hwaddr_len, 6);
	CHECK(memcmp(n->hwaddr, our_mac, 6) == 0);
	CHECK(n->name[0] == 'e' && n->name[1] == 'n');
	CHECK_EQ(n->flags & (NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP |
			     NETIF_FLAG_ETHERNET | NETIF_FLAG_IGMP),
		 NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP |
		     NETIF_FLAG_ETHERNET | NETIF_FLAG_IGMP);
	CHECK(netif_is_link_up(n));
	CHECK(skiffif_vnet(n) == f->vn);
	CHECK_EQ(s.rx_pbufs_total, vnet_rx_pool_size(f->vn));
	CHECK(s.link_up);
	CHECK(s.tx_csum_offload_on);
	CHECK(s.rx_csum_offload_on);
	/* The device finishes TCP checksums; lwIP does everything else. */
	CHECK_EQ(n->chksum_flags,
		 NETIF_CHECKSUM_ENABLE_ALL & ~NETIF_CHECKSUM_GEN_TCP);

	/* netif_set_up announced the address: a gratuitous ARP. */
	CHECK_EQ(fx_round(f), 1);
	CHECK_EQ(f->sim.last_tx_len, 42);
	CHECK(memcmp(f->sim.last_tx_frame, bcast_mac, 6) == 0);
	CHECK_EQ(get16(f->sim.last_tx_frame + 12), 0x0806);
	CHECK_EQ(get16(f->sim.last_tx_frame + 20), 1);
	CHECK(memcmp(f->sim.last_tx_frame + 28, our_ip, 4) == 0);
	CHECK(memcmp(f->sim.last_tx_frame + 38, our_ip, 4) == 0);
	CHECK_EQ(f->sim.last_tx_hdr.flags, 0);
	fx_down(f);
}

TEST(init_without_offload_keeps_every_checksum_in_lwip)
{
	struct fx *f =
	    fx_up_with(SIM_NET_FEATURES & ~(1ULL << VIRTIO_NET_F_CSUM |
					    1ULL << VIRTIO_NET_F_GUEST_CSUM),
		       NULL);

	CHECK_EQ(f->netif.chksum_flags, NETIF_CHECKSUM_ENABLE_ALL);
	CHECK(!gstats(f).tx_csum_offload_on);
	CHECK(!gstats(f).rx_csum_offload_on);
	fx_down(f);
}

TEST(init_rejects_a_missing_device)
{
	struct netif n;

	lwip_once();
	memset(&n, 0, sizeof(n));
	CHECK(netif_add(&n, NULL, NULL, NULL, NULL, skiffif_init,
			netif_input) == NULL);
}

/* ---- round trips ---- */

TEST(arp_request_is_answered_byte_exact)
{
	struct fx *f = fx_up();
	uint8_t req[64], want[42];
	uint8_t *a = want + put_eth(want, peer_mac, our_mac, 0x0806);
	struct skiffif_stats s;

	CHECK_EQ(fx_round(f), 1); /* the gratuitous ARP */
	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 2);
	memcpy(a + 8, our_mac, 6);
	memcpy(a + 14, our_ip, 4);
	memcpy(a + 18, peer_mac, 6);
	memcpy(a + 24, peer_ip, 4);

	fx_inject(f, req, arp_request(req), 0);
	CHECK_EQ(fx_round(f), 1);
	CHECK_EQ(f->sim.last_tx_len, sizeof(want));
	CHECK(memcmp(f->sim.last_tx_frame, want, sizeof(want)) == 0);
	CHECK_EQ(f->sim.last_tx_hdr.flags, 0);

	s = gstats(f);
	CHECK_EQ(s.rx_frames, 1);
	CHECK_EQ(s.rx_released, 1);
	CHECK_EQ(s.rx_pbufs_in_use, 0);
	CHECK_EQ(s.tx_frames, 2);
	/* The next round reclaims both frames: their pbufs are freed. */
	CHECK_EQ(fx_round(f), 0);
	s = gstats(f);
	CHECK_EQ(s.tx_done, 2);
	CHECK_EQ(s.tx_inflight, 0);
	CHECK_EQ(vstats(f).rx_lent, 0);
	fx_down(f);
}

TEST(icmp_echo_request_gets_a_reply)
{
	struct fx *f = fx_up();
	uint8_t req[128];
	const uint8_t *r = f->sim.last_tx_frame, *ip = r + ETH_HLEN;
	size_t len;

	fx_round(f);
	fx_meet_peer(f);
	len = icmp_echo(req, 0xbeef, 1, 32);
	fx_inject(f, req, len, 0);
	CHECK_EQ(fx_round(f), 1);

	CHECK_EQ(f->sim.last_tx_len, len);
	CHECK(memcmp(r, peer_mac, 6) == 0);
	CHECK(memcmp(r + 6, our_mac, 6) == 0);
	CHECK_EQ(get16(r + 12), 0x0800);
	CHECK_EQ(ip[0], 0x45);
	CHECK_EQ(ip[9], 1);
	CHECK(memcmp(ip + 12, our_ip, 4) == 0);
	CHECK(memcmp(ip + 16, peer_ip, 4) == 0);
	CHECK_EQ(fold(sum16(0, ip, IP_HDR)), 0xffff);
	CHECK_EQ(ip[IP_HDR], 0);     /* echo reply */
	CHECK_EQ(ip[IP_HDR + 1], 0); /* code */
	CHECK_EQ(fold(sum16(0, ip + IP_HDR, len - ETH_HLEN - IP_HDR)), 0xffff);
	/* Identifier, sequence number and data come back unchanged. */
	CHECK(memcmp(ip + IP_HDR + 4, req + ETH_HLEN + IP_HDR + 4, 4 + 32) ==
	      0);
	/* No offload for ICMP: lwIP summed it. */
	CHECK_EQ(f->sim.last_tx_hdr.flags, 0);
	CHECK_EQ(gstats(f).rx_pbufs_in_use, 0);
	fx_down(f);
}

/* ---- receive buffers ---- */

TEST(rx_pbuf_points_into_the_rx_buffer)
{
	struct fx *f = fx_up();
	uint8_t fr[128];
	struct pbuf *p;

	sink_open(f);
	f->sink.hold = true;
	fx_inject(f, fr, udp_frame(fr, "hello", 5, true), 0);
	fx_round(f);
	CHECK_EQ(f->sink.count, 1);
	CHECK_EQ(f->sink.nheld, 1);
	p = f->sink.held[0];
	CHECK(p->flags & PBUF_FLAG_IS_CUSTOM);
	CHECK_EQ(p->type_internal, PBUF_REF);
	CHECK_EQ(p->len, 5);
	CHECK(memcmp(p->payload, "hello", 5) == 0);
	/* In place: 2 KiB buffers, frame after the 12-byte virtio_net_hdr,
	 * data after Ethernet, IP and UDP headers. */
	CHECK_EQ(((uintptr_t)p->payload - VNET_HDR_LEN - 42) % VNET_RX_BUF_SIZE,
		 0);
	CHECK_EQ(gstats(f).rx_pbufs_in_use, 1);
	CHECK_EQ(vstats(f).rx_lent, 1);
	fx_down(f);
}

TEST(rx_buffer_is_released_once_by_the_last_reference)
{
	struct fx *f = fx_up();
	uint8_t fr[128];
	struct pbuf *p;

	sink_open(f);
	f->sink.hold = true;
	fx_inject(f, fr, udp_frame(fr, "x", 1, true), 0);
	fx_round(f);
	CHECK_EQ(f->sink.nheld, 1);
	p = f->sink.held[0];
	f->sink.nheld = 0;

	pbuf_ref(p); /* a second owner, e.g. a queue */
	pbuf_free(p);
	CHECK_EQ(gstats(f).rx_released, 0);
	CHECK_EQ(vstats(f).rx_lent, 1);
	pbuf_free(p);
	CHECK_EQ(gstats(f).rx_released, 1);
	CHECK_EQ(gstats(f).rx_pbufs_in_use, 0);
	CHECK_EQ(vstats(f).rx_lent, 0);
	/* The driver warns about a release of a buffer not lent out. */
	CHECK_EQ(host_log_count[LOG_WARN], f->warn_base);
	fx_down(f);
}

TEST(every_rx_buffer_returns_to_the_ring)
{
	struct vnet_params par = {.pool_bufs = 64};
	struct fx *f = fx_up_with(SIM_NET_FEATURES, &par);
	uint8_t fr[128];
	struct skiffif_stats s;
	struct vnet_stats v;
	unsigned sent = 0;

	sink_open(f);
	fx_round(f);
	/* Eight pools' worth through a 64-buffer pool, 16 per round. */
	while (sent < 512) {
		for (int i = 0; i < 16; i++, sent++) {
			uint8_t b = (uint8_t)sent;

			fx_inject(f, fr, udp_frame(fr, &b, 1, true), 0);
		}
		fx_round(f);
		CHECK_EQ(f->sink.data[0], (uint8_t)(sent - 1));
	}
	CHECK_EQ(f->sink.count, 512);
	s = gstats(f);
	v = vstats(f);
	CHECK_EQ(s.rx_frames, 512);
	CHECK_EQ(s.rx_released, 512);
	CHECK_EQ(s.rx_pbufs_in_use, 0);
	CHECK_EQ(s.rx_pbufs_total, 64);
	CHECK(s.rx_pbufs_peak >= 1 && s.rx_pbufs_peak <= 16);
	CHECK_EQ(v.rx_lent, 0);
	CHECK_EQ(v.rx_posted + v.rx_pool_free, 64);
	CHECK_EQ(f->sim.rx_no_buffer, 0);
	fx_down(f);
}

TEST(held_buffers_starve_the_ring_until_freed)
{
	struct vnet_params par = {.pool_bufs = 64};
	struct fx *f = fx_up_with(SIM_NET_FEATURES, &par);
	struct virtio_net_hdr hdr = {0};
	uint8_t fr[128];
	size_t len = udp_frame(fr, "held", 4, true);
	unsigned got = 0;

	sink_open(f);
	f->sink.hold = true;
	fx_round(f);
	/* The application holds every frame: the pool runs dry. */
	while (sim_net_inject_hdr(&f->sim, &hdr, fr, (uint32_t)len) == 0) {
		if (++got % 16 == 0)
			fx_round(f);
	}
	fx_round(f);
	CHECK_EQ(got, 64);
	CHECK_EQ(f->sink.nheld, 64);
	CHECK_EQ(gstats(f).rx_pbufs_in_use, 64);
	CHECK_EQ(gstats(f).rx_pbufs_peak, 64);
	CHECK_EQ(vstats(f).rx_posted, 0);

	/* Freed outside a poll (as a service would): the end-of-round flush
	 * reposts them, without waiting for the next poll. */
	sink_release(f);
	skiffif_flush(&f->netif);
	CHECK_EQ(vstats(f).rx_posted, 64);
	CHECK_EQ(gstats(f).rx_released, 64);
	f->sink.hold = false;
	fx_inject(f, fr, len, 0);
	fx_round(f);
	CHECK_EQ(f->sink.count, 65);
	fx_down(f);
}

/* ---- checksums ---- */

TEST(data_valid_skips_the_udp_checksum_check)
{
	struct fx *f = fx_up();
	uint8_t fr[128];
	size_t len = udp_frame(fr, "bad", 3, false);
	u16_t chkerr = lwip_stats.udp.chkerr;

	sink_open(f);
	fx_round(f);
	fx_inject(f, fr, len, VIRTIO_NET_HDR_F_DATA_VALID);
	fx_round(f);
	CHECK_EQ(f->sink.count, 1);
	CHECK_EQ(gstats(f).rx_csum_trusted, 1);
	CHECK_EQ(lwip_stats.udp.chkerr, chkerr);
	/* The per-frame setting does not outlive the frame. */
	CHECK_EQ(f->netif.chksum_flags,
		 NETIF_CHECKSUM_ENABLE_ALL & ~NETIF_CHECKSUM_GEN_TCP);

	/* The same frame without DATA_VALID: lwIP checks and drops it. */
	fx_inject(f, fr, len, 0);
	fx_round(f);
	CHECK_EQ(f->sink.count, 1);
	CHECK_EQ(lwip_stats.udp.chkerr, chkerr + 1);
	CHECK_EQ(gstats(f).rx_csum_trusted, 1);
	CHECK_EQ(gstats(f).rx_released, 2);
	fx_down(f);
}

TEST(data_valid_still_checks_the_ip_header)
{
	struct fx *f = fx_up();
	uint8_t fr[128];
	size_t len = udp_frame(fr, "ip", 2, true);
	u16_t chkerr = lwip_stats.ip.chkerr;

	sink_open(f);
	fx_round(f);
	fr[ETH_HLEN + 10] ^= 0x01; /* IP header checksum */
	fx_inject(f, fr, len, VIRTIO_NET_HDR_F_DATA_VALID);
	fx_round(f);
	CHECK_EQ(f->sink.count, 0);
	CHECK_EQ(lwip_stats.ip.chkerr, chkerr + 1);
	fx_down(f);
}

TEST(data_valid_is_not_trusted_for_ip_fragments)
{
	struct fx *f = fx_up();
	uint8_t fr[128], udp[32];
	u16_t chkerr = lwip_stats.udp.chkerr;

	sink_open(f);
	fx_round(f);
	/* One 24-byte datagram (8 header + 16 data, bad checksum) in two
	 * fragments of 16 and 8 bytes. */
	udp_frame(fr, "0123456789abcdef", 16, false);
	memcpy(udp, fr + ETH_HLEN + IP_HDR, 24);
	put_ip(fr, our_mac, peer_mac, peer_ip, our_ip, 17, 16, 0x2000);
	memcpy(fr + ETH_HLEN + IP_HDR, udp, 16);
	fx_inject(f, fr, ETH_HLEN + IP_HDR + 16, VIRTIO_NET_HDR_F_DATA_VALID);
	put_ip(fr, our_mac, peer_mac, peer_ip, our_ip, 17, 8, 2);
	memcpy(fr + ETH_HLEN + IP_HDR, udp + 16, 8);
	fx_inject(f, fr, ETH_HLEN + IP_HDR + 8, VIRTIO_NET_HDR_F_DATA_VALID);
	fx_round(f);
	CHECK_EQ(f->sink.count, 0);
	CHECK_EQ(lwip_stats.udp.chkerr, chkerr + 1);
	CHECK_EQ(gstats(f).rx_csum_trusted, 0);
	CHECK_EQ(gstats(f).rx_pbufs_in_use, 0);
	fx_down(f);
}

TEST(tcp_syn_ack_leaves_a_partial_checksum_to_the_device)
{
	struct fx *f = fx_up();
	uint8_t fr[128];
	const struct virtio_net_hdr *h = &f->sim.last_tx_hdr;
	const uint8_t *r = f->sim.last_tx_frame;

	fx_listen(f);
	fx_round(f);
	fx_meet_peer(f);
	fx_inject(f, fr, tcp_frame(fr, true, 0x02, 1000, 0, NULL, 0), 0);
	CHECK_EQ(fx_round(f), 1);

	CHECK_EQ(r[ETH_HLEN + IP_HDR + 13], 0x12); /* SYN|ACK */
	CHECK_EQ(h->flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK_EQ(h->csum_start, ETH_HLEN + IP_HDR);
	CHECK_EQ(h->csum_offset, 16);
	/* The field holds the pseudo-header sum, so the device's sum over
	 * the segment completes it. */
	CHECK_EQ(get16(r + ETH_HLEN + IP_HDR + 16),
		 fold(pseudo_sum(
		     r + ETH_HLEN, 6,
		     (uint16_t)(f->sim.last_tx_len - ETH_HLEN - IP_HDR))));
	CHECK(tcp_csum_ok(r, f->sim.last_tx_len, h));
	CHECK_EQ(gstats(f).tx_csum_offload, 1);
	/* IP header still summed by lwIP. */
	CHECK_EQ(fold(sum16(0, r + ETH_HLEN, IP_HDR)), 0xffff);
	fx_down(f);
}

TEST(tcp_without_offload_is_summed_by_lwip)
{
	struct fx *f =
	    fx_up_with(SIM_NET_FEATURES & ~(1ULL << VIRTIO_NET_F_CSUM |
					    1ULL << VIRTIO_NET_F_GUEST_CSUM),
		       NULL);
	uint8_t fr[128];

	fx_listen(f);
	fx_round(f);
	fx_meet_peer(f);
	fx_inject(f, fr, tcp_frame(fr, true, 0x02, 1000, 0, NULL, 0), 0);
	CHECK_EQ(fx_round(f), 1);
	CHECK_EQ(f->sim.last_tx_hdr.flags, 0);
	CHECK(tcp_csum_ok(f->sim.last_tx_frame, f->sim.last_tx_len,
			  &f->sim.last_tx_hdr));
	CHECK_EQ(gstats(f).tx_csum_offload, 0);
	fx_down(f);
}

TEST(tcp_data_from_a_service_reaches_the_wire_with_good_checksums)
{
	struct fx *f = fx_up();
	uint8_t fr[256];
	const uint8_t *r = f->sim.last_tx_frame;
	static const char msg[] = "echo me";
	uint32_t isn;

	fx_listen(f);
	fx_round(f);
	fx_meet_peer(f);
	fx_inject(f, fr, tcp_frame(fr, true, 0x02, 1000, 0, NULL, 0), 0);
	CHECK_EQ(fx_round(f), 1);
	isn = (uint32_t)r[38] << 24 | (uint32_t)r[39] << 16 |
	      (uint32_t)r[40] << 8 | r[41];
	/* ACK with data: lwIP acknowledges it (delayed ACK on the timer). */
	fx_inject(
	    f, fr,
	    tcp_frame(fr, true, 0x18, 1001, isn + 1, msg, sizeof(msg) - 1),
	    VIRTIO_NET_HDR_F_DATA_VALID);
	fx_round(f);
	fake_now += 250;
	sys_check_timeouts();
	skiffif_flush(&f->netif);
	CHECK_EQ(sim_net_process_tx(&f->sim), 1);
	CHECK_EQ(r[ETH_HLEN + IP_HDR + 13] & 0x10, 0x10);
	CHECK_EQ(f->sim.last_tx_hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK(tcp_csum_ok(r, f->sim.last_tx_len, &f->sim.last_tx_hdr));
	CHECK_EQ(gstats(f).tx_csum_offload, 2);
	CHECK_EQ(gstats(f).rx_csum_trusted, 1);
	fx_down(f);
}

/* ---- transmit ---- */

/* A pbuf over caller memory, as lwIP's no-copy writes make. */
static struct pbuf *ref_pbuf(const void *data, u16_t len)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, len, PBUF_REF);

	CHECK(p != NULL);
	p->payload = (void *)(uintptr_t)data;
	return p;
}

TEST(tx_chain_goes_out_without_a_copy)
{
	struct fx *f = fx_up();
	static uint8_t part1[300], part2[200];
	struct pbuf *h = pbuf_alloc(PBUF_RAW, ETH_HLEN, PBUF_RAM);
	struct pbuf *p1 = ref_pbuf(part1, sizeof(part1));
	struct pbuf *p2 = ref_pbuf(part2, sizeof(part2));
	const struct sim_chain *c = &f->sim.last_tx;

	fx_round(f);
	put_eth(h->payload, peer_mac, our_mac, 0x88b5);
	memset(part1, 0x11, sizeof(part1));
	memset(part2, 0x22, sizeof(part2));
	pbuf_cat(h, p1);
	pbuf_cat(h, p2);

	CHECK_EQ(f->netif.linkoutput(&f->netif, h), ERR_OK);
	CHECK_EQ(h->ref, 2); /* ours and the device's */
	skiffif_flush(&f->netif);
	CHECK_EQ(sim_net_process_tx(&f->sim), 1);
	CHECK_EQ(c->n, 4); /* virtio_net_hdr + the three pbufs */
	CHECK_EQ(c->d[1].addr, (uintptr_t)h->payload);
	CHECK_EQ(c->d[1].len, ETH_HLEN);
	CHECK_EQ(c->d[2].addr, (uintptr_t)part1);
	CHECK_EQ(c->d[2].len, sizeof(part1));
	CHECK_EQ(c->d[3].addr, (uintptr_t)part2);
	CHECK_EQ(c->d[3].len, sizeof(part2));
	CHECK_EQ(f->sim.last_tx_len, ETH_HLEN + 500);
	CHECK_EQ(f->sim.last_tx_frame[ETH_HLEN + 299], 0x11);
	CHECK_EQ(f->sim.last_tx_frame[ETH_HLEN + 300], 0x22);
	CHECK_EQ(f->sim.last_tx_hdr.flags, 0); /* not TCP: no offload */
	CHECK_EQ(gstats(f).tx_linearized, 0);

	/* The device is done: the next poll drops its reference. */
	CHECK_EQ(h->ref, 2);
	fx_round(f);
	CHECK_EQ(h->ref, 1);
	CHECK_EQ(gstats(f).tx_inflight, 0);
	pbuf_free(h);
	fx_down(f);
}

/* lwIP header pbuf + n no-copy pieces of 10 bytes. */
static struct pbuf *long_chain(const uint8_t *frame, u16_t hlen, unsigned n)
{
	struct pbuf *h = ref_pbuf(frame, hlen);

	for (unsigned i = 0; i < n; i++)
		pbuf_cat(h, ref_pbuf(frame + hlen + 10 * i, 10));
	return h;
}

TEST(tx_chain_at_the_fragment_limit_is_not_copied)
{
	struct fx *f = fx_up();
	static uint8_t fr[ETH_HLEN + 10 * VNET_TX_MAX_FRAGS];
	struct pbuf *p;

	fx_round(f);
	put_eth(fr, peer_mac, our_mac, 0x88b5);
	p = long_chain(fr, ETH_HLEN, VNET_TX_MAX_FRAGS - 1);
	CHECK_EQ(pbuf_clen(p), VNET_TX_MAX_FRAGS);
	CHECK_EQ(f->netif.linkoutput(&f->netif, p), ERR_OK);
	skiffif_flush(&f->netif);
	CHECK_EQ(sim_net_process_tx(&f->sim), 1);
	CHECK_EQ(f->sim.last_tx.n, VNET_TX_MAX_FRAGS + 1);
	CHECK_EQ(gstats(f).tx_linearized, 0);
	fx_round(f);
	CHECK_EQ(p->ref, 1);
	pbuf_free(p);
	fx_down(f);
}

TEST(tx_long_chain_is_linearized)
{
	struct fx *f = fx_up();
	static uint8_t fr[ETH_HLEN + 10 * (VNET_TX_MAX_FRAGS + 4)];
	struct pbuf *p;

	fx_round(f);
	put_eth(fr, peer_mac, our_mac, 0x88b5);
	for (size_t i = ETH_HLEN; i < sizeof(fr); i++)
		fr[i] = (uint8_t)i;
	p = long_chain(fr, ETH_HLEN, VNET_TX_MAX_FRAGS + 4);
	CHECK_EQ(f->netif.linkoutput(&f->netif, p), ERR_OK);
	/* The copy went out; the chain is free at once. */
	CHECK_EQ(p->ref, 1);
	skiffif_flush(&f->netif);
	CHECK_EQ(sim_net_process_tx(&f->sim), 1);
	CHECK_EQ(f->sim.last_tx.n, 2);
	CHECK_EQ(f->sim.last_tx_len, sizeof(fr));
	CHECK(memcmp(f->sim.last_tx_frame, fr, sizeof(fr)) == 0);
	CHECK_EQ(gstats(f).tx_linearized, 1);
	pbuf_free(p);
	fx_down(f);
}

TEST(tx_tcp_offload_on_linearized_frames)
{
	struct fx *f = fx_up();
	static uint8_t data[200], fr[ETH_HLEN + IP_HDR + 20 + sizeof(data)];
	const struct virtio_net_hdr *h = &f->sim.last_tx_hdr;
	struct pbuf *p;
	size_t len;

	fx_round(f);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	len = tcp_frame(fr, false, 0x18, 5, 6, data, sizeof(data));
	put16(fr + ETH_HLEN + IP_HDR + 16, 0); /* as lwIP leaves it */

	/* Headers split across pbufs: copied, then offloaded. */
	p = ref_pbuf(fr, 20);
	pbuf_cat(p, ref_pbuf(fr + 20, (u16_t)(len - 20)));
	CHECK_EQ(f->netif.linkoutput(&f->netif, p), ERR_OK);
	skiffif_flush(&f->netif);
	CHECK_EQ(sim_net_process_tx(&f->sim), 1);
	CHECK_EQ(f->sim.last_tx.n, 2);
	CHECK_EQ(h->flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK(tcp_csum_ok(f->sim.last_tx_frame, f->sim.last_tx_len, h));
	pbuf_free(p);

	/* Too many pieces: offloaded in place, then copied. */
	put16(fr + ETH_HLEN + IP_HDR + 16, 0);
	p = long_chain(fr, ETH_HLEN + IP_HDR + 20, 20);
	CHECK_EQ(f->netif.linkoutput(&f->netif, p), ERR_OK);
	skiffif_flush(&f->netif);
	CHECK_EQ(sim_net_process_tx(&f->sim), 1);
	CHECK_EQ(f->sim.last_tx.n, 2);
	CHECK_EQ(h->flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK(tcp_csum_ok(f->sim.last_tx_frame, f->sim.last_tx_len, h));
	CHECK_EQ(gstats(f).tx_linearized, 2);
	CHECK_EQ(gstats(f).tx_csum_offload, 2);
	pbuf_free(p);

	/* A fragment cannot be finished by the device: dropped, counted. */
	put_ip(fr, peer_mac, our_mac, our_ip, peer_ip, 6,
	       (uint16_t)(20 + sizeof(data)), 0x2000);
	p = ref_pbuf(fr, (u16_t)len);
	CHECK_EQ(f->netif.linkoutput(&f->netif, p), ERR_VAL);
	CHECK_EQ(p->ref, 1);
	CHECK_EQ(gstats(f).drops.tx_csum, 1);
	pbuf_free(p);
	fx_down(f);
}

static struct pbuf *small_frame(void)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, 60, PBUF_RAM);

	CHECK(p != NULL);
	memset(p->payload, 0, 60);
	put_eth(p->payload, peer_mac, our_mac, 0x88b5);
	return p;
}

/* Without a software queue (txqueuelen 0) and without indirect
 * descriptors, the ring is the limit. */
TEST(tx_ring_full_reclaims_retries_then_drops)
{
	struct vnet_params par = {.tx_ring_max = 8, .no_indirect = true};
	struct fx *f;
	struct pbuf *p[6];
	struct skiffif_stats s;

	skiffif_set_txqueuelen(0);
	f = fx_up_with(SIM_NET_FEATURES, &par);
	skiffif_set_txqueuelen(TXQ_DEFAULT_LEN);
	fx_round(f);
	fx_round(f); /* reclaim the gratuitous ARP: the ring is empty */
	for (int i = 0; i < 6; i++)
		p[i] = small_frame();
	/* 8 descriptors, 2 per frame (header + one fragment). */
	for (int i = 0; i < 4; i++)
		CHECK_EQ(f->netif.linkoutput(&f->netif, p[i]), ERR_OK);
	/* The device has not consumed anything: reclaim frees nothing. */
	CHECK_EQ(f->netif.linkoutput(&f->netif, p[4]), ERR_MEM);
	CHECK_EQ(p[4]->ref, 1);
	s = gstats(f);
	CHECK_EQ(s.drops.tx_ring_full, 1);
	CHECK_EQ(s.tx_retries, 0);
	CHECK_EQ(vstats(f).drops.ring_full, 1);
	/* The full-ring path published the batch: the device saw it. */
	CHECK_EQ(sim_net_process_tx(&f->sim), 4);
	/* Now the reclaim in the retry makes room. */
	CHECK_EQ(f->netif.linkoutput(&f->netif, p[5]), ERR_OK);
	s = gstats(f);
	CHECK_EQ(s.tx_retries, 1);
	CHECK_EQ(s.tx_done, 5); /* the ARP and the four */
	CHECK_EQ(s.tx_inflight, 1);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(p[i]->ref, 1);
	CHECK_EQ(p[5]->ref, 2);
	for (int i = 0; i < 6; i++)
		pbuf_free(p[i]);
	/* p[5] is still on the ring: skiffif_remove frees it. */
	fx_down(f);
}

/* With the default queue, a burst beyond the ring waits and goes out in
 * order as completions free slots; nothing is dropped. */
TEST(tx_burst_waits_in_queue_and_drains_in_order)
{
	struct vnet_params par = {.tx_ring_max = 8, .no_indirect = true};
	struct fx *f = fx_up_with(SIM_NET_FEATURES, &par);
	struct pbuf *p[20];
	struct skiffif_stats s;
	unsigned sent = 0;

	fx_round(f);
	fx_round(f);
	for (int i = 0; i < 20; i++) {
		p[i] = small_frame();
		((uint8_t *)p[i]->payload)[20] = (uint8_t)i;
		CHECK_EQ(f->netif.linkoutput(&f->netif, p[i]), ERR_OK);
	}
	s = gstats(f);
	CHECK_EQ(s.txq.len, 16); /* 4 on the ring, 2 descriptors each */
	CHECK_EQ(s.txq.hiwat, 16);
	CHECK_EQ(s.txq.drops, 0);
	CHECK(skiffif_tx_waiting(&f->netif));
	for (int round = 0; round < 20 && sent < 20; round++) {
		unsigned n = (unsigned)fx_round(f);

		/* The frames leave in the order they were offered. */
		if (n)
			CHECK_EQ(f->sim.last_tx_frame[20],
				 (uint8_t)(sent + n - 1));
		sent += n;
	}
	CHECK_EQ(sent, 20);
	fx_round(f);
	s = gstats(f);
	CHECK_EQ(s.txq.len, 0);
	CHECK(!skiffif_tx_waiting(&f->netif));
	CHECK_EQ(s.drops.tx_ring_full, 0);
	CHECK_EQ(s.tx_inflight, 0);
	for (int i = 0; i < 20; i++) {
		CHECK_EQ(p[i]->ref, 1);
		pbuf_free(p[i]);
	}
	fx_down(f);
}

/* A queue that fills drops what does not fit, counted apart from device
 * errors, and frees it. */
TEST(tx_queue_full_drops_and_counts)
{
	struct vnet_params par = {.tx_ring_max = 8, .no_indirect = true};
	struct fx *f;
	struct pbuf *p[10];
	struct skiffif_stats s;

	skiffif_set_txqueuelen(3);
	f = fx_up_with(SIM_NET_FEATURES, &par);
	skiffif_set_txqueuelen(TXQ_DEFAULT_LEN);
	fx_round(f);
	fx_round(f);
	for (int i = 0; i < 10; i++) {
		p[i] = small_frame();
		CHECK_EQ(f->netif.linkoutput(&f->netif, p[i]),
			 i < 7 ? ERR_OK : ERR_MEM);
	}
	s = gstats(f);
	CHECK_EQ(s.txq.len, 3);
	CHECK_EQ(s.txq.drops, 3);
	CHECK_EQ(s.drops.tx_ring_full, 0);
	CHECK_EQ(s.drops.tx_error, 0);
	for (int i = 7; i < 10; i++)
		CHECK_EQ(p[i]->ref, 1);
	for (int i = 0; i < 10; i++)
		pbuf_free(p[i]);
	fx_down(f); /* the waiting and in-flight frames are freed */
}

TEST(tx_flushes_once_per_batch)
{
	struct fx *f = fx_up();
	struct pbuf *p = small_frame();
	int i;

	fx_round(f);
	for (i = 0; i < SKIFFIF_TX_FLUSH_BATCH - 1; i++)
		CHECK_EQ(f->netif.linkoutput(&f->netif, p), ERR_OK);
	CHECK_EQ(sim_net_process_tx(&f->sim), 0); /* nothing published */
	CHECK_EQ(f->netif.linkoutput(&f->netif, p), ERR_OK);
	CHECK_EQ(sim_net_process_tx(&f->sim), SKIFFIF_TX_FLUSH_BATCH);
	for (i = 0; i < 8; i++)
		CHECK_EQ(f->netif.linkoutput(&f->netif, p), ERR_OK);
	CHECK_EQ(sim_net_process_tx(&f->sim), 0);
	skiffif_flush(&f->netif);
	CHECK_EQ(sim_net_process_tx(&f->sim), 8);
	CHECK_EQ(p->ref, 1 + SKIFFIF_TX_FLUSH_BATCH + 8);
	fx_round(f);
	CHECK_EQ(p->ref, 1);
	CHECK_EQ(gstats(f).tx_flushes, 3);
	pbuf_free(p);
	fx_down(f);
}

/* ---- link ---- */

TEST(link_changes_reach_lwip)
{
	struct fx *f = fx_up();

	fx_round(f);
	sim_virtio_set_link(&f->sim, false);
	CHECK(!skiffif_link_update(&f->netif));
	CHECK(!netif_is_link_up(&f->netif));
	CHECK(!gstats(f).link_up);
	sim_virtio_set_link(&f->sim, true);
	CHECK(skiffif_link_update(&f->netif));
	CHECK(netif_is_link_up(&f->netif));
	CHECK_EQ(gstats(f).link_changes, 2);
	/* Up again: lwIP announces the address once more. */
	CHECK_EQ(fx_round(f), 1);
	CHECK_EQ(get16(f->sim.last_tx_frame + 12), 0x0806);

	/* Without a config interrupt the glue polls from an lwIP timer. */
	CHECK(!vnet_has_irq(f->vn, VNET_IRQ_CONFIG));
	sim_virtio_set_link(&f->sim, false);
	fake_now += SKIFFIF_LINK_POLL_MS;
	sys_check_timeouts();
	CHECK(!netif_is_link_up(&f->netif));
	CHECK_EQ(gstats(f).link_changes, 3);
	fx_down(f);
}

/* ---- teardown and counters ---- */

TEST(remove_waits_for_lwip_to_free_received_pbufs)
{
	struct fx *f = fx_up();
	uint8_t fr[128];
	struct pbuf *p;

	sink_open(f);
	f->sink.hold = true;
	fx_inject(f, fr, udp_frame(fr, "late", 4, true), 0);
	fx_round(f);
	p = f->sink.held[0];
	f->sink.nheld = 0;
	udp_remove(f->sink.pcb);
	f->sink.pcb = NULL;
	netif_remove(&f->netif);
	CHECK_EQ(skiffif_remove(&f->netif), ERR_INPROGRESS);
	CHECK_EQ(gstats(f).rx_pbufs_in_use, 1);
	pbuf_free(p);
	CHECK_EQ(skiffif_remove(&f->netif), ERR_OK);
	CHECK(f->netif.state == NULL);
	f->removed = true;
	fx_down(f);
}

/* ---- TSO: coalescing TCP segments into GSO frames ---- */

#define TSO_FEATURES (SIM_NET_FEATURES | 1ULL << VIRTIO_NET_F_HOST_TSO4)
#define MSS	     1460
#define SEG_HLEN     (ETH_HLEN + IP_HDR + 20)

static uint8_t tso_data[24][MSS]; /* payloads, no-copy like lwIP's ROM data */

static void tso_fill(void)
{
	for (unsigned i = 0; i < 24; i++)
		for (unsigned j = 0; j < MSS; j++)
			tso_data[i][j] = (uint8_t)(i * 7 + j);
}

/* An outbound TCP segment as lwIP hands it to linkoutput: a RAM pbuf with
 * the headers, then a no-copy pbuf with the payload. */
static struct pbuf *seg_pbuf(uint16_t sport, uint32_t seq, uint8_t flags,
			     const uint8_t *data, u16_t len)
{
	struct pbuf *h = pbuf_alloc(PBUF_RAW, SEG_HLEN, PBUF_RAM);
	uint8_t *f, *t;

	CHECK(h != NULL);
	f = h->payload;
	t = f + ETH_HLEN + IP_HDR;
	put_ip(f, peer_mac, our_mac, our_ip, peer_ip, 6, (uint16_t)(20 + len),
	       0x4000);
	memset(t, 0, 20);
	put16(t, sport);
	put16(t + 2, 40000);
	put16(t + 4, (uint16_t)(seq >> 16));
	put16(t + 6, (uint16_t)seq);
	put16(t + 8, 0x0102);
	put16(t + 10, 0x0304);
	t[12] = 5 << 4;
	t[13] = flags;
	put16(t + 14, 8192);
	if (len)
		pbuf_cat(h, ref_pbuf(data, len));
	return h;
}

static uint32_t seq_of(const uint8_t *f)
{
	const uint8_t *t = f + ETH_HLEN + IP_HDR;

	return (uint32_t)get16(t + 4) << 16 | get16(t + 6);
}

/* Every segment a device cuts from the GSO frame in c (its descriptors
 * are read in place: the sim copies at most SIM_MAX_FRAME bytes), made
 * the way Linux's TCPv4 GSO makes them: headers copied, IP length, id and
 * checksum per segment, seq advanced, PSH/FIN only on the last, the TCP
 * field's pseudo-header sum adjusted from the whole length to the
 * segment's, then the partial checksum completed. Each must be a valid
 * TCP/IPv4 frame; its payload is appended to out. Returns the count. */
static unsigned gso_segments(const struct sim_chain *c,
			     const struct virtio_net_hdr *h, uint8_t *out,
			     uint32_t *out_len)
{
	static uint8_t big[70000], seg[SIM_MAX_FRAME];
	uint32_t len = 0, hl = h->hdr_len, mss = h->gso_size, off;
	unsigned n = 0;

	CHECK(c->n >= 2);
	CHECK_EQ(c->d[0].len, sizeof(struct virtio_net_hdr));
	for (unsigned i = 1; i < c->n; i++) {
		CHECK(len + c->d[i].len <= sizeof(big));
		memcpy(big + len, (void *)(uintptr_t)c->d[i].addr, c->d[i].len);
		len += c->d[i].len;
	}
	CHECK(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK(hl < len && mss > 0);
	/* The IP header describes the whole frame, with a good checksum. */
	CHECK_EQ(get16(big + ETH_HLEN + 2), len - ETH_HLEN);
	CHECK_EQ(fold(sum16(0, big + ETH_HLEN, IP_HDR)), 0xffff);
	*out_len = 0;
	for (off = hl; off < len; off += mss, n++) {
		uint32_t plen = len - off < mss ? len - off : mss;
		bool last = off + plen == len;
		uint8_t *ip = seg + ETH_HLEN, *t = seg + h->csum_start;
		uint32_t seq = seq_of(big) + (off - hl);
		uint16_t tlen = (uint16_t)(hl - h->csum_start + plen);
		uint32_t sum;

		memcpy(seg, big, hl);
		memcpy(seg + hl, big + off, plen);
		put16(ip + 2, (uint16_t)(hl - ETH_HLEN + plen));
		put16(ip + 4, (uint16_t)(get16(big + ETH_HLEN + 4) + n));
		put16(ip + 10, 0);
		put16(ip + 10, (uint16_t)~fold(sum16(0, ip, IP_HDR)));
		put16(t + 4, (uint16_t)(seq >> 16));
		put16(t + 6, (uint16_t)seq);
		if (!last)
			t[13] &= (uint8_t) ~(0x08 | 0x01); /* PSH, FIN */
		/* pseudo sum - whole TCP length + this segment's */
		sum = get16(t + 16) +
		      (uint16_t) ~(uint16_t)(len - h->csum_start) + tlen;
		put16(t + 16, fold(sum));
		put16(t + 16,
		      (uint16_t)~fold(sum16(0, t, hl - h->csum_start + plen)));
		CHECK(tcp_csum_ok(seg, hl + plen, &(struct virtio_net_hdr){0}));
		memcpy(out + *out_len, seg + hl, plen);
		*out_len += plen;
	}
	return n;
}

/* Hands frames to the glue, flushes, and lets the device take them;
 * returns the number of TX chains. */
static int tso_send(struct fx *f, struct pbuf **p, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		CHECK_EQ(f->netif.linkoutput(&f->netif, p[i]), ERR_OK);
	skiffif_flush(&f->netif);
	return sim_net_process_tx(&f->sim);
}

/* After the device finished: the next poll drops the glue's references,
 * each exactly once. */
static void tso_done(struct fx *f, struct pbuf **p, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		CHECK_EQ(p[i]->ref, 2);
	fx_round(f);
	for (unsigned i = 0; i < n; i++) {
		CHECK_EQ(p[i]->ref, 1);
		pbuf_free(p[i]);
	}
	CHECK_EQ(gstats(f).tx_inflight, 0);
}

TEST(tso_is_negotiated_only_when_offered_and_wanted)
{
	struct vnet_params no = {.no_tso = true};
	struct fx *f = fx_up_with(TSO_FEATURES, NULL);

	CHECK(vnet_tx_tso(f->vn));
	CHECK(gstats(f).tso_on);
	{
		/* The driver checks what it is asked to segment. */
		static uint8_t fr[SEG_HLEN + 100];
		struct vnet_frag frag = {fr, sizeof(fr)};
		struct vnet_tx_offload o = {.csum_start = 34,
					    .csum_offset = 16,
					    .gso_type =
						VIRTIO_NET_HDR_GSO_TCPV4,
					    .gso_size = 50,
					    .hdr_len = SEG_HLEN};
		int cookie;

		o.gso_size = 0;
		CHECK_EQ(vnet_tx_chain(f->vn, &frag, 1, &o, &cookie), -EINVAL);
		o.gso_size = 50;
		o.hdr_len = sizeof(fr);
		CHECK_EQ(vnet_tx_chain(f->vn, &frag, 1, &o, &cookie), -EINVAL);
		o.hdr_len = 40; /* cuts the checksum field */
		CHECK_EQ(vnet_tx_chain(f->vn, &frag, 1, &o, &cookie), -EINVAL);
		o.hdr_len = SEG_HLEN;
		o.gso_type = VIRTIO_NET_HDR_GSO_UDP;
		CHECK_EQ(vnet_tx_chain(f->vn, &frag, 1, &o, &cookie), -EINVAL);
	}
	fx_down(f);
	f = fx_up_with(TSO_FEATURES, &no);
	CHECK(!vnet_tx_tso(f->vn));
	CHECK(!gstats(f).tso_on);
	CHECK(!(f->sim.driver_features & 1ULL << VIRTIO_NET_F_HOST_TSO4));
	{
		static uint8_t fr[SEG_HLEN + 100];
		struct vnet_frag frag = {fr, sizeof(fr)};
		struct vnet_tx_offload o = {.csum_start = 34,
					    .csum_offset = 16,
					    .gso_type =
						VIRTIO_NET_HDR_GSO_TCPV4,
					    .gso_size = 50,
					    .hdr_len = SEG_HLEN};
		int cookie;

		CHECK_EQ(vnet_tx_chain(f->vn, &frag, 1, &o, &cookie), -ENOTSUP);
	}
	fx_down(f);
	no = (struct vnet_params){.no_csum_offload = true};
	f = fx_up_with(TSO_FEATURES, &no);
	CHECK(!vnet_tx_tso(f->vn));
	CHECK(!gstats(f).tso_on);
	fx_down(f);
	f = fx_up(); /* SIM_NET_FEATURES: no HOST_TSO4 */
	CHECK(!gstats(f).tso_on);
	fx_down(f);
}

TEST(tso_merges_one_connections_segments_without_a_copy)
{
	struct fx *f = fx_up_with(TSO_FEATURES, NULL);
	const struct sim_chain *c = &f->sim.last_tx;
	const struct virtio_net_hdr *h = &f->sim.last_tx_hdr;
	static uint8_t got[8 * MSS];
	uint32_t got_len;
	struct pbuf *p[4];
	struct skiffif_stats base;

	tso_fill();
	fx_round(f);
	fx_round(f);
	base = gstats(f);
	for (unsigned i = 0; i < 4; i++)
		p[i] = seg_pbuf(7, 5000 + i * MSS, i == 3 ? 0x18 : 0x10,
				tso_data[i], i == 3 ? 100 : MSS);
	CHECK_EQ(tso_send(f, p, 4), 1);
	CHECK_EQ(h->gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	CHECK_EQ(h->gso_size, MSS);
	CHECK_EQ(h->hdr_len, SEG_HLEN);
	CHECK_EQ(h->flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK_EQ(h->csum_start, ETH_HLEN + IP_HDR);
	CHECK_EQ(h->csum_offset, 16);
	/* One header, then every payload in place. */
	CHECK_EQ(c->n, 6);
	CHECK_EQ(c->d[1].len, SEG_HLEN);
	for (unsigned i = 0; i < 4; i++) {
		CHECK_EQ(c->d[2 + i].addr, (uintptr_t)tso_data[i]);
		CHECK_EQ(c->d[2 + i].len, i == 3 ? 100 : MSS);
	}
	/* The header is a copy: lwIP's own first segment is unchanged. */
	CHECK(c->d[1].addr != (uintptr_t)p[0]->payload);
	CHECK_EQ(get16((uint8_t *)p[0]->payload + ETH_HLEN + 2),
		 IP_HDR + 20 + MSS);
	{
		const uint8_t *hd = (const void *)(uintptr_t)c->d[1].addr;

		CHECK_EQ(seq_of(hd), 5000);
		CHECK_EQ(hd[ETH_HLEN + IP_HDR + 13], 0x18); /* last had PSH */
		CHECK_EQ(get16(hd + ETH_HLEN + IP_HDR + 16),
			 fold(pseudo_sum(hd + ETH_HLEN, 6,
					 (uint16_t)(20 + 3 * MSS + 100))));
	}
	CHECK_EQ(gso_segments(c, h, got, &got_len), 4);
	CHECK_EQ(got_len, 3 * MSS + 100);
	for (unsigned i = 0; i < 4; i++)
		CHECK(memcmp(got + i * MSS, tso_data[i], i == 3 ? 100 : MSS) ==
		      0);
	CHECK_EQ(gstats(f).tx_gso_frames, 1);
	CHECK_EQ(gstats(f).tx_gso_segments, 4);
	CHECK_EQ(gstats(f).tx_frames, base.tx_frames + 1);
	CHECK_EQ(gstats(f).tx_inflight, 1);
	tso_done(f, p, 4);
	fx_down(f);
}

TEST(tso_keeps_connections_apart)
{
	struct fx *f = fx_up_with(TSO_FEATURES, NULL);
	struct pbuf *p[4];

	fx_round(f);
	p[0] = seg_pbuf(7, 1, 0x10, tso_data[0], MSS);
	p[1] = seg_pbuf(7, 1 + MSS, 0x10, tso_data[1], MSS);
	p[2] = seg_pbuf(80, 1 + 2 * MSS, 0x10, tso_data[2], MSS);
	p[3] = seg_pbuf(80, 1 + 3 * MSS, 0x10, tso_data[3], MSS);
	CHECK_EQ(tso_send(f, p, 4), 2);
	CHECK_EQ(gstats(f).tx_gso_frames, 2);
	CHECK_EQ(gstats(f).tx_gso_segments, 4);
	tso_done(f, p, 4);
	fx_down(f);
}

/* Each case: three segments that must not all become one frame. */
TEST(tso_leaves_unmergeable_segments_alone)
{
	struct fx *f = fx_up_with(TSO_FEATURES, NULL);
	struct pbuf *p[3];

	fx_round(f);
	/* FIN, SYN, RST, URG: never merged. */
	for (uint8_t fl = 0; fl < 4; fl++) {
		static const uint8_t bad[4] = {0x11, 0x12, 0x14, 0x30};

		for (unsigned i = 0; i < 3; i++)
			p[i] = seg_pbuf(7, 1 + i * MSS, i ? bad[fl] : 0x10,
					tso_data[i], MSS);
		CHECK_EQ(tso_send(f, p, 3), 3);
		tso_done(f, p, 3);
	}
	/* Sequence numbers with a gap. */
	for (unsigned i = 0; i < 3; i++)
		p[i] = seg_pbuf(7, 1 + i * 2 * MSS, 0x10, tso_data[i], MSS);
	CHECK_EQ(tso_send(f, p, 3), 3);
	tso_done(f, p, 3);
	/* A short segment ends a run: [full, short] + [full]. */
	p[0] = seg_pbuf(7, 1, 0x10, tso_data[0], MSS);
	p[1] = seg_pbuf(7, 1 + MSS, 0x10, tso_data[1], 500);
	p[2] = seg_pbuf(7, 1 + MSS + 500, 0x10, tso_data[2], MSS);
	CHECK_EQ(tso_send(f, p, 3), 2);
	CHECK_EQ(f->sim.last_tx_hdr.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	tso_done(f, p, 3);
	/* So does PSH: [full, full+PSH] + [full]. */
	p[0] = seg_pbuf(7, 1, 0x10, tso_data[0], MSS);
	p[1] = seg_pbuf(7, 1 + MSS, 0x18, tso_data[1], MSS);
	p[2] = seg_pbuf(7, 1 + 2 * MSS, 0x10, tso_data[2], MSS);
	CHECK_EQ(tso_send(f, p, 3), 2);
	tso_done(f, p, 3);
	/* A different acknowledgment number (data arrived in between). */
	p[0] = seg_pbuf(7, 1, 0x10, tso_data[0], MSS);
	p[1] = seg_pbuf(7, 1 + MSS, 0x10, tso_data[1], MSS);
	((uint8_t *)p[1]->payload)[ETH_HLEN + IP_HDR + 11]++;
	p[2] = seg_pbuf(7, 1 + 2 * MSS, 0x10, tso_data[2], MSS);
	CHECK_EQ(tso_send(f, p, 3), 3);
	tso_done(f, p, 3);
	/* Not TCP in between: order is kept, so nothing merges across it. */
	p[0] = seg_pbuf(7, 1, 0x10, tso_data[0], MSS);
	p[1] = small_frame();
	p[2] = seg_pbuf(7, 1 + MSS, 0x10, tso_data[2], MSS);
	CHECK_EQ(tso_send(f, p, 3), 3);
	tso_done(f, p, 3);
	CHECK_EQ(gstats(f).tx_gso_frames, 2);
	CHECK_EQ(gstats(f).tx_gso_segments, 4);
	fx_down(f);
}

TEST(tso_frames_stop_at_the_fragment_limit)
{
	struct fx *f = fx_up_with(TSO_FEATURES, NULL);
	struct pbuf *p[20];

	fx_round(f);
	for (unsigned i = 0; i < 20; i++)
		p[i] = seg_pbuf(7, 1 + i * MSS, 0x10, tso_data[i], MSS);
	/* Header + 15 payloads, then the other 5. */
	CHECK_EQ(tso_send(f, p, 20), 2);
	CHECK_EQ(gstats(f).tx_gso_frames, 2);
	CHECK_EQ(gstats(f).tx_gso_segments, 20);
	CHECK_EQ(f->sim.last_tx.n, 1 + 1 + 5);
	tso_done(f, p, 20);
	fx_down(f);
}

TEST(tso_holds_nothing_past_a_flush_and_frees_held_frames_on_remove)
{
	struct fx *f = fx_up_with(TSO_FEATURES, NULL);
	struct pbuf *p[2];

	fx_round(f);
	p[0] = seg_pbuf(7, 1, 0x10, tso_data[0], MSS);
	p[1] = seg_pbuf(7, 1 + MSS, 0x10, tso_data[1], MSS);
	CHECK_EQ(f->netif.linkoutput(&f->netif, p[0]), ERR_OK);
	CHECK_EQ(f->netif.linkoutput(&f->netif, p[1]), ERR_OK);
	CHECK_EQ(p[0]->ref, 2);
	/* Held, not on the ring yet. */
	CHECK_EQ(sim_net_process_tx(&f->sim), 0);
	/* skiffif_poll() flushes too (replies made while receiving). */
	CHECK(skiffif_poll(&f->netif, 64) >= 0);
	CHECK_EQ(sim_net_process_tx(&f->sim), 1);
	tso_done(f, p, 2);

	/* A full batch goes out without waiting for the flush. */
	{
		struct pbuf *q[SKIFFIF_TX_FLUSH_BATCH];

		for (unsigned i = 0; i < SKIFFIF_TX_FLUSH_BATCH; i++) {
			q[i] = small_frame();
			CHECK_EQ(f->netif.linkoutput(&f->netif, q[i]), ERR_OK);
		}
		CHECK_EQ(sim_net_process_tx(&f->sim), SKIFFIF_TX_FLUSH_BATCH);
		tso_done(f, q, SKIFFIF_TX_FLUSH_BATCH);
	}

	/* Held frames and frames in flight are freed once by a remove. */
	p[0] = seg_pbuf(7, 1, 0x10, tso_data[0], MSS);
	p[1] = seg_pbuf(7, 1 + MSS, 0x10, tso_data[1], MSS);
	CHECK_EQ(tso_send(f, p, 2), 1); /* in flight, not reclaimed */
	pbuf_free(p[0]);
	pbuf_free(p[1]);
	p[0] = seg_pbuf(7, 1, 0x10, tso_data[0], MSS);
	CHECK_EQ(f->netif.linkoutput(&f->netif, p[0]), ERR_OK); /* held */
	pbuf_free(p[0]);
	netif_remove(&f->netif);
	CHECK_EQ(skiffif_remove(&f->netif), ERR_OK);
	f->removed = true;
	fx_down(f); /* checks lwIP's pools: every pbuf freed */
}

/* A service that writes a burst as soon as a connection is accepted. */
static err_t accept_and_send(void *arg, struct tcp_pcb *pcb, err_t err)
{
	static uint8_t burst[6 * MSS];

	for (unsigned i = 0; i < sizeof(burst); i++)
		burst[i] = (uint8_t)(i * 13 + 5);
	CHECK_EQ(tcp_write(pcb, burst, sizeof(burst), TCP_WRITE_FLAG_COPY),
		 ERR_OK);
	CHECK_EQ(tcp_output(pcb), ERR_OK);
	*(struct tcp_pcb **)arg = pcb;
	return ERR_OK;
}

TEST(tso_lwip_burst_leaves_as_one_gso_frame)
{
	struct fx *f = fx_up_with(TSO_FEATURES, NULL);
	const uint8_t *r = f->sim.last_tx_frame;
	static uint8_t got[8 * MSS];
	uint32_t got_len, isn;
	struct tcp_pcb *conn = NULL;
	uint8_t fr[128];
	unsigned n;

	fx_listen(f);
	tcp_arg(f->listener, &conn);
	tcp_accept(f->listener, accept_and_send);
	fx_round(f);
	fx_meet_peer(f);
	fx_inject(f, fr, tcp_frame(fr, true, 0x02, 1000, 0, NULL, 0), 0);
	CHECK_EQ(fx_round(f), 1);
	isn = seq_of(r);
	/* The handshake's ACK: lwIP accepts, the service writes 6 * 1460
	 * bytes, and the initial window lets several full segments (536
	 * bytes: the SYN had no MSS option) go at once. */
	fx_inject(f, fr, tcp_frame(fr, true, 0x10, 1001, isn + 1, NULL, 0),
		  VIRTIO_NET_HDR_F_DATA_VALID);
	CHECK_EQ(fx_round(f), 1);
	CHECK(conn != NULL);
	CHECK_EQ(f->sim.last_tx_hdr.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	n = gso_segments(&f->sim.last_tx, &f->sim.last_tx_hdr, got, &got_len);
	CHECK(n >= 2);
	CHECK_EQ(f->sim.last_tx_hdr.gso_size, 536);
	CHECK_EQ(got_len, n * 536);
	CHECK_EQ(seq_of((const void *)(uintptr_t)f->sim.last_tx.d[1].addr),
		 isn + 1);
	for (unsigned i = 0; i < got_len; i++)
		CHECK_EQ(got[i], (uint8_t)(i * 13 + 5));
	CHECK_EQ(gstats(f).tx_gso_frames, 1);
	CHECK_EQ(gstats(f).tx_gso_segments, n);
	/* The peer acknowledges everything: lwIP frees its segments once the
	 * device let go of them (the reclaim in the next poll). */
	fx_inject(f, fr,
		  tcp_frame(fr, true, 0x10, 1001, isn + 1 + got_len, NULL, 0),
		  VIRTIO_NET_HDR_F_DATA_VALID);
	fx_round(f);
	fx_round(f);
	CHECK_EQ(gstats(f).tx_inflight, 0);
	tcp_abort(conn);
	fx_round(f);
	fx_down(f);
}

TEST(stats_format_as_json)
{
	struct fx *f = fx_up();
	struct skiffif_stats s;
	char buf[1024], small[16];
	int n;

	fx_round(f);
	fx_round(f);
	s = gstats(f);
	n = skiffif_stats_format_json(&s, buf, sizeof(buf));
	CHECK_EQ(n, (int)strlen(buf));
	CHECK(buf[0] == '{' && buf[n - 1] == '}');
	CHECK(strstr(buf, "\"link_up\":true") != NULL);
	CHECK(strstr(buf, "\"tx\":{\"frames\":1,\"done\":1,\"inflight\":0") !=
	      NULL);
	CHECK(strstr(buf, "\"pbufs_total\":1024") != NULL);
	CHECK(strstr(buf, "\"tx_ring_full\":0") != NULL);
	CHECK_EQ(skiffif_stats_format_json(&s, small, sizeof(small)), n);
	CHECK_EQ(strlen(small), sizeof(small) - 1);
	fx_down(f);
}

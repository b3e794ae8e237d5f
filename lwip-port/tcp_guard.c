/* See tcp_guard.h. The half-open connections are found by walking lwIP's
 * active list (at most MEMP_NUM_TCP_PCB entries) on each SYN to a
 * listener: no bookkeeping of our own that could drift from lwIP's. */
#include "lwip-port/tcp_guard.h"
#include "lwip-port/tcp_budget.h"

#include "lwip/inet_chksum.h"
#include "lwip/ip.h"
#include "lwip/memp.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include <stdbool.h>
#include <string.h>

static struct tcp_guard_stats guard = {
    .max_half_open = TCP_GUARD_DEFAULT_HALF_OPEN,
};

/* ---- SYN cookies (RFC 4987) ----
 * The cookie is our ISN: bits 31..27 a 64-second time slot, 26..24 an
 * index into the MSS table, 23..0 a SipHash of the 4-tuple, the client's
 * ISN and the slot under the secret key. An ACK proves the cookie when
 * ack - 1 has a slot of now or the one before and the hash matches. */
#define COOKIE_SLOT_MS	 64000u
#define COOKIE_RECENT_MS (2 * COOKIE_SLOT_MS)
#define COOKIE_HASH_MASK 0x00ffffffu
static const u16_t cookie_mss[8] = {536,  1200, 1360, 1400,
				    1440, 1452, 1460, 1460};

static struct siphash_key cookie_key;
static bool cookies_on;
static u32_t last_cookie_ms;

void tcp_guard_init(const struct siphash_key *key)
{
	cookies_on = key != NULL;
	if (key)
		cookie_key = *key;
}

static u32_t cookie_hash(const ip_addr_t *src, const ip_addr_t *dst,
			 u16_t sport, u16_t dport, u32_t client_isn, u32_t slot)
{
	u32_t w[5] = {ip4_addr_get_u32(ip_2_ip4(src)),
		      ip4_addr_get_u32(ip_2_ip4(dst)),
		      (u32_t)sport << 16 | dport, client_isn, slot};

	return (u32_t)siphash24(&cookie_key, w, sizeof(w)) & COOKIE_HASH_MASK;
}

static u32_t cookie_make(u16_t sport, u16_t dport, u32_t client_isn, u16_t mss)
{
	u32_t slot = sys_now() / COOKIE_SLOT_MS, idx = 0;

	for (u32_t i = 0; i < 8; i++)
		if (cookie_mss[i] <= mss)
			idx = i;
	return (slot & 0x1f) << 27 | idx << 24 |
	       cookie_hash(ip_current_src_addr(), ip_current_dest_addr(), sport,
			   dport, client_isn, slot);
}

/* The MSS the cookie carries, or 0 when it is not ours. */
static u16_t cookie_check(u16_t sport, u16_t dport, u32_t client_isn,
			  u32_t cookie)
{
	u32_t now = sys_now() / COOKIE_SLOT_MS;

	for (u32_t slot = now; slot + 2 > now && slot <= now; slot--) {
		if ((slot & 0x1f) != cookie >> 27)
			continue;
		if (cookie_hash(ip_current_src_addr(), ip_current_dest_addr(),
				sport, dport, client_isn,
				slot) == (cookie & COOKIE_HASH_MASK))
			return cookie_mss[(cookie >> 24) & 7];
		if (slot == 0)
			break;
	}
	return 0;
}

/* The client's MSS option in the SYN (lwIP's own parser works on a PCB
 * we do not want to allocate); 536 when absent (RFC 9293). */
static u16_t syn_mss(const struct tcp_hdr *hdr, u16_t opt1len)
{
	const u8_t *o = (const u8_t *)(hdr + 1);

	for (u16_t i = 0; i < opt1len;) {
		if (o[i] == 0)
			break;
		if (o[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= opt1len || o[i + 1] < 2)
			break;
		if (o[i] == 2 && o[i + 1] == 4 && i + 3 < opt1len)
			return (u16_t)(o[i + 2] << 8 | o[i + 3]);
		i = (u16_t)(i + o[i + 1]);
	}
	return 536;
}

/* Set while the guard feeds a segment to lwIP again (see redeliver):
 * that one came in no Ethernet frame. */
static bool redelivering;

/* The Ethernet source of the frame that brought the current segment,
 * when it came in one on this interface. */
static bool input_src_mac(const struct netif *out, struct eth_addr *mac)
{
	const struct netif *in = ip_current_input_netif();
	const u8_t *iph = (const u8_t *)ip4_current_header();

	if (redelivering || in != out || !(in->flags & NETIF_FLAG_ETHERNET))
		return false;
	/* ethernet_input only moved the payload past the header: the
	 * frame is still in front of the IP header, in the same buffer. */
	memcpy(mac, iph - SIZEOF_ETH_HDR + ETH_HWADDR_LEN, ETH_HWADDR_LEN);
	return true;
}

/* Sends the cookie SYN-ACK straight back to the MAC the SYN came from,
 * with an IP header of our own: through ip_output it would need an ARP
 * entry for the (often spoofed) source, and a flood from sources nobody
 * answers ARP for would evict every real neighbour from lwIP's small ARP
 * table and fill its queue, stalling replies to real clients. Returns
 * false when the SYN came in no Ethernet frame. */
static bool cookie_output_direct(struct pbuf *q, const ip_addr_t *src,
				 const ip_addr_t *dst, struct netif *nif)
{
	struct eth_addr mac;
	struct ip_hdr *iph;

	if (!input_src_mac(nif, &mac) || pbuf_add_header(q, IP_HLEN))
		return false;
	iph = q->payload;
	IPH_VHL_SET(iph, 4, IP_HLEN / 4);
	IPH_TOS_SET(iph, 0);
	IPH_LEN_SET(iph, lwip_htons(q->tot_len));
	/* An atomic datagram (DF set) needs no unique ID (RFC 6864). */
	IPH_ID_SET(iph, 0);
	IPH_OFFSET_SET(iph, PP_HTONS(IP_DF));
	IPH_TTL_SET(iph, TCP_TTL);
	IPH_PROTO_SET(iph, IP_PROTO_TCP);
	ip4_addr_copy(iph->src, *ip_2_ip4(src));
	ip4_addr_copy(iph->dest, *ip_2_ip4(dst));
	IPH_CHKSUM_SET(iph, 0);
#if CHECKSUM_GEN_IP
	IF__NETIF_CHECKSUM_ENABLED(nif, NETIF_CHECKSUM_GEN_IP)
	{
		IPH_CHKSUM_SET(iph, inet_chksum(iph, IP_HLEN));
	}
#endif
	ethernet_output(nif, q, (const struct eth_addr *)nif->hwaddr, &mac,
			ETHTYPE_IP);
	return true;
}

/* A SYN-ACK carrying the cookie, built and sent without a PCB. */
static void cookie_send(const struct tcp_hdr *syn, u32_t cookie)
{
	const ip_addr_t *src = ip_current_dest_addr();
	const ip_addr_t *dst = ip_current_src_addr();
	struct pbuf *q = pbuf_alloc(PBUF_IP, TCP_HLEN + 4, PBUF_RAM);
	struct netif *nif;
	struct tcp_hdr *t;
	u8_t *opt;

	if (!q)
		return;
	t = q->payload;
	t->src = lwip_htons(syn->dest);
	t->dest = lwip_htons(syn->src);
	t->seqno = lwip_htonl(cookie);
	t->ackno = lwip_htonl(syn->seqno + 1);
	TCPH_HDRLEN_FLAGS_SET(t, 6, TCP_SYN | TCP_ACK);
	t->wnd = lwip_htons(TCPWND_MIN16(TCP_WND));
	t->chksum = 0;
	t->urgp = 0;
	opt = (u8_t *)(t + 1);
	opt[0] = 2; /* MSS */
	opt[1] = 4;
	opt[2] = (u8_t)(TCP_MSS >> 8);
	opt[3] = (u8_t)TCP_MSS;
	nif = ip4_route(ip_2_ip4(dst));
	if (nif) {
#if CHECKSUM_GEN_TCP
		IF__NETIF_CHECKSUM_ENABLED(nif, NETIF_CHECKSUM_GEN_TCP)
		{
			t->chksum = ip_chksum_pseudo(q, IP_PROTO_TCP,
						     q->tot_len, src, dst);
		}
#endif
		if (!cookie_output_direct(q, src, dst, nif))
			ip_output_if(q, src, dst, TCP_TTL, 0, IP_PROTO_TCP,
				     nif);
	}
	pbuf_free(q);
}

/* ---- delivering a segment again ----
 * When the guard has made a PCB for a segment (a proven cookie) or removed
 * one in its way (TIME_WAIT reuse), lwIP must see the segment once more:
 * it is copied back into an IP packet, in network byte order again (lwIP
 * converted the TCP header in place), and fed to ip4_input() from a zero
 * timeout, outside this tcp_input() call. Rare, so a copy is fine. */
#define REDELIVER_MAX 8
static struct pbuf *redeliver_q[REDELIVER_MAX];
static struct netif *redeliver_if[REDELIVER_MAX];
static unsigned redeliver_n;

static void redeliver_run(void *arg)
{
	unsigned n = redeliver_n;

	redeliver_n = 0;
	redelivering = true;
	for (unsigned i = 0; i < n; i++)
		ip4_input(redeliver_q[i], redeliver_if[i]);
	redelivering = false;
}

/* Returns whether the segment was queued (it is dropped otherwise, and
 * the peer retransmits it). */
static bool redeliver(const struct tcp_hdr *hdr, u16_t opt1len,
		      const u8_t *opt2, struct pbuf *p)
{
	const struct ip_hdr *ip = ip4_current_header();
	u16_t ihl = IPH_HL_BYTES(ip), thl = TCPH_HDRLEN_BYTES(hdr);
	struct pbuf *q;
	struct tcp_hdr *t;

	if (opt2 || opt1len != thl - TCP_HLEN || redeliver_n == REDELIVER_MAX)
		return false;
	q = pbuf_alloc(PBUF_RAW, (u16_t)(ihl + thl + p->tot_len), PBUF_RAM);
	if (!q)
		return false;
	memcpy(q->payload, ip, ihl);
	t = (struct tcp_hdr *)((u8_t *)q->payload + ihl);
	memcpy(t, hdr, thl);
	t->src = lwip_htons(hdr->src);
	t->dest = lwip_htons(hdr->dest);
	t->seqno = lwip_htonl(hdr->seqno);
	t->ackno = lwip_htonl(hdr->ackno);
	t->wnd = lwip_htons(hdr->wnd);
	if (pbuf_copy_partial(p, (u8_t *)t + thl, p->tot_len, 0) !=
	    p->tot_len) {
		pbuf_free(q);
		return false;
	}
	if (redeliver_n == 0)
		sys_timeout(0, redeliver_run, NULL);
	redeliver_q[redeliver_n] = q;
	redeliver_if[redeliver_n] = ip_current_input_netif();
	redeliver_n++;
	return true;
}

/* A proven cookie: the connection the SYN would have made, in SYN_RCVD
 * with our SYN-ACK already sent (ISN = cookie), so the ACK, delivered
 * again, completes it through lwIP's own path (accept callback and all).
 * No window scaling or timestamps: the cookie has no room for them. */
static bool cookie_open(struct tcp_pcb_listen *l, const struct tcp_hdr *hdr,
			u16_t mss)
{
	struct tcp_pcb *n = tcp_alloc(l->prio);
	u32_t iss = hdr->ackno - 1;

	if (!n)
		return false;
	ip_addr_copy(n->local_ip, *ip_current_dest_addr());
	ip_addr_copy(n->remote_ip, *ip_current_src_addr());
	n->local_port = l->local_port;
	n->remote_port = hdr->src;
	n->state = SYN_RCVD;
	n->rcv_nxt = hdr->seqno;
	n->rcv_ann_right_edge = n->rcv_nxt;
	n->snd_wl2 = iss;
	n->lastack = iss;
	n->snd_nxt = iss + 1;
	n->snd_lbb = iss + 1;
	n->snd_wl1 = hdr->seqno - 1; /* force the window update */
	n->callback_arg = l->callback_arg;
	n->listener = l;
	n->so_options = l->so_options & SOF_INHERITED;
	n->netif_idx = l->netif_idx;
	n->mss = LWIP_MIN(mss, TCP_MSS);
	n->snd_wnd = hdr->wnd;
	n->snd_wnd_max = n->snd_wnd;
	TCP_REG_ACTIVE(n);
	return true;
}

void tcp_guard_set_max_half_open(uint32_t n)
{
	guard.max_half_open = n ? n : TCP_GUARD_DEFAULT_HALF_OPEN;
}

/* The half-open connections of one listener and of all, with the oldest
 * of each (NULL when there is none). */
struct guard_census {
	uint32_t mine, all;
	struct tcp_pcb *oldest_mine, *oldest_all;
};

static bool guard_older(const struct tcp_pcb *a, const struct tcp_pcb *b)
{
	/* tmr is the tcp_ticks of the PCB's last activity. */
	return !b || (u32_t)(tcp_ticks - a->tmr) > (u32_t)(tcp_ticks - b->tmr);
}

static void guard_scan(const struct tcp_pcb_listen *listener,
		       struct guard_census *c)
{
	memset(c, 0, sizeof(*c));
	for (struct tcp_pcb *p = tcp_active_pcbs; p; p = p->next) {
		if (p->state != SYN_RCVD)
			continue;
		c->all++;
		if (guard_older(p, c->oldest_all))
			c->oldest_all = p;
		if (p->listener != listener)
			continue;
		c->mine++;
		if (guard_older(p, c->oldest_mine))
			c->oldest_mine = p;
	}
	if (c->all > guard.half_open_peak)
		guard.half_open_peak = c->all;
}

/* Free PCBs, counting those in TIME_WAIT (tcp_budget_free_pcbs):
 * counting them as used, a churn of connections the server closes kept
 * the pool "low" and every SYN evicted the half-open connection of the
 * SYN before it, legitimate clients' included. */
static uint32_t guard_free_pcbs(void)
{
	return tcp_budget_free_pcbs();
}

/* A SYN for a TIME_WAIT connection beyond its sequence space ends it. */
static err_t guard_timewait(struct tcp_pcb *pcb, struct tcp_hdr *hdr,
			    u16_t opt1len, u8_t *opt2, struct pbuf *p)
{
	if ((TCPH_FLAGS(hdr) & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN ||
	    !TCP_SEQ_GT(hdr->seqno, pcb->rcv_nxt))
		return ERR_OK;
	if (!redeliver(hdr, opt1len, opt2, p))
		return ERR_OK; /* lwIP's answer, as before */
	tcp_abandon(pcb, 0);
	guard.timewait_reused++;
	return ERR_ABRT;
}

/* An ACK to a listener: lwIP would answer it with a RST, unless it
 * proves a cookie we sent. */
static err_t guard_cookie_ack(struct tcp_pcb_listen *l, struct tcp_hdr *hdr,
			      u16_t opt1len, u8_t *opt2, struct pbuf *p)
{
	u16_t mss;

	if (!cookies_on ||
	    (u32_t)(sys_now() - last_cookie_ms) > COOKIE_RECENT_MS ||
	    last_cookie_ms == 0)
		return ERR_OK;
	mss = cookie_check(hdr->src, hdr->dest, hdr->seqno - 1, hdr->ackno - 1);
	if (!mss) {
		guard.cookies_bad++;
		return ERR_OK;
	}
	if (!tcp_budget_admit_pcb(hdr->dest))
		return ERR_ABRT; /* the service's share is spent */
	if (!redeliver(hdr, opt1len, opt2, p) || !cookie_open(l, hdr, mss)) {
		/* Dropped: the client's retransmission will try again. */
		return ERR_ABRT;
	}
	guard.cookies_ok++;
	return ERR_ABRT;
}

err_t tcp_guard_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr, u16_t optlen,
			 u16_t opt1len, u8_t *opt2, struct pbuf *p)
{
	u16_t flags = TCPH_FLAGS(hdr);
	struct guard_census c;

	if (pcb->state == TIME_WAIT)
		return guard_timewait(pcb, hdr, opt1len, opt2, p);
	if (pcb->state != LISTEN)
		return ERR_OK;
	if ((flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_ACK)
		return guard_cookie_ack((struct tcp_pcb_listen *)pcb, hdr,
					opt1len, opt2, p);
	if ((flags & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN)
		return ERR_OK;
	guard.syns++;
	guard_scan((const struct tcp_pcb_listen *)pcb, &c);
	if (c.mine >= guard.max_half_open) {
		if (cookies_on) {
			cookie_send(hdr,
				    cookie_make(hdr->src, hdr->dest, hdr->seqno,
						syn_mss(hdr, opt1len)));
			last_cookie_ms = sys_now() ? sys_now() : 1;
			guard.cookies_sent++;
			return ERR_ABRT; /* no PCB for this SYN */
		}
		/* No RST for an evicted connection: its peer never
		 * answered. */
		tcp_abandon(c.oldest_mine, 0);
		guard.evicted_listener++;
	} else if (c.oldest_all && guard_free_pcbs() < TCP_GUARD_PCB_RESERVE) {
		tcp_abandon(c.oldest_all, 0);
		guard.evicted_pressure++;
	}
	/* Dropped like a SYN to a full accept queue: the client retries. */
	if (!tcp_budget_admit_pcb(hdr->dest))
		return ERR_ABRT;
	return ERR_OK;
}

#define TG(type, field)	 COUNTER(type, struct tcp_guard_stats, field, #field)
#define TGG(type, field) GAUGE(type, struct tcp_guard_stats, field, #field)
const struct counter_desc tcp_guard_counters[] = {
    TG(U64, syns),
    TGG(U32, half_open),
    TGG(U32, half_open_peak),
    TGG(U32, max_half_open),
    TG(U64, evicted_listener),
    TG(U64, evicted_pressure),
    TG(U64, cookies_sent),
    TG(U64, cookies_ok),
    TG(U64, cookies_bad),
    TG(U64, timewait_reused),
};
const unsigned tcp_guard_counters_len = COUNTERS_LEN(tcp_guard_counters);

void tcp_guard_get_stats(struct tcp_guard_stats *out)
{
	struct guard_census c;

	guard_scan(NULL, &c);
	guard.half_open = c.all;
	*out = guard;
}

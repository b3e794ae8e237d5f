/* HTTP connections on lwIP's raw API (NO_SYS: everything here runs from
 * the main loop, inside lwIP's callbacks).
 *
 * Try it: make run, then curl -v http://127.0.0.1:8080/ (QEMU forwards
 * host port 8080 to the guest's port 80).
 *
 * Data path, per connection:
 *
 *   recv(p) -> rx chain -> http_session_feed() (http_parser.c) -> response
 *   -> tcp_write(head, COPY) + tcp_write(body) while tcp_sndbuf() and the
 *   segment queue allow -> the rest from the sent callback.
 *
 * Static content (www/ in .rodata, fixed error texts, a file's cached
 * response head) is written without TCP_WRITE_FLAG_COPY: lwIP references
 * it in place until it is acked, so a 1 MiB file costs no heap, only the
 * send buffer's worth of pbuf headers at a time. Dynamic bodies (/stats, /echo)
 * are copied and freed as soon as the last byte is handed over.
 *
 * Received bytes are consumed (and the window reopened by tcp_recved) only
 * as the session parses them; while a response waits for send-buffer room
 * the session stops, and the rest stays in the rx chain. That chain holds
 * receive buffers, so it is capped at HTTP_RX_HOLD_PBUFS: beyond it recv
 * returns ERR_MEM, lwIP keeps the segment as refused data and takes no new
 * data until we drain, so a pipelining client that does not read pins a
 * bounded number of buffers.
 *
 * Closing: a response that ends the connection is followed by our FIN
 * (tcp_shutdown of the send side) and a short linger during which the
 * client's further bytes are read and dropped, so that late request data
 * does not turn into a RST that would destroy the response in the client's
 * receive queue. The peer's FIN, or the end of the linger, then closes.
 * A RST or an lwIP error frees the state from the err callback.
 *
 * Timeouts run from tcp_poll (every TCP slow tick, 500 ms): the head of a
 * request must arrive within header_timeout_ms of its first byte (408,
 * the slow-loris cut-off), a body or a blocked response may not stall for
 * idle_timeout_ms, a keep-alive connection is closed after idle_timeout_ms
 * without a request, a new one after header_timeout_ms. Under pressure
 * (HTTP_PRESSURE_*) they shrink and end with a RST; at max_conns a new
 * connection takes an idle or slow one's slot, and max_conns_per_ip
 * bounds one address (README, "Under attack"). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lwip-port/sockfilter.h"
#include "lwip/ip_addr.h"
#include "lwip/memp.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h" /* TCP_SLOW_INTERVAL, the poll period */
#include "lwip/stats.h"
#include "lwip/tcp.h"

#include "kernel/clock.h"
#include "kernel/heap.h"
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "kernel/printf.h"
#include "lwip-port/tcp_budget.h"
#include "services/http.h"
#include "services/tcp_raw.h"
#include "services/www.h"

/* tcp_poll period in slow ticks: every 500 ms. */
#define HTTP_POLL_INTERVAL 1
/* After our FIN, how long a client may go on sending before we close. */
#define HTTP_LINGER_MS 2000
/* Refused connections: poll period (slow ticks) after which they close. */
#define HTTP_REFUSED_POLLS (HTTP_LINGER_MS / TCP_SLOW_INTERVAL)
/* Received pbufs a connection may hold unparsed (see the header). */
#define HTTP_RX_HOLD_PBUFS 8
/* Headroom kept in the send queue (pbufs) for what tcp_write may add on
 * top of the segments it needs: the tail of the last segment. */
#define HTTP_WRITE_SPARE_PBUFS 4

/* Pressure: HTTP holds three quarters of its connection slots, or fewer
 * than HTTP_PRESSURE_FREE_PCBS PCBs or a quarter of the segment pool are
 * left. Then every timeout is divided by HTTP_PRESSURE_DIVISOR (but not
 * below HTTP_PRESSURE_MIN_MS), a timed-out connection is reset instead of
 * getting a 408 or a FIN (either would hold its PCB for seconds more,
 * nginx's reset_timedout_connection), and a full server resets rather
 * than answers 503. */
#define HTTP_PRESSURE_FREE_PCBS 64
#define HTTP_PRESSURE_DIVISOR	4
#define HTTP_PRESSURE_MIN_MS	1000
/* At the connection limit, a connection reading its request head (or
 * silent since it connected) for this long may be reset for a new one. */
#define HTTP_SLOW_HEAD_MS 1000

enum http_conn_state {
	HTTP_CONN_OPEN,	  /* reading requests, writing responses */
	HTTP_CONN_LINGER, /* our FIN queued; reading and dropping input */
};

struct http_conn {
	struct http_conn *prev, *next; /* every connection, oldest first */
	ip_addr_t peer_ip;
	struct tcp_pcb *pcb;
	struct pbuf *rx;	/* received, not yet parsed */
	uint64_t last_io_ms;	/* last byte received or acknowledged */
	uint64_t idle_since_ms; /* accepted, or last response handed over */
	uint64_t request_ms;	/* first byte of the request being read */
	uint64_t linger_ms;	/* when the FIN was queued */
	size_t head_off;	/* progress through s.resp.head */
	size_t body_off;	/* progress through s.resp.body */
	uint32_t served;	/* responses handed over */
	uint8_t state;		/* enum http_conn_state */
	bool peer_closed;	/* the client's FIN arrived */
	struct http_session s;
};

static struct tcp_pcb *http_listen_pcb;
static struct http_conn *http_conns, *http_conns_tail;

static err_t http_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p,
		       err_t err);
static err_t http_sent(void *arg, struct tcp_pcb *pcb, u16_t len);
static err_t http_poll(void *arg, struct tcp_pcb *pcb);
static void http_err(void *arg, err_t err);

/* ---- Connection state ---------------------------------------------------- */

static const struct tcp_raw_ops http_tcp_ops = {
    .recv = http_recv,
    .sent = http_sent,
    .err = http_err,
    .poll = http_poll,
    .poll_interval = HTTP_POLL_INTERVAL,
};

static void http_set_callbacks(struct tcp_pcb *pcb, struct http_conn *c)
{
	tcp_raw_set_callbacks(pcb, c, &http_tcp_ops);
}

/* Throws away unparsed input, reopening the window for it, so that a
 * later tcp_close() does not see unread data and send a RST. */
static void http_drop_rx(struct http_conn *c)
{
	if (!c->rx)
		return;
	if (c->pcb)
		tcp_raw_recved(c->pcb, c->rx->tot_len);
	pbuf_free(c->rx);
	c->rx = NULL;
}

/* Frees our state. The pcb must be closed, aborted or gone, with no
 * callback left pointing here. */
static void http_conn_free(struct http_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		http_conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		http_conns_tail = c->prev;
	if (c->rx)
		pbuf_free(c->rx);
	http_session_free(&c->s);
	kfree(c);
	http_counters.active--;
}

static err_t http_conn_abort(struct http_conn *c)
{
	struct tcp_pcb *pcb = c->pcb;

	/* tcp_abort() calls the err callback: detach first. */
	http_set_callbacks(pcb, NULL);
	c->pcb = NULL;
	tcp_abort(pcb);
	http_conn_free(c);
	return ERR_ABRT;
}

/* Full close: the send side is finished or already shut. Returns what a
 * callback must return. */
static err_t http_conn_close(struct http_conn *c)
{
	struct tcp_pcb *pcb = c->pcb;

	http_drop_rx(c);
	http_set_callbacks(pcb, NULL);
	if (tcp_close(pcb) != ERR_OK) {
		/* Out of memory for the FIN: give up on grace. */
		c->pcb = pcb;
		return http_conn_abort(c);
	}
	c->pcb = NULL;
	http_conn_free(c);
	return ERR_OK;
}

/* The last response is handed over: FIN after it, then linger. */
static err_t http_conn_linger(struct http_conn *c)
{
	http_drop_rx(c);
	if (c->peer_closed)
		return http_conn_close(c);
	c->state = HTTP_CONN_LINGER;
	c->linger_ms = clock_ms();
	if (tcp_shutdown(c->pcb, 0, 1) != ERR_OK)
		return http_conn_abort(c);
	return ERR_OK;
}

/* ---- Sending ------------------------------------------------------------- */

/* Hands up to len bytes to lwIP. Returns the bytes taken, 0 to wait (for
 * the sent callback when the buffer is full, for poll after ERR_MEM), or
 * -1 on an error that ends the connection. */
static long http_write(struct http_conn *c, const void *data, size_t len,
		       bool copy, bool more)
{
	struct tcp_pcb *pcb = c->pcb;
	size_t room = tcp_sndbuf(pcb);
	int qroom = (int)TCP_SND_QUEUELEN - (int)tcp_sndqueuelen(pcb) -
		    HTTP_WRITE_SPARE_PBUFS;
	u8_t flags = copy ? TCP_WRITE_FLAG_COPY : 0;
	size_t by_queue;
	err_t err;

	if (room == 0 || qroom <= 0)
		return 0;
	/* A copied segment is one pbuf; a referenced one is a header pbuf
	 * plus the reference. */
	by_queue = (size_t)qroom / (copy ? 1 : 2) * TCP_MSS;
	if (room > by_queue)
		room = by_queue;
	if (len > room) {
		len = room;
		more = true;
	}
	/* HTTP's share of the segment pool (lwip-port/tcp_budget.h): slow
	 * readers of HTTP must not take echo's. With less than asked, write
	 * less; with nothing, poll retries. */
	{
		uint32_t want = tcp_budget_segs_for(len),
			 may = tcp_budget_may_queue(HTTP_PORT, pcb, want);

		if (may < want) {
			if (may <= 2)
				return 0;
			len = (size_t)(may - 2) * TCP_MSS;
			more = true;
		}
	}
	/* More data follows: no PSH yet, and lwIP may fill the segment. */
	if (more)
		flags |= TCP_WRITE_FLAG_MORE;
	err = tcp_write(pcb, data, (u16_t)len, flags);
	if (err == ERR_MEM)
		return 0; /* segment or pbuf pool empty for now */
	if (err != ERR_OK) {
		log_warn("http: tcp_write failed (%d)", err);
		return -1;
	}
	return (long)len;
}

/* Writes what is left of the current response. Returns 1 when all of it is
 * with lwIP, 0 to wait, -1 on error. */
static int http_send_response(struct http_conn *c, bool *wrote)
{
	const struct http_response *r = &c->s.resp;

	while (c->head_off < r->head_len) {
		long n = http_write(c, r->head + c->head_off,
				    r->head_len - c->head_off, !r->head_static,
				    r->body_len > 0);
		if (n <= 0)
			return (int)n;
		c->head_off += (size_t)n;
		*wrote = true;
	}
	while (c->body_off < r->body_len) {
		long n = http_write(c, r->body + c->body_off,
				    r->body_len - c->body_off, !r->body_static,
				    false);
		if (n <= 0)
			return (int)n;
		c->body_off += (size_t)n;
		*wrote = true;
	}
	return 1;
}

/* Moves the connection forward as far as TCP allows: writes what is ready,
 * parses what was received, repeats. Returns ERR_ABRT when the connection
 * was aborted (the pcb is gone), ERR_OK otherwise (also when it was closed
 * or freed: callers must not touch c after this). */
static err_t http_pump(struct http_conn *c)
{
	struct http_session *s = &c->s;
	struct tcp_pcb *pcb = c->pcb;
	bool wrote = false;

	while (c->state == HTTP_CONN_OPEN) {
		if (s->want_continue) {
			/* 25 bytes from .rodata: written whole or not yet. */
			if (tcp_sndbuf(pcb) < http_continue_len)
				break;
			long n = http_write(c, http_continue_response,
					    http_continue_len, false, false);
			if (n < 0)
				return http_conn_abort(c);
			if (n == 0)
				break;
			wrote = true;
			http_session_continue_sent(s);
			continue;
		}
		if (s->phase == HTTP_PHASE_RESPOND) {
			int r = http_send_response(c, &wrote);
			if (r < 0)
				return http_conn_abort(c);
			if (r == 0)
				break;
			bool close = s->resp.close;
			http_session_next(s);
			c->served++;
			c->head_off = c->body_off = 0;
			c->request_ms = 0;
			c->idle_since_ms = clock_ms();
			if (close) {
				if (wrote)
					tcp_output(pcb);
				return http_conn_linger(c);
			}
			continue;
		}
		if (!c->rx)
			break;
		size_t n = http_session_feed(s, c->rx->payload, c->rx->len);
		if (n) {
			c->rx = tcp_raw_pbuf_advance(c->rx, (u16_t)n);
			tcp_raw_recved(pcb, n);
		}
		if (!c->request_ms && http_session_busy(s))
			c->request_ms = clock_ms();
		if (!n && s->phase < HTTP_PHASE_RESPOND && !s->want_continue)
			break; /* not reached: the session always progresses */
	}
	if (wrote)
		tcp_output(pcb);
	if (c->state == HTTP_CONN_OPEN && c->peer_closed && !c->rx &&
	    s->phase != HTTP_PHASE_RESPOND && !s->want_continue)
		/* The client is done sending and everything it asked for
		 * completely is answered; a half-read request never will be. */
		return http_conn_close(c);
	return ERR_OK;
}

/* ---- lwIP callbacks ------------------------------------------------------ */

static err_t http_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p,
		       err_t err)
{
	struct http_conn *c = arg;

	if (!c) {
		/* Not reached (callbacks are cleared before the state is
		 * freed); behave like lwIP's tcp_recv_null. */
		if (p) {
			tcp_recved(pcb, p->tot_len);
			pbuf_free(p);
		}
		return ERR_OK;
	}
	if (!p) {
		c->peer_closed = true;
		if (c->state == HTTP_CONN_LINGER)
			return http_conn_close(c);
		return http_pump(c);
	}
	if (err != ERR_OK) {
		pbuf_free(p);
		return ERR_OK;
	}
	c->last_io_ms = clock_ms();
	if (c->state == HTTP_CONN_LINGER) {
		tcp_recved(pcb, p->tot_len);
		pbuf_free(p);
		return ERR_OK;
	}
	if (c->rx && (pbuf_clen(c->rx) >= HTTP_RX_HOLD_PBUFS ||
		      (size_t)c->rx->tot_len + p->tot_len > 0xffff))
		/* lwIP keeps p and offers it again later (a chain's
		 * tot_len is 16 bits, too). */
		return ERR_MEM;
	http_counters.bytes_received += p->tot_len;
	if (c->rx)
		pbuf_cat(c->rx, p);
	else
		c->rx = tcp_raw_pbuf_advance(p, 0);
	return http_pump(c);
}

static err_t http_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct http_conn *c = arg;

	if (!c)
		return ERR_OK;
	http_counters.bytes_sent += len;
	c->last_io_ms = clock_ms();
	if (c->state == HTTP_CONN_OPEN)
		return http_pump(c);
	return ERR_OK;
}

static err_t http_timeout(struct http_conn *c)
{
	http_counters.timeouts++;
	return http_conn_abort(c);
}

static uint32_t seg_pool_free(void)
{
	const struct stats_mem *m = lwip_stats.memp[MEMP_TCP_SEG];

	return m->avail > m->used ? (uint32_t)(m->avail - m->used) : 0;
}

static bool http_under_pressure(const struct http_limits *l)
{
	return http_counters.active * 4 >= l->max_conns * 3 ||
	       tcp_budget_free_pcbs() < HTTP_PRESSURE_FREE_PCBS ||
	       seg_pool_free() * 4 < lwip_stats.memp[MEMP_TCP_SEG]->avail;
}

static uint32_t http_scaled(uint32_t ms, bool pressure)
{
	uint32_t floor = ms < HTTP_PRESSURE_MIN_MS ? ms : HTTP_PRESSURE_MIN_MS;

	if (!pressure || ms / HTTP_PRESSURE_DIVISOR < floor)
		return pressure ? floor : ms;
	return ms / HTTP_PRESSURE_DIVISOR;
}

/* A timeout under pressure: a RST frees the PCB at once. */
static err_t http_cut(struct http_conn *c)
{
	http_defence.pressure_resets++;
	return http_conn_abort(c);
}

static err_t http_poll(void *arg, struct tcp_pcb *pcb)
{
	struct http_conn *c = arg;
	struct http_session *s;
	uint64_t now = clock_ms();
	uint32_t idle_ms, header_ms;
	bool pressure;

	if (!c)
		return ERR_OK;
	s = &c->s;
	pressure = http_under_pressure(&s->limits);
	if (pressure)
		http_defence.pressure_ticks++;
	idle_ms = http_scaled(s->limits.idle_timeout_ms, pressure);
	header_ms = http_scaled(s->limits.header_timeout_ms, pressure);
	if (c->state == HTTP_CONN_LINGER) {
		if (now - c->last_io_ms >= idle_ms &&
		    (pcb->unsent || pcb->unacked))
			/* The client stopped reading its last response. */
			return http_timeout(c);
		if (now - c->linger_ms >= HTTP_LINGER_MS)
			return http_conn_close(c);
		return ERR_OK;
	}
	if (s->phase == HTTP_PHASE_RESPOND || s->want_continue) {
		/* A response waits for room: retry (after ERR_MEM nothing
		 * else will), and give up on a client that does not read. */
		if (now - c->last_io_ms >= idle_ms)
			return http_timeout(c);
		return http_pump(c);
	}
	if (http_session_busy(s)) {
		bool late = s->phase == HTTP_PHASE_BODY
				? now - c->last_io_ms >= idle_ms
				: now - c->request_ms >= header_ms;
		if (!late)
			return ERR_OK;
		http_counters.timeouts++;
		if (pressure)
			return http_cut(c);
		http_drop_rx(c);
		http_session_timeout(s); /* a 408 that closes */
		return http_pump(c);
	}
	/* Idle. A keep-alive connection may wait idle_timeout_ms for its next
	 * request; a new one must start its first within header_timeout_ms. */
	if (c->served) {
		if (now - c->idle_since_ms < idle_ms)
			return ERR_OK;
	} else {
		if (now - c->idle_since_ms < header_ms)
			return ERR_OK;
		http_counters.timeouts++;
	}
	if (pressure)
		return http_cut(c);
	return http_conn_close(c);
}

/* The pcb is gone already (RST from the peer, retransmission timeout,
 * lwIP reclaiming it, or the end of a close we no longer watch); only our
 * state is left to free. */
static void http_err(void *arg, err_t err)
{
	struct http_conn *c = arg;

	if (!c)
		return;
	c->pcb = NULL;
	if (err != ERR_CLSD)
		http_counters.resets++;
	http_conn_free(c);
}

/* ---- Refused connections ------------------------------------------------- */

/* A refused connection has no state: it gets the fixed 503, our FIN, and
 * its input is dropped until it closes or the poll period ends. */
static err_t http_refused_close(struct tcp_pcb *pcb)
{
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_poll(pcb, NULL, 0);
	if (tcp_close(pcb) != ERR_OK) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	return ERR_OK;
}

static err_t http_refused_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p,
			       err_t err)
{
	if (!p)
		return http_refused_close(pcb);
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static err_t http_refused_poll(void *arg, struct tcp_pcb *pcb)
{
	return http_refused_close(pcb);
}

static err_t http_refuse(struct tcp_pcb *pcb)
{
	http_counters.refused++;
	http_count_status(503);
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, http_refused_recv);
	tcp_err(pcb, NULL);
	tcp_poll(pcb, http_refused_poll, HTTP_REFUSED_POLLS);
	/* The response is in .rodata: no copy, no heap. */
	if (tcp_write(pcb, http_refused_response, (u16_t)http_refused_len, 0) !=
		ERR_OK ||
	    tcp_shutdown(pcb, 0, 1) != ERR_OK) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	http_counters.bytes_sent += http_refused_len;
	return ERR_OK;
}

/* ---- Accepting ----------------------------------------------------------- */

/* Open connections from this address. */
static uint32_t http_conns_from(const ip_addr_t *ip)
{
	uint32_t n = 0;

	for (struct http_conn *c = http_conns; c; c = c->next)
		if (ip_addr_cmp(&c->peer_ip, ip))
			n++;
	return n;
}

/* Idle: between requests, nothing received unparsed and nothing of ours
 * unacknowledged, so a reset loses no byte of anybody's. */
static bool http_conn_idle(const struct http_conn *c)
{
	return c->state == HTTP_CONN_OPEN && c->pcb && !c->rx &&
	       c->s.phase == HTTP_PHASE_IDLE && !c->s.want_continue &&
	       !http_session_busy(&c->s) && !c->pcb->unsent && !c->pcb->unacked;
}

/* Makes room for a new connection at the limit: resets the connection
 * idle longest, keep-alive ones (which have been served) first, then
 * ones that never sent a request; failing those, the one that has been
 * reading its request head longest, if for over HTTP_SLOW_HEAD_MS (a
 * real client sends its head in one go; a slow-loris client trickles
 * it). Connections younger than that are left alone. Returns whether one
 * went. */
static bool http_evict_idle(void)
{
	struct http_conn *best = NULL, *slow = NULL;
	uint64_t now = clock_ms();

	for (struct http_conn *c = http_conns; c; c = c->next) {
		if (c->state != HTTP_CONN_OPEN || !c->pcb)
			continue;
		if (c->s.phase == HTTP_PHASE_HEAD && c->request_ms &&
		    now - c->request_ms >= HTTP_SLOW_HEAD_MS &&
		    (!slow || c->request_ms < slow->request_ms))
			slow = c;
		if (!http_conn_idle(c) ||
		    (!c->served && now - c->idle_since_ms < HTTP_SLOW_HEAD_MS))
			continue;
		if (!best || (c->served && !best->served) ||
		    (!c->served == !best->served &&
		     c->idle_since_ms < best->idle_since_ms))
			best = c;
	}
	if (!best)
		best = slow;
	if (!best)
		return false;
	http_defence.evicted_idle++;
	http_conn_abort(best);
	return true;
}

static err_t http_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct http_conn *c = NULL;
	struct http_limits limits;
	char addr[IPADDR_STRLEN_MAX];

	if (!pcb)
		/* lwIP had no PCB for the SYN; it drops it and the client
		 * retries. */
		return ERR_MEM;
	if (err != ERR_OK) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	http_get_limits(&limits);
	if (limits.max_conns_per_ip &&
	    http_conns_from(&pcb->remote_ip) >= limits.max_conns_per_ip) {
		/* One address holding this many is an attack or a broken
		 * client: a RST frees the PCB at once (a 503 would hold it
		 * through the linger). */
		http_defence.refused_per_ip++;
		http_counters.refused++;
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	if (http_counters.active >= limits.max_conns)
		http_evict_idle();
	if (http_counters.active < limits.max_conns)
		c = kmalloc(sizeof(*c));
	if (!c) {
		if (tcp_budget_free_pcbs() >= HTTP_PRESSURE_FREE_PCBS)
			return http_refuse(pcb);
		http_defence.refused_reset++;
		http_counters.refused++;
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	/* The connection's own fields; http_session_init() clears the
	 * session (zeroing all of it twice cost ~1k instructions a connection).
	 */
	memset(c, 0, offsetof(struct http_conn, s));
	http_counters.accepted++;
	if (++http_counters.active > http_counters.active_peak)
		http_counters.active_peak = http_counters.active;
	c->pcb = pcb;
	ip_addr_copy(c->peer_ip, pcb->remote_ip);
	c->prev = http_conns_tail;
	if (http_conns_tail)
		http_conns_tail->next = c;
	else
		http_conns = c;
	http_conns_tail = c;
	c->state = HTTP_CONN_OPEN;
	c->last_io_ms = c->idle_since_ms = clock_ms();
	http_session_init(&c->s);
	/* Only the access log reads it: ~0.5k instructions a connection. */
	if (c->s.limits.log &&
	    ipaddr_ntoa_r(&pcb->remote_ip, addr, sizeof(addr)))
		ksnprintf(c->s.peer, sizeof(c->s.peer), "%s:%u", addr,
			  pcb->remote_port);
	/* Responses go out as soon as they are written: a client waiting for
	 * one must not wait for the ACK of the previous one too. */
	tcp_nagle_disable(pcb);
	http_set_callbacks(pcb, c);
	return ERR_OK;
}

int http_init(void)
{
	struct tcp_pcb *pcb, *lpcb;
	struct http_limits l;

	if (http_listen_pcb)
		return -EBUSY;
	pcb = tcp_new_ip_type(IPADDR_TYPE_ANY);
	if (!pcb)
		return -ENOMEM;
	if (tcp_bind(pcb, IP_ANY_TYPE, HTTP_PORT) != ERR_OK) {
		tcp_close(pcb);
		log_error("http: port %d is taken", HTTP_PORT);
		return -EBUSY;
	}
	/* On success the bound pcb is freed and replaced by a listener. */
	lpcb = tcp_listen(pcb);
	if (!lpcb) {
		tcp_close(pcb);
		return -ENOMEM;
	}
	tcp_arg(lpcb, NULL);
	tcp_accept(lpcb, http_accept);
	http_listen_pcb = lpcb;
	if (http_file_heads_init() != 0)
		log_warn("http: no memory for cached file heads; building "
			 "each per request");
	/* Socket filters (http.filter=) find the service by its port. */
	sockfilter_service_add("http", SOCKFILTER_TCP, HTTP_PORT);
	http_get_limits(&l);
	log_info("http: port %d, %zu files (%zu KiB); up to %u connections, "
		 "head %u B, target %u B, body %u B, idle %u ms, header %u ms, "
		 "access log %s",
		 HTTP_PORT, www_file_count, www_total_bytes / 1024, l.max_conns,
		 l.max_header_bytes, l.max_uri, l.max_body, l.idle_timeout_ms,
		 l.header_timeout_ms, l.log ? "on" : "off");
	return 0;
}

/* RFC 862 echo (TCP and UDP port 7) on lwIP's raw API.
 *
 * Try it: make run, then `nc 127.0.0.1 7007` (TCP) or `nc -u 127.0.0.1 7007`.
 *
 * TCP data path. Bytes are echoed in arrival order and never dropped:
 *
 *   recv(p) -> [older queued data first] -> tcp_write(COPY) while
 *   tcp_sndbuf() and the segment queue allow -> tcp_recved(bytes written)
 *   -> the rest is queued in the connection -> drained again from the
 *   sent and poll callbacks.
 *
 * The receive window is reopened only for bytes lwIP has taken into its
 * send buffer, so a client that stops reading fills our send buffer, then
 * our receive window, then its own send buffer, and stalls; nothing is
 * lost and at most one window (TCP_WND) per connection waits here.
 *
 * What waits is copied into heap chunks rather than kept as the received
 * pbufs: those are receive buffers (PBUF_POOL, or RX ring buffers in the
 * zero-copy mode), and a few stalled clients holding a window of them each
 * would starve the interface of buffers, so that not even their own window
 * updates could come in. The copy happens only under back-pressure. When
 * no chunk can be had (heap short, or the max_held_bytes budget spent) the
 * remaining pbuf is kept ("pinned") behind the chunks, and further
 * segments are handed back to lwIP (recv returns ERR_MEM, lwIP keeps them
 * as refused data and stops accepting more), so a connection pins at most
 * two received chains however long memory stays short.
 *
 * The peer's FIN is answered with tcp_close() once everything queued has
 * been written: lwIP sends our FIN after the data. A RST or an lwIP error
 * frees the state from the err callback (lwIP has freed the pcb already).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lwip-port/sockfilter.h"
#include "lwip/memp.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h" /* TCP_SLOW_INTERVAL, the poll period */
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#include "kernel/counters.h"
#include "kernel/heap.h"
#include "kernel/kbuf.h"
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "kernel/printf.h"
#include "lwip-port/tcp_budget.h"
#include "services/echo.h"
#include "services/tcp_raw.h"

/* The poll callback runs every TCP slow-timer tick (TCP_SLOW_INTERVAL,
 * 500 ms): it retries writes that failed with ERR_MEM and closes that
 * failed, and counts idle time. */
#define ECHO_POLL_INTERVAL    1
#define ECHO_POLLS_PER_SECOND (1000 / (TCP_SLOW_INTERVAL * ECHO_POLL_INTERVAL))

/* Segments a new connection needs to be worth accepting. */
#define ECHO_ACCEPT_SEGS 8

/* One heap size class (kernel/heap.c) holds a chunk exactly. */
#define ECHO_CHUNK_BYTES 2048
/* tcp_write of up to one chunk adds at most three pbufs to the send queue
 * (the tail of the last segment plus two new segments); with less room
 * than that left, wait for the sent callback instead of failing. */
#define ECHO_WRITE_MAX_PBUFS 3

/* Received bytes waiting for send-buffer space, oldest first. */
struct echo_chunk {
	struct echo_chunk *next;
	uint16_t start; /* first byte not yet handed to tcp_write */
	uint16_t end;	/* one past the last byte stored */
	uint8_t data[ECHO_CHUNK_BYTES - 16];
};
_Static_assert(sizeof(struct echo_chunk) == ECHO_CHUNK_BYTES, "chunk size");
#define ECHO_CHUNK_DATA ((uint16_t)sizeof(((struct echo_chunk *)0)->data))

enum echo_conn_state {
	ECHO_FREE,	  /* slot on the free list */
	ECHO_OPEN,	  /* echoing */
	ECHO_PEER_CLOSED, /* peer sent FIN: close once the queue is empty */
	ECHO_CLOSING,	  /* tcp_close() failed: retried from poll */
};

struct echo_conn {
	struct tcp_pcb *pcb;
	/* Queued data, in this order: the chunks, then the pinned pbufs. */
	struct echo_chunk *head, *tail;
	/* Received pbufs no chunk could be had for; they hold receive
	 * buffers, so they are copied into chunks as soon as possible. */
	struct pbuf *pinned;
	struct echo_conn *next_free;
	uint32_t idle_polls; /* polls since the last data in or acked */
	uint8_t state;	     /* enum echo_conn_state */
};

/* TCP keepalive on every echo connection: a peer that vanished while idle
 * (no FIN, no RST, nothing outstanding) is found within
 * ECHO_KEEPALIVE_IDLE_MS + ECHO_KEEPALIVE_CNT * ECHO_KEEPALIVE_INTVL_MS
 * (80 s), well before the idle timeout. */
#define ECHO_KEEPALIVE_IDLE_MS	60000
#define ECHO_KEEPALIVE_INTVL_MS 5000
#define ECHO_KEEPALIVE_CNT	4

static struct {
	struct echo_conn *pool;
	struct echo_conn *free_list;
	unsigned max_conns;
	size_t max_held_bytes;
	unsigned idle_timeout_s;
	uint32_t idle_polls_limit; /* 0: no idle timeout */
	struct tcp_pcb *listen_pcb;
	struct udp_pcb *udp_pcb;
	bool started;
	struct echo_stats stats;
} echo = {
    .max_conns = ECHO_DEFAULT_MAX_CONNS,
    .max_held_bytes = ECHO_DEFAULT_MAX_HELD_BYTES,
    .idle_timeout_s = ECHO_DEFAULT_IDLE_TIMEOUT_S,
};

static err_t echo_tcp_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p,
			   err_t err);
static err_t echo_tcp_sent(void *arg, struct tcp_pcb *pcb, u16_t len);
static err_t echo_tcp_poll(void *arg, struct tcp_pcb *pcb);
static void echo_tcp_err(void *arg, err_t err);

int echo_set_limits(unsigned max_conns, size_t max_held_bytes,
		    unsigned idle_timeout_s)
{
	if (echo.started)
		return -EBUSY;
	/* More slots than PCBs could never be used, and the idle counter
	 * must not overflow. */
	if (max_conns > MEMP_NUM_TCP_PCB ||
	    idle_timeout_s > UINT32_MAX / ECHO_POLLS_PER_SECOND)
		return -EINVAL;
	if (max_conns)
		echo.max_conns = max_conns;
	if (max_held_bytes)
		echo.max_held_bytes = max_held_bytes;
	echo.idle_timeout_s = idle_timeout_s;
	return 0;
}

/* ---- connection slots and queued data ------------------------------------ */

static struct echo_conn *echo_conn_alloc(struct tcp_pcb *pcb)
{
	struct echo_conn *es = echo.free_list;

	if (!es)
		return NULL;
	echo.free_list = es->next_free;
	memset(es, 0, sizeof(*es));
	es->pcb = pcb;
	es->state = ECHO_OPEN;
	if (++echo.stats.tcp_active > echo.stats.tcp_active_peak)
		echo.stats.tcp_active_peak = echo.stats.tcp_active;
	return es;
}

/* Releases the slot and everything queued. The pcb must be closed, aborted
 * or gone, with no callback left pointing here. */
static void echo_conn_free(struct echo_conn *es)
{
	while (es->head) {
		struct echo_chunk *c = es->head;

		es->head = c->next;
		kfree(c);
		echo.stats.tcp_held_bytes -= ECHO_CHUNK_BYTES;
	}
	if (es->pinned)
		pbuf_free(es->pinned);
	memset(es, 0, sizeof(*es));
	es->state = ECHO_FREE;
	es->next_free = echo.free_list;
	echo.free_list = es;
	echo.stats.tcp_active--;
}

static bool echo_conn_queue_empty(const struct echo_conn *es)
{
	return !es->head && !es->pinned;
}

/* Appends a new chunk to the queue, within the held-bytes budget. */
static struct echo_chunk *echo_chunk_add(struct echo_conn *es)
{
	struct echo_chunk *c;

	if (echo.stats.tcp_held_bytes + ECHO_CHUNK_BYTES > echo.max_held_bytes)
		return NULL;
	c = kmalloc(sizeof(*c));
	if (!c)
		return NULL;
	c->next = NULL;
	c->start = c->end = 0;
	if (es->tail)
		es->tail->next = c;
	else
		es->head = c;
	es->tail = c;
	echo.stats.tcp_held_bytes += ECHO_CHUNK_BYTES;
	if (echo.stats.tcp_held_bytes > echo.stats.tcp_held_peak)
		echo.stats.tcp_held_peak = echo.stats.tcp_held_bytes;
	return c;
}

/* Copies p (which we own) to the end of the chunk queue and frees what was
 * copied. Returns the part no chunk could be had for, or NULL. The caller
 * must make sure nothing else is queued after the chunks (es->pinned). */
static struct pbuf *echo_hold(struct echo_conn *es, struct pbuf *p)
{
	p = tcp_raw_pbuf_advance(p, 0);
	while (p) {
		struct echo_chunk *c = es->tail;
		u16_t n;

		if (!c || c->end == ECHO_CHUNK_DATA) {
			c = echo_chunk_add(es);
			if (!c)
				break;
		}
		n = LWIP_MIN(p->len, (u16_t)(ECHO_CHUNK_DATA - c->end));
		memcpy(c->data + c->end, p->payload, n);
		c->end += n;
		p = tcp_raw_pbuf_advance(p, n);
	}
	return p;
}

/* ---- TCP ---------------------------------------------------------------- */

/* Hands up to len bytes to lwIP's send buffer and reopens the receive
 * window by as much. Returns the bytes taken; 0 means wait (for the sent
 * callback when the buffer is full, for poll after ERR_MEM). */
static u16_t echo_write(struct echo_conn *es, const void *data, u16_t len)
{
	struct tcp_pcb *pcb = es->pcb;
	u16_t room = tcp_sndbuf(pcb);
	err_t err;

	if (room == 0 ||
	    tcp_sndqueuelen(pcb) + ECHO_WRITE_MAX_PBUFS > TCP_SND_QUEUELEN)
		return 0;
	len = LWIP_MIN(len, room);
	/* Echo's share of the segment pool (lwip-port/tcp_budget.h); poll
	 * retries. */
	if (tcp_budget_may_queue(ECHO_PORT, pcb, tcp_budget_segs_for(len)) <
	    tcp_budget_segs_for(len))
		return 0;
	err = tcp_write(pcb, data, len, TCP_WRITE_FLAG_COPY);
	if (err == ERR_MEM) {
		/* Segment pool or heap exhausted for now. */
		echo.stats.tcp_write_retries++;
		return 0;
	}
	if (err != ERR_OK) {
		echo.stats.errors++;
		return 0;
	}
	tcp_recved(pcb, len);
	echo.stats.tcp_bytes += len;
	return len;
}

/* Writes queued data, oldest first, while lwIP takes it. */
static void echo_drain(struct echo_conn *es)
{
	bool wrote = false;

	for (;;) {
		u16_t n;

		if (es->head) {
			struct echo_chunk *c = es->head;

			n = echo_write(es, c->data + c->start,
				       (u16_t)(c->end - c->start));
			if (n == 0)
				break;
			c->start += n;
			if (c->start == c->end) {
				es->head = c->next;
				if (!es->head)
					es->tail = NULL;
				kfree(c);
				echo.stats.tcp_held_bytes -= ECHO_CHUNK_BYTES;
			}
		} else if (es->pinned) {
			n = echo_write(es, es->pinned->payload,
				       es->pinned->len);
			if (n == 0)
				break;
			es->pinned = tcp_raw_pbuf_advance(es->pinned, n);
		} else {
			break;
		}
		wrote = true;
	}
	if (wrote)
		tcp_output(es->pcb);
}

static const struct tcp_raw_ops echo_tcp_ops = {
    .recv = echo_tcp_recv,
    .sent = echo_tcp_sent,
    .err = echo_tcp_err,
    .poll = echo_tcp_poll,
    .poll_interval = ECHO_POLL_INTERVAL,
};

static void echo_set_callbacks(struct tcp_pcb *pcb, struct echo_conn *es)
{
	tcp_raw_set_callbacks(pcb, es, &echo_tcp_ops);
}

/* Our FIN, after everything queued (the caller checked the queue is
 * empty, so every received byte has been passed to tcp_recved and
 * tcp_close will not turn into a RST). Returns true when the slot is
 * freed; on failure the connection stays and poll tries again. */
static bool echo_close(struct echo_conn *es)
{
	struct tcp_pcb *pcb = es->pcb;

	echo_set_callbacks(pcb, NULL);
	if (tcp_close(pcb) != ERR_OK) {
		echo_set_callbacks(pcb, es);
		es->state = ECHO_CLOSING;
		echo.stats.tcp_close_retries++;
		return false;
	}
	echo.stats.tcp_closed++;
	echo_conn_free(es);
	return true;
}

/* Closes once the peer has closed and everything is echoed. Returns true
 * when the slot is gone. */
static bool echo_close_if_done(struct echo_conn *es)
{
	if ((es->state == ECHO_PEER_CLOSED || es->state == ECHO_CLOSING) &&
	    echo_conn_queue_empty(es))
		return echo_close(es);
	return false;
}

static err_t echo_tcp_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p,
			   err_t err)
{
	struct echo_conn *es = arg;

	if (!es) {
		/* Cannot happen (callbacks are cleared before a slot is
		 * freed); behave like lwIP's tcp_recv_null. */
		if (p) {
			tcp_recved(pcb, p->tot_len);
			pbuf_free(p);
		}
		return ERR_OK;
	}
	if (!p) {
		/* The peer's FIN: lwIP delivers it only after every byte
		 * before it has been accepted by this callback. */
		if (es->state == ECHO_OPEN)
			es->state = ECHO_PEER_CLOSED;
		echo_drain(es);
		echo_close_if_done(es);
		return ERR_OK;
	}
	es->idle_polls = 0;
	/* Older data goes first. */
	echo_drain(es);
	if (es->pinned) {
		/* Memory may be back: move the pinned bytes into chunks. */
		es->pinned = echo_hold(es, es->pinned);
		if (es->pinned) {
			/* Still short. Give p back untouched; lwIP keeps it
			 * as refused data, redelivers it from its timer and
			 * takes no new data meanwhile. */
			echo.stats.tcp_deferred++;
			return ERR_MEM;
		}
	}
	if (echo_conn_queue_empty(es)) {
		/* Straight from the segment into the send buffer. */
		es->pinned = tcp_raw_pbuf_advance(p, 0);
		echo_drain(es);
		p = es->pinned;
		es->pinned = NULL;
	}
	if (p) {
		es->pinned = echo_hold(es, p);
		if (es->pinned)
			echo.stats.tcp_pinned++;
	}
	return ERR_OK;
}

static err_t echo_tcp_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct echo_conn *es = arg;

	if (!es)
		return ERR_OK;
	es->idle_polls = 0;
	echo_drain(es);
	echo_close_if_done(es);
	return ERR_OK;
}

static err_t echo_tcp_poll(void *arg, struct tcp_pcb *pcb)
{
	struct echo_conn *es = arg;

	if (!es)
		return ERR_OK;
	if (es->pinned)
		es->pinned = echo_hold(es, es->pinned);
	echo_drain(es);
	if (echo_close_if_done(es))
		return ERR_OK;
	/* Also after the peer's FIN: a peer that half-closes and never
	 * reads would otherwise keep its slot and queue for ever. */
	if (echo.idle_polls_limit &&
	    ++es->idle_polls >= echo.idle_polls_limit) {
		/* tcp_abort() would call our err callback; count this as an
		 * idle close instead. */
		echo_set_callbacks(pcb, NULL);
		tcp_abort(pcb);
		echo.stats.tcp_idle++;
		echo_conn_free(es);
		return ERR_ABRT;
	}
	return ERR_OK;
}

/* The pcb is gone already (RST from the peer, retransmission timeout, or
 * lwIP reclaiming it); only our state is left to free. */
static void echo_tcp_err(void *arg, err_t err)
{
	struct echo_conn *es = arg;

	if (!es)
		return;
	es->pcb = NULL;
	echo.stats.tcp_reset++;
	echo_conn_free(es);
}

/* New work is refused while the held-data budget is spent or echo's
 * share of lwIP's segment pool is nearly gone: a connection accepted then
 * could not even be echoed to. */
static bool echo_memory_short(void)
{
	if (echo.stats.tcp_held_bytes + ECHO_CHUNK_BYTES > echo.max_held_bytes)
		return true;
	return tcp_budget_may_queue(ECHO_PORT, NULL, ECHO_ACCEPT_SEGS) <
	       ECHO_ACCEPT_SEGS;
}

static err_t echo_tcp_accept(void *arg, struct tcp_pcb *newpcb, err_t err)
{
	struct echo_conn *es = NULL;
	bool mem_short;

	if (!newpcb) {
		/* lwIP had no PCB for the SYN (err is ERR_MEM); it drops the
		 * SYN and the client will retry. */
		echo.stats.tcp_refused++;
		echo.stats.tcp_refused_mem++;
		return ERR_MEM;
	}
	if (err != ERR_OK) {
		echo.stats.errors++;
		tcp_abort(newpcb);
		return ERR_ABRT;
	}
	mem_short = echo_memory_short();
	if (!mem_short)
		es = echo_conn_alloc(newpcb);
	if (!es) {
		/* A RST now is a clean refusal; the client sees ECONNRESET
		 * instead of a connection that never answers. */
		echo.stats.tcp_refused++;
		if (mem_short)
			echo.stats.tcp_refused_mem++;
		tcp_abort(newpcb);
		return ERR_ABRT;
	}
	echo.stats.tcp_accepted++;
	/* Echo is request/response: send each reply at once rather than
	 * waiting for the previous one to be acknowledged. */
	tcp_nagle_disable(newpcb);
	ip_set_option(newpcb, SOF_KEEPALIVE);
	newpcb->keep_idle = ECHO_KEEPALIVE_IDLE_MS;
	newpcb->keep_intvl = ECHO_KEEPALIVE_INTVL_MS;
	newpcb->keep_cnt = ECHO_KEEPALIVE_CNT;
	echo_set_callbacks(newpcb, es);
	return ERR_OK;
}

/* ---- UDP ---------------------------------------------------------------- */

static void echo_udp_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p,
			  const ip_addr_t *addr, u16_t port)
{
	u16_t len;

	/* The service's socket filter (echo.filter=) first. */
	p = sockfilter_udp_input(pcb, p);
	if (!p)
		return;
	len = p->tot_len;
	/* Port 0 cannot be answered; larger datagrams would need IP
	 * fragmentation both ways. */
	if (len > ECHO_UDP_MAX_PAYLOAD || port == 0) {
		echo.stats.udp_oversize++;
		pbuf_free(p);
		return;
	}
	/* Same pbuf back: udp_sendto prepends the headers in the room the
	 * received ones left (or chains a header pbuf). */
	if (udp_sendto(pcb, p, addr, port) == ERR_OK) {
		echo.stats.udp_datagrams++;
		echo.stats.udp_bytes += len;
	} else {
		echo.stats.udp_errors++;
	}
	pbuf_free(p);
}

/* ---- start-up and statistics -------------------------------------------- */

int echo_init(void)
{
	struct tcp_pcb *pcb, *lpcb;
	struct udp_pcb *upcb;
	int ret = -ENOMEM;

	if (echo.started)
		return -EBUSY;
	echo.pool = kcalloc(echo.max_conns, sizeof(*echo.pool));
	if (!echo.pool)
		return -ENOMEM;
	for (unsigned i = echo.max_conns; i-- > 0;) {
		echo.pool[i].next_free = echo.free_list;
		echo.free_list = &echo.pool[i];
	}
	echo.idle_polls_limit = echo.idle_timeout_s * ECHO_POLLS_PER_SECOND;

	pcb = tcp_new();
	if (!pcb)
		goto free_pool;
	if (tcp_bind(pcb, IP_ANY_TYPE, ECHO_PORT) != ERR_OK) {
		ret = -EBUSY;
		goto close_pcb;
	}
	/* On success the bound pcb is freed and replaced by a listener. */
	lpcb = tcp_listen(pcb);
	if (!lpcb)
		goto close_pcb;
	tcp_arg(lpcb, NULL);
	tcp_accept(lpcb, echo_tcp_accept);

	upcb = udp_new();
	if (!upcb)
		goto close_listener;
	if (udp_bind(upcb, IP_ANY_TYPE, ECHO_PORT) != ERR_OK) {
		ret = -EBUSY;
		goto remove_udp;
	}
	udp_recv(upcb, echo_udp_recv, NULL);
	/* Socket filters find the service by its sockets' ports. */
	sockfilter_service_add("echo", SOCKFILTER_TCP, ECHO_PORT);
	sockfilter_service_add("echo", SOCKFILTER_UDP, ECHO_PORT);

	echo.listen_pcb = lpcb;
	echo.udp_pcb = upcb;
	echo.started = true;
	log_info("echo: TCP and UDP port %d, up to %u connections, %lu KiB "
		 "for held data, idle timeout %us",
		 ECHO_PORT, echo.max_conns,
		 (unsigned long)(echo.max_held_bytes / 1024),
		 echo.idle_timeout_s);
	return 0;

remove_udp:
	udp_remove(upcb);
close_listener:
	tcp_close(lpcb);
	goto free_pool;
close_pcb:
	tcp_close(pcb);
free_pool:
	kfree(echo.pool);
	echo.pool = NULL;
	echo.free_list = NULL;
	log_error("echo: cannot start on port %d (%d)", ECHO_PORT, ret);
	return ret;
}

void echo_get_stats(struct echo_stats *out)
{
	*out = echo.stats;
}

/* The counters, declared once (kernel/counters.h). */
const struct counter_desc echo_stats_desc[] = {
    COUNTER(U64, struct echo_stats, tcp_accepted, "tcp.accepted"),
    GAUGE(U32, struct echo_stats, tcp_active, "tcp.active"),
    GAUGE(U32, struct echo_stats, tcp_active_peak, "tcp.active_peak"),
    COUNTER(U64, struct echo_stats, tcp_refused, "tcp.refused"),
    COUNTER(U64, struct echo_stats, tcp_refused_mem, "tcp.refused_mem"),
    COUNTER(U64, struct echo_stats, tcp_closed, "tcp.closed"),
    COUNTER(U64, struct echo_stats, tcp_reset, "tcp.reset"),
    COUNTER(U64, struct echo_stats, tcp_idle, "tcp.idle_timeouts"),
    COUNTER(U64, struct echo_stats, tcp_bytes, "tcp.bytes"),
    GAUGE(U64, struct echo_stats, tcp_held_bytes, "tcp.held_bytes"),
    GAUGE(U64, struct echo_stats, tcp_held_peak, "tcp.held_peak"),
    COUNTER(U64, struct echo_stats, tcp_pinned, "tcp.pinned"),
    COUNTER(U64, struct echo_stats, tcp_deferred, "tcp.deferred"),
    COUNTER(U64, struct echo_stats, tcp_write_retries, "tcp.write_retries"),
    COUNTER(U64, struct echo_stats, tcp_close_retries, "tcp.close_retries"),
    COUNTER(U64, struct echo_stats, udp_datagrams, "udp.datagrams"),
    COUNTER(U64, struct echo_stats, udp_bytes, "udp.bytes"),
    COUNTER(U64, struct echo_stats, udp_oversize, "udp.oversize"),
    COUNTER(U64, struct echo_stats, udp_errors, "udp.errors"),
    COUNTER(U64, struct echo_stats, errors, "errors"),
};
const unsigned echo_stats_ndesc = COUNTERS_LEN(echo_stats_desc);

/* The limits in force, written after the counters. */
struct echo_limits_view {
	uint64_t max_conns, max_held_bytes, idle_timeout_s;
};

static const struct counter_desc echo_limits_desc[] = {
    GAUGE(U64, struct echo_limits_view, max_conns, "limits.max_conns"),
    GAUGE(U64, struct echo_limits_view, max_held_bytes,
	  "limits.max_held_bytes"),
    GAUGE(U64, struct echo_limits_view, idle_timeout_s,
	  "limits.idle_timeout_s"),
};

int echo_stats_json(char *buf, size_t cap)
{
	struct echo_limits_view l = {echo.max_conns, echo.max_held_bytes,
				     echo.idle_timeout_s};
	struct kbuf b = {buf, cap, 0};

	if (cap)
		buf[0] = '\0';
	kbuf_printf(&b, "{");
	counters_json_members(&b, echo_stats_desc, echo_stats_ndesc,
			      &echo.stats, 1);
	counters_json_members(&b, echo_limits_desc,
			      COUNTERS_LEN(echo_limits_desc), &l, 0);
	kbuf_printf(&b, "}");
	return kbuf_finish(&b);
}

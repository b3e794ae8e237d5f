/* The admin endpoint's TCP side on lwIP's raw API: one request per
 * connection, the head read into a buffer of ADMIN_MAX_HEAD bytes, checked
 * (token, then size) before a byte of the body is kept, the body into a
 * buffer of exactly its length, then the answer and a close. See admin.h.
 *
 *   make run CMDLINE='admin.token=s3cret'   then  tools/skiffctl ... */
#include <string.h>

#include "kernel/heap.h"
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "kernel/printf.h"
#include "lwip/tcp.h"
#include "services/admin.h"
#include "services/tcp_raw.h"

#define ADMIN_MAX_CONNS	    2
#define ADMIN_ANSWER_MAX    (128u * 1024)
#define ADMIN_IDLE_POLLS    10 /* polls of 1 s (2 slow-timer ticks): 10 s */
#define ADMIN_POLL_INTERVAL 2

struct admin_conn {
	struct tcp_pcb *pcb;
	char *buf; /* head, then head + body */
	size_t len, cap;
	struct admin_req req;
	bool have_head;
	char *answer;
	size_t answer_len, answer_sent;
	unsigned idle;
};

static struct admin_conn conns[ADMIN_MAX_CONNS];
static const struct tcp_raw_ops admin_ops;
/* Set when a callback's work aborted the pcb: lwIP must hear ERR_ABRT. */
static bool aborted;

static void conn_free(struct admin_conn *c);

static void conn_abort(struct admin_conn *c)
{
	struct tcp_pcb *pcb = c->pcb;

	tcp_raw_set_callbacks(pcb, NULL, &admin_ops);
	memset(c, 0, sizeof(*c)); /* buffers freed by the caller first */
	tcp_abort(pcb);
	aborted = true;
}

static void conn_free(struct admin_conn *c)
{
	kfree(c->buf);
	kfree(c->answer);
	memset(c, 0, sizeof(*c));
}

static void conn_close(struct admin_conn *c)
{
	struct tcp_pcb *pcb = c->pcb;

	tcp_raw_set_callbacks(pcb, NULL, &admin_ops);
	conn_free(c);
	if (tcp_close(pcb) != ERR_OK)
		tcp_abort(pcb);
}

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 404:
		return "Not Found";
	case 413:
		return "Content Too Large";
	default:
		return "Internal Server Error";
	}
}

/* Writes what fits of the answer; closes once all of it is queued. */
static void conn_push(struct admin_conn *c)
{
	while (c->answer_sent < c->answer_len) {
		size_t room = tcp_sndbuf(c->pcb);
		size_t n = c->answer_len - c->answer_sent;

		if (n > room)
			n = room;
		if (n > 0xffff)
			n = 0xffff;
		if (!n || tcp_write(c->pcb, c->answer + c->answer_sent,
				    (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
			break;
		c->answer_sent += n;
	}
	tcp_output(c->pcb);
	if (c->answer_sent == c->answer_len)
		conn_close(c);
}

/* Formats status + JSON body as the answer and starts sending it. */
static void conn_answer(struct admin_conn *c, int status, const char *json,
			size_t json_len)
{
	char head[160];
	int hl =
	    ksnprintf(head, sizeof(head),
		      "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
		      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		      status, reason(status), json_len + 1);

	c->answer = kmalloc((size_t)hl + json_len + 1);
	if (!c->answer) {
		kfree(c->buf);
		conn_abort(c);
		return;
	}
	memcpy(c->answer, head, (size_t)hl);
	memcpy(c->answer + hl, json, json_len);
	c->answer[hl + json_len] = '\n';
	c->answer_len = (size_t)hl + json_len + 1;
	conn_push(c);
}

static void conn_run(struct admin_conn *c, int status_or_0)
{
	char *json = kmalloc(ADMIN_ANSWER_MAX);
	struct kbuf o = {json, ADMIN_ANSWER_MAX, 0};
	int st = status_or_0;

	if (!json) {
		kfree(c->buf);
		kfree(c->answer);
		conn_abort(c);
		return;
	}
	if (!st)
		st = admin_handle(&c->req, (uint8_t *)c->buf + c->req.head_len,
				  (size_t)c->req.content_length, &o);
	else if (st == 400)
		kbuf_printf(&o, "{\"error\":\"malformed request\"}");
	else if (st == 413)
		kbuf_printf(&o, "{\"error\":\"request head too large\"}");
	if (o.len >= o.cap) {
		o.len = 0;
		st = 500;
		kbuf_printf(&o, "{\"error\":\"answer too large\"}");
	}
	log_info("admin: %s %s -> %d", c->have_head ? c->req.method : "?",
		 c->have_head ? c->req.path : "?", st);
	conn_answer(c, st, json, o.len);
	kfree(json);
}

/* Handles what has arrived; true while more is needed. */
static bool conn_progress(struct admin_conn *c)
{
	if (!c->have_head) {
		int rc = admin_parse_head(c->buf, c->len, &c->req);

		if (rc == ADMIN_NEED_MORE)
			return true;
		if (rc < 0) {
			conn_run(c, rc == ADMIN_TOO_LARGE ? 413 : 400);
			return false;
		}
		c->have_head = true;
		/* Token and size first: nothing of a refused body is kept. */
		char tmp[128];
		struct kbuf o = {tmp, sizeof(tmp), 0};
		int st = admin_check_head(&c->req, &o);
		if (st) {
			conn_answer(c, st, tmp, o.len < o.cap ? o.len : 0);
			return false;
		}
		size_t need = c->req.head_len + (size_t)c->req.content_length;
		if (need > c->cap) {
			char *nb = krealloc(c->buf, need);
			if (!nb) {
				kbuf_printf(&o, "{\"error\":\"no memory\"}");
				conn_answer(c, 500, tmp, o.len);
				return false;
			}
			c->buf = nb;
			c->cap = need;
		}
	}
	if (c->len < c->req.head_len + c->req.content_length)
		return true;
	conn_run(c, 0);
	return false;
}

static err_t admin_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p,
			err_t err)
{
	struct admin_conn *c = arg;
	size_t off = 0;

	aborted = false;
	if (!p) { /* the client closed before its request was complete */
		if (!c->answer)
			conn_close(c);
		return ERR_OK;
	}
	tcp_raw_recved(pcb, p->tot_len);
	c->idle = 0;
	/* The head's buffer first; once the head is taken, exactly the body
	 * (the same segment may hold both). Anything more is ignored. */
	while (off < p->tot_len && c->pcb == pcb && !c->answer) {
		size_t want = c->have_head ? c->req.head_len +
						 (size_t)c->req.content_length
					   : c->cap;
		size_t n = p->tot_len - off;

		if (n > want - c->len)
			n = want - c->len;
		if (!n)
			break;
		pbuf_copy_partial(p, c->buf + c->len, (u16_t)n, (u16_t)off);
		c->len += n;
		off += n;
		if (!conn_progress(c))
			break;
	}
	pbuf_free(p);
	return aborted ? ERR_ABRT : ERR_OK;
}

static err_t admin_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct admin_conn *c = arg;

	aborted = false;
	c->idle = 0;
	if (c->answer)
		conn_push(c);
	return aborted ? ERR_ABRT : ERR_OK;
}

static void admin_err(void *arg, err_t err)
{
	conn_free(arg); /* lwIP has freed the pcb */
}

static err_t admin_poll(void *arg, struct tcp_pcb *pcb)
{
	struct admin_conn *c = arg;

	if (++c->idle >= ADMIN_IDLE_POLLS) {
		tcp_raw_set_callbacks(pcb, NULL, &admin_ops);
		conn_free(c);
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	return ERR_OK;
}

static const struct tcp_raw_ops admin_ops = {
    .recv = admin_recv,
    .sent = admin_sent,
    .err = admin_err,
    .poll = admin_poll,
    .poll_interval = ADMIN_POLL_INTERVAL,
};

static err_t admin_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct admin_conn *c = NULL;

	if (!pcb || err != ERR_OK)
		return ERR_VAL;
	for (int i = 0; i < ADMIN_MAX_CONNS && !c; i++)
		if (!conns[i].pcb)
			c = &conns[i];
	if (c)
		c->buf = kmalloc(ADMIN_MAX_HEAD);
	if (!c || !c->buf) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	c->pcb = pcb;
	c->cap = ADMIN_MAX_HEAD;
	tcp_raw_set_callbacks(pcb, c, &admin_ops);
	return ERR_OK;
}

int admin_start(uint16_t port)
{
	struct tcp_pcb *pcb = tcp_new(), *l;

	if (!pcb)
		return -ENOMEM;
	if (tcp_bind(pcb, IP_ANY_TYPE, port) != ERR_OK) {
		tcp_close(pcb);
		return -EBUSY;
	}
	l = tcp_listen(pcb);
	if (!l) {
		tcp_close(pcb);
		return -ENOMEM;
	}
	tcp_accept(l, admin_accept);
	log_info("admin: endpoint on tcp %u (token required)", port);
	return 0;
}

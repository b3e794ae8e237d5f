/* lwIP raw-TCP helpers shared by the services: see tcp_raw.h. Exercised by
 * every echo and HTTP connection (tests/qemu/test_echo.py, test_http.py). */
#include "services/tcp_raw.h"

void tcp_raw_set_callbacks(struct tcp_pcb *pcb, void *arg,
			   const struct tcp_raw_ops *ops)
{
	tcp_arg(pcb, arg);
	tcp_recv(pcb, arg ? ops->recv : NULL);
	tcp_sent(pcb, arg ? ops->sent : NULL);
	tcp_err(pcb, arg ? ops->err : NULL);
	tcp_poll(pcb, arg ? ops->poll : NULL, ops->poll_interval);
}

void tcp_raw_recved(struct tcp_pcb *pcb, size_t n)
{
	while (n) {
		u16_t k = n > 0xffff ? 0xffff : (u16_t)n;

		tcp_recved(pcb, k);
		n -= k;
	}
}

struct pbuf *tcp_raw_pbuf_advance(struct pbuf *p, u16_t n)
{
	p = pbuf_free_header(p, n);
	while (p && p->len == 0) {
		struct pbuf *next = p->next;

		/* Detach first so that pbuf_free() frees this one pbuf; the
		 * reference it held on next is now ours. */
		p->next = NULL;
		pbuf_free(p);
		p = next;
	}
	return p;
}

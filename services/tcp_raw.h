/* Helpers for services written against lwIP's raw TCP API, written once
 * for echo and HTTP: callbacks set (or cleared) together, receive-window
 * accounting for any length, and consuming the front of a received chain. */
#ifndef SKIFF_SERVICES_TCP_RAW_H
#define SKIFF_SERVICES_TCP_RAW_H

#include <stddef.h>

#include "lwip/pbuf.h"
#include "lwip/tcp.h"

/* A service's callbacks and its poll interval (in TCP slow-timer ticks). */
struct tcp_raw_ops {
	tcp_recv_fn recv;
	tcp_sent_fn sent;
	tcp_err_fn err;
	tcp_poll_fn poll;
	u8_t poll_interval;
};

/* Attaches arg and ops to pcb; with arg NULL, detaches every callback (the
 * pcb is being handed back to lwIP to close or abort). */
void tcp_raw_set_callbacks(struct tcp_pcb *pcb, void *arg,
			   const struct tcp_raw_ops *ops);

/* Tells lwIP that n received bytes are dealt with (reopens the window),
 * in steps tcp_recved() takes. */
void tcp_raw_recved(struct tcp_pcb *pcb, size_t n);

/* Drops n bytes from the front of a pbuf chain we own, and any empty pbufs
 * then at its front; returns the new front (NULL when nothing is left). */
struct pbuf *tcp_raw_pbuf_advance(struct pbuf *p, u16_t n);

#endif

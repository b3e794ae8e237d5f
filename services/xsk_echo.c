/* The AF_XDP UDP echo: see xsk_echo.h.
 *
 *   make run CMDLINE='xsk.port=7009'   then  nc -u 127.0.0.1 <fwd> */
#include "services/xsk_echo.h"

#include <string.h>

#include "ebpf/ebpf.h"
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "xdp/xdp_hook.h"
#include "xdp/xsk.h"

#define BATCH 64

/* One socket per device queue, served on that queue's CPU (xdp/xsk.h):
 * each keeps its own counters, so no two CPUs write one. */
struct xsk_echo_queue {
	struct xsk_socket *sock;
	struct xsk_echo_stats stats;
};

static struct xsk_echo_queue queues[XSK_MAX_QUEUES];
static unsigned nqueues;
static uint16_t echo_port;

/* Frames the service holds between rings (none between passes). */
static void fill_put(struct xsk_socket *sock, uint64_t addr)
{
	uint32_t idx = 0;

	/* The fill ring holds every frame of the UMEM: never full. */
	if (xsk_ring_prod_reserve(&sock->fill, 1, &idx)) {
		*xsk_ring_addr(&sock->fill, idx) = addr;
		xsk_ring_prod_submit(&sock->fill, 1);
	}
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void swap_bytes(uint8_t *a, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t t = a[i];
		a[i] = b[i];
		b[i] = t;
	}
}

/* Turns a UDP/IPv4 datagram to our port into its answer, in place.
 * Returns false for anything else (the program filters; this checks). */
static bool make_reply(uint8_t *f, uint32_t len)
{
	uint8_t *ip = f + 14, *udp;
	uint32_t ihl, tot;

	if (len < 14 + 20 + 8 || rd16(f + 12) != 0x0800)
		return false;
	ihl = (uint32_t)(ip[0] & 15) * 4;
	tot = rd16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != 17 ||
	    (rd16(ip + 6) & 0x3fff) || tot < ihl + 8 || 14 + tot > len)
		return false;
	udp = ip + ihl;
	if (rd16(udp + 2) != echo_port)
		return false;
	swap_bytes(f, f + 6, 6);	 /* Ethernet addresses */
	swap_bytes(ip + 12, ip + 16, 4); /* IP addresses: same checksum */
	swap_bytes(udp, udp + 2, 2);	 /* ports: same UDP checksum */
	return true;
}

static void take_completions(struct xsk_echo_queue *q)
{
	struct xsk_socket *sock = q->sock;
	uint32_t idx = 0, n = xsk_ring_cons_peek(&sock->comp, BATCH, &idx);

	for (uint32_t i = 0; i < n; i++)
		fill_put(sock, *xsk_ring_addr(&sock->comp, idx + i));
	if (n) {
		xsk_ring_cons_release(&sock->comp, n);
		q->stats.recycled += n;
	}
}

void xsk_echo_run(void *ctx)
{
	struct xsk_echo_queue *q = ctx;
	struct xsk_socket *sock = q ? q->sock : NULL;
	uint32_t ridx = 0, tidx = 0, n, sent = 0;

	if (!sock)
		return;
	take_completions(q);
	n = xsk_ring_cons_peek(&sock->rx, BATCH, &ridx);
	if (n)
		q->stats.runs++;
	for (uint32_t i = 0; i < n; i++) {
		const struct xsk_desc *d = xsk_ring_desc(&sock->rx, ridx + i);
		uint64_t addr = d->addr;
		uint32_t len = d->len;
		uint8_t *f = xsk_umem_get_data(sock, addr, len);

		if (!f || !make_reply(f, len)) {
			q->stats.not_for_us++;
			fill_put(sock, addr);
			continue;
		}
		if (!xsk_ring_prod_reserve(&sock->tx, 1, &tidx)) {
			q->stats.tx_full++;
			fill_put(sock, addr);
			continue;
		}
		*xsk_ring_desc(&sock->tx, tidx) =
		    (struct xsk_desc){.addr = addr, .len = len};
		sent++;
	}
	if (n)
		xsk_ring_cons_release(&sock->rx, n);
	if (sent) {
		xsk_ring_prod_submit(&sock->tx, sent);
		q->stats.answered += sent;
		if (xsk_ring_prod_needs_wakeup(&sock->tx))
			xsk_sendto(sock);
	}
	if (xsk_ring_prod_needs_wakeup(&sock->fill))
		xsk_recv_wakeup(sock);
}

/* Undoes a start that failed part-way: program off, every socket closed. */
static void stop_all(void)
{
	xdp_hook_detach();
	for (unsigned i = 0; i < nqueues; i++) {
		xsk_socket_delete(queues[i].sock);
		queues[i].sock = NULL;
	}
	nqueues = 0;
}

int xsk_echo_start(uint16_t port, uint32_t frames, int jit, unsigned nq)
{
	struct ebpf_map *xsks, *ports;
	uint32_t zero = 0, p = port;
	int err = 0;

	if (xdp_hook_prog) {
		log_error("xsk: an XDP program is attached already; the XSK "
			  "echo needs xsk_udp (drop xdp.prog=)");
		return -EBUSY;
	}
	if (nq < 1 || nq > XSK_MAX_QUEUES)
		return -EINVAL;
	echo_port = port;
	for (nqueues = 0; nqueues < nq; nqueues++) {
		struct xsk_echo_queue *q = &queues[nqueues];
		struct xsk_config cfg = {
		    .frames = frames,
		    .rx_size = frames / 2,
		    .tx_size = frames / 2,
		    .queue_id = nqueues,
		    .on_rx = xsk_echo_run,
		    .ctx = q,
		};

		*q = (struct xsk_echo_queue){0};
		err = xsk_socket_create(&cfg, &q->sock);
		if (err) {
			log_error("xsk: socket with %u frames on queue %u "
				  "refused (%d)",
				  frames, nqueues, err);
			stop_all();
			return err;
		}
		for (uint32_t i = 0; i < frames; i++)
			fill_put(q->sock, xsk_umem_frame_addr(q->sock, i));
	}
	err = xdp_hook_attach("xsk_udp", jit);
	xsks = xdp_hook_prog ? ebpf_prog_map(xdp_hook_prog, "xsks_map") : NULL;
	ports = xdp_hook_prog ? ebpf_prog_map(xdp_hook_prog, "xsk_port") : NULL;
	if (!err &&
	    (!xsks || !ports || ebpf_map_update(ports, &zero, &p, EBPF_ANY)))
		err = -EINVAL;
	/* xsks_map[q] names queue q's socket: xsk_udp redirects a frame to
	 * the entry of the queue it arrived on. */
	for (uint32_t i = 0; !err && i < nqueues; i++)
		if (ebpf_map_update(xsks, &i, &queues[i].sock->id, EBPF_ANY))
			err = -EINVAL;
	if (err) {
		log_error("xsk: cannot attach xsk_udp (%d); XSK echo off", err);
		stop_all();
		return err;
	}
	for (unsigned i = 0; i < nqueues; i++)
		log_info("xsk: UDP echo on port %u: AF_XDP socket %u, %u UMEM "
			 "frames, queue %u",
			 port, queues[i].sock->id, frames, i);
	return 0;
}

#define ES(f) COUNTER(U64, struct xsk_echo_stats, f, #f)
const struct counter_desc xsk_echo_stats_desc[] = {
    ES(answered), ES(not_for_us), ES(tx_full), ES(recycled), ES(runs),
};
const unsigned xsk_echo_stats_ndesc = COUNTERS_LEN(xsk_echo_stats_desc);

/* Each queue's counters are written by its CPU alone; summed here, by
 * the table, so a counter added to it is summed too (all are U64). */
int xsk_echo_stats_json(char *buf, size_t cap)
{
	struct xsk_echo_stats sum = {0};

	if (!nqueues)
		return -1;
	for (unsigned i = 0; i < nqueues; i++)
		for (unsigned k = 0; k < xsk_echo_stats_ndesc; k++) {
			uint16_t off = xsk_echo_stats_desc[k].offset;

			*(uint64_t *)((uint8_t *)&sum + off) +=
			    *(const uint64_t
				  *)((const uint8_t *)&queues[i].stats + off);
		}
	return counters_json(buf, cap, xsk_echo_stats_desc,
			     xsk_echo_stats_ndesc, &sum);
}

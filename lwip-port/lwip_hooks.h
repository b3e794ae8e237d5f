/* Functions lwIP calls through its LWIP_HOOK_* macros (lwipopts.h names
 * this file as LWIP_HOOK_FILENAME). */
#ifndef SKIFF_LWIP_PORT_LWIP_HOOKS_H
#define SKIFF_LWIP_PORT_LWIP_HOOKS_H

#include "lwip-port/sockfilter.h"
#include "lwip-port/tcp_guard.h"
#include "lwip/ip_addr.h"

/* LWIP_HOOK_TCP_ISN: RFC 6528 initial sequence numbers (rfc6528.h). */
u32_t skiff_tcp_isn(const ip_addr_t *local_ip, u16_t local_port,
		    const ip_addr_t *remote_ip, u16_t remote_port);

/* LWIP_HOOK_TCP_INPACKET_PCB: the service's socket filter first (as
 * Linux's sk_filter runs before the socket's own processing), then the
 * SYN-flood guard. */
static inline err_t skiff_tcp_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr,
				       u16_t optlen, u16_t opt1len, u8_t *opt2,
				       struct pbuf *p)
{
	err_t e = sockfilter_tcp_inpacket(pcb, hdr, optlen, opt1len, opt2, p);

	if (e != ERR_OK)
		return e;
	return tcp_guard_inpacket(pcb, hdr, optlen, opt1len, opt2, p);
}

#endif

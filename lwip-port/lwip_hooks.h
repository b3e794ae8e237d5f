/* Functions lwIP calls through its LWIP_HOOK_* macros (lwipopts.h names
 * this file as LWIP_HOOK_FILENAME). */
#ifndef SKIFF_LWIP_PORT_LWIP_HOOKS_H
#define SKIFF_LWIP_PORT_LWIP_HOOKS_H

#include "lwip-port/tcp_guard.h"
#include "lwip/ip_addr.h"

/* LWIP_HOOK_TCP_ISN: RFC 6528 initial sequence numbers (rfc6528.h). */
u32_t skiff_tcp_isn(const ip_addr_t *local_ip, u16_t local_port,
		    const ip_addr_t *remote_ip, u16_t remote_port);

#endif

/* The little lwIP needs from the system with NO_SYS=1: a millisecond clock
 * for its timers and random numbers. Critical sections are inline in
 * arch/cc.h. */
#include "lwip/opt.h"
#include "lwip/sys.h"

#include "kernel/clock.h"
#include "kernel/cpu.h"
#include "kernel/entropy.h"
#include "lwip-port/lwip_hooks.h"
#include "lwip-port/rfc6528.h"

/* Milliseconds since boot; lwIP compares these with wrap-around arithmetic,
 * so truncation to 32 bits (a wrap every ~49.7 days) is fine. */
u32_t sys_now(void)
{
	return (u32_t)clock_ms();
}

/* TCP ephemeral ports, DHCP transaction ids and DNS ids: from the kernel's
 * keyed generator, so one output says nothing about the next. */
uint32_t skiff_random(void)
{
	return (uint32_t)entropy_u64();
}

/* RFC 6528 ISNs under a key drawn once, at the first connection (after
 * entropy_init() ran at boot). */
u32_t skiff_tcp_isn(const ip_addr_t *local_ip, u16_t local_port,
		    const ip_addr_t *remote_ip, u16_t remote_port)
{
	static struct siphash_key key;
	static bool keyed;

	if (!keyed) {
		entropy_key(&key);
		keyed = true;
	}
	return rfc6528_isn(&key, ip4_addr_get_u32(ip_2_ip4(local_ip)),
			   lwip_htons(local_port),
			   ip4_addr_get_u32(ip_2_ip4(remote_ip)),
			   lwip_htons(remote_port), clock_ns());
}

/* TCP initial sequence numbers as RFC 6528 asks: ISN = M + F(4-tuple,
 * secret), where M is a clock ticking every 4 microseconds and F a keyed
 * PRF (here SipHash-2-4) of the connection's addresses and ports. A new
 * connection of the same 4-tuple gets a larger ISN than its predecessor
 * (the clock moved on), while an off-path attacker, who does not know the
 * key, cannot predict the ISN of any connection, nor learn it from his own
 * connections (lwIP's default counted 6510, 6511, 6512, ... for all). */
#ifndef SKIFF_LWIP_PORT_RFC6528_H
#define SKIFF_LWIP_PORT_RFC6528_H

#include <stdint.h>

#include "kernel/siphash.h"

/* Addresses and ports in network byte order, as lwIP keeps them. */
uint32_t rfc6528_isn(const struct siphash_key *key, uint32_t local_ip,
		     uint16_t local_port, uint32_t remote_ip,
		     uint16_t remote_port, uint64_t now_ns);

#endif

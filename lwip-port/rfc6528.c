/* See rfc6528.h. */
#include "lwip-port/rfc6528.h"

uint32_t rfc6528_isn(const struct siphash_key *key, uint32_t local_ip,
		     uint16_t local_port, uint32_t remote_ip,
		     uint16_t remote_port, uint64_t now_ns)
{
	uint8_t tuple[12];
	uint32_t m = (uint32_t)(now_ns / 4000); /* RFC 793's 4 us clock */
	uint32_t f;

	/* Serialised byte by byte: the hash must not depend on padding. */
	for (int i = 0; i < 4; i++) {
		tuple[i] = (uint8_t)(local_ip >> (8 * i));
		tuple[4 + i] = (uint8_t)(remote_ip >> (8 * i));
	}
	tuple[8] = (uint8_t)local_port;
	tuple[9] = (uint8_t)(local_port >> 8);
	tuple[10] = (uint8_t)remote_port;
	tuple[11] = (uint8_t)(remote_port >> 8);
	f = (uint32_t)siphash24(key, tuple, sizeof(tuple));
	return m + f;
}

/* The Internet checksum, eight bytes a step. lwIP's portable versions
 * (LWIP_CHKSUM_ALGORITHM 1-3) add two or four bytes per step, which made
 * checksums about a tenth of a UDP echo's instructions (tests/bench,
 * instructions per operation). Summing 32-bit little-endian words into a
 * 64-bit accumulator needs no carry handling inside the loop (2^32 words
 * cannot overflow it); folding at the end gives the 16-bit sum, since
 * 2^16 = 1 modulo 0xffff. Unaligned loads are fine on x86-64, and the sum
 * is over the buffer's own offsets, so any start address works. */
#include <stdint.h>
#include <string.h>

#include "kernel/inet_csum.h"

static inline uint32_t load32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

uint16_t inet_csum_partial(const void *data, int len)
{
	const unsigned char *p = data;
	uint64_t sum = 0;

	for (; len >= 8; p += 8, len -= 8)
		sum += (uint64_t)load32(p) + load32(p + 4);
	if (len >= 4) {
		sum += load32(p);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t v;
		memcpy(&v, p, sizeof(v));
		sum += v;
		p += 2;
		len -= 2;
	}
	if (len == 1)
		sum += *p; /* the first byte of a zero-padded word */
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

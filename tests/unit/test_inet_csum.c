/* The Internet checksum (kernel/inet_csum.c) against a byte-at-a-time
 * reference of RFC 1071, at every start offset and length, and on the
 * worked example of RFC 1071 section 3. */
#include <stdint.h>
#include <stdlib.h>

#include "kernel/inet_csum.h"
#include "tests/unit/check.h"

/* RFC 1071, one 16-bit word at a time, the word as it lies in memory on
 * a little-endian machine (lwIP's lwip_standard_chksum() contract). */
static uint16_t ref_csum(const uint8_t *p, int len)
{
	uint32_t sum = 0;
	int i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] | (uint32_t)p[i + 1] << 8;
	if (i < len)
		sum += p[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

TEST(inet_csum_rfc1071_example)
{
	/* Section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 (network order). */
	static const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03,
				    0xf4, 0xf5, 0xf6, 0xf7};
	CHECK_EQ(inet_csum_partial(b, sizeof(b)), 0xf2dd);
	CHECK_EQ(inet_csum_partial(b, 0), 0);
	CHECK_EQ(inet_csum_partial(b, -1), 0);
}

TEST(inet_csum_matches_reference_at_every_offset_and_length)
{
	uint8_t buf[1600 + 8];
	unsigned seed = 12345;
	int bad = 0;

	for (int round = 0; round < 4; round++) {
		for (size_t i = 0; i < sizeof(buf); i++) {
			seed = seed * 1103515245u + 12345u;
			/* Round 1: all ones, where carries pile up most. */
			buf[i] = round == 1 ? 0xff : (uint8_t)(seed >> 16);
		}
		for (int off = 0; off < 8; off++)
			for (int len = 0; len <= 1600; len++)
				if (inet_csum_partial(buf + off, len) !=
				    ref_csum(buf + off, len))
					bad++;
	}
	CHECK_EQ(bad, 0);
}

TEST(inet_csum_all_zero_and_all_ones)
{
	static uint8_t z[64], o[64];

	for (int i = 0; i < 64; i++)
		o[i] = 0xff;
	CHECK_EQ(inet_csum_partial(z, 64), 0);
	/* A non-zero sum never folds to 0: ones' complement keeps 0xffff. */
	CHECK_EQ(inet_csum_partial(o, 64), 0xffff);
	CHECK_EQ(inet_csum_partial(o, 1), 0xff);
}

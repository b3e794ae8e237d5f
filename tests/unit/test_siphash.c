/* SipHash-2-4 (kernel/siphash.c) against vectors of the reference
 * implementation (key 00..0f, message 00..len-1), and the RFC 6528 ISN
 * function (lwip-port/rfc6528.c) built on it. */
#include <stdint.h>

#include "kernel/siphash.h"
#include "lwip-port/rfc6528.h"
#include "tests/unit/check.h"

static const struct siphash_key ref_key = {0x0706050403020100ULL,
					   0x0f0e0d0c0b0a0908ULL};

static uint64_t ref_hash(size_t len)
{
	uint8_t m[64];

	for (unsigned i = 0; i < sizeof(m); i++)
		m[i] = (uint8_t)i;
	return siphash24(&ref_key, m, len);
}

TEST(siphash_reference_vectors)
{
	CHECK(ref_hash(0) == 0x726fdb47dd0e0e31ULL);
	/* The paper's worked example: 15 bytes 00..0e. */
	CHECK(ref_hash(15) == 0xa129ca6149be45e5ULL);
	CHECK(ref_hash(63) == 0x958a324ceb064572ULL);
}

TEST(siphash_depends_on_every_byte_and_the_key)
{
	uint8_t m[24] = {0};
	uint64_t base = siphash24(&ref_key, m, sizeof(m));
	struct siphash_key other = ref_key;

	for (unsigned i = 0; i < sizeof(m); i++) {
		m[i] ^= 1;
		CHECK(siphash24(&ref_key, m, sizeof(m)) != base);
		m[i] ^= 1;
	}
	CHECK(siphash24(&ref_key, m, 23) != base); /* the length counts */
	other.k1 ^= 1;
	CHECK(siphash24(&other, m, sizeof(m)) != base);
}

#define LIP  0x0200000aU /* 10.0.0.2 in network order on little-endian */
#define RIP  0x0100000aU
#define PORT 0x5000 /* 80 */

TEST(isn_grows_with_the_4us_clock_for_one_tuple)
{
	uint64_t t = 123456789000ULL;
	uint32_t a = rfc6528_isn(&ref_key, LIP, PORT, RIP, 0x3930, t);
	uint32_t b = rfc6528_isn(&ref_key, LIP, PORT, RIP, 0x3930, t + 4000);
	uint32_t c = rfc6528_isn(&ref_key, LIP, PORT, RIP, 0x3930, t + 4000000);

	CHECK_EQ((uint32_t)(b - a), 1);
	CHECK_EQ((uint32_t)(c - a), 1000);
}

TEST(isn_of_neighbouring_tuples_is_unrelated)
{
	uint64_t t = 5000000000ULL;
	uint32_t prev = rfc6528_isn(&ref_key, LIP, PORT, RIP, 1000, t);
	unsigned small_steps = 0;

	/* lwIP's default counter gave consecutive numbers here; keyed
	 * hashes of consecutive ports must not be close. */
	for (uint16_t port = 1001; port < 1201; port++) {
		uint32_t isn = rfc6528_isn(&ref_key, LIP, PORT, RIP, port, t);
		uint32_t d = isn - prev;

		if (d < 65536 || d > 0xffffffffU - 65536)
			small_steps++;
		prev = isn;
	}
	CHECK(small_steps <= 1);
	/* Another key (another boot) gives other numbers. */
	{
		struct siphash_key k2 = {1, 2};

		CHECK(rfc6528_isn(&k2, LIP, PORT, RIP, 1000, t) !=
		      rfc6528_isn(&ref_key, LIP, PORT, RIP, 1000, t));
	}
}

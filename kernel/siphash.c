/* SipHash-2-4, written from the paper's description: four 64-bit words of
 * state, two compression rounds per 8-byte message word, the length in
 * the top byte of the last word, four finalisation rounds. */
#include "kernel/siphash.h"

static uint64_t siphash_rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

struct siphash_state {
	uint64_t v0, v1, v2, v3;
};

static void siphash_round(struct siphash_state *s)
{
	s->v0 += s->v1;
	s->v1 = siphash_rotl(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = siphash_rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = siphash_rotl(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = siphash_rotl(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = siphash_rotl(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = siphash_rotl(s->v2, 32);
}

static void siphash_absorb(struct siphash_state *s, uint64_t m)
{
	s->v3 ^= m;
	siphash_round(s);
	siphash_round(s);
	s->v0 ^= m;
}

/* Little-endian load of n (< 8 or 8) bytes. */
static uint64_t siphash_load(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

uint64_t siphash24(const struct siphash_key *key, const void *data, size_t len)
{
	const uint8_t *p = data;
	struct siphash_state s = {
	    .v0 = key->k0 ^ 0x736f6d6570736575ULL,
	    .v1 = key->k1 ^ 0x646f72616e646f6dULL,
	    .v2 = key->k0 ^ 0x6c7967656e657261ULL,
	    .v3 = key->k1 ^ 0x7465646279746573ULL,
	};
	size_t whole = len & ~(size_t)7;

	for (size_t i = 0; i < whole; i += 8)
		siphash_absorb(&s, siphash_load(p + i, 8));
	siphash_absorb(&s, siphash_load(p + whole, len - whole) |
			       (uint64_t)(len & 0xff) << 56);
	s.v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		siphash_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

/* The kernel's memcpy/memset/memmove (kernel/libc/string.c: eight bytes a
 * step, then the tail) against byte-by-byte references, for every length
 * up to 100 at every alignment, and memmove's overlapping copies both
 * ways. Built with the kernel's names mapped to k_* (tests/unit/kernel.mk)
 * so the host's own libc stays in place beside them; this file undoes the
 * mapping, so its references are the host's. */
#undef memcpy
#undef memset
#undef memcmp
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tests/unit/check.h"

void *k_memcpy(void *restrict dst, const void *restrict src, size_t n);
void *k_memmove(void *dst, const void *src, size_t n);
void *k_memset(void *dst, int c, size_t n);

#define SPAN 128

static void fill(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 7 + seed * 13 + 1);
}

TEST(memcpy_every_length_and_alignment)
{
	uint8_t src[SPAN + 16], dst[SPAN + 16], want[SPAN + 16];

	for (size_t so = 0; so < 8; so++)
		for (size_t d = 0; d < 8; d++)
			for (size_t n = 0; n <= 100; n++) {
				fill(src, sizeof(src), (unsigned)n);
				memset(dst, 0xa5, sizeof(dst));
				memcpy(want, dst, sizeof(want));
				for (size_t i = 0; i < n; i++)
					want[d + i] = src[so + i];
				CHECK(k_memcpy(dst + d, src + so, n) ==
				      dst + d);
				CHECK(memcmp(dst, want, sizeof(dst)) == 0);
			}
}

TEST(memset_every_length_and_alignment)
{
	uint8_t buf[SPAN + 16], want[SPAN + 16];
	const int values[] = {0, 0x5a, 0xff, -1, 0x1234}; /* low byte counts */

	for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++)
		for (size_t d = 0; d < 8; d++)
			for (size_t n = 0; n <= 100; n++) {
				fill(buf, sizeof(buf), (unsigned)n);
				memcpy(want, buf, sizeof(want));
				for (size_t i = 0; i < n; i++)
					want[d + i] = (uint8_t)values[v];
				CHECK(k_memset(buf + d, values[v], n) ==
				      buf + d);
				CHECK(memcmp(buf, want, sizeof(buf)) == 0);
			}
}

TEST(memmove_overlapping_both_ways)
{
	uint8_t buf[SPAN + 32], want[SPAN + 32], tmp[SPAN + 32];

	for (size_t dist = 0; dist <= 17; dist++)
		for (size_t n = 0; n <= 100; n++)
			for (int down = 0; down < 2; down++) {
				size_t s = down ? 8 + dist : 8;
				size_t d = down ? 8 : 8 + dist;
				fill(buf, sizeof(buf), (unsigned)(n + dist));
				memcpy(want, buf, sizeof(want));
				memcpy(tmp, buf + s, n);
				memcpy(want + d, tmp, n);
				CHECK(k_memmove(buf + d, buf + s, n) ==
				      buf + d);
				CHECK(memcmp(buf, want, sizeof(buf)) == 0);
			}
}

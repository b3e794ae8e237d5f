/* SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit PRF, fast on
 * short inputs. Used where an outsider must not predict a value computed
 * from data they choose: TCP initial sequence numbers (RFC 6528) and the
 * kernel's random stream. */
#ifndef SKIFF_KERNEL_SIPHASH_H
#define SKIFF_KERNEL_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct siphash_key {
	uint64_t k0, k1;
};

uint64_t siphash24(const struct siphash_key *key, const void *data, size_t len);

#endif

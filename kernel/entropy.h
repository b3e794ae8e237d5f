/* The kernel's random numbers: a SipHash-2-4 generator in counter mode,
 * keyed at boot from the CPU's hardware generator (RDSEED, else RDRAND)
 * when it has one, and always mixed with TSC jitter. Every output also
 * absorbs the TSC and, with RDRAND, a fresh hardware word, so two boots
 * (or two callers) never see the same stream. Not a FIPS DRBG; enough that
 * an outsider who sees outputs (sequence numbers, ports, ids) cannot
 * compute the key or the next ones. */
#ifndef SKIFF_KERNEL_ENTROPY_H
#define SKIFF_KERNEL_ENTROPY_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/siphash.h"

/* Seeds the generator; call once, early (before lwIP starts). */
void entropy_init(void);
/* Whether a hardware generator fed the seed (reported on the console). */
bool entropy_has_hw(void);
uint64_t entropy_u64(void);
/* A fresh 128-bit key for a keyed hash (SipHash) of one user. */
void entropy_key(struct siphash_key *key);

#endif

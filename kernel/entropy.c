/* Boot-time seeding and the output function of the kernel's generator
 * (see entropy.h). */
#include "kernel/entropy.h"

#include "kernel/cpu.h"
#include "kernel/log.h"

static struct siphash_key entropy_pool;
static uint64_t entropy_counter;
static bool entropy_rdrand, entropy_rdseed;

/* One hardware word; the instructions may report "not ready" (CF=0) under
 * load, so a few retries are normal (Intel's guidance: ten). */
static bool entropy_hw_word(bool seed, uint64_t *out)
{
	for (int i = 0; i < 10; i++) {
		uint8_t ok;

		if (seed)
			__asm__ volatile("rdseed %0; setc %1"
					 : "=r"(*out), "=qm"(ok));
		else
			__asm__ volatile("rdrand %0; setc %1"
					 : "=r"(*out), "=qm"(ok));
		if (ok)
			return true;
	}
	return false;
}

/* Timing jitter of a memory-touching loop, sampled through the TSC: weak
 * on its own, but it differs between boots even on an emulator. */
static uint64_t entropy_jitter(void)
{
	static volatile uint64_t sink[64];
	uint64_t acc = 0;

	for (unsigned i = 0; i < 256; i++) {
		uint64_t t = rdtsc();

		sink[(t ^ i) & 63] += t;
		acc = (acc << 7 | acc >> 57) ^ (rdtsc() - t);
	}
	return acc ^ rdtsc();
}

void entropy_init(void)
{
	uint32_t a, b, c, d;
	uint64_t w[4] = {0};
	unsigned hw = 0;

	cpuid(1, 0, &a, &b, &c, &d);
	entropy_rdrand = c & (1u << 30);
	cpuid(0, 0, &a, &b, &c, &d);
	if (a >= 7) {
		cpuid(7, 0, &a, &b, &c, &d);
		entropy_rdseed = b & (1u << 18);
	}
	for (unsigned i = 0; i < 4; i++) {
		uint64_t v;

		if ((entropy_rdseed && entropy_hw_word(true, &v)) ||
		    (entropy_rdrand && entropy_hw_word(false, &v))) {
			w[i] = v;
			hw++;
		}
		w[i] ^= entropy_jitter();
	}
	/* Compress everything into the key: no input word is used raw. */
	entropy_pool.k0 = w[0] ^ w[2];
	entropy_pool.k1 = w[1] ^ w[3];
	entropy_pool.k0 = siphash24(&entropy_pool, w, sizeof(w));
	entropy_pool.k1 = siphash24(&entropy_pool, w, sizeof(w));
	if (hw < 4)
		log_warn("entropy: no hardware generator (rdrand %s rdseed "
			 "%s); seeded from TSC jitter only",
			 entropy_rdrand ? "yes" : "no",
			 entropy_rdseed ? "yes" : "no");
	else
		log_info("entropy: seeded from %s",
			 entropy_rdseed ? "rdseed" : "rdrand");
}

bool entropy_has_hw(void)
{
	return entropy_rdrand || entropy_rdseed;
}

uint64_t entropy_u64(void)
{
	uint64_t in[3] = {entropy_counter++, rdtsc(), 0};

	if (entropy_rdrand)
		entropy_hw_word(false, &in[2]);
	return siphash24(&entropy_pool, in, sizeof(in));
}

void entropy_key(struct siphash_key *key)
{
	key->k0 = entropy_u64();
	key->k1 = entropy_u64();
}

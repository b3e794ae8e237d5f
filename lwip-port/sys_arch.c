/* The little lwIP needs from the system with NO_SYS=1: a millisecond clock
 * for its timers and random numbers. Critical sections are inline in
 * arch/cc.h. */
#include "lwip/opt.h"
#include "lwip/sys.h"

#include "kernel/clock.h"
#include "kernel/cpu.h"

/* Milliseconds since boot; lwIP compares these with wrap-around arithmetic,
 * so truncation to 32 bits (a wrap every ~49.7 days) is fine. */
u32_t sys_now(void)
{
	return (u32_t)clock_ms();
}

/* xorshift64* (Vigna) over a state that also absorbs the TSC on every call.
 * Not cryptographic: it only has to make TCP sequence numbers, ephemeral
 * ports and DHCP/DNS ids differ between boots and hard to guess from one
 * another. The TSC at the first call differs on every boot (firmware and
 * emulator timing), and mixing it in each time adds the jitter of packet
 * arrival. */
static uint64_t rand_state;

uint32_t skiff_random(void)
{
	uint64_t x = rand_state ^ (rdtsc() * 0x9e3779b97f4a7c15ULL);

	if (x == 0)
		x = 0x2545f4914f6cdd1dULL;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rand_state = x;
	return (uint32_t)((x * 0x2545f4914f6cdd1dULL) >> 32);
}

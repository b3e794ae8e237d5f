/* Shared by the host tests that run the real netif glue and lwIP against
 * the simulated device (test_netif, test_xdp_path): what lwIP needs from
 * the system, the test network's addresses, and frame-building helpers. */
#ifndef SKIFF_TESTS_LWIP_HOST_H
#define SKIFF_TESTS_LWIP_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "lwip/memp.h"
#include "lwip/stats.h"

/* sys_now() returns this; tests advance it to fire lwIP's timers. */
extern u32_t fake_now;

extern const uint8_t our_mac[6], peer_mac[6], bcast_mac[6];
extern const uint8_t our_ip[4], peer_ip[4];

#define ETH_HLEN 14
#define IP_HDR	 20

void put16(uint8_t *p, uint16_t v);
uint16_t get16(const uint8_t *p);
/* One's-complement sum of big-endian 16-bit words, and its folding. */
uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len);
uint16_t fold(uint32_t sum);
size_t put_eth(uint8_t *f, const uint8_t *dst, const uint8_t *src,
	       uint16_t type);
/* The peer asking who has our_ip; returns the frame length. */
size_t arp_request(uint8_t *f);

/* lwIP's heap and pool use, to check that a test leaked nothing. */
struct lwip_counts {
	mem_size_t mem_used;
	u16_t memp_used[MEMP_MAX];
};
void lwip_counts_get(struct lwip_counts *c);
/* lwip_init() once per test program. */
void lwip_once(void);

#endif

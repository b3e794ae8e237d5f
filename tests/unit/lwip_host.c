/* See lwip_host.h. */
#include "tests/unit/lwip_host.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip-port/lwip_hooks.h"
#include "lwip-port/rfc6528.h"
#include "lwip/init.h"

u32_t fake_now = 1000;

u32_t sys_now(void)
{
	return fake_now;
}

uint32_t skiff_random(void)
{
	static uint32_t x = 0x12345678;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

/* The real RFC 6528 function under a fixed key, on the fake clock. */
u32_t skiff_tcp_isn(const ip_addr_t *local_ip, u16_t local_port,
		    const ip_addr_t *remote_ip, u16_t remote_port)
{
	static const struct siphash_key key = {0x5eed, 0xcafe};

	return rfc6528_isn(
	    &key, ip4_addr_get_u32(ip_2_ip4(local_ip)), lwip_htons(local_port),
	    ip4_addr_get_u32(ip_2_ip4(remote_ip)), lwip_htons(remote_port),
	    (uint64_t)fake_now * 1000000);
}

/* LWIP_PLATFORM_ASSERT: an lwIP assertion ends the test program. */
void panic(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "panic: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

const uint8_t our_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
const uint8_t peer_mac[6] = {0x52, 0x55, 0x0a, 0x00, 0x02, 0x02};
const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
const uint8_t our_ip[4] = {10, 0, 2, 15};
const uint8_t peer_ip[4] = {10, 0, 2, 2};

void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
	for (; len > 1; len -= 2, p += 2)
		sum += get16(p);
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

size_t put_eth(uint8_t *f, const uint8_t *dst, const uint8_t *src,
	       uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, type);
	return ETH_HLEN;
}

size_t arp_request(uint8_t *f)
{
	uint8_t *a = f + put_eth(f, bcast_mac, peer_mac, 0x0806);

	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 1);
	memcpy(a + 8, peer_mac, 6);
	memcpy(a + 14, peer_ip, 4);
	memset(a + 18, 0, 6);
	memcpy(a + 24, our_ip, 4);
	return ETH_HLEN + 28;
}

void lwip_counts_get(struct lwip_counts *c)
{
	c->mem_used = lwip_stats.mem.used;
	for (int i = 0; i < MEMP_MAX; i++)
		c->memp_used[i] = lwip_stats.memp[i]->used;
}

void lwip_once(void)
{
	static bool done;

	if (!done)
		lwip_init();
	done = true;
}

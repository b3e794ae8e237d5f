// SPDX-License-Identifier: GPL-2.0
/* udp_reflect: answers UDP echo (IPv4, port 7) at the hook and drops UDP
 * discard (port 9, RFC 863) there: the benchmark's reflect and drop rates
 * come from this one object in both guests. For echo, the Ethernet and IP
 * addresses and the UDP ports are swapped, TTL is reset to 64 and the IP
 * header checksum recomputed; the UDP checksum is set to 0 (none, allowed
 * for IPv4), so a frame whose checksum the NIC left partial is still
 * answered correctly. The frame goes back out with XDP_TX; anything else
 * (other ports, fragments, IP options) is passed to the stack. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define ECHO_PORT    7
#define DISCARD_PORT 9

SEC("xdp")
int udp_reflect(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	unsigned char mac[ETH_ALEN];
	__u32 sum = 0;
	__u32 a;
	__u16 p;

	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->version != 4 ||
	    ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	if (ip->frag_off & bpf_htons(0x3fff)) /* MF or an offset */
		return XDP_PASS;
	/* Echo first: the reflect path pays one comparison, as before. */
	if (udp->dest != bpf_htons(ECHO_PORT))
		return udp->dest == bpf_htons(DISCARD_PORT) ? XDP_DROP
							    : XDP_PASS;

	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);

	a = ip->saddr;
	ip->saddr = ip->daddr;
	ip->daddr = a;
	ip->ttl = 64;
	ip->check = 0;
#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += ((__u16 *)ip)[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->check = (__u16)~sum;

	p = udp->source;
	udp->source = udp->dest;
	udp->dest = p;
	udp->check = 0;
	return XDP_TX;
}

char _license[] SEC("license") = "GPL";

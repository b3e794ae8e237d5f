// SPDX-License-Identifier: GPL-2.0
/* tc_mark: a TC egress marker and dropper (tc.egress=tc_mark). Every IPv4
 * frame the echo service sends (TCP or UDP, source port 7) leaves with
 * DSCP EF (TOS 0xb8; the IP header checksum fixed with
 * bpf_l3_csum_replace), skb->mark 0x5e and priority 6; a UDP echo reply
 * to client port 9999 is dropped (TC_ACT_SHOT). A GSO frame is marked
 * once: the device copies its IP header into every segment. Builds and
 * runs unchanged under Linux (`tc filter add dev eth0 egress bpf da obj
 * tc_mark.o sec tc`). */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <stddef.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define ECHO_PORT 7
#define DROP_PORT 9999
#define TOS_EF	  0xb8

SEC("tc")
int tc_mark(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	__be16 *ports = (void *)(ip + 1);
	__u16 old, new;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	if ((void *)(ports + 2) > data_end || ip->ihl != 5)
		return TC_ACT_OK;
	if (ip->protocol != IPPROTO_UDP && ip->protocol != IPPROTO_TCP)
		return TC_ACT_OK;
	if (ports[0] != bpf_htons(ECHO_PORT))
		return TC_ACT_OK;
	if (ip->protocol == IPPROTO_UDP && ports[1] == bpf_htons(DROP_PORT))
		return TC_ACT_SHOT;
	/* The first 16-bit word of the IP header holds version, IHL and
	 * TOS: the checksum changes by the difference of that word. */
	old = *(__u16 *)ip;
	ip->tos = TOS_EF;
	new = *(__u16 *)ip;
	bpf_l3_csum_replace(skb, ETH_HLEN + offsetof(struct iphdr, check), old,
			    new, sizeof(new));
	skb->mark = 0x5e;
	skb->priority = 6;
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";

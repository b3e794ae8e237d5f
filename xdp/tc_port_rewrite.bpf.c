// SPDX-License-Identifier: GPL-2.0
/* tc_port_rewrite: a TC ingress port rewriter (tc.ingress=tc_port_rewrite).
 * A UDP datagram to port 7777 is delivered to port 7 (the echo service):
 * the destination port is rewritten with bpf_skb_store_bytes and the UDP
 * checksum fixed with bpf_l4_csum_replace (BPF_F_MARK_MANGLED_0: a zero
 * checksum means none and stays so). The reply leaves from port 7. The
 * classic Linux pattern (samples/bpf tcbpf1_kern.c): builds and runs
 * unchanged under `tc filter add dev eth0 ingress bpf da obj ...`. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <stddef.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define FROM_PORT 7777
#define TO_PORT	  7
#define UDP_OFF	  (ETH_HLEN + sizeof(struct iphdr))

SEC("tc")
int tc_port_rewrite(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	__be16 old, new = bpf_htons(TO_PORT);

	if ((void *)(udp + 1) > data_end)
		return TC_ACT_OK;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 ||
	    ip->protocol != IPPROTO_UDP || udp->dest != bpf_htons(FROM_PORT))
		return TC_ACT_OK;
	old = udp->dest;
	bpf_l4_csum_replace(skb, UDP_OFF + offsetof(struct udphdr, check), old,
			    new, BPF_F_MARK_MANGLED_0 | sizeof(new));
	bpf_skb_store_bytes(skb, UDP_OFF + offsetof(struct udphdr, dest), &new,
			    sizeof(new), 0);
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/* sock_trunc: a socket filter (echo.filter=sock_trunc, or any service's
 * NAME.filter) for UDP sockets. It sees the datagram from its UDP header
 * on and returns the bytes to keep, as a Linux SO_ATTACH_BPF filter does:
 * a datagram whose payload starts with "drop" is dropped (0), one longer
 * than 16 payload bytes is cut to 16, the rest are kept whole. Reads the
 * packet only through bpf_skb_load_bytes (socket filters have no direct
 * packet access). On a TCP socket of the same service (where the first 8
 * bytes are ports and a sequence number, not a UDP header whose length
 * matches) it keeps every segment whole. */
#include <linux/bpf.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define KEEP_PAYLOAD 16

SEC("socket")
int sock_trunc(struct __sk_buff *skb)
{
	struct udphdr udp;
	char word[4];

	if (bpf_skb_load_bytes(skb, 0, &udp, sizeof(udp)) < 0)
		return 0;
	if (bpf_ntohs(udp.len) != skb->len) /* not UDP: keep it */
		return skb->len;
	if (skb->len >= sizeof(udp) + sizeof(word) &&
	    bpf_skb_load_bytes(skb, sizeof(udp), word, sizeof(word)) == 0 &&
	    word[0] == 'd' && word[1] == 'r' && word[2] == 'o' &&
	    word[3] == 'p')
		return 0;
	if (skb->len > sizeof(udp) + KEEP_PAYLOAD)
		return sizeof(udp) + KEEP_PAYLOAD;
	return skb->len;
}

char _license[] SEC("license") = "GPL";

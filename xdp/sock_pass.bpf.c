// SPDX-License-Identifier: GPL-2.0
/* sock_pass: a socket filter that keeps every segment and datagram whole
 * (returns skb->len): the socket-filter hook's own cost in `make bench`
 * (see xdp_pass.bpf.c). */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

SEC("socket")
int sock_pass(struct __sk_buff *skb)
{
	return skb->len;
}

char _license[] SEC("license") = "GPL";

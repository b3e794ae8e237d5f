// SPDX-License-Identifier: GPL-2.0
/* count_percpu: the count program on a BPF_MAP_TYPE_PERCPU_ARRAY: each
 * CPU bumps its own copy of the counter with a plain add (no atomic, no
 * shared cache line); /stats sums the copies ("values") and shows each
 * CPU's ("per_cpu"). Index 0 other, 1 ARP, 2 ICMP, 3 TCP, 4 UDP. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

enum { C_OTHER, C_ARP, C_ICMP, C_TCP, C_UDP, C_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, C_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("xdp")
int count_percpu(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 key = C_OTHER;
	__u64 *v;

	if ((void *)(eth + 1) <= data_end) {
		if (eth->h_proto == bpf_htons(ETH_P_ARP)) {
			key = C_ARP;
		} else if (eth->h_proto == bpf_htons(ETH_P_IP)) {
			struct iphdr *ip = (void *)(eth + 1);

			if ((void *)(ip + 1) <= data_end) {
				if (ip->protocol == IPPROTO_ICMP)
					key = C_ICMP;
				else if (ip->protocol == IPPROTO_TCP)
					key = C_TCP;
				else if (ip->protocol == IPPROTO_UDP)
					key = C_UDP;
			}
		}
	}
	v = bpf_map_lookup_elem(&counts, &key);
	if (v)
		*v += 1; /* this CPU's own copy */
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";

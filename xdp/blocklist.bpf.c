// SPDX-License-Identifier: GPL-2.0
/* blocklist: drops IPv4 frames whose source matches the hash map
 * `blocklist`, keyed by {saddr (network order), port (host order), 0}.
 * A TCP/UDP frame is looked up by its source port first and then with
 * port 0, which means "any port"; other IPv4 protocols with port 0 only.
 * Drops are counted in `stats[0]`, frames let through in `stats[1]`. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct block_key {
	__u32 saddr;
	__u16 port;
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct block_key);
	__type(value, __u8);
} blocklist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline int verdict(int drop)
{
	__u32 k = drop ? 0 : 1;
	__u64 *c = bpf_map_lookup_elem(&stats, &k);

	if (c)
		__sync_fetch_and_add(c, 1);
	return drop ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int blocklist_prog(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct block_key key = {};
	__u32 ihl;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	key.saddr = ip->saddr;
	ihl = ip->ihl * 4;
	if ((ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP) &&
	    ihl >= sizeof(*ip)) {
		/* Both TCP and UDP start with the source port. */
		struct udphdr *l4 = (void *)ip + ihl;

		if ((void *)(l4 + 1) <= data_end) {
			key.port = bpf_ntohs(l4->source);
			if (bpf_map_lookup_elem(&blocklist, &key))
				return verdict(1);
		}
	}
	key.port = 0;
	if (bpf_map_lookup_elem(&blocklist, &key))
		return verdict(1);
	return verdict(0);
}

char _license[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/* xsk_udp: sends UDP/IPv4 datagrams for one port (xsk_port[0], in host
 * order, set by the service that owns the socket) to the AF_XDP socket of
 * the frame's queue, falling back to the stack (XDP_PASS) when the queue
 * has none; everything else goes to the stack too. What the XSK UDP echo
 * (services/xsk_echo.c, xsk.port=) attaches. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(int));
	__uint(value_size, sizeof(int));
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} xsk_port SEC(".maps");

SEC("xdp")
int xsk_udp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	__u32 zero = 0;
	__u32 *port;

	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->version != 4 ||
	    ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	if (ip->frag_off & bpf_htons(0x3fff)) /* MF or an offset */
		return XDP_PASS;
	port = bpf_map_lookup_elem(&xsk_port, &zero);
	if (!port || *port == 0 || bpf_ntohs(udp->dest) != *port)
		return XDP_PASS;
	return bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
}

char _license[] SEC("license") = "GPL";

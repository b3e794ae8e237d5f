// SPDX-License-Identifier: GPL-2.0
/* xsk_default: the program every Linux AF_XDP application loads when it
 * brings none of its own (libxdp's default program, the kernel's
 * samples/bpf xdpsock): every frame of a queue with a socket in xsks_map
 * goes to that socket, the others to the stack. Written for Linux and
 * built unchanged; in Skiff it would take lwIP's traffic too, so the UDP
 * echo service attaches xsk_udp instead and this one is for tests and for
 * a service that wants the whole queue. */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__uint(key_size, sizeof(int));
	__uint(value_size, sizeof(int));
} xsks_map SEC(".maps");

SEC("xdp")
int xsk_default(struct xdp_md *ctx)
{
	int index = ctx->rx_queue_index;

	/* A set entry means an AF_XDP socket is bound to this queue. */
	if (bpf_map_lookup_elem(&xsks_map, &index))
		return bpf_redirect_map(&xsks_map, index, 0);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";

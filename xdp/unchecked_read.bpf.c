// SPDX-License-Identifier: GPL-2.0
/* unchecked_read: a deliberately unsafe program, shipped so that anyone can
 * watch the verifier refuse it at boot (xdp.prog=unchecked_read) and see
 * Skiff go on serving without it; the QEMU tests do exactly that. It reads
 * the EtherType without first comparing the packet against data_end, which
 * Linux's verifier rejects too ("invalid access to packet"). */
#include <linux/bpf.h>
#include <linux/if_ether.h>

#include <bpf/bpf_helpers.h>

SEC("xdp")
int unchecked_read(struct xdp_md *ctx)
{
	struct ethhdr *eth = (void *)(long)ctx->data;

	/* Missing: if ((void *)(eth + 1) > (void *)(long)ctx->data_end) */
	return eth->h_proto == 0 ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";

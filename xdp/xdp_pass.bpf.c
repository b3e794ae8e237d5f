// SPDX-License-Identifier: GPL-2.0
/* xdp_pass: passes every frame and does nothing else. What a hook costs
 * by itself: `make bench` attaches it (and tc_pass, sock_pass) to measure
 * the guest instructions each hook adds per packet (tests/bench/README.md
 * "Hook costs"). */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";

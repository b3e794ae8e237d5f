// SPDX-License-Identifier: GPL-2.0
/* tc_pass: a TC program (ingress or egress) that lets every frame go on
 * (TC_ACT_OK) and does nothing else: the TC hook's own cost in `make
 * bench` (see xdp_pass.bpf.c). */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf_helpers.h>

SEC("tc")
int tc_pass(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/* tc_pull: the Linux idiom for a TC program that needs more bytes than
 * the direct-access range may hold: bpf_skb_pull_data(skb, WANT), then
 * data/data_end loaded again and checked again, then a direct write of
 * byte WANT-1. When the pull fails it tries the same write through
 * bpf_skb_store_bytes and drops the frame (TC_ACT_SHOT) if that fails
 * too. Both return codes go to the map "rc" (tests/unit/test_tc_path.c
 * reads them). Builds unchanged for Linux (`tc filter add ... bpf da obj
 * tc_pull.o sec tc`). */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf_helpers.h>

#define WANT 60

struct rcs {
	__s64 pull, store;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rcs);
} rc SEC(".maps");

SEC("tc")
int tc_pull(struct __sk_buff *skb)
{
	__u8 mark = 0xa5;
	__u32 k = 0;
	struct rcs *r = bpf_map_lookup_elem(&rc, &k);
	void *data, *data_end;
	long pulled;

	if (!r)
		return TC_ACT_OK;
	pulled = bpf_skb_pull_data(skb, WANT);
	r->pull = pulled;
	r->store = 1; /* not tried */
	if (pulled < 0) {
		r->store = bpf_skb_store_bytes(skb, WANT - 1, &mark, 1, 0);
		return r->store < 0 ? TC_ACT_SHOT : TC_ACT_OK;
	}
	/* The pull forgot every packet pointer: load and check again. */
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (data + WANT > data_end)
		return TC_ACT_STOLEN; /* the pull said yes, the range is short
				       */
	((__u8 *)data)[WANT - 1] = mark;
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";

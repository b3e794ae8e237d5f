// SPDX-License-Identifier: GPL-2.0
/* tc_fields: records what a TC program sees of struct __sk_buff into the
 * map "seen" (tests/unit/test_tc_path.c reads it back), writes mark,
 * priority, tc_index and cb[0], reads the packet directly (bounds
 * checked) and through bpf_skb_load_bytes, and returns TC_ACT_OK. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf_helpers.h>

struct seen {
	__u32 len, protocol, pkt_type, ingress_ifindex, ifindex;
	__u32 gso_segs, gso_size, direct_len, first_byte, loaded_last;
	__u32 load_err, narrow_type;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct seen);
} seen SEC(".maps");

SEC("tc")
int tc_fields(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 k = 0;
	struct seen *s = bpf_map_lookup_elem(&seen, &k);
	unsigned char *p = data;
	unsigned char last = 0;

	if (!s)
		return TC_ACT_SHOT;
	s->len = skb->len;
	s->protocol = skb->protocol;
	s->pkt_type = skb->pkt_type;
	s->ingress_ifindex = skb->ingress_ifindex;
	s->ifindex = skb->ifindex;
	s->gso_segs = skb->gso_segs;
	s->gso_size = skb->gso_size;
	s->direct_len = (__u32)(data_end - data);
	if ((void *)(p + 1) <= data_end)
		s->first_byte = p[0];
	s->load_err = (__u32)bpf_skb_load_bytes(skb, skb->len - 1, &last, 1);
	s->loaded_last = last;
	s->narrow_type = *(volatile __u8 *)((char *)skb + 4);
	skb->mark = 0x1234;
	skb->priority = 3;
	skb->tc_index = 9;
	skb->cb[0] = 77;
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";

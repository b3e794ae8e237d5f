// SPDX-License-Identifier: GPL-2.0
/* sock_fields: a socket filter that records len, protocol and the first 8
 * bytes it sees (through bpf_skb_load_bytes: socket filters have no direct
 * packet access) into the map "seen", and keeps as many bytes as the
 * test stored in the map's "keep" (0: everything). */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

struct seen {
	__u32 keep; /* set by the test; 0: keep all */
	__u32 len, protocol, runs;
	__u8 head[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct seen);
} seen SEC(".maps");

SEC("socket")
int sock_fields(struct __sk_buff *skb)
{
	__u32 k = 0;
	struct seen *s = bpf_map_lookup_elem(&seen, &k);

	if (!s)
		return 0;
	s->len = skb->len;
	s->protocol = skb->protocol;
	s->runs++;
	if (bpf_skb_load_bytes(skb, 0, s->head, sizeof(s->head)) < 0)
		return 0;
	skb->cb[0] = 1; /* socket filters may write cb[] (only) */
	return s->keep ? s->keep : skb->len;
}

char _license[] SEC("license") = "GPL";

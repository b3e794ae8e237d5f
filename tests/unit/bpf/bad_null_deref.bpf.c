// Bad: uses a map value without checking the lookup's NULL.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} m SEC(".maps");

SEC("xdp")
int bad_null_deref(struct xdp_md *ctx)
{
	__u32 k = ctx->ingress_ifindex;
	__u64 *v = bpf_map_lookup_elem(&m, &k);

	return *v ? XDP_DROP : XDP_PASS;
}
char _license[] SEC("license") = "GPL";

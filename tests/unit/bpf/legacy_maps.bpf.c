// Good: a map in the legacy "maps" section (struct bpf_map_def).
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

struct map_def {
	unsigned int type, key_size, value_size, max_entries, map_flags;
};
struct map_def hits SEC("maps") = {
    .type = BPF_MAP_TYPE_ARRAY,
    .key_size = 4,
    .value_size = 8,
    .max_entries = 1,
};

SEC("xdp")
int legacy(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&hits, &k);

	if (v)
		*v += 1;
	return XDP_PASS;
}
char _license[] SEC("license") = "GPL";

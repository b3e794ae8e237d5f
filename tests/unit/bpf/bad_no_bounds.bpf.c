// Bad: reads the EtherType without checking data_end first.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

SEC("xdp")
int bad_no_bounds(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;

	return data[12] == 0x08 ? XDP_DROP : XDP_PASS;
}
char _license[] SEC("license") = "GPL";

// Bad: a loop whose bound comes from the context (a back-edge).
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

SEC("xdp")
int bad_loop(struct xdp_md *ctx)
{
	unsigned n = ctx->rx_queue_index;
	volatile unsigned s = 0;

	for (unsigned i = 0; i < n; i++)
		s = s * 31 + i;
	return s & 3;
}
char _license[] SEC("license") = "GPL";

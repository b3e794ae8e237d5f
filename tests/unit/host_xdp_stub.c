/* Host tests of the netif glue run with no XDP program attached: the hook
 * is then a NULL check, and these entry points must never be reached. */
#include <stdlib.h>

#include "xdp_hook.h"

struct ebpf_prog *xdp_hook_prog;

int xdp_hook_run(void *frame, uint32_t len, uint8_t csum_flags,
		 uint32_t queue)
{
	abort();
}

void xdp_hook_count_tx_failed(void)
{
	abort();
}

bool xsk_push(void *data, uint32_t len, uint32_t handle)
{
	abort();
}

/* The optional RX buffer trace of one queue pair (vnet_trace_enable). */
#include "drivers/vnet_var.h"
#include "kernel/printf.h"

void vnet_trace_add(struct vnet *n, uint32_t handle, uint8_t event,
		    uint32_t len)
{
	struct vnet_trace_rec *r;

	if (n->trace_count == n->trace_cap) {
		n->trace_dropped++;
		return;
	}
	r = &n->trace[n->trace_count++];
	r->ns = n->clock ? n->clock() : n->trace_seq++;
	r->handle = handle;
	r->len = len > 0xffff ? 0xffff : (uint16_t)len;
	r->event = event;
	r->pad = 0;
}

void vnet_trace_enable(struct vnet *n, struct vnet_trace_rec *buf, uint32_t cap)
{
	n->trace = buf;
	n->trace_cap = buf ? cap : 0;
	n->trace_count = 0;
	n->trace_dropped = 0;
	n->trace_seq = 0;
}

uint32_t vnet_trace_count(const struct vnet *n, uint64_t *dropped)
{
	if (dropped)
		*dropped = n->trace_dropped;
	return n->trace_count;
}

int vnet_trace_format_line(const struct vnet_trace_rec *r, char *buf,
			   size_t size)
{
	return ksnprintf(buf, size, "%llu %u %u %u\n",
			 (unsigned long long)r->ns, (unsigned)r->handle,
			 (unsigned)r->event, (unsigned)r->len);
}

/* The receive hook point: see rx_hook.h. Exercised by tests/unit/
 * test_xdp_path.c (every verdict) and by `make run CMDLINE=xdp.prog=...`. */
#include "netdev/rx_hook.h"

#include <stddef.h>

const struct netdev_rx_hook *netdev_rx_hook;

void netdev_rx_hook_register(const struct netdev_rx_hook *hook)
{
	netdev_rx_hook = hook;
}

bool netdev_rx_hook_run(const struct netdev_rx_port *port, void *frame,
			uint32_t len, uint32_t handle, uint8_t csum_flags)
{
	const struct netdev_rx_hook *h = netdev_rx_hook;

	switch (h->run(frame, len, csum_flags, port->queue)) {
	case NETDEV_RX_PASS:
		return false;
	case NETDEV_RX_TX:
		/* Back out from its own buffer, no copy; the buffer returns
		 * when the device is done sending it. */
		if (port->tx_from_rx(port->ctx, frame, len, handle) != 0) {
			h->tx_failed();
			port->release(port->ctx, handle);
		}
		return true;
	case NETDEV_RX_REDIRECT:
		if (!h->redirect(frame, len, handle))
			port->release(port->ctx, handle);
		return true;
	default: /* DROP (ABORTED is sanitised to DROP by the hook) */
		port->release(port->ctx, handle);
		return true;
	}
}

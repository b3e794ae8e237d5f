/* virtio-net interrupts of one queue pair: the top half and the re-arming
 * the bottom half does. */
#include "drivers/vnet_var.h"

void vnet_irq(struct vnet *n, enum vnet_irq_source src)
{
	if (src >= VNET_IRQ_SOURCES)
		return;
	n->stats.irqs[src]++;
	if (src == VNET_IRQ_RX)
		vq_disable_cb(&n->rxq);
	else if (src == VNET_IRQ_TX)
		vq_disable_cb(&n->txq);
	__atomic_fetch_or(&n->work, 1u << src, __ATOMIC_RELEASE);
}

unsigned vnet_take_work(struct vnet *n)
{
	return __atomic_exchange_n(&n->work, 0, __ATOMIC_ACQUIRE);
}

void vnet_rx_irq_disable(struct vnet *n)
{
	vq_disable_cb(&n->rxq);
}

bool vnet_rx_irq_enable(struct vnet *n)
{
	return vq_enable_cb(&n->rxq);
}

bool vnet_tx_irq_enable(struct vnet *n)
{
	return vq_enable_cb(&n->txq);
}

void vnet_tx_irq_disable(struct vnet *n)
{
	vq_disable_cb(&n->txq);
}

# drivers/: PCI, the virtio transport, split virtqueues, virtio-net.
# DRIVERS_VIRTIO_SRCS is the part that builds on the host against the
# simulated device (tests/unit/sim_virtio.c); PCI needs the machine.
DRIVERS_VIRTIO_SRCS := drivers/virtio.c drivers/virtqueue.c \
	drivers/vnet_rx.c drivers/vnet_tx.c drivers/vnet_irq.c \
	drivers/vnet_trace.c drivers/vnet_stats.c drivers/vnet_ctrl.c \
	drivers/vnet_probe.c
DRIVERS_SRCS := drivers/pci.c drivers/virtio_pci.c drivers/virtio_mmio.c \
	$(DRIVERS_VIRTIO_SRCS)

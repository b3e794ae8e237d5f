# drivers/: PCI, the virtio transport, split virtqueues, virtio-net.
# DRIVERS_VIRTIO_SRCS is the part that builds on the host against the
# simulated device (tests/unit/sim_virtio.c); PCI needs the machine.
DRIVERS_VIRTIO_SRCS := drivers/virtio.c drivers/virtqueue.c \
	drivers/virtio_net.c
DRIVERS_SRCS := drivers/pci.c drivers/virtio_pci.c drivers/virtio_mmio.c \
	$(DRIVERS_VIRTIO_SRCS)

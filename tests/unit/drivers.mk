# Host tests of the virtio drivers: the real ring and NIC sources
# (drivers/drivers.mk) against the simulated device (sim_virtio.c) and host
# stand-ins for the kernel services.
DRIVERS_HOST_SRCS := tests/unit/sim_virtio.c tests/unit/host_kernel_stubs.c \
	tests/unit/host_printf_stub.c
DRIVERS_HOST_DEPS := $(wildcard drivers/*.h kernel/*.h tests/unit/*.h)

UNIT_TESTS += virtqueue
UNIT_SRCS_virtqueue := tests/unit/test_virtqueue.c drivers/virtqueue.c \
	$(DRIVERS_HOST_SRCS)
UNIT_DEPS_virtqueue := $(DRIVERS_HOST_DEPS)

UNIT_TESTS += virtio_net
UNIT_SRCS_virtio_net := tests/unit/test_virtio_net.c $(DRIVERS_VIRTIO_SRCS) \
	$(APP_DRIVER_STATS_SRCS) \
	$(KERNEL_TEXT_SRCS) $(DRIVERS_HOST_SRCS)
UNIT_DEPS_virtio_net := $(DRIVERS_HOST_DEPS)

UNIT_TESTS += txq
UNIT_SRCS_txq := tests/unit/test_txq.c netdev/txq.c $(DRIVERS_VIRTIO_SRCS) \
	$(KERNEL_TEXT_SRCS) $(DRIVERS_HOST_SRCS)
UNIT_DEPS_txq := $(DRIVERS_HOST_DEPS) netdev/txq.h

# The virtio-mmio transport against a fake register bank (the test supplies
# the register accessors and clock_delay_us).
UNIT_TESTS += virtio_mmio
UNIT_SRCS_virtio_mmio := tests/unit/test_virtio_mmio.c drivers/virtio_mmio.c \
	drivers/virtio.c tests/unit/host_kernel_stubs.c \
	tests/unit/host_printf_stub.c
UNIT_DEPS_virtio_mmio := $(DRIVERS_HOST_DEPS)

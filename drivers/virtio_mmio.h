/* The virtio 1.x MMIO transport (version 2 register layout), for machines
 * without PCI: QEMU microvm, Firecracker. Devices are announced by the
 * loader, not discovered: on the command line as
 * virtio_mmio.device=SIZE@ADDR:IRQ[:ID] (Linux's form, which QEMU microvm
 * without ACPI and Firecracker pass) or in the ACPI DSDT (microvm with
 * ACPI). There is no MSI-X: one interrupt line per device, level-triggered,
 * with InterruptStatus saying why. */
#ifndef SKIFF_DRIVERS_VIRTIO_MMIO_H
#define SKIFF_DRIVERS_VIRTIO_MMIO_H

#include <stdint.h>

#include "drivers/virtio.h"

#define VIRTIO_MMIO_MAX_QUEUES 8
#define VIRTIO_MMIO_MIN_SIZE   0x100 /* registers, before any config space */
#define VIRTIO_MMIO_MAX_SIZE   0x100000

/* One window a loader announced. */
struct virtio_mmio_desc {
	uint64_t base;
	uint64_t size;
	uint32_t irq; /* GSI */
};

struct virtio_mmio {
	struct virtio_device vdev;
	volatile uint8_t *regs;
	uint64_t phys;
	uint64_t size;
	uint32_t irq;
	uint32_t version;
};

/* Appends every virtio_mmio.device= of cmdline to out (up to max), with
 * its values checked: size 0x100..1 MiB (K and M suffixes as Linux takes
 * them), base 0x100-aligned and the window below 4 GiB, irq 1..255.
 * Malformed ones are skipped and counted in *bad. Returns how many were
 * added. */
int virtio_mmio_parse_cmdline(const char *cmdline, struct virtio_mmio_desc *out,
			      int max, int *bad);
/* Probes the window (magic, version 2, device id) and fills vm: 0 when it
 * holds a device of this type, -ENODEV when it holds none or another one,
 * -ENOTSUP for the legacy layout. regs is the window, mapped. */
int virtio_mmio_attach(struct virtio_mmio *vm, volatile void *regs,
		       const struct virtio_mmio_desc *d, uint16_t device_type);
/* Reads and acknowledges the interrupt causes (VIRTIO_MMIO_INT_*): the
 * line drops once every cause is acknowledged. */
uint32_t virtio_mmio_ack_irq(struct virtio_mmio *vm);

#endif

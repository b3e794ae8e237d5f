/* The virtio 1.x modern PCI transport: finds the device's configuration
 * structures through its vendor capabilities and offers them as
 * struct virtio_transport_ops. */
#ifndef SKIFF_DRIVERS_VIRTIO_PCI_H
#define SKIFF_DRIVERS_VIRTIO_PCI_H

#include <stdint.h>

#include "drivers/pci.h"
#include "drivers/virtio.h"

#define VIRTIO_PCI_MAX_QUEUES 17 /* 8 queue pairs and the control queue */

struct virtio_pci {
	struct virtio_device vdev;
	struct pci_device *pci;
	volatile uint8_t *common; /* struct virtio_pci_common_cfg */
	volatile uint8_t *isr;
	volatile uint8_t *device_cfg;
	uint32_t device_cfg_len;
	volatile uint8_t *notify; /* notify region base */
	uint32_t notify_len;
	uint32_t notify_multiplier;
	volatile uint16_t *queue_notify[VIRTIO_PCI_MAX_QUEUES];
	/* One queue beyond those: the virtio-net control queue sits at
	 * 2 * max_virtqueue_pairs, past every pair the device has. */
	volatile uint16_t *extra_notify;
	uint16_t extra_idx;
};

/* Finds the first virtio function of this device type (1 = net). Returns
 * NULL when there is none; a legacy-only one is reported and skipped. */
struct pci_device *virtio_pci_find(uint16_t device_type);
/* Maps the capabilities (each bounds-checked against its BAR), enables the
 * function and MSI-X, and fills vp->vdev. Returns 0 or a negative errno
 * after logging why. */
int virtio_pci_attach(struct pci_device *pci, uint16_t device_type,
		      struct virtio_pci *vp);
/* Routes MSI-X table entry `entry` to CPU vector `vector`. */
int virtio_pci_route_vector(struct virtio_pci *vp, uint16_t entry,
			    uint8_t vector);
/* The same, delivered to the CPU with APIC ID dest (a queue's CPU). */
int virtio_pci_route_vector_to(struct virtio_pci *vp, uint16_t entry,
			       uint8_t vector, uint32_t dest);

#endif

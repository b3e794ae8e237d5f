/* Transport-neutral view of a virtio 1.x device. The PCI transport
 * (virtio_pci.c) fills one in; host tests fill one in with a simulated
 * device. Device drivers (virtio-net: drivers/vnet_*.c) only ever talk through
 * these ops. */
#ifndef SKIFF_DRIVERS_VIRTIO_H
#define SKIFF_DRIVERS_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Device status bits (virtio 1.x section 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER	  0x02
#define VIRTIO_STATUS_DRIVER_OK	  0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED	  0x80

/* Transport/ring feature bits (section 6). */
#define VIRTIO_F_INDIRECT_DESC	 28
#define VIRTIO_F_RING_EVENT_IDX	 29
#define VIRTIO_F_VERSION_1	 32
#define VIRTIO_F_ACCESS_PLATFORM 33

#define VIRTIO_MSI_NO_VECTOR 0xffff

struct virtio_device;

struct virtio_queue_addrs {
	uint64_t desc;	/* physical address of the descriptor table */
	uint64_t avail; /* physical address of the driver (avail) area */
	uint64_t used;	/* physical address of the device (used) area */
};

struct virtio_transport_ops {
	/* Writes 0 to device status and waits (bounded) until it reads back 0.
	 */
	int (*reset)(struct virtio_device *dev);
	uint8_t (*get_status)(struct virtio_device *dev);
	void (*set_status)(struct virtio_device *dev, uint8_t status);
	uint64_t (*get_features)(struct virtio_device *dev);
	void (*set_features)(struct virtio_device *dev, uint64_t features);
	/* Reads device-specific config, retrying while config_generation
	 * changes; returns 0 or a negative errno (e.g. out of bounds). */
	int (*read_config)(struct virtio_device *dev, uint32_t offset,
			   void *buf, uint32_t len);
	/* Largest size the device allows for queue idx; 0 = no such queue. */
	uint16_t (*queue_max_size)(struct virtio_device *dev, uint16_t idx);
	/* Programs size/addresses/MSI-X vector of queue idx and enables it.
	 * Returns 0 or a negative errno (-EIO if the device refused the
	 * vector). */
	int (*setup_queue)(struct virtio_device *dev, uint16_t idx,
			   uint16_t size,
			   const struct virtio_queue_addrs *addrs,
			   uint16_t msix_vector);
	/* Tells the device queue idx has new buffers. */
	void (*notify)(struct virtio_device *dev, uint16_t idx);
	/* Programs the config-change MSI-X vector (VIRTIO_MSI_NO_VECTOR =
	 * none). */
	int (*set_config_vector)(struct virtio_device *dev, uint16_t vector);
};

struct virtio_device {
	const struct virtio_transport_ops *ops;
	void *transport;    /* transport-private state */
	uint16_t device_id; /* virtio device type, 1 = net */
	uint64_t features;  /* negotiated (after FEATURES_OK) */
	bool msix;	    /* transport can deliver per-queue MSI-X */
	bool shared_irq;    /* one line for every source (virtio-mmio) */
	char name[32];	    /* e.g. "virtio-net@00:02.0" for logs */
};

static inline bool virtio_has_feature(const struct virtio_device *dev,
				      unsigned bit)
{
	return (dev->features >> bit) & 1;
}

/* Generic negotiation: reset, ACKNOWLEDGE|DRIVER, offer wanted & device
 * features, FEATURES_OK with read-back. required must all be offered or it
 * fails with -ENOTSUP (after setting FAILED). Implemented in virtio.c. */
int virtio_negotiate(struct virtio_device *dev, uint64_t wanted,
		     uint64_t required);
void virtio_driver_ok(struct virtio_device *dev);
void virtio_fail(struct virtio_device *dev);

#endif

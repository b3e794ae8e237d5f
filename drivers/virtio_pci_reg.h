/* virtio 1.x PCI transport layouts (virtio spec section 4.1). */
#ifndef SKIFF_DRIVERS_VIRTIO_PCI_REG_H
#define SKIFF_DRIVERS_VIRTIO_PCI_REG_H

#include <stddef.h>
#include <stdint.h>

#define VIRTIO_PCI_VENDOR 0x1af4
/* Modern device IDs are 0x1040 + device type; 0x1000-0x103f are
 * transitional (they may or may not also offer the modern interface). */
#define VIRTIO_PCI_MODERN_BASE	      0x1040
#define VIRTIO_PCI_TRANSITIONAL_FIRST 0x1000
#define VIRTIO_PCI_TRANSITIONAL_LAST  0x103f

/* cfg_type of a vendor capability */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG	  3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG	  5

struct virtio_pci_cap {
	uint8_t cap_vndr;
	uint8_t cap_next;
	uint8_t cap_len;
	uint8_t cfg_type;
	uint8_t bar;
	uint8_t id;
	uint8_t padding[2];
	uint32_t offset; /* little-endian */
	uint32_t length;
};
_Static_assert(sizeof(struct virtio_pci_cap) == 16, "virtio_pci_cap");
#define VIRTIO_PCI_NOTIFY_MULTIPLIER 16 /* offset of notify_off_multiplier */

/* Common configuration structure: offsets of its fields. */
struct virtio_pci_common_cfg {
	uint32_t device_feature_select;
	uint32_t device_feature;
	uint32_t driver_feature_select;
	uint32_t driver_feature;
	uint16_t config_msix_vector;
	uint16_t num_queues;
	uint8_t device_status;
	uint8_t config_generation;
	uint16_t queue_select;
	uint16_t queue_size;
	uint16_t queue_msix_vector;
	uint16_t queue_enable;
	uint16_t queue_notify_off;
	uint64_t queue_desc;
	uint64_t queue_driver;
	uint64_t queue_device;
};
_Static_assert(offsetof(struct virtio_pci_common_cfg, device_status) == 0x14,
	       "common cfg layout");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_desc) == 0x20,
	       "common cfg layout");
_Static_assert(sizeof(struct virtio_pci_common_cfg) == 0x38,
	       "common cfg layout");

#endif

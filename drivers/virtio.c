/* Transport-neutral device bring-up (virtio 1.x "Device Initialization"):
 * reset, ACKNOWLEDGE, DRIVER, feature negotiation with FEATURES_OK
 * read-back. The driver then sets up its queues and calls
 * virtio_driver_ok(); on any failure it calls virtio_fail(). */
#include "drivers/virtio.h"

#include "kernel/kerrno.h"
#include "kernel/log.h"

/* Status bits accumulate: each step keeps the ones already set. */
static void virtio_add_status(struct virtio_device *dev, uint8_t bits)
{
	dev->ops->set_status(dev, dev->ops->get_status(dev) | bits);
}

/* Logs which required features the device lacks, naming the one that
 * matters most: without VERSION_1 it is a legacy (virtio 0.9) device. */
static void virtio_log_missing(struct virtio_device *dev, uint64_t missing)
{
	if (missing & (1ULL << VIRTIO_F_VERSION_1))
		log_error("%s: device does not offer VIRTIO_F_VERSION_1: a "
			  "legacy-only device, not supported (use "
			  "disable-legacy=on or a virtio 1.x device)",
			  dev->name);
	log_error("%s: required features missing: %#llx", dev->name,
		  (unsigned long long)missing);
}

int virtio_negotiate(struct virtio_device *dev, uint64_t wanted,
		     uint64_t required)
{
	uint64_t offered, accepted;
	int err;

	err = dev->ops->reset(dev);
	if (err) {
		log_error("%s: device did not reset (%d)", dev->name, err);
		return err;
	}
	virtio_add_status(dev, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_add_status(dev, VIRTIO_STATUS_DRIVER);

	offered = dev->ops->get_features(dev);
	if ((offered & required) != required) {
		virtio_log_missing(dev, required & ~offered);
		virtio_fail(dev);
		return -ENOTSUP;
	}
	accepted = offered & (wanted | required);
	dev->ops->set_features(dev, accepted);
	virtio_add_status(dev, VIRTIO_STATUS_FEATURES_OK);

	/* The device clears FEATURES_OK if it cannot work with our subset. */
	if (!(dev->ops->get_status(dev) & VIRTIO_STATUS_FEATURES_OK)) {
		log_error("%s: device refused features %#llx (offered %#llx)",
			  dev->name, (unsigned long long)accepted,
			  (unsigned long long)offered);
		virtio_fail(dev);
		return -ENOTSUP;
	}
	dev->features = accepted;
	log_info("%s: features offered %#llx, accepted %#llx", dev->name,
		 (unsigned long long)offered, (unsigned long long)accepted);
	return 0;
}

void virtio_driver_ok(struct virtio_device *dev)
{
	virtio_add_status(dev, VIRTIO_STATUS_DRIVER_OK);
}

void virtio_fail(struct virtio_device *dev)
{
	virtio_add_status(dev, VIRTIO_STATUS_FAILED);
}

/* virtio 1.x modern PCI transport.
 *
 *   qemu ... -device virtio-net-pci,disable-legacy=on
 *
 * QEMU 7.2 puts the common cfg at BAR4+0x0, ISR at +0x1000, device cfg at
 * +0x2000 and notify at +0x3000, but nothing here assumes that: every
 * structure is found through its capability and checked against the BAR it
 * names before it is mapped. OVMF resets the device at ExitBootServices, so
 * the driver always performs the whole initialisation sequence. */
#include <string.h>

#include "drivers/pci_reg.h"
#include "drivers/virtio_pci.h"
#include "drivers/virtio_pci_reg.h"
#include "kernel/clock.h"
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "kernel/mmio.h"
#include "kernel/printf.h"

#define COMMON(vp, field)                                                      \
	((vp)->common + offsetof(struct virtio_pci_common_cfg, field))

static struct virtio_pci *to_vp(struct virtio_device *dev)
{
	return dev->transport;
}

static int vp_reset(struct virtio_device *dev)
{
	struct virtio_pci *vp = to_vp(dev);

	mmio_write8(COMMON(vp, device_status), 0);
	/* The device may finish the reset asynchronously: wait until status
	 * reads 0 (virtio 1.x 4.1.4.3.2), bounded to one second. */
	for (int i = 0; i < 100000; i++) {
		if (mmio_read8(COMMON(vp, device_status)) == 0)
			return 0;
		clock_delay_us(10);
	}
	return -ETIMEDOUT;
}

static uint8_t vp_get_status(struct virtio_device *dev)
{
	return mmio_read8(COMMON(to_vp(dev), device_status));
}

static void vp_set_status(struct virtio_device *dev, uint8_t status)
{
	mmio_write8(COMMON(to_vp(dev), device_status), status);
}

static uint64_t vp_get_features(struct virtio_device *dev)
{
	struct virtio_pci *vp = to_vp(dev);
	uint64_t f;

	mmio_write32(COMMON(vp, device_feature_select), 0);
	f = mmio_read32(COMMON(vp, device_feature));
	mmio_write32(COMMON(vp, device_feature_select), 1);
	f |= (uint64_t)mmio_read32(COMMON(vp, device_feature)) << 32;
	return f;
}

static void vp_set_features(struct virtio_device *dev, uint64_t f)
{
	struct virtio_pci *vp = to_vp(dev);

	mmio_write32(COMMON(vp, driver_feature_select), 0);
	mmio_write32(COMMON(vp, driver_feature), (uint32_t)f);
	mmio_write32(COMMON(vp, driver_feature_select), 1);
	mmio_write32(COMMON(vp, driver_feature), (uint32_t)(f >> 32));
}

static int vp_read_config(struct virtio_device *dev, uint32_t offset, void *buf,
			  uint32_t len)
{
	struct virtio_pci *vp = to_vp(dev);
	uint8_t *out = buf;

	if (!vp->device_cfg || offset > vp->device_cfg_len ||
	    len > vp->device_cfg_len - offset)
		return -EINVAL;
	/* A multi-byte field may change while we read it; the generation
	 * counter tells us to read again (virtio 1.x 2.4.1). */
	for (int tries = 0; tries < 100; tries++) {
		uint8_t gen = mmio_read8(COMMON(vp, config_generation));
		for (uint32_t i = 0; i < len; i++)
			out[i] = mmio_read8(vp->device_cfg + offset + i);
		if (mmio_read8(COMMON(vp, config_generation)) == gen)
			return 0;
	}
	return -EAGAIN;
}

static uint16_t vp_queue_max_size(struct virtio_device *dev, uint16_t idx)
{
	struct virtio_pci *vp = to_vp(dev);

	if (idx >= mmio_read16(COMMON(vp, num_queues)))
		return 0;
	mmio_write16(COMMON(vp, queue_select), idx);
	return mmio_read16(COMMON(vp, queue_size));
}

static int vp_setup_queue(struct virtio_device *dev, uint16_t idx,
			  uint16_t size, const struct virtio_queue_addrs *a,
			  uint16_t msix_vector)
{
	struct virtio_pci *vp = to_vp(dev);

	if (!vp_queue_max_size(dev, idx) ||
	    (idx >= VIRTIO_PCI_MAX_QUEUES && vp->extra_notify &&
	     idx != vp->extra_idx))
		return -EINVAL;
	mmio_write16(COMMON(vp, queue_select), idx);
	mmio_write16(COMMON(vp, queue_size), size);
	mmio_write64(COMMON(vp, queue_desc), a->desc);
	mmio_write64(COMMON(vp, queue_driver), a->avail);
	mmio_write64(COMMON(vp, queue_device), a->used);
	mmio_write16(COMMON(vp, queue_msix_vector), msix_vector);
	/* The device answers NO_VECTOR when it could not take the vector. */
	if (mmio_read16(COMMON(vp, queue_msix_vector)) != msix_vector)
		return -EIO;
	uint64_t off = (uint64_t)mmio_read16(COMMON(vp, queue_notify_off)) *
		       vp->notify_multiplier;
	if (off + 2 > vp->notify_len) {
		log_error("%s: queue %u notify offset %#llx outside its region",
			  dev->name, idx, (unsigned long long)off);
		return -EIO;
	}
	if (idx < VIRTIO_PCI_MAX_QUEUES) {
		vp->queue_notify[idx] = (volatile uint16_t *)(vp->notify + off);
	} else {
		vp->extra_notify = (volatile uint16_t *)(vp->notify + off);
		vp->extra_idx = idx;
	}
	mmio_write16(COMMON(vp, queue_enable), 1);
	return 0;
}

static void vp_notify(struct virtio_device *dev, uint16_t idx)
{
	struct virtio_pci *vp = to_vp(dev);

	if (idx < VIRTIO_PCI_MAX_QUEUES && vp->queue_notify[idx])
		mmio_write16(vp->queue_notify[idx], idx);
	else if (vp->extra_notify && idx == vp->extra_idx)
		mmio_write16(vp->extra_notify, idx);
}

static int vp_set_config_vector(struct virtio_device *dev, uint16_t vector)
{
	struct virtio_pci *vp = to_vp(dev);

	mmio_write16(COMMON(vp, config_msix_vector), vector);
	return mmio_read16(COMMON(vp, config_msix_vector)) == vector ? 0 : -EIO;
}

static const struct virtio_transport_ops virtio_pci_ops = {
    .reset = vp_reset,
    .get_status = vp_get_status,
    .set_status = vp_set_status,
    .get_features = vp_get_features,
    .set_features = vp_set_features,
    .read_config = vp_read_config,
    .queue_max_size = vp_queue_max_size,
    .setup_queue = vp_setup_queue,
    .notify = vp_notify,
    .set_config_vector = vp_set_config_vector,
};

static bool is_virtio_type(const struct pci_device *d, uint16_t type,
			   bool *transitional)
{
	if (d->vendor != VIRTIO_PCI_VENDOR)
		return false;
	*transitional = d->device >= VIRTIO_PCI_TRANSITIONAL_FIRST &&
			d->device <= VIRTIO_PCI_TRANSITIONAL_LAST;
	if (*transitional)
		return d->subsystem == type;
	return d->device == VIRTIO_PCI_MODERN_BASE + type;
}

static bool has_modern_caps(const struct pci_device *d)
{
	for (uint8_t c = pci_find_cap(d, PCI_CAP_ID_VENDOR, 0); c;
	     c = pci_find_cap(d, PCI_CAP_ID_VENDOR, c))
		if (pci_read8(d, c + 3) == VIRTIO_PCI_CAP_COMMON_CFG)
			return true;
	return false;
}

struct pci_device *virtio_pci_find(uint16_t type)
{
	for (int i = 0; i < pci_device_count(); i++) {
		struct pci_device *d = pci_device_at(i);
		bool transitional;
		if (!is_virtio_type(d, type, &transitional))
			continue;
		if (!has_modern_caps(d)) {
			log_error(
			    "virtio: %s (%04x:%04x) is a legacy-only device; "
			    "Skiff drives virtio 1.x only (QEMU: "
			    "-device virtio-net-pci,disable-legacy=on)",
			    d->addr, d->vendor, d->device);
			continue;
		}
		return d;
	}
	return NULL;
}

/* Maps the structure a capability describes, after checking it lies inside
 * its BAR. */
static volatile uint8_t *map_cap(struct pci_device *d, uint8_t cap,
				 uint32_t *len_out)
{
	struct virtio_pci_cap c;
	uint32_t w[4];

	for (int i = 0; i < 4; i++)
		w[i] = pci_read32(d, cap + 4 * i);
	memcpy(&c, w, sizeof(c));
	if (c.bar > 5 || d->bar[c.bar].io || !d->bar[c.bar].size) {
		log_error("virtio: %s capability type %u names unusable BAR%u",
			  d->addr, c.cfg_type, c.bar);
		return NULL;
	}
	if ((uint64_t)c.offset + c.length > d->bar[c.bar].size ||
	    c.length == 0) {
		log_error("virtio: %s capability type %u (%#x+%#x) outside "
			  "BAR%u (%#llx bytes)",
			  d->addr, c.cfg_type, c.offset, c.length, c.bar,
			  (unsigned long long)d->bar[c.bar].size);
		return NULL;
	}
	uint8_t *bar = pci_map_bar(d, c.bar);
	if (!bar)
		return NULL;
	*len_out = c.length;
	return bar + c.offset;
}

int virtio_pci_attach(struct pci_device *d, uint16_t type,
		      struct virtio_pci *vp)
{
	uint32_t len;

	memset(vp, 0, sizeof(*vp));
	vp->pci = d;
	for (uint8_t c = pci_find_cap(d, PCI_CAP_ID_VENDOR, 0); c;
	     c = pci_find_cap(d, PCI_CAP_ID_VENDOR, c)) {
		uint8_t cfg_type = pci_read8(d, c + 3);
		volatile uint8_t **slot = NULL;
		switch (cfg_type) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			slot = &vp->common;
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			slot = &vp->notify;
			break;
		case VIRTIO_PCI_CAP_ISR_CFG:
			slot = &vp->isr;
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			slot = &vp->device_cfg;
			break;
		default:
			continue;
		}
		if (*slot)
			continue; /* the first of each type is the preferred one
				   */
		*slot = map_cap(d, c, &len);
		if (!*slot)
			return -EIO;
		if (cfg_type == VIRTIO_PCI_CAP_COMMON_CFG &&
		    len < sizeof(struct virtio_pci_common_cfg)) {
			log_error("virtio: %s common config too small (%u)",
				  d->addr, len);
			return -EIO;
		}
		if (cfg_type == VIRTIO_PCI_CAP_DEVICE_CFG)
			vp->device_cfg_len = len;
		if (cfg_type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
			vp->notify_len = len;
			vp->notify_multiplier =
			    pci_read32(d, c + VIRTIO_PCI_NOTIFY_MULTIPLIER);
		}
	}
	if (!vp->common || !vp->notify || !vp->isr) {
		log_error("virtio: %s lacks a required capability (common %s, "
			  "notify %s, isr %s)",
			  d->addr, vp->common ? "ok" : "missing",
			  vp->notify ? "ok" : "missing",
			  vp->isr ? "ok" : "missing");
		return -ENODEV;
	}
	pci_enable(d);
	vp->vdev.msix = pci_msix_enable(d) == 0;
	vp->vdev.ops = &virtio_pci_ops;
	vp->vdev.transport = vp;
	vp->vdev.device_id = type;
	ksnprintf(vp->vdev.name, sizeof(vp->vdev.name), "virtio-%s@%s",
		  type == 1 ? "net" : "dev", d->addr);
	log_info("%s: PCI %s %04x:%04x", vp->vdev.name, d->addr, d->vendor,
		 d->device);
	for (int i = 0; i < 6; i++)
		if (d->bar[i].size)
			log_info("%s:   BAR%d %s %#llx size %#llx%s",
				 vp->vdev.name, i,
				 d->bar[i].io	  ? "io"
				 : d->bar[i].is64 ? "mem64"
						  : "mem32",
				 (unsigned long long)d->bar[i].addr,
				 (unsigned long long)d->bar[i].size,
				 d->bar[i].prefetch ? " prefetchable" : "");
	log_info("%s: MSI-X %s (%u entries)", vp->vdev.name,
		 vp->vdev.msix ? "on" : "unavailable", d->msix_entries);
	return 0;
}

int virtio_pci_route_vector(struct virtio_pci *vp, uint16_t entry,
			    uint8_t vector)
{
	return pci_msix_route(vp->pci, entry, vector);
}

int virtio_pci_route_vector_to(struct virtio_pci *vp, uint16_t entry,
			       uint8_t vector, uint32_t dest)
{
	return pci_msix_route_to(vp->pci, entry, vector, dest);
}

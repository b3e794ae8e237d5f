/* virtio 1.x MMIO transport (version 2).
 *
 *   qemu-system-x86_64 -M microvm,acpi=on -global
 * virtio-mmio.force-legacy=false \
 *       -netdev user,id=n0 -device virtio-net-device,netdev=n0 \
 *       -kernel build/skiff-pvh.elf
 *
 * QEMU 7.2 defaults virtio-mmio to the legacy (version 1) layout, which
 * this driver refuses with a message naming the option above. Every value
 * read from the window is checked: the magic, the version, queue sizes
 * against QueueNumMax, config reads against the window's size. */
#include <string.h>

#include "drivers/virtio_mmio.h"
#include "drivers/virtio_mmio_reg.h"
#include "kernel/clock.h"
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "kernel/mmio.h"
#include "kernel/printf.h"

#define WINDOW_LIMIT (1ULL << 32)
#define MAX_IRQ	     255

/* Register accessors. Host tests (tests/unit/test_virtio_mmio.c) replace
 * them with a fake register bank that reacts to every access. */
#ifdef SKIFF_HOST_TEST
uint32_t host_mmio_read32(const volatile void *addr);
void host_mmio_write32(volatile void *addr, uint32_t v);
uint8_t host_mmio_read8(const volatile void *addr);
#define vm_read32(vm, off)     host_mmio_read32((vm)->regs + (off))
#define vm_write32(vm, off, v) host_mmio_write32((vm)->regs + (off), (v))
#define vm_read8(vm, off)      host_mmio_read8((vm)->regs + (off))
#else
#define vm_read32(vm, off)     mmio_read32((vm)->regs + (off))
#define vm_write32(vm, off, v) mmio_write32((vm)->regs + (off), (v))
#define vm_read8(vm, off)      mmio_read8((vm)->regs + (off))
#endif

static struct virtio_mmio *to_vm(struct virtio_device *dev)
{
	return dev->transport;
}

static int vm_reset(struct virtio_device *dev)
{
	struct virtio_mmio *vm = to_vm(dev);

	vm_write32(vm, VIRTIO_MMIO_STATUS, 0);
	/* Bounded to one second, as for PCI (virtio 1.x 4.2.3.1.1 reads the
	 * status back after the reset). */
	for (int i = 0; i < 100000; i++) {
		if (vm_read32(vm, VIRTIO_MMIO_STATUS) == 0)
			return 0;
		clock_delay_us(10);
	}
	return -ETIMEDOUT;
}

static uint8_t vm_get_status(struct virtio_device *dev)
{
	return (uint8_t)vm_read32(to_vm(dev), VIRTIO_MMIO_STATUS);
}

static void vm_set_status(struct virtio_device *dev, uint8_t status)
{
	vm_write32(to_vm(dev), VIRTIO_MMIO_STATUS, status);
}

static uint64_t vm_get_features(struct virtio_device *dev)
{
	struct virtio_mmio *vm = to_vm(dev);
	uint64_t f;

	vm_write32(vm, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = vm_read32(vm, VIRTIO_MMIO_DEVICE_FEATURES);
	vm_write32(vm, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f |= (uint64_t)vm_read32(vm, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	return f;
}

static void vm_set_features(struct virtio_device *dev, uint64_t f)
{
	struct virtio_mmio *vm = to_vm(dev);

	vm_write32(vm, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vm_write32(vm, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	vm_write32(vm, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vm_write32(vm, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
}

static int vm_read_config(struct virtio_device *dev, uint32_t offset, void *buf,
			  uint32_t len)
{
	struct virtio_mmio *vm = to_vm(dev);
	uint64_t cfg_len = vm->size - VIRTIO_MMIO_CONFIG;
	uint8_t *out = buf;

	if (offset > cfg_len || len > cfg_len - offset)
		return -EINVAL;
	/* The generation counter says a multi-byte field changed under us
	 * (virtio 1.x 2.4.1). */
	for (int tries = 0; tries < 100; tries++) {
		uint32_t gen = vm_read32(vm, VIRTIO_MMIO_CONFIG_GENERATION);
		for (uint32_t i = 0; i < len; i++)
			out[i] = vm_read8(vm, VIRTIO_MMIO_CONFIG + offset + i);
		if (vm_read32(vm, VIRTIO_MMIO_CONFIG_GENERATION) == gen)
			return 0;
	}
	return -EAGAIN;
}

static uint16_t vm_queue_max_size(struct virtio_device *dev, uint16_t idx)
{
	struct virtio_mmio *vm = to_vm(dev);

	if (idx >= VIRTIO_MMIO_MAX_QUEUES)
		return 0;
	vm_write32(vm, VIRTIO_MMIO_QUEUE_SEL, idx);
	uint32_t max = vm_read32(vm, VIRTIO_MMIO_QUEUE_NUM_MAX);
	/* The split ring's size field is 16 bits: anything larger is a
	 * device bug, and clamping keeps a power of two. */
	return max > 32768 ? 32768 : (uint16_t)max;
}

static void write64(struct virtio_mmio *vm, uint32_t low, uint64_t v)
{
	vm_write32(vm, low, (uint32_t)v);
	vm_write32(vm, low + 4, (uint32_t)(v >> 32));
}

/* The MSI-X vector is ignored: the device's one line serves every queue. */
static int vm_setup_queue(struct virtio_device *dev, uint16_t idx,
			  uint16_t size, const struct virtio_queue_addrs *a,
			  uint16_t msix_vector)
{
	struct virtio_mmio *vm = to_vm(dev);
	uint16_t max = vm_queue_max_size(dev, idx);

	if (!max || size == 0 || size > max)
		return -EINVAL;
	/* vm_queue_max_size selected the queue. It must not be live. */
	if (vm_read32(vm, VIRTIO_MMIO_QUEUE_READY)) {
		log_error("%s: queue %u is already live", dev->name, idx);
		return -EIO;
	}
	vm_write32(vm, VIRTIO_MMIO_QUEUE_NUM, size);
	write64(vm, VIRTIO_MMIO_QUEUE_DESC_LOW, a->desc);
	write64(vm, VIRTIO_MMIO_QUEUE_DRIVER_LOW, a->avail);
	write64(vm, VIRTIO_MMIO_QUEUE_DEVICE_LOW, a->used);
	vm_write32(vm, VIRTIO_MMIO_QUEUE_READY, 1);
	if (vm_read32(vm, VIRTIO_MMIO_QUEUE_READY) != 1) {
		log_error("%s: queue %u did not become ready", dev->name, idx);
		return -EIO;
	}
	return 0;
}

static void vm_notify(struct virtio_device *dev, uint16_t idx)
{
	vm_write32(to_vm(dev), VIRTIO_MMIO_QUEUE_NOTIFY, idx);
}

/* Configuration changes arrive on the same line (INT_CONFIG). */
static int vm_set_config_vector(struct virtio_device *dev, uint16_t vector)
{
	return 0;
}

static const struct virtio_transport_ops virtio_mmio_ops = {
    .reset = vm_reset,
    .get_status = vm_get_status,
    .set_status = vm_set_status,
    .get_features = vm_get_features,
    .set_features = vm_set_features,
    .read_config = vm_read_config,
    .queue_max_size = vm_queue_max_size,
    .setup_queue = vm_setup_queue,
    .notify = vm_notify,
    .set_config_vector = vm_set_config_vector,
};

int virtio_mmio_attach(struct virtio_mmio *vm, volatile void *regs,
		       const struct virtio_mmio_desc *d, uint16_t device_type)
{
	memset(vm, 0, sizeof(*vm));
	vm->regs = regs;
	vm->phys = d->base;
	vm->size = d->size;
	vm->irq = d->irq;
	uint32_t magic = vm_read32(vm, VIRTIO_MMIO_MAGIC_VALUE);
	if (magic != VIRTIO_MMIO_MAGIC) {
		log_warn("virtio-mmio: %#llx: bad magic %#x",
			 (unsigned long long)d->base, magic);
		return -ENODEV;
	}
	vm->version = vm_read32(vm, VIRTIO_MMIO_VERSION);
	uint32_t id = vm_read32(vm, VIRTIO_MMIO_DEVICE_ID);
	if (id == 0)
		return -ENODEV; /* an empty slot: QEMU lists them all */
	if (vm->version == 1) {
		log_error("virtio-mmio: %#llx: device %u uses the legacy "
			  "layout (version 1); Skiff drives version 2 only "
			  "(QEMU: -global virtio-mmio.force-legacy=false)",
			  (unsigned long long)d->base, id);
		return -ENOTSUP;
	}
	if (vm->version != 2) {
		log_error("virtio-mmio: %#llx: unknown version %u",
			  (unsigned long long)d->base, vm->version);
		return -ENOTSUP;
	}
	if (id != device_type)
		return -ENODEV;
	vm->vdev.ops = &virtio_mmio_ops;
	vm->vdev.transport = vm;
	vm->vdev.device_id = device_type;
	vm->vdev.shared_irq = true;
	ksnprintf(vm->vdev.name, sizeof(vm->vdev.name), "virtio-%s@mmio%llx",
		  device_type == 1 ? "net" : "dev",
		  (unsigned long long)d->base);
	log_info("%s: virtio-mmio v2 at %#llx size %#llx, vendor %#x, GSI %u",
		 vm->vdev.name, (unsigned long long)d->base,
		 (unsigned long long)d->size,
		 vm_read32(vm, VIRTIO_MMIO_VENDOR_ID), d->irq);
	return 0;
}

uint32_t virtio_mmio_ack_irq(struct virtio_mmio *vm)
{
	uint32_t st = vm_read32(vm, VIRTIO_MMIO_INTERRUPT_STATUS) &
		      (VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);

	if (st)
		vm_write32(vm, VIRTIO_MMIO_INTERRUPT_ACK, st);
	return st;
}

/* ---- virtio_mmio.device=SIZE@ADDR:IRQ[:ID] ---- */

/* An unsigned number, decimal or 0x hex; NULL if there is none or it
 * overflows 64 bits. */
static const char *parse_number(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned base = 10;
	const char *start;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	start = s;
	for (;; s++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (v > (~0ULL - d) / base)
			return NULL;
		v = v * base + d;
	}
	if (s == start)
		return NULL;
	*out = v;
	return s;
}

/* One value "SIZE@ADDR:IRQ[:ID]" up to end; 0 or -EINVAL. */
static int parse_device(const char *s, const char *end,
			struct virtio_mmio_desc *d)
{
	uint64_t size, base, irq, id;

	s = parse_number(s, &size);
	if (!s)
		return -EINVAL;
	if (*s == 'K' || *s == 'k') {
		size <<= 10;
		s++;
	} else if (*s == 'M' || *s == 'm') {
		size <<= 20;
		s++;
	}
	if (*s++ != '@' || !(s = parse_number(s, &base)) || *s++ != ':' ||
	    !(s = parse_number(s, &irq)))
		return -EINVAL;
	if (s < end && *s == ':' && !(s = parse_number(s + 1, &id)))
		return -EINVAL;
	if (s != end)
		return -EINVAL;
	if (size < VIRTIO_MMIO_MIN_SIZE || size > VIRTIO_MMIO_MAX_SIZE ||
	    (base & 0xff) || base == 0 || base >= WINDOW_LIMIT ||
	    size > WINDOW_LIMIT - base || irq == 0 || irq > MAX_IRQ)
		return -EINVAL;
	d->base = base;
	d->size = size;
	d->irq = (uint32_t)irq;
	return 0;
}

int virtio_mmio_parse_cmdline(const char *cmdline, struct virtio_mmio_desc *out,
			      int max, int *bad)
{
	static const char key[] = "virtio_mmio.device=";
	const char *p = cmdline;
	int n = 0;

	*bad = 0;
	while (p && *p) {
		while (*p == ' ')
			p++;
		const char *end = p;
		while (*end && *end != ' ')
			end++;
		if ((size_t)(end - p) >= sizeof(key) - 1 &&
		    !strncmp(p, key, sizeof(key) - 1)) {
			struct virtio_mmio_desc d;
			if (parse_device(p + sizeof(key) - 1, end, &d))
				(*bad)++;
			else if (n < max)
				out[n++] = d;
		}
		p = end;
	}
	return n;
}

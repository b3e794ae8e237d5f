/* drivers/virtio_mmio.c against a fake register bank: a virtio-mmio
 * version 2 window whose registers react like QEMU's (selectors, reset,
 * queue ready, interrupt acknowledge, config generation) and log every
 * write, so tests check the exact sequence the driver performs. Also the
 * virtio_mmio.device= parser with good and hostile values. */
#include <stdint.h>
#include <string.h>

#include "drivers/virtio_mmio.h"
#include "drivers/virtio_mmio_reg.h"
#include "kernel/kerrno.h"
#include "tests/unit/check.h"
#include "tests/unit/host_kernel_stubs.h"

#define NQ	3
#define MAX_LOG 128

/* The fake device. */
static struct {
	uint8_t window[0x200]; /* only its address is used */
	uint32_t magic, version, device_id;
	uint64_t features, driver_features;
	uint32_t dev_sel, drv_sel, queue_sel, status, isr;
	uint32_t num_max[NQ], num[NQ], ready[NQ];
	uint64_t desc[NQ], driver[NQ], device[NQ];
	uint32_t generation;
	int bump_generation_reads; /* config reads that see it change */
	bool stuck_reset;	   /* status never reads back 0 */
	uint8_t config[0x100];
	uint32_t notified;
	struct {
		uint32_t off, val;
	} log[MAX_LOG];
	int nlog;
} dev;

static uint32_t off_of(const volatile void *addr)
{
	return (uint32_t)((const volatile uint8_t *)addr - dev.window);
}

static uint64_t *half(uint64_t *v, uint32_t off, uint32_t low, uint32_t val)
{
	if (off == low)
		*v = (*v & ~0xffffffffULL) | val;
	else
		*v = (*v & 0xffffffffULL) | (uint64_t)val << 32;
	return v;
}

uint32_t host_mmio_read32(const volatile void *addr)
{
	uint32_t off = off_of(addr), q = dev.queue_sel;

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return dev.magic;
	case VIRTIO_MMIO_VERSION:
		return dev.version;
	case VIRTIO_MMIO_DEVICE_ID:
		return dev.device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return 0x554d4551;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return dev.dev_sel == 0	  ? (uint32_t)dev.features
		       : dev.dev_sel == 1 ? (uint32_t)(dev.features >> 32)
					  : 0;
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return q < NQ ? dev.num_max[q] : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return q < NQ ? dev.ready[q] : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return dev.isr;
	case VIRTIO_MMIO_STATUS:
		return dev.stuck_reset ? 0x80 : dev.status;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		if (dev.bump_generation_reads > 0) {
			dev.bump_generation_reads--;
			return ++dev.generation;
		}
		return dev.generation;
	}
	return 0;
}

void host_mmio_write32(volatile void *addr, uint32_t v)
{
	uint32_t off = off_of(addr), q = dev.queue_sel;

	if (dev.nlog < MAX_LOG)
		dev.log[dev.nlog++] = (typeof(dev.log[0])){off, v};
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		dev.dev_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		dev.drv_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (dev.drv_sel < 2)
			half(&dev.driver_features, dev.drv_sel ? 4 : 0, 0, v);
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		dev.queue_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (q < NQ)
			dev.num[q] = v;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (q < NQ)
			dev.ready[q] = v & 1;
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		dev.notified |= 1u << v;
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		dev.isr &= ~v;
		break;
	case VIRTIO_MMIO_STATUS:
		dev.status = v;
		if (v == 0) { /* reset */
			memset(dev.ready, 0, sizeof(dev.ready));
			dev.isr = 0;
		}
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		if (q < NQ)
			half(&dev.desc[q], off, VIRTIO_MMIO_QUEUE_DESC_LOW, v);
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		if (q < NQ)
			half(&dev.driver[q], off, VIRTIO_MMIO_QUEUE_DRIVER_LOW,
			     v);
		break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		if (q < NQ)
			half(&dev.device[q], off, VIRTIO_MMIO_QUEUE_DEVICE_LOW,
			     v);
		break;
	}
}

uint8_t host_mmio_read8(const volatile void *addr)
{
	uint32_t off = off_of(addr);

	CHECK(off >= VIRTIO_MMIO_CONFIG && off < sizeof(dev.window));
	return dev.config[(off - VIRTIO_MMIO_CONFIG) % sizeof(dev.config)];
}

void clock_delay_us(uint64_t us)
{
}

static const struct virtio_mmio_desc desc = {0xfeb00e00, 0x200, 12};
static struct virtio_mmio vm;

static void fresh_device(void)
{
	memset(&dev, 0, sizeof(dev));
	dev.magic = VIRTIO_MMIO_MAGIC;
	dev.version = 2;
	dev.device_id = 1;
	dev.features = (1ULL << VIRTIO_F_VERSION_1) | 0x30bf8024ULL;
	for (int i = 0; i < NQ; i++)
		dev.num_max[i] = 256;
	for (unsigned i = 0; i < sizeof(dev.config); i++)
		dev.config[i] = (uint8_t)i;
}

static struct virtio_device *attached(void)
{
	fresh_device();
	CHECK_EQ(virtio_mmio_attach(&vm, dev.window, &desc, 1), 0);
	return &vm.vdev;
}

TEST(attach_checks_magic_version_and_id)
{
	host_log_quiet = true; /* the refusals below log errors on purpose */
	fresh_device();
	dev.magic = 0xffffffff; /* nothing there */
	CHECK_EQ(virtio_mmio_attach(&vm, dev.window, &desc, 1), -ENODEV);
	fresh_device();
	dev.version = 1; /* QEMU's default: legacy */
	CHECK_EQ(virtio_mmio_attach(&vm, dev.window, &desc, 1), -ENOTSUP);
	fresh_device();
	dev.version = 3;
	CHECK_EQ(virtio_mmio_attach(&vm, dev.window, &desc, 1), -ENOTSUP);
	fresh_device();
	dev.device_id = 0; /* an empty transport */
	CHECK_EQ(virtio_mmio_attach(&vm, dev.window, &desc, 1), -ENODEV);
	fresh_device();
	dev.device_id = 2; /* block, not net */
	CHECK_EQ(virtio_mmio_attach(&vm, dev.window, &desc, 1), -ENODEV);
	struct virtio_device *d = attached();
	CHECK(d->shared_irq);
	CHECK(!d->msix);
	CHECK_EQ(vm.irq, 12);
	CHECK_STR(d->name, "virtio-net@mmiofeb00e00");
	CHECK_EQ(dev.nlog, 0); /* probing writes nothing */
	host_log_quiet = false;
}

TEST(negotiation_sequence)
{
	struct virtio_device *d = attached();
	uint64_t want = 1ULL << 5; /* VIRTIO_NET_F_MAC */

	CHECK_EQ(virtio_negotiate(d, want, 1ULL << VIRTIO_F_VERSION_1), 0);
	CHECK_EQ(dev.driver_features, want | 1ULL << VIRTIO_F_VERSION_1);
	CHECK_EQ(dev.status, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				 VIRTIO_STATUS_FEATURES_OK);
	/* Reset first, then status bits accumulate. */
	CHECK_EQ(dev.log[0].off, VIRTIO_MMIO_STATUS);
	CHECK_EQ(dev.log[0].val, 0);
	CHECK_EQ(dev.log[1].val, VIRTIO_STATUS_ACKNOWLEDGE);
	CHECK_EQ(dev.log[2].val,
		 VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	virtio_driver_ok(d);
	CHECK(dev.status & VIRTIO_STATUS_DRIVER_OK);
}

TEST(reset_that_never_completes_times_out)
{
	struct virtio_device *d = attached();

	dev.stuck_reset = true;
	CHECK_EQ(d->ops->reset(d), -ETIMEDOUT);
}

TEST(queue_setup_writes_both_halves_and_ready)
{
	struct virtio_device *d = attached();
	struct virtio_queue_addrs a = {0x123456789000ULL, 0x1234567a0000ULL,
				       0x1234567b0000ULL};

	CHECK_EQ(d->ops->queue_max_size(d, 1), 256);
	CHECK_EQ(d->ops->setup_queue(d, 1, 128, &a, 7), 0);
	CHECK_EQ(dev.num[1], 128);
	CHECK_EQ(dev.desc[1], a.desc);
	CHECK_EQ(dev.driver[1], a.avail);
	CHECK_EQ(dev.device[1], a.used);
	CHECK_EQ(dev.ready[1], 1);
	/* Already live: refused, not reprogrammed under the device. */
	host_log_quiet = true;
	CHECK_EQ(d->ops->setup_queue(d, 1, 128, &a, 0), -EIO);
	host_log_quiet = false;
	/* Bigger than QueueNumMax, zero, or a queue that does not exist. */
	CHECK_EQ(d->ops->setup_queue(d, 0, 512, &a, 0), -EINVAL);
	CHECK_EQ(d->ops->setup_queue(d, 0, 0, &a, 0), -EINVAL);
	CHECK_EQ(d->ops->setup_queue(d, 5, 64, &a, 0), -EINVAL);
	CHECK_EQ(d->ops->queue_max_size(d, VIRTIO_MMIO_MAX_QUEUES), 0);
	/* A device claiming more than a 16-bit ring is clamped. */
	dev.num_max[2] = 0x10000;
	CHECK_EQ(d->ops->queue_max_size(d, 2), 32768);
	d->ops->notify(d, 1);
	CHECK_EQ(dev.notified, 1u << 1);
	/* A reset takes every queue down. */
	CHECK_EQ(d->ops->reset(d), 0);
	CHECK_EQ(dev.ready[1], 0);
}

TEST(config_reads_bounded_and_generation_checked)
{
	struct virtio_device *d = attached();
	uint8_t mac[6];

	CHECK_EQ(d->ops->read_config(d, 0, mac, 6), 0);
	CHECK_EQ(mac[0], 0);
	CHECK_EQ(mac[5], 5);
	/* The window is 0x200: 0x100 bytes of config space. */
	CHECK_EQ(d->ops->read_config(d, 0xfa, mac, 6), 0);
	CHECK_EQ(d->ops->read_config(d, 0xfb, mac, 6), -EINVAL);
	CHECK_EQ(d->ops->read_config(d, 0xffffffff, mac, 6), -EINVAL);
	/* A generation change mid-read makes it read again. */
	dev.bump_generation_reads = 1;
	CHECK_EQ(d->ops->read_config(d, 2, mac, 2), 0);
	CHECK_EQ(mac[0], 2);
	/* One that never settles gives up. */
	dev.bump_generation_reads = 1000;
	CHECK_EQ(d->ops->read_config(d, 2, mac, 2), -EAGAIN);
}

TEST(interrupt_status_acknowledged)
{
	attached();
	dev.isr = VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG | 0x80;
	CHECK_EQ(virtio_mmio_ack_irq(&vm), 3);
	CHECK_EQ(dev.log[dev.nlog - 1].off, VIRTIO_MMIO_INTERRUPT_ACK);
	CHECK_EQ(dev.log[dev.nlog - 1].val, 3);
	CHECK_EQ(dev.isr, 0x80); /* unknown bits are not ours to ack */
	int before = dev.nlog;
	dev.isr = 0;
	CHECK_EQ(virtio_mmio_ack_irq(&vm), 0);
	CHECK_EQ(dev.nlog, before); /* nothing to acknowledge, no write */
}

TEST(cmdline_devices)
{
	struct virtio_mmio_desc d[4];
	int bad;

	/* QEMU microvm's form, a Firecracker-style one with K and an id,
	 * and other keys around them. */
	int n = virtio_mmio_parse_cmdline(
	    "ip=10.0.0.2/24 virtio_mmio.device=512@0xfeb00e00:12 "
	    "console=ttyS0 virtio_mmio.device=4K@0xd0001000:6:3",
	    d, 4, &bad);
	CHECK_EQ(n, 2);
	CHECK_EQ(bad, 0);
	CHECK_EQ(d[0].base, 0xfeb00e00);
	CHECK_EQ(d[0].size, 512);
	CHECK_EQ(d[0].irq, 12);
	CHECK_EQ(d[1].base, 0xd0001000);
	CHECK_EQ(d[1].size, 4096);
	CHECK_EQ(d[1].irq, 6);
	CHECK_EQ(virtio_mmio_parse_cmdline("virtio_mmio.device=0x200@"
					   "0xfeb00000:5",
					   d, 4, &bad),
		 1);
	CHECK_EQ(d[0].size, 0x200);
	/* More devices than room: the first ones are kept. */
	CHECK_EQ(virtio_mmio_parse_cmdline("virtio_mmio.device=512@0x1000:1 "
					   "virtio_mmio.device=512@0x2000:2 "
					   "virtio_mmio.device=512@0x3000:3",
					   d, 2, &bad),
		 2);
	CHECK_EQ(d[1].base, 0x2000);
	CHECK_EQ(virtio_mmio_parse_cmdline("", d, 4, &bad), 0);
}

TEST(cmdline_hostile_values_rejected)
{
	static const char *const bad_ones[] = {
	    "virtio_mmio.device=",
	    "virtio_mmio.device=512",
	    "virtio_mmio.device=512@0xfeb00e00",
	    "virtio_mmio.device=512@0xfeb00e00:",
	    "virtio_mmio.device=512@0xfeb00e01:12",  /* misaligned */
	    "virtio_mmio.device=16@0xfeb00e00:12",   /* too small */
	    "virtio_mmio.device=2M@0xfeb00e00:12",   /* too big */
	    "virtio_mmio.device=512@0x0:12",	     /* nothing at 0 */
	    "virtio_mmio.device=512@0x100000000:12", /* above 4 GiB */
	    "virtio_mmio.device=4K@0xfffff800:12",   /* wraps 4 GiB */
	    "virtio_mmio.device=512@0xfeb00e00:0",   /* no IRQ 0 */
	    "virtio_mmio.device=512@0xfeb00e00:256", /* no such GSI */
	    "virtio_mmio.device=512@0xfeb00e00:12x", /* trailing junk */
	    "virtio_mmio.device=512@0xfeb00e00:12:", /* empty id */
	    "virtio_mmio.device=99999999999999999999999@0x1000:1",
	    "virtio_mmio.device=512@0x1ffffffffffffffffff:1",
	    "virtio_mmio.device=0x@0x1000:1",
	};
	struct virtio_mmio_desc d[2];
	int bad;

	for (unsigned i = 0; i < sizeof(bad_ones) / sizeof(bad_ones[0]); i++) {
		int n = virtio_mmio_parse_cmdline(bad_ones[i], d, 2, &bad);
		if (n != 0 || bad != 1)
			fprintf(stderr, "  accepted: %s\n", bad_ones[i]);
		CHECK_EQ(n, 0);
		CHECK_EQ(bad, 1);
	}
	/* A key that merely starts the same is not ours. */
	CHECK_EQ(virtio_mmio_parse_cmdline("virtio_mmio.devices=512@0x1000:1",
					   d, 2, &bad),
		 0);
	CHECK_EQ(bad, 0);
}

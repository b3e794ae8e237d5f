/* PCI enumeration and configuration.
 *
 *   q35: ACPI MCFG gives the ECAM window (0xb0000000); the NIC is 00:02.0
 *        (00:01.0 with -nodefaults).
 *   pc:  no MCFG; configuration goes through ports 0xcf8/0xcfc.
 *
 * OVMF has already assigned BAR addresses (virtio's 64-bit BAR sits at
 * 0xe0_0000_0000); Skiff sizes them, maps them uncached and turns on memory
 * decoding and bus mastering. Everything read from a device is checked
 * before it is used to compute an address. */
#include <string.h>

#include "drivers/pci.h"
#include "drivers/pci_reg.h"
#include "kernel/acpi.h"
#include "kernel/apic.h"
#include "kernel/cpu.h"
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "kernel/mmio.h"
#include "kernel/paging.h"
#include "kernel/printf.h"

#define CONFIG_ADDRESS 0xcf8
#define CONFIG_DATA    0xcfc

struct mcfg_entry {
	uint64_t base;
	uint16_t segment;
	uint8_t start_bus, end_bus;
	uint32_t reserved;
} __attribute__((packed));

static volatile uint8_t *ecam; /* NULL: use the I/O ports */
static uint8_t ecam_start_bus, ecam_end_bus;
static struct pci_device devices[PCI_MAX_DEVICES];
static int ndevices;

static volatile uint8_t *ecam_addr(uint8_t bus, uint8_t dev, uint8_t fn,
				   uint16_t off)
{
	return ecam + (((uint64_t)(bus - ecam_start_bus) << 20) |
		       ((uint64_t)dev << 15) | ((uint64_t)fn << 12) |
		       (off & 0xfff));
}

static uint32_t port_addr(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	return 0x80000000u | (uint32_t)bus << 16 | (uint32_t)dev << 11 |
	       (uint32_t)fn << 8 | (off & 0xfc);
}

static uint32_t cfg_read32(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	if (ecam)
		return mmio_read32(ecam_addr(bus, dev, fn, off & ~3));
	outl(CONFIG_ADDRESS, port_addr(bus, dev, fn, off));
	return inl(CONFIG_DATA);
}

static void cfg_write32(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off,
			uint32_t v)
{
	if (ecam) {
		mmio_write32(ecam_addr(bus, dev, fn, off & ~3), v);
		return;
	}
	outl(CONFIG_ADDRESS, port_addr(bus, dev, fn, off));
	outl(CONFIG_DATA, v);
}

uint32_t pci_read32(const struct pci_device *d, uint16_t off)
{
	return cfg_read32(d->bus, d->dev, d->fn, off);
}

uint16_t pci_read16(const struct pci_device *d, uint16_t off)
{
	return (uint16_t)(pci_read32(d, off & ~3) >> ((off & 2) * 8));
}

uint8_t pci_read8(const struct pci_device *d, uint16_t off)
{
	return (uint8_t)(pci_read32(d, off & ~3) >> ((off & 3) * 8));
}

void pci_write32(const struct pci_device *d, uint16_t off, uint32_t v)
{
	cfg_write32(d->bus, d->dev, d->fn, off, v);
}

/* Read-modify-write of the containing dword. Safe for the registers Skiff
 * writes (command, MSI-X control): their neighbours are read-only or
 * write-1-to-clear bits we write back as read (status: we mask those). */
void pci_write16(const struct pci_device *d, uint16_t off, uint16_t v)
{
	uint32_t dw = pci_read32(d, off & ~3);
	int shift = (off & 2) * 8;

	dw &= ~(0xffffu << shift);
	if ((off & ~3) == PCI_COMMAND)
		dw &= 0x0000ffffu; /* never write 1s back into status (RW1C) */
	dw |= (uint32_t)v << shift;
	pci_write32(d, off & ~3, dw);
}

static void find_ecam(void)
{
	const struct acpi_header *mcfg = acpi_find_table("MCFG");

	if (!mcfg || mcfg->length < 44 + sizeof(struct mcfg_entry))
		return;
	const struct mcfg_entry *e = (const void *)((const uint8_t *)mcfg + 44);
	/* Segment 0 only: Skiff's machines have one PCI segment. */
	if (e->segment != 0 || e->end_bus < e->start_bus)
		return;
	uint64_t size = (uint64_t)(e->end_bus - e->start_bus + 1) << 20;
	ecam = paging_map_mmio(e->base, size);
	ecam_start_bus = e->start_bus;
	ecam_end_bus = e->end_bus;
	if (ecam)
		log_info("pci: ECAM at %#llx, buses %u-%u (ACPI MCFG)",
			 (unsigned long long)e->base, e->start_bus, e->end_bus);
}

const char *pci_access_method(void)
{
	return ecam ? "ECAM" : "ports 0xcf8/0xcfc";
}

/* Sizes BAR i by writing all ones with decoding off; returns how many BAR
 * slots it used (2 for a 64-bit BAR). */
static int probe_bar(struct pci_device *d, int i)
{
	uint16_t off = PCI_BAR0 + 4 * i;
	uint32_t lo = pci_read32(d, off);
	struct pci_bar *b = &d->bar[i];

	pci_write32(d, off, 0xffffffff);
	uint32_t mask_lo = pci_read32(d, off);
	pci_write32(d, off, lo);
	if (lo & PCI_BAR_IO) {
		b->io = true;
		b->addr = lo & ~3u;
		b->size = (uint16_t)(~(mask_lo & ~3u) + 1);
		return 1;
	}
	b->prefetch = lo & PCI_BAR_PREFETCH;
	uint64_t addr = lo & ~0xfu, mask = mask_lo & ~0xfu;
	if ((lo & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_64 && i < 5) {
		uint32_t hi = pci_read32(d, off + 4);
		pci_write32(d, off + 4, 0xffffffff);
		uint32_t mask_hi = pci_read32(d, off + 4);
		pci_write32(d, off + 4, hi);
		addr |= (uint64_t)hi << 32;
		mask |= (uint64_t)mask_hi << 32;
		b->is64 = true;
	} else {
		mask |= 0xffffffff00000000ULL;
	}
	b->addr = addr;
	b->size = mask ? ~mask + 1 : 0;
	if (!addr)
		b->size = 0; /* unassigned: treat as absent */
	return b->is64 ? 2 : 1;
}

static void add_function(uint8_t bus, uint8_t dev, uint8_t fn)
{
	uint32_t id = cfg_read32(bus, dev, fn, PCI_VENDOR_ID);
	struct pci_device *d;

	if ((id & 0xffff) == 0xffff)
		return;
	if (ndevices == PCI_MAX_DEVICES) {
		log_warn("pci: more than %d functions; ignoring %02x:%02x.%x",
			 PCI_MAX_DEVICES, bus, dev, fn);
		return;
	}
	d = &devices[ndevices++];
	memset(d, 0, sizeof(*d));
	d->bus = bus;
	d->dev = dev;
	d->fn = fn;
	d->vendor = id & 0xffff;
	d->device = id >> 16;
	uint32_t cls = pci_read32(d, PCI_CLASS_REVISION);
	d->class_code = cls >> 24;
	d->subclass = cls >> 16;
	d->prog_if = cls >> 8;
	ksnprintf(d->addr, sizeof(d->addr), "%02x:%02x.%x", bus, dev, fn);
	if ((pci_read8(d, PCI_HEADER_TYPE) & 0x7f) != 0)
		return; /* bridges: no BARs of interest */
	d->subsystem = pci_read16(d, PCI_SUBSYSTEM_ID);
	uint16_t cmd = pci_read16(d, PCI_COMMAND);
	pci_write16(d, PCI_COMMAND,
		    cmd & ~(PCI_COMMAND_MEMORY | PCI_COMMAND_IO));
	for (int i = 0; i < 6;)
		i += probe_bar(d, i);
	pci_write16(d, PCI_COMMAND, cmd);
	d->msix_cap = pci_find_cap(d, PCI_CAP_ID_MSIX, 0);
	if (d->msix_cap)
		d->msix_entries = (pci_read16(d, d->msix_cap + PCI_MSIX_FLAGS) &
				   PCI_MSIX_FLAGS_QSIZE) +
				  1;
	log_debug("pci: %s %04x:%04x class %02x%02x", d->addr, d->vendor,
		  d->device, d->class_code, d->subclass);
}

/* Configuration mechanism #1 is there when CONFIG_ADDRESS reads back
 * what was written (the test Linux makes). Without it (microvm, whose
 * unclaimed ports read all ones) the scan below would make 8192 reads of
 * nothing: ~0.25 ms of a microvm boot under TCG. */
static bool ports_present(void)
{
	uint32_t saved = inl(CONFIG_ADDRESS);

	outl(CONFIG_ADDRESS, 0x80000000u);
	bool present = inl(CONFIG_ADDRESS) == 0x80000000u;
	outl(CONFIG_ADDRESS, saved);
	return present;
}

/* The bus behind a PCI-to-PCI bridge (a PCIe root or switch port too),
 * when the firmware numbered it above this one; 0: none to scan. */
static unsigned bridge_secondary(uint8_t bus, uint8_t dev, uint8_t fn)
{
	uint32_t ht = cfg_read32(bus, dev, fn, 0x0c) >> 16;

	if ((ht & PCI_HEADER_TYPE_MASK) != PCI_HEADER_TYPE_BRIDGE)
		return 0;
	uint8_t sec =
	    (uint8_t)(cfg_read32(bus, dev, fn, PCI_SECONDARY_BUS & ~3) >> 8);
	return sec > bus ? sec : 0;
}

/* Adds every function of one bus and queues the buses behind its bridges. */
static void scan_bus(unsigned bus, uint8_t *queue, unsigned *tail,
		     uint8_t *seen, unsigned first, unsigned last)
{
	for (uint8_t dev = 0; dev < 32; dev++) {
		uint32_t id = cfg_read32(bus, dev, 0, PCI_VENDOR_ID);
		if ((id & 0xffff) == 0xffff)
			continue;
		uint8_t ht = (uint8_t)(cfg_read32(bus, dev, 0, 0x0c) >> 16);
		int nfn = (ht & PCI_HEADER_MULTIFUNCTION) ? 8 : 1;
		for (int fn = 0; fn < nfn; fn++) {
			add_function(bus, dev, fn);
			unsigned sec = bridge_secondary(bus, dev, fn);
			if (sec < first || sec > last ||
			    seen[sec / 8] & (1u << sec % 8))
				continue;
			seen[sec / 8] |= 1u << sec % 8;
			queue[(*tail)++] = (uint8_t)sec;
		}
	}
}

/* Breadth first from the first bus through the bridges, as the firmware
 * numbered them: a q35 or pc machine answers on a handful of buses, and
 * probing all 256 was 8192 vendor reads (q35: ECAM accesses, pc: two
 * port accesses each). Each bus is queued once (seen), so the queue never
 * holds more than 256. Root buses that no bridge leads to (QEMU's pxb
 * expanders, listed only in ACPI) are not searched. */
void pci_init(void)
{
	static uint8_t queue[256], seen[256 / 8];
	unsigned head = 0, tail = 0;

	find_ecam();
	unsigned last_bus = ecam ? ecam_end_bus : 255;
	unsigned first_bus = ecam ? ecam_start_bus : 0;
	ndevices = 0;
	if (!ecam && !ports_present()) {
		log_info("pci: no ECAM and no configuration ports: no PCI");
		return;
	}
	memset(seen, 0, sizeof(seen));
	seen[first_bus / 8] |= 1u << first_bus % 8;
	queue[tail++] = (uint8_t)first_bus;
	while (head < tail)
		scan_bus(queue[head++], queue, &tail, seen, first_bus,
			 last_bus);
	log_info("pci: %d functions on %u bus%s via %s", ndevices, tail,
		 tail == 1 ? "" : "es", pci_access_method());
}

int pci_device_count(void)
{
	return ndevices;
}

struct pci_device *pci_device_at(int i)
{
	return (i >= 0 && i < ndevices) ? &devices[i] : NULL;
}

uint8_t pci_find_cap(const struct pci_device *d, uint8_t id, uint8_t start)
{
	if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	uint8_t off =
	    start ? pci_read8(d, start + 1) : pci_read8(d, PCI_CAPABILITY_LIST);
	/* At most 48 capabilities fit in 256 bytes: bounds a looped list. */
	for (int n = 0; n < 48 && off >= 0x40; n++) {
		off &= ~3;
		if (pci_read8(d, off) == id)
			return off;
		off = pci_read8(d, off + 1);
	}
	return 0;
}

void *pci_map_bar(struct pci_device *d, int i)
{
	struct pci_bar *b;

	if (i < 0 || i > 5)
		return NULL;
	b = &d->bar[i];
	if (b->mapped)
		return b->mapped;
	if (b->io || !b->addr || !b->size || b->size > (1ULL << 32))
		return NULL;
	b->mapped = paging_map_mmio(b->addr, b->size);
	return b->mapped;
}

void pci_enable(struct pci_device *d)
{
	uint16_t cmd = pci_read16(d, PCI_COMMAND);

	pci_write16(d, PCI_COMMAND,
		    cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			PCI_COMMAND_INTX_DISABLE);
}

int pci_msix_enable(struct pci_device *d)
{
	if (!d->msix_cap)
		return -ENODEV;
	uint32_t table = pci_read32(d, d->msix_cap + PCI_MSIX_TABLE);
	int bir = table & PCI_MSIX_BIR_MASK;
	uint64_t off = table & ~PCI_MSIX_BIR_MASK;
	uint8_t *bar = bir < 6 ? pci_map_bar(d, bir) : NULL;

	if (!bar || off + (uint64_t)d->msix_entries * PCI_MSIX_ENTRY_SIZE >
			d->bar[bir].size) {
		log_warn("pci: %s MSI-X table outside BAR%d", d->addr, bir);
		return -EIO;
	}
	d->msix_table = bar + off;
	for (uint16_t i = 0; i < d->msix_entries; i++)
		mmio_write32(d->msix_table + i * PCI_MSIX_ENTRY_SIZE +
				 PCI_MSIX_ENTRY_CTRL,
			     PCI_MSIX_ENTRY_CTRL_MASKED);
	uint16_t ctl = pci_read16(d, d->msix_cap + PCI_MSIX_FLAGS);
	pci_write16(d, d->msix_cap + PCI_MSIX_FLAGS,
		    (ctl | PCI_MSIX_FLAGS_ENABLE) & ~PCI_MSIX_FLAGS_MASKALL);
	return 0;
}

static int pci_msix_write(struct pci_device *d, uint16_t entry, uint64_t addr,
			  uint32_t data)
{
	if (!d->msix_table || entry >= d->msix_entries)
		return -EINVAL;
	volatile uint8_t *e = d->msix_table + entry * PCI_MSIX_ENTRY_SIZE;
	mmio_write32(e + PCI_MSIX_ENTRY_ADDR_LO, (uint32_t)addr);
	mmio_write32(e + PCI_MSIX_ENTRY_ADDR_HI, (uint32_t)(addr >> 32));
	mmio_write32(e + PCI_MSIX_ENTRY_DATA, data);
	mmio_write32(e + PCI_MSIX_ENTRY_CTRL, 0); /* unmask */
	return 0;
}

int pci_msix_route(struct pci_device *d, uint16_t entry, uint8_t vector)
{
	uint64_t addr;
	uint32_t data;

	apic_msi_message(vector, &addr, &data);
	return pci_msix_write(d, entry, addr, data);
}

int pci_msix_route_to(struct pci_device *d, uint16_t entry, uint8_t vector,
		      uint32_t dest)
{
	uint64_t addr;
	uint32_t data;

	if (apic_msi_message_to(dest, vector, &addr, &data))
		return -EINVAL;
	return pci_msix_write(d, entry, addr, data);
}

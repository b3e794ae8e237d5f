/* I/O APIC driver. Registers are reached through an index (IOREGSEL, +0x00)
 * and a data window (IOWIN, +0x10); redirection entry n is the 64-bit pair
 * at indices 0x10 + 2n. Every count read from the chip or the MADT is
 * bounded before it is used. */
#include <string.h>

#include "kernel/acpi.h"
#include "kernel/apic.h"
#include "kernel/ioapic.h"
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "kernel/mmio.h"
#include "kernel/paging.h"

#define IOAPIC_DEFAULT_BASE 0xfec00000ULL
#define IOAPIC_MAX	    8
#define IOAPIC_ISO_MAX	    16
#define IOREGSEL	    0x00
#define IOWIN		    0x10
#define IOAPIC_REG_VER	    0x01
#define IOAPIC_REG_REDTBL   0x10
#define RTE_POLARITY_LOW    (1u << 13)
#define RTE_TRIGGER_LEVEL   (1u << 15)
#define RTE_MASKED	    (1u << 16)
#define MADT_IOAPIC	    1
#define MADT_ISO	    2
#define MADT_ENTRIES_OFFSET 44 /* header (36) + local APIC address + flags */
#define MPS_POLARITY_MASK   0x3
#define MPS_POLARITY_LOW    0x3
#define MPS_TRIGGER_MASK    0xc
#define MPS_TRIGGER_LEVEL   0xc

struct ioapic {
	volatile uint8_t *regs;
	uint64_t phys;
	uint32_t gsi_base;
	uint32_t entries; /* redirection entries, from the version register */
};

/* An ISA IRQ that does not arrive on the same-numbered GSI, edge/high. */
struct iso {
	uint8_t irq;
	uint32_t gsi;
	uint16_t flags; /* MPS INTI flags: polarity bits 0-1, trigger 2-3 */
};

static struct ioapic ioapics[IOAPIC_MAX];
static int nioapics;
static struct iso isos[IOAPIC_ISO_MAX];
static int nisos;

static uint32_t rd(const struct ioapic *io, uint32_t reg)
{
	mmio_write32(io->regs + IOREGSEL, reg);
	return mmio_read32(io->regs + IOWIN);
}

static void wr(const struct ioapic *io, uint32_t reg, uint32_t v)
{
	mmio_write32(io->regs + IOREGSEL, reg);
	mmio_write32(io->regs + IOWIN, v);
}

static void add_ioapic(uint64_t phys, uint32_t gsi_base)
{
	if (nioapics == IOAPIC_MAX || !phys || (phys & 0xfff) ||
	    phys >= (1ULL << 32)) {
		log_warn("ioapic: ignoring I/O APIC at %#llx (GSI %u)",
			 (unsigned long long)phys, gsi_base);
		return;
	}
	struct ioapic *io = &ioapics[nioapics];
	io->regs = paging_map_mmio(phys, 4096);
	if (!io->regs)
		return;
	uint32_t ver = rd(io, IOAPIC_REG_VER);
	/* A floating bus reads all ones; the chip has at most 240 entries. */
	uint32_t max = (ver >> 16) & 0xff;
	if (ver == 0xffffffffu || max >= 240) {
		log_warn("ioapic: nothing sane at %#llx (version %#x)",
			 (unsigned long long)phys, ver);
		return;
	}
	io->phys = phys;
	io->gsi_base = gsi_base;
	io->entries = max + 1;
	for (uint32_t i = 0; i < io->entries; i++) {
		wr(io, IOAPIC_REG_REDTBL + 2 * i, RTE_MASKED);
		wr(io, IOAPIC_REG_REDTBL + 2 * i + 1, 0);
	}
	nioapics++;
	log_info("ioapic: %#llx, GSI %u-%u, version %#x",
		 (unsigned long long)phys, gsi_base, gsi_base + io->entries - 1,
		 ver & 0xff);
}

static void parse_madt(const struct acpi_header *madt)
{
	const uint8_t *p = (const uint8_t *)madt + MADT_ENTRIES_OFFSET;
	const uint8_t *end = (const uint8_t *)madt + madt->length;

	while (p + 2 <= end) {
		uint8_t type = p[0], len = p[1];
		if (len < 2 || p + len > end)
			break; /* a malformed entry ends the walk */
		if (type == MADT_IOAPIC && len >= 12) {
			uint32_t addr, gsi;
			memcpy(&addr, p + 4, 4);
			memcpy(&gsi, p + 8, 4);
			add_ioapic(addr, gsi);
		} else if (type == MADT_ISO && len >= 10 &&
			   nisos < IOAPIC_ISO_MAX) {
			struct iso *o = &isos[nisos++];
			o->irq = p[3];
			memcpy(&o->gsi, p + 4, 4);
			memcpy(&o->flags, p + 8, 2);
		}
		p += len;
	}
}

int ioapic_init(void)
{
	const struct acpi_header *madt = acpi_find_table("APIC");

	if (madt && madt->length > MADT_ENTRIES_OFFSET)
		parse_madt(madt);
	if (!nioapics) /* no ACPI (microvm acpi=off, older Firecracker) */
		add_ioapic(IOAPIC_DEFAULT_BASE, 0);
	if (nisos)
		log_info("ioapic: %d interrupt source overrides", nisos);
	return nioapics;
}

static struct ioapic *serving(uint32_t gsi)
{
	for (int i = 0; i < nioapics; i++)
		if (gsi >= ioapics[i].gsi_base &&
		    gsi - ioapics[i].gsi_base < ioapics[i].entries)
			return &ioapics[i];
	return NULL;
}

int ioapic_route(uint32_t gsi, uint8_t vector, enum ioapic_trigger trigger,
		 enum ioapic_polarity polarity, bool masked)
{
	struct ioapic *io = serving(gsi);

	if (!io)
		return -ENODEV;
	uint32_t pin = gsi - io->gsi_base;
	uint32_t lo = vector |
		      (polarity == IOAPIC_ACTIVE_LOW ? RTE_POLARITY_LOW : 0) |
		      (trigger == IOAPIC_LEVEL ? RTE_TRIGGER_LEVEL : 0) |
		      (masked ? RTE_MASKED : 0);
	/* Fixed delivery, physical destination: this CPU. Mask while the
	 * two halves disagree. */
	wr(io, IOAPIC_REG_REDTBL + 2 * pin, RTE_MASKED);
	wr(io, IOAPIC_REG_REDTBL + 2 * pin + 1, (apic_id() & 0xff) << 24);
	wr(io, IOAPIC_REG_REDTBL + 2 * pin, lo);
	return 0;
}

void ioapic_mask(uint32_t gsi, bool masked)
{
	struct ioapic *io = serving(gsi);

	if (!io)
		return;
	uint32_t reg = IOAPIC_REG_REDTBL + 2 * (gsi - io->gsi_base);
	uint32_t lo = rd(io, reg);
	wr(io, reg, masked ? lo | RTE_MASKED : lo & ~RTE_MASKED);
}

uint32_t ioapic_isa_gsi(uint8_t irq, enum ioapic_trigger *trigger,
			enum ioapic_polarity *polarity)
{
	*trigger = IOAPIC_EDGE;
	*polarity = IOAPIC_ACTIVE_HIGH;
	for (int i = 0; i < nisos; i++) {
		if (isos[i].irq != irq)
			continue;
		/* Flags 0 mean "conforms to the bus": ISA is edge, high. */
		if ((isos[i].flags & MPS_TRIGGER_MASK) == MPS_TRIGGER_LEVEL)
			*trigger = IOAPIC_LEVEL;
		if ((isos[i].flags & MPS_POLARITY_MASK) == MPS_POLARITY_LOW)
			*polarity = IOAPIC_ACTIVE_LOW;
		return isos[i].gsi;
	}
	return irq;
}

/* ACPI table lookup. Tables are in ACPI-reclaim memory, which our page
 * tables map like RAM, so they are read in place. Every length read from a
 * table is checked against sane bounds before it is used. */
#include <stddef.h>
#include <string.h>

#include "kernel/acpi.h"
#include "kernel/log.h"

struct rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
	uint8_t ext_checksum;
	uint8_t reserved[3];
} __attribute__((packed));

static const struct acpi_header *root;
static uint32_t root_length;
/* Maps firmware memory once page tables are ours (kernel_main registers
 * paging_map_firmware); before that the loader's identity map serves. */
static int (*map_fn)(uint64_t phys, uint64_t size);

void acpi_set_map_fn(int (*fn)(uint64_t phys, uint64_t size))
{
	map_fn = fn;
}

static int acpi_map(uint64_t phys, uint64_t size)
{
	return map_fn ? map_fn(phys, size) : 0;
}
static int root_entry_size; /* 8 for the XSDT, 4 for the RSDT */

static bool checksum_ok(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (uint32_t i = 0; i < len; i++)
		sum += b[i];
	return sum == 0;
}

static bool table_ok(const struct acpi_header *h)
{
	return h && h->length >= sizeof(*h) && h->length < (16u << 20) &&
	       checksum_ok(h, h->length);
}

/* The table at addr, mapped (header first, then its whole length) and
 * checked; NULL if it is not a sane table. */
static const struct acpi_header *table_at(uint64_t addr)
{
	const struct acpi_header *h = (const void *)addr;

	if (!addr || acpi_map(addr, sizeof(*h)))
		return NULL;
	if (h->length < sizeof(*h) || h->length >= (16u << 20) ||
	    acpi_map(addr, h->length))
		return NULL;
	return table_ok(h) ? h : NULL;
}

void acpi_init(uint64_t rsdp_addr)
{
	const struct rsdp *r = (const void *)rsdp_addr;

	if (!r || acpi_map(rsdp_addr, sizeof(*r)) ||
	    memcmp(r->signature, "RSD PTR ", 8) || !checksum_ok(r, 20)) {
		log_warn("acpi: no valid RSDP");
		return;
	}
	if (r->revision >= 2 && r->xsdt && checksum_ok(r, 36)) {
		root = table_at(r->xsdt);
		root_entry_size = 8;
	} else {
		root = table_at(r->rsdt);
		root_entry_size = 4;
	}
	if (!root) {
		log_warn("acpi: root table is corrupt");
		root = NULL;
		return;
	}
	root_length = root->length;
	log_info("acpi: %s at %p, %u tables",
		 root_entry_size == 8 ? "XSDT" : "RSDT", (const void *)root,
		 (unsigned)((root->length - sizeof(*root)) / root_entry_size));
}

const struct acpi_header *acpi_find_table(const char sig[4])
{
	/* Looked up before paging_init too: map the root again after it. */
	if (!root || acpi_map((uint64_t)root, root_length))
		return NULL;
	const uint8_t *entries = (const uint8_t *)root + sizeof(*root);
	uint32_t n = (root->length - sizeof(*root)) / root_entry_size;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t addr = 0;
		memcpy(&addr, entries + i * root_entry_size, root_entry_size);
		const struct acpi_header *h = table_at(addr);
		if (h && !memcmp(h->signature, sig, 4))
			return h;
	}
	return NULL;
}

/* AML integer at p: ZeroOp, OneOp, BytePrefix or WordPrefix. */
static int aml_small_int(const uint8_t *p, const uint8_t *end, uint16_t *v)
{
	if (p >= end)
		return -1;
	switch (p[0]) {
	case 0x00:
		*v = 0;
		return 1;
	case 0x01:
		*v = 1;
		return 1;
	case 0x0a:
		if (p + 1 >= end)
			return -1;
		*v = p[1];
		return 2;
	case 0x0b:
		if (p + 2 >= end)
			return -1;
		*v = p[1] | (p[2] << 8);
		return 3;
	}
	return -1;
}

/* Finds "Name(_S5_, Package(){a, b, ...})" in the DSDT without an AML
 * interpreter: the byte pattern is fixed enough for firmware like QEMU's. */
static bool dsdt_s5(const struct acpi_header *dsdt, uint16_t *a, uint16_t *b)
{
	const uint8_t *p = (const uint8_t *)dsdt + sizeof(*dsdt);
	const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;

	for (; p + 8 < end; p++) {
		if (memcmp(p, "_S5_", 4) || p[4] != 0x12 /* PackageOp */)
			continue;
		const uint8_t *q = p + 5;
		q += 1 + (q[0] >> 6); /* PkgLength: lead byte + extra bytes */
		q++;		      /* NumElements */
		int n = aml_small_int(q, end, a);
		if (n < 0)
			return false;
		if (aml_small_int(q + n, end, b) < 0)
			*b = *a;
		return true;
	}
	return false;
}

bool acpi_s5(uint16_t *pm1a, uint16_t *pm1b, uint16_t *typa, uint16_t *typb)
{
	const uint8_t *fadt = (const void *)acpi_find_table("FACP");
	uint32_t dsdt32, a32, b32;

	if (!fadt || ((const struct acpi_header *)fadt)->length < 72)
		return false;
	memcpy(&dsdt32, fadt + 40, 4);
	memcpy(&a32, fadt + 64, 4);
	memcpy(&b32, fadt + 68, 4);
	const struct acpi_header *dsdt = table_at(dsdt32);
	if (!a32 || !dsdt || memcmp(dsdt->signature, "DSDT", 4))
		return false;
	if (!dsdt_s5(dsdt, typa, typb))
		return false;
	*pm1a = (uint16_t)a32;
	*pm1b = (uint16_t)b32;
	return true;
}

/* FADT fields (ACPI 6.x table 5.9), by offset: the table grew over the
 * revisions, so each is read only when the length covers it. */
#define FADT_PM_TMR_BLK	       76
#define FADT_PM_TMR_LEN	       91
#define FADT_FLAGS	       112
#define FADT_X_PM_TMR_BLK      208
#define FADT_SLEEP_CONTROL_REG 244
#define FADT_F_TMR_VAL_EXT     (1u << 8)
#define FADT_F_HW_REDUCED_ACPI (1u << 20)
#define GAS_SYSTEM_MEMORY      0
#define GAS_SYSTEM_IO	       1

static const uint8_t *fadt_field(uint32_t offset, uint32_t size)
{
	const struct acpi_header *fadt = acpi_find_table("FACP");

	if (!fadt || offset + size > fadt->length)
		return NULL;
	return (const uint8_t *)fadt + offset;
}

static uint32_t fadt_flags(void)
{
	const uint8_t *p = fadt_field(FADT_FLAGS, 4);
	uint32_t v = 0;

	if (p)
		memcpy(&v, p, 4);
	return v;
}

bool acpi_pm_timer(uint16_t *port, bool *ext32)
{
	const uint8_t *blk = fadt_field(FADT_PM_TMR_BLK, 4);
	const uint8_t *len = fadt_field(FADT_PM_TMR_LEN, 1);
	const uint8_t *gas = fadt_field(FADT_X_PM_TMR_BLK, 12);
	uint32_t flags = fadt_flags();
	uint64_t addr = 0;

	if (!blk || (flags & FADT_F_HW_REDUCED_ACPI))
		return false;
	if (gas && gas[0] == GAS_SYSTEM_IO)
		memcpy(&addr, gas + 4, 8);
	if (!addr) {
		uint32_t a32;
		memcpy(&a32, blk, 4);
		if (!len || *len < 4)
			return false;
		addr = a32;
	}
	if (!addr || addr > 0xfffc)
		return false;
	*port = (uint16_t)addr;
	*ext32 = flags & FADT_F_TMR_VAL_EXT;
	return true;
}

bool acpi_sleep_control(struct acpi_gas *reg)
{
	const uint8_t *gas = fadt_field(FADT_SLEEP_CONTROL_REG, 12);

	if (!gas || !(fadt_flags() & FADT_F_HW_REDUCED_ACPI))
		return false;
	reg->space = gas[0];
	reg->bit_width = gas[1];
	memcpy(&reg->address, gas + 4, 8);
	return reg->address &&
	       (reg->space == GAS_SYSTEM_MEMORY || reg->space == GAS_SYSTEM_IO);
}

bool acpi_s5_type(uint16_t *typa)
{
	const uint8_t *dsdt_field = fadt_field(40, 4);
	uint32_t dsdt32;
	uint16_t typb;

	if (!dsdt_field)
		return false;
	memcpy(&dsdt32, dsdt_field, 4);
	const struct acpi_header *dsdt = table_at(dsdt32);
	return dsdt && !memcmp(dsdt->signature, "DSDT", 4) &&
	       dsdt_s5(dsdt, typa, &typb);
}

static const struct acpi_header *find_dsdt(void)
{
	const uint8_t *f = fadt_field(40, 4);
	uint32_t dsdt32;

	if (!f)
		return NULL;
	memcpy(&dsdt32, f, 4);
	const struct acpi_header *dsdt = table_at(dsdt32);
	return dsdt && !memcmp(dsdt->signature, "DSDT", 4) ? dsdt : NULL;
}

#define AML_STRING_PREFIX  0x0d
#define RES_MEMORY32_FIXED 0x86
#define RES_EXTENDED_IRQ   0x89
#define DEVICE_SCAN_BYTES  256

int acpi_find_mmio_devices(const char hid[8], struct acpi_mmio_dev *out,
			   int max)
{
	const struct acpi_header *dsdt = find_dsdt();
	int n = 0;

	if (!dsdt)
		return 0;
	const uint8_t *p = (const uint8_t *)dsdt + sizeof(*dsdt);
	const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;
	for (; p + 10 < end && n < max; p++) {
		if (p[0] != AML_STRING_PREFIX || memcmp(p + 1, hid, 8) ||
		    p[9] != 0)
			continue;
		/* The device's _CRS follows its _HID closely: take the first
		 * Memory32Fixed and Extended Interrupt descriptors before the
		 * next device with this _HID. */
		struct acpi_mmio_dev d = {0};
		bool mem = false, irq = false;
		const uint8_t *q = p + 10;
		const uint8_t *stop =
		    q + DEVICE_SCAN_BYTES < end ? q + DEVICE_SCAN_BYTES : end;
		for (; q + 12 <= stop && !(mem && irq); q++) {
			if (q[0] == AML_STRING_PREFIX && !memcmp(q + 1, hid, 8))
				break;
			if (!mem && q[0] == RES_MEMORY32_FIXED && q[1] == 9 &&
			    q[2] == 0) {
				uint32_t base, len;
				memcpy(&base, q + 4, 4);
				memcpy(&len, q + 8, 4);
				d.base = base;
				d.size = len;
				mem = true;
			} else if (!irq && q[0] == RES_EXTENDED_IRQ &&
				   q[1] >= 6 && q[2] == 0 && q[4] >= 1) {
				memcpy(&d.irq, q + 5, 4);
				d.edge = q[3] & 0x2;
				d.active_low = q[3] & 0x4;
				irq = true;
			}
		}
		if (mem && irq)
			out[n++] = d;
		p += 9;
	}
	return n;
}

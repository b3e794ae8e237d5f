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

void acpi_init(uint64_t rsdp_addr)
{
	const struct rsdp *r = (const void *)rsdp_addr;

	if (!r || memcmp(r->signature, "RSD PTR ", 8) || !checksum_ok(r, 20)) {
		log_warn("acpi: no valid RSDP");
		return;
	}
	if (r->revision >= 2 && r->xsdt && checksum_ok(r, 36)) {
		root = (const void *)r->xsdt;
		root_entry_size = 8;
	} else {
		root = (const void *)(uint64_t)r->rsdt;
		root_entry_size = 4;
	}
	if (!table_ok(root)) {
		log_warn("acpi: root table is corrupt");
		root = NULL;
		return;
	}
	log_info("acpi: %s at %p, %u tables",
		 root_entry_size == 8 ? "XSDT" : "RSDT", (const void *)root,
		 (unsigned)((root->length - sizeof(*root)) / root_entry_size));
}

const struct acpi_header *acpi_find_table(const char sig[4])
{
	if (!root)
		return NULL;
	const uint8_t *entries = (const uint8_t *)root + sizeof(*root);
	uint32_t n = (root->length - sizeof(*root)) / root_entry_size;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t addr = 0;
		memcpy(&addr, entries + i * root_entry_size, root_entry_size);
		const struct acpi_header *h = (const void *)addr;
		if (h && !memcmp(h->signature, sig, 4) && table_ok(h))
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
	const struct acpi_header *dsdt = (const void *)(uint64_t)dsdt32;
	if (!a32 || !table_ok(dsdt) || memcmp(dsdt->signature, "DSDT", 4))
		return false;
	if (!dsdt_s5(dsdt, typa, typb))
		return false;
	*pm1a = (uint16_t)a32;
	*pm1b = (uint16_t)b32;
	return true;
}

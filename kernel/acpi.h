/* Just enough ACPI: find tables through the RSDP (XSDT, else RSDT), and
 * learn the PM1a control port and S5 sleep type for power-off. */
#ifndef SKIFF_KERNEL_ACPI_H
#define SKIFF_KERNEL_ACPI_H

#include <stdbool.h>
#include <stdint.h>

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_header) == 36, "ACPI header layout");

void acpi_init(uint64_t rsdp);
/* Registers how to map a table before reading it (paging_map_firmware:
 * a PVH loader's map may call ACPI pages reserved, which stay unmapped). */
void acpi_set_map_fn(int (*fn)(uint64_t phys, uint64_t size));
/* Returns the first table with this signature whose checksum is right. */
const struct acpi_header *acpi_find_table(const char sig[4]);
/* Fills the S5 power-off parameters; false if the firmware gave none. */
/* A Generic Address Structure, reduced to what Skiff uses. */
struct acpi_gas {
	uint8_t space; /* 0 system memory, 1 system I/O */
	uint8_t bit_width;
	uint64_t address;
};
/* The PM timer's I/O port and width (24 or 32 bits); false on
 * hardware-reduced ACPI or when the FADT names none. */
bool acpi_pm_timer(uint16_t *port, bool *ext32);
/* Hardware-reduced ACPI's sleep control register (microvm's GED). */
bool acpi_sleep_control(struct acpi_gas *reg);
/* SLP_TYPa of the DSDT's \_S5 package. */
bool acpi_s5_type(uint16_t *slp_typa);
/* A device the DSDT describes with a fixed MMIO window and one interrupt
 * (virtio-mmio: _HID "LNRO0005" on QEMU microvm and Firecracker). */
struct acpi_mmio_dev {
	uint64_t base;
	uint64_t size;
	uint32_t irq; /* GSI */
	bool edge;
	bool active_low;
};
/* Up to max devices with this _HID, found by pattern in the DSDT (no AML
 * interpreter: the _CRS that follows each _HID). Values are as the table
 * says: the caller checks them. */
int acpi_find_mmio_devices(const char hid[8], struct acpi_mmio_dev *out,
			   int max);
bool acpi_s5(uint16_t *pm1a_cnt, uint16_t *pm1b_cnt, uint16_t *slp_typa,
	     uint16_t *slp_typb);

#endif

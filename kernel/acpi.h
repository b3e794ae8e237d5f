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
/* Returns the first table with this signature whose checksum is right. */
const struct acpi_header *acpi_find_table(const char sig[4]);
/* Fills the S5 power-off parameters; false if the firmware gave none. */
bool acpi_s5(uint16_t *pm1a_cnt, uint16_t *pm1b_cnt, uint16_t *slp_typa,
	     uint16_t *slp_typb);

#endif

/* PCI: enumeration (ECAM from ACPI MCFG, else ports 0xcf8/0xcfc), BARs,
 * capabilities, MSI-X. */
#ifndef SKIFF_DRIVERS_PCI_H
#define SKIFF_DRIVERS_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_MAX_DEVICES 64

struct pci_bar {
	uint64_t addr; /* physical base; 0 when not implemented */
	uint64_t size;
	bool io; /* I/O-port BAR (Skiff maps only memory BARs) */
	bool is64;
	bool prefetch;
	void *mapped; /* uncached mapping once pci_map_bar() ran */
};

struct pci_device {
	uint8_t bus, dev, fn;
	uint16_t vendor, device, subsystem;
	uint8_t class_code, subclass, prog_if;
	struct pci_bar bar[6];
	uint8_t msix_cap; /* offset of the MSI-X capability, 0 if none */
	uint16_t msix_entries;
	volatile uint8_t *msix_table;
	char addr[16]; /* "00:02.0" */
};

/* Finds the access method and enumerates every function. */
void pci_init(void);
const char *pci_access_method(void);
int pci_device_count(void);
struct pci_device *pci_device_at(int i);

uint8_t pci_read8(const struct pci_device *d, uint16_t off);
uint16_t pci_read16(const struct pci_device *d, uint16_t off);
uint32_t pci_read32(const struct pci_device *d, uint16_t off);
void pci_write16(const struct pci_device *d, uint16_t off, uint16_t v);
void pci_write32(const struct pci_device *d, uint16_t off, uint32_t v);

/* Next capability with this id after offset start (0 = from the list
 * head); returns its offset or 0. */
uint8_t pci_find_cap(const struct pci_device *d, uint8_t id, uint8_t start);
/* Maps a memory BAR uncached; NULL if it is absent, I/O or unmappable. */
void *pci_map_bar(struct pci_device *d, int bar);
/* Memory decoding and bus mastering on, legacy INTx off. */
void pci_enable(struct pci_device *d);
/* Maps the MSI-X table and enables MSI-X with every entry masked. */
int pci_msix_enable(struct pci_device *d);
/* Points MSI-X entry at vector on this CPU and unmasks it. */
int pci_msix_route(struct pci_device *d, uint16_t entry, uint8_t vector);
/* The same, delivered to the CPU with APIC ID dest. */
int pci_msix_route_to(struct pci_device *d, uint16_t entry, uint8_t vector,
		      uint32_t dest);

#endif

/* I/O APIC: the interrupt router for devices without MSI/MSI-X (virtio-mmio
 * on microvm and Firecracker, ISA devices). Each global system interrupt
 * (GSI) has a redirection entry: vector, trigger mode, polarity, mask and
 * the destination CPU. The MADT names every I/O APIC with its first GSI
 * and the interrupt source overrides of the ISA IRQs; without ACPI there
 * is the one at the architectural address 0xFEC00000. */
#ifndef SKIFF_KERNEL_IOAPIC_H
#define SKIFF_KERNEL_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

enum ioapic_trigger { IOAPIC_EDGE, IOAPIC_LEVEL };
enum ioapic_polarity { IOAPIC_ACTIVE_HIGH, IOAPIC_ACTIVE_LOW };

/* Finds the I/O APICs (MADT, else the default one), maps them and masks
 * every entry. Returns how many were found. Needs paging and the local
 * APIC (entries are routed to this CPU's APIC id). */
int ioapic_init(void);
/* Routes gsi to vector on this CPU, masked or not. Returns 0, or -ENODEV
 * when no I/O APIC serves gsi. */
int ioapic_route(uint32_t gsi, uint8_t vector, enum ioapic_trigger trigger,
		 enum ioapic_polarity polarity, bool masked);
void ioapic_mask(uint32_t gsi, bool masked);
/* The GSI an ISA IRQ arrives on, and its trigger and polarity, after the
 * MADT's interrupt source overrides (identity, edge, high without one). */
uint32_t ioapic_isa_gsi(uint8_t irq, enum ioapic_trigger *trigger,
			enum ioapic_polarity *polarity);

#endif

/* The local APIC (x2APIC when the CPU has it, else xAPIC over MMIO), its
 * periodic timer, and the legacy 8259 PICs, which are masked for good. */
#ifndef SKIFF_KERNEL_APIC_H
#define SKIFF_KERNEL_APIC_H

#include <stdbool.h>
#include <stdint.h>

void pic_disable(void);
void apic_init(void);
/* Starts the periodic tick on TRAP_TIMER_VECTOR at hz. */
void apic_timer_start(unsigned hz);
void apic_eoi(void);
uint32_t apic_id(void);
/* MSI address/data for a vector delivered to this CPU (fixed, edge). */
void apic_msi_message(uint8_t vector, uint64_t *address, uint32_t *data);

#endif

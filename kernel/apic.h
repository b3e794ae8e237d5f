/* The local APIC (x2APIC when the CPU has it, else xAPIC over MMIO), its
 * periodic timer, and the legacy 8259 PICs, which are masked for good. */
#ifndef SKIFF_KERNEL_APIC_H
#define SKIFF_KERNEL_APIC_H

#include <stdbool.h>
#include <stdint.h>

void pic_disable(void);
void apic_init(void);
/* An application processor's own local APIC, in the boot CPU's mode. */
void apic_init_ap(void);
/* Starts the periodic tick on TRAP_TIMER_VECTOR at hz (calibrates). */
void apic_timer_start(unsigned hz);
/* Starts this AP's tick at the rate the boot CPU calibrated. */
void apic_timer_start_ap(void);
unsigned apic_timer_hz(void);
/* Inter-processor interrupts to the CPU with this APIC ID; false when the
 * APIC never reported the message sent. */
bool apic_send_ipi(uint32_t dest, uint8_t vector);
bool apic_send_nmi(uint32_t dest);
bool apic_send_init(uint32_t dest);
/* STARTUP IPI: the CPU starts in real mode at page (4 KiB aligned,
 * below 1 MiB). */
bool apic_send_startup(uint32_t dest, uint64_t page);
void apic_eoi(void);
uint32_t apic_id(void);
/* MSI address/data for a vector delivered to this CPU (fixed, edge). */
void apic_msi_message(uint8_t vector, uint64_t *address, uint32_t *data);
/* The same for the CPU with this APIC ID (a queue's own CPU). -EINVAL for
 * an ID the 8-bit MSI destination field cannot name. */
int apic_msi_message_to(uint32_t dest, uint8_t vector, uint64_t *address,
			uint32_t *data);

#endif

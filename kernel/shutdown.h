/* Stopping the machine: a clean power-off (ACPI S5) or an exit with a
 * status through QEMU's isa-debug-exit device (iobase 0xf4). */
#ifndef SKIFF_KERNEL_SHUTDOWN_H
#define SKIFF_KERNEL_SHUTDOWN_H

#include <stdint.h>

/* isa-debug-exit: QEMU exits with (code << 1) | 1; without the device the
 * CPU halts for good. */
__attribute__((noreturn)) void machine_exit(uint32_t code);
/* ACPI S5, the hardware-reduced sleep register, an i8042 reset (QEMU
 * -no-reboot exits with status 0 for each); falls back to machine_exit(0). */
__attribute__((noreturn)) void machine_poweroff(void);

/* Finds a hardware-reduced ACPI sleep register (microvm) and maps it
 * with map_mmio (paging_map_mmio), for machine_poweroff. */
void shutdown_init(void *(*map_mmio)(uint64_t phys, uint64_t size));

#endif

/* Power-off and exit. */
#include "kernel/shutdown.h"
#include "kernel/acpi.h"
#include "kernel/clock.h"
#include "kernel/cpu.h"

#define ISA_DEBUG_EXIT_PORT 0xf4
#define SLP_EN		    (1u << 13)

void machine_exit(uint32_t code)
{
	irq_disable();
	outl(ISA_DEBUG_EXIT_PORT, code);
	for (;;)
		__asm__ volatile("hlt");
}

void machine_poweroff(void)
{
	uint16_t pm1a, pm1b, typa, typb;

	irq_disable();
	if (acpi_s5(&pm1a, &pm1b, &typa, &typb)) {
		outw(pm1a, (uint16_t)((typa << 10) | SLP_EN));
		if (pm1b)
			outw(pm1b, (uint16_t)((typb << 10) | SLP_EN));
		clock_delay_us(100000); /* S5 takes effect at once on QEMU */
	}
	machine_exit(0);
}

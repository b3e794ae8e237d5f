/* Power-off and exit, the way each machine understands it: ACPI S5
 * through PM1a/b (q35, pc), the hardware-reduced sleep control register
 * (microvm's GED), a reset through the i8042 (which Firecracker treats as
 * the guest shutting down, and QEMU -no-reboot as an exit), a triple-fault
 * reset (microvm without ACPI has no i8042), and last QEMU's
 * isa-debug-exit. */
#include "kernel/shutdown.h"
#include "kernel/acpi.h"
#include "kernel/clock.h"
#include "kernel/cpu.h"
#include "kernel/log.h"
#include "kernel/mmio.h"

#define ISA_DEBUG_EXIT_PORT 0xf4
#define SLP_EN		    (1u << 13)
#define SLEEP_CTL_SLP_EN    (1u << 5)
#define SLEEP_CTL_TYP_SHIFT 2
#define S5_DEFAULT_TYPE	    5 /* QEMU's GED: SLP_TYP 5 is S5 */
#define I8042_STATUS	    0x64
#define I8042_CMD	    0x64
#define I8042_INPUT_FULL    0x02
#define I8042_PULSE_RESET   0xfe

/* Hardware-reduced ACPI's sleep control register, found and mapped at
 * bring-up (shutdown_init) so power-off needs no page-table work. */
static struct acpi_gas sleep_reg;
static volatile uint8_t *sleep_mmio;
static uint8_t sleep_value;

void shutdown_init(void *(*map_mmio)(uint64_t phys, uint64_t size))
{
	uint16_t typ;

	if (!acpi_sleep_control(&sleep_reg))
		return;
	if (!acpi_s5_type(&typ))
		typ = S5_DEFAULT_TYPE;
	sleep_value =
	    (uint8_t)(((typ & 7) << SLEEP_CTL_TYP_SHIFT) | SLEEP_CTL_SLP_EN);
	if (sleep_reg.space == 0)
		sleep_mmio = map_mmio(sleep_reg.address, 1);
	log_info("shutdown: ACPI sleep control register at %s %#llx",
		 sleep_reg.space == 0 ? "memory" : "port",
		 (unsigned long long)sleep_reg.address);
}

static void sleep_control_s5(void)
{
	if (!sleep_value)
		return;
	if (sleep_reg.space == 1)
		outb((uint16_t)sleep_reg.address, sleep_value);
	else if (sleep_mmio)
		mmio_write8(sleep_mmio, sleep_value);
	else
		return;
	clock_delay_us(100000);
}

static void i8042_reset(void)
{
	/* A floating bus reads 0xff: no controller there. */
	if (inb(I8042_STATUS) == 0xff)
		return;
	for (int i = 0; i < 100000 && (inb(I8042_STATUS) & I8042_INPUT_FULL);
	     i++)
		cpu_relax();
	outb(I8042_CMD, I8042_PULSE_RESET);
	clock_delay_us(100000);
}

/* The reset every x86 machine has: an exception with no IDT to deliver it
 * through. QEMU -no-reboot and Firecracker both end the VM on it. */
static void triple_fault(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) no_idt = {0, 0};

	log_info("shutdown: no ACPI sleep and no i8042: resetting");
	__asm__ volatile("lidt %0\n\tint3" : : "m"(no_idt) : "memory");
}

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
	sleep_control_s5();
	i8042_reset();
	triple_fault();
	machine_exit(0);
}

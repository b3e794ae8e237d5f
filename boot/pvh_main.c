/* The C half of the PVH entry (boot/pvh_entry.S calls pvh_main in long
 * mode, with the first 4 GiB identity-mapped): turns hvm_start_info into a
 * boot_info and enters kernel_main, the same kernel as after efi_main.
 *
 *   qemu-system-x86_64 -M q35|pc|microvm -kernel build/skiff-pvh.elf \
 *       -append "key=value ..."
 *
 * Everything the loader handed over lives in memory the kernel will give
 * to its allocator or leave unmapped, so it is copied here: the command
 * line and memory map into boot_info, the RSDP (which sits in the BIOS
 * area, unmapped later) into a buffer of ours. */
#include <stdint.h>
#include <string.h>

#include "boot/pvh_info.h"
#include "kernel/bootinfo.h"
#include "kernel/image.h"

#define RSDP_COPY_SIZE	 36 /* the ACPI 2.0 RSDP; 1.0 uses the first 20 */
#define BIOS_AREA_START	 0xe0000ULL
#define BIOS_AREA_END	 0x100000ULL
#define EBDA_SEGMENT_PTR 0x40eULL
#define IDENTITY_LIMIT	 (4ULL << 30) /* what pvh_entry.S maps */

extern uint64_t pvh_tsc_at_entry;

static struct boot_info boot;
static uint8_t rsdp_copy[RSDP_COPY_SIZE] __attribute__((aligned(16)));

__attribute__((noreturn)) void pvh_main(uint32_t start_info);

static const void *identity(uint64_t addr, size_t len)
{
	if (addr == 0 || addr >= IDENTITY_LIMIT || len > IDENTITY_LIMIT - addr)
		return NULL;
	return (const void *)addr;
}

static int rsdp_at(uint64_t addr)
{
	const uint8_t *p = (const void *)addr;
	uint8_t sum = 0;

	if (memcmp(p, "RSD PTR ", 8))
		return 0;
	for (int i = 0; i < 20; i++)
		sum += p[i];
	return sum == 0;
}

/* ACPI's search order: the first KiB of the EBDA, then 0xE0000-0xFFFFF. */
static uint64_t find_rsdp(void)
{
	uint16_t segment;
	uint64_t ptr = EBDA_SEGMENT_PTR;

	/* Through an asm-laundered pointer: GCC rejects a constant one. */
	__asm__("" : "+r"(ptr));
	memcpy(&segment, (const void *)ptr, sizeof(segment));
	uint64_t ebda = (uint64_t)segment << 4;

	if (ebda >= 0x80000 && ebda < 0xa0000)
		for (uint64_t a = ebda; a < ebda + 1024; a += 16)
			if (rsdp_at(a))
				return a;
	for (uint64_t a = BIOS_AREA_START; a < BIOS_AREA_END; a += 16)
		if (rsdp_at(a))
			return a;
	return 0;
}

void pvh_main(uint32_t start_info)
{
	const struct hvm_start_info *si = identity(start_info, sizeof(*si));

	boot.tsc_at_entry = pvh_tsc_at_entry;
	boot.loader = "pvh";
	boot.image_base = image_base();
	boot.image_size = (uint64_t)__image_end - image_base();
	/* A bad start info still boots (with no map the kernel panics
	 * saying so): it is the loader's bug, and the console says it. */
	pvh_parse(si, identity, &boot);
	uint64_t rsdp = boot.rsdp;
	if (!rsdp || rsdp >= IDENTITY_LIMIT || !rsdp_at(rsdp))
		rsdp = find_rsdp();
	if (rsdp) {
		memcpy(rsdp_copy, (const void *)rsdp, sizeof(rsdp_copy));
		boot.rsdp = (uint64_t)rsdp_copy;
	} else {
		boot.rsdp = 0;
	}
	/* The loader reports our own image as RAM. */
	boot_mark_range(&boot, image_base(), (uint64_t)__image_end,
			BOOT_MEM_LOADER);
	kernel_main(&boot);
}

/* What the boot stage (boot/efi_main.c) hands the kernel: everything it
 * learned from the firmware, copied into our own memory so nothing points
 * into boot-services data after ExitBootServices. */
#ifndef SKIFF_KERNEL_BOOTINFO_H
#define SKIFF_KERNEL_BOOTINFO_H

#include <stdint.h>

enum boot_mem_type {
	BOOT_MEM_USABLE,	/* EFI conventional memory */
	BOOT_MEM_BOOT_SERVICES, /* free once we no longer use firmware data */
	BOOT_MEM_LOADER,	/* our image and loader data: keep */
	BOOT_MEM_ACPI_RECLAIM,	/* ACPI tables: keep (MCFG is read later) */
	BOOT_MEM_ACPI_NVS,
	BOOT_MEM_RUNTIME, /* EFI runtime services code/data */
	BOOT_MEM_MMIO,
	BOOT_MEM_RESERVED,
};

struct boot_mem_region {
	uint64_t base;
	uint64_t npages; /* 4 KiB pages */
	uint32_t type;	 /* enum boot_mem_type */
	uint32_t efi_type;
};

#define BOOT_MAX_REGIONS 256
#define BOOT_CMDLINE_MAX 1024

struct boot_info {
	uint64_t image_base; /* where the firmware loaded the PE image */
	uint64_t image_size;
	uint64_t rsdp; /* ACPI RSDP physical address, 0 if none */
	/* A page below 1 MiB the loader reserved for the AP start-up
	 * trampoline (UEFI); 0: the kernel picks one from the map. */
	uint64_t low_page;
	uint64_t tsc_at_entry; /* TSC when efi_main started */
	const char *loader;    /* "uefi"; the loader= key may name another */
	char cmdline[BOOT_CMDLINE_MAX];
	uint32_t cmdline_from_options; /* 1 if it came from EFI load options */
	uint32_t nregions;
	struct boot_mem_region regions[BOOT_MAX_REGIONS];
	uint32_t regions_dropped; /* map entries that did not fit */
};

__attribute__((noreturn)) void kernel_main(struct boot_info *boot);

#endif

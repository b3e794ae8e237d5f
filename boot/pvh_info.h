/* The PVH boot ABI's start-of-day structure (Xen's "hvm_start_info",
 * version 0 and 1, as QEMU and Firecracker fill it in), and the pure code
 * that turns it into Skiff's struct boot_info. Kept apart from the entry so
 * host tests can feed it hostile input (tests/unit/test_pvh.c). */
#ifndef SKIFF_BOOT_PVH_INFO_H
#define SKIFF_BOOT_PVH_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/bootinfo.h"

#define HVM_START_MAGIC 0x336ec578u

struct hvm_start_info {
	uint32_t magic;	  /* HVM_START_MAGIC */
	uint32_t version; /* 0, or 1 with the memory map */
	uint32_t flags;
	uint32_t nr_modules; /* modules (initrds): Skiff ignores them */
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;	 /* NUL-terminated, 0 if none */
	uint64_t rsdp_paddr;	 /* 0: look in the BIOS area */
	uint64_t memmap_paddr;	 /* version >= 1 */
	uint32_t memmap_entries; /* version >= 1 */
	uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info layout");
_Static_assert(offsetof(struct hvm_start_info, memmap_paddr) == 40,
	       "hvm_start_info layout");

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type; /* E820 types: 1 RAM, 2 reserved, 3 ACPI, 4 NVS, ... */
	uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_memmap_entry) == 24, "memmap entry layout");

#define E820_RAM      1
#define E820_RESERVED 2
#define E820_ACPI     3
#define E820_NVS      4

/* Gives a pointer to len bytes of guest-physical memory at addr, or NULL
 * when that range is not readable (the kernel maps identity, host tests a
 * fake memory). */
typedef const void *(*pvh_phys_fn)(uint64_t addr, size_t len);

/* Fills boot from the start info: command line (truncated, printable
 * ASCII only), memory map (RAM below 1 MiB is left out: it holds the
 * loader's own structures and the BIOS data), RSDP address. Returns 0, or
 * a negative errno when the structure itself is unusable (bad magic). A
 * missing memory map leaves boot->nregions 0 for the caller to fill. */
int pvh_parse(const struct hvm_start_info *si, pvh_phys_fn phys,
	      struct boot_info *boot);

/* Appends one E820-typed range (byte granular; RAM is shrunk to whole
 * pages, other types grown to them). */
void pvh_add_e820(struct boot_info *boot, uint64_t addr, uint64_t size,
		  uint32_t type);

/* Marks [base, end) as type, splitting any region that overlaps it (used
 * to keep the image out of the usable RAM the loader reported). */
void boot_mark_range(struct boot_info *boot, uint64_t base, uint64_t end,
		     uint32_t type);

#endif

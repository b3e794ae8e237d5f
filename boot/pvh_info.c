/* hvm_start_info -> struct boot_info. Every address and count from the
 * start info is checked before use: the loader is trusted to be a loader,
 * not to be bug-free. */
#include <string.h>

#include "boot/pvh_info.h"
#include "kernel/kerrno.h"

#define PAGE		   4096ULL
#define LOW_MEMORY_END	   0x100000ULL
#define CONVENTIONAL_END   0xa0000ULL /* RAM below 1 MiB ends at 640 KiB */
#define MAX_MEMMAP_ENTRIES 1024

static uint32_t e820_to_boot(uint32_t type)
{
	switch (type) {
	case E820_RAM:
		return BOOT_MEM_USABLE;
	case E820_ACPI:
		return BOOT_MEM_ACPI_RECLAIM;
	case E820_NVS:
		return BOOT_MEM_ACPI_NVS;
	default:
		return BOOT_MEM_RESERVED;
	}
}

static void add_region(struct boot_info *boot, uint64_t base, uint64_t end,
		       uint32_t type, uint32_t raw_type)
{
	if (end <= base)
		return;
	if (boot->nregions == BOOT_MAX_REGIONS) {
		boot->regions_dropped++;
		return;
	}
	boot->regions[boot->nregions++] = (struct boot_mem_region){
	    .base = base,
	    .npages = (end - base) / PAGE,
	    .type = type,
	    .efi_type = raw_type,
	};
}

/* Low RAM is left out of the map, but one page of it is wanted for the AP
 * start-up trampoline (a STARTUP IPI can only point below 1 MiB): the
 * highest whole page of this RAM range below 640 KiB, never page 0. The
 * kernel maps it only while APs start. */
static void pick_low_page(struct boot_info *boot, uint64_t addr, uint64_t end)
{
	uint64_t lo = (addr + PAGE - 1) & ~(PAGE - 1);
	uint64_t hi =
	    (end < CONVENTIONAL_END ? end : CONVENTIONAL_END) & ~(PAGE - 1);

	if (lo < PAGE)
		lo = PAGE;
	if (hi >= lo + PAGE && hi - PAGE > boot->low_page)
		boot->low_page = hi - PAGE;
}

void pvh_add_e820(struct boot_info *boot, uint64_t addr, uint64_t size,
		  uint32_t type)
{
	uint64_t end = addr + size;
	uint32_t t = e820_to_boot(type);

	if (size == 0 || end < addr) /* empty, or wraps around */
		return;
	if (t == BOOT_MEM_USABLE) {
		addr = (addr + PAGE - 1) & ~(PAGE - 1);
		end &= ~(PAGE - 1);
		if (addr < LOW_MEMORY_END) {
			pick_low_page(boot, addr, end);
			addr = LOW_MEMORY_END;
		}
	} else {
		addr &= ~(PAGE - 1);
		end = (end + PAGE - 1) & ~(PAGE - 1);
	}
	add_region(boot, addr, end, t, type);
}

void boot_mark_range(struct boot_info *boot, uint64_t base, uint64_t end,
		     uint32_t type)
{
	base &= ~(PAGE - 1);
	end = (end + PAGE - 1) & ~(PAGE - 1);
	for (uint32_t i = 0; i < boot->nregions; i++) {
		struct boot_mem_region *r = &boot->regions[i];
		uint64_t rs = r->base, re = r->base + r->npages * PAGE;
		if (r->type == type || re <= base || rs >= end)
			continue;
		/* Keep the parts outside [base, end), the overlap gets type. */
		struct boot_mem_region orig = *r;
		uint64_t os = rs > base ? rs : base, oe = re < end ? re : end;
		r->base = os;
		r->npages = (oe - os) / PAGE;
		r->type = type;
		if (rs < os)
			add_region(boot, rs, os, orig.type, orig.efi_type);
		if (oe < re)
			add_region(boot, oe, re, orig.type, orig.efi_type);
	}
}

static void copy_cmdline(const struct hvm_start_info *si, pvh_phys_fn phys,
			 struct boot_info *boot)
{
	size_t n = 0;

	boot->cmdline[0] = '\0';
	if (!si->cmdline_paddr)
		return;
	/* Byte by byte: the string may end just before unreadable memory. */
	for (; n + 1 < sizeof(boot->cmdline); n++) {
		const char *c = phys(si->cmdline_paddr + n, 1);
		if (!c || !*c)
			break;
		/* Tabs and newlines separate words like spaces do. */
		if (*c == '\t' || *c == '\n' || *c == '\r')
			boot->cmdline[n] = ' ';
		else if (*c < 0x20 || *c > 0x7e)
			boot->cmdline[n] = '?';
		else
			boot->cmdline[n] = *c;
	}
	boot->cmdline[n] = '\0';
	boot->cmdline_from_options = n > 0;
}

int pvh_parse(const struct hvm_start_info *si, pvh_phys_fn phys,
	      struct boot_info *boot)
{
	if (!si || si->magic != HVM_START_MAGIC)
		return -EINVAL;
	copy_cmdline(si, phys, boot);
	boot->rsdp = si->rsdp_paddr;
	if (si->version < 1 || !si->memmap_paddr || !si->memmap_entries)
		return 0;
	uint32_t n = si->memmap_entries;
	if (n > MAX_MEMMAP_ENTRIES)
		n = MAX_MEMMAP_ENTRIES;
	for (uint32_t i = 0; i < n; i++) {
		const struct hvm_memmap_entry *e = phys(
		    si->memmap_paddr + (uint64_t)i * sizeof(*e), sizeof(*e));
		if (!e)
			break;
		pvh_add_e820(boot, e->addr, e->size, e->type);
	}
	return 0;
}

/* boot/pvh_info.c: the start info as QEMU and Firecracker fill it in, and
 * as a broken loader might (bad magic, version 0, huge counts, unreadable
 * memory, hostile command lines); the image carve-out. */
#include <stdint.h>
#include <string.h>

#include "boot/pvh_info.h"
#include "tests/unit/check.h"

/* Fake guest memory: physical addresses 0x1000.. map onto mem[]. */
#define MEM_BASE 0x1000u
static uint8_t mem[8192];

static const void *phys(uint64_t addr, size_t len)
{
	if (addr < MEM_BASE || addr - MEM_BASE > sizeof(mem) ||
	    len > sizeof(mem) - (addr - MEM_BASE))
		return NULL;
	return mem + (addr - MEM_BASE);
}

static struct boot_info boot;

static struct hvm_start_info *setup(void)
{
	static struct hvm_start_info si;

	memset(mem, 0, sizeof(mem));
	memset(&boot, 0, sizeof(boot));
	memset(&si, 0, sizeof(si));
	si.magic = HVM_START_MAGIC;
	si.version = 1;
	return &si;
}

static void put_map(struct hvm_start_info *si, uint64_t at,
		    const struct hvm_memmap_entry *e, uint32_t n)
{
	memcpy(mem + (at - MEM_BASE), e, n * sizeof(*e));
	si->memmap_paddr = at;
	si->memmap_entries = n;
}

/* What QEMU 7.2's PVH loader hands over for -m 256 on q35. */
static const struct hvm_memmap_entry qemu_map[] = {
    {0x0, 0x9fc00, E820_RAM, 0},
    {0x9fc00, 0x400, E820_RESERVED, 0},
    {0xf0000, 0x10000, E820_RESERVED, 0},
    {0x100000, 0xfee0000, E820_RAM, 0},
    {0xffe0000, 0x20000, E820_RESERVED, 0},
    {0xfeffc000, 0x4000, E820_RESERVED, 0},
};

TEST(qemu_map_and_cmdline)
{
	struct hvm_start_info *si = setup();

	put_map(si, 0x1000, qemu_map, 6);
	strcpy((char *)mem + 0x1000, "ip=10.0.0.2/24 test.shutdown=1");
	si->cmdline_paddr = 0x2000;
	si->rsdp_paddr = 0xf5a00;
	CHECK_EQ(pvh_parse(si, phys, &boot), 0);
	CHECK_STR(boot.cmdline, "ip=10.0.0.2/24 test.shutdown=1");
	CHECK_EQ(boot.rsdp, 0xf5a00);
	/* Low RAM is dropped; reserved ranges are grown to whole pages. */
	CHECK_EQ(boot.nregions, 5);
	CHECK_EQ(boot.regions[0].type, BOOT_MEM_RESERVED);
	CHECK_EQ(boot.regions[0].base, 0x9f000);
	CHECK_EQ(boot.regions[0].npages, 1);
	CHECK_EQ(boot.regions[2].type, BOOT_MEM_USABLE);
	CHECK_EQ(boot.regions[2].base, 0x100000);
	CHECK_EQ(boot.regions[2].npages, 0xfee0000 / 4096);
}

TEST(image_is_carved_out_of_ram)
{
	struct hvm_start_info *si = setup();

	put_map(si, 0x1000, qemu_map, 6);
	CHECK_EQ(pvh_parse(si, phys, &boot), 0);
	uint32_t before = boot.nregions;
	boot_mark_range(&boot, 0x100000, 0x2a5123, BOOT_MEM_LOADER);
	CHECK_EQ(boot.nregions, before + 1);
	uint64_t usable = 0, loader = 0;
	for (uint32_t i = 0; i < boot.nregions; i++) {
		const struct boot_mem_region *r = &boot.regions[i];
		if (r->type == BOOT_MEM_USABLE) {
			usable += r->npages;
			/* No usable page overlaps the image. */
			CHECK(r->base >= 0x2a6000 ||
			      r->base + r->npages * 4096 <= 0x100000);
		}
		if (r->type == BOOT_MEM_LOADER) {
			loader += r->npages;
			CHECK_EQ(r->base, 0x100000);
		}
	}
	CHECK_EQ(loader, 0x1a6);
	CHECK_EQ(usable + loader, 0xfee0000 / 4096);
	/* Marking it again changes nothing. */
	before = boot.nregions;
	boot_mark_range(&boot, 0x100000, 0x2a5123, BOOT_MEM_LOADER);
	CHECK_EQ(boot.nregions, before);
}

TEST(carve_in_the_middle_of_a_region)
{
	setup();
	pvh_add_e820(&boot, 0x100000, 0x400000, E820_RAM);
	boot_mark_range(&boot, 0x200000, 0x300000, BOOT_MEM_LOADER);
	CHECK_EQ(boot.nregions, 3);
	CHECK_EQ(boot.regions[0].type, BOOT_MEM_LOADER);
	CHECK_EQ(boot.regions[0].base, 0x200000);
	CHECK_EQ(boot.regions[1].base, 0x100000);
	CHECK_EQ(boot.regions[1].npages, 256);
	CHECK_EQ(boot.regions[2].base, 0x300000);
	CHECK_EQ(boot.regions[2].npages, 512);
}

TEST(bad_magic_is_refused)
{
	struct hvm_start_info *si = setup();

	si->magic = 0x12345678;
	CHECK(pvh_parse(si, phys, &boot) < 0);
	CHECK(pvh_parse(NULL, phys, &boot) < 0);
}

TEST(version_0_has_no_map)
{
	struct hvm_start_info *si = setup();

	put_map(si, 0x1000, qemu_map, 6);
	si->version = 0;
	CHECK_EQ(pvh_parse(si, phys, &boot), 0);
	CHECK_EQ(boot.nregions, 0);
}

TEST(map_running_into_unreadable_memory_stops)
{
	struct hvm_start_info *si = setup();

	/* Two entries fit before the end of readable memory; the count says
	 * a million. */
	put_map(si, MEM_BASE + sizeof(mem) - 2 * 24, qemu_map + 2, 2);
	si->memmap_entries = 1000000;
	CHECK_EQ(pvh_parse(si, phys, &boot), 0);
	CHECK_EQ(boot.nregions, 2);
}

TEST(degenerate_entries_are_skipped)
{
	static const struct hvm_memmap_entry bad[] = {
	    {0x100000, 0, E820_RAM, 0},			  /* empty */
	    {0xfffffffffffff000ULL, 0x2000, E820_RAM, 0}, /* wraps */
	    {0x100800, 0x800, E820_RAM, 0},		  /* no whole page */
	    {0x200000, 0x1000, 17, 0}, /* unknown type: reserved */
	};
	struct hvm_start_info *si = setup();

	put_map(si, 0x1000, bad, 4);
	CHECK_EQ(pvh_parse(si, phys, &boot), 0);
	CHECK_EQ(boot.nregions, 1);
	CHECK_EQ(boot.regions[0].type, BOOT_MEM_RESERVED);
}

TEST(too_many_entries_are_counted_as_dropped)
{
	struct hvm_start_info *si = setup();

	for (uint64_t i = 0; i < BOOT_MAX_REGIONS + 10; i++)
		pvh_add_e820(&boot, 0x100000 + i * 0x2000, 0x1000, E820_RAM);
	CHECK_EQ(boot.nregions, BOOT_MAX_REGIONS);
	CHECK_EQ(boot.regions_dropped, 10);
	(void)si;
}

TEST(cmdline_hostile_bytes_and_length)
{
	struct hvm_start_info *si = setup();

	static const char hostile[] = "a=1\tb=\x01\x7f\nc";
	memcpy(mem, hostile, sizeof(hostile));
	si->cmdline_paddr = MEM_BASE;
	CHECK_EQ(pvh_parse(si, phys, &boot), 0);
	CHECK_STR(boot.cmdline, "a=1 b=?? c");
	CHECK_EQ(boot.cmdline_from_options, 1);

	/* No terminator before unreadable memory, and longer than the
	 * buffer: truncated, still terminated. */
	memset(mem, 'x', sizeof(mem));
	CHECK_EQ(pvh_parse(si, phys, &boot), 0);
	CHECK_EQ(strlen(boot.cmdline), BOOT_CMDLINE_MAX - 1);
	si->cmdline_paddr = MEM_BASE + sizeof(mem) - 5;
	CHECK_EQ(pvh_parse(si, phys, &boot), 0);
	CHECK_STR(boot.cmdline, "xxxxx");
}
